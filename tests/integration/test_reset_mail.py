"""Password reset links travel by e-mail when a mail server is configured (a real SMTP server here,
aiosmtpd on a free local port), and are shown in any case, so a broken server never loses one."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from leadflow.asgi import create_app
from leadflow.cli import app as cli
from leadflow.core.config import Settings
from leadflow.core.uow import Database
from leadflow.security.service import create_user
from tests.conftest import ADMIN_EMAIL, bearer_headers
from tests.live import free_port

API = "/api/v1"
PASSWORD = "Aceitunas negras de Jaén 7"


class Inbox:
    """What the SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, str]]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()


def _user(database: Database, email: str, language: str | None) -> str:
    with database.unit_of_work() as uow:
        user = create_user(
            email=email,
            full_name="Lucía Ortega",
            role_names=["Salesperson"],
            business_unit_name=None,
            password=PASSWORD,
            language=language,
            uow=uow,
            actor=None,
        )
        uow.commit()
        return str(user.id)


def _client(database: Database, settings: Settings) -> TestClient:
    return TestClient(create_app(database, settings), headers=bearer_headers(database, ADMIN_EMAIL))


@pytest.mark.parametrize(
    ("language", "subject", "phrase"),
    [
        ("es", "Establezca su contraseña de leadflow", "Funciona una sola vez"),
        (None, "Set your leadflow password", "It works once"),
    ],
)
def test_a_reset_link_is_mailed_to_the_user_in_their_language_and_works(
    database, settings, inbox, language, subject, phrase
):
    handler, smtp_url = inbox
    user_id = _user(database, "lucia@example.com", language)
    with _client(database, settings.model_copy(update={"smtp_url": smtp_url})) as client:
        answer = client.post(f"{API}/users/{user_id}/password-reset")
        assert answer.status_code == 201, answer.text
        assert answer.json()["emailed"] is True and answer.json()["mail_problem"] is None
        [mail] = handler.messages
        assert mail["X-Envelope-To"] == "lucia@example.com" and mail["Subject"] == subject
        text = mail.get_content()
        assert phrase in text and answer.json()["reset_url"] in text
        token = answer.json()["reset_url"].split("token=")[1]
        reset = client.post(
            f"{API}/auth/password-reset", json={"token": token, "password": "Otra contraseña más larga 9"}
        )
        assert reset.status_code == 204, reset.text


def test_a_mail_server_that_does_not_answer_still_gives_the_link_and_says_why(database, settings):
    user_id = _user(database, "lucia@example.com", None)
    unreachable = settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{free_port()}"})
    with _client(database, unreachable) as client:
        answer = client.post(f"{API}/users/{user_id}/password-reset")
    assert answer.status_code == 201, answer.text
    assert answer.json()["emailed"] is False and "did not take it" in answer.json()["mail_problem"]
    assert "/reset-password?token=" in answer.json()["reset_url"]


def test_without_a_mail_server_the_link_is_only_shown(database, settings):
    user_id = _user(database, "lucia@example.com", None)
    with _client(database, settings) as client:
        answer = client.post(f"{API}/users/{user_id}/password-reset").json()
    assert answer["emailed"] is False and answer["mail_problem"] is None


def test_the_command_line_prints_the_link_and_mails_it(database, inbox, monkeypatch):
    handler, smtp_url = inbox
    _user(database, "lucia@example.com", None)
    monkeypatch.setenv("LEADFLOW_SMTP_URL", smtp_url)
    result = CliRunner().invoke(cli, ["--database-url", database.url, "users", "reset-password", "lucia@example.com"])
    assert result.exit_code == 0, result.output
    assert "It was also e-mailed to lucia@example.com." in result.output
    [mail] = handler.messages
    link = next(line for line in result.output.splitlines() if "/reset-password?token=" in line).strip()
    assert link in mail.get_content()
