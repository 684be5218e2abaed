"""Duplicate detection against stored match codes (§5, §9), through the services, on SQLite and PostgreSQL.

Match codes follow every write (ORM and the bulk Core path of qualification), the exclude-inactive
option skips closed and inactive records, and bulk qualification reports duplicates per lead.
"""

from __future__ import annotations

import uuid
from datetime import timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select

from leadflow.core.errors import DuplicateDetected, ValidationFailed
from leadflow.core.schemas import parse
from leadflow.core.uow import Database
from leadflow.customers.models import Account, Contact, CustomerState
from leadflow.customers.schemas import AccountCreate, ContactCreate, ContactUpdate
from leadflow.customers.service import (
    create_account,
    create_contact,
    delete_contact,
    update_contact,
)
from leadflow.duplicates import rules as rule_service
from leadflow.duplicates.detection import check_record
from leadflow.duplicates.engine import MATCH_CODES
from leadflow.duplicates.models import DetectionTable
from leadflow.leads import bulk, qualification, service
from leadflow.leads.models import Lead, LeadState, LeadStatusReason
from leadflow.leads.schemas import LeadUpdate, QualifyOptions
from leadflow.opportunities.models import Opportunity, OpportunityState
from leadflow.opportunities.schemas import OpportunityCreate
from leadflow.opportunities.service import create_opportunity
from leadflow.security.actor import Actor, actor_for_email
from leadflow.security.service import create_business_unit, create_user
from tests.builtin_rules import make_room_for_a_rule
from tests.factories import make_lead

# ----------------------------------------------------------------------------------------------
# helpers


def published_rule(database: Database, actor: Actor, **definition: Any) -> uuid.UUID:
    """Create and publish a rule from its API-shaped definition."""
    with database.unit_of_work() as uow:
        rule = rule_service.create_rule(parse(rule_service.RuleCreate, definition), uow=uow, actor=actor)
        uow.commit()
    rule_service.publish_rule(rule.id, database=database, actor=actor)
    return rule.id


def one_column_rule(
    database: Database, actor: Actor, table: str, column: str, criterion: str = "exact_match", **options: Any
) -> uuid.UUID:
    return published_rule(
        database,
        actor,
        name=f"{table} with the same {column}",
        base_table=table,
        conditions=[{"base_column": column, "criterion": criterion}],
        **options,
    )


def found(database: Database, actor: Actor, table: str, values: dict[str, Any]) -> list[uuid.UUID]:
    """Ids of the records the published rules say duplicate these values."""
    with database.unit_of_work(read_only=True) as uow:
        return [match.id for match in check_record(uow.session, DetectionTable(table), values, actor=actor)]


def codes_of_record(database: Database, record_id: uuid.UUID) -> int:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalar(
            select(func.count()).select_from(MATCH_CODES).where(MATCH_CODES.c.record_id == record_id)
        )


def make_contact(database: Database, actor: Actor, **fields: Any) -> Contact:
    with database.unit_of_work() as uow:
        contact = create_contact(parse(ContactCreate, fields), uow=uow, actor=actor)
        uow.commit()
        return contact


def make_account(database: Database, actor: Actor, **fields: Any) -> Account:
    with database.unit_of_work() as uow:
        account = create_account(parse(AccountCreate, fields), uow=uow, actor=actor)
        uow.commit()
        return account


def make_opportunity(database: Database, actor: Actor, **fields: Any) -> Opportunity:
    with database.unit_of_work() as uow:
        opportunity = create_opportunity(parse(OpportunityCreate, fields), uow=uow, actor=actor)
        uow.commit()
        return opportunity


def qualify(database: Database, actor: Actor, lead_id: uuid.UUID, **options: Any) -> qualification.QualifyResult:
    with database.unit_of_work() as uow:
        result = service.qualify_lead(lead_id, parse(QualifyOptions, options), uow=uow, actor=actor)
        uow.commit()
        return result


