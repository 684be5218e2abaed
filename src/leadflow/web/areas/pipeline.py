"""The pipeline board (``/board``) and the forecast (``/forecast``, ``/forecast.csv``).

The figures come from ``leadflow.reporting.board`` and ``leadflow.reporting.forecast`` (only what the
user may read counts); this module reads the filters from the address, lays the figures out and turns
a card's move into ``move_to_stage``. Every page works without script: a card moves with its own
buttons (one stage left or right), a form post answered with the board again. ``static/pipeline.js``
adds dragging a card to any column, which posts the same form. The forecast's chart is an SVG drawn
here, with the same figures in the table beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leadflow.core.errors import LeadflowError, NotFound
from leadflow.http.errors import status_for
from leadflow.reporting.board import (
    BOARD_STAGES,
    CLOSE_DATE_CHOICES,
    DEFAULT_CARDS,
    MAX_CARDS,
    Board,
    BoardQuery,
    Scope,
    board,
    board_owners,
    move_to_stage,
    today_of,
)
from leadflow.reporting.forecast import BEST_CASE_PROBABILITY, Forecast, GroupBy, forecast, forecast_csv
from leadflow.reporting.periods import Period, PeriodKind, parse_period, period_containing
from leadflow.web.forms import FormDep, Refusal, parse_uuid, refusal
from leadflow.web.i18n import N_
from leadflow.web.labels import STAGE_LABELS
from leadflow.web.pages import WebSession, WebSessionDep, committed, database_of, redirect, render

router = APIRouter()

SCOPE_LABELS = {
    Scope.MINE: N_("My opportunities"),
    Scope.TEAM: N_("My team's opportunities"),
    Scope.ALL: N_("All opportunities I can read"),
}
CLOSE_DATE_LABELS = {
    "overdue": N_("Overdue"),
    "this_month": N_("This month"),
    "next_month": N_("Next month"),
    "this_quarter": N_("This quarter"),
    "next_quarter": N_("Next quarter"),
    "this_year": N_("This year"),
    "no_date": N_("No close date"),
}
GROUP_LABELS = {GroupBy.OWNER: N_("Owner"), GroupBy.BUSINESS_UNIT: N_("Business unit")}
KIND_LABELS = {PeriodKind.MONTH: N_("Months"), PeriodKind.QUARTER: N_("Quarters"), PeriodKind.YEAR: N_("Years")}


# ---------------------------------------------------------------------------------------------- the board


def _board_query(params: Any) -> BoardQuery:
    """The board's filters as the address gives them; what names nothing known is left out."""

    def text(name: str) -> str:  # a posted file is no filter
        value = params.get(name)
        return value if isinstance(value, str) else ""

    scope, limit = text("scope"), text("limit")
    return BoardQuery(
        scope=Scope(scope) if scope in tuple(Scope) else Scope.ALL,
        owner_user_id=parse_uuid(text("owner")),
        close_date=text("close_date")[:16] or None,
        weighted=text("weighted") in ("on", "true", "1"),
        limit=min(int(limit), MAX_CARDS) if limit.isdigit() and int(limit) > 0 else DEFAULT_CARDS,
    )


def _filters(query: BoardQuery, **changes: Any) -> dict[str, str]:
    """The board's address parameters for ``query`` (with ``changes``), the defaults left out."""
    values: dict[str, Any] = {
        "scope": query.scope.value if query.scope is not Scope.ALL else None,
        "owner": str(query.owner_user_id) if query.owner_user_id else None,
        "close_date": query.close_date,
        "weighted": "on" if query.weighted else None,
        "limit": str(query.limit) if query.limit != DEFAULT_CARDS else None,
        **changes,
    }
    return {name: value for name, value in values.items() if value}


def board_link(query: BoardQuery, **changes: Any) -> str:
    parameters = _filters(query, **changes)
    return "/board" + (f"?{urlencode(parameters)}" if parameters else "")


@dataclass(frozen=True)
class Neighbours:
    """The stages a card moves to with its buttons: one to the left, one to the right."""

    previous: str | None
    next: str | None


