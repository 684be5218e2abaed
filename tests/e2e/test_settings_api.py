"""Qualification settings over HTTP (§6) and how they shape qualify."""

from __future__ import annotations

import pytest

from tests.e2e.helpers import (
    API,
    assert_error,
    counts,
    create_lead,
    field_errors,
    get_lead,
    get_record,
    money,
    qualify,
    snapshot,
)

DEFAULTS = {
    "qualification_experience": "legacy",
    "create_records_on_qualify": True,
    "account_creation": "automatic",
    "contact_creation": "automatic",
    "opportunity_creation": "automatic",
}


def _put_settings(client, **changes):
    current = client.get(f"{API}/settings/qualification")
    body = {key: current.json()[key] for key in DEFAULTS}
    body.update(changes)
    response = client.put(f"{API}/settings/qualification", json=body, headers={"If-Match": current.headers["ETag"]})
    assert response.status_code == 200, response.text
    return response


def test_the_default_settings_create_all_three_records_automatically(client):
    response = client.get(f"{API}/settings/qualification")

    assert response.status_code == 200
    body = response.json()
    assert {key: body[key] for key in DEFAULTS} == DEFAULTS
    assert response.headers["ETag"] == f'"{body["row_version"]}"'


def test_put_replaces_the_settings_and_returns_a_new_etag(client):
    before = client.get(f"{API}/settings/qualification")

    response = _put_settings(client, create_records_on_qualify=False)

    assert response.json()["create_records_on_qualify"] is False
    assert response.headers["ETag"] != before.headers["ETag"]
    assert client.get(f"{API}/settings/qualification").json()["create_records_on_qualify"] is False


def test_put_with_a_stale_etag_is_refused_and_changes_nothing(client):
    stale = client.get(f"{API}/settings/qualification").headers["ETag"]
    _put_settings(client, opportunity_creation="seller")
    current = client.get(f"{API}/settings/qualification").json()

    response = client.put(
        f"{API}/settings/qualification",
        json={**DEFAULTS, "create_records_on_qualify": False},
        headers={"If-Match": stale},
    )

    assert_error(response, 412, "stale_etag")
    assert client.get(f"{API}/settings/qualification").json() == current


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"account_creation": "sometimes"}, "account_creation", "invalid_option"),
        ({"qualification_experience": "modern"}, "qualification_experience", "invalid_option"),
        ({"duplicate_everything": True}, "duplicate_everything", "unknown_field"),
    ],
)
def test_invalid_settings_are_refused_and_change_nothing(client, change, field, code):
    before = client.get(f"{API}/settings/qualification").json()

    response = client.put(f"{API}/settings/qualification", json={**DEFAULTS, **change})

    error = assert_error(response, 422, code)
    assert field in field_errors(error)
    assert client.get(f"{API}/settings/qualification").json() == before


def test_settings_must_be_sent_whole(client):
    before = client.get(f"{API}/settings/qualification").json()

    response = client.put(f"{API}/settings/qualification", json={"create_records_on_qualify": False})

    error = assert_error(response, 422, "required")
    assert "account_creation" in field_errors(error)
    assert client.get(f"{API}/settings/qualification").json() == before


def test_patch_changes_only_the_settings_sent(client):
    before = client.get(f"{API}/settings/qualification")

    response = client.patch(
        f"{API}/settings/qualification",
        json={"qualification_experience": "per_record", "account_creation": "seller"},
        headers={"If-Match": before.headers["ETag"]},
    )

    assert response.status_code == 200, response.text
    expected = {
        **{key: before.json()[key] for key in DEFAULTS},
        "qualification_experience": "per_record",
        "account_creation": "seller",
    }
    assert {key: response.json()[key] for key in DEFAULTS} == expected
    assert response.headers["ETag"] != before.headers["ETag"]
    assert {key: client.get(f"{API}/settings/qualification").json()[key] for key in DEFAULTS} == expected


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"account_creation": None}, "account_creation", "invalid_option"),
        ({"account_creation": "sometimes"}, "account_creation", "invalid_option"),
        ({"duplicate_everything": True}, "duplicate_everything", "unknown_field"),
    ],
)
def test_a_bad_patch_is_refused_and_changes_nothing(client, change, field, code):
    before = client.get(f"{API}/settings/qualification").json()

    response = client.patch(f"{API}/settings/qualification", json=change)

    error = assert_error(response, 422, code)
    assert field in field_errors(error)
    assert client.get(f"{API}/settings/qualification").json() == before


