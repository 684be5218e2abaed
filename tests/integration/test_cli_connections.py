"""A command gives back every database connection it opened when it ends, so that a process that runs
many commands (a script, a scheduler, the test suite) does not pile them up until the server refuses
new clients ("too many clients already" on PostgreSQL)."""

from __future__ import annotations

import gc
import sqlite3
from collections.abc import Iterator

import pytest
from sqlalchemy import NullPool, create_engine, text
from sqlalchemy.engine import make_url

from leadflow.core.uow import Database
from tests.integration.test_cli_json import leadflow


def open_connections(database: Database) -> int:
    """How many connections to this test's database are open now: the server's own count on
    PostgreSQL; on SQLite, the SQLite connections of this process that are not closed."""
    if database.dialect == "postgresql":
        url = make_url(database.url)
        engine = create_engine(url.set(database="postgres"), poolclass=NullPool)
        try:
            with engine.connect() as connection:
                return connection.scalar(
                    text("SELECT count(*) FROM pg_stat_activity WHERE datname = :name"), {"name": url.database}
                )
        finally:
            engine.dispose()
    return sum(1 for thing in gc.get_objects() if isinstance(thing, sqlite3.Connection) and _is_open(thing))


def _is_open(connection: sqlite3.Connection) -> bool:
    try:
        connection.in_transaction  # noqa: B018 (a closed connection refuses to answer)
    except sqlite3.ProgrammingError:
        return False
    return True


@pytest.fixture
def without_collector() -> Iterator[None]:
    """No garbage collection meanwhile: connections must be given back when the command ends, not
    whenever the collector happens to come by (a busy process piles them up in between)."""
    gc.collect()
    gc.disable()
    yield
    gc.enable()


@pytest.mark.usefixtures("without_collector")
def test_commands_that_read_and_write_leave_no_connection_open(database: Database) -> None:
    before = open_connections(database)
    for _ in range(5):
        assert leadflow(database, "leads", "create", "--topic", "Uno", "--last-name", "Ruiz").exit_code == 0
        assert leadflow(database, "leads", "list").exit_code == 0
        assert leadflow(database, "leads", "show", "no-such-lead").exit_code != 0  # a refusal closes them too
    assert open_connections(database) == before
