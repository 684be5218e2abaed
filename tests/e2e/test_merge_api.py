"""Merge, preview, read and undo merges over HTTP (§9)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text

from leadflow.security.service import create_user
from tests.conftest import bearer_headers
from tests.e2e.helpers import (
    API,
    add_note,
    assert_error,
    create_lead,
    field_errors,
    get_record,
    qualify,
)

TABLES = ("accounts", "contacts", "leads", "opportunities", "notes", "merge_journal", "audit_entries")


def rows(database) -> dict[str, list[tuple]]:
    """Every row of the tables a merge touches: equal before and after means nothing changed."""
    with database.engine.connect() as connection:
        return {
            table: sorted((tuple(row) for row in connection.execute(text(f"SELECT * FROM {table}"))), key=repr)
            for table in TABLES
        }


def create(client, table: str, **fields: Any) -> dict[str, Any]:
    response = client.post(f"{API}/{table}", json=fields, params={"suppress_duplicate_detection": "true"})
    assert response.status_code == 201, response.text
    return response.json()


def merge_body(table: str, master: dict, subordinate: dict, **extra: Any) -> dict[str, Any]:
    return {"table": table, "master_id": master["id"], "subordinate_id": subordinate["id"], **extra}


@pytest.fixture
def pair(client) -> tuple[dict, dict, dict]:
    """Two duplicate accounts; the subordinate has a contact and a note."""
    master = create(client, "accounts", name="Acme Corp", email="sales@acme.example")
    subordinate = create(client, "accounts", name="ACME Corporation", telephone="+34 910 000 001")
    contact = create(client, "contacts", first_name="Jean", last_name="Dupont", account_id=subordinate["id"])
    assert add_note(client, "accounts", subordinate["id"]).status_code == 201
    return master, subordinate, contact


def test_post_merges_answers_201_with_location_and_the_journal(client, pair):
    master, subordinate, contact = pair

    response = client.post(
        f"{API}/merges", json=merge_body("accounts", master, subordinate, fields={"name": "subordinate"})
    )

    assert response.status_code == 201, response.text
    journal = response.json()
    assert response.headers["Location"] == f"{API}/merges/{journal['id']}"
    assert {key: journal[key] for key in ("table", "master_id", "subordinate_id", "state")} == {
        "table": "accounts",
        "master_id": master["id"],
        "subordinate_id": subordinate["id"],
        "state": "merged",
    }
    assert journal["choices"]["name"] == "subordinate" and journal["choices"]["email"] == "master"
    assert journal["choices"]["telephone"] == "subordinate"
    assert journal["moved"] == {"contacts": 1, "notes": 1}
    assert journal["links"] == {"self": f"{API}/merges/{journal['id']}", "undo": f"{API}/merges/{journal['id']}/undo"}
    assert journal["created_at"]

    merged = get_record(client, "accounts", master["id"])
    assert (merged["name"], merged["email"], merged["telephone"]) == (
        "ACME Corporation",
        "sales@acme.example",
        "+34 910 000 001",
    )
    gone = get_record(client, "accounts", subordinate["id"])
    assert (gone["state"], gone["master_id"]) == ("inactive", master["id"])
    assert get_record(client, "contacts", contact["id"])["account_id"] == master["id"]


def test_get_merge_reads_it_back_and_the_list_finds_it_by_either_record(client, pair):
    master, subordinate, _ = pair
    journal = client.post(f"{API}/merges", json=merge_body("accounts", master, subordinate)).json()

    fetched = client.get(f"{API}/merges/{journal['id']}")
    assert fetched.status_code == 200 and fetched.json() == journal
    for record in (master, subordinate):
        listed = client.get(f"{API}/merges", params={"record_id": record["id"]})
        assert listed.status_code == 200 and [j["id"] for j in listed.json()["items"]] == [journal["id"]]
    assert client.get(f"{API}/merges", params={"record_id": str(uuid.uuid4())}).json()["items"] == []


def test_the_list_of_a_records_merges_is_newest_first(client):
    first, second, third = (create(client, "contacts", last_name=name) for name in ("Dupont", "Dupond", "Durand"))
    earlier = client.post(f"{API}/merges", json=merge_body("contacts", first, second)).json()
    later = client.post(f"{API}/merges", json=merge_body("contacts", first, third)).json()

    listed = client.get(f"{API}/merges", params={"record_id": first["id"]}).json()["items"]

    assert [j["id"] for j in listed] == [later["id"], earlier["id"]]


def test_undo_answers_200_and_puts_both_records_back_with_their_etags(client, pair):
    master, subordinate, contact = pair
    etags = {r["id"]: client.get(f"{API}/accounts/{r['id']}").headers["ETag"] for r in (master, subordinate)}
    journal = client.post(f"{API}/merges", json=merge_body("accounts", master, subordinate)).json()

    response = client.post(f"{API}/merges/{journal['id']}/undo")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["state"] == "undone" and body["undone_at"] and body["undone_by_id"]
    assert "undo" not in body["links"]
    for record in (master, subordinate):
        fetched = client.get(f"{API}/accounts/{record['id']}")
        assert fetched.headers["ETag"] == etags[record["id"]]
        assert fetched.json() == record  # row version and modification time included
    assert get_record(client, "contacts", contact["id"]) == contact

    assert_error(client.post(f"{API}/merges/{journal['id']}/undo"), 409, "merge_already_undone")


def test_undo_after_a_moved_child_changed_answers_409_naming_it(client, database, pair):
    master, subordinate, contact = pair
    journal = client.post(f"{API}/merges", json=merge_body("accounts", master, subordinate)).json()
    current = client.get(f"{API}/contacts/{contact['id']}")
    changed = client.patch(
        f"{API}/contacts/{contact['id']}", json={"job_title": "CEO"}, headers={"If-Match": current.headers["ETag"]}
    )
    assert changed.status_code == 200, changed.text
    before = rows(database)

    error = assert_error(client.post(f"{API}/merges/{journal['id']}/undo"), 409, "merge_undo_conflict")

    assert f"the contact Jean Dupont (id {contact['id']}) was changed after the merge" in error["message"]
    assert [item["id"] for item in error["details"]["changed"]] == [contact["id"]]
    assert rows(database) == before


def test_preview_answers_200_with_the_result_and_writes_nothing(client, database, pair):
    master, subordinate, _ = pair
    before = rows(database)

    response = client.post(f"{API}/merges/preview", json=merge_body("accounts", master, subordinate))

    assert response.status_code == 200, response.text
    preview = response.json()
    assert preview["values"]["name"] == "Acme Corp" and preview["values"]["telephone"] == "+34 910 000 001"
    assert preview["changed"] == ["telephone"]
    assert {(c["table"], c["column"], c["count"]) for c in preview["children"]} == {
        ("contacts", "account_id", 1),
        ("notes", "regarding_id", 1),
    }
    assert rows(database) == before


# ---------------------------------------------------------------------------------------------- refusals


def refused(client, database, body: dict[str, Any], status: int, code: str) -> dict[str, Any]:
    before = rows(database)
    error = assert_error(client.post(f"{API}/merges", json=body), status, code)
    assert rows(database) == before
    return error


def test_merging_a_record_with_itself_answers_422(client, database, pair):
    master, _, _ = pair
    refused(client, database, merge_body("accounts", master, master), 422, "merge_same_record")


def test_merging_opportunities_answers_422(client, database):
    first = create(client, "opportunities", name="Fleet renewal")
    second = create(client, "opportunities", name="Fleet renewal 2")
    refused(client, database, merge_body("opportunities", first, second), 422, "merge_table_not_supported")


def test_merging_ids_of_different_tables_answers_422(client, database, pair):
    master, _, contact = pair
    error = refused(client, database, merge_body("accounts", master, contact), 422, "merge_across_tables")
    assert error["details"]["table"] == "contacts"


def test_merging_an_unknown_record_answers_404(client, database, pair):
    master, _, _ = pair
    refused(client, database, merge_body("accounts", master, {"id": str(uuid.uuid4())}), 404, "account_not_found")


def test_merging_a_merged_record_answers_409(client, database, pair):
    master, subordinate, _ = pair
    third = create(client, "accounts", name="Acme")
    assert client.post(f"{API}/merges", json=merge_body("accounts", master, subordinate)).status_code == 201
    refused(client, database, merge_body("accounts", third, subordinate), 409, "merge_inactive_record")


def test_merging_a_qualified_lead_answers_409_saying_to_reactivate_it(client, database):
    master = create_lead(client)
    qualified = create_lead(client)
    qualify(client, qualified["id"])
    error = refused(client, database, merge_body("leads", master, qualified), 409, "merge_inactive_record")
    assert "reactivate it first" in error["message"]


def test_merging_contacts_of_different_accounts_answers_409_unless_forced(client, database):
    acme = create(client, "accounts", name="Acme Corp")
    globex = create(client, "accounts", name="Globex")
    master = create(client, "contacts", last_name="Dupont", account_id=acme["id"])
    subordinate = create(client, "contacts", last_name="Dupond", account_id=globex["id"])

    error = refused(client, database, merge_body("contacts", master, subordinate), 409, "merge_parent_mismatch")
    assert {error["details"]["master_parent_id"], error["details"]["subordinate_parent_id"]} == {
        acme["id"],
        globex["id"],
    }

    forced = client.post(f"{API}/merges", json=merge_body("contacts", master, subordinate, force_parenting=True))
    assert forced.status_code == 201, forced.text


@pytest.mark.parametrize(
    ("fields", "code"), [({"nickname": "master"}, "unknown_merge_field"), ({"name": "mine"}, "invalid_merge_choice")]
)
def test_bad_field_choices_answer_422(client, database, pair, fields, code):
    master, subordinate, _ = pair
    refused(client, database, merge_body("accounts", master, subordinate, fields=fields), 422, code)


def test_an_unknown_body_field_answers_422(client, database, pair):
    master, subordinate, _ = pair
    error = refused(client, database, merge_body("accounts", master, subordinate, keep="master"), 422, "unknown_field")
    assert field_errors(error) == {"keep": "unknown_field"}


def test_a_seller_without_write_on_the_records_gets_403(anonymous_client, database, pair):
    master, subordinate, _ = pair
    with database.unit_of_work() as uow:
        create_user(
            email="sam@example.com",
            full_name="Sam Seller",
            role_names=["Salesperson"],
            business_unit_name=None,
            password=None,
            uow=uow,
            actor=None,
        )
        uow.commit()
    anonymous_client.headers.update(bearer_headers(database, "sam@example.com"))

    before = rows(database)
    error = assert_error(
        anonymous_client.post(f"{API}/merges", json=merge_body("accounts", master, subordinate)), 403, "forbidden"
    )
    assert error["details"]["privilege"] == "write"
    assert rows(database) == before


def test_reading_or_undoing_an_unknown_merge_answers_404(client):
    missing = uuid.uuid4()
    assert_error(client.get(f"{API}/merges/{missing}"), 404, "merge_not_found")
    assert_error(client.post(f"{API}/merges/{missing}/undo"), 404, "merge_not_found")


def test_merging_without_signing_in_answers_401(anonymous_client, pair):
    master, subordinate, _ = pair
    assert_error(
        anonymous_client.post(f"{API}/merges", json=merge_body("accounts", master, subordinate)),
        401,
        "not_authenticated",
    )


def test_merging_leads_keeps_their_notes_on_the_master(client):
    master = create_lead(client)
    subordinate = create_lead(client)
    assert add_note(client, "leads", subordinate["id"], title="Visit").status_code == 201

    journal = client.post(f"{API}/merges", json=merge_body("leads", master, subordinate)).json()

    assert journal["moved"] == {"notes": 1}
    notes = client.get(f"{API}/leads/{master['id']}/notes").json()["items"]
    assert [note["title"] for note in notes] == ["Visit"]
    closed = client.get(f"{API}/leads/{subordinate['id']}").json()
    assert (closed["state"], closed["status_reason"]) == ("disqualified", "canceled")
