"""Tasks, phone calls and appointments written through the Web API, by the activity services."""

from __future__ import annotations

import re
import uuid

from fastapi.testclient import TestClient

BASE = "/api/data/v9.2"
V1 = "/api/v1"
ANNOTATED = {"Prefer": 'odata.include-annotations="*"'}


def _created(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 204, response.text
    return re.search(r"\(([0-9a-f-]{36})\)$", response.headers["OData-EntityId"]).group(1)


def _lead(client: TestClient) -> str:
    return _created(client.post(f"{BASE}/leads", json={"subject": "Sillas", "lastname": "Actividades"}))


def _error(response, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_a_task_regarding_a_lead_is_created_with_its_due_date_and_priority(client: TestClient) -> None:
    lead_id = _lead(client)
    task_id = _created(
        client.post(
            f"{BASE}/tasks",
            json={
                "subject": "Enviar la tarifa",
                "regardingobjectid_lead@odata.bind": f"/leads({lead_id})",
                "scheduledend": "2027-01-15T09:00:00Z",
                "prioritycode": 2,
            },
        )
    )
    task = client.get(f"{BASE}/tasks({task_id})", headers=ANNOTATED).json()
    assert task["_regardingobjectid_value"] == lead_id
    assert task["_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == "lead"
    assert (task["scheduledend"], task["prioritycode"], task["statecode"], task["statuscode"]) == (
        "2027-01-15T09:00:00Z",
        2,
        0,
        2,  # Not started
    )
    v1 = client.get(f"{V1}/activities/{task_id}").json()
    assert (v1["type"], v1["regarding_table"], v1["regarding_id"], v1["priority"]) == ("task", "leads", lead_id, "high")


def test_a_phone_call_is_completed_as_made_and_reopened_through_statecode(client: TestClient) -> None:
    call_id = _created(client.post(f"{BASE}/phonecalls", json={"subject": "Llamada", "phonenumber": "+34 600 111 222"}))

    made = client.patch(f"{BASE}/phonecalls({call_id})", json={"statecode": 1, "statuscode": 2, "description": "Hecha"})

    assert made.status_code == 204, made.text
    v1 = client.get(f"{V1}/activities/{call_id}").json()
    assert (v1["state"], v1["status_reason"], v1["description"]) == ("completed", "made", "Hecha")
    edit = client.patch(f"{BASE}/phonecalls({call_id})", json={"subject": "Otra"})
    _error(edit, 400, "0x80040203")  # completed activities are read-only until reopened
    reopened = client.patch(f"{BASE}/phonecalls({call_id})", json={"statecode": 0, "subject": "Otra"})
    assert reopened.status_code == 204, reopened.text
    again = client.get(f"{BASE}/phonecalls({call_id})", params={"$select": "subject,statecode,statuscode"}).json()
    assert (again["subject"], again["statecode"], again["statuscode"]) == ("Otra", 0, 1)


def test_a_task_is_canceled_through_statecode_and_an_open_reason_is_set_by_statuscode(client: TestClient) -> None:
    task_id = _created(client.post(f"{BASE}/tasks", json={"subject": "Revisar contrato"}))

    waiting = client.patch(f"{BASE}/tasks({task_id})", json={"statuscode": 4})
    assert waiting.status_code == 204, waiting.text
    assert client.get(f"{V1}/activities/{task_id}").json()["status_reason"] == "waiting"

    canceled = client.patch(f"{BASE}/tasks({task_id})", json={"statecode": 2})
    assert canceled.status_code == 204, canceled.text
    assert client.get(f"{V1}/activities/{task_id}").json()["state"] == "canceled"


def test_a_closed_status_reason_without_statecode_is_refused(client: TestClient) -> None:
    task_id = _created(client.post(f"{BASE}/tasks", json={"subject": "Revisar contrato"}))

    _error(client.patch(f"{BASE}/tasks({task_id})", json={"statuscode": 5}), 400, "0x80040203")
    assert client.get(f"{V1}/activities/{task_id}").json()["state"] == "open"


def test_an_appointment_keeps_its_start_end_and_location(client: TestClient) -> None:
    appointment_id = _created(
        client.post(
            f"{BASE}/appointments",
            json={
                "subject": "Visita a fábrica",
                "scheduledstart": "2027-02-01T10:00:00Z",
                "scheduledend": "2027-02-01T11:30:00Z",
                "location": "Valencia",
            },
        )
    )
    entity = client.get(
        f"{BASE}/appointments({appointment_id})", params={"$select": "scheduledstart,scheduledend,location"}
    ).json()
    assert (entity["scheduledstart"], entity["scheduledend"], entity["location"]) == (
        "2027-02-01T10:00:00Z",
        "2027-02-01T11:30:00Z",
        "Valencia",
    )


def test_an_attribute_of_another_activity_type_is_not_a_property(client: TestClient) -> None:
    _error(client.post(f"{BASE}/tasks", json={"subject": "X", "phonenumber": "1"}), 400, "0x80060888")


def test_an_upsert_may_not_reuse_the_id_of_an_activity_of_another_type(client: TestClient) -> None:
    call_id = _created(client.post(f"{BASE}/phonecalls", json={"subject": "Llamada"}))

    _error(client.patch(f"{BASE}/tasks({call_id})", json={"subject": "Tarea"}), 400, "0x80040203")
    assert client.get(f"{V1}/activities/{call_id}").json()["type"] == "phone_call"


def test_an_upsert_creates_a_task_with_the_id_chosen(client: TestClient) -> None:
    chosen = uuid.uuid4()

    created = client.patch(f"{BASE}/tasks({chosen})", json={"subject": "Con Id. propio"})

    assert created.status_code == 204, created.text
    assert client.get(f"{V1}/activities/{chosen}").json()["subject"] == "Con Id. propio"


def test_tasks_are_created_together_and_deleted(client: TestClient) -> None:
    many = client.post(
        f"{BASE}/tasks/Microsoft.Dynamics.CRM.CreateMultiple",
        json={"Targets": [{"subject": f"Tarea {n}", "@odata.type": "Microsoft.Dynamics.CRM.task"} for n in range(3)]},
    )
    assert many.status_code == 200, many.text
    ids = many.json()["Ids"]
    assert [client.get(f"{V1}/activities/{task_id}").json()["subject"] for task_id in ids] == [
        "Tarea 0",
        "Tarea 1",
        "Tarea 2",
    ]
    assert client.delete(f"{BASE}/tasks({ids[0]})").status_code == 204
    _error(client.get(f"{BASE}/tasks({ids[0]})"), 404, "0x80040217")


def test_an_email_is_recorded_as_a_draft_and_completed_as_received(client: TestClient) -> None:
    email_id = _created(client.post(f"{BASE}/emails", json={"subject": "Hola", "description": "Texto"}))
    draft = client.get(f"{BASE}/emails({email_id})", params={"$select": "statecode,statuscode"}).json()
    assert (draft["statecode"], draft["statuscode"]) == (0, 1)  # Draft

    received = client.patch(f"{BASE}/emails({email_id})", json={"statecode": 1, "statuscode": 4})

    assert received.status_code == 204, received.text
    v1 = client.get(f"{V1}/activities/{email_id}").json()
    assert (v1["state"], v1["status_reason"]) == ("completed", "received")


def test_a_formatted_date_and_time_reads_in_the_readers_time_zone(client: TestClient) -> None:
    assert client.patch(f"{V1}/me", json={"time_zone": "Europe/Madrid"}).status_code == 200
    task_id = _created(
        client.post(f"{BASE}/tasks", json={"subject": "A las diez", "scheduledend": "2027-01-15T09:00:00Z"})
    )

    task = client.get(f"{BASE}/tasks({task_id})", params={"$select": "scheduledend"}, headers=ANNOTATED).json()

    assert task["scheduledend"] == "2027-01-15T09:00:00Z"  # the value itself stays UTC, as Dataverse's
    # The reader's zone, Madrid, is an hour ahead of UTC in January.
    formatted = task["scheduledend@OData.Community.Display.V1.FormattedValue"]
    assert "10:00" in formatted and "09:00" not in formatted, formatted
