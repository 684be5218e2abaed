"""A quote made on its own from the quotes list (for a customer, without an opportunity), the account's
payment terms carried into its quotes, and an active order's status reason (New or Pending) chosen on
its page; in English and Spanish, on SQLite and PostgreSQL."""

from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import func, select

from leadflow.catalog.schemas import LineCreate
from leadflow.customers.models import Account, PaymentTerms
from leadflow.sales import service as sales
from leadflow.sales.models import DocumentKind, Order, OrderState, OrderStatusReason, Quote, QuoteState
from leadflow.sales.schemas import WinQuote
from leadflow.security import service as security
from leadflow.security.privileges import Depth, Privilege
from tests.web.test_records_pages import form_fields
from tests.web.test_sales_pages import Shop, add_products, followed, loaded, open_shop, post_form, text_of


@pytest.fixture
def shop(database, actor) -> Shop:
    return open_shop(database, actor)


def quotes_of(database) -> list[Quote]:
    with database.unit_of_work(read_only=True) as uow:
        found = list(uow.session.scalars(select(Quote).order_by(Quote.created_at)))
        uow.session.expunge_all()
        return found


def set_terms(database, account_id, terms: PaymentTerms) -> None:
    with database.unit_of_work() as uow:
        uow.session.get(Account, account_id).payment_terms = terms
        uow.commit()


def test_the_quotes_list_makes_a_quote_for_a_customer_with_its_address_and_payment_terms(web_client, database, shop):
    set_terms(database, shop.account, PaymentTerms.NET_45)
    listing = web_client.get("/quotes").text
    assert 'id="new-quote"' in listing

    form = web_client.get(f"/quotes/new?customer={shop.account}").text
    assert f'<option value="{shop.account}" selected>Muebles Ruiz</option>' in form
    assert '<option value="EUR" selected>' in form  # the base currency
    page = followed(
        web_client,
        post_form(
            web_client,
            form,
            "new-quote-form",
            "/quotes/new",
            name="Renovación 2027",
            price_list_id=str(shop.price_list),
        ),
    )

    [quote] = quotes_of(database)
    assert (quote.name, quote.state, quote.opportunity_id, quote.customer_id) == (
        "Renovación 2027",
        QuoteState.DRAFT,
        None,
        shop.account,
    )
    assert quote.payment_terms is PaymentTerms.NET_45 and quote.price_list_id == shop.price_list
    assert quote.billing_address == "Calle Feria 12\nSevilla" == quote.shipping_address
    assert "The quote was created as a draft: add its products, then activate it." in page
    assert quote.number in page

    # Its products are added on its page, priced from its price list, as on a quote from an opportunity.
    added = followed(
        web_client,
        post_form(
            web_client, page, "lines-existing-form", f"/quotes/{quote.id}/lines", product=shop.choice, quantity="2"
        ),
    )
    assert text_of(added, "document-total-amount") == "€180.00"


def test_payment_terms_chosen_on_the_form_win_over_the_accounts(web_client, database, shop):
    set_terms(database, shop.account, PaymentTerms.NET_30)
    form = web_client.get("/quotes/new").text
    followed(
        web_client,
        post_form(
            web_client,
            form,
            "new-quote-form",
            "/quotes/new",
            name="Q",
            customer_id=str(shop.account),
            payment_terms="net_60",
        ),
    )
    [quote] = quotes_of(database)
    assert quote.payment_terms is PaymentTerms.NET_60


def test_a_quote_from_an_opportunity_takes_the_accounts_payment_terms(web_client, database, shop):
    set_terms(database, shop.account, PaymentTerms.TWO_PERCENT_10_NET_30)
    page = add_products(web_client, shop)
    followed(web_client, post_form(web_client, page, "new-quote-form", f"/opportunities/{shop.opportunity}/quotes"))
    [quote] = quotes_of(database)
    assert quote.payment_terms is PaymentTerms.TWO_PERCENT_10_NET_30


def test_a_refused_quote_says_why_in_the_users_language_and_writes_nothing(web_client_for, database, shop):
    for language, expected in (("en", "Customer"), ("es", "Cliente")):
        client = web_client_for(accept_language=language)
        form = client.get("/quotes/new").text
        # No customer, and a price list in euros for a quote in dollars.
        refused = post_form(client, form, "new-quote-form", "/quotes/new", name="Q", customer_id="")
        assert refused.status_code == 422
        assert 'id="form-error"' in refused.text and expected in unescape(refused.text)
        other = post_form(
            client,
            form,
            "new-quote-form",
            "/quotes/new",
            name="Q",
            customer_id=str(shop.account),
            currency="USD",
            price_list_id=str(shop.price_list),
        )
        assert other.status_code in (409, 422), other.text[:500]
        assert 'value="Q"' in other.text  # what was typed stays
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Quote)) == 0


