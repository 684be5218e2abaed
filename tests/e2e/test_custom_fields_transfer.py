"""Custom fields travel through import and export: columns map by their labels in either language,
values are read in the file's language and checked like a form's, and an exported view imported again
with update changes nothing."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from tests.e2e.helpers import API, create_lead

OPTIONS = [
    {"value": "north", "label_en": "North", "label_es": "Norte"},
    {"value": "south", "label_en": "South", "label_es": "Sur"},
]


def _fields(client: TestClient) -> None:
    for body in (
        {"name": "region", "label_en": "Region", "label_es": "Región", "kind": "choice", "options": OPTIONS},
        {"name": "seats", "label_en": "Seats", "label_es": "Puestos", "kind": "whole_number"},
        {"name": "deal_size", "label_en": "Deal size", "label_es": "Tamaño del trato", "kind": "decimal"},
        {"name": "renewal", "label_en": "Renewal", "label_es": "Renovación", "kind": "date"},
    ):
        assert client.post(f"{API}/custom-fields", json={"table": "leads", **body}).status_code == 201


def _import(client: TestClient, content: bytes, **data: str) -> dict:
    answer = client.post(
        f"{API}/imports", files={"file": ("leads.csv", content, "text/csv")}, data={"table": "leads", **data}
    )
    assert answer.status_code == 202, answer.text
    return client.get(answer.headers["Location"]).json()


def test_a_spanish_file_fills_custom_fields_by_their_spanish_labels(client: TestClient) -> None:
    _fields(client)
    content = (
        "Tema;Apellidos;Región;Puestos;Tamaño del trato;Renovación\r\n"
        "Feria;Peña;Norte;1.200;2.500,75;31/12/2026\r\n"
        "Web;Gil;Este;3;1;01/01/2027\r\n"
    ).encode("cp1252")
    result = _import(client, content)
    assert result["counts"]["created"] == 1 and result["counts"]["failed"] == 1, result
    pena = client.get(f"{API}/leads", params={"q": "Peña", "view": "all"}).json()["items"][0]
    assert pena["custom"] == {"region": "north", "seats": 1200, "deal_size": "2500.7500", "renewal": "2026-12-31"}
    errors = client.get(f"{API}/imports/{result['id']}/errors")
    assert errors.status_code == 200 and "region" in errors.text.lower()


def test_an_export_carries_custom_columns_and_imports_again_unchanged(client: TestClient) -> None:
    _fields(client)
    create_lead(client, last_name="Peña", custom={"region": "south", "seats": 7, "deal_size": "10.5"})
    for language in ("en", "es"):
        exported = client.get(f"{API}/leads", params={"format": "csv"}, headers={"Accept-Language": language})
        text = exported.content.decode("utf-8-sig")
        delimiter = ";" if language == "es" else ","
        header, row = list(csv.reader(io.StringIO(text), delimiter=delimiter))[:2]
        region = "Región" if language == "es" else "Region"
        assert region in header and row[header.index(region)] == ("Sur" if language == "es" else "South")
        result = _import(client, exported.content, on_duplicate="update", match_on="id")
        assert result["counts"]["unchanged"] == 1 and result["counts"]["updated"] == 0, result
