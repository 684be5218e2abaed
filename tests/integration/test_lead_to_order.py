"""Lead to order on SQLite and PostgreSQL through the services: catalogue, opportunity products,
quote → activate → revise → activate → win → order → fulfil → invoice → paid, with every total
checked to the cent, and the refusals that leave nothing half-written."""

from __future__ import annotations

import threading
import uuid
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from leadflow.catalog import service as catalog
from leadflow.catalog.models import DiscountKind, PricingMethod, RoundingOption, RoundingPolicy
from leadflow.catalog.schemas import (
    DiscountListCreate,
    LineCreate,
    LineUpdate,
    PriceListCreate,
    PriceListItemCreate,
    ProductCreate,
    TierIn,
    UnitCreate,
    UnitGroupCreate,
)
from leadflow.core.errors import Forbidden, InvalidState, LeadflowError, ValidationFailed
from leadflow.core.uow import Database
from leadflow.customers.schemas import AccountCreate
from leadflow.customers.service import create_account
from leadflow.opportunities.models import Opportunity, OpportunityProduct, OpportunityState, RevenueCalculation
from leadflow.opportunities.schemas import OpportunityCreate, OpportunityUpdate
from leadflow.opportunities.service import create_opportunity, update_opportunity
from leadflow.sales import service as sales
from leadflow.sales.models import (
    DocumentKind,
    InvoiceState,
    InvoiceStatusReason,
    OrderState,
    OrderStatusReason,
    Quote,
    QuoteState,
    QuoteStatusReason,
)
from leadflow.sales.schemas import CloseQuote, FulfilOrder, PayInvoice, WinQuote
from leadflow.security.actor import Actor, actor_for_email
from leadflow.security.service import create_user

D = Decimal


class Catalogue:
    """Licences sold singly or in packs of 10, on a euro price list with volume discounts."""

    def __init__(self, database: Database, actor: Actor) -> None:
        with database.unit_of_work() as uow:
            group = catalog.create_unit_group(
                UnitGroupCreate(name="Licencias", base_unit="Licencia"), uow=uow, actor=actor
            )
            self.licence = group.base_unit.id
            self.pack = catalog.add_unit(group.id, UnitCreate(name="Pack 10", quantity=D(10)), uow=uow, actor=actor).id
            product = catalog.create_product(
                ProductCreate(
                    number="LIC-STD",
                    name="Licencia estándar",
                    unit_group_id=group.id,
                    default_unit_id=self.licence,
                    list_price=D("100.00"),
                    standard_cost=D("40.00"),
                    current_cost=D("45.00"),
                ),
                uow=uow,
                actor=actor,
            )
            catalog.change_product_state(product.id, publish=True, uow=uow, actor=actor)
            self.product = product.id
            draft = catalog.create_product(
                ProductCreate(number="LIC-OLD", name="Old", unit_group_id=group.id, default_unit_id=self.licence),
                uow=uow,
                actor=actor,
            )
            self.draft_product = draft.id
            discounts = catalog.create_discount_list(
                DiscountListCreate(
                    name="Volumen",
                    kind=DiscountKind.PERCENTAGE,
                    tiers=[TierIn(begin_quantity=D(10), end_quantity=D(99), value=D(5))],
                ),
                uow=uow,
                actor=actor,
            )
            price_list = catalog.create_price_list(
                PriceListCreate(name="Tarifa EUR", currency="EUR"), uow=uow, actor=actor
            )
            self.price_list = price_list.id
            catalog.add_price_list_item(
                price_list.id,
                PriceListItemCreate(
                    product_id=product.id,
                    unit_id=self.licence,
                    pricing_method=PricingMethod.PERCENT_OF_LIST,
                    percentage=D(90),
                    discount_list_id=discounts.id,
                ),
                uow=uow,
                actor=actor,
            )
            catalog.add_price_list_item(
                price_list.id,
                PriceListItemCreate(
                    product_id=product.id,
                    unit_id=self.pack,
                    pricing_method=PricingMethod.MARGIN_STANDARD_COST,
                    percentage=D(40),
                    rounding_policy=RoundingPolicy.UP,
                    rounding_option=RoundingOption.ENDS_IN,
                    rounding_amount=D("0.99"),
                ),
                uow=uow,
                actor=actor,
            )
            account = create_account(AccountCreate(name="Muebles Ruiz", address_city="Sevilla"), uow=uow, actor=actor)
            self.account = account.id
            opportunity = create_opportunity(
                OpportunityCreate(
                    name="Licencias 2027",
                    customer_id=account.id,
                    price_list_id=price_list.id,
                    revenue_calculation=RevenueCalculation.SYSTEM,
                ),
                uow=uow,
                actor=actor,
            )
            self.opportunity = opportunity.id
            uow.commit()


