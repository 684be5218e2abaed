"""Pieces shared by the input and output models of every table."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationError,
    create_model,
    field_validator,
)
from pydantic_core import PydanticCustomError

from leadflow.core.errors import ValidationFailed

MAX_MONEY = Decimal("1000000000000")
ModelT = TypeVar("ModelT", bound=BaseModel)

Text50 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)]
Text100 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
Text200 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
RequiredName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
# Money is kept with four decimals; quantising on input makes a response echo what GET returns.
Amount = Annotated[
    Decimal,
    Field(ge=0, le=MAX_MONEY, max_digits=17, decimal_places=4),
    AfterValidator(lambda amount: amount.quantize(Decimal("0.0001"))),
]
Email = EmailStr


def not_cleared(value: Any) -> Any:
    """A required field may be left out of a partial update, but not set to null."""
    if value is None:
        raise PydanticCustomError("required", "Field required")
    return value


# On a required field of a partial update: it may be left out (None by default), never sent as null.
NotCleared = BeforeValidator(not_cleared)


def unstorable_character(text: str) -> str | None:
    """The first character of ``text`` no database can keep (NUL, an unpaired surrogate), if any.

    PostgreSQL refuses NUL in text and no encoder can write half a surrogate pair; SQLite would keep
    them, so the two databases would disagree. Every other character, control characters included,
    is stored as given.
    """
    for character in text:
        if character == "\x00" or "\ud800" <= character <= "\udfff":
            return character
    return None


def refuse_unstorable(value: Any) -> Any:
    """The value, unless it (or an item of it) holds text no database can store."""
    # Text, and lists of text; a nested model checks its own fields (so the error names the inner field).
    for item in value if isinstance(value, list | tuple | set) else (value,):
        found = unstorable_character(item) if isinstance(item, str) else None
        if found is not None:
            raise PydanticCustomError(
                "invalid_character",
                "contains a character that cannot be stored ({character}); remove it",
                {"character": f"U+{ord(found):04X}"},
            )
    return value


def clean_search(term: str) -> str:
    """A search term without the characters no database can compare (they are dropped, not refused)."""
    return "".join(character for character in term if unstorable_character(character) is None)


class InputModel(BaseModel):
    """Input models refuse unknown fields, so that a typo is an error rather than silently ignored,
    and text no database can store (one check at the boundary, for every entry point)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return refuse_unstorable(value)


InputModelT = TypeVar("InputModelT", bound=InputModel)


def partial_model(model: type[InputModelT], name: str, doc: str) -> type[InputModelT]:
    """The same input with every field optional but not nullable, for a PATCH: what is sent changes,
    what is left out stays (read the change with ``model_dump(exclude_unset=True)``)."""
    optional: dict[str, Any] = {
        field: (Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation, None)
        for field, info in model.model_fields.items()
    }
    return create_model(name, __base__=model, __doc__=doc, **optional)


# The record's custom field values by field name (leadflow.fields): on input, the ones to set (null
# clears one); on output, every field of the table, a money field's base amount as ``<name>_base``.
CustomIn = Annotated[
    dict[str, Any] | None,
    Field(max_length=500, description="Custom field values by field name; null clears one."),
]
CustomOut = Annotated[
    dict[str, Any],
    Field(
        default_factory=dict,
        validation_alias=AliasChoices("custom_values", "custom"),
        description="Custom field values by field name (GET /api/v1/custom-fields describes them).",
    ),
]


class OutputModel(BaseModel):
    """Output models read straight from ORM records."""

    model_config = ConfigDict(from_attributes=True)


class RecordOut(OutputModel):
    id: uuid.UUID
    row_version: int
    created_at: datetime
    modified_at: datetime


class AddressOut(BaseModel):
    address_line1: str | None
    address_line2: str | None
    address_line3: str | None
    address_city: str | None
    address_state_or_province: str | None
    address_postal_code: str | None
    address_country: str | None


