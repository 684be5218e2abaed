"""Errors no page handles itself answer a web page outside /api/ and the API's JSON under it.

An unknown address, a refusal a page left unhandled (404, 403, 409), a body over its size limit (413)
and an unexpected failure (500) reached from the web app render ``error.html`` in the user's language,
with the status and a way back; the same conditions under /api/ keep their JSON error bodies. Should
the page itself fail, the JSON is answered after all. Pages that show their own refusals (a record's
404 page, the CSRF 403 page, a form's messages) are unchanged.
"""

from __future__ import annotations

import http.client
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadflow.core.config import Settings
from leadflow.core.uow import Database
from leadflow.leads import service as leads
from leadflow.security.access import require_admin
from leadflow.security.models import User
from leadflow.security.privileges import Privilege
from leadflow.security.service import create_business_unit, create_user
from leadflow.web import errors as web_errors
from leadflow.web.pages import WebSessionDep, committed, database_of
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, app_for, bearer_headers
from tests.e2e.helpers import snapshot
from tests.factories import make_lead
from tests.live import serving
from tests.web.conftest import page_csrf, web_sign_in

API = "/api/v1"
NORTH_EMAIL = "nora.north@example.com"
NORTH_PASSWORD = "north password of some length"
FAILURE = "a bug no page should ever show"


# ---------------------------------------------------------------------------------------------- fixtures and helpers


