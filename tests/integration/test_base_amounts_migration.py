"""Migration 0011 gives the records saved before exchange rates existed their rate and base amounts,
on SQLite and PostgreSQL, so that the dashboard, the board and the forecast count them."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import text

from leadflow.bootstrap import prepare_database
from leadflow.core import migrate
from leadflow.core.config import Settings
from leadflow.core.db import make_engine
from leadflow.core.schemas import parse
from leadflow.core.uow import Database
from leadflow.leads.models import Lead
from leadflow.opportunities.models import Opportunity
from leadflow.opportunities.schemas import OpportunityCreate
from leadflow.opportunities.service import create_opportunity
from leadflow.organisation.currencies import CurrencyUpdate, update_currency
from leadflow.organisation.service import currency_by_code
from leadflow.security.actor import default_actor
from leadflow.security.service import create_user
from tests.conftest import ADMIN_EMAIL
from tests.factories import make_lead
from tests.integration.test_time_zones import url  # noqa: F401 - the fixture: a new database of each backend


def test_migration_0011_fills_the_rate_and_base_amounts_that_0009_left_empty(url: str) -> None:  # noqa: F811
    database = prepare_database(Settings(database_url=url)).database
    with database.unit_of_work() as uow:
        create_user(
            email=ADMIN_EMAIL,
            full_name="Ada Admin",
            role_names=["System Administrator"],
            business_unit_name=None,
            password=None,
            uow=uow,
            actor=None,
        )
        uow.commit()
    with database.unit_of_work() as uow:
        actor = default_actor(uow.session)
        dollar = currency_by_code(uow.session, "USD").id
        update_currency(dollar, CurrencyUpdate(exchange_rate=Decimal("1.0825")), uow=uow, actor=actor)
        uow.commit()
    with database.unit_of_work() as uow:
        in_dollars = create_opportunity(
            parse(OpportunityCreate, {"name": "Fleet", "currency": "USD", "estimated_revenue": "10825"}),
            uow=uow,
            actor=actor,
        ).id
        in_base = create_opportunity(
            parse(OpportunityCreate, {"name": "Chairs", "estimated_revenue": "999.99"}), uow=uow, actor=actor
        ).id
        uow.commit()
    lead_id = make_lead(database, actor, budget_amount="25000.00").id
    untouched_id = make_lead(database, actor, budget_amount="10.00").id
    # As 0009 left the records saved before it: no rate, no base amounts (one lead already had them).
    with database.engine.begin() as connection:
        for table in ("opportunities", "leads"):
            base = "estimated_revenue_base, actual_revenue_base" if table == "opportunities" else "budget_amount_base"
            names = [name.strip() for name in base.split(",")]
            connection.execute(
                text(
                    f"UPDATE {table} SET exchange_rate = NULL, {', '.join(f'{n} = NULL' for n in names)} WHERE id != :keep"
                ),
                {"keep": untouched_id.hex if database.dialect == "sqlite" else untouched_id},
            )
    database.dispose()

    assert migrate.downgrade(url, "0010") == "0010"
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()

    database = Database(url)
    try:
        with database.unit_of_work(read_only=True) as uow:
            dollars = uow.session.get(Opportunity, in_dollars)
            assert (dollars.exchange_rate, dollars.estimated_revenue_base) == (Decimal("1.0825"), Decimal("10000.0000"))
            assert dollars.actual_revenue_base is None
            euros = uow.session.get(Opportunity, in_base)
            assert (euros.exchange_rate, euros.estimated_revenue_base) == (Decimal(1), Decimal("999.9900"))
            lead = uow.session.get(Lead, lead_id)
            assert (lead.exchange_rate, lead.budget_amount_base) == (Decimal(1), Decimal("25000.0000"))
            assert uow.session.get(Lead, untouched_id).budget_amount_base == Decimal("10.0000")
    finally:
        database.dispose()