def neighbours(stage: str) -> Neighbours:
    index = BOARD_STAGES.index(stage)
    return Neighbours(
        BOARD_STAGES[index - 1] if index > 0 else None,
        BOARD_STAGES[index + 1] if index + 1 < len(BOARD_STAGES) else None,
    )


def _board_page(
    request: Request,
    session: WebSession,
    query: BoardQuery,
    *,
    status_code: int = 200,
    failure: Refusal | None = None,
    moved: dict[str, str] | None = None,
) -> Response:
    with database_of(request).unit_of_work(read_only=True) as uow:
        try:
            shown: Board = board(query, uow=uow, actor=session.actor)
        except LeadflowError as error:  # a close-date filter that names no period: the board without it
            failure, status_code = refusal(session.language, error), status_for(error)
            query = BoardQuery(
                scope=query.scope, owner_user_id=query.owner_user_id, weighted=query.weighted, limit=query.limit
            )
            shown = board(query, uow=uow, actor=session.actor)
        owners = board_owners(uow=uow, actor=session.actor)
    if moved is not None:
        shown_cards = {str(card.id): card for column in shown.columns for card in column.cards}
        moved = {**moved, "name": shown_cards[moved["id"]].name if moved["id"] in shown_cards else ""}
    return render(
        request,
        session,
        "pipeline/board.html",
        status_code=status_code,
        board=shown,
        query=query,
        owners=owners,
        failure=failure,
        moved=moved,
        stage_labels=STAGE_LABELS,
        scope_labels=SCOPE_LABELS,
        close_date_choices=CLOSE_DATE_CHOICES,
        close_date_labels=CLOSE_DATE_LABELS,
        neighbours=neighbours,
        filters=_filters(query),
        more_link=board_link(query, limit=str(MAX_CARDS)) if query.limit < MAX_CARDS else None,
    )


@router.get("/board", name="board")
def board_page(request: Request, session: WebSessionDep) -> Response:
    """The open opportunities the user may read, in a column per sales stage, with the column totals."""
    params = request.query_params
    moved = None
    if parse_uuid(params.get("moved")) is not None and params.get("to") in BOARD_STAGES:
        moved = {"id": str(parse_uuid(params["moved"])), "stage": params["to"]}
    return _board_page(request, session, _board_query(params), moved=moved)


