"""Lead to order in the web app: an opportunity's products and totals through its forms, a quote made
from it and taken through its life (activate, revise, win with its order), the order fulfilled and
invoiced, the invoice paid; a read-only quote refusing an edit; the lists; the PDF and the print view;
in English and in Spanish, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from html import unescape

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from leadflow.catalog import service as catalog
from leadflow.catalog.models import PricingMethod
from leadflow.catalog.schemas import (
    DiscountListCreate,
    PriceListCreate,
    PriceListItemCreate,
    ProductCreate,
    TierIn,
    UnitGroupCreate,
)
from leadflow.customers.schemas import AccountCreate
from leadflow.customers.service import create_account
from leadflow.opportunities.models import Opportunity, OpportunityProduct, OpportunityState, RevenueCalculation
from leadflow.opportunities.schemas import OpportunityCreate
from leadflow.opportunities.service import create_opportunity
from leadflow.sales.models import Invoice, InvoiceState, Order, OrderState, Quote, QuoteState, QuoteStatusReason
from leadflow.security.actor import actor_for_email
from leadflow.security.service import create_user
from tests.web.test_records_pages import form_fields

D = Decimal
SELLER_EMAIL = "sara.seller@example.com"
PASSWORD = "a password long enough to pass"


# ---------------------------------------------------------------------------------------------- the shop


@dataclass(frozen=True)
class Shop:
    """Licences on a euro price list (90 % of the list price of 100.00, 5 % off from 10 units), and an
    open opportunity of a Sevillian account with no products yet."""

    product: uuid.UUID
    licence: uuid.UUID
    price_list: uuid.UUID
    account: uuid.UUID
    opportunity: uuid.UUID

    @property
    def choice(self) -> str:
        return f"{self.product}:{self.licence}"


def open_shop(database, actor, *, owner=None) -> Shop:
    with database.unit_of_work() as uow:
        group = catalog.create_unit_group(UnitGroupCreate(name="Licencias", base_unit="Licencia"), uow=uow, actor=actor)
        product = catalog.create_product(
            ProductCreate(
                number="LIC-STD",
                name="Licencia estándar",
                unit_group_id=group.id,
                default_unit_id=group.base_unit.id,
                list_price=D("100.00"),
            ),
            uow=uow,
            actor=actor,
        )
        catalog.change_product_state(product.id, publish=True, uow=uow, actor=actor)
        volume = catalog.create_discount_list(
            DiscountListCreate(name="Volumen", tiers=[TierIn(begin_quantity=D(10), end_quantity=D(99), value=D(5))]),
            uow=uow,
            actor=actor,
        )
        price_list = catalog.create_price_list(PriceListCreate(name="Tarifa EUR", currency="EUR"), uow=uow, actor=actor)
        catalog.add_price_list_item(
            price_list.id,
            PriceListItemCreate(
                product_id=product.id,
                unit_id=group.base_unit.id,
                pricing_method=PricingMethod.PERCENT_OF_LIST,
                percentage=D(90),
                discount_list_id=volume.id,
            ),
            uow=uow,
            actor=actor,
        )
        account = create_account(
            AccountCreate(name="Muebles Ruiz", address_line1="Calle Feria 12", address_city="Sevilla"),
            uow=uow,
            actor=owner or actor,
        )
        opportunity = create_opportunity(
            OpportunityCreate(name="Licencias 2027", customer_id=account.id), uow=uow, actor=owner or actor
        )
        uow.commit()
        return Shop(product.id, group.base_unit.id, price_list.id, account.id, opportunity.id)


@pytest.fixture
def shop(database, actor) -> Shop:
    return open_shop(database, actor)


def loaded(database, model, record_id):
    with database.unit_of_work(read_only=True) as uow:
        record = uow.session.get(model, record_id)
        uow.session.expunge(record)
        return record


def text_of(html: str, element_id: str) -> str:
    """The text inside the element with this id (its tags dropped)."""
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</(?:dd|td|span|p|div|h1)>', html, re.DOTALL)
    assert match is not None, f"no element {element_id}"
    return " ".join(unescape(re.sub(r"<[^>]+>", "", match.group(1))).split())


def post_form(client, html: str, form_id: str, action: str, **changes: str):
    """Post a form of the page as a browser would, with some fields changed."""
    fields = form_fields(html, form_id) | changes
    return client.post(action, data=fields, follow_redirects=False)


def followed(client, response) -> str:
    """The page a form's 303 leads to."""
    assert response.status_code == 303, response.text[:2000]
    return client.get(response.headers["location"]).text


