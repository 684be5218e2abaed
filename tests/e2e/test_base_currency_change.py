"""Changing the base currency while no record holds money, from the API and the command line (the
web app: tests/web/test_base_currency_page.py), on SQLite and PostgreSQL; refused, with nothing
changed, once a record holds an amount."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from typer.testing import CliRunner

from leadflow.cli import app
from leadflow.organisation.models import Currency
from leadflow.organisation.service import get_settings
from leadflow.security.audit import AuditEntry
from tests.conftest import bearer_headers
from tests.e2e.helpers import API, assert_error, create_lead, snapshot


def _currencies(client) -> dict[str, dict]:
    return {item["iso_code"]: item for item in client.get(f"{API}/currencies").json()}


def _set_rate(client, code: str, rate: str) -> None:
    currency = _currencies(client)[code]
    changed = client.patch(
        f"{API}/currencies/{currency['id']}",
        json={"exchange_rate": rate},
        headers={"If-Match": f'"{currency["row_version"]}"'},
    )
    assert changed.status_code == 200, changed.text


def test_the_base_moves_and_every_rate_is_expressed_per_unit_of_the_new_base(client, database) -> None:
    _set_rate(client, "USD", "1.0825")
    _set_rate(client, "GBP", "0.8571")
    dollar = _currencies(client)["USD"]
    answer = client.post(f"{API}/currencies/{dollar['id']}/base")
    assert answer.status_code == 200, answer.text
    assert answer.json()["is_base"] is True and Decimal(answer.json()["exchange_rate"]) == 1
    rates = {code: Decimal(item["exchange_rate"]) for code, item in _currencies(client).items()}
    assert rates["USD"] == 1
    assert rates["EUR"] == Decimal("0.9237875289")  # 1 / 1.0825, to ten places
    assert rates["GBP"] == Decimal("0.7917782910")  # 0.8571 / 1.0825
    assert list(_currencies(client))[0] == "USD"  # the base comes first
    with database.unit_of_work(read_only=True) as uow:
        base = uow.session.get(Currency, get_settings(uow.session).base_currency_id)
        assert base.iso_code == "USD"
        assert uow.session.scalars(select(Currency).where(Currency.is_base)).one().iso_code == "USD"
        entry = uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "base_currency")).one()
        assert entry.changes == {"base_currency": {"old": "EUR", "new": "USD"}}


def test_once_a_record_holds_an_amount_the_base_stays_and_nothing_changes(client, database) -> None:
    create_lead(client, budget_amount="1000")
    dollar = _currencies(client)["USD"]
    before = snapshot(database)
    rates = _currencies(client)
    error = assert_error(
        client.post(f"{API}/currencies/{dollar['id']}/base", headers={"Accept-Language": "es"}),
        409,
        "base_currency_in_use",
    )
    assert error["message"] == "La divisa base no puede cambiar cuando ya hay registros con importes o con una divisa."
    assert _currencies(client) == rates and snapshot(database) == before


def test_only_who_may_change_currencies_moves_the_base(client, anonymous_client, database) -> None:
    created = client.post(
        f"{API}/users", json={"email": "seller@example.com", "full_name": "Seller", "roles": ["Salesperson"]}
    )
    assert created.status_code == 201
    dollar = _currencies(client)["USD"]
    answer = anonymous_client.post(
        f"{API}/currencies/{dollar['id']}/base", headers=bearer_headers(database, "seller@example.com")
    )
    assert_error(answer, 403, "forbidden")
    assert _currencies(client)["EUR"]["is_base"] is True


def test_the_command_line_moves_the_base(client, database) -> None:
    pound = _currencies(client)["GBP"]
    result = CliRunner().invoke(app, ["--database-url", database.url, "currencies", "base", pound["id"]])
    assert result.exit_code == 0, result.output
    assert "GBP is the base currency" in result.output
    assert _currencies(client)["GBP"]["is_base"] is True
