"""The command forms of quotes, orders and invoices in the web app, on SQLite and PostgreSQL: Close
quote (lost, canceled), Create order on a quote won without one, Cancel order, Cancel invoice, Lock
pricing and Use current pricing. Each is posted as a browser posts it (the page's form with its CSRF
token and row version); the page it leads to shows the new status, in English or in Spanish, and
the database and the API say the same."""

from __future__ import annotations

import uuid
from decimal import Decimal
from html import unescape

import pytest
from sqlalchemy import select

from leadflow.catalog import service as catalog
from leadflow.catalog.schemas import LineCreate, PriceListItemUpdate
from leadflow.opportunities.schemas import OpportunityUpdate
from leadflow.opportunities.service import update_opportunity
from leadflow.sales import service as sales
from leadflow.sales.models import (
    Invoice,
    InvoiceState,
    InvoiceStatusReason,
    Order,
    OrderState,
    Quote,
    QuoteState,
    QuoteStatusReason,
)
from leadflow.sales.schemas import CloseQuote, WinQuote
from tests.web.test_records_pages import form_fields
from tests.web.test_sales_pages import Shop, followed, loaded, open_shop, post_form, text_of

D = Decimal
API = "/api/v1"


@pytest.fixture
def shop(database, actor) -> Shop:
    """The shop's opportunity on its price list, with 12 licences (90.00 each, 5 % off from 10 units)."""
    shop = open_shop(database, actor)
    with database.unit_of_work() as uow:
        update_opportunity(shop.opportunity, OpportunityUpdate(price_list_id=shop.price_list), uow=uow, actor=actor)
        sales.add_opportunity_product(
            shop.opportunity, LineCreate(product_id=shop.product, quantity=D(12)), uow=uow, actor=actor
        )
        uow.commit()
    return shop


def active_quote(database, actor, shop: Shop) -> uuid.UUID:
    with database.unit_of_work() as uow:
        quote = sales.quote_from_opportunity(shop.opportunity, uow=uow, actor=actor)
        sales.activate_quote(quote.id, uow=uow, actor=actor)
        uow.commit()
    return quote.id


def won_quote_without_order(database, actor, shop: Shop) -> uuid.UUID:
    quote_id = active_quote(database, actor, shop)
    with database.unit_of_work() as uow:
        _quote, order, _opportunity = sales.win_quote(
            quote_id, WinQuote(create_order=False, close_opportunity=False), uow=uow, actor=actor
        )
        assert order is None
        uow.commit()
    return quote_id


def active_order(database, actor, shop: Shop) -> uuid.UUID:
    quote_id = active_quote(database, actor, shop)
    with database.unit_of_work() as uow:
        _quote, order, _opportunity = sales.win_quote(quote_id, WinQuote(close_opportunity=False), uow=uow, actor=actor)
        assert order is not None
        uow.commit()
    return order.id


def active_invoice(database, actor, shop: Shop) -> tuple[uuid.UUID, uuid.UUID]:
    order_id = active_order(database, actor, shop)
    with database.unit_of_work() as uow:
        invoice = sales.invoice_from_order(order_id, uow=uow, actor=actor)
        uow.commit()
    return order_id, invoice.id


def api_state(client, path: str, record_id: uuid.UUID) -> tuple[str, str]:
    response = client.get(f"{API}/{path}/{record_id}")
    assert response.status_code == 200, response.text
    return response.json()["state"], response.json()["status_reason"]


# ---------------------------------------------------------------------------------------------- Close quote


