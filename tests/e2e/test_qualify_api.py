"""Qualify a lead over HTTP (§2, §7): the records created, the options of §2.8, the process flow."""

from __future__ import annotations

import uuid

from tests.e2e.helpers import (
    API,
    add_note,
    assert_error,
    base_currency_id,
    counts,
    create_lead,
    currency_id,
    get_lead,
    get_record,
    make_campaign,
    money,
    qualify,
    snapshot,
)


def _account(client, **fields):
    response = client.post(f"{API}/accounts", json={"name": "Existing Co", **fields})
    assert response.status_code == 201, response.text
    return response.json()


def _contact(client, **fields):
    response = client.post(f"{API}/contacts", json={"first_name": "Eva", "last_name": "Existing", **fields})
    assert response.status_code == 201, response.text
    return response.json()


def test_qualify_creates_account_contact_and_opportunity_mapped_from_the_lead(client, database):
    lead = create_lead(
        client,
        topic="100 office chairs",
        first_name="Ana",
        last_name="García",
        company_name="Muebles Ibéricos S.L.",
        email="ana@muebles.example",
        business_phone="+34 910 000 001",
        mobile_phone="+34 600 000 002",
        job_title="Purchasing manager",
        website="https://muebles.example",
        address_line1="Calle Mayor 1",
        address_city="Madrid",
        address_postal_code="28013",
        address_country="Spain",
        budget_amount="25000.50",
        description="Needs ergonomic chairs.",
    )
    before = counts(database)

    response = client.post(f"{API}/leads/{lead['id']}/qualify", json={})

    assert response.status_code == 200, response.text
    body = response.json()
    created = body["created"]
    assert created["account_id"] and created["contact_id"] and len(created["opportunity_ids"]) == 1
    after = counts(database)
    assert (after["accounts"], after["contacts"], after["opportunities"]) == (
        before["accounts"] + 1,
        before["contacts"] + 1,
        before["opportunities"] + 1,
    )

    account = get_record(client, "accounts", created["account_id"])
    assert account["name"] == "Muebles Ibéricos S.L."
    assert account["website"] == "https://muebles.example"
    assert account["telephone"] == "+34 910 000 001"
    assert account["address_line1"] == "Calle Mayor 1" and account["address_city"] == "Madrid"
    assert account["address_postal_code"] == "28013" and account["address_country"] == "Spain"
    assert account["originating_lead_id"] == lead["id"]
    assert account["state"] == "active"

    contact = get_record(client, "contacts", created["contact_id"])
    assert (contact["first_name"], contact["last_name"], contact["full_name"]) == ("Ana", "García", "Ana García")
    assert contact["email"] == "ana@muebles.example"
    assert contact["job_title"] == "Purchasing manager"
    assert contact["business_phone"] == "+34 910 000 001" and contact["mobile_phone"] == "+34 600 000 002"
    assert contact["address_city"] == "Madrid"
    assert contact["account_id"] == account["id"]
    assert contact["originating_lead_id"] == lead["id"]

    opportunity = get_record(client, "opportunities", created["opportunity_ids"][0])
    assert opportunity["name"] == "100 office chairs"
    assert opportunity["customer_kind"] == "account" and opportunity["customer_id"] == account["id"]
    assert opportunity["parent_account_id"] == account["id"]
    assert opportunity["parent_contact_id"] == contact["id"]
    assert money(opportunity["estimated_revenue"]) == money("25000.50")
    assert opportunity["currency_id"] == base_currency_id(database)
    assert opportunity["originating_lead_id"] == lead["id"]
    assert opportunity["state"] == "open"
    assert opportunity["purchase_timeframe"] == "this_quarter"
    assert opportunity["purchase_process"] == "committee"
    assert opportunity["decision_maker"] is True and opportunity["need"] == "must_have"
    assert opportunity["qualification_comments"] == lead["qualification_comments"]

    qualified = get_lead(client, lead["id"])
    assert body["lead"] == qualified
    assert qualified["state"] == "qualified" and qualified["status_reason"] == "qualified"
    assert qualified["qualifying_opportunity_id"] == opportunity["id"]
    assert qualified["parent_account_id"] == account["id"]
    assert qualified["parent_contact_id"] == contact["id"]
    assert qualified["closed_at"] is not None


def test_the_qualify_response_carries_the_new_etag_of_the_lead(client):
    lead = create_lead(client)

    response = client.post(f"{API}/leads/{lead['id']}/qualify", json={})

    assert response.headers["ETag"] == client.get(f"{API}/leads/{lead['id']}").headers["ETag"]
    assert response.headers["ETag"] != f'"{lead["row_version"]}"'