@router.post("/board/move", name="board_move")
def board_move(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """Move a card to another stage (its buttons, or a drag): the board again, with the filters it had."""
    query = _board_query(form)
    # The button pressed (or the card dropped, static/pipeline.js) posts "opportunity id:stage".
    move = form.get("move")
    raw_id, _, stage = (move if isinstance(move, str) else "").partition(":")
    opportunity_id, stage = parse_uuid(raw_id), stage[:16]
    try:
        if opportunity_id is None:
            raise NotFound("No opportunity was named.", code="opportunity_not_found")
        moved = committed(request, lambda uow: move_to_stage(opportunity_id, stage, uow=uow, actor=session.actor))
    except LeadflowError as error:
        return _board_page(
            request, session, query, status_code=status_for(error), failure=refusal(session.language, error)
        )
    # The card's button of the same direction takes the focus again (static/pipeline.js), so that a
    # keyboard user can press it once more.
    focus = "next" if moved.steps > 0 else "previous" if moved.steps < 0 else None
    target = _filters(query, moved=str(opportunity_id), to=stage, focus=focus)
    return redirect(f"/board?{urlencode(target)}#card-{opportunity_id}")


# ---------------------------------------------------------------------------------------------- the forecast

# The forecast chart: per group, four bars side by side, scaled to the largest amount of the chart.
CHART_WIDTH = 560
LABEL_WIDTH = 150
BAR_AREA = 300
BAR_HEIGHT = 9
BAR_GAP = 2
GROUP_GAP = 14
CHART_TOP = 8
SERIES = (
    ("won", N_("Won")),
    ("weighted_pipeline", N_("Weighted pipeline")),
    ("best_case", N_("Best case")),
    ("open_pipeline", N_("Open pipeline")),
)


@dataclass(frozen=True)
class ChartBar:
    series: str
    label: str
    value: Decimal
    y: float
    width: float


@dataclass(frozen=True)
class ChartGroup:
    name: str | None
    kind: str
    label_y: float
    bars: list[ChartBar]


@dataclass(frozen=True)
class ForecastChart:
    groups: list[ChartGroup]
    height: float
    width = CHART_WIDTH
    label_width = LABEL_WIDTH
    bar_height = BAR_HEIGHT


def forecast_chart(result: Forecast) -> ForecastChart:
    """Each group's won, weighted, best-case and open amounts as bars (a chart of zeros draws none)."""
    largest = max((getattr(row, series) for row in result.rows for series, _ in SERIES), default=Decimal(0))
    scale = float(largest) if largest > 0 else 1.0
    groups, y = [], float(CHART_TOP)
    group_height = len(SERIES) * (BAR_HEIGHT + BAR_GAP)
    for row in result.rows:
        bars = []
        for index, (series, label) in enumerate(SERIES):
            value = getattr(row, series)
            bars.append(
                ChartBar(
                    series,
                    label,
                    value,
                    y + index * (BAR_HEIGHT + BAR_GAP),
                    round(max(float(value), 0.0) / scale * BAR_AREA, 1),
                )
            )
        groups.append(ChartGroup(row.name, row.group_kind, y + group_height / 2 + 4, bars))
        y += group_height + GROUP_GAP
    return ForecastChart(groups, max(y, CHART_TOP * 2 + group_height))


def period_choices(today: date, current: Period) -> list[tuple[PeriodKind, list[Period]]]:
    """The periods the picker offers around today (and the one shown): months, quarters and years."""
    choices = []
    for kind, before, after in ((PeriodKind.MONTH, 6, 6), (PeriodKind.QUARTER, 4, 4), (PeriodKind.YEAR, 2, 2)):
        here = period_containing(today, kind)
        periods = [here.following(step) for step in range(-before, after + 1)]
        if current.kind is kind and current not in periods:
            periods = sorted([*periods, current])
        choices.append((kind, periods))
    return choices


def _group_by(value: str | None) -> GroupBy:
    return GroupBy(value) if value in tuple(GroupBy) else GroupBy.OWNER


@router.get("/forecast", name="forecast")
def forecast_page(request: Request, session: WebSessionDep) -> Response:
    """The forecast of a period per owner or business unit: figures, a chart and the CSV to download."""
    params = request.query_params
    group_by = _group_by(params.get("group_by"))
    failure, status_code = None, 200
    with database_of(request).unit_of_work(read_only=True) as uow:
        today = today_of(session.actor, uow=uow)
        period = period_containing(today, PeriodKind.QUARTER)
        if params.get("period"):
            try:
                period = parse_period(params["period"][:16])
            except LeadflowError as error:
                failure, status_code = refusal(session.language, error), status_for(error)
        result = forecast(period, group_by, uow=uow, actor=session.actor)

    def link(**changes: str) -> str:
        return "/forecast?" + urlencode({"period": period.key, "group_by": group_by.value, **changes})

    return render(
        request,
        session,
        "pipeline/forecast.html",
        status_code=status_code,
        forecast=result,
        chart=forecast_chart(result),
        series=SERIES,
        period=period,
        group_by=group_by,
        group_labels=GROUP_LABELS,
        kind_labels=KIND_LABELS,
        choices=period_choices(today, period),
        failure=failure,
        best_case_probability=BEST_CASE_PROBABILITY,
        previous_link=link(period=period.following(-1).key),
        next_link=link(period=period.following(1).key),
        csv_link="/forecast.csv?" + urlencode({"period": period.key, "group_by": group_by.value}),
    )


@router.get("/forecast.csv", name="forecast_csv")
def forecast_download(request: Request, session: WebSessionDep) -> Response:
    """The forecast shown on the page, as CSV."""
    params = request.query_params
    with database_of(request).unit_of_work(read_only=True) as uow:
        try:
            result = forecast(
                (params.get("period") or "")[:16] or None,
                _group_by(params.get("group_by")),
                uow=uow,
                actor=session.actor,
            )
        except LeadflowError:  # a period that names none: the page says why
            return forecast_page(request, session)
    return Response(
        forecast_csv(result),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="forecast-{result.period}-{result.group_by.value}.csv"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
