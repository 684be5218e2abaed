"""What import and export keep: files held in the database, and the named column mappings of imports.

A file an import reads, or an export writes, is kept in leadflow's own database in chunks of one
megabyte, not on a disk: every worker, on any machine, reads the same file, and a worker that
streams it holds one chunk at a time. A file of an import also names the import job that reads it
and its fingerprint, so that an import of the same file again can find what the earlier one created.
"""

from __future__ import annotations

import enum
import uuid
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.core.db import Base, RecordMixin, enum_column

CHUNK_BYTES = 1024 * 1024


class TransferTable(enum.StrEnum):
    """The tables that import and export read and write."""

    LEADS = "leads"
    ACCOUNTS = "accounts"
    CONTACTS = "contacts"
    OPPORTUNITIES = "opportunities"


class FilePurpose(enum.StrEnum):
    IMPORT = "import"
    EXPORT = "export"


class TransferFile(RecordMixin, Base):
    """A spreadsheet an import reads or an export wrote: its name, size, fingerprint and owner."""

    __tablename__ = "transfer_files"
    __table_args__ = (
        Index("ix_transfer_files_fingerprint", "fingerprint", "table_name"),
        Index("ix_transfer_files_job_id", "job_id"),
    )

    purpose: Mapped[FilePurpose] = mapped_column(enum_column(FilePurpose))
    table_name: Mapped[TransferTable] = mapped_column(enum_column(TransferTable))
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    # SHA-256 of the bytes: the same file imported again is recognised by it.
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class TransferChunk(Base):
    """One megabyte of a kept file, in order."""

    __tablename__ = "transfer_chunks"

    file_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("transfer_files.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ImportMapping(RecordMixin, Base):
    """A named mapping of a file's column headers to a table's fields, kept for the next import."""

    __tablename__ = "import_mappings"
    __table_args__ = (UniqueConstraint("table_name", "name", name="uq_import_mappings_table_name_name"),)

    table_name: Mapped[TransferTable] = mapped_column(enum_column(TransferTable))
    name: Mapped[str] = mapped_column(String(100))
    # {"header as in the file": "field name" or null for a column not imported}
    columns: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
