"""Document numbers: QUO-01000, ORD-01000, INV-01000, unique and without gaps under concurrency."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from leadflow.core.uow import UnitOfWork
from leadflow.sales.models import DEFAULT_PREFIXES, FIRST_NUMBER, DocumentKind, DocumentNumbering
from leadflow.security.access import require_admin
from leadflow.security.actor import Actor
from leadflow.security.audit import record_action
from leadflow.security.privileges import Privilege


def _ensure_row(session: Session, kind: DocumentKind) -> None:
    """The numbering row of ``kind``, inserted with the defaults when missing (concurrent inserts agree)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(DocumentNumbering)
        .values(kind=kind, prefix=DEFAULT_PREFIXES[kind], next_number=FIRST_NUMBER, digits=5)
        .on_conflict_do_nothing(index_elements=["kind"])
    )


def format_number(prefix: str, number: int, digits: int) -> str:
    """``QUO`` and 1000 with five digits → ``QUO-01000``."""
    return f"{prefix}-{number:0{digits}d}"


def take_number(session: Session, kind: DocumentKind) -> str:
    """The next number of ``kind``, taken inside the caller's transaction.

    The increment locks the numbering row until the transaction ends: a concurrent creation waits
    for it, and a creation that rolls back gives its number back, so numbers never repeat or skip.
    """
    increment = (
        update(DocumentNumbering)
        .where(DocumentNumbering.kind == kind)
        .values(next_number=DocumentNumbering.next_number + 1)
        .returning(DocumentNumbering.prefix, DocumentNumbering.next_number, DocumentNumbering.digits)
        .execution_options(synchronize_session=False)
    )
    row = session.execute(increment).one_or_none()
    if row is None:  # the first document of its kind: its row comes with it
        _ensure_row(session, kind)
        row = session.execute(increment).one()
    prefix, following, digits = row
    return format_number(prefix, following - 1, digits)


def numbering(*, uow: UnitOfWork, actor: Actor) -> list[DocumentNumbering]:
    """How each kind of document is numbered."""
    require_admin(actor, "settings", Privilege.READ)
    stored = {row.kind: row for row in uow.session.scalars(select(DocumentNumbering))}
    # A kind never used yet is numbered by the defaults (its row is written with its first document).
    return [
        stored.get(kind)
        or DocumentNumbering(kind=kind, prefix=DEFAULT_PREFIXES[kind], next_number=FIRST_NUMBER, digits=5)
        for kind in DocumentKind
    ]


def change_numbering(
    kind: DocumentKind, *, prefix: str | None, next_number: int | None, uow: UnitOfWork, actor: Actor
) -> DocumentNumbering:
    """Change the prefix or the next number of a kind of document (an administrator's setting)."""
    require_admin(actor, "settings", Privilege.WRITE)
    session = uow.session
    _ensure_row(session, kind)
    row = session.get(DocumentNumbering, kind, with_for_update=True, populate_existing=True)
    assert row is not None
    if prefix is not None:
        row.prefix = prefix
    if next_number is not None:
        row.next_number = next_number
    record_action(
        session, actor, "update", table="settings", summary=f"numbering {kind.value}: {row.prefix} {row.next_number}"
    )
    uow.flush()
    return row
