"""The pipeline board and the sales forecast: `/board`, `/board/move`, `/forecast` and `/forecast.csv`."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from leadflow.api.deps import CurrentActor, ReadUowDep, UowDep
from leadflow.core.schemas import InputModel
from leadflow.reporting.board import DEFAULT_CARDS, MAX_CARDS, Board, BoardQuery, Scope, board, move_to_stage
from leadflow.reporting.forecast import Forecast, GroupBy, forecast, forecast_csv

router = APIRouter(tags=["pipeline"])

PeriodKey = Annotated[
    str | None,
    Query(
        max_length=16, description="2026-Q4 (a quarter), 2026-11 (a month) or 2026 (a year); this quarter by default."
    ),
]
GroupByParam = Annotated[GroupBy, Query(description="Group the figures per owner or per business unit.")]


class CardOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    stage: str
    customer_kind: str | None
    customer_id: uuid.UUID | None
    customer_name: str | None
    owner_name: str | None
    estimated_revenue: Decimal | None
    currency: str | None
    estimated_revenue_base: Decimal | None
    estimated_close_date: date | None
    probability: int | None
    rating: str | None
    movable: bool = Field(description="Whether you may move it (Write on the opportunity).")


class ColumnOut(BaseModel):
    stage: str
    count: int = Field(description="Open opportunities at this stage matching the filters (cards shown or not).")
    total: Decimal = Field(description="Their estimated revenue in base currency.")
    weighted_total: Decimal = Field(description="The same, each weighted by its probability.")
    hidden: int = Field(description="How many of them have no card here (raise limit or narrow the filters).")
    cards: list[CardOut]


class BoardOut(BaseModel):
    base_currency: str
    scope: Scope
    scopes: list[Scope] = Field(description="The scopes worth offering to this user.")
    owner_user_id: uuid.UUID | None
    close_date: str | None
    close_period: str | None = Field(description="The period the close-date filter names, when it names one.")
    weighted: bool
    count: int
    total: Decimal
    weighted_total: Decimal
    columns: list[ColumnOut]


def board_out(result: Board) -> BoardOut:
    """The board as the API (and ``leadflow board --json``) shows it."""
    return BoardOut(
        base_currency=result.base_currency,
        scope=result.query.scope,
        scopes=list(result.scopes),
        owner_user_id=result.query.owner_user_id,
        close_date=result.query.close_date,
        close_period=result.close_period.key if result.close_period else None,
        weighted=result.query.weighted,
        count=result.count,
        total=result.total,
        weighted_total=result.weighted_total,
        columns=[
            ColumnOut(
                stage=column.stage,
                count=column.count,
                total=column.total,
                weighted_total=column.weighted_total,
                hidden=column.hidden,
                cards=[CardOut.model_validate(card) for card in column.cards],
            )
            for column in result.columns
        ],
    )


class BoardMove(InputModel):
    opportunity_id: uuid.UUID
    stage: str = Field(max_length=16, description="develop, propose or close.")


class BoardMoveOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    opportunity_id: uuid.UUID
    previous_stage: str
    stage: str
    steps: int = Field(description="Stages moved: positive forwards, negative backwards, 0 when already there.")


@router.get("/board")
def get_board(
    uow: ReadUowDep,
    actor: CurrentActor,
    scope: Annotated[Scope, Query(description="mine, team (yours and your teams') or all you may read.")] = Scope.ALL,
    owner: Annotated[uuid.UUID | None, Query(description="Only this user's opportunities.")] = None,
    close_date: Annotated[
        str | None,
        Query(
            max_length=16,
            description="overdue, this_month, next_month, this_quarter, next_quarter, this_year, "
            "no_date, or a period: 2026-Q4, 2026-11, 2026.",
        ),
    ] = None,
    weighted: Annotated[bool, Query(description="Whether the board shows the weighted totals.")] = False,
    limit: Annotated[int, Query(ge=1, le=MAX_CARDS, description="Cards per column at most.")] = DEFAULT_CARDS,
) -> BoardOut:
    """The open opportunities you may read, per sales stage (Develop, Propose, Close), with column totals in base currency."""
    query = BoardQuery(scope=scope, owner_user_id=owner, close_date=close_date or None, weighted=weighted, limit=limit)
    return board_out(board(query, uow=uow, actor=actor))


@router.post("/board/move")
def move_card(data: BoardMove, uow: UowDep, actor: CurrentActor) -> BoardMoveOut:
    """Move an open opportunity to another stage; several stages are moved one by one, all or none."""
    moved = move_to_stage(data.opportunity_id, data.stage, uow=uow, actor=actor)
    uow.commit()
    return BoardMoveOut.model_validate(moved)


@router.get("/forecast")
def get_forecast(
    uow: ReadUowDep, actor: CurrentActor, period: PeriodKey = None, group_by: GroupByParam = GroupBy.OWNER
) -> Forecast:
    """Open, weighted and best-case pipeline, won, lost and win rate of a period, per owner or business unit, in base currency."""
    return forecast(period, group_by, uow=uow, actor=actor)


@router.get(
    "/forecast.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "One line per group, then the total."}},
)
def get_forecast_csv(
    uow: ReadUowDep, actor: CurrentActor, period: PeriodKey = None, group_by: GroupByParam = GroupBy.OWNER
) -> Response:
    """The forecast as CSV (amounts in base currency, the win rate as a fraction)."""
    result = forecast(period, group_by, uow=uow, actor=actor)
    return Response(
        forecast_csv(result),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="forecast-{result.period}-{result.group_by.value}.csv"'},
    )
