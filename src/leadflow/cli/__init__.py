"""The ``leadflow`` command line: translates arguments into service calls and renders results.

One module per area (``admin``, ``leads``, ``records``, ``catalog``, ``sales``, ``security``,
``duplicates``), each sharing ``common``; the root command reads the settings and who acts (``--as``).
"""

from __future__ import annotations

from typing import Annotated

import typer

from leadflow import __version__
from leadflow.cli import (
    activities,
    admin,
    catalog,
    certs,
    currencies,
    fields,
    jobs,
    opportunities,
    records,
    reporting,
    sales,
    scoring,
    security,
    transfer,
    webhooks,
)
from leadflow.cli.common import console
from leadflow.cli.duplicates import duplicates_app
from leadflow.cli.failures import FailuresInOneLine
from leadflow.cli.leads import leads_app
from leadflow.core.config import Settings

app = typer.Typer(
    cls=FailuresInOneLine,
    help="leadflow: the sales CRM built around the lead lifecycle.\n\n"
    "Exit codes: 0 done, 1 refused, 2 invalid input or settings, 3 not found, "
    "4 the database cannot be opened, 5 unexpected failure (run again with --debug).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _print_version(asked: bool) -> None:
    if asked:
        console.print(f"leadflow {__version__}")
        raise typer.Exit()


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
    debug: Annotated[
        bool, typer.Option("--debug", help="On an unexpected failure, show the whole traceback instead of one line.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print leadflow's version and exit."),
    ] = False,
) -> None:
    """Read the settings once for every command."""
    ctx.obj = {"debug": debug, "as_user": as_user}
    ctx.obj["settings"] = Settings(database_url=database_url) if database_url else Settings()


admin.register(app)
app.add_typer(leads_app, name="leads")
records.register(app)
opportunities.register(app)
catalog.register(app)
sales.register(app)  # after records: it adds the product lines to the opportunities' group
currencies.register(app)
security.register(app)
reporting.register(app)
app.add_typer(duplicates_app, name="duplicates")
jobs.register(app)
transfer.register(app)
activities.register(app)
certs.register(app)
scoring.register(app)
fields.register(app)
webhooks.register(app)
