#!/usr/bin/env python
"""Lead to order: recalculating an opportunity of 500 product lines beside a raw-driver baseline, the
100-line quote PDF (``bench/sales_pdf.py``, run as it is), and loading the demo with its catalogue.

Run from the repository root:

    .venv/bin/python bench/sales.py                           # SQLite and PostgreSQL, 500 lines, 20 runs, the PDF
    .venv/bin/python bench/sales.py --database sqlite --no-pdf
    .venv/bin/python bench/sales.py --demo-runs 5 --baseline HEAD --database sqlite --no-pdf

Per database it creates a fresh one (a temporary SQLite file, or ``leadflow_bench_sales_<hex>`` on the
PostgreSQL server of ``--postgres-url``, dropped at the end), sets up a catalogue of 20 licences on a
euro price list (four pricing methods, a rounding policy, a volume discount list) and an opportunity
whose revenue the system calculates, and adds ``--lines`` product lines to it through
``leadflow.sales.service.add_opportunity_product`` (the set-up, reported but not a target). Then, in
rounds (one of each case per round, so that the three share the machine's moments), each in its own
unit of work that commits:

- ``update_opportunity_product``: one line's quantity changes (10 to 19 licences, in the same volume
  tier): the line is priced again from the price list and the opportunity's totals and estimated
  revenue are computed again from all its lines;
- ``refresh_totals``: ``leadflow.opportunities.service.refresh_totals`` of the opportunity alone (read
  the opportunity, compute its totals from its lines, commit: nothing changed, so nothing is written);
- baseline: the raw driver (``sqlite3`` with the application's connection settings, or psycopg 3)
  selects the opportunity's discount and freight and the lines' four amounts, sums them in Python with
  ``Decimal`` as the totals are defined, and updates the opportunity's six totals and its row version.

The figures are the median, p95 and max over ``--runs`` rounds after two untimed ones; "call" is the
service call alone, without opening and committing the unit of work. The baseline's totals are
compared with the service's at the end. The target of the issue is ``update_opportunity_product`` of
one line of 500 within 50 ms. See bench/README.md, "Lead to order", for the figures.

``--demo-runs N`` times ``leadflow.demo.load_demo`` into N fresh SQLite databases (the path ``leadflow
serve`` takes on its first start and ``leadflow demo`` takes: ``prepare_database``, then
``load_demo``), each in a fresh Python process, for this work tree and for ``--baseline REV`` (exported
with ``git archive``), alternately.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
DEFAULT_POSTGRES_URL = os.environ.get("LEADFLOW_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_PREFIX = "leadflow_bench_sales_"
TARGET_MS = 50.0  # the target: one line of a 500-line opportunity changed within 50 ms
ADMIN_EMAIL = "bench-admin@example.com"
PRODUCTS = 20
WARMUP_ROUNDS = 2
MONEY = Decimal(10) ** 4  # money is stored as a BIGINT count of 1/10,000
CENT = Decimal("0.01")


# ---------------------------------------------------------------------------------------------- databases


def pg_admin(url: str) -> Any:
    from sqlalchemy import create_engine

    return create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")


@contextlib.contextmanager
def fresh_database(backend: str, postgres_url: str) -> Iterator[str]:
    """A new empty database URL, removed at the end (also when the run fails)."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="leadflow-bench-sales-") as folder:
            yield f"sqlite:///{Path(folder) / 'sales.db'}"
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


# ---------------------------------------------------------------------------------------------- set-up


