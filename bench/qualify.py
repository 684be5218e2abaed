#!/usr/bin/env python
"""Benchmark of lead qualification: bulk service throughput, raw-driver floor, memory, HTTP latency.

Run from the repository root:

    python bench/qualify.py                       # 20,000 leads on SQLite and PostgreSQL
    python bench/qualify.py --backend sqlite --leads 5000
    python bench/qualify.py --memory-leads 100000 # peak RSS of qualifying 100,000 leads (SQLite)

What it does per backend (see bench/README.md for the details):

1. creates a fresh database, migrates it and sets up the organisation;
2. bulk-inserts N leads with varied, realistic fields (timed, reported, not a target);
3. qualifies all of them with ``leadflow.leads.service.qualify_leads`` - the function behind
   ``POST /api/v1/leads/qualify`` and ``leadflow leads qualify --view ... --all`` - in a fresh
   subprocess, measuring wall-clock leads/s and the peak RSS of that process;
4. writes the same rows with the raw DBAPI driver (sqlite3 / psycopg 3, executemany, one
   transaction per batch) into a second database holding the same leads: the "floor";
5. checks that both databases hold the same values, column by column;
6. serves the real app with uvicorn and times single ``POST /api/v1/leads/{id}/qualify`` calls.

Every phase runs in its own subprocess so that memory figures do not mix.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
DEFAULT_POSTGRES_URL = os.environ.get("LEADFLOW_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_PREFIX = "leadflow_bench_"
RESULT_MARK = "BENCH-RESULT "

# Targets of the performance issue. They are reported, never asserted by tests.
TARGET_LEADS_PER_S = {"sqlite": 2000.0, "postgresql": 1000.0}
TARGET_PEAK_RSS_MB = 300.0
TARGET_MEMORY_LEADS = 100_000
TARGET_HTTP_P50_MS = 15.0

WARMUP_HTTP_QUALIFY = 20
CREATE_CHUNK = 1000
MIB = 1024 * 1024


# ==============================================================================================
# Realistic, varied, deterministic lead data
# ==============================================================================================

FIRST_NAMES = (
    "Ana",
    "Lucía",
    "Marta",
    "Sofía",
    "Elena",
    "Carmen",
    "Laura",
    "Julia",
    "Emma",
    "Chloé",
    "Léa",
    "Hannah",
    "Mia",
    "Olivia",
    "Amelia",
    "Giulia",
    "Francesca",
    "Ingrid",
    "Astrid",
    "Yuki",
    "Priya",
    "Aisha",
    "Fatima",
    "Zoë",
    "Pablo",
    "Javier",
    "Diego",
    "Carlos",
    "Miguel",
    "Lukas",
    "Jonas",
    "Felix",
    "Luca",
    "Marco",
    "Matteo",
    "Noah",
    "Liam",
    "Oliver",
    "Jack",
    "Thomas",
    "Pierre",
    "Hugo",
    "Louis",
    "Arjun",
    "Kenji",
    "Omar",
    "Mateus",
    "João",
    "Björn",
    "Sean",
)
LAST_NAMES = (
    "García",
    "Fernández",
    "López",
    "Martínez",
    "Sánchez",
    "Pérez",
    "Gómez",
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Rossi",
    "Russo",
    "Bianchi",
    "Romano",
    "Dubois",
    "Martin",
    "Bernard",
    "Lefèvre",
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Taylor",
    "Wilson",
    "O'Brien",
    "Murphy",
    "Kowalski",
    "Nowak",
    "Novák",
    "Svensson",
    "Johansson",
    "Andersen",
    "Nielsen",
    "de Jong",
    "Jansen",
    "Silva",
    "Santos",
    "Oliveira",
    "Tanaka",
    "Sato",
    "Kim",
    "Park",
    "Patel",
    "Sharma",
    "Khan",
    "Ivanova",
    "Horváth",
)
COMPANY_PREFIXES = (
    "Nordic",
    "Iberian",
    "Alpine",
    "Atlantic",
    "Pacific",
    "Global",
    "Urban",
    "Green",
    "Blue River",
    "Summit",
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Bright",
    "Silver",
    "Golden Gate",
    "Red Oak",
    "Evergreen",
    "Metro",
    "Coastal",
)
COMPANY_CORES = (
    "Furniture",
    "Logistics",
    "Foods",
    "Pharma",
    "Software",
    "Textiles",
    "Engineering",
    "Energy",
    "Analytics",
    "Robotics",
    "Hotels",
    "Builders",
    "Motors",
    "Health",
    "Media",
    "Packaging",
    "Optics",
    "Farms",
    "Retail",
    "Consulting",
)
COMPANY_SUFFIXES = (
    "S.L.",
    "S.A.",
    "GmbH",
    "AG",
    "Ltd",
    "Inc.",
    "LLC",
    "SAS",
    "SARL",
    "B.V.",
    "AB",
    "Oy",
    "S.p.A.",
    "Pty Ltd",
    "K.K.",
)
# city, state or province, postal code pattern (x = digit), country, dialling code, street
PLACES = (
    ("Madrid", "Comunidad de Madrid", "28xxx", "Spain", "+34", "Calle de Alcalá"),
    ("Barcelona", "Cataluña", "08xxx", "Spain", "+34", "Passeig de Gràcia"),
    ("Berlin", "Berlin", "10xxx", "Germany", "+49", "Friedrichstraße"),
    ("München", "Bayern", "80xxx", "Germany", "+49", "Leopoldstraße"),
    ("Paris", "Île-de-France", "75xxx", "France", "+33", "Rue de Rivoli"),
    ("Lyon", "Auvergne-Rhône-Alpes", "69xxx", "France", "+33", "Rue de la République"),
    ("Milano", "Lombardia", "20xxx", "Italy", "+39", "Via Torino"),
    ("London", "England", "EC1A xBB", "United Kingdom", "+44", "High Holborn"),
    ("Manchester", "England", "M1 xAE", "United Kingdom", "+44", "Deansgate"),
    ("Dublin", "Leinster", "D02 Xxxx", "Ireland", "+353", "Grafton Street"),
    ("Amsterdam", "Noord-Holland", "10xx AB", "Netherlands", "+31", "Keizersgracht"),
    ("Stockholm", "Stockholm", "11x xx", "Sweden", "+46", "Drottninggatan"),
    ("New York", "NY", "10xxx", "United States", "+1", "Broadway"),
    ("Austin", "TX", "73xxx", "United States", "+1", "Congress Avenue"),
    ("Toronto", "Ontario", "M5H xNx", "Canada", "+1", "Queen Street West"),
    ("Ciudad de México", "CDMX", "06xxx", "Mexico", "+52", "Paseo de la Reforma"),
    ("São Paulo", "SP", "01xxx-xxx", "Brazil", "+55", "Avenida Paulista"),
    ("Tokyo", "Tokyo", "100-xxxx", "Japan", "+81", "Chuo-dori"),
)
PRODUCTS = (
    "office chairs",
    "standing desks",
    "CRM licences",
    "laptops",
    "forklifts",
    "solar panels",
    "cloud storage",
    "delivery vans",
    "coffee machines",
    "security cameras",
    "ERP integration",
    "training sessions",
    "LED lighting",
    "3D printers",
    "conference room kits",
)
TOPIC_TEMPLATES = (
    "Interested in {qty} {product}",
    "Quote request: {qty} {product}",
    "{product} for the {city} office",
    "Renewal of {product} contract",
    "Pilot of {product}",
    "Demo request - {product}",
)
JOB_TITLES = (
    "Purchasing manager",
    "CEO",
    "CTO",
    "Head of Operations",
    "Office manager",
    "Procurement specialist",
    "IT director",
    "Facilities manager",
    "CFO",
    "Sales director",
    "Owner",
    "Project manager",
    None,
)
DESCRIPTIONS = (
    "Met at the trade show; wants a proposal before the end of the month.",
    "Existing supplier contract ends next quarter; comparing three vendors.",
    "Asked for references from customers of a similar size.",
    "Needs delivery to two sites and installation on a weekend.",
    "Came in through the website chat; budget approved by the board.",
)
COMMENTS = (
    "Budget confirmed by finance.",
    "Decision by committee; next meeting in two weeks.",
    "Replacing the current provider after service problems.",
    "Wants a pilot before committing to the full order.",
)
LEAD_SOURCES = (
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
    None,
)
RATINGS = ("hot", "warm", "cold", None)
TIMEFRAMES = ("immediate", "this_quarter", "next_quarter", "this_year", "unknown", None)
BUDGET_STATUSES = ("no_committed_budget", "may_buy", "can_buy", "will_buy", None)
PROCESSES = ("individual", "committee", "unknown", None)
NEEDS = ("must_have", "should_have", "good_to_have", "no_need", None)
CURRENCIES = (None, None, None, None, None, None, "EUR", "EUR", "USD", "USD", "GBP", "MXN")
FIRST_CREATED = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)


def _ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "", folded)


def _digits(rng: random.Random, pattern: str) -> str:
    return "".join(str(rng.randrange(10)) if char == "x" else char for char in pattern)


_SYLLABLES = ("ba", "ke", "lo", "mi", "nu", "ra", "se", "ti", "vo", "zu", "da", "fe", "go", "hi", "ju", "pa")


def made_up(n: int) -> str:
    """A made-up word of its own for each ``n``: a second surname and a company's own word, so that
    the leads are distinct people at distinct companies, as a real list of leads mostly is (the
    duplicate rules then find nothing among them, and the benchmark times qualification)."""
    syllables = []
    while True:
        n, digit = divmod(n, len(_SYLLABLES))
        syllables.append(_SYLLABLES[digit])
        if not n:
            return "".join(syllables).capitalize()


def lead_data(seed: int, count: int) -> Iterator[tuple[uuid.UUID, dict[str, Any]]]:
    """``count`` leads as (id, API-shaped field dict), always the same for the same seed.

    Every lead names a company, so qualifying it creates an account, a contact and an opportunity.
    The dicts always hold every key (None when blank) so that they can feed an executemany.
    """
    rng = random.Random(seed)
    for n in range(1, count + 1):
        lead_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        first = rng.choice(FIRST_NAMES) if rng.random() < 0.95 else None
        last = f"{made_up(n)} {rng.choice(LAST_NAMES)}"
        city, state, postal, country, dialling, street = rng.choice(PLACES)
        company = f"{rng.choice(COMPANY_PREFIXES)} {rng.choice(COMPANY_CORES)} {made_up(n * 7 + 3)} {rng.choice(COMPANY_SUFFIXES)}"
        domain = f"{_ascii_slug(company)}.example.com"
        local = ".".join(_ascii_slug(part) for part in (first, last) if part) or "contact"
        budget = Decimal(rng.randrange(1_000_00, 500_000_00)) / 100 if rng.random() < 0.85 else None
        yield (
            lead_id,
            {
                "topic": rng.choice(TOPIC_TEMPLATES).format(
                    qty=rng.choice((5, 10, 20, 25, 50, 100, 250, 500)), product=rng.choice(PRODUCTS), city=city
                ),
                "first_name": first,
                "last_name": last,
                "job_title": rng.choice(JOB_TITLES),
                "company_name": company,
                "business_phone": f"{dialling} {rng.randrange(100, 999)} {rng.randrange(100, 999)} {rng.randrange(100, 999)}",
                "mobile_phone": f"{dialling} 6{rng.randrange(10, 99)} {rng.randrange(100, 999)} {rng.randrange(100, 999)}"
                if rng.random() < 0.5
                else None,
                "email": f"{local}{n}@{domain}" if rng.random() < 0.9 else None,
                "website": f"https://www.{domain}" if rng.random() < 0.8 else None,
                "description": rng.choice(DESCRIPTIONS) if rng.random() < 0.3 else None,
                "address_line1": f"{street} {rng.randrange(1, 250)}",
                "address_line2": f"Floor {rng.randrange(1, 12)}" if rng.random() < 0.3 else None,
                "address_line3": None,
                "address_city": city,
                "address_state_or_province": state,
                "address_postal_code": _digits(rng, postal),
                "address_country": country,
                "lead_source": rng.choice(LEAD_SOURCES),
                "rating": rng.choice(RATINGS),
                "currency": rng.choice(CURRENCIES),
                "purchase_timeframe": rng.choice(TIMEFRAMES),
                "budget_amount": budget,
                "budget_status": rng.choice(BUDGET_STATUSES),
                "purchase_process": rng.choice(PROCESSES),
                "decision_maker": rng.choice((True, False, None)),
                "need": rng.choice(NEEDS),
                "qualification_comments": rng.choice(COMMENTS) if rng.random() < 0.5 else None,
                "_created_at": FIRST_CREATED + timedelta(seconds=rng.randrange(0, 300 * 24 * 3600)),
            },
        )


def api_body(data: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of ``POST /api/v1/leads`` for one generated lead."""
    return {
        key: str(value) if isinstance(value, Decimal) else value
        for key, value in data.items()
        if value is not None and not key.startswith("_")
    }


