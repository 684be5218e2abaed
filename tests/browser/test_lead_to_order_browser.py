"""Lead to order, clicked in Chromium by a seller in Spanish and in English.

The seller qualifies a lead of theirs, gives the new opportunity a price list, a discount and freight,
adds a catalogue product and a write-in one, reads the totals; makes a quote, activates it, revises
it (the revision's freight changes), activates it again, wins it creating the order, fulfils the
order, invoices it and marks the invoice paid. Every total is read on the screen, to the cent, as
the seller's language writes it. The catalogue is the test's own, in the lead's currency.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from leadflow.catalog import service as catalog
from leadflow.catalog.schemas import (
    DiscountListCreate,
    PriceListCreate,
    PriceListItemCreate,
    ProductCreate,
    TierIn,
    UnitGroupCreate,
)
from leadflow.core.formatting import format_money
from leadflow.leads.models import Lead, LeadState
from leadflow.opportunities.models import Opportunity, OpportunityState
from leadflow.organisation.models import Currency
from leadflow.sales.models import Invoice, InvoiceState, Order, OrderState, Quote, QuoteState
from leadflow.security.actor import default_actor
from tests.browser.conftest import screenshot, sign_in
from tests.browser.test_qualification_settings_browser import SELLER

D = Decimal


@dataclass(frozen=True)
class Catalogue:
    currency: str
    price_list: uuid.UUID
    choice: str  # the add form's value of the product in its unit


def _catalogue(database, lead: Lead) -> Catalogue:
    """Work chairs at 185.00 on a price list in the lead's currency, 5 % off from 10 chairs."""
    with database.unit_of_work() as uow:
        admin = default_actor(uow.session)
        currency = uow.session.get(Currency, lead.currency_id).iso_code
        group = catalog.create_unit_group(
            UnitGroupCreate(name="Puestos (prueba)", base_unit="Puesto"), uow=uow, actor=admin
        )
        product = catalog.create_product(
            ProductCreate(
                number="TEST-SILLA",
                name="Silla de trabajo",
                unit_group_id=group.id,
                default_unit_id=group.base_unit.id,
                list_price=D("200.00"),
            ),
            uow=uow,
            actor=admin,
        )
        catalog.change_product_state(product.id, publish=True, uow=uow, actor=admin)
        volume = catalog.create_discount_list(
            DiscountListCreate(
                name="Volumen (prueba)", tiers=[TierIn(begin_quantity=D(10), end_quantity=D(99), value=D(5))]
            ),
            uow=uow,
            actor=admin,
        )
        price_list = catalog.create_price_list(
            PriceListCreate(name="Tarifa de la prueba", currency=currency), uow=uow, actor=admin
        )
        catalog.add_price_list_item(
            price_list.id,
            PriceListItemCreate(
                product_id=product.id, unit_id=group.base_unit.id, amount=D("185.00"), discount_list_id=volume.id
            ),
            uow=uow,
            actor=admin,
        )
        uow.commit()
        return Catalogue(currency, price_list.id, f"{product.id}:{group.base_unit.id}")


def _lead(database, topic: str) -> Lead:
    with database.unit_of_work(read_only=True) as uow:
        lead = uow.session.scalars(select(Lead).where(Lead.topic == topic)).one()
        uow.session.expunge(lead)
        return lead


def _loaded(database, model, record_id):
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.get(model, record_id)


def _id_in(url: str, path: str) -> uuid.UUID:
    return uuid.UUID(url.split(f"/{path}/")[1].split("?")[0].split("#")[0])


def _click_and_wait(page, selector: str) -> None:
    with page.expect_navigation():
        page.locator(selector).click()


