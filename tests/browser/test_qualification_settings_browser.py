"""Qualify under each qualification setting (§6), clicked in Chromium.

Automatic is the demo's setting (tests/browser/test_seller_browser.py); here: the legacy switch at
No (the seller is asked which records to create) and the per-record Seller choices with several
opportunities.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from leadflow.leads.models import Lead, LeadState
from leadflow.opportunities.models import Opportunity
from leadflow.organisation.models import QualificationExperience, RecordCreation
from leadflow.organisation.service import get_settings
from tests.browser.conftest import screenshot, sign_in

SELLER = {
    "es": ("carlos.ruiz@leadflow.example", "demo-carlos-2026", "Mesas de reuniones para la nueva sede"),
    "en": ("emma.clarke@leadflow.example", "demo-emma-2026", "Whiteboards and storage for 10 classrooms"),
}


def _settings(database, **values) -> None:
    with database.unit_of_work() as uow:
        settings = get_settings(uow.session)
        for name, value in values.items():
            setattr(settings, name, value)
        uow.commit()


def _open(page, database, topic: str) -> Lead:
    with database.unit_of_work(read_only=True) as uow:
        lead = uow.session.scalars(select(Lead).where(Lead.topic == topic)).one()
    page.goto(f"/leads/{lead.id}")
    return lead


def _reload(database, lead: Lead) -> Lead:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.get(Lead, lead.id)


@pytest.mark.parametrize("language", ["es", "en"])
def test_legacy_no_asks_the_seller_which_records_to_create(new_page, demo_database, language) -> None:
    _settings(demo_database, qualification_experience=QualificationExperience.LEGACY, create_records_on_qualify=False)
    email, password, topic = SELLER[language]
    page = new_page(language=language)
    sign_in(page, email, password)
    lead = _open(page, demo_database, topic)
    page.locator("#qualify-button").click()
    expect(page.locator("#qualify-dialog")).to_be_visible()
    page.locator("#qualify-dialog-create-opportunity").uncheck()
    screenshot(page, language, "qualify-dialog-legacy")
    page.locator("#qualify-dialog-submit").click()
    page.wait_for_load_state()
    qualified = _reload(demo_database, lead)
    assert qualified.state is LeadState.QUALIFIED
    assert qualified.qualifying_opportunity_id is None and qualified.parent_contact_id is not None


@pytest.mark.parametrize("language", ["es", "en"])
def test_seller_choices_create_two_opportunities_and_no_account(new_page, demo_database, language) -> None:
    _settings(
        demo_database,
        qualification_experience=QualificationExperience.PER_RECORD,
        account_creation=RecordCreation.SELLER,
        contact_creation=RecordCreation.AUTOMATIC,
        opportunity_creation=RecordCreation.SELLER,
    )
    email, password, topic = SELLER[language]
    page = new_page(language=language)
    sign_in(page, email, password)
    lead = _open(page, demo_database, topic)
    page.locator("#qualify-button").click()
    expect(page.locator("#qualify-dialog")).to_be_visible()
    page.locator("#qualify-dialog-account-none").check()
    page.locator("#qualify-dialog-opportunity_1_name").fill("Fase 1" if language == "es" else "Phase 1")
    page.locator("#qualify-dialog-opportunity_1_revenue").fill("12000")
    page.locator("#qualify-dialog-opportunity_2_name").fill("Fase 2" if language == "es" else "Phase 2")
    page.locator("#qualify-dialog-opportunity_2_revenue").fill("8000")
    screenshot(page, language, "qualify-side-pane-seller")
    page.locator("#qualify-dialog-submit").click()
    page.wait_for_url("**/opportunities/**")
    qualified = _reload(demo_database, lead)
    assert qualified.state is LeadState.QUALIFIED and qualified.parent_account_id is None
    with demo_database.unit_of_work(read_only=True) as uow:
        names = sorted(uow.session.scalars(select(Opportunity.name).where(Opportunity.originating_lead_id == lead.id)))
    assert names == (["Fase 1", "Fase 2"] if language == "es" else ["Phase 1", "Phase 2"])