@pytest.mark.parametrize(
    ("reason", "status", "stored"),
    [("lost", "Closed · Lost", QuoteStatusReason.LOST), ("canceled", "Closed · Canceled", QuoteStatusReason.CANCELED)],
)
def test_the_close_quote_form_closes_the_quote(web_client, client, database, actor, shop, reason, status, stored):
    quote_id = active_quote(database, actor, shop)
    page = web_client.get(f"/quotes/{quote_id}").text
    assert 'id="close-form"' in page and 'id="create-order-form"' not in page

    response = post_form(
        web_client,
        page,
        "close-form",
        f"/quotes/{quote_id}/close",
        status_reason=reason,
        closed_on="2026-11-30",
        description="Eligieron a la competencia.",
    )

    assert response.headers["location"] == f"/quotes/{quote_id}?notice=closed"
    page = followed(web_client, response)
    assert "The quote was closed." in page
    assert text_of(page, "document-state") == status
    assert 'id="read-only-banner"' in page
    for form in ("close-form", "win-form", "revise-form", "activate-form", "create-order-form"):
        assert f'id="{form}"' not in page, form
    quote = loaded(database, Quote, quote_id)
    assert (quote.state, quote.status_reason) == (QuoteState.CLOSED, stored)
    assert str(quote.closed_on) == "2026-11-30" and quote.description == "Eligieron a la competencia."
    assert api_state(client, "quotes", quote_id) == ("closed", reason)


def test_the_close_quote_form_in_spanish(web_client_for, client, database, actor, shop):
    spanish = web_client_for(accept_language="es")
    quote_id = active_quote(database, actor, shop)
    page = spanish.get(f"/quotes/{quote_id}").text
    assert "Cerrar oferta" in page

    page = followed(spanish, post_form(spanish, page, "close-form", f"/quotes/{quote_id}/close", status_reason="lost"))

    assert "Se cerró la oferta." in page
    assert text_of(page, "document-state") == "Cerrada · Perdida"
    assert loaded(database, Quote, quote_id).status_reason is QuoteStatusReason.LOST
    assert api_state(client, "quotes", quote_id) == ("closed", "lost")


def test_a_close_quote_form_sent_after_the_quote_changed_is_refused_and_changes_nothing(
    web_client, database, actor, shop
):
    quote_id = active_quote(database, actor, shop)
    page = web_client.get(f"/quotes/{quote_id}").text
    before = loaded(database, Quote, quote_id)
    # Someone else closes it as canceled meanwhile.
    with database.unit_of_work() as uow:
        sales.close_quote(quote_id, CloseQuote(status_reason=QuoteStatusReason.CANCELED), uow=uow, actor=actor)
        uow.commit()

    refused = post_form(web_client, page, "close-form", f"/quotes/{quote_id}/close", status_reason="lost")

    assert refused.status_code == 412, refused.status_code
    assert 'id="reload-record"' in refused.text
    after = loaded(database, Quote, quote_id)
    assert after.status_reason is QuoteStatusReason.CANCELED and after.row_version > before.row_version


# ---------------------------------------------------------------------------------------------- Create order


def test_the_create_order_form_makes_the_order_of_a_quote_won_without_one(web_client, client, database, actor, shop):
    quote_id = won_quote_without_order(database, actor, shop)
    page = web_client.get(f"/quotes/{quote_id}").text
    assert text_of(page, "document-state") == "Won"

    response = post_form(web_client, page, "create-order-form", f"/quotes/{quote_id}/order")

    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/orders/") and location.endswith("?notice=order")
    order_id = uuid.UUID(location.split("/")[2].split("?")[0])
    page = followed(web_client, response)
    assert "This order was created from the won quote." in page
    assert text_of(page, "document-number").startswith("Order ORD-01000")
    assert text_of(page, "document-state") == "Active · New"
    assert text_of(page, "document-prices-locked") == "Yes"
    # 12 × 90.00 = 1,080.00 − 5 % (54.00) = 1,026.00
    assert text_of(page, "document-total-amount") == "€1,026.00"
    order = loaded(database, Order, order_id)
    assert (order.quote_id, order.state, order.total_amount) == (quote_id, OrderState.ACTIVE, D("1026.00"))
    assert api_state(client, "orders", order_id) == ("active", "new")
    # The quote's page now links its order and offers no second one.
    quote_page = web_client.get(f"/quotes/{quote_id}").text
    assert "ORD-01000" in text_of(quote_page, "document-orders")
    assert 'id="create-order-form"' not in quote_page


