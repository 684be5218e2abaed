"""`leadflow duplicates ...`: rules, publishing with a progress bar, checks, find-all scans, merge and undo."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from leadflow.cli.common import JsonFlag, console, emit, errors, fail, open_as_actor, page_of, read, run
from leadflow.cli.jobs import WaitFlag, print_ending, start_and_follow
from leadflow.core.errors import LeadflowError
from leadflow.core.schemas import parse
from leadflow.duplicates import merge as merge_service
from leadflow.duplicates import rules as rule_service
from leadflow.duplicates import scan, sets
from leadflow.duplicates.detection import check_record
from leadflow.duplicates.models import DetectionTable, JobState
from leadflow.jobs.models import JobState as JobRunState
from leadflow.tasks.admin import start_publish, start_scan

duplicates_app = typer.Typer(
    help="Duplicate detection: rules, checks, find-all scans, merge and undo.", no_args_is_help=True
)
rules_app = typer.Typer(help="Duplicate detection rules (§9).", no_args_is_help=True)
duplicates_app.add_typer(rules_app, name="rules")


@rules_app.command("list")
def rules_list(
    ctx: typer.Context,
    table: Annotated[DetectionTable | None, typer.Option(help="Only rules of this base table.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Every rule with its state."""
    rules = read(
        ctx,
        lambda uow, actor: [
            rule_service.rule_out(r) for r in rule_service.read_rules(uow=uow, actor=actor, base_table=table)
        ],
    )

    def render() -> None:
        grid = Table(title="Duplicate detection rules")
        for column in ("id", "name", "base → matching", "state", "conditions"):
            grid.add_column(column)
        for rule in rules:
            conditions = "; ".join(
                f"{c['base_column']} {c['criterion']}{' ' + str(c['n']) if c['n'] else ''} {c['matching_column']}"
                for c in rule["conditions"]
            )
            grid.add_row(
                rule["id"], rule["name"], f"{rule['base_table']} → {rule['matching_table']}", rule["state"], conditions
            )
        console.print(grid)

    # The API answers this list whole, unpaged; as JSON it is a page like every other list, the last one.
    emit(as_json, page_of(rules), render)


@rules_app.command("create")
def rules_create(
    ctx: typer.Context,
    definition: Annotated[
        str, typer.Argument(help='The rule as JSON, e.g. {"name": ..., "base_table": "contacts", "conditions": [...]}.')
    ],
) -> None:
    """Create an unpublished rule from its JSON definition (the API's request body)."""

    def create(uow, actor):
        data = parse(rule_service.RuleCreate, json.loads(definition))
        return rule_service.rule_out(rule_service.create_rule(data, uow=uow, actor=actor))

    try:
        rule = run(ctx, create)
    except json.JSONDecodeError as error:
        errors.print(f"[bold red]Error:[/] the definition is not JSON: {error}")
        raise typer.Exit(code=2) from None
    console.print(f"Created rule [bold]{rule['name']}[/] ({rule['id']}), unpublished.")


@rules_app.command("publish")
def rules_publish(ctx: typer.Context, rule_id: Annotated[uuid.UUID, typer.Argument()], wait: WaitFlag = True) -> None:
    """Publish a rule: a job codes every existing record, followed with a progress bar."""
    database, actor = open_as_actor(ctx)
    try:
        _rule, job = start_publish(rule_id, database=database, actor=actor)
        ended = start_and_follow(ctx, database, actor, job, wait=wait)
        if not wait:
            return
        with database.unit_of_work(read_only=True) as uow:
            rule = rule_service.get_rule(uow.session, rule_id)
    except LeadflowError as error:
        fail(error)
    if ended.state is not JobRunState.SUCCEEDED:
        print_ending(ended)
        raise typer.Exit(code=1)
    console.print(f"Published [bold]{rule.name}[/]: {rule.publish_total} records coded.")


@rules_app.command("unpublish")
def rules_unpublish(ctx: typer.Context, rule_id: Annotated[uuid.UUID, typer.Argument()]) -> None:
    """Unpublish a rule: checks stop using it."""
    rule = run(ctx, lambda uow, actor: rule_service.unpublish_rule(rule_id, uow=uow, actor=actor))
    console.print(f"Unpublished [bold]{rule.name}[/].")


