"""Opportunities close as won or lost, stay read-only while closed, and reopen (Dynamics' lifecycle),
on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from leadflow.activities.models import RegardingTable
from leadflow.activities.service import add_note
from leadflow.core.errors import Conflict, Forbidden, InvalidState, LeadflowError, NotFound, ValidationFailed
from leadflow.opportunities import closing
from leadflow.opportunities.competitors import create_competitor, delete_competitor
from leadflow.opportunities.models import (
    CloseState,
    Opportunity,
    OpportunityClose,
    OpportunityCompetitor,
    OpportunityState,
    OpportunityStatusReason,
    ProcessStatus,
)
from leadflow.opportunities.schemas import (
    CompetitorCreate,
    LoseOpportunity,
    OpportunityCreate,
    OpportunityUpdate,
    WinOpportunity,
)
from leadflow.opportunities.service import create_opportunity, update_opportunity
from leadflow.process.flow import move_stage
from leadflow.security.actor import actor_for_email
from leadflow.security.service import create_user


def make_opportunity(database, actor, **values) -> Opportunity:
    with database.unit_of_work() as uow:
        data = OpportunityCreate(
            name=values.pop("name", "Fleet renewal"), estimated_revenue=Decimal("25000.50"), **values
        )
        opportunity = create_opportunity(data, uow=uow, actor=actor, suppress_duplicates=True)
        uow.commit()
    return opportunity


def make_competitor(database, actor, name: str = "Dormobel") -> uuid.UUID:
    with database.unit_of_work() as uow:
        competitor = create_competitor(CompetitorCreate(name=name, website="dormobel.example"), uow=uow, actor=actor)
        uow.commit()
    return competitor.id


def reload(database, opportunity_id: uuid.UUID) -> Opportunity:
    with database.unit_of_work(read_only=True) as uow:
        opportunity = uow.session.get(Opportunity, opportunity_id)
        uow.session.expunge(opportunity)
    return opportunity


def closes_of(database, opportunity_id: uuid.UUID) -> list[OpportunityClose]:
    with database.unit_of_work(read_only=True) as uow:
        rows = list(
            uow.session.scalars(
                select(OpportunityClose)
                .where(OpportunityClose.opportunity_id == opportunity_id)
                .order_by(OpportunityClose.created_at)
            )
        )
        uow.session.expunge_all()
    return rows


def test_winning_takes_the_estimated_revenue_and_today_and_writes_a_close_record(database, actor):
    opportunity = make_opportunity(database, actor)
    with database.unit_of_work() as uow:
        won = closing.win_opportunity(opportunity.id, WinOpportunity(description="Signed"), uow=uow, actor=actor)
        uow.commit()
    assert (won.state, won.status_reason) == (OpportunityState.WON, OpportunityStatusReason.WON)
    stored = reload(database, opportunity.id)
    assert stored.actual_revenue == Decimal("25000.50")
    # The organisation's zone decides "today" for an actor without one of their own.
    assert stored.actual_close_date in {datetime.now(ZoneInfo(zone)).date() for zone in ("UTC", "Europe/Madrid")}
    assert stored.process_status is ProcessStatus.FINISHED
    assert stored.closed_at is not None
    [record] = closes_of(database, opportunity.id)
    assert (record.state, record.opportunity_state, record.status_reason) == (
        CloseState.COMPLETED,
        OpportunityState.WON,
        OpportunityStatusReason.WON,
    )
    assert (record.actual_revenue, record.description, record.closed_by_id) == (
        Decimal("25000.50"),
        "Signed",
        actor.user_id,
    )


def test_winning_with_an_actual_revenue_and_date_keeps_them(database, actor):
    opportunity = make_opportunity(database, actor)
    with database.unit_of_work() as uow:
        closing.win_opportunity(
            opportunity.id,
            WinOpportunity(actual_revenue=Decimal("12000"), close_date=date(2026, 12, 1)),
            uow=uow,
            actor=actor,
        )
        uow.commit()
    stored = reload(database, opportunity.id)
    assert (stored.actual_revenue, stored.actual_close_date) == (Decimal("12000"), date(2026, 12, 1))


def test_out_sold_without_a_competitor_is_refused_naming_the_field_and_changes_nothing(database, actor):
    opportunity = make_opportunity(database, actor)
    with database.unit_of_work() as uow, pytest.raises(ValidationFailed) as refused:
        closing.lose_opportunity(opportunity.id, LoseOpportunity(status_reason="out_sold"), uow=uow, actor=actor)
    assert refused.value.code == "competitor_required"
    assert [field["field"] for field in refused.value.details["fields"]] == ["competitor_id"]
    stored = reload(database, opportunity.id)
    assert (stored.state, stored.row_version) == (OpportunityState.OPEN, opportunity.row_version)
    assert closes_of(database, opportunity.id) == []


def test_losing_to_a_competitor_links_it_to_the_opportunity(database, actor):
    opportunity = make_opportunity(database, actor)
    competitor_id = make_competitor(database, actor)
    with database.unit_of_work() as uow:
        lost = closing.lose_opportunity(
            opportunity.id,
            LoseOpportunity(status_reason="out_sold", competitor_id=competitor_id, actual_revenue=0),
            uow=uow,
            actor=actor,
        )
        uow.commit()
    assert (lost.state, lost.status_reason) == (OpportunityState.LOST, OpportunityStatusReason.OUT_SOLD)
    [record] = closes_of(database, opportunity.id)
    assert record.competitor_id == competitor_id
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.get(OpportunityCompetitor, (opportunity.id, competitor_id)) is not None
    with database.unit_of_work() as uow, pytest.raises(Conflict) as refused:
        delete_competitor(competitor_id, uow=uow, actor=actor)
    assert refused.value.code == "competitor_in_use"


def test_an_unknown_competitor_is_not_found_and_nothing_closes(database, actor):
    opportunity = make_opportunity(database, actor)
    with database.unit_of_work() as uow, pytest.raises(NotFound):
        closing.lose_opportunity(
            opportunity.id, LoseOpportunity(status_reason="out_sold", competitor_id=uuid.uuid4()), uow=uow, actor=actor
        )
    assert reload(database, opportunity.id).state is OpportunityState.OPEN


def test_a_closed_opportunity_is_read_only(database, actor):
    opportunity = make_opportunity(database, actor)
    with database.unit_of_work() as uow:
        closing.lose_opportunity(opportunity.id, LoseOpportunity(), uow=uow, actor=actor)
        uow.commit()
    attempts = {
        "update": lambda uow: update_opportunity(opportunity.id, OpportunityUpdate(name="Other"), uow=uow, actor=actor),
        "win": lambda uow: closing.win_opportunity(opportunity.id, WinOpportunity(), uow=uow, actor=actor),
        "lose": lambda uow: closing.lose_opportunity(opportunity.id, LoseOpportunity(), uow=uow, actor=actor),
        "stage": lambda uow: move_stage(opportunity.id, forward=True, uow=uow, actor=actor),
        "note": lambda uow: add_note(
            RegardingTable.OPPORTUNITIES,
            opportunity.id,
            title="x",
            body="y",
            attachment=None,
            max_attachment_bytes=1000,
            uow=uow,
            actor=actor,
        ),
    }
    for name, attempt in attempts.items():
        with database.unit_of_work() as uow, pytest.raises(InvalidState) as refused:
            attempt(uow)
        assert refused.value.code == "opportunity_closed", name
    stored = reload(database, opportunity.id)
    assert (stored.name, stored.state, stored.process_stage) == ("Fleet renewal", OpportunityState.LOST, "develop")
    assert len(closes_of(database, opportunity.id)) == 1


def test_reopening_clears_the_close_and_cancels_the_close_records_which_stay(database, actor):
    opportunity = make_opportunity(database, actor)
    with database.unit_of_work() as uow:
        closing.win_opportunity(opportunity.id, WinOpportunity(), uow=uow, actor=actor)
        uow.commit()
    with database.unit_of_work() as uow:
        reopened = closing.reopen_opportunity(opportunity.id, uow=uow, actor=actor)
        uow.commit()
    assert (reopened.state, reopened.status_reason) == (OpportunityState.OPEN, OpportunityStatusReason.IN_PROGRESS)
    stored = reload(database, opportunity.id)
    assert (stored.actual_revenue, stored.actual_close_date, stored.closed_at) == (None, None, None)
    assert stored.process_status is ProcessStatus.ACTIVE
    [record] = closes_of(database, opportunity.id)
    assert record.state is CloseState.CANCELED and record.canceled_at is not None
    with database.unit_of_work() as uow:  # open again: it closes again, with a second record
        closing.lose_opportunity(opportunity.id, LoseOpportunity(), uow=uow, actor=actor)
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        newest_first = closing.opportunity_closes(opportunity.id, uow=uow, actor=actor)
        assert [(c.state, c.opportunity_state) for c in newest_first] == [
            (CloseState.COMPLETED, OpportunityState.LOST),
            (CloseState.CANCELED, OpportunityState.WON),
        ]


def test_reopening_an_open_opportunity_is_refused(database, actor):
    opportunity = make_opportunity(database, actor)
    with database.unit_of_work() as uow, pytest.raises(InvalidState) as refused:
        closing.reopen_opportunity(opportunity.id, uow=uow, actor=actor)
    assert refused.value.code == "opportunity_open"


def test_a_stale_version_is_refused(database, actor):
    opportunity = make_opportunity(database, actor)
    with database.unit_of_work() as uow, pytest.raises(Conflict):
        closing.win_opportunity(
            opportunity.id, WinOpportunity(), uow=uow, actor=actor, expected_version=opportunity.row_version + 1
        )
    assert reload(database, opportunity.id).state is OpportunityState.OPEN


def test_a_seller_cannot_close_what_they_may_not_write(database, actor):
    opportunity = make_opportunity(database, actor)
    with database.unit_of_work() as uow:
        create_user(
            email="member@example.com",
            full_name="Team member",
            role_names=["Sales Team Member"],
            business_unit_name=None,
            password=None,
            uow=uow,
            actor=actor,
        )
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        member = actor_for_email(uow.session, "member@example.com")
    with database.unit_of_work() as uow, pytest.raises(Forbidden):
        closing.win_opportunity(opportunity.id, WinOpportunity(), uow=uow, actor=member)
    with database.unit_of_work() as uow, pytest.raises(Forbidden):
        create_competitor(CompetitorCreate(name="Rival"), uow=uow, actor=member)
    assert reload(database, opportunity.id).state is OpportunityState.OPEN


@pytest.mark.concurrency
def test_two_sellers_closing_at_once_exactly_one_succeeds(database, actor):
    opportunity = make_opportunity(database, actor)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def close(win: bool) -> None:
        barrier.wait()
        try:
            with database.unit_of_work() as uow:
                if win:
                    closing.win_opportunity(
                        opportunity.id, WinOpportunity(), uow=uow, actor=actor, expected_version=opportunity.row_version
                    )
                else:
                    closing.lose_opportunity(
                        opportunity.id,
                        LoseOpportunity(),
                        uow=uow,
                        actor=actor,
                        expected_version=opportunity.row_version,
                    )
                uow.commit()
            outcomes.append("closed")
        except (Conflict, InvalidState) as refusal:
            outcomes.append(refusal.code)
        except LeadflowError as other:  # pragma: no cover - reported by the assertion below
            outcomes.append(f"unexpected {other.code}")

    threads = [threading.Thread(target=close, args=(win,)) for win in (True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes)[0] == "closed" and outcomes.count("closed") == 1, outcomes
    assert len(closes_of(database, opportunity.id)) == 1
    with database.unit_of_work(read_only=True) as uow:
        count = uow.session.scalar(select(func.count()).select_from(OpportunityClose))
    assert count == 1