def test_patch_with_a_stale_etag_is_refused_and_changes_nothing(client):
    stale = client.get(f"{API}/settings/qualification").headers["ETag"]
    _put_settings(client, opportunity_creation="seller")
    current = client.get(f"{API}/settings/qualification").json()

    response = client.patch(
        f"{API}/settings/qualification", json={"contact_creation": "seller"}, headers={"If-Match": stale}
    )

    assert_error(response, 412, "stale_etag")
    assert client.get(f"{API}/settings/qualification").json() == current


def test_patch_of_the_duplicate_detection_settings_keeps_the_others(client):
    before = client.get(f"{API}/settings/duplicate-detection").json()

    response = client.patch(f"{API}/settings/duplicate-detection", json={"default_phone_region": "gb"})

    assert response.status_code == 200, response.text
    after = client.get(f"{API}/settings/duplicate-detection").json()
    assert after["default_phone_region"] == "GB"
    assert {key: value for key, value in after.items() if key not in ("default_phone_region", "row_version")} == {
        key: value for key, value in before.items() if key not in ("default_phone_region", "row_version")
    }


def test_legacy_prompt_setting_refuses_qualify_without_choices_and_changes_nothing(client, database):
    _put_settings(client, create_records_on_qualify=False)
    lead = create_lead(client)
    before = snapshot(database)

    response = client.post(f"{API}/leads/{lead['id']}/qualify", json={})

    error = assert_error(response, 422, "qualification_choice_required")
    assert set(error["details"]["choices"]) == {"account", "contact", "opportunity"}
    assert snapshot(database) == before
    assert get_lead(client, lead["id"])["state"] == "open"


def test_legacy_prompt_setting_refuses_a_partial_choice(client, database):
    _put_settings(client, create_records_on_qualify=False)
    lead = create_lead(client)
    before = snapshot(database)

    response = client.post(f"{API}/leads/{lead['id']}/qualify", json={"create_account": True})

    error = assert_error(response, 422, "qualification_choice_required")
    assert set(error["details"]["choices"]) == {"contact", "opportunity"}
    assert snapshot(database) == before


def test_legacy_prompt_setting_qualifies_with_explicit_choices(client, database):
    _put_settings(client, create_records_on_qualify=False)
    lead = create_lead(client)
    before = counts(database)

    body = qualify(client, lead["id"], create_account=True, create_contact=False, create_opportunity=True)

    assert body["lead"]["state"] == "qualified"
    assert body["created"]["account_id"] and body["created"]["contact_id"] is None
    assert len(body["created"]["opportunity_ids"]) == 1
    after = counts(database)
    assert (after["accounts"], after["contacts"], after["opportunities"]) == (
        before["accounts"] + 1,
        before["contacts"],
        before["opportunities"] + 1,
    )


def test_per_record_seller_choice_for_the_contact_only(client, database):
    _put_settings(client, qualification_experience="per_record", contact_creation="seller")
    lead = create_lead(client)
    before = snapshot(database)

    refused = client.post(f"{API}/leads/{lead['id']}/qualify", json={})
    error = assert_error(refused, 422, "qualification_choice_required")
    assert error["details"]["choices"] == ["contact"]
    assert snapshot(database) == before

    created = qualify(client, lead["id"], create_contact=False)["created"]
    assert created["account_id"] and created["contact_id"] is None and len(created["opportunity_ids"]) == 1


