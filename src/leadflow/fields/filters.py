"""List conditions and sorts on any field of a table, built-in or custom, for lists and saved views.

A condition is ``(field, operator, value)``: ``field`` names a column of the table or
``custom.<name>``; the operators are those a list supports. A custom field is compared through the
expression its index is built on (``leadflow.fields.storage``), so a searchable field's filter and
sort walk that index. Values are checked and converted like the field's input (an option by its
value or label, a date as ISO text), so a filter refuses what a form would refuse, as a 422.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, inspect, not_, or_
from sqlalchemy.orm import Session

from leadflow.core.db import mapped_class
from leadflow.core.errors import LeadflowError, ValidationFailed, field_refusal
from leadflow.core.paging import CursorKind, contains
from leadflow.fields import storage
from leadflow.fields.models import CustomField, FieldKind
from leadflow.fields.service import field_named
from leadflow.fields.values import FieldProblem, to_stored

OPERATORS = ("eq", "ne", "lt", "le", "gt", "ge", "contains", "in", "blank", "not_blank")
_ORDERED = {"lt", "le", "gt", "ge"}
# Built-in columns no list filters on: keys and bookkeeping, and what needs its own query.
_HIDDEN_COLUMNS = {"custom", "row_version", "search_vector"}


@dataclass(frozen=True)
class Condition:
    """One filter of a list: ``field`` ``op`` ``value``."""

    field: str
    op: str
    value: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "op": self.op, "value": self.value}


def parse_condition(text: str) -> Condition:
    """``field:op:value`` (the value may hold colons; ``in`` takes values separated by ``|``)."""
    field, _, rest = text.partition(":")
    op, _, value = rest.partition(":")
    return Condition(field.strip(), op.strip(), value.split("|") if op.strip() == "in" else value)


def _refuse(message: str, code: str = "invalid_filter") -> LeadflowError:
    return field_refusal("filter", code, message)


def custom_field(session: Session, table: str, key: str, *, purpose: str = "filter") -> CustomField:
    """The visible custom field ``custom.<name>`` of ``table``, or a 422."""
    name = key.removeprefix("custom.")
    field = field_named(session, table, name)
    if field is None:
        raise _refuse(f"The {table} table has no custom field named {name!r}.", "unknown_field")
    if field.hidden:
        raise _refuse(
            f"The custom field {name!r} is hidden; an administrator can show it again before lists {purpose} on it.",
            "hidden_field",
        )
    return field


def _builtin(model: Any, table: str, key: str) -> Any:
    column = inspect(model).columns.get(key)
    if column is None or key in _HIDDEN_COLUMNS:
        raise _refuse(f"The {table} table has no field named {key!r} to filter on.", "unknown_field")
    return column


def _builtin_value(column: Any, value: Any) -> Any:
    """A filter value in the type of a built-in column."""
    try:
        python_type: Any = column.type.python_type
    except NotImplementedError:
        python_type = str
    try:
        if value is None or value == "":
            return None
        if isinstance(python_type, type) and issubclass(python_type, enum.Enum):
            return python_type(value)
        if python_type is bool:
            return value if isinstance(value, bool) else str(value).lower() in ("true", "1", "yes")
        if python_type is uuid.UUID:
            return uuid.UUID(str(value))
        if python_type is datetime:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        if python_type is date:
            return date.fromisoformat(str(value))
        if python_type in (int, Decimal):
            return python_type(str(value))
        return str(value)
    except (ValueError, ArithmeticError):
        raise _refuse(f"{value!r} is not a value of {column.key}.", "invalid_value") from None


def _custom_value(field: CustomField, value: Any) -> Any:
    """A filter value as the field's list expression reads it."""
    try:
        stored = to_stored(field, value)
    except FieldProblem as problem:
        raise _refuse(f"custom.{field.name}: {problem.message}", "invalid_value") from None
    if stored is None:
        return storage.blank_value(field)
    return int(stored) if field.kind is FieldKind.YES_NO else stored


