"""The seller's day in the web app: the lists of activities by view (due times relative to now), the forms
of each type, complete / cancel / reopen / delete, refusals beside their fields, a user without the
privilege, overdue rows, the dashboard's tile and the calendar feed on the user's own page; in English
and Spanish, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import select

from leadflow.activities import activity as activities
from leadflow.activities.models import Activity, ActivityParty, ActivityState, ActivityStatus, CalendarFeed
from leadflow.core.db import utcnow
from leadflow.security import service as security
from leadflow.security.actor import actor_for_email
from leadflow.security.privileges import Depth, Privilege
from tests.e2e.test_activity_mail_api import MailServer
from tests.web.test_records_pages import form_fields, make_contact

SELLER = "sara.seller@example.com"
OTHER = "otto.other@example.com"
PASSWORD = "a password long enough to pass"


def make_user(database, email: str, name: str, roles: list[str]) -> None:
    with database.unit_of_work() as uow:
        security.create_user(
            email=email,
            full_name=name,
            role_names=roles,
            business_unit_name=None,
            password=PASSWORD,
            time_zone="UTC",
            uow=uow,
            actor=None,
        )
        uow.commit()


@pytest.fixture
def seller(database):
    make_user(database, SELLER, "Sara Seller", ["Salesperson"])
    with database.unit_of_work(read_only=True) as uow:
        return actor_for_email(uow.session, SELLER)


def add(database, actor, **data):
    """An activity created through the service, as another page or the API would."""
    with database.unit_of_work() as uow:
        created, _job = activities.create_activity({"type": "task", **data}, uow=uow, actor=actor)
        uow.commit()
        return created.id


def later_today() -> datetime:
    """A moment still ahead today (UTC, the seller's zone), however late the tests run."""
    now = utcnow()
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
    return now + min(timedelta(hours=1), (midnight - now) / 2)


def rows(html: str) -> list[str]:
    """The subjects of a list's rows, in order."""
    body = html.split('id="activities-table"', 1)[1].split("</table>", 1)[0]
    return [unescape(s) for s in re.findall(r'<a href="/activities/[0-9a-f-]+">([^<]+)</a>', body)]


def post_form(client, html: str, form_id: str, action: str, **changes):
    fields = form_fields(html, form_id) | changes
    return client.post(action, data=fields, follow_redirects=False)


def followed(client, response) -> str:
    assert response.status_code == 303, response.text[:3000]
    return client.get(response.headers["location"]).text


def stored(database, activity_id) -> Activity:
    with database.unit_of_work(read_only=True) as uow:
        found = uow.session.get(Activity, activity_id)
        if found is not None:
            uow.session.expunge(found)
        return found


# ---------------------------------------------------------------------------------------------- the views


@pytest.fixture
def day(database, seller, actor):
    """The seller's activities: overdue, due later today, next week, undated, completed now; one of another user."""
    make_user(database, OTHER, "Otto Other", ["Salesperson"])
    with database.unit_of_work(read_only=True) as uow:
        other = actor_for_email(uow.session, OTHER)
    now = utcnow()
    ids = {
        "overdue": add(database, seller, subject="Call back Ana", due=(now - timedelta(days=2)).isoformat()),
        "today": add(database, seller, subject="Send the proposal", due=later_today().isoformat()),
        "later": add(database, seller, subject="Visit Sevilla", due=(now + timedelta(days=8)).isoformat()),
        "undated": add(database, seller, subject="Tidy the pipeline"),
        "done": add(database, seller, subject="Prepare the demo", status_reason="completed"),
        "others": add(database, other, subject="Someone else's task", due=later_today().isoformat()),
    }
    return ids


def test_the_views_show_the_seller_s_rows_by_their_due_times(web_client_for, day):
    client = web_client_for(SELLER, PASSWORD)

    my_open = client.get("/activities").text
    assert rows(my_open) == ["Call back Ana", "Send the proposal", "Visit Sevilla", "Tidy the pipeline"]
    assert 'id="view-my-open" aria-current="page"' in my_open
    assert rows(client.get("/activities?view=due_today").text) == ["Send the proposal"]
    assert rows(client.get("/activities?view=overdue").text) == ["Call back Ana"]
    assert rows(client.get("/activities?view=completed_this_week").text) == ["Prepare the demo"]
    everything = client.get("/activities?view=all").text
    # A salesperson reads the business unit's activities: the other seller's too.
    assert "Someone else's task" in rows(everything)
    completed = client.get("/activities?view=all&state=completed&type=task").text
    assert rows(completed) == ["Prepare the demo"]
    assert rows(client.get("/activities?view=all&type=phone_call").text) == []


def test_an_overdue_open_row_is_marked_with_a_class_and_a_badge(web_client_for, day):
    html = web_client_for(SELLER, PASSWORD).get("/activities").text
    overdue_row = re.search(rf'<tr id="activity-{day["overdue"]}" class="([^"]+)">(.*?)</tr>', html, re.DOTALL)
    assert overdue_row is not None
    assert "overdue" in overdue_row.group(1).split()
    assert '<span class="badge bad overdue-badge">Overdue</span>' in overdue_row.group(2)
    today_row = re.search(rf'<tr id="activity-{day["today"]}" class="([^"]+)">(.*?)</tr>', html, re.DOTALL)
    assert today_row is not None and "overdue" not in today_row.group(1).split()
    assert "Overdue</span>" not in today_row.group(2)


def test_the_list_pages_with_a_next_link(web_client_for, seller, database):
    for number in range(55):
        add(database, seller, subject=f"Task {number:02d}")
    client = web_client_for(SELLER, PASSWORD)
    first = client.get("/activities?view=all").text
    assert len(rows(first)) == 50
    next_link = unescape(re.search(r'id="next-page" href="([^"]+)"', first).group(1))
    second = client.get(next_link).text
    assert len(rows(second)) == 5
    assert not set(rows(first)) & set(rows(second))


def test_the_list_reads_in_spanish(web_client_for, day):
    html = web_client_for(SELLER, PASSWORD, accept_language="es").get("/activities").text
    for words in ("Actividades", "Mis actividades abiertas", "Vencen hoy", "Vencidas", "Completadas esta semana"):
        assert words in html
    assert '<span class="badge bad overdue-badge">Vencida</span>' in html
    assert "Nueva tarea" in html and "Nueva llamada de teléfono" in html and "Nueva cita" in html
    assert "Nuevo correo electrónico" in html
    assert "Asunto" in html and "Referente a" in html and "Propietario" in html and "Prioridad" in html


# ---------------------------------------------------------------------------------------------- the forms


def test_a_task_is_created_through_the_form_and_completed_canceled_and_reopened(web_client_for, database, seller):
    client = web_client_for(SELLER, PASSWORD)
    form = client.get("/activities/new?type=task").text
    due = later_today().strftime("%Y-%m-%dT%H:%M")
    page = followed(
        client,
        post_form(
            client, form, "activity-form", "/activities/new?type=task", subject="Call Ana", due=due, priority="high"
        ),
    )
    assert "The activity was created." in page
    created = stored(database, uuid.UUID(re.search(r'action="/activities/([0-9a-f-]+)"', page).group(1)))
    assert created.subject == "Call Ana" and created.priority.value == "high"
    assert created.scheduled_end.strftime("%Y-%m-%dT%H:%M") == due
    url = f"/activities/{created.id}"

    page = followed(client, post_form(client, page, "complete-form", f"{url}/complete"))
    assert "The activity is completed." in page
    assert 'id="read-only-banner"' in page and 'id="subject"' not in page
    assert stored(database, created.id).state is ActivityState.COMPLETED
    assert "disabled" in re.search(r'<input type="text" id="field-subject"[^>]*>', page).group(0)

    page = followed(client, post_form(client, page, "reopen-form", f"{url}/reopen"))
    assert "The activity is open again." in page
    page = followed(client, post_form(client, page, "cancel-form", f"{url}/cancel"))
    assert stored(database, created.id).state is ActivityState.CANCELED

    page = followed(client, post_form(client, page, "reopen-form", f"{url}/reopen"))
    assert "Delete this activity?" in page
    response = post_form(client, page, "delete-form", f"{url}/delete")
    assert response.status_code == 303 and response.headers["location"] == "/activities?deleted=true"
    assert stored(database, created.id) is None


def test_a_phone_call_is_created_and_completed_as_received(web_client_for, database, seller):
    client = web_client_for(SELLER, PASSWORD)
    form = client.get("/activities/new?type=phone_call").text
    page = followed(
        client,
        post_form(
            client,
            form,
            "activity-form",
            "/activities/new?type=phone_call",
            subject="Ana called",
            phone_number="+34 600 000 000",
            direction="incoming",
            duration_minutes="15",
        ),
    )
    url = re.search(r'action="(/activities/[0-9a-f-]+)"', page).group(1)
    # A phone call is made or received: the command asks which.
    assert '<option value="made">Made</option>' in page and '<option value="received">Received</option>' in page
    page = followed(client, post_form(client, page, "complete-form", f"{url}/complete", status_reason="received"))
    call = stored(database, uuid.UUID(url.rsplit("/", 1)[1]))
    assert call.status_reason is ActivityStatus.RECEIVED
    assert call.phone_number == "+34 600 000 000" and call.duration_minutes == 15 and call.direction.value == "incoming"


def test_an_appointment_is_created_with_attendees_and_refused_when_it_ends_before_it_starts(
    web_client_for, database, seller, actor
):
    contact = make_contact(database, actor, last_name="Ruiz", first_name="Ana", email="ana@example.com")
    client = web_client_for(SELLER, PASSWORD)
    form = client.get("/activities/new?type=appointment").text
    refused = post_form(
        client,
        form,
        "activity-form",
        "/activities/new?type=appointment",
        subject="Demo at Muebles Ruiz",
        start="2027-01-11T10:00",
        end="2027-01-11T09:00",
    )
    assert refused.status_code == 422, re.findall(r"field-error[^<]*<", refused.text)
    assert 'id="field-end-error">The end comes before the start.</p>' in refused.text
    assert 'value="Demo at Muebles Ruiz"' in refused.text

    fields = form_fields(form, "activity-form") | {
        "subject": "Demo at Muebles Ruiz",
        "start": "2027-01-11T10:00",
        "end": "2027-01-11T11:30",
        "location": "Calle Feria 12, Sevilla",
        "required_attendees": [f"user:{seller.user_id}"],
        "optional_attendees": [f"contact:{contact.id}"],
    }
    page = followed(client, client.post("/activities/new?type=appointment", data=fields, follow_redirects=False))
    appointment_id = uuid.UUID(re.search(r'action="/activities/([0-9a-f-]+)"', page).group(1))
    with database.unit_of_work(read_only=True) as uow:
        parties = uow.session.scalars(select(ActivityParty).where(ActivityParty.activity_id == appointment_id)).all()
        assert {(p.role.value, p.party_table) for p in parties} == {("required", "users"), ("optional", "contacts")}
    appointment = stored(database, appointment_id)
    assert appointment.location == "Calle Feria 12, Sevilla"
    assert appointment.scheduled_end - appointment.scheduled_start == timedelta(minutes=90)


def test_an_email_with_an_invalid_address_is_refused_beside_the_field_in_spanish(web_client_for, seller):
    client = web_client_for(SELLER, PASSWORD, accept_language="es")
    form = client.get("/activities/new?type=email").text
    assert "Nuevo correo electrónico" in form and "Para" in form
    refused = post_form(
        client, form, "activity-form", "/activities/new?type=email", subject="Propuesta", to="ana@, luis@example.com"
    )
    assert refused.status_code == 422
    assert 'id="field-to-error">Escriba direcciones de correo electrónico válidas' in refused.text
    assert 'aria-invalid="true"' in refused.text


def test_an_email_is_created_as_a_draft_without_a_send_button_when_mail_is_not_set_up(web_client_for, database, seller):
    client = web_client_for(SELLER, PASSWORD)
    form = client.get("/activities/new?type=email").text
    assert 'id="send-new-button"' not in form
    page = followed(
        client,
        post_form(
            client, form, "activity-form", "/activities/new?type=email", subject="Proposal", to="ana@example.com"
        ),
    )
    assert 'id="send-button"' not in page
    assert "Draft" in page
    assert SELLER in page  # the sender


def test_a_concurrent_change_is_refused_with_the_usual_message(web_client_for, database, seller):
    activity_id = add(database, seller, subject="Call Ana")
    client = web_client_for(SELLER, PASSWORD)
    page = client.get(f"/activities/{activity_id}").text
    with database.unit_of_work() as uow:
        activities.update_activity(activity_id, {"subject": "Call Ana today"}, uow=uow, actor=seller)
        uow.commit()
    refused = post_form(client, page, "activity-form", f"/activities/{activity_id}", subject="Call Ana now")
    assert refused.status_code in (409, 412)
    assert 'id="reload-record"' in refused.text
    assert stored(database, activity_id).subject == "Call Ana today"


def test_a_user_without_the_privilege_gets_no_new_links_and_is_refused(web_client_for, database, actor):
    with database.unit_of_work() as uow:
        security.create_role("Task reader", {"tasks": {Privilege.READ: Depth.ORGANIZATION}}, uow=uow, actor=actor)
        uow.commit()
    make_user(database, "rita@example.com", "Rita Reader", ["Task reader"])
    client = web_client_for("rita@example.com", PASSWORD)
    html = client.get("/activities").text
    assert 'id="new-menu"' not in html and "/activities/new" not in html
    assert client.get("/activities/new?type=task").status_code == 403
    response = client.post(
        "/activities/new?type=task",
        data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', html).group(1), "subject": "Mine"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalar(select(Activity.id)) is None


def test_another_user_s_activity_is_read_only_for_a_seller(web_client_for, database, actor, seller):
    activity_id = add(database, actor, subject="The administrator's task")
    html = web_client_for(SELLER, PASSWORD).get(f"/activities/{activity_id}").text
    # A salesperson reads the business unit's tasks but writes only their own.
    assert 'id="read-only-banner"' in html and 'id="complete-form"' not in html


# ---------------------------------------------------------------------------------------------- dashboard and feed


@pytest.mark.parametrize(
    ("language", "title", "overdue"), [("en", "Today's activities", "Overdue"), ("es", "Actividades de hoy", "Vencida")]
)
def test_the_dashboard_tile_lists_today_s_and_overdue_activities(web_client_for, day, language, title, overdue):
    html = web_client_for(SELLER, PASSWORD, accept_language=language).get("/dashboard").text
    tile = html.split('id="today-activities"', 1)[1].split("</section>", 1)[0]
    assert title in tile
    assert '<span class="figure-value">2</span>' in tile
    assert "Call back Ana" in tile and "Send the proposal" in tile
    assert "Visit Sevilla" not in tile and "Someone else" not in tile
    assert f'<span class="badge bad overdue-badge">{overdue}</span>' in tile
    assert f'href="/activities/{day["overdue"]}"' in tile


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_calendar_feed_is_issued_once_and_revoked(web_client_for, database, seller, language):
    client = web_client_for(SELLER, PASSWORD, accept_language=language)
    page = client.get("/me").text
    assert 'id="calendar-feed"' in page and 'id="calendar-url"' not in page
    assert ("Calendar feed" if language == "en" else "Fuente de calendario") in page

    shown = post_form(client, page, "calendar-issue-form", "/me/calendar-feed")
    assert shown.status_code == 200
    address = unescape(re.search(r'id="calendar-url" value="([^"]+)"', shown.text).group(1))
    token = re.fullmatch(r"http://[^/]+/calendar/([A-Za-z0-9_-]+)\.ics", address).group(1)
    with database.unit_of_work() as uow:
        assert activities.Activity is Activity
        assert uow.session.get(CalendarFeed, seller.user_id) is not None
        assert len(token) > 20
    again = client.get("/me").text
    assert address not in again and 'id="calendar-revoke"' in again

    page = followed(client, post_form(client, again, "calendar-revoke-form", "/me/calendar-feed/revoke"))
    assert 'id="calendar-revoke"' not in page
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.get(CalendarFeed, seller.user_id) is None


# ---------------------------------------------------------------------------------------------- sending an e-mail


@pytest.fixture
def mail_server():
    """A mail server on a port of its own, not running until the test starts it."""
    server = MailServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mail_web_client(database, settings, mail_server, seller):
    """The seller's browser-like client of an app whose mail goes to ``server`` (started by the test)."""
    from fastapi.testclient import TestClient

    from tests.conftest import app_for
    from tests.web.conftest import web_sign_in

    configured = settings.model_copy(update={"smtp_url": mail_server.url})
    with TestClient(app_for(database, configured), headers={"Accept-Language": "en"}) as client:
        web_sign_in(client, SELLER, PASSWORD)
        yield client


def test_a_draft_e_mail_is_sent_through_the_queue_and_its_failure_shown(mail_web_client, mail_server):
    client = mail_web_client
    form = client.get("/activities/new?type=email").text
    assert 'id="send-new-button"' in form
    page = followed(
        client,
        post_form(
            client, form, "activity-form", "/activities/new?type=email", subject="Proposal", to="ana@example.com"
        ),
    )
    url = re.search(r'action="(/activities/[0-9a-f-]+)"', page).group(1)

    # The mail server does not answer yet: the e-mail waits for its next try, the error on its page.
    page = followed(client, post_form(client, page, "send-form", f"{url}/send"))
    assert "The e-mail is being sent." in page
    status = re.search(r'id="sending-status">(.*?)</dd>', page, re.DOTALL).group(1)
    assert "Waiting to be sent" in status and "Last error:" in status and "Next try:" in status
    assert 'id="reopen-button"' not in page and 'id="send-button"' not in page

    # Created with Send while the server answers: sent at once.
    mail_server.start()
    form = client.get("/activities/new?type=email").text
    fields = form_fields(form, "activity-form") | {"subject": "Follow-up", "to": "ana@example.com", "send": "1"}
    page = followed(client, client.post("/activities/new?type=email", data=fields, follow_redirects=False))
    assert "Sent on" in page
    assert [message["Subject"] for message in mail_server.inbox.messages] == ["Follow-up"]


def test_a_form_without_the_session_s_token_changes_nothing(web_client_for, database, seller):
    activity_id = add(database, seller, subject="Call Ana")
    client = web_client_for(SELLER, PASSWORD)
    response = client.post(f"/activities/{activity_id}/complete", data={"row_version": "1"}, follow_redirects=False)
    assert response.status_code == 403
    assert stored(database, activity_id).state is ActivityState.OPEN


def test_an_all_day_appointment_keeps_its_day_in_a_zone_behind_utc(web_client_for, database):
    with database.unit_of_work() as uow:
        security.create_user(
            email="mia@example.com",
            full_name="Mia Mexico",
            role_names=["Salesperson"],
            business_unit_name=None,
            password=PASSWORD,
            time_zone="America/Mexico_City",
            uow=uow,
            actor=None,
        )
        uow.commit()
    client = web_client_for("mia@example.com", PASSWORD)
    form = client.get("/activities/new?type=appointment").text
    page = followed(
        client,
        post_form(
            client,
            form,
            "activity-form",
            "/activities/new?type=appointment",
            subject="Trade fair",
            start="2027-01-11T00:00",
            end="2027-01-12T00:00",
            all_day="on",
        ),
    )
    assert 'name="start" value="2027-01-11T00:00"' in page
    listed = client.get("/activities?view=all").text
    assert "11 Jan 2027" in listed and "10 Jan 2027" not in listed