# ==============================================================================================
# Small helpers shared by the phases
# ==============================================================================================


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far.

    Linux: VmHWM, the high-water mark of this program's own memory. ``ru_maxrss`` is not used
    there because it survives exec(): a child started by a large parent would report the
    parent's size. Elsewhere ``ru_maxrss`` (KiB on Linux, bytes on macOS) is the best there is.
    """
    with contextlib.suppress(OSError):
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / MIB if sys.platform == "darwin" else maxrss / 1024


def current_rss_mb() -> float:
    """Resident set size now."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MIB
    except OSError:  # not Linux
        import psutil

        return psutil.Process().memory_info().rss / MIB


def emit(result: dict[str, Any]) -> None:
    """Hand a phase's result to the parent process (last line of stdout)."""
    print(RESULT_MARK + json.dumps(result), flush=True)


def pg_connect(url: str, **kwargs: Any) -> Any:
    """A raw psycopg 3 connection to the database a SQLAlchemy-style URL names."""
    import psycopg
    from sqlalchemy.engine import make_url

    parts = make_url(url)
    return psycopg.connect(
        host=parts.host or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or None,
        dbname=parts.database,
        **kwargs,
    )


def sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite:///")


# ==============================================================================================
# Phase: create (migrate, organisation, N leads)
# ==============================================================================================

