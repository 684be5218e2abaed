#!/usr/bin/env python
"""The seller's day: a record's timeline of 10,000 entries and "my open activities" over 1,000,000.

Run from the repository root:

    .venv/bin/python bench/activities.py                      # SQLite and PostgreSQL, 1,000,000 activities
    .venv/bin/python bench/activities.py --backend sqlite --activities 100000 --samples 10
    .venv/bin/python bench/activities.py --rebuild            # generate the databases again

Per backend it prepares a database with ``leadflow.bootstrap.prepare_database`` (the migrations and the
organisation), 200 Salespeople in five business units and an administrator; a lead the seller
``bench-seller@example.com`` creates and qualifies through the services into an opportunity, which is
won and reopened three times (three close records); then, with the raw driver (``executemany`` on
SQLite, ``COPY`` on PostgreSQL: the loader is not what is measured), ``--activities`` activities of the
200 users (about 20 % open, due times spread over 60 days either side of now), ``--notes`` notes of other
records, and among them, scattered as a record's entries are in a real table, the opportunity's and its
lead's notes and activities (10,000 timeline entries with the close records). The databases are
kept (``/tmp/leadflow-bench-activities/`` for SQLite, ``leadflow_bench_activities`` on the PostgreSQL
server) and reused by the next run with the same sizes and seed; ``--rebuild`` makes them again.

Then, each call in a read-only unit of work of its own, ``--warmup`` untimed calls and ``--samples``
timed ones per case:

- ``leadflow.activities.timeline.record_timeline`` of the opportunity, limit 50, the first page and a
  page about ``--deep`` entries in (its cursor found beforehand by following the cursors), as the
  seller (Salesperson, the opportunity's owner) and as the administrator; baseline: the raw driver
  reading one page of the opportunity's notes alone at the same position; "per source": the whole page
  read with the raw driver one index-ordered query per source (the opportunity, its lead), as the change
  proposed in bench/README.md would read it;
- ``leadflow.activities.activity.list_activities`` with the views ``my_open``, ``overdue`` and
  ``due_today`` (time zone Europe/Madrid), limit 50, as the seller; baseline: the raw driver reading the
  same 50 rows through the index (owner_user_id, state, due_order).

It prints median, p95 and CPU median per case in ms beside its baseline, the query plans of the service's
statements (``EXPLAIN ANALYZE`` on PostgreSQL, ``EXPLAIN QUERY PLAN`` on SQLite), and writes every figure
to ``bench/results/activities-<time>.json``. See bench/README.md, "The seller's day".
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
DATA_DIR = Path("/tmp/leadflow-bench-activities")
DEFAULT_POSTGRES_URL = os.environ.get("LEADFLOW_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_DATABASE = "leadflow_bench_activities"
TIMELINE_TARGET_MS = 50.0  # a page of a 10,000-entry timeline
LIST_TARGET_MS = 100.0  # "my open activities" over 1,000,000
ADMIN_EMAIL = "bench-admin@example.com"
SELLER_EMAIL = "bench-seller@example.com"
UNITS = ("Ventas Norte", "Ventas Sur", "Ventas Levante", "Ventas Centro", "Ventas Atlántico")
TIME_ZONE = "Europe/Madrid"
LIMIT = 50
ACCOUNTS = 5_000
NOT_DUE = datetime(9999, 12, 31, tzinfo=UTC)  # leadflow.activities.models.NOT_DUE

# The timeline: on the lead, then on the opportunity it became; the close records make up the rest.
LEAD_NOTES, LEAD_ACTIVITIES = 500, 500
CLOSES = 3
OPPORTUNITY_NOTES = 3_000

TYPES = ("task", "phone_call", "appointment", "email")
TYPE_WEIGHTS = (35, 25, 20, 20)
# Status reasons per type and state (leadflow.activities.models.STATUS_REASONS; the e-mails being sent left out).
REASONS = {
    "task": {
        "open": ("not_started", "in_progress", "waiting", "deferred"),
        "completed": ("completed",),
        "canceled": ("canceled",),
    },
    "phone_call": {"open": ("open",), "completed": ("made", "received"), "canceled": ("canceled",)},
    "appointment": {
        "open": ("busy", "free", "tentative", "out_of_office"),
        "completed": ("completed",),
        "canceled": ("canceled",),
    },
    "email": {"open": ("draft", "failed"), "completed": ("completed", "sent", "received"), "canceled": ("canceled",)},
}
SUBJECTS = {
    "task": ("Preparar propuesta", "Send the price list", "Revisar contrato", "Update the forecast", "Enviar muestras"),
    "phone_call": ("Llamada de seguimiento", "Call about the renewal", "Confirmar pedido", "Discovery call"),
    "appointment": ("Demo del producto", "Quarterly review", "Visita a la planta", "Reunión de cierre"),
    "email": ("Presupuesto actualizado", "Thank you for your time", "Documentación técnica", "Next steps"),
}
COMPANIES = ("Zafiro", "Velantis", "Acme Foods", "Logística Ibérica", "Norte Verde", "Cerámicas Rioja", "Atlas")
ACTIVITY_COLUMNS = (
    "id",
    "row_version",
    "created_at",
    "modified_at",
    "type",
    "subject",
    "description",
    "regarding_table",
    "regarding_id",
    "state",
    "status_reason",
    "priority",
    "scheduled_start",
    "scheduled_end",
    "due_order",
    "all_day",
    "location",
    "duration_minutes",
    "percent_complete",
    "direction",
    "phone_number",
    "left_voicemail",
    "actual_end",
    "send_attempts",
    "sent_at",
    "owner_user_id",
    "owning_business_unit_id",
    "created_by_id",
    "modified_by_id",
)
NOTE_COLUMNS = (
    "id",
    "row_version",
    "created_at",
    "modified_at",
    "regarding_table",
    "regarding_id",
    "title",
    "body",
    "created_by_id",
)


# ---------------------------------------------------------------------------------------------- data


def activity_row(
    rng: random.Random,
    now: datetime,
    owner: tuple[uuid.UUID, uuid.UUID],
    regarding: tuple[str, uuid.UUID] | None,
    *,
    open_share: float = 0.2,
    due_days: tuple[int, int] = (-60, 60),
) -> tuple[Any, ...]:
    """One activity as a tuple of ``ACTIVITY_COLUMNS`` (Python values; ``storage_form`` adapts them)."""
    kind = rng.choices(TYPES, TYPE_WEIGHTS)[0]
    roll = rng.random()
    state = "open" if roll < open_share else "completed" if roll < open_share + (1 - open_share) * 0.85 else "canceled"
    due: datetime | None = (now + timedelta(seconds=rng.uniform(*due_days) * 86_400)).replace(second=0, microsecond=0)
    if kind == "task" and rng.random() < 0.1:
        due = None  # a task without a due time sorts after every dated one
    start = None
    if kind == "appointment":
        assert due is not None
        start = due - timedelta(minutes=rng.choice((30, 60, 90)))
    anchor = min(now, due) if due is not None else now
    created = anchor - timedelta(seconds=rng.uniform(60, 30 * 86_400))
    closed = state != "open"
    actual_end = min(now, (due or created) + timedelta(minutes=rng.randint(0, 600))) if closed else None
    reason = rng.choice(REASONS[kind][state])
    owner_id, unit_id = owner
    return (
        uuid.uuid4(),
        1,
        created,
        actual_end or created,
        kind,
        f"{rng.choice(SUBJECTS[kind])}: {rng.choice(COMPANIES)}",
        "Notas de la reunión y próximos pasos acordados." if rng.random() < 0.3 else None,
        regarding[0] if regarding else None,
        regarding[1] if regarding else None,
        state,
        reason,
        rng.choice(("low", "normal", "normal", "normal", "high")),
        start,
        due,
        due or NOT_DUE,
        False,
        "Oficina del cliente" if kind == "appointment" else None,
        rng.choice((15, 30, 60)) if kind != "email" else None,
        (100 if closed else rng.choice((0, 25, 50))) if kind == "task" else None,
        rng.choice(("incoming", "outgoing")) if kind in ("phone_call", "email") else None,
        f"+34 91 {rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}" if kind == "phone_call" else None,
        False,
        actual_end,
        1 if reason == "sent" else 0,
        actual_end if reason == "sent" else None,
        owner_id,
        unit_id,
        owner_id,
        owner_id,
    )


def note_row(rng: random.Random, now: datetime, author: uuid.UUID, regarding: tuple[str, uuid.UUID]) -> tuple[Any, ...]:
    created = now - timedelta(seconds=rng.uniform(60, 700 * 86_400))
    return (
        uuid.uuid4(),
        1,
        created,
        created,
        regarding[0],
        regarding[1],
        f"Nota {rng.randint(1, 9999)}",
        "Conversación con el cliente sobre plazos, precio y próximos pasos.",
        author,
    )


def storage_form(value: Any) -> Any:
    """A value as SQLAlchemy stores it on SQLite: UUIDs as 32 hex digits, UTC timestamps as text."""
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, bool):
        return int(value)
    return value


def bulk_insert(
    connection: Any, dialect: str, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """Rows into ``table`` with the raw driver: ``executemany`` on SQLite, ``COPY`` on PostgreSQL."""
    if dialect == "sqlite":
        marks = ", ".join("?" * len(columns))
        connection.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
            ([storage_form(value) for value in row] for row in rows),
        )
        return
    with connection.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def raw_connection(url: str) -> Any:
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA cache_size=-16384")
        return connection
    import psycopg
    from sqlalchemy.engine import make_url

    parts = make_url(url)
    return psycopg.connect(
        host=parts.host,
        port=parts.port or 5432,
        user=parts.username,
        dbname=parts.database,
        password=parts.password or None,
        options="-c jit=off",
    )


def database_url(backend: str, args: argparse.Namespace) -> str:
    if backend == "sqlite":
        return f"sqlite:///{DATA_DIR / f'activities-{args.activities}-{args.seed}.db'}"
    from sqlalchemy.engine import make_url

    url = make_url(args.postgres_url.replace("postgresql://", "postgresql+psycopg://", 1)).set(database=PG_DATABASE)
    return url.render_as_string(hide_password=False)


def meta_path(backend: str, args: argparse.Namespace) -> Path:
    return DATA_DIR / f"{backend}-{args.activities}-{args.seed}.json"


@contextlib.contextmanager
def pg_admin(url: str) -> Iterator[Any]:
    from sqlalchemy import create_engine

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def wipe(backend: str, args: argparse.Namespace) -> None:
    """Remove the kept database and its description."""
    if backend == "sqlite":
        # One file per size and seed: only this one goes.
        meta_path(backend, args).unlink(missing_ok=True)
        path = Path(database_url(backend, args).removeprefix("sqlite:///"))
        for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)
        return
    # One PostgreSQL database: another size or seed replaces it.
    for stale in DATA_DIR.glob(f"{backend}-*.json"):
        stale.unlink()
    from sqlalchemy import text

    with pg_admin(args.postgres_url) as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))


def populate(backend: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Build the benchmark's database; return the ids the cases need and how long the set-up took."""
    from sqlalchemy import insert

    from leadflow.bootstrap import prepare_database
    from leadflow.core.config import Settings
    from leadflow.customers.models import Account
    from leadflow.leads.schemas import LeadCreate, QualifyOptions
    from leadflow.leads.service import create_lead, qualify_lead
    from leadflow.opportunities.closing import reopen_opportunity, win_opportunity
    from leadflow.opportunities.schemas import WinOpportunity
    from leadflow.security.actor import actor_for_email
    from leadflow.security.service import create_business_unit, create_user

    started = time.perf_counter()
    if backend == "postgresql":
        from sqlalchemy import text

        with pg_admin(args.postgres_url) as connection:
            connection.execute(text(f'CREATE DATABASE "{PG_DATABASE}"'))
    else:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
    database = prepare_database(Settings(database_url=url)).database
    users: list[tuple[uuid.UUID, uuid.UUID]] = []
    per_unit = args.users // len(UNITS)
    with database.unit_of_work() as uow:
        admin = create_user(
            email=ADMIN_EMAIL,
            full_name="Bench Admin",
            role_names=["System Administrator"],
            business_unit_name=None,
            password=None,
            uow=uow,
            actor=None,
        )
        for unit_index, unit in enumerate(UNITS):
            create_business_unit(unit, parent_name=None, uow=uow, actor=None)
            for index in range(per_unit):
                email = SELLER_EMAIL if (unit_index, index) == (0, 0) else f"seller{unit_index}-{index}@example.com"
                user = create_user(
                    email=email,
                    full_name=f"Vendedor {unit_index}-{index}",
                    role_names=["Salesperson"],
                    business_unit_name=unit,
                    password=None,
                    uow=uow,
                    actor=None,
                )
                users.append((user.id, user.business_unit_id))
        admin_id = admin.id
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        seller = actor_for_email(uow.session, SELLER_EMAIL)
    with database.unit_of_work() as uow:
        lead = create_lead(
            LeadCreate(
                topic="Renovación de 400 puestos",
                first_name="Lucía",
                last_name="Fernández",
                company_name="Cerámicas Rioja S.A.",
                email="lucia.fernandez@ceramicas-rioja.example",
            ),
            uow=uow,
            actor=seller,
            suppress_duplicates=True,
        )
        result = qualify_lead(lead.id, QualifyOptions(), uow=uow, actor=seller)
        lead_id, opportunity_id = lead.id, result.opportunity_ids[0]
        uow.commit()
    for _ in range(CLOSES):
        with database.unit_of_work() as uow:
            win_opportunity(opportunity_id, WinOpportunity(), uow=uow, actor=seller)
            uow.commit()
        with database.unit_of_work() as uow:
            reopen_opportunity(opportunity_id, uow=uow, actor=seller)
            uow.commit()
    services_seconds = time.perf_counter() - started

    rng = random.Random(args.seed)
    now = datetime.now(UTC)
    loaded = time.perf_counter()
    accounts = [(uuid.uuid4(), *users[number % len(users)]) for number in range(ACCOUNTS)]
    account_rows = [
        {
            "id": account_id,
            "row_version": 1,
            "created_at": now,
            "modified_at": now,
            "name": f"{rng.choice(COMPANIES)} {number}",
            "state": "active",
            "owner_user_id": owner_id,
            "owning_business_unit_id": unit_id,
            "created_by_id": admin_id,
            "modified_by_id": admin_id,
        }
        for number, (account_id, owner_id, unit_id) in enumerate(accounts)
    ]
    with database.engine.begin() as sa_connection:
        sa_connection.execute(insert(Account), account_rows)
    connection = raw_connection(url)
    dialect = "sqlite" if backend == "sqlite" else "postgresql"
    if dialect == "sqlite":
        connection.execute("BEGIN IMMEDIATE")
    seller_unit = seller.business_unit_id
    teammates = [user for user in users if user[1] == seller_unit and user[0] != seller.user_id]
    others = [user for user in users if user[1] != seller_unit]

    def timeline_owner() -> tuple[uuid.UUID, uuid.UUID]:
        # Mostly the seller, some teammates of the same unit, and a few from other units (whose
        # entries the seller does not see: Salespeople read their own business unit).
        roll = rng.random()
        return (seller.user_id, seller_unit) if roll < 0.8 else rng.choice(teammates if roll < 0.95 else others)

    opportunity_activities = args.timeline - LEAD_NOTES - LEAD_ACTIVITIES - OPPORTUNITY_NOTES - CLOSES
    notes = [note_row(rng, now, seller.user_id, ("leads", lead_id)) for _ in range(LEAD_NOTES)]
    notes += [
        note_row(rng, now, timeline_owner()[0], ("opportunities", opportunity_id)) for _ in range(OPPORTUNITY_NOTES)
    ]
    timeline_rows = [
        activity_row(rng, now, timeline_owner(), ("leads", lead_id), open_share=0.02, due_days=(-700, -300))
        for _ in range(LEAD_ACTIVITIES)
    ]
    timeline_rows += [
        activity_row(
            rng, now, timeline_owner(), ("opportunities", opportunity_id), open_share=0.05, due_days=(-300, 30)
        )
        for _ in range(opportunity_activities)
    ]

    by_owner: dict[uuid.UUID, list[uuid.UUID]] = {}
    for account_id, owner_id, _unit in accounts:
        by_owner.setdefault(owner_id, []).append(account_id)
    # Other records' notes, so that the notes table is not the timeline's alone.
    # The timeline's rows are scattered among the others, as a record's entries are written over
    # months between everybody else's: each one likely on a table page of its own.
    rows: list[tuple[Any, ...]] = []
    for number in range(args.notes):
        account_id, owner_id, _unit = accounts[rng.randrange(len(accounts))]
        rows.append(note_row(rng, now, owner_id, ("accounts", account_id)))
        while notes and rng.random() < len(notes) / (args.notes - number):
            rows.append(notes.pop())
        if len(rows) >= 20_000:
            bulk_insert(connection, dialect, "notes", NOTE_COLUMNS, rows)
            rows = []
    bulk_insert(connection, dialect, "notes", NOTE_COLUMNS, rows + notes)
    batch: list[tuple[Any, ...]] = []
    reported = 0
    for number in range(args.activities):
        owner = users[rng.randrange(len(users))]
        regarding = ("accounts", rng.choice(by_owner[owner[0]])) if rng.random() < 0.85 else None
        batch.append(activity_row(rng, now, owner, regarding))
        while timeline_rows and rng.random() < len(timeline_rows) / (args.activities - number):
            batch.append(timeline_rows.pop())
        if len(batch) >= 20_000:
            bulk_insert(connection, dialect, "activities", ACTIVITY_COLUMNS, batch)
            batch = []
            if (number + 1) // 200_000 > reported:
                reported = (number + 1) // 200_000
                print(f"  {number + 1:,} activities", flush=True)
    bulk_insert(connection, dialect, "activities", ACTIVITY_COLUMNS, batch + timeline_rows)
    if dialect == "sqlite":
        connection.execute("COMMIT")
        connection.execute("ANALYZE")
    else:
        connection.commit()
        connection.autocommit = True
        # What autovacuum does on a running server soon after a bulk load: statistics and the visibility map.
        connection.execute("VACUUM ANALYZE")
    connection.close()
    database.dispose()
    return {
        "opportunity_id": str(opportunity_id),
        "lead_id": str(lead_id),
        "generated_at": now.isoformat(),
        "activities": args.activities,
        "notes": args.notes,
        "layout": "scattered",
        "timeline_entries": args.timeline,
        "users": len(users),
        "services_seconds": round(services_seconds, 1),
        "bulk_seconds": round(time.perf_counter() - loaded, 1),
    }


