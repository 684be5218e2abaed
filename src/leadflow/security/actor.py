"""The actor: who is asking. Every service function receives one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.errors import NotFound
from leadflow.security.models import User


@dataclass(frozen=True, slots=True)
class Actor:
    """The user on whose behalf an operation runs."""

    user_id: uuid.UUID
    business_unit_id: uuid.UUID


def actor_for_user(session: Session, user: User) -> Actor:
    """The actor of a loaded user."""
    return Actor(user_id=user.id, business_unit_id=user.business_unit_id)


def default_actor(session: Session) -> Actor:
    """The organisation's first administrator, who acts until sign-in names another user."""
    user = session.scalars(
        select(User).where(User.is_active.is_(True)).order_by(User.created_at, User.id).limit(1)
    ).first()
    if user is None:
        raise NotFound(
            "This database has no user yet; run `leadflow db upgrade` to create the administrator.",
            code="no_user",
        )
    return actor_for_user(session, user)
