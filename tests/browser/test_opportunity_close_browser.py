"""An opportunity's close, clicked through in Chromium in Spanish and in English: the Close as won dialog
(prefilled) closes it and leaves the page read-only; Reopen brings it back with the close record marked
canceled; the Close as lost dialog refuses Out-Sold without a competitor (on the form's own page, the
input kept) and closes it once the competitor is chosen.

Screenshots of the dialogs and of the closed page, on a desktop and on a phone (390 px), land in
``build/screenshots/<language>/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from leadflow.opportunities.competitors import create_competitor
from leadflow.opportunities.models import Opportunity, OpportunityClose, OpportunityState
from leadflow.opportunities.schemas import CompetitorCreate
from leadflow.security.actor import actor_for_email
from leadflow.security.models import User
from tests.browser.conftest import SCREENSHOTS

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@dataclass(frozen=True)
class Seller:
    email: str
    password: str
    typed_revenue: str
    revenue: Decimal
    won: str
    lost: str
    reopen: str
    out_sold: str
    competitor_required: str
    canceled: str


SELLERS = {
    "es": Seller(
        "carlos.ruiz@leadflow.example",
        "demo-carlos-2026",
        "18.500,75",
        Decimal("18500.75"),
        "Ganado",
        "Perdido",
        "Volver a abrir oportunidad",
        "Superado por la competencia",
        "Elija el competidor que ganó la venta.",
        "Cancelado",
    ),
    "en": Seller(
        "emma.clarke@leadflow.example",
        "demo-emma-2026",
        "18,500.75",
        Decimal("18500.75"),
        "Won",
        "Lost",
        "Reopen opportunity",
        "Out-Sold",
        "Choose the competitor who won the deal.",
        "Canceled",
    ),
}


def _opportunity_of(database, email: str) -> Opportunity:
    """An open opportunity the seller owns (the demo qualifies a few of each seller's leads and closes two)."""
    with database.unit_of_work(read_only=True) as uow:
        owner = uow.session.scalars(select(User.id).where(User.email == email)).one()
        opportunity = uow.session.scalars(
            select(Opportunity)
            .where(Opportunity.owner_user_id == owner, Opportunity.state == OpportunityState.OPEN)
            .order_by(Opportunity.name)
        ).first()
        assert opportunity is not None and opportunity.is_open
        uow.session.expunge(opportunity)
        return opportunity


def _stored(database, opportunity_id) -> Opportunity:
    with database.unit_of_work(read_only=True) as uow:
        opportunity = uow.session.get(Opportunity, opportunity_id)
        uow.session.expunge(opportunity)
        return opportunity


def _shoot(page, language: str, name: str, *, full_page: bool = False) -> None:
    """A screenshot as a desktop shows it (the whole page when ``full_page``; a dialog as the screen shows
    it) and as a phone's screen shows it (390 px)."""
    for suffix, size in (("", DESKTOP), ("-390", PHONE)):
        page.set_viewport_size(size)
        path = SCREENSHOTS / language / f"{name}{suffix}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=full_page and size is DESKTOP)
    page.set_viewport_size(DESKTOP)


def _sign_in(page, seller: Seller) -> None:
    page.goto("/sign-in")
    page.locator("#email").fill(seller.email)
    page.locator("#password").fill(seller.password)
    page.locator("#password").press("Enter")
    page.wait_for_url(lambda url: "/sign-in" not in url)


@pytest.mark.parametrize("language", ["es", "en"])
def test_a_seller_closes_an_opportunity_as_won_in_the_dialog_and_reopens_it(new_page, demo_database, language) -> None:
    seller = SELLERS[language]
    opportunity = _opportunity_of(demo_database, seller.email)
    page = new_page(language=language)
    _sign_in(page, seller)
    page.goto(f"/opportunities/{opportunity.id}")

    page.locator("#close-as-won-button").click()
    dialog = page.locator("#close-won-dialog")
    expect(dialog).to_be_visible()
    assert page.url.endswith(f"/opportunities/{opportunity.id}")  # a dialog, not the fallback page
    assert page.locator("#won-status-reason").input_value() == "won"
    assert page.locator("#won-close-date").input_value() != ""
    page.locator("#won-actual-revenue").fill(seller.typed_revenue)
    page.locator("#won-description").fill("PO 2026-118")
    _shoot(page, language, "opportunity-win")
    with page.expect_navigation():
        page.locator("#confirm-won-dialog-button").click()

    stored = _stored(demo_database, opportunity.id)
    assert (stored.state.value, stored.actual_revenue) == ("won", seller.revenue)
    assert page.locator("#opportunity-state").inner_text() == seller.won
    assert page.locator("#save-button").count() == 0 and page.locator("#field-name").is_disabled()
    assert page.locator("#timeline .close-entry", has_text="PO 2026-118").count() == 1
    _shoot(page, language, "opportunity-closed", full_page=True)

    with page.expect_navigation():
        page.get_by_role("button", name=seller.reopen).click()
    assert _stored(demo_database, opportunity.id).state.value == "open"
    expect(page.locator("#save-button")).to_be_visible()
    assert page.locator("#timeline .close-entry.canceled", has_text=seller.canceled).count() == 1


@pytest.mark.parametrize("language", ["es", "en"])
def test_a_seller_closes_an_opportunity_as_lost_to_a_competitor(new_page, demo_database, language) -> None:
    seller = SELLERS[language]
    opportunity = _opportunity_of(demo_database, seller.email)
    with demo_database.unit_of_work() as uow:
        competitor = create_competitor(
            CompetitorCreate(name="Dormobel Contract"), uow=uow, actor=actor_for_email(uow.session, seller.email)
        )
        uow.commit()
    page = new_page(language=language)
    _sign_in(page, seller)
    page.goto(f"/opportunities/{opportunity.id}")

    page.locator("#close-as-lost-button").click()
    expect(page.locator("#close-lost-dialog")).to_be_visible()
    page.locator("#lost-status-reason").select_option("out_sold")
    page.locator("#lost-description").fill("Cheaper offer")
    with page.expect_navigation():
        page.locator("#confirm-lost-dialog-button").click()

    # Refused: the form's own page, with the message next to the competitor and the input kept.
    assert page.url.endswith(f"/opportunities/{opportunity.id}/lose")
    assert page.locator("#lost-competitor-id-error").inner_text() == seller.competitor_required
    assert page.locator("#lost-status-reason").input_value() == "out_sold"
    assert page.locator("#lost-description").input_value() == "Cheaper offer"
    assert _stored(demo_database, opportunity.id).state.value == "open"
    page.locator("#lost-competitor-id").select_option(str(competitor.id))
    _shoot(page, language, "opportunity-lost-refused", full_page=True)
    with page.expect_navigation():
        page.locator("#confirm-lost-button").click()

    stored = _stored(demo_database, opportunity.id)
    assert (stored.state.value, stored.status_reason.value) == ("lost", "out_sold")
    assert page.locator("#opportunity-state").inner_text() == seller.lost
    assert page.locator("#opportunity-status-reason").inner_text() == seller.out_sold
    assert page.locator("#opportunity-competitors", has_text="Dormobel Contract").count() == 1
    with demo_database.unit_of_work(read_only=True) as uow:
        [close] = uow.session.scalars(select(OpportunityClose).where(OpportunityClose.opportunity_id == opportunity.id))
        assert close.competitor_id == competitor.id and close.description == "Cheaper offer"

    # Reopened, the lost dialog with the competitor chosen, as the screenshots show it.
    with page.expect_navigation():
        page.locator("#reopen-button").click()
    page.locator("#close-as-lost-button").click()
    page.locator("#lost-status-reason").select_option("out_sold")
    page.locator("#lost-competitor-id").select_option(str(competitor.id))
    page.locator("#lost-description").fill("Cheaper offer")
    _shoot(page, language, "opportunity-lost")
    page.locator("#cancel-lost-dialog-button").click()
    assert not page.locator("#close-lost-dialog").is_visible()
