"""Merge duplicate accounts, contacts or leads, and undo a merge exactly (§9).

A merge keeps the master: field by field the surviving value is the master's unless it is blank
(or the caller chose the subordinate's), the subordinate's children are re-pointed at the master,
and the subordinate is deactivated with a link to its master. Everything the merge changed is
written to the merge journal: both records' full rows as they were, and every child it moved with
the row version it had before and after. Undo puts all of it back, row versions and modification
times included, so that a client holding an ETag from before the merge finds the record unchanged.
Undo refuses when any of those rows changed after the merge: restoring them would lose that work.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    String,
    Table,
    Text,
    Uuid,
    and_,
    bindparam,
    delete,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Session

from leadflow.activity.models import Note, RegardingTable
from leadflow.audit.service import plain, record_action
from leadflow.customers.models import Account, Contact, CustomerState
from leadflow.db import ScaledDecimal, UTCDateTime, utcnow
from leadflow.duplicates.engine import index_rows
from leadflow.duplicates.models import (
    DetectionTable,
    DuplicateSet,
    DuplicateSetMember,
    MergeJournal,
    MergeState,
)
from leadflow.duplicates.tables import TABLES
from leadflow.errors import Conflict, InvalidState, NotFound, ValidationFailed
from leadflow.leads.models import Lead, LeadState, LeadStatusReason, compose_full_name
from leadflow.opportunities.models import CustomerKind, Opportunity
from leadflow.security.access import can, forbidden, has_admin, require
from leadflow.security.actor import Actor
from leadflow.security.models import Team, User
from leadflow.security.privileges import Privilege
from leadflow.uow import UnitOfWork

MASTER, SUBORDINATE = "master", "subordinate"
CHOICES = (MASTER, SUBORDINATE)

ACCOUNTS: Table = Account.__table__  # type: ignore[assignment]
CONTACTS: Table = Contact.__table__  # type: ignore[assignment]
LEADS: Table = Lead.__table__  # type: ignore[assignment]
OPPORTUNITIES: Table = Opportunity.__table__  # type: ignore[assignment]
NOTES: Table = Note.__table__  # type: ignore[assignment]
SET_MEMBERS: Table = DuplicateSetMember.__table__  # type: ignore[assignment]
SETS: Table = DuplicateSet.__table__  # type: ignore[assignment]
RECORD_TABLES = {table.name: table for table in (ACCOUNTS, CONTACTS, LEADS, OPPORTUNITIES, NOTES)}

# Columns that identify, stamp, own or give the state of a record: a merge never copies them
# from the subordinate. The owner is chosen through owner_user_id (team and unit follow it);
# full_name is derived from the first and last names that survive.
NOT_MERGEABLE = frozenset(
    {
        "id", "row_version", "created_at", "modified_at", "created_by_id", "modified_by_id",
        "owning_business_unit_id", "owner_team_id", "state", "status_reason", "closed_at",
        "master_id", "master_lead_id", "merged", "originating_lead_id", "qualifying_opportunity_id",
        "full_name",
    }
)
OWNER = "owner_user_id"


# ----------------------------------------------------------------------------------------------
# merge policy, as data


@dataclass(frozen=True)
class ChildLink:
    """Rows of ``table`` whose ``column`` names the subordinate (and that match ``only``) move."""

    table: Table
    column: str
    only: tuple[tuple[str, Any], ...] = ()

    def condition(self, record_id: uuid.UUID) -> Any:
        return and_(self.table.c[self.column] == record_id, *(self.table.c[k] == v for k, v in self.only))


@dataclass(frozen=True)
class ParentLink:
    """A parent two merged records must share (unless the caller forces the merge)."""

    column: str
    table: Table
    label: str


@dataclass(frozen=True)
class MergePolicy:
    """How one table merges: where the master link lives, which parents must agree, what moves."""

    table: DetectionTable
    model: type
    master_column: str
    parents: tuple[ParentLink, ...]
    children: tuple[ChildLink, ...]

    @property
    def label(self) -> str:
        return TABLES[self.table].label

    @property
    def fields(self) -> tuple[str, ...]:
        """The columns whose surviving value the caller can choose."""
        return tuple(c.name for c in self.model.__table__.columns if c.name not in NOT_MERGEABLE)


def _notes_of(table: DetectionTable) -> ChildLink:
    return ChildLink(NOTES, "regarding_id", (("regarding_table", RegardingTable(table.value)),))


POLICIES: dict[DetectionTable, MergePolicy] = {
    DetectionTable.ACCOUNTS: MergePolicy(
        DetectionTable.ACCOUNTS,
        Account,
        "master_id",
        parents=(),
        children=(
            _notes_of(DetectionTable.ACCOUNTS),
            ChildLink(CONTACTS, "account_id"),
            ChildLink(OPPORTUNITIES, "parent_account_id"),
            ChildLink(OPPORTUNITIES, "customer_id", (("customer_kind", CustomerKind.ACCOUNT),)),
            ChildLink(LEADS, "parent_account_id"),
        ),
    ),
    DetectionTable.CONTACTS: MergePolicy(
        DetectionTable.CONTACTS,
        Contact,
        "master_id",
        parents=(ParentLink("account_id", ACCOUNTS, "account"),),
        children=(
            _notes_of(DetectionTable.CONTACTS),
            ChildLink(OPPORTUNITIES, "parent_contact_id"),
            ChildLink(OPPORTUNITIES, "customer_id", (("customer_kind", CustomerKind.CONTACT),)),
            ChildLink(LEADS, "parent_contact_id"),
            ChildLink(ACCOUNTS, "primary_contact_id"),
        ),
    ),
    DetectionTable.LEADS: MergePolicy(
        DetectionTable.LEADS,
        Lead,
        "master_lead_id",
        parents=(
            ParentLink("parent_account_id", ACCOUNTS, "account"),
            ParentLink("parent_contact_id", CONTACTS, "contact"),
        ),
        children=(
            _notes_of(DetectionTable.LEADS),
            ChildLink(ACCOUNTS, "originating_lead_id"),
            ChildLink(CONTACTS, "originating_lead_id"),
            ChildLink(OPPORTUNITIES, "originating_lead_id"),
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


# ----------------------------------------------------------------------------------------------
# JSON snapshots of rows, and their exact inverse


def to_json(value: Any) -> Any:
    """A column value in a JSON-safe form (uuid, Decimal → str; datetime, date → ISO 8601; enum → value)."""
    return plain(value)


def from_json(column: Column[Any], value: Any) -> Any:
    """The column value a JSON-safe form stands for: the exact inverse of ``to_json`` per column type."""
    if value is None:
        return None
    kind = column.type
    # Enum first: it is a kind of String.
    if isinstance(kind, SAEnum):
        return kind.enum_class(value) if kind.enum_class is not None else value
    if isinstance(kind, Uuid):
        return uuid.UUID(value)
    if isinstance(kind, ScaledDecimal):
        return Decimal(value)
    if isinstance(kind, UTCDateTime | DateTime):
        return datetime.fromisoformat(value)
    if isinstance(kind, Date):
        return date.fromisoformat(value)
    if isinstance(kind, Boolean):
        return bool(value)
    if isinstance(kind, Integer):
        return int(value)
    if isinstance(kind, String | Text):
        return value
    raise TypeError(f"No JSON form is defined for {column.table.name}.{column.name} ({kind!r}).")


def row_snapshot(table: Table, values: Mapping[str, Any] | Any) -> dict[str, Any]:
    """Every column of a row (a mapping, or a loaded record) as JSON-safe values."""
    read = values.__getitem__ if isinstance(values, Mapping) else lambda name: getattr(values, name)
    return {column.name: to_json(read(column.name)) for column in table.columns}


def row_values(table: Table, snapshot: Mapping[str, Any]) -> dict[str, Any]:
    """The column values a snapshot stands for, ready to write back."""
    return {column.name: from_json(column, snapshot[column.name]) for column in table.columns}


# ----------------------------------------------------------------------------------------------
# loading, locking and checking the two records


def _display_name(table: Table, row: Any) -> str:
    if table is NOTES:
        return f"'{row.title or row.file_name or 'untitled'}'"
    info = TABLES[DetectionTable(table.name)]
    return str(getattr(row, info.name_column) or "")


def _describe(table: Table, row: Any) -> str:
    """'the contact Jean Dupont (id …)': how messages name a record."""
    label = "note" if table is NOTES else TABLES[DetectionTable(table.name)].label
    name = _display_name(table, row)
    return f"the {label} {name} (id {row.id})" if name else f"the {label} (id {row.id})"


def _load_pair(
    session: Session, policy: MergePolicy, master_id: uuid.UUID, subordinate_id: uuid.UUID, *, lock: bool
) -> tuple[Any, Any]:
    """Master and subordinate, locked in id order so that two merges of one pair queue up."""
    model = policy.model
    statement = select(model).where(model.id.in_([master_id, subordinate_id])).order_by(model.id)
    if lock:
        # The second of two concurrent merges must see the first one's result once it gets the lock.
        statement = statement.with_for_update().execution_options(populate_existing=True)
    found = {record.id: record for record in session.scalars(statement)}
    for role, record_id in (("master", master_id), ("subordinate", subordinate_id)):
        if record_id not in found:
            _refuse_missing(session, policy, role, record_id)
    return found[master_id], found[subordinate_id]


def _refuse_missing(session: Session, policy: MergePolicy, role: str, record_id: uuid.UUID) -> None:
    for other in (ACCOUNTS, CONTACTS, LEADS, OPPORTUNITIES):
        if other.name != policy.table.value and session.scalar(select(other.c.id).where(other.c.id == record_id)):
            other_label = TABLES[DetectionTable(other.name)].label
            raise ValidationFailed(
                f"The {role} id {record_id} names {_article(other_label)} {other_label}, not {_article(policy.label)} "
                f"{policy.label}; a merge joins two records of the same table.",
                code="merge_across_tables",
                details={"role": role, "id": str(record_id), "table": other.name, "expected_table": policy.table.value},
            )
    raise NotFound(
        f"No {policy.label} has the id {record_id} (the {role} of the merge).",
        code=f"{policy.label}_not_found",
        details={"role": role, "id": str(record_id)},
    )


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _ensure_active(policy: MergePolicy, record: Any) -> None:
    described = _describe(policy.model.__table__, record)
    who = described[0].upper() + described[1:]
    master_link = getattr(record, policy.master_column)
    if master_link is not None or getattr(record, "merged", False):
        raise InvalidState(
            f"{who} was already merged into another {policy.label} (id {master_link}); "
            "merge that one instead, or undo the earlier merge first.",
            code="merge_inactive_record",
            details={"id": str(record.id), "master_id": str(master_link) if master_link else None},
        )
    if policy.table is DetectionTable.LEADS:
        if record.state is not LeadState.OPEN:
            raise InvalidState(
                f"{who} is {record.state.value}: closed leads are read-only; "
                "reactivate it first, then merge it.",
                code="merge_inactive_record",
                details={"id": str(record.id), "state": record.state.value},
            )
    elif record.state is not CustomerState.ACTIVE:
        raise InvalidState(
            f"{who} is inactive; only active {policy.table.value} can be merged.",
            code="merge_inactive_record",
            details={"id": str(record.id), "state": record.state.value},
        )


def _check_parents(session: Session, policy: MergePolicy, master: Any, subordinate: Any) -> None:
    for parent in policy.parents:
        ours, theirs = getattr(master, parent.column), getattr(subordinate, parent.column)
        if ours is None or theirs is None or ours == theirs:
            continue
        rows = {row.id: row for row in session.execute(select(parent.table).where(parent.table.c.id.in_([ours, theirs])))}
        names = [_describe(parent.table, rows[i]) if i in rows else f"the {parent.label} (id {i})" for i in (ours, theirs)]
        raise Conflict(
            f"These {policy.table.value} belong to different {parent.label}s: the master to {names[0]}, "
            f"the subordinate to {names[1]}. Link them to the same {parent.label} first, or merge anyway "
            "with force_parenting (the chosen value of "
            f"{parent.column} survives).",
            code="merge_parent_mismatch",
            details={
                "column": parent.column,
                "master_parent_id": str(ours),
                "subordinate_parent_id": str(theirs),
                "master_parent": names[0],
                "subordinate_parent": names[1],
            },
        )


def _require_rights(session: Session, actor: Actor, policy: MergePolicy, master: Any, subordinate: Any) -> None:
    table = policy.table.value
    require(session, actor, Privilege.WRITE, table, master)
    require(session, actor, Privilege.WRITE, table, subordinate)
    require(session, actor, Privilege.APPEND_TO, table, master)


# ----------------------------------------------------------------------------------------------
# which values survive


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _check_choices(policy: MergePolicy, fields: Mapping[str, str]) -> None:
    allowed = policy.fields
    unknown = sorted(name for name in fields if name not in allowed)
    if unknown:
        raise ValidationFailed(
            f"{', '.join(unknown)} {'is not a field' if len(unknown) == 1 else 'are not fields'} a merge of "
            f"{policy.table.value} can choose; choose among: {', '.join(allowed)}.",
            code="unknown_merge_field",
            details={
                "fields": [
                    {"field": name, "code": "unknown_merge_field", "message": f"{name} is not a field a merge can choose."}
                    for name in unknown
                ],
                "mergeable": list(allowed),
            },
        )
    invalid = sorted(name for name, choice in fields.items() if choice not in CHOICES)
    if invalid:
        raise ValidationFailed(
            f"Choose 'master' or 'subordinate' for {', '.join(invalid)}.",
            code="invalid_merge_choice",
            details={
                "fields": [
                    {"field": name, "code": "invalid_merge_choice", "message": f"Choose 'master' or 'subordinate' for {name}."}
                    for name in invalid
                ]
            },
        )


def _is_blank_field(record: Any, name: str) -> bool:
    if name == OWNER:  # a team-owned record has an owner too
        return record.owner_user_id is None and record.owner_team_id is None
    return _blank(getattr(record, name))


@dataclass
class _Plan:
    choices: dict[str, str]
    values: dict[str, Any]  # the master's columns after the merge (every field, derived ones too)


def _plan(session: Session, policy: MergePolicy, master: Any, subordinate: Any, fields: Mapping[str, str]) -> _Plan:
    choices: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name in policy.fields:
        choice = fields.get(name)
        if choice is None:
            take_subordinate = _is_blank_field(master, name) and not _is_blank_field(subordinate, name)
            choice = SUBORDINATE if take_subordinate else MASTER
        choices[name] = choice
        values[name] = getattr(subordinate if choice == SUBORDINATE else master, name)
    source = subordinate if choices[OWNER] == SUBORDINATE else master
    values["owner_team_id"] = source.owner_team_id
    values["owning_business_unit_id"] = _owning_unit(session, source)
    if "first_name" in values:
        values["full_name"] = compose_full_name(values["first_name"], values["last_name"])
    return _Plan(choices=choices, values=values)


def _owning_unit(session: Session, record: Any) -> uuid.UUID | None:
    """The owner's business unit, as the services derive it."""
    if record.owner_user_id is not None:
        unit = session.scalar(select(User.business_unit_id).where(User.id == record.owner_user_id))
    elif record.owner_team_id is not None:
        unit = session.scalar(select(Team.business_unit_id).where(Team.id == record.owner_team_id))
    else:
        unit = None
    return unit or record.owning_business_unit_id


