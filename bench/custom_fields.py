#!/usr/bin/env python
"""Custom fields: the lead list filtered and sorted on a custom field, creating a lead with 50 custom
values, and bulk qualify with custom field mappings, each beside a baseline measured in the same run.

Run from the repository root:

    .venv/bin/python bench/custom_fields.py                                  # the issue's sizes, both databases
    .venv/bin/python bench/custom_fields.py --backend sqlite --leads 20000 --creates 100 --qualify-leads 500

Per backend (``--backend``), on databases of its own (a SQLite file in a temporary directory, or
``leadflow_bench_cf_<hex>`` on the PostgreSQL server), removed at the end also when a part fails:

1. **List** (``--leads``, default 1,000,000): the real migrations, an administrator and 19 salespeople
   who own the leads in turn (each ~1/20 of them); the leads written by the raw driver (``executemany``
   on SQLite, ``COPY`` on PostgreSQL) with the secondary indexes of ``leads`` dropped for the load and
   created again after it, each holding 50 custom values in ``custom`` (text, whole numbers, decimals,
   choices, dates, yes/no; a few blank). Then the 50 definitions through
   ``leadflow.fields.service.create_field`` (which builds the index of each of the three searchable
   fields: ``region``, ``seats``, ``contract_end``) and ``ANALYZE``. Timed: ``leads.views.list_leads``
   (first page of 50 and the next one through the cursor; view ``all`` as the administrator and
   ``my-open`` as a salesperson) for three lists on custom fields, each beside a list on built-in
   indexed columns (``rating`` / ``created_at``); ``--samples`` calls after ``--warmup``, median and p95;
   and the plan of each custom list's statement (``EXPLAIN QUERY PLAN`` / ``EXPLAIN (ANALYZE, BUFFERS)``).
2. **Create** (``--creates``): ``leads.service.create_lead`` in a unit of work of its own (commit
   included), the three cases taken in turn: a lead with 50 custom values and the same kind of lead
   without any, on a database with the 50 fields; and a lead without custom values on a database
   with no custom field. Median and p95 ms; the cost ratio.
3. **Qualify** (``--qualify-leads``): two databases with the same leads (created through
   ``create_leads`` with 50 custom values each) and the same 50 lead fields and 10 fields on accounts,
   contacts and opportunities; one of them has 10 mappings (``fields.service.set_mapping``) from the
   lead's fields onto those. ``leads.bulk.qualify_leads`` (what the bulk-qualify job runs) qualifies
   them by batches of ``--batch-size``, the two databases taken in turn batch by batch. Leads/s of each.

See bench/README.md, "Custom fields".
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))
SRC_DIR = BENCH_DIR.parent / "src"
if str(SRC_DIR) not in sys.path:
    sys.path.insert(0, str(SRC_DIR))

import activities as activities_bench  # noqa: E402 - bench/ is put on the path just above
import lead_list as lead_list_bench  # noqa: E402
import qualify as qualify_bench  # noqa: E402
import scoring as scoring_bench  # noqa: E402

DEFAULT_POSTGRES_URL = activities_bench.DEFAULT_POSTGRES_URL
RESULTS_DIR = Path(tempfile.gettempdir()) / "leadflow-bench-custom-fields"
DB_PREFIX = "leadflow_bench_cf_"
LIST_TARGET_MS = 100.0
CREATE_TARGET_RATIO = 2.0
QUALIFY_TARGET_RATIO = 0.80
LOAD_BATCH = 20_000
SELLERS = 19  # with the administrator, twenty owners share the leads
SELLER_EMAIL = "bench-seller-{}@example.com"
TEMPLATES = 4_096  # distinct sets of the 47 values that are not searchable, drawn per lead
SEATS_MAX = 10_000
SEATS_OVER = 9_800  # custom.seats gt 9,800: about 2 % of the leads

REGIONS = ["north", "south", "east", "west", "central"]
SECTORS = ["retail", "health", "education", "logistics", "hospitality", "public", "finance", "industry"]
LANGUAGES = ["es", "en", "fr", "de", "pt"]
WORDS = ["alpha", "brisa", "cobalto", "delta", "eje", "faro", "granito", "horizonte", "isla", "jade", "lince"]

# (name, kind, settings): the 50 custom fields of leads; the first three are searchable.
LEAD_FIELDS: list[tuple[str, str, dict[str, Any]]] = [
    ("region", "choice", {"options": REGIONS, "searchable": True}),
    ("seats", "whole_number", {"searchable": True}),
    ("contract_end", "date", {"searchable": True}),
    ("sector", "choice", {"options": SECTORS}),
    ("staff_count", "whole_number", {}),
    ("language_pref", "choice", {"options": LANGUAGES}),
    ("newsletter_ok", "yes_no", {}),
    ("discount_pct", "decimal", {"precision": 2}),
    ("renewal", "yes_no", {}),
    ("competitor_note", "text", {"max_length": 100}),
    *[(f"text_{n:02d}", "text", {"max_length": 100}) for n in range(1, 10)],
    *[(f"number_{n:02d}", "whole_number", {}) for n in range(1, 8)],
    *[(f"amount_{n:02d}", "decimal", {"precision": 2}) for n in range(1, 8)],
    *[(f"choice_{n:02d}", "choice", {"options": ["a", "b", "c", "d"]}) for n in range(1, 7)],
    *[(f"date_{n:02d}", "date", {}) for n in range(1, 7)],
    *[(f"flag_{n:02d}", "yes_no", {}) for n in range(1, 6)],
]
SEARCHABLE = [name for name, _kind, settings in LEAD_FIELDS if settings.get("searchable")]
# The qualify mappings: lead field -> (table, field of the same kind there).
MAPPINGS: list[tuple[str, str]] = [
    ("region", "accounts"),
    ("sector", "accounts"),
    ("staff_count", "accounts"),
    ("language_pref", "contacts"),
    ("newsletter_ok", "contacts"),
    ("seats", "opportunities"),
    ("contract_end", "opportunities"),
    ("discount_pct", "opportunities"),
    ("renewal", "opportunities"),
    ("competitor_note", "opportunities"),
]
LEAD_COLUMNS = (
    "id",
    "row_version",
    "created_at",
    "modified_at",
    "topic",
    "first_name",
    "last_name",
    "full_name",
    "job_title",
    "company_name",
    "email",
    "lead_source",
    "rating",
    "merged",
    "state",
    "status_reason",
    "closed_at",
    "owner_user_id",
    "owning_business_unit_id",
    "created_by_id",
    "modified_by_id",
    "custom",
)


# ---------------------------------------------------------------------------------------------- helpers


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def p50_p95(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(values), 2), "p95_ms": round(percentile(values, 0.95), 2)}


def field_create(table: str, name: str, kind: str, settings: dict[str, Any]) -> Any:
    from leadflow.fields.schemas import FieldCreate

    data: dict[str, Any] = {
        "table": table,
        "name": name,
        "label_en": name.replace("_", " ").capitalize(),
        "label_es": name.replace("_", " ").capitalize(),
        "kind": kind,
        "searchable": bool(settings.get("searchable")) and table == "leads",
    }
    if "options" in settings:
        data["options"] = [
            {"value": v, "label_en": v.capitalize(), "label_es": v.capitalize()} for v in settings["options"]
        ]
    for key in ("precision", "max_length"):
        if key in settings:
            data[key] = settings[key]
    return FieldCreate.model_validate(data)


def probes() -> dict[str, Any]:
    """The lead fields as unsaved ``CustomField`` objects, to turn input values into stored ones."""
    from leadflow.fields.models import CustomField, FieldKind

    made = {}
    for name, kind, settings in LEAD_FIELDS:
        data = field_create("leads", name, kind, settings)
        made[name] = CustomField(
            table_name="leads",
            name=name,
            kind=FieldKind(kind),
            options=[option.model_dump() for option in data.options] if data.options else None,
            precision=data.precision,
            max_length=data.max_length,
        )
    return made


def input_value(rng: random.Random, name: str, kind: str, settings: dict[str, Any]) -> Any:
    """One value of a field as a client sends it (None: left blank, about one in ten)."""
    if name not in SEARCHABLE and rng.random() < 0.1:
        return None
    if name == "region":
        return rng.choice(REGIONS)
    if name == "seats":
        return rng.randint(1, SEATS_MAX)
    if name == "contract_end":
        return (date(2026, 1, 1) + timedelta(days=rng.randint(0, 4 * 365))).isoformat()
    if kind == "text":
        return f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} {rng.randint(1, 999)}"
    if kind == "whole_number":
        return rng.randint(0, 100_000)
    if kind == "decimal":
        return f"{rng.randint(0, 9_999_999) / 100:.2f}"
    if kind == "choice":
        return rng.choice(settings["options"])
    if kind == "date":
        return (date(2024, 1, 1) + timedelta(days=rng.randint(0, 1500))).isoformat()
    return rng.random() < 0.5  # yes_no


def custom_input(rng: random.Random) -> dict[str, Any]:
    """The 50 custom values of one lead, as a client sends them (blanks left out)."""
    values = {name: input_value(rng, name, kind, settings) for name, kind, settings in LEAD_FIELDS}
    return {name: value for name, value in values.items() if value is not None}


def stored_fragments(rng: random.Random, count: int) -> list[str]:
    """``count`` JSON texts of the 47 values that are not searchable, in stored form, without braces."""
    from leadflow.fields.values import to_stored

    fields = probes()
    fragments = []
    for _ in range(count):
        values = {}
        for name, kind, settings in LEAD_FIELDS:
            if name in SEARCHABLE:
                continue
            value = input_value(rng, name, kind, settings)
            if value is not None:
                values[name] = to_stored(fields[name], value)
        fragments.append(json.dumps(values)[1:-1])
    return fragments


# ---------------------------------------------------------------------------------------------- databases


@contextlib.contextmanager
def fresh_database(backend: str, postgres_url: str, tag: str) -> Iterator[str]:
    """A new empty database URL, removed at the end (also when the run fails)."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix=f"leadflow-bench-cf-{tag}-") as folder:
            yield f"sqlite:///{Path(folder) / 'leads.db'}"
        return
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    name = f"{DB_PREFIX}{tag}_{uuid.uuid4().hex[:8]}"
    with activities_bench.pg_admin(postgres_url) as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1)).set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with activities_bench.pg_admin(postgres_url) as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def prepare(url: str) -> tuple[Any, Any]:
    """Migrations, the organisation and its administrator: the database and the acting administrator."""
    from leadflow.bootstrap import prepare_database
    from leadflow.core.config import Settings

    database = prepare_database(Settings(database_url=url)).database
    return database, qualify_bench.ensure_actor(database)


