"""Security administration and sharing in Chromium, on the demo organisation.

An administrator makes a business unit, a team with a member, and a role through its privilege grid,
and grants the role to the team: the member holds its privileges. A seller shares one of their leads
with a colleague of another business unit through the Share dialog, and the colleague opens it.
Screenshots of the role grid, the team page and the Share dialog, in Spanish and English and on a
phone-sized screen, land in build/screenshots/<language>/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from leadflow.leads.models import Lead
from leadflow.security.actor import actor_for_email
from leadflow.security.models import BusinessUnit, Team, User
from leadflow.security.privileges import Depth, Privilege
from tests.browser.conftest import SCREENSHOTS, screenshot, sign_in

ADMIN = ("admin@leadflow.example", "demo-admin-2026")
CARLOS = ("carlos.ruiz@leadflow.example", "demo-carlos-2026")  # Salesperson, Ventas España, reads Spanish
EMMA = ("emma.clarke@leadflow.example", "demo-emma-2026")  # Salesperson, Sales UK, reads English
OLIVER = "oliver.hughes@leadflow.example"  # Sales Team Member, Sales UK: reads the unit's leads, creates none
PHONE = (390, 844)


def dialog_shot(page, language: str, name: str) -> None:
    """A screenshot of what the screen shows (a dialog stays where it opened), beside the full-page ones."""
    path = SCREENSHOTS / language / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))


def _browser_language(page) -> None:
    """Let the admin's pages follow the browser's language (the demo admin reads English)."""
    page.goto("/me")
    page.locator("#me-language").select_option("")
    page.locator("#save-me").click()


def _one(database, statement):
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalars(statement).one()


@pytest.mark.parametrize("language", ["en", "es"])
def test_an_administrator_builds_a_unit_a_team_and_a_role_and_grants_the_role_to_the_team(
    new_page, demo_database, language
) -> None:
    page = new_page(language=language)
    sign_in(page, *ADMIN)
    _browser_language(page)

    # A business unit under Sales UK.
    page.goto("/admin/users")
    page.locator("#tab-business-units").click()
    page.locator("#unit-name").fill("Sales Dublin")
    page.locator("#unit-parent").select_option("Sales UK")
    page.locator("#create-unit").click()
    expect(page.locator("#unit-notice")).to_be_visible()
    dublin = _one(demo_database, select(BusinessUnit).where(BusinessUnit.name == "Sales Dublin"))
    uk = _one(demo_database, select(BusinessUnit).where(BusinessUnit.name == "Sales UK"))
    assert dublin.parent_id == uk.id

    # A role made in the grid: leads created by their owner, read and written in the business unit.
    page.locator("#tab-roles").click()
    page.locator("#new-role").click()
    page.locator("#role-name").fill("Lead desk")
    for cell, level in (
        ("level-leads-create", "1"),
        ("level-leads-read", "2"),
        ("level-leads-write", "2"),
        ("level-leads-append", "1"),
        ("level-leads-append_to", "2"),
    ):
        page.locator(f"#{cell}").select_option(level)
    # The cell shows its new level at once (a colour per level, as the legend shows).
    expect(page.locator("#level-leads-read").locator("xpath=..")).to_have_class(re.compile(r"\blevel-2\b"))
    screenshot(page, language, "security-role-grid")
    page.locator("#save-role").click()
    page.wait_for_url(re.compile(r"/admin/roles/[0-9a-f-]+\?created=true"))
    expect(page.locator("#role-notice")).to_be_visible()
    leads_row = page.locator(
        "#privileges-matrix tr", has=page.locator("th", has_text=re.compile("^(Leads|Clientes potenciales)$"))
    )
    assert leads_row.locator("td.level-2").count() == 3

    # A team in the new unit, with Oliver as its member and the new role.
    page.locator("#tab-teams").click()
    page.locator("#team-name").fill("Dublin desk")
    page.locator("#team-business-unit").select_option("Sales Dublin")
    page.locator("#create-team").click()
    expect(page.locator("#team-notice")).to_be_visible()
    page.locator("#add-member").select_option(label="Oliver Hughes (oliver.hughes@leadflow.example)")
    page.locator("#add-member-button").click()
    expect(page.locator("#team-members")).to_contain_text("Oliver Hughes")
    page.locator("#grant-team-role").select_option("Lead desk")
    page.locator("#grant-team-role-button").click()
    expect(page.locator("#team-roles")).to_have_text(re.compile(r"^\s*Lead desk"))
    assert "Oliver Hughes" in page.locator("#team-members").inner_text()
    screenshot(page, language, "security-team")

    team = _one(demo_database, select(Team).where(Team.name == "Dublin desk"))
    assert team.business_unit_id == dublin.id
    with demo_database.unit_of_work(read_only=True) as uow:
        oliver = actor_for_email(uow.session, OLIVER)
    assert oliver.depth("leads", Privilege.CREATE) is Depth.USER
    assert oliver.depth("leads", Privilege.WRITE) is Depth.BUSINESS_UNIT
    assert team.id in oliver.team_ids

    # The same pages on a phone.
    phone = new_page(language=language, viewport=PHONE)
    sign_in(phone, *ADMIN)
    phone.goto(page.url)
    screenshot(phone, language, "security-team-390")
    phone.goto("/admin/roles")
    phone.get_by_role("link", name="Lead desk").click()
    phone.locator("#edit-privileges").click()
    screenshot(phone, language, "security-role-grid-390")
    # The grid scrolls inside its frame; the page itself keeps the phone's width.
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE[0]


def _lead_of(database, email: str) -> Lead:
    with database.unit_of_work(read_only=True) as uow:
        owner = uow.session.scalars(select(User.id).where(User.email == email)).one()
        return uow.session.scalars(select(Lead).where(Lead.owner_user_id == owner).order_by(Lead.topic).limit(1)).one()


@pytest.mark.parametrize(
    ("language", "seller", "colleague", "colleague_name"),
    [("es", CARLOS, EMMA, "Emma Clarke"), ("en", EMMA, CARLOS, "Carlos Ruiz")],
)
def test_a_seller_shares_a_lead_with_a_colleague_who_can_then_open_it(
    new_page, demo_database, language, seller, colleague, colleague_name
) -> None:
    lead = _lead_of(demo_database, seller[0])
    other = new_page(language="en" if language == "es" else "es")
    sign_in(other, *colleague)
    assert other.goto(f"/leads/{lead.id}").status == 404  # a lead of another business unit

    page = new_page(language=language)
    sign_in(page, *seller)
    page.goto(f"/leads/{lead.id}")
    page.locator("#share-button").click()
    dialog = page.locator("#share-dialog")
    expect(dialog).to_be_visible()  # opened in place, on the lead's page
    colleague_id = _one(demo_database, select(User.id).where(User.email == colleague[0]))
    dialog.locator("#share-dialog-grantee").select_option(f"user:{colleague_id}")
    assert dialog.locator("#share-dialog-grantee option:checked").inner_text().startswith(colleague_name)
    dialog.locator("#share-dialog-right-write").check()
    dialog_shot(page, language, "security-share-dialog")
    dialog.locator("#share-dialog-submit").click()
    page.wait_for_url(re.compile(r"/share\?shared=true"))
    shares = page.locator("#share-shares").inner_text()
    assert colleague_name in shares

    opened = other.goto(f"/leads/{lead.id}")
    assert opened.status == 200
    assert other.locator("#lead-heading").inner_text() == lead.full_name

    # On a phone, the dialog fits the screen.
    phone = new_page(language=language, viewport=PHONE)
    sign_in(phone, *seller)
    phone.goto(f"/leads/{lead.id}")
    phone.locator("#share-button").click()
    expect(phone.locator("#share-dialog")).to_be_visible()
    box = phone.locator("#share-dialog").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE[0]
    dialog_shot(phone, language, "security-share-dialog-390")

    # Taking the share back closes the lead to the colleague again.
    page.locator("#share-revoke-1-button").click()
    page.wait_for_url(re.compile(r"/share\?revoked=true"))
    assert other.goto(f"/leads/{lead.id}").status == 404
