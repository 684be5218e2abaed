"""The pipeline board: the open opportunities one may read, in a column per sales stage, with the
column totals in the organisation's base currency; and moving a card to another stage.

Columns. An opportunity's sales process runs Develop → Propose → Close: the Qualify stage belongs to
the lead (``leadflow.process.flow``: an opportunity is created at Develop and ``move_stage`` refuses
to take it back to Qualify), so no opportunity can stand at Qualify and the board has three columns.

Totals are set-based aggregates over every matching opportunity, not only the cards shown: the count,
the estimated revenue in base currency (``estimated_revenue_base``, converted at the rate captured
when the amount was saved, as Dynamics' ``_base`` twins) and the same weighted by probability (an
opportunity without a probability weighs nothing). Each column shows its first ``limit`` cards, the
soonest estimated close date first (those without one last).

Moving a card runs ``move_stage`` once per stage between the card's stage and the target, in the
caller's unit of work: a move of two stages is both steps or neither.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, and_, exists, func, or_, select, true, type_coerce

from leadflow.core.db import MONEY_SCALE
from leadflow.core.errors import InvalidState, ValidationFailed
from leadflow.core.uow import UnitOfWork
from leadflow.customers.models import Account, Contact
from leadflow.opportunities.models import CustomerKind, Opportunity, OpportunityState
from leadflow.organisation.models import Currency
from leadflow.organisation.service import get_settings, time_zone_of
from leadflow.process.flow import STAGE_NAMES, move_stage
from leadflow.reporting.periods import Period, PeriodKind, parse_period, period_containing
from leadflow.security.access import access_condition, get_accessible
from leadflow.security.actor import Actor
from leadflow.security.models import Team, TeamMember, User
from leadflow.security.privileges import Depth, Privilege

TABLE = "opportunities"
# Develop, Propose, Close: the stages an opportunity can stand at (see the module's docstring).
BOARD_STAGES: tuple[str, ...] = STAGE_NAMES[1:]
DEFAULT_CARDS = 25  # a column of a board is read at a glance; "Show more" goes up to MAX_CARDS
MAX_CARDS = 200


class Scope(enum.StrEnum):
    """Whose opportunities the board shows, always within what the user may read."""

    MINE = "mine"  # owned by the user
    TEAM = "team"  # owned by the user, by a team of theirs, or by a member of one of their teams
    ALL = "all"  # every opportunity the user may read


# Close-date filters named relative to today; any period key (2026-Q4, 2026-11, 2026) works too.
RELATIVE_PERIODS: dict[str, tuple[PeriodKind, int]] = {
    "this_month": (PeriodKind.MONTH, 0),
    "next_month": (PeriodKind.MONTH, 1),
    "this_quarter": (PeriodKind.QUARTER, 0),
    "next_quarter": (PeriodKind.QUARTER, 1),
    "this_year": (PeriodKind.YEAR, 0),
}
OVERDUE = "overdue"  # an estimated close date before today
NO_DATE = "no_date"  # no estimated close date
CLOSE_DATE_CHOICES = (OVERDUE, *RELATIVE_PERIODS, NO_DATE)


@dataclass(frozen=True)
class BoardQuery:
    """What the board shows: whose opportunities, one owner's, which close dates, weighted totals."""

    scope: Scope = Scope.ALL
    owner_user_id: uuid.UUID | None = None
    close_date: str | None = None  # one of CLOSE_DATE_CHOICES or a period key; None: any
    weighted: bool = False
    limit: int = DEFAULT_CARDS


@dataclass(frozen=True)
class Card:
    """One open opportunity as its card shows it; the customer is named only when the user may read it."""

    id: uuid.UUID
    name: str
    stage: str
    customer_kind: CustomerKind | None
    customer_id: uuid.UUID | None
    customer_name: str | None
    owner_name: str | None
    estimated_revenue: Decimal | None
    currency: str | None
    estimated_revenue_base: Decimal | None
    estimated_close_date: date | None
    probability: int | None
    rating: str | None
    movable: bool  # the user holds Write on it: the card may be moved to another stage


@dataclass(frozen=True)
class Column:
    """A stage's cards (the first ``limit``) and the totals of every opportunity at that stage."""

    stage: str
    count: int
    total: Decimal
    weighted_total: Decimal
    cards: list[Card]

    @property
    def hidden(self) -> int:
        """How many opportunities of the column have no card shown."""
        return self.count - len(self.cards)


