"""Lookups and checks every table's service shares: fetch or refuse, version check, apply changes."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from leadflow.errors import NotFound, StaleVersion, ValidationFailed

RecordT = TypeVar("RecordT")


def get_record(
    session: Session,
    model: type[RecordT],
    record_id: uuid.UUID,
    *,
    label: str,
    for_update: bool = False,
) -> RecordT:
    """The record with this id, locked for update if asked, or NotFound with ``<label>_not_found``."""
    statement = select(model).where(model.id == record_id)  # type: ignore[attr-defined]
    if for_update:
        statement = statement.with_for_update()
    record = session.scalars(statement).first()
    if record is None:
        raise NotFound(
            f"No {label.replace('_', ' ')} has the id {record_id}.", code=f"{label}_not_found"
        )
    return record


def get_reference(
    session: Session, model: type[RecordT], record_id: uuid.UUID, *, field: str, label: str
) -> RecordT:
    """A record named inside a request body; a missing one is a 422 naming the field."""
    record = session.get(model, record_id)
    if record is None:
        raise ValidationFailed(
            f"{field} names no existing {label.replace('_', ' ')} (id {record_id}).",
            code=f"{field}_not_found",
            details={"fields": [{"field": field, "code": "not_found", "message": "No such record."}]},
        )
    return record


def check_version(record: Any, expected_version: int | None) -> None:
    """Refuse to change a record the caller loaded before someone else changed it (If-Match)."""
    if expected_version is not None and record.row_version != expected_version:
        raise StaleVersion(
            "This record was changed by someone else since you loaded it; "
            "reload it and apply your change again.",
            code="stale_etag",
        )


def apply_changes(record: Any, changes: dict[str, Any]) -> None:
    """Set each changed column on the record."""
    for name, value in changes.items():
        setattr(record, name, value)


def list_records(
    session: Session, model: type[RecordT], *, actor: Any, limit: int, after: uuid.UUID | None = None
) -> list[RecordT]:
    """A page of the records the actor may read, in creation order, keyset-paged by the last id seen."""
    from leadflow.security.access import access_condition
    from leadflow.security.privileges import Privilege

    statement = (
        select(model)
        .where(access_condition(actor, Privilege.READ, model.__tablename__, model))  # type: ignore[attr-defined]
        .order_by(model.created_at, model.id)  # type: ignore[attr-defined]
        .limit(limit)
    )
    if after is not None:
        last = session.get(model, after)
        if last is None:
            raise ValidationFailed("The cursor names no record; start from the first page.", code="invalid_cursor")
        statement = statement.where(
            tuple_(model.created_at, model.id) > tuple_(last.created_at, last.id)  # type: ignore[attr-defined]
        )
    return list(session.scalars(statement))


def get_accessible(
    session: Session,
    model: type[RecordT],
    record_id: uuid.UUID,
    *,
    label: str,
    actor: Any,
    privilege: Any,
    for_update: bool = False,
) -> RecordT:
    """A record by id that the actor holds ``privilege`` on: NotFound, then Forbidden naming the privilege."""
    from leadflow.security.access import require

    record = get_record(session, model, record_id, label=label, for_update=for_update)
    require(session, actor, privilege, model.__tablename__, record)  # type: ignore[attr-defined]
    return record
