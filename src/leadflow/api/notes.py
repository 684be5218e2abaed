"""Notes with attachments on any record, attachment download, and timelines of notes, activities and close
records (§1, §2.7, reference §5)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, Response, UploadFile, status
from pydantic import BaseModel, ConfigDict, Field

from leadflow.activities.activity import parties_of
from leadflow.activities.models import ActivityState, RegardingTable
from leadflow.activities.service import (
    AttachmentUpload,
    add_note,
    get_attachment,
    list_notes,
)
from leadflow.activities.timeline import TimelineEntry, record_timeline
from leadflow.api.activities import AppointmentOut, EmailOut, PhoneCallOut, TaskOut, activity_fields
from leadflow.api.deps import CurrentActor, ReadUowDep, SettingsDep, UowDep
from leadflow.api.paging import Cursor, Limit, PageOut, page_out
from leadflow.http.downloads import attachment_response
from leadflow.http.uploads import read_upload
from leadflow.opportunities.models import CloseState, OpportunityState, OpportunityStatusReason

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


class NoteItem(NoteOut):
    """A note on a timeline: the note's fields, its kind and when it was made."""

    kind: Literal["note"]
    at: datetime


class TaskItem(TaskOut):
    kind: Literal["task"]
    at: datetime


class PhoneCallItem(PhoneCallOut):
    kind: Literal["phone_call"]
    at: datetime


class AppointmentItem(AppointmentOut):
    kind: Literal["appointment"]
    at: datetime


class EmailItem(EmailOut):
    kind: Literal["email"]
    at: datetime


class CloseItem(BaseModel):
    """What closing an opportunity recorded (won or lost), on its timeline."""

    model_config = ConfigDict(from_attributes=True)

    kind: Literal["close"]
    id: uuid.UUID
    at: datetime
    opportunity_id: uuid.UUID
    state: CloseState = Field(description="completed, or canceled once the opportunity was reopened.")
    opportunity_state: OpportunityState = Field(description="won or lost")
    status_reason: OpportunityStatusReason
    actual_revenue: Decimal | None
    close_date: date
    description: str | None


TimelineItem = Annotated[
    NoteItem | TaskItem | PhoneCallItem | AppointmentItem | EmailItem | CloseItem, Field(discriminator="kind")
]
_ACTIVITY_ITEMS: dict[str, type[BaseModel]] = {
    "task": TaskItem,
    "phone_call": PhoneCallItem,
    "appointment": AppointmentItem,
    "email": EmailItem,
}


def timeline_item(entry: TimelineEntry, parties: dict[uuid.UUID, list[Any]]) -> BaseModel:
    """One entry of a timeline as the API answers it: the item's own fields, its kind and when it was made."""
    marks = {"kind": entry.kind, "at": entry.at}
    if entry.kind == "note":
        return NoteItem.model_validate({**NoteOut.model_validate(entry.item).model_dump(), **marks})
    if entry.kind == "close":
        close = entry.item
        return CloseItem.model_validate(
            {
                **marks,
                "id": close.id,
                "opportunity_id": close.opportunity_id,
                "state": close.state,
                "opportunity_state": close.opportunity_state,
                "status_reason": close.status_reason,
                "actual_revenue": close.actual_revenue,
                "close_date": close.close_date,
                "description": close.description,
            }
        )
    fields = activity_fields(entry.item, parties.get(entry.item.id, []))
    return _ACTIVITY_ITEMS[entry.kind].model_validate({**fields, **marks})


@router.get("/{table}/{record_id}/timeline")
def get_timeline(
    table: RegardingTable,
    record_id: uuid.UUID,
    uow: ReadUowDep,
    actor: CurrentActor,
    kinds: Annotated[
        list[str] | None,
        Query(
            alias="type",
            description="note, task, phone_call, appointment, email or close; repeat for several.",
        ),
    ] = None,
    states: Annotated[
        list[ActivityState] | None, Query(alias="state", description="Activities in these states only.")
    ] = None,
    include_related: Annotated[
        bool, Query(description="On an account: also its contacts' and opportunities' entries.")
    ] = False,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOut[TimelineItem]:
    """A record's notes, activities and close records together with those of the lead it came from
    (§2.7), newest first; each item has its `kind` and `at` (when it was made)."""
    page = record_timeline(
        table,
        record_id,
        uow=uow,
        actor=actor,
        kinds=tuple(kinds or ()),
        states=tuple(states or ()),
        include_related=include_related,
        limit=limit,
        cursor=cursor,
    )
    activity_ids = [entry.item.id for entry in page.items if entry.kind not in ("note", "close")]
    parties = parties_of(uow.session, activity_ids)
    items = [timeline_item(entry, parties) for entry in page.items]
    return PageOut[TimelineItem].model_validate({"items": items, "next_cursor": page.next_cursor})
