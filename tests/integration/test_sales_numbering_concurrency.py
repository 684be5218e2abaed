"""Order and invoice numbers under concurrency, on SQLite and PostgreSQL: twenty orders made at once
from twenty won quotes, and twenty invoices made at once from twenty orders, each in a unit of work
of its own, take exactly the twenty numbers that follow the start, each once, none skipped."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from leadflow.catalog.schemas import LineCreate
from leadflow.core.errors import LeadflowError
from leadflow.core.uow import Database
from leadflow.sales import numbering
from leadflow.sales import service as sales
from leadflow.sales.models import DocumentKind, DocumentNumbering, Invoice, InvoiceState, Order, OrderState
from leadflow.sales.schemas import WinQuote
from leadflow.security.actor import Actor
from tests.integration.test_lead_to_order import Catalogue

D = Decimal
COUNT = 20

pytestmark = pytest.mark.concurrency


@pytest.fixture
def catalogue(database: Database, actor: Actor) -> Catalogue:
    return Catalogue(database, actor)


def won_quotes(database: Database, actor: Actor, catalogue: Catalogue, count: int = COUNT) -> list[uuid.UUID]:
    """``count`` quotes of the catalogue's opportunity, activated and won without their orders."""
    with database.unit_of_work() as uow:
        sales.add_opportunity_product(
            catalogue.opportunity, LineCreate(product_id=catalogue.product, quantity=D(3)), uow=uow, actor=actor
        )
        uow.commit()
    ids: list[uuid.UUID] = []
    with database.unit_of_work() as uow:
        for _ in range(count):
            quote = sales.quote_from_opportunity(catalogue.opportunity, uow=uow, actor=actor)
            sales.activate_quote(quote.id, uow=uow, actor=actor)
            won, order, _opportunity = sales.win_quote(
                quote.id, WinQuote(create_order=False, close_opportunity=False), uow=uow, actor=actor
            )
            assert order is None
            ids.append(won.id)
        uow.commit()
    return ids