def prepared(backend: str, args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """The benchmark database of this backend, built now or kept from an earlier run."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    url = database_url(backend, args)
    meta = meta_path(backend, args)
    wanted = {
        "activities": args.activities,
        "notes": args.notes,
        "layout": "scattered",
        "timeline_entries": args.timeline,
        "users": args.users,
    }
    if not args.rebuild and meta.exists():
        setup = json.loads(meta.read_text())
        if all(setup.get(key) == value for key, value in wanted.items()) and exists(backend, url, args):
            print(f"[{backend}] reusing the database of {setup['generated_at']} ({url})", flush=True)
            return url, setup
    wipe(backend, args)
    print(f"[{backend}] building {args.activities:,} activities and a {args.timeline:,}-entry timeline ...", flush=True)
    setup = populate(backend, url, args)
    setup["users"] = args.users
    meta.write_text(json.dumps(setup, indent=2))
    print(f"[{backend}] built: services {setup['services_seconds']} s, bulk load {setup['bulk_seconds']} s", flush=True)
    return url, setup


def exists(backend: str, url: str, args: argparse.Namespace) -> bool:
    if backend == "sqlite":
        return Path(url.removeprefix("sqlite:///")).exists()
    from sqlalchemy import text

    with pg_admin(args.postgres_url) as connection:
        return bool(
            connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": PG_DATABASE}).first()
        )


# ---------------------------------------------------------------------------------------------- timing


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(wall: list[float], cpu: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(wall), 2),
        "p95": round(percentile(wall, 0.95), 2),
        "max": round(max(wall), 2),
        "cpu_median": round(statistics.median(cpu), 2),
    }


class Recorder:
    """The SQL statements the service sends, to explain them afterwards."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.statements: list[tuple[str, Any]] = []
        self.on = False

        @event.listens_for(engine, "before_cursor_execute")
        def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool) -> None:
            if self.on and not many:
                self.statements.append((statement, parameters))

    @contextlib.contextmanager
    def recording(self) -> Iterator[list[tuple[str, Any]]]:
        self.statements = []
        self.on = True
        try:
            yield self.statements
        finally:
            self.on = False


