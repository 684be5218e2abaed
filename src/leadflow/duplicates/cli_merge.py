"""Commands added to `leadflow duplicates`: merge two records, undo a merge."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer
from rich.table import Table

from leadflow.cli import _run, console
from leadflow.duplicates import merge as merge_service


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


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `duplicates` command group."""

    @app.command("merge")
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
        journal = _run(
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

    @app.command("undo")
    def undo(ctx: typer.Context, merge_id: Annotated[uuid.UUID, typer.Argument(help="The merge to undo.")]) -> None:
        """Undo a merge: both records and every moved child go back exactly as they were."""
        journal = _run(ctx, lambda uow, actor: merge_service.journal_out(merge_service.undo_merge(merge_id, uow=uow, actor=actor)))
        console.print(
            f"Undid merge {journal['id']}: {journal['table']} {journal['subordinate_id']} and "
            f"{journal['master_id']} are back as they were."
        )
        _print_moved("Moved back to the subordinate", journal)
