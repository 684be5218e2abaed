"""Input and output shapes of custom field definitions and of the qualify mappings of their values."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from leadflow.core.schemas import InputModel, OutputModel, RecordOut, partial_model
from leadflow.fields.models import FieldKind

Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
# Longer names reach the service, which refuses them with the naming rule (invalid_name).
FieldName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class OptionIn(InputModel):
    """One option of a choice field: a stable value and its labels."""

    value: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
    label_en: Label
    label_es: Label


class FieldChanges(InputModel):
    """What an administrator may change on a field once it exists (its name and table stay)."""

    label_en: Label
    label_es: Label
    kind: FieldKind
    required: bool = False
    default: Any = None
    max_length: Annotated[int, Field(ge=1, le=4000)] | None = None
    precision: Annotated[int, Field(ge=0, le=4)] | None = None
    options: Annotated[list[OptionIn], Field(max_length=200)] | None = None
    lookup_table: str | None = None
    searchable: bool = False
    duplicate_rules: bool = False
    hidden: bool = False
    position: Annotated[int, Field(ge=0, le=10_000)] | None = None


class FieldCreate(FieldChanges):
    """A new custom field of ``table``."""

    table: str
    name: FieldName


FieldUpdate = partial_model(
    FieldChanges, "FieldUpdate", "A partial change of a custom field: only what is sent changes."
)


class FieldOut(RecordOut):
    """A custom field as the API returns it."""

    table: Annotated[str, Field(validation_alias="table_name")]
    name: str
    label_en: str
    label_es: str
    kind: FieldKind
    required: bool
    default: Any = None
    max_length: int | None
    precision: int | None
    options: list[dict[str, str]] | None
    lookup_table: str | None
    searchable: bool
    duplicate_rules: bool
    hidden: bool
    position: int


class FieldOrder(InputModel):
    """The fields of a table in the order forms and lists show them."""

    names: Annotated[list[FieldName], Field(min_length=1, max_length=500)]


class MappingIn(InputModel):
    """Qualify fills the target table's custom field from this lead field (a column, or custom.<name>)."""

    target_table: str
    target_field: FieldName
    source_field: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


class MappingOut(OutputModel):
    id: uuid.UUID
    target_table: str
    target_field: str
    source_field: str
