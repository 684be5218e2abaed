"""`leadflow forecast`: the sales forecast of a period per owner or business unit."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from leadflow.cli.common import JsonFlag, console, emit, read
from leadflow.reporting.forecast import Forecast, ForecastRow, forecast


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"


def register(app: typer.Typer) -> None:
    """Add ``leadflow forecast`` to the root command."""

    @app.command("forecast")
    def forecast_command(
        ctx: typer.Context,
        period: Annotated[
            str | None,
            typer.Option(
                "--period", help="2026-Q4 (a quarter), 2026-11 (a month) or 2026 (a year); this quarter by default."
            ),
        ] = None,
        group_by: Annotated[str, typer.Option("--group-by", help="owner or business_unit.")] = "owner",
        as_json: JsonFlag = False,
    ) -> None:
        """Open, weighted and best-case pipeline, won, lost and win rate, in the base currency."""
        result: Forecast = read(ctx, lambda uow, actor: forecast(period, group_by, uow=uow, actor=actor))

        def render() -> None:
            grid = Table(title=f"Forecast {result.period} ({result.start} to {result.end}), in {result.base_currency}")
            for column in (result.group_by.value, "open", "weighted", "best case", "won", "lost", "win rate"):
                grid.add_column(column, justify="left" if column == result.group_by.value else "right")

            def add(row: ForecastRow, name: str) -> None:
                grid.add_row(
                    name,
                    f"{row.open_pipeline} ({row.open_count})",
                    str(row.weighted_pipeline),
                    f"{row.best_case} ({row.best_case_count})",
                    f"{row.won} ({row.won_count})",
                    f"{row.lost} ({row.lost_count})",
                    _percent(row.win_rate),
                )

            for row in result.rows:
                add(row, row.name or f"(no {result.group_by.value.replace('_', ' ')})")
            add(result.total, "Total")
            console.print(grid)
            console.print(f"Best case: {result.best_case_rule}.")

        emit(as_json, result, render)
