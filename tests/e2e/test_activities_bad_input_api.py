"""Bad input to the activity endpoints, row by row: each is refused with a 4xx and its code (never a 5xx),
and the database is left as it was."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from leadflow.activities.models import Activity, ActivityParty
from leadflow.core.uow import Database
from leadflow.http.language import gettext
from leadflow.http.refusals import FIELD_MESSAGES, REFUSALS
from tests.e2e.helpers import API, assert_error, create_lead
from tests.e2e.test_sales_bad_input_api import _codes_raised_in

T0 = "2027-03-01T10:00:00Z"
T1 = "2027-03-01T09:00:00Z"
MISSING = "00000000-0000-4000-8000-000000000000"


def stored(database: Database) -> dict[str, Any]:
    """Every activity's id, version and state, and how many parties there are."""
    with database.unit_of_work(read_only=True) as uow:
        activities = sorted(
            (str(row.id), row.row_version, row.state.value, row.subject)
            for row in uow.session.scalars(select(Activity))
        )
        parties = uow.session.scalar(select(func.count()).select_from(ActivityParty))
    return {"activities": activities, "parties": parties}


@pytest.fixture
def records(client) -> dict[str, str]:
    """Two leads (one disqualified), an open, a canceled and a completed task, an e-mail draft and an
    appointment, to aim the rows at."""

    def made(body: dict[str, Any]) -> str:
        response = client.post(f"{API}/activities", json=body)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    lead = create_lead(client)["id"]
    closed_lead = create_lead(client)["id"]
    assert client.post(f"{API}/leads/{closed_lead}/disqualify", json={"status_reason": "lost"}).status_code == 200
    task = made({"type": "task", "subject": "Open"})
    canceled = made({"type": "task", "subject": "Canceled"})
    assert client.post(f"{API}/activities/{canceled}/cancel").status_code == 200
    completed = made({"type": "task", "subject": "Completed"})
    assert client.post(f"{API}/activities/{completed}/complete").status_code == 200
    email = made({"type": "email", "subject": "Draft", "to": ["a@x.example"]})
    appointment = made({"type": "appointment", "subject": "Meet", "start": T0})
    return {
        "lead": lead,
        "closed_lead": closed_lead,
        "task": task,
        "canceled": canceled,
        "completed": completed,
        "email": email,
        "appointment": appointment,
    }


def _fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**names) if "{" in value else value
    if isinstance(value, list):
        return [_fill(item, names) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, names) for key, item in value.items()}
    return value


TASK = {"type": "task", "subject": "Call back"}
APPOINTMENT = {"type": "appointment", "subject": "Meet"}
EMAIL = {"type": "email", "subject": "Write"}
CREATE = f"{API}/activities"
ONE = f"{API}/activities/{{task}}"