def _prepare(
    session: Session,
    actor: Actor,
    table: str | DetectionTable,
    master_id: uuid.UUID,
    subordinate_id: uuid.UUID,
    fields: Mapping[str, str] | None,
    *,
    force_parenting: bool,
    lock: bool,
) -> tuple[MergePolicy, Any, Any, _Plan]:
    """Every check of a merge, in the order a caller can act on: input, records, rights, state, parents."""
    policy = policy_for(table)
    fields = dict(fields or {})
    _check_choices(policy, fields)
    if master_id == subordinate_id:
        raise ValidationFailed(
            f"The master and the subordinate are the same {policy.label} (id {master_id}); "
            "a merge needs two different records.",
            code="merge_same_record",
        )
    master, subordinate = _load_pair(session, policy, master_id, subordinate_id, lock=lock)
    _require_rights(session, actor, policy, master, subordinate)
    _ensure_active(policy, master)
    _ensure_active(policy, subordinate)
    if not force_parenting:
        _check_parents(session, policy, master, subordinate)
    plan = _plan(session, policy, master, subordinate, fields)
    if plan.choices[OWNER] == SUBORDINATE and (
        (master.owner_user_id, master.owner_team_id) != (subordinate.owner_user_id, subordinate.owner_team_id)
    ):
        require(session, actor, Privilege.ASSIGN, policy.table.value, master)
    return policy, master, subordinate, plan


