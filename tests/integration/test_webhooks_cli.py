"""`leadflow webhooks`: an administrator subscribes, lists, reads the deliveries log, sends a delivery
again, resumes and deletes from the command line; a bad URL and a salesperson are refused in one line
with an exit code, and nothing is written. Both backends."""

from __future__ import annotations

import json
from typing import Any
from unittest.mock import patch

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from leadflow.cli import app
from leadflow.cli.common import console, errors
from leadflow.core.config import Settings
from leadflow.core.db import utcnow
from leadflow.core.uow import Database
from leadflow.security.actor import Actor
from leadflow.security.service import create_user
from leadflow.webhooks import outbox
from leadflow.webhooks.delivery import deliver_due
from leadflow.webhooks.models import WebhookSubscription
from tests.conftest import ADMIN_EMAIL
from tests.factories import make_lead
from tests.integration.test_webhooks import NoWakers, Receiver

SELLER = "vendedora@example.com"


@pytest.fixture(autouse=True)
def no_waker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outbox, "WAKERS", NoWakers())


def leadflow(database: Database, *arguments: str, as_user: str = ADMIN_EMAIL, private: str = "allow") -> Any:
    env = {"LEADFLOW_QUEUE_URL": "immediate", "COLUMNS": "400", "LEADFLOW_WEBHOOK_PRIVATE_TARGETS": private}
    with patch.object(console, "_width", 400), patch.object(errors, "_width", 400):
        return CliRunner().invoke(app, ["--database-url", database.url, "--as", as_user, *arguments], env=env)


def ok(database: Database, *arguments: str, **options: Any) -> str:
    result = leadflow(database, *arguments, **options)
    assert result.exit_code == 0, result.output
    return result.stdout


def count(database: Database) -> int:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(WebhookSubscription)) or 0


def test_an_administrator_manages_webhooks_from_the_command_line(database: Database, actor: Actor) -> None:
    with Receiver() as receiver:
        created = json.loads(
            ok(database, "webhooks", "create", "Mirror", receiver.url, "--event", "record.created", "--json")
        )
        assert len(created["secret"]) == 64 and created["events"] == ["record.created"]
        listed = json.loads(ok(database, "webhooks", "list", "--json"))
        assert [item["id"] for item in listed] == [created["id"]]

        lead = make_lead(database, actor)
        deliver_due(
            database, settings=Settings(database_url=database.url, webhook_private_targets="allow"), now=utcnow()
        )
        page = json.loads(ok(database, "webhooks", "deliveries", created["id"], "--json"))
        [delivery] = page["items"]
        assert (delivery["state"], delivery["attempts"], delivery["last_status"]) == ("delivered", 1, 200)
        assert delivery["payload"]["record_id"] == str(lead.id)
        assert "delivered" in ok(database, "webhooks", "deliveries", created["id"])

        assert "pending again" in ok(database, "webhooks", "redeliver", created["id"], delivery["id"])
        refused = leadflow(database, "webhooks", "resume", created["id"])
        assert refused.exit_code == 1 and "(webhook_not_paused)" in refused.stderr

        ok(database, "webhooks", "delete", created["id"])
        assert count(database) == 0


def test_bad_input_and_a_salesperson_are_refused_and_nothing_is_written(database: Database, actor: Actor) -> None:
    bad = leadflow(database, "webhooks", "create", "Files", "ftp://files.example.com/", "--event", "record.created")
    assert bad.exit_code == 2 and "(url: invalid_url)" in bad.stderr
    unknown = leadflow(database, "webhooks", "create", "Eaten", "https://93.184.215.14/", "--event", "lead.eaten")
    assert unknown.exit_code == 2 and "(events: unknown_event)" in unknown.stderr
    private = leadflow(
        database, "webhooks", "create", "Local", "http://127.0.0.1:9/", "--event", "record.created", private="refuse"
    )
    assert private.exit_code == 2 and "(url: private_target)" in private.stderr
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
    for arguments in (["list"], ["create", "Mine", "https://93.184.215.14/", "--event", "record.created"]):
        refused = leadflow(database, "webhooks", *arguments, as_user=SELLER)
        assert refused.exit_code == 1 and "(forbidden)" in refused.stderr
    assert count(database) == 0
