"""Custom fields through the REST API: defining them, values on records, validation, filters."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.e2e.helpers import API, assert_error, create_lead, field_errors


def add_field(client: TestClient, **overrides: Any) -> dict[str, Any]:
    body = {"table": "leads", "name": "region", "label_en": "Region", "label_es": "Región", "kind": "text", **overrides}
    response = client.post(f"{API}/custom-fields", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_lead_keeps_typed_custom_values_and_shows_them(client: TestClient) -> None:
    add_field(
        client,
        name="region",
        kind="choice",
        options=[
            {"value": "north", "label_en": "North", "label_es": "Norte"},
            {"value": "south", "label_en": "South", "label_es": "Sur"},
        ],
        searchable=True,
    )
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
    response = client.post(
        f"{API}/leads", json={"topic": "T", "last_name": "L", "custom": {"seats": "many", "nope": 1}}
    )
    error = assert_error(response, 422, "validation_failed")
    assert field_errors(error) == {"custom.seats": "invalid_amount", "custom.nope": "unknown_field"}


def test_the_lead_list_filters_and_sorts_on_custom_fields_page_by_page(client: TestClient) -> None:
    add_field(client, name="seats", label_en="Seats", label_es="Puestos", kind="whole_number", searchable=True)
    add_field(
        client,
        name="region",
        kind="choice",
        searchable=True,
        options=[
            {"value": "north", "label_en": "North", "label_es": "Norte"},
            {"value": "south", "label_en": "South", "label_es": "Sur"},
        ],
    )
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


# --- definitions -----------------------------------------------------------------------------------

REGIONS = [
    {"value": "north", "label_en": "North", "label_es": "Norte"},
    {"value": "south", "label_en": "South", "label_es": "Sur"},
]
RECORD_BODIES = {
    "leads": {"topic": "Chairs", "last_name": "García"},
    "accounts": {"name": "Muebles Ibéricos"},
    "contacts": {"first_name": "Eva", "last_name": "Ruiz"},
    "opportunities": {"name": "Fleet renewal"},
}


def create_record(client: TestClient, table: str, **fields: Any) -> dict[str, Any]:
    response = client.post(f"{API}/{table}", json={**RECORD_BODIES[table], **fields})
    assert response.status_code == 201, response.text
    return response.json()


def patch_record(client: TestClient, table: str, record_id: str, **fields: Any) -> dict[str, Any]:
    response = client.patch(f"{API}/{table}/{record_id}", json=fields)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_field_is_created_read_listed_and_answered_with_its_etag_and_location(client: TestClient) -> None:
    response = client.post(
        f"{API}/custom-fields",
        json={
            "table": "leads", "name": "region", "label_en": "Region", "label_es": "Región", "kind": "choice",
            "options": REGIONS, "default": "Sur", "required": True, "searchable": True,
        },
    )  # fmt: skip

    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["Location"] == f"/api/v1/custom-fields/{created['id']}"
    assert response.headers["ETag"] == f'"{created["row_version"]}"'
    assert created["table"] == "leads" and created["kind"] == "choice"
    assert created["default"] == "south"  # the label given is kept as its option's value
    assert created["required"] is True and created["searchable"] is True and created["hidden"] is False
    assert [option["value"] for option in created["options"]] == ["north", "south"]
    read = client.get(f"{API}/custom-fields/{created['id']}")
    assert read.status_code == 200 and read.json() == created
    listed = client.get(f"{API}/custom-fields", params={"table": "leads"}).json()
    assert [field["name"] for field in listed] == ["region"]
    assert client.get(f"{API}/custom-fields", params={"table": "accounts"}).json() == []


def test_new_fields_go_last_and_a_reorder_puts_them_in_the_order_given(client: TestClient) -> None:
    for name in ("region", "seats", "budget_note"):
        add_field(client, name=name, label_en=name, label_es=name)
    listed = client.get(f"{API}/custom-fields", params={"table": "leads"}).json()
    assert [field["name"] for field in listed] == ["region", "seats", "budget_note"]

    response = client.put(
        f"{API}/custom-fields/order", params={"table": "leads"}, json={"names": ["seats", "budget_note", "region"]}
    )

    assert response.status_code == 200, response.text
    assert [field["name"] for field in response.json()] == ["seats", "budget_note", "region"]
    listed = client.get(f"{API}/custom-fields", params={"table": "leads"}).json()
    assert [(field["name"], field["position"]) for field in listed] == [
        ("seats", 1), ("budget_note", 2), ("region", 3),
    ]  # fmt: skip
    lead = create_lead(client)
    assert list(lead["custom"]) == ["seats", "budget_note", "region"]


def test_a_reorder_that_leaves_out_a_field_is_refused_and_keeps_the_order(client: TestClient) -> None:
    for name in ("region", "seats"):
        add_field(client, name=name, label_en=name, label_es=name)

    response = client.put(f"{API}/custom-fields/order", params={"table": "leads"}, json={"names": ["seats"]})

    assert field_errors(assert_error(response, 422, "invalid_value")) == {"names": "invalid_value"}
    listed = client.get(f"{API}/custom-fields", params={"table": "leads"}).json()
    assert [field["name"] for field in listed] == ["region", "seats"]


def test_a_field_is_relabelled_with_its_etag_and_a_stale_etag_is_412(client: TestClient) -> None:
    field = add_field(client)
    first = client.patch(
        f"{API}/custom-fields/{field['id']}",
        json={"label_en": "Sales region"},
        headers={"If-Match": f'"{field["row_version"]}"'},
    )
    assert first.status_code == 200, first.text
    assert first.json()["label_en"] == "Sales region" and first.json()["label_es"] == "Región"
    assert first.json()["row_version"] == field["row_version"] + 1
    assert first.headers["ETag"] == f'"{field["row_version"] + 1}"'

    stale = client.patch(
        f"{API}/custom-fields/{field['id']}",
        json={"label_en": "Territory"},
        headers={"If-Match": f'"{field["row_version"]}"'},
    )

    assert_error(stale, 412, "stale_etag")
    assert client.get(f"{API}/custom-fields/{field['id']}").json()["label_en"] == "Sales region"


def test_a_field_without_values_is_deleted_at_once_and_is_gone(client: TestClient) -> None:
    field = add_field(client)
    create_lead(client)

    response = client.delete(f"{API}/custom-fields/{field['id']}")

    assert response.status_code == 204, response.text
    assert_error(client.get(f"{API}/custom-fields/{field['id']}"), 404, "custom_field_not_found")
    assert "region" not in create_lead(client)["custom"]


def test_a_field_with_values_is_deleted_only_when_confirmed_and_its_values_go_with_it(client: TestClient) -> None:
    field = add_field(client)
    lead = create_lead(client, custom={"region": "Castilla"})

    refused = client.delete(f"{API}/custom-fields/{field['id']}")
    error = assert_error(refused, 409, "field_has_values")
    assert error["details"]["count"] == 1
    assert get_custom(client, "leads", lead["id"]) == {"region": "Castilla"}

    confirmed = client.delete(f"{API}/custom-fields/{field['id']}", params={"confirm": "true"})

    assert confirmed.status_code == 204, confirmed.text
    assert get_custom(client, "leads", lead["id"]) == {}
    entries = client.get(f"{API}/audit", params={"table": "leads", "record_id": lead["id"]}).json()["items"]
    removal = [entry for entry in entries if "custom.region" in (entry["changes"] or {})]
    assert [entry["changes"]["custom.region"] for entry in removal][0] == {"old": "Castilla", "new": None}


# --- values on records -----------------------------------------------------------------------------


def get_custom(client: TestClient, table: str, record_id: str) -> dict[str, Any]:
    response = client.get(f"{API}/{table}/{record_id}")
    assert response.status_code == 200, response.text
    return response.json()["custom"]


@pytest.mark.parametrize("table", ["leads", "accounts", "contacts", "opportunities"])
def test_every_customisable_table_keeps_typed_values_and_patch_merges_and_clears_them(
    client: TestClient, table: str
) -> None:
    add_field(client, table=table, name="region", kind="choice", options=REGIONS)
    add_field(client, table=table, name="seats", label_en="Seats", label_es="Puestos", kind="whole_number")
    add_field(client, table=table, name="renewal", label_en="Renewal", label_es="Renovación", kind="date")
    add_field(client, table=table, name="vip", label_en="VIP", label_es="VIP", kind="yes_no")
    add_field(client, table=table, name="ratio", label_en="Ratio", label_es="Ratio", kind="decimal", precision=2)

    record = create_record(client, table, custom={"region": "Norte", "seats": "12", "renewal": "2027-01-31"})

    assert record["custom"] == {"region": "north", "seats": 12, "renewal": "2027-01-31", "vip": None, "ratio": None}
    changed = patch_record(client, table, record["id"], custom={"vip": "sí", "seats": None, "ratio": "0.5"})
    assert changed["custom"] == {
        "region": "north", "seats": None, "renewal": "2027-01-31", "vip": True, "ratio": "0.50",
    }  # fmt: skip
    assert get_custom(client, table, record["id"]) == changed["custom"]
    untouched = patch_record(client, table, record["id"], **({"topic": "New topic"} if table == "leads" else {}))
    assert untouched["custom"] == changed["custom"]


def test_the_record_list_shows_every_custom_field_of_each_record(client: TestClient) -> None:
    add_field(client, table="accounts", name="tier", label_en="Tier", label_es="Nivel", kind="whole_number")
    create_record(client, "accounts", name="A", custom={"tier": 1})
    create_record(client, "accounts", name="B")

    listed = client.get(f"{API}/accounts").json()["items"]

    assert sorted((item["name"], item["custom"]["tier"]) for item in listed) == [("A", 1), ("B", None)]


def test_a_default_fills_a_new_record_but_not_one_that_gives_a_value_or_an_existing_one(client: TestClient) -> None:
    before = create_lead(client)
    add_field(client, name="seats", label_en="Seats", label_es="Puestos", kind="whole_number", default=10)

    assert create_lead(client)["custom"]["seats"] == 10
    assert create_lead(client, custom={"seats": 3})["custom"]["seats"] == 3
    assert get_custom(client, "leads", before["id"])["seats"] is None


def test_a_money_field_shows_its_amount_in_the_base_currency_beside_it(client: TestClient) -> None:
    enabled = client.post(f"{API}/currencies", json={"iso_code": "CHF", "exchange_rate": "0.5", "precision": 2})
    assert enabled.status_code == 201, enabled.text
    add_field(client, table="opportunities", name="deal_size", label_en="Deal", label_es="Trato", kind="money")

    opportunity = create_record(client, "opportunities", currency="CHF", custom={"deal_size": "1000"})

    assert opportunity["custom"]["deal_size"] == "1000.00"
    assert opportunity["custom"]["deal_size_base"] == "2000.00"
    cleared = patch_record(client, "opportunities", opportunity["id"], custom={"deal_size": None})
    assert (cleared["custom"]["deal_size"], cleared["custom"]["deal_size_base"]) == (None, None)


def test_a_lead_in_another_currency_shows_its_custom_money_in_the_base_currency(client: TestClient) -> None:
    enabled = client.post(f"{API}/currencies", json={"iso_code": "SEK", "exchange_rate": "1.25", "precision": 2})
    assert enabled.status_code == 201, enabled.text
    add_field(client, name="deal_size", label_en="Deal", label_es="Trato", kind="money")

    lead = create_lead(client, currency="SEK", custom={"deal_size": "100"})

    assert (lead["custom"]["deal_size"], lead["custom"]["deal_size_base"]) == ("100.00", "80.00")


def test_a_change_of_custom_values_is_audited_field_by_field(client: TestClient) -> None:
    add_field(client, name="seats", label_en="Seats", label_es="Puestos", kind="whole_number")
    add_field(client, name="region")
    lead = create_lead(client, custom={"seats": 5, "region": "Castilla"})

    patch_record(client, "leads", lead["id"], custom={"seats": 7})

    entries = client.get(f"{API}/audit", params={"table": "leads", "record_id": lead["id"], "action": "update"})
    assert entries.status_code == 200, entries.text
    changes = [entry["changes"] for entry in entries.json()["items"]]
    assert {"custom.seats": {"old": 5, "new": 7}} in changes


def test_a_change_of_a_money_value_is_audited_as_the_amount_shown(client: TestClient) -> None:
    add_field(client, name="deal_size", label_en="Deal", label_es="Trato", kind="money")
    lead = create_lead(client, custom={"deal_size": "10.50"})

    patch_record(client, "leads", lead["id"], custom={"deal_size": "12"})

    entries = client.get(f"{API}/audit", params={"table": "leads", "record_id": lead["id"], "action": "update"})
    changes = [entry["changes"] for entry in entries.json()["items"]]
    assert {"custom.deal_size": {"old": "10.50", "new": "12.00"}} in changes


def test_spanish_readers_get_spanish_messages_with_the_same_codes(client: TestClient) -> None:
    add_field(client, name="seats", label_en="Seats", label_es="Puestos", kind="whole_number")
    body = {**RECORD_BODIES["leads"], "custom": {"seats": "muchos"}}

    english = assert_error(client.post(f"{API}/leads", json=body), 422, "validation_failed")
    spanish = assert_error(
        client.post(f"{API}/leads", json=body, headers={"Accept-Language": "es"}), 422, "validation_failed"
    )

    assert field_errors(english) == field_errors(spanish) == {"custom.seats": "invalid_amount"}
    assert english["message"] != spanish["message"]
    english_item, spanish_item = english["details"]["fields"][0], spanish["details"]["fields"][0]
    assert english_item["message"] != spanish_item["message"]


def test_a_choice_value_may_be_given_by_its_english_or_spanish_label(client: TestClient) -> None:
    add_field(client, name="region", kind="choice", options=REGIONS)

    assert create_lead(client, custom={"region": "Sur"})["custom"]["region"] == "south"
    assert create_lead(client, custom={"region": "North"})["custom"]["region"] == "north"
    assert create_lead(client, custom={"region": "south"})["custom"]["region"] == "south"


def test_a_bad_value_of_a_required_field_is_reported_once_with_its_own_problem(client: TestClient) -> None:
    add_field(client, name="seats", label_en="Seats", label_es="Puestos", kind="whole_number", required=True)

    response = client.post(f"{API}/leads", json={**RECORD_BODIES["leads"], "custom": {"seats": "many"}})

    error = assert_error(response, 422, "validation_failed")
    assert [(item["field"], item["code"]) for item in error["details"]["fields"]] == [
        ("custom.seats", "invalid_amount")
    ]


def test_the_lead_list_finds_leads_holding_a_multi_choice_option(client: TestClient) -> None:
    add_field(client, name="areas", kind="multi_choice", options=REGIONS)
    both = create_lead(client, custom={"areas": ["north", "Sur"]})
    create_lead(client, custom={"areas": ["north"]})
    create_lead(client)

    response = client.get(f"{API}/leads", params={"filter": "custom.areas:eq:Sur"})

    assert response.status_code == 200, response.text
    assert [lead["id"] for lead in response.json()["items"]] == [both["id"]]
    assert both["custom"]["areas"] == ["north", "south"]


def test_the_lead_list_finds_leads_without_a_multi_choice_option(client: TestClient) -> None:
    add_field(client, name="areas", kind="multi_choice", options=REGIONS)
    create_lead(client, custom={"areas": ["north"]})
    blank = create_lead(client)

    response = client.get(f"{API}/leads", params={"filter": "custom.areas:blank"})

    assert response.status_code == 200, response.text
    assert [lead["id"] for lead in response.json()["items"]] == [blank["id"]]


def test_a_new_currency_on_an_opportunity_recomputes_its_custom_base_amounts(client: TestClient) -> None:
    for code, rate in (("SEK", "10"), ("NOK", "5")):
        enabled = client.post(f"{API}/currencies", json={"iso_code": code, "exchange_rate": rate, "precision": 2})
        assert enabled.status_code == 201, enabled.text
    add_field(client, table="opportunities", name="deal_size", label_en="Deal", label_es="Trato", kind="money")
    opportunity = create_record(client, "opportunities", currency="SEK", custom={"deal_size": "1000"})
    assert opportunity["custom"]["deal_size_base"] == "100.00"

    moved = patch_record(client, "opportunities", opportunity["id"], currency="NOK")

    assert (moved["custom"]["deal_size"], moved["custom"]["deal_size_base"]) == ("1000.00", "200.00")


def test_a_record_made_before_a_required_field_existed_can_still_be_changed(client: TestClient) -> None:
    lead = create_lead(client)
    add_field(client, name="sponsor", required=True)
    add_field(client, name="seats", label_en="Seats", label_es="Puestos", kind="whole_number")

    changed = patch_record(client, "leads", lead["id"], topic="Still open", custom={"seats": 2})

    assert changed["custom"] == {"sponsor": None, "seats": 2}


def test_a_new_default_fills_only_records_made_after_it(client: TestClient) -> None:
    field = add_field(client, name="seats", label_en="Seats", label_es="Puestos", kind="whole_number")
    before = create_lead(client)

    changed = client.patch(f"{API}/custom-fields/{field['id']}", json={"default": 4})

    assert changed.status_code == 200 and changed.json()["default"] == 4
    assert get_custom(client, "leads", before["id"]) == {"seats": None}
    assert create_lead(client)["custom"] == {"seats": 4}


def test_a_hidden_field_keeps_its_values_on_records(client: TestClient) -> None:
    field = add_field(client, name="secret")
    lead = create_lead(client, custom={"secret": "kept"})

    hidden = client.patch(f"{API}/custom-fields/{field['id']}", json={"hidden": True})

    assert hidden.status_code == 200 and hidden.json()["hidden"] is True
    assert get_custom(client, "leads", lead["id"]) == {"secret": "kept"}


def test_a_field_is_retyped_over_http_and_its_values_follow(client: TestClient) -> None:
    field = add_field(client, name="seats", label_en="Seats", label_es="Puestos", kind="whole_number")
    lead = create_lead(client, custom={"seats": 12})

    retyped = client.patch(f"{API}/custom-fields/{field['id']}", json={"kind": "decimal", "precision": 1})

    assert retyped.status_code == 200, retyped.text
    assert (retyped.json()["kind"], retyped.json()["precision"]) == ("decimal", 1)
    assert get_custom(client, "leads", lead["id"]) == {"seats": "12.0"}


def opportunity_in_chf_at_half(client: TestClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """CHF at 0.5 to the base currency, and an opportunity in CHF with a custom money amount of 1000."""
    chf = client.post(f"{API}/currencies", json={"iso_code": "CHF", "exchange_rate": "0.5", "precision": 2})
    assert chf.status_code == 201, chf.text
    add_field(client, table="opportunities", name="deal_size", label_en="Deal", label_es="Trato", kind="money")
    opportunity = create_record(
        client, "opportunities", currency="CHF", estimated_revenue="1000", custom={"deal_size": "1000"}
    )
    assert opportunity["custom"]["deal_size_base"] == "2000.00"
    return chf.json(), opportunity


def test_recalculating_open_records_also_moves_custom_money_to_the_new_rate(client: TestClient) -> None:
    chf, opportunity = opportunity_in_chf_at_half(client)
    assert client.patch(f"{API}/currencies/{chf['id']}", json={"exchange_rate": "0.25"}).status_code == 200

    started = client.post(f"{API}/currencies/recalculate")
    assert started.status_code == 202, started.text
    assert client.get(started.headers["Location"]).json()["state"] == "succeeded"

    recalculated = client.get(f"{API}/opportunities/{opportunity['id']}").json()
    assert Decimal(recalculated["estimated_revenue_base"]) == Decimal("4000")
    assert recalculated["custom"]["deal_size_base"] == "4000.00"


def test_custom_money_is_in_the_base_currency_at_the_rate_the_record_captured(client: TestClient) -> None:
    chf, opportunity = opportunity_in_chf_at_half(client)
    assert client.patch(f"{API}/currencies/{chf['id']}", json={"exchange_rate": "0.25"}).status_code == 200

    saved = patch_record(client, "opportunities", opportunity["id"], estimated_revenue="1000")

    assert Decimal(saved["exchange_rate"]) == Decimal("0.25")
    assert saved["custom"]["deal_size_base"] == "4000.00"


def test_the_message_of_a_too_precise_value_names_the_field_s_own_precision(client: TestClient) -> None:
    add_field(client, name="ratio", label_en="Ratio", label_es="Ratio", kind="decimal", precision=2)

    response = client.post(f"{API}/leads", json={**RECORD_BODIES["leads"], "custom": {"ratio": "0.125"}})

    error = assert_error(response, 422, "validation_failed")
    [item] = error["details"]["fields"]
    assert (item["field"], item["code"]) == ("custom.ratio", "too_precise")
    assert "2" in item["message"] and "four" not in item["message"], item["message"]


def test_a_mapping_is_saved_listed_used_by_qualify_and_removed(client: TestClient) -> None:
    add_field(client, name="region", kind="choice", options=REGIONS)
    add_field(client, table="accounts", name="region", kind="choice", options=REGIONS)
    add_field(client, table="opportunities", name="tier", label_en="Tier", label_es="Nivel", kind="text", default="B")
    saved = client.put(
        f"{API}/custom-field-mappings",
        json={"target_table": "accounts", "target_field": "region", "source_field": "custom.region"},
    )
    assert saved.status_code == 200, saved.text
    mapping = saved.json()
    assert client.get(f"{API}/custom-field-mappings").json() == [mapping]
    lead = create_lead(client, custom={"region": "Sur"})

    qualified = client.post(f"{API}/leads/{lead['id']}/qualify", json={})

    assert qualified.status_code == 200, qualified.text
    created = qualified.json()["created"]
    assert get_custom(client, "accounts", created["account_id"]) == {"region": "south"}
    assert get_custom(client, "opportunities", created["opportunity_ids"][0]) == {"tier": "B"}
    removed = client.delete(f"{API}/custom-field-mappings/{mapping['id']}")
    assert removed.status_code == 204, removed.text
    assert client.get(f"{API}/custom-field-mappings").json() == []
    again = client.post(f"{API}/leads/{create_lead(client, custom={'region': 'north'})['id']}/qualify", json={})
    assert get_custom(client, "accounts", again.json()["created"]["account_id"]) == {"region": None}