def populate(url: str, lines: int) -> dict[str, Any]:
    """Migrate, set up the organisation, its administrator and catalogue, and an opportunity with
    ``lines`` product lines added through the service; return the ids the cases need."""
    from leadflow.bootstrap import ensure_organisation
    from leadflow.catalog import service as catalog
    from leadflow.catalog.models import PricingMethod, RoundingOption, RoundingPolicy
    from leadflow.catalog.schemas import (
        DiscountListCreate,
        LineCreate,
        PriceListCreate,
        PriceListItemCreate,
        ProductCreate,
        TierIn,
        UnitCreate,
        UnitGroupCreate,
    )
    from leadflow.core.db import make_engine
    from leadflow.core.migrate import upgrade
    from leadflow.core.uow import Database
    from leadflow.customers.schemas import AccountCreate
    from leadflow.customers.service import create_account
    from leadflow.opportunities.models import OpportunityProduct, RevenueCalculation
    from leadflow.opportunities.schemas import OpportunityCreate, OpportunityUpdate
    from leadflow.opportunities.service import create_opportunity, update_opportunity
    from leadflow.sales.service import add_opportunity_product
    from leadflow.security.actor import actor_for_email
    from leadflow.security.service import create_user

    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    database = Database(url)
    with database.unit_of_work() as uow:
        ensure_organisation(uow=uow, base_currency="EUR")
        create_user(
            email=ADMIN_EMAIL,
            full_name="Bench Admin",
            role_names=["System Administrator"],
            business_unit_name=None,
            password=None,
            uow=uow,
            actor=None,
        )
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        actor = actor_for_email(uow.session, ADMIN_EMAIL)
    methods = (
        {"pricing_method": PricingMethod.PERCENT_OF_LIST, "percentage": Decimal(95)},
        {"pricing_method": PricingMethod.CURRENCY_AMOUNT, "amount": Decimal("149.00")},
        {"pricing_method": PricingMethod.MARKUP_CURRENT_COST, "percentage": Decimal(120)},
        {
            "pricing_method": PricingMethod.MARGIN_STANDARD_COST,
            "percentage": Decimal(60),
            "rounding_policy": RoundingPolicy.UP,
            "rounding_option": RoundingOption.ENDS_IN,
            "rounding_amount": Decimal("0.99"),
        },
    )
    with database.unit_of_work() as uow:
        group = catalog.create_unit_group(UnitGroupCreate(name="Licencias", base_unit="Licencia"), uow=uow, actor=actor)
        licence = group.base_unit.id
        catalog.add_unit(group.id, UnitCreate(name="Pack 10", quantity=Decimal(10)), uow=uow, actor=actor)
        tiers = [
            TierIn(begin_quantity=Decimal(10), end_quantity=Decimal(24), value=Decimal(5)),
            TierIn(begin_quantity=Decimal(25), end_quantity=Decimal(1000), value=Decimal(10)),
        ]
        discounts = catalog.create_discount_list(
            DiscountListCreate(name="Volumen licencias", tiers=tiers), uow=uow, actor=actor
        )
        price_list = catalog.create_price_list(
            PriceListCreate(name="Tarifa general", currency="EUR"), uow=uow, actor=actor
        )
        products = []
        for number in range(PRODUCTS):
            product = catalog.create_product(
                ProductCreate(
                    number=f"LIC-{number:03d}",
                    name=f"Licencia del módulo {number + 1}",
                    unit_group_id=group.id,
                    default_unit_id=licence,
                    list_price=Decimal(120 + 15 * number),
                    standard_cost=Decimal(40 + 5 * number),
                    current_cost=Decimal(45 + 5 * number),
                ),
                uow=uow,
                actor=actor,
            )
            catalog.change_product_state(product.id, publish=True, uow=uow, actor=actor)
            method = methods[number % len(methods)]
            catalog.add_price_list_item(
                price_list.id,
                PriceListItemCreate(
                    product_id=product.id,
                    unit_id=licence,
                    discount_list_id=discounts.id if number % 2 == 0 else None,
                    **method,
                ),
                uow=uow,
                actor=actor,
            )
            products.append(product.id)
        account = create_account(AccountCreate(name="Inmobiliaria Bench S.L."), uow=uow, actor=actor)
        opportunity = create_opportunity(
            OpportunityCreate(
                name=f"{lines} líneas",
                customer_id=account.id,
                price_list_id=price_list.id,
                revenue_calculation=RevenueCalculation.SYSTEM,
            ),
            uow=uow,
            actor=actor,
        )
        update_opportunity(
            opportunity.id,
            OpportunityUpdate(discount_percentage=Decimal(3), freight_amount=Decimal("120.00")),
            uow=uow,
            actor=actor,
        )
        opportunity_id = opportunity.id
        uow.commit()
    started = time.perf_counter()
    with database.unit_of_work() as uow:
        for number in range(lines):
            quantity = Decimal(number % 30 + 1)
            add_opportunity_product(
                opportunity_id,
                LineCreate(
                    product_id=products[number % PRODUCTS],
                    quantity=quantity,
                    manual_discount=Decimal("1.00") if number % 3 == 0 else Decimal(0),
                    tax=(quantity * Decimal("4.20")).quantize(CENT),
                ),
                uow=uow,
                actor=actor,
            )
        uow.commit()
    seconds = time.perf_counter() - started
    with database.unit_of_work(read_only=True) as uow:
        from sqlalchemy import select

        # The line the cases change: the middle one, a licence priced as a percentage of its list
        # price with the volume discount list.
        line_id = uow.session.scalars(
            select(OpportunityProduct.id)
            .where(
                OpportunityProduct.opportunity_id == opportunity_id,
                OpportunityProduct.product_id == products[0],
                OpportunityProduct.line_number > lines // 2 - PRODUCTS,
            )
            .order_by(OpportunityProduct.line_number)
        ).first()
    if database.dialect == "postgresql":
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    else:
        with database.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    database.dispose()
    return {
        "opportunity_id": opportunity_id,
        "line_id": line_id,
        "lines": lines,
        "add_lines_seconds": round(seconds, 2),
    }


