"""JSON snapshots of rows, and their exact inverse: what the merge journal stores and undo writes back."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Column, Date, DateTime, Integer, String, Table, Text, Uuid
from sqlalchemy import Enum as SAEnum

from leadflow.core.db import ScaledDecimal, UTCDateTime
from leadflow.security.audit import plain


def to_json(value: Any) -> Any:
    """A column value in a JSON-safe form (uuid, Decimal → str; datetime, date → ISO 8601; enum → value)."""
    return plain(value)


def from_json(column: Column[Any], value: Any) -> Any:
    """The column value a JSON-safe form stands for: the exact inverse of ``to_json`` per column type."""
    if value is None:
        return None
    kind = column.type
    # Enum first: it is a kind of String.
    if isinstance(kind, SAEnum):
        return kind.enum_class(value) if kind.enum_class is not None else value
    if isinstance(kind, Uuid):
        return uuid.UUID(value)
    if isinstance(kind, ScaledDecimal):
        return Decimal(value)
    if isinstance(kind, UTCDateTime | DateTime):
        return datetime.fromisoformat(value)
    if isinstance(kind, Date):
        return date.fromisoformat(value)
    if isinstance(kind, Boolean):
        return bool(value)
    if isinstance(kind, Integer):
        return int(value)
    if isinstance(kind, String | Text | JSON):  # JSON: custom values, kept as stored
        return value
    raise TypeError(f"No JSON form is defined for {column.table.name}.{column.name} ({kind!r}).")


def row_snapshot(table: Table, values: Mapping[str, Any] | Any) -> dict[str, Any]:
    """Every column of a row (a mapping, or a loaded record) as JSON-safe values."""
    read = values.__getitem__ if isinstance(values, Mapping) else lambda name: getattr(values, name)
    return {column.name: to_json(read(column.name)) for column in table.columns}


def row_values(table: Table, snapshot: Mapping[str, Any]) -> dict[str, Any]:
    """The column values a snapshot stands for, ready to write back."""
    return {column.name: from_json(column, snapshot[column.name]) for column in table.columns}
