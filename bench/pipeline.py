#!/usr/bin/env python
"""Benchmark of the pipeline board and the forecast on 100,000 opportunities in three currencies.

Run from the repository root:

    python bench/pipeline.py                               # 100,000 opportunities on SQLite and PostgreSQL
    python bench/pipeline.py --backend sqlite --opportunities 20000 --samples 10

Per backend it creates a fresh database, inserts the opportunities with SQLAlchemy Core and times, in
the same process with Starlette's TestClient (so the time is the server's: routing, authentication,
the queries, the JSON or the HTML), the board and the forecast through the REST API and the web pages,
as the administrator (who reads everything) and as a Salesperson (who reads a business unit). Beside
each case it times the domain call alone (``leadflow.reporting.board.board`` or
``leadflow.reporting.forecast.forecast`` in a unit of work of its own) and, as the baseline, the same
aggregate written by hand in SQL and run with the raw driver (``sqlite3`` or psycopg). See
bench/README.md for the figures and how they were taken.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
DEFAULT_POSTGRES_URL = os.environ.get("LEADFLOW_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_PREFIX = "leadflow_bench_pipeline_"
TARGET_MS = 100.0  # the target: the board and the forecast in at most 100 ms of server time

ADMIN_EMAIL = "bench-admin@example.com"
SELLER_EMAIL = "bench-seller@example.com"
PASSWORD = "bench password, long enough"
UNITS = ("Sales North", "Sales South")
SELLERS_PER_UNIT = 5
ACCOUNTS = 5_000
# Units of each currency per unit of the base currency (EUR).
RATES = {"EUR": Decimal(1), "USD": Decimal("1.0825"), "GBP": Decimal("0.8571")}
STAGES = ("develop", "propose", "close")
RATINGS = ("hot", "warm", "cold", None)
TODAY = date(2026, 11, 18)  # the close dates are spread around it
WORDS = (
    "Office chairs",
    "Standing desks",
    "Meeting rooms",
    "Reception",
    "Storage",
    "Lighting",
    "Acoustics",
    "Canteen",
    "Lockers",
    "Ergonomics",
)
PLACES = ("Norte", "Sur", "Levante", "Atlantico", "Central", "Iberica", "Castilla", "Galicia", "Aragon", "Rioja")


# ---------------------------------------------------------------------------------------------- databases


def pg_admin(url: str) -> Any:
    from sqlalchemy import create_engine

    return create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")


@contextlib.contextmanager
def fresh_database(backend: str, postgres_url: str) -> Iterator[str]:
    """A new empty database URL, removed at the end (also when the run fails)."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="leadflow-bench-pipeline-") as folder:
            yield f"sqlite:///{Path(folder) / 'pipeline.db'}"
        return
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    name = f"{DB_PREFIX}{uuid.uuid4().hex[:10]}"
    admin = pg_admin(postgres_url)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1)).set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# ---------------------------------------------------------------------------------------------- data


PIPELINE_INDEXES = ("ix_opportunities_pipeline", "ix_opportunities_forecast_open", "ix_opportunities_forecast_closed")


