"""Custom field definitions, the lead-to-record mappings of their values, and the column that holds them.

Values live in one JSON column, ``custom``, on each table that has custom fields (JSONB on
PostgreSQL), keyed by the field's name and kept in a form that sorts as the value does: text as
text, numbers as integers (decimals and money scaled to four places, as every amount of leadflow
is), yes/no as true/false, dates as ISO text. A field marked searchable gets an index on the very
expression the lists filter and sort by (``leadflow.fields.storage``), so that adding a field never
needs a migration, and filtering or sorting on it reads only the rows of the page.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.core.db import Base, RecordMixin, enum_column

# The tables whose records carry custom fields.
CUSTOMISABLE = ("leads", "accounts", "contacts", "opportunities")

CustomValues = JSON().with_variant(JSONB(), "postgresql")

# How a record's custom values and a field's default are shown: the functions of leadflow.fields.definitions,
# which reads the definitions and converts the values, registered there (the models import none of it).
SHOWN: dict[str, Callable[[Any], Any]] = {}

# The names of the duplicate detection rules that compare a field, answered by the duplicate detection
# domain above (the fields cannot import it), which registers the function here; a field a rule
# compares keeps its kind and cannot be removed.
RULES_USING: list[Callable[[Any, CustomField], list[str]]] = []


class FieldKind(enum.StrEnum):
    """What a custom field holds."""

    TEXT = "text"
    MULTILINE = "multiline"
    WHOLE_NUMBER = "whole_number"
    DECIMAL = "decimal"
    MONEY = "money"
    DATE = "date"
    DATETIME = "datetime"
    YES_NO = "yes_no"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    LOOKUP = "lookup"
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"


class CustomisableMixin:
    """The ``custom`` column: the record's custom field values, by field name (never null)."""

    custom: Mapped[dict[str, Any]] = mapped_column(
        CustomValues, default=dict, server_default=text("'{}'"), nullable=False
    )

    @property
    def custom_values(self) -> dict[str, Any]:
        """The values as the API shows them (decimals and money as amounts, every field named)."""
        return SHOWN["values"](self)


class CustomField(RecordMixin, Base):
    """One custom field of one table."""

    __tablename__ = "custom_fields"
    __table_args__ = (
        UniqueConstraint("table_name", "name", name="uq_custom_fields_table_name"),
        Index("ix_custom_fields_table_position", "table_name", "position"),
    )

    table_name: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(40))
    label_en: Mapped[str] = mapped_column(String(100))
    label_es: Mapped[str] = mapped_column(String(100))
    kind: Mapped[FieldKind] = mapped_column(enum_column(FieldKind))
    required: Mapped[bool] = mapped_column(default=False)
    # The default in stored form (as the ``custom`` column keeps it), given to new records without a value.
    default_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    max_length: Mapped[int | None] = mapped_column(Integer)
    precision: Mapped[int | None] = mapped_column(Integer)
    # Choice and multi-choice: [{"value": "north", "label_en": "North", "label_es": "Norte"}, ...]
    options: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    lookup_table: Mapped[str | None] = mapped_column(String(40))
    searchable: Mapped[bool] = mapped_column(default=False)
    duplicate_rules: Mapped[bool] = mapped_column(default=False)
    hidden: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)

    def label(self, language: str) -> str:
        """The field's label in ``language`` (Spanish or English)."""
        return self.label_es if language == "es" else self.label_en

    @property
    def default(self) -> Any:
        """The default value as the API shows it."""
        return SHOWN["default"](self)

    def option_values(self) -> list[str]:
        return [option["value"] for option in self.options or []]


class FieldMapping(RecordMixin, Base):
    """Qualify copies the lead's ``source_field`` into the new record's custom field ``target_field``
    (Dynamics' lead-to-opportunity mappings, as data): the source is a lead column or ``custom.<name>``."""

    __tablename__ = "custom_field_mappings"
    __table_args__ = (UniqueConstraint("target_table", "target_field", name="uq_custom_field_mappings_target"),)

    target_table: Mapped[str] = mapped_column(String(40))
    target_field: Mapped[str] = mapped_column(String(40))
    source_field: Mapped[str] = mapped_column(String(80))


class SavedView(RecordMixin, Base):
    """A list as someone works from it: table, filters, sort, columns and grouping.

    A system view (no owner) is everyone's and only administrators change it; the §10 lead views are
    system views whose ``system_key`` names the lead view whose condition they start from (it depends
    on who asks and when: "my open leads", "opened this week"). A personal view belongs to its owner,
    who may share it with one of their teams.
    """

    __tablename__ = "saved_views"
    __table_args__ = (Index("ix_saved_views_table_owner", "table_name", "owner_user_id"),)

    table_name: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    system_key: Mapped[str | None] = mapped_column(String(40))
    owner_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"), index=True)
    # [{"field": "custom.region", "op": "eq", "value": "north"}, ...], all of which must hold.
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    sort: Mapped[str] = mapped_column(String(80), default="-created_at")
    columns: Mapped[list[str]] = mapped_column(JSON, default=list)
    group_by: Mapped[str | None] = mapped_column(String(80))

    @property
    def is_system(self) -> bool:
        return self.owner_user_id is None


class SavedViewDefault(Base):
    """The view a user's list of a table opens with."""

    __tablename__ = "saved_view_defaults"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    table_name: Mapped[str] = mapped_column(String(40), primary_key=True)
    view_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("saved_views.id", ondelete="CASCADE"), index=True)
