"""Merge policy, as data: which tables merge, where the master link lives, which parents must agree
and which children move to the master.

Tables are named, not imported: the records merged belong to the domains above duplicate detection,
and their state rules (may this record merge, what merging does to it) live on the records
themselves (``ensure_mergeable``, ``close_as_merged``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

from sqlalchemy import Table, and_
from sqlalchemy.orm import Session

from leadflow.activities.models import Note, RegardingTable
from leadflow.core.db import mapped_class
from leadflow.core.errors import ValidationFailed
from leadflow.duplicates.models import DetectionTable
from leadflow.duplicates.tables import TABLES
from leadflow.fields.service import fields_of

MASTER, SUBORDINATE = "master", "subordinate"
CHOICES = (MASTER, SUBORDINATE)

NOTES: Table = Note.__table__  # type: ignore[assignment]
# The tables whose rows a merge moves or checks, besides notes.
RECORD_TABLE_NAMES = ("accounts", "contacts", "leads", "opportunities")

# Columns that identify, stamp, own or give the state of a record: a merge never copies them
# from the subordinate. The owner is chosen through owner_user_id (team and unit follow it);
# full_name is derived from the first and last names that survive.
NOT_MERGEABLE = frozenset(
    {
        "id",
        "custom",  # chosen field by field, as custom.<name> (see ``mergeable_fields``)
        "row_version",
        "created_at",
        "modified_at",
        "created_by_id",
        "modified_by_id",
        "owning_business_unit_id",
        "owner_team_id",
        "state",
        "status_reason",
        "closed_at",
        "master_id",
        "master_lead_id",
        "merged",
        "originating_lead_id",
        "qualifying_opportunity_id",
        "full_name",
    }
)
OWNER = "owner_user_id"


class Mergeable(Protocol):
    """The state rules a record that can be merged carries."""

    id: uuid.UUID

    def ensure_mergeable(self, who: str) -> None:
        """Refuse (InvalidState) when the record's state does not allow a merge; ``who`` names it."""

    def close_as_merged(self) -> None:
        """Put the subordinate of a merge in its closed state."""


def record_table(name: str) -> Table:
    """The table of a record domain above this one, or of notes."""
    if name == NOTES.name:
        return NOTES
    return mapped_class(name).__table__


@dataclass(frozen=True)
class ChildLink:
    """Rows of ``table_name`` whose ``column`` names the subordinate (and that match ``only``) move."""

    table_name: str
    column: str
    only: tuple[tuple[str, Any], ...] = ()

    @property
    def table(self) -> Table:
        return record_table(self.table_name)

    def condition(self, record_id: uuid.UUID) -> Any:
        table = self.table
        return and_(table.c[self.column] == record_id, *(table.c[k] == v for k, v in self.only))


@dataclass(frozen=True)
class ParentLink:
    """A parent two merged records must share (unless the caller forces the merge)."""

    column: str
    table_name: str
    label: str

    @property
    def table(self) -> Table:
        return record_table(self.table_name)


@dataclass(frozen=True)
class MergePolicy:
    """How one table merges: where the master link lives, which parents must agree, what moves."""

    table: DetectionTable
    master_column: str
    parents: tuple[ParentLink, ...]
    children: tuple[ChildLink, ...]

    @cached_property
    def model(self) -> type[Any]:
        return mapped_class(self.table.value)

    @property
    def label(self) -> str:
        return TABLES[self.table].label

    @property
    def fields(self) -> tuple[str, ...]:
        """The columns whose surviving value the caller can choose."""
        return tuple(c.name for c in self.model.__table__.columns if c.name not in NOT_MERGEABLE)


def mergeable_fields(session: Session, policy: MergePolicy) -> tuple[str, ...]:
    """The fields a merge of ``policy``'s table chooses among: its columns, then each custom field as ``custom.<name>``."""
    return (*policy.fields, *(f"custom.{field.name}" for field in fields_of(session, policy.table.value)))


