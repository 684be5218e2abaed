"""Import and export as jobs.

An import reads its kept file from the first row without a result line: each batch of rows and the
job's lines for them commit in one transaction, so an import started again after its worker died goes
on with the next row, and none is saved twice. A dry run saves each batch the same way, records what
each row came to, and rolls the batch back. An export writes the view to a file kept in the database,
which its starter downloads.
"""

from __future__ import annotations

import tempfile
import uuid
from itertools import islice
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadflow.core.errors import LeadflowError
from leadflow.http.errors import error_body
from leadflow.http.language import DEFAULT_LANGUAGE
from leadflow.jobs.models import Job, JobItem
from leadflow.jobs.runner import ItemResult, JobRun
from leadflow.jobs.service import item_counts, start_job
from leadflow.security.access import require_admin
from leadflow.security.actor import Actor
from leadflow.security.audit import record_action
from leadflow.security.privileges import Privilege
from leadflow.transfer import service
from leadflow.transfer.fields import load_custom_columns
from leadflow.transfer.files import open_kept_table, store_file
from leadflow.transfer.importing import ImportOptions, RowOutcome, RowSaver, RowStatus, plan_import
from leadflow.transfer.models import FilePurpose, TransferFile
from leadflow.transfer.refusals import kept, row_refusal_text
from leadflow.transfer.writing import write_csv, write_xlsx

IMPORT = service.IMPORT
EXPORT = service.EXPORT
BATCH = 200


def error_text(error: LeadflowError, language: str) -> tuple[str, Any]:
    """A row's refusal in ``language``, and its JSON body (codes and details, in that language)."""
    body = error_body(error, language)["error"]
    assert isinstance(body, dict)
    return row_refusal_text(error, language), to_jsonable_python(body)


def item_of(outcome: RowOutcome, cells: list[str], language: str) -> ItemResult:
    """One row's line: its number in the file, what it came to; a failed row keeps its cells for the error file."""
    data: dict[str, Any] = {"row": outcome.number}
    if outcome.qualified:
        data["qualified"] = True
    if outcome.error is None:
        return ItemResult(outcome.record_id, outcome.status.value, data=data)
    message, body = error_text(outcome.error, language)
    data["error"] = body
    data["refusal"] = kept(outcome.error)
    if outcome.status is RowStatus.FAILED:
        data["cells"] = cells
    return ItemResult(outcome.record_id, outcome.status.value, code=outcome.error.code, message=message, data=data)


def _count_rows(job: JobRun, filename: str, sheet: str | None, file_id: uuid.UUID) -> int:
    table_file = open_kept_table(job.database, file_id, filename=filename, sheet=sheet)
    try:
        return sum(1 for _ in table_file.rows)
    finally:
        table_file.close()


def run_import(job: JobRun) -> dict[str, Any]:
    """Import the job's file from the first row without a line; each batch commits with its lines."""
    parameters = job.parameters
    file_id = uuid.UUID(parameters["file_id"])
    filename, sheet = str(parameters.get("filename") or "file"), parameters.get("sheet")
    dry_run = bool(parameters.get("dry_run"))
    options = ImportOptions.from_parameters(parameters["options"])
    with job.database.unit_of_work(read_only=True) as uow:
        actor: Actor = job.actor(uow.session)
        kept = uow.session.get_one(TransferFile, file_id)
        total = uow.session.scalar(select(Job.progress_total).where(Job.id == job.job_id)) or 0
        earlier = service.earlier_imports(
            uow.session, job_id=job.job_id, fingerprint=kept.fingerprint, table=options.table, sheet=sheet
        )
        load_custom_columns(uow.session)
    language = actor.language or DEFAULT_LANGUAGE
    if not total:
        total = _count_rows(job, filename, sheet, file_id)
        job.progress(None, job.done, total)
    table_file = open_kept_table(job.database, file_id, filename=filename, sheet=sheet)
    try:
        plan = plan_import(options, table_file.headers, actor=actor)
        rows = islice(table_file.rows, job.done, None)
        position = job.done
        batch_size = int(parameters.get("batch_size", BATCH))
        while batch := list(islice(rows, batch_size)):
            with job.database.unit_of_work() as uow:
                saved = service.saved_rows(uow.session, earlier, first=position, last=position + len(batch))
                saver = RowSaver(plan, uow=uow, actor=actor, earlier=saved)
                outcomes = [saver.save(row, position + offset) for offset, row in enumerate(batch)]
                items = [item_of(outcome, row.cells, language) for outcome, row in zip(outcomes, batch, strict=True)]
                if dry_run:
                    uow.session.rollback()
                job.record(uow.session, position, items)
                uow.commit()
            position += len(batch)
            job.check_canceled()
    finally:
        table_file.close()
    with job.database.unit_of_work() as uow:
        summary = import_summary(uow.session, job.job_id, dry_run=dry_run)
        record_action(uow.session, actor, "import", table="imports", record_id=job.job_id, changes=summary)
        uow.commit()
    return summary


