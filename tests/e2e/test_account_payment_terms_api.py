"""An account's usual payment terms over the REST API, and the quotes that take them."""

from __future__ import annotations

from tests.e2e.helpers import API, assert_error, snapshot


def test_an_accounts_payment_terms_are_stored_changed_and_cleared(client):
    created = client.post(f"{API}/accounts", json={"name": "Muebles Ruiz", "payment_terms": "net_45"})
    assert created.status_code == 201, created.text
    account = created.json()
    assert account["payment_terms"] == "net_45"

    changed = client.patch(
        f"{API}/accounts/{account['id']}",
        json={"payment_terms": "net_60"},
        headers={"If-Match": created.headers["ETag"]},
    )
    assert changed.status_code == 200 and changed.json()["payment_terms"] == "net_60"
    cleared = client.patch(
        f"{API}/accounts/{account['id']}", json={"payment_terms": None}, headers={"If-Match": changed.headers["ETag"]}
    )
    assert cleared.status_code == 200 and cleared.json()["payment_terms"] is None


def test_unknown_payment_terms_are_refused_and_change_nothing(client, database):
    created = client.post(f"{API}/accounts", json={"name": "Muebles Ruiz", "payment_terms": "net_30"}).json()
    before = snapshot(database)
    refused = client.patch(f"{API}/accounts/{created['id']}", json={"payment_terms": "net_90"})
    error = assert_error(refused, 422, "invalid_option")
    assert error["details"]["fields"][0]["field"] == "payment_terms"
    assert "net_45" in error["message"]
    assert client.get(f"{API}/accounts/{created['id']}").json() == created
    assert snapshot(database) == before
    assert client.post(f"{API}/accounts", json={"name": "Otra", "payment_terms": "cash"}).status_code == 422
    assert snapshot(database) == before


def test_a_quote_made_for_the_account_takes_its_payment_terms_unless_given(client):
    account = client.post(f"{API}/accounts", json={"name": "Muebles Ruiz", "payment_terms": "net_45"}).json()
    taken = client.post(f"{API}/quotes", json={"name": "Renovación", "customer_id": account["id"]})
    assert taken.status_code == 201, taken.text
    assert taken.json()["payment_terms"] == "net_45"
    given = client.post(
        f"{API}/quotes", json={"name": "Renovación", "customer_id": account["id"], "payment_terms": "net_30"}
    ).json()
    assert given["payment_terms"] == "net_30"
    contact = client.post(f"{API}/contacts", json={"last_name": "Ruiz", "account_id": account["id"]}).json()
    for_contact = client.post(f"{API}/quotes", json={"name": "Para Ruiz", "customer_id": contact["id"]}).json()
    assert for_contact["payment_terms"] == "net_45"  # a contact's quote takes its account's terms
