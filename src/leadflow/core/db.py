"""Engine and session factory, the declarative base and the column types every record shares."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, cast

from sqlalchemy import BigInteger, CursorResult, DateTime, Engine, MetaData, Result, create_engine, event
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator, Uuid

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MONEY_SCALE = 4


def utcnow() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type:
        """What its values are in Python (the generic decorator would answer ``object``)."""
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused; pass a timezone-aware value")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ScaledDecimal(TypeDecorator[Decimal]):
    """A Decimal stored as an integer count of 10**-scale units.

    Exact and sortable on every database: SQLite has no exact decimal type, and a single storage
    form keeps the schema identical on SQLite and PostgreSQL.
    """

    impl = BigInteger
    cache_ok = True

    @property
    def python_type(self) -> type:
        """What its values are in Python: Decimals (its stored integers are not what callers get)."""
        return Decimal

    def __init__(self, scale: int = MONEY_SCALE) -> None:
        super().__init__()
        self.scale = scale
        self._factor = Decimal(10) ** scale
        self._quantum = Decimal(1).scaleb(-scale)

    def process_bind_param(self, value: Decimal | int | None, dialect: Any) -> int | None:
        if value is None:
            return None
        quantised = Decimal(value).quantize(self._quantum, rounding=ROUND_HALF_EVEN)
        return int(quantised * self._factor)

    def process_result_value(self, value: int | None, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(value) / self._factor).quantize(self._quantum)


def Money() -> ScaledDecimal:
    """A currency amount with four decimals."""
    return ScaledDecimal(MONEY_SCALE)


def enum_column(enum_cls: type[enum.Enum], *, name: str | None = None) -> SAEnum:
    """Store an enum by its snake_case value in a portable VARCHAR, checked by the database.

    ``name`` names the CHECK constraint; give one when a table has two columns of the same enum.
    """
    return SAEnum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    """Declarative base with stable constraint names (Alembic needs them on SQLite)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class RecordMixin:
    """UUID key, UTC creation/modification stamps and the row version used for optimistic locking.

    SQLAlchemy adds ``row_version = :old`` to every UPDATE and DELETE and bumps it, so a concurrent
    change is detected (StaleDataError) instead of silently overwritten.
    """

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    row_version: Mapped[int] = mapped_column(default=1, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    modified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.row_version}

    @property
    def etag(self) -> str:
        """The strong ETag clients send back in If-Match."""
        return f'"{self.row_version}"'

    def ensure_editable(self) -> None:
        """Refuse a change in the record's current state; most records accept changes in any state."""


def mapped_class(table_name: str) -> type[Any]:
    """The model class mapped to ``table_name``.

    Lower domains (notes, duplicate detection and merge) act on records of the domains above them by
    table name; the classes are found in the declarative registry, which holds every model once
    ``leadflow.bootstrap`` (or the domain that defines it) is imported.
    """
    for mapper in Base.registry.mappers:
        if getattr(mapper.class_, "__tablename__", None) == table_name:
            return mapper.class_
    raise LookupError(f"No model maps the table {table_name!r}; import leadflow.bootstrap before using it.")


def polymorphic_lookup(*tables: str, kind_column: str) -> dict[str, Any]:
    """Column ``info`` of a lookup that names a record of one of ``tables``, its table named by ``kind_column``.

    No foreign key can guard such a column, so deleting a record clears these lookups as
    ``ON DELETE SET NULL`` would (``leadflow.core.records.clear_lookups``).
    """
    return {"polymorphic_lookup": {"tables": frozenset(tables), "kind_column": kind_column}}


def is_sqlite(url: str) -> bool:
    """True when the URL names an SQLite database."""
    return url.startswith("sqlite")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine tuned per dialect: WAL and immediate write transactions on SQLite."""
    if is_sqlite(url):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _tune_sqlite(engine)
        return engine
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    kwargs.setdefault("pool_pre_ping", True)
    if "options=" not in url:
        # leadflow's queries are short: JIT compilation never pays for itself on them, and the
        # planner's row estimates for LIKE searches can make it compile for hundreds of ms.
        kwargs["connect_args"] = {"options": "-c jit=off", **kwargs.get("connect_args", {})}
    return create_engine(url, **kwargs)


READ_ONLY = "leadflow_read_only"


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself, so that writers take the write lock
        # up front (BEGIN IMMEDIATE) instead of failing on lock upgrade under concurrency.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        # 16 MiB of page cache instead of SQLite's 2 MB: a lead insert touches the table, a dozen
        # indexes and the search table, and with the small cache bulk inserts ran 3.4 times slower.
        cursor.execute("PRAGMA cache_size=-16384")
        cursor.close()
        # SQLite's own lower() folds ASCII only; searches and sorts must treat "Á" like "á".
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def _unicode_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def make_session_factory(engine: Engine) -> sessionmaker:
    """Sessions that keep loaded objects usable after commit (the entry points render them)."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


def affected_rows(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE statement changed (0 when the driver cannot tell)."""
    return cast(CursorResult[Any], result).rowcount or 0
