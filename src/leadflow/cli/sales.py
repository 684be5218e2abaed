"""`leadflow opportunities products|add-product|update-product|remove-product|pricing`,
`leadflow quotes|orders|invoices ...`: lead to order.

A document is named by its number (QUO-01000; for a quote with several revisions, the latest) or
its id; a line by its line number, as `products` and `show` print it. Each command runs one sales
use case, where the privileges and the state rules are checked; amounts are written in the acting
user's language, ``--json`` prints the REST API's models.
"""

from __future__ import annotations

import enum
import inspect
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
from leadflow.catalog.schemas import LineCreate, LineOut, LineUpdate, TotalsOut
from leadflow.cli.catalog import (
    Cursor,
    Limit,
    as_id,
    given,
    language_of,
    price_list_named,
    product_numbered,
    quantity_text,
    read_action,
    run_action,
    unit_named,
)
from leadflow.cli.common import JsonFlag, console, emit, page_of, text
from leadflow.core.errors import NotFound
from leadflow.core.formatting import format_money, format_number
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.opportunities.models import Opportunity, OpportunityProduct
from leadflow.opportunities.schemas import OpportunityUpdate
from leadflow.opportunities.service import update_opportunity
from leadflow.sales import service as sales
from leadflow.sales.models import (
    DocumentKind,
    InvoiceStatusReason,
    OrderStatusReason,
    PaymentTerms,
    Quote,
    QuoteStatusReason,
    SalesDocument,
)
from leadflow.sales.printing import PrintedFile, document_pdf, status_text
from leadflow.sales.schemas import (
    CloseQuote,
    FulfilOrder,
    InvoiceOut,
    InvoiceUpdate,
    OrderOut,
    OrderUpdate,
    PayInvoice,
    QuoteCreate,
    QuoteOut,
    QuoteUpdate,
    WinQuote,
)
from leadflow.security.access import get_accessible
from leadflow.security.actor import Actor
from leadflow.security.privileges import Privilege

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


def _title(record: SalesDocument) -> str:
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
        out=out, title=_title(record)[:1].upper() + _title(record)[1:], header=header, language=language
    )


def print_document(shown: ShownDocument) -> None:
    """A document's header, lines and totals as tables."""
    grid = Table(title=shown.title, show_header=False)
    for name, value in shown.header:
        grid.add_row(name, value)
    console.print(grid)
    console.print(lines_table("Lines", shown.out.lines, currency=shown.out.currency, language=shown.language))
    console.print(totals_table(shown.out, currency=shown.out.currency, language=shown.language))


def _line_said(line: LineMixin, *, currency: str | None, language: str) -> str:
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


def _done(record: SalesDocument, verb: str, actor: Actor) -> str:
    """One line saying what happened to a document, its state and its total."""
    language = language_of(actor)
    total = format_money(record.total_amount, record.currency_code, language)
    return f"{verb} {_title(record)}: {status_text(record, language)}, total {total}"


# ------------------------------------------------------------------------------ opportunity products


