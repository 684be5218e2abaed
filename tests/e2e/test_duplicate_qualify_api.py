"""Duplicate detection when qualifying (§5) over HTTP: warnings and how they are resolved, the blocking
lead and opportunity errors and their ways out, and bulk qualification (§2.6).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from leadflow.security.service import create_business_unit, create_user
from tests.conftest import bearer_headers
from tests.e2e.helpers import (
    API,
    assert_error,
    counts,
    create_lead,
    get_lead,
    get_record,
    qualify,
    snapshot,
)
from tests.factories import lead_data

RULES = f"{API}/duplicate-rules"
MIGHT_ALREADY_EXIST = "The account or contact might already exist."
LEAD_DUPLICATE = "No lead record was created or updated because a duplicate of the current record already exists."
OPPORTUNITY_DUPLICATE = (
    "No opportunity record was created or updated because a duplicate of the current record already exists."
)
MATCH_FIELDS = {
    "table",
    "id",
    "name",
    "email",
    "phone",
    "city",
    "owner_id",
    "owner_name",
    "rule_id",
    "rule_name",
    "score",
    "reasons",
}


# ----------------------------------------------------------------------------------------------
# helpers


def post(client: TestClient, table: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"{API}/{table}", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def lead_despite_duplicates(client: TestClient, **overrides: Any) -> dict[str, Any]:
    """A lead saved although the rules find duplicates of it (suppress_duplicate_detection)."""
    response = client.post(f"{API}/leads", json=lead_data(**overrides), params={"suppress_duplicate_detection": "true"})
    assert response.status_code == 201, response.text
    return response.json()


def try_qualify(client: TestClient, lead_id: str, **options: Any):
    return client.post(f"{API}/leads/{lead_id}/qualify", json=options)


def rule_named(client: TestClient, name: str) -> dict[str, Any]:
    return next(rule for rule in client.get(RULES).json() if rule["name"] == name)


def publish(client: TestClient, rule_id: str) -> None:
    assert client.post(f"{RULES}/{rule_id}/publish").status_code == 202
    assert client.get(f"{RULES}/{rule_id}").json()["state"] == "published"


def unpublish(client: TestClient, rule_id: str) -> dict[str, Any]:
    response = client.post(f"{RULES}/{rule_id}/unpublish")
    assert response.status_code == 200, response.text
    return response.json()


def new_published_rule(client: TestClient, **definition: Any) -> dict[str, Any]:
    response = client.post(RULES, json=definition)
    assert response.status_code == 201, response.text
    publish(client, response.json()["id"])
    return client.get(f"{RULES}/{response.json()['id']}").json()


def bulk(client: TestClient, lead_ids: list[str], **options: Any):
    return client.post(f"{API}/leads/qualify", json={"lead_ids": lead_ids, **options})


# ----------------------------------------------------------------------------------------------
# the warning (account and contact)


def test_qualifying_a_lead_whose_company_matches_an_account_warns_and_changes_nothing(client, database):
    account = post(
        client,
        "accounts",
        {
            "name": "Muebles Ibéricos S.L.",
            "email": "info@muebles.example",
            "telephone": "+34 910 555 000",
            "address_city": "Toledo",
        },
    )
    lead = create_lead(client, company_name="muebles ibéricos s.l.")
    before = snapshot(database)

    response = try_qualify(client, lead["id"])

    error = assert_error(response, 409, "duplicate_detected")
    assert error["message"] == MIGHT_ALREADY_EXIST
    [match] = error["details"]["matching_accounts"]
    assert error["details"]["matching_contacts"] == []
    assert set(match) == MATCH_FIELDS
    assert (match["table"], match["id"], match["name"]) == ("accounts", account["id"], "Muebles Ibéricos S.L.")
    assert (match["email"], match["phone"], match["city"]) == ("info@muebles.example", "+34 910 555 000", "Toledo")
    assert match["owner_name"] == "Ada Admin"
    assert match["rule_name"] == "Accounts with the same account name"
    assert match["score"] == 1.0
    assert match["reasons"] == [
        {
            "base_column": "name",
            "matching_column": "name",
            "criterion": "normalized",
            "value": "muebles ibéricos s.l.",
            "matching_value": "Muebles Ibéricos S.L.",
            "score": 1.0,
        }
    ]
    assert snapshot(database) == before
    assert get_lead(client, lead["id"])["state"] == "open"


def test_the_warning_lists_contacts_matching_the_contact_qualify_would_create(client, database):
    contact = post(
        client,
        "contacts",
        {"first_name": "Ana", "last_name": "Torres", "email": "ana@torres.example", "address_city": "Soria"},
    )
    lead = create_lead(client, first_name="Ana", last_name="Torres", company_name=None)
    before = snapshot(database)

    error = assert_error(try_qualify(client, lead["id"]), 409, "duplicate_detected")

    assert error["details"]["matching_accounts"] == []
    [match] = error["details"]["matching_contacts"]
    assert (match["id"], match["name"], match["email"], match["city"]) == (
        contact["id"],
        "Ana Torres",
        "ana@torres.example",
        "Soria",
    )
    assert match["rule_name"] == "Contacts with the same first name and last name"
    assert snapshot(database) == before


def test_linking_the_matching_account_creates_no_account_and_a_blank_contact_creates_a_new_one(client, database):
    account = post(client, "accounts", {"name": "Muebles Ibéricos S.L."})
    lead = create_lead(client, company_name="Muebles Ibéricos S.L.")
    before = counts(database)

    body = qualify(client, lead["id"], duplicate_resolution={"account_id": account["id"], "contact_id": None})

    created = body["created"]
    assert created["account_id"] is None and created["contact_id"] and len(created["opportunity_ids"]) == 1
    after = counts(database)
    assert after["accounts"] == before["accounts"]
    assert after["contacts"] == before["contacts"] + 1
    assert body["lead"]["parent_account_id"] == account["id"]
    assert get_record(client, "contacts", created["contact_id"])["account_id"] == account["id"]
    opportunity = get_record(client, "opportunities", created["opportunity_ids"][0])
    assert opportunity["parent_account_id"] == account["id"]
    assert (opportunity["customer_kind"], opportunity["customer_id"]) == ("account", account["id"])


def test_linking_the_matching_account_and_contact_creates_neither(client, database):
    account = post(client, "accounts", {"name": "Ópticas Luz S.L."})
    contact = post(client, "contacts", {"first_name": "Luz", "last_name": "Marín", "account_id": account["id"]})
    lead = create_lead(client, company_name="Ópticas Luz S.L.", first_name="Luz", last_name="Marín")
    error = assert_error(try_qualify(client, lead["id"]), 409, "duplicate_detected")
    assert [m["id"] for m in error["details"]["matching_accounts"]] == [account["id"]]
    assert [m["id"] for m in error["details"]["matching_contacts"]] == [contact["id"]]
    before = counts(database)

    body = qualify(client, lead["id"], duplicate_resolution={"account_id": account["id"], "contact_id": contact["id"]})

    assert (body["created"]["account_id"], body["created"]["contact_id"]) == (None, None)
    assert (body["lead"]["parent_account_id"], body["lead"]["parent_contact_id"]) == (account["id"], contact["id"])
    after = counts(database)
    assert (after["accounts"], after["contacts"], after["opportunities"]) == (
        before["accounts"],
        before["contacts"],
        before["opportunities"] + 1,
    )


def test_ignoring_the_warning_creates_new_records(client, database):
    account = post(client, "accounts", {"name": "Muebles Ibéricos S.L."})
    lead = create_lead(client, company_name="Muebles Ibéricos S.L.")
    before = counts(database)

    body = qualify(client, lead["id"], duplicate_resolution="ignore")

    assert body["created"]["account_id"] not in (None, account["id"])
    assert counts(database)["accounts"] == before["accounts"] + 1
    assert get_record(client, "accounts", body["created"]["account_id"])["name"] == "Muebles Ibéricos S.L."


BAD_RESOLUTIONS = [
    pytest.param(
        {"account_id": "00000000-0000-0000-0000-000000000001"},
        "duplicate_resolution.account_id",
        "not_found",
        id="unknown-account",
    ),
    pytest.param("create", "duplicate_resolution", "invalid_option", id="unknown-word"),
    pytest.param(17, "duplicate_resolution", "invalid_option", id="a-number"),
    pytest.param({"account_id": "not-an-id"}, "duplicate_resolution.account_id", "invalid_id", id="bad-id"),
    pytest.param({"opportunity_id": None}, "duplicate_resolution.opportunity_id", "unknown_field", id="unknown-field"),
]


@pytest.mark.parametrize(("resolution", "field", "field_code"), BAD_RESOLUTIONS)
def test_a_bad_duplicate_resolution_is_refused_and_changes_nothing(client, database, resolution, field, field_code):
    post(client, "accounts", {"name": "Muebles Ibéricos S.L."})
    lead = create_lead(client, company_name="Muebles Ibéricos S.L.")
    before = snapshot(database)

    response = try_qualify(client, lead["id"], duplicate_resolution=resolution)

    assert response.status_code == 422, response.text
    assert snapshot(database) == before


@pytest.mark.parametrize(
    ("resolution", "field", "field_code"),
    [pytest.param(*case.values, id=case.id) for case in BAD_RESOLUTIONS],
)
def test_a_bad_duplicate_resolution_names_the_field_in_the_clients_terms(client, resolution, field, field_code):
    lead = create_lead(client)

    error = try_qualify(client, lead["id"], duplicate_resolution=resolution).json()["error"]

    assert [(item["field"], item["code"]) for item in error["details"]["fields"]] == [(field, field_code)], error
    assert "literal[" not in error["message"].lower() and "duplicatelink" not in error["message"].lower(), error


def test_suppressing_detection_qualifies_despite_matches(client, database):
    post(client, "accounts", {"name": "Muebles Ibéricos S.L."})
    lead = create_lead(client, company_name="Muebles Ibéricos S.L.")
    before = counts(database)

    body = qualify(client, lead["id"], suppress_duplicate_detection=True)

    assert body["created"]["account_id"] and counts(database)["accounts"] == before["accounts"] + 1


def test_detection_off_for_accounts_qualifies_without_a_warning(client, database):
    post(client, "accounts", {"name": "Muebles Ibéricos S.L."})
    lead = create_lead(client, company_name="Muebles Ibéricos S.L.")
    current = client.get(f"{API}/settings/duplicate-detection")
    settings = {k: v for k, v in current.json().items() if k != "row_version"}
    response = client.put(
        f"{API}/settings/duplicate-detection",
        json={**settings, "detect_duplicates_accounts": False},
        headers={"If-Match": current.headers["ETag"]},
    )
    assert response.status_code == 200, response.text

    body = qualify(client, lead["id"])

    assert body["created"]["account_id"]


def test_qualify_finds_the_account_an_earlier_qualification_created(client, database):
    first = create_lead(client, company_name="Ferretería Norte S.A.")
    created = qualify(client, first["id"])["created"]
    second = create_lead(client, company_name="Ferretería Norte S.A.")

    error = assert_error(try_qualify(client, second["id"]), 409, "duplicate_detected")

    assert [m["id"] for m in error["details"]["matching_accounts"]] == [created["account_id"]]


def test_an_account_the_seller_may_not_read_is_not_revealed_when_qualifying(client, database):
    post(client, "accounts", {"name": "Secret Holdings S.A."})  # the administrator's, in the root business unit
    with database.unit_of_work() as uow:
        create_business_unit("Sales Mexico", parent_name=None, uow=uow, actor=None)
        create_user(
            email="mexico@example.com",
            full_name="Mexico Seller",
            role_names=["Salesperson"],
            business_unit_name="Sales Mexico",
            password=None,
            uow=uow,
            actor=None,
        )
        uow.commit()
    headers = bearer_headers(database, "mexico@example.com")
    lead = client.post(f"{API}/leads", json=lead_data(company_name="Secret Holdings S.A."), headers=headers).json()

    response = client.post(f"{API}/leads/{lead['id']}/qualify", json={}, headers=headers)

    assert response.status_code == 200, response.text
    assert response.json()["created"]["account_id"]


# ----------------------------------------------------------------------------------------------
# blocking errors: lead and opportunity


def test_a_duplicate_lead_blocks_qualification_with_the_lead_message_and_ways_out(client, database):
    first = create_lead(client, email="same@example.com")
    second = lead_despite_duplicates(client, email="same@example.com")
    before = snapshot(database)

    response = try_qualify(client, second["id"])

    error = assert_error(response, 409, "lead_duplicate")
    assert error["message"] == LEAD_DUPLICATE
    assert [m["id"] for m in error["details"]["matches"]] == [first["id"]]
    assert error["details"]["matches"][0]["rule_name"] == "Leads with the same email address"
    ways_out = " ".join(error["details"]["ways_out"]).lower()
    assert "merge" in ways_out and "unpublish" in ways_out and "exclude inactive" in ways_out
    assert snapshot(database) == before


def test_ignoring_the_warning_does_not_lift_a_blocking_lead_duplicate(client, database):
    create_lead(client, email="same@example.com")
    second = lead_despite_duplicates(client, email="same@example.com")
    before = snapshot(database)

    assert_error(try_qualify(client, second["id"], duplicate_resolution="ignore"), 409, "lead_duplicate")
    assert snapshot(database) == before


def _opportunity_rule(client: TestClient) -> dict[str, Any]:
    return new_published_rule(
        client,
        name="Opportunities with the same name",
        base_table="opportunities",
        conditions=[{"base_column": "name", "criterion": "exact_match"}],
    )


def test_a_duplicate_opportunity_blocks_qualification_with_the_opportunity_message(client, database):
    _opportunity_rule(client)
    existing = post(client, "opportunities", {"name": "100 office chairs"})
    lead = create_lead(client, topic="100 Office Chairs")
    before = snapshot(database)

    response = try_qualify(client, lead["id"], duplicate_resolution="ignore")

    error = assert_error(response, 409, "opportunity_duplicate")
    assert error["message"] == OPPORTUNITY_DUPLICATE
    assert [m["id"] for m in error["details"]["matches"]] == [existing["id"]]
    assert error["details"]["matches"][0]["rule_name"] == "Opportunities with the same name"
    assert error["details"]["ways_out"]
    assert snapshot(database) == before


def test_an_opportunity_rule_does_not_block_a_qualification_that_creates_no_opportunity(client, database):
    _opportunity_rule(client)
    post(client, "opportunities", {"name": "100 office chairs"})
    lead = create_lead(client, topic="100 office chairs")

    body = qualify(client, lead["id"], create_opportunity=False)

    assert body["created"]["opportunity_ids"] == []
    assert body["lead"]["state"] == "qualified"


def test_unpublishing_the_rule_is_a_way_out_of_a_blocking_duplicate(client, database):
    create_lead(client, email="same@example.com")
    second = lead_despite_duplicates(client, email="same@example.com")
    assert_error(try_qualify(client, second["id"]), 409, "lead_duplicate")

    unpublish(client, rule_named(client, "Leads with the same email address")["id"])

    assert qualify(client, second["id"])["lead"]["state"] == "qualified"


def test_excluding_inactive_records_is_a_way_out_when_the_duplicate_is_a_qualified_lead(client, database):
    rule = new_published_rule(
        client,
        name="Leads with the same email, closed ones too",
        base_table="leads",
        exclude_inactive=False,
        conditions=[{"base_column": "email", "criterion": "exact_match"}],
    )
    earlier = create_lead(client, email="again@example.com")
    qualify(client, earlier["id"])
    later = lead_despite_duplicates(client, email="again@example.com")
    error = assert_error(try_qualify(client, later["id"], duplicate_resolution="ignore"), 409, "lead_duplicate")
    assert [m["id"] for m in error["details"]["matches"]] == [earlier["id"]]

    unpublished = unpublish(client, rule["id"])
    changed = client.patch(
        f"{RULES}/{rule['id']}",
        json={"exclude_inactive": True},
        headers={"If-Match": f'"{unpublished["row_version"]}"'},
    )
    assert changed.status_code == 200, changed.text
    publish(client, rule["id"])

    body = qualify(client, later["id"], duplicate_resolution="ignore")
    assert body["lead"]["state"] == "qualified"
    assert client.get(f"{RULES}/{rule['id']}").json()["state"] == "published"


# ----------------------------------------------------------------------------------------------
# bulk qualification


def test_bulk_qualify_reports_duplicates_per_lead_and_qualifies_the_others(client, database):
    account = post(client, "accounts", {"name": "Muebles Ibéricos S.L."})
    clean = create_lead(client)
    duplicate = create_lead(client, company_name="Muebles Ibéricos S.L.")
    blocked_first = create_lead(client, email="bulk@example.com")
    blocked = lead_despite_duplicates(client, email="bulk@example.com")
    ids = [clean["id"], duplicate["id"], blocked["id"]]

    response = bulk(client, ids)

    assert response.status_code == 200, response.text
    body = response.json()
    assert [(line["lead_id"], line["status"]) for line in body["results"]] == [
        (clean["id"], "qualified"),
        (duplicate["id"], "failed"),
        (blocked["id"], "failed"),
    ]
    assert (body["qualified"], body["failed"]) == (1, 2)
    warning, block = body["results"][1]["error"], body["results"][2]["error"]
    assert (warning["code"], warning["message"]) == ("duplicate_detected", MIGHT_ALREADY_EXIST)
    assert [m["id"] for m in warning["details"]["matching_accounts"]] == [account["id"]]
    assert (block["code"], block["message"]) == ("lead_duplicate", LEAD_DUPLICATE)
    assert [m["id"] for m in block["details"]["matches"]] == [blocked_first["id"]]
    states = {lead_id: get_lead(client, lead_id)["state"] for lead_id in ids}
    assert states == {clean["id"]: "qualified", duplicate["id"]: "open", blocked["id"]: "open"}


def test_bulk_qualify_refuses_linking_duplicate_matches(client, database):
    account = post(client, "accounts", {"name": "Muebles Ibéricos S.L."})
    leads = [create_lead(client, company_name="Muebles Ibéricos S.L.") for _ in range(2)]
    before = snapshot(database)

    response = bulk(client, [lead["id"] for lead in leads], duplicate_resolution={"account_id": account["id"]})

    assert_error(response, 422, "duplicate_link_not_allowed_in_bulk")
    assert snapshot(database) == before


def test_bulk_qualify_with_ignore_creates_new_records_for_every_lead(client, database):
    post(client, "accounts", {"name": "Muebles Ibéricos S.L."})
    leads = [create_lead(client, company_name="Muebles Ibéricos S.L.") for _ in range(2)]
    before = counts(database)

    response = bulk(client, [lead["id"] for lead in leads], duplicate_resolution="ignore")

    assert response.json()["qualified"] == 2, response.text
    assert counts(database)["accounts"] == before["accounts"] + 2


def test_bulk_qualify_checks_records_created_by_an_earlier_qualification(client, database):
    first = create_lead(client, company_name="Ferretería Norte S.A.")
    earlier = bulk(client, [first["id"]]).json()["results"][0]
    later_lead = create_lead(client, company_name="Ferretería Norte S.A.")

    [line] = bulk(client, [later_lead["id"]]).json()["results"]

    assert line["status"] == "failed" and line["error"]["code"] == "duplicate_detected"
    assert [m["id"] for m in line["error"]["details"]["matching_accounts"]] == [earlier["created"]["account_id"]]


def test_bulk_qualify_checks_records_created_for_an_earlier_lead_of_the_same_request(client, database):
    leads = [create_lead(client, company_name="Ferretería Sur S.A.") for _ in range(2)]

    results = bulk(client, [lead["id"] for lead in leads]).json()["results"]

    assert [line["status"] for line in results] == ["qualified", "failed"]
    assert results[1]["error"]["code"] == "duplicate_detected"
    assert [m["id"] for m in results[1]["error"]["details"]["matching_accounts"]] == [
        results[0]["created"]["account_id"]
    ]
    assert counts(database)["accounts"] == 1