def disqualify(database: Database, actor: Actor, lead_id: uuid.UUID) -> Lead:
    with database.unit_of_work() as uow:
        lead = service.disqualify_lead(lead_id, LeadStatusReason.LOST, uow=uow, actor=actor)
        uow.commit()
        return lead


def set_state(database: Database, model: type, record_id: uuid.UUID, state: Any) -> None:
    """Change a record's state through the ORM, as merging and closing do."""
    with database.unit_of_work() as uow:
        uow.session.get(model, record_id).state = state
        uow.commit()


# ----------------------------------------------------------------------------------------------
# match codes kept current


def test_after_an_update_the_new_values_are_found_and_the_old_ones_are_not(database, actor):
    contact = make_contact(database, actor, first_name="Marta", last_name="Gil", email="marta@old.example")

    with database.unit_of_work() as uow:
        update_contact(contact.id, parse(ContactUpdate, {"email": "marta@new.example"}), uow=uow, actor=actor)
        uow.commit()

    assert found(database, actor, "contacts", {"email": "marta@old.example"}) == []
    assert found(database, actor, "contacts", {"email": "MARTA@new.example"}) == [contact.id]


def test_after_a_lead_is_updated_its_new_email_is_found_and_the_old_one_is_not(database, actor):
    lead = make_lead(database, actor, email="pablo@old.example")

    with database.unit_of_work() as uow:
        service.update_lead(lead.id, parse(LeadUpdate, {"email": "pablo@new.example"}), uow=uow, actor=actor)
        uow.commit()

    assert found(database, actor, "leads", {"email": "pablo@old.example"}) == []
    assert found(database, actor, "leads", {"email": "pablo@new.example"}) == [lead.id]


def test_after_a_delete_the_record_is_not_found_and_keeps_no_codes(database, actor):
    contact = make_contact(
        database,
        actor,
        first_name="Marta",
        last_name="Gil",
        email="marta@example.com",
        business_phone="+34 600 111 222",
    )
    # business phone, email, first and last name the same, first and last name similar
    assert codes_of_record(database, contact.id) == 4

    with database.unit_of_work() as uow:
        delete_contact(contact.id, uow=uow, actor=actor)
        uow.commit()

    assert codes_of_record(database, contact.id) == 0
    assert found(database, actor, "contacts", {"email": "marta@example.com"}) == []


def test_a_deactivated_record_is_skipped_by_exclude_inactive_rules_and_found_by_the_others(database, actor):
    one_column_rule(database, actor, "contacts", "job_title", exclude_inactive=False)
    contact = make_contact(database, actor, last_name="Gil", email="gil@example.com", job_title="Buyer")

    set_state(database, Contact, contact.id, CustomerState.INACTIVE)

    # the out-of-box email rule excludes inactive records; the job-title rule does not
    assert found(database, actor, "contacts", {"email": "gil@example.com"}) == []
    assert found(database, actor, "contacts", {"job_title": "Buyer"}) == [contact.id]


def test_a_record_without_the_rules_value_holds_no_code_and_gets_one_when_the_value_is_set(database, actor):
    rule_id = one_column_rule(database, actor, "contacts", "job_title")
    contact = make_contact(database, actor, last_name="Gil")

    def has_code() -> bool:
        with database.unit_of_work(read_only=True) as uow:
            return bool(
                uow.session.scalar(
                    select(func.count())
                    .select_from(MATCH_CODES)
                    .where(MATCH_CODES.c.rule_id == rule_id, MATCH_CODES.c.record_id == contact.id)
                )
            )

    assert not has_code()
    with database.unit_of_work() as uow:
        update_contact(contact.id, parse(ContactUpdate, {"job_title": "Buyer"}), uow=uow, actor=actor)
        uow.commit()
    assert has_code()
    with database.unit_of_work() as uow:
        update_contact(contact.id, parse(ContactUpdate, {"job_title": None}), uow=uow, actor=actor)
        uow.commit()
    assert not has_code()