BENCH_ADMIN_EMAIL = "bench-admin@example.com"


def ensure_actor(database: Any) -> Any:
    """The acting user: the organisation's default actor, creating its administrator if needed.

    Organisations get their first System Administrator from `leadflow init`; the benchmark
    creates one the same way (without a password) when there is none yet.
    """
    from leadflow.core.errors import NotFound
    from leadflow.security.actor import default_actor

    with database.unit_of_work(read_only=True) as uow:
        try:
            return default_actor(uow.session)
        except NotFound:
            pass
    from leadflow.security.privileges import SYSTEM_ADMINISTRATOR
    from leadflow.security.service import create_user

    with database.unit_of_work() as uow:
        create_user(
            email=BENCH_ADMIN_EMAIL,
            full_name="Benchmark Administrator",
            role_names=[SYSTEM_ADMINISTRATOR],
            business_unit_name=None,
            password=None,
            uow=uow,
            actor=None,
        )
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        return default_actor(uow.session)


def phase_create(url: str, count: int, seed: int) -> dict[str, Any]:
    from sqlalchemy import select

    from leadflow.bootstrap import ensure_organisation
    from leadflow.core.migrate import upgrade
    from leadflow.core.names import compose_full_name
    from leadflow.core.uow import Database
    from leadflow.leads.models import Lead, LeadState, LeadStatusReason
    from leadflow.organisation.models import Currency

    database = Database(url)  # its engine is leadflow.core.db.make_engine(url)
    started = time.perf_counter()
    upgrade(database.engine)
    with database.unit_of_work() as uow:
        ensure_organisation(uow=uow, base_currency="EUR")
        uow.commit()
    actor = ensure_actor(database)
    with database.unit_of_work(read_only=True) as uow:
        currency_ids = {c.iso_code: c.id for c in uow.session.scalars(select(Currency))}
    setup_seconds = time.perf_counter() - started

    table = Lead.__table__
    owner = {
        "owner_user_id": actor.user_id,
        "owning_business_unit_id": actor.business_unit_id,
        "owner_team_id": None,
        "created_by_id": actor.user_id,
        "modified_by_id": actor.user_id,
    }
    blank = {
        "campaign_id": None,
        "parent_account_id": None,
        "parent_contact_id": None,
        "qualifying_opportunity_id": None,
        "master_lead_id": None,
        "merged": False,
        "state": LeadState.OPEN,
        "status_reason": LeadStatusReason.NEW,
        "closed_at": None,
        "row_version": 1,
    }
    started = time.perf_counter()
    chunk: list[dict[str, Any]] = []

    def flush() -> None:
        with database.engine.begin() as connection:  # BEGIN IMMEDIATE on SQLite
            connection.execute(table.insert(), chunk)
        chunk.clear()

    for lead_id, data in lead_data(seed, count):
        row = {key: value for key, value in data.items() if not key.startswith("_")}
        row["currency_id"] = currency_ids[row.pop("currency")] if data["currency"] else None
        row.update(owner, **blank)
        row["id"] = lead_id
        row["full_name"] = compose_full_name(data["first_name"], data["last_name"])
        row["created_at"] = row["modified_at"] = data["_created_at"]
        chunk.append(row)
        if len(chunk) >= CREATE_CHUNK:
            flush()
    if chunk:
        flush()
    seconds = time.perf_counter() - started
    database.dispose()
    return {
        "leads": count,
        "setup_seconds": setup_seconds,
        "seconds": seconds,
        "leads_per_s": count / seconds if seconds and count else None,
        "peak_rss_mb": peak_rss_mb(),
    }


# ==============================================================================================
# Phase: qualify through the service
# ==============================================================================================


def stream_lead_ids(database: Any, page: int) -> Iterator[uuid.UUID]:
    """Every lead id, keyset-paged, one short read-only unit of work per page."""
    from sqlalchemy import select

    from leadflow.leads.models import Lead

    last: uuid.UUID | None = None
    while True:
        statement = select(Lead.id).order_by(Lead.id).limit(page)
        if last is not None:
            statement = statement.where(Lead.id > last)
        with database.unit_of_work(read_only=True) as uow:
            ids = list(uow.session.scalars(statement))
        if not ids:
            return
        yield from ids
        last = ids[-1]


def phase_qualify(url: str, batch_size: int, profile: str | None) -> dict[str, Any]:
    from leadflow.core.uow import Database
    from leadflow.leads.bulk import qualify_leads
    from leadflow.leads.schemas import QualifyOptions

    database = Database(url)
    actor = ensure_actor(database)
    rss_before = current_rss_mb()
    rss_samples: list[float] = []
    ok = failed = 0
    errors: dict[str, int] = {}
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    cpu_started = time.process_time()
    outcomes = qualify_leads(
        stream_lead_ids(database, page=batch_size),
        QualifyOptions(),
        database=database,
        actor=actor,
        batch_size=batch_size,
    )
    for index, outcome in enumerate(outcomes, start=1):
        if outcome.ok:
            ok += 1
        else:
            failed += 1
            key = f"{outcome.error.code}: {outcome.error.message}"
            errors[key] = errors.get(key, 0) + 1
        if index % batch_size == 0:
            rss_samples.append(current_rss_mb())
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    rss_after = current_rss_mb()
    database.dispose()
    total = ok + failed
    return {
        "ok": ok,
        "failed": failed,
        "errors": errors,
        "seconds": seconds,
        "leads_per_s": total / seconds if seconds else None,
        "cpu_seconds": cpu_seconds,
        "rss_before_mb": rss_before,
        "rss_first_batch_mb": rss_samples[0] if rss_samples else rss_after,
        "rss_last_batch_mb": rss_samples[-1] if rss_samples else rss_after,
        "rss_after_mb": rss_after,
        "peak_rss_mb": peak_rss_mb(),
        "profiled": bool(profile),
    }


