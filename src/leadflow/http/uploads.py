"""Reading an uploaded file without ever holding more than the limit."""

from __future__ import annotations

from starlette.datastructures import UploadFile

from leadflow.activities.service import attachment_too_large

CHUNK_BYTES = 1024 * 1024


def read_upload(upload: UploadFile, limit: int) -> bytes:
    """The uploaded bytes, refused (413) as soon as they pass ``limit``."""
    chunks: list[bytes] = []
    size = 0
    upload.file.seek(0)
    while chunk := upload.file.read(CHUNK_BYTES):
        size += len(chunk)
        if size > limit:
            raise attachment_too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)
