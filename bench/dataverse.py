#!/usr/bin/env python
"""The Dataverse Web API: CreateMultiple of 1,000 leads, and a selective $filter over 1,000,000 leads.

Run from the repository root:

    .venv/bin/python bench/dataverse.py                                   # both parts, SQLite and PostgreSQL
    .venv/bin/python bench/dataverse.py --backend sqlite --leads 100000 --samples 20
    .venv/bin/python bench/dataverse.py --only create --repeats 3         # CreateMultiple only

Both parts run the real application in this process (``leadflow.asgi.create_app`` under fastapi's
``TestClient``), authenticated like any script with a personal API token of the administrator sent as
``Authorization: Bearer``. *Server time* is measured around the ASGI application call (``ServerTimer``):
from the request's arrival to the last byte of the answer, without the test client's own work.

1. **CreateMultiple** (target: 1,000 leads in at most 1 s on SQLite). In a fresh, empty database per
   backend, ``--repeats`` rounds; each round, one after the other on distinct leads (``lead_data`` of
   bench/qualify.py: subject, names, e-mail, company, phone, lead source, budget):
   ``POST /api/data/v9.2/leads/Microsoft.Dynamics.CRM.CreateMultiple`` of ``--create`` leads; the REST
   API's way, which has no bulk create: ``--create`` single ``POST /api/v1/leads`` (with
   ``suppress_duplicate_detection=true``, as the Web API suppresses detection unless asked); and the
   raw-driver floor: the same rows inserted with ``sqlite3`` / psycopg 3 (``executemany``) in one
   transaction.
2. **$filter** (target: at most 50 ms of server time over 1,000,000 leads, both databases). A database
   of ``--leads`` leads (``lead_data`` rows written by the raw driver as bench/activities.py writes its
   rows: ``executemany`` on SQLite, ``COPY`` on PostgreSQL, with the secondary indexes of ``leads``
   dropped for the load and created again after it), kept in /tmp/leadflow-bench-dataverse/ and the
   PostgreSQL database ``leadflow_bench_dataverse`` for the next run (``--rebuild`` builds it again).
   ``--samples`` timed requests (after ``--warmup``) of
   ``GET /api/data/v9.2/leads?$filter=emailaddress1 eq '<one address>'&$select=fullname,emailaddress1``
   and of ``$filter=_parentaccountid_value eq <guid>`` (the 20 leads of one account), each beside the
   raw driver running the SQL the API sent and a minimal ``SELECT`` of the same rows, alternating in
   rounds; then the plan of the API's statement (``EXPLAIN QUERY PLAN`` / ``EXPLAIN (ANALYZE, BUFFERS)``).

See bench/README.md, "The Dataverse Web API".
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sqlite3
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import activities as activities_bench  # noqa: E402 - bench/ is put on the path just above
import lead_list as lead_list_bench  # noqa: E402
import qualify as qualify_bench  # noqa: E402

RESULTS_DIR = BENCH_DIR / "results"
DATA_DIR = Path("/tmp/leadflow-bench-dataverse")
PG_DATABASE = "leadflow_bench_dataverse"
DEFAULT_POSTGRES_URL = qualify_bench.DEFAULT_POSTGRES_URL
CREATE_TARGET_S = 1.0  # CreateMultiple of 1,000 leads, SQLite
QUERY_TARGET_MS = 50.0  # a selective $filter over 1,000,000 leads, both databases
API = "/api/data/v9.2"
PARENT_LEADS = 20  # leads of the one account the second filter names
LOAD_BATCH = 20_000
MONEY_FACTOR = Decimal(10) ** 4  # Money: a BIGINT count of 1/10,000 units
RATE_ONE = 10**10  # ScaledDecimal(10) of an exchange rate of 1

# What a CreateMultiple item carries, as lead_data names it.
CREATE_FIELDS = ("topic", "first_name", "last_name", "email", "company_name", "business_phone", "lead_source")
# Extra fields the 1,000,000-lead database holds (a lead is more than what one import sends).
FULL_FIELDS = (
    *CREATE_FIELDS,
    "job_title",
    "mobile_phone",
    "website",
    "rating",
    "address_city",
    "address_country",
)
LEAD_COLUMNS = (
    "id",
    "row_version",
    "created_at",
    "modified_at",
    *FULL_FIELDS,
    "full_name",
    "budget_amount",
    "exchange_rate",
    "budget_amount_base",
    "parent_account_id",
    "merged",
    "state",
    "status_reason",
    "owner_user_id",
    "owning_business_unit_id",
    "created_by_id",
    "modified_by_id",
)


# ---------------------------------------------------------------------------------------------- bodies and rows


def dataverse_body(data: dict[str, Any]) -> dict[str, Any]:
    """One item of a CreateMultiple's Targets, in Dataverse's names, from a ``lead_data`` lead."""
    from leadflow.dataverse import options

    body: dict[str, Any] = {
        "@odata.type": "Microsoft.Dynamics.CRM.lead",
        "subject": data["topic"],
        "firstname": data["first_name"],
        "lastname": data["last_name"],
        "emailaddress1": data["email"],
        "companyname": data["company_name"],
        "telephone1": data["business_phone"],
        "leadsourcecode": options.LEAD_SOURCE.value_of(data["lead_source"]),
        "budgetamount": float(data["budget_amount"]) if data["budget_amount"] is not None else None,
    }
    return {key: value for key, value in body.items() if value is not None}


def rest_body(data: dict[str, Any]) -> dict[str, Any]:
    """The same lead as the body of ``POST /api/v1/leads``."""
    return qualify_bench.api_body({key: data[key] for key in (*CREATE_FIELDS, "budget_amount")})


def lead_row(
    lead_id: uuid.UUID,
    data: dict[str, Any],
    owner: tuple[uuid.UUID, uuid.UUID],
    *,
    created: datetime,
    fields: tuple[str, ...] = CREATE_FIELDS,
    parent_account_id: uuid.UUID | None = None,
) -> tuple[Any, ...]:
    """One lead as a tuple of ``LEAD_COLUMNS`` in the form SQLAlchemy stores it (Python values;
    ``activities.storage_form`` turns them into SQLite's): the ``fields`` given, the composed full name,
    the budget as the BIGINT count of 1/10,000 with the exchange rate 1 and its base amount (no currency:
    the organisation's), an open new lead of ``owner``, row version 1."""
    from leadflow.core.names import compose_full_name

    budget = data["budget_amount"]
    stored_budget = int(Decimal(budget).quantize(Decimal("0.0001")) * MONEY_FACTOR) if budget is not None else None
    owner_id, unit_id = owner
    values = {name: data[name] if name in fields else None for name in FULL_FIELDS}
    return (
        lead_id,
        1,
        created,
        created,
        *(values[name] for name in FULL_FIELDS),
        compose_full_name(data["first_name"], data["last_name"]),
        stored_budget,
        RATE_ONE if budget is not None else None,
        stored_budget,
        parent_account_id,
        False,
        "open",
        "new",
        owner_id,
        unit_id,
        owner_id,
        owner_id,
    )


# ---------------------------------------------------------------------------------------------- the app


class ServerTimer:
    """An ASGI wrapper that times each HTTP request from its arrival to the end of its answer."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.times_ms: list[float] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.times_ms.append((time.perf_counter() - started) * 1000)

    @property
    def last_ms(self) -> float:
        return self.times_ms[-1]


def issue_token(database: Any) -> tuple[Any, str]:
    """The administrator (created if missing) and a personal API token of theirs."""
    from leadflow.security.authentication import create_personal_token

    actor = qualify_bench.ensure_actor(database)
    with database.unit_of_work() as uow:
        issued = create_personal_token(actor.email, name="benchmark", days=1, uow=uow, actor=actor)
        uow.commit()
    return actor, issued.secret


@contextlib.contextmanager
def app_client(database: Any, url: str, secret: str) -> Iterator[tuple[Any, ServerTimer]]:
    """The application in this process, behind ``ServerTimer``, and a client sending the bearer token."""
    from fastapi.testclient import TestClient

    from leadflow.asgi import create_app
    from leadflow.core.config import Settings

    timer = ServerTimer(create_app(database, Settings(database_url=url)))
    with TestClient(timer, headers={"Authorization": f"Bearer {secret}"}) as client:
        yield client, timer


def percentile(values: list[float], fraction: float) -> float:
    return activities_bench.percentile(values, fraction)


# ---------------------------------------------------------------------------------------------- part 1: create


def create_multiple(client: Any, timer: ServerTimer, leads: list[dict[str, Any]]) -> tuple[float, list[str]]:
    """One CreateMultiple of ``leads``: its server time in s and the ids it answered."""
    response = client.post(
        f"{API}/leads/Microsoft.Dynamics.CRM.CreateMultiple",
        json={"Targets": [dataverse_body(data) for data in leads]},
    )
    if response.status_code != 200:
        raise RuntimeError(f"CreateMultiple answered {response.status_code}: {response.text[:500]}")
    ids = response.json()["Ids"]
    if len(ids) != len(leads):
        raise RuntimeError(f"CreateMultiple answered {len(ids)} ids for {len(leads)} leads")
    return timer.last_ms / 1000, ids


def single_posts(client: Any, timer: ServerTimer, leads: list[dict[str, Any]]) -> float:
    """``POST /api/v1/leads`` once per lead: the sum of their server times in s."""
    total = 0.0
    for data in leads:
        response = client.post("/api/v1/leads?suppress_duplicate_detection=true", json=rest_body(data))
        if response.status_code != 201:
            raise RuntimeError(f"POST /api/v1/leads answered {response.status_code}: {response.text[:500]}")
        total += timer.last_ms
    return total / 1000


def floor_insert(url: str, rows: list[tuple[Any, ...]]) -> float:
    """The rows inserted into ``leads`` with the raw driver, one ``executemany`` in one transaction (on SQLite
    with the application's settings and ``BEGIN IMMEDIATE``): the seconds from BEGIN to COMMIT."""
    sqlite = url.startswith("sqlite")
    connection = activities_bench.raw_connection(url)
    mark = "?" if sqlite else "%s"
    sql = f"INSERT INTO leads ({', '.join(LEAD_COLUMNS)}) VALUES ({', '.join([mark] * len(LEAD_COLUMNS))})"
    try:
        started = time.perf_counter()
        cursor = connection.cursor()
        if sqlite:
            cursor.execute("BEGIN IMMEDIATE")
            cursor.executemany(sql, [[activities_bench.storage_form(value) for value in row] for row in rows])
            cursor.execute("COMMIT")
        else:
            cursor.executemany(sql, rows)
            connection.commit()
        return time.perf_counter() - started
    finally:
        connection.close()


def stored_columns(url: str, ids: list[str]) -> list[str]:
    """The columns of ``leads`` that hold a value in any of the leads ``ids`` names (to compare what each way
    writes; a lead without an e-mail, say, leaves that column empty)."""
    sqlite = url.startswith("sqlite")
    connection = activities_bench.raw_connection(url)
    try:
        cursor = connection.cursor()
        keys = [uuid.UUID(str(key)) for key in ids]
        marks = ", ".join(["?" if sqlite else "%s"] * len(keys))
        cursor.execute(f"SELECT * FROM leads WHERE id IN ({marks})", [key.hex if sqlite else key for key in keys])
        names = [column[0] for column in cursor.description]
        filled = {
            name for row in cursor.fetchall() for name, value in zip(names, row, strict=True) if value is not None
        }
        return sorted(filled)
    finally:
        connection.close()


def bench_create(url: str, *, count: int, repeats: int, seed: int) -> dict[str, Any]:
    """CreateMultiple, single REST POSTs and the raw-driver floor, ``repeats`` rounds of ``count`` leads
    each, in the empty database at ``url`` (prepared here)."""
    from leadflow.bootstrap import prepare_database
    from leadflow.core.config import Settings

    database = prepare_database(Settings(database_url=url)).database
    actor, secret = issue_token(database)
    owner = (actor.user_id, actor.business_unit_id)
    leads = [data for _id, data in qualify_bench.lead_data(seed, 3 * repeats * count)]
    times: dict[str, list[float]] = {"CreateMultiple": [], "REST single POSTs": [], "raw-driver floor": []}
    columns: dict[str, list[str]] = {}
    try:
        with app_client(database, url, secret) as (client, timer):
            for round_number in range(repeats):
                chunk = leads[3 * round_number * count : 3 * (round_number + 1) * count]
                seconds, ids = create_multiple(client, timer, chunk[:count])
                times["CreateMultiple"].append(seconds)
                columns.setdefault("CreateMultiple", stored_columns(url, ids[:50]))
                times["REST single POSTs"].append(single_posts(client, timer, chunk[count : 2 * count]))
                now = datetime.now(UTC)
                rows = [lead_row(uuid.uuid4(), data, owner, created=now) for data in chunk[2 * count :]]
                times["raw-driver floor"].append(floor_insert(url, rows))
                columns.setdefault("raw-driver floor", stored_columns(url, [str(row[0]) for row in rows[:50]]))
                print(
                    f"  round {round_number + 1}: "
                    + ", ".join(f"{name} {values[-1]:.3f} s" for name, values in times.items()),
                    flush=True,
                )
    finally:
        database.dispose()
    return {
        "leads": count,
        "repeats": repeats,
        "ways": {
            name: {
                "median_s": round(statistics.median(values), 4),
                "best_s": round(min(values), 4),
                "all_s": [round(value, 4) for value in values],
            }
            for name, values in times.items()
        },
        # Columns with a value only on one side: what the service writes besides the floor's row.
        "only_service_columns": sorted(set(columns["CreateMultiple"]) - set(columns["raw-driver floor"])),
        "only_floor_columns": sorted(set(columns["raw-driver floor"]) - set(columns["CreateMultiple"])),
    }


def create_rows(backend: str, result: dict[str, Any]) -> list[list[str]]:
    """The table rows of part 1: way, median, best, leads/s at the median, x floor."""
    floor = result["ways"]["raw-driver floor"]["median_s"]
    rows = []
    for name, way in result["ways"].items():
        rows.append(
            [
                backend,
                name,
                f"{result['leads']:,}",
                f"{way['median_s']:.3f}",
                f"{way['best_s']:.3f}",
                f"{result['leads'] / way['median_s']:,.0f}",
                f"{way['median_s'] / floor:.1f}",
            ]
        )
    return rows


# ---------------------------------------------------------------------------------------------- part 2: $filter


def database_url(backend: str, leads: int, seed: int, postgres_url: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{DATA_DIR / f'leads-{leads}-{seed}.db'}"
    from sqlalchemy.engine import make_url

    url = make_url(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1)).set(database=PG_DATABASE)
    return url.render_as_string(hide_password=False)


def secondary_indexes(connection: Any, sqlite: bool) -> list[tuple[str, str]]:
    """The indexes of ``leads`` that no constraint owns, as (name, DDL)."""
    cursor = connection.cursor()
    if sqlite:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'leads' AND sql IS NOT NULL"
        )
    else:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes i WHERE tablename = 'leads' "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
        )
    return [(name, sql) for name, sql in cursor.fetchall()]


def populate(backend: str, url: str, *, leads: int, seed: int, postgres_url: str) -> dict[str, Any]:
    """Build the $filter database: migrations, organisation, administrator, one account, ``leads`` leads
    (``PARENT_LEADS`` of them with that account as parent). Returns what the cases need."""
    from sqlalchemy import insert, text

    from leadflow.bootstrap import prepare_database
    from leadflow.core.config import Settings
    from leadflow.customers.models import Account

    started = time.perf_counter()
    if backend == "postgresql":
        with activities_bench.pg_admin(postgres_url) as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{PG_DATABASE}"'))
    else:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path = Path(url.removeprefix("sqlite:///"))
        for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            stale.unlink(missing_ok=True)
    database = prepare_database(Settings(database_url=url)).database
    actor = qualify_bench.ensure_actor(database)
    owner = (actor.user_id, actor.business_unit_id)
    account_id = uuid.uuid4()
    now = datetime.now(UTC)
    with database.engine.begin() as connection:
        connection.execute(
            insert(Account),
            [
                {
                    "id": account_id,
                    "row_version": 1,
                    "created_at": now,
                    "modified_at": now,
                    "name": "Cerámicas Rioja S.A.",
                    "state": "active",
                    "owner_user_id": actor.user_id,
                    "owning_business_unit_id": actor.business_unit_id,
                    "created_by_id": actor.user_id,
                    "modified_by_id": actor.user_id,
                }
            ],
        )
    database.dispose()

    sqlite = backend == "sqlite"
    connection = activities_bench.raw_connection(url)
    if sqlite:
        connection.execute("PRAGMA cache_size=-1000000")  # 1 GB for the load: the page cache, not the disk
    dropped = secondary_indexes(connection, sqlite)
    for name, _sql in dropped:
        connection.cursor().execute(f'DROP INDEX "{name}"')
    if sqlite:
        connection.execute("BEGIN IMMEDIATE")
    else:
        connection.commit()
    loaded = time.perf_counter()
    parent_every = max(1, leads // PARENT_LEADS)
    probe_at = leads // 2
    email = None
    parents = 0
    batch: list[tuple[Any, ...]] = []
    for number, (lead_id, data) in enumerate(qualify_bench.lead_data(seed, leads)):
        parent = None
        if number % parent_every == parent_every // 2 and parents < PARENT_LEADS:
            parent, parents = account_id, parents + 1
        batch.append(
            lead_row(lead_id, data, owner, created=data["_created_at"], fields=FULL_FIELDS, parent_account_id=parent)
        )
        if email is None and number >= probe_at and data["email"]:
            email = data["email"]
        if len(batch) >= LOAD_BATCH:
            activities_bench.bulk_insert(connection, "sqlite" if sqlite else "postgresql", "leads", LEAD_COLUMNS, batch)
            batch = []
            if (number + 1) % 200_000 == 0:
                print(f"  {number + 1:,} leads", flush=True)
    activities_bench.bulk_insert(connection, "sqlite" if sqlite else "postgresql", "leads", LEAD_COLUMNS, batch)
    load_seconds = time.perf_counter() - loaded
    if not sqlite:
        connection.commit()  # the deferred foreign keys are checked before an index may be created
    indexed = time.perf_counter()
    for _name, sql in dropped:
        connection.cursor().execute(sql)
    if sqlite:
        connection.execute("COMMIT")
        connection.execute("ANALYZE")
    else:
        connection.commit()
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE")
    connection.close()
    assert email is not None
    return {
        "leads": leads,
        "seed": seed,
        "email": email,
        "account_id": str(account_id),
        "generated_at": now.isoformat(),
        "indexes_rebuilt": len(dropped),
        "load_seconds": round(load_seconds, 1),
        "index_seconds": round(time.perf_counter() - indexed, 1),
        "total_seconds": round(time.perf_counter() - started, 1),
    }


def prepared(backend: str, args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """The $filter database of this backend, built now or kept from an earlier run."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    url = database_url(backend, args.leads, args.seed, args.postgres_url)
    meta = DATA_DIR / f"{backend}-{args.leads}-{args.seed}.json"
    if not args.rebuild and meta.exists():
        setup = json.loads(meta.read_text())
        kept = Path(url.removeprefix("sqlite:///")).exists() if backend == "sqlite" else pg_exists(args.postgres_url)
        if kept:
            print(f"[{backend}] reusing the database of {setup['generated_at']} ({url})", flush=True)
            return url, setup
    if backend == "postgresql":
        for stale in DATA_DIR.glob("postgresql-*.json"):
            stale.unlink()  # one PostgreSQL database: another size replaces it
    print(f"[{backend}] building {args.leads:,} leads ...", flush=True)
    setup = populate(backend, url, leads=args.leads, seed=args.seed, postgres_url=args.postgres_url)
    meta.write_text(json.dumps(setup, indent=2))
    print(
        f"[{backend}] built in {setup['total_seconds']} s (rows {setup['load_seconds']} s, "
        f"{setup['indexes_rebuilt']} indexes {setup['index_seconds']} s)",
        flush=True,
    )
    return url, setup


def pg_exists(postgres_url: str) -> bool:
    from sqlalchemy import text

    with activities_bench.pg_admin(postgres_url) as connection:
        found = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": PG_DATABASE}).first()
    return found is not None


def filter_cases(setup: dict[str, Any]) -> dict[str, str]:
    """The two selective filters: (name, query string of GET /leads)."""
    from urllib.parse import urlencode

    email = setup["email"].replace("'", "''")
    return {
        "emailaddress1 eq (1 lead)": urlencode(
            {"$filter": f"emailaddress1 eq '{email}'", "$select": "fullname,emailaddress1"}, safe="$,"
        ),
        f"_parentaccountid_value eq ({PARENT_LEADS} leads)": urlencode(
            {"$filter": f"_parentaccountid_value eq {setup['account_id']}", "$select": "fullname,emailaddress1"},
            safe="$,",
        ),
    }


def minimal_select(name: str, setup: dict[str, Any], sqlite: bool) -> tuple[str, tuple[Any, ...]]:
    """The floor: the fewest columns the answer needs, by the filter's column, with the raw driver."""
    mark = "?" if sqlite else "%s"
    if name.startswith("emailaddress1"):
        return f"SELECT id, full_name, email FROM leads WHERE email = {mark}", (setup["email"],)
    account = uuid.UUID(setup["account_id"])
    return (
        f"SELECT id, full_name, email FROM leads WHERE parent_account_id = {mark}",
        (account.hex if sqlite else account,),
    )


def query_statement(statements: list[tuple[str, Any]]) -> tuple[str, Any]:
    """Of the statements one request sent, the one that reads the page of leads."""
    for statement, parameters in statements:
        if "FROM leads" in statement and "WHERE" in statement and "LIMIT" in statement:
            return statement, parameters
    raise RuntimeError("the request sent no SELECT of leads: " + "; ".join(s for s, _ in statements))


def bench_query(url: str, setup: dict[str, Any], *, samples: int, warmup: int, plans: bool = True) -> dict[str, Any]:
    """Each filter through the app (server time), the API's own SQL with the raw driver, and the minimal
    SELECT with the raw driver, alternating in rounds; then the plan of the API's SQL."""
    from leadflow.core.db import make_engine
    from leadflow.core.uow import Database

    sqlite = url.startswith("sqlite")
    database = Database(url, engine=make_engine(url))
    recorder = activities_bench.Recorder(database.engine)
    _actor, secret = issue_token(database)
    raw = activities_bench.raw_connection(url)

    def raw_call(sql: str, params: Any) -> Callable[[], int]:
        def call() -> int:
            cursor = raw.cursor()
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            if not sqlite:
                raw.rollback()
            return len(rows)

        return call

    cases: list[dict[str, Any]] = []
    try:
        with app_client(database, url, secret) as (client, timer):
            for name, query in filter_cases(setup).items():
                address = f"{API}/leads?{query}"

                def api_call(address: str = address) -> int:
                    response = client.get(address)
                    if response.status_code != 200:
                        raise RuntimeError(f"{address} answered {response.status_code}: {response.text[:500]}")
                    return len(response.json()["value"])

                with recorder.recording() as statements:
                    rows = api_call()
                statement, parameters = query_statement(list(statements))
                calls = {
                    "api": api_call,
                    "api_sql_raw": raw_call(statement, parameters),
                    "minimal_raw": raw_call(*minimal_select(name, setup, sqlite)),
                }
                for _ in range(warmup):
                    for call in calls.values():
                        call()
                walls: dict[str, list[float]] = {key: [] for key in calls}
                for _ in range(samples):
                    for key, call in calls.items():
                        started = time.perf_counter()
                        call()
                        elapsed = (time.perf_counter() - started) * 1000
                        walls[key].append(timer.last_ms if key == "api" else elapsed)
                case: dict[str, Any] = {
                    "case": name,
                    "rows": rows,
                    "minimal_rows": calls["minimal_raw"](),
                    "sql": statement,
                    **{
                        key: {
                            "p50_ms": round(statistics.median(values), 2),
                            "p95_ms": round(percentile(values, 0.95), 2),
                            "max_ms": round(max(values), 2),
                        }
                        for key, values in walls.items()
                    },
                }
                if plans:
                    case["plan"] = activities_bench.explain(database, statement, parameters)
                cases.append(case)
                print(
                    f"  {name}: server p50 {case['api']['p50_ms']:.2f} ms p95 {case['api']['p95_ms']:.2f} ms | "
                    f"API SQL raw {case['api_sql_raw']['p50_ms']:.2f} | minimal {case['minimal_raw']['p50_ms']:.2f}",
                    flush=True,
                )
    finally:
        raw.close()
        database.dispose()
    return {"leads": setup["leads"], "samples": samples, "cases": cases}


def query_rows(backend: str, result: dict[str, Any]) -> list[list[str]]:
    """The table rows of part 2: filter, rows, server p50 / p95, API SQL raw p50 / p95, minimal p50 / p95."""
    rows = []
    for case in result["cases"]:
        rows.append(
            [
                backend,
                case["case"],
                f"{result['leads']:,}",
                str(case["rows"]),
                f"{case['api']['p50_ms']:.2f} / {case['api']['p95_ms']:.2f}",
                f"{case['api_sql_raw']['p50_ms']:.2f} / {case['api_sql_raw']['p95_ms']:.2f}",
                f"{case['minimal_raw']['p50_ms']:.2f} / {case['minimal_raw']['p95_ms']:.2f}",
            ]
        )
    return rows


# ---------------------------------------------------------------------------------------------- report


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


CREATE_HEADER = ["database", "way", "leads", "median s", "best s", "leads/s (median)", "x floor"]
QUERY_HEADER = [
    "database",
    "$filter",
    "leads",
    "rows",
    "server p50 / p95 ms",
    "API's SQL, raw driver",
    "minimal SELECT",
]


def report(results: dict[str, Any]) -> None:
    create = [row for backend, part in results["create"].items() for row in create_rows(backend, part)]
    query = [row for backend, part in results["query"].items() for row in query_rows(backend, part)]
    if create:
        print("\nCreateMultiple (server time) beside the REST API's single POSTs and the raw-driver floor:\n")
        print(table(CREATE_HEADER, create))
        for backend, part in results["create"].items():
            if part["only_service_columns"] or part["only_floor_columns"]:
                print(
                    f"[{backend}] columns with a value only in the service's leads: {part['only_service_columns']}; "
                    f"only in the floor's: {part['only_floor_columns']}"
                )
            median = part["ways"]["CreateMultiple"]["median_s"]
            if backend == "sqlite":
                met = "met" if median <= CREATE_TARGET_S else "missed"
                print(f"target: CreateMultiple of 1,000 leads <= {CREATE_TARGET_S} s on SQLite: {median:.3f} s, {met}")
    if query:
        print("\n$filter over the leads (server time of the app; the raw driver beside it):\n")
        print(table(QUERY_HEADER, query))
        for backend, part in results["query"].items():
            for case in part["cases"]:
                met = "met" if case["api"]["p95_ms"] <= QUERY_TARGET_MS else "missed"
                print(
                    f"target <= {QUERY_TARGET_MS:.0f} ms, {backend}, {case['case']}: p95 {case['api']['p95_ms']} ms, {met}"
                )
        for backend, part in results["query"].items():
            for case in part["cases"]:
                if "plan" in case:
                    print(f"\n[{backend}] {case['case']}:\n{case['sql']}\n{case['plan']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--only", choices=("create", "query", "build"), help="run one part (build: only make the $filter database)"
    )
    parser.add_argument("--create", type=int, default=1000, help="leads per CreateMultiple")
    parser.add_argument("--repeats", type=int, default=5, help="rounds of the create part")
    parser.add_argument("--leads", type=int, default=1_000_000, help="leads of the $filter database")
    parser.add_argument("--samples", type=int, default=50, help="timed requests per filter")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20261208)
    parser.add_argument("--rebuild", action="store_true", help="build the kept $filter databases again")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--json", type=Path, default=None, help="default bench/results/dataverse-<time>.json")
    parser.add_argument("--no-json", action="store_true")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": {key: str(value) for key, value in vars(args).items()},
        "versions": {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version},
        "load_average": os.getloadavg(),
        "create": {},
        "query": {},
    }
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    for backend in backends:
        if args.only in (None, "create"):
            print(f"[{backend}] CreateMultiple of {args.create:,} leads, {args.repeats} rounds", flush=True)
            with lead_list_bench.fresh_database(backend, args.postgres_url) as url:
                results["create"][backend] = bench_create(url, count=args.create, repeats=args.repeats, seed=args.seed)
        if args.only == "build":
            prepared(backend, args)
        if args.only in (None, "query"):
            url, setup = prepared(backend, args)
            print(f"[{backend}] $filter over {setup['leads']:,} leads, {args.samples} samples", flush=True)
            results["query"][backend] = {
                **bench_query(url, setup, samples=args.samples, warmup=args.warmup),
                "setup": setup,
            }
    results["load_average_end"] = os.getloadavg()
    report(results)
    print(f"\nload average: {results['load_average']} -> {results['load_average_end']}")
    if not args.no_json:
        path = args.json or RESULTS_DIR / f"dataverse-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2, default=str))
        print(f"written {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
