"""Editing lead to order from the command line, on SQLite and PostgreSQL: a quote's, an order's and
an invoice's header and lines, and the catalogue's price lists, discount lists, units and families,
through the same sales and catalogue use cases as the REST API; what is stored is checked, and a
closed document refuses every edit in one message."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from leadflow.catalog import service as catalog
from leadflow.catalog.models import DiscountList, PriceList, ProductFamily, Unit, UnitGroup
from leadflow.core.uow import Database
from leadflow.sales.models import DocumentKind, Invoice, Order, Quote, SalesDocument
from leadflow.sales.service import document
from leadflow.security.actor import Actor
from tests.integration.test_cli_json import leadflow
from tests.integration.test_lead_to_order import Catalogue
from tests.integration.test_sales_cli import ok, refused

D = Decimal
MODELS: dict[DocumentKind, Any] = {DocumentKind.QUOTE: Quote, DocumentKind.ORDER: Order, DocumentKind.INVOICE: Invoice}


@pytest.fixture
def catalogue(database: Database, actor: Actor) -> Catalogue:
    return Catalogue(database, actor)


def stored(database: Database, actor: Actor, kind: DocumentKind, number: str) -> SalesDocument:
    """The latest stored version of a document, read back through the sales use case."""
    model = MODELS[kind]
    with database.unit_of_work(read_only=True) as uow:
        statement = select(model.id).where(model.number == number)
        if kind is DocumentKind.QUOTE:
            statement = statement.order_by(Quote.revision.desc())
        record = document(kind, uow.session.scalars(statement.limit(1)).one(), uow=uow, actor=actor)
        _ = [line.product_name for line in record.lines]  # type: ignore[attr-defined]
        return record


def lines_of(record: SalesDocument) -> list[tuple[int, str, Decimal, Decimal]]:
    return [
        (line.line_number, line.product_name, line.quantity, line.extended_amount)
        for line in record.lines  # type: ignore[attr-defined]
    ]


def a_quote(database: Database, catalogue: Catalogue, quantity: str = "3") -> None:
    """QUO-01000: a draft quote with one line of licences (90.00 each), from the opportunity."""
    opportunity = str(catalogue.opportunity)
    ok(database, "opportunities", "add-product", opportunity, "--product", "LIC-STD", "--quantity", quantity)
    ok(database, "quotes", "from-opportunity", opportunity)


def an_order(database: Database, catalogue: Catalogue) -> None:
    """ORD-01000, active, from the won quote QUO-01000."""
    a_quote(database, catalogue)
    ok(database, "quotes", "activate", "QUO-01000")
    assert "Created order ORD-01000" in ok(database, "quotes", "win", "QUO-01000")


def test_a_draft_quote_is_edited_and_an_active_one_refuses(
    database: Database, actor: Actor, catalogue: Catalogue
) -> None:
    a_quote(database, catalogue)
    changed = ok(
        database,
        "quotes",
        "update",
        "QUO-01000",
        "--name",
        "Oferta 2027",
        "--description",
        "Renovación",
        "--payment-terms",
        "net_30",
        "--effective-from",
        "2026-12-01",
        "--effective-to",
        "2026-12-31",
        "--due-date",
        "2026-12-15",
        "--discount-percentage",
        "10",
        "--discount-amount",
        "5",
        "--freight",
        "12.50",
        "--billing-address",
        "Calle Sierpes 1, Sevilla",
        "--shipping-address",
        "Polígono Sur 3, Sevilla",
        "--price-list",
        "tarifa eur",
    )
    assert "Changed quote QUO-01000" in changed
    quote = stored(database, actor, DocumentKind.QUOTE, "QUO-01000")
    assert isinstance(quote, Quote)
    assert (quote.name, quote.description, quote.payment_terms.value if quote.payment_terms else None) == (
        "Oferta 2027",
        "Renovación",
        "net_30",
    )
    assert (str(quote.effective_from), str(quote.effective_to), str(quote.due_date)) == (
        "2026-12-01",
        "2026-12-31",
        "2026-12-15",
    )
    assert (quote.billing_address, quote.shipping_address) == ("Calle Sierpes 1, Sevilla", "Polígono Sur 3, Sevilla")
    assert quote.price_list_id == catalogue.price_list
    assert (quote.discount_percentage, quote.discount_amount, quote.freight_amount) == (D(10), D(5), D("12.50"))

    # 12 licences at 90.00 = 1,080.00; 5 % volume discount 54.00; manual 10; tax 21 → 1,037.00.
    line = ok(
        database, "quotes", "update-line", "QUO-01000", "1", "--quantity", "12", "--discount", "10", "--tax", "21"
    )
    assert "Changed line 1 of quote QUO-01000" in line and "€1,037.00" in line
    ok(database, "quotes", "add-line", "QUO-01000", "--write-in", "Instalación", "--price", "250", "--quantity", "1")
    ok(database, "quotes", "update-line", "QUO-01000", "2", "--write-in", "Instalación in situ", "--price", "300")
    ok(database, "quotes", "add-line", "QUO-01000", "--product", "LIC-STD", "--quantity", "1")
    ok(database, "quotes", "update-line", "QUO-01000", "3", "--price", "80")  # the administrator may override
    assert "Removed line 3" in ok(database, "quotes", "remove-line", "QUO-01000", "3")
    quote = stored(database, actor, DocumentKind.QUOTE, "QUO-01000")
    assert lines_of(quote) == [
        (1, "Licencia estándar (LIC-STD)", D(12), D("1037.00")),
        (2, "Instalación in situ", D(1), D("300.00")),
    ]
    [first, second] = quote.lines  # type: ignore[attr-defined]
    assert (first.manual_discount, first.tax, second.price_per_unit) == (D(10), D(21), D(300))

    usage = leadflow(database, "quotes", "update-line", "QUO-01000", "1")
    assert usage.exit_code == 2 and "--quantity" in usage.output

    ok(database, "quotes", "activate", "QUO-01000")
    closed = refused(database, "quotes", "update", "QUO-01000", "--name", "Otra", exit_code=1)
    assert "(document_closed)" in closed and "read-only" in closed
    assert "(document_closed)" in refused(database, "quotes", "update-line", "QUO-01000", "1", "--quantity", "1")
    assert stored(database, actor, DocumentKind.QUOTE, "QUO-01000").name == "Oferta 2027"


def test_an_active_order_is_edited_and_a_canceled_one_refuses(
    database: Database, actor: Actor, catalogue: Catalogue
) -> None:
    an_order(database, catalogue)
    changed = ok(
        database,
        "orders",
        "update",
        "ORD-01000",
        "--name",
        "Pedido Ruiz",
        "--requested-delivery",
        "2027-01-10",
        "--status-reason",
        "pending",
        "--payment-terms",
        "net_45",
        "--freight",
        "10",
        "--shipping-address",
        "Almacén 2",
    )
    assert "Changed order ORD-01000" in changed
    order = stored(database, actor, DocumentKind.ORDER, "ORD-01000")
    assert isinstance(order, Order)
    assert (order.name, str(order.requested_delivery), order.status_reason.value) == (
        "Pedido Ruiz",
        "2027-01-10",
        "pending",
    )
    assert (order.payment_terms and order.payment_terms.value, order.freight_amount, order.shipping_address) == (
        "net_45",
        D(10),
        "Almacén 2",
    )
    bad = leadflow(database, "orders", "update", "ORD-01000", "--status-reason", "complete")
    assert bad.exit_code == 2

    assert "Added line 2 to order ORD-01000" in ok(
        database, "orders", "add-line", "ORD-01000", "--product", "LIC-STD", "--quantity", "2"
    )
    ok(database, "orders", "update-line", "ORD-01000", "2", "--quantity", "4", "--tax", "7")
    assert "Removed line 1" in ok(database, "orders", "remove-line", "ORD-01000", "1")
    order = stored(database, actor, DocumentKind.ORDER, "ORD-01000")
    [(number, name, quantity, _)] = lines_of(order)
    assert (number, name, quantity) == (2, "Licencia estándar (LIC-STD)", D(4))
    assert order.lines[0].tax == D(7)  # type: ignore[attr-defined]
    assert "(line_not_found)" in refused(database, "orders", "update-line", "ORD-01000", "9", "--quantity", "1")

    ok(database, "orders", "cancel", "ORD-01000")
    closed = refused(database, "orders", "update", "ORD-01000", "--name", "Otro", exit_code=1)
    assert "(document_closed)" in closed
    assert "(document_closed)" in refused(
        database, "orders", "add-line", "ORD-01000", "--quantity", "1", "--write-in", "X", "--price", "1"
    )
    assert "(document_closed)" in refused(database, "orders", "remove-line", "ORD-01000", "2")
    assert stored(database, actor, DocumentKind.ORDER, "ORD-01000").name == "Pedido Ruiz"


def test_an_active_invoice_is_edited_deleted_and_a_paid_one_refuses(
    database: Database, actor: Actor, catalogue: Catalogue
) -> None:
    an_order(database, catalogue)
    ok(database, "orders", "invoice", "ORD-01000")
    changed = ok(
        database, "invoices", "update", "INV-01000", "--name", "Factura Ruiz", "--due-date", "2027-02-01",
        "--discount-amount", "20", "--billing-address", "Calle Feria 9",
    )  # fmt: skip
    assert "Changed invoice INV-01000" in changed
    invoice = stored(database, actor, DocumentKind.INVOICE, "INV-01000")
    assert isinstance(invoice, Invoice)
    assert (invoice.name, str(invoice.due_date), invoice.discount_amount, invoice.billing_address) == (
        "Factura Ruiz",
        "2027-02-01",
        D(20),
        "Calle Feria 9",
    )
    ok(database, "invoices", "add-line", "INV-01000", "--write-in", "Formación", "--price", "100", "--quantity", "2")
    ok(database, "invoices", "update-line", "INV-01000", "2", "--quantity", "3", "--discount", "50")
    ok(database, "invoices", "remove-line", "INV-01000", "1")
    invoice = stored(database, actor, DocumentKind.INVOICE, "INV-01000")
    assert lines_of(invoice) == [(2, "Formación", D(3), D("250.00"))]
    # 250.00 less the 20.00 discount on the whole.
    assert invoice.total_amount == D("230.00")

    ok(database, "orders", "invoice", "ORD-01000")
    assert "Deleted invoice INV-01001" in ok(database, "invoices", "delete", "INV-01001")
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).where(Invoice.number == "INV-01001")) == 0

    ok(database, "invoices", "pay", "INV-01000")
    assert "(document_closed)" in refused(database, "invoices", "update", "INV-01000", "--name", "Otra", exit_code=1)
    assert "(document_closed)" in refused(database, "invoices", "update-line", "INV-01000", "2", "--tax", "1")
    assert "(document_closed)" in refused(database, "invoices", "delete", "INV-01000")


def test_the_catalogue_is_edited_from_the_command_line(database: Database, actor: Actor, catalogue: Catalogue) -> None:
    # Price lists: rename, validity, an item's price, delete.
    ok(
        database,
        "price-lists",
        "update",
        "Tarifa EUR",
        "--name",
        "Tarifa 2027",
        "--from",
        "2027-01-01",
        "--to",
        "2027-12-31",
    )
    priced = ok(
        database, "price-lists", "update-item", "tarifa 2027", "LIC-STD", "--unit", "Licencia",
        "--method", "currency_amount", "--amount", "95",
    )  # fmt: skip
    assert "Priced LIC-STD per Licencia on Tarifa 2027: €95.00" in priced
    assert "(price_list_item_not_found)" in refused(
        database, "price-lists", "update-item", "Tarifa 2027", "LIC-OLD", "--unit", "Licencia", "--amount", "1"
    )
    with database.unit_of_work(read_only=True) as uow:
        price_list = uow.session.get(PriceList, catalogue.price_list)
        assert price_list is not None
        assert (price_list.name, str(price_list.valid_from), str(price_list.valid_to)) == (
            "Tarifa 2027",
            "2027-01-01",
            "2027-12-31",
        )
        [item] = [
            item
            for item in catalog.list_price_list_items(price_list.id, uow=uow, actor=actor)
            if item.unit_id == catalogue.licence
        ]
        assert (item.pricing_method.value, item.amount) == ("currency_amount", D(95))
    ok(database, "price-lists", "create", "Tarifa vieja", "--currency", "EUR")
    assert "Deleted price list Tarifa vieja" in ok(database, "price-lists", "delete", "Tarifa vieja")

    # Discount lists: tiers replaced, added, removed; renamed; deleted.
    ok(
        database,
        "discount-lists",
        "update",
        "Volumen",
        "--name",
        "Volumen 2027",
        "--tier",
        "10:49:5",
        "--tier",
        "50:99:8",
    )
    ok(database, "discount-lists", "add-tier", "Volumen 2027", "100:199:10")
    ok(database, "discount-lists", "remove-tier", "Volumen 2027", "50")
    assert "(discount_tier_not_found)" in refused(database, "discount-lists", "remove-tier", "Volumen 2027", "7")
    assert "(tiers_overlap)" in refused(database, "discount-lists", "add-tier", "Volumen 2027", "40:120:9", exit_code=2)
    with database.unit_of_work(read_only=True) as uow:
        discount = uow.session.scalars(select(DiscountList)).one()
        assert discount.name == "Volumen 2027"
        assert [(tier.begin_quantity, tier.end_quantity, tier.value) for tier in discount.tiers] == [
            (D(10), D(49), D(5)),
            (D(100), D(199), D(10)),
        ]
    ok(database, "discount-lists", "delete", "Volumen 2027")
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(DiscountList)) == 0

    # Units and unit groups.
    ok(database, "units", "update-group", "Licencias", "--name", "Licencias 2027", "--description", "Por usuario")
    ok(database, "units", "update", "Licencias 2027", "Pack 10", "--name", "Pack doce", "--quantity", "12")
    ok(database, "units", "add", "Licencias 2027", "Caja", "--quantity", "5")
    assert "Removed unit Caja" in ok(database, "units", "remove", "Licencias 2027", "caja")
    assert "(base_unit)" in refused(database, "units", "remove", "Licencias 2027", "Licencia", exit_code=1)
    assert "(unit_group_in_use)" in refused(database, "units", "delete-group", "Licencias 2027", exit_code=1)
    with database.unit_of_work(read_only=True) as uow:
        group = uow.session.scalars(select(UnitGroup)).one()
        assert (group.name, group.description) == ("Licencias 2027", "Por usuario")
        assert sorted((unit.name, unit.quantity) for unit in group.units) == [("Licencia", D(1)), ("Pack doce", D(12))]
    ok(database, "units", "create-group", "Cajas", "--base-unit", "Caja")
    assert "Deleted unit group Cajas" in ok(database, "units", "delete-group", "Cajas")
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(UnitGroup)) == 1
        assert uow.session.scalar(select(func.count()).where(Unit.name == "Caja")) == 0

    # Product families.
    ok(database, "product-families", "create", "Software")
    ok(database, "product-families", "update", "software", "--name", "Programas", "--description", "Licencias")
    with database.unit_of_work(read_only=True) as uow:
        family = uow.session.scalars(select(ProductFamily)).one()
        assert (family.name, family.description) == ("Programas", "Licencias")
    assert "Deleted product family Programas" in ok(database, "product-families", "delete", "Programas")
    usage = leadflow(database, "price-lists", "update", "Tarifa 2027")
    assert usage.exit_code == 2