# ==============================================================================================
# Phase: the raw-driver floor
# ==============================================================================================

LEAD_READ_COLUMNS = (
    "id",
    "row_version",
    "state",
    "topic",
    "first_name",
    "last_name",
    "full_name",
    "job_title",
    "company_name",
    "business_phone",
    "mobile_phone",
    "email",
    "website",
    "description",
    "currency_id",
    "campaign_id",
    "purchase_timeframe",
    "budget_amount",
    "purchase_process",
    "decision_maker",
    "need",
    "qualification_comments",
    "parent_account_id",
    "parent_contact_id",
    "address_line1",
    "address_line2",
    "address_line3",
    "address_city",
    "address_state_or_province",
    "address_postal_code",
    "address_country",
)
ADDRESS = (
    "address_line1",
    "address_line2",
    "address_line3",
    "address_city",
    "address_state_or_province",
    "address_postal_code",
    "address_country",
)
OWNED = ("owner_user_id", "owning_business_unit_id", "created_by_id", "modified_by_id", "originating_lead_id")
STAMPS = ("row_version", "created_at", "modified_at")
ACCOUNT_COLUMNS = (
    "id",
    "name",
    "website",
    "telephone",
    "email",
    "currency_id",
    *ADDRESS,
    "primary_contact_id",
    "state",
    *OWNED,
    *STAMPS,
)
CONTACT_COLUMNS = (
    "id",
    "account_id",
    "first_name",
    "last_name",
    "full_name",
    "job_title",
    "email",
    "business_phone",
    "mobile_phone",
    "website",
    "currency_id",
    *ADDRESS,
    "state",
    *OWNED,
    *STAMPS,
)
OPPORTUNITY_FLAGS = (
    "stakeholders_identified",
    "competitors_identified",
    "sales_team_identified",
    "proposal_developed",
    "internal_review_completed",
    "proposal_presented",
    "final_proposal_completed",
    "final_proposal_presented",
    "thank_you_note_sent",
    "debrief_filed",
)
OPPORTUNITY_COLUMNS = (
    "id",
    "name",
    "estimated_revenue",
    "description",
    "currency_id",
    "campaign_id",
    "purchase_timeframe",
    "purchase_process",
    "decision_maker",
    "need",
    "qualification_comments",
    "customer_kind",
    "customer_id",
    "parent_account_id",
    "parent_contact_id",
    "state",
    "process_stage",
    *OPPORTUNITY_FLAGS,
    *OWNED,
    *STAMPS,
    "exchange_rate",
    "estimated_revenue_base",
)
AUDIT_COLUMNS = (
    "id",
    "occurred_at",
    "user_id",
    "business_unit_id",
    "action",
    "table_name",
    "record_id",
    "changes",
    "summary",
)
LEAD_UPDATE_SET = (
    "parent_account_id",
    "parent_contact_id",
    "qualifying_opportunity_id",
    "state",
    "status_reason",
    "closed_at",
    "modified_by_id",
    "modified_at",
    "row_version",
)


def _text_id(value: Any) -> str | None:
    """A UUID as the audit log writes it in JSON: the dashed form."""
    return None if value is None else str(value if isinstance(value, uuid.UUID) else uuid.UUID(value))


def _insert_sql(table: str, columns: tuple[str, ...], mark: str) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"


