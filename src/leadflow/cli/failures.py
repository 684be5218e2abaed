"""What the command line says when a command fails: one line that says what to do, and an exit code
that scripts can test; ``--debug`` shows the traceback instead.

Exit codes: 0 done; 1 refused (a privilege, a record's state, a duplicate, a conflict); 2 invalid
input or settings; 3 not found; 4 the database cannot be opened; 5 an unexpected failure (a fault in
leadflow: run again with ``--debug`` and report it).
"""

from __future__ import annotations

import re
from typing import Any

import typer
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from leadflow.cli.common import errors, fail
from leadflow.core.errors import LeadflowError

INVALID_SETTINGS = 2
DATABASE_UNAVAILABLE = 4
UNEXPECTED = 5

EXAMPLE_URLS = "sqlite:///path/to/leadflow.db or postgresql+psycopg://user@host:5432/leadflow"
_PASSWORD_IN_URL = re.compile(r"(://[^:/@]*:)[^@]*@")


def shown_url(url: str) -> str:
    """A database URL as it may be printed: the password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return _PASSWORD_IN_URL.sub(r"\1***@", url)


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0].strip() if text else type(error).__name__


def explain(error: Exception, database_url: str | None) -> tuple[int, str]:
    """The exit code and the one line for a failure that escaped a command."""
    where = shown_url(database_url) if database_url else "the configured database"
    if isinstance(error, ArgumentError | NoSuchModuleError) or (
        isinstance(error, ImportError) and database_url is not None
    ):
        return DATABASE_UNAVAILABLE, (
            f"The database URL {where} is not one leadflow can use ({_first_line(error)}). "
            f"Give --database-url or LEADFLOW_DATABASE_URL as {EXAMPLE_URLS}."
        )
    if isinstance(error, DBAPIError):
        check = (
            "Check that its folder exists and that you may write there"
            if (database_url or "").startswith("sqlite")
            else "Check that the server runs, that the URL names it, and that it lets this user in"
        )
        return DATABASE_UNAVAILABLE, f"Cannot use the database {where}: {_first_line(error)}. {check}."
    if isinstance(error, ValidationError):
        problems = "; ".join(
            f"LEADFLOW_{'_'.join(str(part) for part in item['loc']).upper()}: {item['msg']}" for item in error.errors()
        )
        return INVALID_SETTINGS, f"A setting is not valid ({problems}). Correct the environment variable and run again."
    return UNEXPECTED, (
        f"leadflow failed unexpectedly ({type(error).__name__}: {_first_line(error)}). "
        "Nothing more was done; run the command again with --debug to see where, and report it."
    )


class FailuresInOneLine(typer.core.TyperGroup):
    """The root command group: a failure that escapes a command ends in one line and an exit code."""

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]  # typer passes its own Context
        try:
            return super().invoke(ctx)
        except (typer.TyperException, typer.Exit, typer.Abort):
            raise  # a usage error Typer reports itself, or an ordinary end
        except LeadflowError as error:
            if _debugging(ctx):
                raise
            fail(error)
        except Exception as error:
            if _debugging(ctx):
                raise
            code, message = explain(error, _database_url(ctx))
            errors.print(f"[bold red]Error:[/] {message}", soft_wrap=True, highlight=False)
            raise typer.Exit(code=code) from None


def _debugging(ctx: typer.Context) -> bool:
    return bool((ctx.obj or {}).get("debug")) or bool(ctx.params.get("debug"))


def _database_url(ctx: typer.Context) -> str | None:
    settings = (ctx.obj or {}).get("settings")
    if settings is not None:
        return str(settings.database_url)
    return ctx.params.get("database_url")
