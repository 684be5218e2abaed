"""Custom fields through the REST API: defining them, values on records, validation, filters."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.e2e.helpers import API, assert_error, create_lead, field_errors


def add_field(client: TestClient, **overrides: Any) -> dict[str, Any]:
    body = {"table": "leads", "name": "region", "label_en": "Region", "label_es": "Región", "kind": "text", **overrides}
    response = client.post(f"{API}/custom-fields", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_lead_keeps_typed_custom_values_and_shows_them(client: TestClient) -> None:
    add_field(client, name="region", kind="choice", options=[
        {"value": "north", "label_en": "North", "label_es": "Norte"},
        {"value": "south", "label_en": "South", "label_es": "Sur"},
    ], searchable=True)
    add_field(client, name="seats", label_en="Seats", label_es="Puestos", kind="whole_number")
    add_field(client, name="deal_size", label_en="Deal size", label_es="Tamaño", kind="money")
    lead = create_lead(client, custom={"region": "Sur", "seats": "12", "deal_size": "1500.50"})
    assert lead["custom"]["region"] == "south"
    assert lead["custom"]["seats"] == 12
    assert lead["custom"]["deal_size"] == "1500.50"
    assert lead["custom"]["deal_size_base"] == "1500.50"
    again = client.get(f"{API}/leads/{lead['id']}").json()
    assert again["custom"] == lead["custom"]


def test_a_bad_custom_value_is_a_422_naming_the_field(client: TestClient) -> None:
    add_field(client, name="seats", label_en="Seats", label_es="Puestos", kind="whole_number")
    response = client.post(f"{API}/leads", json={"topic": "T", "last_name": "L", "custom": {"seats": "many", "nope": 1}})
    error = assert_error(response, 422, "validation_failed")
    assert field_errors(error) == {"custom.seats": "invalid_amount", "custom.nope": "unknown_field"}


def test_the_lead_list_filters_and_sorts_on_custom_fields_page_by_page(client: TestClient) -> None:
    add_field(client, name="seats", label_en="Seats", label_es="Puestos", kind="whole_number", searchable=True)
    add_field(client, name="region", kind="choice", searchable=True, options=[
        {"value": "north", "label_en": "North", "label_es": "Norte"},
        {"value": "south", "label_en": "South", "label_es": "Sur"},
    ])
    for seats, region in [(5, "north"), (50, "south"), (7, "north"), (None, "north"), (3, "south"), (9, "north")]:
        create_lead(client, custom={"seats": seats, "region": region})
    seen = []
    cursor = None
    while True:
        params: dict[str, Any] = {"sort": "-custom.seats", "filter": ["custom.region:eq:Norte"], "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get(f"{API}/leads", params=params).json()
        seen += [lead["custom"]["seats"] for lead in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [9, 7, 5, None]
    above = client.get(f"{API}/leads", params={"filter": ["custom.seats:gt:5"], "sort": "custom.seats"}).json()
    assert [lead["custom"]["seats"] for lead in above["items"]] == [7, 9, 50]
    small = client.get(f"{API}/leads", params={"filter": ["custom.seats:lt:6"], "sort": "custom.seats"}).json()
    assert [lead["custom"]["seats"] for lead in small["items"]] == [3, 5]
