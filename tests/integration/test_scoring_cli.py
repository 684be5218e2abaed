"""`leadflow scoring`: an administrator creates, trains, reads, publishes and restores a model from
the command line; a seller reads a lead's score and reasons; refusals are one line and an exit code."""

from __future__ import annotations

import json
from typing import Any
from unittest.mock import patch

from typer.testing import CliRunner

from leadflow.cli import app
from leadflow.cli.common import console, errors
from leadflow.core.schemas import parse
from leadflow.core.uow import Database
from leadflow.demo.history import load_history
from leadflow.leads import service as leads
from leadflow.leads.schemas import LeadCreate
from leadflow.security.actor import Actor, actor_for_email
from leadflow.security.service import create_user
from tests.conftest import ADMIN_EMAIL
from tests.factories import lead_data

SELLER = "vendedora@example.com"
IMMEDIATE = {"LEADFLOW_QUEUE_URL": "immediate", "COLUMNS": "400"}


def leadflow(database: Database, *arguments: str, as_user: str = ADMIN_EMAIL) -> Any:
    with patch.object(console, "_width", 400), patch.object(errors, "_width", 400):
        return CliRunner().invoke(app, ["--database-url", database.url, "--as", as_user, *arguments], env=IMMEDIATE)


def ok(database: Database, *arguments: str, **options: Any) -> str:
    result = leadflow(database, *arguments, **options)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_an_administrator_trains_reads_publishes_and_restores_and_a_seller_reads_a_score(
    database: Database, actor: Actor
) -> None:
    load_history(database, {"es": actor, "en": actor}, count=240)
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
    assert "Created the scoring model Todos" in ok(database, "scoring", "create", "Todos", "--thresholds", "70,45,20")
    trained = ok(database, "scoring", "train", "Todos")
    assert "succeeded" in trained and "Version 1 trained: AUC 0." in trained
    ok(database, "scoring", "train", "Todos")

    report = json.loads(ok(database, "scoring", "show", "Todos", "--version", "1", "--json"))
    assert report["report"]["version"] == 1 and 0.5 < report["report"]["auc"] <= 1
    assert [version["state"] for version in report["versions"]] == ["trained", "trained"]
    assert set(report["report"]["grades"]) == {"A", "B", "C", "D"}

    assert "Published version 2" in ok(database, "scoring", "publish", "Todos")
    assert "Published version 1" in ok(database, "scoring", "publish", "Todos", "--version", "1")
    states = {
        v["number"]: v["state"] for v in json.loads(ok(database, "scoring", "show", "Todos", "--json"))["versions"]
    }
    assert states == {1: "published", 2: "retired"}

    with database.unit_of_work() as uow:  # the seller's own lead, scored as it is saved
        lead = leads.create_lead(
            parse(LeadCreate, lead_data(budget_status="will_buy", lead_source="trade_show")),
            uow=uow,
            actor=actor_for_email(uow.session, SELLER),
        )
        uow.commit()
    shown = json.loads(ok(database, "scoring", "lead", str(lead.id), "--json", as_user=SELLER))
    assert shown["score"] is not None and shown["model_version"] == 1 and shown["reasons"]
    text = ok(database, "scoring", "lead", str(lead.id), as_user=SELLER)
    assert f"Score {shown['score']} (grade {shown['grade']})" in text and "Budget status: Will buy +" in text


def test_refusals_are_one_line_with_an_exit_code_and_change_nothing(database: Database, actor: Actor) -> None:
    ok(database, "scoring", "create", "Vacío")
    too_few = leadflow(database, "scoring", "train", "Vacío")
    assert too_few.exit_code != 0 and "(scoring_too_few_leads)" in " ".join(too_few.output.split())
    assert "40 qualified and 40 disqualified are missing" in " ".join(too_few.output.split())
    assert json.loads(ok(database, "scoring", "show", "Vacío", "--json"))["versions"] == []

    unknown = leadflow(database, "scoring", "show", "No existe")
    assert unknown.exit_code != 0 and "(scoring_model_not_found)" in unknown.output
    bad = leadflow(database, "scoring", "create", "Otro", "--fields", "lead_source,industry")
    assert bad.exit_code != 0 and "unknown field industry" in " ".join(bad.output.split())
    assert [m["name"] for m in json.loads(ok(database, "scoring", "list", "--json"))] == ["Vacío"]
