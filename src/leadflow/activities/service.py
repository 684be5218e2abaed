"""Notes, attachments and timelines (§1, §2.7)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import Field
from sqlalchemy import Uuid, delete, false, insert, literal, or_, select
from sqlalchemy.orm import Session

from leadflow.activities.activity import delete_activities_of
from leadflow.activities.models import Attachment, Note, RegardingTable
from leadflow.core.db import mapped_class
from leadflow.core.errors import NotFound, TooLarge, ValidationFailed
from leadflow.core.paging import MAX_LIMIT, Page, keyset_page
from leadflow.core.schemas import InputModel, parse
from leadflow.core.uow import UnitOfWork
from leadflow.security.access import can, get_accessible
from leadflow.security.actor import Actor
from leadflow.security.audit import record_action
from leadflow.security.privileges import Privilege


class NoteFields(InputModel):
    """The text of a note, checked as every input is."""

    title: str | None = Field(default=None, max_length=500)
    body: str | None = None


@dataclass(frozen=True)
class AttachmentUpload:
    """A file the caller sends with a note."""

    file_name: str
    mime_type: str
    content: bytes


def regarding_model(table: RegardingTable) -> type[Any]:
    """The model of the records a note can regard in ``table`` (defined by the domains above this one)."""
    return mapped_class(table.value)


_LABELS = {
    RegardingTable.LEADS: "lead",
    RegardingTable.ACCOUNTS: "account",
    RegardingTable.CONTACTS: "contact",
    RegardingTable.OPPORTUNITIES: "opportunity",
}


def _readable(uow: UnitOfWork, actor: Actor, table: RegardingTable, record_id: uuid.UUID) -> object:
    return get_accessible(
        uow.session, regarding_model(table), record_id, label=_LABELS[table], actor=actor, privilege=Privilege.READ
    )


def attachment_too_large(limit: int) -> TooLarge:
    """The refusal of an attachment over the configured size limit."""
    return TooLarge(
        f"The attachment is larger than the limit of {limit} bytes; send a smaller file.",
        code="attachment_too_large",
    )


def safe_file_name(name: str) -> str:
    """The last path segment of an uploaded name, without control characters; never empty."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>|:*?').strip(" .")
    return cleaned[:255] or "attachment"


def add_note(
    table: RegardingTable,
    record_id: uuid.UUID,
    *,
    title: str | None,
    body: str | None,
    attachment: AttachmentUpload | None,
    max_attachment_bytes: int,
    uow: UnitOfWork,
    actor: Actor,
) -> Note:
    """Add a note, with an optional attachment, to one record; closed leads refuse it."""
    fields = parse(NoteFields, {"title": title, "body": body})
    title, body = fields.title, fields.body
    session = uow.session
    record = get_accessible(
        session, regarding_model(table), record_id, label=_LABELS[table], actor=actor, privilege=Privilege.APPEND_TO
    )
    record.ensure_editable()
    if not (title or body or attachment):
        raise ValidationFailed("A note needs a title, a text or an attachment.", code="empty_note")
    if attachment is not None and len(attachment.content) > max_attachment_bytes:
        raise attachment_too_large(max_attachment_bytes)
    note = Note(
        id=uuid.uuid4(),
        regarding_table=table,
        regarding_id=record_id,
        title=title,
        body=body,
        created_by_id=actor.user_id,
    )
    if attachment is not None:
        note.file_name = safe_file_name(attachment.file_name)
        note.mime_type = attachment.mime_type or "application/octet-stream"
        note.file_size = len(attachment.content)
    session.add(note)
    # The note row must exist before its attachment row (no ORM relationship orders them).
    uow.flush()
    if attachment is not None:
        session.add(Attachment(note_id=note.id, content=attachment.content))
        uow.flush()
    record_action(
        session,
        actor,
        "note_add",
        table=table.value,
        record_id=record_id,
        summary=note.title or note.file_name or "note",
    )
    return note


def list_notes(
    table: RegardingTable,
    record_id: uuid.UUID,
    *,
    uow: UnitOfWork,
    actor: Actor,
    limit: int = MAX_LIMIT,
    cursor: str | None = None,
) -> Page[Note]:
    """A page of the notes of one record, newest first."""
    _readable(uow, actor, table, record_id)
    return notes_regarding(uow.session, [(table, record_id)], limit=limit, cursor=cursor)