@duplicates_app.command("check")
def check(
    ctx: typer.Context,
    table: Annotated[DetectionTable, typer.Argument()],
    values: Annotated[str, typer.Argument(help='Field values as JSON, e.g. {"email": "ana@example.com"}.')],
) -> None:
    """Which existing records the published rules say duplicate these values."""
    try:
        parsed = json.loads(values)
    except json.JSONDecodeError as error:
        parsed = error
    if not isinstance(parsed, dict):
        errors.print('[bold red]Error:[/] the values must be a JSON object, e.g. \'{"email": "ana@example.com"}\'.')
        raise typer.Exit(code=2)
    matches = run(ctx, lambda uow, actor: check_record(uow.session, table, parsed, actor=actor))
    if not matches:
        console.print("No duplicates found.")
        return
    grid = Table(title="Possible duplicates")
    for column in ("id", "name", "email", "phone", "city", "owner", "rule", "score"):
        grid.add_column(column)
    for m in matches:
        grid.add_row(
            str(m.id),
            m.name or "",
            m.email or "",
            m.phone or "",
            m.city or "",
            m.owner_name or "",
            m.rule_name,
            f"{m.score:.2f}",
        )
    console.print(grid)


# ---------------------------------------------------------------------------------------------- find all


@duplicates_app.command("scan")
def scan_table(
    ctx: typer.Context,
    table: Annotated[DetectionTable, typer.Argument(help="The table to look through.")],
    wait: WaitFlag = True,
) -> None:
    """Find every duplicate set of a table under its published rules: a job, followed with a progress bar."""
    database, actor = open_as_actor(ctx)
    try:
        found, started = start_scan(table, database=database, actor=actor)
        with database.unit_of_work(read_only=True) as uow:
            rules = scan.scan_rules(uow.session, table)
        start_and_follow(ctx, database, actor, started, wait=wait)
        if not wait:
            return
        with database.unit_of_work(read_only=True) as uow:
            job = scan.load_job(uow.session, found.id)
        with database.unit_of_work(read_only=True) as uow:
            counts = {count.rule_id: count for count in scan.job_rules(job.id, uow=uow, actor=actor)}
    except LeadflowError as error:
        fail(error)
    if job.state is JobState.FAILED:
        errors.print(f"[bold red]Error:[/] job {job.id} failed: {job.error}")
        raise typer.Exit(code=1)
    console.print(f"Job [bold]{job.id}[/]: {job.set_count} duplicate sets holding {job.record_count} {table.value}.")
    if not rules:
        console.print(f"No published rule compares {table.value} with {table.value}; nothing was looked for.")
        return
    grid = Table(title="By rule")
    for column in ("rule", "sets", "records"):
        grid.add_column(column)
    for rule in rules:
        count = counts.get(rule.id)
        grid.add_row(rule.name, str(count.sets if count else 0), str(count.records if count else 0))
    console.print(grid)
    console.print(f"See the sets with `leadflow duplicates sets {job.id}` (add --csv FILE to export them).")