def test_a_second_create_order_form_is_refused_and_makes_no_second_order(web_client, database, actor, shop):
    quote_id = won_quote_without_order(database, actor, shop)
    page = web_client.get(f"/quotes/{quote_id}").text
    followed(web_client, post_form(web_client, page, "create-order-form", f"/quotes/{quote_id}/order"))

    again = post_form(web_client, page, "create-order-form", f"/quotes/{quote_id}/order")

    assert again.status_code == 409
    with database.unit_of_work(read_only=True) as uow:
        assert len(uow.session.scalars(select(Order.id)).all()) == 1


# ---------------------------------------------------------------------------------------------- Cancel


def test_the_cancel_order_form_cancels_the_order(web_client, client, database, actor, shop):
    order_id = active_order(database, actor, shop)
    page = web_client.get(f"/orders/{order_id}").text
    assert "Cancel order" in page

    response = post_form(web_client, page, "cancel-form", f"/orders/{order_id}/cancel")

    assert response.headers["location"] == f"/orders/{order_id}?notice=canceled"
    page = followed(web_client, response)
    assert "The document was canceled." in page
    assert text_of(page, "document-state") == "Canceled · No money"
    assert 'id="read-only-banner"' in page
    for form in ("cancel-form", "submit-form", "fulfil-form", "create-invoice-form", "current-pricing-form"):
        assert f'id="{form}"' not in page, form
    order = loaded(database, Order, order_id)
    assert order.state is OrderState.CANCELED and order.closed_at is not None
    assert api_state(client, "orders", order_id)[0] == "canceled"


def test_the_cancel_order_form_in_spanish(web_client_for, database, actor, shop):
    spanish = web_client_for(accept_language="es")
    order_id = active_order(database, actor, shop)
    page = spanish.get(f"/orders/{order_id}").text

    page = followed(spanish, post_form(spanish, page, "cancel-form", f"/orders/{order_id}/cancel"))

    assert "Se canceló el documento." in page
    assert text_of(page, "document-state") == "Cancelado · Sin fondos"
    assert loaded(database, Order, order_id).state is OrderState.CANCELED


def test_a_cancel_order_form_from_a_stale_page_is_refused_and_changes_nothing(web_client, database, actor, shop):
    order_id = active_order(database, actor, shop)
    page = web_client.get(f"/orders/{order_id}").text
    with database.unit_of_work() as uow:
        sales.submit_order(order_id, uow=uow, actor=actor)
        uow.commit()
    before = loaded(database, Order, order_id)

    refused = post_form(web_client, page, "cancel-form", f"/orders/{order_id}/cancel")

    assert refused.status_code == 412, refused.status_code
    assert 'id="reload-record"' in refused.text
    after = loaded(database, Order, order_id)
    assert (after.state, after.row_version) == (OrderState.SUBMITTED, before.row_version)


def test_the_cancel_invoice_form_cancels_the_invoice(web_client, client, database, actor, shop):
    order_id, invoice_id = active_invoice(database, actor, shop)
    page = web_client.get(f"/invoices/{invoice_id}").text
    assert "Cancel invoice" in page

    response = post_form(web_client, page, "cancel-form", f"/invoices/{invoice_id}/cancel")

    assert response.headers["location"] == f"/invoices/{invoice_id}?notice=canceled"
    page = followed(web_client, response)
    assert "The document was canceled." in page
    assert text_of(page, "document-state") == "Canceled"
    for form in ("cancel-form", "pay-form"):
        assert f'id="{form}"' not in page, form
    invoice = loaded(database, Invoice, invoice_id)
    assert (invoice.state, invoice.status_reason) == (InvoiceState.CANCELED, InvoiceStatusReason.CANCELED)
    assert api_state(client, "invoices", invoice_id) == ("canceled", "canceled")
    assert loaded(database, Order, order_id).state is OrderState.ACTIVE


def test_the_cancel_invoice_form_in_spanish(web_client_for, database, actor, shop):
    spanish = web_client_for(accept_language="es")
    _order_id, invoice_id = active_invoice(database, actor, shop)
    page = spanish.get(f"/invoices/{invoice_id}").text
    assert "Cancelar factura" in page

    page = followed(spanish, post_form(spanish, page, "cancel-form", f"/invoices/{invoice_id}/cancel"))

    assert "Se canceló el documento." in page
    assert text_of(page, "document-state") == "Cancelada"
    assert loaded(database, Invoice, invoice_id).state is InvoiceState.CANCELED