def define_fields(database: Any, actor: Any, *, targets: bool = False, mappings: bool = False) -> dict[str, float]:
    """The 50 lead fields through the service (the searchable ones get their index); with ``targets``
    the mapped fields on accounts, contacts and opportunities, with ``mappings`` the 10 mappings.
    Seconds of each searchable field's ``create_field`` (its index is built there)."""
    from leadflow.fields import service
    from leadflow.fields.schemas import MappingIn

    seconds: dict[str, float] = {}
    with database.unit_of_work() as uow:
        for name, kind, settings in LEAD_FIELDS:
            started = time.perf_counter()
            service.create_field(field_create("leads", name, kind, settings), uow=uow, actor=actor)
            if settings.get("searchable"):
                seconds[name] = round(time.perf_counter() - started, 2)
        if targets:
            specs = {name: (kind, settings) for name, kind, settings in LEAD_FIELDS}
            for name, table in MAPPINGS:
                kind, settings = specs[name]
                service.create_field(field_create(table, name, kind, settings), uow=uow, actor=actor)
        uow.commit()
    if mappings:
        with database.unit_of_work() as uow:
            for name, table in MAPPINGS:
                service.set_mapping(
                    MappingIn(target_table=table, target_field=name, source_field=f"custom.{name}"),
                    uow=uow,
                    actor=actor,
                )
            uow.commit()
    return seconds


