#!/usr/bin/env python
"""Benchmark of the web lead list (``GET /leads``) on 100,000 leads: server time per view and page.

Run from the repository root:

    python bench/lead_list.py                          # 100,000 leads on SQLite and PostgreSQL
    python bench/lead_list.py --backend sqlite --leads 20000 --samples 10

Per backend it creates a fresh database, bulk-inserts the leads with SQLAlchemy Core, signs in
through the sign-in form (as the administrator and as a Salesperson) and times the page
handler in-process with Starlette's TestClient: every view of §10, the first page and a deep page
(10,000 rows in, or the middle of a smaller view), without search, with a common search term
and with a rare one; then the other sortable columns. Each case reports the wall-clock p50/p95,
the CPU time of the process per request (which other work on the machine hardly disturbs) and the
view query alone (``leadflow.leads.views.list_leads``), to show how much of a page is the
database. See bench/README.md for the figures and how they were taken.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
DEFAULT_POSTGRES_URL = os.environ.get("LEADFLOW_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_PREFIX = "leadflow_bench_list_"
TARGET_MS = 100.0  # the target: any view and page in at most 100 ms of server time

ADMIN_EMAIL = "bench-admin@example.com"
SELLER_EMAIL = "bench-seller@example.com"
PASSWORD = "bench password, long enough"
OTHER_OWNERS = 8  # besides the administrator and the seller: ten owners share the leads

FIRST_NAMES = [
    "Ana",
    "Luis",
    "Marta",
    "Javier",
    "Lucia",
    "Pablo",
    "Elena",
    "Sergio",
    "Carmen",
    "David",
    "Laura",
    "Jorge",
    "Sofia",
    "Hugo",
    "Paula",
    "Diego",
    "Irene",
    "Raul",
    "Nuria",
    "Oscar",
]
LAST_NAMES = [
    "Garcia",
    "Navarro",
    "Lopez",
    "Martin",
    "Sanchez",
    "Perez",
    "Gomez",
    "Ruiz",
    "Diaz",
    "Moreno",
    "Alvarez",
    "Romero",
    "Torres",
    "Dominguez",
    "Vazquez",
    "Ramos",
    "Gil",
    "Serrano",
    "Blanco",
    "Molina",
]
COMPANY_WORDS = [
    "Muebles",
    "Oficinas",
    "Hoteles",
    "Clinica",
    "Talleres",
    "Logistica",
    "Ferreteria",
    "Bodegas",
    "Construcciones",
    "Textil",
    "Papeleria",
    "Grupo",
    "Servicios",
    "Distribuciones",
    "Electrica",
]
COMPANY_PLACES = [
    "Norte",
    "Sur",
    "Levante",
    "Atlantico",
    "Central",
    "Iberica",
    "Mediterraneo",
    "Castilla",
    "Galicia",
    "Aragon",
    "Andaluza",
    "Balear",
    "Canaria",
    "Rioja",
    "Navarra",
]
TOPICS = [
    "office chairs",
    "standing desks",
    "meeting room kit",
    "reception furniture",
    "storage units",
    "lighting upgrade",
    "acoustic panels",
    "canteen tables",
    "lockers",
    "ergonomic review",
]
CITIES = ["Madrid", "Barcelona", "Valencia", "Sevilla", "Bilbao", "Zaragoza", "Malaga", "Murcia", "Palma", "Vigo"]
SOURCES = [
    "advertisement",
    "employee_referral",
    "external_referral",
    "partner",
    "public_relations",
    "seminar",
    "trade_show",
    "web",
    "word_of_mouth",
    "other",
]
RATINGS = ["hot", "warm", "cold", None]
RARE_COMPANY = "Zafiro Consultores"  # 1 lead in 2,000: a search that must read the whole view
SEARCHES = {"none": "", "common": "navarro", "rare": "zafiro"}
VIEWS = ["my-open", "open", "closed", "all", "opened-this-week", "opened-last-week"]
OTHER_SORTS = ["full_name", "topic", "company_name", "email", "status_reason", "rating"]
SORTED_VIEWS = ["all", "open", "closed", "my-open"]  # the views timed under each of OTHER_SORTS
DEEP_ROWS = 10_000


# ---------------------------------------------------------------------------------------------- databases


def pg_admin(url: str) -> Any:
    from sqlalchemy import create_engine

    return create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")


@contextlib.contextmanager
def fresh_database(backend: str, postgres_url: str) -> Iterator[str]:
    """A new empty database URL, removed at the end (also when the run fails)."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="leadflow-bench-list-") as folder:
            yield f"sqlite:///{Path(folder) / 'leads.db'}"
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