def import_summary(session: Session, job_id: uuid.UUID, *, dry_run: bool) -> dict[str, Any]:
    """The counts of an import's rows by what they came to, and how many were qualified."""
    counts = item_counts(session, job_id)
    qualified = session.scalar(
        select(func.count())
        .select_from(JobItem)
        .where(JobItem.job_id == job_id, JobItem.data["qualified"].as_boolean().is_(True))
    )
    summary: dict[str, Any] = {status.value: counts.get(status.value, 0) for status in RowStatus}
    summary["qualified"] = qualified or 0
    summary["rows"] = sum(counts.values())
    summary["dry_run"] = dry_run
    return summary


# ---------------------------------------------------------------------------------------------- export


def start_export(
    request: service.ExportRequest, *, file_format: str, language: str, database: Any, actor: Actor
) -> Job:
    """A queued export of a view to a file (csv or xlsx)."""
    service.export_header(request.table, language)  # a table that cannot be exported is refused now
    require_admin(actor, request.table.value, Privilege.READ)
    return start_job(
        database,
        actor,
        kind=EXPORT,
        title=f"Export {request.table.value} to {file_format.upper()}",
        parameters={"request": request.as_parameters(), "format": file_format, "language": language},
    )


def run_export(job: JobRun) -> dict[str, Any]:
    """Write the view to a spooled file, then keep it in the database for its starter to download."""
    parameters = job.parameters
    request = service.ExportRequest.from_parameters(parameters["request"])
    file_format = parameters.get("format", "csv")
    language = parameters.get("language") or DEFAULT_LANGUAGE
    with job.database.unit_of_work(read_only=True) as uow:
        actor = job.actor(uow.session)
        load_custom_columns(uow.session)
    header = service.export_header(request.table, language)
    rows = service.export_rows(request, database=job.database, actor=actor, language=language)
    counted = _progressing(job, rows)
    with tempfile.TemporaryFile() as spool:
        if file_format == "xlsx":
            written = write_xlsx(spool, header, counted, sheet_title=request.table.value, language=language)
            media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        else:
            written = write_csv(spool, header, counted, language=language)
            media_type = "text/csv; charset=utf-8"
        spool.seek(0)
        with job.database.unit_of_work() as uow:
            kept = store_file(
                uow.session,
                spool,
                filename=f"{request.table.value}.{file_format}",
                media_type=media_type,
                purpose=FilePurpose.EXPORT,
                table=request.table,
                actor=actor,
            )
            kept.job_id = job.job_id
            job.progress(uow.session, written, written)
            uow.commit()
    return {"rows": written, "file_id": str(kept.id), "filename": kept.filename, "size": kept.size}


def _progressing(job: JobRun, rows: Any) -> Any:
    """The rows, saying every ten thousand how many were written and stopping when asked."""
    for count, row in enumerate(rows, start=1):
        yield row
        if count % 10_000 == 0:
            job.progress(None, count)
            job.check_canceled()
