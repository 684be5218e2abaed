"""Jobs: long work (bulk qualify, duplicate scans, rule publishing, currency recalculation) as records.

A job is the durable side of a message in the job queue (``leadflow.jobs.queue``): the queue carries
only the job's id; what the job must do, how far it got and what each item came to live here, in
leadflow's own database, written in the same transaction as the work itself. That is what makes a
job safe to resume after its worker died: the items whose work committed have their result rows,
and the others have none.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.core.db import Base, RecordMixin, UTCDateTime, enum_column

# queued: waiting for a worker; running: a worker has it; then one of the three ends.
JobState = enum.StrEnum("JobState", "QUEUED RUNNING SUCCEEDED FAILED CANCELED")
FINISHED = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELED})


class Job(RecordMixin, Base):
    """One piece of long work: what it does, its state and progress, who started it and when."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_state", "state"),
        Index("ix_jobs_created_by_id_created_at", "created_by_id", "created_at"),
        Index("ix_jobs_created_at", "created_at"),
    )

    kind: Mapped[str] = mapped_column(String(40))
    state: Mapped[JobState] = mapped_column(enum_column(JobState), default=JobState.QUEUED)
    # What the job works on (ids, options), as its kind reads them; never shown as is. Loaded only
    # when read: a bulk qualification's holds every lead id (a million ids are about 40 MB), which
    # lists and progress polls have no use for.
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, deferred=True)
    # A line that says what the job does, for lists ("Qualify 50,000 leads").
    title: Mapped[str] = mapped_column(String(200), default="")
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    # What the job came to, by kind: counts per item result, figures.
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the job was last handed to the queue, and when its worker last said it was alive.
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The worker running it: host and process id ("db1:4242").
    worker: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(default=False)


class JobItem(Base):
    """What one item of a job came to (a lead qualified, skipped at a duplicate, refused), written with it."""

    __tablename__ = "job_items"

    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    status: Mapped[str] = mapped_column(String(20))
    code: Mapped[str | None] = mapped_column(String(80))
    message: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