def notes_regarding(
    session: Session,
    records: Sequence[tuple[RegardingTable, uuid.UUID]],
    *,
    limit: int = MAX_LIMIT,
    cursor: str | None = None,
) -> Page[Note]:
    """A page of the notes of several records at once, newest first."""
    condition = or_(
        false(), *((Note.regarding_table == table) & (Note.regarding_id == record_id) for table, record_id in records)
    )
    return keyset_page(
        session,
        select(Note).where(condition),
        key=Note.created_at,
        id_column=Note.id,
        kind="datetime",
        limit=limit,
        cursor=cursor,
        descending=True,
    )


def get_attachment(
    table: RegardingTable,
    record_id: uuid.UUID,
    note_id: uuid.UUID,
    *,
    uow: UnitOfWork,
    actor: Actor,
) -> tuple[Note, bytes]:
    """A note's attachment, reached from any record whose timeline shows the note: its metadata and bytes."""
    session = uow.session
    shown = timeline_sources(uow, actor, table, record_id)
    note = session.get(Note, note_id)
    if note is None or (note.regarding_table, note.regarding_id) not in shown:
        raise NotFound(f"No note has the id {note_id} on this record.", code="note_not_found")
    if note.file_name is None:
        raise NotFound("This note has no attachment.", code="attachment_not_found")
    content = session.scalars(select(Attachment.content).where(Attachment.note_id == note_id)).one()
    return note, content


def copy_notes(
    session: Session, source: tuple[RegardingTable, uuid.UUID], target: tuple[RegardingTable, uuid.UUID]
) -> int:
    """Copy every note of one record, with its attachment, to another; each copy keeps its author and
    time, so that it takes its place in the target's timeline. Returns how many were copied."""
    notes = session.scalars(select(Note).where(Note.regarding_table == source[0], Note.regarding_id == source[1])).all()
    copies = {note.id: uuid.uuid4() for note in notes}
    if not notes:
        return 0
    session.execute(
        insert(Note),
        [
            {
                "id": copies[note.id],
                "row_version": 1,
                "created_at": note.created_at,
                "modified_at": note.modified_at,
                "regarding_table": target[0],
                "regarding_id": target[1],
                "title": note.title,
                "body": note.body,
                "created_by_id": note.created_by_id,
                "file_name": note.file_name,
                "mime_type": note.mime_type,
                "file_size": note.file_size,
            }
            for note in notes
        ],
    )
    for note in notes:
        if note.file_name is not None:
            session.execute(
                insert(Attachment).from_select(
                    ["note_id", "content"],
                    select(literal(copies[note.id], Uuid), Attachment.content).where(Attachment.note_id == note.id),
                )
            )
    return len(notes)


def delete_timeline_of(session: Session, table: RegardingTable, record_id: uuid.UUID) -> None:
    """Delete every note and activity regarding a record that is deleted."""
    delete_notes_of(session, table, record_id)
    delete_activities_of(session, table, record_id)


def delete_notes_of(session: Session, table: RegardingTable, record_id: uuid.UUID) -> None:
    """Delete every note (and, by cascade, attachment) regarding one record."""
    note_ids = select(Note.id).where(Note.regarding_table == table, Note.regarding_id == record_id)
    session.execute(delete(Attachment).where(Attachment.note_id.in_(note_ids)))
    session.execute(delete(Note).where(Note.regarding_table == table, Note.regarding_id == record_id))


def timeline(
    table: RegardingTable,
    record_id: uuid.UUID,
    *,
    uow: UnitOfWork,
    actor: Actor,
    limit: int = MAX_LIMIT,
    cursor: str | None = None,
) -> Page[Note]:
    """A page of a record's notes plus those of the lead it originated from (§2.7), newest first.

    The lead's notes are shown, not copied; a user who may not read the lead does not see them.
    """
    return notes_regarding(uow.session, timeline_sources(uow, actor, table, record_id), limit=limit, cursor=cursor)


def timeline_sources(
    uow: UnitOfWork, actor: Actor, table: RegardingTable, record_id: uuid.UUID
) -> list[tuple[RegardingTable, uuid.UUID]]:
    """The records whose notes a record's timeline shows: itself, and the lead it came from when the
    actor may read that lead."""
    record = _readable(uow, actor, table, record_id)
    sources = [(table, record_id)]
    originating_lead_id = getattr(record, "originating_lead_id", None)
    if originating_lead_id is not None:
        lead = uow.session.get(regarding_model(RegardingTable.LEADS), originating_lead_id)
        # The lead's notes show only to those who may read the lead itself.
        if lead is not None and can(uow.session, actor, Privilege.READ, "leads", lead):
            sources.append((RegardingTable.LEADS, originating_lead_id))
    return sources