def populate(url: str, count: int, seed: int) -> dict[str, Any]:
    """Migrate, set up the organisation and its users, and insert ``count`` leads with Core."""
    from sqlalchemy import insert

    from leadflow.bootstrap import ensure_organisation
    from leadflow.core.db import make_engine
    from leadflow.core.migrate import upgrade
    from leadflow.core.uow import Database
    from leadflow.leads.models import Lead, LeadState, LeadStatusReason
    from leadflow.security.service import create_user

    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    database = Database(url)
    with database.unit_of_work() as uow:
        ensure_organisation(uow=uow, base_currency="EUR")
        owners = [
            create_user(
                email=ADMIN_EMAIL,
                full_name="Bench Admin",
                role_names=["System Administrator"],
                business_unit_name=None,
                password=PASSWORD,
                uow=uow,
                actor=None,
            ),
            create_user(
                email=SELLER_EMAIL,
                full_name="Bench Seller",
                role_names=["Salesperson"],
                business_unit_name=None,
                password=PASSWORD,
                uow=uow,
                actor=None,
            ),
        ]
        for index in range(OTHER_OWNERS):
            owners.append(
                create_user(
                    email=f"seller{index}@example.com",
                    full_name=f"Seller {index}",
                    role_names=["Salesperson"],
                    business_unit_name=None,
                    password=None,
                    uow=uow,
                    actor=None,
                )
            )
        uow.commit()
        owner_ids = [(user.id, user.business_unit_id) for user in owners]

    rng = random.Random(seed)
    now = datetime.now(UTC)
    table = Lead.__table__
    started = time.perf_counter()
    batch: list[dict[str, Any]] = []
    with database.engine.begin() as connection:
        for number in range(count):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            company = (
                RARE_COMPANY
                if number % 2000 == 7
                else (f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_PLACES)} {rng.randint(1, 300)}")
            )
            roll = rng.random()
            state, reason = (
                (LeadState.OPEN, LeadStatusReason.NEW if roll < 0.5 else LeadStatusReason.CONTACTED)
                if roll < 0.7
                else (LeadState.QUALIFIED, LeadStatusReason.QUALIFIED)
                if roll < 0.9
                else (LeadState.DISQUALIFIED, rng.choice([LeadStatusReason.LOST, LeadStatusReason.CANCELED]))
            )
            owner_id, unit_id = owner_ids[number % len(owner_ids)]
            created = now - timedelta(seconds=rng.randint(0, 365 * 24 * 3600))
            batch.append(
                {
                    "id": uuid.uuid4(),
                    "row_version": 1,
                    "created_at": created,
                    "modified_at": created,
                    "topic": f"{rng.randint(10, 500)} {rng.choice(TOPICS)}",
                    "first_name": first,
                    "last_name": last,
                    "full_name": f"{first} {last}",
                    "job_title": "Purchasing manager",
                    "company_name": company,
                    "email": f"{first}.{last}{number}@example.com".lower(),
                    "business_phone": f"+34 91{number:07d}",
                    "address_city": rng.choice(CITIES),
                    "lead_source": rng.choice(SOURCES),
                    "rating": rng.choice(RATINGS),
                    "budget_amount": Decimal(rng.randint(1, 500) * 1000),
                    "state": state,
                    "status_reason": reason,
                    "closed_at": created if state is not LeadState.OPEN else None,
                    "merged": False,
                    "owner_user_id": owner_id,
                    "owning_business_unit_id": unit_id,
                    "created_by_id": owner_id,
                    "modified_by_id": owner_id,
                }
            )
            if len(batch) == 5000:
                connection.execute(insert(table), batch)
                batch = []
        if batch:
            connection.execute(insert(table), batch)
    seconds = time.perf_counter() - started
    if database.dialect == "postgresql":
        with database.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE leads")
    else:
        with database.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    database.dispose()
    return {"leads": count, "insert_seconds": round(seconds, 2)}


# ---------------------------------------------------------------------------------------------- timing


def sign_in(client: Any, email: str) -> None:
    form = client.get("/sign-in").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    response = client.post(
        "/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token}, follow_redirects=False
    )
    if response.status_code != 303:
        raise SystemExit(f"sign-in of {email} failed: {response.status_code}")


def deep_cursor(database: Any, actor: Any, *, view: str, q: str, sort: str, rows: int) -> tuple[str | None, int]:
    """A cursor ``rows`` rows into the view, or into its middle when it is smaller; and the view's size (-1: larger)."""
    from leadflow.leads.views import MAX_PAGE, LeadQuery, LeadView, list_leads

    def walk(target: int) -> tuple[str | None, int]:
        seen, cursor = 0, None
        with database.unit_of_work(read_only=True) as uow:
            while seen < target:
                query = LeadQuery(
                    view=LeadView(view), q=q or None, sort=sort, limit=min(MAX_PAGE, target - seen), cursor=cursor
                )
                page = list_leads(query, uow=uow, actor=actor)
                seen += len(page.items)
                if page.next_cursor is None:
                    return None, seen
                cursor = page.next_cursor
        return cursor, seen

    cursor, seen = walk(rows)
    if cursor is not None:
        return cursor, -1
    middle = seen // 2
    return (walk(middle)[0] if middle else None), seen


def time_page(client: Any, url: str, *, samples: int, warmup: int) -> tuple[list[float], list[float], int]:
    """Wall-clock and CPU milliseconds per request (in-process, so server time) and the rows of the page.

    The CPU time is this process's (client and app threads; on PostgreSQL not the server's work): other
    work on the machine slows the wall clock but hardly changes it.
    """
    rows = 0
    for _ in range(warmup):
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        rows = len(re.findall(r'<tr id="lead-row-', response.text))
    timings, cpu = [], []
    for _ in range(samples):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    return timings, cpu, rows