# ---------------------------------------------------------------------------------------------- the baseline


def raw_connection(url: str) -> Any:
    """The raw driver's connection, with the application's settings on SQLite."""
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL", "cache_size=-16384"):
            connection.execute(f"PRAGMA {pragma}")
        return connection
    import psycopg
    from sqlalchemy.engine import make_url

    parts = make_url(url)
    return psycopg.connect(
        host=parts.host, port=parts.port or 5432, user=parts.username, dbname=parts.database, password=parts.password
    )


def money(value: int) -> Decimal:
    return Decimal(value) / MONEY


def stored(amount: Decimal) -> int:
    return int(amount * MONEY)


def baseline(url: str, opportunity_id: uuid.UUID) -> Callable[[], dict[str, Decimal]]:
    """Select the lines' amounts, sum them with Decimal, update the opportunity's totals: one transaction."""
    connection = raw_connection(url)
    sqlite = url.startswith("sqlite")
    mark = "?" if sqlite else "%s"
    key: Any = opportunity_id.hex if sqlite else opportunity_id
    lock = "" if sqlite else " FOR UPDATE"
    read_opportunity = (
        f"SELECT discount_percentage, discount_amount, freight_amount FROM opportunities WHERE id = {mark}{lock}"
    )
    read_lines = (
        "SELECT extended_amount, manual_discount, volume_discount, tax FROM opportunity_products "
        f"WHERE opportunity_id = {mark}"
    )
    write_totals = (
        f"UPDATE opportunities SET detail_amount = {mark}, total_line_discount = {mark}, "
        f"total_discount_amount = {mark}, pre_freight_amount = {mark}, total_tax = {mark}, total_amount = {mark}, "
        f"row_version = row_version + 1 WHERE id = {mark}"
    )

    def call() -> dict[str, Decimal]:
        cursor = connection.cursor()
        if sqlite:
            cursor.execute("BEGIN IMMEDIATE")
        cursor.execute(read_opportunity, (key,))
        percentage, discount_amount, freight = (money(value) for value in cursor.fetchone())
        cursor.execute(read_lines, (key,))
        detail = tax = line_discounts = Decimal(0)
        for extended, manual, volume, line_tax in cursor.fetchall():
            detail += money(extended) - money(line_tax)
            tax += money(line_tax)
            line_discounts += money(manual) + money(volume)
        discount = (detail * percentage / 100 + discount_amount).quantize(CENT, rounding=ROUND_HALF_UP)
        pre_freight = (detail - discount).quantize(CENT, rounding=ROUND_HALF_UP)
        totals = {
            "detail_amount": detail.quantize(CENT, rounding=ROUND_HALF_UP),
            "total_line_discount": line_discounts.quantize(CENT, rounding=ROUND_HALF_UP),
            "total_discount_amount": discount,
            "pre_freight_amount": pre_freight,
            "total_tax": tax.quantize(CENT, rounding=ROUND_HALF_UP),
            "total_amount": (pre_freight + freight + tax).quantize(CENT, rounding=ROUND_HALF_UP),
        }
        cursor.execute(write_totals, (*(stored(value) for value in totals.values()), key))
        if sqlite:
            cursor.execute("COMMIT")
        else:
            connection.commit()
        return totals

    call.close = connection.close  # type: ignore[attr-defined]
    return call


