"""A lead's timeline in Chromium, in Spanish and in English: add a phone call from its dialog and find it at
the top, an appointment refused in its dialog, the type and state filters, and the screenshots of the
timeline and of the quick-create dialog on a desktop and on a phone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from leadflow.activities.activity import create_activity
from leadflow.core.db import utcnow
from leadflow.leads.models import Lead
from leadflow.security.actor import actor_for_email
from tests.browser.conftest import SCREENSHOTS, screenshot, sign_in

SELLERS = {
    "es": ("carlos.ruiz@leadflow.example", "demo-carlos-2026", "Licencias CRM para el equipo comercial"),
    "en": ("emma.clarke@leadflow.example", "demo-emma-2026", "Ergonomic chairs for the new Dublin office"),
}
WORDS = {
    "es": {
        "refusal": "El fin es anterior al inicio.",
        "overdue": "Vencida",
        "timeline": "Escala de tiempo",
        "add_call": "Agregar llamada de teléfono",
        "call": "Llamada de teléfono",
    },
    "en": {
        "refusal": "The end comes before the start.",
        "overdue": "Overdue",
        "timeline": "Timeline",
        "add_call": "Add phone call",
        "call": "Phone call",
    },
}


def _lead_with_activities(database, language: str) -> Lead:
    """The seller's lead, with an overdue task and a completed call already in its timeline."""
    email, _password, topic = SELLERS[language]
    with database.unit_of_work() as uow:
        lead = uow.session.scalars(select(Lead).where(Lead.topic == topic)).one()
        actor = actor_for_email(uow.session, email)
        for data in (
            {"type": "task", "subject": "Enviar la oferta" if language == "es" else "Send the offer"},
            {"type": "phone_call", "subject": "Primera llamada" if language == "es" else "First call"},
        ):
            extra = {"due": utcnow() - timedelta(days=2)} if data["type"] == "task" else {"status_reason": "made"}
            create_activity(
                {**data, **extra, "regarding_table": "leads", "regarding_id": str(lead.id)}, uow=uow, actor=actor
            )
        uow.commit()
        return lead


@pytest.mark.parametrize("language", ["es", "en"])
def test_a_seller_adds_a_call_is_refused_an_appointment_and_filters_the_timeline(
    new_page, demo_database, language
) -> None:
    email, password, _topic = SELLERS[language]
    words = WORDS[language]
    lead = _lead_with_activities(demo_database, language)
    page = new_page(language=language)
    sign_in(page, email, password)
    page.goto(f"/leads/{lead.id}")
    expect(page.locator("#timeline-title")).to_have_text(words["timeline"])
    expect(page.locator("#timeline .overdue-badge").first).to_contain_text(words["overdue"])

    # Add a phone call from its dialog: it lands at the top of the timeline.
    page.locator("#add-phone-call-button").click()
    dialog = page.locator("#quick-phone-call-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#add-phone-call-button")).to_contain_text(words["add_call"])
    subject = "Llamar para confirmar la demo" if language == "es" else "Call to confirm the demo"
    dialog.locator("#quick-phone-call-subject").fill(subject)
    dialog.locator("#quick-phone-call-due").fill("2031-05-06T09:30")
    screenshot(page, language, "timeline-quick-create-dialog")
    dialog.locator("#quick-phone-call-save").click()
    page.wait_for_url("**done=activity**")
    first = page.locator("#timeline > li").first
    expect(first).to_contain_text(subject)
    expect(first).to_contain_text(words["call"])
    screenshot(page, language, "lead-timeline-with-activities")

    # An appointment that ends before it starts is refused in its dialog, the input kept.
    page.locator("#add-appointment-button").click()
    appointment = page.locator("#quick-appointment-dialog")
    expect(appointment).to_be_visible()
    appointment.locator("#quick-appointment-subject").fill("Demo")
    appointment.locator("#quick-appointment-start").fill("2031-05-07T10:00")
    appointment.locator("#quick-appointment-end").fill("2031-05-07T09:00")
    appointment.locator("#quick-appointment-save").click()
    page.wait_for_load_state()
    appointment = page.locator("#quick-appointment-dialog")
    expect(appointment).to_be_visible()
    expect(appointment.locator("#quick-appointment-end-error")).to_have_text(words["refusal"])
    expect(appointment.locator("#quick-appointment-subject")).to_have_value("Demo")
    screenshot(page, language, "timeline-quick-create-refused")
    appointment.locator("#quick-appointment-cancel").click()
    expect(appointment).to_be_hidden()

    # Only phone calls, then only the open ones among them.
    page.locator("#timeline-kind").select_option("phone_call")
    page.locator("#timeline-filter-button").click()
    page.wait_for_url("**kind=phone_call**")
    entries = page.locator("#timeline > li")
    expect(entries.first).to_contain_text(subject)
    assert entries.count() >= 2
    expect(page.locator("#timeline > li:not(.phone-call-entry)")).to_have_count(0)
    page.locator("#timeline-state").select_option("open")
    page.locator("#timeline-filter-button").click()
    page.wait_for_url("**state=open**")
    expect(page.locator("#timeline > li").first).to_contain_text(subject)
    expect(page.locator("#timeline > li:not(.phone-call-entry.state-open)")).to_have_count(0)
    expect(page.locator("#timeline", has_text="First call" if language == "en" else "Primera llamada")).to_have_count(0)
    screenshot(page, language, "lead-timeline-filtered")


@pytest.mark.parametrize("language", ["es", "en"])
def test_the_timeline_and_its_dialog_fit_a_phone(new_page, demo_database, language) -> None:
    email, password, _topic = SELLERS[language]
    lead = _lead_with_activities(demo_database, language)
    page = new_page(language=language, viewport=(390, 844))
    sign_in(page, email, password)
    page.goto(f"/leads/{lead.id}")
    page.locator("#timeline-section").scroll_into_view_if_needed()
    expect(page.locator("#timeline .overdue-badge").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, language, "lead-timeline-phone")
    # The timeline pane alone, legible at a phone's width.
    page.locator("#timeline-section").screenshot(path=str(SCREENSHOTS / language / "lead-timeline-pane-phone.png"))

    page.locator("#add-appointment-button").click()
    dialog = page.locator("#quick-appointment-dialog")
    expect(dialog).to_be_visible()
    assert page.evaluate(
        "(() => { const d = document.getElementById('quick-appointment-dialog');"
        " return d.scrollWidth <= d.clientWidth && d.getBoundingClientRect().right <= window.innerWidth; })()"
    )
    screenshot(page, language, "timeline-quick-create-dialog-phone")
    # What the phone's screen shows: the dialog over the page.
    page.screenshot(path=str(SCREENSHOTS / language / "timeline-quick-create-dialog-phone-screen.png"))
