"""Before a merge writes anything: load and lock the two records, check rights, states and
parents, decide which value of each field survives, and preview what would move."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from leadflow.core.errors import Conflict, InvalidState, NotFound, ValidationFailed
from leadflow.core.names import compose_full_name
from leadflow.core.uow import UnitOfWork
from leadflow.duplicates.merge.policy import (
    CHOICES,
    MASTER,
    OWNER,
    RECORD_TABLE_NAMES,
    SUBORDINATE,
    Mergeable,
    MergePolicy,
    describe,
    field_value,
    label_of,
    mergeable_fields,
    policy_for,
    record_table,
)
from leadflow.duplicates.merge.snapshot import to_json
from leadflow.duplicates.models import DetectionTable, DuplicateSetMember
from leadflow.security.access import can, require
from leadflow.security.actor import Actor
from leadflow.security.models import Team, User
from leadflow.security.privileges import Privilege

SET_MEMBERS = cast(Table, DuplicateSetMember.__table__)


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
    for other in map(record_table, RECORD_TABLE_NAMES):
        if other.name != policy.table.value and session.scalar(select(other.c.id).where(other.c.id == record_id)):
            other_label = label_of(other)
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


def _ensure_active(policy: MergePolicy, record: Mergeable) -> None:
    described = describe(policy.model.__table__, record)
    who = described[0].upper() + described[1:]
    master_link = getattr(record, policy.master_column)
    if master_link is not None or getattr(record, "merged", False):
        raise InvalidState(
            f"{who} was already merged into another {policy.label} (id {master_link}); "
            "merge that one instead, or undo the earlier merge first.",
            code="merge_inactive_record",
            details={"id": str(record.id), "master_id": str(master_link) if master_link else None},
        )
    record.ensure_mergeable(who)


def _check_parents(session: Session, policy: MergePolicy, master: Any, subordinate: Any) -> None:
    for parent in policy.parents:
        ours, theirs = getattr(master, parent.column), getattr(subordinate, parent.column)
        if ours is None or theirs is None or ours == theirs:
            continue
        rows = {
            row.id: row for row in session.execute(select(parent.table).where(parent.table.c.id.in_([ours, theirs])))
        }
        names = [
            describe(parent.table, rows[i]) if i in rows else f"the {parent.label} (id {i})" for i in (ours, theirs)
        ]
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


def _rights(master: Any, subordinate: Any) -> tuple[tuple[Privilege, Any], ...]:
    """What a merge needs on its two records: Write on both, Append To on the master."""
    return (Privilege.WRITE, master), (Privilege.WRITE, subordinate), (Privilege.APPEND_TO, master)


def _require_rights(session: Session, actor: Actor, policy: MergePolicy, master: Any, subordinate: Any) -> None:
    table = policy.table.value
    for privilege, record in _rights(master, subordinate):
        require(session, actor, privilege, table, record)


def may_merge(
    session: Session, actor: Actor, table: str | DetectionTable, master_id: uuid.UUID, subordinate_id: uuid.UUID
) -> bool:
    """Whether the actor may read both records and holds the rights merging them needs: whether a page
    may offer the merge (the merge's own checks of states and parents still come when it is asked for)."""
    policy = policy_for(table)
    model = policy.model
    found = {
        record.id: record for record in session.scalars(select(model).where(model.id.in_([master_id, subordinate_id])))
    }
    master, subordinate = found.get(master_id), found.get(subordinate_id)
    if master is None or subordinate is None or master is subordinate:
        return False
    name = policy.table.value
    wanted = ((Privilege.READ, master), (Privilege.READ, subordinate), *_rights(master, subordinate))
    return all(can(session, actor, privilege, name, record) for privilege, record in wanted)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _check_choices(session: Session, policy: MergePolicy, fields: Mapping[str, str]) -> None:
    allowed = mergeable_fields(session, policy)
    unknown = sorted(name for name in fields if name not in allowed)
    if unknown:
        raise ValidationFailed(
            f"{', '.join(unknown)} {'is not a field' if len(unknown) == 1 else 'are not fields'} a merge of "
            f"{policy.table.value} can choose; choose among: {', '.join(allowed)}.",
            code="unknown_merge_field",
            details={
                "fields": [
                    {
                        "field": name,
                        "code": "unknown_merge_field",
                        "message": f"{name} is not a field a merge can choose.",
                    }
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
                    {
                        "field": name,
                        "code": "invalid_merge_choice",
                        "message": f"Choose 'master' or 'subordinate' for {name}.",
                    }
                    for name in invalid
                ]
            },
        )


def _is_blank_field(record: Any, name: str) -> bool:
    if name == OWNER:  # a team-owned record has an owner too
        return record.owner_user_id is None and record.owner_team_id is None
    value = field_value(record, name)
    return _blank(value) or value == []


@dataclass
class _Plan:
    choices: dict[str, str]
    values: dict[str, Any]  # the master's columns after the merge (every field, derived ones too)


def _plan(session: Session, policy: MergePolicy, master: Any, subordinate: Any, fields: Mapping[str, str]) -> _Plan:
    choices: dict[str, str] = {}
    values: dict[str, Any] = {}
    custom = dict(master.custom or {})
    for name in mergeable_fields(session, policy):
        choice = fields.get(name)
        if choice is None:
            take_subordinate = _is_blank_field(master, name) and not _is_blank_field(subordinate, name)
            choice = SUBORDINATE if take_subordinate else MASTER
        choices[name] = choice
        chosen = subordinate if choice == SUBORDINATE else master
        if name.startswith("custom."):
            key = name.removeprefix("custom.")
            for stored in (key, f"{key}__base"):  # a money field's base amount goes with its amount
                if (chosen.custom or {}).get(stored) is None:
                    custom.pop(stored, None)
                else:
                    custom[stored] = chosen.custom[stored]
        else:
            values[name] = getattr(chosen, name)
    values["custom"] = custom
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


def prepare(
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
    _check_choices(session, policy, fields)
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


def memberships(session: Session, record_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        session.scalars(
            select(SET_MEMBERS.c.set_id).where(SET_MEMBERS.c.record_id == record_id).order_by(SET_MEMBERS.c.set_id)
        )
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
    policy, master, subordinate, plan = prepare(
        session, actor, table, master_id, subordinate_id, fields, force_parenting=force_parenting, lock=False
    )
    children = []
    for link in policy.children:
        ids = list(
            session.scalars(select(link.table.c.id).where(link.condition(subordinate.id)).order_by(link.table.c.id))
        )
        if ids:
            children.append(ChildMove(link.table.name, link.column, ids))
    sets = memberships(session, subordinate.id)
    if sets:
        children.append(ChildMove(SET_MEMBERS.name, "record_id", sets))
    changed = [name for name, value in plan.values.items() if getattr(master, name) != value]
    return MergePreview(policy.table, master.id, subordinate.id, plan.choices, plan.values, changed, children)