def _add_test_only_routes(app: FastAPI) -> None:
    """Routes outside the pages' own refusal handling: what they raise reaches the app's handlers."""

    @app.get("/test-only/boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError(FAILURE)

    @app.get(f"{API}/test-only/boom", include_in_schema=False)
    def api_boom() -> None:
        raise RuntimeError(FAILURE)

    @app.get("/test-only/leads/{lead_id}", include_in_schema=False)
    def read_lead(request: Request, session: WebSessionDep, lead_id: uuid.UUID) -> PlainTextResponse:
        with database_of(request).unit_of_work(read_only=True) as uow:
            return PlainTextResponse(leads.get_lead(lead_id, uow=uow, actor=session.actor).topic)

    @app.get("/test-only/leads/{lead_id}/reactivate", include_in_schema=False)
    def reactivate(request: Request, session: WebSessionDep, lead_id: uuid.UUID) -> PlainTextResponse:
        committed(request, lambda uow: leads.reactivate_lead(lead_id, uow=uow, actor=session.actor))
        return PlainTextResponse("reactivated")

    @app.get("/test-only/settings", include_in_schema=False)
    def settings_area(session: WebSessionDep) -> PlainTextResponse:
        require_admin(session.actor, "settings", Privilege.WRITE)
        return PlainTextResponse("allowed")

    @app.get("/test-only/count", include_in_schema=False)
    def count(count: int) -> PlainTextResponse:
        return PlainTextResponse(str(count))

    @app.get(f"{API}/test-only/count", include_in_schema=False)
    def api_count(count: int) -> PlainTextResponse:
        return PlainTextResponse(str(count))


@pytest.fixture
def app(database: Database, settings: Settings) -> FastAPI:
    return app_for(database, settings, extend=_add_test_only_routes)


@pytest.fixture
def client_for(app: FastAPI) -> Iterator[Callable[..., TestClient]]:
    """Browser-like clients of the app with the test-only routes: signed in unless ``email`` is None."""
    clients: list[TestClient] = []

    def make(
        email: str | None = ADMIN_EMAIL,
        password: str = ADMIN_PASSWORD,
        *,
        accept_language: str = "en",
        headers: dict[str, str] | None = None,
    ) -> TestClient:
        client = TestClient(app, headers={"Accept-Language": accept_language, **(headers or {})})
        client.__enter__()
        clients.append(client)
        if email is not None:
            web_sign_in(client, email, password)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def api_client(app: FastAPI, database: Database) -> Iterator[TestClient]:
    """An API client (bearer token) of the System Administrator."""
    with TestClient(app, headers=bearer_headers(database, ADMIN_EMAIL)) as client:
        yield client


def north_salesperson(database: Database) -> None:
    """A Salesperson of another business unit: reads the records of that unit only."""
    with database.unit_of_work() as uow:
        create_business_unit("North", parent_name=None, uow=uow, actor=None)
        create_user(
            email=NORTH_EMAIL,
            full_name="Nora North",
            role_names=["Salesperson"],
            business_unit_name="North",
            password=NORTH_PASSWORD,
            uow=uow,
            actor=None,
        )
        uow.commit()


def assert_page(response: Any, status: int, *, lang: str = "en") -> str:
    """An HTML error page with this status, in this language, with a link home; its <main>."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html"), response.headers["content-type"]
    html = response.text
    assert f'<html lang="{lang}">' in html
    assert '<a href="/" id="back-to-home">' in html
    assert response.headers["cache-control"] == "no-store"
    assert "content-security-policy" in response.headers
    assert '"error"' not in html and "{" not in html.split("<main", 1)[1]  # no JSON body in the page
    return re.search(r"<main.*?</main>", html, re.DOTALL).group(0)


def assert_json(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    return body["error"]


# ---------------------------------------------------------------------------------------------- 404


def test_an_unknown_address_is_a_404_page_in_english_with_a_link_home(client_for) -> None:
    client = client_for()

    main = assert_page(client.get("/no-such-page"), 404)

    assert '<h1 id="error-title">Page not found</h1>' in main
    assert "There is nothing at this address, or you may not open it." in main
    assert "Error code: 404" in main
    assert "back-to-previous" not in main  # the browser named no page it came from


def test_an_unknown_address_is_a_404_page_in_spanish(client_for) -> None:
    client = client_for(accept_language="es-ES,es;q=0.9")

    main = assert_page(client.get("/clientes/ninguno"), 404, lang="es")

    assert '<h1 id="error-title">Página no encontrada</h1>' in main
    assert "No hay nada en esta dirección, o usted no puede abrirlo." in main
    assert "Código de error: 404" in main
    assert '<a href="/" id="back-to-home">Volver a la página de inicio</a>' in main


def test_the_users_own_language_wins_over_the_browsers_on_an_error_page(client_for, database) -> None:
    client = client_for(accept_language="en")
    with database.unit_of_work() as uow:  # the administrator chose Spanish for the web app
        uow.session.scalar(select(User).where(User.email == ADMIN_EMAIL)).language = "es"
        uow.commit()

    assert "Página no encontrada" in assert_page(client.get("/no-such-page"), 404, lang="es")
    # Signed out, only the browser's language is known.
    anonymous = client_for(None, accept_language="en")
    assert "Page not found" in assert_page(anonymous.get("/no-such-page"), 404)


def test_an_unknown_address_links_back_to_the_page_of_this_site_it_came_from(client_for) -> None:
    client = client_for()

    came_from = client.get("/no-such-page", headers={"Referer": "http://testserver/leads?view=open"})
    elsewhere = client.get("/no-such-page", headers={"Referer": "https://evil.example/leads"})
    itself = client.get("/no-such-page", headers={"Referer": "http://testserver/no-such-page"})

    assert '<a href="/leads?view=open" id="back-to-previous">Back to the previous page</a>' in assert_page(
        came_from, 404
    )
    assert "back-to-previous" not in assert_page(elsewhere, 404)
    assert "back-to-previous" not in assert_page(itself, 404)


def test_an_unknown_address_is_a_page_signed_out_too(client_for) -> None:
    anonymous = client_for(None)

    main = assert_page(anonymous.get("/no-such-page"), 404)

    assert "Page not found" in main and "Sign out" not in main


def test_an_unreadable_record_looks_exactly_like_an_unknown_one_and_an_unknown_address(
    client_for, database, actor
) -> None:
    lead = make_lead(database, actor, topic="Secret deal")
    north_salesperson(database)
    seller = client_for(NORTH_EMAIL, NORTH_PASSWORD)

    unreadable = assert_page(seller.get(f"/test-only/leads/{lead.id}"), 404)
    unknown = assert_page(seller.get(f"/test-only/leads/{uuid.uuid4()}"), 404)
    nowhere = assert_page(seller.get(f"/leads/{lead.id}/no-such-page"), 404)

    assert unreadable == unknown == nowhere
    assert "Secret deal" not in unreadable and str(lead.id) not in unreadable
    # The administrator reads it; the record's own page keeps its own 404 page for the seller.
    assert client_for().get(f"/test-only/leads/{lead.id}").text == "Secret deal"
    own_page = seller.get(f"/leads/{lead.id}")
    assert own_page.status_code == 404 and 'id="back-to-leads"' in own_page.text


def test_a_method_an_address_does_not_take_is_a_405_page_with_its_allow_header(client_for) -> None:
    response = client_for().put("/leads")

    main = assert_page(response, 405)

    assert "This address cannot be used that way" in main
    assert "GET" in response.headers["allow"]


def test_a_query_that_cannot_be_read_is_a_422_page(client_for) -> None:
    main = assert_page(
        client_for(accept_language="es").get("/test-only/count", params={"count": "many"}), 422, lang="es"
    )

    assert "No se pudo leer lo enviado" in main


# ---------------------------------------------------------------------------------------------- 403 and 409


@pytest.mark.parametrize(
    ("language", "title", "sentence"),
    [
        ("en", "You can't open this page", "You lack the Write privilege on"),
        ("es", "No puede abrir esta página", "Le falta el privilegio"),
    ],
)
def test_a_missing_privilege_is_a_403_page_naming_it(client_for, database, language, title, sentence) -> None:
    north_salesperson(database)
    seller = client_for(NORTH_EMAIL, NORTH_PASSWORD, accept_language=language)

    main = assert_page(seller.get("/test-only/settings"), 403, lang=language)

    assert f'<h1 id="error-title">{title}</h1>' in main
    assert sentence in main
    assert client_for().get("/test-only/settings").text == "allowed"


def test_a_form_without_its_token_keeps_its_own_403_page(client_for, database, actor) -> None:
    lead = make_lead(database, actor)

    refused = client_for().post(f"/leads/{lead.id}/notes", data={"title": "No token"})

    assert refused.status_code == 403 and "This form has expired" in refused.text
    assert 'id="error-title"' not in refused.text


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("en", "This lead is already open; only qualified or disqualified leads can be reactivated."),
        ("es", "Este cliente potencial ya está abierto"),
    ],
)
def test_a_state_conflict_is_a_409_page_saying_what_happened(client_for, database, actor, language, sentence) -> None:
    lead = make_lead(database, actor)
    before = snapshot(database)

    main = assert_page(
        client_for(accept_language=language).get(f"/test-only/leads/{lead.id}/reactivate"), 409, lang=language
    )

    assert sentence in main
    assert snapshot(database) == before


# ---------------------------------------------------------------------------------------------- 413


def _note_form(client: TestClient, lead_id: uuid.UUID) -> dict[str, str]:
    return {"csrf_token": page_csrf(client.get(f"/leads/{lead_id}").text), "title": "Brochure", "body": ""}


@pytest.mark.parametrize(
    ("language", "title", "sentence"),
    [
        (
            "en",
            "The file is too large",
            "The file is larger than the limit of 0.06 MB; go back and attach a smaller file.",
        ),
        (
            "es",
            "El archivo es demasiado grande",
            "El archivo supera el límite de 0,06 MB; vuelva atrás y adjunte un archivo más pequeño.",
        ),
    ],
)
def test_an_upload_over_the_limit_posted_to_a_page_is_a_413_page_naming_the_limit_in_mb(
    client_for, database, actor, settings, language, title, sentence
) -> None:
    lead = make_lead(database, actor)
    client = client_for(accept_language=language)
    form = _note_form(client, lead.id)
    before = snapshot(database)
    far_too_big = b"x" * (settings.max_attachment_bytes * 3)  # refused from its declared length alone

    response = client.post(
        f"/leads/{lead.id}/notes",
        data=form,
        files={"file": ("brochure.pdf", far_too_big, "application/pdf")},
        headers={"Referer": f"http://testserver/leads/{lead.id}"},
    )

    main = assert_page(response, 413, lang=language)
    assert f'<h1 id="error-title">{title}</h1>' in main and sentence in main
    assert f'<a href="/leads/{lead.id}" id="back-to-previous">' in main
    assert snapshot(database) == before


def test_an_upload_over_the_limit_sent_chunked_to_a_page_is_a_413_page(client_for, database, actor, settings) -> None:
    lead = make_lead(database, actor)
    client = client_for()
    boundary = "leadflow-error-page-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f"{_note_form(client, lead.id)['csrf_token']}\r\n"
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + b"x" * (settings.max_attachment_bytes * 3)
        + f"\r\n--{boundary}--\r\n".encode()
    )

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 16 * 1024):
            yield body[start : start + 16 * 1024]

    response = client.post(
        f"/leads/{lead.id}/notes",
        content=chunks(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )

    assert "content-length" not in response.request.headers
    assert "The file is too large" in assert_page(response, 413)


def test_a_form_over_the_body_limit_is_a_413_page(client_for) -> None:
    response = client_for().post("/leads/new", data={"topic": "x" * (3 * 1024 * 1024)})

    main = assert_page(response, 413)

    assert "What was sent is too large" in main and "the limit of 2 MB" in main


def test_an_upload_a_little_over_the_limit_keeps_the_note_forms_own_message(
    client_for, database, actor, settings
) -> None:
    lead = make_lead(database, actor)
    client = client_for()

    response = client.post(
        f"/leads/{lead.id}/notes",
        data=_note_form(client, lead.id),
        files={"file": ("brochure.pdf", b"x" * (settings.max_attachment_bytes + 1), "application/pdf")},
    )

    assert (
        response.status_code == 413
        and "The file is larger than the limit of 64 kB; attach a smaller file." in response.text
    )
    assert 'id="error-title"' not in response.text


# ---------------------------------------------------------------------------------------------- 500


@pytest.mark.parametrize(
    ("language", "title", "sentence"),
    [
        ("en", "Something went wrong", "give this id to your administrator:"),
        ("es", "Algo ha fallado", "dé este identificador a su administrador:"),
    ],
)
def test_an_unexpected_failure_of_a_page_is_a_500_page_naming_the_request(
    client_for, language, title, sentence
) -> None:
    client = client_for(accept_language=language)

    response = client.get("/test-only/boom")

    main = assert_page(response, 500, lang=language)
    request_id = response.headers["x-request-id"]
    assert f'<h1 id="error-title">{title}</h1>' in main and sentence in main
    assert f'<code id="request-id">{request_id}</code>' in main
    assert FAILURE not in response.text and "RuntimeError" not in response.text and "Traceback" not in response.text
    assert client.get("/").status_code == 200  # the client goes on


def test_a_500_page_keeps_the_connection_open(app: FastAPI) -> None:
    with serving(app, lifespan="off") as port:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/test-only/boom", headers={"Accept-Language": "es", "X-Request-ID": "trace-500"})
        failed = connection.getresponse()
        html = failed.read().decode()
        assert failed.status == 500 and failed.getheader("Content-Type", "").startswith("text/html")
        assert failed.getheader("X-Request-ID") == "trace-500" and '<code id="request-id">trace-500</code>' in html
        assert "Algo ha fallado" in html and FAILURE not in html
        assert failed.getheader("Connection", "").lower() != "close"

        connection.request("GET", "/sign-in")  # the same connection, the next request
        next_page = connection.getresponse()
        assert next_page.status == 200 and "<form" in next_page.read().decode()
        connection.close()


# ---------------------------------------------------------------------------------------------- the API keeps its JSON


def test_the_same_errors_under_the_api_answer_json(client_for, api_client, database, actor, settings) -> None:
    lead = make_lead(database, actor)
    north_salesperson(database)

    assert_json(api_client.get(f"{API}/no-such-endpoint"), 404, "not_found")
    assert_json(api_client.get("/api/no-such-version"), 404, "not_found")
    assert_json(api_client.get(f"{API}/leads/{uuid.uuid4()}"), 404, "lead_not_found")
    assert_json(api_client.put(f"{API}/leads"), 405, "method_not_allowed")
    assert_json(api_client.get(f"{API}/test-only/count", params={"count": "many"}), 422, "invalid_value")
    assert_json(api_client.post(f"{API}/leads/{lead.id}/reactivate"), 409, "lead_already_open")
    seller = TestClient(api_client.app, headers=bearer_headers(database, NORTH_EMAIL))
    assert_json(seller.post(f"{API}/duplicate-jobs", json={"table": "accounts"}), 403, "forbidden")
    too_big = api_client.post(
        f"{API}/leads/{lead.id}/notes",
        data={"title": "Big"},
        files={"file": ("big.bin", b"x" * (settings.max_attachment_bytes * 3), "application/octet-stream")},
    )
    assert_json(too_big, 413, "attachment_too_large")
    failed = assert_json(api_client.get(f"{API}/test-only/boom"), 500, "internal_error")
    assert failed["request_id"] in failed["message"] and FAILURE not in failed["message"]

    # A browser signed in to the web app, in Spanish, still gets JSON under /api/.
    browser = client_for(accept_language="es")
    assert_json(browser.get(f"{API}/no-such-endpoint"), 404, "not_found")
    assert_json(browser.get(f"{API}/test-only/boom"), 500, "internal_error")
    assert_json(
        browser.post(f"{API}/leads", content=b"x" * (3 * 1024 * 1024), headers={"Content-Type": "application/json"}),
        413,
        "request_too_large",
    )


# ---------------------------------------------------------------------------------------------- an error page never fails


def test_when_the_error_page_fails_the_json_answer_is_given(client_for, monkeypatch, database, actor, settings) -> None:
    lead = make_lead(database, actor)
    client = client_for()
    form = _note_form(client, lead.id)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the template is broken")

    monkeypatch.setattr(web_errors, "_render", broken)

    assert_json(client.get("/no-such-page"), 404, "not_found")
    assert_json(client.get(f"/test-only/leads/{lead.id}/reactivate"), 409, "lead_already_open")
    boom = client.get("/test-only/boom")
    assert assert_json(boom, 500, "internal_error")["request_id"] == boom.headers["x-request-id"]
    too_big = client.post(
        f"/leads/{lead.id}/notes",
        data=form,
        files={"file": ("big.bin", b"x" * (settings.max_attachment_bytes * 3), "application/octet-stream")},
    )
    assert_json(too_big, 413, "attachment_too_large")
    assert client.get("/").status_code == 200