def _opportunity_of(opportunity_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> Opportunity:
    """An opportunity the actor may read (its totals, as its lines left them)."""
    return get_accessible(
        uow.session, Opportunity, opportunity_id, label="opportunity", actor=actor, privilege=Privilege.READ
    )


def _total_of(opportunity: Opportunity, actor: Actor) -> str:
    return format_money(opportunity.total_amount, opportunity.currency_code, language_of(actor))


def _opportunity_line(
    opportunity_id: uuid.UUID, line_number: int, *, uow: UnitOfWork, actor: Actor
) -> OpportunityProduct:
    return line_numbered(
        sales.opportunity_products(opportunity_id, uow=uow, actor=actor),
        line_number,
        of="The opportunity",
        listed_by=f"opportunities products {opportunity_id}",
    )


def add_opportunity_product_commands(group: typer.Typer) -> None:
    """`products`, `add-product`, `update-product`, `remove-product` and `pricing` on the opportunities' group."""

    @group.command("products")
    def products(ctx: typer.Context, opportunity_id: OpportunityId, as_json: JsonFlag = False) -> None:
        """The product lines of an opportunity and its totals (--json: the lines; the totals are on the opportunity)."""

        def listed(uow: UnitOfWork, actor: Actor) -> tuple[str, list[LineOut], TotalsOut, str | None, str]:
            lines = [
                LineOut.model_validate(line)
                for line in sales.opportunity_products(opportunity_id, uow=uow, actor=actor)
            ]
            opportunity = _opportunity_of(opportunity_id, uow=uow, actor=actor)
            totals = TotalsOut.model_validate(opportunity)
            return opportunity.name, lines, totals, opportunity.currency_code, language_of(actor)

        name, lines, totals, currency, language = read_action(ctx, listed)

        def render() -> None:
            console.print(lines_table(f"Products of {name}", lines, currency=currency, language=language))
            console.print(totals_table(totals, currency=currency, language=language))

        emit(as_json, lines, render)

    @group.command("add-product")
    def add_product(
        ctx: typer.Context,
        opportunity_id: OpportunityId,
        quantity: Quantity,
        product: ProductOption = None,
        unit: UnitOption = None,
        write_in: WriteInOption = None,
        price: PriceOption = None,
        discount: DiscountOption = None,
        tax: TaxOption = None,
        description: Annotated[str | None, typer.Option()] = None,
    ) -> None:
        """Add a catalogue product (--product) or a write-in product (--write-in and --price)."""

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
            line = sales.add_opportunity_product(opportunity_id, parse(LineCreate, data), uow=uow, actor=actor)
            opportunity = _opportunity_of(opportunity_id, uow=uow, actor=actor)
            said = _line_said(line, currency=opportunity.currency_code, language=language_of(actor))
            return f"Added line {line.line_number}: {said}; opportunity total {_total_of(opportunity, actor)}"

        console.print(run_action(ctx, add))

    @group.command("update-product")
    def update_product(
        ctx: typer.Context,
        opportunity_id: OpportunityId,
        line_number: LineNumber,
        quantity: Annotated[str | None, typer.Option(help="How many, e.g. 12 or 1.5.")] = None,
        discount: DiscountOption = None,
        tax: TaxOption = None,
        price: PriceOption = None,
    ) -> None:
        """Change a product line of an open opportunity; it is priced again."""
        data = given(quantity=quantity, manual_discount=discount, tax=tax, price_per_unit=price)
        if not data:
            raise typer.BadParameter("give at least one of --quantity, --discount, --tax, --price.")

        def change(uow: UnitOfWork, actor: Actor) -> str:
            line = _opportunity_line(opportunity_id, line_number, uow=uow, actor=actor)
            line = sales.update_opportunity_product(
                opportunity_id, line.id, parse(LineUpdate, data), uow=uow, actor=actor
            )
            opportunity = _opportunity_of(opportunity_id, uow=uow, actor=actor)
            said = _line_said(line, currency=opportunity.currency_code, language=language_of(actor))
            return f"Changed line {line.line_number}: {said}; opportunity total {_total_of(opportunity, actor)}"

        console.print(run_action(ctx, change))

    @group.command("remove-product")
    def remove_product(ctx: typer.Context, opportunity_id: OpportunityId, line_number: LineNumber) -> None:
        """Remove a product line from an open opportunity (the other lines keep their numbers)."""

        def remove(uow: UnitOfWork, actor: Actor) -> str:
            line = _opportunity_line(opportunity_id, line_number, uow=uow, actor=actor)
            name = line.product_name
            sales.delete_opportunity_product(opportunity_id, line.id, uow=uow, actor=actor)
            opportunity = _opportunity_of(opportunity_id, uow=uow, actor=actor)
            return f"Removed line {line_number} ({name}); opportunity total {_total_of(opportunity, actor)}"

        console.print(run_action(ctx, remove))

    @group.command("pricing")
    def pricing(
        ctx: typer.Context,
        opportunity_id: OpportunityId,
        price_list: Annotated[
            str | None,
            typer.Option("--price-list", help="The price list's name or id (in the opportunity's currency)."),
        ] = None,
        discount_percentage: Annotated[str | None, typer.Option(help="Discount on the whole, in %.")] = None,
        discount_amount: Annotated[str | None, typer.Option(help="Discount on the whole, an amount.")] = None,
        freight: Annotated[str | None, typer.Option(help="Freight amount.")] = None,
    ) -> None:
        """Set the price list an opportunity's products are priced from, and its discount and freight."""

        def change(uow: UnitOfWork, actor: Actor) -> str:
            data = given(
                price_list_id=price_list and str(price_list_named(price_list, uow=uow, actor=actor).id),
                discount_percentage=discount_percentage,
                discount_amount=discount_amount,
                freight_amount=freight,
            )
            opportunity = update_opportunity(opportunity_id, parse(OpportunityUpdate, data), uow=uow, actor=actor)
            total = format_money(opportunity.total_amount, opportunity.currency_code, language_of(actor))
            return f"Priced opportunity [bold]{opportunity.name}[/]: total {total}"

        console.print(run_action(ctx, change))


# ---------------------------------------------------------------------------------------- documents


def _document_group(kind: DocumentKind, help_text: str) -> typer.Typer:
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
            return pdf, _title(sales.document(kind, record_id, uow=uow, actor=actor))

        pdf, title = read_action(ctx, printed)
        target = output or Path(pdf.filename)
        target.write_bytes(pdf.content)
        console.print(f"Wrote the {title} to {target} ({len(pdf.content):,} bytes)")

    return group


def _transition(
    ctx: typer.Context,
    kind: DocumentKind,
    reference: str,
    verb: str,
    change: Callable[[uuid.UUID, UnitOfWork, Actor], SalesDocument],
) -> None:
    """Run one state change on the document ``reference`` names and say where it ended."""

    def act(uow: UnitOfWork, actor: Actor) -> str:
        record = change(document_id(kind, reference, uow=uow, actor=actor), uow, actor)
        return _done(record, verb, actor)

    console.print(run_action(ctx, act))


Change = Callable[[uuid.UUID, UnitOfWork, Actor], SalesDocument]


def add_transition_commands(group: typer.Typer, kind: DocumentKind, *steps: tuple[str, str, str, Change]) -> None:
    """One command per step (name, help, the verb said after, the state change): it changes the
    document its argument names and says where it ended."""
    for name, help_text, verb, change in steps:
        group.command(name, help=help_text)(_transition_command(kind, verb, change))


def _transition_command(kind: DocumentKind, verb: str, change: Change) -> Callable[..., None]:
    def command(ctx: typer.Context, reference: DocumentReference) -> None:
        _transition(ctx, kind, reference, verb, change)

    return command


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
            return _done(record, "Changed", actor)

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
        return record, line_numbered(_lines_of(record), line_number, of=_title(record), listed_by=listed_by)

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
            said = _line_said(line, currency=record.currency_code, language=language)
            total = format_money(record.total_amount, record.currency_code, language)
            return f"Added line {line.line_number} to {_title(record)}: {said}; total {total}"

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
            said = _line_said(line, currency=record.currency_code, language=language)
            total = format_money(record.total_amount, record.currency_code, language)
            return f"Changed line {line.line_number} of {_title(record)}: {said}; total {total}"

        console.print(run_action(ctx, change))

    @group.command("remove-line", help=f"Remove a line from {editable} (the other lines keep their numbers).")
    def remove_line(ctx: typer.Context, reference: DocumentReference, line_number: LineNumber) -> None:
        def remove(uow: UnitOfWork, actor: Actor) -> str:
            record, line = document_line(reference, line_number, uow=uow, actor=actor)
            name, title = line.product_name, _title(record)
            sales.delete_document_line(kind, record.id, line.id, uow=uow, actor=actor)
            total = format_money(record.total_amount, record.currency_code, language_of(actor))
            return f"Removed line {line_number} ({name}) from {title}; total {total}"

        console.print(run_action(ctx, remove))

    @group.command("delete", help=f"Delete {editable} with its lines{commands.delete_note}.")
    def delete(ctx: typer.Context, reference: DocumentReference) -> None:
        def delete_document(uow: UnitOfWork, actor: Actor) -> str:
            record = sales.document(kind, document_id(kind, reference, uow=uow, actor=actor), uow=uow, actor=actor)
            title = _title(record)
            sales.delete_document(kind, record.id, uow=uow, actor=actor)
            return title

        console.print(f"Deleted {run_action(ctx, delete_document)}")


def quote_commands() -> typer.Typer:
    """`leadflow quotes list|show|create|from-opportunity|update|add-line|update-line|remove-line|delete|activate|
    revise|close|win|order|print`."""
    group = _document_group(DocumentKind.QUOTE, "Quotes: draft, activate, revise, win or close, print.")
    quote = DocumentKind.QUOTE

    @group.command("create")
    def create(
        ctx: typer.Context,
        name: Annotated[str, typer.Argument(help="The quote's name.")],
        customer: Annotated[uuid.UUID, typer.Option(help="The account's or contact's id.")],
        currency: Annotated[
            str | None, typer.Option(help="ISO code of one of the currencies (the base currency by default).")
        ] = None,
        price_list: Annotated[
            str | None, typer.Option("--price-list", help="The price list's name or id (in the quote's currency).")
        ] = None,
    ) -> None:
        """Create a draft quote on its own, for an account or a contact (add its lines with add-line)."""

        def create_quote(uow: UnitOfWork, actor: Actor) -> str:
            data = given(
                name=name,
                customer_id=str(customer),
                currency=currency,
                price_list_id=price_list and str(price_list_named(price_list, uow=uow, actor=actor).id),
            )
            record = sales.create_quote(parse(QuoteCreate, data), uow=uow, actor=actor)
            return _done(record, "Created", actor) + f" {record.id}"

        console.print(run_action(ctx, create_quote))

    @group.command("from-opportunity")
    def from_opportunity(ctx: typer.Context, opportunity_id: OpportunityId) -> None:
        """Create a draft quote with an open opportunity's products, price list, currency and customer."""

        def create(uow: UnitOfWork, actor: Actor) -> str:
            record = sales.quote_from_opportunity(opportunity_id, uow=uow, actor=actor)
            return (
                _done(record, "Created", actor)
                + f" ({len(record.lines)} line{'' if len(record.lines) == 1 else 's'}) {record.id}"
            )

        console.print(run_action(ctx, create))

    add_edit_commands(group, quote)
    add_transition_commands(
        group,
        quote,
        (
            "activate",
            "Activate a draft quote: it becomes read-only, ready for the customer.",
            "Activated",
            lambda record_id, uow, actor: sales.activate_quote(record_id, uow=uow, actor=actor),
        ),
        (
            "revise",
            "Close an active quote as revised and open a draft of its next revision.",
            "Opened",
            lambda record_id, uow, actor: sales.revise_quote(record_id, uow=uow, actor=actor),
        ),
    )

    @group.command("close")
    def close(
        ctx: typer.Context,
        reference: DocumentReference,
        lost: Annotated[bool, typer.Option("--lost", help="The customer did not take it.")] = False,
        canceled: Annotated[bool, typer.Option("--canceled", help="The quote was withdrawn.")] = False,
        day: DayOption = None,
        description: Annotated[str | None, typer.Option(help="What happened.")] = None,
    ) -> None:
        """Close an active quote as lost or canceled."""
        if lost == canceled:
            raise typer.BadParameter("give either --lost or --canceled.", param_hint="--lost / --canceled")
        reason = QuoteStatusReason.LOST if lost else QuoteStatusReason.CANCELED
        data = given(status_reason=reason.value, closed_on=day, description=description)
        _transition(
            ctx,
            quote,
            reference,
            "Closed",
            lambda record_id, uow, actor: sales.close_quote(record_id, parse(CloseQuote, data), uow=uow, actor=actor),
        )

    @group.command("win")
    def win(
        ctx: typer.Context,
        reference: DocumentReference,
        no_order: Annotated[bool, typer.Option("--no-order", help="Do not create the order now.")] = False,
        keep_opportunity_open: Annotated[
            bool, typer.Option("--keep-opportunity-open", help="Leave the quote's opportunity open.")
        ] = False,
        day: DayOption = None,
        description: Annotated[str | None, typer.Option(help="What was agreed.")] = None,
    ) -> None:
        """Win an active quote: close its opportunity as won and create the order (unless told not to)."""
        data = given(
            date_won=day,
            create_order=not no_order,
            close_opportunity=not keep_opportunity_open,
            description=description,
        )

        def won(uow: UnitOfWork, actor: Actor) -> list[str]:
            record_id = document_id(quote, reference, uow=uow, actor=actor)
            record, order, opportunity = sales.win_quote(record_id, parse(WinQuote, data), uow=uow, actor=actor)
            said = [_done(record, "Won", actor)]
            if order is not None:
                said.append(_done(order, "Created", actor) + f" {order.id}")
            if opportunity is not None:
                revenue = format_money(opportunity.actual_revenue, opportunity.currency_code, language_of(actor))
                said.append(f"Opportunity {opportunity.name}: {opportunity.state.value}, actual revenue {revenue}")
            return said

        for line in run_action(ctx, won):
            console.print(line)

    @group.command("order")
    def order(ctx: typer.Context, reference: DocumentReference) -> None:
        """Create the order of a won quote (when winning it did not)."""

        def create(uow: UnitOfWork, actor: Actor) -> str:
            record = sales.order_from_quote(document_id(quote, reference, uow=uow, actor=actor), uow=uow, actor=actor)
            return _done(record, "Created", actor) + f" {record.id}"

        console.print(run_action(ctx, create))

    return group


def add_price_lock_commands(group: typer.Typer, kind: DocumentKind) -> None:
    """`lock-pricing` and `use-current-pricing` on the orders' or the invoices' command group."""

    def locking(locked: bool) -> Callable[[uuid.UUID, UnitOfWork, Actor], SalesDocument]:
        return lambda record_id, uow, actor: sales.set_prices_locked(
            kind, record_id, locked=locked, uow=uow, actor=actor
        )

    add_transition_commands(
        group,
        kind,
        (
            "lock-pricing",
            "Keep the lines' prices as they are, whatever the price list says later.",
            "Locked the prices of",
            locking(True),
        ),
        (
            "use-current-pricing",
            "Price the lines from the price list again, at today's prices (overridden and write-in prices stay).",
            "Unlocked the prices of",
            locking(False),
        ),
    )


def order_commands() -> typer.Typer:
    """`leadflow orders list|show|update|add-line|update-line|remove-line|delete|submit|fulfil|cancel|invoice|
    lock-pricing|use-current-pricing|print`."""
    group = _document_group(DocumentKind.ORDER, "Orders: submit, fulfil or cancel, invoice, print.")
    order = DocumentKind.ORDER

    add_transition_commands(
        group,
        order,
        (
            "submit",
            "Submit an active order for fulfilment.",
            "Submitted",
            lambda record_id, uow, actor: sales.submit_order(record_id, uow=uow, actor=actor),
        ),
    )

    @group.command("fulfil")
    def fulfil(
        ctx: typer.Context,
        reference: DocumentReference,
        partial: Annotated[bool, typer.Option("--partial", help="Only part of it was delivered.")] = False,
        day: DayOption = None,
    ) -> None:
        """Fulfil an active or submitted order, completely or partly."""
        reason = OrderStatusReason.PARTIAL if partial else OrderStatusReason.COMPLETE
        data = given(status_reason=reason.value, date_fulfilled=day)
        _transition(
            ctx,
            order,
            reference,
            "Fulfilled",
            lambda record_id, uow, actor: sales.fulfil_order(record_id, parse(FulfilOrder, data), uow=uow, actor=actor),
        )

    add_transition_commands(
        group,
        order,
        (
            "cancel",
            "Cancel an active or submitted order.",
            "Canceled",
            lambda record_id, uow, actor: sales.cancel_order(record_id, uow=uow, actor=actor),
        ),
    )

    @group.command("invoice")
    def invoice(ctx: typer.Context, reference: DocumentReference) -> None:
        """Create an invoice from an order that is not canceled."""

        def create(uow: UnitOfWork, actor: Actor) -> str:
            record = sales.invoice_from_order(document_id(order, reference, uow=uow, actor=actor), uow=uow, actor=actor)
            return _done(record, "Created", actor) + f" {record.id}"

        console.print(run_action(ctx, create))

    add_edit_commands(group, order)
    add_price_lock_commands(group, order)
    return group


def invoice_commands() -> typer.Typer:
    """`leadflow invoices list|show|update|add-line|update-line|remove-line|delete|pay|cancel|lock-pricing|
    use-current-pricing|print`."""
    group = _document_group(DocumentKind.INVOICE, "Invoices: pay or cancel, print.")
    invoice = DocumentKind.INVOICE

    @group.command("pay")
    def pay(
        ctx: typer.Context,
        reference: DocumentReference,
        partial: Annotated[bool, typer.Option("--partial", help="Only part of it was paid.")] = False,
        day: DayOption = None,
    ) -> None:
        """Mark an active invoice paid, completely or partly."""
        reason = InvoiceStatusReason.PARTIAL if partial else InvoiceStatusReason.COMPLETE
        data = given(status_reason=reason.value, date_paid=day)
        _transition(
            ctx,
            invoice,
            reference,
            "Paid",
            lambda record_id, uow, actor: sales.pay_invoice(record_id, parse(PayInvoice, data), uow=uow, actor=actor),
        )

    add_transition_commands(
        group,
        invoice,
        (
            "cancel",
            "Cancel an active invoice.",
            "Canceled",
            lambda record_id, uow, actor: sales.cancel_invoice(record_id, uow=uow, actor=actor),
        ),
    )
    add_edit_commands(group, invoice)
    add_price_lock_commands(group, invoice)
    return group


def register(app: typer.Typer) -> None:
    """Add the product commands to the opportunities' group, and the documents' groups to the root command."""
    opportunities = next((info.typer_instance for info in app.registered_groups if info.name == "opportunities"), None)
    if opportunities is None:
        raise RuntimeError("Register the opportunities' commands (cli.records) before the sales commands.")
    add_opportunity_product_commands(opportunities)
    app.add_typer(quote_commands(), name="quotes")
    app.add_typer(order_commands(), name="orders")
    app.add_typer(invoice_commands(), name="invoices")
