"""CRUD of accounts, contacts and opportunities over HTTP, and the API description."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.e2e.helpers import (
    API,
    assert_error,
    base_currency_id,
    currency_id,
    field_errors,
    get_record,
    money,
    snapshot,
)

TABLES = {
    "accounts": (
        "account",
        {"name": "Acme Corp", "email": "sales@acme.example", "address_city": "Lyon"},
        {"telephone": "+33 4 00 00 00 00"},
    ),
    "contacts": (
        "contact",
        {"first_name": "Jean", "last_name": "Dupont", "email": "jean@acme.example"},
        {"job_title": "CTO"},
    ),
    "opportunities": (
        "opportunity",
        {"name": "Fleet renewal", "estimated_revenue": "120000"},
        {"customer_need": "Replace 40 laptops", "stakeholders_identified": True},
    ),
}


def _create(client, table, **fields):
    response = client.post(f"{API}/{table}", json=fields or TABLES[table][1])
    assert response.status_code == 201, response.text
    return response


@pytest.mark.parametrize("table", TABLES)
def test_create_answers_201_with_location_and_etag_and_get_reads_it_back(client, table):
    response = _create(client, table)

    record = response.json()
    assert response.headers["Location"] == f"{API}/{table}/{record['id']}"
    assert response.headers["ETag"] == f'"{record["row_version"]}"'
    fetched = client.get(response.headers["Location"])
    assert fetched.status_code == 200
    assert fetched.headers["ETag"] == response.headers["ETag"]
    for key, value in TABLES[table][1].items():
        stored = fetched.json()[key]
        assert (money(stored) == money(value)) if key == "estimated_revenue" else stored == value


@pytest.mark.parametrize("table", TABLES)
def test_patch_with_the_current_etag_changes_the_record(client, table):
    created = _create(client, table)
    change = TABLES[table][2]

    response = client.patch(
        f"{API}/{table}/{created.json()['id']}", json=change, headers={"If-Match": created.headers["ETag"]}
    )

    assert response.status_code == 200, response.text
    assert response.headers["ETag"] != created.headers["ETag"]
    fetched = get_record(client, table, created.json()["id"])
    assert {key: fetched[key] for key in change} == change


@pytest.mark.parametrize("table", TABLES)
def test_patch_with_a_stale_etag_is_refused_and_changes_nothing(client, database, table):
    created = _create(client, table)
    record_id = created.json()["id"]
    client.patch(f"{API}/{table}/{record_id}", json={"description": "first change"})
    before = snapshot(database)
    current = get_record(client, table, record_id)

    response = client.patch(
        f"{API}/{table}/{record_id}", json={"description": "lost update"}, headers={"If-Match": created.headers["ETag"]}
    )

    assert_error(response, 412, "stale_etag")
    assert snapshot(database) == before
    assert get_record(client, table, record_id) == current


@pytest.mark.parametrize("table", TABLES)
def test_delete_with_a_stale_etag_is_refused_then_the_current_etag_deletes(client, database, table):
    created = _create(client, table)
    record_id = created.json()["id"]
    changed = client.patch(f"{API}/{table}/{record_id}", json={"description": "changed"})
    before = snapshot(database)

    stale = client.delete(f"{API}/{table}/{record_id}", headers={"If-Match": created.headers["ETag"]})

    assert_error(stale, 412, "stale_etag")
    assert snapshot(database) == before

    deleted = client.delete(f"{API}/{table}/{record_id}", headers={"If-Match": changed.headers["ETag"]})

    assert deleted.status_code == 204
    assert_error(client.get(f"{API}/{table}/{record_id}"), 404, f"{TABLES[table][0]}_not_found")


@pytest.mark.parametrize("table", TABLES)
def test_an_unknown_record_is_404_for_read_change_and_delete(client, database, table):
    _create(client, table)
    before = snapshot(database)
    missing = uuid.uuid4()
    code = f"{TABLES[table][0]}_not_found"

    assert_error(client.get(f"{API}/{table}/{missing}"), 404, code)
    assert_error(client.patch(f"{API}/{table}/{missing}", json={"description": "x"}), 404, code)
    assert_error(client.delete(f"{API}/{table}/{missing}"), 404, code)
    assert snapshot(database) == before


@pytest.mark.parametrize(
    ("table", "payload", "field", "code"),
    [
        ("accounts", {}, "name", "required"),
        ("accounts", {"name": "A", "email": "nope"}, "email", "invalid_email"),
        ("accounts", {"name": "A", "rating": "hot"}, "rating", "unknown_field"),
        ("contacts", {"first_name": "Only"}, "last_name", "required"),
        ("opportunities", {"name": "Deal", "estimated_revenue": "-1"}, "estimated_revenue", "out_of_range"),
        ("opportunities", {"name": "Deal", "purchase_process": "dictator"}, "purchase_process", "invalid_option"),
    ],
)
def test_invalid_records_are_refused_and_nothing_is_stored(client, database, table, payload, field, code):
    before = snapshot(database)

    response = client.post(f"{API}/{table}", json=payload)

    error = assert_error(response, 422, code)
    assert field_errors(error) == {field: code}
    assert snapshot(database) == before


@pytest.mark.parametrize("table", TABLES)
def test_list_pages_through_every_record_once(client, table):
    created = set()
    for n in range(5):
        fields = dict(TABLES[table][1])
        fields["description"] = f"record {n}"
        # Distinct names and emails: the out-of-box duplicate detection rules would refuse copies.
        for key in ("name", "last_name", "email"):
            if key in fields:
                fields[key] = f"{n}{fields[key]}"
        created.add(_create(client, table, **fields).json()["id"])

    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"{API}/{table}", params=params)
        assert page.status_code == 200, page.text
        seen.extend(item["id"] for item in page.json()["items"])
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break

    assert len(seen) == len(set(seen)) == 5
    assert set(seen) == created


def test_a_contact_full_name_is_derived_and_follows_changes(client):
    contact = _create(client, "contacts", first_name="Jean", last_name="Dupont")

    assert contact.json()["full_name"] == "Jean Dupont"
    changed = client.patch(f"{API}/contacts/{contact.json()['id']}", json={"first_name": "Marie"})
    assert changed.json()["full_name"] == "Marie Dupont"
    assert get_record(client, "contacts", contact.json()["id"])["full_name"] == "Marie Dupont"


def test_a_contact_can_belong_to_an_account(client, database):
    account = _create(client, "accounts", name="Acme").json()
    contact = _create(client, "contacts", last_name="Dupont", account_id=account["id"]).json()
    assert contact["account_id"] == account["id"]
    before = snapshot(database)

    refused = client.post(f"{API}/contacts", json={"last_name": "Nobody", "account_id": str(uuid.uuid4())})

    assert_error(refused, 422, "account_id_not_found")
    assert snapshot(database) == before


def test_deleting_an_account_keeps_its_contacts_and_opportunities_unlinked(client):
    account = _create(client, "accounts", name="Acme").json()
    contact = _create(client, "contacts", last_name="Dupont", account_id=account["id"]).json()
    opportunity = _create(client, "opportunities", name="Deal", parent_account_id=account["id"]).json()

    assert client.delete(f"{API}/accounts/{account['id']}").status_code == 204

    assert get_record(client, "contacts", contact["id"])["account_id"] is None
    assert get_record(client, "opportunities", opportunity["id"])["parent_account_id"] is None


@pytest.mark.parametrize("table", ["accounts", "contacts"])
def test_deleting_a_customer_leaves_no_opportunity_pointing_to_it(client, table):
    fields = {"name": "Acme"} if table == "accounts" else {"last_name": "Dupont"}
    customer = _create(client, table, **fields).json()
    opportunity = _create(client, "opportunities", name="Deal", customer_id=customer["id"]).json()

    response = client.delete(f"{API}/{table}/{customer['id']}")

    # The delete goes through and the opportunity forgets its customer (both the id and its kind).
    assert response.status_code == 204, response.text
    kept = get_record(client, "opportunities", opportunity["id"])
    assert (kept["customer_id"], kept["customer_kind"]) == (None, None)
    assert kept["row_version"] == opportunity["row_version"] + 1


def test_an_opportunity_customer_is_an_account_or_a_contact(client, database):
    account = _create(client, "accounts", name="Acme").json()
    contact = _create(client, "contacts", last_name="Dupont").json()

    for_account = _create(client, "opportunities", name="A", customer_id=account["id"]).json()
    for_contact = _create(client, "opportunities", name="B", customer_id=contact["id"]).json()

    assert (for_account["customer_kind"], for_account["customer_id"]) == ("account", account["id"])
    assert (for_contact["customer_kind"], for_contact["customer_id"]) == ("contact", contact["id"])
    before = snapshot(database)
    refused = client.post(f"{API}/opportunities", json={"name": "C", "customer_id": str(uuid.uuid4())})
    assert_error(refused, 422, "customer_id_not_found")
    assert snapshot(database) == before


def test_a_new_opportunity_is_open_at_develop_in_the_base_currency_unless_named(client, database):
    default = _create(client, "opportunities", name="Default").json()
    in_usd = _create(client, "opportunities", name="Dollars", currency="usd").json()

    assert default["state"] == "open" and default["process_stage"] == "develop"
    assert default["currency_id"] == base_currency_id(database)
    assert in_usd["currency_id"] == currency_id(database, "USD")
    assert default["originating_lead_id"] is None


def test_the_openapi_description_and_the_docs_page_answer(client):
    spec = client.get(f"{API}/openapi.json")
    docs = client.get(f"{API}/docs")

    assert spec.status_code == 200
    paths = spec.json()["paths"]
    for path in (
        "/api/v1/leads",
        "/api/v1/leads/{lead_id}/qualify",
        "/api/v1/leads/qualify",
        "/api/v1/settings/qualification",
        "/api/v1/opportunities/{opportunity_id}/process",
    ):
        assert path in paths
    assert docs.status_code == 200
    assert "text/html" in docs.headers["Content-Type"]
    assert "/api/v1/openapi.json" in docs.text
    # the page works offline: every script and stylesheet it names is served by the app itself
    assets = re.findall(r'(?:src|href)="(/[^"]+\.(?:js|css))"', docs.text)
    assert assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def test_the_health_endpoint_names_the_database(client, backend):
    response = client.get(f"{API}/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": backend}
