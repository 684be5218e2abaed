"""The user's source document, clicked through in Chromium in Spanish and in English.

Sign in → Leads → open a lead → fill the Qualify stage → Qualify → land on the opportunity with the
lead's notes; qualify several from the list; disqualify with a reason, find it in Closed Leads,
reactivate it; both duplicate warnings; a Salesperson does not see another unit's leads.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from leadflow.customers.models import Account
from leadflow.leads.models import Lead, LeadState
from leadflow.organisation.models import DuplicateExperience
from leadflow.organisation.service import get_settings
from tests.browser.conftest import screenshot, sign_in


@dataclass(frozen=True)
class Seller:
    language: str
    email: str
    password: str
    leads_label: str
    lead_to_qualify: str
    its_note: str
    lead_to_disqualify: str
    several: tuple[str, str]
    duplicate_lead: str
    existing_company: str
    other_units_lead: str


SELLERS = {
    "es": Seller(
        "es",
        "carlos.ruiz@leadflow.example",
        "demo-carlos-2026",
        "Clientes potenciales",
        "Licencias CRM para el equipo comercial",
        "Demo solicitada",
        "Puestos de trabajo para centro de atención al cliente",
        ("Armarios y taquillas para vestuarios del personal", "Pantallas interactivas para 14 aulas"),
        "Sillas para la nueva oficina de Sevilla",
        "Grupo Alcázar Seguros",
        "Ergonomic chairs for the new Dublin office",
    ),
    "en": Seller(
        "en",
        "emma.clarke@leadflow.example",
        "demo-emma-2026",
        "Leads",
        "Ergonomic chairs for the new Dublin office",
        "",
        "CRM pilot for five account managers",
        ("Replacement of 40 visitor chairs", "CRM licences with email integration"),
        "Sit-stand desks for the Denver office",
        "Brightline Software Inc.",
        "Licencias CRM para el equipo comercial",
    ),
}


def _open_lead(page, seller: Seller, topic: str, view: str = "my-open") -> None:
    page.get_by_role("navigation").get_by_role("link", name=seller.leads_label, exact=True).click()
    page.locator("#view-select").select_option(view)
    page.locator("#search-input").fill(topic)
    page.locator("#search-input").press("Enter")
    page.wait_for_load_state()
    page.locator("#lead-table tr", has_text=topic).locator("a").first.click()
    page.wait_for_url("**/leads/*")


def _lead(database, topic: str) -> Lead:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalars(select(Lead).where(Lead.topic == topic)).one()


@pytest.mark.parametrize("language", ["es", "en"])
def test_a_seller_qualifies_a_lead_from_the_qualify_stage_and_lands_on_the_opportunity(
    new_page, demo_database, language
) -> None:
    seller = SELLERS[language]
    page = new_page(language=language)
    sign_in(page, seller.email, seller.password)
    _open_lead(page, seller, seller.lead_to_qualify, view="open")
    page.locator("#lead-purchase-timeframe").select_option("this_quarter")
    page.locator("#lead-budget-amount").fill("30000")
    page.locator("#lead-purchase-process").select_option("committee")
    page.locator("#lead-decision-maker").select_option("yes")
    page.locator("#lead-qualification-comments").fill(
        "Decide el comité." if language == "es" else "The committee decides."
    )
    screenshot(page, language, "lead-form")
    page.locator("#qualify-button").click()
    page.wait_for_url("**/opportunities/**")
    screenshot(page, language, "opportunity-after-qualify")
    timeline = page.locator("#timeline").inner_text()
    lead = _lead(demo_database, seller.lead_to_qualify)
    assert lead.state is LeadState.QUALIFIED and lead.purchase_process.value == "committee"
    with demo_database.unit_of_work(read_only=True) as uow:
        from leadflow.activities.models import Note

        titles = uow.session.scalars(select(Note.title).where(Note.regarding_id == lead.id)).all()
    assert titles and all(title in timeline for title in titles if title)


@pytest.mark.parametrize("language", ["es", "en"])
def test_a_seller_disqualifies_with_a_reason_finds_it_in_closed_leads_and_reactivates_it(
    new_page, demo_database, language
) -> None:
    seller = SELLERS[language]
    page = new_page(language=language)
    sign_in(page, seller.email, seller.password)
    _open_lead(page, seller, seller.lead_to_disqualify, view="open")
    page.locator("#disqualify-button").click()
    page.locator("#disqualify-dialog-status-reason").select_option("no_longer_interested")
    screenshot(page, language, "disqualify-dialog")
    page.locator("#disqualify-dialog-submit").click()
    page.wait_for_load_state()
    assert _lead(demo_database, seller.lead_to_disqualify).state is LeadState.DISQUALIFIED
    _open_lead(page, seller, seller.lead_to_disqualify, view="closed")
    expect(page.locator("#read-only-banner")).to_be_visible()
    page.locator("#reactivate-button").click()
    page.wait_for_load_state()
    assert _lead(demo_database, seller.lead_to_disqualify).state is LeadState.OPEN


@pytest.mark.parametrize("language", ["es", "en"])
def test_a_seller_qualifies_several_leads_from_the_list(new_page, demo_database, language) -> None:
    seller = SELLERS[language]
    page = new_page(language=language)
    sign_in(page, seller.email, seller.password)
    page.get_by_role("navigation").get_by_role("link", name=seller.leads_label, exact=True).click()
    page.locator("#view-select").select_option("open")
    page.locator("#view-form").evaluate("form => form.requestSubmit ? form.requestSubmit() : form.submit()")
    page.wait_for_load_state()
    for topic in seller.several:
        page.locator("tr", has_text=topic).locator("input[type=checkbox]").check()
    screenshot(page, language, "lead-list")
    page.locator("#bulk-qualify-button").click()
    page.wait_for_load_state()
    screenshot(page, language, "bulk-qualify-results")
    expect(page.locator("#results-table")).to_be_visible()
    for topic in seller.several:
        assert _lead(demo_database, topic).state is LeadState.QUALIFIED


def _accounts_named(database, name: str) -> list[Account]:
    with database.unit_of_work(read_only=True) as uow:
        return list(uow.session.scalars(select(Account).where(Account.name == name)))


def test_the_enhanced_warning_links_the_matching_account_in_spanish(new_page, demo_database) -> None:
    seller = SELLERS["es"]
    page = new_page(language="es")
    sign_in(page, seller.email, seller.password)
    _open_lead(page, seller, seller.duplicate_lead, view="open")
    page.locator("#qualify-button").click()
    page.wait_for_load_state()
    expect(page.get_by_text("Es posible que la cuenta o el contacto ya existan").first).to_be_visible()
    screenshot(page, "es", "duplicate-warning-enhanced")
    existing = _accounts_named(demo_database, seller.existing_company)
    page.locator(f"#matching-accounts-table-{existing[0].id}").check()
    page.locator("#duplicate-continue-button").click()
    page.wait_for_url("**/opportunities/**")
    assert [a.id for a in _accounts_named(demo_database, seller.existing_company)] == [existing[0].id]  # no new account
    assert _lead(demo_database, seller.duplicate_lead).parent_account_id == existing[0].id


def test_the_classic_warning_left_blank_creates_a_new_account_in_english(new_page, demo_database) -> None:
    with demo_database.unit_of_work() as uow:
        get_settings(uow.session).duplicate_experience = DuplicateExperience.CLASSIC
        uow.commit()
    seller = SELLERS["en"]
    page = new_page(language="en")
    sign_in(page, seller.email, seller.password)
    _open_lead(page, seller, seller.duplicate_lead, view="open")
    page.locator("#qualify-button").click()
    page.wait_for_load_state()
    expect(page.get_by_text("Duplicate warning").first).to_be_visible()
    screenshot(page, "en", "duplicate-warning-classic")
    page.locator("#duplicate-account").select_option("")
    page.locator("#duplicate-continue-button").click()
    page.wait_for_url("**/opportunities/**")
    assert len(_accounts_named(demo_database, seller.existing_company)) == 2


@pytest.mark.parametrize("language", ["es", "en"])
def test_a_salesperson_does_not_see_another_units_leads(new_page, demo_database, language) -> None:
    seller = SELLERS[language]
    page = new_page(language=language)
    sign_in(page, seller.email, seller.password)
    page.goto("/leads?view=all")
    expect(page.locator("#lead-table")).to_be_visible()
    assert page.get_by_text(seller.other_units_lead).count() == 0
    other = _lead(demo_database, seller.other_units_lead)
    response = page.goto(f"/leads/{other.id}")
    assert response.status in (403, 404)
    with demo_database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Lead)) > 40


def test_the_enhanced_warning_ignored_and_saved_creates_a_new_account_in_english(new_page, demo_database) -> None:
    seller = SELLERS["en"]
    page = new_page(language="en")
    sign_in(page, seller.email, seller.password)
    _open_lead(page, seller, seller.duplicate_lead, view="open")
    page.locator("#qualify-button").click()
    page.wait_for_load_state()
    expect(page.get_by_text("The account or contact might already exist").first).to_be_visible()
    screenshot(page, "en", "duplicate-warning-enhanced")
    page.locator("#duplicate-ignore-button").click()
    page.wait_for_url("**/opportunities/**")
    assert len(_accounts_named(demo_database, seller.existing_company)) == 2