def test_qualify_without_a_body_uses_the_settings(client):
    lead = create_lead(client)

    response = client.post(f"{API}/leads/{lead['id']}/qualify")

    assert response.status_code == 200, response.text
    created = response.json()["created"]
    assert created["account_id"] and created["contact_id"] and len(created["opportunity_ids"]) == 1


def test_the_opportunity_takes_the_currency_of_the_lead(client, database):
    lead = create_lead(client, currency="USD")

    created = qualify(client, lead["id"])["created"]

    opportunity = get_record(client, "opportunities", created["opportunity_ids"][0])
    assert opportunity["currency_id"] == currency_id(database, "USD")


def test_a_lead_without_company_name_makes_no_account_and_the_contact_is_the_customer(client, database):
    lead = create_lead(client, company_name=None)
    before = counts(database)

    created = qualify(client, lead["id"])["created"]

    assert created["account_id"] is None
    assert counts(database)["accounts"] == before["accounts"]
    contact = get_record(client, "contacts", created["contact_id"])
    assert contact["account_id"] is None
    opportunity = get_record(client, "opportunities", created["opportunity_ids"][0])
    assert opportunity["customer_kind"] == "contact" and opportunity["customer_id"] == contact["id"]
    assert opportunity["parent_account_id"] is None
    assert opportunity["parent_contact_id"] == contact["id"]
    assert get_lead(client, lead["id"])["parent_account_id"] is None


def test_create_account_false_skips_the_account(client, database):
    lead = create_lead(client)
    before = counts(database)

    created = qualify(client, lead["id"], create_account=False)["created"]

    assert created["account_id"] is None and created["contact_id"] and created["opportunity_ids"]
    assert counts(database)["accounts"] == before["accounts"]
    contact = get_record(client, "contacts", created["contact_id"])
    assert contact["account_id"] is None
    opportunity = get_record(client, "opportunities", created["opportunity_ids"][0])
    assert opportunity["customer_kind"] == "contact" and opportunity["customer_id"] == contact["id"]


def test_create_contact_false_skips_the_contact(client, database):
    lead = create_lead(client)
    before = counts(database)

    created = qualify(client, lead["id"], create_contact=False)["created"]

    assert created["contact_id"] is None and created["account_id"] and created["opportunity_ids"]
    assert counts(database)["contacts"] == before["contacts"]
    opportunity = get_record(client, "opportunities", created["opportunity_ids"][0])
    assert opportunity["customer_id"] == created["account_id"]
    assert opportunity["parent_contact_id"] is None
    assert get_lead(client, lead["id"])["parent_contact_id"] is None


def test_create_opportunity_false_qualifies_without_opportunity_and_the_flow_stays_at_qualify(client, database):
    lead = create_lead(client)
    before = counts(database)

    body = qualify(client, lead["id"], create_opportunity=False)

    assert body["created"]["opportunity_ids"] == []
    assert counts(database)["opportunities"] == before["opportunities"]
    assert body["lead"]["state"] == "qualified" and body["lead"]["status_reason"] == "qualified"
    assert body["lead"]["qualifying_opportunity_id"] is None
    process = client.get(f"{API}/leads/{lead['id']}/process").json()
    assert process["active_stage"] == "qualify"
    assert process["opportunity_id"] is None


def test_creating_nothing_still_qualifies_the_lead(client, database):
    lead = create_lead(client)
    before = counts(database)

    body = qualify(client, lead["id"], create_account=False, create_contact=False, create_opportunity=False)

    assert body["created"] == {"account_id": None, "contact_id": None, "opportunity_ids": []}
    assert body["lead"]["state"] == "qualified"
    after = counts(database)
    assert (after["accounts"], after["contacts"], after["opportunities"]) == (
        before["accounts"],
        before["contacts"],
        before["opportunities"],
    )


def test_existing_account_is_linked_instead_of_creating_one(client, database):
    existing = _account(client)
    lead = create_lead(client)
    before = counts(database)

    created = qualify(client, lead["id"], existing_account_id=existing["id"])["created"]

    assert created["account_id"] is None
    assert counts(database)["accounts"] == before["accounts"]
    contact = get_record(client, "contacts", created["contact_id"])
    assert contact["account_id"] == existing["id"]
    opportunity = get_record(client, "opportunities", created["opportunity_ids"][0])
    assert opportunity["customer_kind"] == "account" and opportunity["customer_id"] == existing["id"]
    assert opportunity["parent_account_id"] == existing["id"]
    assert get_lead(client, lead["id"])["parent_account_id"] == existing["id"]
    assert get_record(client, "accounts", existing["id"])["originating_lead_id"] is None


