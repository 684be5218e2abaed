"""`leadflow fields` and `leadflow views`: an administrator adds, changes, orders, maps and removes
custom fields; a seller gives a lead custom values, filters by them and lists views; refusals are one
line and an exit code, and the CLI refuses what the API refuses."""

from __future__ import annotations

import json
from typing import Any
from unittest.mock import patch

from typer.testing import CliRunner

from leadflow.cli import app
from leadflow.cli.common import console, errors
from leadflow.core.uow import Database
from leadflow.security.actor import Actor
from leadflow.security.service import create_user
from tests.conftest import ADMIN_EMAIL

SELLER = "vendedora@example.com"


def leadflow(database: Database, *arguments: str, as_user: str = ADMIN_EMAIL) -> Any:
    with patch.object(console, "_width", 400), patch.object(errors, "_width", 400):
        return CliRunner().invoke(
            app, ["--database-url", database.url, "--as", as_user, *arguments], env={"COLUMNS": "400"}
        )


def ok(database: Database, *arguments: str, **options: Any) -> str:
    result = leadflow(database, *arguments, **options)
    assert result.exit_code == 0, result.output
    return result.stdout


def _seller(database: Database, actor: Actor) -> None:
    with database.unit_of_work() as uow:
        create_user(
            email=SELLER,
            full_name="Vendedora",
            role_names=["Salesperson"],
            business_unit_name=None,
            password=None,
            uow=uow,
            actor=actor,
        )
        uow.commit()


def test_fields_are_added_used_filtered_and_removed_from_the_command_line(database: Database, actor: Actor) -> None:
    _seller(database, actor)
    added = ok(
        database, "fields", "add", "leads", "region", "--kind", "choice", "--label-en", "Region", "--label-es",
        "Región", "--option", "north:North:Norte", "--option", "south:South:Sur", "--searchable",
    )  # fmt: skip
    assert "Added the custom field leads.region (choice)" in added
    ok(
        database,
        "fields",
        "add",
        "leads",
        "seats",
        "--kind",
        "whole_number",
        "--label-en",
        "Seats",
        "--label-es",
        "Puestos",
    )
    listed = json.loads(ok(database, "fields", "list", "--table", "leads", "--json"))
    assert [(field["name"], field["searchable"]) for field in listed] == [("region", True), ("seats", False)]
    ok(database, "fields", "order", "leads", "seats", "region")
    assert [f["name"] for f in json.loads(ok(database, "fields", "list", "--json"))] == ["seats", "region"]

    for name, region in (("Ana", "Norte"), ("Bea", "south")):
        created = ok(
            database, "leads", "create", "--topic", "T", "--last-name", name, "--custom", f"region={region}",
            "--custom", "seats=3", as_user=SELLER,
        )  # fmt: skip
        assert "Created lead" in created
    north = json.loads(
        ok(database, "leads", "list", "--view", "all", "--filter", "custom.region:eq:north", "--json", as_user=SELLER)
    )
    assert [lead["last_name"] for lead in north["items"]] == ["Ana"]
    assert north["items"][0]["custom"] == {"region": "north", "seats": 3}

    refused = leadflow(database, "fields", "remove", "leads.region")
    assert refused.exit_code != 0 and "hold a value of 'region'" in refused.output
    assert "Removed the custom field leads.region and 2 value(s)." in ok(
        database, "fields", "remove", "leads.region", "--confirm"
    )


def test_the_cli_refuses_what_the_api_refuses(database: Database, actor: Actor) -> None:
    _seller(database, actor)
    denied = leadflow(
        database, "fields", "add", "leads", "x", "--kind", "text", "--label-en", "X", "--label-es", "X", as_user=SELLER
    )
    assert denied.exit_code != 0 and "privilege" in denied.output
    reserved = leadflow(
        database, "fields", "add", "leads", "select", "--kind", "text", "--label-en", "S", "--label-es", "S"
    )
    assert reserved.exit_code != 0 and "reserved word" in reserved.output
    bad_value = leadflow(database, "leads", "create", "--topic", "T", "--last-name", "L", "--custom", "nope=1")
    assert bad_value.exit_code != 0 and "no custom field named 'nope'" in bad_value.output
    assert json.loads(ok(database, "fields", "list", "--json")) == []


def test_a_seller_lists_the_views_of_a_table(database: Database, actor: Actor) -> None:
    _seller(database, actor)
    views = json.loads(ok(database, "views", "list", "leads", "--json", as_user=SELLER))
    assert "My open leads" in [view["name"] for view in views]
    table = ok(database, "views", "list", "opportunities", as_user=SELLER)
    assert "Open opportunities by stage" in table and "process_stage" in table