def add_sellers(database: Any) -> list[tuple[uuid.UUID, uuid.UUID]]:
    from leadflow.security.actor import default_actor
    from leadflow.security.service import create_user

    with database.unit_of_work() as uow:
        admin = default_actor(uow.session)
        users = [
            create_user(
                email=SELLER_EMAIL.format(n),
                full_name=f"Bench Seller {n}",
                role_names=["Salesperson"],
                business_unit_name=None,
                password=None,
                uow=uow,
                actor=None,
            )
            for n in range(SELLERS)
        ]
        uow.commit()
        return [(admin.user_id, admin.business_unit_id)] + [(user.id, user.business_unit_id) for user in users]


def populate(backend: str, url: str, *, leads: int, seed: int) -> dict[str, Any]:
    """The list's database: migrations, users, ``leads`` leads with 50 custom values by the raw driver."""
    started = time.perf_counter()
    database, _actor = prepare(url)
    owners = add_sellers(database)
    database.dispose()
    rng = random.Random(seed)
    fragments = stored_fragments(rng, TEMPLATES)
    now = datetime.now(UTC)
    sqlite = backend == "sqlite"
    connection = activities_bench.raw_connection(url)
    if sqlite:
        connection.execute("PRAGMA cache_size=-1000000")  # 1 GB for the load
    dropped = scoring_bench.secondary_indexes(connection, sqlite)
    for name, _sql in dropped:
        connection.cursor().execute(f'DROP INDEX "{name}"')
    if sqlite:
        connection.execute("BEGIN IMMEDIATE")
    else:
        connection.commit()
    loaded = time.perf_counter()
    batch: list[tuple[Any, ...]] = []
    names, sources = lead_list_bench, lead_list_bench.SOURCES
    for number in range(leads):
        first, last = rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES)
        roll = rng.random()
        if roll < 0.7:
            state, reason = "open", "new" if roll < 0.35 else "contacted"
        elif roll < 0.9:
            state, reason = "qualified", "qualified"
        else:
            state, reason = "disqualified", "lost"
        owner_id, unit_id = owners[number % len(owners)]
        created = now - timedelta(seconds=rng.randint(0, 365 * 24 * 3600))
        parts = []
        if rng.random() >= 0.02:
            parts.append(f'"region": "{rng.choice(REGIONS)}"')
        if rng.random() >= 0.02:
            parts.append(f'"seats": {rng.randint(1, SEATS_MAX)}')
        if rng.random() >= 0.03:
            parts.append(f'"contract_end": "{date(2026, 1, 1) + timedelta(days=rng.randint(0, 4 * 365))}"')
        parts.append(fragments[rng.randrange(TEMPLATES)])
        batch.append(
            (
                uuid.uuid4(),
                1,
                created,
                created,
                f"{rng.randint(10, 500)} {rng.choice(names.TOPICS)}",
                first,
                last,
                f"{first} {last}",
                "Purchasing manager",
                f"{rng.choice(names.COMPANY_WORDS)} {rng.choice(names.COMPANY_PLACES)} {rng.randint(1, 300)}",
                f"{first}.{last}{number}@example.com".lower(),
                rng.choice(sources),
                rng.choice(lead_list_bench.RATINGS),
                False,
                state,
                reason,
                created if state != "open" else None,
                owner_id,
                unit_id,
                owner_id,
                owner_id,
                "{" + ", ".join(part for part in parts if part) + "}",
            )
        )
        if len(batch) >= LOAD_BATCH:
            activities_bench.bulk_insert(connection, backend, "leads", LEAD_COLUMNS, batch)
            batch = []
            if (number + 1) % 200_000 == 0:
                print(f"  {number + 1:,} leads ({time.perf_counter() - loaded:.0f} s)", flush=True)
    activities_bench.bulk_insert(connection, backend, "leads", LEAD_COLUMNS, batch)
    load_seconds = time.perf_counter() - loaded
    if not sqlite:
        connection.commit()
    indexed = time.perf_counter()
    for _name, sql in dropped:
        connection.cursor().execute(sql)
    if sqlite:
        connection.execute("COMMIT")
    else:
        connection.commit()
    index_seconds = time.perf_counter() - indexed
    connection.close()
    return {
        "leads": leads,
        "owners": len(owners),
        "load_seconds": round(load_seconds, 1),
        "indexes_rebuilt": len(dropped),
        "index_seconds": round(index_seconds, 1),
        "total_seconds": round(time.perf_counter() - started, 1),
    }


