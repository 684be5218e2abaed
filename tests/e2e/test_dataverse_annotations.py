"""Notes through the Web API's annotations: regarding their record, with their file on request."""

from __future__ import annotations

import base64
import re

from fastapi.testclient import TestClient

from tests.e2e.test_dataverse_api import make_user, user_client

BASE = "/api/data/v9.2"


def _lead(client: TestClient) -> str:
    created = client.post(f"{BASE}/leads", json={"subject": "Con adjunto", "lastname": "Notas"})
    assert created.status_code == 204, created.text
    return re.search(r"\(([0-9a-f-]{36})\)$", created.headers["OData-EntityId"]).group(1)


def test_a_note_with_a_file_reads_as_an_annotation_whose_documentbody_comes_only_when_selected(
    client: TestClient,
) -> None:
    lead_id = _lead(client)
    content = "Acta de la reunión\n".encode() * 50
    note = client.post(
        f"/api/v1/leads/{lead_id}/notes",
        data={"title": "Acta", "body": "Resumen"},
        files={"file": ("acta.txt", content, "text/plain")},
    )
    assert note.status_code == 201, note.text
    listed = client.get(
        f"{BASE}/annotations",
        params={"$filter": f"_objectid_value eq {lead_id}"},
        headers={"Prefer": 'odata.include-annotations="*"'},
    )
    assert listed.status_code == 200, listed.text
    [annotation] = listed.json()["value"]
    assert annotation["subject"] == "Acta"
    assert annotation["notetext"] == "Resumen"
    assert annotation["filename"] == "acta.txt"
    assert annotation["isdocument"] is True
    assert annotation["_objectid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == "lead"
    assert "documentbody" not in annotation
    one = client.get(f"{BASE}/annotations({annotation['annotationid']})", params={"$select": "filename,documentbody"})
    assert base64.b64decode(one.json()["documentbody"]) == content


def test_a_note_on_a_record_the_user_may_not_read_is_neither_listed_nor_found(client: TestClient, database) -> None:
    lead_id = _lead(client)
    note = client.post(
        f"/api/v1/leads/{lead_id}/notes", data={"title": "Privada", "body": "Solo para quien lee el lead"}
    )
    assert note.status_code == 201, note.text
    note_id = note.json()["id"]
    make_user(database, "seller@example.com", ["Salesperson"], business_unit="North")
    seller = user_client(client, database, "seller@example.com")

    assert seller.get(f"{BASE}/annotations", params={"$count": "true"}).json()["@odata.count"] == 0
    hidden = seller.get(f"{BASE}/annotations({note_id})")
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "0x80040217"
    assert client.get(f"{BASE}/annotations({note_id})").status_code == 200