@dataclass(frozen=True)
class Board:
    columns: list[Column]
    base_currency: str
    query: BoardQuery
    close_period: Period | None  # the period the close-date filter resolved to, if it names one
    today: date
    scopes: tuple[Scope, ...] = field(default=tuple(Scope))

    @property
    def count(self) -> int:
        return sum(column.count for column in self.columns)

    @property
    def total(self) -> Decimal:
        return sum((column.total for column in self.columns), Decimal(0))

    @property
    def weighted_total(self) -> Decimal:
        return sum((column.weighted_total for column in self.columns), Decimal(0))


@dataclass(frozen=True)
class StageMove:
    """A card moved: from which stage to which, in how many single-stage steps (negative: backwards)."""

    opportunity_id: uuid.UUID
    previous_stage: str
    stage: str
    steps: int


# ---------------------------------------------------------------------------------------------- filters


def scopes_for(actor: Actor) -> tuple[Scope, ...]:
    """The scopes worth offering: "my team's" only to members of a team. "All" is always offered: it is
    everything the user may read, their business unit's or the organisation's as their role allows,
    and what is shared with them."""
    return (Scope.MINE, Scope.TEAM, Scope.ALL) if actor.team_ids else (Scope.MINE, Scope.ALL)


def scope_condition(actor: Actor, scope: Scope) -> ColumnElement[bool]:
    """Whose opportunities a scope keeps (access is checked apart)."""
    if scope is Scope.MINE:
        return Opportunity.owner_user_id == actor.user_id
    if scope is Scope.TEAM:
        if not actor.team_ids:
            return Opportunity.owner_user_id == actor.user_id
        teammates = select(TeamMember.user_id).where(TeamMember.team_id.in_(actor.team_ids))
        return or_(
            Opportunity.owner_user_id == actor.user_id,
            Opportunity.owner_team_id.in_(actor.team_ids),
            Opportunity.owner_user_id.in_(teammates),
        )
    return true()


def close_date_period(value: str | None, *, today: date) -> tuple[ColumnElement[bool], Period | None]:
    """The condition of a close-date filter on the estimated close date, and the period it names."""
    if value is None or value == "":
        return true(), None
    if value == OVERDUE:
        return Opportunity.estimated_close_date < today, None
    if value == NO_DATE:
        return Opportunity.estimated_close_date.is_(None), None
    if value in RELATIVE_PERIODS:
        kind, steps = RELATIVE_PERIODS[value]
        period = period_containing(today, kind).following(steps)
    else:
        period = parse_period(value, field="close_date")
    return in_period(Opportunity.estimated_close_date, period), period


def in_period(column: Any, period: Period) -> ColumnElement[bool]:
    """A date column within a period."""
    return and_(column >= period.start, column < period.end)


def today_of(actor: Actor, *, uow: UnitOfWork) -> date:
    """Today where the user is (their time zone, else the organisation's)."""
    return datetime.now(time_zone_of(actor, session=uow.session)).date()


def base_currency(uow: UnitOfWork) -> Currency | None:
    """The organisation's base currency."""
    settings = get_settings(uow.session)
    return uow.session.get(Currency, settings.base_currency_id) if settings.base_currency_id else None


def units(value: Any, scale: int = MONEY_SCALE) -> Decimal:
    """A sum of stored money units (1/10,000) as an amount; ``scale`` more places for weighted sums."""
    return Decimal(int(value or 0)).scaleb(-scale)


def stored(column: Any) -> Any:
    """A money column as its stored integer, so that sums add exact units on every database."""
    return type_coerce(column, BigInteger)


def weighted_units(column: Any) -> Any:
    """The stored amount times the probability (0 when none), in units of 1/1,000,000."""
    return stored(column) * func.coalesce(Opportunity.probability, 0)


# ---------------------------------------------------------------------------------------------- the board