def test_the_new_quote_page_reads_in_spanish(web_client_for, database, shop):
    client = web_client_for(accept_language="es")
    listing = client.get("/quotes").text
    assert "Nueva oferta" in listing
    form = client.get("/quotes/new").text
    for label in (
        "Nueva oferta",
        "Cliente",
        "Cuentas",
        "Contactos",
        "Lista de precios",
        "Condiciones de pago",
        "Crear oferta",
    ):
        assert label in form, label
    assert "Si se deja vacío, la oferta toma las condiciones de pago de la cuenta." in unescape(form)


def test_a_read_only_user_is_told_they_cannot_create_a_quote(web_client_for, database, actor, shop):
    with database.unit_of_work() as uow:
        security.create_role("Quote reader", {"quotes": {Privilege.READ: Depth.ORGANIZATION}}, uow=uow, actor=actor)
        security.create_user(
            email="reader@example.com",
            full_name="Rita Reader",
            role_names=["Quote reader"],
            business_unit_name=None,
            password="a long enough passphrase 42",
            uow=uow,
            actor=actor,
        )
        uow.commit()
    client = web_client_for("reader@example.com", "a long enough passphrase 42")
    assert 'id="new-quote"' not in client.get("/quotes").text
    assert 'id="read-only-banner"' in client.get("/quotes/new").text
    token = form_fields(client.get("/quotes").text, "search-form").get("csrf_token") or ""
    refused = client.post("/quotes/new", data={"csrf_token": token, "name": "Q", "customer_id": str(shop.account)})
    assert refused.status_code in (403, 422)
    assert quotes_of(database) == []


def _active_order(database, actor, shop: Shop) -> Order:
    with database.unit_of_work() as uow:
        quote = sales.quote_from_opportunity(shop.opportunity, uow=uow, actor=actor)
        sales.add_document_line(
            DocumentKind.QUOTE,
            quote.id,
            LineCreate(write_in_name="Instalación", price_per_unit="250.00", quantity="1"),
            uow=uow,
            actor=actor,
        )
        sales.activate_quote(quote.id, uow=uow, actor=actor)
        _, order, _ = sales.win_quote(
            quote.id, WinQuote(create_order=True, close_opportunity=False), uow=uow, actor=actor
        )
        assert order is not None
        uow.commit()
        return order


def test_an_active_order_is_marked_pending_and_back_to_new_on_its_page(web_client_for, database, actor, shop):
    order = _active_order(database, actor, shop)
    for language, pending_text in (("en", "Pending"), ("es", "Pendiente")):
        client = web_client_for(accept_language=language)
        page = client.get(f"/orders/{order.id}").text
        assert f">{pending_text}</option>" in page
        saved = followed(client, post_form(client, page, "header-form", f"/orders/{order.id}", status_reason="pending"))
        assert loaded(database, Order, order.id).status_reason is OrderStatusReason.PENDING
        assert pending_text in text_of(saved, "document-state")
        followed(client, post_form(client, saved, "header-form", f"/orders/{order.id}", status_reason="new"))
        assert loaded(database, Order, order.id).status_reason is OrderStatusReason.NEW


def test_a_submitted_orders_status_reason_cannot_be_chosen(web_client, database, actor, shop):
    order = _active_order(database, actor, shop)
    page = web_client.get(f"/orders/{order.id}").text  # loaded while the order is active
    with database.unit_of_work() as uow:
        sales.submit_order(order.id, uow=uow, actor=actor)
        uow.commit()
    before = loaded(database, Order, order.id)
    refused = post_form(
        web_client,
        page,
        "header-form",
        f"/orders/{order.id}",
        status_reason="pending",
        row_version=str(before.row_version),
    )
    assert refused.status_code == 409
    assert "read-only" in unescape(text_of(refused.text, "form-error"))
    after = loaded(database, Order, order.id)
    assert (after.state, after.status_reason, after.row_version) == (
        OrderState.SUBMITTED,
        before.status_reason,
        before.row_version,
    )


def test_a_quote_made_without_a_price_list_takes_one_on_its_page_and_then_catalogue_products(
    web_client, database, shop
):
    form = web_client.get("/quotes/new").text
    page = followed(
        web_client,
        post_form(web_client, form, "new-quote-form", "/quotes/new", name="Q", customer_id=str(shop.account)),
    )
    [quote] = quotes_of(database)
    assert quote.price_list_id is None
    assert f'<option value="{shop.price_list}">Tarifa EUR (EUR)</option>' in page
    saved = followed(
        web_client,
        post_form(web_client, page, "header-form", f"/quotes/{quote.id}", price_list_id=str(shop.price_list)),
    )
    assert loaded(database, Quote, quote.id).price_list_id == shop.price_list
    added = followed(
        web_client,
        post_form(
            web_client, saved, "lines-existing-form", f"/quotes/{quote.id}/lines", product=shop.choice, quantity="1"
        ),
    )
    assert text_of(added, "document-total-amount") == "€90.00"