# ---------------------------------------------------------------------------------------------- timing


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def figures(values: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(values), 2),
        "p95_ms": round(percentile(values, 0.95), 2),
        "max_ms": round(max(values), 2),
    }


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    from leadflow.catalog.schemas import LineUpdate
    from leadflow.core.uow import Database
    from leadflow.opportunities.models import Opportunity
    from leadflow.opportunities.service import refresh_totals
    from leadflow.sales.service import update_opportunity_product
    from leadflow.security.actor import actor_for_email

    with fresh_database(backend, args.postgres_url) as url:
        print(f"[{backend}] set-up: catalogue, opportunity, {args.lines} lines through the service ...", flush=True)
        setup = populate(url, args.lines)
        print(f"[{backend}] {args.lines} lines added in {setup['add_lines_seconds']} s; timing", flush=True)
        database = Database(url)
        with database.unit_of_work(read_only=True) as uow:
            actor = actor_for_email(uow.session, ADMIN_EMAIL)
        opportunity_id, line_id = setup["opportunity_id"], setup["line_id"]
        raw = baseline(url, opportunity_id)
        timings: dict[str, dict[str, list[float]]] = {
            name: {"unit of work": [], "call": [], "cpu": []} for name in ("update", "refresh", "baseline")
        }

        def update(round_number: int) -> None:
            change = LineUpdate(quantity=Decimal(10 + round_number % 10))
            with database.unit_of_work() as uow:
                started = time.perf_counter()
                update_opportunity_product(opportunity_id, line_id, change, uow=uow, actor=actor)
                timings["update"]["call"].append((time.perf_counter() - started) * 1000)
                uow.commit()

        def refresh(round_number: int) -> None:
            with database.unit_of_work() as uow:
                started = time.perf_counter()
                opportunity = uow.session.get(Opportunity, opportunity_id)
                assert opportunity is not None
                refresh_totals(uow.session, opportunity)
                timings["refresh"]["call"].append((time.perf_counter() - started) * 1000)
                uow.commit()

        def floor(round_number: int) -> None:
            raw()

        cases: dict[str, Callable[[int], None]] = {"update": update, "refresh": refresh, "baseline": floor}
        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
        try:
            for round_number in range(WARMUP_ROUNDS + args.runs):
                for name, case in cases.items():
                    if profiler is not None and name == "update":
                        profiler.enable()
                    started, started_cpu = time.perf_counter(), time.process_time()
                    case(round_number)
                    wall, cpu = (time.perf_counter() - started) * 1000, (time.process_time() - started_cpu) * 1000
                    if profiler is not None and name == "update":
                        profiler.disable()
                    if round_number < WARMUP_ROUNDS:
                        if timings[name]["call"]:
                            timings[name]["call"].pop()
                        continue
                    timings[name]["unit of work"].append(wall)
                    timings[name]["cpu"].append(cpu)
            totals = raw()
            with database.unit_of_work(read_only=True) as uow:
                opportunity = uow.session.get(Opportunity, opportunity_id)
                assert opportunity is not None
                service_totals = {name: getattr(opportunity, name) for name in totals}
        finally:
            raw.close()  # type: ignore[attr-defined]
            database.dispose()
        if profiler is not None:
            path = args.profile.with_name(f"{args.profile.stem}-{backend}{args.profile.suffix}")
            profiler.dump_stats(path)
            print(f"[{backend}] cProfile of the update case: {path}", flush=True)
    result: dict[str, Any] = {
        "backend": backend,
        "setup": {key: str(value) for key, value in setup.items()},
        "baseline_equals_service": totals == service_totals,
        "cases": {},
    }
    for name, values in timings.items():
        measured: dict[str, Any] = {
            "unit_of_work": figures(values["unit of work"]),
            "cpu_median_ms": round(statistics.median(values["cpu"]), 2),
        }
        if values["call"]:
            measured["call"] = figures(values["call"])
        result["cases"][name] = measured
    return result


