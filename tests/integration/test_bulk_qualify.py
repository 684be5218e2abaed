"""Qualifying many leads at once (§2.6): each lead atomic on its own, results per lead, streamed."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from leadflow.core.errors import ValidationFailed
from leadflow.customers.models import Account, Contact
from leadflow.leads import bulk, qualification, service
from leadflow.leads.models import Lead, LeadState, LeadStatusReason
from leadflow.leads.schemas import QualifyOptions
from leadflow.opportunities.models import Opportunity
from tests.factories import make_lead


def test_qualify_many_reports_each_lead_and_continues_past_failures(database, actor):
    good = [make_lead(database, actor) for _ in range(3)]
    closed = make_lead(database, actor)
    with database.unit_of_work() as uow:
        service.disqualify_lead(closed.id, LeadStatusReason.LOST, uow=uow, actor=actor)
        uow.commit()
    unknown = uuid.uuid4()
    ids = [good[0].id, closed.id, good[1].id, unknown, good[2].id]

    outcomes = list(bulk.qualify_leads(ids, QualifyOptions(), database=database, actor=actor, batch_size=2))

    assert [o.lead_id for o in outcomes] == ids
    assert [o.ok for o in outcomes] == [True, False, True, False, True]
    assert outcomes[1].error.code == "lead_closed"
    assert outcomes[3].error.code == "lead_not_found"
    with database.unit_of_work(read_only=True) as uow:
        states = {lead.id: lead.state for lead in uow.session.scalars(select(Lead))}
        accounts = uow.session.scalar(select(func.count()).select_from(Account))
    assert all(states[lead.id] is LeadState.QUALIFIED for lead in good)
    assert states[closed.id] is LeadState.DISQUALIFIED
    assert accounts == 3


def test_a_lead_the_database_refuses_mid_batch_leaves_no_partial_records(database, actor, monkeypatch):
    leads = [make_lead(database, actor) for _ in range(3)]
    real_plan, real_write = qualification.plan_qualification, qualification.write_qualifications

    def plan_with_a_broken_account(lead, context, **keywords):
        pending = real_plan(lead, context, **keywords)
        if lead.id == leads[1].id:  # an opportunity without a name: the database's NOT NULL refuses it
            pending.rows[qualification.OPPORTUNITIES][0]["name"] = None
        return pending

    # Any failure of the fast path sends the batch lead by lead, a TypeError from a stand-in that does
    # not take the real arguments too: what the fast path met is recorded, so that only the database's
    # refusal of the whole batch counts.
    batch_refusals: list[tuple[int, Exception]] = []

    def write_recording_refusals(session, pending, *, actor):
        try:
            real_write(session, pending, actor=actor)
        except Exception as error:
            batch_refusals.append((len(pending), error))
            raise

    # Both paths plan with it: the batch at once, then lead by lead once the database refuses the batch.
    monkeypatch.setattr(bulk, "plan_qualification", plan_with_a_broken_account)
    monkeypatch.setattr(qualification, "plan_qualification", plan_with_a_broken_account)
    monkeypatch.setattr(bulk, "write_qualifications", write_recording_refusals)
    outcomes = list(bulk.qualify_leads([lead.id for lead in leads], QualifyOptions(), database=database, actor=actor))

    assert [(size, type(error)) for size, error in batch_refusals] == [
        (3, IntegrityError)
    ]  # the whole batch reached it
    assert [o.ok for o in outcomes] == [True, False, True]
    assert outcomes[1].error.code == "lead_not_saved"
    reason = outcomes[1].error.details["reason"]
    assert "opportunities" in reason and "name" in reason  # the careful path met the same refusal, for this lead only
    # The opportunity is written after the lead's account and contact: refusing it takes those back too.
    with database.unit_of_work(read_only=True) as uow:
        originating = {
            model.__tablename__: set(uow.session.scalars(select(model.originating_lead_id)))
            for model in (Account, Contact, Opportunity)
        }
        second = uow.session.get(Lead, leads[1].id)
    assert originating == dict.fromkeys(("accounts", "contacts", "opportunities"), {leads[0].id, leads[2].id})
    assert second.state is LeadState.OPEN


def test_qualify_many_consumes_lead_ids_lazily_batch_by_batch(database, actor):
    leads = [make_lead(database, actor) for _ in range(5)]
    consumed: list[uuid.UUID] = []

    def ids():
        for lead in leads:
            consumed.append(lead.id)
            yield lead.id

    stream = bulk.qualify_leads(ids(), QualifyOptions(), database=database, actor=actor, batch_size=2)
    first = next(stream)
    assert first.ok
    assert len(consumed) == 2  # only the first batch was read
    assert sum(1 for _ in stream) == 4


def test_bad_options_are_refused_before_any_lead_is_touched(database, actor):
    lead = make_lead(database, actor)
    stream = bulk.qualify_leads([lead.id], QualifyOptions(opportunity_currency="XXX"), database=database, actor=actor)
    try:
        next(stream)
        raise AssertionError("expected a refusal")
    except ValidationFailed as refused:
        assert refused.code in {"currency_not_enabled", "invalid_currency"}
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.get(Lead, lead.id).state is LeadState.OPEN


def test_each_qualified_lead_is_written_once(database, actor):
    leads = [make_lead(database, actor) for _ in range(3)]
    list(bulk.qualify_leads([lead.id for lead in leads], QualifyOptions(), database=database, actor=actor))
    with database.unit_of_work(read_only=True) as uow:
        versions = {uow.session.get(Lead, lead.id).row_version for lead in leads}
    assert versions == {leads[0].row_version + 1}
