"""``--json`` on the command line's list and show commands: one JSON document on stdout, with the
REST API's fields, so that a script gets from ``leadflow … --json`` what it would get from the API.

Each command is run beside its API twin on the same data (the ``client`` fixture is the
administrator, the command line acts as the first administrator too) and both answers must be
equal, field for field.
"""

from __future__ import annotations

import json
from typing import Any
from unittest.mock import patch

import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from leadflow.cli import app
from leadflow.cli.common import console, errors
from leadflow.core.uow import Database
from leadflow.security.service import create_user
from tests.e2e.helpers import API, create_lead
from tests.integration.test_duplicate_scan import insert_accounts

READER = "reader@example.com"


def leadflow(database: Database, *arguments: str) -> Any:
    with patch.object(console, "_width", 400), patch.object(errors, "_width", 400):
        return CliRunner().invoke(app, ["--database-url", database.url, *arguments], env={"COLUMNS": "400"})


def cli_json(database: Database, *arguments: str) -> Any:
    """What ``leadflow ARGUMENTS --json`` prints: exactly one JSON document on stdout, nothing on stderr."""
    result = leadflow(database, *arguments, "--json")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return json.loads(result.stdout)


def api_json(client: TestClient, path: str) -> Any:
    response = client.get(API + path)
    assert response.status_code == 200, response.text
    return response.json()


def test_every_list_and_show_command_takes_json() -> None:
    def commands(group: Any, path: tuple[str, ...] = ()) -> dict[str, Any]:
        found = {}
        for name, command in group.commands.items():
            if hasattr(command, "commands"):  # a group (Typer ships its own click)
                found |= commands(command, (*path, name))
            else:
                found[" ".join((*path, name))] = command
        return found

    every = commands(typer.main.get_command(app))
    listing = {name for name in every if name.split()[-1] in ("list", "show")} | {"audit", "duplicates sets"}
    assert {
        "leads list",
        "accounts show",
        "users list",
        "roles show",
        "tokens list",
        "duplicates rules list",
    } <= listing
    without = sorted(name for name in listing if "--json" not in {o for p in every[name].params for o in p.opts})
    assert without == []


def test_leads_list_page_by_page(database: Database, client: TestClient) -> None:
    for _ in range(3):
        create_lead(client)
    first = cli_json(database, "leads", "list", "--view", "all", "--limit", "2")
    assert first == api_json(client, "/leads?view=all&limit=2")
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = cli_json(database, "leads", "list", "--view", "all", "--limit", "2", "--cursor", first["next_cursor"])
    assert second == api_json(client, f"/leads?view=all&limit=2&cursor={first['next_cursor']}")
    assert len(second["items"]) == 1 and second["next_cursor"] is None
    searched = cli_json(database, "leads", "list", "--view", "all", "--q", first["items"][0]["company_name"])
    assert [lead["id"] for lead in searched["items"]] == [first["items"][0]["id"]]


@pytest.mark.parametrize(
    ("table", "body"),
    [
        ("accounts", {"name": "Muebles Ibéricos S.L.", "email": "compras@muebles.example", "address_city": "Madrid"}),
        ("contacts", {"first_name": "Ana", "last_name": "García", "job_title": "Compras"}),
        (
            "opportunities",
            {"name": "120 sillas", "estimated_revenue": "25000.50", "estimated_close_date": "2027-03-01"},
        ),
    ],
)
def test_a_record_list_and_show(database: Database, client: TestClient, table: str, body: dict[str, Any]) -> None:
    created = client.post(f"{API}/{table}", json=body)
    assert created.status_code == 201, created.text
    record = created.json()
    shown = cli_json(database, table, "show", record["id"])
    assert shown == api_json(client, f"/{table}/{record['id']}") == record
    listed = cli_json(database, table, "list")
    assert listed == api_json(client, f"/{table}")
    assert listed["items"] == [record] and listed["next_cursor"] is None


def test_users_list(database: Database, client: TestClient, actor: Any) -> None:
    with database.unit_of_work() as uow:
        create_user(
            email=READER,
            full_name="Rita Reader",
            role_names=["Sales Team Member"],
            business_unit_name=None,
            password=None,
            language="es",
            uow=uow,
            actor=actor,
        )
        uow.commit()
    listed = cli_json(database, "users", "list")
    assert listed == api_json(client, "/users")
    assert [user["email"] for user in listed["items"]] == ["admin@example.com", READER]
    first = cli_json(database, "users", "list", "--limit", "1")
    assert first == api_json(client, "/users?limit=1") and first["next_cursor"]
    assert cli_json(database, "users", "list", "--cursor", first["next_cursor"])["items"] == listed["items"][1:]


