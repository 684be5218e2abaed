"""`POST /api/v1/leads/qualify` with `on_duplicate` (§2.6, §5) over HTTP: skip (the default), stop and
ignore, a line per lead with its result, the leads a stop left unattempted, and the counts.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from leadflow.security.service import create_user
from tests.conftest import bearer_headers
from tests.e2e.helpers import API, assert_error, counts, create_lead, get_lead, snapshot

TWIN_COMPANY = "Muebles Repetidos S.L."


def bulk(client: TestClient, lead_ids: list[str], **body: Any) -> dict[str, Any]:
    response = client.post(f"{API}/leads/qualify", json={"lead_ids": lead_ids, **body})
    assert response.status_code == 200, response.text
    return response.json()


def existing_account(client: TestClient) -> dict[str, Any]:
    response = client.post(f"{API}/accounts", json={"name": TWIN_COMPANY, "address_city": "Cuenca"})
    assert response.status_code == 201, response.text
    return response.json()


def test_without_on_duplicate_a_duplicate_is_skipped_as_before_and_the_others_go_on(client, database):
    account = existing_account(client)
    first, twin, last = create_lead(client), create_lead(client, company_name=TWIN_COMPANY), create_lead(client)

    body = bulk(client, [first["id"], twin["id"], last["id"]])

    assert body["on_duplicate"] == "skip"
    assert [(line["status"], line["result"]) for line in body["results"]] == [
        ("qualified", "qualified"),
        ("failed", "skipped"),
        ("qualified", "qualified"),
    ]
    skipped = body["results"][1]
    assert skipped["error"]["code"] == "duplicate_detected" and skipped["created"] is None
    assert [match["id"] for match in skipped["error"]["details"]["matching_accounts"]] == [account["id"]]
    assert body["summary"] == {"qualified": 2, "skipped": 1, "stopped": 0, "failed": 0, "not_attempted": 0}
    assert (body["qualified"], body["failed"], body["not_attempted"]) == (2, 1, [])
    assert [get_lead(client, lead["id"])["state"] for lead in (first, twin, last)] == ["qualified", "open", "qualified"]


def test_stop_ends_at_the_first_duplicate_and_lists_the_leads_not_attempted(client, database):
    existing_account(client)
    first, twin = create_lead(client), create_lead(client, company_name=TWIN_COMPANY)
    rest = [create_lead(client), create_lead(client)]
    before = counts(database)

    body = bulk(client, [first["id"], twin["id"], *(lead["id"] for lead in rest)], on_duplicate="stop")

    assert body["on_duplicate"] == "stop"
    assert [(line["lead_id"], line["result"]) for line in body["results"]] == [
        (first["id"], "qualified"),
        (twin["id"], "stopped"),
    ]
    assert body["results"][1]["error"]["message"] == "The account or contact might already exist."
    assert body["not_attempted"] == [lead["id"] for lead in rest]
    assert body["summary"] == {"qualified": 1, "skipped": 0, "stopped": 1, "failed": 0, "not_attempted": 2}
    assert [get_lead(client, lead["id"])["state"] for lead in (first, twin, *rest)] == [
        "qualified",
        "open",
        "open",
        "open",
    ]
    assert counts(database)["accounts"] == before["accounts"] + 1


def test_ignore_qualifies_the_duplicates_with_new_records(client, database):
    account = existing_account(client)
    twins = [create_lead(client, company_name=TWIN_COMPANY) for _ in range(2)]
    before = counts(database)

    body = bulk(client, [lead["id"] for lead in twins], on_duplicate="ignore")

    assert [line["result"] for line in body["results"]] == ["qualified", "qualified"]
    assert body["summary"]["qualified"] == 2
    assert account["id"] not in {line["created"]["account_id"] for line in body["results"]}
    assert counts(database)["accounts"] == before["accounts"] + 2


def test_an_unknown_on_duplicate_is_refused_before_any_lead_is_touched(client, database):
    lead = create_lead(client)
    before = snapshot(database)

    response = client.post(f"{API}/leads/qualify", json={"lead_ids": [lead["id"]], "on_duplicate": "merge"})

    error = assert_error(response, 422, "invalid_option")
    assert [item["field"] for item in error["details"]["fields"]] == ["on_duplicate"]
    assert snapshot(database) == before


def test_ignore_needs_what_suppressing_detection_on_one_lead_needs(client, database):
    existing_account(client)
    with database.unit_of_work() as uow:
        for email, role in (("seller@example.com", "Salesperson"), ("reader@example.com", "Sales Team Member")):
            create_user(
                email=email,
                full_name=role,
                role_names=[role],
                business_unit_name=None,
                password=None,
                uow=uow,
                actor=None,
            )
        uow.commit()
    seller, reader = bearer_headers(database, "seller@example.com"), bearer_headers(database, "reader@example.com")
    own = client.post(
        f"{API}/leads", json={"topic": "Chairs", "last_name": "Ruiz", "company_name": TWIN_COMPANY}, headers=seller
    ).json()
    admins = create_lead(client, company_name=TWIN_COMPANY)

    # The seller may ignore duplicates on the lead they may qualify, one lead or many.
    line = client.post(
        f"{API}/leads/qualify", json={"lead_ids": [own["id"]], "on_duplicate": "ignore"}, headers=seller
    ).json()["results"][0]
    assert line["result"] == "qualified"
    # The read-only user may not, in either form: the same refusal.
    single = client.post(
        f"{API}/leads/{admins['id']}/qualify", json={"suppress_duplicate_detection": True}, headers=reader
    )
    assert_error(single, 403, "forbidden")
    line = client.post(
        f"{API}/leads/qualify", json={"lead_ids": [admins["id"]], "on_duplicate": "ignore"}, headers=reader
    ).json()["results"][0]
    assert (line["result"], line["error"]["code"]) == ("failed", "forbidden")
    assert get_lead(client, admins["id"])["state"] == "open"


def test_each_leads_refusal_speaks_the_language_the_request_asks_for(client, database):
    existing_account(client)
    twin = create_lead(client, company_name=TWIN_COMPANY)
    body = {"lead_ids": [twin["id"]]}
    english = client.post(f"{API}/leads/qualify", json=body).json()["results"][0]["error"]
    spanish = client.post(f"{API}/leads/qualify", json=body, headers={"Accept-Language": "es"}).json()
    error = spanish["results"][0]["error"]
    assert error["code"] == english["code"] == "duplicate_detected"
    assert error["message"] != english["message"]
    assert error["message"] == "Es posible que la cuenta o el contacto ya existan."