def phase_floor(url: str, backend: str, batch_size: int) -> dict[str, Any]:
    """Qualify every lead with hand-written SQL: one SELECT, the INSERTs and one UPDATE per batch.

    The INSERTs are one executemany each for accounts, contacts, opportunities and, where the
    schema has an audit log, the audit entries.

    The values are the ones ``qualify_loaded_lead`` writes, in the storage form SQLAlchemy gives
    them: UUIDs as 32-char hex on SQLite and native uuid on PostgreSQL, money as the stored
    BIGINT, enums as their lowercase values, timestamps in UTC (ISO text on SQLite).
    """
    sqlite = backend == "sqlite"
    mark = "?" if sqlite else "%s"
    if sqlite:
        import sqlite3

        # The same connection set-up as leadflow.core.db.make_engine gives the service.
        connection = sqlite3.connect(sqlite_path(url), timeout=30, isolation_level=None)
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL", "busy_timeout=30000"):
            connection.execute(f"PRAGMA {pragma}")
        new_id = lambda: uuid.uuid4().hex  # noqa: E731
        stamp = lambda: datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # noqa: E731
    else:
        connection = pg_connect(url, autocommit=True)
        new_id = uuid.uuid4
        stamp = lambda: datetime.now(UTC)  # noqa: E731
    cursor = connection.cursor()
    if sqlite:
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'audit_entries'")
    else:
        cursor.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'audit_entries'")
    # Code with an audit log writes one entry per qualified lead; older code has no such table.
    audited = bool(cursor.fetchone()[0])
    if sqlite:
        to_json = json.dumps  # what SQLAlchemy's JSON type stores on SQLite
    else:
        from psycopg.types.json import Json

        to_json = Json
    cursor.execute("SELECT id, business_unit_id FROM users WHERE is_active ORDER BY created_at, id LIMIT 1")
    user_id, business_unit_id = cursor.fetchone()
    cursor.execute("SELECT base_currency_id FROM organisation_settings LIMIT 1")
    (base_currency_id,) = cursor.fetchone()
    # The rate each opportunity captures, and its amount in base currency, as the service writes them
    # (scaled integers: rates 10**-10, money 10**-4; leadflow.organisation.currencies.in_base).
    cursor.execute("SELECT id, exchange_rate FROM currencies")
    rates = {_text_id(currency_id): rate for currency_id, rate in cursor.fetchall()}

    def base_amount(amount: int | None, rate: int) -> int | None:
        if amount is None:
            return None
        return int(((Decimal(amount) / 10**4) / (Decimal(rate) / 10**10)).quantize(Decimal("0.0001")) * 10**4)

    lock = "" if sqlite else " FOR UPDATE"
    select_first = f"SELECT {', '.join(LEAD_READ_COLUMNS)} FROM leads ORDER BY id LIMIT {mark}{lock}"
    select_next = f"SELECT {', '.join(LEAD_READ_COLUMNS)} FROM leads WHERE id > {mark} ORDER BY id LIMIT {mark}{lock}"
    insert_account = _insert_sql("accounts", ACCOUNT_COLUMNS, mark)
    insert_contact = _insert_sql("contacts", CONTACT_COLUMNS, mark)
    insert_opportunity = _insert_sql("opportunities", OPPORTUNITY_COLUMNS, mark)
    insert_audit = _insert_sql("audit_entries", AUDIT_COLUMNS, mark)
    update_lead = (
        f"UPDATE leads SET {', '.join(f'{c} = {mark}' for c in LEAD_UPDATE_SET)} "
        f"WHERE id = {mark} AND row_version = {mark}"
    )
    column = {name: index for index, name in enumerate(LEAD_READ_COLUMNS)}
    c_id, c_version, c_state = column["id"], column["row_version"], column["state"]
    c_company, c_currency = column["company_name"], column["currency_id"]
    account_source = [
        column[c] for c in ("company_name", "website", "business_phone", "email", "currency_id", *ADDRESS)
    ]
    contact_source = [
        column[c]
        for c in (
            "first_name",
            "last_name",
            "full_name",
            "job_title",
            "email",
            "business_phone",
            "mobile_phone",
            "website",
            "currency_id",
            *ADDRESS,
        )
    ]
    opportunity_source = [
        column[c]
        for c in (
            "topic",
            "budget_amount",
            "description",
            "currency_id",
            "campaign_id",
            "purchase_timeframe",
            "purchase_process",
            "decision_maker",
            "need",
            "qualification_comments",
        )
    ]
    flags = (False,) * len(OPPORTUNITY_FLAGS)

    qualified = batches = 0
    last_id = None
    started = time.perf_counter()
    cpu_started = time.process_time()
    while True:
        cursor.execute("BEGIN IMMEDIATE" if sqlite else "BEGIN")
        if last_id is None:
            cursor.execute(select_first, (batch_size,))
        else:
            cursor.execute(select_next, (last_id, batch_size))
        leads = cursor.fetchall()
        if not leads:
            cursor.execute("ROLLBACK")
            break
        accounts, contacts, opportunities, updates, audits = [], [], [], [], []
        for lead in leads:
            if lead[c_state] != "open":
                raise RuntimeError(f"lead {lead[c_id]} is not open")
            now = stamp()
            owned = (user_id, business_unit_id, user_id, user_id, lead[c_id])
            account_id = new_id() if lead[c_company] else None
            contact_id = new_id()
            opportunity_id = new_id()
            if account_id is not None:
                accounts.append(
                    (account_id, *[lead[i] for i in account_source], contact_id, "active", *owned, 1, now, now)
                )
            contacts.append((contact_id, account_id, *[lead[i] for i in contact_source], "active", *owned, 1, now, now))
            values = [lead[i] for i in opportunity_source]
            values[3] = lead[c_currency] or base_currency_id
            rate = rates[_text_id(values[3])]
            customer = account_id if account_id is not None else contact_id
            opportunities.append(
                (
                    opportunity_id,
                    *values,
                    "account" if account_id is not None else "contact",
                    customer,
                    account_id,
                    contact_id,
                    "open",
                    "develop",
                    *flags,
                    *owned,
                    1,
                    now,
                    now,
                    rate,
                    base_amount(values[1], rate),
                )
            )
            closed = stamp()
            updates.append(
                (
                    account_id,
                    contact_id,
                    opportunity_id,
                    "qualified",
                    "qualified",
                    closed,
                    user_id,
                    closed,
                    lead[c_version] + 1,
                    lead[c_id],
                    lead[c_version],
                )
            )
            if audited:
                created = {
                    "account_id": _text_id(account_id),
                    "contact_id": _text_id(contact_id),
                    "opportunity_ids": [_text_id(opportunity_id)],
                }
                audits.append(
                    (
                        new_id(),
                        stamp(),
                        user_id,
                        business_unit_id,
                        "qualify",
                        "leads",
                        lead[c_id],
                        to_json(created),
                        None,
                    )
                )
        if accounts:
            cursor.executemany(insert_account, accounts)
        cursor.executemany(insert_contact, contacts)
        cursor.executemany(insert_opportunity, opportunities)
        cursor.executemany(update_lead, updates)
        if cursor.rowcount != len(updates):
            raise RuntimeError(f"lead update touched {cursor.rowcount} rows, expected {len(updates)}")
        if audits:
            cursor.executemany(insert_audit, audits)
        cursor.execute("COMMIT")
        qualified += len(leads)
        batches += 1
        last_id = leads[-1][c_id]
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    connection.close()
    return {
        "ok": qualified,
        "audited": audited,
        "batches": batches,
        "seconds": seconds,
        "leads_per_s": qualified / seconds if seconds else None,
        "cpu_seconds": cpu_seconds,
        "peak_rss_mb": peak_rss_mb(),
    }


# ==============================================================================================
# Phases of the HTTP benchmark: an API token, and the real app
# ==============================================================================================


def phase_token(url: str) -> dict[str, Any]:
    """A personal API token of the benchmark's administrator, when the API asks for one."""
    from leadflow.core.uow import Database

    database = Database(url)
    actor = ensure_actor(database)
    try:
        from leadflow.security.authentication import create_personal_token
    except ImportError:  # an API without sign-in
        return {"secret": None}
    with database.unit_of_work() as uow:
        issued = create_personal_token(actor.email, name="benchmark", days=1, uow=uow, actor=actor)
        uow.commit()
    database.dispose()
    return {"secret": issued.secret}


def phase_serve(url: str, port: int) -> None:
    import uvicorn

    from leadflow.asgi import create_app
    from leadflow.core.config import Settings
    from leadflow.core.uow import Database

    settings = Settings(database_url=url)
    app = create_app(Database(url), settings)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# ==============================================================================================
# Parent: databases, subprocesses, verification, HTTP client, report
# ==============================================================================================


