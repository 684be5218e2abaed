"""Import and export: spreadsheets in (a preview, then a job per file), views out (streamed, or a job).

(No ``from __future__ import annotations`` here: FastAPI reads the form types from the signatures.)
"""

import json
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from leadflow.api.deps import CurrentActor, DatabaseDep, QueueDep, ReadUowDep, SettingsDep, UowDep
from leadflow.api.errors import answer_language
from leadflow.api.jobs import JobOut, accepted, job_out
from leadflow.core.errors import InvalidState, ValidationFailed
from leadflow.core.records import not_found
from leadflow.core.uow import Database
from leadflow.jobs import service as jobs
from leadflow.jobs.models import JobState
from leadflow.leads import views
from leadflow.security.actor import Actor
from leadflow.tasks import submit
from leadflow.tasks import transfer as transfer_tasks
from leadflow.transfer import service
from leadflow.transfer.errors_file import failed_rows_file
from leadflow.transfer.fields import columns_of
from leadflow.transfer.files import file_chunks
from leadflow.transfer.importing import OnDuplicate, RowOutcome
from leadflow.transfer.models import TransferFile, TransferTable

router = APIRouter(tags=["import and export"])

# The answers of a list asked for as a file (``format=csv`` or ``xlsx``), as the OpenAPI schema declares them.
FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            service.XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
        "description": "The list (JSON), or every record of it as a CSV or XLSX file with format=csv|xlsx.",
    }
}
ExportFormat = Literal["csv", "xlsx"]


class ColumnOut(BaseModel):
    name: str
    label: str
    kind: str
    imported: bool
    aliases: list[str]
    choices: dict[str, list[str]] | None = None


class RowOut(BaseModel):
    row: int
    status: str
    record_id: uuid.UUID | None
    cells: list[str]
    values: dict[str, Any]
    error: dict[str, Any] | None


class PreviewOut(BaseModel):
    kind: str
    encoding: str | None
    delimiter: str | None
    sheet: str | None
    headers: list[str]
    columns: dict[str, str | None]
    rows: list[RowOut]


class ImportCounts(BaseModel):
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0
    qualified: int = 0


class ImportOut(BaseModel):
    id: uuid.UUID
    state: JobState
    table: str
    filename: str
    dry_run: bool
    progress: dict[str, int]
    counts: ImportCounts
    error: str | None
    job: JobOut


class MappingIn(BaseModel):
    table: TransferTable
    name: str = Field(min_length=1, max_length=100)
    columns: dict[str, str | None]


class MappingOut(BaseModel):
    id: uuid.UUID
    table: str
    name: str
    columns: dict[str, Any]


class ExportIn(BaseModel):
    table: TransferTable
    format: ExportFormat = "csv"
    view: str | None = None
    q: str | None = Field(default=None, max_length=200)
    sort: str = "-created_at"


def reader_language(request: Request, actor: Actor) -> str:
    """The language a file is written in for its reader: their own, else their browser's."""
    return actor.language or answer_language(request)


def _columns(text: str | None) -> dict[str, str | None] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(
        isinstance(key, str) and (item is None or isinstance(item, str)) for key, item in value.items()
    ):
        raise ValidationFailed(
            'columns must be a JSON object of header to column name, e.g. {"Correo electrónico": "email"}.',
            code="invalid_columns",
        )
    return value


TableForm = Annotated[TransferTable, Form(description="leads, accounts, contacts or opportunities")]
ColumnsForm = Annotated[
    str | None, Form(max_length=100_000, description="JSON: header -> column name (null to leave a column out)")
]
MappingForm = Annotated[str | None, Form(max_length=100, description="a saved mapping's name, or auto")]
OnDuplicateForm = Annotated[OnDuplicate, Form(description="skip, create or update")]
MatchForm = Annotated[str | None, Form(max_length=40, description="a key column to match on (id, email...)")]
SheetForm = Annotated[str | None, Form(max_length=100, description="an XLSX sheet's name; the first by default")]
NumbersForm = Annotated[
    Literal["en", "es"] | None, Form(description="read 1.234 and 03/04/2026 as written in en or es")
]


def import_request(
    table: TableForm,
    request: Request,
    actor: CurrentActor,
    columns: ColumnsForm = None,
    mapping: MappingForm = None,
    on_duplicate: OnDuplicateForm = OnDuplicate.SKIP,
    match_on: MatchForm = None,
    create_missing_accounts: Annotated[bool, Form()] = False,
    dry_run: Annotated[bool, Form(description="check every row, save nothing")] = False,
    sheet: SheetForm = None,
    numbers: NumbersForm = None,
) -> service.ImportRequest:
    """The import a multipart form asks for (the file itself is the endpoint's)."""
    return service.ImportRequest(
        table=table,
        columns=_columns(columns),
        mapping_name=(mapping or None) if mapping != "auto" else None,
        on_duplicate=on_duplicate,
        match_on=match_on or None,
        create_missing_accounts=create_missing_accounts,
        language=numbers,
        user_language=reader_language(request, actor),
        sheet=sheet or None,
        dry_run=dry_run,
    )


