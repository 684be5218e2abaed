"""Notes regarding one record, each with an optional attachment (§1)."""

from __future__ import annotations

import enum
import uuid

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from leadflow.core.db import Base, RecordMixin, enum_column

# The tables a note can regard; the URL segment of the notes endpoints.
RegardingTable = enum.StrEnum("RegardingTable", "LEADS ACCOUNTS CONTACTS OPPORTUNITIES")


class Note(RecordMixin, Base):
    """A note on exactly one record."""

    __tablename__ = "notes"
    __table_args__ = (Index("ix_notes_regarding", "regarding_table", "regarding_id", "created_at"),)

    regarding_table: Mapped[RegardingTable] = mapped_column(enum_column(RegardingTable))
    regarding_id: Mapped[uuid.UUID] = mapped_column()
    title: Mapped[str | None] = mapped_column(String(500))
    body: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    # Attachment metadata lives on the note so listings never touch the bytes.
    file_name: Mapped[str | None] = mapped_column(String(255))
    mime_type: Mapped[str | None] = mapped_column(String(255))
    file_size: Mapped[int | None] = mapped_column()


class Attachment(Base):
    """The bytes of a note's attachment, in their own table so that they load only on download."""

    __tablename__ = "attachments"

    note_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notes.id", ondelete="CASCADE"), primary_key=True)
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary))
