"""The seller's day, clicked in Chromium in Spanish and in English: a demo seller opens My open activities,
creates a task due today through the New menu's form, finds it in Due today and on the dashboard's
"Today's activities", marks it complete and finds it in Completed this week. Screenshots of the list,
the activity's page and the dashboard, at desktop and at phone width (390 px), land in
build/screenshots/<language>/.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from leadflow.organisation.service import time_zone_of
from leadflow.security.actor import actor_for_email
from tests.browser.conftest import screenshot, sign_in
from tests.browser.test_qualification_settings_browser import SELLER

WORDS = {
    "en": {
        "my_open": "My open activities",
        "new": "New",
        "new_task": "New task",
        "save": "Save",
        "created": "The activity was created.",
        "complete": "Mark complete",
        "completed": "The activity is completed.",
        "tile": "Today's activities",
    },
    "es": {
        "my_open": "Mis actividades abiertas",
        "new": "Nuevo",
        "new_task": "Nueva tarea",
        "save": "Guardar",
        "created": "Se creó la actividad.",
        "complete": "Marcar como completada",
        "completed": "La actividad está completada.",
        "tile": "Actividades de hoy",
    },
}


def later_today(database, email: str) -> str:
    """A moment still ahead today in the seller's time zone, as a datetime-local field takes it."""
    with database.unit_of_work(read_only=True) as uow:
        zone = time_zone_of(actor_for_email(uow.session, email), session=uow.session)
    now = datetime.now(zone)
    midnight = datetime.combine(now.date() + timedelta(days=1), time(), zone)
    due = now + min(timedelta(hours=1), (midnight - now) / 2)
    return due.strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize("language", ["es", "en"])
def test_a_seller_plans_a_task_for_today_and_completes_it(new_page, demo_database, language):
    email, password, _topic = SELLER[language]
    words = WORDS[language]
    subject = f"Llamar a Ana Ruiz ({language})" if language == "es" else f"Call Ana Ruiz back ({language})"
    page = new_page(language=language)
    sign_in(page, email, password)

    page.get_by_role("navigation", name=re.compile("Site|Sitio")).get_by_role(
        "link", name=re.compile("^(Activities|Actividades)$")
    ).click()
    expect(page.locator("#view-my-open")).to_have_attribute("aria-current", "page")
    expect(page.locator("#view-my-open")).to_have_text(words["my_open"])

    page.locator("#new-menu-button").click()
    page.get_by_role("link", name=words["new_task"]).click()
    expect(page.locator("h1")).to_contain_text(words["new_task"])
    page.locator("#field-subject").fill(subject)
    page.locator("#field-due").fill(later_today(demo_database, email))
    page.locator("#field-priority").select_option("high")
    page.locator("#save-button-bottom").click()
    expect(page.locator("#notice")).to_contain_text(words["created"])
    activity_url = page.url
    screenshot(page, language, "activity-task")

    page.goto("/activities?view=due_today")
    expect(page.get_by_role("link", name=subject)).to_be_visible()
    screenshot(page, language, "activities-due-today")

    page.goto("/dashboard")
    tile = page.locator("#today-activities")
    expect(tile.get_by_role("heading", name=words["tile"])).to_be_visible()
    expect(tile.get_by_role("link", name=subject)).to_be_visible()
    tile.screenshot(path=str(screenshot(page, language, "dashboard").with_name("dashboard-today-tile.png")))

    page.goto(activity_url)
    page.get_by_role("button", name=words["complete"]).click()
    expect(page.locator("#notice")).to_contain_text(words["completed"])
    expect(page.locator("#read-only-banner")).to_be_visible()

    page.goto("/activities?view=completed_this_week")
    expect(page.get_by_role("link", name=subject)).to_be_visible()
    page.goto("/activities")
    expect(page.get_by_role("link", name=subject)).to_have_count(0)
    screenshot(page, language, "activities")

    # At a phone's width the list, the activity's page and the dashboard fit without scrolling sideways.
    phone = new_page(language=language, viewport=(390, 844))
    sign_in(phone, email, password)
    for path, name in (
        ("/activities?view=completed_this_week", "activities-phone"),
        (urlsplit(activity_url).path, "activity-phone"),
        ("/dashboard", "dashboard-phone"),
        ("/activities/new?type=appointment", "activity-new-appointment-phone"),
    ):
        phone.goto(path)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width} px wide at 390 px"
        screenshot(phone, language, name)


@pytest.mark.parametrize("language", ["es", "en"])
def test_a_seller_makes_a_calendar_address_copies_it_and_revokes_it(new_page, language):
    email, password, _topic = SELLER[language]
    page = new_page(language=language)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, email, password)
    page.goto("/me#calendar-feed")
    page.locator("#calendar-issue").click()
    address = page.locator("#calendar-url")
    expect(address).to_be_visible()
    expect(address).to_have_value(re.compile(r"^http://[^/]+/calendar/[A-Za-z0-9_-]{20,}\.ics$"))
    page.locator("#copy-calendar-url").click()
    expect(page.locator("#copy-calendar-status")).to_have_text("Copied." if language == "en" else "Copiada.")
    page.locator("#calendar-feed").screenshot(
        path=str(screenshot(page, language, "me").with_name("me-calendar-feed.png"))
    )

    page.goto("/me")
    expect(page.locator("#calendar-url")).to_have_count(0)
    page.locator("#calendar-revoke").click()
    expect(page.locator("#calendar-issue")).to_be_visible()
    expect(page.locator("#calendar-revoke")).to_have_count(0)
