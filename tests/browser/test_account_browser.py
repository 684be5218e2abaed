"""The user's own page in a real browser: two-factor sign-in set up with the keyboard, then asked for
at the next sign-in; in Spanish on a phone, in English on a desktop."""

from __future__ import annotations

import time

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in

CARLOS = ("carlos.ruiz@leadflow.example", "demo-carlos-2026")  # reads Spanish
EMMA = ("emma.clarke@leadflow.example", "demo-emma-2026")  # reads English
PHONE = (390, 844)

WORDS = {
    "es": {"two_factor": "Inicio de sesión en dos pasos", "codes": "Sus códigos de recuperación", "on": "Activado"},
    "en": {"two_factor": "Two-factor sign-in", "codes": "Your recovery codes", "on": "On"},
}


def fits_the_width(page) -> bool:
    """Nothing sticks out sideways: the page scrolls only downwards."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize(("language", "user", "viewport"), [("es", CARLOS, PHONE), ("en", EMMA, (1280, 900))])
def test_two_factor_sign_in_is_set_up_on_my_page_and_asked_for_next_time(new_page, language, user, viewport) -> None:
    words = WORDS[language]
    page = new_page(language=language, viewport=viewport)
    sign_in(page, *user)
    page.goto("/me")
    expect(page.get_by_role("heading", name=words["two_factor"])).to_be_visible()
    assert fits_the_width(page)
    screenshot(page, language, "me")

    page.locator("#two-factor-start").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/me/two-factor")
    expect(page.locator("svg.qr-code")).to_be_visible()
    secret = page.locator("#two-factor-secret").inner_text().replace(" ", "")
    assert fits_the_width(page)
    screenshot(page, language, "me-two-factor-setup")
    page.locator("#two-factor-code").fill(pyotp.TOTP(secret).now())
    page.locator("#two-factor-code").press("Enter")
    page.wait_for_url("**/me/two-factor/confirm")
    expect(page.get_by_role("heading", name=words["codes"])).to_be_visible()
    assert page.locator("#recovery-codes li").count() == 10
    assert fits_the_width(page)
    screenshot(page, language, "me-two-factor-codes")

    page.locator("#two-factor-done").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/me")
    assert words["on"] in page.locator("#two-factor-state").inner_text()
    screenshot(page, language, "me-two-factor-on")

    page.locator('form[action="/sign-out"] button').click()
    page.wait_for_url("**/sign-in")
    page.locator("#email").fill(user[0])
    page.locator("#password").fill(user[1])
    page.locator("#password").press("Enter")
    page.locator("#code").wait_for()
    assert fits_the_width(page)
    screenshot(page, language, "sign-in-code")
    page.locator("#code").fill(pyotp.TOTP(secret).at(time.time() + 30))  # the next step's code: not used yet
    page.locator("#code").press("Enter")
    page.wait_for_url(lambda url: "/sign-in" not in url)
    page.goto("/me")
    assert words["on"] in page.locator("#two-factor-state").inner_text()


ADMIN = ("admin@leadflow.example", "demo-admin-2026")


@pytest.mark.parametrize(("language", "viewport"), [("es", PHONE), ("en", (1280, 900))])
def test_a_password_reset_link_from_the_users_page_sets_a_new_password(new_page, language, viewport) -> None:
    admin = new_page(language=language, viewport=viewport)
    sign_in(admin, *ADMIN)
    admin.goto("/me")
    admin.locator("#me-language").select_option("")  # the pages follow the browser's language
    admin.locator("#save-me").click()
    admin.goto("/admin/users")
    admin.get_by_role("link", name="Emma Clarke").click()
    admin.locator("#reset-link-button").focus()
    admin.keyboard.press("Enter")
    link = admin.locator("#reset-link-url").inner_text()
    assert "/reset-password?token=" in link
    assert fits_the_width(admin)
    screenshot(admin, language, "admin-user-reset-link")

    emma = new_page(language=language, viewport=viewport)
    emma.goto(link)
    emma.locator("#reset-new-password").fill("violet harbour lantern 42")
    emma.locator("#reset-repeat-password").fill("violet harbour lantern 42")
    assert fits_the_width(emma)
    screenshot(emma, language, "reset-password")
    emma.locator("#reset-repeat-password").press("Enter")
    emma.wait_for_url("**/sign-in?reset=true")
    expect(emma.locator("#sign-in-notice")).to_be_visible()
    sign_in(emma, EMMA[0], "violet harbour lantern 42")
    assert "/sign-in" not in emma.url
