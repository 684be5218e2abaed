#!/usr/bin/env python
"""Benchmark of lead import and export, each beside a raw-driver floor measured in the same run.

Run from the repository root:

    python bench/transfer.py                               # 20,000 leads on SQLite and PostgreSQL
    python bench/transfer.py --backend sqlite --rows 2000  # a quick look
    python bench/transfer.py --export-only --rows 200000   # export memory on SQLite (rows made by the raw insert)
    python bench/transfer.py --profile /tmp/import.txt --rows 2000   # py-spy of one import, top functions

What it does per backend (see bench/README.md, "Import and export"):

1. writes N leads as a UTF-8 CSV with English headers, ~5 % of them repeating an earlier row's e-mail;
2. imports it with duplicate detection on (``on_duplicate=skip``): ``leadflow.transfer.service.start_import``
   then ``leadflow.jobs.runner.execute`` with ``leadflow.tasks.HANDLERS``, as a worker runs the job;
3. imports it into a fresh database with detection for leads turned off in the organisation settings;
4. the floor: the same CSV read with the stdlib ``csv`` module and inserted with the raw DBAPI driver
   into ``leads``, 1,000 rows per transaction; its rows are compared with those of step 3;
5. exports the leads of step 3 through ``export_download(...).chunks`` and, as the floor, one ``SELECT``
   written with ``csv.writer``; the two files are compared byte for byte.

Every phase runs in a fresh Python process, so that its memory figures are its own.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import qualify as qualify_bench

BENCH_FILE = Path(__file__).resolve()
RESULT_MARK = qualify_bench.RESULT_MARK
DEFAULT_POSTGRES_URL = qualify_bench.DEFAULT_POSTGRES_URL
DEFAULT_SEED = 20261207
FLOOR_CHUNK = 1000
MAX_IMPORT_BYTES = 100 * 1024 * 1024  # leadflow's default Settings.max_import_bytes
SAMPLE_EVERY_S = 1.0

# Targets of the import/export issue. Reported beside the figures, never asserted.
TARGET_IMPORT_ON = 5_000.0
TARGET_IMPORT_OFF = 20_000.0
TARGET_EXPORT = 50_000.0
TARGET_RSS_MB = 300.0

# The file's columns: header, lead field.
CSV_COLUMNS = (
    ("Topic", "topic"),
    ("First Name", "first_name"),
    ("Last Name", "last_name"),
    ("Email", "email"),
    ("Company Name", "company_name"),
    ("Business Phone", "business_phone"),
    ("Job Title", "job_title"),
    ("City", "address_city"),
    ("Country/Region", "address_country"),
    ("Budget Amount", "budget_amount"),
    ("Lead Source", "lead_source"),
    ("Rating", "rating"),
)
CHOICE_FIELDS = ("lead_source", "rating")

peak_rss_mb = qualify_bench.peak_rss_mb
current_rss_mb = qualify_bench.current_rss_mb
emit = qualify_bench.emit
pg_connect = qualify_bench.pg_connect
sqlite_path = qualify_bench.sqlite_path


def _choice_labels() -> dict[str, dict[str, str]]:
    """Each choice field's stored values and their English labels, as the web app and exports show them."""
    from leadflow.http.labels import CHOICE_LABELS
    from leadflow.http.language import gettext
    from leadflow.leads.models import LeadSource, Rating

    return {
        field: {value: gettext("en", message) for value, message in CHOICE_LABELS[kind].items()}
        for field, kind in (("lead_source", LeadSource), ("rating", Rating))
    }


def _sqlite_connect(url: str) -> Any:
    """A raw sqlite3 connection set up as leadflow.core.db.make_engine sets up the application's."""
    import sqlite3

    connection = sqlite3.connect(sqlite_path(url), timeout=30, isolation_level=None)
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL", "busy_timeout=30000"):
        connection.execute(f"PRAGMA {pragma}")
    return connection


