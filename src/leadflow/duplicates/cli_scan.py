"""`leadflow duplicates scan` and `leadflow duplicates sets`: find-all-duplicates jobs from the shell."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from leadflow.cli import _open, _run, console, errors, fail
from leadflow.duplicates import scan
from leadflow.duplicates.models import DetectionTable, JobState
from leadflow.errors import LeadflowError


def scan_table(
    ctx: typer.Context, table: Annotated[DetectionTable, typer.Argument(help="The table to look through.")]
) -> None:
    """Find every duplicate set of a table under its published rules, with a progress bar."""
    database, actor = _open(ctx)
    try:
        job = scan.start_job(table, database=database, actor=actor)
        with database.unit_of_work(read_only=True) as uow:
            rules = scan.scan_rules(uow.session, table)
        with Progress(
            TextColumn(f"Looking for duplicate {table.value}"), BarColumn(), MofNCompleteColumn(),
            TimeRemainingColumn(), console=console,
        ) as bar:
            task = bar.add_task("scan", total=None)
            job = scan.run_job(
                job.id, database=database, progress=lambda done, total: bar.update(task, completed=done, total=total)
            )
        with database.unit_of_work(read_only=True) as uow:
            counts = {count.rule_id: count for count in scan.job_rules(job.id, uow=uow, actor=actor)}
    except LeadflowError as error:
        fail(error)
    if job.state is JobState.FAILED:
        errors.print(f"[bold red]Error:[/] job {job.id} failed: {job.error}")
        raise typer.Exit(code=1)
    console.print(
        f"Job [bold]{job.id}[/]: {job.set_count} duplicate sets holding {job.record_count} {table.value}."
    )
    if not rules:
        console.print(f"No published rule compares {table.value} with {table.value}; nothing was looked for.")
        return
    grid = Table(title="By rule")
    for column in ("rule", "sets", "records"):
        grid.add_column(column)
    for rule in rules:
        found = counts.get(rule.id)
        grid.add_row(rule.name, str(found.sets if found else 0), str(found.records if found else 0))
    console.print(grid)
    console.print(f"See the sets with `leadflow duplicates sets {job.id}` (add --csv FILE to export them).")


def show_sets(
    ctx: typer.Context,
    job_id: Annotated[uuid.UUID, typer.Argument(help="The job's id, as `duplicates scan` printed it.")],
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Write every set to this CSV file instead.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=scan.MAX_PAGE, help="Sets to show.")] = 20,
    after: Annotated[int | None, typer.Option(min=0, help="Show the sets after this set number.")] = None,
) -> None:
    """List a job's duplicate sets, or export them all as CSV."""
    if csv_file is not None:
        database, actor = _open(ctx)
        try:
            rows = scan.iter_set_rows(job_id, database=database, actor=actor)
            with csv_file.open("w", newline="", encoding="utf-8") as stream:
                for chunk in scan.csv_chunks(rows):
                    stream.write(chunk)
        except LeadflowError as error:
            fail(error)
        console.print(f"Wrote the sets of job {job_id} to {csv_file}.")
        return
    job, page = _run(
        ctx,
        lambda uow, actor: (
            scan.get_job(job_id, uow=uow, actor=actor),
            scan.list_sets(job_id, uow=uow, actor=actor, limit=limit, after=after),
        ),
    )
    if not page.items:
        console.print(f"Job {job_id} ({job.state.value}) found no duplicate sets" + (" after that one." if after else "."))
        return
    grid = Table(title=f"Duplicate {job.table_name.value}: job {job_id}, {job.set_count} sets")
    for column in ("set", "rule", "score", "id", "name", "email", "phone", "city", "owner"):
        grid.add_column(column)
    for found in page.items:
        for index, member in enumerate(found.members):
            head = (str(found.position), found.rule_name or "", f"{found.score:.2f}") if index == 0 else ("", "", "")
            grid.add_row(
                *head, str(member.id), member.name or "", member.email or "", member.phone or "", member.city or "",
                member.owner_name or "",
            )
        grid.add_section()
    console.print(grid)
    if page.next_cursor is not None:
        console.print(f"More sets: add --after {page.next_cursor}.")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `duplicates` command group."""
    app.command("scan")(scan_table)
    app.command("sets")(show_sets)
