"""E-mails sent through a real SMTP server (aiosmtpd on a free local port): what the server receives,
and what becomes of an e-mail when the server does not answer: kept Pending Send with the reason and
its next try, tried again by the sweep, and left Open / Failed after the last try; nothing is lost."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import update

from leadflow.activities.activity import MAX_SEND_ATTEMPTS
from leadflow.activities.models import Activity
from leadflow.core.config import Settings
from leadflow.core.uow import Database
from leadflow.tasks import mail, submit
from tests.conftest import ADMIN_EMAIL, app_for, bearer_headers
from tests.e2e.helpers import API
from tests.live import free_port


class Inbox:
    """What the SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"


class MailServer:
    """An SMTP server on a port of its own, started and stopped at will."""

    def __init__(self) -> None:
        self.port = free_port()
        self.inbox = Inbox()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def server() -> Iterator[MailServer]:
    """A mail server that is not running yet: the test starts it when it should answer."""
    mail_server = MailServer()
    try:
        yield mail_server
    finally:
        mail_server.stop()


@pytest.fixture
def mail_client(database: Database, settings: Settings, server: MailServer) -> Iterator[TestClient]:
    """The System Administrator's client of an app whose mail goes to ``server``."""
    configured = settings.model_copy(update={"smtp_url": server.url})
    with TestClient(app_for(database, configured), headers=bearer_headers(database, ADMIN_EMAIL)) as client:
        yield client


