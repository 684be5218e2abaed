"""The sales dashboard: leads by status and source, the weekly qualification rate, the pipeline by stage.

The figures come from leadflow.reporting.dashboard (only records the user may read count); this module lays
them out as charts. Charts are SVG drawn on the server (no script), each with a title, a description
and a data table beside it for those who do not see the picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leadflow.leads.models import LeadSource, LeadStatusReason
from leadflow.reporting.dashboard import DashboardFigures, dashboard_figures
from leadflow.web.areas.activities_page import today_tile
from leadflow.web.i18n import N_
from leadflow.web.labels import CHOICE_LABELS, STAGE_LABELS
from leadflow.web.pages import WebSession, WebSessionDep, database_of, render
from leadflow.web.scores import grade_tile

router = APIRouter()

# Bar charts: one row per value, the label on the left, the bar and its value on the right.
BAR_CHART_WIDTH = 560
BAR_LABEL_WIDTH = 180
BAR_AREA_WIDTH = 250
BAR_ROW_HEIGHT = 28
BAR_HEIGHT = 18
CHART_PADDING = 8
# The line chart of the weekly rate.
LINE_CHART_WIDTH = 560
LINE_CHART_HEIGHT = 240
LINE_MARGIN_LEFT = 48
LINE_MARGIN_RIGHT = 16
LINE_MARGIN_TOP = 16
LINE_MARGIN_BOTTOM = 44


@dataclass(frozen=True)
class Bar:
    label: str  # English message id
    value: int | Decimal
    y: float
    width: float

    @property
    def text_y(self) -> float:
        return self.y + BAR_HEIGHT / 2 + 4


@dataclass(frozen=True)
class BarChart:
    chart_id: str
    title: str
    description: str
    value_heading: str
    kind: str  # "number" or "money"
    currency: str
    bars: list[Bar]

    @property
    def height(self) -> int:
        return CHART_PADDING * 2 + BAR_ROW_HEIGHT * len(self.bars)

    width = BAR_CHART_WIDTH
    label_width = BAR_LABEL_WIDTH
    bar_height = BAR_HEIGHT


def bar_chart(
    chart_id: str,
    *,
    title: str,
    description: str,
    value_heading: str,
    items: list[tuple[str, int | Decimal]],
    kind: str = "number",
    currency: str = "EUR",
) -> BarChart:
    """A horizontal bar chart: bars scaled to the largest value (a chart of zeros draws no bars)."""
    largest = max((value for _, value in items), default=0) or 1
    bars = [
        Bar(
            label=label,
            value=value,
            y=CHART_PADDING + index * BAR_ROW_HEIGHT + (BAR_ROW_HEIGHT - BAR_HEIGHT) / 2,
            width=round(float(value) / float(largest) * BAR_AREA_WIDTH, 1),
        )
        for index, (label, value) in enumerate(items)
    ]
    return BarChart(chart_id, title, description, value_heading, kind, currency, bars)


@dataclass(frozen=True)
class Point:
    week_start: date
    created: int
    qualified: int
    rate: float | None
    x: float
    y: float | None
    labelled: bool  # the week's date is written under the axis


@dataclass(frozen=True)
class LineChart:
    chart_id: str
    title: str
    description: str
    points: list[Point]
    segments: list[str]  # polyline "x,y x,y" runs between weeks without new leads
    width = LINE_CHART_WIDTH
    height = LINE_CHART_HEIGHT
    left = LINE_MARGIN_LEFT
    right = LINE_CHART_WIDTH - LINE_MARGIN_RIGHT
    top = LINE_MARGIN_TOP
    bottom = LINE_CHART_HEIGHT - LINE_MARGIN_BOTTOM

    @property
    def grid(self) -> list[tuple[float, float]]:
        """The horizontal grid lines: (share, y) at 0, 25, 50, 75 and 100 %."""
        return [(share, self.bottom - share * (self.bottom - self.top)) for share in (0.0, 0.25, 0.5, 0.75, 1.0)]


def line_chart(figures: DashboardFigures) -> LineChart:
    """The weekly qualification rate as a line from 0 to 100 %, broken where a week had no new leads."""
    weeks = figures.qualification_by_week
    plot_width = LINE_CHART_WIDTH - LINE_MARGIN_LEFT - LINE_MARGIN_RIGHT
    plot_height = LINE_CHART_HEIGHT - LINE_MARGIN_TOP - LINE_MARGIN_BOTTOM
    step = plot_width / max(len(weeks) - 1, 1)
    points = []
    for index, week in enumerate(weeks):
        rate = week.rate
        points.append(
            Point(
                week_start=week.week_start,
                created=week.created,
                qualified=week.qualified,
                rate=rate,
                x=round(LINE_MARGIN_LEFT + index * step, 1),
                y=None if rate is None else round(LINE_MARGIN_TOP + (1 - rate) * plot_height, 1),
                labelled=(len(weeks) - 1 - index) % 2 == 0,
            )
        )
    segments: list[Any] = []
    run: list[Any] = []
    for point in points:
        if point.y is None:
            if run:
                segments.append(" ".join(run))
            run = []
        else:
            run.append(f"{point.x},{point.y}")
    if run:
        segments.append(" ".join(run))
    return LineChart(
        "chart-qualification-rate",
        N_("Qualification rate per week"),
        N_(
            "Of the leads created each week (weeks start on Monday), the share that is qualified now. "
            "Weeks without new leads have no point."
        ),
        points,
        segments,
    )


def charts(figures: DashboardFigures) -> dict[str, object]:
    """Every chart of the dashboard."""
    status_labels = CHOICE_LABELS[LeadStatusReason]
    source_labels = CHOICE_LABELS[LeadSource]
    return {
        "status": bar_chart(
            "chart-leads-by-status",
            title=N_("Leads by status"),
            description=N_("The leads you can see, counted by status reason."),
            value_heading=N_("Leads"),
            items=[(status_labels[item.key], item.count) for item in figures.leads_by_status if item.key],
        ),
        "source": bar_chart(
            "chart-leads-by-source",
            title=N_("Leads by source"),
            description=N_("The leads you can see, counted by lead source."),
            value_heading=N_("Leads"),
            items=[
                (source_labels[item.key] if item.key else N_("No source"), item.count)
                for item in figures.leads_by_source
            ],
        ),
        "rate": line_chart(figures),
        "stages": bar_chart(
            "chart-opportunities-by-stage",
            title=N_("Open opportunities by stage"),
            description=N_("The open opportunities you can see, counted by their sales process stage."),
            value_heading=N_("Opportunities"),
            items=[(STAGE_LABELS[item.stage], item.count) for item in figures.opportunities_by_stage],
        ),
        "revenue": bar_chart(
            "chart-revenue-by-stage",
            title=N_("Estimated revenue by stage"),
            description=N_(
                "The estimated revenue of the open opportunities you can see, per stage, in the "
                "organisation's base currency."
            ),
            value_heading=N_("Est. revenue"),
            items=[(STAGE_LABELS[item.stage], item.estimated_revenue) for item in figures.opportunities_by_stage],
            kind="money",
            currency=figures.base_currency,
        ),
    }


def dashboard_page(request: Request, session: WebSession, *, welcome: dict[str, object] | None = None) -> Response:
    """The dashboard of the records the signed-in user may read (with a welcome line on the home page)."""
    with database_of(request).unit_of_work(read_only=True) as uow:
        figures = dashboard_figures(uow=uow, actor=session.actor)
        today = today_tile(uow, session.actor, session.time_zone)
        grades = grade_tile(uow, session.actor)
    return render(
        request,
        session,
        "dashboard/dashboard.html",
        figures=figures,
        charts=charts(figures),
        welcome=welcome,
        today=today,
        grades=grades,
    )


@router.get("/dashboard", name="dashboard")
def dashboard(request: Request, session: WebSessionDep) -> Response:
    """The dashboard of the records the signed-in user may read."""
    return dashboard_page(request, session)