# ----------------------------------------------------------------------------------------------
# preview


@dataclass
class ChildMove:
    """Children of one kind that a merge moves: rows of ``table`` whose ``column`` names the subordinate."""

    table: str
    column: str
    ids: list[uuid.UUID] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"table": self.table, "column": self.column, "count": len(self.ids), "ids": [str(i) for i in self.ids]}


@dataclass
class MergePreview:
    """What a merge would do, computed without writing anything."""

    table: DetectionTable
    master_id: uuid.UUID
    subordinate_id: uuid.UUID
    choices: dict[str, str]
    values: dict[str, Any]
    changed: list[str]
    children: list[ChildMove]

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table.value,
            "master_id": str(self.master_id),
            "subordinate_id": str(self.subordinate_id),
            "choices": self.choices,
            "values": {name: to_json(value) for name, value in self.values.items()},
            "changed": self.changed,
            "children": [move.as_dict() for move in self.children],
        }


def _memberships(session: Session, record_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        session.scalars(select(SET_MEMBERS.c.set_id).where(SET_MEMBERS.c.record_id == record_id).order_by(SET_MEMBERS.c.set_id))
    )


def preview_merge(
    table: str | DetectionTable,
    master_id: uuid.UUID,
    subordinate_id: uuid.UUID,
    *,
    fields: Mapping[str, str] | None = None,
    force_parenting: bool = False,
    uow: UnitOfWork,
    actor: Actor,
) -> MergePreview:
    """The master's values after the merge and the children that would move; nothing is written."""
    session = uow.session
    policy, master, subordinate, plan = _prepare(
        session, actor, table, master_id, subordinate_id, fields, force_parenting=force_parenting, lock=False
    )
    children = []
    for link in policy.children:
        ids = list(session.scalars(select(link.table.c.id).where(link.condition(subordinate.id)).order_by(link.table.c.id)))
        if ids:
            children.append(ChildMove(link.table.name, link.column, ids))
    sets = _memberships(session, subordinate.id)
    if sets:
        children.append(ChildMove(SET_MEMBERS.name, "record_id", sets))
    changed = [name for name, value in plan.values.items() if getattr(master, name) != value]
    return MergePreview(policy.table, master.id, subordinate.id, plan.choices, plan.values, changed, children)


