"""Qualify, disqualify and reactivate through the service layer, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from leadflow.core.errors import Conflict, InvalidState, StaleVersion, ValidationFailed
from leadflow.core.uow import Database
from leadflow.customers.models import Account, Contact, CustomerState
from leadflow.leads import qualification, service
from leadflow.leads.models import LEAD_IS_CLOSED, Lead, LeadState, LeadStatusReason
from leadflow.leads.schemas import LeadUpdate, OpportunityChoice, QualifyOptions
from leadflow.opportunities.models import Opportunity
from leadflow.organisation.models import OrganisationSettings, QualificationExperience, RecordCreation
from tests.factories import make_lead


def counts(database: Database) -> dict[str, int]:
    with database.unit_of_work(read_only=True) as uow:
        return {
            model.__tablename__: uow.session.scalar(select(func.count()).select_from(model))
            for model in (Lead, Account, Contact, Opportunity)
        }


def snapshot(database: Database, lead_id: uuid.UUID) -> dict[str, object]:
    with database.unit_of_work(read_only=True) as uow:
        lead = uow.session.get(Lead, lead_id)
        return {column.key: getattr(lead, column.key) for column in Lead.__table__.columns}


def qualify(database: Database, actor, lead_id, **options) -> qualification.QualifyResult:
    with database.unit_of_work() as uow:
        result = service.qualify_lead(lead_id, QualifyOptions(**options), uow=uow, actor=actor)
        uow.commit()
    return result


def set_settings(database: Database, **values) -> None:
    with database.unit_of_work() as uow:
        settings = uow.session.scalars(select(OrganisationSettings)).one()
        for key, value in values.items():
            setattr(settings, key, value)
        uow.commit()


def test_qualify_maps_lead_columns_onto_the_new_records(database, actor):
    lead = make_lead(
        database,
        actor,
        company_name="Muebles Ibéricos S.L.",
        website="https://mi.example",
        address_city="Sevilla",
        budget_amount="12345.6789",
    )
    result = qualify(database, actor, lead.id)
    with database.unit_of_work(read_only=True) as uow:
        account = uow.session.get(Account, result.account_id)
        contact = uow.session.get(Contact, result.contact_id)
        opportunity = uow.session.get(Opportunity, result.opportunity_ids[0])
        qualified = uow.session.get(Lead, lead.id)
    assert (account.name, account.website, account.address_city) == (
        "Muebles Ibéricos S.L.",
        "https://mi.example",
        "Sevilla",
    )
    assert (contact.first_name, contact.last_name, contact.email, contact.account_id) == (
        lead.first_name,
        lead.last_name,
        lead.email,
        account.id,
    )
    assert account.primary_contact_id == contact.id
    assert opportunity.name == lead.topic
    assert opportunity.estimated_revenue == Decimal("12345.6789")
    assert (opportunity.customer_kind.value, opportunity.customer_id) == ("account", account.id)
    assert (opportunity.parent_account_id, opportunity.parent_contact_id) == (account.id, contact.id)
    assert {account.originating_lead_id, contact.originating_lead_id, opportunity.originating_lead_id} == {lead.id}
    assert (qualified.state, qualified.status_reason) == (LeadState.QUALIFIED, LeadStatusReason.QUALIFIED)
    assert qualified.qualifying_opportunity_id == opportunity.id
    assert (qualified.parent_account_id, qualified.parent_contact_id) == (account.id, contact.id)


def test_qualify_without_company_name_creates_no_account_and_the_contact_is_the_customer(database, actor):
    lead = make_lead(database, actor, company_name=None)
    result = qualify(database, actor, lead.id)
    assert result.account_id is None and result.contact_id is not None
    with database.unit_of_work(read_only=True) as uow:
        opportunity = uow.session.get(Opportunity, result.opportunity_ids[0])
    assert (opportunity.customer_kind.value, opportunity.customer_id) == ("contact", result.contact_id)


def test_qualify_is_atomic_when_the_database_refuses_a_record(database, actor, monkeypatch):
    lead = make_lead(database, actor)
    before, lead_before = counts(database), snapshot(database, lead.id)
    real_plan = qualification.plan_qualification

    def plan_with_a_nameless_opportunity(lead, context, *, session, actor):
        pending = real_plan(lead, context, session=session, actor=actor)
        pending.rows[qualification.OPPORTUNITIES][0]["name"] = None  # refused by NOT NULL, after account and contact
        return pending

    monkeypatch.setattr(qualification, "plan_qualification", plan_with_a_nameless_opportunity)
    with pytest.raises(IntegrityError):
        qualify(database, actor, lead.id)
    assert counts(database) == before
    assert snapshot(database, lead.id) == lead_before


def test_qualify_links_an_existing_account_and_contact_instead_of_creating_them(database, actor):
    first = qualify(database, actor, make_lead(database, actor).id)
    lead = make_lead(database, actor)
    result = qualify(
        database, actor, lead.id, existing_account_id=first.account_id, existing_contact_id=first.contact_id
    )
    assert result.account_id is None and result.contact_id is None
    with database.unit_of_work(read_only=True) as uow:
        opportunity = uow.session.get(Opportunity, result.opportunity_ids[0])
    assert opportunity.customer_id == first.account_id
    assert opportunity.parent_contact_id == first.contact_id


def test_an_existing_account_id_that_does_not_exist_is_refused_and_changes_nothing(database, actor):
    lead = make_lead(database, actor)
    before, lead_before = counts(database), snapshot(database, lead.id)
    with pytest.raises(ValidationFailed) as refused:
        qualify(database, actor, lead.id, existing_account_id=uuid.uuid4())
    assert refused.value.code == "existing_account_id_not_found"
    assert counts(database) == before and snapshot(database, lead.id) == lead_before


@pytest.mark.parametrize(
    ("option", "model", "column"),
    [
        ("existing_account_id", Account, "account_id"),
        ("existing_contact_id", Contact, "contact_id"),
    ],
)
def test_an_inactive_existing_record_is_refused_and_changes_nothing(database, actor, option, model, column):
    first = qualify(database, actor, make_lead(database, actor).id)
    with database.unit_of_work() as uow:
        uow.session.get(model, getattr(first, column)).state = CustomerState.INACTIVE
        uow.commit()
    lead = make_lead(database, actor)
    before, lead_before = counts(database), snapshot(database, lead.id)

    with pytest.raises(ValidationFailed) as refused:
        qualify(database, actor, lead.id, **{option: getattr(first, column)})

    assert refused.value.code == f"{option}_inactive"
    assert counts(database) == before and snapshot(database, lead.id) == lead_before


def test_qualify_uses_the_requested_opportunity_currency(database, actor):
    result = qualify(database, actor, make_lead(database, actor).id, opportunity_currency="usd")
    with database.unit_of_work(read_only=True) as uow:
        opportunity = uow.session.get(Opportunity, result.opportunity_ids[0])
        from leadflow.organisation.models import Currency

        assert uow.session.get(Currency, opportunity.currency_id).iso_code == "USD"


def test_seller_choice_creates_up_to_five_opportunities(database, actor):
    set_settings(
        database,
        qualification_experience=QualificationExperience.PER_RECORD,
        opportunity_creation=RecordCreation.SELLER,
    )
    lead = make_lead(database, actor)
    choices = [OpportunityChoice(name=f"Phase {n}", estimated_revenue=Decimal(1000 * n)) for n in range(1, 6)]
    result = qualify(database, actor, lead.id, opportunities=choices)
    assert len(result.opportunity_ids) == 5
    with database.unit_of_work(read_only=True) as uow:
        names = set(uow.session.scalars(select(Opportunity.name).where(Opportunity.originating_lead_id == lead.id)))
    assert names == {f"Phase {n}" for n in range(1, 6)}


def test_prompted_qualification_refuses_until_the_seller_chooses(database, actor):
    set_settings(database, create_records_on_qualify=False)
    lead = make_lead(database, actor)
    before = counts(database)
    with pytest.raises(ValidationFailed) as refused:
        qualify(database, actor, lead.id)
    assert refused.value.code == "qualification_choice_required"
    assert counts(database) == before
    result = qualify(database, actor, lead.id, create_account=True, create_contact=False, create_opportunity=False)
    assert result.account_id and result.contact_id is None and result.opportunity_ids == []


def test_qualifying_a_closed_lead_fails_with_the_documented_message(database, actor):
    lead = make_lead(database, actor)
    qualify(database, actor, lead.id)
    before = counts(database)
    with pytest.raises(InvalidState) as refused:
        qualify(database, actor, lead.id)
    assert refused.value.message == LEAD_IS_CLOSED
    assert counts(database) == before


def test_disqualify_is_refused_while_an_opportunity_from_the_lead_is_open(database, actor):
    lead = make_lead(database, actor)
    qualify(database, actor, lead.id)
    with database.unit_of_work() as uow:
        service.reactivate_lead(lead.id, uow=uow, actor=actor)
        uow.commit()
    lead_before = snapshot(database, lead.id)
    with database.unit_of_work() as uow, pytest.raises(InvalidState) as refused:
        service.disqualify_lead(lead.id, LeadStatusReason.LOST, uow=uow, actor=actor)
    assert refused.value.code == "lead_has_opportunity"
    assert snapshot(database, lead.id) == lead_before


def test_reactivated_lead_keeps_its_data_and_can_be_qualified_again(database, actor):
    lead = make_lead(database, actor)
    with database.unit_of_work() as uow:
        service.disqualify_lead(lead.id, LeadStatusReason.NO_LONGER_INTERESTED, uow=uow, actor=actor)
        uow.commit()
    with database.unit_of_work() as uow:
        reopened = service.reactivate_lead(lead.id, uow=uow, actor=actor)
        uow.commit()
    assert (reopened.state, reopened.status_reason) == (LeadState.OPEN, LeadStatusReason.NEW)
    assert (reopened.topic, reopened.email, reopened.budget_amount) == (lead.topic, lead.email, lead.budget_amount)
    assert qualify(database, actor, lead.id).lead.state is LeadState.QUALIFIED


def test_a_closed_lead_cannot_be_edited(database, actor):
    lead = make_lead(database, actor)
    qualify(database, actor, lead.id)
    with database.unit_of_work() as uow, pytest.raises(InvalidState):
        service.update_lead(lead.id, LeadUpdate(topic="Changed"), uow=uow, actor=actor)


def test_money_keeps_every_digit_up_to_the_maximum_budget(database, actor):
    lead = make_lead(database, actor, budget_amount="999999999999.9999")
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.get(Lead, lead.id).budget_amount == Decimal("999999999999.9999")


def test_timestamps_are_timezone_aware_utc(database, actor):
    lead = make_lead(database, actor)
    with database.unit_of_work(read_only=True) as uow:
        stored = uow.session.get(Lead, lead.id)
    assert stored.created_at.utcoffset().total_seconds() == 0


def run_together(*actions):
    """Run each action in its own thread, released at the same instant; collect results or errors."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[object] = []

    def run(action) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes.append(action())
        except Exception as error:  # noqa: BLE001 - the refusals under test
            outcomes.append(error)

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.concurrency
def test_two_edits_made_from_the_same_version_do_not_overwrite_each_other(database, actor):
    lead = make_lead(database, actor)

    def edit(topic: str):
        def action():
            with database.unit_of_work() as uow:
                updated = service.update_lead(
                    lead.id, LeadUpdate(topic=topic), uow=uow, actor=actor, expected_version=lead.row_version
                )
                uow.commit()
                return updated.topic

        return action

    outcomes = run_together(edit("Mine"), edit("Theirs"))
    winners = [o for o in outcomes if isinstance(o, str)]
    stale = [o for o in outcomes if isinstance(o, StaleVersion)]
    assert len(winners) == 1 and len(stale) == 1, outcomes
    stored = snapshot(database, lead.id)
    assert stored["topic"] == winners[0] and stored["row_version"] == lead.row_version + 1


