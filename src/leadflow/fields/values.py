"""A custom value from input to storage and back, kind by kind.

Input is what a client sends (JSON, a form's text, a spreadsheet's cell); storage is what the
``custom`` column keeps (see ``leadflow.fields.models``); output is what the API returns. A value
that does not fit its field is a ``FieldProblem`` with one of the field codes every entry point
already translates (``required``, ``too_long``, ``invalid_option``, ...).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from leadflow.core.db import MONEY_SCALE
from leadflow.core.schemas import MAX_MONEY, unstorable_character
from leadflow.fields.models import CustomField, FieldKind

SCALE = Decimal(10) ** MONEY_SCALE
MAX_TEXT = 4000  # the longest a text field may be made; multi-line text defaults to it
MAX_WHOLE = 2_147_483_647
TEXT_KINDS = frozenset({FieldKind.TEXT, FieldKind.MULTILINE, FieldKind.EMAIL, FieldKind.PHONE, FieldKind.URL})
NUMBER_KINDS = frozenset({FieldKind.WHOLE_NUMBER, FieldKind.DECIMAL, FieldKind.MONEY})
_URL = re.compile(r"^https?://[^\s/?#]+\.[^\s/?#]+[^\s]*$", re.IGNORECASE)
_TRUE = {"true", "1", "yes", "y", "si", "sí", "s", "verdadero"}
_FALSE = {"false", "0", "no", "n", "falso"}


class FieldProblem(Exception):
    """A value that does not fit its field: a field code and an English sentence."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _text(field: CustomField, value: Any) -> str:
    if not isinstance(value, str):
        raise FieldProblem("invalid_value", "Enter text.")
    found = unstorable_character(value)
    if found is not None:
        raise FieldProblem("invalid_character", f"Contains a character that cannot be stored (U+{ord(found):04X}).")
    value = value.strip() if field.kind is not FieldKind.MULTILINE else value
    limit = field.max_length or (MAX_TEXT if field.kind is FieldKind.MULTILINE else 100)
    if len(value) > limit:
        raise FieldProblem("too_long", f"At most {limit} characters.")
    return value


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise FieldProblem("invalid_amount", "Enter a number.")
    try:
        number = Decimal(str(value).strip().replace(" ", ""))
    except InvalidOperation as error:
        raise FieldProblem("invalid_amount", "Enter a number.") from error
    if not number.is_finite():
        raise FieldProblem("invalid_amount", "Enter a number.")
    return number


def _scaled(field: CustomField, value: Any) -> int:
    number = _decimal(value)
    places = field.precision if field.precision is not None else (2 if field.kind is FieldKind.MONEY else MONEY_SCALE)
    if number != number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN):
        raise FieldProblem("too_precise", f"At most {places} decimals.")
    if abs(number) > MAX_MONEY:
        raise FieldProblem("out_of_range", "This value is out of range.")
    return int(number * SCALE)


def _whole(value: Any) -> int:
    number = _decimal(value)
    if number != number.to_integral_value():
        raise FieldProblem("invalid_value", "Enter a whole number.")
    if abs(number) > MAX_WHOLE:
        raise FieldProblem("out_of_range", "This value is out of range.")
    return int(number)


def _date(value: Any) -> str:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str):
        raise FieldProblem("invalid_date", "Enter a date, like 2026-12-31.")
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError as error:
        raise FieldProblem("invalid_date", "Enter a date, like 2026-12-31.") from error