def board(query: BoardQuery, *, uow: UnitOfWork, actor: Actor, today: date | None = None) -> Board:
    """The board of the open opportunities the user may read that match ``query``."""
    session = uow.session
    today = today or today_of(actor, uow=uow)
    by_close_date, period = close_date_period(query.close_date, today=today)
    conditions = [
        access_condition(actor, Privilege.READ, TABLE, Opportunity),
        Opportunity.state == OpportunityState.OPEN,
        Opportunity.process_stage.in_(BOARD_STAGES),
        scope_condition(actor, query.scope),
        by_close_date,
    ]
    if query.owner_user_id is not None:
        conditions.append(Opportunity.owner_user_id == query.owner_user_id)
    totals = {
        stage: (count, units(total), units(weighted, MONEY_SCALE + 2))
        for stage, count, total, weighted in session.execute(
            select(
                Opportunity.process_stage,
                func.count(),
                func.sum(stored(Opportunity.estimated_revenue_base)),
                func.sum(weighted_units(Opportunity.estimated_revenue_base)),
            )
            .where(*conditions)
            .group_by(Opportunity.process_stage)
        )
    }
    limit = max(1, min(query.limit, MAX_CARDS))
    shown = {stage: _first_cards(session, actor, conditions, stage, limit) for stage in BOARD_STAGES}
    cards = _cards(session, actor, [opportunity for rows in shown.values() for opportunity in rows])
    base = base_currency(uow)
    quantum = Decimal(1).scaleb(-(base.precision if base is not None else 2))
    columns = []
    for stage in BOARD_STAGES:
        count, total, weighted = totals.get(stage, (0, Decimal(0), Decimal(0)))
        columns.append(
            Column(
                stage,
                count,
                total.quantize(quantum),
                weighted.quantize(quantum),
                [cards[row.id] for row in shown[stage]],
            )
        )
    return Board(columns, base.iso_code if base is not None else "EUR", query, period, today, scopes_for(actor))


# The columns a card needs; whole records are not loaded.
_CARD_COLUMNS = (
    Opportunity.id,
    Opportunity.name,
    Opportunity.process_stage,
    Opportunity.customer_kind,
    Opportunity.customer_id,
    Opportunity.owner_user_id,
    Opportunity.owner_team_id,
    Opportunity.estimated_revenue,
    Opportunity.currency_id,
    Opportunity.estimated_revenue_base,
    Opportunity.estimated_close_date,
    Opportunity.probability,
    Opportunity.rating,
)


def _first_cards(session: Any, actor: Actor, conditions: list[Any], stage: str, limit: int) -> list[Any]:
    """A stage's first ``limit`` opportunities by estimated close date, then those without one.

    Two queries rather than one ``NULLS LAST`` order: each reads an index on the close date in its
    own order on both databases and stops at the limit.
    """
    at_stage = [*conditions, Opportunity.process_stage == stage]
    order = (Opportunity.estimated_close_date, Opportunity.name, Opportunity.id)
    columns = (*_CARD_COLUMNS, access_condition(actor, Privilege.WRITE, TABLE, Opportunity).label("movable"))
    dated = session.execute(
        select(*columns).where(*at_stage, Opportunity.estimated_close_date.is_not(None)).order_by(*order).limit(limit)
    ).all()
    if len(dated) == limit:
        return list(dated)
    undated = session.execute(
        select(*columns)
        .where(*at_stage, Opportunity.estimated_close_date.is_(None))
        .order_by(Opportunity.name, Opportunity.id)
        .limit(limit - len(dated))
    ).all()
    return [*dated, *undated]


def _cards(session: Any, actor: Actor, rows: list[Any]) -> dict[uuid.UUID, Card]:
    """The cards of these rows, with the names of their customers (those the user may read) and owners."""
    accounts = _readable_names(
        session, actor, Account, Account.name, {r.customer_id for r in rows if r.customer_kind is CustomerKind.ACCOUNT}
    )
    contacts = _readable_names(
        session,
        actor,
        Contact,
        Contact.full_name,
        {r.customer_id for r in rows if r.customer_kind is CustomerKind.CONTACT},
    )
    owners = _owner_names(session, rows)
    codes: dict[uuid.UUID, str] = dict(session.execute(select(Currency.id, Currency.iso_code)).all())
    cards = {}
    for row in rows:
        customer = (
            accounts.get(row.customer_id)
            if row.customer_kind is CustomerKind.ACCOUNT
            else contacts.get(row.customer_id)
        )
        cards[row.id] = Card(
            id=row.id,
            name=row.name,
            stage=row.process_stage,
            customer_kind=row.customer_kind if customer is not None else None,
            customer_id=row.customer_id if customer is not None else None,
            customer_name=customer,
            owner_name=owners.get(row.owner_user_id or row.owner_team_id),
            estimated_revenue=row.estimated_revenue,
            currency=codes.get(row.currency_id) if row.currency_id else None,
            estimated_revenue_base=row.estimated_revenue_base,
            estimated_close_date=row.estimated_close_date,
            probability=row.probability,
            rating=row.rating.value if row.rating is not None else None,
            movable=bool(row.movable),
        )
    return cards


