"""Fixtures shared by every test: real databases (SQLite and PostgreSQL), the app, an actor.

Storage tests run once per backend. PostgreSQL tests need the server named by
``LEADFLOW_TEST_POSTGRES_URL`` (default: postgres on 127.0.0.1:5432); each test run creates its
own database there and drops it at the end. When no server answers, those tests are skipped and
the run says so loudly at the end.

Each test process (each pytest-xdist worker) migrates one database per backend and builds the
organisation in it once; every test then starts from exactly that state, put back by
``DatabaseState.restore`` (one transaction that deletes every row and inserts the saved ones).
Passwords are hashed with argon2id's cheapest parameters (``LEADFLOW_PASSWORD_HASHING=cheapest``,
set below before leadflow is imported): the suite hashes and checks thousands of throwaway
passwords, which at the recommended parameters (64 MiB, 3 passes each) took minutes. Jobs run at
once in the process that starts them (``LEADFLOW_QUEUE_URL=immediate``) unless a test says otherwise.
"""

from __future__ import annotations

import os

# Before leadflow is imported: the password hasher is made with the module that hashes.
os.environ.setdefault("LEADFLOW_PASSWORD_HASHING", "cheapest")
# Jobs run at once in the process that starts them, unless a test names a queue of its own
# (tests/integration/test_job_queue.py runs real workers on SQLite, PostgreSQL and Redis).
os.environ.setdefault("LEADFLOW_QUEUE_URL", "immediate")

import uuid
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import typer.testing
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, Table, create_engine, text
from sqlalchemy.engine import make_url

from leadflow.asgi import create_app
from leadflow.bootstrap import ensure_organisation
from leadflow.bootstrap.models import metadata
from leadflow.core.config import Settings
from leadflow.core.db import make_engine
from leadflow.core.migrate import upgrade
from leadflow.core.uow import Database
from leadflow.security.actor import Actor, default_actor
from leadflow.security.authentication import create_personal_token
from leadflow.security.credentials import hash_password
from leadflow.security.service import create_user

