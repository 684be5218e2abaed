"""Currencies over HTTP: rates captured by each record's money, base amounts, recalculation, refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.e2e.helpers import API, assert_error, field_errors, get_record, money


def _currencies(client) -> list[dict]:
    response = client.get(f"{API}/currencies")
    assert response.status_code == 200, response.text
    return response.json()


def _enable(client, code: str, rate: str) -> dict:
    response = client.post(f"{API}/currencies", json={"iso_code": code, "exchange_rate": rate, "precision": 2})
    assert response.status_code == 201, response.text
    return response.json()


def _opportunity(client, currency: str, revenue: str) -> dict:
    response = client.post(
        f"{API}/opportunities", json={"name": "Deal", "currency": currency, "estimated_revenue": revenue}
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_the_base_currency_comes_first_with_rate_one_and_cannot_move_off_it(client):
    base, *_ = _currencies(client)
    assert base["is_base"] is True and Decimal(base["exchange_rate"]) == 1
    error = assert_error(
        client.patch(f"{API}/currencies/{base['id']}", json={"exchange_rate": "2"}), 422, "base_currency_rate"
    )
    assert "exchange_rate" in field_errors(error)
    assert_error(client.delete(f"{API}/currencies/{base['id']}"), 409, "base_currency")


def test_an_opportunity_captures_its_rate_and_keeps_it_until_saved_or_recalculated(client):
    chf = _enable(client, "CHF", "0.95")
    opportunity = _opportunity(client, "CHF", "1000")
    assert opportunity["currency"] == "CHF"
    assert Decimal(opportunity["exchange_rate"]) == Decimal("0.95")
    assert money(opportunity["estimated_revenue_base"]) == money("1052.6316")

    changed = client.patch(f"{API}/currencies/{chf['id']}", json={"exchange_rate": "0.5"})
    assert changed.status_code == 200, changed.text
    kept = get_record(client, "opportunities", opportunity["id"])
    assert Decimal(kept["exchange_rate"]) == Decimal("0.95")  # a rate change rewrites nothing by itself

    closed = _opportunity(client, "CHF", "100")
    assert client.post(f"{API}/opportunities/{closed['id']}/win", json={}).status_code == 200
    closed_base = get_record(client, "opportunities", closed["id"])["actual_revenue_base"]

    other = _opportunity(client, "CHF", "10")
    client.patch(f"{API}/currencies/{chf['id']}", json={"exchange_rate": "0.8"})
    recalculated = client.post(f"{API}/currencies/recalculate")
    assert recalculated.status_code == 202, recalculated.text  # a job
    job = client.get(recalculated.headers["Location"]).json()
    assert job["state"] == "succeeded"
    assert job["summary"]["changed"]["opportunities"] == 2  # the two open ones, not the won one
    assert money(get_record(client, "opportunities", opportunity["id"])["estimated_revenue_base"]) == money("1250")
    assert money(get_record(client, "opportunities", other["id"])["estimated_revenue_base"]) == money("12.5")
    assert get_record(client, "opportunities", closed["id"])["actual_revenue_base"] == closed_base


def test_saving_an_amount_takes_the_current_rate(client):
    chf = _enable(client, "CHF", "2")
    opportunity = _opportunity(client, "CHF", "100")
    client.patch(f"{API}/currencies/{chf['id']}", json={"exchange_rate": "4"})
    saved = client.patch(f"{API}/opportunities/{opportunity['id']}", json={"estimated_revenue": "100"})
    assert saved.status_code == 200, saved.text
    assert money(saved.json()["estimated_revenue_base"]) == money("25")


def test_a_currency_in_use_cannot_be_removed_and_an_unused_one_can(client):
    chf = _enable(client, "CHF", "0.95")
    nok = _enable(client, "NOK", "11.5")
    _opportunity(client, "CHF", "1")
    assert_error(client.delete(f"{API}/currencies/{chf['id']}"), 409, "currency_in_use")
    assert client.delete(f"{API}/currencies/{nok['id']}").status_code == 204
    assert "NOK" not in {item["iso_code"] for item in _currencies(client)}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"iso_code": "CHF", "exchange_rate": "0"}, "exchange_rate"),
        ({"iso_code": "CHF", "exchange_rate": "-1"}, "exchange_rate"),
        ({"iso_code": "CHF", "exchange_rate": "1", "precision": 5}, "precision"),
        ({"iso_code": "CHF"}, "exchange_rate"),
    ],
)
def test_bad_currency_input_answers_422_naming_the_field(client, body, field):
    response = client.post(f"{API}/currencies", json=body)
    assert response.status_code == 422, response.text
    assert field in field_errors(response.json()["error"])
    assert "CHF" not in {item["iso_code"] for item in _currencies(client)}


def test_an_unknown_code_and_a_second_copy_are_refused(client):
    assert client.post(f"{API}/currencies", json={"iso_code": "XYZ", "exchange_rate": "1"}).status_code == 422
    _enable(client, "CHF", "1")
    assert_error(
        client.post(f"{API}/currencies", json={"iso_code": "chf", "exchange_rate": "1"}), 409, "currency_exists"
    )


def test_amounts_are_saved_to_their_currencys_precision(client):
    yen = client.post(f"{API}/currencies", json={"iso_code": "JPY", "exchange_rate": "160", "precision": 0})
    assert yen.status_code == 201, yen.text
    in_yen = _opportunity(client, "JPY", "1234.5")
    assert money(in_yen["estimated_revenue"]) == money("1235")  # half away from zero
    assert money(in_yen["estimated_revenue_base"]) == money("7.7188")  # 1235 / 160, base amounts to four places
    in_euros = _opportunity(client, "EUR", "99.994")
    assert money(in_euros["estimated_revenue"]) == money("99.99")
    # Moving an amount to another currency rounds it to that currency's precision too.
    moved = client.patch(f"{API}/opportunities/{in_euros['id']}", json={"currency": "JPY"})
    assert moved.status_code == 200, moved.text
    assert money(moved.json()["estimated_revenue"]) == money("100")
    won = client.post(f"{API}/opportunities/{in_yen['id']}/win", json={"actual_revenue": "10.5"})
    assert won.status_code == 200, won.text
    assert money(won.json()["actual_revenue"]) == money("11")
    closes = client.get(f"{API}/opportunities/{in_yen['id']}/closes").json()
    items = closes["items"] if isinstance(closes, dict) else closes
    assert money(items[0]["actual_revenue"]) == money("11")  # the close record says what was saved


def test_an_amount_too_large_in_base_currency_is_a_422_not_an_overflow(client):
    _enable(client, "VND", "0.0000000001")
    response = client.post(
        f"{API}/opportunities", json={"name": "Deal", "currency": "VND", "estimated_revenue": "1000000000000"}
    )
    assert_error(response, 422, "amount_too_large")
    assert client.get(f"{API}/opportunities").json()["items"] == []