LABELS = {
    "update": "update_opportunity_product",
    "refresh": "refresh_totals",
    "baseline": "baseline (raw driver)",
}


def print_table(runs: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print(f"\nOne line of a {args.lines}-line opportunity, {args.runs} rounds, each case in its own unit of work (ms):")
    print(
        f"{'database':11} {'case':28} {'median':>8} {'p95':>8} {'max':>8} {'call med':>9} {'CPU med':>8} {'x base':>7}"
    )
    for run in runs:
        base = run["cases"]["baseline"]["unit_of_work"]["median_ms"]
        for name, case in run["cases"].items():
            work = case["unit_of_work"]
            call = f"{case['call']['median_ms']:9.2f}" if "call" in case else f"{'-':>9}"
            print(
                f"{run['backend']:11} {LABELS[name]:28} {work['median_ms']:8.2f} {work['p95_ms']:8.2f} "
                f"{work['max_ms']:8.2f} {call} {case['cpu_median_ms']:8.2f} {work['median_ms'] / base:7.1f}"
            )
    print(f"\ntarget: update_opportunity_product of one line of {args.lines} within {TARGET_MS:.0f} ms (median)")
    for run in runs:
        median = run["cases"]["update"]["unit_of_work"]["median_ms"]
        verdict = "met" if median <= TARGET_MS else "MISSED"
        same = "equal" if run["baseline_equals_service"] else "DIFFERENT"
        print(
            f"  {run['backend']:11} {median:.2f} ms: {verdict}; the baseline's totals and the service's are {same}; "
            f"set-up added {run['setup']['lines']} lines in {run['setup']['add_lines_seconds']} s"
        )


# ---------------------------------------------------------------------------------------------- the PDF


def pdf(args: argparse.Namespace) -> str:
    """bench/sales_pdf.py's own table, as it prints it."""
    answer = subprocess.run(
        [sys.executable, str(BENCH_DIR / "sales_pdf.py"), "--lines", str(args.pdf_lines), "--runs", str(args.runs)],
        check=True,
        capture_output=True,
        text=True,
    )
    return answer.stdout


# ---------------------------------------------------------------------------------------------- the demo

# Runs in a fresh process with the code base under test first on sys.path: the path the CLI takes.
DEMO_LOAD = r"""
import json, sys, time
started = time.perf_counter()
from leadflow.bootstrap import prepare_database
from leadflow.core.config import Settings
from leadflow.demo import load_demo
imported = time.perf_counter()
prepared = prepare_database(Settings(database_url=sys.argv[1]))
ready, ready_cpu = time.perf_counter(), time.process_time()
summary = load_demo(prepared.database)
loaded, loaded_cpu = time.perf_counter(), time.process_time()
again = load_demo(prepared.database)
reloaded = time.perf_counter()
print(json.dumps({"import_s": imported - started, "prepare_s": ready - imported, "load_s": loaded - ready,
                  "load_cpu_s": loaded_cpu - ready_cpu, "load_again_s": reloaded - loaded, "summary": summary,
                  "again": again}))
"""


def demo(args: argparse.Namespace) -> dict[str, Any]:
    """load_demo on fresh SQLite databases, this work tree and the baseline revision alternately."""
    with tempfile.TemporaryDirectory(prefix="leadflow-bench-demo-") as scratch:
        exported = Path(scratch) / "baseline"
        exported.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", args.baseline, "src"], check=True, capture_output=True
        )
        subprocess.run(["tar", "-x", "-C", str(exported)], input=archive.stdout, check=True)
        revision = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", args.baseline], check=True, capture_output=True, text=True
        ).stdout.strip()
        code = {f"baseline {args.baseline} ({revision})": exported / "src", "this work tree": ROOT / "src"}
        samples: dict[str, list[dict[str, Any]]] = {label: [] for label in code}
        for run in range(args.demo_runs):
            for label, src in code.items():
                url = f"sqlite:///{Path(scratch) / f'demo-{run}-{len(samples[label])}-{uuid.uuid4().hex[:6]}.db'}"
                started = time.perf_counter()
                answer = subprocess.run(
                    [sys.executable, "-c", DEMO_LOAD, url],
                    check=True,
                    capture_output=True,
                    text=True,
                    env={**os.environ, "PYTHONPATH": str(src)},
                    cwd=scratch,
                )
                sample = json.loads(answer.stdout.strip().splitlines()[-1])
                sample["process_s"] = time.perf_counter() - started
                samples[label].append(sample)
                print(f"[demo] {label}: load_demo {sample['load_s']:.2f} s", flush=True)
    result: dict[str, Any] = {}
    for label, runs in samples.items():
        result[label] = {
            name: round(statistics.median(run[name] for run in runs), 3)
            for name in ("process_s", "import_s", "prepare_s", "load_s", "load_cpu_s", "load_again_s")
        } | {"load_s_all": [round(run["load_s"], 3) for run in runs], "summary": runs[-1]["summary"]}
    print(f"\nDemo loading into a fresh SQLite database, median of {args.demo_runs} runs per code base (s):")
    print(f"{'code':36} {'process':>8} {'imports':>8} {'prepare':>8} {'load_demo':>10} {'its CPU':>8} {'again':>7}")
    for label, row in result.items():
        print(
            f"{label:36} {row['process_s']:8.2f} {row['import_s']:8.2f} {row['prepare_s']:8.2f} "
            f"{row['load_s']:10.2f} {row['load_cpu_s']:8.2f} {row['load_again_s']:7.3f}"
        )
    for label, row in result.items():
        print(f"  {label}: {row['summary']}")
    return result