def time_query(
    database: Any, actor: Any, *, view: str, q: str, sort: str, cursor: str | None, samples: int
) -> list[float]:
    from leadflow.leads.views import LeadQuery, LeadView, list_leads

    query = LeadQuery(view=LeadView(view), q=q or None, sort=sort, limit=50, cursor=cursor)
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        with database.unit_of_work(read_only=True) as uow:
            list_leads(query, uow=uow, actor=actor)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from leadflow.asgi import create_app
    from leadflow.core.config import Settings
    from leadflow.core.uow import Database
    from leadflow.security.actor import actor_for_email

    with fresh_database(backend, args.postgres_url) as url:
        print(f"[{backend}] inserting {args.leads:,} leads ...", flush=True)
        setup = populate(url, args.leads, args.seed)
        print(f"[{backend}] inserted in {setup['insert_seconds']} s; timing pages", flush=True)
        database = Database(url)
        app = create_app(database, Settings(database_url=url))
        cases = []
        try:
            for role, email in (("admin", ADMIN_EMAIL), ("seller", SELLER_EMAIL)):
                with database.unit_of_work(read_only=True) as uow:
                    actor = actor_for_email(uow.session, email)
                with TestClient(app) as client:
                    sign_in(client, email)
                    plan = [(view, search, "-created_at") for view in VIEWS for search in SEARCHES]
                    if role == "admin":
                        plan += [(view, "none", sort) for view in SORTED_VIEWS for sort in OTHER_SORTS]
                    for view, search, sort in plan:
                        q = SEARCHES[search]
                        cursor, size = deep_cursor(database, actor, view=view, q=q, sort=sort, rows=DEEP_ROWS)
                        for page in ("first", "deep"):
                            if page == "deep" and cursor is None:
                                continue
                            params = {
                                "view": view,
                                "q": q,
                                "sort": sort,
                                **({"cursor": cursor} if page == "deep" else {}),
                            }
                            target = "/leads?" + urlencode({k: v for k, v in params.items() if v})
                            timings, cpu, rows = time_page(client, target, samples=args.samples, warmup=args.warmup)
                            query = time_query(
                                database,
                                actor,
                                view=view,
                                q=q,
                                sort=sort,
                                cursor=cursor if page == "deep" else None,
                                samples=args.samples,
                            )
                            case = {
                                "role": role,
                                "view": view,
                                "search": search,
                                "sort": sort,
                                "page": page,
                                "rows": rows,
                                "view_size": size if size >= 0 else f">{DEEP_ROWS}",
                                "p50_ms": round(statistics.median(timings), 1),
                                "p95_ms": round(percentile(timings, 0.95), 1),
                                "cpu_p50_ms": round(statistics.median(cpu), 1),
                                "query_p50_ms": round(statistics.median(query), 1),
                            }
                            cases.append(case)
                            flag = "" if case["p95_ms"] <= TARGET_MS else "  <-- over target"
                            print(
                                f"[{backend}] {role:6} {view:17} {search:6} {sort:13} {page:5} rows={rows:3} "
                                f"p50={case['p50_ms']:6.1f} p95={case['p95_ms']:6.1f} cpu={case['cpu_p50_ms']:6.1f} "
                                f"query={case['query_p50_ms']:6.1f} ms{flag}",
                                flush=True,
                            )
        finally:
            database.dispose()
    return {"backend": backend, "setup": setup, "cases": cases}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--samples", type=int, default=20, help="timed requests per case")
    parser.add_argument("--warmup", type=int, default=2, help="untimed requests per case first")
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--json", type=Path, default=None, help="where the results go (default bench/results/)")
    parser.add_argument("--no-json", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(BENCH_DIR.parent / "src"))
    import sqlalchemy

    import leadflow

    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = {
        "benchmark": "lead_list",
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": {key: str(value) for key, value in vars(args).items()},
        "versions": {
            "python": platform.python_version(),
            "sqlalchemy": sqlalchemy.__version__,
            "leadflow": leadflow.__version__,
        },
        "load_average": os.getloadavg(),
        "runs": [run_backend(backend, args) for backend in backends],
    }
    results["load_average_end"] = os.getloadavg()
    print("\nworst p95 per backend (target: every case <= 100 ms):")
    for run in results["runs"]:
        worst = max(run["cases"], key=lambda case: case["p95_ms"])
        over = [case for case in run["cases"] if case["p95_ms"] > TARGET_MS]
        print(
            f"  {run['backend']:10} worst p95 {worst['p95_ms']} ms ({worst['role']} {worst['view']} {worst['search']} "
            f"{worst['sort']} {worst['page']}); {len(over)} of {len(run['cases'])} cases over target"
        )
    if not args.no_json:
        path = args.json or RESULTS_DIR / f"lead-list-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2, default=str))
        print(f"results: {path}")


if __name__ == "__main__":
    main()
