"""One record's owner and shares (§8): assigning it to another user, sharing rights on it with a user or
a team (never a right the actor does not hold on it), taking a share back, and who it is shared with.
A record the actor may not read is, to them, one that does not exist."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.errors import Forbidden, NotFound, ValidationFailed
from leadflow.core.records import not_found, record_label
from leadflow.core.uow import UnitOfWork
from leadflow.security.access import can, require
from leadflow.security.actor import Actor
from leadflow.security.audit import record_action
from leadflow.security.models import RecordShare, Team, User
from leadflow.security.privileges import Privilege


def _reachable(session: Session, actor: Actor, table: str, record: Any) -> None:
    """A record the actor may not read is, to them, one that does not exist."""
    if not can(session, actor, Privilege.READ, table, record):
        raise not_found(label=record_label(table), record_id=record.id)


def assign_record(table: str, record: Any, new_owner_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> Any:
    """Change a record's owner; needs Assign on the record (one the actor may not read is not found)."""
    session = uow.session
    _reachable(session, actor, table, record)
    require(session, actor, Privilege.ASSIGN, table, record)
    owner = session.get(User, new_owner_id)
    if owner is None or not owner.is_active:
        raise ValidationFailed(
            f"owner_user_id names no active user (id {new_owner_id}).", code="owner_user_id_not_found"
        )
    old_owner = record.owner_user_id
    record.owner_user_id = owner.id
    record.owner_team_id = None
    record.owning_business_unit_id = owner.business_unit_id
    record.modified_by_id = actor.user_id
    uow.flush()
    record_action(
        session,
        actor,
        "assign",
        table=table,
        record_id=record.id,
        changes={"owner_user_id": {"old": str(old_owner) if old_owner else None, "new": str(owner.id)}},
    )
    return record


SHARE_RIGHTS = ("read", "write", "delete", "append", "assign", "share")
# The privilege each right of a share stands for: nobody shares a right they do not hold on the record.
SHARE_PRIVILEGES = {
    "read": Privilege.READ,
    "write": Privilege.WRITE,
    "delete": Privilege.DELETE,
    "append": Privilege.APPEND,
    "assign": Privilege.ASSIGN,
    "share": Privilege.SHARE,
}


def grantable_rights(session: Session, actor: Actor, table: str, record: Any) -> tuple[str, ...]:
    """The rights the actor may share on this record: those they hold on it themselves."""
    return tuple(right for right in SHARE_RIGHTS if can(session, actor, SHARE_PRIVILEGES[right], table, record))


def share_record(
    table: str,
    record: Any,
    *,
    user_id: uuid.UUID | None,
    team_id: uuid.UUID | None,
    rights: set[str],
    uow: UnitOfWork,
    actor: Actor,
) -> RecordShare:
    """Grant a user or team rights on one record; needs Share on it. Empty rights remove the share."""
    session = uow.session
    _reachable(session, actor, table, record)
    require(session, actor, Privilege.SHARE, table, record)
    if (user_id is None) == (team_id is None):
        raise ValidationFailed("Share with exactly one user or one team.", code="invalid_grantee")
    unknown = rights - set(SHARE_RIGHTS)
    if unknown:
        raise ValidationFailed(
            f"Unknown rights {sorted(unknown)}; use {', '.join(SHARE_RIGHTS)}.", code="invalid_option"
        )
    if user_id is not None and session.get(User, user_id) is None:
        raise ValidationFailed(f"user_id names no user (id {user_id}).", code="user_id_not_found")
    if team_id is not None and session.get(Team, team_id) is None:
        raise ValidationFailed(f"team_id names no team (id {team_id}).", code="team_id_not_found")
    beyond = sorted(right for right in rights if right not in grantable_rights(session, actor, table, record))
    if beyond:
        raise Forbidden(
            f"You can share only the rights you hold on this record yourself; you do not hold {', '.join(beyond)}.",
            code="share_beyond_own",
            details={"rights": beyond},
        )
    share = session.scalars(
        select(RecordShare).where(
            RecordShare.table_name == table,
            RecordShare.record_id == record.id,
            RecordShare.user_id == user_id if user_id else RecordShare.team_id == team_id,
        )
    ).first()
    if share is None:
        share = RecordShare(id=uuid.uuid4(), table_name=table, record_id=record.id, user_id=user_id, team_id=team_id)
        session.add(share)
    for right in SHARE_RIGHTS:
        setattr(share, f"can_{right}", right in rights or (right == "read" and bool(rights)))
    uow.flush()
    record_action(
        session,
        actor,
        "share",
        table=table,
        record_id=record.id,
        changes={"grantee": str(user_id or team_id), "rights": sorted(rights)},
    )
    if not rights:
        session.delete(share)
        uow.flush()
    return share


def unshare_record(table: str, record: Any, share_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> None:
    """Take back everything one share gave on a record; needs Share on it."""
    session = uow.session
    _reachable(session, actor, table, record)
    require(session, actor, Privilege.SHARE, table, record)
    share = session.get(RecordShare, share_id)
    if share is None or share.table_name != table or share.record_id != record.id:
        raise NotFound("This record is not shared with them any more.", code="share_not_found")
    grantee = share.user_id or share.team_id
    session.delete(share)
    uow.flush()
    record_action(session, actor, "unshare", table=table, record_id=record.id, changes={"grantee": str(grantee)})


@dataclass(frozen=True)
class ShareEntry:
    """One share of a record: to whom (a user's name and email, or a team's name) and which rights."""

    share: RecordShare
    grantee: str
    is_team: bool
    rights: tuple[str, ...]


@dataclass(frozen=True)
class Sharing:
    """A record's shares, whom else it can be shared with, and the rights the actor may share."""

    shares: list[ShareEntry]
    users: list[User]
    teams: list[Team]
    grantable: tuple[str, ...]


def sharing_of(table: str, record: Any, *, uow: UnitOfWork, actor: Actor) -> Sharing:
    """Who a record is shared with and whom it can be shared with (needs Share on it): the active users
    but the actor, and the teams."""
    session = uow.session
    _reachable(session, actor, table, record)
    require(session, actor, Privilege.SHARE, table, record)
    shares = list(
        session.scalars(
            select(RecordShare)
            .where(RecordShare.table_name == table, RecordShare.record_id == record.id)
            .order_by(RecordShare.created_at, RecordShare.id)
        )
    )
    people = {
        user.id: user
        for user in session.scalars(
            select(User).where(User.id.in_({share.user_id for share in shares if share.user_id}))
        )
    }
    teams = list(session.scalars(select(Team).order_by(Team.name, Team.id)))
    team_names = {team.id: team.name for team in teams}
    entries = []
    for share in shares:
        person = people.get(share.user_id) if share.user_id else None
        team_name = team_names.get(share.team_id, "") if share.team_id else ""
        grantee = f"{person.full_name} ({person.email})" if person else team_name
        rights = tuple(right for right in SHARE_RIGHTS if getattr(share, f"can_{right}"))
        entries.append(ShareEntry(share, grantee, share.team_id is not None, rights))
    users = list(
        session.scalars(
            select(User).where(User.is_active.is_(True), User.id != actor.user_id).order_by(User.full_name, User.id)
        )
    )
    return Sharing(entries, users, teams, grantable_rights(session, actor, table, record))