def test_per_record_experience_ignores_the_legacy_switch(client):
    _put_settings(client, qualification_experience="per_record", create_records_on_qualify=False)
    lead = create_lead(client)

    created = qualify(client, lead["id"])["created"]

    assert created["account_id"] and created["contact_id"] and len(created["opportunity_ids"]) == 1


def test_seller_opportunity_creation_allows_up_to_five_opportunities(client, database):
    _put_settings(client, qualification_experience="per_record", opportunity_creation="seller")
    lead = create_lead(client)
    specs = [
        {"name": f"Phase {n}", "estimated_revenue": str(1000 * n), "estimated_close_date": f"2030-0{n}-15"}
        for n in range(1, 5)
    ] + [{"currency": "USD"}]
    before = counts(database)

    body = qualify(client, lead["id"], opportunities=specs)

    opportunity_ids = body["created"]["opportunity_ids"]
    assert len(opportunity_ids) == 5 and len(set(opportunity_ids)) == 5
    assert counts(database)["opportunities"] == before["opportunities"] + 5
    assert counts(database)["accounts"] == before["accounts"] + 1
    opportunities = [get_record(client, "opportunities", oid) for oid in opportunity_ids]
    assert [o["name"] for o in opportunities[:4]] == ["Phase 1", "Phase 2", "Phase 3", "Phase 4"]
    assert [money(o["estimated_revenue"]) for o in opportunities[:4]] == [money(1000 * n) for n in range(1, 5)]
    assert opportunities[0]["estimated_close_date"] == "2030-01-15"
    # a spec that leaves the name out takes the lead's topic and budget
    assert opportunities[4]["name"] == lead["topic"]
    assert money(opportunities[4]["estimated_revenue"]) == money(lead["budget_amount"])
    assert {o["originating_lead_id"] for o in opportunities} == {lead["id"]}
    assert {o["customer_id"] for o in opportunities} == {body["created"]["account_id"]}
    assert body["lead"]["qualifying_opportunity_id"] == opportunity_ids[0]


def test_six_opportunities_are_refused_and_nothing_changes(client, database):
    _put_settings(client, qualification_experience="per_record", opportunity_creation="seller")
    lead = create_lead(client)
    before = snapshot(database)

    response = client.post(
        f"{API}/leads/{lead['id']}/qualify", json={"opportunities": [{"name": f"Deal {n}"} for n in range(6)]}
    )

    error = assert_error(response, 422, "too_many")
    assert "opportunities" in field_errors(error)
    assert snapshot(database) == before


def test_several_opportunities_are_refused_when_opportunity_creation_is_automatic(client, database):
    lead = create_lead(client)
    before = snapshot(database)

    response = client.post(
        f"{API}/leads/{lead['id']}/qualify", json={"opportunities": [{"name": "One"}, {"name": "Two"}]}
    )

    assert_error(response, 422, "multiple_opportunities_not_allowed")
    assert snapshot(database) == before


def test_seller_opportunity_creation_with_an_empty_list_creates_none(client, database):
    _put_settings(client, qualification_experience="per_record", opportunity_creation="seller")
    lead = create_lead(client)
    before = counts(database)

    body = qualify(client, lead["id"], opportunities=[])

    assert body["created"]["opportunity_ids"] == []
    assert counts(database)["opportunities"] == before["opportunities"]
    assert client.get(f"{API}/leads/{lead['id']}/process").json()["active_stage"] == "qualify"


def test_opportunities_listed_with_create_opportunity_false_are_refused(client, database):
    _put_settings(client, qualification_experience="per_record", opportunity_creation="seller")
    lead = create_lead(client)
    before = snapshot(database)

    response = client.post(
        f"{API}/leads/{lead['id']}/qualify",
        json={"create_opportunity": False, "opportunities": [{"name": "One"}]},
    )

    assert_error(response, 422, "contradictory_options")
    assert snapshot(database) == before
