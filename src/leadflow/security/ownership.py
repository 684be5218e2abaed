"""The life of an owned record (a lead, account, contact or opportunity) as security and the audit
log see it: who owns a new one and whether the actor may create it, an audited change (giving it
to another owner needs Assign), and a delete that takes the record's shares with it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import delete
from sqlalchemy.orm import Session

from leadflow.core.records import apply_changes, get_reference
from leadflow.core.uow import UnitOfWork
from leadflow.security.access import privilege_table, require, require_create
from leadflow.security.actor import Actor
from leadflow.security.audit import changed_fields, record_action
from leadflow.security.models import RecordShare, User
from leadflow.security.privileges import Privilege

RecordT = TypeVar("RecordT")


def with_owner_unit(session: Session, values: dict[str, Any]) -> dict[str, Any]:
    """The values, with the owning business unit of the owner they name (an unknown owner is a 422)."""
    if values.get("owner_user_id"):
        owner = get_reference(session, User, values["owner_user_id"], field="owner_user_id", label="user")
        values["owning_business_unit_id"] = owner.business_unit_id
    return values


def _new_owned(model: type[RecordT], values: dict[str, Any], *, actor: Actor) -> RecordT:
    """A new record owned by the actor unless ``values`` name another owner, once the actor may
    create it for that owner."""
    defaults = {
        "owner_user_id": actor.user_id,
        "owning_business_unit_id": actor.business_unit_id,
        "created_by_id": actor.user_id,
        "modified_by_id": actor.user_id,
    }
    # A record id in ``values`` is one the client chose (the Web API's upsert); else a new one.
    record: Any = model(**{"id": uuid.uuid4(), **defaults, **values})
    require_create(
        actor,
        privilege_table(record),
        owner_user_id=record.owner_user_id,
        owning_unit_id=record.owning_business_unit_id,
    )
    return record


def create_owned(
    model: type[RecordT], values: dict[str, Any], *, summary_of: str, uow: UnitOfWork, actor: Actor
) -> RecordT:
    """A new record owned by the actor unless ``values`` name another owner; refused without the
    Create privilege reaching that owner. Audited with the value of the column ``summary_of``."""
    return create_owned_many(model, [values], summary_of=summary_of, uow=uow, actor=actor)[0]


def create_owned_many(
    model: type[RecordT], rows: Sequence[dict[str, Any]], *, summary_of: str, uow: UnitOfWork, actor: Actor
) -> list[RecordT]:
    """Several new records as ``create_owned`` makes one, written in one flush (a batch of a thousand
    costs one round of statements instead of a thousand)."""
    table = model.__tablename__  # type: ignore[attr-defined]
    records: list[Any] = [_new_owned(model, values, actor=actor) for values in rows]
    uow.session.add_all(records)
    uow.flush()
    for record in records:
        record_action(
            uow.session, actor, "create", table=table, record_id=record.id, summary=getattr(record, summary_of)
        )
    return records


def change_owned(record: Any, values: dict[str, Any], *, uow: UnitOfWork, actor: Actor) -> None:
    """Apply changes to a record the caller may write: a new owner needs Assign; the change is audited."""
    table = record.__tablename__
    if "owner_user_id" in values and values["owner_user_id"] != record.owner_user_id:
        require(uow.session, actor, Privilege.ASSIGN, privilege_table(record), record)
    apply_changes(record, values)
    record.modified_by_id = actor.user_id
    record_action(uow.session, actor, "update", table=table, record_id=record.id, changes=changed_fields(record))
    uow.flush()


def delete_shares_of(session: Session, table: str, record_id: uuid.UUID) -> None:
    """Shares go with the record they grant rights on."""
    session.execute(delete(RecordShare).where(RecordShare.table_name == table, RecordShare.record_id == record_id))


def delete_owned(record: Any, *, summary: str | None, uow: UnitOfWork, actor: Actor) -> None:
    """Delete a record the caller may delete, with its shares; audited with ``summary``."""
    table, record_id = record.__tablename__, record.id
    delete_shares_of(uow.session, privilege_table(record), record_id)
    uow.session.delete(record)
    uow.flush()
    record_action(uow.session, actor, "delete", table=table, record_id=record_id, summary=summary)