def _readable_names(session: Any, actor: Actor, model: Any, name: Any, ids: set[Any]) -> dict[uuid.UUID, str]:
    wanted = {record_id for record_id in ids if record_id is not None}
    if not wanted:
        return {}
    readable = access_condition(actor, Privilege.READ, model.__tablename__, model)
    return dict(session.execute(select(model.id, name).where(model.id.in_(wanted), readable)).all())


def _owner_names(session: Any, rows: list[Any]) -> dict[uuid.UUID, str]:
    names: dict[uuid.UUID, str] = {}
    users = {row.owner_user_id for row in rows if row.owner_user_id is not None}
    teams = {row.owner_team_id for row in rows if row.owner_team_id is not None}
    if users:
        names.update(session.execute(select(User.id, User.full_name).where(User.id.in_(users))).all())
    if teams:
        names.update(session.execute(select(Team.id, Team.name).where(Team.id.in_(teams))).all())
    return names


def board_owners(*, uow: UnitOfWork, actor: Actor) -> list[tuple[uuid.UUID, str]]:
    """The choices of the owner filter, by name: the users within the reach of the user's Read privilege
    on opportunities (themselves, their business unit, its subtree or everyone) who own an open one.

    Read from the users, one index probe each, rather than from the opportunities the user may read:
    that would read every open opportunity to find a handful of owners.
    """
    reach = actor.depth(TABLE, Privilege.READ)
    in_reach = {
        Depth.NONE: User.id == actor.user_id,
        Depth.USER: User.id == actor.user_id,
        Depth.BUSINESS_UNIT: User.business_unit_id == actor.business_unit_id,
        Depth.PARENT_CHILD: User.business_unit_id.in_(actor.unit_subtree),
        Depth.ORGANIZATION: true(),
    }[reach]
    owns_open = exists().where(Opportunity.owner_user_id == User.id, Opportunity.state == OpportunityState.OPEN)
    rows = uow.session.execute(
        select(User.id, User.full_name).where(in_reach, owns_open).order_by(User.full_name, User.id)
    ).all()
    return [(user_id, name) for user_id, name in rows]


# ---------------------------------------------------------------------------------------------- moving a card


def move_to_stage(opportunity_id: uuid.UUID, stage: str, *, uow: UnitOfWork, actor: Actor) -> StageMove:
    """Move an open opportunity to a stage of the board, one ``move_stage`` per stage in between.

    Every step is checked as the process flow checks a single move (Write on the opportunity, open,
    never back to Qualify); the steps share the caller's unit of work, so a refused step undoes the
    earlier ones. Moving a card to the stage it is at changes nothing.
    """
    if stage not in STAGE_NAMES:
        message = f"{stage!r} is not a stage of the board: choose one of {', '.join(BOARD_STAGES)}."
        raise ValidationFailed(
            f"stage: {message}",
            code="unknown_stage",
            details={"fields": [{"field": "stage", "code": "unknown_stage", "message": message}]},
        )
    if stage not in BOARD_STAGES:
        raise InvalidState(
            "An opportunity cannot go back to Qualify; that stage belongs to the lead.",
            code="qualify_stage_is_on_the_lead",
        )
    # Locked first: the number of steps is counted from the stage no concurrent move can change.
    opportunity = get_accessible(
        uow.session,
        Opportunity,
        opportunity_id,
        label="opportunity",
        actor=actor,
        privilege=Privilege.WRITE,
        for_update=True,
    )
    opportunity.ensure_editable()
    previous = opportunity.process_stage
    steps = STAGE_NAMES.index(stage) - STAGE_NAMES.index(previous)
    for _ in range(abs(steps)):
        move_stage(opportunity_id, forward=steps > 0, uow=uow, actor=actor)
    return StageMove(opportunity_id, previous, stage, steps)
