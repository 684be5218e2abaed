"""What the lists share: keyset cursors, pages, and the case-insensitive "contains" search.

Every list leadflow serves pages the same way: a ``limit`` and an opaque ``cursor`` in, a page of
``items`` and the ``next_cursor`` (None on the last page) out.

A cursor is the sort value and the id of the last row shown, as URL-safe base64 of JSON; decoding
checks the value against the kind of the sort column, so a cursor from another list or a tampered
one is refused, never used in a query.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy import ColumnElement, Select, bindparam, func, or_, tuple_
from sqlalchemy.orm import Session

from leadflow.core.errors import ValidationFailed
from leadflow.core.schemas import clean_search, unstorable_character

CursorKind = Literal["text", "integer", "bigint", "datetime", "date", "money"]
ItemT = TypeVar("ItemT")
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


def encode_cursor(value: Any, record_id: uuid.UUID) -> str:
    """The cursor just after (or before) the row with this sort value and id."""
    if isinstance(value, datetime | date):
        value = value.isoformat()
    elif isinstance(value, Decimal):
        value = str(value)
    elif isinstance(value, enum.Enum):
        value = value.value
    raw = json.dumps([value, str(record_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, kind: CursorKind, *, refusal: str, nullable: bool = False) -> tuple[Any, uuid.UUID]:
    """The sort value and id a cursor holds; ``refusal`` is the message when it is not valid. A cursor
    of a ``nullable`` sort key may hold a blank (None)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, raw_id = json.loads(base64.urlsafe_b64decode(padded))
        record_id = uuid.UUID(raw_id)
        if value is None and nullable:
            pass
        elif kind == "datetime":
            value = datetime.fromisoformat(value)
        elif kind == "date":
            value = date.fromisoformat(value)
        elif kind == "money":
            value = Decimal(value)
            if not value.is_finite():
                raise ValueError("unexpected cursor value")
        elif kind == "integer":
            # The integer sort columns are SQL INTEGER: a value outside it would fail in the database.
            if isinstance(value, bool) or not isinstance(value, int) or not _INT_MIN <= value <= _INT_MAX:
                raise ValueError("unexpected cursor value")
        elif kind == "bigint":
            if isinstance(value, bool) or not isinstance(value, int) or not -(2**63) <= value < 2**63:
                raise ValueError("unexpected cursor value")
        elif not isinstance(value, str) or unstorable_character(value) is not None:
            raise ValueError("unexpected cursor value")
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError):
        raise ValidationFailed(refusal, code="invalid_cursor") from None
    return value, record_id


MAX_LIMIT = 500
INVALID_CURSOR = "The cursor does not belong to this list; start again from the first page."


@dataclass(frozen=True)
class Page(Generic[ItemT]):
    """One page of a list and the cursor of the next one, if there is more."""

    items: list[ItemT]
    next_cursor: str | None = None


def check_limit(limit: int, *, most: int = MAX_LIMIT) -> None:
    """Refuse a page size out of 1..``most``."""
    if not 1 <= limit <= most:
        raise ValidationFailed(f"limit must be between 1 and {most}.", code="invalid_limit")


def keyset_page(
    session: Session,
    statement: Select[Any],
    *,
    key: Any,
    id_column: Any,
    kind: CursorKind,
    limit: int,
    cursor: str | None,
    descending: bool = False,
    key_of: Callable[[Any], Any] | None = None,
    most: int = MAX_LIMIT,
    nullable: bool = False,
) -> Page[Any]:
    """A page of ``statement``'s rows in the order of (``key``, ``id_column``), after ``cursor``.

    ``key_of`` reads the key's value off a row (by default the attribute named like the key's column).
    A ``nullable`` key's blanks come first (last when descending), as the lowest value, on both databases.
    """
    check_limit(limit, most=most)
    if cursor is not None:
        value, last_id = decode_cursor(cursor, kind, refusal=INVALID_CURSOR, nullable=nullable)
        statement = statement.where(_after(key, id_column, value, last_id, descending=descending, nullable=nullable))
    if nullable:
        order = (key.desc().nulls_last(), id_column.desc()) if descending else (key.asc().nulls_first(), id_column)
    else:
        order = (key.desc(), id_column.desc()) if descending else (key, id_column)
    rows = list(session.scalars(statement.order_by(*order).limit(limit + 1)))
    items = rows[:limit]
    if len(rows) <= limit:
        return Page(items)
    last = items[-1]
    read_key = key_of or (lambda row: getattr(row, key.key))
    return Page(items, encode_cursor(read_key(last), last.id))


def _after(key: Any, id_column: Any, value: Any, last_id: uuid.UUID, *, descending: bool, nullable: bool) -> Any:
    """The rows that come after (key ``value``, ``last_id``) in the page order."""
    position = tuple_(key, id_column)
    # Each value bound as its column's type: a tuple does not pass the types on, and leadflow's own
    # types store values otherwise than Python holds them (money scaled to integers).
    last = tuple_(bindparam(None, value, type_=key.type), bindparam(None, last_id, type_=id_column.type))
    if not nullable:
        return position < last if descending else position > last
    blank = key.is_(None)
    if value is None:  # among the blanks: first ascending, last descending
        return (blank & (id_column < last_id)) if descending else ((blank & (id_column > last_id)) | ~blank)
    if descending:
        return (~blank & (position < last)) | blank
    return ~blank & (position > last)


def contains(columns: Iterable[Any], term: str) -> ColumnElement[bool]:
    """Rows where one of ``columns`` contains ``term``, ignoring letter case; every character literal.

    Characters no database can compare (NUL, unpaired surrogates) are dropped from the term.
    """
    escaped = clean_search(term).lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    return or_(*(func.lower(column).like(pattern, escape="\\") for column in columns))
