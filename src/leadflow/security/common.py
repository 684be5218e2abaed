"""What the security use cases share: the details of a refusal that names a field of a form, the
checks that nobody hands out a privilege wider than their own and that no two business units or teams
share a name, and the rule that the organisation always keeps an active System Administrator."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.errors import Forbidden, InvalidState, ValidationFailed
from leadflow.security.actor import Actor
from leadflow.security.models import BusinessUnit, Role, Team, TeamMember, TeamRole, User, UserRole
from leadflow.security.privileges import SYSTEM_ADMINISTRATOR, Depth, Privilege

NAME_LENGTH = 160  # of a business unit or a team


def _field(name: str, code: str) -> dict[str, Any]:
    """The details of a refusal that belongs to one field of a form."""
    return {"fields": [{"field": name, "code": code}]}


def _within_reach(actor: Actor, matrix: dict[str, dict[Privilege, Depth]]) -> None:
    """Nobody hands out a privilege wider than their own roles grant them, by writing a role or by
    granting one: whoever could would give themselves any privilege."""
    for table, row in matrix.items():
        for privilege, depth in row.items():
            held = actor.depth(table, privilege)
            if Depth(depth) > held:
                raise Forbidden(
                    f"You cannot grant the {privilege.value.replace('_', ' ').title()} privilege on {table} at level "
                    f"{Depth(depth).label}: your own roles grant it only at level {held.label}.",
                    code="privilege_beyond_own",
                    details={"privilege": privilege.value, "table": table, "level": Depth(depth).label},
                )


def _unique_name(
    session: Session, model: type[BusinessUnit | Team], name: str, *, other_than: uuid.UUID | None = None
) -> str:
    """The name of a new or renamed business unit or team, checked: forms and commands name them, so no
    two of a kind share one (whatever the case)."""
    kind = "business unit" if model is BusinessUnit else "team"
    name = name.strip()
    if not name:
        raise ValidationFailed(f"A {kind} needs a name.", code="required", details=_field("name", "required"))
    if len(name) > NAME_LENGTH:
        raise ValidationFailed(
            f"The name of a {kind} is at most {NAME_LENGTH} characters.",
            code="too_long",
            details=_field("name", "too_long"),
        )
    others = select(model.name) if other_than is None else select(model.name).where(model.id != other_than)
    if any(existing.casefold() == name.casefold() for existing in session.scalars(others)):
        code = "business_unit_exists" if model is BusinessUnit else "team_exists"
        raise ValidationFailed(f"A {kind} with this name already exists.", code=code)
    return name


def is_administrator(actor: Actor) -> bool:
    return SYSTEM_ADMINISTRATOR in actor.role_names


def _administrators(session: Session) -> set[uuid.UUID]:
    """The active users who hold the System Administrator role, their own or through a team."""
    administrator = select(Role.id).where(Role.name == SYSTEM_ADMINISTRATOR).scalar_subquery()
    own = select(UserRole.user_id).where(UserRole.role_id == administrator)
    through_team = (
        select(TeamMember.user_id)
        .join(TeamRole, TeamRole.team_id == TeamMember.team_id)
        .where(TeamRole.role_id == administrator)
    )
    return set(session.scalars(select(User.id).where(User.is_active.is_(True), User.id.in_(own.union(through_team)))))


def _keep_an_administrator(session: Session, message: str) -> None:
    """Refuse a change (made and flushed in this unit of work, which then rolls back) that leaves the
    organisation without an active System Administrator, whichever way they held the role.

    The System Administrator role's row is locked first, so that two such changes made at once take
    turns: the second one counts after the first has committed (PostgreSQL reads committed rows anew
    at each statement; SQLite lets one writer in at a time)."""
    session.execute(select(Role.id).where(Role.name == SYSTEM_ADMINISTRATOR).with_for_update())
    if not _administrators(session):
        raise InvalidState(message, code="last_administrator")


LAST_ADMINISTRATOR_ROLE = "The organisation's last System Administrator cannot lose that role."
