"""Access checks of §8: every read filtered in SQL, every change checked on the record."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, exists, false, or_, select, true
from sqlalchemy.orm import Session

from leadflow.core.errors import Forbidden
from leadflow.core.paging import Page, keyset_page
from leadflow.core.records import get_record, get_reference, not_found, record_label, unknown_reference
from leadflow.security.actor import Actor
from leadflow.security.models import RecordShare
from leadflow.security.privileges import Depth, Privilege

RecordT = TypeVar("RecordT")

# Which share right grants which privilege (Create is never shared; Append To rides on Append).
SHARE_RIGHT = {
    Privilege.READ: RecordShare.can_read,
    Privilege.WRITE: RecordShare.can_write,
    Privilege.DELETE: RecordShare.can_delete,
    Privilege.APPEND: RecordShare.can_append,
    Privilege.APPEND_TO: RecordShare.can_append,
    Privilege.ASSIGN: RecordShare.can_assign,
    Privilege.SHARE: RecordShare.can_share,
}


def _label(privilege: Privilege) -> str:
    return privilege.value.replace("_", " ").title()


def forbidden(actor: Actor, privilege: Privilege, table: str, *, what: str = "this record") -> Forbidden:
    """The refusal naming the missing privilege."""
    held = actor.depth(table, privilege)
    return Forbidden(
        f"You lack the {_label(privilege)} privilege on {table} for {what} "
        f"(your roles grant it at level {held.label}); ask an administrator for a role that does.",
        code="forbidden",
        details={"privilege": privilege.value, "table": table, "level": held.label},
    )


def _shared_with(actor: Actor, privilege: Privilege, table: str, record_id: Any) -> ColumnElement[bool]:
    right = SHARE_RIGHT.get(privilege)
    if right is None:
        return false()
    grantee = RecordShare.user_id == actor.user_id
    if actor.team_ids:
        grantee = or_(grantee, RecordShare.team_id.in_(actor.team_ids))
    return exists().where(RecordShare.table_name == table, RecordShare.record_id == record_id, grantee, right.is_(True))


def access_condition(actor: Actor, privilege: Privilege, table: str, model: Any) -> ColumnElement[bool]:
    """The SQL condition selecting the records of ``model`` the actor holds ``privilege`` on."""
    depth = actor.depth(table, privilege)
    if depth is Depth.ORGANIZATION:
        return true()
    if depth is Depth.NONE:
        return false()
    own = model.owner_user_id == actor.user_id
    if actor.team_ids:
        own = or_(own, model.owner_team_id.in_(actor.team_ids))
    by_depth = {
        Depth.USER: own,
        Depth.BUSINESS_UNIT: or_(own, model.owning_business_unit_id == actor.business_unit_id),
        Depth.PARENT_CHILD: or_(own, model.owning_business_unit_id.in_(actor.unit_subtree)),
    }[depth]
    right = SHARE_RIGHT.get(privilege)
    if right is None:
        return by_depth
    # The records shared with the actor, as one uncorrelated set: the database computes it once per
    # query (a hashed subplan on PostgreSQL) instead of probing the shares for every row.
    grantee = RecordShare.user_id == actor.user_id
    if actor.team_ids:
        grantee = or_(grantee, RecordShare.team_id.in_(actor.team_ids))
    shared = select(RecordShare.record_id).where(RecordShare.table_name == table, grantee, right.is_(True))
    return or_(by_depth, model.id.in_(shared))


def _covers(actor: Actor, depth: Depth, *, owner_user_id: Any, owner_team_id: Any, owning_unit_id: Any) -> bool:
    if depth is Depth.ORGANIZATION:
        return True
    if depth is Depth.NONE:
        return False
    if owner_user_id == actor.user_id or (owner_team_id is not None and owner_team_id in actor.team_ids):
        return True
    if depth is Depth.BUSINESS_UNIT:
        return owning_unit_id == actor.business_unit_id
    if depth is Depth.PARENT_CHILD:
        return owning_unit_id in actor.unit_subtree
    return False


def privilege_table(record: Any) -> str:
    """The table whose privileges guard a record: its own, or the one it names (an activity's type's)."""
    return getattr(record, "privilege_table", None) or record.__tablename__


def can(session: Session, actor: Actor, privilege: Privilege, table: str, record: Any) -> bool:
    """Whether the actor holds ``privilege`` on this loaded record (depth, then shares)."""
    depth = actor.depth(table, privilege)
    if _covers(
        actor,
        depth,
        owner_user_id=record.owner_user_id,
        owner_team_id=record.owner_team_id,
        owning_unit_id=record.owning_business_unit_id,
    ):
        return True
    if depth is Depth.NONE:
        return False
    return bool(session.scalar(select(_shared_with(actor, privilege, table, record.id))))


def require(session: Session, actor: Actor, privilege: Privilege, table: str, record: Any) -> None:
    """Refuse (Forbidden) unless the actor holds ``privilege`` on the record."""
    if not can(session, actor, privilege, table, record):
        raise forbidden(actor, privilege, table)


def require_create(actor: Actor, table: str, *, owner_user_id: uuid.UUID, owning_unit_id: uuid.UUID) -> None:
    """Creating needs Create reaching the new record's owner; for someone else, Assign reaching them too."""
    if actor.depth(table, Privilege.CREATE) is Depth.NONE:
        raise forbidden(actor, Privilege.CREATE, table, what="new records")
    for privilege in (Privilege.CREATE, Privilege.ASSIGN) if owner_user_id != actor.user_id else ():
        if not _covers(
            actor,
            actor.depth(table, privilege),
            owner_user_id=owner_user_id,
            owner_team_id=None,
            owning_unit_id=owning_unit_id,
        ):
            raise forbidden(actor, privilege, table, what="records owned by that user")