# ----------------------------------------------------------------------------------------------
# exclude inactive matching records


def _closed_lead(database: Database, actor: Actor, how: str) -> Lead:
    lead = make_lead(database, actor, website="https://closed.example")
    if how == "qualified":
        qualify(database, actor, lead.id)
    else:
        disqualify(database, actor, lead.id)
    return lead


@pytest.mark.parametrize("how", ["qualified", "disqualified"])
@pytest.mark.parametrize("exclude_inactive", [True, False], ids=["excluding-inactive", "including-inactive"])
def test_exclude_inactive_decides_whether_closed_leads_match(database, actor, how, exclude_inactive):
    one_column_rule(database, actor, "leads", "website", exclude_inactive=exclude_inactive)
    lead = _closed_lead(database, actor, how)

    matches = found(database, actor, "leads", {"website": "https://closed.example"})

    assert matches == ([] if exclude_inactive else [lead.id])


@pytest.mark.parametrize("exclude_inactive", [True, False], ids=["excluding-inactive", "including-inactive"])
def test_exclude_inactive_decides_whether_inactive_accounts_match(database, actor, exclude_inactive):
    make_room_for_a_rule(database, actor, "accounts")
    one_column_rule(database, actor, "accounts", "address_city", exclude_inactive=exclude_inactive)
    account = make_account(database, actor, name="Old Co", address_city="Toledo")
    assert found(database, actor, "accounts", {"address_city": "Toledo"}) == [account.id]

    set_state(database, Account, account.id, CustomerState.INACTIVE)

    assert found(database, actor, "accounts", {"address_city": "Toledo"}) == ([] if exclude_inactive else [account.id])


@pytest.mark.parametrize("exclude_inactive", [True, False], ids=["excluding-inactive", "including-inactive"])
def test_exclude_inactive_decides_whether_inactive_contacts_match(database, actor, exclude_inactive):
    one_column_rule(database, actor, "contacts", "job_title", exclude_inactive=exclude_inactive)
    contact = make_contact(database, actor, last_name="Gil", job_title="Buyer")

    set_state(database, Contact, contact.id, CustomerState.INACTIVE)

    assert found(database, actor, "contacts", {"job_title": "Buyer"}) == ([] if exclude_inactive else [contact.id])


@pytest.mark.parametrize("state", [OpportunityState.WON, OpportunityState.LOST])
@pytest.mark.parametrize("exclude_inactive", [True, False], ids=["excluding-inactive", "including-inactive"])
def test_exclude_inactive_decides_whether_closed_opportunities_match(database, actor, state, exclude_inactive):
    one_column_rule(database, actor, "opportunities", "name", exclude_inactive=exclude_inactive)
    opportunity = make_opportunity(database, actor, name="200 desks for Valencia")

    set_state(database, Opportunity, opportunity.id, state)

    matches = found(database, actor, "opportunities", {"name": "200 desks for Valencia"})
    assert matches == ([] if exclude_inactive else [opportunity.id])


def test_a_reactivated_lead_matches_again_under_an_exclude_inactive_rule(database, actor):
    lead = make_lead(database, actor, email="back@example.com")
    disqualify(database, actor, lead.id)
    assert found(database, actor, "leads", {"email": "back@example.com"}) == []

    with database.unit_of_work() as uow:
        service.reactivate_lead(lead.id, uow=uow, actor=actor)
        uow.commit()

    assert found(database, actor, "leads", {"email": "back@example.com"}) == [lead.id]


# ----------------------------------------------------------------------------------------------
# date criteria on a closing time


def _closing_rule(database: Database, actor: Actor, criterion: str) -> None:
    published_rule(
        database,
        actor,
        name=f"Leads closed at the same moment ({criterion})",
        base_table="leads",
        conditions=[{"base_column": "closed_at", "criterion": criterion}],
    )


