"""The command line prints moments in the acting user's time zone (``--as``, else the first
administrator's): their own, else the organisation's default; ``--json`` keeps them in UTC, as the API."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from unittest.mock import patch
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from leadflow.cli import app
from leadflow.cli.common import console, errors
from leadflow.core.schemas import parse
from leadflow.core.uow import Database
from leadflow.leads.models import Lead
from leadflow.leads.schemas import LeadCreate
from leadflow.leads.service import create_lead
from leadflow.organisation.service import update_settings
from leadflow.security.actor import Actor, actor_for_email
from leadflow.security.audit import AuditEntry
from leadflow.security.authentication import create_personal_token
from leadflow.security.models import AccessToken, TokenKind
from leadflow.security.service import create_user, set_time_zone
from tests.factories import lead_data

SELLER = "seller@example.com"
MADRID, NEW_YORK = "Europe/Madrid", "America/New_York"
# Late on 29 March 2026 in UTC: already 30 March in Madrid (summer time since 01:00 UTC), still
# the 29th in New York (UTC-4).
LATE_EVENING = datetime(2026, 3, 29, 23, 30, tzinfo=UTC)


def leadflow(database: Database, *arguments: str) -> Any:
    with patch.object(console, "_width", 400), patch.object(errors, "_width", 400):
        return CliRunner().invoke(app, ["--database-url", database.url, *arguments], env={"COLUMNS": "400"})


def printed(database: Database, *arguments: str) -> str:
    result = leadflow(database, *arguments)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def organisation(database: Database, actor: Actor) -> Database:
    """The organisation on Madrid time; a salesperson on New York time, with a lead and a token made
    late on 29 March (UTC)."""
    with database.unit_of_work() as uow:
        update_settings({"default_time_zone": MADRID}, uow=uow, actor=actor)
        create_user(
            email=SELLER,
            full_name="Sam Seller",
            role_names=["Salesperson"],
            business_unit_name=None,
            password=None,
            time_zone=NEW_YORK,
            uow=uow,
            actor=actor,
        )
        uow.commit()
    with database.unit_of_work() as uow:
        seller = actor_for_email(uow.session, SELLER)
        lead = create_lead(parse(LeadCreate, lead_data(topic="Sillas para la oficina")), uow=uow, actor=seller)
        token = create_personal_token(SELLER, name="clock", days=1, uow=uow, actor=None).token
        uow.commit()
    with database.engine.begin() as connection:
        connection.execute(update(Lead).where(Lead.id == lead.id).values(created_at=LATE_EVENING))
        connection.execute(update(AccessToken).where(AccessToken.id == token.id).values(expires_at=LATE_EVENING))
    return database


def row_of(output: str, needle: str) -> str:
    return next(line for line in output.splitlines() if needle in line)


def test_the_lead_list_gives_each_reader_the_day_of_their_own_zone(organisation: Database) -> None:
    as_seller = printed(organisation, "--as", SELLER, "leads", "list", "--view", "all")
    assert f"created ({NEW_YORK})" in as_seller
    assert "2026-03-29" in row_of(as_seller, "Sillas para la oficina")

    as_administrator = printed(organisation, "leads", "list", "--view", "all")  # the first administrator
    assert f"created ({MADRID})" in as_administrator
    assert "2026-03-30" in row_of(as_administrator, "Sillas para la oficina")


def test_the_token_list_gives_each_reader_the_clock_of_their_own_zone(organisation: Database) -> None:
    as_seller = printed(organisation, "--as", SELLER, "tokens", "list")
    assert f"expires ({NEW_YORK})" in as_seller
    assert "2026-03-29 19:30" in row_of(as_seller, "clock")

    as_administrator = printed(organisation, "--as", "admin@example.com", "tokens", "list", "--user", SELLER)
    assert f"expires ({MADRID})" in as_administrator
    assert "2026-03-30 01:30" in row_of(as_administrator, "clock")


def test_json_keeps_the_moments_in_utc_whoever_reads(organisation: Database) -> None:
    for who in (("--as", SELLER), ()):
        result = leadflow(organisation, *who, "tokens", "list", "--user", SELLER, "--json")
        assert result.exit_code == 0, result.output
        clock = next(item for item in json.loads(result.stdout)["items"] if item["name"] == "clock")
        assert datetime.fromisoformat(clock["expires_at"]) == LATE_EVENING
        assert datetime.fromisoformat(clock["expires_at"]).utcoffset().total_seconds() == 0


def test_the_audit_log_is_in_the_zone_of_whoever_runs_it(organisation: Database, actor: Actor) -> None:
    with organisation.engine.begin() as connection:
        connection.execute(
            update(AuditEntry).where(AuditEntry.action == "settings_change").values(occurred_at=LATE_EVENING)
        )
    audit = printed(organisation, "audit", "--action", "settings_change")
    assert f"when ({MADRID})" in audit
    assert "2026-03-30 01:30:00" in row_of(audit, "settings_change")

    with organisation.unit_of_work() as uow:  # the administrator chooses a zone of their own
        set_time_zone(actor.user_id, NEW_YORK, uow=uow, actor=actor)
        uow.commit()
    audit = printed(organisation, "audit", "--action", "settings_change")
    assert f"when ({NEW_YORK})" in audit
    assert "2026-03-29 19:30:00" in row_of(audit, "settings_change")


def test_a_reset_link_says_until_when_in_the_zone_of_whoever_makes_it(organisation: Database) -> None:
    link = printed(organisation, "users", "reset-password", SELLER)
    valid_until = re.search(r"valid until (\d{4}-\d\d-\d\d \d\d:\d\d) (\S+), once", link)
    assert valid_until is not None, link
    with organisation.unit_of_work(read_only=True) as uow:
        expires = uow.session.scalars(
            select(AccessToken.expires_at).where(AccessToken.kind == TokenKind.PASSWORD_RESET)
        ).one()
    assert valid_until.groups() == (expires.astimezone(ZoneInfo(MADRID)).strftime("%Y-%m-%d %H:%M"), MADRID)
