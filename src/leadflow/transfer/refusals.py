"""A row's refusal as an import keeps it, and as each reader reads it.

A row's line keeps the refusal as the service raised it (code, English sentence, details), so that
the error file and the pages show it in the language of whoever reads them, not of whoever imported.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import to_jsonable_python

from leadflow.core.errors import LeadflowError
from leadflow.http.errors import error_body
from leadflow.http.language import DEFAULT_LANGUAGE
from leadflow.http.refusals import field_items, field_message


def kept(error: LeadflowError) -> dict[str, Any]:
    """The refusal as a row's line keeps it."""
    return {"code": error.code, "message": error.message, "details": to_jsonable_python(error.details)}


def restored(refusal: dict[str, Any]) -> LeadflowError:
    """A kept refusal, to be read again."""
    return LeadflowError(
        str(refusal.get("message", "")), code=str(refusal.get("code", "error")), details=refusal.get("details")
    )


def row_refusal_text(error: LeadflowError, language: str) -> str:
    """A row's refusal in ``language``. A refusal of cells names each column with the value it holds
    and the problem, as the English sentence does."""
    items = field_items(error)
    if items and language != DEFAULT_LANGUAGE:
        parts = []
        for item in items:
            value = item.get("value")
            shown = f" «{value}»" if value else ""
            parts.append(f"{item['field']}{shown}: {field_message(language, item)}")
        return " ".join(parts)
    body = error_body(error, language)["error"]
    assert isinstance(body, dict)
    return str(body["message"])
