"""Lead CRUD over HTTP: create, read, change and delete with ETags (§1)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from leadflow.activities.models import Attachment, Note
from tests.e2e.helpers import (
    API,
    add_note,
    assert_error,
    counts,
    create_lead,
    get_lead,
    money,
    snapshot,
)
from tests.factories import lead_data


def test_creating_a_lead_answers_201_with_location_etag_and_the_stored_lead(client):
    data = lead_data(first_name="Ana", last_name="García", topic="  100 office chairs  ", currency="usd")
    response = client.post(f"{API}/leads", json=data)

    assert response.status_code == 201, response.text
    lead = response.json()
    assert response.headers["Location"] == f"{API}/leads/{lead['id']}"
    assert response.headers["ETag"] == f'"{lead["row_version"]}"'
    assert lead["topic"] == "100 office chairs"
    assert lead["full_name"] == "Ana García"
    assert lead["state"] == "open" and lead["status_reason"] == "new"
    assert money(lead["budget_amount"]) == money("25000.00")
    assert lead["currency_id"] is not None
    assert lead["qualifying_opportunity_id"] is None and lead["closed_at"] is None

    fetched = client.get(response.headers["Location"])
    assert fetched.status_code == 200
    stored = fetched.json()
    assert money(stored.pop("budget_amount")) == money(lead.pop("budget_amount"))
    assert stored == lead
    assert fetched.headers["ETag"] == response.headers["ETag"]


def test_full_name_is_derived_from_first_and_last_name(client):
    only_last = create_lead(client, first_name=None, last_name="Okafor")
    assert only_last["full_name"] == "Okafor"

    both = create_lead(client, first_name="Chidi", last_name="Okafor")
    assert both["full_name"] == "Chidi Okafor"


def test_full_name_follows_a_change_of_first_or_last_name(client):
    lead = create_lead(client, first_name="Ana", last_name="García")
    etag = client.get(f"{API}/leads/{lead['id']}").headers["ETag"]

    response = client.patch(f"{API}/leads/{lead['id']}", json={"last_name": "López"}, headers={"If-Match": etag})
    assert response.status_code == 200, response.text
    assert response.json()["full_name"] == "Ana López"

    response = client.patch(
        f"{API}/leads/{lead['id']}", json={"first_name": None}, headers={"If-Match": response.headers["ETag"]}
    )
    assert response.status_code == 200, response.text
    assert response.json()["full_name"] == "López"
    assert get_lead(client, lead["id"])["full_name"] == "López"


def test_patch_with_the_current_etag_changes_the_lead_and_returns_a_new_etag(client):
    lead = create_lead(client)
    etag = client.get(f"{API}/leads/{lead['id']}").headers["ETag"]

    response = client.patch(
        f"{API}/leads/{lead['id']}",
        json={"rating": "cold", "job_title": "CFO"},
        headers={"If-Match": etag},
    )

    assert response.status_code == 200, response.text
    assert response.headers["ETag"] != etag
    changed = response.json()
    assert changed["rating"] == "cold" and changed["job_title"] == "CFO"
    assert changed["topic"] == lead["topic"]  # untouched fields stay
    again = client.get(f"{API}/leads/{lead['id']}")
    assert again.json()["rating"] == "cold"
    assert again.headers["ETag"] == response.headers["ETag"]


def test_patch_with_a_stale_etag_is_refused_and_changes_nothing(client, database):
    lead = create_lead(client)
    old_etag = client.get(f"{API}/leads/{lead['id']}").headers["ETag"]
    first = client.patch(f"{API}/leads/{lead['id']}", json={"rating": "cold"}, headers={"If-Match": old_etag})
    assert first.status_code == 200
    before = snapshot(database)

    response = client.patch(f"{API}/leads/{lead['id']}", json={"rating": "warm"}, headers={"If-Match": old_etag})

    assert_error(response, 412, "stale_etag")
    assert snapshot(database) == before
    assert get_lead(client, lead["id"])["rating"] == "cold"


def test_patch_with_an_if_match_that_is_no_etag_is_refused(client, database):
    lead = create_lead(client)
    before = snapshot(database)

    response = client.patch(f"{API}/leads/{lead['id']}", json={"rating": "warm"}, headers={"If-Match": "yesterday"})

    assert_error(response, 412, "stale_etag")
    assert snapshot(database) == before


def test_patch_cannot_clear_the_topic_and_changes_nothing(client, database):
    lead = create_lead(client)
    before = snapshot(database)

    response = client.patch(f"{API}/leads/{lead['id']}", json={"topic": None})

    error = assert_error(response, 422, "required")
    assert error["details"]["fields"][0]["field"] == "topic"
    assert snapshot(database) == before


def test_a_closed_lead_is_read_only(client, database):
    lead = create_lead(client)
    client.post(f"{API}/leads/{lead['id']}/disqualify", json={"status_reason": "lost"})
    before = snapshot(database)

    response = client.patch(f"{API}/leads/{lead['id']}", json={"rating": "cold"})

    assert_error(response, 409, "lead_closed")
    assert snapshot(database) == before


def test_delete_with_a_stale_etag_is_refused_and_keeps_the_lead(client, database):
    lead = create_lead(client)
    stale = client.get(f"{API}/leads/{lead['id']}").headers["ETag"]
    client.patch(f"{API}/leads/{lead['id']}", json={"rating": "cold"})
    before = snapshot(database)

    response = client.delete(f"{API}/leads/{lead['id']}", headers={"If-Match": stale})

    assert_error(response, 412, "stale_etag")
    assert snapshot(database) == before
    assert client.get(f"{API}/leads/{lead['id']}").status_code == 200


def test_delete_with_the_current_etag_removes_the_lead_with_its_notes_and_attachments(client, database):
    lead = create_lead(client)
    other = create_lead(client)
    note = add_note(client, "leads", lead["id"], file=("quote.pdf", b"%PDF-1.4 quote", "application/pdf"))
    assert note.status_code == 201, note.text
    add_note(client, "leads", lead["id"], title="Plain note")
    kept = add_note(client, "leads", other["id"], file=("other.txt", b"other", "text/plain")).json()
    etag = client.get(f"{API}/leads/{lead['id']}").headers["ETag"]
    before = counts(database)

    response = client.delete(f"{API}/leads/{lead['id']}", headers={"If-Match": etag})

    assert response.status_code == 204
    assert response.content == b""
    assert_error(client.get(f"{API}/leads/{lead['id']}"), 404, "lead_not_found")
    assert_error(client.get(f"{API}/leads/{lead['id']}/notes"), 404, "lead_not_found")
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalars(select(Note).where(Note.regarding_id == uuid.UUID(lead["id"]))).all() == []
        remaining_attachments = uow.session.scalars(select(Attachment.note_id)).all()
    assert remaining_attachments == [uuid.UUID(kept["id"])]
    after = counts(database)
    assert after["leads"] == before["leads"] - 1
    assert after["notes"] == before["notes"] - 2
    assert after["attachments"] == before["attachments"] - 1
    # the other lead and its note are untouched
    assert [n["id"] for n in client.get(f"{API}/leads/{other['id']}/notes").json()["items"]] == [kept["id"]]


def test_deleting_an_unknown_lead_answers_404_and_changes_nothing(client, database):
    create_lead(client)
    before = snapshot(database)

    response = client.delete(f"{API}/leads/{uuid.uuid4()}")

    assert_error(response, 404, "lead_not_found")
    assert snapshot(database) == before


def test_deleting_a_qualified_lead_keeps_the_records_it_created(client, database):
    lead = create_lead(client)
    created = client.post(f"{API}/leads/{lead['id']}/qualify", json={}).json()["created"]

    response = client.delete(f"{API}/leads/{lead['id']}")

    assert response.status_code == 204
    account = client.get(f"{API}/accounts/{created['account_id']}")
    opportunity = client.get(f"{API}/opportunities/{created['opportunity_ids'][0]}")
    assert account.status_code == 200 and opportunity.status_code == 200
    assert account.json()["originating_lead_id"] is None
    assert opportunity.json()["originating_lead_id"] is None
