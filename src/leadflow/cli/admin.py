"""Operator commands: the database schema, demo data, the first administrator, the server, the audit log."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.engine import make_url

from leadflow.cli.common import (
    JsonFlag,
    console,
    emit,
    fail,
    in_time_zone,
    moment,
    open_as_actor,
    open_database,
    page_of,
    prepared_database,
    read,
    settings_of,
    zone_name,
)
from leadflow.cli.failures import shown_url
from leadflow.core import migrate
from leadflow.core.errors import Forbidden, LeadflowError, NotFound, ValidationFailed
from leadflow.core.uow import Database
from leadflow.security.actor import actor_for_email, default_actor
from leadflow.security.audit import AuditQuery, list_entries
from leadflow.security.models import User
from leadflow.security.service import create_first_administrator, is_administrator
from leadflow.tasks import job_queue

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


def _operators_only(ctx: typer.Context, database: Database) -> None:
    """Operator commands act on the installation, not as a user: under ``--as`` only an administrator may."""
    if ctx.find_root().obj.get("as_user") is None:
        return
    _, actor = open_as_actor(ctx, database)
    if not is_administrator(actor):
        fail(
            Forbidden(
                f"{actor.email} is not a System Administrator; this is an operator command: run it without --as "
                "on the server, or as an administrator.",
                code="operator_command",
            )
        )


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Operator command: create or upgrade the schema to the latest version (Alembic) and set up the organisation."""
    settings = settings_of(ctx)
    prepared = prepared_database(ctx)
    _operators_only(ctx, prepared.database)
    console.print(f"Database is up to date: [bold]{prepared.database.engine.url.render_as_string()}[/]")
    # The queue's own tables (Huey's, when it lives in the PostgreSQL database) are made here, once,
    # rather than by several processes starting at the same moment.
    queue = job_queue(settings, prepared.database)
    console.print(f"Job queue: {queue.describe()}", highlight=False)


@db_app.command("downgrade")
def db_downgrade(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(help="The revision to go back to, e.g. 0004; base drops every table.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Operator command: take the schema back down to an earlier revision (Alembic), e.g. before going
    back to an older leadflow. What later revisions added is dropped, with its data."""
    settings = settings_of(ctx)
    path = sqlite_file(settings.database_url)
    if path is not None and not path.exists():
        fail(NotFound(f"There is no database at {path}; there is nothing to downgrade.", code="no_database"))
    database = Database(settings.database_url)
    try:
        current = migrate.current_revision(database.engine)
        if ctx.find_root().obj.get("as_user") is not None and current != migrate.revisions()[-1]:
            # Who --as names is read with the latest schema's tables; on an older schema that cannot be done.
            fail(
                Forbidden(
                    f"The schema is at revision {current or migrate.BASE}, where --as cannot be checked; this is an "
                    "operator command: run it without --as on the server.",
                    code="operator_command",
                )
            )
        _operators_only(ctx, database)
        try:
            target = migrate.downgrade_target(database.engine, revision)
        except LeadflowError as error:
            fail(error)
        where = where_it_lives(settings.database_url)
        if target == current:
            console.print(
                f"The database schema is already at revision [bold]{current or migrate.BASE}[/]: {where}",
                soft_wrap=True,
                highlight=False,
            )
            return
        if not yes:
            typer.confirm(
                f"Take the schema of {where} down from revision {current} to {target or migrate.BASE}? What the later "
                "revisions added is dropped, with its data",
                abort=True,
            )
        reached = migrate.downgrade(database.engine, revision)
    finally:
        database.dispose()
    console.print(
        f"The database schema is at revision [bold]{reached or migrate.BASE}[/]: {where}",
        soft_wrap=True,
        highlight=False,
    )
    console.print(
        "Any other leadflow command (serve, db upgrade, …) upgrades it to the latest revision again; "
        "run the leadflow that matches this revision on it.",
        soft_wrap=True,
        highlight=False,
    )


def sqlite_file(database_url: str) -> Path | None:
    """The file of a SQLite database URL (None for another database or an in-memory one)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database).resolve()


def where_it_lives(database_url: str) -> str:
    """Which database a URL names, said for people: the file of SQLite, the server's URL otherwise."""
    path = sqlite_file(database_url)
    if path is None:
        return shown_url(database_url)
    state = "" if path.exists() else " (not created yet)"
    return f"{path}{state}"


@db_app.command("where")
def db_where(ctx: typer.Context) -> None:
    """Print which database leadflow uses (its file, or its URL without the password), without opening it."""
    database_url = settings_of(ctx).database_url
    console.print(where_it_lives(database_url), soft_wrap=True, highlight=False)
    path = sqlite_file(database_url)
    if path is not None:
        console.print(
            "To start afresh, stop leadflow and delete this file; or choose another one with "
            "LEADFLOW_DATABASE_URL=sqlite:///path/to/file.db.",
            soft_wrap=True,
            highlight=False,
        )


def print_demo_users() -> None:
    """The demo users with their passwords, to sign in with."""
    from leadflow.demo import DEMO_USERS

    table = Table(title="Demo users (sign in at /sign-in; change these passwords before real use)")
    for column in ("email", "password"):
        table.add_column(column, no_wrap=True)  # whole, so that they can be copied
    for column in ("role", "business unit"):
        table.add_column(column)
    for user in DEMO_USERS:
        table.add_row(user["email"], user["password"], user["role"], user["unit"] or "Organisation")
    console.print(table)


def demo(ctx: typer.Context) -> None:
    """Operator command: load demo data in Spanish and English, with demo users (safe to run twice)."""
    from leadflow.demo import load_demo
    from leadflow.demo.scoring import load_scoring_demo

    database = open_database(ctx)
    _operators_only(ctx, database)
    console.print(f"Demo data ready: {load_demo(database)}")
    console.print(f"Lead scoring: {load_scoring_demo(database)}")
    print_demo_users()


def init(
    ctx: typer.Context,
    email: Annotated[str, typer.Option(prompt="Administrator's email")],
    name: Annotated[str, typer.Option(prompt="Administrator's name")],
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="At least 10 characters.")
    ],
) -> None:
    """Create the first System Administrator of a new organisation."""
    database = open_database(ctx)
    try:
        with database.unit_of_work() as uow:
            create_first_administrator(email=email, full_name=name, password=password, uow=uow)
            uow.commit()
    except LeadflowError as error:
        fail(error)
    console.print(
        f"Administrator [bold]{email}[/] created; sign in at /sign-in or get a token with POST /api/v1/auth/token."
    )


