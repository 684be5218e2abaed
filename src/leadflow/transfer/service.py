"""Import and export use cases: start an import (file kept, mapping checked, job queued), preview its
first rows, keep named mappings, and read a table's view as spreadsheet rows for an export.

The work of an import or a big export runs as a job (``leadflow.tasks.transfer``); everything that
can be refused before it starts is refused here, at once, so that a wrong mapping never queues a job.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.errors import InvalidState, ValidationFailed
from leadflow.core.records import get_record, not_found
from leadflow.core.uow import Database, UnitOfWork
from leadflow.customers.models import Account, Contact
from leadflow.fields.filters import Condition
from leadflow.fields.models import FieldKind
from leadflow.fields.values import as_text, to_output
from leadflow.http.labels import CHOICE_LABELS
from leadflow.http.language import gettext
from leadflow.jobs.models import Job, JobItem
from leadflow.jobs.service import create_job, sees_every_job
from leadflow.leads import views
from leadflow.leads.models import Lead, LeadSource, LeadState, LeadStatusReason, Rating
from leadflow.opportunities.models import Opportunity
from leadflow.organisation.models import Currency
from leadflow.security.access import list_records, require_admin
from leadflow.security.actor import Actor
from leadflow.security.audit import record_action
from leadflow.security.models import User
from leadflow.security.privileges import Privilege
from leadflow.transfer.fields import Column, Kind, automatic_mapping, columns_of, custom_field_of, load_custom_columns
from leadflow.transfer.files import open_kept_table, store_file
from leadflow.transfer.importing import ImportOptions, OnDuplicate, Plan, RowOutcome, RowSaver, RowStatus, plan_import
from leadflow.transfer.models import FilePurpose, ImportMapping, TransferFile, TransferTable
from leadflow.transfer.reading import TableFile, open_table
from leadflow.transfer.writing import Cell, csv_chunks, write_xlsx

IMPORT = "import"
EXPORT = "export"
PREVIEW_ROWS = 20
# Statuses of rows whose record an import saved (or found saved): what a later import of the same file
# recognises by position.
SAVED = (RowStatus.CREATED.value, RowStatus.UPDATED.value, RowStatus.UNCHANGED.value)


@dataclass(frozen=True)
class ImportRequest:
    """What a user asks of an import, before the file's headers are known."""

    table: TransferTable
    # header -> column; None: the automatic mapping (or the saved mapping named ``mapping_name``)
    columns: Mapping[str, str | None] | None = None
    mapping_name: str | None = None
    on_duplicate: OnDuplicate = OnDuplicate.SKIP
    match_on: str | None = None
    create_missing_accounts: bool = False
    # How ambiguous numbers and dates are read: "en" or "es"; None reads them as the file suggests
    # (a CSV separated by ";" is Spanish Excel's, one by "," English Excel's), else as ``user_language``.
    language: str | None = None
    user_language: str = "en"
    sheet: str | None = None
    dry_run: bool = False


def saved_mapping(session: Session, table: TransferTable, name: str) -> ImportMapping:
    """A named mapping of a table, or a refusal naming the ones there are."""
    found = session.scalar(select(ImportMapping).where(ImportMapping.table_name == table, ImportMapping.name == name))
    if found is None:
        names = session.scalars(select(ImportMapping.name).where(ImportMapping.table_name == table)).all()
        raise ValidationFailed(
            f"There is no saved mapping {name!r} for {table.value}"
            + (f"; the saved ones are: {', '.join(names)}." if names else "; save one first."),
            code="mapping_not_found",
        )
    return found


def resolve_columns(session: Session, request: ImportRequest, headers: list[str]) -> dict[str, str | None]:
    """The header-to-column map an import uses: the request's own, a saved one, or the automatic one;
    headers a saved or given map does not name are mapped automatically."""
    load_custom_columns(session)
    automatic = automatic_mapping(request.table, headers)
    if request.mapping_name:
        kept = saved_mapping(session, request.table, request.mapping_name).columns
        return {header: kept.get(header, automatic[header]) for header in headers}
    if request.columns is not None:
        return {header: request.columns.get(header, automatic[header]) for header in headers}
    return automatic


