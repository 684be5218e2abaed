"""The pipeline board and the forecast in Chromium: a card dragged to another column, a card moved with
the keyboard alone, the forecast page in Spanish and in English, and the screenshots of the README's tour."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from leadflow.opportunities.models import Opportunity
from leadflow.reporting.forecast import GroupBy, forecast
from leadflow.security.actor import actor_for_email
from tests.browser.conftest import screenshot, sign_in

ADMIN = ("admin@leadflow.example", "demo-admin-2026")  # English
MANAGER = ("laura.martin@leadflow.example", "demo-laura-2026")  # Spanish, Sales Manager of Ventas España
SELLER = ("carlos.ruiz@leadflow.example", "demo-carlos-2026")  # Spanish, Salesperson


def _ids(database) -> dict[str, uuid.UUID]:
    with database.unit_of_work(read_only=True) as uow:
        return dict(uow.session.execute(select(Opportunity.name, Opportunity.id)).all())


@pytest.fixture
def pipeline(demo_database):
    """The demo's opportunities by name: the demo gives them currencies' rates, probabilities, close dates
    in this quarter and stages, and wins one and loses another early in the quarter
    (``leadflow.demo.load.DEMO_PIPELINE``)."""
    return _ids(demo_database)


def _stage(database, opportunity_id: uuid.UUID) -> str:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.get(Opportunity, opportunity_id).process_stage


def _focused_id(page) -> str:
    return page.evaluate(
        "document.activeElement && document.activeElement.closest('li.card') ? "
        "document.activeElement.closest('li.card').id : ''"
    )


def test_a_card_dragged_to_another_column_moves_through_every_stage_between(new_page, demo_database, pipeline):
    name = "Training room furniture for 30 learners"
    card_id = pipeline[name]
    # Tall enough for the card and the column it goes to to be on screen together, as a mouse drags it.
    page = new_page(language="en", viewport=(1280, 2000))
    sign_in(page, *ADMIN)
    page.goto("/board")
    page.set_viewport_size({"width": 1280, "height": 900})
    screenshot(page, "en", "pipeline-board")
    page.set_viewport_size({"width": 1280, "height": 2000})

    page.locator(f"#card-{card_id}").drag_to(page.locator("#column-close .cards"))
    page.wait_for_url("**/board?*moved=*")

    expect(page.locator(f"#column-close #card-{card_id}")).to_be_visible()
    assert page.locator("#notice").inner_text() == f"{name} moved to Close."
    assert _stage(demo_database, card_id) == "close"
    assert page.locator("#column-develop").get_by_text(name).count() == 0


def test_a_card_moves_with_the_keyboard_alone_and_keeps_the_focus(new_page, demo_database, pipeline):
    name = "Licencias CRM para 12 agentes inmobiliarios"
    card_id = pipeline[name]
    page = new_page(language="es")
    sign_in(page, *SELLER)
    page.goto("/board")
    forward = page.get_by_role("button", name=f"Pasar {name} a Proponer")
    forward.focus()

    page.keyboard.press("Enter")
    page.wait_for_url("**/board?*moved=*")

    expect(page.locator(f"#column-propose #card-{card_id}")).to_be_visible()
    assert _focused_id(page) == f"card-{card_id}"
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == f"Pasar {name} a Cerrar"
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "to=close" in url)
    expect(page.locator(f"#column-close #card-{card_id}")).to_be_visible()
    # At Close there is no stage further on: the focus is on the way back.
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == f"Devolver {name} a Proponer"
    assert _stage(demo_database, card_id) == "close"
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "to=propose" in url)
    assert _stage(demo_database, card_id) == "propose"
    assert page.locator("#notice").inner_text() == f"{name} pasó a Proponer."


def test_the_weighted_totals_and_the_filters_from_the_page(new_page, demo_database, pipeline):
    page = new_page(language="es")
    sign_in(page, *MANAGER)
    page.goto("/board")
    plain = page.locator("#total-close").inner_text()

    page.locator("#filter-weighted").check()
    page.locator("#filter-close-date").select_option("this_quarter")
    page.locator("#apply-filters").click()
    page.wait_for_url("**weighted=on**")

    weighted = page.locator("#total-close").inner_text()
    assert plain != weighted and "€" in weighted
    screenshot(page, "es", "pipeline-board")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "es", "pipeline-board-phone")


@pytest.mark.parametrize("language", ["es", "en"])
def test_the_forecast_page_in_each_language(new_page, demo_database, pipeline, language):
    email, password = MANAGER if language == "es" else ADMIN
    with demo_database.unit_of_work(read_only=True) as uow:
        expected = forecast(None, GroupBy.OWNER, uow=uow, actor=actor_for_email(uow.session, email))
    page = new_page(language=language)
    sign_in(page, email, password)
    page.get_by_role("navigation").get_by_role("link", name="Previsión" if language == "es" else "Forecast").click()
    page.wait_for_url("**/forecast")

    assert page.locator("h1").inner_text() == ("Previsión" if language == "es" else "Forecast")
    expect(page.locator("#chart-forecast svg[role=img]")).to_be_visible()
    total_row = page.locator("#forecast-table tfoot tr").inner_text()
    assert (
        ("Total" in total_row)
        and expected.total.open_count > 0
        and expected.total.won_count == (1 if language == "en" else 0)
    )
    header = page.locator("#forecast-table thead").inner_text()
    assert ("Canalización ponderada" in header) if language == "es" else ("Weighted pipeline" in header)
    screenshot(page, language, "forecast")
    with page.expect_download() as download:
        page.locator("#forecast-csv").click()
    assert download.value.suggested_filename == f"forecast-{expected.period}-owner.csv"
    page.locator("#forecast-group-by").select_option("business_unit")
    page.locator("#show-forecast").click()
    page.wait_for_url("**group_by=business_unit**")
    assert page.locator("#forecast-table tbody tr").count() >= 1
    if language == "en":
        page.set_viewport_size({"width": 390, "height": 844})
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        screenshot(page, language, "forecast-phone")