def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    demo_data: Annotated[bool | None, typer.Option("--demo/--no-demo", help="Load demo data on first start.")] = None,
    worker: Annotated[
        bool, typer.Option("--worker/--no-worker", help="Run jobs in this server too (else run `leadflow worker`).")
    ] = True,
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=64, help="Server processes (each with its job worker).")
    ] = 1,
    tls_cert: Annotated[
        Path | None,
        typer.Option(
            "--tls-cert",
            metavar="FILE",
            help="Serve HTTPS with this certificate chain (PEM; with --tls-key). Default: LEADFLOW_TLS_CERT.",
        ),
    ] = None,
    tls_key: Annotated[
        Path | None,
        typer.Option(
            "--tls-key",
            metavar="FILE",
            help="The private key of --tls-cert (PEM, without a passphrase). Default: LEADFLOW_TLS_KEY.",
        ),
    ] = None,
) -> None:
    """Migrate, load demo data on first start, and serve the web app and API, with a job worker."""
    import uvicorn

    from leadflow.asgi import EMBEDDED_WORKER, create_app
    from leadflow.http.observability import logging_config

    settings = settings_of(ctx)
    certificate, key = tls_files(tls_cert or settings.tls_cert, tls_key or settings.tls_key)
    prepared = prepared_database(ctx)
    where = where_it_lives(settings.database_url)
    console.print(f"Database: {where}" + (" (new)" if prepared.created else ""), soft_wrap=True, highlight=False)
    load = settings.demo_on_first_start if demo_data is None else demo_data
    if (prepared.created and load) or (demo_data and not prepared.created):
        from leadflow.demo import load_demo
        from leadflow.demo.scoring import load_scoring_demo

        console.print(f"Loading demo data… {load_demo(prepared.database)}")
        console.print(f"Lead scoring: {load_scoring_demo(prepared.database)}")
        print_demo_users()
    elif not prepared.created:
        console.print(
            "Demo data: not loaded again, this database already existed (`leadflow demo` loads it; "
            "to start afresh, stop leadflow and delete the database: `leadflow db where` says where).",
            soft_wrap=True,
            highlight=False,
        )
    with prepared.database.unit_of_work(read_only=True) as uow:
        try:
            default_actor(uow.session)
        except NotFound:
            console.print("[bold yellow]No administrator yet:[/] run `leadflow init` to create one.")
    bind_host, bind_port = host or settings.host, port or settings.port
    scheme = "https" if certificate else "http"
    console.print(
        f"leadflow on {scheme}://{bind_host}:{bind_port}  (API docs: {scheme}://{bind_host}:{bind_port}/api/v1/docs)"
    )
    if workers == 1:
        app = create_app(prepared.database, settings, worker=worker)
        uvicorn.run(
            app,
            host=bind_host,
            port=bind_port,
            log_config=logging_config(settings.log_format),
            ssl_certfile=certificate,
            ssl_keyfile=key,
        )
        return
    # Several processes: each builds its own app from the environment (the settings as read here).
    # The queue is made here first, so that its storage's tables are not created by all of them at once.
    job_queue(settings, prepared.database)
    os.environ["LEADFLOW_DATABASE_URL"] = settings.database_url
    os.environ[EMBEDDED_WORKER] = "1" if worker else "0"
    uvicorn.run(
        "leadflow.asgi:served_app",
        factory=True,
        host=bind_host,
        port=bind_port,
        workers=workers,
        log_config=logging_config(settings.log_format),
        ssl_certfile=certificate,
        ssl_keyfile=key,
    )


