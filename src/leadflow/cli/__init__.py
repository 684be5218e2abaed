"""The ``leadflow`` command line: translates arguments into service calls and renders results.

One module per area (``admin``, ``leads``, ``records``, ``security``, ``duplicates``), each sharing
``common``; the root command reads the settings and who acts (``--as``).
"""

from __future__ import annotations

from typing import Annotated

import typer

from leadflow.cli import admin, records, security
from leadflow.cli.duplicates import duplicates_app
from leadflow.cli.leads import leads_app
from leadflow.core.config import Settings

app = typer.Typer(help="leadflow: the sales CRM built around the lead lifecycle.", no_args_is_help=True)


@app.callback()
def main(
    ctx: typer.Context,
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", envvar="LEADFLOW_DATABASE_URL", help="SQLAlchemy URL of the database."),
    ] = None,
    as_user: Annotated[
        str | None,
        typer.Option("--as", help="Act as this user (email); by default the first System Administrator."),
    ] = None,
) -> None:
    """Read the settings once for every command."""
    settings = Settings(database_url=database_url) if database_url else Settings()
    ctx.obj = {"settings": settings, "as_user": as_user}


admin.register(app)
app.add_typer(leads_app, name="leads")
records.register(app)
security.register(app)
app.add_typer(duplicates_app, name="duplicates")
