"""`leadflow import TABLE FILE` and `leadflow export TABLE -o FILE`: spreadsheets in and out.

An import runs as a job like any other (``leadflow jobs``): followed here with a progress bar, or
left running with ``--no-wait``. The same service functions as the web wizard and the REST API do
the work, so a mapping refused here is refused there, and a row saved here is saved the same way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.table import Table

from leadflow.cli.common import JsonFlag, console, emit, errors, fail, open_as_actor, settings_of
from leadflow.cli.jobs import WaitFlag, exit_for, print_ending, start_and_follow
from leadflow.core.errors import LeadflowError, ValidationFailed
from leadflow.jobs.models import Job, JobState
from leadflow.leads import views
from leadflow.transfer import service
from leadflow.transfer.errors_file import failed_rows_file
from leadflow.transfer.importing import OnDuplicate, RowStatus
from leadflow.transfer.models import TransferTable

TableArgument = Annotated[TransferTable, typer.Argument(help="leads, accounts, contacts or opportunities.")]


def _columns(text: str | None) -> dict[str, str | None] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        fail(ValidationFailed('--columns takes a JSON object such as {"Correo": "email"}.', code="invalid_columns"))
    return value


def _counts_table(job: Job) -> Table:
    summary = job.summary or {}
    grid = Table(title="Dry run: nothing was saved" if summary.get("dry_run") else "Import")
    for status in (*RowStatus, "qualified"):
        grid.add_column(str(status))
    grid.add_row(*(str(summary.get(str(status), 0)) for status in (*RowStatus, "qualified")))
    return grid


def import_command(
    ctx: typer.Context,
    table: TableArgument,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="A CSV or XLSX file.")],
    mapping: Annotated[
        str, typer.Option("--mapping", help="A saved mapping's name, or auto (headers in Spanish or English).")
    ] = "auto",
    columns: Annotated[
        str | None, typer.Option("--columns", help='JSON header -> column, e.g. {"Correo": "email", "Notas": null}.')
    ] = None,
    save_mapping: Annotated[
        str | None, typer.Option("--save-mapping", help="Keep the mapping used under this name for the next import.")
    ] = None,
    on_duplicate: Annotated[
        OnDuplicate, typer.Option("--on-duplicate", help="What a row matching a record does: skip, create, update.")
    ] = OnDuplicate.SKIP,
    match_on: Annotated[
        str | None,
        typer.Option("--match-on", help="A key column to match on (id, email...); else the duplicate rules."),
    ] = None,
    create_missing_accounts: Annotated[
        bool, typer.Option("--create-missing-accounts", help="Create an account a row names that does not exist.")
    ] = False,
    sheet: Annotated[str | None, typer.Option("--sheet", help="The XLSX sheet to read; the first by default.")] = None,
    numbers: Annotated[
        Literal["en", "es"] | None,
        typer.Option("--numbers", help="Read 1.234 and 03/04/2026 as written in en or es; else as the file suggests."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check every row and save nothing.")] = False,
    errors_file: Annotated[
        Path | None, typer.Option("--errors", help="Write the rows that failed here (CSV with an Error column).")
    ] = None,
    wait: WaitFlag = True,
    as_json: JsonFlag = False,
) -> None:
    """Import a spreadsheet into a table, as a job with a progress bar."""
    database, actor = open_as_actor(ctx)
    settings = settings_of(ctx)
    request = service.ImportRequest(
        table=table,
        columns=_columns(columns),
        mapping_name=None if mapping == "auto" else mapping,
        on_duplicate=on_duplicate,
        match_on=match_on,
        create_missing_accounts=create_missing_accounts,
        language=numbers,
        user_language=actor.language or "en",
        sheet=sheet,
        dry_run=dry_run,
    )
    try:
        with file.open("rb") as source:
            if save_mapping:
                headers = service.file_headers(
                    source, filename=file.name, sheet=sheet, max_bytes=settings.max_import_bytes
                )
                with database.unit_of_work() as uow:
                    resolved = service.resolve_columns(uow.session, request, headers)
                    service.save_mapping(table, save_mapping, resolved, uow=uow, actor=actor)
                    uow.commit()
            job = service.start_import(
                source,
                request,
                filename=file.name,
                media_type="application/octet-stream",
                database=database,
                actor=actor,
                max_bytes=settings.max_import_bytes,
            )
    except LeadflowError as error:
        fail(error)
    job = start_and_follow(ctx, database, actor, job, wait=wait, as_json=as_json)
    if not wait:
        return
    with database.unit_of_work(read_only=True) as uow:
        failures = list(service.failed_rows(uow.session, job.id)) if job.state is JobState.SUCCEEDED else []
    if errors_file is not None and failures:
        with errors_file.open("wb") as target:
            download = failed_rows_file(job.id, database=database, actor=actor, language=actor.language or "en")
            for chunk in download.chunks:
                target.write(chunk)

    def render() -> None:
        print_ending(job)
        if job.state is JobState.SUCCEEDED:
            console.print(_counts_table(job))
        for item in failures[:10]:
            errors.print(f"  row {(item.data or {}).get('row')}: {item.message}", soft_wrap=True)
        if len(failures) > 10:
            errors.print(f"  … and {len(failures) - 10} more" + ("" if errors_file else " (write them with --errors)"))
        if errors_file is not None and failures:
            console.print(f"The rows that failed are in {errors_file}.")

    emit(as_json, {"id": str(job.id), "state": job.state.value, "summary": job.summary, "error": job.error}, render)
    exit_for(job)


def export_command(
    ctx: typer.Context,
    table: TableArgument,
    output: Annotated[Path, typer.Option("-o", "--output", help="The file to write (.csv or .xlsx).")],
    file_format: Annotated[
        Literal["csv", "xlsx"] | None, typer.Option("--format", help="csv or xlsx; by default the output's extension.")
    ] = None,
    view: Annotated[
        views.LeadView | None, typer.Option("--view", help="For leads: the view to export (all by default).")
    ] = None,
    search: Annotated[
        str | None, typer.Option("--q", help="For leads: only those whose name, company... contain it.")
    ] = None,
    sort: Annotated[str, typer.Option("--sort", help="For leads: the list's sort, e.g. -created_at.")] = "-created_at",
    language: Annotated[
        Literal["en", "es"] | None,
        typer.Option("--language", help="Headers, labels and CSV separators in en or es; yours by default."),
    ] = None,
) -> None:
    """Export a table (for leads, a view with its search and sort) to CSV or XLSX, streamed to the file."""
    database, actor = open_as_actor(ctx)
    chosen = file_format or ("xlsx" if output.suffix.lower() == ".xlsx" else "csv")
    query = None
    if table is TransferTable.LEADS:
        query = views.LeadQuery(view=view or views.LeadView.ALL, q=search, sort=sort)
    elif view is not None or search is not None:
        fail(ValidationFailed("--view and --q apply to leads only.", code="invalid_option"))
    written = 0
    try:
        download = service.export_download(
            service.ExportRequest(table=table, lead_query=query),
            chosen,
            database=database,
            actor=actor,
            language=language or actor.language or "en",
        )
        with output.open("wb") as target:
            for chunk in download.chunks:
                written += len(chunk)
                target.write(chunk)
    except LeadflowError as error:
        output.unlink(missing_ok=True)
        fail(error)
    console.print(f"Wrote {output} ({written:,} bytes).")


def register(app: typer.Typer) -> None:
    app.command("import")(import_command)
    app.command("export")(export_command)


__all__ = ["register"]
