#!/usr/bin/env python
"""Benchmark of duplicate detection at scale: publishing rules, single checks, find-all jobs, bulk qualify.

Run from the repository root:

    python bench/duplicates.py                          # 1,000,000 accounts + 1,000,000 contacts, SQLite and PostgreSQL
    python bench/duplicates.py --records 20000          # a quick run, about a minute per backend
    python bench/duplicates.py --qualify-leads 20000    # bulk qualify with detection on, off, and the raw floor

What it does per backend (see bench/README.md, section "Duplicate detection", for the details):

1. creates a fresh database, migrates it, sets up the organisation (which publishes the out-of-box
   rules on empty tables) and unpublishes the account and contact rules;
2. bulk-loads N accounts and N contacts with planted duplicates (Core executemany on SQLite,
   COPY on PostgreSQL), without match codes;
3. publishes the seven out-of-box account and contact rules again, one at a time, with
   ``leadflow.duplicates.rules.publish_rule``: each publication codes the N records (timed);
4. times single duplicate checks (``leadflow.duplicates.detection.check_record``) of new records,
   half of them duplicates of stored ones, against the raw-driver floor: the indexed lookup of the
   same codes in ``duplicate_match_codes`` by (rule_id, code);
5. finds all duplicate sets of each table with ``leadflow.duplicates.scan`` (``start_job``, ``run_job``).

Every phase runs in its own subprocess so that memory figures do not mix.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

# bench/qualify.py: its lead data, helpers and raw-driver qualify floor are reused here.
import qualify as qualify_bench
from qualify import (
    DEFAULT_POSTGRES_URL,
    RESULT_MARK,
    RESULTS_DIR,
    Run,
    current_rss_mb,
    emit,
    ensure_actor,
    peak_rss_mb,
    percentile,
    pg_connect,
    sqlite_path,
)

# Targets of the performance issue. They are reported, never asserted by tests.
TARGET_CHECK_MS = 5.0  # p50 and p99 of one check
TARGET_PUBLISH_SECONDS = 60.0
TARGET_SCAN_SECONDS = 120.0
TARGET_QUALIFY_LEADS_PER_S = 1500.0  # SQLite, detection on

DUPLICATE_SHARE = 0.05  # share of loaded records that duplicate an earlier one
CHECK_DUPLICATE_SHARE = 0.5  # share of checked new records that duplicate a stored one
WARMUP_CHECKS = 50
LOAD_CHUNK = 5000
TABLES = ("accounts", "contacts")
FIRST_CREATED = datetime(2024, 1, 1, 8, 0, tzinfo=UTC)


# ==============================================================================================
# Realistic, varied, deterministic accounts and contacts
# ==============================================================================================

FIRST_NAMES = tuple(
    dict.fromkeys(
        (
            *qualify_bench.FIRST_NAMES,
            "José",
            "María",
            "Álvaro",
            "Andrés",
            "Inés",
            "Raúl",
            "Rubén",
            "Sergio",
            "Irene",
            "Nuria",
            "Pilar",
            "Rocío",
            "Begoña",
            "Íñigo",
            "Jesús",
            "Ángel",
            "Óscar",
            "Adrián",
            "Ramón",
            "Joaquín",
            "Francisco",
            "Antonio",
            "Manuel",
            "David",
            "Daniel",
            "Alejandro",
            "Paula",
            "Andrea",
            "Claudia",
            "Cristina",
            "Beatriz",
            "Isabel",
            "Mónica",
            "Silvia",
            "Teresa",
            "Verónica",
            "Noé",
            "Gaël",
            "Anaïs",
            "Clément",
            "Jürgen",
            "Søren",
            "Åsa",
            "Zoltán",
            "Renée",
            "Agnès",
            "Jérôme",
            "Frédéric",
            "Mathilde",
            "Björk",
        )
    )
)
LAST_NAMES = tuple(
    dict.fromkeys(
        (
            *qualify_bench.LAST_NAMES,
            "Rodríguez",
            "González",
            "Hernández",
            "Díaz",
            "Moreno",
            "Muñoz",
            "Álvarez",
            "Romero",
            "Alonso",
            "Gutiérrez",
            "Navarro",
            "Torres",
            "Domínguez",
            "Vázquez",
            "Ramos",
            "Gil",
            "Ramírez",
            "Serrano",
            "Blanco",
            "Molina",
            "Morales",
            "Suárez",
            "Ortega",
            "Delgado",
            "Castro",
            "Ortiz",
            "Rubio",
            "Marín",
            "Sanz",
            "Núñez",
            "Iglesias",
            "Medina",
            "Garrido",
            "Cortés",
            "Castillo",
            "Lozano",
            "Guerrero",
            "Cano",
            "Prieto",
            "Méndez",
            "Cruz",
            "Calvo",
            "Gallego",
            "Vidal",
            "León",
            "Márquez",
            "Herrera",
            "Peña",
            "Flores",
            "Cabrera",
            "Campos",
            "Vega",
            "Fuentes",
            "Carrasco",
            "Caballero",
            "Reyes",
            "Nieto",
            "Aguilar",
            "Pascual",
            "Santana",
            "Herrero",
            "Montero",
            "Lorenzo",
            "Hidalgo",
            "Giménez",
            "Ibáñez",
            "Ferrer",
            "Durán",
            "Sáez",
            "Benítez",
            "Mora",
            "Vicente",
            "Vargas",
            "Arias",
            "Carmona",
            "Crespo",
            "Román",
            "Pastor",
            "Soto",
            "Velasco",
            "Moya",
            "Soler",
            "Parra",
            "Esteban",
            "Bravo",
            "Gallardo",
            "Rojas",
            "Lefebvre",
            "Moreau",
            "Girard",
            "Rousseau",
            "Fontaine",
            "Chevalier",
        )
    )
)
BRAND_SYLLABLES = (
    "ver",
    "an",
    "tis",
    "kor",
    "lum",
    "ex",
    "na",
    "del",
    "ri",
    "mo",
    "sa",
    "tec",
    "al",
    "on",
    "bra",
    "cor",
    "di",
    "fin",
    "gal",
    "har",
    "in",
    "jo",
    "ka",
    "lo",
    "mar",
    "nor",
    "pel",
    "qui",
    "ros",
    "sol",
    "tor",
    "ul",
    "vi",
    "wen",
    "xa",
    "yor",
    "zen",
    "bel",
    "cas",
    "dor",
    "el",
    "fa",
    "gre",
    "hel",
    "is",
    "lan",
    "mi",
    "nu",
    "or",
    "pra",
)
COMPANY_CORES = (
    *qualify_bench.COMPANY_CORES,
    "Logística",
    "Energía",
    "Ingeniería",
    "Construcciones",
    "Alimentación",
    "Óptica",
    "Farmacéutica",
    "Técnicas",
    "Distribución",
    "Inversiones",
    "Consultoría",
    "Diseño",
    "Química",
    "Mecánica",
    "Hostelería",
    "Maquinaria",
    "Café",
    "Électronique",
)
COMPANY_SUFFIXES = qualify_bench.COMPANY_SUFFIXES
# Country of a place (bench/qualify.py's PLACES) -> its phone region and the ending of its web domains.
REGIONS = {
    "Spain": ("ES", "es"),
    "Germany": ("DE", "de"),
    "France": ("FR", "fr"),
    "Italy": ("IT", "it"),
    "United Kingdom": ("GB", "co.uk"),
    "Ireland": ("IE", "ie"),
    "Netherlands": ("NL", "nl"),
    "Sweden": ("SE", "se"),
    "United States": ("US", "com"),
    "Canada": ("CA", "ca"),
    "Mexico": ("MX", "com.mx"),
    "Brazil": ("BR", "com.br"),
    "Japan": ("JP", "co.jp"),
}
# Spain-centred, as the organisation's default phone region (ES) assumes: Madrid and Barcelona weigh most.
PLACE_WEIGHTS = tuple(6 if place[3] == "Spain" else 1 for place in qualify_bench.PLACES)
JOB_TITLES = qualify_bench.JOB_TITLES
MAIL_BOXES = ("info", "contact", "hello", "sales", "office", "admin")


def ascii_slug(text: str) -> str:
    return qualify_bench._ascii_slug(text)


def make_rng(seed: int, kind: str, n: int) -> random.Random:
    """The generator of record ``n`` of one kind: any record can be rebuilt without the others."""
    return random.Random(f"{seed}:{kind}:{n}")


def record_id(seed: int, kind: str, n: int) -> uuid.UUID:
    digest = hashlib.blake2b(f"{seed}:{kind}:{n}".encode(), digest_size=16).digest()
    return uuid.UUID(bytes=digest, version=4)


def company_name(rng: random.Random) -> tuple[str, str]:
    """A company name and the brand its web domain is made of: '<Brand> <Core> <legal form>' or '<Brand> <legal form>'."""
    syllables = 2 if rng.random() < 0.15 else 3
    brand = "".join(rng.choice(BRAND_SYLLABLES) for _ in range(syllables)).capitalize()
    core = rng.choice(COMPANY_CORES) if rng.random() < 0.75 else None
    name = " ".join(part for part in (brand, core, rng.choice(COMPANY_SUFFIXES)) if part)
    return name, ascii_slug(f"{brand}{core or ''}")


def phone_number(rng: random.Random, dialling: str) -> str:
    lead = rng.choice("96") if dialling == "+34" else str(rng.randrange(2, 10))
    return f"{dialling} {lead}{rng.randrange(10, 100)} {rng.randrange(100, 1000)} {rng.randrange(100, 1000)}"


def place(rng: random.Random) -> tuple[str, ...]:
    return rng.choices(qualify_bench.PLACES, weights=PLACE_WEIGHTS)[0]


def address(rng: random.Random, where: tuple[str, ...]) -> dict[str, Any]:
    city, state, postal, country, _dialling, street = where
    return {
        "address_line1": f"{street} {rng.randrange(1, 250)}",
        "address_line2": f"Floor {rng.randrange(1, 12)}" if rng.random() < 0.3 else None,
        "address_line3": None,
        "address_city": city,
        "address_state_or_province": state,
        "address_postal_code": qualify_bench._digits(rng, postal),
        "address_country": country,
    }


def account_entity(seed: int, n: int) -> dict[str, Any]:
    """The comparable and descriptive values of account ``n`` as first entered (before any planted copy)."""
    rng = make_rng(seed, "account", n)
    planted = rng.random()  # the first draw decides whether the record is a planted copy (is_planted)
    where = place(rng)
    name, brand = company_name(rng)
    domain = f"{brand}-{n:x}.{REGIONS[where[3]][1]}"
    return {
        "name": name,
        "website": f"https://www.{domain}" if rng.random() < 0.8 else None,
        "telephone": phone_number(rng, where[4]) if rng.random() < 0.9 else None,
        "email": f"{rng.choice(MAIL_BOXES)}@{domain}" if rng.random() < 0.7 else None,
        **address(rng, where),
        "_domain": domain,
        "_dialling": where[4],
        "_planted": planted,
        "_created": rng.randrange(0, 700 * 24 * 3600),
    }


def contact_entity(seed: int, n: int, accounts: int) -> dict[str, Any]:
    """The values of contact ``n`` as first entered: a person working for one of the accounts."""
    rng = make_rng(seed, "contact", n)
    planted = rng.random()  # the first draw decides whether the record is a planted copy (is_planted)
    account = rng.randrange(accounts)
    employer = account_entity(seed, account)
    where = place(rng) if rng.random() < 0.2 else None
    first = rng.choice(FIRST_NAMES) if rng.random() < 0.95 else None
    last = rng.choice(LAST_NAMES)
    if rng.random() < 0.6:  # two surnames, as in Spain
        last = f"{last} {rng.choice(LAST_NAMES)}"
    local = ".".join(ascii_slug(part) for part in (first, last) if part)
    dialling = where[4] if where else employer["_dialling"]
    values = {
        "account_id": record_id(seed, "account", account),
        "first_name": first,
        "last_name": last,
        "job_title": rng.choice(JOB_TITLES),
        "email": f"{local}@{employer['_domain']}" if rng.random() < 0.9 else None,
        "business_phone": phone_number(rng, dialling) if rng.random() < 0.8 else None,
        "mobile_phone": phone_number(rng, dialling) if rng.random() < 0.4 else None,
        "_planted": planted,
        "_created": rng.randrange(0, 700 * 24 * 3600),
    }
    if where is None:
        values.update({key: employer[key] for key in qualify_bench.ADDRESS})
    else:
        values.update(address(rng, where))
    return values


COMPARED = {
    "accounts": ("name", "email", "telephone", "website"),
    "contacts": ("first_name+last_name", "email", "business_phone"),
}


def is_planted(seed: int, kind: str, n: int, share: float = DUPLICATE_SHARE) -> bool:
    return n > 0 and make_rng(seed, kind, n).random() < share


def entity(seed: int, kind: str, n: int, records: int) -> dict[str, Any]:
    return account_entity(seed, n) if kind == "account" else contact_entity(seed, n, records)


def _linkable(table: str, original: dict[str, Any]) -> list[str]:
    """The compared fields ``original`` has a value in (a copy of a blank links nothing)."""
    return [field for field in COMPARED[table] if all(original[column] for column in field.split("+"))]


def _copy_fields(rng: random.Random, table: str, values: dict[str, Any], original: dict[str, Any]) -> list[str]:
    """Give ``values`` some of the compared fields of ``original`` (at least one); return which."""
    present = _linkable(table, original)
    fields = [field for field in present if rng.random() < 0.6] or [rng.choice(present)]
    for field in fields:
        for column in field.split("+"):
            value = original[column]
            if isinstance(value, str) and column in ("name", "first_name", "last_name") and rng.random() < 0.2:
                value = value.upper()  # typed in capitals: the same under a case-insensitive rule
            values[column] = value
    return fields


def record(
    seed: int, kind: str, n: int, records: int, *, share: float = DUPLICATE_SHARE
) -> tuple[dict[str, Any], int | None]:
    """Record ``n`` of a table as stored: its own entity, or a planted copy of an earlier original.

    A planted record copies one or more of the compared fields of an earlier record that is not
    itself planted and has such a field; its other fields are its own. Returns the values and the
    index of the copied record (None when the record is an original).
    """
    values = entity(seed, kind, n, records)
    if n == 0 or values["_planted"] >= share:
        return values, None
    table = f"{kind}s"
    rng = make_rng(seed, f"{kind}-copy", n)
    for partner in range(rng.randrange(min(n, records)), -1, -1):
        if is_planted(seed, kind, partner):
            continue
        original = entity(seed, kind, partner, records)
        if _linkable(table, original):
            _copy_fields(rng, table, values, original)
            return values, partner
    return values, None


def stored_row(seed: int, kind: str, n: int, records: int, owner: dict[str, Any]) -> tuple[dict[str, Any], int | None]:
    """Record ``n`` with every column of its table, as the load phase writes it."""
    from leadflow.core.names import compose_full_name

    values, partner = record(seed, kind, n, records)
    created = FIRST_CREATED + timedelta(seconds=values["_created"])
    values = {key: value for key, value in values.items() if not key.startswith("_")}
    row = {
        "id": record_id(seed, kind, n),
        **values,
        "description": None,
        "currency_id": None,
        "originating_lead_id": None,
        "master_id": None,
        "state": "active",
        **owner,
        "row_version": 1,
        "created_at": created,
        "modified_at": created,
    }
    if kind == "account":
        row["primary_contact_id"] = None
    else:
        row["full_name"] = compose_full_name(values["first_name"], values["last_name"])
        row["website"] = None
    return row, partner


def check_values(seed: int, table: str, index: int, records: int) -> dict[str, Any]:
    """The values of a new record typed in for a check: half of them duplicate a stored record."""
    kind = table[:-1]
    # Records past the loaded ones; the ones drawn as planted copy fields of a stored original.
    values, _ = record(seed, kind, records + index, records, share=CHECK_DUPLICATE_SHARE)
    return {key: value for key, value in values.items() if not key.startswith("_") and key != "account_id"}


# ==============================================================================================
# Phases
# ==============================================================================================


def _open(url: str) -> tuple[Any, Any]:
    from leadflow.core.uow import Database

    database = Database(url)
    return database, ensure_actor(database)


def phase_setup(url: str) -> dict[str, Any]:
    """Migrate, set up the organisation, and unpublish the out-of-box account and contact rules."""
    from leadflow.bootstrap import ensure_organisation
    from leadflow.core.migrate import upgrade
    from leadflow.core.uow import Database
    from leadflow.duplicates.models import DetectionTable, RuleState
    from leadflow.duplicates.rules import list_rules, unpublish_rule

    database = Database(url)
    upgrade(database.engine)
    with database.unit_of_work() as uow:
        ensure_organisation(uow=uow, base_currency="EUR")
        uow.commit()
    actor = ensure_actor(database)
    rules = []
    with database.unit_of_work() as uow:
        for rule in list_rules(uow.session):
            if (
                rule.base_table in (DetectionTable.ACCOUNTS, DetectionTable.CONTACTS)
                and rule.state is RuleState.PUBLISHED
            ):
                unpublish_rule(rule.id, uow=uow, actor=actor)
                rules.append({"id": str(rule.id), "name": rule.name, "table": rule.base_table.value})
        uow.commit()
    database.dispose()
    return {"rules": rules}


def phase_load(url: str, records: int, seed: int) -> dict[str, Any]:
    """Bulk-load ``records`` accounts then ``records`` contacts, with no match codes."""
    from sqlalchemy import select

    from leadflow.customers.models import Account, Contact
    from leadflow.security.models import User

    database, actor = _open(url)
    with database.unit_of_work(read_only=True) as uow:
        user = uow.session.get(User, actor.user_id)
        owner = {
            "owner_user_id": user.id,
            "owner_team_id": None,
            "owning_business_unit_id": user.business_unit_id,
            "created_by_id": user.id,
            "modified_by_id": user.id,
        }
        assert uow.session.scalar(select(Account.id).limit(1)) is None, "the database already holds accounts"
    postgresql = database.engine.dialect.name == "postgresql"
    result: dict[str, Any] = {"records": records, "method": "COPY" if postgresql else "Core executemany"}
    for kind, model in (("account", Account), ("contact", Contact)):
        table = model.__table__
        columns = [column.name for column in table.columns]
        planted = 0
        started = time.perf_counter()
        generating = 0.0

        def rows(kind: str = kind) -> Iterator[dict[str, Any]]:
            nonlocal planted, generating
            for n in range(records):
                before = time.perf_counter()
                row, partner = stored_row(seed, kind, n, records, owner)
                generating += time.perf_counter() - before
                planted += partner is not None
                yield row

        if postgresql:
            with pg_connect(url) as connection, connection.cursor() as cursor:
                with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows():
                        copy.write_row([row[name] for name in columns])
                connection.commit()
        else:
            chunk: list[dict[str, Any]] = []
            for row in rows():
                chunk.append(row)
                if len(chunk) >= LOAD_CHUNK:
                    with database.engine.begin() as connection:
                        connection.execute(table.insert(), chunk)
                    chunk.clear()
            if chunk:
                with database.engine.begin() as connection:
                    connection.execute(table.insert(), chunk)
        seconds = time.perf_counter() - started
        result[f"{kind}s"] = {
            "seconds": seconds,
            "generating_seconds": generating,
            "rows_per_s": records / seconds if seconds else None,
            "planted_duplicates": planted,
        }
    if postgresql:
        started = time.perf_counter()
        with pg_connect(url, autocommit=True) as connection:
            connection.execute("ANALYZE accounts")
            connection.execute("ANALYZE contacts")
        result["analyze_seconds"] = time.perf_counter() - started
    result["peak_rss_mb"] = peak_rss_mb()
    database.dispose()
    return result


def phase_publish(url: str, rule_id: str) -> dict[str, Any]:
    """Publish one rule over the loaded records and describe the codes it stored."""
    from leadflow.duplicates.rules import publish_rule

    database, actor = _open(url)
    rss_before = current_rss_mb()
    started = time.perf_counter()
    cpu_started = time.process_time()
    rule = publish_rule(uuid.UUID(rule_id), database=database, actor=actor)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    peak = peak_rss_mb()
    stats = code_stats(url, database.engine.dialect.name, uuid.UUID(rule_id))
    database.dispose()
    return {
        "rule": rule.name,
        "state": rule.state.value,
        "records": rule.publish_total,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "records_per_s": rule.publish_total / seconds if seconds else None,
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak,
        **stats,
    }


def code_stats(url: str, backend: str, rule_id: uuid.UUID) -> dict[str, Any]:
    """How many codes a rule stored and how they group: the candidate sets checks and scans meet."""
    sqlite = backend == "sqlite"
    mark = "?" if sqlite else "%s"
    key = rule_id.hex if sqlite else rule_id
    query = (
        "SELECT count(*), coalesce(sum(size), 0), coalesce(max(size), 0) FROM "
        f"(SELECT count(*) AS size FROM duplicate_match_codes WHERE rule_id = {mark} GROUP BY code HAVING count(*) > 1) g"
    )
    if sqlite:
        import sqlite3

        connection = sqlite3.connect(sqlite_path(url))
    else:
        connection = pg_connect(url)
    try:
        cursor = connection.cursor()
        cursor.execute(f"SELECT count(*) FROM duplicate_match_codes WHERE rule_id = {mark}", (key,))
        (codes,) = cursor.fetchone()
        cursor.execute(query, (key,))
        groups, grouped, largest = (int(value) for value in cursor.fetchone())  # sum() is a numeric on PostgreSQL
    finally:
        connection.close()
    return {"codes": codes, "shared_codes": groups, "records_sharing_a_code": grouped, "largest_code_group": largest}


def _check_samples(seed: int, table: str, count: int, records: int) -> list[dict[str, Any]]:
    return [check_values(seed, table, index, records) for index in range(count)]


def phase_check(url: str, records: int, checks: int, seed: int) -> dict[str, Any]:
    """Time single checks of new records, each in its own read-only unit of work, as a save would run it."""
    from leadflow.duplicates.detection import check_record

    database, actor = _open(url)
    result: dict[str, Any] = {}
    for table in TABLES:
        samples = _check_samples(seed, table, WARMUP_CHECKS + checks, records)
        total_ms: list[float] = []
        check_ms: list[float] = []
        cpu_ms: list[float] = []
        with_matches = 0
        match_count = 0
        for index, values in enumerate(samples):
            cpu_started = time.process_time()
            started = time.perf_counter()
            with database.unit_of_work(read_only=True) as uow:
                opened = time.perf_counter()
                matches = check_record(uow.session, table, values, actor=actor)
                checked = time.perf_counter()
            ended = time.perf_counter()
            cpu = time.process_time() - cpu_started
            if index < WARMUP_CHECKS:
                continue
            total_ms.append((ended - started) * 1000)
            check_ms.append((checked - opened) * 1000)
            # CPU time of this process: all of the work on SQLite, the client's share on PostgreSQL.
            cpu_ms.append(cpu * 1000)
            with_matches += bool(matches)
            match_count += len(matches)
        result[table] = {
            "checks": checks,
            "with_matches": with_matches,
            "matches": match_count,
            **_latency("unit", total_ms),
            **_latency("check", check_ms),
            **_latency("cpu", cpu_ms),
        }
    result["peak_rss_mb"] = peak_rss_mb()
    database.dispose()
    return result


def _latency(prefix: str, samples: list[float]) -> dict[str, float]:
    return {
        f"{prefix}_p50_ms": percentile(samples, 50),
        f"{prefix}_p95_ms": percentile(samples, 95),
        f"{prefix}_p99_ms": percentile(samples, 99),
        f"{prefix}_max_ms": max(samples),
    }


def phase_floor(url: str, records: int, checks: int, seed: int) -> dict[str, Any]:
    """The same checks as raw-driver lookups of their codes on (rule_id, code), with and without the candidate rows."""
    from leadflow.duplicates.detection import complete
    from leadflow.duplicates.engine import detection_rules

    database, _actor = _open(url)
    backend = database.engine.dialect.name
    sqlite = backend == "sqlite"
    mark = "?" if sqlite else "%s"
    plans: dict[str, list[list[tuple[Any, int]]]] = {}
    with database.unit_of_work(read_only=True) as uow:
        for table in TABLES:
            rules = detection_rules(uow.session, table)
            plans[table] = []
            for values in _check_samples(seed, table, WARMUP_CHECKS + checks, records):
                values = complete(table, values)
                lookups = []
                for rule in rules:
                    code = rule.code(values, "base")
                    if code is not None:
                        lookups.append((rule.id.hex if sqlite else rule.id, code))
                plans[table].append(lookups)
    database.dispose()
    if sqlite:
        import sqlite3

        connection = sqlite3.connect(sqlite_path(url), isolation_level=None)
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL", "busy_timeout=30000"):
            connection.execute(f"PRAGMA {pragma}")
    else:
        connection = pg_connect(url, autocommit=True)
    cursor = connection.cursor()
    result: dict[str, Any] = {}
    for table in TABLES:
        queries = {
            "lookup": f"SELECT record_id FROM duplicate_match_codes WHERE rule_id = {mark} AND code = {mark}",
            "rows": f"SELECT t.* FROM duplicate_match_codes m JOIN {table} t ON t.id = m.record_id "
            f"WHERE m.rule_id = {mark} AND m.code = {mark}",
        }
        result[table] = {"checks": checks}
        for name, query in queries.items():
            timings: list[float] = []
            found = 0
            for index, lookups in enumerate(plans[table]):
                started = time.perf_counter()
                hits = 0
                for parameters in lookups:
                    cursor.execute(query, parameters)
                    hits += len(cursor.fetchall())
                elapsed = (time.perf_counter() - started) * 1000
                if index >= WARMUP_CHECKS:
                    timings.append(elapsed)
                    found += bool(hits)
            result[table].update({f"{name}_with_hits": found, **_latency(name, timings)})
    connection.close()
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def phase_scan(url: str, table: str) -> dict[str, Any]:
    """Find all duplicate sets of one table with a find-all job."""
    try:
        from leadflow.duplicates.scan import run_job, start_job
    except ImportError as error:
        return {"available": False, "reason": str(error)}
    from leadflow.duplicates.models import DuplicateJob

    database, actor = _open(url)
    rss_before = current_rss_mb()
    started = time.perf_counter()
    cpu_started = time.process_time()
    job = start_job(table, database=database, actor=actor)
    queued = time.perf_counter()
    run_job(job.id, database=database, progress=None)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    with database.unit_of_work(read_only=True) as uow:
        done = uow.session.get(DuplicateJob, job.id)
        outcome = {
            "state": done.state.value,
            "sets": done.set_count,
            "records_in_sets": done.record_count,
            "error": done.error,
        }
    database.dispose()
    return {
        "available": True,
        "table": table,
        "seconds": seconds,
        "start_seconds": queued - started,
        "cpu_seconds": cpu_seconds,
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
        **outcome,
    }


def phase_size(url: str) -> dict[str, Any]:
    """Size of the database on disk, and of the match-code table with its indexes."""
    from leadflow.core.uow import Database

    database = Database(url)
    if database.engine.dialect.name == "sqlite":
        path = Path(sqlite_path(url))
        size = sum(
            Path(f"{path}{suffix}").stat().st_size for suffix in ("", "-wal") if Path(f"{path}{suffix}").exists()
        )
        codes = None
    else:
        with pg_connect(url) as connection:
            size = connection.execute("SELECT pg_database_size(current_database())").fetchone()[0]
            codes = connection.execute("SELECT pg_total_relation_size('duplicate_match_codes')").fetchone()[0]
    database.dispose()
    return {"database_mb": size / 2**20, "match_codes_mb": codes / 2**20 if codes is not None else None}


# --- bulk qualify with detection ------------------------------------------------------------------

QUALIFY_MODES = {
    # name: (duplicate_resolution, suppress_duplicate_detection); see bench/README.md
    "default": (None, False),
    "ignore": ("ignore", False),
    "suppressed": (None, True),
    "distinct": (None, False),  # on leads made distinct first (phase_distinct)
}
# The leads of bench/qualify.py (its default seed), so that both benchmarks qualify the same leads.
QUALIFY_SEED = qualify_bench.parse_args([]).seed


def phase_distinct(url: str) -> dict[str, Any]:
    """Give every lead its own company (name and website) and surname pair, so that few are duplicates.

    The leads of bench/qualify.py share 6,000 company names and 2,500 first and last names: with
    detection on, most of them meet an account or contact created from an earlier lead.
    """
    from sqlalchemy import bindparam, select, update

    from leadflow.core.names import compose_full_name
    from leadflow.core.uow import Database
    from leadflow.leads.models import Lead

    database = Database(url)
    syllables, surnames = len(BRAND_SYLLABLES), len(LAST_NAMES)
    with database.engine.begin() as connection:
        rows = connection.execute(select(Lead.id, Lead.first_name).order_by(Lead.id)).all()
        changes = []
        for n, (lead_id, first_name) in enumerate(rows):
            brand = "".join(BRAND_SYLLABLES[(n // syllables**i) % syllables] for i in range(3)).capitalize()
            company = f"{brand} {COMPANY_CORES[n % len(COMPANY_CORES)]} {COMPANY_SUFFIXES[n % len(COMPANY_SUFFIXES)]}"
            last_name = f"{LAST_NAMES[n % surnames]} {LAST_NAMES[(n // surnames) % surnames]}"
            changes.append(
                {
                    "lead_id": lead_id,
                    "company_name": company,
                    "website": f"https://www.{ascii_slug(company)}.example.com",
                    "last_name": last_name,
                    "full_name": compose_full_name(first_name, last_name),
                }
            )
        statement = (
            update(Lead.__table__)
            .where(Lead.__table__.c.id == bindparam("lead_id"))
            .values({name: bindparam(name) for name in ("company_name", "website", "last_name", "full_name")})
        )
        connection.execute(statement, changes)
    database.dispose()
    return {"leads": len(rows)}


def phase_qualify(url: str, mode: str, batch_size: int, profile_path: str | None) -> dict[str, Any]:
    """Qualify every lead with ``qualify_leads``, the detection options of ``mode``."""
    from leadflow.leads.bulk import qualify_leads
    from leadflow.leads.schemas import QualifyOptions

    resolution, suppress = QUALIFY_MODES[mode]
    database, actor = _open(url)
    options = QualifyOptions(duplicate_resolution=resolution, suppress_duplicate_detection=suppress)
    ok = failed = 0
    errors: dict[str, int] = {}
    profiler = None
    if profile_path:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    cpu_started = time.process_time()
    for outcome in qualify_leads(
        qualify_bench.stream_lead_ids(database, page=batch_size),
        options,
        database=database,
        actor=actor,
        batch_size=batch_size,
    ):
        if outcome.ok:
            ok += 1
        else:
            failed += 1
            key = f"{outcome.error.code}: {outcome.error.message}"
            errors[key] = errors.get(key, 0) + 1
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile_path)
    database.dispose()
    return {
        "mode": mode,
        "ok": ok,
        "failed": failed,
        "errors": errors,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "leads_per_s": (ok + failed) / seconds if seconds else None,
        "peak_rss_mb": peak_rss_mb(),
    }


# ==============================================================================================
# Parent: orchestration and report
# ==============================================================================================


def run_phase(phase: str, url: str, **options: Any) -> dict[str, Any]:
    """Run one phase in a fresh Python process and return what it emitted."""
    command = [sys.executable, str(Path(__file__).resolve()), "--phase", phase, "--url", url]
    for key, value in options.items():
        if value is not None:
            command += [f"--{key.replace('_', '-')}", str(value)]
    load_before = os.getloadavg()[0]
    completed = subprocess.run(command, check=False, stdout=subprocess.PIPE, text=True)
    lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if completed.returncode != 0 or not lines:
        sys.stdout.write(completed.stdout)
        raise RuntimeError(f"phase {phase} failed (exit code {completed.returncode})")
    result = json.loads(lines[-1][len(RESULT_MARK) :])
    # Other work on the machine slows a phase down: keep the 1-minute load average around it.
    result["load_average"] = [load_before, os.getloadavg()[0]]
    return result


def bench_backend(run: Run, backend: str, console: Any) -> dict[str, Any]:
    args = run.args
    result: dict[str, Any] = {"backend": backend, "records": args.records, "load_average_before": os.getloadavg()}
    with run.database(backend, "duplicates") as url:
        console.log(f"[{backend}] setting up; out-of-box account and contact rules unpublished")
        setup = run_phase("setup", url)
        console.log(f"[{backend}] loading {args.records:,} accounts and {args.records:,} contacts")
        result["load"] = run_phase("load", url, records=args.records, seed=args.seed)
        console.log(
            f"[{backend}] loaded: accounts {result['load']['accounts']['rows_per_s']:,.0f} rows/s, "
            f"contacts {result['load']['contacts']['rows_per_s']:,.0f} rows/s"
        )
        result["publish"] = []
        for rule in setup["rules"]:
            published = run_phase("publish", url, rule_id=rule["id"])
            published["table"] = rule["table"]
            result["publish"].append(published)
            console.log(f"[{backend}] published {rule['name']!r} in {published['seconds']:.1f} s")
        if backend == "postgresql":
            started = time.perf_counter()
            with pg_connect(url, autocommit=True) as connection:
                connection.execute("ANALYZE duplicate_match_codes")
            result["analyze_codes_seconds"] = time.perf_counter() - started
        result["size"] = run_phase("size", url)
        if args.checks:
            console.log(f"[{backend}] {args.checks:,} single checks per table")
            result["check"] = run_phase("check", url, records=args.records, checks=args.checks, seed=args.seed)
            result["floor"] = run_phase("floor", url, records=args.records, checks=args.checks, seed=args.seed)
            for table in TABLES:
                console.log(
                    f"[{backend}] {table}: check p50 {result['check'][table]['unit_p50_ms']:.2f} ms, "
                    f"floor p50 {result['floor'][table]['lookup_p50_ms']:.2f} ms"
                )
        result["scan"] = []
        if not args.no_scan:
            for table in TABLES:
                console.log(f"[{backend}] finding all duplicate sets of {table}")
                scanned = run_phase("scan", url, table=table)
                result["scan"].append({"table": table, **scanned})
                if not scanned["available"]:
                    console.log(f"[{backend}] find-all not measured: {scanned['reason']}")
                    break
                console.log(f"[{backend}] {table}: {scanned['sets']:,} sets in {scanned['seconds']:.1f} s")
    result["load_average_after"] = os.getloadavg()
    return result


def bench_qualify(run: Run, backend: str, console: Any) -> dict[str, Any]:
    """Bulk qualify the same leads with detection on (as is, and ignoring warnings), suppressed, and the floor."""
    args = run.args
    count = args.qualify_leads
    result: dict[str, Any] = {"backend": backend, "leads": count, "batch_size": args.batch_size, "modes": {}}
    for mode in QUALIFY_MODES:
        with run.database(backend, f"qualify_{mode}") as url:
            created = qualify_bench_phase("create", url, count=count, seed=QUALIFY_SEED)
            if mode == "distinct":
                run_phase("distinct", url)
            profile = None
            if args.profile:
                RESULTS_DIR.mkdir(parents=True, exist_ok=True)
                profile = str(
                    RESULTS_DIR / f"duplicates-qualify-{backend}-{mode}-{datetime.now(UTC):%Y%m%dT%H%M%S}.pstats"
                )
            outcome = run_phase("qualify", url, mode=mode, batch_size=args.batch_size, profile_path=profile)
            result["modes"][mode] = {**outcome, "create_leads_per_s": created["leads_per_s"]}
            console.log(
                f"[{backend}] qualify ({mode}): {outcome['leads_per_s']:,.0f} leads/s, {outcome['failed']:,} refused"
            )
    with run.database(backend, "qualify_floor") as url:
        qualify_bench_phase("create", url, count=count, seed=QUALIFY_SEED)
        result["floor"] = qualify_bench_phase("floor", url, backend=backend, batch_size=args.batch_size)
        console.log(f"[{backend}] qualify floor: {result['floor']['leads_per_s']:,.0f} leads/s")
    return result


def qualify_bench_phase(phase: str, url: str, **options: Any) -> dict[str, Any]:
    """A phase of bench/qualify.py (lead creation, the raw-driver floor) in its own process."""
    return qualify_bench.run_phase(phase, url, **options)


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
    )
    targets = Table(title="Targets")
    for name in ("target", "measured", "result"):
        targets.add_column(name)
    for r in results["backends"]:
        backend, load = r["backend"], r["load"]
        table = Table(title=f"{backend}: {r['records']:,} accounts + {r['records']:,} contacts")
        for name in ("step", "seconds", "rows/s", "peak RSS MB", "detail"):
            table.add_column(name, justify="left" if name in ("step", "detail") else "right")
        for kind in TABLES:
            loaded = load[kind]
            table.add_row(
                f"load {kind} ({load['method']})",
                _fmt(loaded["seconds"], ",.1f"),
                _fmt(loaded["rows_per_s"]),
                _fmt(load["peak_rss_mb"]),
                f"{loaded['planted_duplicates']:,} planted duplicates; generating {loaded['generating_seconds']:.1f} s",
            )
        for published in r["publish"]:
            table.add_row(
                f"publish {published['rule']!r}",
                _fmt(published["seconds"], ",.1f"),
                _fmt(published["records_per_s"]),
                _fmt(published["peak_rss_mb"]),
                f"{published['codes']:,} codes; {published['shared_codes']:,} shared by "
                f"{published['records_sharing_a_code']:,} records (largest {published['largest_code_group']:,})",
            )
        for scanned in r["scan"]:
            if scanned["available"]:
                table.add_row(
                    f"find all: {scanned['table']}",
                    _fmt(scanned["seconds"], ",.1f"),
                    _fmt(r["records"] / scanned["seconds"]),
                    _fmt(scanned["peak_rss_mb"]),
                    f"{scanned['state']}: {scanned['sets']:,} sets, {scanned['records_in_sets']:,} records",
                )
        console.print(table)
        console.print(
            f"{backend}: database {r['size']['database_mb']:,.0f} MB"
            + (f", duplicate_match_codes {r['size']['match_codes_mb']:,.0f} MB" if r["size"]["match_codes_mb"] else "")
        )
        if "check" in r:
            checks = Table(title=f"{backend}: single duplicate checks of new records (ms)")
            for name in (
                "table",
                "checks",
                "with matches",
                "check p50",
                "check p99",
                "unit of work p50",
                "unit of work p99",
                "CPU p50",
                "CPU p99",
                "floor lookup p50",
                "floor lookup p99",
                "floor + rows p50",
                "floor + rows p99",
                "peak RSS MB",
            ):
                checks.add_column(name, justify="left" if name == "table" else "right")
            for kind in TABLES:
                c, f = r["check"][kind], r["floor"][kind]
                checks.add_row(
                    kind,
                    f"{c['checks']:,}",
                    f"{c['with_matches']:,}",
                    _fmt(c["check_p50_ms"], ".2f"),
                    _fmt(c["check_p99_ms"], ".2f"),
                    _fmt(c["unit_p50_ms"], ".2f"),
                    _fmt(c["unit_p99_ms"], ".2f"),
                    _fmt(c["cpu_p50_ms"], ".2f"),
                    _fmt(c["cpu_p99_ms"], ".2f"),
                    _fmt(f["lookup_p50_ms"], ".3f"),
                    _fmt(f["lookup_p99_ms"], ".3f"),
                    _fmt(f["rows_p50_ms"], ".3f"),
                    _fmt(f["rows_p99_ms"], ".3f"),
                    _fmt(r["check"]["peak_rss_mb"]),
                )
                worst = max(c["unit_p50_ms"], c["unit_p99_ms"])
                targets.add_row(
                    f"{backend} {kind}: one check p50/p99 <= {TARGET_CHECK_MS:.0f} ms",
                    f"{c['unit_p50_ms']:.2f} / {c['unit_p99_ms']:.2f} ms",
                    _met(worst <= TARGET_CHECK_MS),
                )
            console.print(checks)
        slowest = max(r["publish"], key=lambda p: p["seconds"], default=None)
        if slowest is not None:
            targets.add_row(
                f"{backend}: publish a rule over {r['records']:,} records <= {TARGET_PUBLISH_SECONDS:.0f} s",
                f"slowest {slowest['seconds']:.1f} s ({slowest['rule']})",
                _met(slowest["seconds"] <= TARGET_PUBLISH_SECONDS),
            )
        for scanned in r["scan"]:
            if scanned["available"]:
                targets.add_row(
                    f"{backend}: find all duplicate sets in {scanned['table']} <= {TARGET_SCAN_SECONDS:.0f} s",
                    f"{scanned['seconds']:.1f} s",
                    _met(scanned["seconds"] <= TARGET_SCAN_SECONDS),
                )
            else:
                targets.add_row(
                    f"{backend}: find all duplicate sets <= {TARGET_SCAN_SECONDS:.0f} s", "not measured", "-"
                )
    for q in results.get("qualify", []):
        table = Table(title=f"{q['backend']}: bulk qualify {q['leads']:,} leads, batches of {q['batch_size']}")
        for name in ("run", "leads/s", "refused", "vs floor", "peak RSS MB"):
            table.add_column(name, justify="left" if name == "run" else "right")
        floor = q["floor"]["leads_per_s"]
        for mode, outcome in q["modes"].items():
            table.add_row(
                f"service, {mode}",
                _fmt(outcome["leads_per_s"]),
                f"{outcome['failed']:,}",
                f"{outcome['leads_per_s'] / floor:.2f}",
                _fmt(outcome["peak_rss_mb"]),
            )
        table.add_row("raw-driver floor (no detection)", _fmt(floor), "0", "1.00", _fmt(q["floor"]["peak_rss_mb"]))
        console.print(table)
        if q["backend"] == "sqlite":
            for mode, label in (("distinct", "distinct leads"), ("ignore", "warnings ignored")):
                speed = q["modes"][mode]["leads_per_s"]
                targets.add_row(
                    f"sqlite bulk qualify with detection on >= {TARGET_QUALIFY_LEADS_PER_S:,.0f} leads/s",
                    f"{speed:,.0f} leads/s ({label})",
                    _met(speed >= TARGET_QUALIFY_LEADS_PER_S),
                )
    if targets.row_count:
        console.print(targets)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark duplicate detection: publishing rules, single checks against the raw floor, "
        "find-all jobs, and bulk qualify with detection on.",
    )
    parser.add_argument(
        "--records", type=int, default=1_000_000, help="accounts, and contacts, to load per backend (default 1000000)"
    )
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--checks", type=int, default=1000, help="single checks timed per table; 0 skips (default 1000)"
    )
    parser.add_argument("--no-scan", action="store_true", help="skip the find-all jobs")
    parser.add_argument(
        "--qualify-leads",
        type=int,
        metavar="N",
        help="instead of the run above, bulk-qualify N leads of bench/qualify.py with detection on, ignored and off",
    )
    parser.add_argument(
        "--batch-size", type=int, default=500, help="leads per transaction with --qualify-leads (default 500)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="with --qualify-leads: cProfile each qualify run into bench/results/"
    )
    parser.add_argument("--seed", type=int, default=20261127, help="seed of the generated records")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="server to create the benchmark databases on (env LEADFLOW_BENCH_POSTGRES_URL)",
    )
    parser.add_argument("--label", help="a name for the code under test, stored with the results (e.g. a commit)")
    parser.add_argument(
        "--json", metavar="PATH", help="where to write the JSON results (default bench/results/duplicates-<time>.json)"
    )
    parser.add_argument("--no-json", action="store_true", help="do not write JSON results")
    # Internal: the phases that run in their own process.
    parser.add_argument(
        "--phase",
        choices=("setup", "load", "publish", "check", "floor", "scan", "size", "qualify", "distinct"),
        help=argparse.SUPPRESS,
    )
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--rule-id", help=argparse.SUPPRESS)
    parser.add_argument("--table", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=tuple(QUALIFY_MODES), help=argparse.SUPPRESS)
    parser.add_argument("--profile-path", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.records < 2 or args.checks < 0 or args.batch_size < 1:
        parser.error("--records must be at least 2, --checks not negative, --batch-size positive")
    if 0 < args.checks < 2:
        parser.error("--checks needs at least 2 samples for percentiles")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    phases = {
        "setup": lambda: phase_setup(args.url),
        "load": lambda: phase_load(args.url, args.records, args.seed),
        "publish": lambda: phase_publish(args.url, args.rule_id),
        "check": lambda: phase_check(args.url, args.records, args.checks, args.seed),
        "floor": lambda: phase_floor(args.url, args.records, args.checks, args.seed),
        "scan": lambda: phase_scan(args.url, args.table),
        "size": lambda: phase_size(args.url),
        "qualify": lambda: phase_qualify(args.url, args.mode, args.batch_size, args.profile_path),
        "distinct": lambda: phase_distinct(args.url),
    }
    if args.phase:
        emit(phases[args.phase]())
        return 0

    from rich.console import Console

    console = Console()
    if not console.is_terminal:  # keep the tables readable when the output goes to a file
        console = Console(width=190)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results: dict[str, Any] = {
        "environment": qualify_bench.environment(args, backends),
        "options": {
            k: v for k, v in vars(args).items() if k not in ("phase", "url", "rule_id", "table", "mode", "profile_path")
        },
        "backends": [],
    }
    run = Run(args)
    try:
        for backend in backends:
            if args.qualify_leads:
                results.setdefault("qualify", []).append(bench_qualify(run, backend, console))
            else:
                results["backends"].append(bench_backend(run, backend, console))
    finally:
        run.close()
    results["environment"]["load_average_at_end"] = os.getloadavg()
    report(results, console)
    if not args.no_json:
        path = Path(args.json) if args.json else RESULTS_DIR / f"duplicates-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2, default=str) + "\n")
        console.print(f"Results written to {path}")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
