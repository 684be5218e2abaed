#!/usr/bin/env python
"""Predictive lead scoring: model quality, training time, bulk and single re-scoring, and the lead list
sorted by score, each beside a baseline measured in the same run.

Run from the repository root:

    .venv/bin/python bench/scoring.py                                   # the issue's sizes, both databases
    .venv/bin/python bench/scoring.py --backend sqlite --leads 20000 --history 5000 --samples 10

1. **Quality** (no database): ``--history`` closed leads of ``leadflow.demo.history.planted_leads`` (true
   drivers planted), read by ``features.values_of`` and learned by ``learner.fit`` (which holds out the
   newest fifth): the held-out AUC beside the planted model's own AUC on the same leads (the best any model
   can reach), and the share of held-out leads whose top reason is their planted driver beside the share of
   the most common driver (always naming it). ``fit`` alone is timed here.
2. **Pure scoring**: ``values_of`` + ``Scorer.score`` per row over ``--leads`` open rows in memory
   (``PlantedLead.row()``), beside a Python loop that only reads each row's columns.
3. **Per database** (``--backend``), a database of ``--leads`` open and ``--history`` closed planted leads,
   written by the raw driver (``executemany`` on SQLite, ``COPY`` on PostgreSQL) into the schema of the
   real migrations (``leadflow.bootstrap.prepare_database``), with the secondary indexes of ``leads``
   dropped for the load and created again from their own DDL after it:

   * training: ``service.begin_training`` + ``service.run_training`` (its steps timed), beside the raw
     driver reading the same rows (the SQL of ``features.lead_rows_statement`` with the history's
     condition);
   * one lead changed through ``leads.service.update_lead`` in a unit of work (``--samples`` times), with
     no published model, then with one (the difference is the scoring of ``_rescore_flushed``);
   * ``service.rescore_all`` over every open lead, beside a raw-driver loop reading the same columns by
     batches of 2,000 in ``id`` order and writing one integer per lead;
   * ``leads.views.list_leads`` of the open leads sorted by ``-score`` (all, and grade A), first page and
     a page 10,000 rows in (or the middle of a smaller view) through the cursor, beside the same list
     sorted by ``-created_at``; and the plan of the score-sorted statement.

The SQLite file goes to /tmp/leadflow-bench-scoring/, the PostgreSQL database is ``leadflow_bench_scoring``;
both are removed at the end unless ``--keep``. See bench/README.md, "Predictive lead scoring".
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import random
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))
SRC_DIR = BENCH_DIR.parent / "src"
if str(SRC_DIR) not in sys.path:
    sys.path.insert(0, str(SRC_DIR))

import activities as activities_bench  # noqa: E402 - bench/ is put on the path just above

DATA_DIR = Path("/tmp/leadflow-bench-scoring")
PG_DATABASE = "leadflow_bench_scoring"
DEFAULT_POSTGRES_URL = activities_bench.DEFAULT_POSTGRES_URL
AUC_TARGET = 0.75
DRIVER_TARGET = 0.80
TRAIN_TARGET_S = 60.0
RATE_TARGET = 50_000.0  # leads scored per second
SINGLE_TARGET_MS = 5.0
LIST_TARGET_MS = 100.0
LOAD_BATCH = 20_000
FLOOR_BATCH = 2_000  # as service.BATCH
DEEP_ROWS = 10_000
MONEY_FACTOR = 10_000  # Money: a BIGINT count of 1/10,000 units
RATE_ONE = 10**10  # ScaledDecimal(10) of an exchange rate of 1
OPEN_SEED_OFFSET = 1_000  # the open leads come from another seed than the history

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
    "business_phone",
    "email",
    "website",
    "address_country",
    "lead_source",
    "rating",
    "budget_amount",
    "exchange_rate",
    "budget_amount_base",
    "budget_status",
    "purchase_timeframe",
    "purchase_process",
    "need",
    "decision_maker",
    "merged",
    "state",
    "status_reason",
    "closed_at",
    "owner_user_id",
    "owning_business_unit_id",
    "created_by_id",
    "modified_by_id",
)
DISQUALIFY_REASONS = ("lost", "cannot_contact", "no_longer_interested")


# ---------------------------------------------------------------------------------------------- helpers


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def p50_p95(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(values), 2), "p95_ms": round(percentile(values, 0.95), 2)}


def noop_step(_name: str) -> None:
    return None


def open_row(planted: Any) -> dict[str, Any]:
    """A planted lead as an open lead's row (``values_of``'s input): never closed, opened when it closed."""
    row = planted.row()
    row.update(state="open", closed_at=None, created_at=planted.closed_at, owning_business_unit_id=None)
    return row


def lead_tuple(planted: Any, owner: tuple[uuid.UUID, uuid.UUID], *, closed: bool, number: int) -> tuple[Any, ...]:
    """A planted lead as a tuple of ``LEAD_COLUMNS`` in the form SQLAlchemy stores it (Python values;
    ``activities.storage_form`` turns them into SQLite's): closed as planted (qualified or disqualified),
    or open since the day it would have closed."""
    fields = planted.fields
    budget = fields.get("budget_amount")
    stored = int(budget) * MONEY_FACTOR if budget is not None else None
    owner_id, unit_id = owner
    first, last = fields.get("first_name"), fields["last_name"]
    if closed:
        state = "qualified" if planted.qualified else "disqualified"
        reason = "qualified" if planted.qualified else DISQUALIFY_REASONS[number % len(DISQUALIFY_REASONS)]
        created, closed_at = planted.created_at, planted.closed_at
    else:
        state, reason, created, closed_at = "open", "new", planted.closed_at, None
    return (
        uuid.uuid4(),
        1,
        created,
        closed_at or created,
        fields["topic"],
        first,
        last,
        f"{first} {last}" if first else last,
        fields.get("job_title"),
        fields.get("company_name"),
        fields.get("business_phone"),
        fields["email"],
        fields.get("website"),
        fields.get("address_country"),
        fields.get("lead_source"),
        fields.get("rating"),
        stored,
        RATE_ONE if stored is not None else None,
        stored,
        fields.get("budget_status"),
        fields.get("purchase_timeframe"),
        fields.get("purchase_process"),
        fields.get("need"),
        fields.get("decision_maker"),
        False,
        state,
        reason,
        closed_at,
        owner_id,
        unit_id,
        owner_id,
        owner_id,
    )


# ---------------------------------------------------------------------------------------------- 1, 2: no database


def bench_quality(history: int, seed: int) -> dict[str, Any]:
    """Learn from ``history`` planted leads; the held-out AUC and top-reason share beside their baselines."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    from leadflow.demo.history import BASE, EFFECTS, planted_leads
    from leadflow.scoring import learner
    from leadflow.scoring.features import DEFAULT_FIELDS, values_of
    from leadflow.scoring.learner import Sample, fit
    from leadflow.scoring.scorer import Scorer

    now = datetime.now(UTC)
    started = time.perf_counter()
    planted = list(planted_leads(history, seed=seed, now=now))
    generated = time.perf_counter() - started
    started = time.perf_counter()
    samples = [Sample(values_of(p.row(), DEFAULT_FIELDS, now=now), p.qualified, p.closed_at) for p in planted]
    read = time.perf_counter() - started
    started = time.perf_counter()
    parameters, report = fit(samples, DEFAULT_FIELDS, step=noop_step)
    fit_seconds = time.perf_counter() - started

    # The held-out leads exactly as the learner chose them: the newest fifth by closing time.
    ordered = sorted(zip(samples, planted, strict=True), key=lambda pair: pair[0].closed_at)
    test = ordered[int(round(len(ordered) * (1 - learner.TEST_SHARE))) :]
    scorer = Scorer(parameters)
    top_hits, scored, tops = 0, 0, Counter[str]()
    truth, planted_logits = [], []
    for sample, lead in test:
        result = scorer.score(sample.values)
        chosen = {key: lead.fields.get(key) for key in ("budget_status", "lead_source", "rating")}
        chosen["email_kind"] = sample.values["email_kind"]
        planted_logits.append(BASE + sum(EFFECTS[key][chosen[key]] for key in EFFECTS))
        truth.append(int(sample.qualified))
        if result.score is None or not result.reasons:
            continue
        scored += 1
        tops[result.reasons[0][0]] += 1
        top_hits += result.reasons[0][0] == lead.driver
    drivers = Counter(lead.driver for _sample, lead in test)
    common_driver, common_count = drivers.most_common(1)[0]
    oracle_auc = float(roc_auc_score(np.array(truth), np.array(planted_logits)))
    return {
        "history": history,
        "held_out": len(test),
        "scored": scored,
        "auc": report["auc"],
        "oracle_auc": round(oracle_auc, 4),
        "top_reason_share": round(top_hits / max(scored, 1), 4),
        "common_driver": common_driver,
        "common_driver_share": round(common_count / len(test), 4),
        "top_reasons": dict(tops.most_common()),
        "generate_seconds": round(generated, 2),
        "values_seconds": round(read, 2),
        "fit_seconds": round(fit_seconds, 2),
        "parameters": parameters,
    }


def bench_compute(leads: int, seed: int, parameters: dict[str, Any]) -> dict[str, Any]:
    """``values_of`` + ``Scorer.score`` per row over ``leads`` open rows, beside reading their columns."""
    from leadflow.demo.history import planted_leads
    from leadflow.scoring.features import values_of
    from leadflow.scoring.scorer import Scorer

    now = datetime.now(UTC)
    rows = [open_row(p) for p in planted_leads(leads, seed=seed + OPEN_SEED_OFFSET, now=now)]
    scorer = Scorer(parameters)
    keys = scorer.keys
    columns = list(rows[0])
    gc.collect()
    started = time.perf_counter()
    touched = 0
    for row in rows:
        touched += len([row[column] for column in columns])
    floor = time.perf_counter() - started
    started = time.perf_counter()
    values_seconds = 0.0
    scored = 0
    for row in rows:
        values = values_of(row, keys, now=now)
        scored += scorer.score(values).score is not None
    total = time.perf_counter() - started
    # values_of alone, to split the time between the two halves.
    started = time.perf_counter()
    for row in rows:
        values_of(row, keys, now=now)
    values_seconds = time.perf_counter() - started
    del rows
    gc.collect()
    return {
        "leads": leads,
        "scored": scored,
        "seconds": round(total, 2),
        "leads_per_s": round(leads / total),
        "values_of_seconds": round(values_seconds, 2),
        "score_seconds": round(max(total - values_seconds, 0.0), 2),
        "floor_seconds": round(floor, 3),
        "floor_leads_per_s": round(leads / floor) if floor else None,
        "columns_read": touched,
    }


# ---------------------------------------------------------------------------------------------- 3: databases


def database_url(backend: str, postgres_url: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{DATA_DIR / 'scoring.db'}"
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


def wipe(backend: str, url: str, postgres_url: str) -> None:
    from sqlalchemy import text

    if backend == "postgresql":
        with activities_bench.pg_admin(postgres_url) as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))
        return
    path = Path(url.removeprefix("sqlite:///"))
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)