def _closed_at(database: Database, lead_id: uuid.UUID):
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.get(Lead, lead_id).closed_at


def test_same_date_and_time_finds_a_lead_closed_in_the_same_minute_in_any_time_zone(database, actor):
    _closing_rule(database, actor, "same_date_and_time")
    lead = make_lead(database, actor)
    disqualify(database, actor, lead.id)
    closed_at = _closed_at(database, lead.id).astimezone(timezone(timedelta(hours=-5)))

    assert found(database, actor, "leads", {"closed_at": closed_at.isoformat()}) == [lead.id]
    assert found(database, actor, "leads", {"closed_at": (closed_at + timedelta(minutes=1)).isoformat()}) == []


def test_same_date_finds_a_lead_closed_on_the_same_day_at_another_time(database, actor):
    _closing_rule(database, actor, "same_date")
    lead = make_lead(database, actor)
    disqualify(database, actor, lead.id)
    closed_at = _closed_at(database, lead.id)
    same_day = closed_at.replace(hour=0, minute=0) if closed_at.hour else closed_at.replace(hour=23)

    assert found(database, actor, "leads", {"closed_at": same_day.isoformat()}) == [lead.id]
    assert found(database, actor, "leads", {"closed_at": (closed_at + timedelta(days=1)).isoformat()}) == []


def test_a_qualified_leads_closing_time_is_coded_by_the_bulk_write(database, actor):
    _closing_rule(database, actor, "same_date_and_time")
    lead = make_lead(database, actor)

    qualify(database, actor, lead.id)

    closed_at = _closed_at(database, lead.id)
    assert closed_at is not None
    assert found(database, actor, "leads", {"closed_at": closed_at.isoformat()}) == [lead.id]


def test_a_rule_on_the_status_reason_sees_a_lead_qualified_in_bulk(database, actor):
    one_column_rule(database, actor, "leads", "status_reason", "exact_picklist")
    lead = make_lead(database, actor)

    outcomes = list(bulk.qualify_leads([lead.id], QualifyOptions(), database=database, actor=actor))

    assert outcomes[0].ok
    assert found(database, actor, "leads", {"status_reason": "qualified"}) == [lead.id]
    assert found(database, actor, "leads", {"status_reason": "new"}) == []


# ----------------------------------------------------------------------------------------------
# access


def test_a_match_the_actor_may_not_read_is_not_revealed(database, actor):
    with database.unit_of_work() as uow:
        create_business_unit("Sales Spain", parent_name=None, uow=uow, actor=None)
        create_business_unit("Sales Mexico", parent_name=None, uow=uow, actor=None)
        for email, unit in (
            ("spain@example.com", "Sales Spain"),
            ("colleague@example.com", "Sales Spain"),
            ("mexico@example.com", "Sales Mexico"),
        ):
            create_user(
                email=email,
                full_name=email.split("@")[0].title(),
                role_names=["Salesperson"],
                business_unit_name=unit,
                password=None,
                uow=uow,
                actor=None,
            )
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        spain, colleague, mexico = (
            actor_for_email(uow.session, email)
            for email in ("spain@example.com", "colleague@example.com", "mexico@example.com")
        )
    lead = make_lead(database, spain, email="secret@example.com")

    assert found(database, colleague, "leads", {"email": "secret@example.com"}) == [lead.id]
    assert found(database, mexico, "leads", {"email": "secret@example.com"}) == []


# ----------------------------------------------------------------------------------------------
# bulk qualification (§2.6 with §5)