ImportRequestDep = Annotated[service.ImportRequest, Depends(import_request)]


def _row_out(outcome: RowOutcome, cells: list[str], language: str) -> RowOut:
    error = None
    if outcome.error is not None:
        message, error = transfer_tasks.error_text(outcome.error, language)
    values = {
        key: (str(value) if not isinstance(value, bool | int | None) else value)
        for key, value in outcome.values.items()
    }
    return RowOut(
        row=outcome.number,
        status=outcome.status.value,
        record_id=outcome.record_id,
        cells=cells,
        values=values,
        error=error,
    )


@router.get("/imports/columns")
def import_columns(table: TransferTable, request: Request, actor: CurrentActor) -> list[ColumnOut]:
    """The columns of a table's spreadsheet: the names a header may have, kinds, choices."""
    language = reader_language(request, actor)
    return [
        ColumnOut(
            name=column.name,
            label=column.heading(language),
            kind=column.kind.value,
            imported=column.imported,
            aliases=list(column.aliases),
            choices=column.choice_labels() if column.choices else None,
        )
        for column in columns_of(table)
    ]


@router.post("/imports/preview")
def preview_import(
    file: Annotated[UploadFile, File(description="CSV or XLSX")],
    wanted: ImportRequestDep,
    database: DatabaseDep,
    settings: SettingsDep,
    actor: CurrentActor,
) -> PreviewOut:
    """The first 20 rows as they would be saved, each with its problems; nothing is written."""
    language = wanted.user_language
    preview = service.preview_import(
        file.file,
        wanted,
        filename=file.filename or "file",
        database=database,
        actor=actor,
        max_bytes=settings.max_import_bytes,
    )
    return PreviewOut(
        kind=preview.kind,
        encoding=preview.encoding,
        delimiter=preview.delimiter,
        sheet=preview.sheet,
        headers=preview.headers,
        columns=preview.columns,
        rows=[_row_out(outcome, cells, language) for outcome, cells in zip(preview.rows, preview.cells, strict=True)],
    )


def import_out(job: Any, kept: TransferFile | None) -> ImportOut:
    summary = job.summary or {}
    return ImportOut(
        id=job.id,
        state=job.state,
        table=str(job.parameters.get("options", {}).get("table", "")),
        filename=kept.filename if kept is not None else "",
        dry_run=bool(job.parameters.get("dry_run")),
        progress={"done": job.progress_done, "total": job.progress_total},
        counts=ImportCounts(**{key: summary.get(key, 0) for key in ImportCounts.model_fields}),
        error=job.error,
        job=job_out(job),
    )


@router.post("/imports", status_code=202)
def start_import(
    file: Annotated[UploadFile, File(description="CSV or XLSX")],
    wanted: ImportRequestDep,
    database: DatabaseDep,
    queue: QueueDep,
    settings: SettingsDep,
    actor: CurrentActor,
    response: Response,
) -> ImportOut:
    """Import a file as a job: 202 with the import; follow it at `Location`. Refused at once (422) when
    the file cannot be read or the mapping misses a required column."""
    job = service.start_import(
        file.file,
        wanted,
        filename=file.filename or "file",
        media_type=file.content_type or "application/octet-stream",
        database=database,
        actor=actor,
        max_bytes=settings.max_import_bytes,
    )
    submit(job.id, queue=queue, database=database)
    with database.unit_of_work(read_only=True) as uow:
        found = service.check_import_job(job.id, uow=uow, actor=actor)
        out = import_out(found, service.import_file(uow.session, found))
    response.headers["Location"] = f"/api/v1/imports/{job.id}"
    response.headers["Link"] = f'</api/v1/jobs/{job.id}>; rel="job"'
    return out


@router.get("/imports/{import_id}")
def get_import(import_id: uuid.UUID, uow: ReadUowDep, actor: CurrentActor) -> ImportOut:
    """An import: its state, progress and the counts of created, updated, unchanged, skipped and failed rows."""
    job = service.check_import_job(import_id, uow=uow, actor=actor)
    out = import_out(job, service.import_file(uow.session, job))
    if job.summary is None:  # still running: the counts so far
        counts = transfer_tasks.import_summary(uow.session, job.id, dry_run=out.dry_run)
        out.counts = ImportCounts(**{key: counts.get(key, 0) for key in ImportCounts.model_fields})
    return out


