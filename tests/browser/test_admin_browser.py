"""Administration in a real browser: settings, and a duplicate found by a scan merged and then undone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from leadflow.customers.models import Account, CustomerState
from leadflow.customers.schemas import AccountCreate
from leadflow.customers.service import create_account
from leadflow.organisation.service import get_settings
from leadflow.security.actor import actor_for_email
from tests.browser.conftest import screenshot, sign_in

ADMIN = ("admin@leadflow.example", "demo-admin-2026")


def _browser_language(page) -> None:
    """Let the admin's pages follow the browser's language (the demo admin reads English)."""
    page.goto("/me")
    page.locator("#me-language").select_option("")
    page.locator("#save-me").click()


@pytest.mark.parametrize("language", ["en", "es"])
def test_an_administrator_switches_to_the_enhanced_duplicate_warning_and_seller_choices(
    new_page, demo_database, language
) -> None:
    page = new_page(language=language)
    sign_in(page, *ADMIN)
    _browser_language(page)
    page.goto("/admin/settings")
    page.locator("#qualification_experience-per_record").check()
    page.locator("#opportunity_creation").select_option("seller")
    page.locator("#duplicate_experience-classic").check()
    screenshot(page, language, "admin-settings")
    page.locator("#save-settings").click()
    expect(page.locator("#settings-saved")).to_be_visible()
    with demo_database.unit_of_work(read_only=True) as uow:
        settings = get_settings(uow.session)
        assert settings.qualification_experience.value == "per_record"
        assert settings.opportunity_creation.value == "seller"
        assert settings.duplicate_experience.value == "classic"


def test_a_duplicate_account_found_by_a_scan_is_merged_and_the_merge_undone(new_page, demo_database) -> None:
    with demo_database.unit_of_work() as uow:
        admin = actor_for_email(uow.session, ADMIN[0])
        # Saved despite the warning, as a hurried seller would: the normalized rule still pairs them.
        copy = create_account(
            AccountCreate(name="Grupo Alcazar Seguros S.A.", address_city="Sevilla"),
            uow=uow,
            actor=admin,
            suppress_duplicates=True,
        )
        uow.commit()
    page = new_page(language="en")
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, *ADMIN)
    page.goto("/admin/duplicates")
    page.locator("#job-table").select_option("accounts")
    page.locator("#start-job").click()
    page.wait_for_url("**/admin/duplicates/jobs/**")
    for _ in range(20):  # the job runs in the background; its page reloads itself until done
        if page.locator("#set-1").count():
            break
        page.wait_for_timeout(500)
        page.reload()
    assert "Grupo Alcazar Seguros S.A." in page.locator("#set-1").inner_text()
    screenshot(page, "en", "admin-duplicate-sets")
    page.locator("#set-1-merge button[type=submit]").click()
    page.wait_for_url("**/admin/merge?**")
    page.locator("#preview-merge").click()
    page.locator("#confirm-merge").click()
    page.wait_for_url("**/admin/merges/**")
    screenshot(page, "en", "admin-merge")
    with demo_database.unit_of_work(read_only=True) as uow:
        accounts = uow.session.scalars(select(Account).where(Account.name.like("Grupo Alc%"))).all()
        assert sorted(a.state.value for a in accounts) == ["active", "inactive"]
    page.locator("#undo-merge").click()
    page.wait_for_load_state()
    with demo_database.unit_of_work(read_only=True) as uow:
        restored = uow.session.get(Account, copy.id)
        assert restored.state is CustomerState.ACTIVE and restored.master_id is None