# ----------------------------------------------------------------------------------------------
# merge


def _move_children(session: Session, policy: MergePolicy, *, master_id: uuid.UUID, subordinate_id: uuid.UUID) -> list[dict[str, Any]]:
    """Re-point the subordinate's children at the master, bumping each one's row version."""
    moved: list[dict[str, Any]] = []
    now = utcnow()
    for link in policy.children:
        table = link.table
        condition = link.condition(subordinate_id)
        rows = session.execute(
            select(table.c.id, table.c.row_version, table.c.modified_at).where(condition).order_by(table.c.id).with_for_update()
        ).all()
        if not rows:
            continue
        session.execute(
            update(table).where(condition).values({link.column: master_id, "row_version": table.c.row_version + 1, "modified_at": now})
        )
        moved.extend(
            {
                "table": table.name,
                "id": str(row.id),
                "column": link.column,
                "old": str(subordinate_id),
                "version_before": row.row_version,
                "modified_at_before": to_json(row.modified_at),
                "version_after": row.row_version + 1,
            }
            for row in rows
        )
        _reindex(session, table, [row.id for row in rows])
    return moved


def _move_memberships(session: Session, *, master_id: uuid.UUID, subordinate_id: uuid.UUID) -> list[dict[str, Any]]:
    """Duplicate sets the subordinate belongs to now hold the master (once: a set never lists it twice)."""
    moved = []
    master_sets = set(_memberships(session, master_id))
    for set_id in _memberships(session, subordinate_id):
        membership = and_(SET_MEMBERS.c.set_id == set_id, SET_MEMBERS.c.record_id == subordinate_id)
        removed = set_id in master_sets
        if removed:
            session.execute(delete(SET_MEMBERS).where(membership))
        else:
            session.execute(update(SET_MEMBERS).where(membership).values(record_id=master_id))
        moved.append(
            {"table": SET_MEMBERS.name, "id": str(set_id), "column": "record_id", "old": str(subordinate_id), "removed": removed}
        )
    return moved


