"""What every part of the catalogue shares: its one administrative area (``TABLE``, "products") and
the few steps each of its use cases takes alike: fetch a record or refuse a reference to a missing one,
refuse a name another record already uses, save, audit, apply changes, list a page, delete at the
version the caller holds. ``leadflow.catalog.service`` and the modules beside it build on these."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from leadflow.core.errors import Conflict, field_refusal
from leadflow.core.paging import Page, contains, keyset_page
from leadflow.core.records import check_version, not_found
from leadflow.core.schemas import clean_search
from leadflow.core.uow import UnitOfWork
from leadflow.security.access import require_admin
from leadflow.security.actor import Actor
from leadflow.security.audit import record_action
from leadflow.security.privileges import Privilege

TABLE = "products"
RecordT = TypeVar("RecordT")


def _get(session: Session, model: type[RecordT], record_id: uuid.UUID, *, label: str, for_update: bool) -> RecordT:
    record = session.get(model, record_id, with_for_update=for_update)
    if record is None:
        raise not_found(label=label, record_id=record_id)
    return record


def _reference(session: Session, model: type[RecordT], record_id: uuid.UUID, *, field: str, label: str) -> RecordT:
    record = session.get(model, record_id)
    if record is None:
        raise field_refusal(field, f"{label}_not_found", f"{field}: no {label.replace('_', ' ')} has this id.")
    return record


def _save(uow: UnitOfWork, *, field: str, code: str, message: str) -> None:
    """Flush; a name or number another record took meanwhile is a 409 on that field, not a crash."""
    try:
        uow.flush()
    except IntegrityError as error:
        raise Conflict(message, code=code, details={"fields": [{"field": field, "code": code}]}) from error


def _taken(session: Session, column: Any, value: str, *, exclude: uuid.UUID | None = None) -> bool:
    statement = select(exists().where(func.lower(column) == value.lower()))
    if exclude is not None:
        statement = select(exists().where(func.lower(column) == value.lower(), column.class_.id != exclude))
    return bool(session.scalar(statement))


def _unique(
    session: Session, column: Any, value: str, *, field: str, code: str, exclude: uuid.UUID | None = None
) -> None:
    if _taken(session, column, value, exclude=exclude):
        raise Conflict(
            f"{field}: {value!r} is already used; choose another.",
            code=code,
            details={"fields": [{"field": field, "code": code}]},
        )


def _audit(session: Session, actor: Actor, action: str, record: Any, summary: str) -> None:
    record_action(session, actor, action, table=TABLE, record_id=record.id, summary=summary)


def _apply(record: Any, values: dict[str, Any], actor: Actor) -> None:
    for name, value in values.items():
        setattr(record, name, value)
    if hasattr(record, "modified_by_id"):
        record.modified_by_id = actor.user_id


def _listed(
    uow: UnitOfWork, actor: Actor, statement: Any, key: Any, id_column: Any, *, limit: int, cursor: str | None
) -> Page[Any]:
    require_admin(actor, TABLE, Privilege.READ)
    return keyset_page(uow.session, statement, key=key, id_column=id_column, kind="text", limit=limit, cursor=cursor)


def _search(statement: Any, columns: Sequence[Any], search: str | None) -> Any:
    # ``contains`` drops the characters no database can compare (a NUL failed on PostgreSQL).
    term = clean_search(search or "").strip()
    return statement.where(contains(columns, term)) if term else statement


def _delete(
    uow: UnitOfWork,
    actor: Actor,
    model: type[Any],
    record_id: uuid.UUID,
    *,
    label: str,
    expected_version: int | None,
) -> None:
    """Delete a named catalogue record the actor may delete, at the version the caller holds; audited."""
    require_admin(actor, TABLE, Privilege.DELETE)
    record = _get(uow.session, model, record_id, label=label, for_update=True)
    check_version(record, expected_version)
    _audit(uow.session, actor, "delete", record, record.name)
    uow.session.delete(record)
    uow.flush()