def _datetime(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as error:
            raise FieldProblem("invalid_date", "Enter a date and time, like 2026-12-31T09:30:00Z.") from error
    if not isinstance(value, datetime):
        raise FieldProblem("invalid_date", "Enter a date and time, like 2026-12-31T09:30:00Z.")
    if value.tzinfo is None:
        raise FieldProblem("invalid_date", "Give the time zone, like 2026-12-31T09:30:00Z.")
    # One fixed form in UTC, so that the stored text sorts as the instants do.
    return value.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def _yes_no(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise FieldProblem("invalid_option", "Choose yes or no.")


def _option(field: CustomField, value: Any) -> str:
    """An option by its value, or by its label in either language (a spreadsheet holds labels)."""
    if isinstance(value, str):
        wanted = value.strip()
        for option in field.options or []:
            if wanted == option["value"] or wanted.casefold() in (
                option["label_en"].casefold(),
                option["label_es"].casefold(),
            ):
                return option["value"]
    raise FieldProblem("invalid_option", "Choose one of the options: " + ", ".join(field.option_values()) + ".")


def _options(field: CustomField, value: Any) -> list[str]:
    if isinstance(value, str):
        value = [part for part in (piece.strip() for piece in value.split(";")) if part]
    if not isinstance(value, list):
        raise FieldProblem("invalid_option", "Give a list of options.")
    chosen = [_option(field, item) for item in value]
    order = field.option_values()
    return sorted(set(chosen), key=order.index)


def _lookup(value: Any) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError as error:
        raise FieldProblem("invalid_id", "Choose a record from the list.") from error


def _email(field: CustomField, value: Any) -> str:
    text = _text(field, value)
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise FieldProblem("invalid_email", "Enter a valid email address, like name@example.com.") from error


def _phone(field: CustomField, value: Any) -> str:
    text = _text(field, value)
    try:
        parsed = phonenumbers.parse(text, "ES")
    except phonenumbers.NumberParseException as error:
        raise FieldProblem("invalid_phone", "Enter a phone number, like +34 912 345 678.") from error
    if not phonenumbers.is_possible_number(parsed):
        raise FieldProblem("invalid_phone", "Enter a phone number, like +34 912 345 678.")
    return text


def _url(field: CustomField, value: Any) -> str:
    text = _text(field, value)
    if not _URL.match(text):
        raise FieldProblem("invalid_url", "Enter a web address that starts with http:// or https://.")
    return text


def to_stored(field: CustomField, value: Any) -> Any:
    """The stored form of one input value (None for blank), or a FieldProblem."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, list) and not value and field.kind is FieldKind.MULTI_CHOICE:
        return None
    kind = field.kind
    if kind in (FieldKind.TEXT, FieldKind.MULTILINE):
        return _text(field, value) or None
    if kind is FieldKind.EMAIL:
        return _email(field, value)
    if kind is FieldKind.PHONE:
        return _phone(field, value)
    if kind is FieldKind.URL:
        return _url(field, value)
    if kind is FieldKind.WHOLE_NUMBER:
        return _whole(value)
    if kind in (FieldKind.DECIMAL, FieldKind.MONEY):
        return _scaled(field, value)
    if kind is FieldKind.DATE:
        return _date(value)
    if kind is FieldKind.DATETIME:
        return _datetime(value)
    if kind is FieldKind.YES_NO:
        return _yes_no(value)
    if kind is FieldKind.CHOICE:
        return _option(field, value)
    if kind is FieldKind.MULTI_CHOICE:
        return _options(field, value)
    return _lookup(value)


def to_output(field: CustomField, stored: Any) -> Any:
    """What the API returns for a stored value: Decimals for decimals and money, the rest as stored."""
    if stored is None:
        return None
    if field.kind in (FieldKind.DECIMAL, FieldKind.MONEY):
        places = field.precision if field.precision is not None else (2 if field.kind is FieldKind.MONEY else 4)
        return (Decimal(int(stored)) / SCALE).quantize(Decimal(1).scaleb(-places))
    return stored


def as_text(field: CustomField, stored: Any, language: str = "en") -> str:
    """A stored value as a page, a file or a terminal shows it (option labels in ``language``)."""
    value = to_output(field, stored)
    if value is None:
        return ""
    if field.kind is FieldKind.YES_NO:
        return ("Sí" if value else "No") if language == "es" else ("Yes" if value else "No")
    if field.kind in (FieldKind.CHOICE, FieldKind.MULTI_CHOICE):
        labels = {option["value"]: option[f"label_{language}"] for option in field.options or []}
        chosen = value if isinstance(value, list) else [value]
        return "; ".join(str(labels.get(item, item)) for item in chosen)
    return str(value)


def base_of(stored_amount: int | None, rate: Decimal) -> int | None:
    """A stored money amount in the base currency (amount ÷ the record's exchange rate), stored the same way."""
    if stored_amount is None:
        return None
    return int((Decimal(int(stored_amount)) / (rate or Decimal(1))).to_integral_value(rounding=ROUND_HALF_EVEN))