def _deactivate(policy: MergePolicy, subordinate: Any, master_id: uuid.UUID) -> None:
    setattr(subordinate, policy.master_column, master_id)
    if policy.table is DetectionTable.LEADS:
        subordinate.state = LeadState.DISQUALIFIED
        subordinate.status_reason = LeadStatusReason.CANCELED
        subordinate.merged = True
        subordinate.closed_at = utcnow()
    else:
        subordinate.state = CustomerState.INACTIVE


def merge_records(
    table: str | DetectionTable,
    master_id: uuid.UUID,
    subordinate_id: uuid.UUID,
    *,
    fields: Mapping[str, str] | None = None,
    force_parenting: bool = False,
    uow: UnitOfWork,
    actor: Actor,
) -> MergeJournal:
    """Merge the subordinate into the master; returns the journal that can undo it."""
    session = uow.session
    policy, master, subordinate, plan = _prepare(
        session, actor, table, master_id, subordinate_id, fields, force_parenting=force_parenting, lock=True
    )
    record_table = policy.model.__table__
    master_before = row_snapshot(record_table, master)
    subordinate_before = row_snapshot(record_table, subordinate)

    moved = _move_children(session, policy, master_id=master.id, subordinate_id=subordinate.id)
    moved += _move_memberships(session, master_id=master.id, subordinate_id=subordinate.id)

    now = utcnow()
    for name, value in plan.values.items():
        setattr(master, name, value)
    # Stamped even when no value changes: the master gained children, and its new row version is
    # what undo later checks.
    master.modified_at = now
    master.modified_by_id = actor.user_id
    _deactivate(policy, subordinate, master.id)
    subordinate.modified_at = now
    subordinate.modified_by_id = actor.user_id
    uow.flush()  # the ORM bumps both row versions and re-indexes both records' match codes

    journal = MergeJournal(
        id=uuid.uuid4(),
        table_name=policy.table,
        master_id=master.id,
        subordinate_id=subordinate.id,
        state=MergeState.MERGED,
        merged_by_id=actor.user_id,
        master_before=master_before,
        subordinate_before=subordinate_before,
        master_version_after=master.row_version,
        subordinate_version_after=subordinate.row_version,
        moved=moved,
        choices=plan.choices,
    )
    session.add(journal)
    uow.flush()
    record_action(
        session, actor, "merge", table=policy.table.value, record_id=master.id,
        changes={"merge_id": str(journal.id), "subordinate_id": str(subordinate.id), "moved": len(moved)},
        summary=f"Merged {_describe(record_table, subordinate)} into {_describe(record_table, master)}",
    )
    return journal