def populate(backend: str, url: str, *, leads: int, history: int, seed: int, postgres_url: str) -> dict[str, Any]:
    """Migrations, an administrator, ``history`` closed and ``leads`` open planted leads by the raw driver."""
    from sqlalchemy import text

    from leadflow.bootstrap import prepare_database
    from leadflow.core.config import Settings
    from leadflow.demo.history import planted_leads

    sys.path.insert(0, str(BENCH_DIR))
    import qualify as qualify_bench

    started = time.perf_counter()
    wipe(backend, url, postgres_url)
    if backend == "postgresql":
        with activities_bench.pg_admin(postgres_url) as connection:
            connection.execute(text(f'CREATE DATABASE "{PG_DATABASE}"'))
    else:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
    database = prepare_database(Settings(database_url=url)).database
    actor = qualify_bench.ensure_actor(database)
    database.dispose()
    owner = (actor.user_id, actor.business_unit_id)
    now = datetime.now(UTC)

    sqlite = backend == "sqlite"
    connection = activities_bench.raw_connection(url)
    if sqlite:
        connection.execute("PRAGMA cache_size=-1000000")  # 1 GB for the load
    dropped = secondary_indexes(connection, sqlite)
    for name, _sql in dropped:
        connection.cursor().execute(f'DROP INDEX "{name}"')
    if sqlite:
        connection.execute("BEGIN IMMEDIATE")
    else:
        connection.commit()
    loaded = time.perf_counter()
    probes: list[uuid.UUID] = []
    probe_every = max(1, leads // 500)
    batch: list[tuple[Any, ...]] = []
    dialect = "sqlite" if sqlite else "postgresql"
    parts = ((True, planted_leads(history, seed=seed, now=now)), (False, planted_leads(leads, seed=seed + 1, now=now)))
    done = 0
    for closed, source in parts:
        for number, planted in enumerate(source):
            row = lead_tuple(planted, owner, closed=closed, number=number)
            if not closed and number % probe_every == 0:
                probes.append(row[0])
            batch.append(row)
            if len(batch) >= LOAD_BATCH:
                activities_bench.bulk_insert(connection, dialect, "leads", LEAD_COLUMNS, batch)
                done += len(batch)
                batch = []
                if done % 200_000 == 0:
                    print(f"  {done:,} leads", flush=True)
    activities_bench.bulk_insert(connection, dialect, "leads", LEAD_COLUMNS, batch)
    load_seconds = time.perf_counter() - loaded
    if not sqlite:
        connection.commit()
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
    return {
        "open_leads": leads,
        "closed_leads": history,
        "probes": probes,
        "indexes_rebuilt": len(dropped),
        "load_seconds": round(load_seconds, 1),
        "index_seconds": round(time.perf_counter() - indexed, 1),
        "total_seconds": round(time.perf_counter() - started, 1),
    }


def analyze(url: str) -> None:
    connection = activities_bench.raw_connection(url)
    if url.startswith("sqlite"):
        connection.execute("ANALYZE")
    else:
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE leads")
        connection.execute("VACUUM ANALYZE lead_scores")
    connection.close()


def rows_sql(dialect: Any) -> str:
    """The SELECT of ``features.lead_rows_statement`` as the driver receives it (no WHERE)."""
    from leadflow.scoring.features import lead_rows_statement

    return str(lead_rows_statement().compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def mark(sqlite: bool) -> Callable[[str], str]:
    return (lambda _name: "?") if sqlite else (lambda name: f"%({name})s")


def floor_read_history(url: str, dialect: Any, since: datetime) -> dict[str, Any]:
    """The raw driver reading what training reads: the same columns of the closed leads of the history."""
    sqlite = url.startswith("sqlite")
    p = mark(sqlite)
    sql = (
        f"{rows_sql(dialect)} WHERE leads.state IN ('qualified', 'disqualified') AND leads.merged = "
        f"{'0' if sqlite else 'false'} AND leads.closed_at >= {p('since')}"
    )
    parameters: Any = (activities_bench.storage_form(since),) if sqlite else {"since": since}
    connection = activities_bench.raw_connection(url)
    started = time.perf_counter()
    cursor = connection.cursor()
    cursor.execute(sql, parameters)
    rows = cursor.fetchall()
    seconds = time.perf_counter() - started
    if not sqlite:
        connection.rollback()
    connection.close()
    return {"rows": len(rows), "seconds": round(seconds, 2)}


def floor_rescore(url: str, dialect: Any) -> dict[str, Any]:
    """A raw-driver loop over the open leads by batches in ``id`` order: read the columns scoring reads,
    write one integer per lead (``leads.score``), one transaction per batch."""
    sqlite = url.startswith("sqlite")
    p = mark(sqlite)
    base = f"{rows_sql(dialect)} WHERE leads.state = 'open'"
    update = f"UPDATE leads SET score = {p('score')} WHERE id = {p('id')}"
    connection = activities_bench.raw_connection(url)
    started = time.perf_counter()
    after: Any = None
    done = 0
    while True:
        cursor = connection.cursor()
        if sqlite:
            connection.execute("BEGIN IMMEDIATE")
        if after is None:
            cursor.execute(f"{base} ORDER BY leads.id LIMIT {FLOOR_BATCH}")
        else:
            cursor.execute(
                f"{base} AND leads.id > {p('after')} ORDER BY leads.id LIMIT {FLOOR_BATCH}",
                (after,) if sqlite else {"after": after},
            )
        rows = cursor.fetchall()
        if not rows:
            if sqlite:
                connection.execute("COMMIT")
            else:
                connection.commit()
            break
        if sqlite:
            cursor.executemany(update, [(len(row) % 100, row[0]) for row in rows])
            connection.execute("COMMIT")
        else:
            cursor.executemany(update, [{"score": len(row) % 100, "id": row[0]} for row in rows])
            connection.commit()
        done += len(rows)
        after = rows[-1][0]
    seconds = time.perf_counter() - started
    connection.close()
    return {"leads": done, "seconds": round(seconds, 1), "leads_per_s": round(done / seconds) if seconds else None}


def time_updates(database: Any, actor: Any, probes: list[uuid.UUID], *, samples: int, tag: str) -> list[float]:
    """Milliseconds of one lead change through ``update_lead`` in its own unit of work, commit included."""
    from leadflow.core.schemas import parse
    from leadflow.leads.schemas import LeadUpdate
    from leadflow.leads.service import update_lead

    rng = random.Random(len(probes) + samples)
    timings = []
    for number in range(samples + 2):  # the first two warm the caches
        lead_id = rng.choice(probes)
        change = parse(LeadUpdate, {"job_title": None if number % 2 else f"Buyer {tag} {number}"})
        started = time.perf_counter()
        with database.unit_of_work() as uow:
            update_lead(lead_id, change, uow=uow, actor=actor)
            uow.commit()
        if number >= 2:
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def list_query(sort: str, grade: str | None, cursor: str | None, limit: int = 50) -> Any:
    from leadflow.leads.views import LeadQuery, LeadView

    return LeadQuery(view=LeadView.OPEN, sort=sort, limit=limit, cursor=cursor, grade=grade)


def later_cursor(database: Any, actor: Any, *, sort: str, grade: str | None) -> tuple[str | None, int]:
    """A cursor ``DEEP_ROWS`` rows into the list, or into its middle when it is smaller; rows skipped."""
    from leadflow.leads.views import MAX_PAGE, list_leads

    def walk(target: int) -> tuple[str | None, int]:
        seen, cursor = 0, None
        with database.unit_of_work(read_only=True) as uow:
            while seen < target:
                page = list_leads(list_query(sort, grade, cursor, min(MAX_PAGE, target - seen)), uow=uow, actor=actor)
                seen += len(page.items)
                if page.next_cursor is None:
                    return None, seen
                cursor = page.next_cursor
        return cursor, seen

    cursor, seen = walk(DEEP_ROWS)
    if cursor is not None:
        return cursor, seen
    middle = seen // 2
    return (walk(middle)[0] if middle else None), middle


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


def time_list(
    database: Any, actor: Any, *, sort: str, grade: str | None, cursor: str | None, samples: int
) -> dict[str, Any]:
    """``list_leads`` in a read-only unit of work: p50/p95 ms, the page's rows and the plan."""
    from leadflow.leads.views import list_leads

    query = list_query(sort, grade, cursor)
    rows = 0
    for _ in range(2):
        with database.unit_of_work(read_only=True) as uow:
            rows = len(list_leads(query, uow=uow, actor=actor).items)
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        with database.unit_of_work(read_only=True) as uow:
            list_leads(query, uow=uow, actor=actor)
        timings.append((time.perf_counter() - started) * 1000)
    with captured(database.engine) as statements:
        with database.unit_of_work(read_only=True) as uow:
            list_leads(query, uow=uow, actor=actor)
    sql, parameters = next((s, p) for s, p in statements if "ORDER BY" in s and "FROM leads" in s)
    prefix = "EXPLAIN QUERY PLAN " if database.dialect == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
    with database.engine.connect() as connection:
        found = connection.exec_driver_sql(prefix + sql, parameters).all()
    plan = "\n".join(str(row[-1]) for row in found)
    return {**p50_p95(timings), "rows": rows, "plan": plan, "uses_score_index": "ix_leads_sort_score" in plan}


def time_rescore_one(database: Any, probes: list[uuid.UUID], *, samples: int) -> list[float]:
    """Milliseconds of ``service.rescore`` of one lead (what ``_rescore_flushed`` runs after a change),
    in its own transaction, commit included."""
    from leadflow.scoring import service

    rng = random.Random(samples)
    timings = []
    for number in range(samples + 2):
        lead_id = rng.choice(probes)
        with database.unit_of_work() as uow:
            started = time.perf_counter()
            service.rescore(uow.session, [lead_id])
            uow.commit()
            if number >= 2:
                timings.append((time.perf_counter() - started) * 1000)
    return timings


def single_only(
    database: Any,
    actor: Any,
    probes: list[uuid.UUID],
    result: dict[str, Any],
    args: argparse.Namespace,
    without: list[float],
) -> None:
    """The single-lead figures, alternating rounds of ``rescore`` alone and of whole updates."""
    with_model = time_updates(database, actor, probes, samples=args.samples, tag="after")
    direct = time_rescore_one(database, probes, samples=args.samples)
    result["single"] = {
        "without": p50_p95(without),
        "with": p50_p95(with_model),
        "cost_p50_ms": round(statistics.median(with_model) - statistics.median(without), 2),
        "cost_p95_ms": round(percentile(with_model, 0.95) - percentile(without, 0.95), 2),
        "rescore_one": p50_p95(direct),
    }
    print(f"[{result['backend']}] update_lead {result['single']}", flush=True)


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy import func, select

    from leadflow.core.uow import Database
    from leadflow.leads.models import Lead
    from leadflow.scoring import service
    from leadflow.scoring.models import LeadScore, ScoringModel
    from leadflow.scoring.schemas import ScoringModelIn

    sys.path.insert(0, str(BENCH_DIR))
    import qualify as qualify_bench

    url = database_url(backend, args.postgres_url)
    print(f"[{backend}] building {args.history:,} closed + {args.leads:,} open leads ...", flush=True)
    setup = populate(
        backend, url, leads=args.leads, history=args.history, seed=args.seed, postgres_url=args.postgres_url
    )
    probes = setup.pop("probes")
    print(
        f"[{backend}] built in {setup['total_seconds']} s (rows {setup['load_seconds']} s, "
        f"{setup['indexes_rebuilt']} indexes {setup['index_seconds']} s)",
        flush=True,
    )
    result: dict[str, Any] = {"backend": backend, "setup": setup}
    database = Database(url)
    try:
        actor = qualify_bench.ensure_actor(database)
        dialect = database.engine.dialect

        # Training: the raw driver's read of the history, then the whole service path.
        with database.unit_of_work() as uow:
            model = service.create_model(ScoringModelIn(name="Bench model"), uow=uow, actor=actor)
            model_id, months = model.id, model.history_months
            uow.commit()
        since = datetime.now(UTC) - timedelta(days=round(months * 30.44))
        floor = floor_read_history(url, dialect, since)
        steps: list[tuple[str, float]] = []
        started = time.perf_counter()
        with database.unit_of_work() as uow:
            version_id = service.begin_training(model_id, uow=uow, actor=actor).id
            uow.commit()
        steps.append(("begin", time.perf_counter()))
        version = service.run_training(
            version_id, database=database, step=lambda name: steps.append((name, time.perf_counter()))
        )
        ended = time.perf_counter()
        marks = [("start", started), *steps, ("stored", ended)]
        phases = {f"{a}->{b}": round(tb - ta, 2) for (a, ta), (b, tb) in zip(marks, marks[1:], strict=False)}
        result["training"] = {
            "seconds": round(ended - started, 2),
            "phases": phases,
            "auc": (version.report or {}).get("auc"),
            "history_rows": floor["rows"],
            "floor_seconds": floor["seconds"],
        }
        print(f"[{backend}] training {result['training']}", flush=True)

        # One lead changed, no published model yet.
        without = time_updates(database, actor, probes, samples=args.samples, tag="before")
        print(f"[{backend}] update_lead without a model {p50_p95(without)}", flush=True)

        # Bulk: the raw floor, then publishing and rescore_all.
        if not args.skip_bulk:
            result["rescore_floor"] = floor_rescore(url, dialect)
            print(f"[{backend}] raw floor {result['rescore_floor']}", flush=True)
        with database.unit_of_work() as uow:
            service.publish(version_id, uow=uow, actor=actor)
            uow.commit()
        if args.skip_bulk:  # only the probed leads get a score: a single change, no list by score
            single_only(database, actor, probes, result, args, without)
            return result
        last = [time.perf_counter()]

        def progress(done: int, total: int) -> None:
            if done % 100_000 < service.BATCH or done == total:
                now = time.perf_counter()
                print(f"  rescore_all {done:,}/{total:,} (+{now - last[0]:.1f} s)", flush=True)
                last[0] = now

        gc.collect()
        started = time.perf_counter()
        done = service.rescore_all(database=database, progress=progress)
        seconds = time.perf_counter() - started
        with database.unit_of_work(read_only=True) as uow:
            stored = uow.session.scalar(select(func.count()).select_from(LeadScore)) or 0
            scored = uow.session.scalar(select(func.count()).select_from(Lead).where(Lead.score.is_not(None))) or 0
            grade_a = uow.session.scalar(select(func.count()).select_from(Lead).where(Lead.score_grade == "A")) or 0
        result["rescore_all"] = {
            "leads": done,
            "seconds": round(seconds, 1),
            "leads_per_s": round(done / seconds) if seconds else None,
            "lead_scores_rows": stored,
            "scored_leads": scored,
            "grade_a_leads": grade_a,
        }
        print(f"[{backend}] rescore_all {result['rescore_all']}", flush=True)
        analyze(url)

        # One lead changed with the model published.
        with_model = time_updates(database, actor, probes, samples=args.samples, tag="after")
        with database.unit_of_work(read_only=True) as uow:
            published = uow.session.get_one(ScoringModel, model_id).published_version_id
        result["single"] = {
            "without": p50_p95(without),
            "with": p50_p95(with_model),
            "cost_p50_ms": round(statistics.median(with_model) - statistics.median(without), 2),
            "cost_p95_ms": round(percentile(with_model, 0.95) - percentile(without, 0.95), 2),
            "rescore_one": p50_p95(time_rescore_one(database, probes, samples=args.samples)),
            "published_version": str(published),
        }
        print(f"[{backend}] update_lead {result['single']}", flush=True)

        # The lead list.
        cases = []
        for sort, grade in (("-score", None), ("-score", "A"), ("-created_at", None), ("-created_at", "A")):
            cursor, skipped = later_cursor(database, actor, sort=sort, grade=grade)
            for page, page_cursor in (("first", None), ("later", cursor)):
                if page == "later" and page_cursor is None:
                    continue
                timing = time_list(database, actor, sort=sort, grade=grade, cursor=page_cursor, samples=args.samples)
                case = {"sort": sort, "grade": grade, "page": page, "rows_in": 0 if page == "first" else skipped}
                case.update(timing)
                cases.append(case)
                print(
                    f"[{backend}] list {sort:12} grade={grade or '-'} {page:5} rows={timing['rows']} "
                    f"p50={timing['p50_ms']} p95={timing['p95_ms']} score index={timing['uses_score_index']}",
                    flush=True,
                )
        result["list"] = cases
    finally:
        database.dispose()
        if not args.keep:
            wipe(backend, url, args.postgres_url)
    return result


# ---------------------------------------------------------------------------------------------- report


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def summary_rows(results: dict[str, Any]) -> list[list[str]]:
    """target, measured, baseline, met: one row per figure."""
    rows: list[list[str]] = []
    quality = results.get("quality")
    if quality:
        rows.append(
            [
                "held-out AUC >= 0.75",
                f"{quality['auc']}",
                f"planted model {quality['oracle_auc']}",
                "yes" if (quality["auc"] or 0) >= AUC_TARGET else "no",
            ]
        )
        rows.append(
            [
                "top reason = planted driver >= 80 %",
                f"{quality['top_reason_share']:.1%}",
                f"always '{quality['common_driver']}' {quality['common_driver_share']:.1%}",
                "yes" if quality["top_reason_share"] >= DRIVER_TARGET else "no",
            ]
        )
        rows.append(
            [
                f"learner.fit, {quality['history']:,} leads <= 60 s",
                f"{quality['fit_seconds']} s",
                f"values_of of the same leads {quality['values_seconds']} s",
                "yes" if quality["fit_seconds"] <= TRAIN_TARGET_S else "no",
            ]
        )
    compute = results.get("compute")
    if compute:
        rows.append(
            [
                f"pure scoring, {compute['leads']:,} rows >= 50,000/s",
                f"{compute['leads_per_s']:,}/s ({compute['seconds']} s)",
                f"reading the rows' columns {compute['floor_leads_per_s']:,}/s",
                "yes" if compute["leads_per_s"] >= RATE_TARGET else "no",
            ]
        )
    for run in results.get("runs", []):
        name = "SQLite" if run["backend"] == "sqlite" else "PostgreSQL"
        training = run["training"]
        rows.append(
            [
                f"{name}: run_training, {training['history_rows']:,} leads <= 60 s",
                f"{training['seconds']} s",
                f"raw read {training['floor_seconds']} s",
                "yes" if training["seconds"] <= TRAIN_TARGET_S else "no",
            ]
        )
        bulk, floor = run.get("rescore_all"), run.get("rescore_floor")
        if bulk and floor:
            rows.append(
                [
                    f"{name}: rescore_all, {bulk['leads']:,} leads >= 50,000/s",
                    f"{bulk['leads_per_s']:,}/s ({bulk['seconds']} s)",
                    f"raw loop {floor['leads_per_s']:,}/s ({floor['seconds']} s)",
                    "yes" if (bulk["leads_per_s"] or 0) >= RATE_TARGET else "no",
                ]
            )
        single = run["single"]
        rows.append(
            [
                f"{name}: one lead re-scored <= 5 ms (p50 / p95)",
                f"{single['cost_p50_ms']} / {single['cost_p95_ms']} ms "
                f"(update {single['with']['p50_ms']} / {single['with']['p95_ms']} ms)",
                f"update without a model {single['without']['p50_ms']} / {single['without']['p95_ms']} ms",
                "yes" if single["cost_p95_ms"] <= SINGLE_TARGET_MS else "no",
            ]
        )
        rows.append(
            [
                f"{name}: rescore() of one lead, commit included (p50 / p95)",
                f"{single['rescore_one']['p50_ms']} / {single['rescore_one']['p95_ms']} ms",
                "-",
                "yes" if single["rescore_one"]["p95_ms"] <= SINGLE_TARGET_MS else "no",
            ]
        )
        for case in run.get("list", []):
            if case["sort"] != "-score":
                continue
            base = next(
                (
                    c
                    for c in run["list"]
                    if c["sort"] == "-created_at" and c["grade"] == case["grade"] and c["page"] == case["page"]
                ),
                None,
            )
            rows.append(
                [
                    f"{name}: list -score{' grade A' if case['grade'] else ''}, {case['page']} page <= 100 ms",
                    f"{case['p50_ms']} / {case['p95_ms']} ms (score index: {'yes' if case['uses_score_index'] else 'no'})",
                    f"-created_at {base['p50_ms']} / {base['p95_ms']} ms" if base else "-",
                    "yes" if case["p95_ms"] <= LIST_TARGET_MS else "no",
                ]
            )
    return rows


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000, help="open leads (pure scoring and databases)")
    parser.add_argument("--history", type=int, default=100_000, help="closed planted leads (quality, training)")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both", "none"], default="both")
    parser.add_argument("--samples", type=int, default=50, help="timed calls per single-lead and list case")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-memory", action="store_true", help="skip the quality and pure-scoring parts")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument(
        "--skip-bulk", action="store_true", help="no raw loop, rescore_all nor lists: training and one lead only"
    )
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--json", type=Path, default=None, help="where the results go (default /tmp/...)")
    args = parser.parse_args(argv)
    import sqlalchemy

    import leadflow

    results: dict[str, Any] = {
        "benchmark": "scoring",
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": {key: str(value) for key, value in vars(args).items()},
        "versions": {
            "python": platform.python_version(),
            "sqlalchemy": sqlalchemy.__version__,
            "leadflow": leadflow.__version__,
        },
        "load_average": os.getloadavg(),
    }
    if not args.skip_memory:
        print(f"quality: {args.history:,} planted leads ...", flush=True)
        quality = bench_quality(args.history, args.seed)
        parameters = quality.pop("parameters")
        results["quality"] = quality
        print(f"quality {quality}", flush=True)
        print(f"pure scoring: {args.leads:,} rows ...", flush=True)
        results["compute"] = bench_compute(args.leads, args.seed, parameters)
        print(f"compute {results['compute']}", flush=True)
    backends = {"both": ["sqlite", "postgresql"], "none": []}.get(args.backend, [args.backend])
    results["runs"] = [run_backend(backend, args) for backend in backends]
    results["load_average_end"] = os.getloadavg()
    results["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    print()
    print(table(["target", "measured", "baseline (same run)", "met"], summary_rows(results)))
    path = args.json or DATA_DIR / f"results-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str))
    print(f"results: {path}")
    return results


if __name__ == "__main__":
    main()