# (id, method, path, body, status, code)
ROWS: list[tuple[str, str, str, Any, int, str]] = [
    # Times
    ("end before start", "POST", CREATE, {**APPOINTMENT, "start": T0, "end": T1}, 422, "end_before_start"),
    ("appointment without start", "POST", CREATE, {**APPOINTMENT, "end": T0}, 422, "start_required"),
    ("due not a time", "POST", CREATE, {**TASK, "due": "tomorrow"}, 422, "invalid_value"),
    (
        "due out of range once in UTC",
        "POST",
        CREATE,
        {**TASK, "due": "0001-01-01T00:30:00+01:00"},
        422,
        "invalid_datetime",
    ),
    ("changed to end before start", "PATCH", f"{API}/activities/{{appointment}}", {"end": T1}, 422, "end_before_start"),
    # The regarded record
    (
        "regarding record missing",
        "POST",
        CREATE,
        {**TASK, "regarding_table": "leads", "regarding_id": MISSING},
        422,
        "regarding_id_not_found",
    ),
    (
        "regarding a lead as an account",
        "POST",
        CREATE,
        {**TASK, "regarding_table": "accounts", "regarding_id": "{lead}"},
        422,
        "regarding_id_not_found",
    ),
    (
        "regarding a disqualified lead",
        "POST",
        CREATE,
        {**TASK, "regarding_table": "leads", "regarding_id": "{closed_lead}"},
        409,
        "lead_closed",
    ),
    ("regarding without its table", "POST", CREATE, {**TASK, "regarding_id": "{lead}"}, 422, "regarding_incomplete"),
    (
        "regarding a table that is not one",
        "POST",
        CREATE,
        {**TASK, "regarding_table": "users", "regarding_id": "{lead}"},
        422,
        "invalid_option",
    ),
    # Parties
    (
        "attendee not a user",
        "POST",
        CREATE,
        {**APPOINTMENT, "start": T0, "attendees": [{"kind": "user", "id": MISSING}]},
        422,
        "attendees_not_found",
    ),
    (
        "attendee a lead, not a contact",
        "POST",
        CREATE,
        {**APPOINTMENT, "start": T0, "attendees": [{"kind": "contact", "id": "{lead}"}]},
        422,
        "attendees_not_found",
    ),
    (
        "attendee of an unknown kind",
        "POST",
        CREATE,
        {**APPOINTMENT, "start": T0, "attendees": [{"kind": "lead", "id": "{lead}"}]},
        422,
        "invalid_option",
    ),
    ("invalid address in to", "POST", CREATE, {**EMAIL, "to": ["not an address"]}, 422, "invalid_email"),
    (
        "invalid address in cc",
        "POST",
        CREATE,
        {**EMAIL, "to": ["a@x.example"], "cc": ["a@x.example", "b@@x"]},
        422,
        "invalid_email",
    ),
    ("invalid sender", "POST", CREATE, {**EMAIL, "sender": "me"}, 422, "invalid_email"),
    ("changed to an invalid address", "PATCH", f"{API}/activities/{{email}}", {"to": ["nobody"]}, 422, "invalid_email"),
    (
        "too many recipients",
        "POST",
        CREATE,
        {**EMAIL, "to": [f"p{n}@x.example" for n in range(501)]},
        422,
        "too_many",
    ),
    # States
    (
        "completing a canceled activity",
        "POST",
        f"{API}/activities/{{canceled}}/complete",
        None,
        409,
        "activity_canceled",
    ),
    (
        "completing a completed activity",
        "POST",
        f"{API}/activities/{{completed}}/complete",
        None,
        409,
        "activity_completed",
    ),
    (
        "changing a completed activity",
        "PATCH",
        f"{API}/activities/{{completed}}",
        {"subject": "Later"},
        409,
        "activity_closed",
    ),
    ("reopening an open activity", "POST", f"{API}/activities/{{task}}/reopen", None, 409, "activity_open"),
    ("a closed reason by a change", "PATCH", ONE, {"status_reason": "completed"}, 422, "use_complete_or_cancel"),
    ("a reason of another type", "POST", CREATE, {**TASK, "status_reason": "made"}, 422, "invalid_status_reason"),
    (
        "completing with another type's reason",
        "POST",
        f"{API}/activities/{{task}}/complete",
        {"status_reason": "received"},
        422,
        "invalid_status_reason",
    ),
    (
        "an e-mail created as sent",
        "POST",
        CREATE,
        {**EMAIL, "to": ["a@x.example"], "status_reason": "sent"},
        422,
        "set_by_sending",
    ),
    (
        "sending an incoming e-mail",
        "POST",
        CREATE,
        {**EMAIL, "to": ["a@x.example"], "direction": "incoming", "send": True},
        422,
        "incoming_not_sent",
    ),
    (
        "sending without a mail server",
        "POST",
        CREATE,
        {**EMAIL, "to": ["a@x.example"], "send": True},
        409,
        "smtp_not_configured",
    ),
    ("sending a task", "POST", f"{API}/activities/{{task}}/send", None, 409, "not_an_email"),
    # Fields of another type
    ("a task with a start", "POST", CREATE, {**TASK, "start": T0}, 422, "not_for_type"),
    (
        "an appointment with recipients",
        "POST",
        CREATE,
        {**APPOINTMENT, "start": T0, "to": ["a@x.example"]},
        422,
        "not_for_type",
    ),
    (
        "a call with attendees",
        "POST",
        CREATE,
        {"type": "phone_call", "subject": "Call", "attendees": []},
        422,
        "not_for_type",
    ),
    ("a task changed with a location", "PATCH", ONE, {"location": "Here"}, 422, "not_for_type"),
    # Wrong types, NUL bytes, huge strings
    ("subject a number", "POST", CREATE, {**TASK, "subject": 5}, 422, "invalid_value"),
    ("subject missing", "POST", CREATE, {"type": "task"}, 422, "required"),
    ("subject empty", "POST", CREATE, {**TASK, "subject": ""}, 422, "required"),
    ("percent complete a word", "POST", CREATE, {**TASK, "percent_complete": "lots"}, 422, "invalid_value"),
    ("percent complete over 100", "POST", CREATE, {**TASK, "percent_complete": 101}, 422, "out_of_range"),
    (
        "attendees not a list",
        "POST",
        CREATE,
        {**APPOINTMENT, "start": T0, "attendees": "everyone"},
        422,
        "invalid_value",
    ),
    ("to a string", "POST", CREATE, {**EMAIL, "to": "a@x.example"}, 422, "invalid_value"),
    ("send a string", "POST", CREATE, {**EMAIL, "send": "please"}, 422, "invalid_value"),
    ("NUL in the subject", "POST", CREATE, {**TASK, "subject": "a\x00b"}, 422, "invalid_character"),
    ("NUL in a change", "PATCH", ONE, {"description": "x\x00"}, 422, "invalid_character"),
    ("huge subject", "POST", CREATE, {**TASK, "subject": "x" * 401}, 422, "too_long"),
    ("huge description", "POST", CREATE, {**TASK, "description": "x" * 100_001}, 422, "too_long"),
    (
        "huge phone number",
        "POST",
        CREATE,
        {"type": "phone_call", "subject": "Call", "phone_number": "1" * 65},
        422,
        "too_long",
    ),
    ("body not an object", "POST", CREATE, ["task"], 422, "invalid_value"),
    ("body not JSON", "POST", CREATE, "{not json", 422, "invalid_json"),
    # Bogus options
    ("unknown type", "POST", CREATE, {"type": "meeting", "subject": "x"}, 422, "invalid_option"),
    ("unknown priority", "POST", CREATE, {**TASK, "priority": "urgent"}, 422, "invalid_option"),
    ("unknown status reason", "POST", CREATE, {**TASK, "status_reason": "done"}, 422, "invalid_option"),
    (
        "unknown direction",
        "POST",
        CREATE,
        {"type": "phone_call", "subject": "Call", "direction": "sideways"},
        422,
        "invalid_option",
    ),
    (
        "unknown completed reason",
        "POST",
        f"{API}/activities/{{task}}/complete",
        {"status_reason": "finished"},
        422,
        "invalid_option",
    ),
    # Unknown fields
    ("an unknown field", "POST", CREATE, {**TASK, "colour": "red"}, 422, "unknown_field"),
    ("the type changed", "PATCH", ONE, {"type": "email"}, 422, "unknown_field"),
    (
        "an unknown field on complete",
        "POST",
        f"{API}/activities/{{task}}/complete",
        {"when": "now"},
        422,
        "unknown_field",
    ),
    # Lists, timelines and unknown ids
    ("an unknown view", "GET", f"{CREATE}?view=someday", None, 422, "invalid_view"),
    ("an unknown type to list", "GET", f"{CREATE}?type=meeting", None, 422, "invalid_option"),
    ("due before not a time", "GET", f"{CREATE}?due_before=soon", None, 422, "invalid_value"),
    ("a page of none", "GET", f"{CREATE}?limit=0", None, 422, "out_of_range"),
    ("a forged cursor", "GET", f"{CREATE}?cursor=abc", None, 422, "invalid_cursor"),
    ("an unknown timeline kind", "GET", f"{API}/leads/{{lead}}/timeline?type=memo", None, 422, "invalid_type"),
    ("a forged timeline cursor", "GET", f"{API}/leads/{{lead}}/timeline?cursor=abc", None, 422, "invalid_cursor"),
    ("an activity that is not there", "GET", f"{API}/activities/{MISSING}", None, 404, "activity_not_found"),
    (
        "completing one that is not there",
        "POST",
        f"{API}/activities/{MISSING}/complete",
        None,
        404,
        "activity_not_found",
    ),
    ("an id that is not one", "GET", f"{API}/activities/42", None, 422, "invalid_id"),
    ("an If-Match that names no version", "PATCH", ONE, {"subject": "x"}, 412, "stale_etag"),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"), [row[1:] for row in ROWS], ids=[row[0] for row in ROWS]
)
def test_bad_input_is_refused_with_its_code_and_changes_nothing(
    client, database, records, method, path, body, status, code
):
    before = stored(database)
    headers = {"If-Match": 'W/"1"'} if code == "stale_etag" else {}
    if isinstance(body, str):
        response = client.request(
            method, path.format(**records), content=body, headers={**headers, "Content-Type": "application/json"}
        )
    else:
        response = client.request(method, _fill(path, records), json=_fill(body, records), headers=headers)

    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    error = assert_error(response, status, code)
    if status == 422 and code not in ("invalid_json", "invalid_cursor"):
        assert error["details"]["fields"], error  # the field at fault is named
    assert stored(database) == before