def test_existing_contact_is_linked_instead_of_creating_one(client, database):
    existing = _contact(client)
    lead = create_lead(client)
    before = counts(database)

    created = qualify(client, lead["id"], existing_contact_id=existing["id"])["created"]

    assert created["contact_id"] is None
    assert counts(database)["contacts"] == before["contacts"]
    opportunity = get_record(client, "opportunities", created["opportunity_ids"][0])
    assert opportunity["parent_contact_id"] == existing["id"]
    assert opportunity["customer_id"] == created["account_id"]
    assert get_lead(client, lead["id"])["parent_contact_id"] == existing["id"]


def test_the_lead_existing_account_and_contact_fields_are_used(client, database):
    account = _account(client)
    contact = _contact(client, account_id=account["id"])
    lead = create_lead(client, parent_account_id=account["id"], parent_contact_id=contact["id"])
    before = counts(database)

    created = qualify(client, lead["id"])["created"]

    assert created["account_id"] is None and created["contact_id"] is None
    after = counts(database)
    assert (after["accounts"], after["contacts"]) == (before["accounts"], before["contacts"])
    opportunity = get_record(client, "opportunities", created["opportunity_ids"][0])
    assert opportunity["customer_id"] == account["id"]
    assert opportunity["parent_account_id"] == account["id"]
    assert opportunity["parent_contact_id"] == contact["id"]


def test_opportunity_currency_option_sets_the_currency(client, database):
    lead = create_lead(client, currency="EUR")

    created = qualify(client, lead["id"], opportunity_currency="USD")["created"]

    opportunity = get_record(client, "opportunities", created["opportunity_ids"][0])
    assert opportunity["currency_id"] == currency_id(database, "USD")
    assert opportunity["currency_id"] != get_lead(client, lead["id"])["currency_id"]


def test_opportunity_customer_option_names_the_potential_customer(client):
    customer = _contact(client, last_name="Buyer")
    lead = create_lead(client)

    created = qualify(client, lead["id"], opportunity_customer_id=customer["id"])["created"]

    opportunity = get_record(client, "opportunities", created["opportunity_ids"][0])
    assert opportunity["customer_kind"] == "contact" and opportunity["customer_id"] == customer["id"]
    assert opportunity["parent_account_id"] == created["account_id"]


def test_opportunity_customer_option_accepts_an_account(client):
    customer = _account(client, name="Holding Group")
    lead = create_lead(client)

    created = qualify(client, lead["id"], opportunity_customer_id=customer["id"])["created"]

    opportunity = get_record(client, "opportunities", created["opportunity_ids"][0])
    assert opportunity["customer_kind"] == "account" and opportunity["customer_id"] == customer["id"]


def test_source_campaign_option_sets_the_opportunity_campaign(client, database):
    campaign_id = make_campaign(database)
    lead = create_lead(client)

    created = qualify(client, lead["id"], source_campaign_id=campaign_id)["created"]

    assert get_record(client, "opportunities", created["opportunity_ids"][0])["campaign_id"] == campaign_id


def test_the_lead_campaign_is_copied_to_the_opportunity(client, database):
    campaign_id = make_campaign(database, "Web form")
    lead = create_lead(client, campaign_id=campaign_id)

    created = qualify(client, lead["id"])["created"]

    assert get_record(client, "opportunities", created["opportunity_ids"][0])["campaign_id"] == campaign_id


def test_unknown_references_in_the_options_are_refused_and_nothing_changes(client, database):
    lead = create_lead(client)
    before = snapshot(database)
    missing = str(uuid.uuid4())

    for option, code in (
        ("existing_account_id", "existing_account_id_not_found"),
        ("existing_contact_id", "existing_contact_id_not_found"),
        ("source_campaign_id", "source_campaign_id_not_found"),
        ("opportunity_customer_id", "opportunity_customer_id_not_found"),
    ):
        response = client.post(f"{API}/leads/{lead['id']}/qualify", json={option: missing})
        assert_error(response, 422, code)
        assert snapshot(database) == before


def test_status_reason_other_than_qualified_is_refused(client, database):
    lead = create_lead(client)
    before = snapshot(database)

    response = client.post(f"{API}/leads/{lead['id']}/qualify", json={"status_reason": "lost"})

    error = assert_error(response, 422, "invalid_option")
    assert error["details"]["fields"][0]["field"] == "status_reason"
    assert snapshot(database) == before