def field_value(record: Any, name: str) -> Any:
    """A record's value of a mergeable field (a custom one as stored)."""
    if name.startswith("custom."):
        return (record.custom or {}).get(name.removeprefix("custom."))
    return getattr(record, name)


# Quotes, orders and invoices for a customer follow it into the surviving record.
SALES_DOCUMENTS = ("quotes", "orders", "invoices")


def _documents_of(kind: str) -> tuple[ChildLink, ...]:
    return tuple(ChildLink(table, "customer_id", (("customer_kind", kind),)) for table in SALES_DOCUMENTS)


def _notes_of(table: DetectionTable) -> ChildLink:
    return ChildLink(NOTES.name, "regarding_id", (("regarding_table", RegardingTable(table.value)),))


def _activities_of(table: DetectionTable) -> ChildLink:
    return ChildLink("activities", "regarding_id", (("regarding_table", RegardingTable(table.value)),))


POLICIES: dict[DetectionTable, MergePolicy] = {
    DetectionTable.ACCOUNTS: MergePolicy(
        DetectionTable.ACCOUNTS,
        "master_id",
        parents=(),
        children=(
            _notes_of(DetectionTable.ACCOUNTS),
            _activities_of(DetectionTable.ACCOUNTS),
            ChildLink("contacts", "account_id"),
            ChildLink("opportunities", "parent_account_id"),
            ChildLink("opportunities", "customer_id", (("customer_kind", "account"),)),
            ChildLink("leads", "parent_account_id"),
            *_documents_of("account"),
        ),
    ),
    DetectionTable.CONTACTS: MergePolicy(
        DetectionTable.CONTACTS,
        "master_id",
        parents=(ParentLink("account_id", "accounts", "account"),),
        children=(
            _notes_of(DetectionTable.CONTACTS),
            _activities_of(DetectionTable.CONTACTS),
            ChildLink("opportunities", "parent_contact_id"),
            ChildLink("opportunities", "customer_id", (("customer_kind", "contact"),)),
            ChildLink("leads", "parent_contact_id"),
            ChildLink("accounts", "primary_contact_id"),
            *_documents_of("contact"),
        ),
    ),
    DetectionTable.LEADS: MergePolicy(
        DetectionTable.LEADS,
        "master_lead_id",
        parents=(
            ParentLink("parent_account_id", "accounts", "account"),
            ParentLink("parent_contact_id", "contacts", "contact"),
        ),
        children=(
            _notes_of(DetectionTable.LEADS),
            _activities_of(DetectionTable.LEADS),
            ChildLink("accounts", "originating_lead_id"),
            ChildLink("contacts", "originating_lead_id"),
            ChildLink("opportunities", "originating_lead_id"),
        ),
    ),
}


def policy_for(table: str | DetectionTable) -> MergePolicy:
    """The merge policy of a table; other tables are refused with ``merge_table_not_supported``."""
    try:
        return POLICIES[DetectionTable(table)]
    except (ValueError, KeyError):
        supported = ", ".join(POLICIES)
        raise ValidationFailed(
            f"Records of {str(table)!r} cannot be merged; merge accounts, contacts or leads ({supported}).",
            code="merge_table_not_supported",
            details={"table": str(table), "supported": list(POLICIES)},
        ) from None


def label_of(table: Table) -> str:
    """How messages name a record of this table: 'note', 'account', 'lead'..."""
    return "note" if table is NOTES else TABLES[DetectionTable(table.name)].label


def describe(table: Table, row: Any) -> str:
    """'the contact Jean Dupont (id …)': how messages name a record."""
    if table is NOTES:
        name = f"'{row.title or row.file_name or 'untitled'}'"
    else:
        name = str(getattr(row, TABLES[DetectionTable(table.name)].name_column) or "")
    label = label_of(table)
    return f"the {label} {name} (id {row.id})" if name else f"the {label} (id {row.id})"
