"""Files kept in the database: written from a stream in one-megabyte chunks, read back as a stream.

Neither way holds more than one chunk in memory, whatever the file's size; any process that reaches
the database reads the file, which is what lets a worker on another machine run an import.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Iterator
from typing import BinaryIO

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from leadflow.core.uow import Database
from leadflow.http.limits import file_too_large
from leadflow.security.actor import Actor
from leadflow.transfer.models import CHUNK_BYTES, FilePurpose, TransferChunk, TransferFile, TransferTable
from leadflow.transfer.reading import TableFile, open_table

_NO_LIMIT = 1 << 62


def store_file(
    session: Session,
    source: BinaryIO,
    *,
    filename: str,
    media_type: str,
    purpose: FilePurpose,
    table: TransferTable,
    actor: Actor,
    max_bytes: int | None = None,
) -> TransferFile:
    """Keep a stream's bytes as a file, in the caller's transaction; refused past ``max_bytes``."""
    kept = TransferFile(
        id=uuid.uuid4(),
        purpose=purpose,
        table_name=table,
        filename=(filename or "file")[:255],
        media_type=(media_type or "application/octet-stream")[:100],
        size=0,
        fingerprint="",
        created_by_id=actor.user_id,
    )
    session.add(kept)
    session.flush()
    digest = hashlib.sha256()
    size = 0
    position = 0
    while chunk := source.read(CHUNK_BYTES):
        size += len(chunk)
        if max_bytes is not None and size > max_bytes:
            raise file_too_large(max_bytes)
        digest.update(chunk)
        session.execute(insert(TransferChunk), [{"file_id": kept.id, "position": position, "data": chunk}])
        position += 1
    kept.size = size
    kept.fingerprint = digest.hexdigest()
    session.flush()
    return kept


def file_chunks(database: Database, file_id: uuid.UUID) -> Iterator[bytes]:
    """A kept file's bytes, one chunk at a time, each read in a short transaction of its own."""
    position = 0
    while True:
        with database.unit_of_work(read_only=True) as uow:
            chunk = uow.session.scalar(
                select(TransferChunk.data).where(TransferChunk.file_id == file_id, TransferChunk.position == position)
            )
        if chunk is None:
            return
        yield bytes(chunk)
        position += 1


class ChunkStream(io.RawIOBase):
    """A kept file as a readable, non-seekable binary stream."""

    def __init__(self, database: Database, file_id: uuid.UUID) -> None:
        self._chunks = file_chunks(database, file_id)
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


def open_kept_table(database: Database, file_id: uuid.UUID, *, filename: str, sheet: str | None) -> TableFile:
    """A kept file read again as a table, from its first byte (its size was checked when it was kept)."""
    return open_table(open_file(database, file_id), filename=filename, sheet=sheet, max_bytes=_NO_LIMIT)


def open_file(database: Database, file_id: uuid.UUID) -> BinaryIO:
    """A kept file as a buffered binary stream."""
    return io.BufferedReader(ChunkStream(database, file_id), buffer_size=CHUNK_BYTES)