@pytest.fixture
def catalogue(database: Database, actor: Actor) -> Catalogue:
    return Catalogue(database, actor)


def test_opportunity_products_are_priced_from_the_price_list_and_the_totals_follow(database, actor, catalogue):
    with database.unit_of_work() as uow:
        # 12 licences at 90 % of 100.00 = 90.00; 1,080.00; 5 % volume discount 54.00; manual 10; tax 21.
        line = sales.add_opportunity_product(
            catalogue.opportunity,
            LineCreate(product_id=catalogue.product, quantity=D(12), manual_discount=D(10), tax=D(21)),
            uow=uow,
            actor=actor,
        )
        assert (line.price_per_unit, line.amount, line.volume_discount) == (D("90.00"), D("1080.00"), D("54.00"))
        assert line.extended_amount == D("1037.00")
        # A pack: margin 40 % over standard cost 40.00 → 66.666… → up, ending in .99 → 66.99.
        pack = sales.add_opportunity_product(
            catalogue.opportunity,
            LineCreate(product_id=catalogue.product, unit_id=catalogue.pack, quantity=D(2)),
            uow=uow,
            actor=actor,
        )
        assert pack.price_per_unit == D("66.99") and pack.extended_amount == D("133.98")
        sales.add_opportunity_product(
            catalogue.opportunity,
            LineCreate(write_in_name="Instalación", price_per_unit=D("250.00"), quantity=D(1)),
            uow=uow,
            actor=actor,
        )
        update_opportunity(
            catalogue.opportunity,
            OpportunityUpdate(discount_percentage=D(10), freight_amount=D("15.50")),
            uow=uow,
            actor=actor,
        )
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        opportunity = uow.session.get(Opportunity, catalogue.opportunity)
        # Lines before tax: 1016.00 + 133.98 + 250.00 = 1399.98; 10 % → 140.00 (139.998); tax 21.
        assert opportunity.detail_amount == D("1399.98")
        assert opportunity.total_discount_amount == D("140.00")
        assert opportunity.pre_freight_amount == D("1259.98")
        assert opportunity.total_tax == D("21.00")
        assert opportunity.total_amount == D("1296.48")
        assert opportunity.estimated_revenue == D("1296.48")


def test_the_whole_way_from_opportunity_to_paid_invoice(database, actor, catalogue):
    with database.unit_of_work() as uow:
        sales.add_opportunity_product(
            catalogue.opportunity,
            LineCreate(product_id=catalogue.product, quantity=D(3), tax=D("56.70")),
            uow=uow,
            actor=actor,
        )
        quote = sales.quote_from_opportunity(catalogue.opportunity, uow=uow, actor=actor)
        assert quote.number == "QUO-01000" and quote.revision == 0 and quote.state is QuoteState.DRAFT
        assert [line.extended_amount for line in quote.lines] == [D("326.70")]
        assert quote.billing_address == "Sevilla"
        sales.activate_quote(quote.id, uow=uow, actor=actor)
        revised = sales.revise_quote(quote.id, uow=uow, actor=actor)
        assert (quote.state, quote.status_reason) == (QuoteState.CLOSED, QuoteStatusReason.REVISED)
        assert (revised.number, revised.revision, revised.state) == ("QUO-01000", 1, QuoteState.DRAFT)
        sales.add_document_line(
            DocumentKind.QUOTE,
            revised.id,
            LineCreate(write_in_name="Formación", price_per_unit=D("99.99"), quantity=D(1)),
            uow=uow,
            actor=actor,
        )
        assert revised.total_amount == D("426.69")
        sales.activate_quote(revised.id, uow=uow, actor=actor)
        won, order, opportunity = sales.win_quote(
            revised.id, WinQuote(date_won=date(2026, 12, 7)), uow=uow, actor=actor
        )
        assert won.state is QuoteState.WON and order is not None and order.number == "ORD-01000"
        assert opportunity is not None and opportunity.state is OpportunityState.WON
        assert opportunity.actual_revenue == D("426.69")
        assert order.prices_locked and order.total_amount == D("426.69")
        sales.submit_order(order.id, uow=uow, actor=actor)
        sales.fulfil_order(order.id, FulfilOrder(status_reason=OrderStatusReason.COMPLETE), uow=uow, actor=actor)
        assert order.state is OrderState.FULFILLED
        invoice = sales.invoice_from_order(order.id, uow=uow, actor=actor)
        assert invoice.number == "INV-01000" and invoice.total_amount == D("426.69")
        sales.pay_invoice(invoice.id, PayInvoice(status_reason=InvoiceStatusReason.COMPLETE), uow=uow, actor=actor)
        assert invoice.state is InvoiceState.PAID
        uow.commit()