# ---------------------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--lines", type=int, default=500, help="product lines of the opportunity (default 500)")
    parser.add_argument("--runs", type=int, default=20, help="timed rounds, and PDF renders per case (default 20)")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--no-pdf", action="store_true", help="skip bench/sales_pdf.py")
    parser.add_argument("--pdf-lines", type=int, default=100, help="lines of the printed quote (default 100)")
    parser.add_argument("--demo-runs", type=int, default=0, help="time the demo loading N times per code base")
    parser.add_argument("--baseline", default="HEAD", help="git revision the demo loading is compared with")
    parser.add_argument("--no-recalculation", action="store_true", help="skip the 500-line cases")
    parser.add_argument("--profile", type=Path, help="cProfile the update case into PATH-<database>.pstats")
    parser.add_argument("--json", type=Path, default=None, help="where the results go (default bench/results/)")
    parser.add_argument("--no-json", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    import sqlalchemy

    import leadflow

    results: dict[str, Any] = {
        "benchmark": "sales",
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": {key: str(value) for key, value in vars(args).items()},
        "versions": {
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "sqlalchemy": sqlalchemy.__version__,
            "leadflow": leadflow.__version__,
        },
        "load_average": os.getloadavg(),
    }
    if not args.no_recalculation:
        backends = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
        results["recalculation"] = [run_backend(backend, args) for backend in backends]
        print_table(results["recalculation"], args)
    if not args.no_pdf:
        print(f"\nbench/sales_pdf.py --lines {args.pdf_lines} --runs {args.runs}:", flush=True)
        results["pdf"] = pdf(args)
        print(results["pdf"], end="")
    if args.demo_runs:
        results["demo"] = demo(args)
    results["load_average_end"] = os.getloadavg()
    print(f"\nload average: {results['load_average']} at the start, {results['load_average_end']} at the end")
    if not args.no_json:
        path = args.json or RESULTS_DIR / f"sales-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2, default=str))
        print(f"results: {path}")


if __name__ == "__main__":
    main()
