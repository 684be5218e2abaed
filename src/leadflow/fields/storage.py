"""The SQL of custom values: the expression lists filter and sort a field by, and its index.

Each field sorts by one expression per database, and a searchable field has an index on exactly
that expression with the record id behind it (the keyset), so filtering or sorting on it walks the
index. A database uses an expression index only for the same expression, so the text is built in
one place and written literally (field names are checked to be plain identifiers). Blank values sort
first, as the built-in sorts do: the expression replaces a missing value by one below every value.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Boolean, ColumnElement, Connection, String, bindparam, literal_column, text
from sqlalchemy.orm import Session

from leadflow.fields.models import CustomField, FieldKind
from leadflow.fields.values import NUMBER_KINDS

LOWEST_NUMBER = -(2**63)
# Kinds whose values sort as integers (numbers are stored scaled; yes/no as 0/1).
INTEGER_KINDS = NUMBER_KINDS | {FieldKind.YES_NO}
# Multi-choice holds a list: it is filtered by membership, never sorted or indexed.
SORTABLE_KINDS = frozenset(FieldKind) - {FieldKind.MULTI_CHOICE}


def index_name(field: CustomField) -> str:
    return f"ix_cf_{field.table_name}_{field.name}"


def _sql(table: str, name: str, kind: FieldKind, dialect: str, *, qualified: bool) -> str:
    column = f"{table}.custom" if qualified else "custom"
    if dialect == "postgresql":
        raw = f"({column} ->> '{name}')"
        # Cast only a value of the right JSON type: an index is built over every row version a running
        # transaction may still see, values of a removed field of the same name among them.
        typed = f"jsonb_typeof({column} -> '{name}')"
        if kind is FieldKind.YES_NO:
            return f"coalesce(CASE WHEN {typed} = 'boolean' THEN ({raw})::boolean::integer END, -1)"
        if kind in NUMBER_KINDS:
            return f"coalesce(CASE WHEN {typed} = 'number' THEN ({raw})::bigint END, {LOWEST_NUMBER})"
        return f"coalesce({raw}, '')"
    raw = f"json_extract({column}, '$.{name}')"
    if kind in INTEGER_KINDS:
        return f"coalesce({raw}, {-1 if kind is FieldKind.YES_NO else LOWEST_NUMBER})"
    return f"coalesce({raw}, '')"


def value_expression(field: CustomField, dialect: str) -> ColumnElement[Any]:
    """The expression a list filters and sorts ``field`` by (a blank value reads as the lowest)."""
    sql = _sql(field.table_name, field.name, field.kind, dialect, qualified=True)
    return literal_column(sql, BigInteger() if field.kind in INTEGER_KINDS else String())


def blank_value(field: CustomField) -> Any:
    """What ``value_expression`` reads for a record without a value."""
    if field.kind is FieldKind.YES_NO:
        return -1
    return LOWEST_NUMBER if field.kind in INTEGER_KINDS else ""


def has_option(field: CustomField, option: str, dialect: str) -> ColumnElement[bool]:
    """Records whose multi-choice ``field`` includes ``option``."""
    value: Any = bindparam("option", option, unique=True)  # several options in one filter: one name each
    if dialect == "postgresql":
        return text(f"({field.table_name}.custom -> '{field.name}') ? :option").bindparams(value)  # type: ignore[return-value]
    return text(
        f"EXISTS (SELECT 1 FROM json_each({field.table_name}.custom, '$.{field.name}') WHERE json_each.value = :option)"
    ).bindparams(value)  # type: ignore[return-value]


def has_value(field: CustomField, session: Session) -> ColumnElement[bool]:
    """Records that hold a value of ``field``."""
    if session.get_bind().dialect.name == "postgresql":
        return literal_column(f"({field.table_name}.custom ? '{field.name}')", Boolean())
    return literal_column(f"(json_type({field.table_name}.custom, '$.{field.name}') IS NOT NULL)", Boolean())


def create_index(connection: Connection | Session, field: CustomField) -> None:
    """Index a searchable field on its list expression (and the id, for keyset pages)."""
    dialect = connection.get_bind().dialect.name if isinstance(connection, Session) else connection.dialect.name
    expression = _sql(field.table_name, field.name, field.kind, dialect, qualified=False)
    connection.execute(text(f"CREATE INDEX IF NOT EXISTS {index_name(field)} ON {field.table_name} ({expression}, id)"))


def drop_index(connection: Connection | Session, field: CustomField) -> None:
    connection.execute(text(f"DROP INDEX IF EXISTS {index_name(field)}"))


def remove_values(session: Session, field: CustomField) -> None:
    """Take a field's values (and a money field's base amounts) out of every record of its table."""
    dialect = session.get_bind().dialect.name
    table, name = field.table_name, field.name
    if dialect == "postgresql":
        removed = f"custom - '{name}' - '{name}__base'"
        has = f"custom ? '{name}'"
    else:
        removed = f"json_remove(custom, '$.{name}', '$.{name}__base')"
        has = f"json_type(custom, '$.{name}') IS NOT NULL"
    session.execute(text(f"UPDATE {table} SET custom = {removed}, row_version = row_version + 1 WHERE {has}"))


def clear_lookup_values(session: Session, field: CustomField, record_id: Any) -> None:
    """Clear ``field`` (a lookup) on every record naming ``record_id``, as ON DELETE SET NULL would."""
    table, name = field.table_name, field.name
    if session.get_bind().dialect.name == "postgresql":
        removed, named = f"custom - '{name}'", f"custom ->> '{name}' = :id"
    else:
        removed, named = f"json_remove(custom, '$.{name}')", f"json_extract(custom, '$.{name}') = :id"
    session.execute(
        text(f"UPDATE {table} SET custom = {removed}, row_version = row_version + 1 WHERE {named}"),
        {"id": str(record_id)},
    )
