"""What every form of the web app shares: the posted form, the ids and row version it carries, the
address fields, and a refused request as the page shows it (its sentence, the messages next to the
fields, the duplicates found), in the user's language.

The sentences of refusals and of fields' problems come from ``leadflow.http.refusals``, which the REST
API answers with too: a refusal reads the same on a page and in a JSON body.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.datastructures import FormData

from leadflow.core.errors import DuplicateDetected, LeadflowError, NotFound, ValidationFailed
from leadflow.http.refusals import REFUSALS, field_items, field_message, refusal_text
from leadflow.web.labels import COLUMN_LABELS, CRITERION_LABELS, RECORD_LABELS, rule_name


async def _posted_form(request: Request) -> AsyncIterator[FormData]:
    """The posted form (urlencoded or multipart), read once; uploaded files are closed after the response."""
    form = await request.form()
    try:
        yield form
    finally:
        await form.close()


# Every field of the posted form (a multi-dict: ``getlist`` for repeated names).
FormDep = Annotated[FormData, Depends(_posted_form)]


# The address of a lead, an account or a contact: its columns in the order the forms show them, and
# the longest value each takes.
ADDRESS_LENGTHS = (
    ("address_line1", 250),
    ("address_line2", 250),
    ("address_line3", 250),
    ("address_city", 80),
    ("address_state_or_province", 50),
    ("address_postal_code", 20),
    ("address_country", 80),
)


def parse_uuid(value: object) -> uuid.UUID | None:
    """A UUID from a URL or form value; None when it is not one."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        return None


def id_in_path(raw: str, *, record: str) -> uuid.UUID:
    """The id of a record in a URL; a malformed one names no record (404, not a validation error)."""
    found = parse_uuid(raw)
    if found is None:
        raise NotFound(f"No {record} has the id {raw}.", code=f"{record}_not_found")
    return found


def parse_version(value: object) -> int | None:
    """The row version a form posts; None when it posts none, which skips the concurrency check."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return int(value)
    except ValueError:
        return -1  # never a row version: the service answers with the stale-record refusal


# ---------------------------------------------------------------------------------------------- refusals

# The sentences of refusals, for the pages that show one without a form (leadflow.web.errors and others).
__all__ = ["REFUSALS", "refusal_text"]

# The fields of the password forms that refusals of the password's checks belong to (the services
# raise them without naming a field).
PASSWORD_FIELDS = {
    "wrong_password": "current_password",
    "password_too_short": "new_password",
    "password_too_common": "new_password",
    "passwords_differ": "repeat_password",
}


def repeated_password(new_password: str, repeat: str) -> None:
    """A new password is typed twice, so that a slip of the finger does not lock its owner out."""
    if new_password != repeat:
        raise ValidationFailed(
            "The two new passwords are not the same; type the same one twice.",
            code="passwords_differ",
            details={"fields": [{"field": "repeat_password", "code": "passwords_differ"}]},
        )


def field_errors(language: str, error: LeadflowError | None) -> dict[str, str]:
    """The message of each field a refusal names, by field name.

    A nested field (``conditions.0.n``) has its message under its full name and under the field it
    belongs to. A problem without a message of its own here shows the service's sentence in English.
    """
    found: dict[str, str] = {}
    for item in field_items(error):
        text = field_message(language, item)
        name = str(item["field"])
        found.setdefault(name, text)
        found.setdefault(name.split(".")[0], text)
    return found


def match_rows(language: str, matches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Duplicate matches as the pages list them: each with its page, its type, its rule and each reason in words."""
    rows = []
    for match in matches:
        reasons = []
        for reason in match.get("reasons") or []:
            column = reason.get("base_column", "")
            criterion = CRITERION_LABELS.get(reason.get("criterion", ""), reason.get("criterion", ""))
            reasons.append(
                {
                    "column": COLUMN_LABELS.get(column, column.replace("_", " ")),
                    "value": reason.get("value"),
                    "matching_value": reason.get("matching_value"),
                    "criterion": criterion,
                }
            )
        table = match.get("table", "")
        label_of_table = RECORD_LABELS.get(table, table)
        rows.append(
            {
                **match,
                "reasons_text": reasons,
                "table_label": label_of_table,
                "url": f"/{table}/{match.get('id')}",
                "rule_name": rule_name(language, match["rule_name"])
                if match.get("rule_name")
                else match.get("rule_name"),
            }
        )
    return rows


@dataclass
class Refusal:
    """A refused request as a page shows it: the sentence, the field messages and any duplicates found."""

    message: str
    code: str
    fields: dict[str, str] = field(default_factory=dict)
    matches: list[dict[str, Any]] = field(default_factory=list)


def refusal(language: str, error: LeadflowError, fields_by_code: dict[str, str] | None = None) -> Refusal:
    """A domain refusal in the user's language, with its field messages and duplicate matches.

    ``fields_by_code`` names the form field a refusal that names none belongs to (by its code): its
    sentence is then shown next to that field too.
    """
    details = error.details if isinstance(error.details, dict) else {}
    matches = match_rows(language, details.get("matches") or []) if isinstance(error, DuplicateDetected) else []
    found = Refusal(refusal_text(language, error), error.code, fields=field_errors(language, error), matches=matches)
    if fields_by_code and error.code in fields_by_code:
        found.fields.setdefault(fields_by_code[error.code], found.message)
    return found
