"""The audit log: an append-only record of who did what, when (§8)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.db import Base, UTCDateTime, utcnow


class AuditEntry(Base):
    """One audited action. Entries are only ever inserted; nothing updates or deletes them."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_occurred", "occurred_at", "id"),
        Index("ix_audit_entries_record", "table_name", "record_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # The acting user's business unit at the time, so that audit reads can be limited by unit.
    business_unit_id: Mapped[uuid.UUID | None] = mapped_column()
    action: Mapped[str] = mapped_column(String(40), index=True)
    table_name: Mapped[str | None] = mapped_column(String(40))
    record_id: Mapped[uuid.UUID | None] = mapped_column()
    # For updates: {"field": {"old": ..., "new": ...}}; otherwise what the action needs to tell.
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    summary: Mapped[str | None] = mapped_column(String(500))