def test_closed_documents_are_read_only(database, actor, catalogue):
    with database.unit_of_work() as uow:
        sales.add_opportunity_product(
            catalogue.opportunity, LineCreate(product_id=catalogue.product, quantity=D(1)), uow=uow, actor=actor
        )
        quote = sales.quote_from_opportunity(catalogue.opportunity, uow=uow, actor=actor)
        sales.activate_quote(quote.id, uow=uow, actor=actor)
        sales.close_quote(quote.id, CloseQuote(status_reason=QuoteStatusReason.LOST), uow=uow, actor=actor)
        with pytest.raises(InvalidState) as refused:
            sales.add_document_line(
                DocumentKind.QUOTE,
                quote.id,
                LineCreate(write_in_name="x", price_per_unit=D(1), quantity=D(1)),
                uow=uow,
                actor=actor,
            )
        assert refused.value.code == "document_closed"
        with pytest.raises(InvalidState) as refused:
            sales.order_from_quote(quote.id, uow=uow, actor=actor)
        assert refused.value.code == "quote_not_won"


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (dict(quantity=D("1.5")), "quantity_decimals"),
        (dict(quantity=D(1), unit_id="foreign"), "unit_not_in_group"),
        (dict(quantity=D(1), product_id="draft"), "product_not_active"),
        (dict(quantity=D(1), manual_discount=D("95.00")), "discount_over_amount"),
    ],
)
def test_bad_lines_are_refused_and_leave_nothing(database, actor, catalogue, line, code):
    with database.unit_of_work() as uow:
        other = catalog.create_unit_group(UnitGroupCreate(name="Horas", base_unit="Hora"), uow=uow, actor=actor)
        uow.commit()
    values = {"product_id": catalogue.product, **line}
    if values.get("unit_id") == "foreign":
        values["unit_id"] = other.base_unit.id
    if values.get("product_id") == "draft":
        values["product_id"] = catalogue.draft_product
    with database.unit_of_work() as uow, pytest.raises(LeadflowError) as refused:
        sales.add_opportunity_product(catalogue.opportunity, LineCreate(**values), uow=uow, actor=actor)
    assert refused.value.code == code
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(OpportunityProduct)) == 0


def test_a_price_list_in_another_currency_is_refused(database, actor, catalogue):
    with database.unit_of_work() as uow:
        usd = catalog.create_price_list(PriceListCreate(name="USD", currency="USD"), uow=uow, actor=actor)
        uow.commit()
    with database.unit_of_work() as uow, pytest.raises(ValidationFailed) as refused:
        update_opportunity(catalogue.opportunity, OpportunityUpdate(price_list_id=usd.id), uow=uow, actor=actor)
    assert refused.value.code == "price_list_currency"


def test_activating_a_quote_without_lines_is_refused(database, actor, catalogue):
    with database.unit_of_work() as uow:
        quote = sales.quote_from_opportunity(catalogue.opportunity, uow=uow, actor=actor)
        with pytest.raises(InvalidState) as refused:
            sales.activate_quote(quote.id, uow=uow, actor=actor)
    assert refused.value.code == "quote_has_no_lines"


def test_overriding_a_price_needs_the_privilege(database, actor, catalogue):
    with database.unit_of_work() as uow:
        create_user(
            email="seller@example.com",
            full_name="Sam Seller",
            role_names=["Salesperson"],
            business_unit_name=None,
            password=None,
            uow=uow,
            actor=actor,
        )
        uow.commit()
    with database.unit_of_work() as uow:
        seller = actor_for_email(uow.session, "seller@example.com")
        opportunity = create_opportunity(
            OpportunityCreate(name="Mine", price_list_id=catalogue.price_list), uow=uow, actor=seller
        )
        with pytest.raises(Forbidden) as refused:
            sales.add_opportunity_product(
                opportunity.id,
                LineCreate(product_id=catalogue.product, quantity=D(1), price_per_unit=D(1)),
                uow=uow,
                actor=seller,
            )
        assert refused.value.code == "price_override_forbidden"
        line = sales.add_opportunity_product(
            opportunity.id, LineCreate(product_id=catalogue.product, quantity=D(1)), uow=uow, actor=seller
        )
        assert line.price_per_unit == D("90.00")


