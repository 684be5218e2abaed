"""Lookups and checks every table's service shares: fetch or refuse, version check, apply changes."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from leadflow.core.db import Base, mapped_class
from leadflow.core.errors import NotFound, StaleVersion, ValidationFailed

RecordT = TypeVar("RecordT")


def record_label(table: str) -> str:
    """How messages and error codes name one record of a table: ``opportunities`` → ``opportunity``."""
    return table[:-3] + "y" if table.endswith("ies") else table.removesuffix("s")


def get_record(
    session: Session,
    model: type[RecordT],
    record_id: uuid.UUID,
    *,
    label: str,
    noun: str | None = None,
    for_update: bool = False,
) -> RecordT:
    """The record with this id, locked for update if asked, or NotFound with ``<label>_not_found``
    (its message names the record as ``noun``, by default the label)."""
    statement = select(model).where(model.id == record_id)  # type: ignore[attr-defined]
    if for_update:
        statement = statement.with_for_update()
    record = session.scalars(statement).first()
    if record is None:
        raise not_found(label=label, record_id=record_id, noun=noun)
    return record


def not_found(*, label: str, record_id: object, noun: str | None = None) -> NotFound:
    """The refusal of an id that names no record (``<label>_not_found``)."""
    return NotFound(f"No {noun or label.replace('_', ' ')} has the id {record_id}.", code=f"{label}_not_found")


def unknown_reference(*, field: str, label: str, record_id: object) -> ValidationFailed:
    """The refusal of a request body naming, in ``field``, a record that does not exist (a 422)."""
    return ValidationFailed(
        f"{field} names no existing {label.replace('_', ' ')} (id {record_id}).",
        code=f"{field}_not_found",
        details={"fields": [{"field": field, "code": "not_found", "message": "No such record."}]},
    )


def get_reference(session: Session, model: type[RecordT], record_id: uuid.UUID, *, field: str, label: str) -> RecordT:
    """A record named inside a request body; a missing one is a 422 naming the field."""
    record = session.get(model, record_id)
    if record is None:
        raise unknown_reference(field=field, label=label, record_id=record_id)
    return record


def check_version(record: Any, expected_version: int | None) -> None:
    """Refuse to change a record the caller loaded before someone else changed it (If-Match)."""
    if expected_version is not None and record.row_version != expected_version:
        raise StaleVersion(
            "This record was changed by someone else since you loaded it; reload it and apply your change again.",
            code="stale_etag",
        )


def apply_changes(record: Any, changes: dict[str, Any]) -> None:
    """Set each changed column on the record."""
    for name, value in changes.items():
        setattr(record, name, value)


def clear_lookups(session: Session, table_name: str, record_id: uuid.UUID) -> None:
    """Clear every polymorphic lookup naming a record about to be deleted (see ``polymorphic_lookup``)."""
    for table in Base.metadata.tables.values():
        for column in table.columns:
            lookup = column.info.get("polymorphic_lookup")
            if lookup is None or table_name not in lookup["tables"]:
                continue
            model = mapped_class(table.name)
            session.execute(
                update(model)
                .where(getattr(model, column.key) == record_id)
                .values({column.key: None, lookup["kind_column"]: None, "row_version": model.row_version + 1})
                .execution_options(synchronize_session="fetch")
            )