def populate(url: str, count: int, seed: int, *, without_indexes: bool = False) -> dict[str, Any]:
    """Migrate, set up the organisation, its units, users and currencies, and insert the opportunities
    (``without_indexes``: with the indexes of migration 0010 dropped first, to see what they do)."""
    from sqlalchemy import insert, select, update

    from leadflow.bootstrap import ensure_organisation
    from leadflow.core.db import make_engine
    from leadflow.core.migrate import upgrade
    from leadflow.core.uow import Database
    from leadflow.customers.models import Account
    from leadflow.opportunities.models import CustomerKind, Opportunity, OpportunityState, OpportunityStatusReason
    from leadflow.organisation.models import Currency
    from leadflow.security.service import create_business_unit, create_user

    engine = make_engine(url)
    upgrade(engine)
    if without_indexes:
        with engine.begin() as connection:
            for name in PIPELINE_INDEXES:
                connection.exec_driver_sql(f"DROP INDEX {name}")
    engine.dispose()
    database = Database(url)
    with database.unit_of_work() as uow:
        ensure_organisation(uow=uow, base_currency="EUR")
        for code, rate in RATES.items():
            uow.session.execute(update(Currency).where(Currency.iso_code == code).values(exchange_rate=rate))
        for unit in UNITS:
            create_business_unit(unit, parent_name=None, uow=uow, actor=None)
        admin = create_user(
            email=ADMIN_EMAIL,
            full_name="Bench Admin",
            role_names=["System Administrator"],
            business_unit_name=None,
            password=PASSWORD,
            uow=uow,
            actor=None,
        )
        owners = []
        for unit_index, unit in enumerate(UNITS):
            for index in range(SELLERS_PER_UNIT):
                email = SELLER_EMAIL if (unit_index, index) == (0, 0) else f"seller{unit_index}{index}@example.com"
                owners.append(
                    create_user(
                        email=email,
                        full_name=f"Seller {unit_index}{index}",
                        role_names=["Salesperson"],
                        business_unit_name=unit,
                        password=PASSWORD if email == SELLER_EMAIL else None,
                        uow=uow,
                        actor=None,
                    )
                )
        uow.commit()
        owner_ids = [(user.id, user.business_unit_id) for user in owners]
        admin_id = admin.id
    with database.unit_of_work(read_only=True) as uow:
        currency_ids = dict(uow.session.execute(select(Currency.iso_code, Currency.id)).all())

    rng = random.Random(seed)
    now = datetime.now(UTC)
    started = time.perf_counter()
    account_ids = [uuid.uuid4() for _ in range(ACCOUNTS)]
    with database.engine.begin() as connection:
        rows = []
        for number, account_id in enumerate(account_ids):
            owner_id, unit_id = owner_ids[number % len(owner_ids)]
            rows.append(
                {
                    "id": account_id,
                    "row_version": 1,
                    "created_at": now,
                    "modified_at": now,
                    "name": f"{rng.choice(WORDS)} {rng.choice(PLACES)} {number}",
                    "state": "active",
                    "owner_user_id": owner_id,
                    "owning_business_unit_id": unit_id,
                    "created_by_id": admin_id,
                    "modified_by_id": admin_id,
                }
            )
        connection.execute(insert(Account.__table__), rows)
        batch: list[dict[str, Any]] = []
        for number in range(count):
            owner_id, unit_id = owner_ids[number % len(owner_ids)]
            code = rng.choice(tuple(RATES))
            amount = Decimal(rng.randint(10, 20_000) * 10)
            estimated_close = TODAY + timedelta(days=rng.randint(-300, 420))
            roll = rng.random()
            state = (
                OpportunityState.OPEN if roll < 0.6 else OpportunityState.WON if roll < 0.85 else OpportunityState.LOST
            )
            closed = state is not OpportunityState.OPEN
            actual_close = TODAY - timedelta(days=rng.randint(0, 700)) if closed else None
            actual = amount if state is OpportunityState.WON else None
            reason = {
                OpportunityState.OPEN: OpportunityStatusReason.IN_PROGRESS,
                OpportunityState.WON: OpportunityStatusReason.WON,
                OpportunityState.LOST: OpportunityStatusReason.CANCELED,
            }[state]
            rate = RATES[code]
            batch.append(
                {
                    "id": uuid.uuid4(),
                    "row_version": 1,
                    "created_at": now,
                    "modified_at": now,
                    "name": f"{rng.randint(2, 400)} {rng.choice(WORDS).lower()}",
                    "customer_kind": CustomerKind.ACCOUNT,
                    "customer_id": rng.choice(account_ids),
                    "estimated_revenue": amount,
                    "estimated_close_date": None if number % 50 == 0 else estimated_close,
                    "currency_id": currency_ids[code],
                    "state": state,
                    "status_reason": reason,
                    "closed_at": now if closed else None,
                    "probability": rng.choice((None, 10, 20, 40, 50, 60, 75, 90)),
                    "rating": rng.choice(RATINGS),
                    "actual_revenue": actual,
                    "actual_close_date": actual_close,
                    "process_status": "finished" if closed else "active",
                    "exchange_rate": rate,
                    "estimated_revenue_base": (amount / rate).quantize(Decimal("0.0001")),
                    "actual_revenue_base": None if actual is None else (actual / rate).quantize(Decimal("0.0001")),
                    "process_stage": rng.choice(STAGES),
                    "owner_user_id": owner_id,
                    "owning_business_unit_id": unit_id,
                    "created_by_id": owner_id,
                    "modified_by_id": owner_id,
                    "stakeholders_identified": False,
                    "competitors_identified": False,
                    "sales_team_identified": False,
                    "proposal_developed": False,
                    "internal_review_completed": False,
                    "proposal_presented": False,
                    "final_proposal_completed": False,
                    "final_proposal_presented": False,
                    "thank_you_note_sent": False,
                    "debrief_filed": False,
                }
            )
            if len(batch) == 5000:
                connection.execute(insert(Opportunity.__table__), batch)
                batch = []
        if batch:
            connection.execute(insert(Opportunity.__table__), batch)
    seconds = time.perf_counter() - started
    if database.dialect == "postgresql":
        # What autovacuum does on a running server soon after a bulk load: statistics, and the
        # visibility map that lets PostgreSQL answer from an index alone.
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    else:
        with database.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    database.dispose()
    return {"opportunities": count, "accounts": ACCOUNTS, "insert_seconds": round(seconds, 2)}


