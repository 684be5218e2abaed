"""What the pages with product lines share: an opportunity's products and the lines of a quote, an order
or an invoice. The grid of lines (each editable in place while its parent is), the forms that add an
existing product or a write-in one, the products a price list offers, typed amounts in the user's
language, and the refusals of pricing and of the documents' state rules put into words.

The services (``leadflow.sales.service``) price the lines and decide what may change; these helpers
only turn posted text into their commands and their records into what the templates draw.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from sqlalchemy import select

from leadflow.catalog.models import PriceList, PriceListItem, Product, ProductState, Unit
from leadflow.catalog.schemas import LineCreate, LineUpdate
from leadflow.catalog.service import item_price_today
from leadflow.core.errors import LeadflowError
from leadflow.core.formatting import amount_input, format_money, locale_of, parse_amount
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.http.refusals import REFUSALS, field_items
from leadflow.security.access import has_admin
from leadflow.security.actor import Actor
from leadflow.security.privileges import Privilege
from leadflow.web.areas.records_forms import Option
from leadflow.web.forms import Refusal, refusal
from leadflow.web.i18n import gettext

# The products a price list offers in the add form (its items, by product name).
CHOICES_LIMIT = 1000
# The price lists a pricing form offers.
PRICE_LIST_CHOICES = 500

# ---------------------------------------------------------------------------------------------- words


def price_list_options(
    uow: UnitOfWork, actor: Actor, currency_id: uuid.UUID | None = None, current: uuid.UUID | None = None
) -> list[Option]:
    """The price lists a document may take, by name with their currency: those of its currency when it
    has one (any, for a quote not made yet), and the one it names."""
    found: list[PriceList] = []
    if has_admin(actor, "products", Privilege.READ):
        statement = select(PriceList).order_by(PriceList.name, PriceList.id).limit(PRICE_LIST_CHOICES)
        if currency_id is not None:
            statement = statement.where(PriceList.currency_id == currency_id)
        found = list(uow.session.scalars(statement))
    if current is not None and current not in {price_list.id for price_list in found}:
        chosen = uow.session.get(PriceList, current)
        found += [chosen] if chosen is not None else []
    return [Option(str(price_list.id), f"{price_list.name} ({price_list.currency_code})") for price_list in found]


def contextual(language: str, message: str) -> str:
    """A label whose English id carries a context before "|" ("quote|Lost"), so that Spanish can say
    "Perdida" for a quote where another page's "Lost" is "Perdido"; English shows what follows "|"."""
    translated = gettext(language, message)
    return translated.partition("|")[2] if translated == message else translated


# Refusals that only sum up their fields' problems: their own sentence says so, in general words.
_GENERAL_CODES = frozenset({"validation_failed", "required", "invalid_option", "invalid_value"})


def sales_refusal(language: str, error: LeadflowError) -> Refusal:
    """A refusal of a page with lines, in the user's language, as every form shows one; a refusal of one
    field (a price list, a quantity...) reads as its code's sentence, because the field it names is
    often not on the form that was sent (adding a product refused for want of a price list)."""
    found = refusal(language, error)
    if field_items(error) and error.code in REFUSALS and error.code not in _GENERAL_CODES:
        found.message = gettext(language, REFUSALS[error.code])
    return found


# ---------------------------------------------------------------------------------------------- typed values


def typed(text: str, language: str) -> str:
    """A number typed in the user's language ("1.250,5" in Spanish) as a plain decimal string; text the
    locale cannot read goes on as typed, so that validation names the field."""
    text = text.strip()
    try:
        return str(parse_amount(text, language))
    except ValueError:
        return text


def quantity_input(value: Decimal | None, language: str) -> str:
    """A quantity as a person types it: its decimals only when it has some ("12", "2,5")."""
    if value is None:
        return ""
    return format_decimal(value, format="0.#####", locale=locale_of(language))


def percentage_input(value: Decimal | None, language: str) -> str:
    """A percentage as typed, without its sign ("10", "12,5")."""
    if value is None:
        return ""
    return format_decimal(value, format="0.####", locale=locale_of(language))


# The inputs of a line: of the add forms, and of a line's row in the grid.
LINE_INPUTS = ("product", "write_in_name", "quantity", "price_per_unit", "manual_discount", "tax")
_AMOUNTS = ("quantity", "price_per_unit", "manual_discount", "tax")


def posted_line(form: Mapping[str, Any]) -> dict[str, str]:
    """The posted text of the line's inputs the form has."""
    return {name: value for name in LINE_INPUTS if isinstance(value := form.get(name), str)}


def new_line(posted: Mapping[str, str], *, language: str) -> LineCreate:
    """The command of an add form: an existing product in a unit ("product id:unit id"), or a
    write-in product with its price; amounts left empty take the service's default."""
    data: dict[str, Any] = {}
    product, _, unit = posted.get("product", "").partition(":")
    if product.strip():
        data["product_id"] = product.strip()
        if unit.strip():
            data["unit_id"] = unit.strip()
    if posted.get("write_in_name", "").strip():
        data["write_in_name"] = posted["write_in_name"]
    for name in _AMOUNTS:
        raw = posted.get(name, "").strip()
        if raw:
            data[name] = typed(raw, language)
    return parse(LineCreate, data)


