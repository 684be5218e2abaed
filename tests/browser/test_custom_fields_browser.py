"""Custom fields in a real browser: the administrator adds a choice field to leads through its form,
creates a lead with a value of it, and finds it as a sortable column of the lead list; in English and
Spanish, and the forms at a phone's width."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from leadflow.security.models import User
from tests.browser.conftest import screenshot, sign_in
from tests.web.crawl import demo_user

ADMIN = demo_user("System Administrator")
TITLES = {"en": "Custom fields", "es": "Campos personalizados"}
CHOICE = {"en": "Choice", "es": "Opción"}
NORTH = {"en": "North", "es": "Norte"}


@pytest.fixture
def browser_language(demo_database) -> None:
    """The administrator's pages follow the browser's language."""
    with demo_database.unit_of_work() as uow:
        uow.session.execute(update(User).where(User.email == ADMIN["email"]).values(language=None))
        uow.commit()


@pytest.mark.parametrize("language", ["en", "es"])
def test_an_administrator_adds_a_choice_field_and_a_lead_shows_it_in_the_list(
    new_page, browser_language, language: str
) -> None:
    page = new_page(language=language)
    sign_in(page, ADMIN["email"], ADMIN["password"])
    page.goto("/admin/settings")
    page.get_by_role("link", name=TITLES[language], exact=True).first.click()
    expect(page.locator("#custom-fields-title")).to_have_text(TITLES[language])

    page.locator("#new-custom-field-button").click()
    page.locator("#field-name").fill("region")
    page.locator("#field-label_en").fill("Region")
    page.locator("#field-label_es").fill("Región")
    page.locator("#field-kind").select_option("choice")
    # Only the chosen kind's settings are shown.
    expect(page.locator("#field-options")).to_be_visible()
    expect(page.locator("#field-max_length")).to_be_hidden()
    page.locator("#field-options").fill("north | North | Norte\nsouth | South | Sur")
    page.locator("#field-searchable").check()
    screenshot(page, language, "custom-field-form")
    page.locator("#save-custom-field-button").click()
    expect(page.locator("#custom-fields-notice")).to_be_visible()
    expect(page.locator("#custom-field-region")).to_contain_text(CHOICE[language])
    screenshot(page, language, "custom-fields")

    page.goto("/leads/new")
    expect(page.locator("#section-custom")).to_be_visible()
    page.locator("#lead-topic").fill("Custom field walk")
    page.locator("#lead-last-name").fill("Campos")
    page.locator("#custom-region").select_option("north")
    screenshot(page, language, "custom-fields-lead-form")
    page.locator("#save-button").click()
    expect(page.locator("#lead-notice")).to_be_visible()
    expect(page.locator("#custom-region")).to_have_value("north")

    page.goto("/leads")
    column = page.locator("#sort-custom-region")
    expect(column).to_be_visible()
    column.click()
    expect(page.locator("#lead-table")).to_contain_text(NORTH[language])
    expect(page.locator("#lead-table th[aria-sort]")).to_contain_text("Región" if language == "es" else "Region")
    screenshot(page, language, "custom-fields-lead-list")


def test_the_custom_field_pages_fit_a_phone(new_page, browser_language) -> None:
    page = new_page(language="es", viewport=(390, 844))
    sign_in(page, ADMIN["email"], ADMIN["password"])
    for name, english, spanish in (("size", "Size", "Tamaño"), ("contract_end", "Contract end", "Fin del contrato")):
        page.goto("/admin/custom-fields/new?table=leads")
        page.locator("#field-name").fill(name)
        page.locator("#field-label_en").fill(english)
        page.locator("#field-label_es").fill(spanish)
        page.locator("#field-kind").select_option("date")
        page.locator("#save-custom-field-button").click()
        expect(page.locator(f"#custom-field-{name}")).to_be_visible()
    page.locator("#move-up-contract_end").click()
    expect(page.locator("#custom-fields-notice")).to_be_visible()
    expect(page.locator("#custom-fields-table tbody tr").first).to_contain_text("Fin del contrato")
    screenshot(page, "es", "custom-fields-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    page.goto("/leads/new")
    expect(page.locator("#custom-size")).to_have_attribute("type", "date")
    expect(page.get_by_label("Tamaño")).to_be_visible()
    screenshot(page, "es", "custom-fields-lead-form-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