def analyze(url: str) -> None:
    connection = activities_bench.raw_connection(url)
    if url.startswith("sqlite"):
        connection.execute("ANALYZE")
    else:
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE leads")
    connection.close()


# ---------------------------------------------------------------------------------------------- 1: the list


def list_cases() -> list[tuple[str, tuple[Any, ...], str, str, tuple[Any, ...], str]]:
    """(name, custom conditions, custom sort, baseline name, baseline conditions, baseline sort)."""
    from leadflow.fields.filters import Condition

    return [
        (
            "custom.region eq north, sort -custom.seats",
            (Condition("custom.region", "eq", "north"),),
            "-custom.seats",
            "rating eq hot, sort -created_at",
            (Condition("rating", "eq", "hot"),),
            "-created_at",
        ),
        (
            f"custom.seats gt {SEATS_OVER:,}, sort custom.seats",
            (Condition("custom.seats", "gt", str(SEATS_OVER)),),
            "custom.seats",
            # Not ``created_at gt <time>``: a filter on a built-in timestamp fails in ``filters._builtin_value``
            # (``UTCDateTime.python_type`` is ``object``, so the value stays text); see bench/README.md.
            "rating eq warm, sort created_at",
            (Condition("rating", "eq", "warm"),),
            "created_at",
        ),
        (
            "no filter, sort custom.contract_end",
            (),
            "custom.contract_end",
            "no filter, sort created_at",
            (),
            "created_at",
        ),
    ]


