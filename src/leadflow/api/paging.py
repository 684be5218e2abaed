"""How every list of the API pages: ``limit`` and an opaque ``cursor`` in, ``{"items", "next_cursor"}`` out."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, BeforeValidator
from pydantic_core import PydanticCustomError

from leadflow.core.paging import MAX_LIMIT, Page

ItemT = TypeVar("ItemT")

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="How many items at most.")]
Cursor = Annotated[
    str | None, Query(max_length=1000, description="The next_cursor of the previous page; none for the first page.")
]


def _moment(value: Any) -> Any:
    """An ISO 8601 date and time; a bare number is refused (not read as a Unix time), a time
    without a zone is taken as UTC."""
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[+-]?\d+(\.\d*)?([eE][+-]?\d+)?", text):
            raise PydanticCustomError(
                "datetime_parsing", "Input should be an ISO 8601 date and time, for example 2026-11-26T09:30:00Z"
            )
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return value  # pydantic refuses it with its own message
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    return value


Moment = Annotated[datetime | None, BeforeValidator(_moment)]


class PageOut(BaseModel, Generic[ItemT]):
    """One page of a list; ``next_cursor`` is null on the last page."""

    items: list[ItemT]
    next_cursor: str | None = None


def page_out(page: Page[Any], convert: Callable[[Any], Any]) -> dict[str, Any]:
    """A service's page as the API answers it, each item converted."""
    return {"items": [convert(item) for item in page.items], "next_cursor": page.next_cursor}
