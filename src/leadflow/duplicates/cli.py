"""`leadflow duplicates ...`: rules, publishing with a progress bar, checks, scans and merges."""

from __future__ import annotations

import json
import uuid
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
from leadflow.duplicates import rules as rule_service
from leadflow.duplicates.detection import check_record
from leadflow.duplicates.models import DetectionTable
from leadflow.errors import LeadflowError
from leadflow.organisation.service import get_settings
from leadflow.schemas import parse

duplicates_app = typer.Typer(help="Duplicate detection: rules, checks, find-all scans, merge and undo.", no_args_is_help=True)
rules_app = typer.Typer(help="Duplicate detection rules (§9).", no_args_is_help=True)
duplicates_app.add_typer(rules_app, name="rules")


@rules_app.command("list")
def rules_list(
    ctx: typer.Context, table: Annotated[DetectionTable | None, typer.Option(help="Only rules of this base table.")] = None
) -> None:
    """Every rule with its state."""
    rules = _run(ctx, lambda uow, actor: [rule_service.rule_out(r) for r in rule_service.list_rules(uow.session, base_table=table)])
    grid = Table(title="Duplicate detection rules")
    for column in ("id", "name", "base → matching", "state", "conditions"):
        grid.add_column(column)
    for rule in rules:
        conditions = "; ".join(
            f"{c['base_column']} {c['criterion']}{' ' + str(c['n']) if c['n'] else ''} {c['matching_column']}"
            for c in rule["conditions"]
        )
        grid.add_row(rule["id"], rule["name"], f"{rule['base_table']} → {rule['matching_table']}", rule["state"], conditions)
    console.print(grid)


@rules_app.command("create")
def rules_create(
    ctx: typer.Context,
    definition: Annotated[str, typer.Argument(help='The rule as JSON, e.g. {"name": ..., "base_table": "contacts", "conditions": [...]}.')],
) -> None:
    """Create an unpublished rule from its JSON definition (the API's request body)."""

    def create(uow, actor):
        data = parse(rule_service.RuleCreate, json.loads(definition))
        settings = get_settings(uow.session)
        return rule_service.rule_out(
            rule_service.create_rule(data, uow=uow, actor=actor, default_region=settings.default_phone_region)
        )

    try:
        rule = _run(ctx, create)
    except json.JSONDecodeError as error:
        errors.print(f"[bold red]Error:[/] the definition is not JSON: {error}")
        raise typer.Exit(code=2) from None
    console.print(f"Created rule [bold]{rule['name']}[/] ({rule['id']}), unpublished.")


@rules_app.command("publish")
def rules_publish(ctx: typer.Context, rule_id: Annotated[uuid.UUID, typer.Argument()]) -> None:
    """Publish a rule, coding every existing record, with a progress bar."""
    database, actor = _open(ctx)
    try:
        with Progress(TextColumn("Publishing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console) as bar:
            task = bar.add_task("publish", total=None)
            rule = rule_service.publish_rule(
                rule_id, database=database, actor=actor, progress=lambda done, total: bar.update(task, completed=done, total=total)
            )
    except LeadflowError as error:
        fail(error)
    console.print(f"Published [bold]{rule.name}[/]: {rule.publish_total} records coded.")


@rules_app.command("unpublish")
def rules_unpublish(ctx: typer.Context, rule_id: Annotated[uuid.UUID, typer.Argument()]) -> None:
    """Unpublish a rule: checks stop using it."""
    rule = _run(ctx, lambda uow, actor: rule_service.unpublish_rule(rule_id, uow=uow, actor=actor))
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
        errors.print("[bold red]Error:[/] the values must be a JSON object, e.g. '{\"email\": \"ana@example.com\"}'.")
        raise typer.Exit(code=2)
    matches = _run(ctx, lambda uow, actor: check_record(uow.session, table, parsed, actor=actor))
    if not matches:
        console.print("No duplicates found.")
        return
    grid = Table(title="Possible duplicates")
    for column in ("id", "name", "email", "phone", "city", "owner", "rule", "score"):
        grid.add_column(column)
    for m in matches:
        grid.add_row(str(m.id), m.name or "", m.email or "", m.phone or "", m.city or "", m.owner_name or "", m.rule_name, f"{m.score:.2f}")
    console.print(grid)


def _register_more() -> None:
    from leadflow.duplicates import cli_merge, cli_scan

    cli_scan.register(duplicates_app)
    cli_merge.register(duplicates_app)


_register_more()
