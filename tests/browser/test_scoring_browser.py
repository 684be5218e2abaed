"""Lead scoring in a real browser: the administrator trains a new version and publishes it, then
restores the earlier one; a seller sorts the lead list by score, filters it by grade and opens a
lead's reasons; in English and Spanish."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from leadflow.demo.scoring import MODEL_NAME, load_scoring_demo
from leadflow.security.models import User
from tests.browser.conftest import screenshot, sign_in
from tests.web.crawl import demo_user

ADMIN = demo_user("System Administrator")
TITLES = {"en": "Lead scoring", "es": "Puntuación de clientes potenciales"}
TRAIN = {"en": "Train now", "es": "Entrenar ahora"}
PUBLISHED = {"en": "Published", "es": "Publicada"}
RETIRED = {"en": "Retired", "es": "Retirado"}
REASONS = {"en": "Why this score", "es": "Por qué esta puntuación"}


@pytest.fixture
def scored(demo_database) -> None:
    """The demo's history and its scoring model, trained and published; the administrator's pages
    follow the browser's language."""
    load_scoring_demo(demo_database)
    with demo_database.unit_of_work() as uow:
        uow.session.execute(update(User).where(User.email == ADMIN["email"]).values(language=None))
        uow.commit()


@pytest.mark.parametrize("language", ["en", "es"])
def test_an_administrator_trains_publishes_and_restores_a_version(new_page, scored, language: str) -> None:
    page = new_page(language=language)
    sign_in(page, ADMIN["email"], ADMIN["password"])
    page.goto("/admin/settings")
    page.get_by_role("link", name=TITLES[language], exact=True).first.click()
    expect(page.locator("#scoring-title")).to_have_text(TITLES[language])
    page.get_by_role("link", name=MODEL_NAME).click()
    expect(page.locator("#scoring-model-title")).to_have_text(MODEL_NAME)
    expect(page.locator("#scoring-version-1")).to_contain_text(PUBLISHED[language])

    # Train: the job's page follows it and leads back to the model's new version.
    page.get_by_role("button", name=TRAIN[language]).click()
    expect(page).to_have_url(re.compile(r"/jobs/[0-9a-f-]{36}$"))
    link = page.locator("#scoring-model-link")
    expect(link).to_contain_text("v2")
    link.click()
    expect(page.locator("#scoring-report-heading")).to_contain_text("2")
    expect(page.locator("#publish-button-2")).to_be_visible()

    page.locator("#publish-button-2").click()
    expect(page.locator("#scoring-notice")).to_be_visible()
    expect(page.locator("#scoring-version-2")).to_contain_text(PUBLISHED[language])
    expect(page.locator("#scoring-version-1")).to_contain_text(RETIRED[language])
    screenshot(page, language, "scoring-model")

    page.locator("#restore-button-1").click()
    expect(page.locator("#scoring-version-1")).to_contain_text(PUBLISHED[language])
    expect(page.locator("#scoring-version-2")).to_contain_text(RETIRED[language])
    expect(page.locator("#unpublish-button")).to_be_visible()


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_seller_sorts_by_score_filters_by_grade_and_reads_a_leads_reasons(new_page, scored, language: str) -> None:
    seller = demo_user("Salesperson", language)
    page = new_page(language=language)
    sign_in(page, seller["email"], seller["password"])
    page.goto("/leads")
    expect(page.locator("#lead-table")).to_be_visible()

    # Sorted by score, best first (the first click sorts a score descending), then the other way.
    page.locator("#sort-score").click()
    expect(page).to_have_url(re.compile(r"sort=-score"))
    expect(page.locator("#lead-table th[aria-sort='descending'] #sort-score")).to_be_visible()
    scores = [int(text) for text in page.locator("#lead-table .score-value").all_inner_texts()]
    assert scores and scores == sorted(scores, reverse=True)
    page.locator("#sort-score").click()
    expect(page).to_have_url(re.compile(r"sort=score"))
    expect(page.locator("#lead-table th[aria-sort='ascending'] #sort-score")).to_be_visible()
    ascending = [int(text) for text in page.locator("#lead-table .score-value").all_inner_texts()]
    assert ascending == sorted(ascending)

    # Filtered by a grade the seller's best lead has: every row shows that grade.
    best = page.locator("#lead-table .grade-badge").last.inner_text().strip()[-1]
    page.locator("#grade-select").select_option(best)
    expect(page).to_have_url(re.compile(rf"grade={best}"))
    badges = page.locator("#lead-table .grade-badge")
    expect(badges.first).to_be_visible()
    assert {text.strip()[-1] for text in badges.all_inner_texts()} == {best}

    # A lead's reasons: the fields that moved its score, each effect with its sign.
    page.locator("#lead-table tbody tr a").first.click()
    expect(page.locator("#lead-score")).to_be_visible()
    expect(page.locator("#lead-score-grade")).to_contain_text(best)
    expect(page.locator("#lead-score-reasons-title")).to_have_text(REASONS[language])
    effects = page.locator("#lead-score-reasons .effect")
    expect(effects.first).to_have_text(re.compile(r"^[+−±]\d+$"))
    expect(page.locator("#lead-score-model")).to_contain_text(MODEL_NAME)
    screenshot(page, language, "lead-score")
