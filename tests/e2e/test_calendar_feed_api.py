"""Each user's private calendar feed: issued and revoked through the API, read by calendar apps at its
secret address without signing in, as iCalendar that ``icalendar`` parses: appointments as events with
their attendees and place, due tasks as to-dos; only the user's own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from icalendar import Calendar

from leadflow.core.uow import Database
from leadflow.security.service import create_user
from tests.conftest import app_for, bearer_headers
from tests.e2e.helpers import API


def _issue(client: TestClient) -> str:
    response = client.post(f"{API}/me/calendar-feed")
    assert response.status_code == 201, response.text
    return str(response.json()["url"])


def _path(url: str) -> str:
    return urlsplit(url).path


def _feed(anonymous: TestClient, url: str) -> Calendar:
    response = anonymous.get(_path(url))
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "private, no-store"
    return Calendar.from_ical(response.content)


def _create(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post(f"{API}/activities", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _at(hours: int) -> datetime:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(microsecond=0)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _user(database: Database, email: str) -> None:
    with database.unit_of_work() as uow:
        create_user(
            email=email,
            full_name="Bea Bravo",
            role_names=["Salesperson"],
            business_unit_name=None,
            password=None,
            uow=uow,
            actor=None,
        )
        uow.commit()


def test_the_feed_shows_my_appointments_and_due_tasks_without_a_sign_in(client, anonymous_client, database):
    _user(database, "bea@example.com")
    users = {user["email"]: user["id"] for user in client.get(f"{API}/users").json()["items"]}
    contact = client.post(f"{API}/contacts", json={"first_name": "Ana", "last_name": "Gil", "email": "ana@x.example"})
    assert contact.status_code == 201, contact.text
    start, end = _at(24), _at(25)
    due = _at(48)
    appointment = _create(
        client,
        type="appointment",
        subject="Demo at the customer's",
        start=_iso(start),
        end=_iso(end),
        location="Calle Mayor 1, Madrid",
        attendees=[{"kind": "contact", "id": contact.json()["id"]}, {"kind": "user", "id": users["bea@example.com"]}],
    )
    task = _create(client, type="task", subject="Send the offer", due=_iso(due))
    _create(client, type="task", subject="Some day")  # no due time: not a to-do of the calendar
    done = _create(client, type="task", subject="Done", due=_iso(due))
    assert client.post(f"{API}/activities/{done['id']}/complete").status_code == 200
    url = _issue(client)

    calendar = _feed(anonymous_client, url)

    assert url.startswith("http://testserver/calendar/") and url.endswith(".ics")
    [event] = calendar.walk("VEVENT")
    assert str(event["summary"]) == "Demo at the customer's"
    assert event.decoded("dtstart") == start and event.decoded("dtend") == end
    assert str(event["location"]) == "Calle Mayor 1, Madrid"
    attendees = event["attendee"]
    assert sorted(str(attendee) for attendee in attendees) == ["mailto:ana@x.example", "mailto:bea@example.com"]
    assert str(event["uid"]) == f"{appointment['id']}@leadflow"
    [todo] = calendar.walk("VTODO")
    assert str(todo["summary"]) == "Send the offer" and todo.decoded("due") == due
    assert str(todo["uid"]) == f"{task['id']}@leadflow"
    assert client.get(f"{API}/me/calendar-feed").json() == {"active": True}


def test_a_revoked_feed_is_gone(client, anonymous_client):
    url = _issue(client)
    assert anonymous_client.get(_path(url)).status_code == 200

    assert client.delete(f"{API}/me/calendar-feed").status_code == 204

    assert anonymous_client.get(_path(url)).status_code == 404
    assert client.get(f"{API}/me/calendar-feed").json() == {"active": False}


def test_a_new_feed_replaces_the_old_address(client, anonymous_client):
    old = _issue(client)

    new = _issue(client)

    assert new != old
    assert anonymous_client.get(_path(old)).status_code == 404
    assert anonymous_client.get(_path(new)).status_code == 200


def test_an_address_nobody_was_given_is_not_found(anonymous_client):
    assert anonymous_client.get("/calendar/not-a-real-secret.ics").status_code == 404
    assert anonymous_client.get(f"{API}/me/calendar-feed").status_code == 401


def test_another_users_appointments_stay_out_of_my_feed(client, anonymous_client, database):
    _user(database, "bea@example.com")
    bea = TestClient(client.app, headers=bearer_headers(database, "bea@example.com"))
    _create(bea, type="appointment", subject="Bea's dentist", start=_iso(_at(3)))
    _create(bea, type="task", subject="Bea's task", due=_iso(_at(3)))
    _create(client, type="appointment", subject="Mine", start=_iso(_at(5)))
    mine = _issue(client)
    hers = _issue(bea)

    assert [str(event["summary"]) for event in _feed(anonymous_client, mine).walk("VEVENT")] == ["Mine"]
    assert _feed(anonymous_client, mine).walk("VTODO") == []
    hers_calendar = _feed(anonymous_client, hers)
    assert [str(event["summary"]) for event in hers_calendar.walk("VEVENT")] == ["Bea's dentist"]
    assert [str(todo["summary"]) for todo in hers_calendar.walk("VTODO")] == ["Bea's task"]


def test_the_address_uses_the_configured_public_url(database, settings):
    public = settings.model_copy(update={"public_url": "https://crm.example.com/"})
    with TestClient(app_for(database, public), headers=bearer_headers(database, "admin@example.com")) as client:
        url = _issue(client)

    assert url.startswith("https://crm.example.com/calendar/") and url.endswith(".ics")
