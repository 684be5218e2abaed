"""What the sales commands share: the arguments and options of lines and documents, how each kind of
document is named and edited (``KINDS``), finding a document by its number and a line by its line
number, rendering a document's header, lines and totals, and the command group with `list`, `show`
and `print` every kind of document has, with its state changes.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel
from rich.table import Table
from sqlalchemy import func, select

from leadflow.catalog import service as catalog
from leadflow.catalog.models import LineMixin
from leadflow.catalog.schemas import LineOut, TotalsOut
from leadflow.cli.catalog_common import (
    Cursor,
    Limit,
    as_id,
    given,
    language_of,
    product_numbered,
    quantity_text,
    read_action,
    run_action,
    unit_named,
)
from leadflow.cli.common import JsonFlag, console, emit, page_of, text
from leadflow.core.errors import NotFound
from leadflow.core.formatting import format_money, format_number
from leadflow.core.uow import UnitOfWork
from leadflow.sales import service as sales
from leadflow.sales.models import DocumentKind, PaymentTerms, Quote, SalesDocument
from leadflow.sales.printing import PrintedFile, document_pdf, status_text
from leadflow.sales.schemas import InvoiceOut, InvoiceUpdate, OrderOut, OrderUpdate, QuoteOut, QuoteUpdate
from leadflow.security.actor import Actor

LineT = TypeVar("LineT", bound=LineMixin)

OpportunityId = Annotated[uuid.UUID, typer.Argument(help="The opportunity's id.")]
LineNumber = Annotated[int, typer.Argument(min=1, help="The line's number, as `products` or `show` prints it.")]
Quantity = Annotated[str, typer.Option(help="How many, e.g. 12 or 1.5.")]
ProductOption = Annotated[str | None, typer.Option(help="A product's number (or id), priced by the price list.")]
UnitOption = Annotated[str | None, typer.Option(help="A unit of the product (its default unit otherwise).")]
WriteInOption = Annotated[str | None, typer.Option("--write-in", help="The name of a product outside the catalogue.")]
PriceOption = Annotated[
    str | None,
    typer.Option(help="Price per unit: a write-in's, or one replacing the price list's (a privilege)."),
]
DiscountOption = Annotated[str | None, typer.Option(help="Manual discount on the line, an amount.")]
TaxOption = Annotated[str | None, typer.Option(help="Tax on the line, an amount.")]
DayOption = Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD; today where you are by default.")]
DocumentReference = Annotated[str, typer.Argument(metavar="NUMBER_OR_ID", help="The document's number or id.")]


class ActiveOrderReason(enum.StrEnum):
    """The status reasons an active order may be given (OrderUpdate's)."""

    NEW = "new"
    PENDING = "pending"


def _day(help_text: str) -> Any:
    return Annotated[str | None, typer.Option(help=f"{help_text}, YYYY-MM-DD.")]


# The options of `update` every kind of document has (name: annotation), and those of one kind; an
# option is the API's field of the same name, but for those FIELDS names (the price list by name).
HEADER_OPTIONS: dict[str, Any] = {
    "name": Annotated[str | None, typer.Option(help="The new name.")],
    "description": Annotated[str | None, typer.Option()],
    "payment_terms": Annotated[PaymentTerms | None, typer.Option(help="When the customer pays.")],
    "billing_address": Annotated[str | None, typer.Option()],
    "shipping_address": Annotated[str | None, typer.Option()],
    "price_list": Annotated[
        str | None, typer.Option("--price-list", help="The price list's name or id (in the document's currency).")
    ],
    "discount_percentage": Annotated[str | None, typer.Option(help="Discount on the whole, in %.")],
    "discount_amount": Annotated[str | None, typer.Option(help="Discount on the whole, an amount.")],
    "freight": Annotated[str | None, typer.Option(help="Freight amount.")],
}
FIELDS = {"freight": "freight_amount"}


@dataclass(frozen=True)
class DocumentCommands:
    """How the commands of one kind of document name it, the REST API's models of it, which of its
    states the editing commands are for (their help) and the options of `update` its kind adds."""

    kind: DocumentKind
    group: str  # the command group: quotes, orders, invoices
    out: type[QuoteOut] | type[OrderOut] | type[InvoiceOut]
    update: type[QuoteUpdate] | type[OrderUpdate] | type[InvoiceUpdate]
    editable: str  # a draft quote, an active order...
    options: dict[str, Any]
    delete_note: str = ""


KINDS = {
    DocumentKind.QUOTE: DocumentCommands(
        DocumentKind.QUOTE,
        "quotes",
        QuoteOut,
        QuoteUpdate,
        "a draft quote",
        {
            "effective_from": _day("First day the quote holds"),
            "effective_to": _day("Last day the quote holds"),
            "due_date": _day("When the customer is to answer"),
        },
        " (an active one is closed instead)",
    ),
    DocumentKind.ORDER: DocumentCommands(
        DocumentKind.ORDER,
        "orders",
        OrderOut,
        OrderUpdate,
        "an active order",
        {
            "requested_delivery": _day("When the customer wants it delivered"),
            "status_reason": Annotated[
                ActiveOrderReason | None, typer.Option(help="Where the active order stands: new or pending.")
            ],
        },
    ),
    DocumentKind.INVOICE: DocumentCommands(
        DocumentKind.INVOICE,
        "invoices",
        InvoiceOut,
        InvoiceUpdate,
        "an active invoice",
        {"due_date": _day("When it is due")},
    ),
}


def document_id(kind: DocumentKind, reference: str, *, uow: UnitOfWork, actor: Actor) -> uuid.UUID:
    """The id of the document a number (a quote's latest revision) or an id names.

    A number the actor may not read is answered like a number nobody took.
    """
    record_id = as_id(reference)
    if record_id is not None:
        return record_id
    model = sales.MODELS[kind]
    statement = select(model.id).where(func.upper(model.number) == reference.strip().upper())
    if kind is DocumentKind.QUOTE:
        statement = statement.order_by(Quote.revision.desc())
    found = uow.session.scalars(statement.limit(1)).first()
    missing = NotFound(
        f"No {kind.value} has the number {reference.strip()!r}; `leadflow {KINDS[kind].group} list` lists them.",
        code=f"{kind.value}_not_found",
    )
    if found is None:
        raise missing
    try:
        sales.document(kind, found, uow=uow, actor=actor)
    except NotFound:
        raise missing from None
    return found


def document_title(record: SalesDocument) -> str:
    revision = getattr(record, "revision", 0)
    return f"{record.kind.value} {record.number}" + (f" (revision {revision})" if revision else "")


# ------------------------------------------------------------------------------------------ rendering


def _money(currency: str | None, language: str) -> Callable[[Any], str]:
    return lambda amount: format_money(amount, currency, language)


def lines_table(title: str, lines: list[LineOut], *, currency: str | None, language: str) -> Table:
    """Product lines as a table, amounts in ``currency`` written in ``language``."""
    money = _money(currency, language)
    grid = Table(title=title)
    grid.add_column("#", justify="right")
    grid.add_column("product")
    grid.add_column("unit")
    for column in (
        "quantity",
        "price per unit",
        "amount",
        "volume discount",
        "manual discount",
        "tax",
        "extended amount",
    ):
        grid.add_column(column, justify="right")
    for line in lines:
        grid.add_row(
            str(line.line_number),
            line.product_name + (" (price overridden)" if line.is_price_overridden and not line.is_write_in else ""),
            text(line.unit_name),
            quantity_text(line.quantity, language),
            money(line.price_per_unit),
            money(line.amount),
            money(line.volume_discount),
            money(line.manual_discount),
            money(line.tax),
            money(line.extended_amount),
        )
    return grid


def totals_table(totals: TotalsOut, *, currency: str | None, language: str) -> Table:
    """A record's totals, from the lines before tax down to the total amount."""
    money = _money(currency, language)
    grid = Table(title="Totals", show_header=False)
    grid.add_column("total")
    grid.add_column("amount", justify="right")
    rows = (
        ("Detail amount (lines before tax)", totals.detail_amount),
        ("Line discounts (included above)", totals.total_line_discount),
        (f"Discount ({format_number(totals.discount_percentage, language)} % + amount)", totals.total_discount_amount),
        ("Pre-freight amount", totals.pre_freight_amount),
        ("Freight", totals.freight_amount),
        ("Total tax", totals.total_tax),
        ("Total amount", totals.total_amount),
    )
    for label, amount in rows:
        grid.add_row(label, money(amount))
    return grid


@dataclass(frozen=True)
class ShownDocument:
    """A document read for showing: its API model, and what the table adds in the reader's language."""

    out: QuoteOut | OrderOut | InvoiceOut
    title: str
    header: list[tuple[str, str]]
    language: str


def _shown(record: SalesDocument, *, uow: UnitOfWork, actor: Actor) -> ShownDocument:
    language = language_of(actor)
    out = KINDS[record.kind].out.model_validate(record)
    customer = sales.customer_of(uow.session, record)
    customer_name = (
        "" if customer is None else str(getattr(customer, "name", None) or getattr(customer, "full_name", ""))
    )
    header = [
        ("id", str(record.id)),
        ("number", record.number),
        ("name", record.name),
        ("status", status_text(record, language)),
        ("customer", customer_name),
        ("currency", record.currency_code),
        ("opportunity", text(record.opportunity_id)),
    ]
    for name in ("quote_id", "order_id", "effective_from", "effective_to", "due_date"):
        if getattr(record, name, None) is not None:
            header.append((name.replace("_", " "), text(getattr(record, name))))
    for name in ("date_won", "closed_on", "date_fulfilled", "date_paid"):
        if getattr(record, name, None) is not None:
            header.append((name.replace("_", " "), text(getattr(record, name))))
    header.append(("prices locked", "yes" if record.prices_locked else "no"))
    return ShownDocument(
        out=out, title=document_title(record)[:1].upper() + document_title(record)[1:], header=header, language=language
    )


def print_document(shown: ShownDocument) -> None:
    """A document's header, lines and totals as tables."""
    grid = Table(title=shown.title, show_header=False)
    for name, value in shown.header:
        grid.add_row(name, value)
    console.print(grid)
    console.print(lines_table("Lines", shown.out.lines, currency=shown.out.currency, language=shown.language))
    console.print(totals_table(shown.out, currency=shown.out.currency, language=shown.language))


def line_said(line: LineMixin, *, currency: str | None, language: str) -> str:
    """A line in one sentence: what, how many, at what price, for how much."""
    money = _money(currency, language)
    return (
        f"{line.product_name}, {quantity_text(line.quantity, language)}"
        f"{' ' + line.unit_name if line.unit_name else ''} × {money(line.price_per_unit)}"
        f" = {money(line.extended_amount)}"
    )


def line_numbered(lines: Iterable[LineT], line_number: int, *, of: str, listed_by: str) -> LineT:
    """The line of ``lines`` with the number ``line_number``, or NotFound saying where they are listed."""
    found = next((line for line in lines if line.line_number == line_number), None)
    if found is None:
        raise NotFound(
            f"{of} has no line {line_number}; `leadflow {listed_by}` lists its lines.", code="line_not_found"
        )
    return found


def line_data(
    product: str | None,
    unit: str | None,
    *,
    uow: UnitOfWork,
    actor: Actor,
    **values: Any,
) -> dict[str, Any]:
    """A new line's body as the API takes it: the product named by its number, its unit by name."""
    product_id = unit_id = None
    if product is not None:
        record = product_numbered(product, uow=uow, actor=actor)
        product_id = str(record.id)
        if unit is not None:
            group_record = catalog.read_unit_group(record.unit_group_id, uow=uow, actor=actor)
            unit_id = str(unit_named(group_record, unit).id)
    return given(product_id=product_id, unit_id=unit_id, **values)


def done(record: SalesDocument, verb: str, actor: Actor) -> str:
    """One line saying what happened to a document, its state and its total."""
    language = language_of(actor)
    total = format_money(record.total_amount, record.currency_code, language)
    return f"{verb} {document_title(record)}: {status_text(record, language)}, total {total}"


# ---------------------------------------------------------------------------------------- documents


def document_group(kind: DocumentKind, help_text: str) -> typer.Typer:
    """A command group with the commands every kind of document has: list, show, print."""
    commands = KINDS[kind]
    group = typer.Typer(help=help_text, no_args_is_help=True)

    @group.command("list")
    def list_(
        ctx: typer.Context,
        opportunity: Annotated[uuid.UUID | None, typer.Option(help="Only those of this opportunity (id).")] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
        as_json: JsonFlag = False,
    ) -> None:
        """The documents you may read (those of one opportunity, by number)."""

        def listed(uow: UnitOfWork, actor: Actor) -> tuple[list[BaseModel], list[list[str]], str | None]:
            page = sales.list_documents(
                kind, uow=uow, actor=actor, limit=limit, cursor=cursor, opportunity_id=opportunity
            )
            language = language_of(actor)
            rows = [
                [
                    str(record.id),
                    record.number,
                    *([str(getattr(record, "revision", 0))] if kind is DocumentKind.QUOTE else []),
                    record.name,
                    status_text(record, language),
                    format_money(record.total_amount, record.currency_code, language),
                ]
                for record in page.items
            ]
            return [commands.out.model_validate(record) for record in page.items], rows, page.next_cursor

        items, rows, next_cursor = read_action(ctx, listed)

        def render() -> None:
            grid = Table(title=commands.group.capitalize())
            grid.add_column("id", no_wrap=True, min_width=36)
            grid.add_column("number", no_wrap=True)
            if kind is DocumentKind.QUOTE:
                grid.add_column("revision", justify="right")
            grid.add_column("name")
            grid.add_column("status")
            grid.add_column("total", justify="right")
            for row in rows:
                grid.add_row(*row)
            console.print(grid)
            if next_cursor:
                console.print(f"Next page: --cursor {next_cursor}")

        emit(as_json, page_of(items, next_cursor), render)

    @group.command("show")
    def show(ctx: typer.Context, reference: DocumentReference, as_json: JsonFlag = False) -> None:
        """A document's header, lines and totals."""

        def one(uow: UnitOfWork, actor: Actor) -> ShownDocument:
            record_id = document_id(kind, reference, uow=uow, actor=actor)
            return _shown(sales.document(kind, record_id, uow=uow, actor=actor), uow=uow, actor=actor)

        shown = read_action(ctx, one)
        emit(as_json, shown.out, lambda: print_document(shown))

    @group.command("print")
    def print_(
        ctx: typer.Context,
        reference: DocumentReference,
        language: Annotated[
            str | None, typer.Option(help="es or en; your language by default.", show_default=False)
        ] = None,
        output: Annotated[
            Path | None, typer.Option("-o", "--output", help="The PDF file to write (QUO-01000.pdf by default).")
        ] = None,
    ) -> None:
        """Write the document as a PDF, in Spanish or English."""

        def printed(uow: UnitOfWork, actor: Actor) -> tuple[PrintedFile, str]:
            record_id = document_id(kind, reference, uow=uow, actor=actor)
            pdf = document_pdf(kind, record_id, uow=uow, actor=actor, language=language or language_of(actor))
            return pdf, document_title(sales.document(kind, record_id, uow=uow, actor=actor))

        pdf, title = read_action(ctx, printed)
        target = output or Path(pdf.filename)
        target.write_bytes(pdf.content)
        console.print(f"Wrote the {title} to {target} ({len(pdf.content):,} bytes)")

    return group


def transition(
    ctx: typer.Context,
    kind: DocumentKind,
    reference: str,
    verb: str,
    change: Callable[[uuid.UUID, UnitOfWork, Actor], SalesDocument],
) -> None:
    """Run one state change on the document ``reference`` names and say where it ended."""

    def act(uow: UnitOfWork, actor: Actor) -> str:
        record = change(document_id(kind, reference, uow=uow, actor=actor), uow, actor)
        return done(record, verb, actor)

    console.print(run_action(ctx, act))


Change = Callable[[uuid.UUID, UnitOfWork, Actor], SalesDocument]


def add_transition_commands(group: typer.Typer, kind: DocumentKind, *steps: tuple[str, str, str, Change]) -> None:
    """One command per step (name, help, the verb said after, the state change): it changes the
    document its argument names and says where it ended."""
    for name, help_text, verb, change in steps:
        group.command(name, help=help_text)(_transition_command(kind, verb, change))


def _transition_command(kind: DocumentKind, verb: str, change: Change) -> Callable[..., None]:
    def command(ctx: typer.Context, reference: DocumentReference) -> None:
        transition(ctx, kind, reference, verb, change)

    return command