def add_products(client, shop: Shop, *, language: str = "en") -> str:
    """Price list, 10 % off the whole, 15.50 freight; 12 licences (10 off, 21 tax) and a write-in at 250."""
    url = f"/opportunities/{shop.opportunity}"
    page = client.get(url).text
    decimal = "," if language == "es" else "."
    page = followed(
        client,
        post_form(
            client,
            page,
            "pricing-form",
            f"{url}/pricing",
            price_list_id=str(shop.price_list),
            revenue_calculation="system",
            discount_percentage="10",
            freight_amount=f"15{decimal}50",
        ),
    )
    page = followed(
        client,
        post_form(
            client,
            page,
            "products-existing-form",
            f"{url}/products",
            product=shop.choice,
            quantity="12",
            manual_discount="10",
            tax="21",
        ),
    )
    return followed(
        client,
        post_form(
            client,
            page,
            "products-write-in-form",
            f"{url}/products",
            write_in_name="Instalación",
            price_per_unit=f"250{decimal}00",
            quantity="1",
        ),
    )


# ---------------------------------------------------------------------------------------------- the opportunity's products


def test_products_added_through_the_forms_are_priced_and_the_totals_follow(web_client, database, shop):
    page = add_products(web_client, shop)

    # 12 × 90.00 = 1,080.00 − 5 % (54.00) − 10.00 + 21.00 tax = 1,037.00; the write-in 250.00.
    assert text_of(page, "products-line-1-extended-amount") == "€1,037.00"
    assert text_of(page, "products-line-2-extended-amount") == "€250.00"
    # Before tax 1,266.00; 10 % → 126.60; 1,139.40 + 15.50 freight + 21.00 tax = 1,175.90.
    assert text_of(page, "products-detail-amount") == "€1,266.00"
    assert text_of(page, "products-total-discount-amount") == "€126.60"
    assert text_of(page, "products-pre-freight-amount") == "€1,139.40"
    assert text_of(page, "products-total-tax") == "€21.00"
    assert text_of(page, "products-total-amount") == "€1,175.90"
    assert "The opportunity's products and totals were updated." in page
    opportunity = loaded(database, Opportunity, shop.opportunity)
    assert opportunity.revenue_calculation is RevenueCalculation.SYSTEM
    assert opportunity.estimated_revenue == D("1175.90")


def test_a_line_is_changed_in_its_row_and_removed(web_client, database, shop):
    page = add_products(web_client, shop)
    url = f"/opportunities/{shop.opportunity}"
    with database.unit_of_work(read_only=True) as uow:
        first, second = uow.session.scalars(select(OpportunityProduct).order_by(OpportunityProduct.line_number)).all()

    page = followed(
        web_client,
        post_form(web_client, page, "products-line-1-form", f"{url}/products/{first.id}", quantity="20"),
    )
    # 20 × 90.00 = 1,800.00 − 5 % (90.00) − 10.00 + 21.00 = 1,721.00
    assert text_of(page, "products-line-1-extended-amount") == "€1,721.00"
    page = followed(
        web_client, post_form(web_client, page, "products-line-2-remove-form", f"{url}/products/{second.id}/remove")
    )
    assert "Instalación" not in page
    assert text_of(page, "products-total-amount") == "€1,566.50"  # 1,700.00 − 170.00 + 15.50 + 21.00

    refused = post_form(web_client, page, "products-line-1-form", f"{url}/products/{first.id}", quantity="1.5")
    # Refused in its row, which keeps what was typed, marked and explained; nothing changed.
    assert refused.status_code == 422
    row = refused.text.split('id="products-line-1"')[1].split("</tr>")[0]
    assert 'class="line-row refused"' in refused.text
    assert 'name="quantity" value="1.5"' in row and 'aria-invalid="true"' in row and 'class="field-error"' in row
    assert loaded(database, OpportunityProduct, first.id).quantity == D(20)


