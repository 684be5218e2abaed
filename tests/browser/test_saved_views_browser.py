"""Saved views in a real browser: a seller's administrator builds a view from the lead list's "Manage
views" with the filter builder's own JavaScript (rows added and removed), makes it the default, and the
lead list opens with it and offers it in its picker; in English and Spanish, and at a phone's width."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from leadflow.security.models import User
from tests.browser.conftest import screenshot, sign_in
from tests.web.crawl import demo_user

ADMIN = demo_user("System Administrator")
MANAGE = {"en": "Manage views", "es": "Gestionar vistas"}
TITLE = {"en": "Saved views", "es": "Vistas guardadas"}
DEFAULT = {"en": "default", "es": "predeterminada"}


@pytest.fixture
def browser_language(demo_database) -> None:
    """The administrator's pages follow the browser's language."""
    with demo_database.unit_of_work() as uow:
        uow.session.execute(update(User).where(User.email == ADMIN["email"]).values(language=None))
        uow.commit()


@pytest.mark.parametrize(("language", "width"), [("en", 1280), ("es", 1280), ("es", 390)])
def test_a_view_is_built_made_the_default_and_opens_the_lead_list(
    new_page, browser_language, language: str, width: int
) -> None:
    page = new_page(language=language, viewport=(width, 900))
    sign_in(page, ADMIN["email"], ADMIN["password"])
    page.goto("/leads")
    page.get_by_role("link", name=MANAGE[language]).click()
    expect(page.locator("#views-title")).to_contain_text(TITLE[language])

    # The script keeps one empty filter row and adds or removes rows on demand.
    rows = page.locator("[data-filter-row]")
    expect(rows).to_have_count(1)
    page.locator("#add-filter").click()
    page.locator("#add-filter").click()
    expect(rows).to_have_count(3)
    rows.nth(2).locator("[data-remove-filter]").click()
    expect(rows).to_have_count(2)

    page.locator("#view-name").fill("Hot leads")
    page.locator("#filter-field-1").select_option("rating")
    page.locator("#filter-op-1").select_option("eq")
    page.locator("#filter-value-1").fill("hot")
    page.locator("#view-sort").select_option("full_name")
    page.locator("#view-descending").uncheck()
    page.locator("#column-topic").check()
    page.locator("#column-rating").check()
    page.locator("#view-default").check()
    suffix = "" if width > 600 else "_390"
    screenshot(page, language, f"views_form{suffix}")
    page.locator("#save-view").click()
    expect(page.locator("#views-notice")).to_be_visible()
    expect(page.locator("#default-badge")).to_be_visible()
    screenshot(page, language, f"views_page{suffix}")

    page.locator("#back-to-list").click()
    expect(page.locator("#view-title")).to_have_text("Hot leads")
    picker = page.locator("#saved-view-select")
    expect(picker.locator("option:checked")).to_have_text(f"Hot leads ({DEFAULT[language]})")
    expect(page.locator("#sort-company_name")).to_have_count(0)  # the view's columns only
    expect(page.locator("#sort-rating")).to_have_count(1)
    screenshot(page, language, f"views_lead_list{suffix}")

    # Choosing "no saved view" in the picker goes back to the list's own views.
    picker.select_option("none")
    expect(page.locator("#sort-company_name")).to_have_count(1)