def test_every_refusal_of_activities_has_a_spanish_sentence():
    codes = _codes_raised_in("leadflow.activities") | {
        "activity_not_found",
        "regarding_id_not_found",
        "attendees_not_found",
    }
    assert {"not_for_type", "email_not_draft", "feed_not_found"} <= codes  # the scan finds them
    codes -= {"smtp_failed"}  # a job's failure, shown on the job, not an answer of a request

    assert {code for code in codes if code not in REFUSALS} == set()
    assert {code for code in codes if gettext("es", REFUSALS[code]) == REFUSALS[code]} == set()
    field_codes = {
        "not_for_type",
        "end_before_start",
        "start_required",
        "regarding_incomplete",
        "invalid_status_reason",
    }
    assert {code for code in field_codes if gettext("es", FIELD_MESSAGES[code]) == FIELD_MESSAGES[code]} == set()


@pytest.mark.parametrize(
    ("body", "code", "sentence"),
    [
        ({**APPOINTMENT, "start": T0, "end": T1}, "end_before_start", "La cita termina antes de empezar."),
        ({**TASK, "start": T0}, "not_for_type", "Algunos campos pertenecen a otro tipo de actividad; quítelos."),
        (
            {**TASK, "regarding_table": "leads", "regarding_id": MISSING},
            "regarding_id_not_found",
            "El registro al que se refiere la actividad no existe o usted no puede leerlo.",
        ),
    ],
)
def test_an_activity_refusal_answers_in_spanish(client, body, code, sentence):
    response = client.post(f"{API}/activities", json=body, headers={"Accept-Language": "es"})

    error = assert_error(response, 422, code)
    assert error["message"] == sentence
    assert all(item["message"] != "No such record." for item in error["details"]["fields"])
