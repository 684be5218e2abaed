"""Schema upgrades and downgrades through Alembic; the only way leadflow creates or changes tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from leadflow.core.db import make_engine
from leadflow.core.errors import InvalidState, ValidationFailed

MIGRATIONS = Path(__file__).parent.parent / "migrations"
BASE = "base"  # the revision before the first: no leadflow table at all


def alembic_config(url: str) -> Config:
    """An Alembic configuration pointing at leadflow's migrations and the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema up to ``revision`` (the latest by default)."""
    _migrate(engine, lambda config: command.upgrade(config, revision))


def revisions() -> list[str]:
    """Every revision of leadflow's schema, oldest first."""
    script = ScriptDirectory(str(MIGRATIONS))
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


def current_revision(engine: Engine) -> str | None:
    """The revision the database's schema is at; None for a database without leadflow's tables (base)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def downgrade_target(engine: Engine, revision: str) -> str | None:
    """The revision ``revision`` names (None for ``base``), checked to be one the database can go down to.

    Raises ValidationFailed for a revision leadflow does not have or one above the database's, and
    InvalidState for a database at a revision this leadflow does not know (a newer one made it).
    """
    known = revisions()
    wanted = revision.strip()
    if wanted.lower() == BASE:
        target = None
    elif wanted in known:
        target = wanted
    else:
        raise ValidationFailed(
            f"There is no schema revision {wanted!r}; give {BASE} or one of {', '.join(known)}.",
            code="unknown_revision",
        )
    current = current_revision(engine)
    if current is not None and current not in known:
        raise InvalidState(
            f"The database is at schema revision {current}, which this leadflow does not know; "
            "downgrade it with the leadflow that upgraded it.",
            code="unknown_database_revision",
        )
    position: dict[str | None, int] = {None: -1, **{name: index for index, name in enumerate(known)}}
    if position[target] > position[current]:
        raise ValidationFailed(
            f"The database is at schema revision {current or BASE}; {target} is not below it "
            "(`leadflow db upgrade` goes up).",
            code="revision_above_current",
        )
    return target


def downgrade(database_url_or_engine: str | Engine, revision: str) -> str | None:
    """Take the database schema down to ``revision`` (``base``: no leadflow table at all), dropping
    the tables and columns of every later revision with their data; returns the revision reached.

    One transaction where the database allows it (PostgreSQL): a failing step leaves the schema as it was.
    Raises what ``downgrade_target`` raises for a revision it cannot go down to.
    """
    engine = (
        database_url_or_engine if isinstance(database_url_or_engine, Engine) else make_engine(database_url_or_engine)
    )
    try:
        target = downgrade_target(engine, revision)
        if target == current_revision(engine):
            return target
        return _migrate(engine, lambda config: command.downgrade(config, target or BASE))
    finally:
        if engine is not database_url_or_engine:
            engine.dispose()


def _migrate(engine: Engine, step: Callable[[Config], None]) -> str | None:
    """Run an Alembic command on one connection and transaction; the revision the schema is at after it."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as connection, foreign_keys_checked_after(connection), connection.begin():
        config.attributes["connection"] = connection
        step(config)
        return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def foreign_keys_checked_after(connection: Connection) -> Iterator[None]:
    """On SQLite, run a migration with foreign keys off and check them all when it is done.

    SQLite changes a table by building a new one and dropping the old; with foreign keys on, dropping
    a table that rows point at fails, even when the new table takes its place. SQLite's own procedure
    for schema changes turns them off (which only works outside a transaction) and checks afterwards.
    Other databases alter tables in place and need none of this.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    raw = connection.connection.driver_connection
    assert raw is not None, "a connection that is open has its driver's connection"
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"The migration left rows pointing at nothing: {broken[:5]}")
    finally:
        raw.execute("PRAGMA foreign_keys=ON")