class Run:
    """Shared state of one benchmark run: where SQLite files go and how to reach PostgreSQL."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix=DB_PREFIX))
        self.postgres_url = args.postgres_url

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    @contextlib.contextmanager
    def database(self, backend: str, label: str) -> Iterator[str]:
        """A fresh, empty database; dropped (PostgreSQL) or deleted (SQLite) afterwards."""
        name = f"{DB_PREFIX}{uuid.uuid4().hex[:12]}"
        if backend == "sqlite":
            path = self.tmp / f"{name}_{label}.db"
            try:
                yield f"sqlite:///{path}"
            finally:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
            return
        from sqlalchemy.engine import make_url

        with pg_connect(self.postgres_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield make_url(self.postgres_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with pg_connect(self.postgres_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_phase(phase: str, url: str, **options: Any) -> dict[str, Any]:
    """Run one phase in a fresh Python process and return what it emitted."""
    command = [sys.executable, str(Path(__file__).resolve()), "--phase", phase, "--url", url]
    for key, value in options.items():
        if value is True:
            command.append(f"--{key.replace('_', '-')}")
        elif value is not None and value is not False:
            command += [f"--{key.replace('_', '-')}", str(value)]
    completed = subprocess.run(command, check=False, stdout=subprocess.PIPE, text=True)
    lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if completed.returncode != 0 or not lines:
        sys.stdout.write(completed.stdout)
        raise RuntimeError(f"phase {phase} failed (exit code {completed.returncode})")
    return json.loads(lines[-1][len(RESULT_MARK) :])


# --- verification ----------------------------------------------------------------------------


def _raw_rows(url: str, backend: str, table: str) -> list[dict[str, Any]]:
    if backend == "sqlite":
        import sqlite3

        connection = sqlite3.connect(sqlite_path(url))
    else:
        connection = pg_connect(url)
    try:
        cursor = connection.cursor()
        cursor.execute(f"SELECT * FROM {table}")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        connection.close()


def _stamp_shape(value: Any) -> Any:
    """Timestamps differ between runs; their storage form must not."""
    if value is None:
        return None
    if isinstance(value, str):
        return re.sub(r"\d", "9", value)
    if isinstance(value, datetime):
        return f"datetime(tz={value.utcoffset()})"
    return type(value).__name__


_UUID_TEXT = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}")


def _canonical(value: Any) -> str | None:
    with contextlib.suppress(ValueError, TypeError, AttributeError):
        return str(uuid.UUID(str(value)))
    return None


def _has_table(url: str, backend: str, table: str) -> bool:
    if backend == "sqlite":
        import sqlite3

        connection = sqlite3.connect(sqlite_path(url))
        query = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
    else:
        connection = pg_connect(url)
        query = "SELECT count(*) FROM information_schema.tables WHERE table_name = %s"
    try:
        return bool(connection.execute(query, (table,)).fetchone()[0])
    finally:
        connection.close()


TABLE_ROLES = ("account", "contact", "opportunity", "audit entry")


def snapshot(url: str, backend: str) -> dict[str, tuple[dict[str, Any] | None, ...]]:
    """Per lead: the lead and the records qualifying it created, ids replaced by their role."""
    names: dict[str, str] = {}
    for table, label in (("users", "email"), ("business_units", "name"), ("currencies", "iso_code")):
        for row in _raw_rows(url, backend, table):
            names[_canonical(row["id"])] = f"<{table} {row[label]}>"
    created: dict[str, dict[Any, dict[str, Any]]] = {}
    sources = [
        ("accounts", "originating_lead_id"),
        ("contacts", "originating_lead_id"),
        ("opportunities", "originating_lead_id"),
    ]
    if _has_table(url, backend, "audit_entries"):
        sources.append(("audit_entries", "record_id"))
    for table, key in sources:
        created[table] = {}
        for row in _raw_rows(url, backend, table):
            if table == "audit_entries" and (row["action"] != "qualify" or row["table_name"] != "leads"):
                continue
            if row[key] in created[table]:
                raise RuntimeError(f"two {table} rows come from lead {row[key]}")
            created[table][row[key]] = row
    result = {}
    for lead in _raw_rows(url, backend, "leads"):
        records = [lead] + [created[table].get(lead["id"]) for table, _ in sources]
        roles = dict(names)
        roles[_canonical(lead["id"])] = "<this lead>"
        for role, record in zip(TABLE_ROLES, records[1:], strict=False):
            if record is not None:
                roles[_canonical(record["id"])] = f"<its {role}>"

        def named(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: named(v) for k, v in value.items()}
            if isinstance(value, list):
                return [named(v) for v in value]
            if isinstance(value, str):
                return _UUID_TEXT.sub(lambda m: roles.get(_canonical(m.group()), m.group()), value)  # noqa: B023
            return roles.get(_canonical(value), value) if isinstance(value, uuid.UUID) else value  # noqa: B023

        def normal(record: dict[str, Any] | None) -> dict[str, Any] | None:
            if record is None:
                return None
            return {
                key: _stamp_shape(value)
                if key in ("created_at", "modified_at", "closed_at", "occurred_at")
                else named(value)
                for key, value in record.items()
            }

        result[str(lead["id"])] = tuple(normal(record) for record in records)
    return result


def verify(service_url: str, floor_url: str, backend: str) -> dict[str, Any]:
    """Both databases must hold the same leads, accounts, contacts and opportunities.

    Differences are counted per column ("lead.row_version": 20000 means that column differs on
    every lead), with one example of each, so that a gap between the service and the floor shows
    at a glance.
    """
    service = snapshot(service_url, backend)
    floor = snapshot(floor_url, backend)
    mismatches = 0
    columns: dict[str, int] = {}
    examples: dict[str, str] = {}
    for key in service.keys() | floor.keys():
        a, b = service.get(key), floor.get(key)
        if a == b:
            continue
        mismatches += 1
        if a is None or b is None:
            columns["missing lead"] = columns.get("missing lead", 0) + 1
            continue
        for table, ra, rb in zip(("lead", *TABLE_ROLES), a, b, strict=False):
            if ra == rb:
                continue
            if ra is None or rb is None:
                names = [f"{table} (missing)"]
            else:
                names = [f"{table}.{k}" for k in sorted(ra.keys() | rb.keys()) if ra.get(k) != rb.get(k)]
            for name in names:
                columns[name] = columns.get(name, 0) + 1
                if name not in examples:
                    column = name.split(".", 1)[-1]
                    examples[name] = (
                        f"service {ra.get(column)!r}, floor {rb.get(column)!r}" if ra and rb else "missing on one side"
                    )
    qualified = sum(1 for records in service.values() if records[0]["state"] == "qualified")
    return {
        "compared": len(service),
        "qualified": qualified,
        "mismatches": mismatches,
        "columns": columns,
        "examples": examples,
    }


# --- HTTP ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def percentile(samples: list[float], pct: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[pct - 1]


def run_http(url: str, samples: int, seed: int) -> dict[str, Any]:
    """Serve the app in a subprocess; time ``samples`` sequential single qualifications."""
    import httpx

    run_phase("create", url, count=0, seed=seed)  # migrate + organisation, no leads
    secret = run_phase("token", url)["secret"]
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--phase", "serve", "--url", url, "--port", str(port)]
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30.0, headers=headers) as client:
            deadline = time.monotonic() + 60
            while True:
                if server.poll() is not None:
                    raise RuntimeError("the app server exited before answering")
                try:
                    if client.get("/api/v1/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("the app server did not answer within 60 s")
                time.sleep(0.1)
            lead_ids = []
            create_ms = []
            for _lead_id, data in lead_data(seed, samples + WARMUP_HTTP_QUALIFY):
                t0 = time.perf_counter()
                response = client.post("/api/v1/leads", json=api_body(data))
                create_ms.append((time.perf_counter() - t0) * 1000)
                if response.status_code != 201:
                    raise RuntimeError(f"creating a lead answered {response.status_code}: {response.text}")
                lead_ids.append(response.json()["id"])
            timings = []
            for index, lead_id in enumerate(lead_ids):
                t0 = time.perf_counter()
                response = client.post(f"/api/v1/leads/{lead_id}/qualify", json={})
                elapsed = (time.perf_counter() - t0) * 1000
                body = response.json()
                if response.status_code != 200 or not body["created"]["opportunity_ids"]:
                    raise RuntimeError(f"qualify answered {response.status_code}: {response.text}")
                if index >= WARMUP_HTTP_QUALIFY:
                    timings.append(elapsed)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return {
        "samples": len(timings),
        "warmup": WARMUP_HTTP_QUALIFY,
        "p50_ms": percentile(timings, 50),
        "p95_ms": percentile(timings, 95),
        "mean_ms": statistics.fmean(timings),
        "min_ms": min(timings),
        "max_ms": max(timings),
        "create_p50_ms": percentile(create_ms, 50),
    }


# --- orchestration ---------------------------------------------------------------------------


def leadflow_source() -> dict[str, Any]:
    """Which leadflow code is measured: its directory and, in a git checkout, the commit."""
    import importlib.util

    spec = importlib.util.find_spec("leadflow")
    package = Path(spec.origin).parent if spec and spec.origin else None
    info: dict[str, Any] = {"leadflow_path": str(package)}
    if package is None:
        return info
    try:
        commit = subprocess.run(
            ["git", "-C", str(package), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "-C", str(package), "status", "--porcelain", "--", "."], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return info
    info["leadflow_commit"] = commit + (" with uncommitted changes" if changes else "")
    return info


def environment(args: argparse.Namespace, backends: list[str]) -> dict[str, Any]:
    import sqlite3

    import sqlalchemy

    info: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__,
        "load_average_at_start": os.getloadavg(),
    }
    info.update(leadflow_source())
    if args.label:
        info["label"] = args.label
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    if "postgresql" in backends:
        import psycopg

        info["psycopg"] = psycopg.__version__
        with pg_connect(args.postgres_url, autocommit=True) as connection:
            info["postgresql"] = connection.execute("SHOW server_version").fetchone()[0]
    return info


def bench_backend(run: Run, backend: str, console: Any) -> dict[str, Any]:
    args = run.args
    result: dict[str, Any] = {
        "backend": backend,
        "leads": args.leads,
        "batch_size": args.batch_size,
        "load_average_before": os.getloadavg(),
    }
    with run.database(backend, "service") as service_url, run.database(backend, "floor") as floor_url:
        with console.status(f"[{backend}] creating {args.leads:,} leads"):
            result["create"] = run_phase("create", service_url, count=args.leads, seed=args.seed)
        profile = None
        if args.profile:
            RESULTS_DIR.mkdir(parents=True, exist_ok=True)
            profile = str(RESULTS_DIR / f"qualify-{backend}-{datetime.now(UTC):%Y%m%dT%H%M%S}.pstats")
        with console.status(f"[{backend}] qualifying {args.leads:,} leads through the service"):
            result["service"] = run_phase("qualify", service_url, batch_size=args.batch_size, profile_path=profile)
        console.log(f"[{backend}] service: {result['service']['leads_per_s']:,.0f} leads/s")
        with console.status(f"[{backend}] creating the same leads for the floor"):
            run_phase("create", floor_url, count=args.leads, seed=args.seed)
        with console.status(f"[{backend}] raw-driver floor"):
            result["floor"] = run_phase("floor", floor_url, backend=backend, batch_size=args.batch_size)
        console.log(f"[{backend}] floor: {result['floor']['leads_per_s']:,.0f} leads/s")
        with console.status(f"[{backend}] comparing what the service and the floor wrote"):
            result["verify"] = run_phase("verify", service_url, floor_url=floor_url, backend=backend)
    if args.http_samples > 0:
        with (
            run.database(backend, "http") as http_url,
            console.status(f"[{backend}] {args.http_samples} single qualifications over HTTP"),
        ):
            result["http"] = run_http(http_url, args.http_samples, seed=args.seed + 1)
        console.log(f"[{backend}] HTTP qualify p50 {result['http']['p50_ms']:.1f} ms")
    result["load_average_after"] = os.getloadavg()
    return result


def bench_memory(run: Run, count: int, console: Any) -> dict[str, Any]:
    args = run.args
    result: dict[str, Any] = {"backend": "sqlite", "leads": count, "batch_size": args.batch_size}
    with run.database("sqlite", "memory") as url:
        with console.status(f"[memory] creating {count:,} leads (SQLite)"):
            result["create"] = run_phase("create", url, count=count, seed=args.seed)
        with console.status(f"[memory] qualifying {count:,} leads (SQLite)"):
            result["service"] = run_phase("qualify", url, batch_size=args.batch_size)
    return result


def _fmt(value: float | None, spec: str = ",.0f") -> str:
    return "-" if value is None else format(value, spec)


def _met(ok: bool) -> str:
    return "[green]met[/]" if ok else "[red]missed[/]"


def report(results: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    env = results["environment"]
    console.print(
        f"\nPython {env['python']}, {env['cpus']} CPUs ({env.get('cpu_model', '?')}), SQLite {env['sqlite']}"
        + (f", PostgreSQL {env['postgresql']}" if "postgresql" in env else "")
        + f"; leadflow {env.get('label') or env.get('leadflow_commit') or env['leadflow_path']}"
        + f"; load average at start {env['load_average_at_start'][0]:.2f}, at end {os.getloadavg()[0]:.2f}"
        + " (other work on the machine slows every figure down)"
    )
    targets = Table(title="Targets")
    for name in ("target", "measured", "result"):
        targets.add_column(name)
    if results["backends"]:
        table = Table(title="Lead qualification benchmark")
        for name, justify in (
            ("backend", "left"),
            ("N", "right"),
            ("batch", "right"),
            ("create leads/s", "right"),
            ("service leads/s", "right"),
            ("floor leads/s", "right"),
            ("service/floor", "right"),
            ("peak RSS MB", "right"),
            ("HTTP p50 ms", "right"),
            ("HTTP p95 ms", "right"),
            ("verified", "left"),
        ):
            table.add_column(name, justify=justify)
        for r in results["backends"]:
            service, floor, http, check = r["service"], r["floor"], r.get("http"), r["verify"]
            ratio = service["leads_per_s"] / floor["leads_per_s"]
            verified = (
                f"[green]all {check['compared']:,} equal[/]"
                if not check["mismatches"]
                else f"[red]{check['mismatches']:,} differ[/]"
            )
            table.add_row(
                r["backend"],
                f"{r['leads']:,}",
                str(r["batch_size"]),
                _fmt(r["create"]["leads_per_s"]),
                _fmt(service["leads_per_s"]),
                _fmt(floor["leads_per_s"]),
                f"{ratio:.2f}",
                _fmt(service["peak_rss_mb"]),
                _fmt(http and http["p50_ms"], ".1f"),
                _fmt(http and http["p95_ms"], ".1f"),
                verified,
            )
            if service["failed"]:
                console.print(f"[red]{r['backend']}: {service['failed']} leads failed: {service['errors']}")
            for column, count in check["columns"].items():
                console.print(
                    f"[red]{r['backend']}: {column} differs between service and floor on {count:,} leads "
                    f"(e.g. {check['examples'].get(column, '')})"
                )
            target = TARGET_LEADS_PER_S[r["backend"]]
            targets.add_row(
                f"{r['backend']} bulk qualify >= {target:,.0f} leads/s",
                f"{service['leads_per_s']:,.0f} leads/s",
                _met(service["leads_per_s"] >= target),
            )
            if http:
                targets.add_row(
                    f"{r['backend']} single qualify over HTTP p50 <= {TARGET_HTTP_P50_MS:.0f} ms",
                    f"{http['p50_ms']:.1f} ms",
                    _met(http["p50_ms"] <= TARGET_HTTP_P50_MS),
                )
        console.print(table)
    memory = results.get("memory")
    if memory:
        service = memory["service"]
        table = Table(title=f"Memory: create + qualify {memory['leads']:,} leads on SQLite")
        for name in (
            "N",
            "create leads/s",
            "qualify leads/s",
            "RSS before qualify MB",
            "RSS first batch MB",
            "RSS last batch MB",
            "peak RSS qualify MB",
            "peak RSS create MB",
        ):
            table.add_column(name, justify="right")
        table.add_row(
            f"{memory['leads']:,}",
            _fmt(memory["create"]["leads_per_s"]),
            _fmt(service["leads_per_s"]),
            _fmt(service["rss_before_mb"]),
            _fmt(service["rss_first_batch_mb"]),
            _fmt(service["rss_last_batch_mb"]),
            _fmt(service["peak_rss_mb"]),
            _fmt(memory["create"]["peak_rss_mb"]),
        )
        console.print(table)
        if service["failed"]:
            console.print(f"[red]{service['failed']} leads failed: {service['errors']}")
        if memory["leads"] >= TARGET_MEMORY_LEADS:
            targets.add_row(
                f"peak RSS qualifying {memory['leads']:,} leads <= {TARGET_PEAK_RSS_MB:.0f} MB",
                f"{service['peak_rss_mb']:,.0f} MB",
                _met(service["peak_rss_mb"] <= TARGET_PEAK_RSS_MB),
            )
    if targets.row_count:
        console.print(targets)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark bulk lead qualification (service vs raw-driver floor), its memory and single qualify over HTTP.",
    )
    parser.add_argument(
        "--leads", type=int, default=20000, help="leads to create and qualify per backend (default 20000)"
    )
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--batch-size", type=int, default=500, help="leads per transaction (default 500)")
    parser.add_argument(
        "--http-samples", type=int, default=200, help="single qualifications timed over HTTP; 0 skips (default 200)"
    )
    parser.add_argument(
        "--memory-leads",
        type=int,
        metavar="N",
        help="instead of the run above, create and qualify N leads on SQLite and report peak RSS (e.g. 100000)",
    )
    parser.add_argument("--seed", type=int, default=20261126, help="seed of the generated leads")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="server to create the benchmark databases on (env LEADFLOW_BENCH_POSTGRES_URL)",
    )
    parser.add_argument("--label", help="a name for the code under test, stored with the results (e.g. a commit)")
    parser.add_argument(
        "--json", metavar="PATH", help="where to write the JSON results (default bench/results/qualify-<time>.json)"
    )
    parser.add_argument("--no-json", action="store_true", help="do not write JSON results")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run the service qualify phase under cProfile (slower) and save .pstats in bench/results/",
    )
    # Internal: the phases that run in their own process.
    parser.add_argument(
        "--phase", choices=("create", "qualify", "floor", "verify", "token", "serve"), help=argparse.SUPPRESS
    )
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--floor-url", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--profile-path", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.leads < 1 or args.batch_size < 1 or args.http_samples < 0:
        parser.error("--leads and --batch-size must be positive, --http-samples not negative")
    if 0 < args.http_samples < 2:
        parser.error("--http-samples needs at least 2 samples for percentiles")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.phase == "create":
        emit(phase_create(args.url, args.count, args.seed))
        return 0
    if args.phase == "qualify":
        emit(phase_qualify(args.url, args.batch_size, args.profile_path))
        return 0
    if args.phase == "floor":
        emit(phase_floor(args.url, args.backend, args.batch_size))
        return 0
    if args.phase == "verify":
        emit(verify(args.url, args.floor_url, args.backend))
        return 0
    if args.phase == "token":
        emit(phase_token(args.url))
        return 0
    if args.phase == "serve":
        phase_serve(args.url, args.port)
        return 0

    from rich.console import Console

    console = Console()
    if not console.is_terminal:  # keep the tables readable when the output goes to a file
        console = Console(width=170)
    backends = (
        ["sqlite"] if args.memory_leads else (["sqlite", "postgresql"] if args.backend == "both" else [args.backend])
    )
    results: dict[str, Any] = {
        "environment": environment(args, backends),
        "options": {
            k: v
            for k, v in vars(args).items()
            if k not in ("phase", "url", "floor_url", "count", "port", "profile_path")
        },
        "backends": [],
    }
    run = Run(args)
    try:
        if args.memory_leads:
            results["memory"] = bench_memory(run, args.memory_leads, console)
        else:
            for backend in backends:
                results["backends"].append(bench_backend(run, backend, console))
    finally:
        run.close()
    report(results, console)
    if not args.no_json:
        path = Path(args.json) if args.json else RESULTS_DIR / f"qualify-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2, default=str) + "\n")
        console.print(f"Results written to {path}")
    failed = any(r["service"]["failed"] or r["verify"]["mismatches"] for r in results["backends"])
    failed = failed or bool(results.get("memory") and results["memory"]["service"]["failed"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
