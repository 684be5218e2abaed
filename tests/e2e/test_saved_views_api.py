"""Saved views through the REST API: system views, personal views, sharing, defaults, grouping, lists by view."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from leadflow.core.uow import Database
from leadflow.security.actor import Actor
from leadflow.security.service import create_user
from tests.conftest import bearer_headers
from tests.e2e.helpers import API, assert_error, create_lead, field_errors


@pytest.fixture
def seller(client: TestClient, database: Database, actor: Actor) -> TestClient:
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
    return TestClient(client.app, headers=bearer_headers(database, "seller@example.com"))


def add_choice_field(client: TestClient, **overrides: Any) -> None:
    body = {
        "table": "leads", "name": "region", "label_en": "Region", "label_es": "Región", "kind": "choice",
        "searchable": True,
        "options": [
            {"value": "north", "label_en": "North", "label_es": "Norte"},
            {"value": "south", "label_en": "South", "label_es": "Sur"},
        ],
        **overrides,
    }  # fmt: skip
    assert client.post(f"{API}/custom-fields", json=body).status_code == 201


def test_the_lead_views_of_section_10_are_system_views_everyone_sees(seller: TestClient) -> None:
    views = seller.get(f"{API}/views", params={"table": "leads"}).json()
    assert {view["system_key"] for view in views if view["is_system"]} == {
        "my-open", "open", "closed", "all", "opened-this-week", "opened-last-week",
    }  # fmt: skip
    by_stage = seller.get(f"{API}/views", params={"table": "opportunities"}).json()
    assert [view["group_by"] for view in by_stage if view["group_by"]] == ["process_stage"]


def test_a_personal_view_filters_and_sorts_the_lead_list_and_can_be_the_default(client: TestClient) -> None:
    add_choice_field(client)
    for name, region in [("Ana", "north"), ("Bea", "south"), ("Carla", "north")]:
        create_lead(client, last_name=name, custom={"region": region})
    response = client.post(
        f"{API}/views",
        json={
            "table": "leads", "name": "North, by name",
            "conditions": [{"field": "custom.region", "op": "eq", "value": "Norte"}],
            "sort": "-last_name", "columns": ["topic", "custom.region"],
        },
    )  # fmt: skip
    assert response.status_code == 201, response.text
    view = response.json()
    assert view["conditions"] == [{"field": "custom.region", "op": "eq", "value": "Norte"}]
    listed = client.get(f"{API}/leads", params={"view_id": view["id"]}).json()
    assert [lead["last_name"] for lead in listed["items"]] == ["Carla", "Ana"]
    assert client.post(f"{API}/views/{view['id']}/default").status_code == 200
    defaults = [item for item in client.get(f"{API}/views", params={"table": "leads"}).json() if item["is_default"]]
    assert [item["id"] for item in defaults] == [view["id"]]


def test_a_view_is_private_until_shared_and_only_its_owner_changes_it(client: TestClient, seller: TestClient) -> None:
    mine = client.post(f"{API}/views", json={"table": "accounts", "name": "Mine"}).json()
    assert seller.get(f"{API}/views/{mine['id']}").status_code == 404
    system = next(v for v in seller.get(f"{API}/views", params={"table": "leads"}).json() if v["system_key"] == "open")
    assert_error(seller.patch(f"{API}/views/{system['id']}", json={"sort": "topic"}), 403, "forbidden")
    assert_error(seller.post(f"{API}/views", json={"table": "leads", "name": "X", "system": True}), 403, "forbidden")
    assert_error(client.delete(f"{API}/views/{system['id']}"), 409, "system_view")


def test_a_view_naming_a_hidden_or_unknown_field_is_refused_and_not_saved(client: TestClient) -> None:
    add_choice_field(client, hidden=True)
    before = len(client.get(f"{API}/views", params={"table": "leads"}).json())
    hidden = client.post(
        f"{API}/views",
        json={"table": "leads", "name": "H", "conditions": [{"field": "custom.region", "op": "eq", "value": "north"}]},
        headers={"Accept-Language": "es"},
    )
    error = assert_error(hidden, 422, "hidden_field")
    assert field_errors(error) == {"filter": "hidden_field"}
    assert "oculto" in error["message"] and "oculto" in error["details"]["fields"][0]["message"]
    unknown = client.post(f"{API}/views", json={"table": "leads", "name": "U", "sort": "shoe_size"})
    assert field_errors(assert_error(unknown, 422, "invalid_sort")) == {"sort": "invalid_sort"}
    assert len(client.get(f"{API}/views", params={"table": "leads"}).json()) == before


def test_a_grouped_view_counts_its_records_by_group(client: TestClient) -> None:
    add_choice_field(client)
    for region in ["north", "south", "north", None]:
        create_lead(client, custom={"region": region})
    view = client.post(f"{API}/views", json={"table": "leads", "name": "G", "group_by": "custom.region"}).json()
    groups = client.get(f"{API}/views/{view['id']}/groups").json()
    assert groups == [{"value": "", "count": 1}, {"value": "north", "count": 2}, {"value": "south", "count": 1}]


def test_lists_filter_on_built_in_timestamps_and_amounts(client: TestClient) -> None:
    old = create_lead(client, last_name="Old", budget_amount="100")
    create_lead(client, last_name="New", budget_amount="5000")
    since = old["created_at"]
    newer = client.get(f"{API}/leads", params={"filter": [f"created_at:gt:{since}"], "view": "all"}).json()
    assert [lead["last_name"] for lead in newer["items"]] == ["New"]
    rich = client.get(f"{API}/leads", params={"filter": ["budget_amount:ge:1000.5"], "view": "all"}).json()
    assert [lead["last_name"] for lead in rich["items"]] == ["New"]
    naive = client.get(f"{API}/leads", params={"filter": ["created_at:lt:2000-01-01T00:00:00"], "view": "all"})
    assert naive.status_code == 200 and naive.json()["items"] == []
    bad = client.get(f"{API}/leads", params={"filter": ["created_at:gt:yesterday"]})
    assert_error(bad, 422, "invalid_value")


def test_a_filtered_account_list_pages_by_creation_time(client: TestClient) -> None:
    for name in ("Uno", "Dos", "Tres"):
        assert client.post(f"{API}/accounts", json={"name": f"Cuenta {name}"}).status_code == 201
    first = client.get(f"{API}/accounts", params={"filter": ["name:contains:cuenta"], "limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = client.get(
        f"{API}/accounts", params={"filter": ["name:contains:cuenta"], "limit": 2, "cursor": first["next_cursor"]}
    )
    assert second.status_code == 200, second.text
    assert [item["name"] for item in second.json()["items"]] == ["Cuenta Tres"]
