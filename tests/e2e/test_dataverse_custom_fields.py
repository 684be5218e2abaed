"""A Dynamics client sees leadflow's custom fields as custom attributes (lf_<name>): described in the
metadata in both languages, read with the record, written by POST and PATCH with the same checks as the
REST API."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.e2e.test_dataverse_api import B, new_lead


def _fields(client: TestClient) -> None:
    for body in (
        {"name": "seats", "label_en": "Seats", "label_es": "Puestos", "kind": "whole_number"},
        {"name": "budget", "label_en": "Budget", "label_es": "Presupuesto", "kind": "money"},
        {"name": "secret", "label_en": "Secret", "label_es": "Secreto", "kind": "text", "hidden": True},
    ):
        assert client.post("/api/v1/custom-fields", json={"table": "leads", **body}).status_code == 201


def test_custom_fields_are_custom_attributes_in_the_metadata(client: TestClient) -> None:
    _fields(client)
    answer = client.get(
        f"{B}/EntityDefinitions(LogicalName='lead')/Attributes",
        params={"$select": "LogicalName,IsCustomAttribute,AttributeType,DisplayName"},
        headers={"Accept-Language": "es"},
    )
    assert answer.status_code == 200, answer.text
    custom = {row["LogicalName"]: row for row in answer.json()["value"] if row["IsCustomAttribute"]}
    assert set(custom) == {"lf_seats", "lf_budget"}  # a hidden field is not served
    assert custom["lf_seats"]["AttributeType"] == "Integer" and custom["lf_budget"]["AttributeType"] == "Money"
    assert custom["lf_seats"]["DisplayName"]["UserLocalizedLabel"]["Label"] == "Puestos"
    document = client.get(f"{B}/$metadata").text
    assert 'Name="lf_seats"' in document


def test_custom_values_are_read_and_written_through_the_web_api(client: TestClient) -> None:
    _fields(client)
    lead = new_lead(client, lf_seats=12, lf_budget=1500.5)
    read = client.get(f"{B}/leads({lead})", params={"$select": "lf_seats,lf_budget"}).json()
    assert (read["lf_seats"], read["lf_budget"]) == (12, 1500.5)
    assert client.get(f"/api/v1/leads/{lead}").json()["custom"]["seats"] == 12
    assert client.patch(f"{B}/leads({lead})", json={"lf_seats": 20}).status_code == 204
    assert client.get(f"{B}/leads({lead})").json()["lf_seats"] == 20
    refused = client.patch(f"{B}/leads({lead})", json={"lf_seats": "many"})
    assert refused.status_code == 400, refused.text
    assert client.get(f"{B}/leads({lead})").json()["lf_seats"] == 20
