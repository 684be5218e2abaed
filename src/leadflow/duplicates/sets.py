"""The duplicate sets a find-all job found: pages of sets with the members the reader may see,
and every set as CSV rows (with spreadsheet formulas neutralised)."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, func, select

from leadflow.core.errors import ValidationFailed
from leadflow.core.paging import INVALID_CURSOR, Page, decode_cursor, encode_cursor
from leadflow.core.uow import Database, UnitOfWork
from leadflow.duplicates.models import DetectionTable, DuplicateRule
from leadflow.duplicates.scan import MEMBERS, SCAN_BATCH, SETS, check_page_limit, load_job
from leadflow.duplicates.tables import TABLES, RecordSummary, TableInfo
from leadflow.security.access import access_condition, require_admin
from leadflow.security.actor import Actor
from leadflow.security.models import User
from leadflow.security.privileges import Privilege

#: A set's position is a 32-bit INTEGER on every database: no cursor goes past it.
MAX_POSITION = 2**31 - 1
#: Most members of one set that a page of sets shows; the CSV export has them all.
MAX_MEMBERS_SHOWN = 1000
CSV_HEADER = ("set", "rule", "score", "table", "record_id", "name", "email", "phone", "city", "owner")
# OWASP: a spreadsheet reads a cell starting with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
USERS: Table = User.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class FoundSet:
    """A duplicate set as found by a job; ``members`` are the ones the reader may see (at most 1,000)."""

    position: int
    rule_id: uuid.UUID | None
    rule_name: str | None
    score: float
    size: int
    members: list[RecordSummary] = field(default_factory=list)  # name, email, phone, city, owner (§5)


@dataclass(frozen=True)
class SetRow:
    """One member of one set, as a line of the CSV export."""

    set_position: int
    rule_name: str | None
    score: float
    table: DetectionTable
    member: RecordSummary

    def cells(self) -> list[str]:
        m = self.member
        return [
            str(self.set_position),
            self.rule_name or "",
            f"{self.score:.4f}",
            self.table.value,
            str(m.id),
            m.name or "",
            m.email or "",
            m.phone or "",
            m.city or "",
            m.owner_name or "",
        ]


def list_sets(
    job_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, limit: int = 50, cursor: str | None = None
) -> Page[FoundSet]:
    """A page of a job's sets in the order found; ``cursor`` is the previous page's ``next_cursor``.

    Members are shown only when the actor may read them (settings Read lets one see the job,
    not the records).
    """
    require_admin(actor, "settings", Privilege.READ)
    check_page_limit(limit)
    after = 0
    if cursor is not None:
        after, _ = decode_cursor(cursor, "integer", refusal=INVALID_CURSOR)
        if not 0 <= after <= MAX_POSITION:
            raise ValidationFailed(INVALID_CURSOR, code="invalid_cursor")
    session = uow.session
    job = load_job(session, job_id)
    info = TABLES[job.table_name]
    statement = (
        select(SETS.c.id, SETS.c.position, SETS.c.rule_id, DuplicateRule.name, SETS.c.score, SETS.c.size)
        .select_from(SETS.outerjoin(DuplicateRule, DuplicateRule.id == SETS.c.rule_id))
        .where(SETS.c.job_id == job_id, SETS.c.position > after)
        .order_by(SETS.c.position)
        .limit(limit + 1)
    )
    rows = session.execute(statement).all()
    page = rows[:limit]
    set_ids = [row.id for row in page]
    numbered = (
        select(
            MEMBERS.c.set_id,
            MEMBERS.c.record_id,
            func.row_number().over(partition_by=MEMBERS.c.set_id, order_by=MEMBERS.c.record_id).label("n"),
        )
        .where(MEMBERS.c.set_id.in_(set_ids))
        .subquery()
    )
    members: dict[uuid.UUID, list[RecordSummary]] = {set_id: [] for set_id in set_ids}
    if set_ids:
        shown = _members_statement(info, actor, numbered).where(numbered.c.n <= MAX_MEMBERS_SHOWN)
        for row in session.execute(shown.order_by(numbered.c.set_id, numbered.c.record_id)).mappings():
            members[row["set_id"]].append(_member(info, row))
    items = [FoundSet(row.position, row.rule_id, row.name, row.score, row.size, members[row.id]) for row in page]
    more = len(rows) > limit
    return Page(items, encode_cursor(page[-1].position, page[-1].id) if more else None)


def _members_statement(info: TableInfo, actor: Actor, source: Any) -> Any:
    """Display columns of the members in ``source`` (set_id, record_id) that the actor may read."""
    table = info.table
    return (
        select(source.c.set_id, *info.display_columns(), USERS.c.full_name.label("owner_name"))
        .select_from(
            source.join(table, table.c.id == source.c.record_id).outerjoin(USERS, USERS.c.id == table.c.owner_user_id)
        )
        .where(access_condition(actor, Privilege.READ, info.name.value, info.model))
    )


def _member(info: TableInfo, row: Mapping[Any, Any]) -> RecordSummary:
    return RecordSummary.of(info, row, owner_name=row["owner_name"])


def iter_set_rows(
    job_id: uuid.UUID, *, database: Database, actor: Actor, batch_size: int = SCAN_BATCH
) -> Iterator[SetRow]:
    """Every member of every set of a job, set by set, streamed for the CSV export.

    The privilege and the job are checked at once. The rows then come from one query that the
    database sorts and hands over ``batch_size`` rows at a time (a server-side cursor on
    PostgreSQL), so memory stays flat however many sets the job found.
    """
    with database.unit_of_work(read_only=True) as uow:
        require_admin(actor, "settings", Privilege.READ)
        job = load_job(uow.session, job_id)
    return _set_rows(database, actor, job_id, TABLES[job.table_name], batch_size)


def _set_rows(
    database: Database, actor: Actor, job_id: uuid.UUID, info: TableInfo, batch_size: int
) -> Iterator[SetRow]:
    source = (
        select(MEMBERS.c.set_id, MEMBERS.c.record_id, SETS.c.position, SETS.c.score, DuplicateRule.name.label("rule"))
        .select_from(
            MEMBERS.join(SETS, SETS.c.id == MEMBERS.c.set_id).outerjoin(
                DuplicateRule, DuplicateRule.id == SETS.c.rule_id
            )
        )
        .where(SETS.c.job_id == job_id)
        .subquery()
    )
    statement = (
        _members_statement(info, actor, source)
        .add_columns(source.c.position, source.c.score, source.c.rule)
        .order_by(source.c.position, source.c.record_id)
        .execution_options(yield_per=batch_size)
    )
    with database.unit_of_work(read_only=True) as uow:
        for row in uow.session.execute(statement).mappings():
            yield SetRow(row["position"], row["rule"], row["score"], info.name, _member(info, row))


def _neutralised(cell: str) -> str:
    """A cell a spreadsheet would run as a formula, made plain text (CSV injection)."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def csv_chunks(rows: Iterable[SetRow], *, rows_per_chunk: int = 500) -> Iterator[str]:
    """The CSV export (header, then one line per member), a few hundred lines at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    for count, row in enumerate(rows, start=1):
        writer.writerow([_neutralised(cell) for cell in row.cells()])
        if count % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
