"""Bulk qualify (§2.6), disqualify (§3) and reactivate (§4) over HTTP."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.helpers import (
    API,
    add_note,
    assert_error,
    counts,
    create_lead,
    disqualify,
    get_lead,
    get_record,
    money,
    qualify,
    reactivate,
    snapshot,
)

LEAD_IS_CLOSED = "The lead is closed and you can't convert or qualify a lead that is already closed."
STATE_FIELDS = {"state", "status_reason", "closed_at", "row_version", "modified_at"}


def _without(lead: dict, fields: set[str]) -> dict:
    """The lead without ``fields``; amounts compared as numbers (the create response echoes the input scale)."""
    kept = {key: value for key, value in lead.items() if key not in fields}
    if kept.get("budget_amount") is not None:
        kept["budget_amount"] = money(kept["budget_amount"])
    return kept


# --- bulk qualify -------------------------------------------------------------------------------


def test_bulk_qualify_reports_each_lead_and_refuses_only_the_bad_ones(client, database):
    first = create_lead(client)
    closed = create_lead(client)
    disqualify(client, closed["id"], "canceled")
    second = create_lead(client, company_name=None)
    unknown = str(uuid.uuid4())
    closed_before = get_lead(client, closed["id"])
    before = counts(database)

    response = client.post(
        f"{API}/leads/qualify", json={"lead_ids": [first["id"], closed["id"], unknown, second["id"]]}
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["qualified"], body["failed"]) == (2, 2)
    results = body["results"]
    assert [line["lead_id"] for line in results] == [first["id"], closed["id"], unknown, second["id"]]
    assert [line["status"] for line in results] == ["qualified", "failed", "failed", "qualified"]
    assert results[1]["error"]["code"] == "lead_closed"
    assert results[1]["error"]["message"] == LEAD_IS_CLOSED
    assert results[2]["error"]["code"] == "lead_not_found"
    assert results[0]["error"] is None and results[1]["created"] is None

    made = results[0]["created"]
    assert made["account_id"] and made["contact_id"] and len(made["opportunity_ids"]) == 1
    assert results[3]["created"]["account_id"] is None  # no company name, no account
    for line in (results[0], results[3]):
        lead = get_lead(client, line["lead_id"])
        assert lead["state"] == "qualified"
        assert lead["qualifying_opportunity_id"] == line["created"]["opportunity_ids"][0]
        opportunity = get_record(client, "opportunities", line["created"]["opportunity_ids"][0])
        assert opportunity["originating_lead_id"] == line["lead_id"]
    assert get_lead(client, closed["id"]) == closed_before
    after = counts(database)
    assert after["accounts"] == before["accounts"] + 1
    assert after["contacts"] == before["contacts"] + 2
    assert after["opportunities"] == before["opportunities"] + 2


def test_bulk_qualify_applies_the_options_to_every_lead(client, database):
    leads = [create_lead(client) for _ in range(3)]
    before = counts(database)

    response = client.post(
        f"{API}/leads/qualify",
        json={"lead_ids": [lead["id"] for lead in leads], "create_opportunity": False, "create_account": False},
    )

    assert response.status_code == 200, response.text
    assert response.json()["qualified"] == 3
    after = counts(database)
    assert (after["accounts"], after["contacts"], after["opportunities"]) == (
        before["accounts"],
        before["contacts"] + 3,
        before["opportunities"],
    )


def test_bulk_qualify_with_bad_options_refuses_before_touching_any_lead(client, database):
    lead = create_lead(client)
    before = snapshot(database)

    response = client.post(
        f"{API}/leads/qualify", json={"lead_ids": [lead["id"]], "existing_account_id": str(uuid.uuid4())}
    )

    assert_error(response, 422, "existing_account_id_not_found")
    assert snapshot(database) == before


def test_bulk_qualify_needs_at_least_one_lead(client, database):
    before = snapshot(database)

    response = client.post(f"{API}/leads/qualify", json={"lead_ids": []})

    error = assert_error(response, 422, "invalid_value")
    assert "lead_ids" in {item["field"] for item in error["details"]["fields"]}
    assert snapshot(database) == before


def test_bulk_qualify_names_a_lead_twice_only_once_qualified(client, database):
    lead = create_lead(client)
    before = counts(database)

    response = client.post(f"{API}/leads/qualify", json={"lead_ids": [lead["id"], lead["id"]]})

    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [line["status"] for line in results] == ["qualified", "failed"]
    assert results[1]["error"]["code"] == "lead_closed"
    assert counts(database)["opportunities"] == before["opportunities"] + 1


# --- disqualify ---------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["lost", "cannot_contact", "no_longer_interested", "canceled"])
def test_disqualify_with_each_reason_closes_the_lead_and_keeps_its_data(client, database, reason):
    lead = create_lead(client)
    note = add_note(client, "leads", lead["id"], title="Tried to call").json()
    before = counts(database)

    response = client.post(f"{API}/leads/{lead['id']}/disqualify", json={"status_reason": reason})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["state"] == "disqualified" and body["status_reason"] == reason
    assert body["closed_at"] is not None
    assert response.headers["ETag"] == client.get(f"{API}/leads/{lead['id']}").headers["ETag"]
    assert _without(body, STATE_FIELDS) == _without(lead, STATE_FIELDS)
    assert [n["id"] for n in client.get(f"{API}/leads/{lead['id']}/notes").json()["items"]] == [note["id"]]
    assert counts(database) == before


@pytest.mark.parametrize("reason", ["bored", "qualified", "new", "contacted", "", None, 4])
def test_disqualify_with_an_unknown_reason_is_refused_and_changes_nothing(client, database, reason):
    lead = create_lead(client)
    before = snapshot(database)

    response = client.post(f"{API}/leads/{lead['id']}/disqualify", json={"status_reason": reason})

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] in {"invalid_option", "required"}
    assert error["details"]["fields"][0]["field"] == "status_reason"
    assert snapshot(database) == before


def test_disqualify_without_a_reason_is_refused(client, database):
    lead = create_lead(client)
    before = snapshot(database)

    response = client.post(f"{API}/leads/{lead['id']}/disqualify", json={})

    error = assert_error(response, 422, "required")
    assert error["details"]["fields"][0]["field"] == "status_reason"
    assert snapshot(database) == before


@pytest.mark.parametrize("close", ["qualify", "disqualify"])
def test_disqualifying_a_closed_lead_is_refused_with_the_lead_is_closed_message(client, database, close):
    lead = create_lead(client)
    if close == "qualify":
        qualify(client, lead["id"], create_opportunity=False)
    else:
        disqualify(client, lead["id"], "lost")
    before = snapshot(database)

    response = client.post(f"{API}/leads/{lead['id']}/disqualify", json={"status_reason": "canceled"})

    error = assert_error(response, 409, "lead_closed")
    assert error["message"] == LEAD_IS_CLOSED
    assert snapshot(database) == before


@pytest.mark.parametrize("close", ["qualify", "disqualify"])
def test_qualifying_a_closed_lead_is_refused_with_the_lead_is_closed_message(client, database, close):
    lead = create_lead(client)
    if close == "qualify":
        qualify(client, lead["id"])
    else:
        disqualify(client, lead["id"], "cannot_contact")
    before = snapshot(database)

    response = client.post(f"{API}/leads/{lead['id']}/qualify", json={})

    error = assert_error(response, 409, "lead_closed")
    assert error["message"] == LEAD_IS_CLOSED
    assert snapshot(database) == before


def test_disqualify_is_refused_when_an_opportunity_exists(client, database):
    lead = create_lead(client)
    opportunity_id = qualify(client, lead["id"])["created"]["opportunity_ids"][0]
    reactivate(client, lead["id"])
    before = snapshot(database)

    response = client.post(f"{API}/leads/{lead['id']}/disqualify", json={"status_reason": "lost"})

    assert_error(response, 409, "lead_has_opportunity")
    assert snapshot(database) == before
    assert get_lead(client, lead["id"])["state"] == "open"
    assert get_record(client, "opportunities", opportunity_id)["originating_lead_id"] == lead["id"]


def test_disqualify_is_allowed_again_once_the_opportunity_is_deleted(client):
    lead = create_lead(client)
    opportunity_id = qualify(client, lead["id"])["created"]["opportunity_ids"][0]
    reactivate(client, lead["id"])
    assert client.delete(f"{API}/opportunities/{opportunity_id}").status_code == 204

    response = client.post(f"{API}/leads/{lead['id']}/disqualify", json={"status_reason": "lost"})

    assert response.status_code == 200, response.text
    assert response.json()["state"] == "disqualified"


def test_disqualifying_an_unknown_lead_is_404(client, database):
    before = snapshot(database)

    response = client.post(f"{API}/leads/{uuid.uuid4()}/disqualify", json={"status_reason": "lost"})

    assert_error(response, 404, "lead_not_found")
    assert snapshot(database) == before


# --- reactivate ---------------------------------------------------------------------------------


@pytest.mark.parametrize("close", ["qualify", "disqualify"])
def test_reactivate_reopens_the_lead_as_new_with_its_data_notes_and_attachments(client, database, close):
    lead = create_lead(client)
    note = add_note(client, "leads", lead["id"], title="Quote", file=("quote.txt", b"42 chairs", "text/plain"))
    assert note.status_code == 201, note.text
    note = note.json()
    if close == "qualify":
        qualify(client, lead["id"])
    else:
        disqualify(client, lead["id"], "no_longer_interested")
    closed = get_lead(client, lead["id"])
    before = counts(database)

    response = client.post(f"{API}/leads/{lead['id']}/reactivate")

    assert response.status_code == 200, response.text
    reopened = response.json()
    assert reopened["state"] == "open" and reopened["status_reason"] == "new"
    assert reopened["closed_at"] is None
    assert _without(reopened, STATE_FIELDS) == _without(closed, STATE_FIELDS)
    links = {"parent_account_id", "parent_contact_id", "qualifying_opportunity_id"}
    assert _without(reopened, STATE_FIELDS | links) == _without(lead, STATE_FIELDS | links)
    assert counts(database) == before
    assert [n["id"] for n in client.get(f"{API}/leads/{lead['id']}/notes").json()["items"]] == [note["id"]]
    download = client.get(f"{API}/leads/{lead['id']}/notes/{note['id']}/attachment")
    assert download.status_code == 200 and download.content == b"42 chairs"


def test_reactivating_keeps_the_records_of_the_earlier_qualification(client):
    lead = create_lead(client)
    created = qualify(client, lead["id"])["created"]

    reactivate(client, lead["id"])

    for table, record_id in (
        ("accounts", created["account_id"]),
        ("contacts", created["contact_id"]),
        ("opportunities", created["opportunity_ids"][0]),
    ):
        assert get_record(client, table, record_id)["originating_lead_id"] == lead["id"]


def test_a_reactivated_lead_can_be_qualified_again(client, database):
    lead = create_lead(client)
    first = qualify(client, lead["id"])["created"]
    reactivate(client, lead["id"])
    before = counts(database)

    again = qualify(client, lead["id"])

    assert again["lead"]["state"] == "qualified" and again["lead"]["status_reason"] == "qualified"
    new_opportunity = again["created"]["opportunity_ids"][0]
    assert new_opportunity != first["opportunity_ids"][0]
    assert again["lead"]["qualifying_opportunity_id"] == new_opportunity
    # the account and contact of the first qualification are reused, not duplicated
    assert again["created"]["account_id"] is None and again["created"]["contact_id"] is None
    after = counts(database)
    assert (after["accounts"], after["contacts"], after["opportunities"]) == (
        before["accounts"],
        before["contacts"],
        before["opportunities"] + 1,
    )
    assert get_record(client, "opportunities", new_opportunity)["customer_id"] == first["account_id"]


def test_a_reactivated_disqualified_lead_can_be_qualified(client):
    lead = create_lead(client)
    disqualify(client, lead["id"], "cannot_contact")
    reactivate(client, lead["id"])

    body = qualify(client, lead["id"])

    assert body["lead"]["state"] == "qualified"
    assert len(body["created"]["opportunity_ids"]) == 1


def test_a_reactivated_lead_can_be_edited_again(client):
    lead = create_lead(client)
    disqualify(client, lead["id"])
    reactivate(client, lead["id"])

    response = client.patch(f"{API}/leads/{lead['id']}", json={"rating": "cold"})

    assert response.status_code == 200, response.text
    assert response.json()["rating"] == "cold"


def test_reactivating_an_open_lead_is_refused(client, database):
    lead = create_lead(client)
    before = snapshot(database)

    response = client.post(f"{API}/leads/{lead['id']}/reactivate")

    assert_error(response, 409, "lead_already_open")
    assert snapshot(database) == before


def test_reactivating_an_unknown_lead_is_404(client, database):
    before = snapshot(database)

    assert_error(client.post(f"{API}/leads/{uuid.uuid4()}/reactivate"), 404, "lead_not_found")
    assert snapshot(database) == before


def test_a_reactivated_lead_starts_its_process_again_at_qualify(client):
    lead = create_lead(client)
    opportunity_id = qualify(client, lead["id"])["created"]["opportunity_ids"][0]
    assert client.get(f"{API}/leads/{lead['id']}/process").json()["active_stage"] == "develop"

    reactivate(client, lead["id"])

    flow = client.get(f"{API}/leads/{lead['id']}/process").json()
    assert flow["active_stage"] == "qualify" and flow["opportunity_id"] is None
    # the earlier opportunity keeps its own flow, without the reopened lead's Qualify stage
    own = client.get(f"{API}/opportunities/{opportunity_id}/process").json()
    assert own["active_stage"] == "develop" and own["lead_id"] is None
