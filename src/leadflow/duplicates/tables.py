"""What duplicate detection knows about each table it can compare: columns, activity, display fields.

The comparable columns are read off the mapped tables, so a column added to a model becomes usable
in rules without a list to keep in step.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import Boolean, ColumnElement, Date, DateTime, Enum, String, Table, Text
from sqlalchemy.orm import Session

from leadflow.core.db import mapped_class
from leadflow.duplicates.criteria import Condition, Criterion, InvalidCondition
from leadflow.duplicates.matchcodes import CUSTOM_PREFIX
from leadflow.duplicates.models import DetectionTable
from leadflow.fields.models import CustomField, FieldKind
from leadflow.fields.service import fields_of

# Columns that identify or stamp a record rather than describe it: never compared.
_SYSTEM_COLUMNS = frozenset({"id", "row_version", "created_at", "modified_at", "merged"})

TEXT, PICKLIST, DATE, DATETIME = "text", "picklist", "date", "datetime"
_KINDS_OF_CRITERION = {
    Criterion.EXACT: {TEXT},
    Criterion.SAME_FIRST_CHARACTERS: {TEXT},
    Criterion.SAME_LAST_CHARACTERS: {TEXT},
    Criterion.NORMALIZED: {TEXT},
    Criterion.SIMILAR: {TEXT},
    Criterion.EXACT_PICKLIST: {PICKLIST},
    Criterion.SAME_DATE: {DATE, DATETIME},
    Criterion.SAME_DATE_AND_TIME: {DATETIME},
}


def _column_kind(column: Any) -> str | None:
    if column.foreign_keys or column.name.endswith("_id"):
        return None
    kind = column.type
    if isinstance(kind, Enum | Boolean):
        return PICKLIST
    if isinstance(kind, String | Text):
        return TEXT
    impl = getattr(kind, "impl", kind)
    if isinstance(impl, DateTime):
        return DATETIME
    if isinstance(impl, Date):
        return DATE
    return None


# How a condition compares a custom field of each kind; numbers, money, multi-choice and lookups are
# not compared (Dynamics' criteria compare text, pick-lists and dates).
_CUSTOM_KINDS = {
    FieldKind.TEXT: TEXT,
    FieldKind.MULTILINE: TEXT,
    FieldKind.EMAIL: TEXT,
    FieldKind.PHONE: TEXT,
    FieldKind.URL: TEXT,
    FieldKind.CHOICE: PICKLIST,
    FieldKind.YES_NO: PICKLIST,
    FieldKind.DATE: DATE,
    FieldKind.DATETIME: DATETIME,
}


def custom_detection_kind(field: CustomField) -> str | None:
    """How duplicate detection compares a custom field's values, or None when it cannot."""
    return _CUSTOM_KINDS.get(field.kind)


@dataclass(frozen=True)
class TableInfo:
    """One table as duplicate detection sees it."""

    name: DetectionTable
    label: str
    # The column and value that make a record live (open or active): the only ones a rule may
    # compare against when it excludes inactive records.
    active_when: tuple[str, str]
    # Display columns of a match (§5: name, email, phone, city, owner).
    name_column: str
    phone_column: str
    has_email: bool = True
    has_city: bool = True

    @cached_property
    def model(self) -> type[Any]:
        """The mapped class of the table, defined by the record domain above duplicate detection."""
        return mapped_class(self.name.value)

    @property
    def table(self) -> Table:
        return self.model.__table__

    @property
    def active(self) -> ColumnElement[bool]:
        """The SQL condition selecting live records."""
        column, value = self.active_when
        return self.table.c[column] == value

    @cached_property
    def columns(self) -> dict[str, str]:
        """Comparable column name -> kind (text, picklist, date, datetime); computed once per table."""
        kinds = {}
        for column in self.table.columns:
            if column.name in _SYSTEM_COLUMNS:
                continue
            kind = _column_kind(column)
            if kind is not None:
                kinds[column.name] = kind
        return kinds

    def comparable(self, session: Session) -> dict[str, str]:
        """The columns a rule may compare, by name, with their kind: the table's own and, as
        ``custom.<name>``, its custom fields whose definition lets duplicate rules use them."""
        kinds = dict(self.columns)
        for field in self.rule_fields(session):
            kinds[CUSTOM_PREFIX + field.name] = custom_detection_kind(field) or TEXT  # never None: rule_fields
        return kinds

    def rule_fields(self, session: Session) -> list[CustomField]:
        """The table's custom fields a rule may compare: allowed by their definition, of a kind it compares."""
        return [
            field
            for field in fields_of(session, self.name.value)
            if field.duplicate_rules and custom_detection_kind(field) is not None
        ]

    def read_columns(self, names: set[str]) -> list[Any]:
        """The SQL columns to read for a rule's ``names`` (a custom field's lives in ``custom``), id first."""
        wanted = sorted({"custom" if name.startswith(CUSTOM_PREFIX) else name for name in names})
        return [self.table.c.id, *(self.table.c[name] for name in wanted)]

    def display_columns(self) -> list[Any]:
        table = self.table
        columns: list[Any] = [
            table.c.id,
            table.c[self.name_column].label("name"),
            table.c[self.phone_column].label("phone"),
        ]
        columns.append(table.c.email.label("email") if self.has_email else None)
        columns.append(table.c.address_city.label("city") if self.has_city else None)
        columns.append(table.c.owner_user_id)
        return [column for column in columns if column is not None]


