"""Who owns records: business units (a tree), users and teams. The security issue adds roles."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.db import Base, RecordMixin


class BusinessUnit(RecordMixin, Base):
    """A node of the organisation tree; the root has no parent."""

    __tablename__ = "business_units"

    name: Mapped[str] = mapped_column(String(160))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("business_units.id"), index=True)


class User(RecordMixin, Base):
    """A person who signs in and owns records."""

    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), unique=True)
    full_name: Mapped[str] = mapped_column(String(160))
    language: Mapped[str] = mapped_column(String(8), default="en")
    business_unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("business_units.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)


class Team(RecordMixin, Base):
    """A group of users that can own records together."""

    __tablename__ = "teams"

    name: Mapped[str] = mapped_column(String(160))
    business_unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("business_units.id"), index=True)


class OwnedMixin:
    """Ownership by a user or a team, with the owner's business unit kept for access filtering."""

    owner_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), index=True)
    owner_team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("teams.id"))
    owning_business_unit_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("business_units.id")
    )
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    modified_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
