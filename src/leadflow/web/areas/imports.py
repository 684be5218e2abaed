"""Import and export in the web app: the import wizard, the export links of the lists, and the files
that import and export jobs leave to download.

The wizard takes a spreadsheet in three steps, each a page of its own:

1. ``/imports``: the table to import into and the file (CSV or XLSX), kept in the database once it
   reads as a table (``transfer.service.keep_upload``); only its uploader sees it afterwards.
2. ``/imports/files/{id}/map``: which column of the table each column of the file fills (the automatic
   mapping, or a saved one, preselected), what a duplicate comes to, what a row matches on, how the
   file writes numbers and dates.
3. ``/imports/files/{id}/preview``: the first rows as they would be saved, each with what would happen
   to it and why a row would fail; nothing is written. From there the import, or a dry run of the whole
   file, starts as a job, followed on the job's page (``/jobs/{id}``), which counts what the rows came
   to and links the CSV of the rows that failed (``/imports/{job}/errors.csv``).

The choices travel from step to step in the forms' fields (``col_<n>`` for the file's n-th column), so
that the steps can be taken back and forth. Every step calls the service functions the REST API calls
(``leadflow.transfer.service``) and shows their refusals in the user's language.

The lists of leads, accounts, contacts and opportunities link ``/<table>/export?format=csv|xlsx``: the
list as a file, the leads' with the view, search and sort of the list page. The routes of this module
are included before those of the records' pages (areas are included in name order), so that
``/leads/export`` is never read as the page of a lead called "export".
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import select
from starlette.datastructures import UploadFile

from leadflow.core.errors import InvalidState, LeadflowError, NotFound, ValidationFailed
from leadflow.core.formatting import format_day, format_number
from leadflow.core.records import not_found
from leadflow.http.errors import status_for
from leadflow.jobs import service as jobs
from leadflow.jobs.models import JobState
from leadflow.leads import views
from leadflow.security.access import require_admin
from leadflow.security.privileges import Privilege
from leadflow.tasks import submit
from leadflow.tasks import transfer as transfer_tasks
from leadflow.transfer import service
from leadflow.transfer.errors_file import failed_rows_file
from leadflow.transfer.fields import Column, Kind, automatic_mapping, columns_of
from leadflow.transfer.files import file_chunks, open_file
from leadflow.transfer.importing import KEY_COLUMNS, OnDuplicate, RowStatus
from leadflow.transfer.models import TransferFile, TransferTable
from leadflow.web.areas.jobs import job_title, progress_of
from leadflow.web.areas.leads import DEFAULT_SORT
from leadflow.web.areas.records_page import can_create
from leadflow.web.forms import FormDep, id_in_path, refusal_text
from leadflow.web.i18n import N_, gettext
from leadflow.web.labels import CHOICE_LABELS, TABLE_LABELS, label
from leadflow.web.notes import file_size
from leadflow.web.pages import WebSession, WebSessionDep, database_of, redirect, refusals_shown_by, render

router = APIRouter()

IMPORTS = "/imports"
RECENT_IMPORTS = 5
# The file formats a list is exported to.
EXPORT_FORMATS = ("csv", "xlsx")

# What a row that matches an existing record comes to.
ON_DUPLICATE_OPTIONS = (
    (OnDuplicate.SKIP.value, N_("Skip")),
    (OnDuplicate.CREATE.value, N_("Create anyway")),
    (OnDuplicate.UPDATE.value, N_("Update the match")),
)
# How the file writes numbers and dates ("" reads them as the file suggests: ";" Spanish, "," English).
NUMBER_OPTIONS = (
    ("", N_("Automatic (as the file suggests)")),
    ("en", N_("English: 25,000.50 – 12/31/2026")),
    ("es", N_("Spanish: 25.000,50 – 31/12/2026")),
)
# Tables whose rows name an account that an import may create when it does not exist yet.
CREATES_ACCOUNTS = frozenset({TransferTable.CONTACTS, TransferTable.OPPORTUNITIES})

# What a row of the preview would come to, and its badge.
PREVIEW_STATUS_LABELS = {
    RowStatus.CREATED.value: N_("Would be created"),
    RowStatus.UPDATED.value: N_("Would be updated"),
    RowStatus.UNCHANGED.value: N_("Would stay unchanged"),
    RowStatus.SKIPPED.value: N_("Would be skipped"),
    RowStatus.FAILED.value: N_("Would fail"),
}
STATUS_BADGES = {
    RowStatus.CREATED.value: "ok",
    RowStatus.UPDATED.value: "ok",
    RowStatus.UNCHANGED.value: "",
    RowStatus.SKIPPED.value: "warn",
    RowStatus.FAILED.value: "bad",
}
FILE_KINDS = {"csv": N_("CSV"), "xlsx": N_("Excel workbook (XLSX)")}
# The encodings a CSV file is read in (``transfer.reading``), by the names spreadsheet programs give them.
ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "utf-16": "UTF-16", "cp1252": "Windows-1252"}

# Refusals the pages word in every language (the services' sentences name an id, or speak of the API).
PAGE_REFUSALS = {
    "file_required": N_("Choose a file to import."),
    "table_required": N_("Choose what to import: leads, accounts, contacts or opportunities."),
    "invalid_format": N_("Choose a file format to export to: CSV or Excel."),
    "file_not_found": N_("This file does not exist, or it is not one you uploaded; upload it again."),
    "import_not_found": N_("This import does not exist, or it is not one you may see."),
    "job_not_found": N_("This job does not exist, or it is not one you may see."),
    "export_not_found": N_("This export does not exist, or it is not one you may see."),
}


# ---------------------------------------------------------------------------------------------- refusals


def _column_heading(table: TransferTable | None, name: object, language: str) -> str:
    """A column of a table by its heading in ``language`` (its name when the table has no such column)."""
    if table is not None:
        for column in columns_of(table):
            if column.name == name or column.field == name:
                return column.heading(language)
    return str(name)


def import_refusal(language: str, error: LeadflowError, table: TransferTable | None = None) -> str:
    """Why a step of the wizard (or a download) was refused, in the user's language: the refusal's own
    sentence (``leadflow.http.refusals``), naming a column by its heading in that language."""
    if error.code in PAGE_REFUSALS:
        return gettext(language, PAGE_REFUSALS[error.code])
    details = error.details if isinstance(error.details, dict) else None
    if details and "column" in details and error.code in ("required_column_unmapped", "invalid_match_column"):
        named = {**details, "column": _column_heading(table, details["column"], language)}
        error = LeadflowError(error.message, code=error.code, details=named)
    return refusal_text(language, error)


def _refused(request: Request, session: WebSession, error: LeadflowError) -> Response:
    """A page telling why a request of this area was refused (404 for a file that is not the user's...)."""
    return render(
        request,
        session,
        "admin/refused.html",
        status_code=status_for(error),
        title=N_("This can't be done"),
        message=import_refusal(session.language, error),
    )


_page = refusals_shown_by(_refused)


# ---------------------------------------------------------------------------------------------- downloads


def download_response(chunks: Iterator[bytes], filename: str, media_type: str) -> Response:
    """A file handed out as a download, never shown inline: attachment disposition, no sniffing, a
    sandboxing policy, not kept in caches."""
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return StreamingResponse(
        chunks,
        media_type=media_type,
        headers={
            "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "no-store",
        },
    )


def _export(request: Request, session: WebSession, export: service.ExportRequest, file_format: str) -> Response:
    if file_format not in EXPORT_FORMATS:
        raise ValidationFailed("Choose a file format to export to: csv or xlsx.", code="invalid_format")
    # Refused now, as a page: the rows are read while the file is being sent.
    require_admin(session.actor, export.table.value, Privilege.READ)
    download = service.export_download(
        export, file_format, database=database_of(request), actor=session.actor, language=session.language
    )
    return download_response(download.chunks, download.filename, download.media_type)


@router.get("/leads/export")
@_page
def export_leads(
    request: Request,
    session: WebSessionDep,
    format: str = "csv",
    view: str = views.LeadView.MY_OPEN.value,
    q: str = "",
    sort: str = DEFAULT_SORT,
) -> Response:
    """The lead list as a file: every lead of the view, searched and sorted as the list page shows them."""
    try:
        lead_view = views.LeadView(view)
    except ValueError:
        lead_view = views.LeadView.MY_OPEN  # as the list page shows a view it does not know
    query = views.LeadQuery(view=lead_view, q=q.strip()[:200] or None, sort=sort)
    with database_of(request).unit_of_work(read_only=True) as uow:
        try:
            views.list_leads(replace(query, limit=1), uow=uow, actor=session.actor)
        except ValidationFailed as refused:
            if refused.code != "invalid_sort":
                raise
            query = replace(query, sort=DEFAULT_SORT)  # as the list page falls back to its default order
    return _export(request, session, service.ExportRequest(table=TransferTable.LEADS, lead_query=query), format)


def _register_export(table: TransferTable) -> None:
    @router.get(f"/{table.value}/export", name=f"{table.value}_export")
    @_page
    def export_records(request: Request, session: WebSessionDep, format: str = "csv") -> Response:
        """Every record of the table the user may read, as a file."""
        return _export(request, session, service.ExportRequest(table=table), format)


for _table in (TransferTable.ACCOUNTS, TransferTable.CONTACTS, TransferTable.OPPORTUNITIES):
    _register_export(_table)


@router.get("/exports/{job_id}/file")
@_page
def export_file(request: Request, session: WebSessionDep, job_id: str) -> Response:
    """The file an export job wrote, as a download (refused while the job is still writing it)."""
    parsed = id_in_path(job_id, record="export")
    database = database_of(request)
    with database.unit_of_work(read_only=True) as uow:
        job = jobs.get_job(parsed, uow=uow, actor=session.actor)
        kept = uow.session.scalar(select(TransferFile).where(TransferFile.job_id == job.id))
        if job.kind != transfer_tasks.EXPORT or kept is None:
            if job.kind == transfer_tasks.EXPORT and job.state is not JobState.SUCCEEDED:
                raise InvalidState(
                    "The export is not finished yet; try again when its job has succeeded.", code="export_not_ready"
                )
            raise not_found(label="export", record_id=parsed)
        file_id, filename, media_type = kept.id, kept.filename, kept.media_type
    return download_response(file_chunks(database, file_id), filename, media_type)


@router.get(IMPORTS + "/{job_id}/errors.csv")
@_page
def import_errors(request: Request, session: WebSessionDep, job_id: str) -> Response:
    """The rows of an import that failed, as CSV: the original cells and an Error column, to fix and import again."""
    download = failed_rows_file(
        id_in_path(job_id, record="import"),
        database=database_of(request),
        actor=session.actor,
        language=session.language,
    )
    return download_response(download.chunks, download.filename, download.media_type)


# ---------------------------------------------------------------------------------------------- step 1: the file


def _tables(session: WebSession) -> list[tuple[str, str]]:
    """The tables the user may import into (create records in), labelled in the user's language."""
    return [
        (table.value, label(session.language, TABLE_LABELS, table.value))
        for table in TransferTable
        if can_create(session, table.value)
    ]


def _recent_imports(request: Request, session: WebSession) -> list[dict[str, Any]]:
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        page = jobs.list_jobs(uow=uow, actor=session.actor, kind=transfer_tasks.IMPORT, mine=True, limit=RECENT_IMPORTS)
        return [
            {
                "id": job.id,
                "title": job_title(language, job.title),
                "progress": progress_of(language, job),
                "created_at": job.created_at,
            }
            for job in page.items
        ]


def _upload_page(
    request: Request,
    session: WebSession,
    *,
    table: str = "",
    sheet: str = "",
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    tables = _tables(session)
    return render(
        request,
        session,
        "imports/upload.html",
        status_code=status_code,
        tables=tables,
        table=table or (tables[0][0] if tables else ""),
        sheet=sheet,
        error=error,
        size_limit=file_size(session.language, request.app.state.settings.max_import_bytes),
        recent=_recent_imports(request, session),
    )


@router.get(IMPORTS)
@_page
def upload_page(request: Request, session: WebSessionDep) -> Response:
    """The first step: what to import into, and the file."""
    return _upload_page(request, session)


@router.post(IMPORTS)
@_page
def upload(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """Keep the uploaded file once it reads as a table, then map its columns."""
    language = session.language
    table_value = str(form.get("table") or "")
    sheet = str(form.get("sheet") or "").strip()[:100]
    upload = form.get("file")
    try:
        try:
            table = TransferTable(table_value)
        except ValueError:
            raise ValidationFailed("Choose what to import.", code="table_required") from None
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ValidationFailed("Choose a file to import.", code="file_required")
        kept = service.keep_upload(
            upload.file,
            table=table,
            filename=upload.filename,
            media_type=upload.content_type or "application/octet-stream",
            sheet=sheet or None,
            database=database_of(request),
            actor=session.actor,
            max_bytes=request.app.state.settings.max_import_bytes,
        )
    except LeadflowError as error:
        return _upload_page(
            request,
            session,
            table=table_value,
            sheet=sheet,
            status_code=status_for(error),
            error=import_refusal(language, error),
        )
    return redirect(_map_url(kept.id, sheet=sheet))


# ---------------------------------------------------------------------------------------------- the choices


def _map_url(file_id: uuid.UUID, **query: str) -> str:
    kept = {key: value for key, value in query.items() if value}
    return f"{IMPORTS}/files/{file_id}/map" + (f"?{urlencode(kept)}" if kept else "")


@dataclass(frozen=True)
class Choices:
    """What the user chose for an import so far: carried from step to step in the forms' fields."""

    sheet: str = ""
    # header -> column name (None: not imported); None until the user chose (a saved or automatic mapping)
    columns: Mapping[str, str | None] | None = None
    on_duplicate: str = OnDuplicate.SKIP.value
    match_on: str = ""
    create_missing_accounts: bool = False
    numbers: str = ""
    save_as: str = ""

    @classmethod
    def posted(cls, form: Any, headers: list[str] | None) -> Choices:
        """The choices a form posts; the columns only when the file's headers are known."""
        on_duplicate = str(form.get("on_duplicate") or OnDuplicate.SKIP.value)
        numbers = str(form.get("numbers") or "")
        columns: dict[str, str | None] | None = None
        if headers is not None:
            columns = {}
            for position, header in enumerate(headers):
                value = form.get(f"col_{position}")
                if isinstance(value, str):
                    columns[header] = value[:100] or None
        return cls(
            sheet=str(form.get("sheet") or "").strip()[:100],
            columns=columns,
            on_duplicate=on_duplicate if on_duplicate in {value for value, _text in ON_DUPLICATE_OPTIONS} else "",
            match_on=str(form.get("match_on") or "")[:40],
            create_missing_accounts=form.get("create_missing_accounts") in ("1", "on", "true"),
            numbers=numbers if numbers in {value for value, _text in NUMBER_OPTIONS} else "",
            save_as=str(form.get("save_as") or "").strip()[:100],
        )

    def request(self, table: TransferTable, language: str, *, dry_run: bool = False) -> service.ImportRequest:
        """The service's request of these choices (``OnDuplicate`` refused when it is none of the three)."""
        try:
            on_duplicate = OnDuplicate(self.on_duplicate)
        except ValueError:
            raise ValidationFailed(
                "Choose what a duplicate comes to: skip, create or update.", code="invalid_option"
            ) from None
        return service.ImportRequest(
            table=table,
            columns=self.columns,
            on_duplicate=on_duplicate,
            match_on=self.match_on or None,
            create_missing_accounts=self.create_missing_accounts and table in CREATES_ACCOUNTS,
            language=self.numbers or None,
            user_language=language,
            sheet=self.sheet or None,
            dry_run=dry_run,
        )

    def hidden_fields(self, headers: list[str]) -> list[tuple[str, str]]:
        """The choices as hidden fields of the next step's forms (name, value)."""
        fields = [
            ("sheet", self.sheet),
            ("on_duplicate", self.on_duplicate),
            ("match_on", self.match_on),
            ("numbers", self.numbers),
        ]
        if self.create_missing_accounts:
            fields.append(("create_missing_accounts", "1"))
        columns = self.columns or {}
        fields.extend((f"col_{position}", columns.get(header) or "") for position, header in enumerate(headers))
        return fields


@dataclass(frozen=True)
class KeptFile:
    """A kept file as the wizard shows it: its table, name, kind and header row."""

    id: uuid.UUID
    table: TransferTable
    filename: str
    kind: str
    encoding: str | None
    delimiter: str | None
    sheet: str | None
    headers: list[str]
    first_row: list[str]


def _kept_file(request: Request, session: WebSession, file_id: uuid.UUID, sheet: str) -> KeptFile:
    """The user's kept file, read again for its header row and first row (anyone else's is not found)."""
    database = database_of(request)
    with database.unit_of_work(read_only=True) as uow:
        kept = service.kept_upload(file_id, uow=uow, actor=session.actor)
        table, filename = kept.table_name, kept.filename
        table_file = service.read_kept(database, kept, sheet or None)
    try:
        first_row: list[str] = []
        try:
            first_row = next(iter(table_file.rows)).cells
        except (StopIteration, LeadflowError):
            pass  # a file of a header only, or a first row that cannot be read: no examples
        return KeptFile(
            id=file_id,
            table=table,
            filename=filename,
            kind=table_file.kind,
            encoding=table_file.encoding,
            delimiter=table_file.delimiter,
            sheet=table_file.sheet,
            headers=list(table_file.headers),
            first_row=first_row,
        )
    finally:
        table_file.close()


def _file_facts(language: str, kept: KeptFile) -> dict[str, Any]:
    delimiter = gettext(language, "Tab") if kept.delimiter == "\t" else (kept.delimiter or "")
    return {
        "filename": kept.filename,
        "table": label(language, TABLE_LABELS, kept.table.value),
        "kind": gettext(language, FILE_KINDS.get(kept.kind, kept.kind)),
        "encoding": ENCODING_NAMES.get(kept.encoding or "", kept.encoding or ""),
        "delimiter": delimiter,
        "sheet": kept.sheet or "",
    }


def _importable(table: TransferTable, language: str) -> list[tuple[str, str]]:
    """The columns an import of the table fills (name, heading in ``language``), in the table's order."""
    return [(column.name, column.heading(language)) for column in columns_of(table) if column.imported]


def _match_options(table: TransferTable, language: str) -> list[tuple[str, str]]:
    """What a row may match an existing record on: the published rules, or a key column of the table."""
    keys = [(column.name, column.heading(language)) for column in columns_of(table) if column.name in KEY_COLUMNS]
    return [("", gettext(language, "The published duplicate detection rules")), *keys]


# ---------------------------------------------------------------------------------------------- step 2: the columns


def _map_page_refusing(
    request: Request,
    session: WebSession,
    file_id: uuid.UUID,
    choices: Choices,
    error: LeadflowError,
    table: TransferTable,
) -> Response:
    """The mapping step again, saying why the preview or the run was refused."""
    message = import_refusal(session.language, error, table)
    return _map_page(request, session, file_id, choices, status_code=status_for(error), error=message)


def _map_page(
    request: Request,
    session: WebSession,
    file_id: uuid.UUID,
    choices: Choices,
    *,
    mapping: str = "",
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    language = session.language
    kept = _kept_file(request, session, file_id, choices.sheet)
    headers = kept.headers
    with database_of(request).unit_of_work(read_only=True) as uow:
        saved = [item.name for item in service.list_mappings(kept.table, uow=uow, actor=session.actor)]
        columns: Mapping[str, str | None]
        if choices.columns is not None:
            columns = choices.columns
        else:
            try:
                columns = service.resolve_columns(
                    uow.session, service.ImportRequest(table=kept.table, mapping_name=mapping or None), headers
                )
            except LeadflowError as refused:
                columns = automatic_mapping(kept.table, headers)
                error, status_code = error or import_refusal(language, refused, kept.table), status_for(refused)
    rows = [
        {
            "position": position,
            "header": header,
            "example": kept.first_row[position] if position < len(kept.first_row) else "",
            "column": columns.get(header) or "",
        }
        for position, header in enumerate(headers)
    ]
    return render(
        request,
        session,
        "imports/map.html",
        status_code=status_code,
        file=kept,
        facts=_file_facts(language, kept),
        rows=rows,
        choices=choices,
        column_options=_importable(kept.table, language),
        mappings=[(name, name) for name in saved],
        mapping=mapping if mapping in saved else "",
        on_duplicate_options=[(value, gettext(language, text)) for value, text in ON_DUPLICATE_OPTIONS],
        match_options=_match_options(kept.table, language),
        number_options=[(value, gettext(language, text)) for value, text in NUMBER_OPTIONS],
        creates_accounts=kept.table in CREATES_ACCOUNTS,
        error=error,
        map_url=f"{IMPORTS}/files/{file_id}/map",
        preview_url=f"{IMPORTS}/files/{file_id}/preview",
    )


def _file_id(raw: str) -> uuid.UUID:
    return id_in_path(raw, record="file")


@router.get(IMPORTS + "/files/{file_id}/map")
@_page
def map_page(request: Request, session: WebSessionDep, file_id: str, sheet: str = "", mapping: str = "") -> Response:
    """The second step: which column of the table each column of the file fills, and the import's options."""
    return _map_page(request, session, _file_id(file_id), Choices(sheet=sheet[:100]), mapping=mapping[:100])


@router.post(IMPORTS + "/files/{file_id}/map")
@_page
def back_to_map(request: Request, session: WebSessionDep, file_id: str, form: FormDep) -> Response:
    """The second step again, from the preview, with the choices made so far."""
    parsed = _file_id(file_id)
    sheet = str(form.get("sheet") or "").strip()[:100]
    headers = _kept_file(request, session, parsed, sheet).headers
    return _map_page(request, session, parsed, Choices.posted(form, headers))


# ---------------------------------------------------------------------------------------------- step 3: the preview


def _shown_value(column: Column, value: Any, text: str, language: str) -> str:
    """A value of a previewed row as it would be saved; the file's text for lookups (a name, not an id)."""
    if value is None or column.kind in (Kind.OWNER, Kind.ACCOUNT, Kind.CONTACT, Kind.CUSTOMER, Kind.CURRENCY):
        return text
    if isinstance(value, bool):
        return gettext(language, "Yes") if value else "No"
    if isinstance(value, Decimal | int | float):
        return format_number(value, language)
    if isinstance(value, date):
        return format_day(value, language)
    if column.kind is Kind.CHOICE and column.choices is not None:
        message = CHOICE_LABELS.get(column.choices, {}).get(str(getattr(value, "value", value)))
        return gettext(language, message) if message else str(value)
    return str(value)


def _preview_rows(
    language: str, preview: service.Preview, table: TransferTable
) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
    """The previewed columns (the file's header, the column it fills) and each row as it would be saved."""
    known = {column.name: column for column in columns_of(table)}
    mapped = [
        (position, header, known[name])
        for position, header in enumerate(preview.headers)
        if (name := preview.columns.get(header)) and name in known
    ]
    rows = []
    for outcome, cells in zip(preview.rows, preview.cells, strict=True):
        status = outcome.status.value
        rows.append(
            {
                "number": outcome.number,
                "status": status,
                "status_label": gettext(language, PREVIEW_STATUS_LABELS.get(status, status)),
                "badge": STATUS_BADGES.get(status, ""),
                "values": [
                    _shown_value(
                        column,
                        outcome.values.get(column.field),
                        cells[position] if position < len(cells) else "",
                        language,
                    )
                    for position, _header, column in mapped
                ],
                "error": transfer_tasks.error_text(outcome.error, language)[0] if outcome.error is not None else "",
            }
        )
    headings = [(header, column.heading(language)) for _position, header, column in mapped]
    return headings, rows


@router.post(IMPORTS + "/files/{file_id}/preview")
@_page
def preview(request: Request, session: WebSessionDep, file_id: str, form: FormDep) -> Response:
    """The third step: the first rows as they would be saved, and what would happen to each; nothing is
    written, but a mapping named in "Save this mapping as" is saved."""
    language = session.language
    parsed = _file_id(file_id)
    sheet = str(form.get("sheet") or "").strip()[:100]
    kept = _kept_file(request, session, parsed, sheet)
    choices = Choices.posted(form, kept.headers)
    database = database_of(request)
    saved_as = None
    try:
        wanted = choices.request(kept.table, language)
        shown = service.preview_import(
            open_file(database, kept.id),
            wanted,
            filename=kept.filename,
            database=database,
            actor=session.actor,
            max_bytes=request.app.state.settings.max_import_bytes,
        )
        if choices.save_as:
            with database.unit_of_work() as uow:
                saved_as = service.save_mapping(
                    kept.table, choices.save_as, shown.columns, uow=uow, actor=session.actor
                ).name
                uow.commit()
    except LeadflowError as error:
        return _map_page_refusing(request, session, parsed, choices, error, kept.table)
    headings, rows = _preview_rows(language, shown, kept.table)
    carried = replace(choices, columns=shown.columns, save_as="")
    return render(
        request,
        session,
        "imports/preview.html",
        file=kept,
        facts=_file_facts(language, kept),
        headings=headings,
        rows=rows,
        hidden=carried.hidden_fields(kept.headers),
        saved_as=saved_as,
        preview_rows=service.PREVIEW_ROWS,
        map_url=f"{IMPORTS}/files/{parsed}/map",
        run_url=f"{IMPORTS}/files/{parsed}/run",
    )


@router.post(IMPORTS + "/files/{file_id}/run")
@_page
def run(request: Request, session: WebSessionDep, file_id: str, form: FormDep) -> Response:
    """Start the import (or the dry run of the whole file) as a job, and follow it on the job's page."""
    language = session.language
    parsed = _file_id(file_id)
    sheet = str(form.get("sheet") or "").strip()[:100]
    kept = _kept_file(request, session, parsed, sheet)
    choices = Choices.posted(form, kept.headers)
    database = database_of(request)
    try:
        wanted = choices.request(kept.table, language, dry_run=form.get("dry_run") == "1")
        job = service.start_kept_import(parsed, wanted, database=database, actor=session.actor)
    except LeadflowError as error:
        if isinstance(error, NotFound):
            raise
        return _map_page_refusing(request, session, parsed, choices, error, kept.table)
    submit(job.id, queue=request.app.state.queue, database=database)
    return redirect(f"/jobs/{job.id}")


__all__ = ["download_response", "import_refusal", "router"]
