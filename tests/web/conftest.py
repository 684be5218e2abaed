"""Fixtures of the web pages' tests: a browser-like client signed in through the sign-in form."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from leadflow.core.config import Settings
from leadflow.core.uow import Database
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, app_for

_CSRF_INPUT = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]+)">')


def page_csrf(html: str) -> str:
    """The CSRF token of the first form of a page."""
    match = _CSRF_INPUT.search(html)
    assert match is not None, "no CSRF field in the page"
    return match.group(1)


def web_sign_in(client: TestClient, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> None:
    """Sign in through the form, as a browser does; the client keeps the session cookie."""
    form = client.get("/sign-in")
    response = client.post(
        "/sign-in",
        data={"email": email, "password": password, "csrf_token": page_csrf(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


@pytest.fixture
def web_client_for(database: Database, settings: Settings) -> Iterator[Callable[..., TestClient]]:
    """Make clients signed in as a given user (``accept_language`` sets the browser's language)."""
    clients: list[TestClient] = []

    def make(email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD, *, accept_language: str = "en") -> TestClient:
        client = TestClient(app_for(database, settings), headers={"Accept-Language": accept_language})
        client.__enter__()
        clients.append(client)
        web_sign_in(client, email, password)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def web_client(web_client_for: Callable[..., TestClient]) -> TestClient:
    """A browser-like client signed in as the System Administrator, in English."""
    return web_client_for()