# ---------------------------------------------------------------------------------------------- pricing


def test_use_current_pricing_then_lock_pricing_through_the_forms(web_client, client, database, actor, shop):
    order_id = active_order(database, actor, shop)
    page = web_client.get(f"/orders/{order_id}").text
    assert text_of(page, "document-prices-locked") == "Yes"
    assert 'id="lock-pricing-form"' not in page and 'id="current-pricing-form"' in page
    # The price list changes: 80 % of the list price instead of 90 %.
    with database.unit_of_work() as uow:
        (item,) = catalog.list_price_list_items(shop.price_list, uow=uow, actor=actor)
        catalog.update_price_list_item(
            shop.price_list, item.id, PriceListItemUpdate(percentage=D(80)), uow=uow, actor=actor
        )
        uow.commit()

    response = post_form(web_client, page, "current-pricing-form", f"/orders/{order_id}/current-pricing")

    assert response.headers["location"] == f"/orders/{order_id}?notice=current_pricing"
    page = followed(web_client, response)
    assert "The lines were priced again with the price list's current prices." in unescape(page)
    assert text_of(page, "document-prices-locked") == "No"
    # 12 × 80.00 = 960.00 − 5 % (48.00) = 912.00
    assert text_of(page, "document-total-amount") == "€912.00"
    assert 'id="lock-pricing-form"' in page
    order = loaded(database, Order, order_id)
    assert (order.prices_locked, order.total_amount) == (False, D("912.00"))
    assert client.get(f"{API}/orders/{order_id}").json()["prices_locked"] is False

    response = post_form(web_client, page, "lock-pricing-form", f"/orders/{order_id}/lock-pricing")

    assert response.headers["location"] == f"/orders/{order_id}?notice=locked"
    page = followed(web_client, response)
    assert "The prices are locked: the lines keep their prices." in page
    assert text_of(page, "document-prices-locked") == "Yes"
    assert text_of(page, "document-total-amount") == "€912.00"
    assert 'id="lock-pricing-form"' not in page
    assert loaded(database, Order, order_id).prices_locked is True
    assert client.get(f"{API}/orders/{order_id}").json()["prices_locked"] is True


def test_lock_pricing_in_spanish(web_client_for, database, actor, shop):
    spanish = web_client_for(accept_language="es")
    order_id = active_order(database, actor, shop)
    page = spanish.get(f"/orders/{order_id}").text
    assert "Usar precios actuales" in page and "Bloquear precios" not in page

    page = followed(spanish, post_form(spanish, page, "current-pricing-form", f"/orders/{order_id}/current-pricing"))
    assert "Las líneas se volvieron a valorar con los precios actuales de la lista de precios." in page
    assert text_of(page, "document-prices-locked") == "No"

    page = followed(spanish, post_form(spanish, page, "lock-pricing-form", f"/orders/{order_id}/lock-pricing"))

    assert "Los precios están bloqueados: las líneas conservan sus precios." in page
    assert text_of(page, "document-prices-locked") == "Sí"
    assert loaded(database, Order, order_id).prices_locked is True


def test_a_canceled_order_offers_no_pricing_forms_and_refuses_a_stale_one(web_client, database, actor, shop):
    order_id = active_order(database, actor, shop)
    page = web_client.get(f"/orders/{order_id}").text
    with database.unit_of_work() as uow:
        sales.cancel_order(order_id, uow=uow, actor=actor)
        uow.commit()

    refused = post_form(web_client, page, "current-pricing-form", f"/orders/{order_id}/current-pricing")

    assert refused.status_code == 412, refused.status_code
    assert 'id="reload-record"' in refused.text
    order = loaded(database, Order, order_id)
    assert (order.state, order.prices_locked) == (OrderState.CANCELED, True)
    fresh = web_client.get(f"/orders/{order_id}").text
    assert 'id="current-pricing-form"' not in fresh and 'id="lock-pricing-form"' not in fresh
    assert form_fields(fresh, "cancel-form") == {}