def test_roles_list_and_show(database: Database, client: TestClient) -> None:
    shown = cli_json(database, "roles", "show", "Salesperson")
    assert shown == api_json(client, "/roles/Salesperson")
    assert shown["name"] == "Salesperson" and shown["privileges"]["leads"]["read"] == "Business Unit"
    listed = cli_json(database, "roles", "list")
    assert listed == api_json(client, "/roles")
    assert shown in listed["items"]


def test_tokens_list(database: Database, client: TestClient) -> None:
    api_json(client, "/me")  # the token's first use is noted (to the minute) before either list is read
    listed = cli_json(database, "tokens", "list")
    assert listed == api_json(client, "/tokens")
    [token] = listed["items"]
    assert token["name"] == "tests" and "token" not in token and "secret" not in json.dumps(token)


def test_audit(database: Database, client: TestClient) -> None:
    lead = create_lead(client)
    assert client.post(f"{API}/leads/{lead['id']}/disqualify", json={"status_reason": "lost"}).status_code == 200
    listed = cli_json(database, "audit", "--limit", "100")
    assert listed == api_json(client, "/audit?limit=100")
    assert {"create", "disqualify"} <= {entry["action"] for entry in listed["items"]}
    mine = cli_json(database, "audit", "--record", lead["id"], "--action", "disqualify")
    assert mine == api_json(client, f"/audit?record_id={lead['id']}&action=disqualify")
    assert [entry["record_id"] for entry in mine["items"]] == [lead["id"]]
    first = cli_json(database, "audit", "--limit", "1")
    assert first == api_json(client, "/audit?limit=1") and first["next_cursor"]
    older = cli_json(database, "audit", "--limit", "1", "--cursor", first["next_cursor"])
    assert older == api_json(client, f"/audit?limit=1&cursor={first['next_cursor']}")


def test_duplicate_rules_and_sets(database: Database, client: TestClient, actor: Any) -> None:
    rules = cli_json(database, "duplicates", "rules", "list")
    assert rules == {"items": api_json(client, "/duplicate-rules"), "next_cursor": None}  # the API's list is unpaged
    assert rules["items"]
    only_leads = cli_json(database, "duplicates", "rules", "list", "--table", "leads")
    assert only_leads["items"] == api_json(client, "/duplicate-rules?base_table=leads")

    insert_accounts(database, actor, "Acme", "ACME")
    job = client.post(f"{API}/duplicate-jobs", json={"table": "accounts"}).json()
    found = cli_json(database, "duplicates", "sets", job["id"])
    assert found == api_json(client, f"/duplicate-jobs/{job['id']}/sets")
    # one set per out-of-box account name rule: the same name, and a similar name
    assert sorted(item["rule_name"] for item in found["items"]) == [
        "Accounts with a similar account name",
        "Accounts with the same account name",
    ]
    assert all(item["size"] == 2 for item in found["items"])


def test_a_refusal_under_json_leaves_stdout_empty(database: Database, client: TestClient, actor: Any) -> None:
    missing = leadflow(database, "accounts", "show", "00000000-0000-4000-8000-000000000000", "--json")
    assert missing.exit_code == 3 and missing.stdout == ""
    assert "(account_not_found)" in missing.stderr
    with database.unit_of_work() as uow:
        create_user(
            email=READER,
            full_name="Rita Reader",
            role_names=["Sales Team Member"],
            business_unit_name=None,
            password=None,
            uow=uow,
            actor=actor,
        )
        uow.commit()
    refused = leadflow(database, "--as", READER, "audit", "--json")
    assert refused.exit_code == 1 and refused.stdout == ""
    assert "(forbidden)" in refused.stderr


def test_without_json_the_tables_stay(database: Database, client: TestClient) -> None:
    lead = create_lead(client)
    result = leadflow(database, "leads", "list", "--view", "all")
    assert result.exit_code == 0, result.output
    assert lead["id"] in result.stdout and "Leads: all" in result.stdout
    result = leadflow(database, "roles", "show", "Salesperson")
    assert result.exit_code == 0 and "Role: Salesperson" in result.stdout
