"""The custom field definitions each table has, as every part of ``leadflow.fields`` reads them: once
per session (a change of definitions forgets them), and remembered as last read for a record shown
after its session closed. How a record shows its custom values and a field its default is registered
here in ``leadflow.fields.models.SHOWN`` on import; ``ADMIN_TABLE`` is the setting whose Write every
change of definitions or mappings needs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from leadflow.fields.models import SHOWN, CustomField, FieldKind
from leadflow.fields.values import to_output

ADMIN_TABLE = "settings"
_CACHE = "leadflow.custom_fields"


# The definitions each table had when last read, for a record shown after its session closed.
_LAST_READ: dict[str, list[CustomField]] = {}


def fields_of(session: Session, table: str) -> list[CustomField]:
    """The custom fields of ``table`` in their order (read once per session)."""
    cache: dict[str, list[CustomField]] = session.info.setdefault(_CACHE, {})
    if table not in cache:
        statement = (
            select(CustomField).where(CustomField.table_name == table).order_by(CustomField.position, CustomField.name)
        )
        cache[table] = _LAST_READ[table] = list(session.scalars(statement))
    return cache[table]


def shown_values(record: Any) -> dict[str, Any]:
    """``custom_output`` of a loaded record, with the definitions of its session."""
    table = record.__tablename__
    session = object_session(record)
    cached = session.info.get(_CACHE, {}).get(table) if session is not None else None
    if cached is not None:
        return _output(cached, record.custom)
    # After a commit, reading the definitions would begin a new transaction (on SQLite a writer's, with
    # its lock) only to show the answer: the ones last read serve, unless this process has none yet.
    if session is not None and (session.in_transaction() or table not in _LAST_READ):
        return _output(fields_of(session, table), record.custom)
    return _output(_LAST_READ.get(table, []), record.custom)


SHOWN["values"] = shown_values
SHOWN["default"] = lambda field: to_output(field, field.default_value)


def field_named(session: Session, table: str, name: str) -> CustomField | None:
    return next((field for field in fields_of(session, table) if field.name == name), None)


def _forget(session: Session) -> None:
    session.info.pop(_CACHE, None)


def _output(fields: Iterable[CustomField], stored: Mapping[str, Any] | None) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    stored = stored or {}
    for field in fields:
        shown[field.name] = to_output(field, stored.get(field.name))
        if field.kind is FieldKind.MONEY:
            shown[f"{field.name}_base"] = to_output(field, stored.get(f"{field.name}__base"))
    return shown


def has_any(session: Session, table: str) -> bool:
    return bool(fields_of(session, table))