def test_adding_a_catalogue_product_without_a_price_list_says_to_choose_one(web_client, database, shop):
    page = web_client.get(f"/opportunities/{shop.opportunity}").text
    assert 'id="products-existing-none"' in page  # no choices until a price list is chosen

    refused = web_client.post(
        f"/opportunities/{shop.opportunity}/products",
        data=form_fields(page, "products-existing-form") | {"product": shop.choice, "quantity": "1"},
    )

    assert refused.status_code == 422
    assert 'id="products-error"' in refused.text and "price list" in text_of(refused.text, "products-error")


def test_a_closed_opportunity_shows_its_products_read_only(web_client, database, actor, shop):
    add_products(web_client, shop)
    from leadflow.opportunities.closing import win_opportunity
    from leadflow.opportunities.schemas import WinOpportunity

    with database.unit_of_work() as uow:
        win_opportunity(shop.opportunity, WinOpportunity(), uow=uow, actor=actor)
        uow.commit()

    page = web_client.get(f"/opportunities/{shop.opportunity}").text

    assert 'id="products-read-only"' in page
    for form in ("products-existing-form", "products-write-in-form", "products-line-1-form", "new-quote-form"):
        assert f'id="{form}"' not in page, form
    assert 'id="pricing-save"' not in page and 'id="pricing-price-list-id" name="price_list_id" disabled' in page
    assert text_of(page, "products-total-amount") == "€1,175.90"


# ---------------------------------------------------------------------------------------------- quote to invoice