@duplicates_app.command("sets")
def show_sets(
    ctx: typer.Context,
    job_id: Annotated[uuid.UUID, typer.Argument(help="The job's id, as `duplicates scan` printed it.")],
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Write every set to this CSV file instead.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=scan.MAX_PAGE, help="Sets to show.")] = 20,
    cursor: Annotated[str | None, typer.Option(help="The cursor printed under the previous page of sets.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List a job's duplicate sets, or export them all as CSV."""
    if csv_file is not None and as_json:
        errors.print("[bold red]Error:[/] give --csv FILE or --json, not both.")
        raise typer.Exit(code=2)
    if csv_file is not None:
        database, actor = open_as_actor(ctx)
        try:
            rows = sets.iter_set_rows(job_id, database=database, actor=actor)
            with csv_file.open("w", newline="", encoding="utf-8") as stream:
                for chunk in sets.csv_chunks(rows):
                    stream.write(chunk)
        except LeadflowError as error:
            fail(error)
        console.print(f"Wrote the sets of job {job_id} to {csv_file}.")
        return
    from leadflow.api.duplicate_jobs import set_out  # the API's fields; imported here to keep the CLI quick to start

    job, page = run(
        ctx,
        lambda uow, actor: (
            scan.get_job(job_id, uow=uow, actor=actor),
            sets.list_sets(job_id, uow=uow, actor=actor, limit=limit, cursor=cursor),
        ),
    )

    def render() -> None:
        if not page.items:
            console.print(
                f"Job {job_id} ({job.state.value}) found no duplicate sets" + (" after those." if cursor else ".")
            )
            return
        grid = Table(title=f"Duplicate {job.table_name.value}: job {job_id}, {job.set_count} sets")
        for column in ("set", "rule", "score", "id", "name", "email", "phone", "city", "owner"):
            grid.add_column(column)
        for found in page.items:
            for index, member in enumerate(found.members):
                head = (
                    (str(found.position), found.rule_name or "", f"{found.score:.2f}") if index == 0 else ("", "", "")
                )
                grid.add_row(
                    *head,
                    str(member.id),
                    member.name or "",
                    member.email or "",
                    member.phone or "",
                    member.city or "",
                    member.owner_name or "",
                )
            grid.add_section()
        console.print(grid)
        if page.next_cursor is not None:
            console.print(f"More sets: add --cursor {page.next_cursor}.")

    emit(as_json, page_of(map(set_out, page.items), page.next_cursor), render)


# ---------------------------------------------------------------------------------------------- merge and undo


def _print_moved(title: str, journal: dict) -> None:
    if not journal["moved_by_column"]:
        console.print("No child records moved.")
        return
    grid = Table(title=title)
    for column in ("table", "column", "rows"):
        grid.add_column(column)
    for item in journal["moved_by_column"]:
        grid.add_row(item["table"], item["column"], str(item["count"]))
    console.print(grid)


@duplicates_app.command("merge")
def merge(
    ctx: typer.Context,
    table: Annotated[str, typer.Argument(help="accounts, contacts or leads.")],
    master_id: Annotated[uuid.UUID, typer.Argument(help="The record that stays.")],
    subordinate_id: Annotated[uuid.UUID, typer.Argument(help="The record merged into the master and deactivated.")],
    take: Annotated[
        list[str] | None,
        typer.Option("--take", metavar="FIELD", help="Keep the subordinate's value of this field (repeatable)."),
    ] = None,
    force_parenting: Annotated[
        bool, typer.Option("--force-parenting", help="Merge even when the records have different parents.")
    ] = False,
) -> None:
    """Merge SUBORDINATE_ID into MASTER_ID: the master keeps its values unless blank, children move."""
    fields = dict.fromkeys(take or (), merge_service.SUBORDINATE)
    journal = run(
        ctx,
        lambda uow, actor: merge_service.journal_out(
            merge_service.merge_records(
                table, master_id, subordinate_id, fields=fields, force_parenting=force_parenting, uow=uow, actor=actor
            )
        ),
    )
    console.print(
        f"Merged {journal['table']} [bold]{journal['subordinate_id']}[/] into [bold]{journal['master_id']}[/] "
        f"(merge {journal['id']})."
    )
    taken = sorted(name for name, choice in journal["choices"].items() if choice == merge_service.SUBORDINATE)
    if taken:
        console.print(f"Values taken from the subordinate: {', '.join(taken)}.")
    _print_moved("Moved to the master", journal)
    console.print(f"Undo with: leadflow duplicates undo {journal['id']}")


@duplicates_app.command("undo")
def undo(ctx: typer.Context, merge_id: Annotated[uuid.UUID, typer.Argument(help="The merge to undo.")]) -> None:
    """Undo a merge: both records and every moved child go back exactly as they were."""
    journal = run(
        ctx, lambda uow, actor: merge_service.journal_out(merge_service.undo_merge(merge_id, uow=uow, actor=actor))
    )
    console.print(
        f"Undid merge {journal['id']}: {journal['table']} {journal['subordinate_id']} and "
        f"{journal['master_id']} are back as they were."
    )
    _print_moved("Moved back to the subordinate", journal)
