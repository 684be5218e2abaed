"""An error page in a real browser: an unknown address in Spanish, with its links back."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in


def test_an_unknown_page_in_spanish_names_itself_and_links_back(new_page, live_server: str) -> None:
    page = new_page(language="es")
    sign_in(page, "carlos.ruiz@leadflow.example", "demo-carlos-2026")

    # As if a link of the lead list led nowhere: the browser names the page it came from.
    answer = page.goto("/clientes-potenciales/no-existe", referer=f"{live_server}/leads")

    assert answer is not None and answer.status == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_role("heading", level=1).inner_text() == "Página no encontrada"
    assert page.title() == "Página no encontrada · leadflow"
    assert "No hay nada en esta dirección" in page.get_by_role("alert").inner_text()
    screenshot(page, "es", "not-found")

    page.get_by_role("link", name="Volver a la página anterior").click()
    page.wait_for_url(f"{live_server}/leads")
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    page.goto("/clientes-potenciales/no-existe")  # typed in: only the way home
    assert page.get_by_role("link", name="Volver a la página anterior").count() == 0
    page.get_by_role("link", name="Volver a la página de inicio").click()
    page.wait_for_url(f"{live_server}/")
    expect(page.get_by_role("navigation", name="Sitio")).to_be_visible()
