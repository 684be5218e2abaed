"""Notes with attachments on any record, attachment download, and timelines (§1, §2.7)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, Response, UploadFile, status
from pydantic import BaseModel, ConfigDict

from leadflow.activities.models import RegardingTable
from leadflow.activities.service import (
    AttachmentUpload,
    add_note,
    get_attachment,
    list_notes,
    timeline,
)
from leadflow.api.deps import CurrentActor, ReadUowDep, SettingsDep, UowDep
from leadflow.api.paging import Cursor, Limit, PageOut, page_out
from leadflow.http.downloads import attachment_response
from leadflow.http.uploads import read_upload

router = APIRouter(tags=["notes"])


class NoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    regarding_table: RegardingTable
    regarding_id: uuid.UUID
    title: str | None
    body: str | None
    file_name: str | None
    mime_type: str | None
    file_size: int | None
    created_at: datetime
    created_by_id: uuid.UUID | None


@router.post("/{table}/{record_id}/notes", status_code=status.HTTP_201_CREATED)
def create_note(
    table: RegardingTable,
    record_id: uuid.UUID,
    settings: SettingsDep,
    uow: UowDep,
    actor: CurrentActor,
    title: Annotated[str | None, Form(max_length=500)] = None,
    body: Annotated[str | None, Form()] = None,
    file: Annotated[UploadFile | None, File()] = None,
) -> NoteOut:
    """Add a note (multipart form: `title`, `body`, optional `file`) to a lead, account, contact or opportunity."""
    attachment = None
    if file is not None and file.filename:
        content = read_upload(file, settings.max_attachment_bytes)
        attachment = AttachmentUpload(
            file_name=file.filename, mime_type=file.content_type or "application/octet-stream", content=content
        )
    note = add_note(
        table,
        record_id,
        title=title,
        body=body,
        attachment=attachment,
        max_attachment_bytes=settings.max_attachment_bytes,
        uow=uow,
        actor=actor,
    )
    uow.commit()
    return NoteOut.model_validate(note)


@router.get("/{table}/{record_id}/notes")
def get_notes(
    table: RegardingTable,
    record_id: uuid.UUID,
    uow: ReadUowDep,
    actor: CurrentActor,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOut[NoteOut]:
    """The notes of one record, newest first."""
    page = list_notes(table, record_id, uow=uow, actor=actor, limit=limit, cursor=cursor)
    return PageOut[NoteOut].model_validate(page_out(page, NoteOut.model_validate))


@router.get("/{table}/{record_id}/notes/{note_id}/attachment", response_class=Response)
def download_attachment(
    table: RegardingTable, record_id: uuid.UUID, note_id: uuid.UUID, uow: ReadUowDep, actor: CurrentActor
) -> Response:
    """Download a note's attachment; always as a download, never rendered inline."""
    note, content = get_attachment(table, record_id, note_id, uow=uow, actor=actor)
    return attachment_response(note, content, {"X-Original-Content-Type": note.mime_type or "application/octet-stream"})


@router.get("/{table}/{record_id}/timeline")
def get_timeline(
    table: RegardingTable,
    record_id: uuid.UUID,
    uow: ReadUowDep,
    actor: CurrentActor,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOut[NoteOut]:
    """A record's notes together with those of the lead it came from (§2.7), newest first."""
    page = timeline(table, record_id, uow=uow, actor=actor, limit=limit, cursor=cursor)
    return PageOut[NoteOut].model_validate(page_out(page, NoteOut.model_validate))