# ----------------------------------------------------------------------------------------------
# undo


def _get_journal(session: Session, merge_id: uuid.UUID, *, lock: bool = False) -> MergeJournal:
    statement = select(MergeJournal).where(MergeJournal.id == merge_id)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    journal = session.scalars(statement).first()
    if journal is None:
        raise NotFound(f"No merge has the id {merge_id}.", code="merge_not_found")
    return journal


def _chunks(items: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _locked_rows(session: Session, table: Table, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Any]:
    rows: dict[uuid.UUID, Any] = {}
    for chunk in _chunks(sorted(set(ids))):
        statement = select(table).where(table.c.id.in_(chunk)).order_by(table.c.id).with_for_update()
        rows.update((row.id, row) for row in session.execute(statement))
    return rows


def _reindex(session: Session, table: Table, ids: Sequence[uuid.UUID]) -> None:
    """Recompute match codes of rows written with Core statements (the ORM hook does not see them)."""
    if table.name not in {t.value for t in TABLES}:
        return
    for chunk in _chunks(list(ids)):
        rows = [dict(row) for row in session.execute(select(table).where(table.c.id.in_(chunk))).mappings()]
        index_rows(session, table.name, rows)


@dataclass
class _ChildRestore:
    table: Table
    id: uuid.UUID
    columns: dict[str, str]  # column -> the subordinate's id it held
    version_before: int
    modified_at_before: str
    version_after: int


def _child_restores(moved: list[dict[str, Any]]) -> list[_ChildRestore]:
    """One restore per moved row: a row moved in several columns goes back in one step."""
    restores: dict[tuple[str, str], _ChildRestore] = {}
    for entry in moved:
        if entry["table"] == SET_MEMBERS.name:
            continue
        key = (entry["table"], entry["id"])
        restore = restores.get(key)
        if restore is None:
            restores[key] = _ChildRestore(
                RECORD_TABLES[entry["table"]], uuid.UUID(entry["id"]), {entry["column"]: entry["old"]},
                entry["version_before"], entry["modified_at_before"], entry["version_after"],
            )
        else:  # moved again by a later link of the same merge: the first entry holds the original stamp
            restore.columns[entry["column"]] = entry["old"]
            restore.version_after = entry["version_after"]
    return list(restores.values())


def _conflicts(
    session: Session, journal: MergeJournal, records: dict[uuid.UUID, Any], table: Table, restores: list[_ChildRestore]
) -> list[dict[str, Any]]:
    """Every row the merge wrote that changed (or vanished) since: undoing would overwrite that work."""
    found = []
    for record_id, expected in (
        (journal.master_id, journal.master_version_after),
        (journal.subordinate_id, journal.subordinate_version_after),
    ):
        row = records.get(record_id)
        if row is None or row.row_version != expected:
            found.append(_conflict(table, record_id, row, expected))
    by_table: dict[str, list[_ChildRestore]] = {}
    for restore in restores:
        by_table.setdefault(restore.table.name, []).append(restore)
    for name, items in by_table.items():
        child_table = RECORD_TABLES[name]
        rows = _locked_rows(session, child_table, [item.id for item in items])
        for item in items:
            row = rows.get(item.id)
            if row is None or row.row_version != item.version_after:
                found.append(_conflict(child_table, item.id, row, item.version_after))
    return found


def _conflict(table: Table, record_id: uuid.UUID, row: Any, expected: int) -> dict[str, Any]:
    label = "note" if table is NOTES else TABLES[DetectionTable(table.name)].label
    if row is None:
        return {"table": table.name, "id": str(record_id), "change": "deleted",
                "message": f"the {label} (id {record_id}) was deleted after the merge"}
    return {
        "table": table.name,
        "id": str(record_id),
        "change": "changed",
        "row_version": row.row_version,
        "expected_row_version": expected,
        "message": f"{_describe(table, row)} was changed after the merge",
    }


def _restore_children(session: Session, restores: list[_ChildRestore]) -> None:
    groups: dict[tuple[str, tuple[str, ...]], list[_ChildRestore]] = {}
    for restore in restores:
        groups.setdefault((restore.table.name, tuple(sorted(restore.columns))), []).append(restore)
    for (name, columns), items in groups.items():
        table = RECORD_TABLES[name]
        statement = (
            update(table)
            .where(table.c.id == bindparam("b_id"), table.c.row_version == bindparam("b_expected"))
            .values(
                {column: bindparam(f"b_{column}") for column in columns}
                | {"row_version": bindparam("b_row_version"), "modified_at": bindparam("b_modified_at")}
            )
        )
        session.execute(
            statement,
            [
                {
                    "b_id": item.id,
                    "b_expected": item.version_after,
                    **{f"b_{column}": uuid.UUID(item.columns[column]) for column in columns},
                    "b_row_version": item.version_before,
                    "b_modified_at": from_json(table.c.modified_at, item.modified_at_before),
                }
                for item in items
            ],
        )
        _reindex(session, table, [item.id for item in items])


def _restore_memberships(session: Session, journal: MergeJournal) -> None:
    """Put the subordinate back in its duplicate sets, where those sets still exist (a new scan replaces them)."""
    for entry in journal.moved:
        if entry["table"] != SET_MEMBERS.name:
            continue
        set_id = uuid.UUID(entry["id"])
        if session.scalar(select(SETS.c.id).where(SETS.c.id == set_id)) is None:
            continue
        if entry["removed"]:
            present = session.scalar(
                select(SET_MEMBERS.c.set_id).where(SET_MEMBERS.c.set_id == set_id, SET_MEMBERS.c.record_id == journal.subordinate_id)
            )
            if present is None:
                session.execute(insert(SET_MEMBERS).values(set_id=set_id, record_id=journal.subordinate_id))
        else:
            session.execute(
                update(SET_MEMBERS)
                .where(SET_MEMBERS.c.set_id == set_id, SET_MEMBERS.c.record_id == journal.master_id)
                .values(record_id=journal.subordinate_id)
            )


def undo_merge(merge_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> MergeJournal:
    """Put both records and every moved child back exactly as they were before the merge."""
    session = uow.session
    journal = _get_journal(session, merge_id, lock=True)
    policy = POLICIES[DetectionTable(journal.table_name)]
    table: Table = policy.model.__table__
    if journal.state is MergeState.UNDONE:
        raise InvalidState(
            f"This merge was already undone on {journal.undone_at.isoformat() if journal.undone_at else 'an earlier date'}; "
            "there is nothing left to undo.",
            code="merge_already_undone",
        )
    records = _locked_rows(session, table, [journal.master_id, journal.subordinate_id])
    for record in records.values():
        require(session, actor, Privilege.WRITE, policy.table.value, record)
    restores = _child_restores(journal.moved)
    conflicts = _conflicts(session, journal, records, table, restores)
    if conflicts:
        raise Conflict(
            "This merge cannot be undone because "
            + "; ".join(item["message"] for item in conflicts)
            + ". Undoing it would overwrite those changes (undo any later merge first, or fix the records by hand).",
            code="merge_undo_conflict",
            details={"changed": conflicts},
        )

    for record_id, snapshot, expected in (
        (journal.master_id, journal.master_before, journal.master_version_after),
        (journal.subordinate_id, journal.subordinate_before, journal.subordinate_version_after),
    ):
        values = row_values(table, snapshot)
        values.pop("id")
        session.execute(update(table).where(table.c.id == record_id, table.c.row_version == expected).values(values))
    _reindex(session, table, [journal.master_id, journal.subordinate_id])
    _restore_children(session, restores)
    _restore_memberships(session, journal)
    # Records of this table loaded earlier in the unit of work now hold the merged values.
    for record in list(session.identity_map.values()):
        if isinstance(record, policy.model) and record.id in (journal.master_id, journal.subordinate_id):
            session.expire(record)

    journal.state = MergeState.UNDONE
    journal.undone_by_id = actor.user_id
    journal.undone_at = utcnow()
    uow.flush()
    record_action(
        session, actor, "unmerge", table=policy.table.value, record_id=journal.master_id,
        changes={"merge_id": str(journal.id), "subordinate_id": str(journal.subordinate_id)},
    )
    return journal


# ----------------------------------------------------------------------------------------------
# reading the journal


def _readable(session: Session, actor: Actor, journal: MergeJournal) -> bool:
    """A merge is visible to whoever may read its master (or its subordinate, once the master is gone)."""
    table = POLICIES[DetectionTable(journal.table_name)].model.__table__
    for record_id in (journal.master_id, journal.subordinate_id):
        row = session.execute(select(table).where(table.c.id == record_id)).first()
        if row is not None:
            return can(session, actor, Privilege.READ, journal.table_name.value, row)
    return has_admin(actor, "audit", Privilege.READ)


def get_merge(merge_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> MergeJournal:
    """One merge journal entry, if the actor may read the records it merged."""
    journal = _get_journal(uow.session, merge_id)
    if not _readable(uow.session, actor, journal):
        raise forbidden(actor, Privilege.READ, journal.table_name.value)
    return journal


def list_merges(
    *, record_id: uuid.UUID | None = None, limit: int = 50, uow: UnitOfWork, actor: Actor
) -> list[MergeJournal]:
    """Merges (involving one record, as master or subordinate, if given), newest first."""
    if not 1 <= limit <= 500:
        raise ValidationFailed("limit must be between 1 and 500.", code="invalid_limit")
    statement = select(MergeJournal).order_by(MergeJournal.created_at.desc(), MergeJournal.id.desc())
    if record_id is not None:
        statement = statement.where(or_(MergeJournal.master_id == record_id, MergeJournal.subordinate_id == record_id))
    found = []
    for journal in uow.session.scalars(statement):
        if _readable(uow.session, actor, journal):
            found.append(journal)
            if len(found) == limit:
                break
    return found


def moved_summary(journal: MergeJournal) -> list[dict[str, Any]]:
    """How many rows moved, per table and column, in the order the merge moved them."""
    counts: dict[tuple[str, str], int] = {}
    for entry in journal.moved:
        key = (entry["table"], entry["column"])
        counts[key] = counts.get(key, 0) + 1
    return [{"table": table, "column": column, "count": count} for (table, column), count in counts.items()]


def journal_out(journal: MergeJournal) -> dict[str, Any]:
    """A merge as the API and the command line show it."""
    per_table: dict[str, set[str]] = {}
    for entry in journal.moved:
        per_table.setdefault(entry["table"], set()).add(entry["id"])
    link = f"/api/v1/merges/{journal.id}"
    links = {"self": link}
    if journal.state is MergeState.MERGED:
        links["undo"] = f"{link}/undo"
    return {
        "id": str(journal.id),
        "table": DetectionTable(journal.table_name).value,
        "master_id": str(journal.master_id),
        "subordinate_id": str(journal.subordinate_id),
        "state": MergeState(journal.state).value,
        "choices": journal.choices,
        "moved": {table: len(ids) for table, ids in per_table.items()},
        "moved_by_column": moved_summary(journal),
        "created_at": journal.created_at.isoformat(),
        "merged_by_id": str(journal.merged_by_id) if journal.merged_by_id else None,
        "undone_at": journal.undone_at.isoformat() if journal.undone_at else None,
        "undone_by_id": str(journal.undone_by_id) if journal.undone_by_id else None,
        "links": links,
    }


__all__ = [
    "CHOICES",
    "POLICIES",
    "ChildMove",
    "MergePolicy",
    "MergePreview",
    "from_json",
    "get_merge",
    "journal_out",
    "list_merges",
    "merge_records",
    "moved_summary",
    "policy_for",
    "preview_merge",
    "row_snapshot",
    "row_values",
    "to_json",
    "undo_merge",
]