def orders_of(database: Database, actor: Actor, quote_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """The orders of the quotes, made one after the other."""
    with database.unit_of_work() as uow:
        ids = [sales.order_from_quote(quote_id, uow=uow, actor=actor).id for quote_id in quote_ids]
        uow.commit()
    return ids


def next_number(database: Database, kind: DocumentKind) -> int | None:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalar(select(DocumentNumbering.next_number).where(DocumentNumbering.kind == kind))


def all_at_once(database: Database, service: Callable[..., Any], ids: list[uuid.UUID], actor: Actor) -> list[str]:
    """``service(id)`` for every id, each in a thread and a unit of work of its own, started together;
    answers the numbers the committed documents took (SQLite's one writer: "busy" is tried again)."""
    failures: list[BaseException] = []
    numbers: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(ids))

    def create(document_id: uuid.UUID) -> None:
        try:
            barrier.wait()
            for _attempt in range(40):
                try:
                    with database.unit_of_work() as uow:
                        made = service(document_id, uow=uow, actor=actor)
                        number = made.number
                        uow.commit()
                    with lock:
                        numbers.append(number)
                    return
                except LeadflowError as error:
                    if error.code != "concurrent_update":
                        raise
            raise AssertionError(f"{document_id}: still busy after 40 attempts")
        except BaseException as error:  # noqa: BLE001 (reported below)
            failures.append(error)

    threads = [threading.Thread(target=create, args=(document_id,)) for document_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    return numbers


def test_twenty_concurrent_orders_take_twenty_numbers_without_gaps(database, actor, catalogue):
    quotes = won_quotes(database, actor, catalogue)
    assert next_number(database, DocumentKind.ORDER) is None  # no order yet: numbering starts at ORD-01000

    taken = all_at_once(database, sales.order_from_quote, quotes, actor)

    expected = [f"ORD-{number:05d}" for number in range(1000, 1000 + COUNT)]
    assert sorted(taken) == expected
    with database.unit_of_work(read_only=True) as uow:
        orders = uow.session.scalars(select(Order)).all()
        assert sorted(order.number for order in orders) == expected
        # One order per quote, each active with the quote's total.
        assert sorted(order.quote_id for order in orders) == sorted(quotes)
        assert {order.state for order in orders} == {OrderState.ACTIVE}
        assert {order.total_amount for order in orders} == {D("270.00")}
    assert next_number(database, DocumentKind.ORDER) == 1000 + COUNT


def test_twenty_concurrent_orders_continue_from_a_changed_start(database, actor, catalogue):
    quotes = won_quotes(database, actor, catalogue)
    with database.unit_of_work() as uow:
        numbering.change_numbering(DocumentKind.ORDER, prefix="PED", next_number=7301, uow=uow, actor=actor)
        uow.commit()

    taken = all_at_once(database, sales.order_from_quote, quotes, actor)

    assert sorted(taken) == [f"PED-{number:05d}" for number in range(7301, 7301 + COUNT)]
    assert next_number(database, DocumentKind.ORDER) == 7301 + COUNT


def test_twenty_concurrent_invoices_take_twenty_numbers_without_gaps(database, actor, catalogue):
    orders = orders_of(database, actor, won_quotes(database, actor, catalogue))
    assert next_number(database, DocumentKind.INVOICE) is None

    taken = all_at_once(database, sales.invoice_from_order, orders, actor)

    expected = [f"INV-{number:05d}" for number in range(1000, 1000 + COUNT)]
    assert sorted(taken) == expected
    with database.unit_of_work(read_only=True) as uow:
        invoices = uow.session.scalars(select(Invoice)).all()
        assert sorted(invoice.number for invoice in invoices) == expected
        assert sorted(invoice.order_id for invoice in invoices) == sorted(orders)
        assert {invoice.state for invoice in invoices} == {InvoiceState.ACTIVE}
        assert {invoice.total_amount for invoice in invoices} == {D("270.00")}
        # The orders' own numbers were taken before, one after the other, and did not move.
        assert sorted(uow.session.scalars(select(Order.number))) == [
            f"ORD-{number:05d}" for number in range(1000, 1000 + COUNT)
        ]
    assert next_number(database, DocumentKind.INVOICE) == 1000 + COUNT


def test_twenty_concurrent_invoices_of_one_order_take_twenty_numbers_without_gaps(database, actor, catalogue):
    """An order may be invoiced several times (partial invoicing): twenty invoices of the same order at once."""
    (order,) = orders_of(database, actor, won_quotes(database, actor, catalogue, count=1))

    taken = all_at_once(database, sales.invoice_from_order, [order] * COUNT, actor)

    assert sorted(taken) == [f"INV-{number:05d}" for number in range(1000, 1000 + COUNT)]
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Invoice).where(Invoice.order_id == order)) == COUNT


def test_twenty_concurrent_orders_of_one_quote_make_one_order_and_take_one_number(database, actor, catalogue):
    (quote,) = won_quotes(database, actor, catalogue, count=1)
    failures: list[BaseException] = []
    numbers: list[str] = []
    refusals: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(COUNT)

    def create() -> None:
        try:
            barrier.wait()
            for _attempt in range(40):
                try:
                    with database.unit_of_work() as uow:
                        number = sales.order_from_quote(quote, uow=uow, actor=actor).number
                        uow.commit()
                    with lock:
                        numbers.append(number)
                    return
                except LeadflowError as error:
                    if error.code == "quote_has_order":
                        with lock:
                            refusals.append(error.code)
                        return
                    if error.code != "concurrent_update":
                        raise
            raise AssertionError("still busy after 40 attempts")
        except BaseException as error:  # noqa: BLE001 (reported below)
            failures.append(error)

    threads = [threading.Thread(target=create) for _ in range(COUNT)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert (numbers, len(refusals)) == (["ORD-01000"], COUNT - 1)
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalars(select(Order.number)).all() == ["ORD-01000"]
    # The refused creations took no number: the next order is ORD-01001.
    assert next_number(database, DocumentKind.ORDER) == 1001