def tls_files(certificate: Path | None, key: Path | None) -> tuple[str, str] | tuple[None, None]:
    """The certificate chain and private key ``serve`` speaks HTTPS with, checked before it starts
    (both or neither, files that exist, can be read and make a pair); (None, None) for plain HTTP."""
    import ssl

    if certificate is None and key is None:
        return None, None
    if certificate is None or key is None:
        given, missing = ("--tls-cert", "--tls-key") if key is None else ("--tls-key", "--tls-cert")
        variable = "LEADFLOW_TLS_KEY" if key is None else "LEADFLOW_TLS_CERT"
        fail(
            ValidationFailed(
                f"{given} needs {missing} too (or {variable}): HTTPS takes the certificate chain and its private key "
                "together; give both, or neither for plain HTTP.",
                code="tls_incomplete",
            )
        )
    for option, path in (("--tls-cert", certificate), ("--tls-key", key)):
        try:
            with path.open("rb") as file:
                file.read(1)
        except OSError as error:
            reason = "there is no such file" if isinstance(error, FileNotFoundError) else error.strerror or str(error)
            fail(ValidationFailed(f"{option} {path} cannot be read: {reason}.", code="tls_file_unreadable"))
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certificate, key, password=_no_passphrase)
    except (ssl.SSLError, ValueError) as error:
        fail(
            ValidationFailed(
                f"--tls-cert {certificate} and --tls-key {key} cannot serve HTTPS ({error}): give a PEM certificate "
                "chain and the PEM private key that belongs to it, without a passphrase "
                "(`leadflow certs dev` makes a pair for testing).",
                code="tls_files_invalid",
            )
        )
    return str(certificate), str(key)


def _no_passphrase() -> str:
    """Refuse a private key that is encrypted: ``serve`` takes no passphrase."""
    raise ValueError("the private key is encrypted")


def audit(
    ctx: typer.Context,
    action: Annotated[str | None, typer.Option(help="e.g. qualify, update, sign_in_failed")] = None,
    table_name: Annotated[str | None, typer.Option("--table")] = None,
    record: Annotated[uuid.UUID | None, typer.Option("--record", help="Record id")] = None,
    user: Annotated[str | None, typer.Option("--user", help="Email of the acting user")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    cursor: Annotated[
        str | None, typer.Option(help="The cursor printed under the previous page: older entries.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Show the audit log, newest first, with times in your time zone (--json: in UTC)."""
    from sqlalchemy import select

    from leadflow.api.security import AuditEntryOut  # the API's fields; imported here to keep the CLI quick to start

    def entries_and_emails(uow, actor):
        user_id = actor_for_email(uow.session, user).user_id if user else None
        query = AuditQuery(
            user_id=user_id, action=action, table=table_name, record_id=record, limit=limit, cursor=cursor
        )
        page = list_entries(query, uow=uow, actor=actor)
        return page, dict(uow.session.execute(select(User.id, User.email)).all())

    (page, emails), zone = read(ctx, in_time_zone(entries_and_emails))

    def render() -> None:
        table = Table(title="Audit log")
        for column in (f"when ({zone_name(zone)})", "who", "action", "table", "record", "details"):
            table.add_column(column)
        for entry in page.items:
            details = entry.summary or ""
            if entry.changes:
                details = (details + " " if details else "") + ", ".join(
                    f"{k}: {v['old']!r}→{v['new']!r}" if isinstance(v, dict) and "old" in v else f"{k}: {v}"
                    for k, v in entry.changes.items()
                )
            table.add_row(
                moment(entry.occurred_at, zone, seconds=True),
                emails.get(entry.user_id, "-"),
                entry.action,
                entry.table_name or "",
                str(entry.record_id or ""),
                details[:120],
            )
        console.print(table)
        if page.next_cursor:
            console.print(f"Next page: --cursor {page.next_cursor}")

    emit(as_json, page_of(map(AuditEntryOut.model_validate, page.items), page.next_cursor), render)


def register(app: typer.Typer) -> None:
    """Add the operator commands to the root command."""
    app.add_typer(db_app, name="db")
    app.command()(demo)
    app.command()(init)
    app.command()(serve)
    app.command()(audit)
