"""Alembic environment: runs against the connection or URL that leadflow hands it."""

from typing import Any, Literal

from alembic import context
from sqlalchemy.sql.elements import Case
from sqlalchemy.types import TypeDecorator

from leadflow.bootstrap.models import metadata
from leadflow.core.db import make_engine
from leadflow.core.migrate import foreign_keys_checked_after

config = context.config


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection, foreign_keys_checked_after(connection):
        _run(connection)
        connection.commit()
    engine.dispose()


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Write leadflow's column types as their storage type, so migrations never import app code."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def _include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Leave out what migration 0004 builds in raw SQL for the lead search, which no model
    describes: SQLite's FTS5 table with its shadow tables and row map, PostgreSQL's trigram indexes;
    the job queue's own tables, which Huey keeps in a PostgreSQL database that holds the queue; and the
    indexes of searchable custom fields, which leadflow.fields makes when an administrator adds one."""
    return not (name or "").startswith(("leads_search", "ix_leads_search_", "job_queue_", "ix_cf_"))


# Alembic compares the text PostgreSQL prints for an index on a CASE expression, which it breaks
# over several lines, with the one-line text the model compiles to, and reports a difference that
# is not there. These indexes (the lead list's sorts by status and rating) are left out of the
# comparison; tests/integration/test_lead_list_indexes.py checks that the database uses them.
_CASE_INDEXES = {
    index.name
    for table in metadata.tables.values()
    for index in table.indexes
    if any(isinstance(expression, Case) for expression in index.expressions)
}


def _include_object(object_: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not (type_ == "index" and name in _CASE_INDEXES)


def _run(connection) -> None:
    context.configure(
        render_item=_render_item,
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=_include_name,
        include_object=_include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