POSTGRES_ADMIN_URL = os.environ.get(
    "LEADFLOW_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
# The command line's click command, built from the Typer app once per test process, as the installed
# ``leadflow`` builds it once per run: Typer's test runner builds it again for every invocation (a
# quarter of a second for leadflow's 170 commands, most of a command-line test's time).
typer.testing._get_command = cache(typer.testing._get_command)  # type: ignore[assignment]

BACKENDS = ("sqlite", "postgresql")
_postgres_problem: list[str] = []


def _postgres_available() -> bool:
    if _postgres_problem:
        return False
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception as error:  # noqa: BLE001 - any failure to reach the server means: skip, loudly
        _postgres_problem.append(f"{type(error).__name__}: {error}".splitlines()[0])
        return False


REDIS_URL = os.environ.get("LEADFLOW_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
_redis_problem: list[str] = []


def redis_available() -> bool:
    """Whether the Redis of ``LEADFLOW_TEST_REDIS_URL`` answers (asked once per process)."""
    if _redis_problem:
        return False
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
        return True
    except Exception as error:  # noqa: BLE001 - any failure to reach the server means: skip, loudly
        _redis_problem.append(f"{type(error).__name__}: {error}".splitlines()[0])
        return False


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _redis_problem or not redis_available():
        terminalreporter.write_sep("!", "REDIS TESTS WERE SKIPPED", red=True, bold=True)
        terminalreporter.write_line(
            f"No Redis answered at {REDIS_URL}: {_redis_problem[0]}; start one (or set LEADFLOW_TEST_REDIS_URL) "
            "to run the job queue's tests on Redis.",
            red=True,
        )
    # Under pytest-xdist the workers skip; this (controlling) process asks the server itself.
    if _postgres_problem or not _postgres_available():
        terminalreporter.write_sep("!", "POSTGRESQL TESTS WERE SKIPPED", red=True, bold=True)
        terminalreporter.write_line(
            f"No PostgreSQL server answered at {make_url(POSTGRES_ADMIN_URL).render_as_string()}: "
            f"{_postgres_problem[0]}",
            red=True,
        )
        terminalreporter.write_line(
            "Start one (or set LEADFLOW_TEST_POSTGRES_URL) to run the storage tests on PostgreSQL.",
            red=True,
        )


def _create_postgres_database() -> tuple[str, str]:
    name = f"leadflow_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        # A test database is dropped at the end of the run: its commits need not wait for the disk.
        # (Only durability across a server crash differs; what each connection sees is the same.)
        connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit TO off'))
    admin.dispose()
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    return name, url


def _drop_postgres_database(name: str) -> None:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# The engine of each migrated database, shared by its tests: its connections and compiled statements
# are reused from test to test (each test still gets a Database of its own around it).
_ENGINES: dict[str, Engine] = {}


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of each backend, migrated with Alembic once per test session."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("sqlite") / "leadflow.db"
        url = f"sqlite:///{path}"
        engine = _ENGINES[url] = make_engine(url)
        upgrade(engine)
        yield url
        _ENGINES.pop(url).dispose()
        return
    if not _postgres_available():
        pytest.skip(f"PostgreSQL not reachable: {_postgres_problem[0]}")
    name, url = _create_postgres_database()
    try:
        engine = _ENGINES[url] = make_engine(url)
        upgrade(engine)
        yield url
    finally:
        if url in _ENGINES:
            _ENGINES.pop(url).dispose()
        _drop_postgres_database(name)


# Every table of the schema but the security generation, whose one row comes with the migration.
_DATA_TABLES: tuple[Table, ...] = tuple(
    table for table in metadata.sorted_tables if table.name != "security_generation"
)


def _drop_custom_field_indexes(connection: Connection, dialect: str) -> None:
    """The indexes searchable custom fields made (leadflow.fields.storage) go with their fields."""
    if not connection.exec_driver_sql("SELECT 1 FROM custom_fields LIMIT 1").first():
        return
    listing = (
        "SELECT indexname FROM pg_indexes WHERE left(indexname, 6) = 'ix_cf_'"
        if dialect == "postgresql"
        else "SELECT name FROM sqlite_master WHERE type = 'index' AND substr(name, 1, 6) = 'ix_cf_'"
    )
    for (name,) in connection.exec_driver_sql(listing).all():
        connection.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")


def _delete_all_rows(connection: Connection, dialect: str) -> None:
    _drop_custom_field_indexes(connection, dialect)
    if dialect == "postgresql":
        # One statement, so that the foreign keys are checked once every row is gone. DELETE, not
        # TRUNCATE: the few rows a test leaves are deleted in milliseconds, TRUNCATE takes a second.
        *first, last = reversed(_DATA_TABLES)
        deletes = ", ".join(f"gone_{index} AS (DELETE FROM {table.name})" for index, table in enumerate(first))
        connection.exec_driver_sql(f"WITH {deletes} DELETE FROM {last.name}")
    else:
        connection.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
        for table in reversed(_DATA_TABLES):
            connection.exec_driver_sql(f"DELETE FROM {table.name}")


def _empty_all_tables(database: Database) -> None:
    with database.engine.begin() as connection:
        _delete_all_rows(connection, database.dialect)


class DatabaseState:
    """Every row of a database (the security generation aside), saved to put the database back into
    this state before each test, in one transaction that deletes every row and inserts the saved ones:
    a few milliseconds, where building the organisation again through the services took a second.

    The rows are kept as the database stores them (PostgreSQL's COPY text, SQLite's values), so that
    they come back exactly, without going through the models' types."""

    def __init__(self, database: Database) -> None:
        self.rows: dict[str, tuple[str, Any]] = {}  # table -> (its columns, its rows), parents first
        with database.engine.connect() as connection:
            quote = connection.dialect.identifier_preparer.quote
            for table in _DATA_TABLES:
                columns = ", ".join(quote(column.name) for column in table.columns)
                if database.dialect == "postgresql":
                    driver_connection: Any = connection.connection.dbapi_connection
                    with (
                        driver_connection.cursor() as cursor,
                        cursor.copy(f"COPY {table.name} ({columns}) TO STDOUT") as copy,
                    ):
                        rows: Any = b"".join(bytes(data) for data in copy)
                else:
                    rows = [tuple(row) for row in connection.exec_driver_sql(f"SELECT {columns} FROM {table.name}")]
                if rows:
                    self.rows[table.name] = (columns, rows)

    def restore(self, database: Database) -> None:
        with database.engine.begin() as connection:
            _delete_all_rows(connection, database.dialect)
            # The generation moves on: no actor a process cached before (users keep their ids) is used.
            connection.exec_driver_sql("UPDATE security_generation SET generation = generation + 1")
            driver_connection: Any = connection.connection.dbapi_connection
            for table, (columns, rows) in self.rows.items():
                if database.dialect == "postgresql":
                    with (
                        driver_connection.cursor() as cursor,
                        cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
                    ):
                        copy.write(rows)
                else:
                    places = ", ".join("?" * len(rows[0]))
                    connection.exec_driver_sql(f"INSERT INTO {table} ({columns}) VALUES ({places})", rows)


ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "correct horse battery staple"


@cache
def _organisation(url: str) -> DatabaseState:
    """The organisation and its System Administrator, built once per process and database."""
    database = Database(url, engine=_ENGINES[url])
    _empty_all_tables(database)
    with database.unit_of_work() as uow:
        ensure_organisation(uow=uow, base_currency="EUR")
        admin = create_user(
            email=ADMIN_EMAIL,
            full_name="Ada Admin",
            role_names=["System Administrator"],
            business_unit_name=None,
            password=None,
            uow=uow,
            actor=None,
        )
        admin.password_hash = hash_password(ADMIN_PASSWORD)  # set as is: the strength check is not the point
        uow.commit()
    return DatabaseState(database)


@pytest.fixture
def database(migrated_url: str) -> Database:
    """A migrated database with just the organisation and one System Administrator; one per test."""
    database = Database(migrated_url, engine=_ENGINES[migrated_url])
    _organisation(migrated_url).restore(database)
    return database


@pytest.fixture
def backend(database: Database) -> str:
    """``sqlite`` or ``postgresql``: the dialect of this test's database."""
    return database.dialect


@pytest.fixture
def actor(database: Database) -> Actor:
    """The organisation's administrator."""
    with database.unit_of_work(read_only=True) as uow:
        return default_actor(uow.session)


@pytest.fixture
def settings(database: Database) -> Settings:
    """Settings of the app under test; a small attachment limit keeps the size tests fast."""
    return Settings(database_url=database.url, max_attachment_bytes=64 * 1024)


def bearer_headers(database: Database, email: str) -> dict[str, str]:
    """Authorization headers with a fresh personal token of the given user."""
    with database.unit_of_work() as uow:
        issued = create_personal_token(email, name="tests", days=1, uow=uow, actor=None)
        uow.commit()
    return {"Authorization": f"Bearer {issued.secret}"}


_APPS: dict[tuple[str, Callable[[FastAPI], None] | None], FastAPI] = {}


def app_for(database: Database, settings: Settings, *, extend: Callable[[FastAPI], None] | None = None) -> FastAPI:
    """The app of ``create_app(database, settings)``, built once per process, settings and ``extend``
    (a function adding test-only routes to a new app).

    FastAPI analyses the routes of a new app on its first requests, which cost each test a second of
    processor time; the app reads the database and settings it serves from ``app.state`` at every
    request, so each test hands it its own. Tests that change an app otherwise build their own."""
    app = _APPS.get(key := (settings.model_dump_json(), extend))
    if app is None:
        app = _APPS[key] = create_app(database, settings)
        if extend is not None:
            extend(app)
    app.state.database = database
    app.state.settings = settings
    return app


@pytest.fixture
def anonymous_client(database: Database, settings: Settings) -> Iterator[TestClient]:
    """An HTTP client that has not signed in."""
    with TestClient(app_for(database, settings)) as test_client:
        yield test_client


@pytest.fixture
def client(database: Database, settings: Settings) -> Iterator[TestClient]:
    """An HTTP client signed in as the System Administrator."""
    with TestClient(app_for(database, settings), headers=bearer_headers(database, ADMIN_EMAIL)) as test_client:
        yield test_client
