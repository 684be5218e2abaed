"""The sales forecast of one period (a month, a quarter or a year) per owner or per business unit.

Which opportunities belong to a period: an open one by its estimated close date, a won or lost one
by its actual close date. Per group (and in total) the forecast gives:

* **open pipeline**: the estimated revenue of the open opportunities;
* **weighted pipeline**: the same, each weighted by its probability (none: 0 %);
* **best case**: the estimated revenue of the open opportunities a seller rates likely, those with a
  probability of at least ``BEST_CASE_PROBABILITY`` % or rated Hot. Dynamics lets the seller pick a
  forecast category (Pipeline, Best case, Committed...) on each opportunity; leadflow has no such
  column, so best case is read from the two fields sellers already keep;
* **won** (committed): the actual revenue of the opportunities won (their estimated revenue when
  no actual revenue was given);
* **lost**: the estimated revenue of the opportunities lost, what was at stake;
* **win rate**: won / (won + lost), counted in opportunities, None when none closed.

Amounts are the ``_base`` twins (converted into the organisation's base currency at the rate
captured when the amount was saved), summed exactly as stored integers, and rounded to the base
currency's precision. Only the opportunities the user may read count.
"""

from __future__ import annotations

import csv
import enum
import io
import uuid
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, or_, select

from leadflow.core.db import MONEY_SCALE
from leadflow.core.errors import ValidationFailed
from leadflow.core.uow import UnitOfWork
from leadflow.opportunities.models import Opportunity, OpportunityState, Rating
from leadflow.reporting.board import base_currency, in_period, stored, today_of, units, weighted_units
from leadflow.reporting.periods import Period, PeriodKind, parse_period, period_containing
from leadflow.security.access import access_condition
from leadflow.security.actor import Actor
from leadflow.security.models import BusinessUnit, Team, User
from leadflow.security.privileges import Privilege

TABLE = "opportunities"
# An open opportunity at least this likely (or rated Hot) is in the best case.
BEST_CASE_PROBABILITY = 70
BEST_CASE_RULE = f"open, with a probability of at least {BEST_CASE_PROBABILITY} % or rated hot"


class GroupBy(enum.StrEnum):
    OWNER = "owner"
    BUSINESS_UNIT = "business_unit"


@dataclass(frozen=True)
class ForecastRow:
    """The figures of one owner (a user or a team) or business unit, or of them all (``group_kind`` total)."""

    group_kind: str  # "user", "team", "business_unit", "none" (no owner) or "total"
    group_id: uuid.UUID | None
    name: str | None
    open_count: int
    open_pipeline: Decimal
    weighted_pipeline: Decimal
    best_case_count: int
    best_case: Decimal
    won_count: int
    won: Decimal
    lost_count: int
    lost: Decimal
    win_rate: float | None


@dataclass(frozen=True)
class Forecast:
    period: str
    period_kind: PeriodKind
    start: date
    end: date  # the period's last day
    group_by: GroupBy
    base_currency: str
    best_case_rule: str
    rows: list[ForecastRow]
    total: ForecastRow


def grouping(value: GroupBy | str) -> GroupBy:
    """The grouping a name gives: owner or business_unit."""
    try:
        return GroupBy(value)
    except ValueError:
        message = f"{value!r} is no grouping: choose owner or business_unit."
        raise ValidationFailed(
            f"group_by: {message}",
            code="invalid_option",
            details={"fields": [{"field": "group_by", "code": "invalid_option", "message": message}]},
        ) from None


def default_period(*, uow: UnitOfWork, actor: Actor, kind: PeriodKind = PeriodKind.QUARTER) -> Period:
    """The current quarter (or month, or year) where the user is."""
    return period_containing(today_of(actor, uow=uow), kind)


def _best_case() -> Any:
    return or_(Opportunity.probability >= BEST_CASE_PROBABILITY, Opportunity.rating == Rating.HOT)


def _group_columns(group_by: GroupBy) -> tuple[Any, ...]:
    if group_by is GroupBy.OWNER:
        return (Opportunity.owner_user_id, Opportunity.owner_team_id)
    return (Opportunity.owning_business_unit_id,)


