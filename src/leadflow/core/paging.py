"""What the lists share: keyset cursors and the case-insensitive "contains" search.

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
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import ColumnElement, func, or_

from leadflow.core.errors import ValidationFailed
from leadflow.core.schemas import clean_search

CursorKind = Literal["text", "integer", "datetime", "date", "money"]


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


def decode_cursor(cursor: str, kind: CursorKind, *, refusal: str) -> tuple[Any, uuid.UUID]:
    """The sort value and id a cursor holds; ``refusal`` is the message when it is not valid."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, raw_id = json.loads(base64.urlsafe_b64decode(padded))
        record_id = uuid.UUID(raw_id)
        if kind == "datetime":
            value = datetime.fromisoformat(value)
        elif kind == "date":
            value = date.fromisoformat(value)
        elif kind == "money":
            value = Decimal(value)
        elif kind == "integer":
            if not isinstance(value, int):
                raise ValueError("unexpected cursor value")
        elif not isinstance(value, str):
            raise ValueError("unexpected cursor value")
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError):
        raise ValidationFailed(refusal, code="invalid_cursor") from None
    return value, record_id


def contains(columns: Iterable[Any], term: str) -> ColumnElement[bool]:
    """Rows where one of ``columns`` contains ``term``, ignoring letter case; every character literal.

    Characters no database can compare (NUL, unpaired surrogates) are dropped from the term.
    """
    escaped = clean_search(term).lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    return or_(*(func.lower(column).like(pattern, escape="\\") for column in columns))
