"""Editing a document: `update` (an option per field of the kind's API model), `add-line`,
`update-line`, `remove-line` and `delete`, added to the quotes', orders' and invoices' groups; the
sales use cases say which states allow them (a draft quote, an active order or invoice).
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Callable
from typing import Annotated, Any

import typer

from leadflow.catalog.schemas import LineCreate, LineUpdate
from leadflow.cli.catalog_common import given, language_of, price_list_named, run_action
from leadflow.cli.common import console
from leadflow.cli.sales_common import (
    FIELDS,
    HEADER_OPTIONS,
    KINDS,
    DiscountOption,
    DocumentReference,
    LineNumber,
    PriceOption,
    ProductOption,
    Quantity,
    TaxOption,
    UnitOption,
    WriteInOption,
    document_id,
    document_title,
    done,
    line_data,
    line_numbered,
    line_said,
)
from leadflow.core.formatting import format_money
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.sales import service as sales
from leadflow.sales.models import DocumentKind, SalesDocument
from leadflow.security.actor import Actor

# ------------------------------------------------------------------------------- editing a document


def _lines_of(record: SalesDocument) -> list[Any]:
    return list(record.lines)  # type: ignore[attr-defined]


def _update_command(kind: DocumentKind) -> Callable[..., None]:
    """`update` for one kind of document: an option per field of its API model (HEADER_OPTIONS and
    the kind's own), given to ``sales.update_document``."""
    commands = KINDS[kind]

    def update(ctx: typer.Context, reference: str, **options: Any) -> None:
        values = given(**options)
        if not values:
            raise typer.BadParameter("give at least one field to change, e.g. --name.")

        def change(uow: UnitOfWork, actor: Actor) -> str:
            data = {
                FIELDS.get(name, name): value.value if isinstance(value, enum.Enum) else value
                for name, value in values.items()
                if name != "price_list"
            }
            if "price_list" in values:
                data["price_list_id"] = str(price_list_named(values["price_list"], uow=uow, actor=actor).id)
            record_id = document_id(kind, reference, uow=uow, actor=actor)
            record = sales.update_document(kind, record_id, parse(commands.update, data), uow=uow, actor=actor)
            return done(record, "Changed", actor)

        console.print(run_action(ctx, change))

    keyword = inspect.Parameter.KEYWORD_ONLY
    update.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("ctx", keyword, annotation=typer.Context),
            inspect.Parameter("reference", keyword, annotation=DocumentReference),
            *(
                inspect.Parameter(name, keyword, annotation=annotation, default=None)
                for name, annotation in {**HEADER_OPTIONS, **commands.options}.items()
            ),
        ],
        return_annotation=None,
    )
    return update


def add_edit_commands(group: typer.Typer, kind: DocumentKind) -> None:
    """`update`, `add-line`, `update-line`, `remove-line` and `delete` on a kind of document's group;
    the sales use cases say which states allow them (a draft quote, an active order or invoice)."""
    commands = KINDS[kind]
    editable = commands.editable
    group.command("update", help=f"Change the given fields of {editable}; its totals follow.")(_update_command(kind))

    def document_line(reference: str, line_number: int, *, uow: UnitOfWork, actor: Actor) -> tuple[SalesDocument, Any]:
        record = sales.document(kind, document_id(kind, reference, uow=uow, actor=actor), uow=uow, actor=actor)
        listed_by = f"{commands.group} show {record.number}"
        return record, line_numbered(_lines_of(record), line_number, of=document_title(record), listed_by=listed_by)

    @group.command(
        "add-line",
        help=f"Add a catalogue product (--product) or a write-in product (--write-in and --price) to {editable}.",
    )
    def add_line(
        ctx: typer.Context,
        reference: DocumentReference,
        quantity: Quantity,
        product: ProductOption = None,
        unit: UnitOption = None,
        write_in: WriteInOption = None,
        price: PriceOption = None,
        discount: DiscountOption = None,
        tax: TaxOption = None,
        description: Annotated[str | None, typer.Option()] = None,
    ) -> None:
        def add(uow: UnitOfWork, actor: Actor) -> str:
            data = line_data(
                product,
                unit,
                uow=uow,
                actor=actor,
                write_in_name=write_in,
                quantity=quantity,
                price_per_unit=price,
                manual_discount=discount,
                tax=tax,
                description=description,
            )
            record_id = document_id(kind, reference, uow=uow, actor=actor)
            line = sales.add_document_line(kind, record_id, parse(LineCreate, data), uow=uow, actor=actor)
            record = sales.document(kind, record_id, uow=uow, actor=actor)
            language = language_of(actor)
            said = line_said(line, currency=record.currency_code, language=language)
            total = format_money(record.total_amount, record.currency_code, language)
            return f"Added line {line.line_number} to {document_title(record)}: {said}; total {total}"

        console.print(run_action(ctx, add))

    @group.command("update-line", help=f"Change a line of {editable}; it is priced again.")
    def update_line(
        ctx: typer.Context,
        reference: DocumentReference,
        line_number: LineNumber,
        quantity: Annotated[str | None, typer.Option(help="How many, e.g. 12 or 1.5.")] = None,
        discount: DiscountOption = None,
        tax: TaxOption = None,
        price: PriceOption = None,
        write_in: Annotated[
            str | None, typer.Option("--write-in", help="The new name of a product outside the catalogue.")
        ] = None,
        description: Annotated[str | None, typer.Option()] = None,
    ) -> None:
        data = given(
            quantity=quantity,
            manual_discount=discount,
            tax=tax,
            price_per_unit=price,
            write_in_name=write_in,
            description=description,
        )
        if not data:
            raise typer.BadParameter(
                "give at least one of --quantity, --discount, --tax, --price, --write-in, --description."
            )

        def change(uow: UnitOfWork, actor: Actor) -> str:
            record, line = document_line(reference, line_number, uow=uow, actor=actor)
            line = sales.update_document_line(kind, record.id, line.id, parse(LineUpdate, data), uow=uow, actor=actor)
            language = language_of(actor)
            said = line_said(line, currency=record.currency_code, language=language)
            total = format_money(record.total_amount, record.currency_code, language)
            return f"Changed line {line.line_number} of {document_title(record)}: {said}; total {total}"

        console.print(run_action(ctx, change))

    @group.command("remove-line", help=f"Remove a line from {editable} (the other lines keep their numbers).")
    def remove_line(ctx: typer.Context, reference: DocumentReference, line_number: LineNumber) -> None:
        def remove(uow: UnitOfWork, actor: Actor) -> str:
            record, line = document_line(reference, line_number, uow=uow, actor=actor)
            name, title = line.product_name, document_title(record)
            sales.delete_document_line(kind, record.id, line.id, uow=uow, actor=actor)
            total = format_money(record.total_amount, record.currency_code, language_of(actor))
            return f"Removed line {line_number} ({name}) from {title}; total {total}"

        console.print(run_action(ctx, remove))

    @group.command("delete", help=f"Delete {editable} with its lines{commands.delete_note}.")
    def delete(ctx: typer.Context, reference: DocumentReference) -> None:
        def delete_document(uow: UnitOfWork, actor: Actor) -> str:
            record = sales.document(kind, document_id(kind, reference, uow=uow, actor=actor), uow=uow, actor=actor)
            title = document_title(record)
            sales.delete_document(kind, record.id, uow=uow, actor=actor)
            return title

        console.print(f"Deleted {run_action(ctx, delete_document)}")