@router.get(
    "/imports/{import_id}/errors",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def import_errors(
    import_id: uuid.UUID, database: DatabaseDep, actor: CurrentActor, request: Request
) -> StreamingResponse:
    """The rows that failed, as CSV: the original cells and an Error column, to fix and import again."""
    download = failed_rows_file(import_id, database=database, actor=actor, language=reader_language(request, actor))
    return StreamingResponse(
        download.chunks,
        media_type=download.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{download.filename}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


# ---------------------------------------------------------------------------------------------- mappings


@router.get("/import-mappings")
def list_mappings(uow: ReadUowDep, actor: CurrentActor, table: TransferTable | None = None) -> list[MappingOut]:
    """The saved mappings, of one table or all."""
    return [
        MappingOut(id=mapping.id, table=mapping.table_name.value, name=mapping.name, columns=mapping.columns)
        for mapping in service.list_mappings(table, uow=uow, actor=actor)
    ]


@router.put("/import-mappings")
def save_mapping(body: MappingIn, uow: UowDep, actor: CurrentActor) -> MappingOut:
    """Save a named mapping of a table (one of the same name is replaced)."""
    mapping = service.save_mapping(body.table, body.name, body.columns, uow=uow, actor=actor)
    uow.commit()
    return MappingOut(id=mapping.id, table=mapping.table_name.value, name=mapping.name, columns=mapping.columns)


@router.delete("/import-mappings/{mapping_id}", status_code=204)
def delete_mapping(mapping_id: uuid.UUID, uow: UowDep, actor: CurrentActor) -> Response:
    """Forget a saved mapping."""
    service.delete_mapping(mapping_id, uow=uow, actor=actor)
    uow.commit()
    return Response(status_code=204)


# ---------------------------------------------------------------------------------------------- export


def export_response(
    export: service.ExportRequest, file_format: ExportFormat, *, database: Database, actor: Actor, language: str
) -> Response:
    """A view streamed as a download."""
    download = service.export_download(export, file_format, database=database, actor=actor, language=language)
    return StreamingResponse(
        download.chunks,
        media_type=download.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{download.filename}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


def export_of_leads(
    request: Request, actor: Actor, database: Database, query: Any, file_format: ExportFormat
) -> Response:
    """A lead view (its filter, search and sort) as a download."""
    export = service.ExportRequest(table=TransferTable.LEADS, lead_query=query)
    return export_response(
        export, file_format, database=database, actor=actor, language=reader_language(request, actor)
    )


@router.post("/exports", status_code=202)
def start_export(
    body: ExportIn, database: DatabaseDep, queue: QueueDep, actor: CurrentActor, request: Request, response: Response
) -> JobOut:
    """Export a view to a file as a job (for big views): 202 with the job; download at `/exports/{id}/file`."""
    query = None
    if body.table is TransferTable.LEADS:
        query = views.LeadQuery(
            view=views.LeadView(body.view) if body.view else views.LeadView.ALL, q=body.q, sort=body.sort
        )
    job = transfer_tasks.start_export(
        service.ExportRequest(table=body.table, lead_query=query),
        file_format=body.format,
        language=reader_language(request, actor),
        database=database,
        actor=actor,
    )
    out = accepted(submit(job.id, queue=queue, database=database), response)
    response.headers["Link"] = f'</api/v1/exports/{job.id}/file>; rel="file"'
    return out


@router.get("/exports/{job_id}/file", response_class=StreamingResponse, responses=FILE_RESPONSES)
def export_file(job_id: uuid.UUID, database: DatabaseDep, actor: CurrentActor) -> StreamingResponse:
    """The file an export job wrote, as a download (409 while it is still being written)."""
    with database.unit_of_work(read_only=True) as uow:
        job = jobs.get_job(job_id, uow=uow, actor=actor)
        kept = uow.session.scalar(select(TransferFile).where(TransferFile.job_id == job.id))
        if job.kind != transfer_tasks.EXPORT or kept is None:
            if job.kind == transfer_tasks.EXPORT and job.state is not JobState.SUCCEEDED:
                raise InvalidState(
                    "The export is not finished yet; try again when its job has succeeded.", code="export_not_ready"
                )
            raise not_found(label="export", record_id=job_id)
        file_id, filename, media_type = kept.id, kept.filename, kept.media_type
    return StreamingResponse(
        file_chunks(database, file_id),
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "X-Content-Type-Options": "nosniff"},
    )


__all__ = ["export_of_leads", "export_response", "reader_language", "router"]