def test_a_quote_goes_from_the_opportunity_to_a_paid_invoice_through_the_forms(web_client, database, shop):
    page = add_products(web_client, shop)

    # New quote: the opportunity's products, customer and address.
    created = post_form(web_client, page, "new-quote-form", f"/opportunities/{shop.opportunity}/quotes")
    quote_id = uuid.UUID(created.headers["location"].split("/")[2].split("?")[0])
    page = followed(web_client, created)
    assert text_of(page, "document-number").startswith("Quote QUO-01000")
    assert text_of(page, "document-state") == "Draft · In progress"
    assert text_of(page, "document-total-amount") == "€1,175.90"
    assert "Calle Feria 12" in page

    page = followed(web_client, post_form(web_client, page, "activate-form", f"/quotes/{quote_id}/activate"))
    assert text_of(page, "document-state") == "Active · In progress"
    assert 'id="read-only-banner"' in page and 'id="lines-write-in-form"' not in page

    # Revise: the active quote is closed as revised, its next revision is a draft to change.
    revised = post_form(web_client, page, "revise-form", f"/quotes/{quote_id}/revise")
    revision_id = uuid.UUID(revised.headers["location"].split("/")[2].split("?")[0])
    page = followed(web_client, revised)
    assert revision_id != quote_id and "Revision 1" in text_of(page, "document-number")
    page = followed(
        web_client,
        post_form(
            web_client,
            page,
            "lines-write-in-form",
            f"/quotes/{revision_id}/lines",
            write_in_name="Formación",
            price_per_unit="99.99",
            quantity="1",
        ),
    )
    # 1,266.00 + 99.99 = 1,365.99; 10 % → 136.60; 1,229.39 + 15.50 + 21.00 = 1,265.89
    assert text_of(page, "document-total-amount") == "€1,265.89"
    page = followed(web_client, post_form(web_client, page, "activate-form", f"/quotes/{revision_id}/activate"))

    # Win, creating the order and closing the opportunity: the page lands on the order.
    won = post_form(web_client, page, "win-form", f"/quotes/{revision_id}/win", date_won="2026-12-07")
    assert won.headers["location"].startswith("/orders/")
    order_id = uuid.UUID(won.headers["location"].split("/")[2].split("?")[0])
    page = followed(web_client, won)
    assert "The quote was won and this order was created from it." in page
    assert text_of(page, "document-total-amount") == "€1,265.89"
    assert text_of(page, "document-prices-locked") == "Yes"
    assert loaded(database, Quote, quote_id).status_reason is QuoteStatusReason.REVISED
    assert loaded(database, Quote, revision_id).state is QuoteState.WON
    opportunity = loaded(database, Opportunity, shop.opportunity)
    assert opportunity.state is OpportunityState.WON and opportunity.actual_revenue == D("1265.89")

    page = followed(
        web_client, post_form(web_client, page, "fulfil-form", f"/orders/{order_id}/fulfil", status_reason="complete")
    )
    assert text_of(page, "document-state") == "Fulfilled · Complete"
    assert loaded(database, Order, order_id).state is OrderState.FULFILLED

    invoiced = post_form(web_client, page, "create-invoice-form", f"/orders/{order_id}/invoice")
    invoice_id = uuid.UUID(invoiced.headers["location"].split("/")[2].split("?")[0])
    page = followed(web_client, invoiced)
    assert text_of(page, "document-number").startswith("Invoice INV-01000")
    assert text_of(page, "document-total-amount") == "€1,265.89"

    page = followed(
        web_client, post_form(web_client, page, "pay-form", f"/invoices/{invoice_id}/pay", status_reason="complete")
    )
    assert text_of(page, "document-state") == "Paid · Complete"
    assert loaded(database, Invoice, invoice_id).state is InvoiceState.PAID

    # The lists show each document with its customer, status and total.
    for path, number, status in (
        ("quotes", "QUO-01000 (revision 1)", "Won"),
        ("orders", "ORD-01000", "Fulfilled · Complete"),
        ("invoices", "INV-01000", "Paid · Complete"),
    ):
        listed = web_client.get(f"/{path}").text
        assert number in listed and "Muebles Ruiz" in listed and status in listed and "€1,265.89" in listed, path


def test_an_edit_of_an_active_quote_is_refused_as_read_only_and_changes_nothing(web_client_for, database, shop):
    client = web_client_for()
    page = add_products(client, shop)
    quote_page = followed(
        client, post_form(client, page, "new-quote-form", f"/opportunities/{shop.opportunity}/quotes")
    )
    quote_id = loaded_quote_id(database)
    header = form_fields(quote_page, "header-form")
    followed(client, post_form(client, quote_page, "activate-form", f"/quotes/{quote_id}/activate"))
    before = loaded(database, Quote, quote_id)

    # A form loaded while the quote was a draft, sent after it was activated.
    refused = client.post(
        f"/quotes/{quote_id}", data=header | {"name": "Otro nombre", "row_version": str(before.row_version)}
    )
    refused_line = client.post(
        f"/quotes/{quote_id}/lines",
        data={"csrf_token": header["csrf_token"], "write_in_name": "x", "price_per_unit": "1", "quantity": "1"},
    )

    assert refused.status_code == 409 and refused_line.status_code == 409
    assert "The quote QUO-01000 is active and read-only; revise it to change it." in unescape(refused.text)
    after = loaded(database, Quote, quote_id)
    assert (after.name, after.row_version, after.total_amount) == (before.name, before.row_version, before.total_amount)

    spanish_client = web_client_for(accept_language="es")
    token = form_fields(spanish_client.get(f"/quotes/{quote_id}").text, "header-form")["csrf_token"]
    spanish = spanish_client.post(f"/quotes/{quote_id}", data=header | {"name": "Otro nombre", "csrf_token": token})
    assert spanish.status_code == 409
    assert text_of(spanish.text, "form-error").startswith("Hay un problema Este documento es de solo lectura")


