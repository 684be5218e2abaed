"""The currency page offers to make a currency the base only while no record holds money."""

from __future__ import annotations

from tests.e2e.helpers import create_lead
from tests.e2e.test_base_currency_change import _currencies
from tests.web.conftest import page_csrf


def test_the_currency_page_offers_the_change_only_while_no_record_holds_money(client, database, web_client) -> None:
    dollar = _currencies(client)["USD"]
    page = web_client.get(f"/admin/currencies/{dollar['id']}").text
    assert 'id="make-base-button"' in page
    moved = web_client.post(
        f"/admin/currencies/{dollar['id']}/base", data={"csrf_token": page_csrf(page)}, follow_redirects=False
    )
    assert moved.status_code == 303 and moved.headers["location"] == "/admin/currencies?notice=base"
    assert _currencies(client)["USD"]["is_base"] is True

    create_lead(client, budget_amount="1000")
    euro = _currencies(client)["EUR"]
    locked = web_client.get(f"/admin/currencies/{euro['id']}").text
    assert 'id="make-base-button"' not in locked and 'id="base-currency-locked"' in locked