@contextlib.contextmanager
def captured(engine: Any) -> Iterator[list[tuple[str, Any]]]:
    from sqlalchemy import event

    statements: list[tuple[str, Any]] = []

    def listen(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def time_list(database: Any, actor: Any, query: Any, *, samples: int, warmup: int, plan: bool) -> dict[str, Any]:
    """``list_leads`` in a read-only unit of work: p50/p95 ms, the page's rows, its next cursor, the plan."""
    from leadflow.leads.views import list_leads

    page = None
    for _ in range(warmup):
        with database.unit_of_work(read_only=True) as uow:
            page = list_leads(query, uow=uow, actor=actor)
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        with database.unit_of_work(read_only=True) as uow:
            page = list_leads(query, uow=uow, actor=actor)
        timings.append((time.perf_counter() - started) * 1000)
    assert page is not None
    result: dict[str, Any] = {**p50_p95(timings), "rows": len(page.items), "next_cursor": page.next_cursor}
    if plan:
        with captured(database.engine) as statements:
            with database.unit_of_work(read_only=True) as uow:
                list_leads(query, uow=uow, actor=actor)
        sql, parameters = next((s, p) for s, p in statements if "ORDER BY" in s and "FROM leads" in s)
        prefix = "EXPLAIN QUERY PLAN " if database.dialect == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
        with database.engine.connect() as connection:
            found = connection.exec_driver_sql(prefix + sql, parameters).all()
        result["plan"] = "\n".join(str(row[-1]) for row in found)
    return result


def bench_list(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    from leadflow.core.uow import Database
    from leadflow.leads.views import LeadQuery, LeadView
    from leadflow.security.actor import actor_for_email, default_actor

    with fresh_database(backend, args.postgres_url, "list") as url:
        print(f"[{backend}] list: {args.leads:,} leads with 50 custom values ...", flush=True)
        setup = populate(backend, url, leads=args.leads, seed=args.seed)
        print(f"[{backend}] built in {setup['total_seconds']} s (rows {setup['load_seconds']} s)", flush=True)
        database = Database(url)
        try:
            with database.unit_of_work(read_only=True) as uow:
                admin = default_actor(uow.session)
                seller = actor_for_email(uow.session, SELLER_EMAIL.format(0))
            started = time.perf_counter()
            setup["index_build_seconds"] = define_fields(database, admin)
            setup["define_seconds"] = round(time.perf_counter() - started, 1)
            started = time.perf_counter()
            analyze(url)
            setup["analyze_seconds"] = round(time.perf_counter() - started, 1)
            print(
                f"[{backend}] 50 fields defined in {setup['define_seconds']} s {setup['index_build_seconds']}",
                flush=True,
            )
            cases = []
            for role, actor, view in (("admin", admin, LeadView.ALL), ("seller", seller, LeadView.MY_OPEN)):
                for pair, (name, conditions, sort, base_name, base_conditions, base_sort) in enumerate(list_cases()):
                    for kind, label, condition, order in (
                        ("custom", name, conditions, sort),
                        ("baseline", base_name, base_conditions, base_sort),
                    ):
                        cursor = None
                        for page in ("first", "second"):
                            query = LeadQuery(view=view, sort=order, limit=50, cursor=cursor, conditions=condition)
                            timing = time_list(
                                database, actor, query, samples=args.samples, warmup=args.warmup, plan=kind == "custom"
                            )
                            cursor = timing.pop("next_cursor")
                            case = {
                                "role": role,
                                "view": view.value,
                                "kind": kind,
                                "pair": pair,
                                "case": label,
                                "page": page,
                            }
                            case.update(timing)
                            if kind == "custom":
                                case["uses_custom_index"] = "ix_cf_leads_" in case["plan"]
                            cases.append(case)
                            print(
                                f"[{backend}] {role:6} {view.value:7} {kind:8} {label:45} {page:6} rows={case['rows']:3} "
                                f"p50={case['p50_ms']:7.2f} p95={case['p95_ms']:7.2f} ms",
                                flush=True,
                            )
                            if "plan" in case:
                                print("    " + case["plan"].replace("\n", "\n    "), flush=True)
                            if cursor is None:
                                break
        finally:
            database.dispose()
    return {"setup": setup, "cases": cases}


# ---------------------------------------------------------------------------------------------- 2: create


def bench_create(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    """One lead per unit of work through ``create_lead``, three cases in turn."""
    from leadflow.core.schemas import parse
    from leadflow.leads import service
    from leadflow.leads.schemas import LeadCreate

    warm = max(5, args.creates // 10)
    with (
        fresh_database(backend, args.postgres_url, "create50") as url_fields,
        fresh_database(backend, args.postgres_url, "create0") as url_plain,
    ):
        with_fields, admin_fields = prepare(url_fields)
        plain, admin_plain = prepare(url_plain)
        try:
            define_fields(with_fields, admin_fields)
            cases = {
                "50 values (50 fields)": (with_fields, admin_fields, True),
                "no values (50 fields)": (with_fields, admin_fields, False),
                "no values (no field)": (plain, admin_plain, False),
            }
            timings: dict[str, list[float]] = {case: [] for case in cases}
            rng = random.Random(args.seed + 2)
            people = qualify_bench.lead_data(args.seed + 2, (warm + args.creates) * len(cases))
            print(f"[{backend}] create: {args.creates} leads per case ...", flush=True)
            for n in range(-warm, args.creates):
                for case, (database, actor, with_values) in cases.items():
                    _id, data = next(people)
                    body = qualify_bench.api_body(data)
                    body.pop("currency", None)
                    if with_values:
                        body["custom"] = custom_input(rng)
                    lead = parse(LeadCreate, body)
                    started = time.perf_counter()
                    with database.unit_of_work() as uow:
                        service.create_lead(lead, uow=uow, actor=actor)
                        uow.commit()
                    if n >= 0:
                        timings[case].append((time.perf_counter() - started) * 1000)
        finally:
            with_fields.dispose()
            plain.dispose()
    figures = {
        case: {**p50_p95(values), "mean_ms": round(statistics.fmean(values), 2)} for case, values in timings.items()
    }
    for case, figure in figures.items():
        print(f"[{backend}] create {case:24} {figure}", flush=True)
    return {"creates": args.creates, "cases": figures}


# ---------------------------------------------------------------------------------------------- 3: qualify


def bench_qualify(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    """The same leads qualified on two databases, with and without the 10 mappings, batch by batch in turn."""
    from sqlalchemy import select

    from leadflow.core.schemas import parse
    from leadflow.leads import service
    from leadflow.leads.bulk import qualify_leads
    from leadflow.leads.models import Lead
    from leadflow.leads.schemas import LeadCreate, QualifyOptions
    from leadflow.opportunities.models import Opportunity

    with (
        fresh_database(backend, args.postgres_url, "qmap") as url_mapped,
        fresh_database(backend, args.postgres_url, "qplain") as url_plain,
    ):
        runs: dict[str, dict[str, Any]] = {}
        warm = min(50, max(1, args.qualify_leads // 10))  # qualified first, untimed, on each database
        try:
            for tag, url in (("with mappings", url_mapped), ("without", url_plain)):
                database, actor = prepare(url)
                define_fields(database, actor, targets=True, mappings=tag == "with mappings")
                rng = random.Random(args.seed + 3)
                people = qualify_bench.lead_data(args.seed + 3, warm + args.qualify_leads)
                chunk: list[Any] = []
                for _id, data in people:
                    body = qualify_bench.api_body(data)
                    body.pop("currency", None)
                    body["custom"] = custom_input(rng)
                    chunk.append(parse(LeadCreate, body))
                    if len(chunk) == 250:
                        with database.unit_of_work() as uow:
                            service.create_leads(chunk, uow=uow, actor=actor, suppress_duplicates=True)
                            uow.commit()
                        chunk = []
                if chunk:
                    with database.unit_of_work() as uow:
                        service.create_leads(chunk, uow=uow, actor=actor, suppress_duplicates=True)
                        uow.commit()
                with database.unit_of_work(read_only=True) as uow:
                    ids = list(uow.session.scalars(select(Lead.id).order_by(Lead.created_at, Lead.id)))
                runs[tag] = {"database": database, "actor": actor, "ids": ids, "seconds": 0.0, "ok": 0, "failed": 0}
            for run in runs.values():
                warmed = qualify_leads(
                    run["ids"][:warm], QualifyOptions(), database=run["database"], actor=run["actor"]
                )
                if not all(outcome.ok for outcome in warmed):
                    raise SystemExit("a lead of the warm-up failed to qualify")
                run["ids"] = run["ids"][warm:]
            print(f"[{backend}] qualify: {args.qualify_leads:,} leads per database ...", flush=True)
            size = args.batch_size
            order = list(runs)
            for round_number, first in enumerate(range(0, args.qualify_leads, size)):
                for tag in order if round_number % 2 == 0 else order[::-1]:
                    run = runs[tag]
                    started = time.perf_counter()
                    for outcome in qualify_leads(
                        run["ids"][first : first + size],
                        QualifyOptions(),
                        database=run["database"],
                        actor=run["actor"],
                        batch_size=size,
                    ):
                        run["ok" if outcome.ok else "failed"] += 1
                    run["seconds"] += time.perf_counter() - started
            result = {}
            for tag, run in runs.items():
                with run["database"].unit_of_work(read_only=True) as uow:
                    customs = list(uow.session.scalars(select(Opportunity.custom)))
                result[tag] = {
                    "ok": run["ok"],
                    "failed": run["failed"],
                    "seconds": round(run["seconds"], 2),
                    "leads_per_s": round((run["ok"] + run["failed"]) / run["seconds"], 1),
                    "opportunities": len(customs),
                    "opportunities_with_mapped_values": sum(1 for custom in customs if custom.get("seats") is not None),
                }
                print(f"[{backend}] qualify {tag:14} {result[tag]}", flush=True)
        finally:
            for run in runs.values():
                run["database"].dispose()
    return {"leads": args.qualify_leads, "batch_size": args.batch_size, "runs": result}


# ---------------------------------------------------------------------------------------------- report


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def summary_rows(results: dict[str, Any]) -> list[list[str]]:
    """target, measured, baseline, met: one row per figure."""
    rows: list[list[str]] = []
    for run in results["runs"]:
        name = "SQLite" if run["backend"] == "sqlite" else "PostgreSQL"
        listed = run.get("list")
        if listed:
            cases = listed["cases"]
            for case in cases:
                if case["kind"] != "custom":
                    continue
                base = next(
                    (
                        c
                        for c in cases
                        if c["kind"] == "baseline"
                        and c["role"] == case["role"]
                        and c["page"] == case["page"]
                        and c["pair"] == case["pair"]
                    ),
                    None,
                )
                rows.append(
                    [
                        f"{name}: {case['view']} ({case['role']}), {case['case']}, {case['page']} page <= 100 ms",
                        f"{case['p50_ms']} / {case['p95_ms']} ms (index: {'yes' if case['uses_custom_index'] else 'no'})",
                        f"{base['case']}: {base['p50_ms']} / {base['p95_ms']} ms" if base else "-",
                        "yes" if case["p50_ms"] <= LIST_TARGET_MS else "no",
                    ]
                )
        created = run.get("create")
        if created:
            figures = created["cases"]
            values = figures["50 values (50 fields)"]["p50_ms"]
            without = figures["no values (50 fields)"]["p50_ms"]
            none = figures["no values (no field)"]["p50_ms"]
            rows.append(
                [
                    f"{name}: create_lead with 50 custom values <= 2x without (p50)",
                    f"{values} ms (p95 {figures['50 values (50 fields)']['p95_ms']})",
                    f"without values {without} ms ({values / without:.2f}x); no field defined {none} ms "
                    f"({values / none:.2f}x)",
                    "yes" if values / without <= CREATE_TARGET_RATIO and values / none <= CREATE_TARGET_RATIO else "no",
                ]
            )
        qualified = run.get("qualify")
        if qualified:
            mapped, plain = qualified["runs"]["with mappings"], qualified["runs"]["without"]
            share = mapped["leads_per_s"] / plain["leads_per_s"]
            rows.append(
                [
                    f"{name}: bulk qualify with 10 mappings >= 80 % of without",
                    f"{mapped['leads_per_s']:,} leads/s ({share:.0%})",
                    f"without mappings {plain['leads_per_s']:,} leads/s",
                    "yes" if share >= QUALIFY_TARGET_RATIO else "no",
                ]
            )
    return rows


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000, help="leads of the list's database")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--parts", default="list,create,qualify", help="which of list, create, qualify to run")
    parser.add_argument("--samples", type=int, default=20, help="timed calls per list case")
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls per list case first")
    parser.add_argument("--creates", type=int, default=300, help="leads created per case")
    parser.add_argument("--qualify-leads", type=int, default=2_000, help="leads qualified per database")
    parser.add_argument("--batch-size", type=int, default=500, help="leads per qualify batch")
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--json", type=Path, default=None, help=f"where the results go (default {RESULTS_DIR}/)")
    args = parser.parse_args(argv)
    parts = {part.strip() for part in args.parts.split(",") if part.strip()}
    import sqlalchemy

    import leadflow

    results: dict[str, Any] = {
        "benchmark": "custom_fields",
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": {key: str(value) for key, value in vars(args).items()},
        "versions": {
            "python": platform.python_version(),
            "sqlalchemy": sqlalchemy.__version__,
            "leadflow": leadflow.__version__,
        },
        "load_average": os.getloadavg(),
        "runs": [],
    }
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        run: dict[str, Any] = {"backend": backend}
        results["runs"].append(run)
        if "list" in parts:
            run["list"] = bench_list(backend, args)
        if "create" in parts:
            run["create"] = bench_create(backend, args)
        if "qualify" in parts:
            run["qualify"] = bench_qualify(backend, args)
    results["load_average_end"] = os.getloadavg()
    results["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    print()
    print(f"load average {results['load_average']} at the start, {results['load_average_end']} at the end")
    print(table(["target", "measured (p50 / p95)", "baseline (same run)", "met"], summary_rows(results)))
    path = args.json or RESULTS_DIR / f"results-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str))
    print(f"results: {path}")
    return results


if __name__ == "__main__":
    main()