def require_admin(actor: Actor, table: str, privilege: Privilege) -> None:
    """Administrative areas (users, roles, settings, audit): any level above None allows."""
    if actor.depth(table, privilege) is Depth.NONE:
        raise forbidden(actor, privilege, table, what="this area")


def has_admin(actor: Actor, table: str, privilege: Privilege) -> bool:
    return actor.depth(table, privilege) is not Depth.NONE


def list_records(
    session: Session, model: type[RecordT], *, actor: Actor, limit: int, cursor: str | None = None
) -> Page[RecordT]:
    """A page of the records the actor may read, oldest first."""
    statement = select(model).where(access_condition(actor, Privilege.READ, model.__tablename__, model))  # type: ignore[attr-defined]
    return keyset_page(
        session,
        statement,
        key=model.created_at,  # type: ignore[attr-defined]
        id_column=model.id,  # type: ignore[attr-defined]
        kind="datetime",
        limit=limit,
        cursor=cursor,
    )


def linkable(session: Session, actor: Actor, model: type[RecordT], record_id: uuid.UUID, *, field: str) -> RecordT:
    """A record a request names in ``field`` to link to, which needs Append To on it.

    A record the actor may not read is answered exactly like one that does not exist (a 422 naming
    the field), so that nobody learns which ids exist by trying them.
    """
    table = model.__tablename__  # type: ignore[attr-defined]
    label = record_label(table)
    record = get_reference(session, model, record_id, field=field, label=label)
    if not can(session, actor, Privilege.READ, table, record):
        raise unknown_reference(field=field, label=label, record_id=record_id)
    require(session, actor, Privilege.APPEND_TO, table, record)
    return record


def get_accessible(
    session: Session,
    model: type[RecordT],
    record_id: uuid.UUID,
    *,
    label: str,
    actor: Actor,
    privilege: Privilege,
    for_update: bool = False,
) -> RecordT:
    """A record by id that the actor holds ``privilege`` on.

    NotFound when it does not exist or the actor may not read it (the two look the same); Forbidden,
    naming the privilege, when the actor can read it but not do this to it.
    """
    record = get_record(session, model, record_id, label=label, for_update=for_update)
    table = privilege_table(record)
    # A record one may not read is, to them, a record that does not exist.
    if not can(session, actor, Privilege.READ, table, record):
        raise not_found(label=label, record_id=record_id)
    if privilege is not Privilege.READ:
        require(session, actor, privilege, table, record)
    return record
