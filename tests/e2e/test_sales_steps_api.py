"""Steps in the life of quotes, orders and invoices over HTTP, on SQLite and PostgreSQL, that the
lead-to-order walk does not take: a quote closed as lost or canceled (and read-only then), the order
of a quote won without one, an order and an invoice canceled, an order's prices locked and priced
again, and an active order's status reason set to Pending and back to New."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.e2e.catalogue import Catalogue, build_catalogue, created, ok, opportunity_with_price_list
from tests.e2e.helpers import API, assert_error, field_errors

LINE_FIGURES = ("quantity", "price_per_unit", "amount", "volume_discount", "manual_discount", "tax", "extended_amount")
TOTALS = (
    "detail_amount",
    "total_line_discount",
    "total_discount_amount",
    "pre_freight_amount",
    "freight_amount",
    "total_tax",
    "total_amount",
)


@dataclass(frozen=True)
class Shop:
    catalogue: Catalogue
    opportunity: str


@pytest.fixture
def shop(client: TestClient) -> Shop:
    """The catalogue, and an opportunity with 12 licences (90.00 each, 5 % off from 10) and a write-in."""
    catalogue = build_catalogue(client)
    opportunity = opportunity_with_price_list(client, catalogue)["id"]
    path = f"{API}/opportunities/{opportunity}/products"
    created(client.post(path, json={"product_id": catalogue.product, "quantity": "12", "tax": "21"}))
    created(client.post(path, json={"write_in_name": "Instalación", "price_per_unit": "250", "quantity": "1"}))
    return Shop(catalogue, opportunity)


def active_quote(client: TestClient, shop: Shop) -> dict[str, Any]:
    quote = created(client.post(f"{API}/opportunities/{shop.opportunity}/quotes"))
    return ok(client.post(f"{API}/quotes/{quote['id']}/activate", headers=if_match(quote)))


def won_quote_without_order(client: TestClient, shop: Shop) -> dict[str, Any]:
    quote = active_quote(client, shop)
    won = ok(
        client.post(
            f"{API}/quotes/{quote['id']}/win",
            json={"create_order": False, "close_opportunity": False},
            headers=if_match(quote),
        )
    )
    assert won["order"] is None and won["opportunity"] is None
    return won["quote"]


def active_order(client: TestClient, shop: Shop) -> dict[str, Any]:
    quote = active_quote(client, shop)
    order = ok(client.post(f"{API}/quotes/{quote['id']}/win", json={"close_opportunity": False}))["order"]
    assert order is not None and order["state"] == "active"
    return order


def if_match(record: dict[str, Any]) -> dict[str, str]:
    return {"If-Match": f'"{record["row_version"]}"'}


def read(client: TestClient, path: str, record_id: str) -> dict[str, Any]:
    return ok(client.get(f"{API}/{path}/{record_id}"))


def figures(line: dict[str, Any]) -> dict[str, Any]:
    return {name: line[name] for name in ("product_id", "product_name", "line_number", *LINE_FIGURES)}


# ---------------------------------------------------------------------------------------------- quotes


@pytest.mark.parametrize("reason", ["lost", "canceled"])
def test_a_quote_closed_as_lost_or_canceled_is_closed_and_read_only(client, shop, reason):
    quote = active_quote(client, shop)

    response = client.post(
        f"{API}/quotes/{quote['id']}/close",
        json={"status_reason": reason, "closed_on": "2026-12-01", "description": "El cliente eligió a otro."},
        headers=if_match(quote),
    )

    closed = ok(response)
    assert response.headers["ETag"] == f'"{closed["row_version"]}"'
    assert (closed["state"], closed["status_reason"], closed["closed_on"]) == ("closed", reason, "2026-12-01")
    assert closed["description"] == "El cliente eligió a otro."
    assert closed["closed_at"] is not None and closed["row_version"] > quote["row_version"]
    assert read(client, "quotes", quote["id"]) == closed

    refused = client.patch(f"{API}/quotes/{quote['id']}", json={"name": "Otro nombre"}, headers=if_match(closed))
    assert_error(refused, 409, "document_closed")
    line = client.post(
        f"{API}/quotes/{quote['id']}/lines", json={"write_in_name": "x", "price_per_unit": "1", "quantity": "1"}
    )
    assert_error(line, 409, "document_closed")
    assert_error(client.post(f"{API}/quotes/{quote['id']}/order"), 409, "quote_not_won")
    assert read(client, "quotes", quote["id"]) == closed


def test_a_closed_quote_cannot_be_closed_again(client, shop):
    quote = active_quote(client, shop)
    closed = ok(client.post(f"{API}/quotes/{quote['id']}/close", json={"status_reason": "lost"}))

    again = client.post(f"{API}/quotes/{quote['id']}/close", json={"status_reason": "canceled"})

    assert_error(again, 409, "quote_not_active")
    assert read(client, "quotes", quote["id"]) == closed


def test_a_won_quote_without_order_makes_its_order_with_its_lines_and_totals(client, shop):
    quote = won_quote_without_order(client, shop)
    assert quote["state"] == "won"

    response = client.post(f"{API}/quotes/{quote['id']}/order")

    order = created(response)
    assert response.headers["Location"] == f"/api/v1/orders/{order['id']}"
    assert response.headers["ETag"] == f'"{order["row_version"]}"'
    assert (order["number"], order["state"], order["status_reason"]) == ("ORD-01000", "active", "new")
    assert (order["quote_id"], order["opportunity_id"], order["customer_id"]) == (
        quote["id"],
        quote["opportunity_id"],
        quote["customer_id"],
    )
    assert order["prices_locked"] is True
    assert [figures(line) for line in order["lines"]] == [figures(line) for line in quote["lines"]]
    assert len(order["lines"]) == 2
    assert {name: order[name] for name in TOTALS} == {name: quote[name] for name in TOTALS}
    # 12 × 90.00 = 1,080.00 − 5 % (54.00) + 21.00 tax = 1,047.00; the write-in 250.00.
    assert order["total_amount"] == "1297.0000"
    assert read(client, "orders", order["id"]) == order

    # A quote makes one order.
    assert_error(client.post(f"{API}/quotes/{quote['id']}/order"), 409, "quote_has_order")
    assert [item["id"] for item in ok(client.get(f"{API}/orders"))["items"]] == [order["id"]]


# ---------------------------------------------------------------------------------------------- orders and invoices


def test_an_active_order_is_canceled_and_read_only_then(client, shop):
    order = active_order(client, shop)

    response = client.post(f"{API}/orders/{order['id']}/cancel", headers=if_match(order))

    canceled = ok(response)
    assert canceled["state"] == "canceled" and canceled["closed_at"] is not None
    assert canceled["row_version"] > order["row_version"]
    assert read(client, "orders", order["id"]) == canceled
    assert_error(client.patch(f"{API}/orders/{order['id']}", json={"name": "x"}), 409, "document_closed")
    assert_error(client.post(f"{API}/orders/{order['id']}/invoice"), 409, "order_canceled")
    assert_error(client.post(f"{API}/orders/{order['id']}/cancel"), 409, "order_closed")
    assert read(client, "orders", order["id"]) == canceled


def test_a_submitted_order_is_canceled(client, shop):
    order = active_order(client, shop)
    ok(client.post(f"{API}/orders/{order['id']}/submit"))

    canceled = ok(client.post(f"{API}/orders/{order['id']}/cancel"))

    assert canceled["state"] == "canceled"


def test_an_active_invoice_is_canceled_and_read_only_then(client, shop):
    order = active_order(client, shop)
    invoice = created(client.post(f"{API}/orders/{order['id']}/invoice"))
    assert (invoice["state"], invoice["status_reason"]) == ("active", "new")

    canceled = ok(client.post(f"{API}/invoices/{invoice['id']}/cancel", headers=if_match(invoice)))

    assert (canceled["state"], canceled["status_reason"]) == ("canceled", "canceled")
    assert canceled["closed_at"] is not None
    assert read(client, "invoices", invoice["id"]) == canceled
    assert_error(client.patch(f"{API}/invoices/{invoice['id']}", json={"name": "x"}), 409, "document_closed")
    assert_error(client.post(f"{API}/invoices/{invoice['id']}/pay", json={}), 409, "invoice_not_active")
    assert read(client, "invoices", invoice["id"]) == canceled
    # The order stays as it was.
    assert read(client, "orders", order["id"])["state"] == "active"


def test_a_stale_if_match_does_not_cancel_an_order(client, shop):
    order = active_order(client, shop)
    ok(client.patch(f"{API}/orders/{order['id']}", json={"name": "Pedido cambiado"}, headers=if_match(order)))
    current = read(client, "orders", order["id"])

    stale = client.post(f"{API}/orders/{order['id']}/cancel", headers=if_match(order))

    assert_error(stale, 412, "stale_etag")
    assert read(client, "orders", order["id"]) == current


def test_an_orders_prices_are_unlocked_and_locked_again(client, shop):
    order = active_order(client, shop)
    assert order["prices_locked"] is True
    # The price list changes: 80 % of the list price instead of 90 %.
    items = client.get(f"{API}/price-lists/{shop.catalogue.price_list}/items")
    assert items.status_code == 200, items.text
    item = next(
        item
        for item in items.json()
        if item["product_id"] == shop.catalogue.product and item["unit_id"] == shop.catalogue.licence
    )
    ok(client.patch(f"{API}/price-lists/{shop.catalogue.price_list}/items/{item['id']}", json={"percentage": "80"}))

    unlocked = ok(client.post(f"{API}/orders/{order['id']}/unlock-pricing", headers=if_match(order)))

    assert unlocked["prices_locked"] is False
    licence_line, write_in = unlocked["lines"]
    # 12 × 80.00 = 960.00 − 5 % (48.00) + 21.00 = 933.00; the write-in keeps its 250.00.
    assert (licence_line["price_per_unit"], licence_line["extended_amount"]) == ("80.0000", "933.0000")
    assert write_in["extended_amount"] == "250.0000"
    assert unlocked["total_amount"] == "1183.0000"
    assert read(client, "orders", order["id"]) == unlocked

    locked = ok(client.post(f"{API}/orders/{order['id']}/lock-pricing", headers=if_match(unlocked)))

    assert locked["prices_locked"] is True
    assert locked["total_amount"] == "1183.0000"
    assert read(client, "orders", order["id"]) == locked


def test_an_unlocked_order_is_locked(client, shop):
    order = active_order(client, shop)
    unlocked = ok(client.post(f"{API}/orders/{order['id']}/unlock-pricing"))
    assert unlocked["prices_locked"] is False
    # The price list did not change: the prices stay.
    assert unlocked["total_amount"] == order["total_amount"]

    locked = ok(client.post(f"{API}/orders/{order['id']}/lock-pricing", headers=if_match(unlocked)))

    assert locked["prices_locked"] is True and locked["row_version"] > unlocked["row_version"]
    assert read(client, "orders", order["id"])["prices_locked"] is True


def test_a_canceled_orders_prices_are_not_unlocked(client, shop):
    order = active_order(client, shop)
    canceled = ok(client.post(f"{API}/orders/{order['id']}/cancel"))

    assert_error(client.post(f"{API}/orders/{order['id']}/unlock-pricing"), 409, "document_closed")
    assert read(client, "orders", order["id"]) == canceled


# ---------------------------------------------------------------------------------------------- an order's status reason


def test_an_active_orders_status_reason_is_set_to_pending_and_back_to_new(client, shop):
    order = active_order(client, shop)
    assert order["status_reason"] == "new"

    response = client.patch(f"{API}/orders/{order['id']}", json={"status_reason": "pending"}, headers=if_match(order))

    pending = ok(response)
    assert (pending["state"], pending["status_reason"]) == ("active", "pending")
    assert response.headers["ETag"] == f'"{pending["row_version"]}"'
    assert pending["row_version"] > order["row_version"]
    assert read(client, "orders", order["id"]) == pending
    listed = ok(client.get(f"{API}/orders"))["items"]
    assert [(item["id"], item["status_reason"]) for item in listed] == [(order["id"], "pending")]

    back = ok(client.patch(f"{API}/orders/{order['id']}", json={"status_reason": "new"}, headers=if_match(pending)))

    assert (back["state"], back["status_reason"]) == ("active", "new")
    assert read(client, "orders", order["id"]) == back
    # A pending order still goes on: it is submitted as usual.
    pending = ok(client.patch(f"{API}/orders/{order['id']}", json={"status_reason": "pending"}))
    submitted = ok(client.post(f"{API}/orders/{order['id']}/submit", headers=if_match(pending)))
    assert (submitted["state"], submitted["status_reason"]) == ("submitted", "in_progress")


@pytest.mark.parametrize("reason", ["complete", "in_progress", "partial", "no_money", "canceled", "PENDING", ""])
def test_a_status_reason_not_of_an_active_order_is_refused(client, shop, reason):
    order = active_order(client, shop)

    refused = client.patch(f"{API}/orders/{order['id']}", json={"status_reason": reason}, headers=if_match(order))

    error = assert_error(refused, 422, "invalid_option")
    assert field_errors(error) == {"status_reason": "invalid_option"}
    assert error["message"] == "Status reason must be one of 'new' or 'pending'."
    assert read(client, "orders", order["id"]) == order


def test_a_null_status_reason_is_refused(client, shop):
    order = active_order(client, shop)

    refused = client.patch(f"{API}/orders/{order['id']}", json={"status_reason": None})

    assert refused.status_code == 422, refused.text
    assert read(client, "orders", order["id"]) == order


def test_a_submitted_orders_status_reason_is_not_changed(client, shop):
    order = active_order(client, shop)
    submitted = ok(client.post(f"{API}/orders/{order['id']}/submit", headers=if_match(order)))

    refused = client.patch(
        f"{API}/orders/{order['id']}", json={"status_reason": "pending"}, headers=if_match(submitted)
    )

    assert_error(refused, 409, "document_closed")
    assert read(client, "orders", order["id"]) == submitted
    assert submitted["status_reason"] == "in_progress"


def test_a_stale_status_reason_change_is_refused(client, shop):
    order = active_order(client, shop)
    pending = ok(client.patch(f"{API}/orders/{order['id']}", json={"status_reason": "pending"}))

    stale = client.patch(f"{API}/orders/{order['id']}", json={"status_reason": "new"}, headers=if_match(order))

    assert_error(stale, 412, "stale_etag")
    assert read(client, "orders", order["id"]) == pending


def test_quotes_and_invoices_take_no_status_reason_by_patch(client, shop):
    order = active_order(client, shop)
    invoice = created(client.post(f"{API}/orders/{order['id']}/invoice"))
    draft = created(client.post(f"{API}/opportunities/{shop.opportunity}/quotes"))

    for path, record, reason in (("invoices", invoice, "complete"), ("quotes", draft, "won")):
        refused = client.patch(f"{API}/{path}/{record['id']}", json={"status_reason": reason})
        assert refused.status_code == 422, (path, refused.text)
        assert read(client, path, record["id"]) == record


def test_a_refused_status_reason_is_explained_in_spanish(client, shop):
    order = active_order(client, shop)

    refused = client.patch(
        f"{API}/orders/{order['id']}",
        json={"status_reason": "complete"},
        headers={"Accept-Language": "es-ES,es;q=0.9"},
    )

    error = assert_error(refused, 422, "invalid_option")
    assert error["message"] == "status_reason: Elija una de las opciones."
    assert read(client, "orders", order["id"]) == order