def numbers_language(request: ImportRequest, table_file: TableFile) -> str:
    """The language ambiguous numbers and dates of a file are read in (see ``ImportRequest.language``)."""
    if request.language:
        return request.language
    return {";": "es", ",": "en"}.get(table_file.delimiter or "", request.user_language)


def import_options(request: ImportRequest, columns: Mapping[str, str | None], table_file: TableFile) -> ImportOptions:
    """The options a job keeps, from the request, the resolved columns and the file."""
    return ImportOptions(
        table=request.table,
        columns=dict(columns),
        on_duplicate=request.on_duplicate,
        match_on=request.match_on,
        create_missing_accounts=request.create_missing_accounts,
        language=numbers_language(request, table_file),
    )


def _open(source: BinaryIO, filename: str, sheet: str | None, max_bytes: int) -> TableFile:
    if source.seekable():
        source.seek(0)
    return open_table(source, filename=filename, sheet=sheet, max_bytes=max_bytes)


@dataclass
class Preview:
    """What an import would do with a file's first rows, read and saved in a transaction never committed."""

    headers: list[str]
    columns: dict[str, str | None]
    kind: str
    encoding: str | None
    delimiter: str | None
    sheet: str | None
    rows: list[RowOutcome]
    cells: list[list[str]]


def preview_import(
    source: BinaryIO, request: ImportRequest, *, filename: str, database: Database, actor: Actor, max_bytes: int
) -> Preview:
    """The first rows as they would be saved, each with its refusal; nothing is written."""
    table_file = _open(source, filename, request.sheet, max_bytes)
    try:
        with database.unit_of_work() as uow:
            columns = resolve_columns(uow.session, request, table_file.headers)
            plan = plan_import(import_options(request, columns, table_file), table_file.headers, actor=actor)
            saver = RowSaver(plan, uow=uow, actor=actor, earlier={})
            outcomes: list[RowOutcome] = []
            cells: list[list[str]] = []
            for position, row in enumerate(table_file.rows):
                if position >= PREVIEW_ROWS:
                    break
                outcomes.append(saver.save(row, position))
                cells.append(row.cells)
            uow.session.rollback()
    finally:
        table_file.close()
    return Preview(
        headers=table_file.headers,
        columns=columns,
        kind=table_file.kind,
        encoding=table_file.encoding,
        delimiter=table_file.delimiter,
        sheet=table_file.sheet,
        rows=outcomes,
        cells=cells,
    )


def file_headers(source: BinaryIO, *, filename: str, sheet: str | None, max_bytes: int) -> list[str]:
    """The header row of a file (refused when it does not read as a table)."""
    table_file = _open(source, filename, sheet, max_bytes)
    table_file.close()
    return table_file.headers


def keep_upload(
    source: BinaryIO,
    *,
    table: TransferTable,
    filename: str,
    media_type: str,
    sheet: str | None,
    database: Database,
    actor: Actor,
    max_bytes: int,
) -> TransferFile:
    """Keep an uploaded file for an import still to be mapped (the web wizard's first step), once it
    reads as a table; committed. Only its uploader uses it (``kept_upload``)."""
    require_admin(actor, table.value, Privilege.CREATE)
    _open(source, filename, sheet, max_bytes).close()
    with database.unit_of_work() as uow:
        source.seek(0)
        kept = store_file(
            uow.session,
            source,
            filename=filename,
            media_type=media_type,
            purpose=FilePurpose.IMPORT,
            table=table,
            actor=actor,
            max_bytes=max_bytes,
        )
        uow.commit()
    return kept


