"""A merge offers custom fields one by one, keeps the chosen values, and undo puts them back."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.e2e.helpers import API


def _field(client: TestClient, name: str, kind: str, **extra: object) -> None:
    body = {"table": "accounts", "name": name, "label_en": name, "label_es": name, "kind": kind, **extra}
    assert client.post(f"{API}/custom-fields", json=body).status_code == 201


def test_a_merge_chooses_custom_values_field_by_field_and_undo_restores_them(client: TestClient) -> None:
    _field(client, "tier", "text")
    _field(client, "seats", "whole_number")
    _field(client, "budget", "money")
    master = client.post(f"{API}/accounts", json={"name": "Acme", "custom": {"tier": "gold", "seats": 5}}).json()
    subordinate = client.post(
        f"{API}/accounts?suppress_duplicate_detection=true",
        json={"name": "Acme Iberia", "custom": {"tier": "silver", "seats": 9, "budget": "100.00"}},
    ).json()
    body = {
        "table": "accounts",
        "master_id": master["id"],
        "subordinate_id": subordinate["id"],
        "fields": {"custom.seats": "subordinate"},
    }
    preview = client.post(f"{API}/merges/preview", json=body)
    assert preview.status_code == 200, preview.text
    choices = preview.json()["choices"]
    assert (choices["custom.tier"], choices["custom.seats"], choices["custom.budget"]) == (
        "master", "subordinate", "subordinate",
    )  # fmt: skip
    merged = client.post(f"{API}/merges", json=body)
    assert merged.status_code == 201, merged.text
    after = client.get(f"{API}/accounts/{master['id']}").json()["custom"]
    # seats from the subordinate as chosen; tier the master's; budget, blank on the master, the subordinate's
    assert after == {"tier": "gold", "seats": 9, "budget": "100.00", "budget_base": "100.00"}
    unknown = client.post(f"{API}/merges", json={**body, "fields": {"custom.nope": "master"}})
    assert unknown.status_code == 422

    assert client.post(f"{API}/merges/{merged.json()['id']}/undo").status_code == 200
    assert client.get(f"{API}/accounts/{master['id']}").json()["custom"]["seats"] == 5