def _counter(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _amount(condition: Any, value: Any) -> Any:
    return func.sum(case((condition, value), else_=None))


def forecast(period: Period | str | None, group_by: GroupBy | str, *, uow: UnitOfWork, actor: Actor) -> Forecast:
    """The forecast of a period (a key such as 2026-Q4, 2026-11 or 2026; None: this quarter) per group."""
    if period is None:
        period = default_period(uow=uow, actor=actor)
    elif isinstance(period, str):
        period = parse_period(period)
    group_by = grouping(group_by)
    session = uow.session
    readable = access_condition(actor, Privilege.READ, TABLE, Opportunity)
    groups = _group_columns(group_by)
    width = len(groups)
    figures: dict[tuple[Any, ...], dict[str, Any]] = {}

    def figures_of(key: tuple[Any, ...]) -> dict[str, Any]:
        return figures.setdefault(key, dict(_NOTHING))

    best = _best_case()
    open_rows = session.execute(
        select(
            *groups,
            func.count(),
            func.sum(stored(Opportunity.estimated_revenue_base)),
            func.sum(weighted_units(Opportunity.estimated_revenue_base)),
            _counter(best),
            _amount(best, stored(Opportunity.estimated_revenue_base)),
        )
        .where(
            readable, Opportunity.state == OpportunityState.OPEN, in_period(Opportunity.estimated_close_date, period)
        )
        .group_by(*groups)
    )
    for row in open_rows:
        item = figures_of(tuple(row[:width]))
        count, total, weighted, best_count, best_total = row[width:]
        item.update(
            open_count=count, open=total or 0, weighted=weighted or 0, best_count=best_count, best=best_total or 0
        )

    won = Opportunity.state == OpportunityState.WON
    closed_rows = session.execute(
        select(
            *groups,
            _counter(won),
            _amount(
                won, func.coalesce(stored(Opportunity.actual_revenue_base), stored(Opportunity.estimated_revenue_base))
            ),
            _counter(~won),
            _amount(~won, stored(Opportunity.estimated_revenue_base)),
        )
        .where(
            readable,
            Opportunity.state.in_((OpportunityState.WON, OpportunityState.LOST)),
            in_period(Opportunity.actual_close_date, period),
        )
        .group_by(*groups)
    )
    for row in closed_rows:
        item = figures_of(tuple(row[:width]))
        won_count, won_total, lost_count, lost_total = row[width:]
        item.update(won_count=won_count, won=won_total or 0, lost_count=lost_count, lost=lost_total or 0)

    base = base_currency(uow)
    quantum = Decimal(1).scaleb(-(base.precision if base is not None else 2))
    names = _group_names(session, group_by, figures)
    rows = [_row(group_by, key, item, names, quantum) for key, item in figures.items()]
    rows.sort(key=lambda row: (row.name is None, (row.name or "").casefold(), str(row.group_id)))
    total = _row(group_by, None, _sum(figures.values()), names, quantum)
    return Forecast(
        period=period.key,
        period_kind=period.kind,
        start=period.start,
        end=period.last_day,
        group_by=group_by,
        base_currency=base.iso_code if base is not None else "EUR",
        best_case_rule=BEST_CASE_RULE,
        rows=rows,
        total=total,
    )


# A group's counts and sums of stored units, before they become amounts.
_NOTHING = {
    "open_count": 0,
    "open": 0,
    "weighted": 0,
    "best_count": 0,
    "best": 0,
    "won_count": 0,
    "won": 0,
    "lost_count": 0,
    "lost": 0,
}


def _sum(items: Any) -> dict[str, Any]:
    total = dict(_NOTHING)
    for item in items:
        for name, value in item.items():
            total[name] += value
    return total


def _row(
    group_by: GroupBy, key: tuple[Any, ...] | None, item: dict[str, Any], names: dict[Any, str], quantum: Decimal
) -> ForecastRow:
    if key is None:
        kind, group_id = "total", None
    elif group_by is GroupBy.OWNER:
        user_id, team_id = key
        kind, group_id = ("user", user_id) if user_id else ("team", team_id) if team_id else ("none", None)
    else:
        kind, group_id = ("business_unit", key[0]) if key[0] else ("none", None)
    closed = item["won_count"] + item["lost_count"]
    return ForecastRow(
        group_kind=kind,
        group_id=group_id,
        name=names.get(group_id) if group_id is not None else None,
        open_count=int(item["open_count"]),
        open_pipeline=units(item["open"]).quantize(quantum),
        weighted_pipeline=units(item["weighted"], MONEY_SCALE + 2).quantize(quantum),
        best_case_count=int(item["best_count"]),
        best_case=units(item["best"]).quantize(quantum),
        won_count=int(item["won_count"]),
        won=units(item["won"]).quantize(quantum),
        lost_count=int(item["lost_count"]),
        lost=units(item["lost"]).quantize(quantum),
        win_rate=round(item["won_count"] / closed, 4) if closed else None,
    )


def _group_names(session: Any, group_by: GroupBy, figures: dict[tuple[Any, ...], Any]) -> dict[Any, str]:
    names: dict[Any, str] = {}
    if group_by is GroupBy.OWNER:
        users = {key[0] for key in figures if key[0] is not None}
        teams = {key[1] for key in figures if key[0] is None and key[1] is not None}
        if users:
            names.update(session.execute(select(User.id, User.full_name).where(User.id.in_(users))).all())
        if teams:
            names.update(session.execute(select(Team.id, Team.name).where(Team.id.in_(teams))).all())
    else:
        units_ = {key[0] for key in figures if key[0] is not None}
        if units_:
            names.update(
                session.execute(select(BusinessUnit.id, BusinessUnit.name).where(BusinessUnit.id.in_(units_))).all()
            )
    return names


# ---------------------------------------------------------------------------------------------- CSV

CSV_HEADER = (
    "period",
    "group_by",
    "group",
    "group_id",
    "open_count",
    "open_pipeline",
    "weighted_pipeline",
    "best_case_count",
    "best_case",
    "won_count",
    "won",
    "lost_count",
    "lost",
    "win_rate",
    "currency",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _plain(cell: str) -> str:
    """A cell a spreadsheet would run as a formula, made plain text (CSV injection)."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def forecast_csv(result: Forecast) -> str:
    """The forecast as CSV: one line per group, then the total; amounts in base currency, win rate as a fraction."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    for row in [*result.rows, replace(result.total, name="Total")]:
        writer.writerow(
            [
                result.period,
                result.group_by.value,
                _plain(row.name or ""),
                str(row.group_id or ""),
                row.open_count,
                row.open_pipeline,
                row.weighted_pipeline,
                row.best_case_count,
                row.best_case,
                row.won_count,
                row.won,
                row.lost_count,
                row.lost,
                "" if row.win_rate is None else f"{row.win_rate:.4f}",
                result.base_currency,
            ]
        )
    return buffer.getvalue()