def line_values(line: Any, language: str) -> dict[str, str]:
    """A stored line's inputs as the grid shows them."""
    return {
        "product": "",
        "write_in_name": line.product_name if line.is_write_in else "",
        "quantity": quantity_input(line.quantity, language),
        "price_per_unit": amount_input(line.price_per_unit, language),
        "manual_discount": amount_input(line.manual_discount, language),
        "tax": amount_input(line.tax, language),
    }


def line_changes(posted: Mapping[str, str], line: Any, *, language: str) -> LineUpdate:
    """The command of a line's row: the inputs whose text changed from the line as stored. A price
    cleared on a catalogue product goes back to the price list's."""
    stored = line_values(line, language)
    data: dict[str, Any] = {}
    for name in ("write_in_name", *_AMOUNTS):
        raw = posted.get(name)
        if raw is None or raw.strip() == stored[name].strip():
            continue
        if name == "write_in_name":
            data[name] = raw
        elif name == "price_per_unit" and not raw.strip():
            data[name] = None
        elif raw.strip():
            data[name] = typed(raw, language)
        else:
            data[name] = "0"
    return parse(LineUpdate, data)


# ---------------------------------------------------------------------------------------------- the grid


@dataclass(frozen=True)
class ProductChoice:
    """An existing product in one unit, as the add form offers it: "product id:unit id"."""

    value: str
    label: str


def product_choices(
    uow: UnitOfWork, actor: Actor, price_list_id: uuid.UUID | None, *, language: str
) -> list[ProductChoice]:
    """The active products the price list prices, in each unit it prices them in, with today's price."""
    if price_list_id is None or not has_admin(actor, "products", Privilege.READ):
        return []
    session = uow.session
    price_list = session.get(PriceList, price_list_id)
    if price_list is None:
        return []
    rows = session.execute(
        select(PriceListItem, Product, Unit)
        .join(Product, Product.id == PriceListItem.product_id)
        .join(Unit, Unit.id == PriceListItem.unit_id)
        .where(PriceListItem.price_list_id == price_list_id, Product.state == ProductState.ACTIVE)
        .order_by(Product.name, Product.number, Unit.quantity, Unit.name)
        .limit(CHOICES_LIMIT)
    ).all()
    choices = []
    for item, product, unit in rows:
        price = item_price_today(session, item)
        priced = f" · {format_money(price, price_list.currency_code, language)}" if price is not None else ""
        choices.append(
            ProductChoice(f"{product.id}:{unit.id}", f"{product.name} ({product.number}) · {unit.name}{priced}")
        )
    return choices


@dataclass
class LineRow:
    """A line of the grid, with the text of its inputs (as posted, after a refusal) and their messages."""

    line: Any
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(self.line.id)


@dataclass(frozen=True)
class SectionFailure:
    """A refused form of a page with lines: which form (``pricing``, ``existing``, ``write_in``, ``header``,
    a line's id...), its refusal and what the user typed."""

    where: str
    refusal: Refusal
    posted: dict[str, str] = field(default_factory=dict)


@dataclass
class LinesPanel:
    """The lines of a record and the forms that change them."""

    prefix: str  # the id prefix of the grid's elements ("products", "lines")
    action: str  # the address the forms post to ("/opportunities/<id>/products")
    rows: list[LineRow]
    editable: bool
    version: int  # the parent's row version, which the add forms post
    currency: str | None
    choices: list[ProductChoice]
    has_price_list: bool
    may_override: bool  # may type a catalogue product's price per unit
    failure: SectionFailure | None = None

    def add_values(self, form: str) -> dict[str, str]:
        """What an add form shows: what was typed when it was refused, else a quantity of 1."""
        if self.failure is not None and self.failure.where == form:
            return {name: "" for name in LINE_INPUTS} | self.failure.posted
        return {name: "" for name in LINE_INPUTS} | {"quantity": "1"}

    def add_errors(self, form: str) -> dict[str, str]:
        if self.failure is not None and self.failure.where == form:
            return self.failure.refusal.fields
        return {}


def lines_panel(
    lines: Sequence[Any],
    *,
    prefix: str,
    action: str,
    editable: bool,
    version: int,
    currency: str | None,
    choices: list[ProductChoice],
    has_price_list: bool,
    actor: Actor,
    language: str,
    failure: SectionFailure | None,
) -> LinesPanel:
    """The grid of ``lines``; the row a refused edit came from keeps what was typed, with its messages."""
    rows = []
    for line in lines:
        row = LineRow(line, line_values(line, language))
        if failure is not None and failure.where == str(line.id):
            row.values = {**row.values, **{k: v for k, v in failure.posted.items() if k in row.values}}
            row.errors = failure.refusal.fields
        rows.append(row)
    return LinesPanel(
        prefix=prefix,
        action=action,
        rows=rows,
        editable=editable,
        version=version,
        currency=currency,
        choices=choices,
        has_price_list=has_price_list,
        may_override=has_admin(actor, "price_overrides", Privilege.WRITE),
        failure=failure,
    )