def loaded_quote_id(database) -> uuid.UUID:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalars(select(Quote.id)).one()


# ---------------------------------------------------------------------------------------------- printing


def test_the_pdf_link_answers_a_pdf_and_the_print_view_shows_the_totals(web_client, database, shop):
    page = add_products(web_client, shop)
    quote_page = followed(
        web_client, post_form(web_client, page, "new-quote-form", f"/opportunities/{shop.opportunity}/quotes")
    )
    quote_id = loaded_quote_id(database)
    pdf_href = re.search(r'<a href="([^"]+)" id="pdf-link" download>', quote_page).group(1)
    print_href = re.search(r'<a href="([^"]+)" id="print-view-link">', quote_page).group(1)

    pdf = web_client.get(pdf_href)
    printed = web_client.get(print_href)

    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith('attachment; filename="QUO-01000.pdf"')
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "QUO-01000" in text and "1,175.90" in text
    assert printed.status_code == 200 and 'class="site-nav"' not in printed.text
    assert '<link rel="stylesheet" href="/static/sales-print.css">' in printed.text
    assert text_of(printed.text, "printed-number") == "QUO-01000"
    assert text_of(printed.text, "printed-customer") == "Muebles Ruiz"
    assert text_of(printed.text, "printed-detail-amount") == "€1,266.00"
    assert text_of(printed.text, "printed-total-discount-amount") == "€126.60"
    assert text_of(printed.text, "printed-freight-amount") == "€15.50"
    assert text_of(printed.text, "printed-total-amount") == "€1,175.90"
    assert web_client.get(f"/quotes/{quote_id}/print").status_code == 200


# ---------------------------------------------------------------------------------------------- Spanish


def test_a_spanish_speaking_seller_reads_the_labels_in_spanish(web_client_for, database, actor):
    with database.unit_of_work() as uow:
        create_user(
            email=SELLER_EMAIL,
            full_name="Sara Seller",
            role_names=["Salesperson"],
            business_unit_name=None,
            password=PASSWORD,
            uow=uow,
            actor=None,
        )
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        seller = actor_for_email(uow.session, SELLER_EMAIL)
    shop = open_shop(database, actor, owner=seller)
    client = web_client_for(SELLER_EMAIL, PASSWORD, accept_language="es")

    page = add_products(client, shop, language="es")

    for label in (
        "Productos de la oportunidad",
        "Lista de precios",
        "Ingresos",
        "Calculados por el sistema",
        "Proporcionados por el usuario",
        "Producto existente",
        "Producto no incluido en el catálogo",
        "Precio por unidad",
        "Descuento por volumen",
        "Descuento manual",
        "Impuesto",
        "Importe extendido",
        "Importe total del detalle",
        "Descuento de la oportunidad (%)",
        "Importe previo al flete",
        "Importe del flete",
        "Impuesto total",
        "Importe total",
        "Ofertas",
        "Pedidos",
        "Facturas",
    ):
        assert label in page, label
    assert text_of(page, "products-total-amount") == "1.175,90 €"
    quote = followed(client, post_form(client, page, "new-quote-form", f"/opportunities/{shop.opportunity}/quotes"))
    for label in ("Oferta QUO-01000", "Activar oferta", "Condiciones de pago", "Vista de impresión", "Borrador"):
        assert label in quote, label
    quote_id = loaded_quote_id(database)
    active = followed(client, post_form(client, quote, "activate-form", f"/quotes/{quote_id}/activate"))
    for label in ("Revisar", "Cerrar oferta", "Perdida", "Cancelada", "Marcar como ganada", "Crear el pedido"):
        assert label in active, label
    printed = client.get(f"/quotes/{quote_id}/print").text
    assert '<html lang="es">' in printed and "Oferta" in printed and "1.175,90\xa0€" in printed
