"""Column groups, constraints and index steps shared by leadflow's migration scripts.

FROZEN: a released revision builds its schema through these helpers, so what a helper returns or
does must never change once a revision uses it, not even to follow a model change: that would
silently change an old migration. A new shape gets a new helper, and a new revision alters the
tables. Like the revisions, this module imports nothing of leadflow, only SQLAlchemy and Alembic.
It lives beside env.py, not in versions/, where Alembic would read it as a revision.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

import sqlalchemy as sa
from alembic import op
from sqlalchemy.sql.schema import SchemaItem


def record_columns() -> list[sa.Column]:
    """Every record table's identity and optimistic-locking columns: id, row version, timestamps."""
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
    ]


def address_columns() -> list[sa.Column]:
    """The postal address of leads, accounts and contacts, all optional."""
    return [
        sa.Column("address_line1", sa.String(length=250), nullable=True),
        sa.Column("address_line2", sa.String(length=250), nullable=True),
        sa.Column("address_line3", sa.String(length=250), nullable=True),
        sa.Column("address_city", sa.String(length=80), nullable=True),
        sa.Column("address_state_or_province", sa.String(length=50), nullable=True),
        sa.Column("address_postal_code", sa.String(length=20), nullable=True),
        sa.Column("address_country", sa.String(length=80), nullable=True),
    ]


OWNERSHIP_REFERENCES = (
    ("created_by_id", "users"),
    ("modified_by_id", "users"),
    ("owner_team_id", "teams"),
    ("owner_user_id", "users"),
    ("owning_business_unit_id", "business_units"),
)


def ownership_columns() -> list[sa.Column]:
    """Who owns an owned record (a user or a team, and their business unit) and who last touched it."""
    return [
        sa.Column(name, sa.Uuid(), nullable=True)
        for name in ("owner_user_id", "owner_team_id", "owning_business_unit_id", "created_by_id", "modified_by_id")
    ]


def choice(name: str, *values: str) -> sa.Enum:
    """A choice as leadflow stores it: a VARCHAR(32) checked by a constraint named ``name``."""
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def flags(*names: str) -> list[sa.Column]:
    """Required yes/no columns, in the order given."""
    return [sa.Column(name, sa.Boolean(), nullable=False) for name in names]


def optional_ids(*names: str) -> list[sa.Column]:
    """Optional UUID columns (references to other records), in the order given."""
    return [sa.Column(name, sa.Uuid(), nullable=True) for name in names]


def optional_strings(**lengths: int) -> list[sa.Column]:
    """Optional VARCHAR columns, name=length, in the order given."""
    return [sa.Column(name, sa.String(length=length), nullable=True) for name, length in lengths.items()]


def required_strings(**lengths: int) -> list[sa.Column]:
    """Required VARCHAR columns, name=length, in the order given."""
    return [sa.Column(name, sa.String(length=length), nullable=False) for name, length in lengths.items()]


def required_integers(*names: str) -> list[sa.Column]:
    """Required INTEGER columns (counts, positions, versions), in the order given."""
    return [sa.Column(name, sa.Integer(), nullable=False) for name in names]


def optional_timestamps(*names: str) -> list[sa.Column]:
    """Optional timestamps with time zone, in the order given."""
    return [sa.Column(name, sa.DateTime(timezone=True), nullable=True) for name in names]


def foreign_keys(table: str, *references: Sequence[str]) -> list[sa.ForeignKeyConstraint]:
    """One constraint per ``(column, target table)`` or ``(column, target table, ondelete)``, on the
    target's id and named ``fk_<table>_<column>_<target>``, in the order given."""
    constraints = []
    for column, target, *rest in references:
        name = op.f(f"fk_{table}_{column}_{target}")
        ondelete = rest[0] if rest else None
        constraints.append(sa.ForeignKeyConstraint([column], [f"{target}.id"], name=name, ondelete=ondelete))
    return constraints


def owned_foreign_keys(table: str, *references: Sequence[str]) -> list[sa.ForeignKeyConstraint]:
    """The ownership columns' constraints together with ``references`` (as for ``foreign_keys``),
    in the order of their column names, as Alembic wrote them."""
    return foreign_keys(table, *sorted([*OWNERSHIP_REFERENCES, *references], key=tuple))


def primary_key(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    """The primary key ``pk_<table>``: on ``columns``, or on id when none are given."""
    return sa.PrimaryKeyConstraint(*(columns or ("id",)), name=op.f(f"pk_{table}"))


class Index(NamedTuple):
    """An index with a name of its own; a bare column name in an index list stands for an index on
    that column alone named ``ix_<table>_<column>``."""

    name: str
    columns: list[str]
    unique: bool = False


TableIndexes = Mapping[str, Iterable[str | Index]]
"""A revision's tables: table name -> its indexes, in the order of creation."""


def create_table(tables: TableIndexes, name: str, *items: SchemaItem) -> None:
    """``op.create_table(name, *items)``, then the table's indexes as ``tables`` (a revision's table
    name -> indexes, in the order of creation) lists them."""
    op.create_table(name, *items)
    create_indexes(name, tables[name])


def create_indexes(table: str, indexes: Iterable[str | Index]) -> None:
    """Create ``table``'s indexes in the order given, in one batch (nothing when there are none)."""
    indexes = list(indexes)
    if not indexes:
        return
    with op.batch_alter_table(table, schema=None) as batch_op:
        for index in indexes:
            if isinstance(index, Index):
                batch_op.create_index(index.name, index.columns, unique=index.unique)
            else:
                batch_op.create_index(batch_op.f(f"ix_{table}_{index}"), [index], unique=False)


def drop_indexes(table: str, indexes: Iterable[str | Index]) -> None:
    """Drop the indexes ``create_indexes`` created, in the reverse order, in one batch."""
    indexes = list(indexes)
    if not indexes:
        return
    with op.batch_alter_table(table, schema=None) as batch_op:
        for index in reversed(indexes):
            if isinstance(index, Index):
                batch_op.drop_index(index.name)
            else:
                batch_op.drop_index(batch_op.f(f"ix_{table}_{index}"))


def drop_tables(tables: TableIndexes) -> None:
    """Drop the tables a revision created (table name -> its indexes, in the order of creation),
    the last created first, each after its indexes."""
    for table, indexes in reversed(list(tables.items())):
        drop_indexes(table, indexes)
        op.drop_table(table)


@contextmanager
def _batch(table: str) -> Iterator[Any]:
    """A batch of changes to ``table``. SQLite rebuilds the table when a column brings a constraint,
    reflecting the tables it points at; the lead search's expression indexes (0004) cannot be reflected
    and are not needed to rebuild another table, so that warning is left out."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index", sa.exc.SAWarning)
        with op.batch_alter_table(table, schema=None) as batch_op:
            yield batch_op


def add_columns(table: str, *columns: sa.Column) -> None:
    """Add ``columns`` to ``table`` in the order given, in one batch."""
    with _batch(table) as batch_op:
        for column in columns:
            batch_op.add_column(column)


def drop_columns(table: str, *names: str, checks: Iterable[str] = ()) -> None:
    """Drop the named columns of ``table`` in the order given, in one batch, after ``checks``: the
    constraints of the dropped choice columns, which SQLite's rebuilt table would otherwise keep."""
    with _batch(table) as batch_op:
        for check in checks:
            batch_op.drop_constraint(check, type_="check")
        for name in names:
            batch_op.drop_column(name)