def _email(client: TestClient, **fields: Any) -> dict[str, Any]:
    body = {
        "type": "email",
        "subject": "Our proposal",
        "description": "Dear Ana,\n\nPlease find our proposal below.\n",
        "to": ["ana@buyer.example"],
        "cc": ["cfo@buyer.example"],
        **fields,
    }
    response = client.post(f"{API}/activities", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _read(client: TestClient, activity_id: str) -> dict[str, Any]:
    response = client.get(f"{API}/activities/{activity_id}")
    assert response.status_code == 200, response.text
    return response.json()


def _job_state(client: TestClient, job_id: str) -> str:
    response = client.get(f"{API}/jobs/{job_id}")
    assert response.status_code == 200, response.text
    return str(response.json()["state"])


def _retry_now(client: TestClient, database: Database, activity_id: str) -> list[str]:
    """Move the e-mail's next try into the past, run the sweep, and run the jobs it started."""
    with database.unit_of_work() as uow:
        uow.session.execute(
            update(Activity)
            .where(Activity.id == uuid.UUID(activity_id))
            .values(next_send_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        uow.commit()
    jobs = mail.start_retries(database)
    for job in jobs:
        submit(job.id, queue=client.app.state.queue, database=database)  # type: ignore[attr-defined]
    return [str(job.id) for job in jobs]


def test_an_email_created_with_send_reaches_the_server_as_written(mail_client, server):
    server.start()

    email = _email(mail_client, send=True)

    assert email["job_id"] is not None
    assert (email["state"], email["status_reason"], email["send_attempts"]) == ("completed", "sent", 1)
    assert email["sent_at"] is not None and email["send_error"] is None
    assert _job_state(mail_client, email["job_id"]) == "succeeded"
    [message] = server.inbox.messages
    assert message["Subject"] == "Our proposal"
    assert message["To"] == "ana@buyer.example"
    assert message["Cc"] == "cfo@buyer.example"
    assert message["From"] == "Ada Admin <admin@example.com>"
    assert message["X-Envelope-To"] == "ana@buyer.example, cfo@buyer.example"
    assert message.get_content().replace("\r\n", "\n") == "Dear Ana,\n\nPlease find our proposal below.\n"


def test_a_draft_is_sent_later_and_a_sent_email_stays_sent(mail_client, server):
    server.start()
    draft = _email(mail_client)
    assert (draft["status_reason"], server.inbox.messages) == ("draft", [])

    response = mail_client.post(
        f"{API}/activities/{draft['id']}/send", headers={"If-Match": f'"{draft["row_version"]}"'}
    )

    assert response.status_code == 200, response.text
    assert response.json()["status_reason"] == "sent" and response.json()["job_id"]
    assert len(server.inbox.messages) == 1
    refused = mail_client.post(f"{API}/activities/{draft['id']}/reopen")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "email_sent"
    again = mail_client.post(f"{API}/activities/{draft['id']}/send")
    assert again.status_code == 409 and again.json()["error"]["code"] == "email_not_draft"


def test_an_email_to_nobody_is_not_sent(mail_client, server):
    server.start()
    draft = _email(mail_client, to=[], cc=[])

    response = mail_client.post(f"{API}/activities/{draft['id']}/send")

    assert response.status_code == 422 and response.json()["error"]["code"] == "no_recipient"
    assert _read(mail_client, draft["id"])["status_reason"] == "draft"


def test_a_server_that_does_not_answer_leaves_the_email_pending_then_the_retry_sends_it(mail_client, database, server):
    before = datetime.now(UTC)

    email = _email(mail_client, send=True)

    assert (email["state"], email["status_reason"], email["send_attempts"]) == ("completed", "pending_send", 1)
    assert "did not take it" in email["send_error"]
    next_try = datetime.fromisoformat(email["next_send_at"])
    assert before + timedelta(seconds=50) < next_try < datetime.now(UTC) + timedelta(minutes=1, seconds=5)
    assert _job_state(mail_client, email["job_id"]) == "failed"
    # Nothing is lost: the e-mail is kept as written.
    kept = _read(mail_client, email["id"])
    assert (kept["subject"], kept["to"], kept["cc"]) == ("Our proposal", ["ana@buyer.example"], ["cfo@buyer.example"])
    assert mail.start_retries(database) == []  # its next try has not come yet

    server.start()
    [job_id] = _retry_now(mail_client, database, email["id"])

    sent = _read(mail_client, email["id"])
    assert (sent["state"], sent["status_reason"], sent["send_attempts"]) == ("completed", "sent", 2)
    assert (sent["send_error"], sent["next_send_at"]) == (None, None) and sent["sent_at"]
    assert _job_state(mail_client, job_id) == "succeeded"
    [message] = server.inbox.messages
    assert message["Subject"] == "Our proposal"


def test_after_the_last_failed_try_the_email_is_open_and_failed_and_can_be_sent_again(mail_client, database, server):
    email = _email(mail_client, send=True)
    for attempt in range(2, MAX_SEND_ATTEMPTS + 1):
        [job_id] = _retry_now(mail_client, database, email["id"])
        assert _job_state(mail_client, job_id) == "failed"
        assert _read(mail_client, email["id"])["send_attempts"] == attempt

    failed = _read(mail_client, email["id"])

    assert (failed["state"], failed["status_reason"], failed["send_attempts"]) == ("open", "failed", MAX_SEND_ATTEMPTS)
    assert "did not take it" in failed["send_error"] and failed["next_send_at"] is None
    assert failed["actual_end"] is None
    assert mail.start_retries(database) == []  # no more tries of its own
    # Corrected and sent again, it has its tries anew.
    changed = mail_client.patch(f"{API}/activities/{email['id']}", json={"to": ["ana@buyer.example"]})
    assert changed.status_code == 200, changed.text
    server.start()
    resent = mail_client.post(f"{API}/activities/{email['id']}/send")
    assert resent.status_code == 200, resent.text
    assert (resent.json()["status_reason"], resent.json()["send_attempts"]) == ("sent", 1)
    assert len(server.inbox.messages) == 1


def test_canceling_an_email_waiting_to_be_sent_stops_its_tries(mail_client, database, server):
    email = _email(mail_client, send=True)
    assert email["status_reason"] == "pending_send"

    canceled = mail_client.post(f"{API}/activities/{email['id']}/cancel")

    assert canceled.status_code == 200, canceled.text
    assert (canceled.json()["state"], canceled.json()["next_send_at"]) == ("canceled", None)
    server.start()
    assert _retry_now(mail_client, database, email["id"]) == []
    assert server.inbox.messages == []