def test_the_opportunity_timeline_shows_the_notes_of_the_lead(client):
    lead = create_lead(client)
    first = add_note(client, "leads", lead["id"], title="First call").json()
    second = add_note(client, "leads", lead["id"], title="Second call").json()
    created = qualify(client, lead["id"])["created"]
    own = add_note(client, "opportunities", created["opportunity_ids"][0], title="Proposal sent").json()

    timeline = client.get(f"{API}/opportunities/{created['opportunity_ids'][0]}/timeline")

    assert timeline.status_code == 200, timeline.text
    shown = {note["id"] for note in timeline.json()["items"]}
    assert shown == {first["id"], second["id"], own["id"]}
    # the notes are shown, not copied: the lead still owns them
    assert {note["regarding_table"] for note in timeline.json()["items"] if note["id"] != own["id"]} == {"leads"}
    assert [
        n["id"] for n in client.get(f"{API}/opportunities/{created['opportunity_ids'][0]}/notes").json()["items"]
    ] == [own["id"]]
    for table, record_id in (("accounts", created["account_id"]), ("contacts", created["contact_id"])):
        shown_there = {note["id"] for note in client.get(f"{API}/{table}/{record_id}/timeline").json()["items"]}
        assert shown_there == {first["id"], second["id"]}


def test_the_process_moves_from_qualify_on_the_lead_to_develop_on_the_opportunity(client):
    lead = create_lead(client, parent_account_id=None, purchase_timeframe="immediate", qualification_comments=None)

    before = client.get(f"{API}/leads/{lead['id']}/process")
    assert before.status_code == 200
    flow = before.json()
    assert flow["active_stage"] == "qualify"
    assert [stage["name"] for stage in flow["stages"]] == ["qualify", "develop", "propose", "close"]
    steps = {step["name"]: step["complete"] for step in flow["stages"][0]["steps"]}
    assert steps["purchase_timeframe"] is True
    assert steps["capture_summary"] is False
    assert steps["existing_account"] is False

    opportunity_id = qualify(client, lead["id"])["created"]["opportunity_ids"][0]

    after = client.get(f"{API}/opportunities/{opportunity_id}/process").json()
    assert after["active_stage"] == "develop"
    assert after["lead_id"] == lead["id"] and after["opportunity_id"] == opportunity_id
    assert [stage["status"] for stage in after["stages"]] == ["completed", "active", "pending", "pending"]
    assert client.get(f"{API}/leads/{lead['id']}/process").json()["active_stage"] == "develop"


def test_next_stage_moves_the_opportunity_from_develop_to_propose_then_close(client):
    lead = create_lead(client)
    opportunity_id = qualify(client, lead["id"])["created"]["opportunity_ids"][0]

    response = client.post(f"{API}/opportunities/{opportunity_id}/process/next-stage")

    assert response.status_code == 200, response.text
    assert response.json()["active_stage"] == "propose"
    assert client.get(f"{API}/opportunities/{opportunity_id}/process").json()["active_stage"] == "propose"
    assert get_record(client, "opportunities", opportunity_id)["process_stage"] == "propose"
    assert client.post(f"{API}/opportunities/{opportunity_id}/process/next-stage").json()["active_stage"] == "close"
    last = client.post(f"{API}/opportunities/{opportunity_id}/process/next-stage")
    assert_error(last, 409, "last_stage")
    assert get_record(client, "opportunities", opportunity_id)["process_stage"] == "close"


def test_previous_stage_never_goes_back_to_qualify(client):
    lead = create_lead(client)
    opportunity_id = qualify(client, lead["id"])["created"]["opportunity_ids"][0]

    response = client.post(f"{API}/opportunities/{opportunity_id}/process/previous-stage")

    assert_error(response, 409, "qualify_stage_is_on_the_lead")
    assert get_record(client, "opportunities", opportunity_id)["process_stage"] == "develop"


def test_the_process_of_an_unknown_record_is_404(client):
    assert_error(client.get(f"{API}/leads/{uuid.uuid4()}/process"), 404, "lead_not_found")
    assert_error(client.get(f"{API}/opportunities/{uuid.uuid4()}/process"), 404, "opportunity_not_found")
    assert_error(client.post(f"{API}/opportunities/{uuid.uuid4()}/process/next-stage"), 404, "opportunity_not_found")


def test_qualifying_an_unknown_lead_is_404_and_creates_nothing(client, database):
    before = snapshot(database)

    response = client.post(f"{API}/leads/{uuid.uuid4()}/qualify", json={})

    assert_error(response, 404, "lead_not_found")
    assert snapshot(database) == before