def condition_sql(session: Session, table: str, condition: Condition) -> ColumnElement[bool]:
    """The SQL condition of one filter on ``table``."""
    if condition.op not in OPERATORS:
        raise _refuse(f"Filter with one of the operators {', '.join(OPERATORS)}; {condition.op!r} is not one.")
    model = mapped_class(table)
    op, value = condition.op, condition.value
    if condition.field.startswith("custom."):
        field = custom_field(session, table, condition.field)
        dialect = session.get_bind().dialect.name
        if field.kind is FieldKind.MULTI_CHOICE:
            if op not in ("eq", "in", "blank", "not_blank"):
                raise _refuse(f"A multi-choice field is filtered with eq, in, blank or not_blank, not {op}.")
            if op in ("blank", "not_blank"):
                held = storage.has_value(field, session)
                return not_(held) if op == "blank" else held
            wanted = value if isinstance(value, list) else [value]
            options = [_custom_value(CustomField(**_as_choice(field)), item) for item in wanted]
            return or_(*(storage.has_option(field, option, dialect) for option in options))
        expression: Any = storage.value_expression(field, dialect)
        blank = storage.blank_value(field)
        if op == "blank":
            return expression == blank
        if op == "not_blank":
            return expression != blank
        if op == "contains":
            if field.kind in storage.INTEGER_KINDS:
                raise _refuse(
                    f"custom.{field.name} holds numbers or yes/no; filter it with eq, lt, gt or in, not contains."
                )
            return contains((expression,), str(value or ""))
        if op == "in":
            items = value if isinstance(value, list) else [value]
            return expression.in_([_custom_value(field, item) for item in items])
        compared = _custom_value(field, value)
        if op in _ORDERED and field.kind in (FieldKind.CHOICE, FieldKind.YES_NO):
            raise _refuse(f"custom.{field.name} is compared with eq, ne or in, not {op}.")
        # Blanks read as the lowest value: an order comparison leaves them out, as SQL's NULL would.
        if op in ("lt", "le", "ne"):
            return and_(expression != blank, _compare(expression, op, compared))
        return _compare(expression, op, compared)
    column = _builtin(model, table, condition.field)
    attribute = getattr(model, column.key)
    if op == "blank":
        return attribute.is_(None)
    if op == "not_blank":
        return attribute.is_not(None)
    if op == "contains":
        return contains((attribute,), str(value or ""))
    if op == "in":
        items = value if isinstance(value, list) else [value]
        return attribute.in_([_builtin_value(column, item) for item in items])
    compared = _builtin_value(column, value)
    if compared is None:
        return attribute.is_(None) if op == "eq" else attribute.is_not(None)
    return _compare(attribute, op, compared)


def _as_choice(field: CustomField) -> dict[str, Any]:
    return {"table_name": field.table_name, "name": field.name, "kind": FieldKind.CHOICE, "options": field.options}


def _compare(expression: Any, op: str, value: Any) -> ColumnElement[bool]:
    return {
        "eq": lambda: expression == value,
        "ne": lambda: expression != value,
        "lt": lambda: expression < value,
        "le": lambda: expression <= value,
        "gt": lambda: expression > value,
        "ge": lambda: expression >= value,
    }[op]()


def custom_sort(session: Session, table: str, key: str) -> tuple[ColumnElement[Any], CursorKind]:
    """The expression a list sorts ``custom.<name>`` by, and the kind of its cursor values."""
    field = custom_field(session, table, key, purpose="sort")
    if field.kind not in storage.SORTABLE_KINDS:
        raise ValidationFailed(
            f"custom.{field.name} holds several options and cannot be sorted on; filter on it instead.",
            code="invalid_sort",
        )
    expression = storage.value_expression(field, session.get_bind().dialect.name)
    return expression, "bigint" if field.kind in storage.INTEGER_KINDS else "text"


def conditions_sql(session: Session, table: str, conditions: list[Condition] | tuple[Condition, ...]) -> list[Any]:
    return [condition_sql(session, table, condition) for condition in conditions]


__all__ = ["OPERATORS", "Condition", "condition_sql", "conditions_sql", "custom_sort", "parse_condition"]