class Sampler:
    """Samples this process's RSS every second, with how many rows were done at that moment."""

    def __init__(self, progress: dict[str, int]) -> None:
        self.progress = progress
        self.samples: list[tuple[float, int, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = 0.0

    def __enter__(self) -> Sampler:
        self._started = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY_S):
            self.samples.append((time.perf_counter() - self._started, self.progress["rows"], current_rss_mb()))

    def summary(self, total: int) -> dict[str, Any]:
        """Min and max of the samples taken after the first 10 % of the rows, and all samples."""
        later = [rss for _t, rows, rss in self.samples if rows >= total * 0.1]
        # Rows/s over the first and the second half of the rows (does it slow down as the table grows?).
        halves: dict[str, float | None] = {"rows_per_s_first_half": None, "rows_per_s_second_half": None}
        middle = next(((t, rows) for t, rows, _rss in self.samples if rows >= total / 2), None)
        last = self.samples[-1] if self.samples else None
        if middle and last and middle[0] > 0 and last[0] > middle[0] and last[1] > middle[1]:
            halves["rows_per_s_first_half"] = middle[1] / middle[0]
            halves["rows_per_s_second_half"] = (last[1] - middle[1]) / (last[0] - middle[0])
        return {
            **halves,
            "rss_samples": len(self.samples),
            "rss_after_10pct_min_mb": min(later) if later else None,
            "rss_after_10pct_max_mb": max(later) if later else None,
            "rss_samples_mb": [[round(t, 1), rows, round(rss, 1)] for t, rows, rss in self.samples],
        }


# ==============================================================================================
# Phase: write the CSV
# ==============================================================================================


def phase_csv(path: str, rows: int, seed: int, duplicates: float) -> dict[str, Any]:
    """N leads from ``qualify.lead_data`` as a CSV; a share ``duplicates`` of the rows repeat an earlier
    row's e-mail exactly (detection's "Leads with the same email address" rule then has work)."""
    labels = _choice_labels()
    pick = random.Random(seed + 1)
    emails: list[str] = []
    seen: set[str] = set()
    repeated = 0
    started = time.perf_counter()
    with open(path, "w", encoding="utf-8", newline="") as target:
        writer = csv.writer(target)
        writer.writerow([header for header, _ in CSV_COLUMNS])
        for _lead_id, data in qualify_bench.lead_data(seed, rows):
            if emails and pick.random() < duplicates:
                data["email"] = pick.choice(emails)
            email = data["email"]
            if email:
                if email.lower() in seen:
                    repeated += 1
                else:
                    seen.add(email.lower())
                    emails.append(email)
            cells = []
            for _header, name in CSV_COLUMNS:
                value = data[name]
                if value is None:
                    cells.append("")
                elif name in CHOICE_FIELDS:
                    cells.append(labels[name][value])
                else:
                    cells.append(str(value))
            writer.writerow(cells)
    seconds = time.perf_counter() - started
    size = os.path.getsize(path)
    return {
        "phase": "csv",
        "rows": rows,
        "duplicate_emails": repeated,
        "bytes": size,
        "bytes_per_row": size / rows if rows else None,
        "seconds": seconds,
        "peak_rss_mb": peak_rss_mb(),
    }


# ==============================================================================================
# Phase: set up a database (migrate, organisation, administrator, detection on or off)
# ==============================================================================================


def phase_setup(url: str, detection: str) -> dict[str, Any]:
    from sqlalchemy import select

    from leadflow.bootstrap import ensure_organisation
    from leadflow.core.migrate import upgrade
    from leadflow.core.uow import Database
    from leadflow.duplicates.models import DetectionTable, DuplicateRule, RuleState
    from leadflow.organisation.service import get_settings, update_settings

    database = Database(url)
    started = time.perf_counter()
    upgrade(database.engine)
    with database.unit_of_work() as uow:
        ensure_organisation(uow=uow, base_currency="EUR")
        uow.commit()
    actor = qualify_bench.ensure_actor(database)
    if detection == "off":
        # What an administrator's "Detect duplicates: leads" checkbox does (Settings > Duplicate detection).
        with database.unit_of_work() as uow:
            update_settings({"detect_duplicates_leads": False}, uow=uow, actor=actor)
            uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        on = get_settings(uow.session).detects_duplicates_in("leads")
        rules = uow.session.scalars(
            select(DuplicateRule.name).where(
                DuplicateRule.state == RuleState.PUBLISHED, DuplicateRule.base_table == DetectionTable.LEADS
            )
        ).all()
    database.dispose()
    return {
        "phase": "setup",
        "detection_on": on,
        "lead_rules_published": sorted(rules),
        "seconds": time.perf_counter() - started,
    }


# ==============================================================================================
# Phase: import through the service, run as a job
# ==============================================================================================


def phase_import(url: str, csv_path: str, on_duplicate: str, rows: int) -> dict[str, Any]:
    from sqlalchemy import func, select

    from leadflow.core.uow import Database
    from leadflow.jobs.models import Job, JobItem
    from leadflow.jobs.runner import execute
    from leadflow.leads.models import Lead
    from leadflow.organisation.service import get_settings
    from leadflow.tasks import HANDLERS
    from leadflow.tasks import transfer as transfer_tasks
    from leadflow.transfer import service
    from leadflow.transfer.importing import OnDuplicate
    from leadflow.transfer.models import TransferTable

    database = Database(url)
    actor = qualify_bench.ensure_actor(database)
    with database.unit_of_work(read_only=True) as uow:
        detection_on = get_settings(uow.session).detects_duplicates_in("leads")
    progress = {"rows": 0}

    def import_handler(job: Any) -> Any:
        # The job's own handler; only its per-batch record call is watched, to tell the sampler how
        # many rows are done.
        record = job.record

        def counting(session: Any, first_position: int, items: Any) -> None:
            record(session, first_position, items)
            progress["rows"] = first_position + len(items)

        job.record = counting
        return transfer_tasks.run_import(job)

    handlers = {**HANDLERS, transfer_tasks.IMPORT: import_handler}
    rss_before = current_rss_mb()
    with Sampler(progress) as sampler:
        started = time.perf_counter()
        cpu_started = time.process_time()
        with open(csv_path, "rb") as source:
            job = service.start_import(
                source,
                service.ImportRequest(table=TransferTable.LEADS, on_duplicate=OnDuplicate(on_duplicate)),
                filename=Path(csv_path).name,
                media_type="text/csv",
                database=database,
                actor=actor,
                max_bytes=MAX_IMPORT_BYTES,
            )
        queued = time.perf_counter()
        state = execute(database, job.id, handlers)
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
    with database.unit_of_work(read_only=True) as uow:
        done = uow.session.get_one(Job, job.id)
        summary, error = dict(done.summary or {}), done.error
        outcomes = Counter(
            {
                f"{status}: {code or '-'}": count
                for status, code, count in uow.session.execute(
                    select(JobItem.status, JobItem.code, func.count())
                    .where(JobItem.job_id == job.id)
                    .group_by(JobItem.status, JobItem.code)
                )
            }
        )
        failures = [
            f"row {item.position + 2}: {item.code}: {item.message}"
            for item in uow.session.scalars(
                select(JobItem)
                .where(JobItem.job_id == job.id, JobItem.status == "failed")
                .order_by(JobItem.position)
                .limit(10)
            )
        ]
        leads = uow.session.scalar(select(func.count()).select_from(Lead))
    database.dispose()
    return {
        "phase": "import",
        "detection_on": detection_on,
        "on_duplicate": on_duplicate,
        "rows": rows,
        "state": str(getattr(state, "name", state)).lower(),
        "error": error,
        "created": summary.get("created", 0),
        "skipped": summary.get("skipped", 0),
        "failed": summary.get("failed", 0),
        "outcomes": dict(outcomes),
        "failures": failures,
        "leads_in_database": leads,
        "queue_seconds": queued - started,
        "seconds": seconds,
        "rows_per_s": rows / seconds if seconds else None,
        "cpu_seconds": cpu_seconds,
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
        **sampler.summary(rows),
    }


# ==============================================================================================
# Phase: the raw-driver floor of the import
# ==============================================================================================

# The columns a lead created from this file holds (see leadflow.leads.service.create_lead): the file's
# fields, the derived full name, the exchange rate and base amount (rate 1 without a currency), the owner
# and stamps of leadflow.security.ownership.create_owned, and the model's defaults.
FLOOR_COLUMNS = (
    "id",
    *(name for _header, name in CSV_COLUMNS),
    "full_name",
    "exchange_rate",
    "budget_amount_base",
    "owner_user_id",
    "owning_business_unit_id",
    "created_by_id",
    "modified_by_id",
    "merged",
    "state",
    "status_reason",
    "row_version",
    "created_at",
    "modified_at",
)
MONEY_FACTOR = Decimal(10) ** 4  # Money: a BIGINT count of 1/10,000 units
RATE_ONE = 10**10  # ScaledDecimal(10) of an exchange rate of 1


def phase_floor_import(url: str, csv_path: str, backend: str) -> dict[str, Any]:
    """The CSV read with ``csv`` and inserted with the raw driver, one executemany per 1,000 rows, each
    its own transaction, the values in the storage form SQLAlchemy gives them (see bench/qualify.py)."""
    sqlite = backend == "sqlite"
    mark = "?" if sqlite else "%s"
    # Labels to stored values, built before the clock starts (the service reads them the same way).
    labels = {field: {label: value for value, label in choices.items()} for field, choices in _choice_labels().items()}
    if sqlite:
        connection = _sqlite_connect(url)
        new_id = lambda: uuid.uuid4().hex  # noqa: E731
        stamp = lambda: datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # noqa: E731
        begin = "BEGIN IMMEDIATE"
    else:
        connection = pg_connect(url, autocommit=True)
        new_id = uuid.uuid4
        stamp = lambda: datetime.now(UTC)  # noqa: E731
        begin = "BEGIN"
    cursor = connection.cursor()
    cursor.execute("SELECT id, business_unit_id FROM users WHERE is_active ORDER BY created_at, id LIMIT 1")
    user_id, unit_id = cursor.fetchone()
    insert = f"INSERT INTO leads ({', '.join(FLOOR_COLUMNS)}) VALUES ({', '.join([mark] * len(FLOOR_COLUMNS))})"
    width = len(CSV_COLUMNS)
    i_first, i_last, i_budget = 1, 2, 9
    i_source, i_rating = 10, 11
    rss_before = current_rss_mb()
    inserted = 0
    started = time.perf_counter()
    cpu_started = time.process_time()
    with open(csv_path, encoding="utf-8", newline="") as source:
        reader = csv.reader(source)
        next(reader)
        chunk: list[tuple[Any, ...]] = []

        def flush() -> None:
            cursor.execute(begin)
            cursor.executemany(insert, chunk)
            cursor.execute("COMMIT")
            chunk.clear()

        for cells in reader:
            if len(cells) != width:
                raise RuntimeError(f"row {reader.line_num}: {len(cells)} cells")
            values: list[Any] = [cell.strip() or None for cell in cells]
            budget = values[i_budget]
            if budget is not None:
                budget = int(Decimal(budget).quantize(Decimal("0.0001")) * MONEY_FACTOR)
                values[i_budget] = budget
            if values[i_source] is not None:
                values[i_source] = labels["lead_source"][values[i_source]]
            if values[i_rating] is not None:
                values[i_rating] = labels["rating"][values[i_rating]]
            full_name = " ".join(part for part in (values[i_first], values[i_last]) if part)
            now = stamp()
            chunk.append(
                (
                    new_id(),
                    *values,
                    full_name,
                    RATE_ONE,
                    budget,
                    user_id,
                    unit_id,
                    user_id,
                    user_id,
                    False,
                    "open",
                    "new",
                    1,
                    now,
                    now,
                )
            )
            inserted += 1
            if len(chunk) >= FLOOR_CHUNK:
                flush()
        if chunk:
            flush()
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    connection.close()
    return {
        "phase": "floor_import",
        "rows": inserted,
        "seconds": seconds,
        "rows_per_s": inserted / seconds if seconds else None,
        "cpu_seconds": cpu_seconds,
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
    }


# ==============================================================================================
# Phase: export through the service, and its raw-driver floor
# ==============================================================================================


class DigestSink:
    """Where an export goes: nowhere, but counted and hashed (to compare the service's with the floor's)."""

    def __init__(self) -> None:
        self.bytes = 0
        self.digest = hashlib.sha256()

    def write(self, chunk: bytes) -> None:
        self.bytes += len(chunk)
        self.digest.update(chunk)


def phase_export(url: str, rows: int) -> dict[str, Any]:
    from leadflow.core.uow import Database
    from leadflow.transfer import service
    from leadflow.transfer.models import TransferTable

    database = Database(url)
    actor = qualify_bench.ensure_actor(database)
    progress = {"rows": 0}
    sink = DigestSink()
    rss_before = current_rss_mb()
    with Sampler(progress) as sampler:
        started = time.perf_counter()
        cpu_started = time.process_time()
        download = service.export_download(
            service.ExportRequest(table=TransferTable.LEADS), "csv", database=database, actor=actor, language="en"
        )
        for chunk in download.chunks:
            sink.write(chunk)
            progress["rows"] += chunk.count(b"\r\n")  # a cell may hold a line break: an estimate, for the sampler
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
    database.dispose()
    return {
        "phase": "export",
        "rows": rows,
        "bytes": sink.bytes,
        "sha256": sink.digest.hexdigest(),
        "seconds": seconds,
        "rows_per_s": rows / seconds if seconds else None,
        "cpu_seconds": cpu_seconds,
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
        **sampler.summary(rows),
    }


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def phase_floor_export(url: str, backend: str, rows: int) -> dict[str, Any]:
    """One SELECT of the exported columns (owner e-mail, currency code and linked names by LEFT JOIN), in the
    export's order (newest first), written with csv.writer as the export writes its cells."""
    from leadflow.http.labels import CHOICE_LABELS
    from leadflow.http.language import gettext
    from leadflow.leads.models import Lead
    from leadflow.transfer.fields import Kind
    from leadflow.transfer.models import TransferTable
    from leadflow.transfer.service import export_columns, export_header

    sqlite = backend == "sqlite"
    columns = export_columns(TransferTable.LEADS)
    header = export_header(TransferTable.LEADS, "en")
    select_list: list[str] = []
    kinds: list[str] = []  # how each selected value becomes a cell
    label_maps: dict[int, dict[str, str]] = {}
    for column in columns:
        if column.kind is Kind.ID:
            select_list.append("l.id")
            kinds.append("id")
        elif column.kind is Kind.OWNER:
            select_list.append("u.email")
            kinds.append("text")
        elif column.kind is Kind.CURRENCY:
            select_list.append("c.iso_code")
            kinds.append("text")
        elif column.kind is Kind.ACCOUNT:
            select_list.append("pa.name")
            kinds.append("text")
        elif column.kind is Kind.CONTACT:
            select_list.append("coalesce(pc.email, pc.full_name)")
            kinds.append("text")
        else:
            sql_type = Lead.__table__.c[column.name].type
            enum_class = getattr(sql_type, "enum_class", None) or getattr(
                getattr(sql_type, "impl", None), "enum_class", None
            )
            select_list.append(f"l.{column.name}")
            if column.name in ("created_at", "modified_at"):
                kinds.append("stamp")
            elif column.name in ("budget_amount",):
                kinds.append("money")
            elif column.name == "decision_maker":
                kinds.append("bool")
            elif enum_class is not None or column.kind is Kind.CHOICE:
                labels = CHOICE_LABELS.get(enum_class, {}) if enum_class is not None else {}
                label_maps[len(kinds)] = {value: gettext("en", message) for value, message in labels.items()}
                kinds.append("choice")
            else:
                kinds.append("text")
    query = (
        f"SELECT {', '.join(select_list)} FROM leads l "
        "LEFT JOIN users u ON u.id = l.owner_user_id "
        "LEFT JOIN currencies c ON c.id = l.currency_id "
        "LEFT JOIN accounts pa ON pa.id = l.parent_account_id "
        "LEFT JOIN contacts pc ON pc.id = l.parent_contact_id "
        "ORDER BY l.created_at DESC, l.id DESC"
    )
    cents = Decimal("0.01")
    quantum = Decimal("0.0001")

    def money(stored: int) -> str:
        value = (Decimal(stored) / MONEY_FACTOR).quantize(quantum)
        value = value.quantize(cents) if value == value.quantize(cents) else value.normalize()
        return format(value, "f")

    def text(value: Any) -> str:
        value = str(value)
        return "'" + value if value.startswith(_FORMULA_STARTS) else value

    if sqlite:

        def as_id(value: Any) -> str:
            return str(uuid.UUID(value))

        def as_stamp(value: Any) -> str:
            return value[:19].replace(" ", "T")

    else:

        def as_id(value: Any) -> str:
            return str(value)

        def as_stamp(value: Any) -> str:
            return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")

    converters = []
    for position, kind in enumerate(kinds):
        if kind == "id":
            converters.append(as_id)
        elif kind == "stamp":
            converters.append(as_stamp)
        elif kind == "money":
            converters.append(money)
        elif kind == "bool":
            converters.append(lambda value: "yes" if value else "no")
        elif kind == "choice":
            labels = label_maps[position]
            converters.append(lambda value, labels=labels: labels.get(value, value))
        else:
            converters.append(text)
    pairs = list(enumerate(converters))

    sink = DigestSink()
    progress = {"rows": 0}
    written = 0
    rss_before = current_rss_mb()
    with Sampler(progress) as sampler:
        started = time.perf_counter()
        cpu_started = time.process_time()
        if sqlite:
            connection = _sqlite_connect(url)
            cursor = connection.execute(query)
        else:
            connection = pg_connect(url)
            cursor = connection.cursor(name="floor_export")  # server-side: constant memory
            cursor.itersize = 2000
            cursor.execute(query)

        class Buffer:
            def __init__(self) -> None:
                self.parts: list[str] = []

            def write(self, text: str) -> None:
                self.parts.append(text)

        buffer = Buffer()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([text(name) for name in header])
        prefix = b"\xef\xbb\xbf"
        for row in cursor:
            writer.writerow(["" if row[i] is None else convert(row[i]) for i, convert in pairs])
            written += 1
            if written % 500 == 0:
                sink.write(prefix + "".join(buffer.parts).encode("utf-8"))
                prefix = b""
                buffer.parts.clear()
                progress["rows"] = written
        if buffer.parts or prefix:
            sink.write(prefix + "".join(buffer.parts).encode("utf-8"))
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        connection.close()
    return {
        "phase": "floor_export",
        "rows": written,
        "bytes": sink.bytes,
        "sha256": sink.digest.hexdigest(),
        "seconds": seconds,
        "rows_per_s": written / seconds if seconds else None,
        "cpu_seconds": cpu_seconds,
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
        **sampler.summary(rows),
    }


# ==============================================================================================
# Parent: phases in subprocesses, verification, report
# ==============================================================================================


def run_phase(phase: str, *, prefix: list[str] | None = None, **options: Any) -> dict[str, Any]:
    """Run one phase in a fresh Python process; print and return what it emitted."""
    command = [*(prefix or []), sys.executable, str(BENCH_FILE), "--phase", phase]
    for key, value in options.items():
        if value is not None:
            command += [f"--{key.replace('_', '-')}", str(value)]
    completed = subprocess.run(command, check=False, stdout=subprocess.PIPE, text=True)
    lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if completed.returncode != 0 or not lines:
        sys.stdout.write(completed.stdout)
        raise RuntimeError(f"phase {phase} failed (exit code {completed.returncode})")
    result = json.loads(lines[-1][len(RESULT_MARK) :])
    shown = {k: v for k, v in result.items() if k != "rss_samples_mb"}
    print(json.dumps(shown, default=str), flush=True)
    return result


def _raw_leads(url: str, backend: str) -> dict[str, dict[str, Any]]:
    """Every lead by last name, the ids of users, business units and currencies replaced by their names."""
    if backend == "sqlite":
        connection = _sqlite_connect(url)
    else:
        connection = pg_connect(url)
    try:
        cursor = connection.cursor()
        roles: dict[Any, str] = {}
        for table, label in (("users", "email"), ("business_units", "name"), ("currencies", "iso_code")):
            cursor.execute(f"SELECT id, {label} FROM {table}")
            roles.update({row_id: f"<{table} {name}>" for row_id, name in cursor.fetchall()})
        cursor.execute("SELECT * FROM leads")
        names = [d[0] for d in cursor.description]
        rows = [
            {name: roles.get(value, value) for name, value in zip(names, row, strict=True)} for row in cursor.fetchall()
        ]
    finally:
        connection.close()
    return {row["last_name"]: row for row in rows}


def _shape(value: Any) -> Any:
    if isinstance(value, str):
        return re.sub(r"\d", "9", value)
    if isinstance(value, datetime):
        return f"datetime(tz={value.utcoffset()})"
    return type(value).__name__


def verify_floor(service_url: str, floor_url: str, backend: str) -> dict[str, Any]:
    """The floor's leads against those the service imported (detection off), lead by lead (last names are
    unique), every column; ids compared by role, timestamps by storage form."""
    service, floor = _raw_leads(service_url, backend), _raw_leads(floor_url, backend)
    columns: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for key in service.keys() | floor.keys():
        a, b = service.get(key), floor.get(key)
        if a is None or b is None:
            columns["missing lead"] += 1
            continue
        for name in a.keys() | b.keys():
            x, y = a.get(name), b.get(name)
            if name == "id":
                continue
            if name in ("created_at", "modified_at", "closed_at"):
                x, y = (None if x is None else _shape(x)), (None if y is None else _shape(y))
            if x != y:
                columns[name] += 1
                examples.setdefault(name, f"service {a.get(name)!r}, floor {b.get(name)!r}")
    return {"compared": len(service), "floor_rows": len(floor), "columns": dict(columns), "examples": examples}


def bench_backend(run: Any, backend: str, csv_path: str, csv_info: dict[str, Any]) -> dict[str, Any]:
    rows = csv_info["rows"]
    result: dict[str, Any] = {"backend": backend, "rows": rows, "load_average_before": os.getloadavg()}
    with (
        run.database(backend, "on") as on_url,
        run.database(backend, "off") as off_url,
        run.database(backend, "floor") as floor_url,
    ):
        result["setup_on"] = run_phase("setup", url=on_url, detection="on")
        result["import_on"] = run_phase("import", url=on_url, csv=csv_path, on_duplicate="skip", rows=rows)
        result["setup_off"] = run_phase("setup", url=off_url, detection="off")
        result["import_off"] = run_phase("import", url=off_url, csv=csv_path, on_duplicate="skip", rows=rows)
        run_phase("setup", url=floor_url, detection="on")
        result["floor_import"] = run_phase("floor-import", url=floor_url, csv=csv_path, backend=backend)
        result["verify"] = verify_floor(off_url, floor_url, backend)
        print(json.dumps({"phase": "verify", **result["verify"]}), flush=True)
        exported = result["import_off"]["leads_in_database"]
        result["export"] = run_phase("export", url=off_url, rows=exported)
        result["floor_export"] = run_phase("floor-export", url=off_url, backend=backend, rows=exported)
    result["load_average_after"] = os.getloadavg()
    return result


def export_only(run: Any, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """Export alone: N leads made by the raw insert from a CSV without duplicates, then the export and its floor."""
    csv_path = str(tmp / "export-leads.csv")
    info = run_phase("csv", csv=csv_path, rows=args.rows, seed=args.seed, duplicates=0)
    result: dict[str, Any] = {"backend": args.backends[0], "rows": args.rows}
    with run.database(args.backends[0], "export") as url:
        run_phase("setup", url=url, detection="on")
        result["floor_import"] = run_phase("floor-import", url=url, csv=csv_path, backend=args.backends[0])
        result["export"] = run_phase("export", url=url, rows=info["rows"])
        result["floor_export"] = run_phase("floor-export", url=url, backend=args.backends[0], rows=info["rows"])
    return result


def profile_import(run: Any, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """One import (SQLite, detection on) under py-spy; the top functions by inclusive and by own samples."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    csv_path = str(tmp / "profile-leads.csv")
    run_phase("csv", csv=csv_path, rows=args.rows, seed=args.seed, duplicates=args.duplicates)
    with run.database("sqlite", "profile") as url:
        run_phase("setup", url=url, detection="on")
        result = run_phase(
            "import",
            prefix=[spy, "record", "-r", "200", "-f", "raw", "-o", args.profile, "--"],
            url=url,
            csv=csv_path,
            on_duplicate="skip",
            rows=args.rows,
        )
    return {"import": result, "top": top_functions(Path(args.profile))}


_FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def _frame_name(frame: str) -> str:
    match = _FRAME.match(frame)
    if not match:
        return frame
    path = match.group("file")
    module = path
    for marker in ("/site-packages/", "/src/", "/lib/python3.11/", "/bench/"):
        if marker in path:
            module = path.split(marker, 1)[1]
            break
    module = module.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
    return f"{module}:{match.group('function')}"


def top_functions(path: Path, *, within: str = "leadflow.jobs.runner:execute", count: int = 40) -> dict[str, Any]:
    """From py-spy's raw (collapsed) stacks: each function's share of the samples of ``within`` (the job),
    counted once per stack it appears in (cumulative) and as the innermost frame (own)."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = everything = 0
    for line in path.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        if not number.isdigit():
            continue
        samples = int(number)
        everything += samples
        frames = [_frame_name(frame) for frame in stack.split(";")]
        if within not in frames:
            continue
        total += samples
        for name in set(frames):
            if not name.startswith("transfer:") and "generated" not in name:  # this script; SQLAlchemy's wrappers
                inclusive[name] += samples
        own[frames[-1]] += samples
    return {
        "samples_in_job": total,
        "samples_all": everything,
        "cumulative": [(name, n / total) for name, n in inclusive.most_common(count)] if total else [],
        "own": [(name, n / total) for name, n in own.most_common(count)] if total else [],
    }


def _f(value: float | None, spec: str = ",.0f") -> str:
    return "-" if value is None else format(value, spec)


def _range(result: dict[str, Any]) -> str:
    low, high = result.get("rss_after_10pct_min_mb"), result.get("rss_after_10pct_max_mb")
    return "-" if low is None else f"{low:.0f}-{high:.0f}"


def report(results: dict[str, Any]) -> None:
    env = results["environment"]
    print(
        f"\nPython {env['python']}, {env['cpus']} CPUs ({env.get('cpu_model', '?')}), SQLite {env['sqlite']}"
        + (f", PostgreSQL {env['postgresql']}" if "postgresql" in env else "")
        + f"; leadflow {env.get('leadflow_commit') or env['leadflow_path']}"
        + f"; load average at start {env['load_average_at_start'][0]:.2f}, at end {os.getloadavg()[0]:.2f}"
    )
    print(
        f"\n{'backend':<10} {'phase':<26} {'rows':>9} {'seconds':>8} {'CPU s':>7} {'rows/s':>8} {'peak RSS MB':>11} "
        f"{'RSS after 10% MB':>16}  counts"
    )
    for r in results["backends"]:
        entries = []
        for key, name in (
            ("import_on", "import, detection on"),
            ("import_off", "import, detection off"),
            ("floor_import", "raw-driver import floor"),
            ("export", "export CSV"),
            ("floor_export", "raw-driver export floor"),
        ):
            if key not in r:
                continue
            phase = r[key]
            counts = ""
            if key.startswith("import"):
                counts = f"created {phase['created']:,}, skipped {phase['skipped']:,}, failed {phase['failed']:,}"
            elif key.endswith("export"):
                counts = f"{phase['bytes']:,} bytes"
            entries.append(
                f"{r['backend']:<10} {name:<26} {phase['rows']:>9,} {phase['seconds']:>8.1f} {phase['cpu_seconds']:>7.1f} "
                f"{_f(phase['rows_per_s']):>8} {phase['peak_rss_mb']:>11.0f} {_range(phase):>16}  {counts}"
            )
        print("\n".join(entries))
        if "export" in r and "floor_export" in r:
            same = r["export"]["sha256"] == r["floor_export"]["sha256"]
            print(f"{r['backend']:<10} export and floor export files {'identical' if same else 'DIFFER'}")
        check = r.get("verify")
        if check:
            if check["columns"]:
                for column, count in check["columns"].items():
                    print(
                        f"{r['backend']:<10} floor differs from the import in {column} on {count:,} leads "
                        f"(e.g. {check['examples'].get(column, '')})"
                    )
            else:
                print(f"{r['backend']:<10} floor rows equal the imported ones, all {check['compared']:,} leads")
        for key in ("import_on", "import_off"):
            phase = r.get(key)
            if phase and phase["failures"]:
                print(f"{r['backend']} {key}: {phase['failed']} rows failed, e.g.:")
                for failure in phase["failures"]:
                    print(f"    {failure}")
    print("\nTargets (import of 1,000,000 leads; export)")
    for r in results["backends"]:
        b = r["backend"]
        if "import_on" in r:
            on, off = r["import_on"], r["import_off"]
            floor = r["floor_import"]["rows_per_s"]
            print(
                f"  {b}: import, detection on  >= {TARGET_IMPORT_ON:,.0f} rows/s: {on['rows_per_s']:,.0f} "
                f"({on['rows_per_s'] / TARGET_IMPORT_ON:.2f} of target; floor {floor:,.0f})"
            )
            print(
                f"  {b}: import, detection off >= {TARGET_IMPORT_OFF:,.0f} rows/s: {off['rows_per_s']:,.0f} "
                f"({off['rows_per_s'] / TARGET_IMPORT_OFF:.2f} of target; floor {floor:,.0f})"
            )
            print(
                f"  {b}: import peak RSS <= {TARGET_RSS_MB:.0f} MB: on {on['peak_rss_mb']:.0f} MB, "
                f"off {off['peak_rss_mb']:.0f} MB (N = {r['rows']:,}, not 1,000,000)"
            )
        if "export" in r:
            ex = r["export"]
            print(
                f"  {b}: export >= {TARGET_EXPORT:,.0f} rows/s: {ex['rows_per_s']:,.0f} "
                f"({ex['rows_per_s'] / TARGET_EXPORT:.2f} of target; floor {r['floor_export']['rows_per_s']:,.0f}); "
                f"RSS after 10 % {_range(ex)} MB"
            )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark lead import and export against a raw-driver floor.")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "postgresql", "both"), default="both")
    parser.add_argument("--rows", type=int, default=20000, help="leads in the file (default 20000)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the generated leads")
    parser.add_argument(
        "--duplicates", type=float, default=0.05, help="share of rows repeating an earlier e-mail (default 0.05)"
    )
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="server to create the benchmark databases on (env LEADFLOW_BENCH_POSTGRES_URL)",
    )
    parser.add_argument(
        "--export-only", action="store_true", help="only the export, of --rows leads made by the raw insert"
    )
    parser.add_argument(
        "--profile", metavar="PATH", help="only one import (SQLite, detection on) under py-spy, raw output to PATH"
    )
    parser.add_argument("--json", metavar="PATH", help="also write every figure to PATH")
    # Internal: the phases that run in their own process.
    parser.add_argument(
        "--phase",
        choices=("csv", "setup", "import", "floor-import", "export", "floor-export"),
        help=argparse.SUPPRESS,
    )
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    parser.add_argument("--detection", choices=("on", "off"), help=argparse.SUPPRESS)
    parser.add_argument("--on-duplicate", default="skip", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rows < 1 or not 0 <= args.duplicates < 1:
        parser.error("--rows must be positive and --duplicates in [0, 1)")
    if args.backend == "both":
        args.backends = ["sqlite", "postgresql"]
    else:
        args.backends = ["postgresql" if args.backend.startswith("postgres") else "sqlite"]
    if args.export_only or args.profile:
        if args.backend == "both":
            args.backends = ["sqlite"]
    if args.profile and args.backends != ["sqlite"]:
        parser.error("--profile runs on SQLite")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    backend = args.backends[0]
    if args.phase == "csv":
        emit(phase_csv(args.csv, args.rows, args.seed, args.duplicates))
        return 0
    if args.phase == "setup":
        emit(phase_setup(args.url, args.detection))
        return 0
    if args.phase == "import":
        emit(phase_import(args.url, args.csv, args.on_duplicate, args.rows))
        return 0
    if args.phase == "floor-import":
        emit(phase_floor_import(args.url, args.csv, backend))
        return 0
    if args.phase == "export":
        emit(phase_export(args.url, args.rows))
        return 0
    if args.phase == "floor-export":
        emit(phase_floor_export(args.url, backend, args.rows))
        return 0

    env_args = argparse.Namespace(label=None, postgres_url=args.postgres_url)
    results: dict[str, Any] = {
        "environment": qualify_bench.environment(env_args, args.backends),
        "options": {k: v for k, v in vars(args).items() if k not in ("phase", "url", "csv", "detection")},
        "backends": [],
    }
    print(json.dumps({"phase": "environment", **results["environment"]}, default=str), flush=True)
    run = qualify_bench.Run(env_args)
    tmp = run.tmp
    failed = False
    try:
        if args.profile:
            profiled = profile_import(run, args, tmp)
            results["profile"] = profiled
            top = profiled["top"]
            print(
                f"\nTop functions of the job, share of its {top['samples_in_job']:,} samples "
                f"({top['samples_all']:,} in the process)"
            )
            print("cumulative:")
            for name, share in top["cumulative"]:
                print(f"  {share:6.1%}  {name}")
            print("own:")
            for name, share in top["own"]:
                print(f"  {share:6.1%}  {name}")
        elif args.export_only:
            results["backends"].append(export_only(run, args, tmp))
        else:
            csv_path = str(tmp / "leads.csv")
            csv_info = run_phase("csv", csv=csv_path, rows=args.rows, seed=args.seed, duplicates=args.duplicates)
            results["csv"] = csv_info
            for name in args.backends:
                r = bench_backend(run, name, csv_path, csv_info)
                results["backends"].append(r)
                expected_created = args.rows - csv_info["duplicate_emails"]
                on, off = r["import_on"], r["import_off"]
                r["import_on"]["expected_created"] = expected_created
                if on["failed"] or off["failed"] or on["created"] != expected_created or off["created"] != args.rows:
                    failed = True
                    print(
                        f"{name}: import ON created {on['created']:,} (expected {expected_created:,}), "
                        f"OFF created {off['created']:,} (expected {args.rows:,})"
                    )
                if r["verify"]["columns"] or r["export"]["sha256"] != r["floor_export"]["sha256"]:
                    failed = True
    finally:
        run.close()
    if results["backends"]:
        report(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
