"""The dashboard's figures (leadflow.reporting.dashboard) against counts made independently, on both databases."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, update

from leadflow.core.schemas import parse
from leadflow.leads import service as leads
from leadflow.leads.models import Lead, LeadSource, LeadStatusReason
from leadflow.leads.schemas import QualifyOptions
from leadflow.opportunities import service as opportunities
from leadflow.opportunities.models import Opportunity, OpportunityState
from leadflow.opportunities.schemas import OpportunityCreate
from leadflow.organisation.models import Currency
from leadflow.process.flow import move_stage
from leadflow.reporting.dashboard import (
    OPPORTUNITY_STAGES,
    dashboard_figures,
    leads_by_source,
    leads_by_status,
    opportunities_by_stage,
    qualification_by_week,
)
from leadflow.security.actor import actor_for_email
from leadflow.security.service import create_business_unit, create_user
from tests.factories import make_lead

# A Wednesday: its week starts on Monday 2026-11-23.
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def salesperson_of_another_unit(database, email="north@example.com"):
    with database.unit_of_work() as uow:
        create_business_unit("North", parent_name=None, uow=uow, actor=None)
        create_user(
            email=email,
            full_name="Nora North",
            role_names=["Salesperson"],
            business_unit_name="North",
            password=None,
            uow=uow,
            actor=None,
        )
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        return actor_for_email(uow.session, email)


def make_opportunity(database, actor, **values):
    with database.unit_of_work() as uow:
        opportunity = opportunities.create_opportunity(parse(OpportunityCreate, values), uow=uow, actor=actor)
        uow.commit()
    return opportunity


def qualify(database, actor, lead):
    with database.unit_of_work() as uow:
        result = leads.qualify_lead(lead.id, QualifyOptions(), uow=uow, actor=actor)
        uow.commit()
    return result


def set_created_at(database, lead, when):
    with database.unit_of_work() as uow:
        uow.session.execute(update(Lead).where(Lead.id == lead.id).values(created_at=when))
        uow.commit()


def test_leads_by_status_and_by_source_equal_a_count_of_every_lead(database, actor):
    for source in ("web", "web", "partner", None):
        make_lead(database, actor, lead_source=source)
    qualify(database, actor, make_lead(database, actor, lead_source="seminar"))
    lost = make_lead(database, actor, lead_source="web")
    with database.unit_of_work() as uow:
        leads.disqualify_lead(lost.id, LeadStatusReason.LOST, uow=uow, actor=actor)
        uow.commit()

    with database.unit_of_work(read_only=True) as uow:
        every_lead = list(uow.session.scalars(select(Lead)))
        by_status = leads_by_status(uow=uow, actor=actor)
        by_source = leads_by_source(uow=uow, actor=actor)

    expected_status = Counter(lead.status_reason.value for lead in every_lead)
    expected_source = Counter(lead.lead_source.value if lead.lead_source else None for lead in every_lead)
    assert {item.key: item.count for item in by_status} == {
        reason.value: expected_status.get(reason.value, 0) for reason in LeadStatusReason
    }
    assert [item.key for item in by_status] == [reason.value for reason in LeadStatusReason]
    assert {item.key: item.count for item in by_source} == {
        **{source.value: expected_source.get(source.value, 0) for source in LeadSource},
        None: expected_source.get(None, 0),
    }
    assert (expected_status["qualified"], expected_status["lost"], expected_source["web"], expected_source[None]) == (
        1,
        1,
        3,
        1,
    )


def test_a_salesperson_counts_only_the_records_of_their_business_unit(database, actor):
    for _ in range(3):
        make_lead(database, actor)
    make_opportunity(database, actor, name="Head office deal", estimated_revenue="1000")
    north = salesperson_of_another_unit(database)
    make_lead(database, north, lead_source="web")
    make_opportunity(database, north, name="North deal", estimated_revenue="200")

    with database.unit_of_work(read_only=True) as uow:
        theirs = dashboard_figures(uow=uow, actor=north, now=NOW)
        everything = dashboard_figures(uow=uow, actor=actor, now=NOW)

    assert theirs.total_leads == 1
    assert theirs.open_opportunities == 1 and theirs.pipeline_revenue == Decimal("200.00")
    assert {item.key: item.count for item in theirs.leads_by_source}["web"] == 1
    assert everything.total_leads == 4
    assert everything.open_opportunities == 2 and everything.pipeline_revenue == Decimal("1200.00")


def test_the_weekly_rate_is_the_share_of_each_weeks_new_leads_that_is_qualified_now(database, actor):
    this_week = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    two_weeks_ago = this_week - timedelta(weeks=2)
    too_old = this_week - timedelta(weeks=12)
    placed = {
        "this week, qualified": (this_week, True),
        "this week, open": (this_week + timedelta(days=1), False),
        "two weeks ago, qualified a": (two_weeks_ago, True),
        "two weeks ago, qualified b": (two_weeks_ago + timedelta(days=6, hours=14), True),
        "two weeks ago, open": (two_weeks_ago + timedelta(days=3), False),
        "thirteen weeks ago": (too_old + timedelta(days=6), True),
    }
    for topic, (created_at, qualified) in placed.items():
        lead = make_lead(database, actor, topic=topic)
        if qualified:
            qualify(database, actor, lead)
        set_created_at(database, lead, created_at)

    with database.unit_of_work(read_only=True) as uow:
        weeks = qualification_by_week(uow=uow, actor=actor, now=NOW)

    assert len(weeks) == 12
    assert weeks[-1].week_start == this_week.date()
    assert weeks[0].week_start == (this_week - timedelta(weeks=11)).date()
    by_start = {week.week_start: week for week in weeks}
    assert (by_start[this_week.date()].created, by_start[this_week.date()].qualified) == (2, 1)
    assert by_start[this_week.date()].rate == 0.5
    assert (by_start[two_weeks_ago.date()].created, by_start[two_weeks_ago.date()].qualified) == (3, 2)
    assert by_start[(this_week - timedelta(weeks=1)).date()].rate is None
    assert sum(week.created for week in weeks) == 5  # the lead of thirteen weeks ago is outside the window


def test_pipeline_per_stage_counts_open_opportunities_and_converts_revenue_to_the_base_currency(database, actor):
    with database.unit_of_work() as uow:
        uow.session.execute(update(Currency).where(Currency.iso_code == "USD").values(exchange_rate=Decimal("1.25")))
        uow.commit()
    make_opportunity(database, actor, name="In euros", estimated_revenue="100")
    make_opportunity(database, actor, name="In dollars", estimated_revenue="125", currency="USD")
    make_opportunity(database, actor, name="Without revenue")
    proposing = make_opportunity(database, actor, name="Proposing", estimated_revenue="50.5")
    won = make_opportunity(database, actor, name="Already won", estimated_revenue="999")
    with database.unit_of_work() as uow:
        move_stage(proposing.id, forward=True, uow=uow, actor=actor)
        uow.session.execute(update(Opportunity).where(Opportunity.id == won.id).values(state=OpportunityState.WON))
        uow.commit()

    with database.unit_of_work(read_only=True) as uow:
        stages = {figure.stage: figure for figure in opportunities_by_stage(uow=uow, actor=actor)}

    assert list(stages) == list(OPPORTUNITY_STAGES) == ["develop", "propose", "close"]
    assert (stages["develop"].count, stages["develop"].estimated_revenue) == (3, Decimal("200.00"))
    assert (stages["propose"].count, stages["propose"].estimated_revenue) == (1, Decimal("50.50"))
    assert (stages["close"].count, stages["close"].estimated_revenue) == (0, Decimal("0.00"))

    # A new rate applies from a record's next save (or a recalculation), not to what it captured.
    with database.unit_of_work() as uow:
        uow.session.execute(update(Currency).where(Currency.iso_code == "USD").values(exchange_rate=Decimal("2")))
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        develop = opportunities_by_stage(uow=uow, actor=actor)[0]
    assert (develop.stage, develop.estimated_revenue) == ("develop", Decimal("200.00"))


def test_an_empty_organisation_has_zero_everywhere(database, actor):
    with database.unit_of_work(read_only=True) as uow:
        figures = dashboard_figures(uow=uow, actor=actor, now=NOW)
    assert figures.total_leads == 0 and figures.open_opportunities == 0
    assert all(week.created == 0 and week.rate is None for week in figures.qualification_by_week)
    assert figures.base_currency == "EUR"