def explain(database: Any, statement: str, parameters: Any) -> str:
    with database.engine.connect() as connection:
        prefix = "EXPLAIN QUERY PLAN " if database.dialect == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
        rows = connection.exec_driver_sql(prefix + statement, parameters).all()
        connection.rollback()
    if database.dialect == "sqlite":
        return "\n".join(str(row[-1]) for row in rows)
    return "\n".join(str(row[0]) for row in rows)


def select_list(connection: Any, table: str) -> str:
    """Every column of ``table``, as ``SELECT`` would list them (the service loads whole rows too)."""
    cursor = connection.cursor()
    cursor.execute(f"SELECT * FROM {table} WHERE 1 = 0")
    return ", ".join(column[0] for column in cursor.description)


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    import leadflow.bootstrap.models  # noqa: F401 - every mapped class
    from leadflow.activities.activity import ActivityFilter, list_activities
    from leadflow.activities.models import RegardingTable
    from leadflow.activities.timeline import record_timeline
    from leadflow.core.db import make_engine
    from leadflow.core.paging import decode_cursor
    from leadflow.core.uow import Database
    from leadflow.security.actor import actor_for_email

    url, setup = prepared(backend, args)
    database = Database(url, engine=make_engine(url))
    recorder = Recorder(database.engine)
    opportunity_id = uuid.UUID(setup["opportunity_id"])
    with database.unit_of_work(read_only=True) as uow:
        actors = {
            role: actor_for_email(uow.session, email)
            for role, email in (("seller", SELLER_EMAIL), ("admin", ADMIN_EMAIL))
        }
    raw = raw_connection(url)
    sqlite = backend == "sqlite"
    mark = "?" if sqlite else "%s"

    def raw_call(sql: str, params: tuple[Any, ...]) -> Callable[[], Any]:
        bound = tuple(storage_form(value) for value in params) if sqlite else params

        def call() -> Any:
            cursor = raw.cursor()
            cursor.execute(sql, bound)
            rows = cursor.fetchall()
            if not sqlite:
                raw.rollback()
            return rows

        return call

    def timeline_call(actor: Any, cursor: str | None) -> Callable[[], Any]:
        def call() -> Any:
            with database.unit_of_work(read_only=True) as uow:
                return record_timeline(
                    RegardingTable.OPPORTUNITIES, opportunity_id, uow=uow, actor=actor, limit=LIMIT, cursor=cursor
                )

        return call

    def list_call(actor: Any, view: str) -> Callable[[], Any]:
        def call() -> Any:
            with database.unit_of_work(read_only=True) as uow:
                return list_activities(
                    ActivityFilter(view=view), uow=uow, actor=actor, time_zone=TIME_ZONE, limit=LIMIT
                )

        return call

    note_sql = f"SELECT {select_list(raw, 'notes')} FROM notes WHERE regarding_table = {mark} AND regarding_id = {mark}"
    activity_sql = (
        f"SELECT {select_list(raw, 'activities')} FROM activities WHERE owner_user_id = {mark} AND state = 'open'"
    )
    if not sqlite:
        raw.rollback()
    cases: list[dict[str, Any]] = []
    plans: dict[str, str] = {}

    def measure(
        group: str,
        name: str,
        action: Callable[[], Any],
        base: Callable[[], Any],
        target: float,
        per_source: Callable[[], Any] | None = None,
    ) -> None:
        # The service and its baseline alternate in rounds, so that both share the machine's moments.
        functions = (action, base) if per_source is None else (action, base, per_source)
        for _ in range(args.warmup):
            for function in functions:
                function()
        walls: tuple[list[float], ...] = tuple([] for _ in functions)
        cpus: tuple[list[float], ...] = tuple([] for _ in functions)
        for _ in range(args.samples):
            for index, function in enumerate(functions):
                started, started_cpu = time.perf_counter(), time.process_time()
                function()
                walls[index].append((time.perf_counter() - started) * 1000)
                cpus[index].append((time.process_time() - started_cpu) * 1000)
        page = action()
        case: dict[str, Any] = {
            "group": group,
            "case": name,
            "rows": len(page.items),
            "service": summary(walls[0], cpus[0]),
            "baseline": summary(walls[1], cpus[1]),
            "baseline_rows": len(base()),
            "target_ms": target,
        }
        case["x_baseline"] = round(case["service"]["median"] / max(case["baseline"]["median"], 1e-6), 1)
        extra = ""
        if per_source is not None:
            case["per_source"] = summary(walls[2], cpus[2])
            case["per_source_rows"] = len(per_source())
            extra = f"  | per source {case['per_source']['median']:6.2f} / {case['per_source']['p95']:6.2f}"
        cases.append(case)
        service, baseline = case["service"], case["baseline"]
        flag = "  OVER TARGET (p95)" if service["p95"] > target else ""
        print(
            f"[{backend}] {name:<44} median {service['median']:7.2f}  p95 {service['p95']:7.2f}  "
            f"cpu {service['cpu_median']:6.2f}  | baseline {baseline['median']:6.2f} / {baseline['p95']:6.2f}  "
            f"x{case['x_baseline']}{extra}{flag}",
            flush=True,
        )

    lead_id = uuid.UUID(setup["lead_id"])
    close_sql = f"SELECT {select_list(raw, 'opportunity_closes')} FROM opportunity_closes WHERE opportunity_id = {mark}"
    # Where each table's created_at and id are in its rows, to merge the pages.
    keys = {}
    for table in ("notes", "activities", "opportunity_closes"):
        columns = select_list(raw, table).split(", ")
        keys[table] = (columns.index("created_at"), columns.index("id"))
    if not sqlite:
        raw.rollback()

    def per_source_page(actor: Any, after: tuple[Any, uuid.UUID] | None) -> Callable[[], Any]:
        """The same page as the proposed change would read it, with the raw driver: for notes and activities one
        query of each source (the opportunity, its lead) in the index's order, 51 rows at most each, joined with
        UNION ALL; the close records; merged and cut to 50 in Python. The seller's access condition is written
        out (own or own business unit: the Salesperson's read depth; no record is shared in these data)."""
        position = f" AND (created_at, id) < ({mark}, {mark})" if after else ""
        access = (
            "" if actor is actors["admin"] else f" AND (owner_user_id = {mark} OR owning_business_unit_id = {mark})"
        )
        order = " ORDER BY created_at DESC, id DESC LIMIT 51"
        sources = (("opportunities", opportunity_id), ("leads", lead_id))

        def union(select: str, extra: str, extra_params: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
            parts: list[str] = []
            params: list[Any] = []
            for table, record in sources:
                parts.append(
                    f"SELECT * FROM ({select} WHERE regarding_table = {mark} AND regarding_id = {mark}"
                    f"{position}{extra}{order}) AS s{len(parts)}"
                )
                params += [table, record, *(after or ()), *extra_params]
            return f"SELECT * FROM ({' UNION ALL '.join(parts)}) AS page{order}", tuple(params)

        access_params = () if not access else (actor.user_id, actor.business_unit_id)
        calls = [
            (raw_call(*union(note_sql.split(" WHERE ")[0], "", ())), keys["notes"]),
            (raw_call(*union(activity_sql.split(" WHERE ")[0], access, access_params)), keys["activities"]),
            (raw_call(close_sql + position + order, (opportunity_id, *(after or ()))), keys["opportunity_closes"]),
        ]

        def call() -> Any:
            rows = [((row[at], row[key]), row) for part, (at, key) in calls for row in part()]
            rows.sort(key=lambda pair: pair[0], reverse=True)
            return rows[:LIMIT]

        return call

    # ---- the timeline
    for role, actor in actors.items() if args.only in (None, "timeline") else ():
        # How many entries the actor sees, and the cursor of the page about --deep entries in.
        seen, cursor, deep_cursor, pages = 0, None, None, 0
        while True:
            page = timeline_call(actor, cursor)()
            seen += len(page.items)
            pages += 1
            cursor = page.next_cursor
            if deep_cursor is None and seen >= args.deep and cursor:
                deep_cursor, deep_page = cursor, pages + 1
            if not cursor:
                break
        assert deep_cursor is not None
        print(
            f"[{backend}] timeline as {role}: {seen:,} entries in {pages} pages; deep page = page {deep_page}",
            flush=True,
        )
        at, last_id = decode_cursor(deep_cursor, "datetime", refusal="")
        order = " ORDER BY created_at DESC, id DESC LIMIT 51"
        first = raw_call(note_sql + order, ("opportunities", opportunity_id))
        deep = raw_call(
            note_sql + f" AND (created_at, id) < ({mark}, {mark})" + order,
            ("opportunities", opportunity_id, at, last_id),
        )
        measure(
            "timeline",
            f"timeline, {role}, first page",
            timeline_call(actor, None),
            first,
            TIMELINE_TARGET_MS,
            per_source_page(actor, None),
        )
        measure(
            "timeline",
            f"timeline, {role}, page {deep_page}",
            timeline_call(actor, deep_cursor),
            deep,
            TIMELINE_TARGET_MS,
            per_source_page(actor, (at, last_id)),
        )
        cases[-1]["entries_seen"] = cases[-2]["entries_seen"] = seen
        with recorder.recording() as statements:
            timeline_call(actor, deep_cursor)()
        for statement, parameters in statements:
            if "FROM activities" in statement:
                plans[f"timeline activities, {role}, deep page"] = explain(database, statement, parameters)
            elif "FROM notes" in statement and role == "seller":
                plans["timeline notes, deep page"] = explain(database, statement, parameters)

    # ---- my open activities
    from leadflow.activities.activity import day_bounds

    seller = actors["seller"]
    order = " ORDER BY due_order, id LIMIT 51"
    now = datetime.now(UTC)
    start, end = day_bounds(TIME_ZONE)
    baselines = {
        "my_open": raw_call(activity_sql + order, (seller.user_id,)),
        "overdue": raw_call(activity_sql + f" AND scheduled_end < {mark}" + order, (seller.user_id, now)),
        "due_today": raw_call(
            activity_sql + f" AND scheduled_end >= {mark} AND scheduled_end < {mark}" + order,
            (seller.user_id, start, end),
        ),
    }
    for view, base in baselines.items() if args.only in (None, "list") else ():
        measure("list", f"list_activities {view}, seller", list_call(seller, view), base, LIST_TARGET_MS)
        with recorder.recording() as statements:
            list_call(seller, view)()
        for statement, parameters in statements:
            if "FROM activities" in statement:
                plans[f"list_activities {view}, seller"] = explain(database, statement, parameters)
                plans[f"list_activities {view}, seller: SQL"] = statement
    with database.unit_of_work(read_only=True) as uow:
        from sqlalchemy import func, select

        from leadflow.activities.models import Activity, ActivityState

        counts = {
            "activities": uow.session.scalar(select(func.count()).select_from(Activity)),
            "seller_open": uow.session.scalar(
                select(func.count()).where(
                    Activity.owner_user_id == seller.user_id, Activity.state == ActivityState.OPEN
                )
            ),
        }
    raw.close()
    database.dispose()
    print(f"[{backend}] {counts['activities']:,} activities; the seller has {counts['seller_open']:,} open", flush=True)
    if args.plans:
        for name, plan in plans.items():
            if name.endswith(": SQL"):
                continue
            print(f"\n[{backend}] {name}:\n{plan}", flush=True)
    return {"setup": setup, "counts": counts, "cases": cases, "plans": plans}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--activities", type=int, default=1_000_000, help="activities of the 200 users")
    parser.add_argument("--notes", type=int, default=100_000, help="notes of other records (accounts)")
    parser.add_argument("--users", type=int, default=200, help="Salespeople, spread over five business units")
    parser.add_argument("--timeline", type=int, default=10_000, help="entries of the opportunity's timeline")
    parser.add_argument("--deep", type=int, default=5_000, help="how far in the deep timeline page starts")
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--only", choices=("timeline", "list"), help="time these cases only (e.g. under py-spy)")
    parser.add_argument("--rebuild", action="store_true", help="generate the kept databases again")
    parser.add_argument("--plans", action="store_true", help="print the query plans")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--json", type=Path, default=None, help="default bench/results/activities-<time>.json")
    parser.add_argument("--no-json", action="store_true")
    args = parser.parse_args(argv)
    if args.timeline < LEAD_NOTES + LEAD_ACTIVITIES + OPPORTUNITY_NOTES + CLOSES + LIMIT:
        parser.error("--timeline is too small for the notes and close records it holds")
    sys.path.insert(0, str(BENCH_DIR.parent / "src"))
    results: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": {key: str(value) for key, value in vars(args).items()},
        "versions": {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version},
        "load_average": os.getloadavg(),
        "backends": {},
    }
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    for backend in backends:
        results["backends"][backend] = run_backend(backend, args)
    results["load_average_end"] = os.getloadavg()
    print(f"load average: {results['load_average']} -> {results['load_average_end']}")
    if not args.no_json:
        path = args.json or RESULTS_DIR / f"activities-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2, default=str))
        print(f"written {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
