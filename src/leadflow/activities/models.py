"""Notes regarding one record, each with an optional attachment (§1), and the activities of a seller's
day: tasks, phone calls, appointments and e-mails, with their parties and each user's calendar feed."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from leadflow.core.db import Base, RecordMixin, UTCDateTime, enum_column, utcnow
from leadflow.security.models import OwnedMixin

# The tables a note can regard; the URL segment of the notes endpoints.
RegardingTable = enum.StrEnum("RegardingTable", "LEADS ACCOUNTS CONTACTS OPPORTUNITIES")


class Note(RecordMixin, Base):
    """A note on exactly one record."""

    __tablename__ = "notes"
    __table_args__ = (Index("ix_notes_regarding", "regarding_table", "regarding_id", "created_at", "id"),)

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


# ---------------------------------------------------------------------------------------------- activities
# Tasks, phone calls, appointments and e-mails (Dynamics' activity entities, one table as its
# activitypointer is): each regards at most one record, is owned as the other records are, and is
# Open, Completed or Canceled with a status reason of its type.

ActivityType = enum.StrEnum("ActivityType", "TASK PHONE_CALL APPOINTMENT EMAIL")
ActivityState = enum.StrEnum("ActivityState", "OPEN COMPLETED CANCELED")
ActivityStatus = enum.StrEnum(
    "ActivityStatus",
    "NOT_STARTED IN_PROGRESS WAITING DEFERRED OPEN MADE RECEIVED FREE TENTATIVE BUSY OUT_OF_OFFICE "
    "DRAFT FAILED SENT PENDING_SEND SENDING COMPLETED CANCELED",
)
Priority = enum.StrEnum("Priority", "LOW NORMAL HIGH")
Direction = enum.StrEnum("Direction", "INCOMING OUTGOING")
PartyRole = enum.StrEnum("PartyRole", "SENDER TO CC REQUIRED OPTIONAL")

# The privileges of each type live on a table of their own, as the roles show them.
PRIVILEGE_TABLES = {
    ActivityType.TASK: "tasks",
    ActivityType.PHONE_CALL: "phone_calls",
    ActivityType.APPOINTMENT: "appointments",
    ActivityType.EMAIL: "emails",
}

# The due order of an activity without a due time: after every real one.
NOT_DUE = datetime(9999, 12, 31, tzinfo=UTC)

_S = ActivityStatus
# The status reasons of each type in each state, the default first (Dynamics' statuscode values).
STATUS_REASONS: dict[ActivityType, dict[ActivityState, tuple[ActivityStatus, ...]]] = {
    ActivityType.TASK: {
        ActivityState.OPEN: (_S.NOT_STARTED, _S.IN_PROGRESS, _S.WAITING, _S.DEFERRED),
        ActivityState.COMPLETED: (_S.COMPLETED,),
        ActivityState.CANCELED: (_S.CANCELED,),
    },
    ActivityType.PHONE_CALL: {
        ActivityState.OPEN: (_S.OPEN,),
        ActivityState.COMPLETED: (_S.MADE, _S.RECEIVED),
        ActivityState.CANCELED: (_S.CANCELED,),
    },
    ActivityType.APPOINTMENT: {
        ActivityState.OPEN: (_S.BUSY, _S.FREE, _S.TENTATIVE, _S.OUT_OF_OFFICE),
        ActivityState.COMPLETED: (_S.COMPLETED,),
        ActivityState.CANCELED: (_S.CANCELED,),
    },
    ActivityType.EMAIL: {
        ActivityState.OPEN: (_S.DRAFT, _S.FAILED),
        ActivityState.COMPLETED: (_S.COMPLETED, _S.SENT, _S.RECEIVED, _S.PENDING_SEND, _S.SENDING),
        ActivityState.CANCELED: (_S.CANCELED,),
    },
}


class Activity(RecordMixin, OwnedMixin, Base):
    """A task, phone call, appointment or e-mail; the columns of the other types stay empty."""

    __tablename__ = "activities"
    __table_args__ = (
        Index("ix_activities_regarding", "regarding_table", "regarding_id", "created_at", "id"),
        Index("ix_activities_owner_state_due", "owner_user_id", "state", "due_order"),
        Index("ix_activities_state_due", "state", "due_order"),
        Index("ix_activities_sending", "status_reason", "next_send_at"),
    )

    type: Mapped[ActivityType] = mapped_column(enum_column(ActivityType))
    subject: Mapped[str] = mapped_column(String(400))
    description: Mapped[str | None] = mapped_column(Text)
    regarding_table: Mapped[RegardingTable | None] = mapped_column(enum_column(RegardingTable))
    regarding_id: Mapped[uuid.UUID | None] = mapped_column()
    state: Mapped[ActivityState] = mapped_column(enum_column(ActivityState), default=ActivityState.OPEN)
    status_reason: Mapped[ActivityStatus] = mapped_column(enum_column(ActivityStatus))
    priority: Mapped[Priority] = mapped_column(enum_column(Priority), default=Priority.NORMAL)
    # An appointment's start and end; the due time of the other types is the end (scheduledend).
    scheduled_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scheduled_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The due time for ordering: the end, or NOT_DUE after every real one (an index orders by it).
    due_order: Mapped[datetime] = mapped_column(UTCDateTime, default=lambda: NOT_DUE)
    all_day: Mapped[bool] = mapped_column(default=False)
    location: Mapped[str | None] = mapped_column(String(400))
    duration_minutes: Mapped[int | None] = mapped_column()
    percent_complete: Mapped[int | None] = mapped_column()
    direction: Mapped[Direction | None] = mapped_column(enum_column(Direction))
    phone_number: Mapped[str | None] = mapped_column(String(64))
    left_voicemail: Mapped[bool] = mapped_column(default=False)
    # When it was completed or canceled.
    actual_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Sending an e-mail: the attempts, the last failure, when it is tried again and when it went.
    message_id: Mapped[str | None] = mapped_column(String(255))
    send_attempts: Mapped[int] = mapped_column(default=0)
    send_error: Mapped[str | None] = mapped_column(String(1000))
    next_send_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def privilege_table(self) -> str:
        """The table whose privileges guard this activity: its type's."""
        return PRIVILEGE_TABLES[self.type]

    @property
    def is_open(self) -> bool:
        return self.state is ActivityState.OPEN


class ActivityParty(Base):
    """A person an activity involves: an e-mail's sender and recipients, an appointment's attendees.

    ``party_table`` and ``party_id`` name the user, contact, lead or account when there is one (no
    foreign key can span them; the name and address are kept as they were, as Dynamics' activity
    parties keep the address used).
    """

    __tablename__ = "activity_parties"
    __table_args__ = (Index("ix_activity_parties_party", "party_table", "party_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    activity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    role: Mapped[PartyRole] = mapped_column(enum_column(PartyRole))
    position: Mapped[int] = mapped_column(default=0)
    party_table: Mapped[str | None] = mapped_column(String(32))
    party_id: Mapped[uuid.UUID | None] = mapped_column()
    name: Mapped[str | None] = mapped_column(String(320))
    address: Mapped[str | None] = mapped_column(String(320))


class CalendarFeed(Base):
    """A user's private calendar feed: the digest of its secret; revoking deletes the row."""

    __tablename__ = "calendar_feeds"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
