"""Fixtures shared by every test: real databases (SQLite and PostgreSQL), the app, an actor.

Storage tests run once per backend. PostgreSQL tests need the server named by
``LEADFLOW_TEST_POSTGRES_URL`` (default: postgres on 127.0.0.1:5432); each test run creates its
own database there and drops it at the end. When no server answers, those tests are skipped and
the run says so loudly at the end.
"""

from __future__ import annotations

import os
from functools import lru_cache
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from leadflow.asgi import create_app
from leadflow.core.config import Settings
from leadflow.core.db import make_engine
from leadflow.core.migrate import upgrade
from leadflow.bootstrap.models import metadata
from leadflow.bootstrap import ensure_organisation
from leadflow.security.actor import Actor, default_actor
from leadflow.security.authentication import create_personal_token
from leadflow.security.service import create_user
from leadflow.core.uow import Database

POSTGRES_ADMIN_URL = os.environ.get(
    "LEADFLOW_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
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
    except Exception as error:  # any failure to reach the server means: skip, loudly
        _postgres_problem.append(f"{type(error).__name__}: {error}".splitlines()[0])
        return False


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
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
    admin.dispose()
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    return name, url


def _drop_postgres_database(name: str) -> None:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of each backend, migrated with Alembic once per test session."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("sqlite") / "leadflow.db"
        url = f"sqlite:///{path}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    if not _postgres_available():
        pytest.skip(f"PostgreSQL not reachable: {_postgres_problem[0]}")
    name, url = _create_postgres_database()
    try:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
    finally:
        _drop_postgres_database(name)


def _empty_all_tables(database: Database) -> None:
    # The security generation is part of the schema (its one row comes with the migration), not data.
    tables = [table.name for table in reversed(metadata.sorted_tables) if table.name != "security_generation"]
    with database.engine.begin() as connection:
        if database.dialect == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
        else:
            connection.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
            for table in tables:
                connection.exec_driver_sql(f"DELETE FROM {table}")


ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "correct horse battery staple"


@lru_cache(maxsize=1)
def _admin_password_hash() -> str:
    from argon2 import PasswordHasher

    return PasswordHasher().hash(ADMIN_PASSWORD)


@pytest.fixture
def database(migrated_url: str) -> Iterator[Database]:
    """An empty, migrated database with the organisation and one System Administrator; one per test."""
    database = Database(migrated_url)
    _empty_all_tables(database)
    with database.unit_of_work() as uow:
        ensure_organisation(uow=uow, base_currency="EUR")
        admin = create_user(
            email=ADMIN_EMAIL, full_name="Ada Admin", role_names=["System Administrator"],
            business_unit_name=None, password=None, uow=uow, actor=None,
        )
        admin.password_hash = _admin_password_hash()  # argon2 is slow on purpose: hash once per run
        uow.commit()
    yield database
    database.dispose()


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


@pytest.fixture
def anonymous_client(database: Database, settings: Settings) -> Iterator[TestClient]:
    """An HTTP client that has not signed in."""
    with TestClient(create_app(database, settings)) as test_client:
        yield test_client


@pytest.fixture
def client(database: Database, settings: Settings) -> Iterator[TestClient]:
    """An HTTP client signed in as the System Administrator."""
    with TestClient(create_app(database, settings), headers=bearer_headers(database, ADMIN_EMAIL)) as test_client:
        yield test_client
