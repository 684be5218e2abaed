"""Notes and attachments on the lead and record pages: the posted note and its saving, the refusal of a
file over the size limit, and file sizes in the user's locale."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from babel.units import format_unit
from fastapi import Request
from starlette.datastructures import UploadFile

from leadflow.activities.models import RegardingTable
from leadflow.activities.service import AttachmentUpload, add_note
from leadflow.core.errors import LeadflowError
from leadflow.core.formatting import locale_of
from leadflow.http.uploads import read_upload
from leadflow.web.forms import refusal_text
from leadflow.web.i18n import gettext
from leadflow.web.pages import WebSession, committed

TITLE_LENGTH = 500


def file_size(language: str, size: int | None) -> str:
    """A file's size in the user's locale (512 B, 1,5 kB, 12 MB)."""
    if size is None:
        return ""
    locale = locale_of(language)
    if size < 1024:
        return format_unit(size, "digital-byte", length="short", locale=locale)
    unit, value = (
        ("digital-kilobyte", size / 1024) if size < 1024 * 1024 else ("digital-megabyte", size / (1024 * 1024))
    )
    return format_unit(round(value, 1), unit, length="short", format="0.#", locale=locale)


def max_attachment_bytes(request: Request) -> int:
    """The largest attachment the installation accepts."""
    return request.app.state.settings.max_attachment_bytes


@dataclass(frozen=True)
class PostedNote:
    """The title and text of a posted note, trimmed (shown again when the note is refused)."""

    title: str
    body: str

    @classmethod
    def of(cls, form: Any) -> PostedNote:
        """The note a form posts."""
        return cls(str(form.get("title") or "").strip()[:TITLE_LENGTH], str(form.get("body") or "").strip())


EMPTY_NOTE = PostedNote("", "")


def save_note(
    request: Request, session: WebSession, table: RegardingTable, record_id: uuid.UUID, note: PostedNote, upload: Any
) -> None:
    """Add the note, with the uploaded file when there is one, to the record's timeline.

    Raises the service's refusal (the record is closed or unreadable, the note is empty, the file too large).
    """
    limit = max_attachment_bytes(request)
    attachment = None
    if isinstance(upload, UploadFile) and upload.filename:
        attachment = AttachmentUpload(
            file_name=upload.filename,
            mime_type=upload.content_type or "application/octet-stream",
            content=read_upload(upload, limit),
        )
    committed(
        request,
        lambda uow: add_note(
            table,
            record_id,
            title=note.title or None,
            body=note.body or None,
            attachment=attachment,
            max_attachment_bytes=limit,
            uow=uow,
            actor=session.actor,
        ),
    )


def note_refusal_text(request: Request, language: str, error: LeadflowError) -> str:
    """Why a note was refused; a file over the limit is told the limit in the user's units."""
    if error.code in ("attachment_too_large", "too_large"):
        return gettext(
            language,
            "The file is larger than the limit of %(size)s; attach a smaller file.",
            size=file_size(language, max_attachment_bytes(request)),
        )
    return refusal_text(language, error)
