"""Qualify a lead into an open opportunity of its account, clicked in Chromium at phone width.

A seller opens the lead, chooses "Qualify into an opportunity...", searches the opportunity in the
lookup, picks it and qualifies: the page lands on that opportunity, whose timeline now shows the
lead's notes.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from leadflow.core.schemas import parse
from leadflow.leads import service
from leadflow.leads.models import Lead, LeadState
from leadflow.leads.schemas import LeadUpdate
from leadflow.opportunities.models import Opportunity, OpportunityState
from leadflow.security.actor import default_actor
from tests.browser.conftest import screenshot, sign_in
from tests.browser.test_qualification_settings_browser import SELLER

PHONE = (390, 844)


def _deal_for(database, topic: str) -> tuple[Lead, Opportunity]:
    """The seller's lead, linked to the account of an open opportunity the seller owns."""
    with database.unit_of_work() as uow:
        lead = uow.session.scalars(select(Lead).where(Lead.topic == topic)).one()
        opportunity = uow.session.scalars(
            select(Opportunity)
            .where(
                Opportunity.state == OpportunityState.OPEN,
                Opportunity.owner_user_id == lead.owner_user_id,
                Opportunity.parent_account_id.is_not(None),
            )
            .order_by(Opportunity.name)
            .limit(1)
        ).one()
        service.update_lead(
            lead.id,
            parse(LeadUpdate, {"parent_account_id": str(opportunity.parent_account_id)}),
            uow=uow,
            actor=default_actor(uow.session),
        )
        uow.commit()
        return lead, opportunity


@pytest.mark.parametrize("language", ["es", "en"])
def test_a_seller_qualifies_a_lead_into_an_open_opportunity_of_its_account(new_page, demo_database, language) -> None:
    email, password, topic = SELLER[language]
    lead, opportunity = _deal_for(demo_database, topic)
    page = new_page(language=language, viewport=PHONE)
    sign_in(page, email, password)
    page.goto(f"/leads/{lead.id}")
    page.locator("#qualify-into-button").click()
    page.wait_for_url(f"**/leads/{lead.id}/qualify")
    search = page.locator("#qualify-existing-opportunity .lookup-search")
    search.fill(opportunity.name[:12])
    page.wait_for_function(
        "value => [...document.querySelectorAll('#qualify-existing_opportunity_id option')].some(o => o.value === value)",
        arg=str(opportunity.id),
    )
    page.locator("#qualify-existing_opportunity_id").select_option(str(opportunity.id))
    screenshot(page, language, "qualify-into-opportunity-phone")
    page.locator("#qualify-submit").click()
    page.wait_for_url(f"**/opportunities/{opportunity.id}?qualified=1")
    with demo_database.unit_of_work(read_only=True) as uow:
        qualified = uow.session.get(Lead, lead.id)
    assert qualified.state is LeadState.QUALIFIED
    assert qualified.qualifying_opportunity_id == opportunity.id