def test_twenty_concurrent_quotes_take_twenty_numbers_without_gaps(database, actor, catalogue):
    failures: list[BaseException] = []
    barrier = threading.Barrier(20)

    def create() -> None:
        try:
            barrier.wait()
            for _attempt in range(20):
                try:
                    with database.unit_of_work() as uow:
                        sales.quote_from_opportunity(catalogue.opportunity, uow=uow, actor=actor)
                        uow.commit()
                    return
                except LeadflowError as error:  # SQLite's one writer: "busy", try again
                    if error.code != "concurrent_update":
                        raise
        except BaseException as error:  # noqa: BLE001 (reported below)
            failures.append(error)

    threads = [threading.Thread(target=create) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with database.unit_of_work(read_only=True) as uow:
        numbers = sorted(uow.session.scalars(select(Quote.number)))
    assert numbers == [f"QUO-{number:05d}" for number in range(1000, 1020)]


def test_a_rolled_back_creation_gives_its_number_back(database, actor, catalogue):
    with database.unit_of_work() as uow:
        sales.quote_from_opportunity(catalogue.opportunity, uow=uow, actor=actor)  # not committed
    with database.unit_of_work() as uow:
        quote = sales.quote_from_opportunity(catalogue.opportunity, uow=uow, actor=actor)
        uow.commit()
    assert quote.number == "QUO-01000"


def test_a_line_update_reprices_it(database, actor, catalogue):
    with database.unit_of_work() as uow:
        line = sales.add_opportunity_product(
            catalogue.opportunity, LineCreate(product_id=catalogue.product, quantity=D(2)), uow=uow, actor=actor
        )
        sales.update_opportunity_product(
            catalogue.opportunity, line.id, LineUpdate(quantity=D(10)), uow=uow, actor=actor
        )
        assert (line.amount, line.volume_discount, line.extended_amount) == (D("900.00"), D("45.00"), D("855.00"))
        uow.commit()
    assert uuid.UUID(str(line.id))


def test_a_won_quote_prints_in_both_languages(database, actor, catalogue):
    import io

    from pypdf import PdfReader

    from leadflow.sales.printing import document_pdf

    with database.unit_of_work() as uow:
        sales.add_opportunity_product(
            catalogue.opportunity, LineCreate(product_id=catalogue.product, quantity=D(3)), uow=uow, actor=actor
        )
        quote = sales.quote_from_opportunity(catalogue.opportunity, uow=uow, actor=actor)
        sales.activate_quote(quote.id, uow=uow, actor=actor)
        spanish = document_pdf(DocumentKind.QUOTE, quote.id, uow=uow, actor=actor, language="es")
        english = document_pdf(DocumentKind.QUOTE, quote.id, uow=uow, actor=actor, language="en")
    text_es = "".join(page.extract_text() for page in PdfReader(io.BytesIO(spanish.content)).pages)
    text_en = "".join(page.extract_text() for page in PdfReader(io.BytesIO(english.content)).pages)
    assert spanish.filename == "QUO-01000.pdf"
    assert "Oferta" in text_es and "Activa" in text_es and "Muebles Ruiz" in text_es and "270,00" in text_es
    assert "Quote" in text_en and "Active" in text_en and "270.00" in text_en


def test_merging_accounts_moves_their_quotes_to_the_master_and_unmerge_moves_them_back(database, actor, catalogue):
    from leadflow.duplicates import merge as merging
    from leadflow.sales.schemas import QuoteCreate

    with database.unit_of_work() as uow:
        other = create_account(AccountCreate(name="Muebles Ruiz S.L."), uow=uow, actor=actor, suppress_duplicates=True)
        quote = sales.create_quote(QuoteCreate(name="Sillas", customer_id=other.id), uow=uow, actor=actor)
        uow.commit()
    with database.unit_of_work() as uow:
        journal = merging.merge_records("accounts", catalogue.account, other.id, uow=uow, actor=actor)
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.get(Quote, quote.id).customer_id == catalogue.account
    with database.unit_of_work() as uow:
        merging.undo_merge(journal.id, uow=uow, actor=actor)
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.get(Quote, quote.id).customer_id == other.id


def test_a_locked_order_keeps_its_prices_and_current_pricing_takes_the_price_lists_again(database, actor, catalogue):
    from leadflow.catalog.schemas import PriceListItemUpdate

    with database.unit_of_work() as uow:
        sales.add_opportunity_product(
            catalogue.opportunity, LineCreate(product_id=catalogue.product, quantity=D(2)), uow=uow, actor=actor
        )
        quote = sales.quote_from_opportunity(catalogue.opportunity, uow=uow, actor=actor)
        sales.activate_quote(quote.id, uow=uow, actor=actor)
        _won, order, _opportunity = sales.win_quote(quote.id, WinQuote(close_opportunity=False), uow=uow, actor=actor)
        uow.commit()
    with database.unit_of_work() as uow:
        items = catalog.list_price_list_items(catalogue.price_list, uow=uow, actor=actor)
        item = next(item for item in items if item.unit_id == catalogue.licence)
        catalog.update_price_list_item(
            catalogue.price_list, item.id, PriceListItemUpdate(percentage=D(80)), uow=uow, actor=actor
        )
        uow.commit()
    with database.unit_of_work() as uow:
        line = order.lines[0]
        changed = sales.update_document_line(
            DocumentKind.ORDER, order.id, line.id, LineUpdate(quantity=D(3)), uow=uow, actor=actor
        )
        assert changed.price_per_unit == D("90.00") and changed.amount == D("270.00")
        unlocked = sales.set_prices_locked(DocumentKind.ORDER, order.id, locked=False, uow=uow, actor=actor)
        assert [line.price_per_unit for line in unlocked.lines] == [D("80.00")]
        assert unlocked.total_amount == D("240.00")
        uow.commit()


def test_an_opportunitys_quotes_list_only_those_the_reader_may_read(database, actor, catalogue):
    from leadflow.security.service import create_business_unit, share_record

    with database.unit_of_work() as uow:
        create_business_unit("Sur", parent_name=None, uow=uow, actor=actor)
        seller = create_user(
            email="south@example.com",
            full_name="Sol Sur",
            role_names=["Salesperson"],
            business_unit_name="Sur",
            password=None,
            uow=uow,
            actor=actor,
        )
        quote = sales.quote_from_opportunity(catalogue.opportunity, uow=uow, actor=actor)
        opportunity = uow.session.get(Opportunity, catalogue.opportunity)
        share_record(
            "opportunities", opportunity, user_id=seller.id, team_id=None, rights={"read"}, uow=uow, actor=actor
        )
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        south = actor_for_email(uow.session, "south@example.com")
        assert (
            sales.list_documents(
                DocumentKind.QUOTE, opportunity_id=catalogue.opportunity, uow=uow, actor=south, limit=50
            ).items
            == []
        )
        everyone = sales.list_documents(
            DocumentKind.QUOTE, opportunity_id=catalogue.opportunity, uow=uow, actor=actor, limit=50
        )
        assert [item.id for item in everyone.items] == [quote.id]


def test_overlapping_tiers_are_named_by_their_place_in_the_input(database, actor, catalogue):
    tiers = [
        TierIn(begin_quantity=D(50), end_quantity=D(99), value=D(5)),
        TierIn(begin_quantity=D(1), end_quantity=D(60), value=D(2)),
    ]
    with database.unit_of_work() as uow, pytest.raises(ValidationFailed) as refused:
        catalog.create_discount_list(DiscountListCreate(name="Solapada", tiers=tiers), uow=uow, actor=actor)
    assert refused.value.code == "tiers_overlap"
    assert refused.value.details["fields"][0]["field"] == "tiers.0.begin_quantity"


def test_a_priced_draft_product_cannot_move_to_another_unit_group(database, actor, catalogue):
    from leadflow.catalog.schemas import ProductUpdate
    from leadflow.core.errors import Conflict

    with database.unit_of_work() as uow:
        hours = catalog.create_unit_group(UnitGroupCreate(name="Horas", base_unit="Hora"), uow=uow, actor=actor)
        catalog.add_price_list_item(
            catalogue.price_list,
            PriceListItemCreate(product_id=catalogue.draft_product, unit_id=catalogue.licence, amount=D(10)),
            uow=uow,
            actor=actor,
        )
        uow.commit()
    with database.unit_of_work() as uow, pytest.raises(Conflict) as refused:
        catalog.update_product(
            catalogue.draft_product,
            ProductUpdate(unit_group_id=hours.id, default_unit_id=hours.base_unit.id),
            uow=uow,
            actor=actor,
        )
    assert refused.value.code == "product_has_prices"