def kept_upload(file_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> TransferFile:
    """A file the actor uploaded for an import not started yet; anyone else's is not found."""
    kept = uow.session.get(TransferFile, file_id)
    if kept is None or kept.purpose is not FilePurpose.IMPORT or kept.created_by_id != actor.user_id:
        raise not_found(label="file", record_id=file_id)
    return kept


def read_kept(database: Database, kept: TransferFile, sheet: str | None) -> TableFile:
    """A kept file opened as a table (its import limit was checked when it was kept)."""
    return open_kept_table(database, kept.id, filename=kept.filename, sheet=sheet)


def start_import(
    source: BinaryIO,
    request: ImportRequest,
    *,
    filename: str,
    media_type: str,
    database: Database,
    actor: Actor,
    max_bytes: int,
) -> Job:
    """Keep the file and queue its import, once its headers and the mapping are checked; committed."""
    table_file = _open(source, filename, request.sheet, max_bytes)
    table_file.close()
    with database.unit_of_work(read_only=True) as uow:  # refused before a byte is kept
        columns = resolve_columns(uow.session, request, table_file.headers)
        plan_import(import_options(request, columns, table_file), table_file.headers, actor=actor)
    kept = keep_upload(
        source,
        table=request.table,
        filename=filename,
        media_type=media_type,
        sheet=request.sheet,
        database=database,
        actor=actor,
        max_bytes=max_bytes,
    )
    return start_kept_import(
        kept.id, replace(request, columns=columns, mapping_name=None), database=database, actor=actor
    )


def start_kept_import(file_id: uuid.UUID, request: ImportRequest, *, database: Database, actor: Actor) -> Job:
    """Queue the import of a file kept by ``keep_upload``; committed. A kept file is imported once (after
    any number of dry runs): upload it again to import it once more."""
    with database.unit_of_work() as uow:
        kept = kept_upload(file_id, uow=uow, actor=actor)
        earlier = uow.session.get(Job, kept.job_id) if kept.job_id is not None else None
        if earlier is not None and not earlier.parameters.get("dry_run"):
            raise InvalidState(
                "This file was imported already; upload it again to import it once more.", code="file_imported"
            )
        table_file = read_kept(database, kept, request.sheet)
        table_file.close()
        columns = resolve_columns(uow.session, request, table_file.headers)
        options = import_options(request, columns, table_file)
        plan_import(options, table_file.headers, actor=actor)
        job = _import_job(uow, kept, request, options, table_file.sheet, actor=actor)
        uow.commit()
    return job


def _import_job(
    uow: UnitOfWork,
    kept: TransferFile,
    request: ImportRequest,
    options: ImportOptions,
    sheet: str | None,
    *,
    actor: Actor,
) -> Job:
    verb = "Check" if request.dry_run else "Import"
    job = create_job(
        uow.session,
        actor,
        kind=IMPORT,
        title=f"{verb} {request.table.value} from {kept.filename}"[:200],
        parameters={
            "file_id": str(kept.id),
            "filename": kept.filename,
            "sheet": sheet,
            "dry_run": request.dry_run,
            "options": options.as_parameters(),
        },
    )
    kept.job_id = job.id
    return job


def import_file(session: Session, job: Job) -> TransferFile:
    """The file an import job reads."""
    file_id = uuid.UUID(str(job.parameters["file_id"]))
    return session.get_one(TransferFile, file_id)


def earlier_imports(
    session: Session, *, job_id: uuid.UUID, fingerprint: str, table: TransferTable, sheet: str | None
) -> list[uuid.UUID]:
    """The imports before this one that saved rows of the same bytes, table and sheet (not dry runs)."""
    candidates = session.execute(
        select(Job.id, Job.parameters)
        .join(TransferFile, TransferFile.job_id == Job.id)
        .where(
            TransferFile.fingerprint == fingerprint,
            TransferFile.table_name == table,
            TransferFile.purpose == FilePurpose.IMPORT,
            Job.id != job_id,
        )
    ).all()
    return [
        candidate_id
        for candidate_id, parameters in candidates
        if not parameters.get("dry_run") and parameters.get("sheet") == sheet
    ]


def saved_rows(session: Session, earlier: list[uuid.UUID], *, first: int, last: int) -> dict[int, uuid.UUID]:
    """For rows ``[first, last)`` of a file, the records the ``earlier`` imports of it saved, by position."""
    if not earlier:
        return {}
    rows = session.execute(
        select(JobItem.position, JobItem.record_id).where(
            JobItem.job_id.in_(earlier),
            JobItem.position >= first,
            JobItem.position < last,
            JobItem.status.in_(SAVED),
            JobItem.record_id.is_not(None),
        )
    )
    return {position: record_id for position, record_id in rows if record_id is not None}


def check_import_job(job_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> Job:
    """An import job the actor may see (its starter, or an administrator), or not found."""
    job = get_record(uow.session, Job, job_id, label="import")
    if job.kind != IMPORT or not (job.created_by_id == actor.user_id or sees_every_job(actor)):
        raise not_found(label="import", record_id=job_id)
    return job


def failed_rows(session: Session, job_id: uuid.UUID) -> Iterator[JobItem]:
    """The failed rows of an import in file order, read a thousand at a time."""
    last = -1
    while True:
        items = session.scalars(
            select(JobItem)
            .where(JobItem.job_id == job_id, JobItem.status == RowStatus.FAILED.value, JobItem.position > last)
            .order_by(JobItem.position)
            .limit(1000)
        ).all()
        if not items:
            return
        yield from items
        last = items[-1].position


# ----------------------------------------------------------------------------------------------
# saved mappings


def list_mappings(table: TransferTable | None, *, uow: UnitOfWork, actor: Actor) -> list[ImportMapping]:
    """The saved mappings, of one table or of all."""
    statement = select(ImportMapping).order_by(ImportMapping.table_name, ImportMapping.name)
    if table is not None:
        statement = statement.where(ImportMapping.table_name == table)
    return list(uow.session.scalars(statement))


def save_mapping(
    table: TransferTable, name: str, columns: Mapping[str, str | None], *, uow: UnitOfWork, actor: Actor
) -> ImportMapping:
    """Keep a named mapping for the next import (replacing one of the same name); its columns are checked."""
    require_admin(actor, table.value, Privilege.CREATE)
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise ValidationFailed("Give the mapping a name of 1 to 100 characters.", code="invalid_mapping_name")
    known = {column.name for column in columns_of(table) if column.imported}
    unknown = sorted({str(value) for value in columns.values() if value and value not in known})
    if unknown:
        raise ValidationFailed(
            f"{', '.join(unknown)} is not a column an import of {table.value} fills; "
            f"use one of: {', '.join(sorted(known))}.",
            code="column_not_importable",
        )
    mapping = uow.session.scalar(
        select(ImportMapping).where(ImportMapping.table_name == table, ImportMapping.name == name)
    )
    if mapping is None:
        mapping = ImportMapping(table_name=table, name=name, columns=dict(columns), created_by_id=actor.user_id)
        uow.session.add(mapping)
    else:
        mapping.columns = dict(columns)
    uow.flush()
    record_action(uow.session, actor, "save", table="import_mappings", record_id=mapping.id, summary=name)
    return mapping


def delete_mapping(mapping_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> None:
    """Forget a saved mapping."""
    mapping = get_record(uow.session, ImportMapping, mapping_id, label="mapping")
    require_admin(actor, mapping.table_name.value, Privilege.CREATE)
    uow.session.delete(mapping)
    record_action(uow.session, actor, "delete", table="import_mappings", record_id=mapping_id, summary=mapping.name)
    uow.flush()


# ----------------------------------------------------------------------------------------------
# export: a table's view as spreadsheet rows

MODELS: dict[TransferTable, type[Any]] = {
    TransferTable.LEADS: Lead,
    TransferTable.ACCOUNTS: Account,
    TransferTable.CONTACTS: Contact,
    TransferTable.OPPORTUNITIES: Opportunity,
}
EXPORT_PAGE = views.MAX_PAGE
CENTS = Decimal("0.01")


@dataclass(frozen=True)
class ExportRequest:
    """What to export: a table, and for leads the view, filters and sort of the list it comes from."""

    table: TransferTable
    lead_query: views.LeadQuery | None = None

    def as_parameters(self) -> dict[str, Any]:
        query = self.lead_query
        return {
            "table": self.table.value,
            "lead_query": None
            if query is None
            else {
                **{
                    key: (str(value) if value is not None else None)
                    for key, value in vars(query).items()
                    if key not in ("limit", "cursor", "conditions")
                },
                "conditions": [condition.as_dict() for condition in query.conditions],
            },
        }

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, Any]) -> ExportRequest:
        table = TransferTable(parameters["table"])
        query = parameters.get("lead_query")
        if query is None:
            return cls(table=table)
        fields = {key: value for key, value in query.items() if value is not None}
        for key, kind in (
            ("view", views.LeadView),
            ("state", LeadState),
            ("status_reason", LeadStatusReason),
            ("rating", Rating),
            ("lead_source", LeadSource),
        ):
            if key in fields:
                fields[key] = kind(fields[key])
        if "owner_user_id" in fields:
            fields["owner_user_id"] = uuid.UUID(fields["owner_user_id"])
        fields["conditions"] = tuple(Condition(**item) for item in fields.get("conditions") or [])
        return cls(table=table, lead_query=views.LeadQuery(**fields))


def export_columns(table: TransferTable) -> list[Column]:
    """The columns an export of ``table`` writes, in order."""
    return [column for column in columns_of(table) if column.exported]


def export_header(table: TransferTable, language: str) -> list[str]:
    """The header row of an export, in ``language``."""
    return [column.heading(language) for column in export_columns(table)]


def _records(request: ExportRequest, *, database: Database, actor: Actor) -> Iterator[tuple[Session, list[Any]]]:
    """The records of the view, a page at a time, each page read in a short transaction of its own."""
    model = MODELS[request.table]
    cursor: str | None = None
    while True:
        with database.unit_of_work(read_only=True) as uow:
            if request.table is TransferTable.LEADS:
                query = request.lead_query or views.LeadQuery(view=views.LeadView.ALL)
                page = views.list_leads(
                    views.LeadQuery(**{**vars(query), "limit": EXPORT_PAGE, "cursor": cursor}), uow=uow, actor=actor
                )
                items, cursor = page.items, page.next_cursor
            else:
                result = list_records(uow.session, model, actor=actor, limit=EXPORT_PAGE, cursor=cursor)
                items, cursor = list(result.items), result.next_cursor
            yield uow.session, items
        if not cursor:
            return


def _names(session: Session, model: type[Any], ids: set[uuid.UUID], *columns: Any) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = session.execute(select(model.id, *columns).where(model.id.in_(ids)))
    return {row[0]: next((value for value in row[1:] if value), "") for row in rows}


class _Lookups:
    """The names a page's lookups show (owner e-mail, currency code, account and contact names)."""

    def __init__(self, session: Session, columns: Sequence[Column], records: Sequence[Any]) -> None:
        def ids(name: str) -> set[uuid.UUID]:
            return {value for record in records if (value := getattr(record, name, None)) is not None}

        self.users = _names(session, User, ids("owner_user_id"), User.email)
        self.currencies = _names(session, Currency, ids("currency_id"), Currency.iso_code)
        linked = set()
        for column in columns:
            if column.kind in (Kind.ACCOUNT, Kind.CONTACT, Kind.CUSTOMER):
                linked |= ids(column.field)
        self.accounts = _names(session, Account, linked, Account.name)
        self.contacts = _names(session, Contact, linked - set(self.accounts), Contact.email, Contact.full_name)


def _cell(record: Any, column: Column, lookups: _Lookups, language: str) -> Cell:
    kind = column.kind
    if kind is Kind.ID:
        return str(record.id)
    if kind is Kind.OWNER:
        return lookups.users.get(record.owner_user_id) if record.owner_user_id else None
    if kind is Kind.CURRENCY:
        return lookups.currencies.get(record.currency_id) if getattr(record, "currency_id", None) else None
    if kind in (Kind.ACCOUNT, Kind.CONTACT, Kind.CUSTOMER):
        linked = getattr(record, column.field, None)
        if linked is None:
            return None
        return lookups.accounts.get(linked) or lookups.contacts.get(linked) or str(linked)
    if kind is Kind.CUSTOM:
        return _custom_cell(record, column, language)
    value = getattr(record, column.name, None)
    if value is None:
        return None
    if hasattr(value, "value") and not isinstance(value, bool):  # a choice or a state: its label
        labels = CHOICE_LABELS.get(type(value), {})
        message = labels.get(str(value.value))
        return gettext(language, message) if message else str(value.value)
    if isinstance(value, Decimal):  # money is stored to four places: 1234.5000 reads 1234.50
        return value.quantize(CENTS) if value == value.quantize(CENTS) else value.normalize()
    return value


def _custom_cell(record: Any, column: Column, language: str) -> Cell:
    """A custom value typed for the file (numbers, dates, yes/no), options by their label in ``language``."""
    field = custom_field_of(record.__tablename__, column)
    stored = (record.custom or {}).get(field.name)
    if stored is None:
        return None
    if field.kind in (FieldKind.CHOICE, FieldKind.MULTI_CHOICE):
        return as_text(field, stored, language)
    if field.kind is FieldKind.DATE:
        return date.fromisoformat(stored)
    if field.kind is FieldKind.DATETIME:
        return datetime.fromisoformat(stored.replace("Z", "+00:00"))
    value = to_output(field, stored)
    return value if isinstance(value, bool | int | Decimal | str) else str(value)


def export_rows(request: ExportRequest, *, database: Database, actor: Actor, language: str) -> Iterator[list[Cell]]:
    """The view's records as typed cells, in the list's order; constant memory whatever its size."""
    require_admin(actor, request.table.value, Privilege.READ)
    with database.unit_of_work(read_only=True) as uow:
        load_custom_columns(uow.session)
    columns = export_columns(request.table)
    for session, records in _records(request, database=database, actor=actor):
        lookups = _Lookups(session, columns, records)
        for record in records:
            yield [_cell(record, column, lookups, language) for column in columns]


XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Download:
    """A file to hand out: its name, media type and bytes, produced as they are read."""

    filename: str
    media_type: str
    chunks: Iterator[bytes]


def export_download(
    request: ExportRequest, file_format: str, *, database: Database, actor: Actor, language: str
) -> Download:
    """A view as a file: CSV streamed row by row (constant memory); XLSX written to a temporary file
    first (a workbook is a zip, finished only at its end), then streamed."""
    header = export_header(request.table, language)
    rows = export_rows(request, database=database, actor=actor, language=language)
    name = request.table.value
    if file_format == "csv":
        return Download(f"{name}.csv", "text/csv; charset=utf-8", csv_chunks(header, rows, language=language))
    spool = tempfile.TemporaryFile()
    write_xlsx(spool, header, rows, sheet_title=name, language=language)
    spool.seek(0)

    def chunks() -> Iterator[bytes]:
        with spool:
            while chunk := spool.read(1024 * 1024):
                yield chunk

    return Download(f"{name}.xlsx", XLSX_MEDIA_TYPE, chunks())


__all__ = [
    "EXPORT",
    "IMPORT",
    "ExportRequest",
    "ImportRequest",
    "Plan",
    "Preview",
    "check_import_job",
    "earlier_imports",
    "export_header",
    "export_rows",
    "failed_rows",
    "preview_import",
    "start_import",
]
