"""Duplicate detection over HTTP (§9): rules, publishing, every criterion through a real save, options,
settings, the check endpoint, and bad input. Every refusal leaves the database as it was.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadflow.core.uow import Database
from leadflow.duplicates.engine import MATCH_CODES
from leadflow.duplicates.models import DuplicateRule, DuplicateRuleCondition
from leadflow.organisation.models import OrganisationSettings
from leadflow.security.audit import AUDIT_TABLE
from leadflow.security.models import BusinessUnit
from leadflow.security.service import create_business_unit, create_user
from tests.conftest import bearer_headers
from tests.e2e.helpers import (
    API,
    assert_error,
    counts,
    create_lead,
    disqualify,
    get_lead,
    qualify,
    snapshot,
)
from tests.factories import lead_data

RULES = f"{API}/duplicate-rules"
CHECK = f"{API}/duplicates/check"
DETECTION_SETTINGS = f"{API}/settings/duplicate-detection"
# An out-of-box rule that finds Jonathon Smith for Jonathan Smith too, unpublished where a test's own rule is looked at.
OUT_OF_BOX_SIMILAR_LEAD_NAMES = "Leads with a similar first name and last name"


# ----------------------------------------------------------------------------------------------
# helpers


def rules_snapshot(database: Database) -> dict[str, Any]:
    """Rules, conditions, match codes, organisation settings and the audit log size, plus the records."""
    with database.unit_of_work(read_only=True) as uow:
        session = uow.session

        def rows(table: Any, *order: Any) -> list[dict[str, Any]]:
            return [dict(row) for row in session.execute(select(table).order_by(*order)).mappings()]

        rules, conditions = DuplicateRule.__table__, DuplicateRuleCondition.__table__
        settings = OrganisationSettings.__table__
        state = {
            "rules": rows(rules, rules.c.id),
            "conditions": rows(conditions, conditions.c.rule_id, conditions.c.position),
            "match_codes": rows(MATCH_CODES, MATCH_CODES.c.rule_id, MATCH_CODES.c.record_id),
            "settings": rows(settings, settings.c.id),
            "audit_entries": session.scalar(select(func.count()).select_from(AUDIT_TABLE)),
        }
    return {**state, "records": snapshot(database)}


def create_rule(client: TestClient, **definition: Any) -> dict[str, Any]:
    response = client.post(RULES, json=definition)
    assert response.status_code == 201, response.text
    return response.json()


def publish(client: TestClient, rule_id: str) -> dict[str, Any]:
    """Publish over HTTP and return the rule once published (the test client runs the background task)."""
    response = client.post(f"{RULES}/{rule_id}/publish")
    assert response.status_code == 202, response.text
    rule = client.get(f"{RULES}/{rule_id}").json()
    assert rule["state"] == "published", rule
    return rule


def published_rule(client: TestClient, table: str, *conditions: dict[str, Any], **options: Any) -> dict[str, Any]:
    rule = create_rule(
        client, name=options.pop("name", f"Rule on {table}"), base_table=table, conditions=list(conditions), **options
    )
    return publish(client, rule["id"])


def unpublish(client: TestClient, rule_id: str) -> dict[str, Any]:
    response = client.post(f"{RULES}/{rule_id}/unpublish")
    assert response.status_code == 200, response.text
    return response.json()


def _settings_body(client: TestClient) -> dict[str, Any]:
    """The current detection settings as a PUT body."""
    current = client.get(DETECTION_SETTINGS).json()
    return {key: value for key, value in current.items() if key != "row_version"}


def rule_named(client: TestClient, name: str) -> dict[str, Any]:
    response = client.get(RULES)
    assert response.status_code == 200, response.text
    return next(rule for rule in response.json() if rule["name"] == name)


def post(client: TestClient, table: str, body: dict[str, Any], **params: Any):
    return client.post(f"{API}/{table}", json=body, params=params or None)


def post_lead(client: TestClient, **overrides: Any):
    return post(client, "leads", lead_data(**overrides))


def assert_duplicate(response, table: str, expected_ids: list[str]) -> list[dict[str, Any]]:
    """A 409 duplicate_detected naming exactly these matching records; returns the matches."""
    error = assert_error(response, 409, "duplicate_detected")
    assert error["details"]["table"] == table, error
    matches = error["details"]["matches"]
    assert sorted(match["id"] for match in matches) == sorted(expected_ids), matches
    return matches


def make_user(database: Database, email: str, role: str, unit: str | None) -> dict[str, str]:
    """A user of a role in a business unit (created if missing); returns their bearer headers."""
    with database.unit_of_work() as uow:
        if unit is not None and uow.session.scalar(select(BusinessUnit).where(BusinessUnit.name == unit)) is None:
            create_business_unit(unit, parent_name=None, uow=uow, actor=None)
        user = create_user(
            email=email,
            full_name=email.split("@")[0].title(),
            role_names=[role],
            business_unit_name=unit,
            password=None,
            uow=uow,
            actor=None,
        )
        uow.commit()
        user_id = str(user.id)
    return {"id": user_id, **bearer_headers(database, email)}


# ----------------------------------------------------------------------------------------------
# rules


def test_the_out_of_box_rules_are_listed_published_per_base_table(client):
    response = client.get(RULES, params={"base_table": "contacts"})

    assert response.status_code == 200, response.text
    rules = response.json()
    assert [rule["name"] for rule in rules] == [
        "Contacts with a similar first name and last name",
        "Contacts with the same business phone",
        "Contacts with the same email address",
        "Contacts with the same first name and last name",
    ]
    assert {rule["state"] for rule in rules} == {"published"}
    assert len(client.get(RULES).json()) == 12


OUT_OF_BOX_CASES = [
    pytest.param(
        "Accounts with the same account name",
        "accounts",
        {"name": "Acme S.A."},
        {"name": "ACME S.A."},
        id="account-name",
    ),
    pytest.param(
        "Accounts with the same email address",
        "accounts",
        {"name": "A", "email": "info@acme.example"},
        {"name": "B", "email": "Info@Acme.example"},
        id="account-email",
    ),
    pytest.param(
        "Accounts with the same phone number",
        "accounts",
        {"name": "A", "telephone": "+34 910 000 111"},
        {"name": "B", "telephone": "+34 910 000 111"},
        id="account-phone",
    ),
    pytest.param(
        "Accounts with the same website",
        "accounts",
        {"name": "A", "website": "https://acme.example"},
        {"name": "B", "website": "https://acme.example"},
        id="account-website",
    ),
    pytest.param(
        "Contacts with the same business phone",
        "contacts",
        {"last_name": "A", "business_phone": "+34 600 000 111"},
        {"last_name": "B", "business_phone": "+34 600 000 111"},
        id="contact-phone",
    ),
    pytest.param(
        "Contacts with the same email address",
        "contacts",
        {"last_name": "A", "email": "eva@example.com"},
        {"last_name": "B", "email": "EVA@example.com"},
        id="contact-email",
    ),
    pytest.param(
        "Contacts with the same first name and last name",
        "contacts",
        {"first_name": "Eva", "last_name": "Luna"},
        {"first_name": "eva", "last_name": "LUNA"},
        id="contact-name",
    ),
    pytest.param(
        "Leads with the same email address",
        "leads",
        lead_data(email="lead@example.com"),
        lead_data(email="Lead@Example.com"),
        id="lead-email",
    ),
]


@pytest.mark.parametrize(("rule_name", "table", "first", "second"), OUT_OF_BOX_CASES)
def test_each_out_of_box_rule_refuses_a_duplicate_saved_through_the_api(
    client, database, rule_name, table, first, second
):
    existing = post(client, table, first)
    assert existing.status_code == 201, existing.text
    before = snapshot(database)

    [match] = assert_duplicate(post(client, table, second), table, [existing.json()["id"]])

    assert match["rule_name"] == rule_name
    assert snapshot(database) == before


def test_creating_a_rule_answers_201_with_the_unpublished_rule_its_location_and_etag(client):
    response = client.post(
        RULES,
        json={
            "name": "Leads with the same website",
            "base_table": "leads",
            "conditions": [{"base_column": "website", "criterion": "exact_match"}],
        },
    )

    assert response.status_code == 201, response.text
    rule = response.json()
    assert rule["state"] == "unpublished" and rule["matching_table"] == "leads"
    assert rule["conditions"] == [
        {
            "base_column": "website",
            "matching_column": "website",
            "criterion": "exact_match",
            "n": None,
            "threshold": None,
            "ignore_blank": True,
        }
    ]
    assert response.headers["Location"] == f"{RULES}/{rule['id']}"
    assert response.headers["ETag"] == f'"{rule["row_version"]}"'
    assert client.get(response.headers["Location"]).json() == rule


def _condition(**fields: Any) -> dict[str, Any]:
    return {"base_column": "job_title", "criterion": "exact_match", **fields}


BAD_RULES = [
    pytest.param({"conditions": []}, "no_conditions", id="no-conditions"),
    pytest.param({"conditions": [_condition(criterion="same_first_characters", n=0)]}, "n_required", id="first-n-zero"),
    pytest.param(
        {"conditions": [_condition(criterion="same_first_characters", n=-2)]}, "n_required", id="first-n-negative"
    ),
    pytest.param({"conditions": [_condition(criterion="same_last_characters", n=0)]}, "n_required", id="last-n-zero"),
    pytest.param(
        {"conditions": [_condition(criterion="same_last_characters", n=-2)]}, "n_required", id="last-n-negative"
    ),
    pytest.param({"conditions": [_condition(base_column="favourite_colour")]}, "unknown_column", id="unknown-column"),
    pytest.param(
        {"conditions": [_condition(criterion="same_date")]}, "criterion_not_applicable", id="criterion-not-applicable"
    ),
    pytest.param(
        {"conditions": [_condition(criterion="similar", threshold=2)]},
        "threshold_out_of_range",
        id="threshold-out-of-range",
    ),
    pytest.param({"default_region": "ZZ"}, "unknown_region", id="unknown-region"),
    pytest.param({"base_table": "invoices"}, "invalid_option", id="unknown-table"),
    pytest.param({"matching_table": "invoices"}, "invalid_option", id="unknown-matching-table"),
    pytest.param({"conditions": [_condition(criterion="sounds_like")]}, "invalid_option", id="unknown-criterion"),
    pytest.param(
        {"conditions": [_condition(n="three", criterion="same_first_characters")]}, "invalid_value", id="n-not-a-number"
    ),
    pytest.param({"publish": True}, "unknown_field", id="unknown-field"),
    pytest.param({"name": ""}, "required", id="blank-name"),
    pytest.param({"conditions": [_condition()] * 21}, "too_many", id="too-many-conditions"),
]


@pytest.mark.parametrize(("changes", "code"), BAD_RULES)
def test_a_bad_rule_is_refused_with_422_and_its_code_and_nothing_is_stored(client, database, changes, code):
    definition = {"name": "Bad rule", "base_table": "leads", "conditions": [_condition()], **changes}
    before = rules_snapshot(database)

    response = client.post(RULES, json=definition)

    assert_error(response, 422, code)
    assert rules_snapshot(database) == before


def test_a_rule_body_that_is_not_json_is_refused(client, database):
    before = rules_snapshot(database)

    response = client.post(RULES, content=b'{"name": "half', headers={"Content-Type": "application/json"})

    assert_error(response, 422, "invalid_json")
    assert rules_snapshot(database) == before


def test_a_sixth_published_rule_on_one_base_table_is_refused_with_409_and_stays_unpublished(client, database):
    for column in ("address_city",):
        published_rule(
            client,
            "contacts",
            {"base_column": column, "criterion": "exact_match"},
            name=f"Contacts with the same {column}",
        )
    # contacts: four out-of-box rules and one more make five
    sixth = create_rule(
        client,
        name="One too many",
        base_table="contacts",
        conditions=[{"base_column": "job_title", "criterion": "exact_match"}],
    )
    before = rules_snapshot(database)

    response = client.post(f"{RULES}/{sixth['id']}/publish")

    error = assert_error(response, 409, "too_many_published_rules")
    assert len(error["details"]["published"]) == 5
    assert client.get(f"{RULES}/{sixth['id']}").json()["state"] == "unpublished"
    assert rules_snapshot(database) == before


def test_changing_or_deleting_a_published_rule_is_refused_with_409(client, database):
    rule = rule_named(client, "Leads with the same email address")
    etag = f'"{rule["row_version"]}"'
    before = rules_snapshot(database)

    changed = client.patch(f"{RULES}/{rule['id']}", json={"name": "Renamed"}, headers={"If-Match": etag})
    deleted = client.delete(f"{RULES}/{rule['id']}", headers={"If-Match": etag})

    assert_error(changed, 409, "rule_published")
    assert_error(deleted, 409, "rule_published")
    assert rules_snapshot(database) == before


def test_a_rule_is_unpublished_then_changed_with_its_etag_then_published_again(client, database):
    rule = published_rule(client, "leads", {"base_column": "website", "criterion": "exact_match"})
    create_lead(client, website="https://one.example")

    unpublished = unpublish(client, rule["id"])
    assert unpublished["state"] == "unpublished"
    stale = client.patch(f"{RULES}/{rule['id']}", json={"name": "Stale"}, headers={"If-Match": '"1"'})
    assert_error(stale, 412, "stale_etag")
    response = client.patch(
        f"{RULES}/{rule['id']}",
        json={
            "name": "Leads in the same city",
            "conditions": [{"base_column": "address_city", "criterion": "exact_match"}],
        },
        headers={"If-Match": f'"{unpublished["row_version"]}"'},
    )
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == f'"{response.json()["row_version"]}"'
    publish(client, rule["id"])

    assert post_lead(client, website="https://one.example", address_city="Cádiz").status_code == 201
    assert_error(post_lead(client, address_city="cádiz"), 409, "duplicate_detected")


def test_an_unpublished_rule_is_deleted_with_its_etag(client, database):
    rule = create_rule(
        client,
        name="Short-lived",
        base_table="leads",
        conditions=[{"base_column": "website", "criterion": "exact_match"}],
    )

    response = client.delete(f"{RULES}/{rule['id']}", headers={"If-Match": f'"{rule["row_version"]}"'})

    assert response.status_code == 204, response.text
    assert_error(client.get(f"{RULES}/{rule['id']}"), 404, "rule_not_found")


def test_publishing_answers_202_publishing_and_ends_published_with_every_record_coded(client, database):
    buyers = []
    for index, title in enumerate(("CEO", "Buyer", "Buyer")):
        response = post(client, "contacts", {"last_name": f"Person {index}", "job_title": title})
        assert response.status_code == 201, response.text
        if title == "Buyer":
            buyers.append(response.json()["id"])
    rule = create_rule(
        client,
        name="Contacts with the same job title",
        base_table="contacts",
        conditions=[{"base_column": "job_title", "criterion": "exact_match"}],
    )
    assert rule["state"] == "unpublished" and rule["publish_progress"] == {"done": 0, "total": 0}

    response = client.post(f"{RULES}/{rule['id']}/publish")

    assert response.status_code == 202, response.text
    assert response.json()["state"] == "publishing"
    assert response.json()["publish_progress"]["total"] == 3
    assert response.headers["Location"] == f"{RULES}/{rule['id']}"
    after = client.get(f"{RULES}/{rule['id']}").json()
    assert after["state"] == "published" and after["published_at"]
    assert after["publish_progress"] == {"done": 3, "total": 3}
    # the contacts created before the rule was published are found
    assert_duplicate(post(client, "contacts", {"last_name": "New buyer", "job_title": "buyer"}), "contacts", buyers)


def test_an_unknown_rule_is_not_found(client, database):
    missing = uuid.uuid4()
    before = rules_snapshot(database)

    assert_error(client.get(f"{RULES}/{missing}"), 404, "rule_not_found")
    assert_error(client.post(f"{RULES}/{missing}/publish"), 404, "rule_not_found")
    assert_error(client.post(f"{RULES}/{missing}/unpublish"), 404, "rule_not_found")
    assert_error(client.patch(f"{RULES}/{missing}", json={"name": "x"}), 404, "rule_not_found")
    assert rules_snapshot(database) == before


def test_a_salesperson_may_read_rules_but_not_manage_them_or_the_detection_settings(client, database):
    seller = make_user(database, "seller@example.com", "Salesperson", "Sales Spain")
    headers = {"Authorization": seller["Authorization"]}
    rule = rule_named(client, "Leads with the same email address")
    before = rules_snapshot(database)

    assert client.get(RULES, headers=headers).status_code == 200
    attempts = [
        client.post(
            RULES,
            headers=headers,
            json={
                "name": "Mine",
                "base_table": "leads",
                "conditions": [{"base_column": "website", "criterion": "exact_match"}],
            },
        ),
        client.post(f"{RULES}/{rule['id']}/unpublish", headers=headers),
        client.put(
            DETECTION_SETTINGS, headers=headers, json={**_settings_body(client), "duplicate_detection_enabled": False}
        ),
    ]

    for response in attempts:
        assert_error(response, 403, "forbidden")
    assert rules_snapshot(database) == before


# ----------------------------------------------------------------------------------------------
# each criterion through a real save (§9)


def test_exact_match_finds_the_same_website_whatever_its_case(client):
    published_rule(client, "leads", {"base_column": "website", "criterion": "exact_match"})
    first = create_lead(client, website="https://www.Muebles.example")

    matches = assert_duplicate(post_lead(client, website="HTTPS://WWW.MUEBLES.EXAMPLE"), "leads", [first["id"]])

    assert matches[0]["reasons"] == [
        {
            "base_column": "website",
            "matching_column": "website",
            "criterion": "exact_match",
            "value": "HTTPS://WWW.MUEBLES.EXAMPLE",
            "matching_value": "https://www.Muebles.example",
            "score": 1.0,
        }
    ]
    assert post_lead(client, website="https://muebles.example").status_code == 201  # exact, not normalised


@pytest.mark.parametrize("case_sensitive", [False, True], ids=["case-insensitive", "case-sensitive"])
def test_a_case_sensitive_rule_tells_apart_values_that_differ_only_in_case(client, case_sensitive):
    published_rule(
        client, "leads", {"base_column": "job_title", "criterion": "exact_match"}, case_sensitive=case_sensitive
    )
    first = create_lead(client, job_title="Purchasing Manager")

    response = post_lead(client, job_title="purchasing manager")

    if case_sensitive:
        assert response.status_code == 201, response.text
    else:
        assert_duplicate(response, "leads", [first["id"]])
    assert_duplicate(post_lead(client, job_title="Purchasing Manager"), "leads", [first["id"]])


def test_same_first_characters_compares_only_the_first_n(client):
    published_rule(client, "leads", {"base_column": "company_name", "criterion": "same_first_characters", "n": 10})
    first = create_lead(client, company_name="Telefónica España")

    assert_duplicate(post_lead(client, company_name="Telefónica México"), "leads", [first["id"]])
    assert post_lead(client, company_name="Telefonía Norte").status_code == 201


def test_same_last_characters_compares_only_the_last_n(client):
    published_rule(
        client,
        "leads",
        {"base_column": "email", "criterion": "same_last_characters", "n": 16},
        name="Leads of the same email domain",
    )
    first = create_lead(client, email="ana@muebles.example")

    matches = assert_duplicate(post_lead(client, email="luis@MUEBLES.example"), "leads", [first["id"]])
    assert matches[0]["reasons"][0]["n"] == 16
    assert post_lead(client, email="luis@mueble.example").status_code == 201


def test_same_date_finds_an_opportunity_closing_on_the_same_day(client):
    published_rule(client, "opportunities", {"base_column": "estimated_close_date", "criterion": "same_date"})
    first = post(client, "opportunities", {"name": "Chairs", "estimated_close_date": "2031-06-30"}).json()

    assert_duplicate(
        post(client, "opportunities", {"name": "Desks", "estimated_close_date": "2031-06-30"}),
        "opportunities",
        [first["id"]],
    )
    assert post(client, "opportunities", {"name": "Lamps", "estimated_close_date": "2031-07-01"}).status_code == 201


def test_same_date_and_time_finds_a_lead_closed_in_the_same_minute(client):
    published_rule(client, "leads", {"base_column": "closed_at", "criterion": "same_date_and_time"})
    lead = create_lead(client)
    closed_at = datetime.fromisoformat(disqualify(client, lead["id"])["closed_at"])

    def check(moment: datetime) -> list[str]:
        response = client.post(CHECK, json={"table": "leads", "record": {"closed_at": moment.isoformat()}})
        assert response.status_code == 200, response.text
        return [match["id"] for match in response.json()["matches"]]

    assert check(closed_at) == [lead["id"]]
    assert check(closed_at.astimezone(timezone(timedelta(hours=9)))) == [lead["id"]]
    assert check(closed_at + timedelta(minutes=1)) == []
    assert check(closed_at + timedelta(days=1)) == []


def test_exact_picklist_value_finds_leads_of_the_same_rating(client):
    published_rule(client, "leads", {"base_column": "rating", "criterion": "exact_picklist"})
    hot = create_lead(client, rating="hot")

    matches = assert_duplicate(post_lead(client, rating="hot"), "leads", [hot["id"]])
    assert matches[0]["reasons"][0]["value"] == "hot"
    assert post_lead(client, rating="warm").status_code == 201


def test_normalized_email_ignores_case_even_in_a_case_sensitive_rule(client):
    unpublish(client, rule_named(client, "Leads with the same email address")["id"])
    published_rule(client, "leads", {"base_column": "email", "criterion": "normalized"}, case_sensitive=True)
    first = create_lead(client, email="Ana.Garcia@Muebles.example")

    assert_duplicate(post_lead(client, email="ana.garcia@muebles.EXAMPLE"), "leads", [first["id"]])


@pytest.mark.parametrize(("region", "found"), [("GB", True), ("ES", False)])
def test_normalized_phone_reads_national_numbers_in_the_rules_default_region(client, region, found):
    published_rule(client, "leads", {"base_column": "business_phone", "criterion": "normalized"}, default_region=region)
    first = create_lead(client, business_phone="+44 20 7946 0018")

    response = post_lead(client, business_phone="(020) 7946-0018")

    if found:
        matches = assert_duplicate(response, "leads", [first["id"]])
        assert matches[0]["phone"] == "+44 20 7946 0018"
    else:
        assert response.status_code == 201, response.text


def test_normalized_company_ignores_legal_forms_accents_and_punctuation(client):
    published_rule(client, "leads", {"base_column": "company_name", "criterion": "normalized"})
    first = create_lead(client, company_name="Muebles Ibéricos, S.L.")

    assert_duplicate(post_lead(client, company_name="MUEBLES IBERICOS SL"), "leads", [first["id"]])
    assert post_lead(client, company_name="Muebles Ibéricos Norte S.L.").status_code == 201


def test_normalized_name_ignores_accents_case_and_punctuation(client):
    published_rule(client, "leads", {"base_column": "last_name", "criterion": "normalized"})
    first = create_lead(client, last_name="O'Neill-Núñez")

    assert_duplicate(post_lead(client, last_name="ONEILL NUNEZ"), "leads", [first["id"]])
    assert post_lead(client, last_name="O'Neill").status_code == 201


def test_similar_names_over_the_threshold_are_found_with_their_score(client):
    unpublish(client, rule_named(client, OUT_OF_BOX_SIMILAR_LEAD_NAMES)["id"])  # this test's rule alone
    published_rule(client, "leads", {"base_column": "full_name", "criterion": "similar"})
    first = create_lead(client, first_name="Jonathan", last_name="Smith")

    matches = assert_duplicate(post_lead(client, first_name="Jonathon", last_name="Smith"), "leads", [first["id"]])

    assert 0.9 <= matches[0]["score"] < 1
    assert matches[0]["reasons"][0]["threshold"] == 0.9
    assert matches[0]["reasons"][0]["score"] == matches[0]["score"]
    # the same first name and last initial, but too different to be the same person
    assert post_lead(client, first_name="Jonathan", last_name="Sanders").status_code == 201


def test_a_similar_condition_uses_the_rules_threshold(client):
    unpublish(client, rule_named(client, OUT_OF_BOX_SIMILAR_LEAD_NAMES)["id"])  # this test's rule alone
    published_rule(client, "leads", {"base_column": "full_name", "criterion": "similar", "threshold": 0.98})
    create_lead(client, first_name="Jonathan", last_name="Smith")

    assert post_lead(client, first_name="Jonathon", last_name="Smith").status_code == 201


def test_a_blank_value_never_matches_in_a_one_condition_rule(client):
    published_rule(client, "leads", {"base_column": "job_title", "criterion": "exact_match", "ignore_blank": False})
    create_lead(client, job_title=None)

    assert post_lead(client, job_title=None).status_code == 201


@pytest.mark.parametrize("ignore_blank", [False, True], ids=["blanks-match", "blanks-ignored"])
def test_in_a_two_condition_rule_blank_matches_blank_unless_blanks_are_ignored(client, ignore_blank):
    published_rule(
        client,
        "leads",
        {"base_column": "company_name", "criterion": "exact_match"},
        {"base_column": "job_title", "criterion": "exact_match", "ignore_blank": ignore_blank},
    )
    first = create_lead(client, company_name="Blank Co", job_title=None)

    response = post_lead(client, company_name="Blank Co", job_title=None)

    if ignore_blank:
        assert response.status_code == 201, response.text
    else:
        assert_duplicate(response, "leads", [first["id"]])
    assert post_lead(client, company_name="Blank Co", job_title="CEO").status_code == 201


def test_a_rule_can_match_leads_against_contacts(client):
    create_rule_response = create_rule(
        client,
        name="Leads who are already contacts",
        base_table="leads",
        matching_table="contacts",
        conditions=[{"base_column": "email", "criterion": "exact_match"}],
    )
    publish(client, create_rule_response["id"])
    contact = post(
        client, "contacts", {"first_name": "Eva", "last_name": "Existing", "email": "eva@example.com"}
    ).json()

    matches = assert_duplicate(post_lead(client, email="EVA@example.com"), "leads", [contact["id"]])

    assert matches[0]["table"] == "contacts"
    assert matches[0]["rule_name"] == "Leads who are already contacts"
    assert (matches[0]["name"], matches[0]["email"]) == ("Eva Existing", "eva@example.com")


# ----------------------------------------------------------------------------------------------
# saving: the refusal, updates, suppression


def test_a_duplicate_lead_is_refused_with_the_match_and_nothing_is_saved(client, database):
    first = create_lead(
        client,
        email="dup@example.com",
        first_name="Ana",
        last_name="García",
        business_phone="+34 910 000 001",
        address_city="Madrid",
    )
    before = snapshot(database)

    response = post_lead(client, email="dup@example.com")

    [match] = assert_duplicate(response, "leads", [first["id"]])
    assert response.json()["error"]["message"] == (
        "No lead record was created or updated because a duplicate of the current record already exists."
    )
    assert (match["name"], match["email"], match["phone"], match["city"]) == (
        "Ana García",
        "dup@example.com",
        "+34 910 000 001",
        "Madrid",
    )
    assert match["owner_name"] == "Ada Admin"
    assert match["rule_name"] == "Leads with the same email address"
    assert match["score"] == 1.0
    assert snapshot(database) == before


def test_an_update_that_makes_a_duplicate_is_refused_and_changes_nothing(client, database):
    first = create_lead(client, email="taken@example.com")
    second = create_lead(client)
    before = snapshot(database)

    response = client.patch(
        f"{API}/leads/{second['id']}",
        json={"email": "taken@example.com"},
        headers={"If-Match": f'"{second["row_version"]}"'},
    )

    assert_duplicate(response, "leads", [first["id"]])
    assert snapshot(database) == before


def test_an_update_of_a_record_never_matches_itself(client):
    lead = create_lead(client, email="me@example.com")

    response = client.patch(f"{API}/leads/{lead['id']}", json={"email": "ME@example.com"})

    assert response.status_code == 200, response.text


def test_suppress_duplicate_detection_saves_anyway(client, database):
    first = create_lead(client, email="twice@example.com")
    second = create_lead(client)

    created = post(client, "leads", lead_data(email="twice@example.com"), suppress_duplicate_detection="true")
    updated = client.patch(
        f"{API}/leads/{second['id']}",
        json={"email": "twice@example.com"},
        params={"suppress_duplicate_detection": "true"},
    )

    assert created.status_code == 201, created.text
    assert updated.status_code == 200, updated.text
    emails = [get_lead(client, lead_id)["email"] for lead_id in (first["id"], created.json()["id"], second["id"])]
    assert emails == ["twice@example.com"] * 3


# ----------------------------------------------------------------------------------------------
# detection settings


def _put_settings(client: TestClient, **changes: Any):
    etag = client.get(DETECTION_SETTINGS).headers["ETag"]
    return client.put(DETECTION_SETTINGS, json={**_settings_body(client), **changes}, headers={"If-Match": etag})


def test_duplicate_detection_turned_off_globally_lets_every_duplicate_save(client):
    create_lead(client, email="off@example.com")
    post(client, "contacts", {"last_name": "Off", "email": "off@example.com"})

    response = _put_settings(client, duplicate_detection_enabled=False)

    assert response.status_code == 200, response.text
    assert response.json()["duplicate_detection_enabled"] is False
    assert response.headers["ETag"] == f'"{response.json()["row_version"]}"'
    assert post_lead(client, email="off@example.com").status_code == 201
    assert post(client, "contacts", {"last_name": "Off", "email": "off@example.com"}).status_code == 201
    assert client.post(CHECK, json={"table": "leads", "record": {"email": "off@example.com"}}).json()["matches"] == []


def test_duplicate_detection_turned_off_for_one_table_still_runs_on_the_others(client):
    create_lead(client, email="half@example.com")
    contact = post(client, "contacts", {"last_name": "Half", "email": "half@example.com"}).json()

    assert _put_settings(client, detect_duplicates_leads=False).status_code == 200

    assert post_lead(client, email="half@example.com").status_code == 201
    assert_duplicate(
        post(client, "contacts", {"last_name": "Other", "email": "half@example.com"}), "contacts", [contact["id"]]
    )


def test_detection_settings_refuse_a_stale_etag_and_change_nothing(client, database):
    current = client.get(DETECTION_SETTINGS)
    assert _put_settings(client, detect_duplicates_contacts=False).status_code == 200
    before = rules_snapshot(database)
    response = client.put(
        DETECTION_SETTINGS,
        json={**_settings_body(client), "duplicate_detection_enabled": False},
        headers={"If-Match": current.headers["ETag"]},
    )

    assert_error(response, 412, "stale_etag")
    assert rules_snapshot(database) == before


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        pytest.param({"default_phone_region": "ZZ"}, "invalid_value", id="unknown-region"),
        pytest.param({"duplicate_experience": "fancy"}, "invalid_option", id="unknown-experience"),
        pytest.param({"detect_duplicates_invoices": True}, "unknown_field", id="unknown-table"),
    ],
)
def test_bad_detection_settings_are_refused_and_change_nothing(client, database, changes, code):
    before = rules_snapshot(database)

    response = _put_settings(client, **changes)

    assert_error(response, 422, code)
    assert rules_snapshot(database) == before


# ----------------------------------------------------------------------------------------------
# the check endpoint


def test_check_returns_the_matches_with_rule_reasons_and_score_and_saves_nothing(client, database):
    contact = post(
        client,
        "contacts",
        {
            "first_name": "Rosa",
            "last_name": "Prieto",
            "email": "rosa@example.com",
            "business_phone": "+34 911 222 333",
            "address_city": "Lugo",
        },
    ).json()
    before = rules_snapshot(database)

    response = client.post(CHECK, json={"table": "contacts", "record": {"first_name": "ROSA", "last_name": "prieto"}})

    assert response.status_code == 200, response.text
    [match] = response.json()["matches"]
    assert match["id"] == contact["id"] and match["table"] == "contacts"
    assert (match["name"], match["email"], match["phone"], match["city"]) == (
        "Rosa Prieto",
        "rosa@example.com",
        "+34 911 222 333",
        "Lugo",
    )
    assert match["rule_name"] == "Contacts with the same first name and last name"
    assert match["score"] == 1.0
    assert [(r["base_column"], r["value"], r["matching_value"]) for r in match["reasons"]] == [
        ("first_name", "ROSA", "Rosa"),
        ("last_name", "prieto", "Prieto"),
    ]
    assert rules_snapshot(database) == before


def test_check_of_a_record_being_edited_does_not_match_itself(client):
    contact = post(client, "contacts", {"last_name": "Self", "email": "self@example.com"}).json()

    alone = client.post(
        CHECK, json={"table": "contacts", "record": {"email": "self@example.com"}, "record_id": contact["id"]}
    )
    other = client.post(CHECK, json={"table": "contacts", "record": {"email": "self@example.com"}})

    assert alone.json()["matches"] == []
    assert [m["id"] for m in other.json()["matches"]] == [contact["id"]]


def test_check_with_no_match_returns_an_empty_list(client):
    response = client.post(CHECK, json={"table": "accounts", "record": {"name": "Nobody Ltd"}})
    assert response.status_code == 200 and response.json() == {"matches": []}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        pytest.param({"table": "invoices", "record": {}}, "invalid_option", id="unknown-table"),
        pytest.param({"table": "leads"}, "required", id="no-record"),
        pytest.param({"table": "leads", "record": {}, "record_id": "not-an-id"}, "invalid_id", id="bad-record-id"),
    ],
)
def test_a_bad_check_request_is_refused(client, body, code):
    assert_error(client.post(CHECK, json=body), 422, code)


def test_check_refuses_a_value_that_is_not_a_date_for_a_date_rule(client, database):
    published_rule(client, "leads", {"base_column": "closed_at", "criterion": "same_date"})
    before = rules_snapshot(database)

    response = client.post(CHECK, json={"table": "leads", "record": {"closed_at": "yesterday"}})

    error = assert_error(response, 422, "invalid_value")
    assert "closed_at" in error["message"]
    assert rules_snapshot(database) == before


def test_check_refuses_a_column_the_table_does_not_have(client):
    response = client.post(CHECK, json={"table": "leads", "record": {"emial": "ana@example.com"}})

    error = assert_error(response, 422, "unknown_column")
    assert "emial" in error["message"]


# ----------------------------------------------------------------------------------------------
# access: a match the user may not read is not revealed


def test_a_match_in_another_business_unit_is_not_revealed_to_a_salesperson(client, database):
    colleague = make_user(database, "colleague@example.com", "Salesperson", "Sales Spain")
    seller = make_user(database, "seller@example.com", "Salesperson", "Sales Spain")
    mexico = make_user(database, "mexico@example.com", "Salesperson", "Sales Mexico")
    lead = create_lead(client, email="private@example.com", owner_user_id=colleague["id"])
    as_seller = {"Authorization": seller["Authorization"]}
    as_mexico = {"Authorization": mexico["Authorization"]}
    check = {"table": "leads", "record": {"email": "private@example.com"}}

    assert [m["id"] for m in client.post(CHECK, json=check, headers=as_seller).json()["matches"]] == [lead["id"]]
    assert client.post(CHECK, json=check, headers=as_mexico).json()["matches"] == []
    assert_duplicate(
        client.post(f"{API}/leads", json=lead_data(email="private@example.com"), headers=as_seller),
        "leads",
        [lead["id"]],
    )
    created = client.post(f"{API}/leads", json=lead_data(email="private@example.com"), headers=as_mexico)
    assert created.status_code == 201, created.text
    assert counts(database)["leads"] == 2


# ----------------------------------------------------------------------------------------------
# exclude inactive, over HTTP


@pytest.mark.parametrize("close", ["qualify", "disqualify"])
@pytest.mark.parametrize("exclude_inactive", [True, False], ids=["excluding-inactive", "including-inactive"])
def test_exclude_inactive_skips_closed_leads_and_without_it_they_match(client, close, exclude_inactive):
    published_rule(
        client, "leads", {"base_column": "website", "criterion": "exact_match"}, exclude_inactive=exclude_inactive
    )
    closed = create_lead(client, website="https://closed.example")
    qualify(client, closed["id"]) if close == "qualify" else disqualify(client, closed["id"])

    response = post_lead(client, website="https://closed.example")

    if exclude_inactive:
        assert response.status_code == 201, response.text
    else:
        assert_duplicate(response, "leads", [closed["id"]])
