"""Every change a signed-in page posts carries the session's form token, checked once for every route."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadflow.core.uow import Database
from leadflow.leads.models import Lead
from leadflow.web import areas
from tests.web.conftest import page_csrf

LEAD = {"topic": "Sillas", "last_name": "Ruiz"}


def _leads(database: Database) -> int:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(Lead)) or 0


def _posting_paths() -> list[str]:
    """Every path of the signed-in areas that takes a POST, its parameters filled with an unknown id."""
    paths = []
    for router in areas.routers():
        for route in router.routes:
            if isinstance(route, APIRoute) and "POST" in route.methods:
                paths.append(re.sub(r"\{[^}]+\}", str(uuid.uuid4()), route.path))
    return paths


def test_every_page_that_takes_a_post_refuses_it_without_the_form_token(web_client: TestClient) -> None:
    paths = _posting_paths()
    assert len(paths) > 20  # the loop below looked at the real routes
    answered = {
        path: web_client.post(path, data={"anything": "x"}, follow_redirects=False).status_code for path in paths
    }
    assert {path: status for path, status in answered.items() if status != 403} == {}


def test_a_form_without_the_token_changes_nothing(web_client: TestClient, database: Database) -> None:
    before = _leads(database)
    response = web_client.post("/leads/new", data=LEAD, follow_redirects=False)
    assert response.status_code == 403
    assert _leads(database) == before


def test_a_file_sent_as_the_token_is_refused_not_a_server_error(web_client: TestClient, database: Database) -> None:
    before = _leads(database)
    response = web_client.post(
        "/leads/new",
        data=LEAD,
        files={"csrf_token": ("token.txt", b"not a token", "text/plain")},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert _leads(database) == before


def test_a_token_that_is_not_this_sessions_is_refused(
    web_client_for: Callable[..., TestClient], database: Database
) -> None:
    """Another session's token (the same user signed in elsewhere) and a made-up one change nothing."""
    mine, elsewhere = web_client_for(), web_client_for()
    own_token, other_token = page_csrf(mine.get("/leads/new").text), page_csrf(elsewhere.get("/leads/new").text)
    assert own_token != other_token
    before = _leads(database)
    for token in (other_token, "0" * len(own_token), own_token[:-1]):
        response = mine.post("/leads/new", data={**LEAD, "csrf_token": token}, follow_redirects=False)
        assert response.status_code == 403, token
    assert _leads(database) == before


def test_a_form_with_the_token_goes_through(web_client: TestClient, database: Database) -> None:
    token = page_csrf(web_client.get("/leads/new").text)
    before = _leads(database)
    response = web_client.post("/leads/new", data={**LEAD, "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert _leads(database) == before + 1
