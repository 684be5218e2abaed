"""The rows of an import that failed, as a CSV file to fix and import again.

The file has the imported file's own header, then an Error column; each failed row keeps its original
cells and says why it was refused, in the reader's language. It is written as a stream, a thousand
rows read at a time, whatever the import's size. The REST API, the web app and the command line hand
out the same file.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from typing import Any

from leadflow.core.uow import Database
from leadflow.http.language import gettext
from leadflow.security.actor import Actor
from leadflow.transfer import service
from leadflow.transfer.files import open_kept_table
from leadflow.transfer.refusals import restored, row_refusal_text
from leadflow.transfer.writing import csv_delimiter, neutralise

MEDIA_TYPE = "text/csv; charset=utf-8"


def file_headers(database: Database, job: Any) -> list[str]:
    """The header row of the file an import job reads."""
    parameters = job.parameters or {}
    table_file = open_kept_table(
        database,
        uuid.UUID(str(parameters["file_id"])),
        filename=str(parameters.get("filename") or "file"),
        sheet=parameters.get("sheet"),
    )
    table_file.close()
    return table_file.headers


def failed_rows_file(import_id: uuid.UUID, *, database: Database, actor: Actor, language: str) -> service.Download:
    """The failed rows of an import the actor may see (anyone else's is not found), as a download.

    The header is read at once (the refusals come before any byte is handed out); the rows are read as
    the bytes are taken."""
    with database.unit_of_work(read_only=True) as uow:
        job = service.check_import_job(import_id, uow=uow, actor=actor)
        headers = file_headers(database, job)
    return service.Download(
        f"import-{import_id}-errors.csv", MEDIA_TYPE, _lines(database, import_id, headers, language)
    )


def _lines(database: Database, job_id: uuid.UUID, headers: list[str], language: str) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=csv_delimiter(language), lineterminator="\r\n")
    writer.writerow([*(neutralise(header) for header in headers), gettext(language, "Error")])
    # Excel reads a CSV as UTF-8 (and so shows accents right) only when it starts with the BOM.
    yield ("\ufeff" + buffer.getvalue()).encode("utf-8")
    with database.unit_of_work(read_only=True) as uow:
        for item in service.failed_rows(uow.session, job_id):
            buffer.seek(0)
            buffer.truncate()
            data = item.data or {}
            cells = list(data.get("cells") or [])
            refusal = data.get("refusal")
            # Said again in the reader's language; the line's message is in the importer's.
            message = row_refusal_text(restored(refusal), language) if refusal else item.message or ""
            writer.writerow([*(neutralise(str(cell)) for cell in cells), neutralise(message)])
            yield buffer.getvalue().encode("utf-8")


__all__ = ["MEDIA_TYPE", "failed_rows_file", "file_headers"]