class AddressFields(BaseModel):
    address_line1: Annotated[str, StringConstraints(max_length=250)] | None = None
    address_line2: Annotated[str, StringConstraints(max_length=250)] | None = None
    address_line3: Annotated[str, StringConstraints(max_length=250)] | None = None
    address_city: Annotated[str, StringConstraints(max_length=80)] | None = None
    address_state_or_province: Annotated[str, StringConstraints(max_length=50)] | None = None
    address_postal_code: Annotated[str, StringConstraints(max_length=20)] | None = None
    address_country: Annotated[str, StringConstraints(max_length=80)] | None = None


# Field-level error codes, by pydantic error type: stable words clients can switch on.
_ERROR_CODES = {
    "missing": "required",
    "required": "required",
    "invalid_option": "invalid_option",
    "string_too_short": "required",
    "enum": "invalid_option",
    "literal_error": "invalid_option",
    "value_error": "invalid_value",
    "greater_than_equal": "out_of_range",
    "less_than_equal": "out_of_range",
    "greater_than": "out_of_range",
    "less_than": "out_of_range",
    "decimal_max_digits": "out_of_range",
    "decimal_max_places": "too_precise",
    "string_too_long": "too_long",
    "too_long": "too_many",
    "extra_forbidden": "unknown_field",
    "invalid_character": "invalid_character",
    "uuid_parsing": "invalid_id",
    "uuid_type": "invalid_id",
}


def _field_code(error: dict[str, Any]) -> str:
    if error.get("input", ...) is None and error["type"].endswith("_type"):
        return "required"
    if error["type"] == "value_error" and "valid email address" in str(error.get("msg", "")).lower():
        return "invalid_email"
    return _ERROR_CODES.get(error["type"], "invalid_value")


_REQUEST_PARTS = ("body", "query", "path", "header", "cookie", "form")


def _field_name(loc: tuple[Any, ...], *, located: bool) -> str:
    # FastAPI puts where in the request a field came from first; a field may itself be called "body".
    parts = [str(p) for p in (loc[1:] if located and loc and loc[0] in _REQUEST_PARTS else loc)]
    return ".".join(parts) or "request"


def _sentence(field: str, code: str, error: dict[str, Any]) -> str:
    label = field.replace("_", " ").capitalize()
    if code == "required":
        return f"{label} is required."
    if code == "invalid_option":
        expected = (error.get("ctx") or {}).get("expected")
        return f"{label} must be one of {expected}." if expected else f"{label} has an unknown value."
    if code == "out_of_range":
        return f"{label} is out of range: {error['msg'].lower()}."
    if code == "invalid_email":
        return f"{label} is not a valid email address."
    if code == "too_long":
        return f"{label} is too long: {error['msg'].lower()}."
    if code == "unknown_field":
        return f"{label} is not a field of this record."
    if code == "invalid_character":
        return f"{label} {error['msg']}."
    return f"{label}: {error['msg']}."


def validation_failed_from(errors: list[dict[str, Any]], *, located: bool = False) -> ValidationFailed:
    """One ValidationFailed naming every offending field, from pydantic's error list.

    ``located``: the errors are FastAPI's, whose locations start with the part of the request.
    """
    fields = []
    for error in errors:
        name = _field_name(tuple(error.get("loc", ())), located=located)
        code = _field_code(error)
        fields.append({"field": name, "code": code, "message": _sentence(name, code, error)})
    top_code = fields[0]["code"] if len({f["code"] for f in fields}) == 1 else "validation_failed"
    message = " ".join(f["message"] for f in fields)
    return ValidationFailed(message, code=top_code, details={"fields": fields})


def parse(model: type[ModelT], data: Any) -> ModelT:
    """Validate input into ``model``; malformed input raises ValidationFailed, never pydantic's error."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise validation_failed_from([dict(item) for item in error.errors()]) from None
