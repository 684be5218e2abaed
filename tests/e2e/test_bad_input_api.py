"""Bad input over HTTP: each refusal has the one error shape, a stable code, and changes nothing."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import update

from leadflow.customers.models import Account, CustomerState
from tests.e2e.helpers import API, assert_error, create_lead, field_errors, snapshot
from tests.factories import lead_data


def _without(data: dict, *fields: str) -> dict:
    return {key: value for key, value in data.items() if key not in fields}


@pytest.mark.parametrize(
    ("payload", "field", "code"),
    [
        (_without(lead_data(), "topic"), "topic", "required"),
        (lead_data(topic="   "), "topic", "required"),
        (lead_data(topic=None) | {"topic": None}, "topic", "required"),
        (_without(lead_data(), "last_name"), "last_name", "required"),
        (lead_data(last_name=""), "last_name", "required"),
        (lead_data(email="ana.at.example.com"), "email", "invalid_email"),
        (lead_data(email="ana@"), "email", "invalid_email"),
        (lead_data(budget_amount=-1), "budget_amount", "out_of_range"),
        (lead_data(budget_amount="-0.01"), "budget_amount", "out_of_range"),
        (lead_data(budget_amount="1000000000001"), "budget_amount", "out_of_range"),
        (lead_data(budget_amount=1e12 + 1), "budget_amount", "out_of_range"),
        (lead_data(budget_amount="1.00001"), "budget_amount", "too_precise"),
        (lead_data(rating="lukewarm"), "rating", "invalid_option"),
        (lead_data(lead_source="carrier pigeon"), "lead_source", "invalid_option"),
        (lead_data(purchase_timeframe="someday"), "purchase_timeframe", "invalid_option"),
        (lead_data(need="desperate"), "need", "invalid_option"),
        (lead_data(favourite_colour="blue"), "favourite_colour", "unknown_field"),
        (lead_data(qualification_comments="x" * 2001), "qualification_comments", "too_long"),
        (lead_data(topic="x" * 301), "topic", "too_long"),
        (lead_data(campaign_id="not-a-uuid"), "campaign_id", "invalid_id"),
    ],
)
def test_an_invalid_lead_is_refused_with_a_field_error_and_nothing_is_stored(client, database, payload, field, code):
    create_lead(client)
    before = snapshot(database)

    response = client.post(f"{API}/leads", json=payload)

    error = assert_error(response, 422, code)
    assert field_errors(error) == {field: code}
    assert error["details"]["fields"][0]["message"].endswith(".")
    assert snapshot(database) == before


def test_budget_at_the_limits_is_accepted(client):
    assert create_lead(client, budget_amount="0")["budget_amount"] is not None
    assert create_lead(client, budget_amount="1000000000000")["budget_amount"] is not None


def test_several_bad_fields_are_all_named(client, database):
    before = snapshot(database)

    response = client.post(
        f"{API}/leads", json=_without(lead_data(email="nope", rating="lukewarm"), "topic", "last_name")
    )

    error = assert_error(response, 422, "validation_failed")
    assert field_errors(error) == {
        "topic": "required",
        "last_name": "required",
        "email": "invalid_email",
        "rating": "invalid_option",
    }
    assert snapshot(database) == before


def test_a_body_that_is_not_json_is_refused(client, database):
    before = snapshot(database)

    response = client.post(f"{API}/leads", content=b"{not json", headers={"Content-Type": "application/json"})

    error = assert_error(response, 422, "invalid_json")
    assert "JSON" in error["message"]
    assert snapshot(database) == before


def test_a_json_body_that_is_not_an_object_is_refused(client, database):
    before = snapshot(database)

    response = client.post(f"{API}/leads", json=[1, 2])

    assert_error(response, 422, "invalid_value")
    assert snapshot(database) == before


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"email": "broken"}, "email", "invalid_email"),
        ({"budget_amount": "-5"}, "budget_amount", "out_of_range"),
        ({"rating": "lukewarm"}, "rating", "invalid_option"),
        ({"last_name": None}, "last_name", "required"),
        ({"state": "qualified"}, "state", "unknown_field"),
        ({"qualifying_opportunity_id": str(uuid.uuid4())}, "qualifying_opportunity_id", "unknown_field"),
    ],
)
def test_an_invalid_change_is_refused_and_the_lead_is_unchanged(client, database, change, field, code):
    lead = create_lead(client)
    before = snapshot(database)

    response = client.patch(f"{API}/leads/{lead['id']}", json=change)

    error = assert_error(response, 422, code)
    assert field_errors(error) == {field: code}
    assert snapshot(database) == before


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/leads/{id}", None),
        ("PATCH", "/leads/{id}", {"rating": "cold"}),
        ("DELETE", "/leads/{id}", None),
        ("POST", "/leads/{id}/qualify", {}),
        ("POST", "/leads/{id}/disqualify", {"status_reason": "lost"}),
        ("POST", "/leads/{id}/reactivate", None),
        ("GET", "/leads/{id}/process", None),
        ("GET", "/leads/{id}/notes", None),
    ],
)
def test_an_unknown_lead_id_is_404_lead_not_found(client, database, method, path, body):
    create_lead(client)
    before = snapshot(database)
    missing = uuid.uuid4()

    response = client.request(method, API + path.format(id=missing), json=body)

    error = assert_error(response, 404, "lead_not_found")
    assert str(missing) in error["message"]
    assert snapshot(database) == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/leads/not-a-uuid"),
        ("PATCH", "/leads/12345"),
        ("DELETE", "/leads/xyz"),
        ("POST", "/leads/1/qualify"),
        ("GET", "/accounts/nope"),
        ("GET", "/opportunities/nope/process"),
    ],
)
def test_a_malformed_id_is_refused_with_invalid_id(client, database, method, path):
    create_lead(client)
    before = snapshot(database)

    response = client.request(method, API + path, json={} if method in ("PATCH", "POST") else None)

    error = assert_error(response, 422, "invalid_id")
    assert "id" in next(iter(field_errors(error)))
    assert snapshot(database) == before


def test_an_unknown_address_is_a_404_in_the_error_shape(client):
    assert_error(client.get(f"{API}/nothing-here"), 404, "not_found")
    assert_error(client.put(f"{API}/leads"), 405, "method_not_allowed")


@pytest.mark.parametrize(
    ("field", "code"),
    [
        ("campaign_id", "campaign_id_not_found"),
        ("owner_user_id", "owner_user_id_not_found"),
        ("parent_account_id", "parent_account_id_not_found"),
        ("parent_contact_id", "parent_contact_id_not_found"),
    ],
)
def test_a_lead_naming_a_missing_record_is_refused(client, database, field, code):
    before = snapshot(database)

    response = client.post(f"{API}/leads", json=lead_data(**{field: str(uuid.uuid4())}))

    error = assert_error(response, 422, code)
    assert field_errors(error) == {field: "not_found"}
    assert snapshot(database) == before


def test_qualify_with_a_missing_existing_account_is_refused_and_changes_nothing(client, database):
    lead = create_lead(client)
    before = snapshot(database)

    response = client.post(f"{API}/leads/{lead['id']}/qualify", json={"existing_account_id": str(uuid.uuid4())})

    error = assert_error(response, 422, "existing_account_id_not_found")
    assert field_errors(error) == {"existing_account_id": "not_found"}
    assert snapshot(database) == before


def test_qualify_with_an_inactive_existing_account_is_refused_and_changes_nothing(client, database):
    account = client.post(f"{API}/accounts", json={"name": "Old Co"}).json()
    with database.unit_of_work() as uow:
        uow.session.execute(
            update(Account).where(Account.id == uuid.UUID(account["id"])).values(state=CustomerState.INACTIVE)
        )
        uow.commit()
    lead = create_lead(client)
    before = snapshot(database)

    response = client.post(f"{API}/leads/{lead['id']}/qualify", json={"existing_account_id": account["id"]})

    assert_error(response, 422, "existing_account_id_inactive")
    assert snapshot(database) == before


def test_qualify_with_an_unknown_option_is_refused_and_changes_nothing(client, database):
    lead = create_lead(client)
    before = snapshot(database)

    response = client.post(f"{API}/leads/{lead['id']}/qualify", json={"create_acount": False})

    error = assert_error(response, 422, "unknown_field")
    assert field_errors(error) == {"create_acount": "unknown_field"}
    assert snapshot(database) == before


def test_qualify_with_six_opportunities_is_refused_and_changes_nothing(client, database):
    lead = create_lead(client)
    before = snapshot(database)

    response = client.post(
        f"{API}/leads/{lead['id']}/qualify", json={"opportunities": [{"name": f"Deal {n}"} for n in range(6)]}
    )

    error = assert_error(response, 422, "too_many")
    assert field_errors(error) == {"opportunities": "too_many"}
    assert snapshot(database) == before


@pytest.mark.parametrize(("currency", "code"), [("XYZ", "invalid_currency"), ("JPY", "currency_not_enabled")])
def test_an_unknown_currency_is_refused_on_create_and_on_qualify(client, database, currency, code):
    lead = create_lead(client)
    before = snapshot(database)

    on_create = client.post(f"{API}/leads", json=lead_data(currency=currency))
    on_qualify = client.post(f"{API}/leads/{lead['id']}/qualify", json={"opportunity_currency": currency})
    on_patch = client.patch(f"{API}/leads/{lead['id']}", json={"currency": currency})

    for response in (on_create, on_qualify, on_patch):
        error = assert_error(response, 422, code)
        assert currency in error["message"]
    assert snapshot(database) == before


def test_a_currency_code_of_the_wrong_length_is_refused(client, database):
    before = snapshot(database)

    response = client.post(f"{API}/leads", json=lead_data(currency="EURO"))

    error = assert_error(response, 422, "too_long")
    assert field_errors(error) == {"currency": "too_long"}
    assert snapshot(database) == before


def test_an_unknown_currency_in_one_of_several_opportunities_refuses_them_all(client, database):
    settings = client.get(f"{API}/settings/qualification")
    client.put(
        f"{API}/settings/qualification",
        json={
            "qualification_experience": "per_record",
            "create_records_on_qualify": True,
            "account_creation": "automatic",
            "contact_creation": "automatic",
            "opportunity_creation": "seller",
        },
        headers={"If-Match": settings.headers["ETag"]},
    )
    lead = create_lead(client)
    before = snapshot(database)

    response = client.post(
        f"{API}/leads/{lead['id']}/qualify",
        json={"opportunities": [{"name": "Fine", "currency": "USD"}, {"name": "Bad", "currency": "XYZ"}]},
    )

    assert_error(response, 422, "invalid_currency")
    assert snapshot(database) == before


def test_too_many_leads_in_one_bulk_request_are_refused(client, database, settings):
    # a small cap keeps the request under the body-size guard of the test settings (64 KiB)
    settings.max_bulk_leads = 10
    lead = create_lead(client)
    before = snapshot(database)
    lead_ids = [lead["id"]] + [str(uuid.uuid4()) for _ in range(settings.max_bulk_leads)]

    response = client.post(f"{API}/leads/qualify", json={"lead_ids": lead_ids})

    error = assert_error(response, 422, "too_many_leads")
    assert "10" in error["message"]
    assert snapshot(database) == before
    accepted = client.post(f"{API}/leads/qualify", json={"lead_ids": lead_ids[:10]})
    assert accepted.status_code == 200 and accepted.json()["qualified"] == 1
