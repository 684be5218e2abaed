"""Qualifying into an existing opportunity over the REST API and the command line, on SQLite and PostgreSQL."""

from __future__ import annotations

from typer.testing import CliRunner

from leadflow.cli import app
from tests.conftest import bearer_headers
from tests.e2e.helpers import API, assert_error, create_lead, field_errors, get_lead, qualify, snapshot


def _deal(client) -> tuple[str, str]:
    first = create_lead(client, company_name="Turia Distribuciones S.L.")
    created = qualify(client, first["id"])["created"]
    return created["account_id"], created["opportunity_ids"][0]


def test_the_api_qualifies_into_the_opportunity_and_creates_none(client, database) -> None:
    account_id, opportunity_id = _deal(client)
    lead = create_lead(client, company_name="Turia Distribuciones S.L.", parent_account_id=account_id)
    body = qualify(client, lead["id"], existing_opportunity_id=opportunity_id, create_contact=False)
    assert body["created"] == {"account_id": None, "contact_id": None, "opportunity_ids": []}
    assert body["lead"]["qualifying_opportunity_id"] == opportunity_id
    assert get_lead(client, lead["id"])["state"] == "qualified"


def test_a_seller_who_cannot_read_the_opportunity_is_told_it_does_not_exist(client, anonymous_client, database) -> None:
    account_id, opportunity_id = _deal(client)
    created = client.post(
        f"{API}/users", json={"email": "seller@example.com", "full_name": "Seller", "roles": ["Salesperson"]}
    )
    assert created.status_code == 201, created.text
    headers = bearer_headers(database, "seller@example.com")
    lead = anonymous_client.post(
        f"{API}/leads", json={"topic": "Second deal", "last_name": "Ruiz"}, headers=headers
    ).json()
    before = snapshot(database)
    refused = anonymous_client.post(
        f"{API}/leads/{lead['id']}/qualify",
        json={"existing_opportunity_id": opportunity_id, "create_account": False, "create_contact": False},
        headers={**headers, "Accept-Language": "es"},
    )
    assert refused.status_code == 422, refused.text
    assert "existing_opportunity_id" in field_errors(refused.json()["error"])
    assert snapshot(database) == before


def test_a_closed_opportunity_is_refused_in_the_callers_language(client, database) -> None:
    account_id, opportunity_id = _deal(client)
    assert client.post(f"{API}/opportunities/{opportunity_id}/win", json={}).status_code == 200
    lead = create_lead(client, company_name="Turia Distribuciones S.L.", parent_account_id=account_id)
    before = snapshot(database)
    refused = client.post(
        f"{API}/leads/{lead['id']}/qualify",
        json={"existing_opportunity_id": opportunity_id},
        headers={"Accept-Language": "es"},
    )
    error = assert_error(refused, 422, "existing_opportunity_id_closed")
    assert error["message"].startswith("La oportunidad elegida está cerrada")
    assert field_errors(error) == {"existing_opportunity_id": "closed"}
    assert snapshot(database) == before


def test_the_command_line_qualifies_into_the_opportunity(client, database) -> None:
    account_id, opportunity_id = _deal(client)
    lead = create_lead(client, company_name="Turia Distribuciones S.L.", parent_account_id=account_id)
    result = CliRunner().invoke(
        app,
        [
            "--database-url",
            database.url,
            "leads",
            "qualify",
            lead["id"],
            "--no-create-contact",
            "--existing-opportunity",
            opportunity_id,
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"qualified into the existing opportunity {opportunity_id}" in " ".join(result.output.split())
    assert get_lead(client, lead["id"])["qualifying_opportunity_id"] == opportunity_id
