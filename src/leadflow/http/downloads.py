"""The HTTP response that hands out a note's attachment, for the API and the web pages alike."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from starlette.responses import Response

from leadflow.activities.models import Note


def attachment_response(note: Note, content: bytes, extra_headers: Mapping[str, str] | None = None) -> Response:
    """A download, never rendered inline: octet-stream, attachment disposition, a sandboxing policy;
    ``extra_headers`` are added to those."""
    file_name = note.file_name or "attachment"
    ascii_name = file_name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return Response(
        content=content,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            **(extra_headers or {}),
        },
    )