TABLES: dict[DetectionTable, TableInfo] = {
    DetectionTable.LEADS: TableInfo(DetectionTable.LEADS, "lead", ("state", "open"), "full_name", "business_phone"),
    DetectionTable.ACCOUNTS: TableInfo(DetectionTable.ACCOUNTS, "account", ("state", "active"), "name", "telephone"),
    DetectionTable.CONTACTS: TableInfo(
        DetectionTable.CONTACTS, "contact", ("state", "active"), "full_name", "business_phone"
    ),
    DetectionTable.OPPORTUNITIES: TableInfo(
        DetectionTable.OPPORTUNITIES, "opportunity", ("state", "open"), "name", "name", has_email=False, has_city=False
    ),
}
_BY_TABLE_NAME = {info.name.value: info for info in TABLES.values()}


def info_of_record(record: Any) -> TableInfo | None:
    """How detection sees a loaded record's table, or None when it does not compare that table."""
    return _BY_TABLE_NAME.get(getattr(type(record), "__tablename__", ""))


@dataclass(kw_only=True)
class RecordSummary:
    """A record as a duplicate warning or set shows it, with the fields that tell it apart (§5)."""

    id: uuid.UUID
    name: str | None
    email: str | None
    phone: str | None
    city: str | None
    owner_id: uuid.UUID | None
    owner_name: str | None = None

    @classmethod
    def of(cls, info: TableInfo, row: Mapping[str, Any], **more: Any) -> Any:
        """The summary of a whole record's values, or of a row read with ``info.display_columns()``."""
        return cls(
            id=row["id"],
            name=row[info.name_column] if info.name_column in row else row["name"],
            email=row.get("email"),
            # A table without a phone column names its name column instead.
            phone=None if info.phone_column == info.name_column else row.get(info.phone_column, row.get("phone")),
            city=row.get("address_city", row.get("city")),
            owner_id=row.get("owner_user_id"),
            **more,
        )


def table_info(name: str | DetectionTable) -> TableInfo:
    try:
        return TABLES[DetectionTable(name)]
    except ValueError:
        known = ", ".join(table.value for table in DetectionTable)
        raise InvalidCondition(
            f"Duplicate detection does not cover the table {name!r}; use one of: {known}.",
            code="unknown_table",
        ) from None


def check_condition(condition: Condition, base: TableInfo, matching: TableInfo, session: Session) -> None:
    """Refuse a condition naming an unknown column or a column the criterion cannot compare."""
    condition.validate()
    allowed = _KINDS_OF_CRITERION[condition.criterion]
    for column, info in ((condition.base_column, base), (condition.matching_column, matching)):
        columns = info.comparable(session)
        kind = columns.get(column)
        if kind is None:
            raise InvalidCondition(
                f"The {info.name.value} table has no column {column!r} that duplicate detection can compare; "
                f"use one of: {', '.join(sorted(columns))}"
                + (
                    " (a custom field takes part once its definition lets duplicate rules use it)."
                    if column.startswith(CUSTOM_PREFIX)
                    else "."
                ),
                code="unknown_column",
                details={"column": column, "table": info.name.value},
            )
        if kind not in allowed:
            raise InvalidCondition(
                f"The criterion {condition.criterion.value} cannot compare the {kind} column {info.name.value}.{column}.",
                code="criterion_not_applicable",
                details={"column": column, "table": info.name.value, "kind": kind},
            )
    if condition.criterion is Criterion.EXACT_PICKLIST and _picklist(session, base, condition.base_column) != _picklist(
        session, matching, condition.matching_column
    ):
        raise InvalidCondition(
            "An exact pick-list condition compares two columns with the same pick-list.",
            code="criterion_not_applicable",
        )


def _picklist(session: Session, info: TableInfo, column: str) -> object:
    """The pick-list a column draws from: its enum class, or bool for yes/no columns; a custom choice
    field's set of option values, or bool for a custom yes/no field."""
    if column.startswith(CUSTOM_PREFIX):
        name = column.removeprefix(CUSTOM_PREFIX)
        field = next(field for field in fields_of(session, info.name.value) if field.name == name)
        return frozenset(field.option_values()) if field.kind is FieldKind.CHOICE else bool
    kind = info.table.c[column].type
    enum_class = getattr(kind, "enum_class", None)
    return enum_class or (bool if isinstance(kind, Boolean) else type(kind))