@pytest.mark.parametrize("language", ["es", "en"])
def test_a_seller_takes_a_lead_to_a_paid_invoice(new_page, demo_database, language) -> None:
    email, password, topic = SELLER[language]
    lead = _lead(demo_database, topic)
    shop = _catalogue(demo_database, lead)

    def money(amount: str) -> str:  # as the page writes it, spaces of any kind as one
        return " ".join(format_money(D(amount), shop.currency, language).split())

    def amount(text: str) -> str:  # as the seller types it
        return text.replace(".", ",") if language == "es" else text

    def shown(element_id: str) -> str:
        return " ".join(page.locator(f"#{element_id}").inner_text().split())

    page = new_page(language=language)
    sign_in(page, email, password)

    # Qualify the lead: the page lands on the new opportunity.
    page.goto(f"/leads/{lead.id}")
    page.locator("#qualify-button").click()
    page.wait_for_url("**/opportunities/**")
    opportunity_id = _id_in(page.url, "opportunities")
    assert _lead(demo_database, topic).state is LeadState.QUALIFIED

    # Pricing: the price list, the revenue from the products, 5 % off the whole, 40.00 freight.
    page.locator("#pricing-price-list-id").select_option(str(shop.price_list))
    page.locator("#pricing-revenue-calculation").select_option("system")
    page.locator("#pricing-discount-percentage").fill("5")
    page.locator("#pricing-freight-amount").fill(amount("40.00"))
    _click_and_wait(page, "#pricing-save")

    # 12 chairs at 185.00 = 2,220.00, 5 % volume discount 111.00, 9.00 off, 441.00 tax: 2,541.00.
    page.locator("#products-existing-product").select_option(shop.choice)
    page.locator("#products-existing-quantity").fill("12")
    page.locator("#products-existing-manual-discount").fill(amount("9.00"))
    page.locator("#products-existing-tax").fill(amount("441.00"))
    _click_and_wait(page, "#products-existing-add")
    assert shown("products-line-1-extended-amount") == money("2541.00")

    # A write-in: fitting, 350.00 and 73.50 tax.
    page.locator("#products-write-in-write-in-name").fill("Montaje en la oficina")
    page.locator("#products-write-in-price-per-unit").fill(amount("350.00"))
    page.locator("#products-write-in-tax").fill(amount("73.50"))
    _click_and_wait(page, "#products-write-in-add")

    # Before tax 2,100.00 + 350.00 = 2,450.00; 5 % off 122.50; 2,327.50 + 40.00 + 514.50 tax = 2,882.00.
    assert shown("products-line-2-extended-amount") == money("423.50")
    assert shown("products-detail-amount") == money("2450.00")
    assert shown("products-total-discount-amount") == money("122.50")
    assert shown("products-pre-freight-amount") == money("2327.50")
    assert shown("products-total-tax") == money("514.50")
    assert shown("products-total-amount") == money("2882.00")
    screenshot(page, language, "opportunity-products")

    # A quote with the opportunity's products, activated, then revised.
    _click_and_wait(page, "#new-quote-button")
    first_quote = _id_in(page.url, "quotes")
    assert shown("document-total-amount") == money("2882.00")
    _click_and_wait(page, "#activate-button")
    expect(page.locator("#read-only-banner")).to_be_visible()
    _click_and_wait(page, "#revise-button")
    revision = _id_in(page.url, "quotes")
    assert revision != first_quote
    assert _loaded(demo_database, Quote, first_quote).status_reason.value == "revised"

    # The revision is a draft: its freight goes up to 60.00 (2,902.00), and it is activated again.
    page.locator("#field-freight_amount").fill(amount("60.00"))
    _click_and_wait(page, "#save-button")
    assert shown("document-freight-amount") == money("60.00")
    assert shown("document-total-amount") == money("2902.00")
    _click_and_wait(page, "#activate-button")
    screenshot(page, language, "quote-active")

    # Won, creating the order (and closing the opportunity as won): the page lands on the order.
    page.locator("#win-button").click()
    assert page.locator("#win-create-order").is_checked() and page.locator("#win-close-opportunity").is_checked()
    _click_and_wait(page, "#win-submit")
    order_id = _id_in(page.url, "orders")
    assert shown("document-total-amount") == money("2902.00")
    assert _loaded(demo_database, Quote, revision).state is QuoteState.WON
    opportunity = _loaded(demo_database, Opportunity, opportunity_id)
    assert opportunity.state is OpportunityState.WON and opportunity.actual_revenue == D("2902.00")

    page.locator("#fulfil-button").click()
    _click_and_wait(page, "#fulfil-submit")
    assert _loaded(demo_database, Order, order_id).state is OrderState.FULFILLED
    screenshot(page, language, "order-fulfilled")

    _click_and_wait(page, "#create-invoice-button")
    invoice_id = _id_in(page.url, "invoices")
    assert shown("document-total-amount") == money("2902.00")
    assert shown("document-total-tax") == money("514.50")
    page.locator("#pay-button").click()
    _click_and_wait(page, "#pay-submit")
    assert _loaded(demo_database, Invoice, invoice_id).state is InvoiceState.PAID
    assert shown("document-state") == ("Pagada · Completa" if language == "es" else "Paid · Complete")
    screenshot(page, language, "invoice-paid")
