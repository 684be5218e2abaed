"""The unit of work: one database transaction that rolls back unless ``commit()`` is called."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from leadflow.core.db import READ_ONLY, make_engine, make_session_factory
from leadflow.core.errors import Conflict


def _concurrent_update() -> Conflict:
    return Conflict(
        "Someone else changed this record while you were working on it; reload it and try again.",
        code="concurrent_update",
    )


class UnitOfWork:
    """A transaction boundary; services receive it and never commit on their own."""

    session: Session

    def __init__(self, session_factory: sessionmaker, *, read_only: bool = False) -> None:
        self._session_factory = session_factory
        self._read_only = read_only
        self._committed = False

    def __enter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        if self._read_only:
            self.session.connection(execution_options={READ_ONLY: True})
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            # A read-only unit has nothing to undo; skipping rollback keeps loaded records readable
            # after the unit ends (rollback would expire them). Closing ends the transaction.
            if not self._committed and not self._read_only:
                self.session.rollback()
        finally:
            self.session.close()

    @property
    def read_only(self) -> bool:
        """Whether this unit only reads (and so cannot carry a write)."""
        return self._read_only

    def commit(self) -> None:
        """Make every change of this unit permanent, or raise a Conflict and keep none of them."""
        try:
            self.session.commit()
        except StaleDataError as error:
            self.session.rollback()
            raise _concurrent_update() from error
        except OperationalError as error:
            self.session.rollback()
            if "locked" in str(error.orig).lower() or "deadlock" in str(error.orig).lower():
                raise Conflict(
                    "The database is busy with a concurrent change; try again in a moment.",
                    code="concurrent_update",
                ) from error
            raise
        self._committed = True

    def flush(self) -> None:
        """Send pending changes so that the database checks them, without committing."""
        try:
            self.session.flush()
        except StaleDataError as error:
            raise _concurrent_update() from error


class Database:
    """One engine and its session factory; hands out units of work."""

    def __init__(self, url: str, *, engine: Engine | None = None) -> None:
        self.url = url
        self.engine = engine or make_engine(url)
        self.session_factory = make_session_factory(self.engine)

    def unit_of_work(self, *, read_only: bool = False) -> UnitOfWork:
        """A new unit of work; ``read_only`` lets SQLite readers run beside a writer."""
        return UnitOfWork(self.session_factory, read_only=read_only)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