# ---------------------------------------------------------------------------------------------- timing


def sign_in(client: Any, email: str) -> None:
    form = client.get("/sign-in").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    response = client.post(
        "/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token}, follow_redirects=False
    )
    if response.status_code != 303:
        raise SystemExit(f"sign-in of {email} failed: {response.status_code}")


def timed(action: Callable[[], Any], *, samples: int, warmup: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each call (CPU: this process's, so not PostgreSQL's own work)."""
    for _ in range(warmup):
        action()
    wall, cpu = [], []
    for _ in range(samples):
        started, started_cpu = time.perf_counter(), time.process_time()
        action()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return wall, cpu


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def request(client: Any, url: str) -> Callable[[], Any]:
    def call() -> Any:
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}: {response.text[:300]}")
        return response

    return call


# The baseline: the aggregates of the board and of a forecast written by hand, run with the raw driver.
BASELINE_BOARD = (
    "SELECT process_stage, count(*), sum(estimated_revenue_base), sum(estimated_revenue_base * coalesce(probability, 0)) "
    "FROM opportunities WHERE state = 'open' AND process_stage IN ('develop', 'propose', 'close') GROUP BY process_stage"
)
BASELINE_FORECAST_OPEN = (
    "SELECT owner_user_id, count(*), sum(estimated_revenue_base), sum(estimated_revenue_base * coalesce(probability, 0)), "
    "sum(CASE WHEN probability >= 70 OR rating = 'hot' THEN estimated_revenue_base END) FROM opportunities "
    "WHERE state = 'open' AND estimated_close_date >= {start} AND estimated_close_date < {end} GROUP BY owner_user_id"
)
BASELINE_FORECAST_CLOSED = (
    "SELECT owner_user_id, state, count(*), sum(coalesce(actual_revenue_base, estimated_revenue_base)) FROM opportunities "
    "WHERE state IN ('won', 'lost') AND actual_close_date >= {start} AND actual_close_date < {end} "
    "GROUP BY owner_user_id, state"
)


def raw_connection(url: str) -> Any:
    if url.startswith("sqlite"):
        return sqlite3.connect(url.removeprefix("sqlite:///"))
    import psycopg
    from sqlalchemy.engine import make_url

    parts = make_url(url)
    return psycopg.connect(
        host=parts.host,
        port=parts.port or 5432,
        user=parts.username,
        dbname=parts.database,
        password=parts.password or None,
    )


def baseline(url: str, period: Any) -> dict[str, Callable[[], Any]]:
    connection = raw_connection(url)
    quoted = {"start": f"'{period.start.isoformat()}'", "end": f"'{period.end.isoformat()}'"}

    def run(*statements: str) -> Callable[[], Any]:
        def call() -> Any:
            cursor = connection.cursor()
            for statement in statements:
                cursor.execute(statement)
                cursor.fetchall()
            if not url.startswith("sqlite"):
                connection.rollback()

        return call

    return {
        "board": run(BASELINE_BOARD),
        "forecast": run(BASELINE_FORECAST_OPEN.format(**quoted), BASELINE_FORECAST_CLOSED.format(**quoted)),
    }


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from leadflow.asgi import create_app
    from leadflow.core.config import Settings
    from leadflow.core.uow import Database
    from leadflow.reporting.board import BoardQuery, Scope, board
    from leadflow.reporting.forecast import GroupBy, forecast
    from leadflow.reporting.periods import parse_period
    from leadflow.security.actor import actor_for_email
    from leadflow.security.authentication import create_personal_token

    with fresh_database(backend, args.postgres_url) as url:
        print(f"[{backend}] inserting {args.opportunities:,} opportunities ...", flush=True)
        setup = populate(url, args.opportunities, args.seed, without_indexes=args.without_indexes)
        print(f"[{backend}] inserted in {setup['insert_seconds']} s; timing", flush=True)
        database = Database(url)
        app = create_app(database, Settings(database_url=url))
        with database.unit_of_work() as uow:
            token = create_personal_token(ADMIN_EMAIL, name="bench", days=1, uow=uow, actor=None).secret
            seller_token = create_personal_token(SELLER_EMAIL, name="bench", days=1, uow=uow, actor=None).secret
            uow.commit()
        quarter = parse_period("2026-Q4")
        raw = baseline(url, quarter)
        cases = []
        try:
            for role, email, secret in (("admin", ADMIN_EMAIL, token), ("seller", SELLER_EMAIL, seller_token)):
                with database.unit_of_work(read_only=True) as uow:
                    actor = actor_for_email(uow.session, email)

                def board_call(query: Any, who: Any = actor) -> Callable[[], Any]:
                    def call() -> Any:
                        with database.unit_of_work(read_only=True) as uow:
                            return board(query, uow=uow, actor=who, today=TODAY)

                    return call

                def forecast_call(period: str, group_by: GroupBy, who: Any = actor) -> Callable[[], Any]:
                    def call() -> Any:
                        with database.unit_of_work(read_only=True) as uow:
                            return forecast(period, group_by, uow=uow, actor=who)

                    return call

                plan: list[tuple[str, str, Callable[[], Any], str]] = [
                    ("api", "board (all, 25 cards a column)", board_call(BoardQuery()), "/api/v1/board"),
                    (
                        "api",
                        "board weighted, this quarter",
                        board_call(BoardQuery(weighted=True, close_date="2026-Q4")),
                        "/api/v1/board?weighted=true&close_date=2026-Q4",
                    ),
                    ("api", "board mine", board_call(BoardQuery(scope=Scope.MINE)), "/api/v1/board?scope=mine"),
                    (
                        "api",
                        "forecast 2026-Q4 by owner",
                        forecast_call("2026-Q4", GroupBy.OWNER),
                        "/api/v1/forecast?period=2026-Q4&group_by=owner",
                    ),
                    (
                        "api",
                        "forecast 2026-11 by owner",
                        forecast_call("2026-11", GroupBy.OWNER),
                        "/api/v1/forecast?period=2026-11&group_by=owner",
                    ),
                    (
                        "api",
                        "forecast 2026 by business unit",
                        forecast_call("2026", GroupBy.BUSINESS_UNIT),
                        "/api/v1/forecast?period=2026&group_by=business_unit",
                    ),
                    (
                        "api",
                        "forecast.csv 2026-Q4 by owner",
                        forecast_call("2026-Q4", GroupBy.OWNER),
                        "/api/v1/forecast.csv?period=2026-Q4&group_by=owner",
                    ),
                    ("web", "page /board", board_call(BoardQuery()), "/board"),
                    (
                        "web",
                        "page /board weighted, this quarter",
                        board_call(BoardQuery(weighted=True, close_date="2026-Q4")),
                        "/board?weighted=on&close_date=2026-Q4",
                    ),
                    (
                        "web",
                        "page /forecast 2026-Q4 by owner",
                        forecast_call("2026-Q4", GroupBy.OWNER),
                        "/forecast?period=2026-Q4&group_by=owner",
                    ),
                ]
                with (
                    TestClient(app, headers={"Authorization": f"Bearer {secret}"}) as api_client,
                    TestClient(app) as web_client,
                ):
                    sign_in(web_client, email)
                    for kind, name, domain_call, url_path in plan:
                        client = api_client if kind == "api" else web_client
                        wall, cpu = timed(request(client, url_path), samples=args.samples, warmup=args.warmup)
                        alone, _ = timed(domain_call, samples=args.samples, warmup=1)
                        floor_name = "board" if "board" in name else "forecast"
                        floor, _ = timed(raw[floor_name], samples=args.samples, warmup=1)
                        case = {
                            "role": role,
                            "kind": kind,
                            "case": name,
                            "url": url_path,
                            "p50_ms": round(statistics.median(wall), 1),
                            "p95_ms": round(percentile(wall, 0.95), 1),
                            "cpu_p50_ms": round(statistics.median(cpu), 1),
                            "domain_p50_ms": round(statistics.median(alone), 1),
                            "raw_sql_p50_ms": round(statistics.median(floor), 1),
                        }
                        cases.append(case)
                        flag = "" if case["p95_ms"] <= TARGET_MS else "  <-- over target"
                        print(
                            f"[{backend}] {role:6} {name:36} p50={case['p50_ms']:6.1f} p95={case['p95_ms']:6.1f} "
                            f"cpu={case['cpu_p50_ms']:6.1f} domain={case['domain_p50_ms']:6.1f} "
                            f"raw-sql={case['raw_sql_p50_ms']:6.1f} ms{flag}",
                            flush=True,
                        )
        finally:
            database.dispose()
    return {"backend": backend, "setup": setup, "cases": cases}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--opportunities", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--samples", type=int, default=20, help="timed requests per case")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per case first")
    parser.add_argument("--seed", type=int, default=20261118)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument(
        "--without-indexes", action="store_true", help="drop the indexes of migration 0010 first (to compare)"
    )
    parser.add_argument("--json", type=Path, default=None, help="where the results go (default bench/results/)")
    parser.add_argument("--no-json", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(BENCH_DIR.parent / "src"))
    import sqlalchemy

    import leadflow

    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = {
        "benchmark": "pipeline",
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": {key: str(value) for key, value in vars(args).items()},
        "versions": {
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "sqlalchemy": sqlalchemy.__version__,
            "leadflow": leadflow.__version__,
        },
        "load_average": os.getloadavg(),
        "runs": [run_backend(backend, args) for backend in backends],
    }
    results["load_average_end"] = os.getloadavg()
    print(f"\nworst p95 per backend (target: every case <= {TARGET_MS:.0f} ms):")
    for run in results["runs"]:
        worst = max(run["cases"], key=lambda case: case["p95_ms"])
        over = [case for case in run["cases"] if case["p95_ms"] > TARGET_MS]
        print(
            f"  {run['backend']:10} worst p95 {worst['p95_ms']} ms ({worst['role']} {worst['case']}); "
            f"{len(over)} of {len(run['cases'])} cases over target"
        )
    if not args.no_json:
        path = args.json or RESULTS_DIR / f"pipeline-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2, default=str))
        print(f"results: {path}")


if __name__ == "__main__":
    main()
