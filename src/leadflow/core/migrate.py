"""Schema upgrades through Alembic; the only way leadflow creates or changes tables."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine

MIGRATIONS = Path(__file__).parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic configuration pointing at leadflow's migrations and the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema up to ``revision`` (the latest by default)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as connection, foreign_keys_checked_after(connection), connection.begin():
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


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
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"The migration left rows pointing at nothing: {broken[:5]}")
    finally:
        raw.execute("PRAGMA foreign_keys=ON")