@pytest.mark.concurrency
def test_two_clients_qualifying_the_same_lead_at_once_create_one_set_of_records(database, actor):
    lead = make_lead(database, actor)
    before = counts(database)

    def client():
        with database.unit_of_work() as uow:
            result = service.qualify_lead(lead.id, QualifyOptions(), uow=uow, actor=actor)
            uow.commit()
            return result

    outcomes = run_together(client, client)
    successes = [o for o in outcomes if isinstance(o, qualification.QualifyResult)]
    refusals = [o for o in outcomes if isinstance(o, InvalidState)]
    assert len(successes) == 1 and len(refusals) == 1, outcomes
    assert refusals[0].message == LEAD_IS_CLOSED
    after = counts(database)
    assert after["accounts"] == before["accounts"] + 1
    assert after["contacts"] == before["contacts"] + 1
    assert after["opportunities"] == before["opportunities"] + 1


def test_qualifying_a_lead_changed_since_it_was_loaded_is_a_conflict_and_writes_nothing(database, actor):
    """The lead's update names the version the lead was loaded at: a lead someone changed in between
    is refused (concurrent_update) instead of being overwritten, and its records are not created."""
    lead = make_lead(database, actor)
    before, lead_before = counts(database), snapshot(database, lead.id)
    leads_table = Lead.__table__

    with database.unit_of_work() as uow:
        loaded = uow.session.get(Lead, lead.id)
        # Another writer's change: the row moves to the next version behind the loaded record's back.
        uow.session.execute(
            update(leads_table).where(leads_table.c.id == lead.id).values(row_version=leads_table.c.row_version + 1)
        )
        context = qualification.prepare_qualify(QualifyOptions(), uow=uow, actor=actor)
        with pytest.raises(Conflict) as refused:
            qualification.qualify_loaded_lead(loaded, context, uow=uow, actor=actor)

    assert refused.value.code == "concurrent_update"
    assert counts(database) == before
    assert snapshot(database, lead.id) == lead_before
