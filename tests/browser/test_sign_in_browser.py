"""Signing in with a real browser, in English and in Spanish."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in


@pytest.mark.parametrize(("language", "heading"), [("en", "Sign in"), ("es", "Iniciar sesión")])
def test_the_sign_in_page_speaks_the_browsers_language(new_page, language, heading) -> None:
    page = new_page(language=language)
    page.goto("/sign-in")
    assert page.get_by_role("heading", level=1).inner_text() == heading
    screenshot(page, language, "sign-in")


def test_a_spanish_seller_signs_in_with_the_keyboard_and_sees_the_site_map_in_spanish(new_page) -> None:
    page = new_page(language="en")  # the user's own language setting (Spanish) wins over the browser's
    sign_in(page, "carlos.ruiz@leadflow.example", "demo-carlos-2026")
    site_map = page.get_by_role("navigation", name="Sitio")
    for label in ("Clientes potenciales", "Cuentas", "Contactos", "Oportunidades", "Panel"):
        expect(site_map.get_by_role("link", name=label)).to_be_visible()