def test_bulk_qualify_reports_duplicates_per_lead_and_qualifies_the_others(database, actor):
    existing = make_account(database, actor, name="Muebles Ibéricos S.L.")
    duplicate = make_lead(database, actor, company_name="Muebles Ibéricos S.L.")
    clean = [make_lead(database, actor) for _ in range(2)]
    ids = [clean[0].id, duplicate.id, clean[1].id]

    outcomes = list(bulk.qualify_leads(ids, QualifyOptions(), database=database, actor=actor))

    assert [o.lead_id for o in outcomes] == ids
    assert [o.ok for o in outcomes] == [True, False, True]
    refusal = outcomes[1].error
    assert isinstance(refusal, DuplicateDetected) and refusal.code == "duplicate_detected"
    assert [m["id"] for m in refusal.details["matching_accounts"]] == [str(existing.id)]
    with database.unit_of_work(read_only=True) as uow:
        states = {lead.id: lead.state for lead in uow.session.scalars(select(Lead))}
        originating = set(uow.session.scalars(select(Account.originating_lead_id)))
    assert states[duplicate.id] is LeadState.OPEN
    assert states[clean[0].id] is states[clean[1].id] is LeadState.QUALIFIED
    assert originating == {None, clean[0].id, clean[1].id}


def test_bulk_qualify_refuses_linking_duplicate_matches(database, actor):
    account = make_account(database, actor, name="Linked Co")
    leads = [make_lead(database, actor) for _ in range(2)]
    options = QualifyOptions(duplicate_resolution={"account_id": account.id})

    with pytest.raises(ValidationFailed) as refused:
        list(bulk.qualify_leads([lead.id for lead in leads], options, database=database, actor=actor))

    assert refused.value.code == "duplicate_link_not_allowed_in_bulk"
    with database.unit_of_work(read_only=True) as uow:
        assert {lead.state for lead in uow.session.scalars(select(Lead))} == {LeadState.OPEN}


def test_bulk_qualify_checks_records_created_by_an_earlier_batch(database, actor):
    first = make_lead(database, actor, company_name="Ferretería Norte S.A.")
    second = make_lead(database, actor, company_name="Ferretería Norte S.A.")

    outcomes = list(
        bulk.qualify_leads([first.id, second.id], QualifyOptions(), database=database, actor=actor, batch_size=1)
    )

    assert [o.ok for o in outcomes] == [True, False]
    created = outcomes[0].result.account_id
    assert outcomes[1].error.code == "duplicate_detected"
    assert [m["id"] for m in outcomes[1].error.details["matching_accounts"]] == [str(created)]


def test_bulk_qualify_checks_records_created_earlier_in_the_same_batch(database, actor):
    first = make_lead(database, actor, company_name="Ferretería Sur S.A.")
    second = make_lead(database, actor, company_name="Ferretería Sur S.A.")

    outcomes = list(bulk.qualify_leads([first.id, second.id], QualifyOptions(), database=database, actor=actor))

    assert [o.ok for o in outcomes] == [True, False]
    assert outcomes[1].error.code == "duplicate_detected"
    assert [m["id"] for m in outcomes[1].error.details["matching_accounts"]] == [str(outcomes[0].result.account_id)]
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Account)) == 1


def test_records_created_by_qualifying_are_found_by_later_checks(database, actor):
    lead = make_lead(
        database,
        actor,
        company_name="Ópticas Luz S.L.",
        email="luz@opticas.example",
        first_name="Luz",
        last_name="Marín",
    )

    result = qualify(database, actor, lead.id)

    assert found(database, actor, "accounts", {"name": "ÓPTICAS LUZ S.L."}) == [result.account_id]
    assert found(database, actor, "contacts", {"email": "luz@opticas.example"}) == [result.contact_id]
    assert found(database, actor, "contacts", {"first_name": "luz", "last_name": "marín"}) == [result.contact_id]


def test_bulk_qualify_with_ignore_creates_new_records_for_leads_with_duplicates(database, actor):
    make_account(database, actor, name="Muebles Ibéricos S.L.")
    lead = make_lead(database, actor, company_name="Muebles Ibéricos S.L.")

    outcomes = list(
        bulk.qualify_leads([lead.id], QualifyOptions(duplicate_resolution="ignore"), database=database, actor=actor)
    )

    assert outcomes[0].ok and outcomes[0].result.account_id is not None
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Account)) == 2
