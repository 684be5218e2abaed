"""The web sign-in: form, CSRF, session cookie, home, sign-out, throttling, escaping, languages."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadflow.asgi import create_app
from leadflow.core.config import Settings
from leadflow.core.uow import Database
from leadflow.security.audit import AuditEntry
from leadflow.security.models import AccessToken
from leadflow.security.service import create_user
from leadflow.web.i18n import language_from_header
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

CSRF_INPUT = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]+)">')


def csrf_of(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match is not None, "no CSRF field in the page"
    return match.group(1)


def set_cookies(response) -> dict[str, dict[str, str | bool]]:
    """The Set-Cookie headers of a response as {name: {"value", flag: value-or-True}}."""
    cookies: dict[str, dict[str, str | bool]] = {}
    for header in response.headers.get_list("set-cookie"):
        parsed = SimpleCookie()
        parsed.load(header)
        for name, morsel in parsed.items():
            attributes: dict[str, str | bool] = {"value": morsel.value}
            for part in header.split(";")[1:]:
                key, _, value = part.strip().partition("=")
                attributes[key.lower()] = value or True
            cookies[name] = attributes
    return cookies


def sign_in(client: TestClient, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD, **headers: str):
    form = client.get("/sign-in", headers=headers)
    return client.post(
        "/sign-in",
        data={"email": email, "password": password, "csrf_token": csrf_of(form.text)},
        headers=headers,
        follow_redirects=False,
    )


def assert_security_headers(response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "unsafe-inline" not in policy and "*" not in policy


def test_sign_in_page_has_a_labelled_form_with_a_csrf_field(anonymous_client: TestClient) -> None:
    response = anonymous_client.get("/sign-in")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<html lang="en">' in html
    token = csrf_of(html)
    cookie = set_cookies(response)["leadflow_csrf"]
    assert cookie["value"] == token and cookie["httponly"] is True and cookie["samesite"].lower() == "lax"
    assert '<label for="email">Email</label>' in html and 'id="email" name="email" type="email"' in html
    assert '<label for="password">Password</label>' in html and 'id="password" name="password" type="password"' in html
    assert '<button type="submit"' in html
    assert "<script" not in html
    assert_security_headers(response)


def test_the_stylesheet_is_served_from_this_site(anonymous_client: TestClient) -> None:
    html = anonymous_client.get("/sign-in").text
    assert 'href="/static/leadflow.css"' in html and "http" not in re.findall(r"<link[^>]+>", html)[0]
    css = anonymous_client.get("/static/leadflow.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert_security_headers(css)
    assert_security_headers(anonymous_client.get("/static/missing.css"))


def test_web_pages_are_not_in_the_api_schema(anonymous_client: TestClient) -> None:
    paths = anonymous_client.get("/api/v1/openapi.json").json()["paths"]
    assert not {"/", "/sign-in", "/sign-out"} & set(paths)


def test_post_without_csrf_is_refused_without_a_session(anonymous_client: TestClient) -> None:
    anonymous_client.get("/sign-in")  # the CSRF cookie is set, but the field is missing
    response = anonymous_client.post(
        "/sign-in", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 403
    assert "leadflow_session" not in set_cookies(response)
    assert_security_headers(response)


def test_post_with_a_csrf_field_that_differs_from_the_cookie_is_refused(anonymous_client: TestClient) -> None:
    anonymous_client.get("/sign-in")
    response = anonymous_client.post(
        "/sign-in",
        data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrf_token": "x" * 43},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "leadflow_session" not in set_cookies(response)


def test_post_with_a_csrf_field_but_no_cookie_is_refused(anonymous_client: TestClient) -> None:
    token = csrf_of(anonymous_client.get("/sign-in").text)
    anonymous_client.cookies.clear()
    response = anonymous_client.post(
        "/sign-in",
        data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 403


def test_wrong_password_shows_the_form_again_and_is_audited(anonymous_client: TestClient, database: Database) -> None:
    response = sign_in(anonymous_client, password="not the password")
    assert response.status_code == 401
    assert "The email or password is wrong." in response.text
    assert 'value="admin@example.com"' in response.text  # the email is kept
    assert csrf_of(response.text)  # the form can be sent again
    assert "leadflow_session" not in set_cookies(response)
    with database.unit_of_work(read_only=True) as uow:
        actions = list(uow.session.scalars(select(AuditEntry.action)))
    assert "sign_in_failed" in actions


def test_unknown_email_gets_the_same_message(anonymous_client: TestClient) -> None:
    response = sign_in(anonymous_client, email="nobody@example.com", password="whatever it is")
    assert response.status_code == 401
    assert "The email or password is wrong." in response.text


def test_sign_in_sets_a_session_cookie_and_redirects_home(anonymous_client: TestClient, database: Database) -> None:
    response = sign_in(anonymous_client)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = set_cookies(response)["leadflow_session"]
    assert cookie["httponly"] is True
    assert cookie["samesite"].lower() == "lax"
    assert cookie["path"] == "/"
    assert "secure" not in cookie  # plain http
    assert_security_headers(response)
    with database.unit_of_work(read_only=True) as uow:
        kinds = list(uow.session.scalars(select(AccessToken.kind)))
        actions = list(uow.session.scalars(select(AuditEntry.action)))
    assert kinds == ["web_session"]
    assert "sign_in" in actions

    home = anonymous_client.get("/", follow_redirects=False)
    assert home.status_code == 200
    assert "Signed in as" in home.text and ADMIN_EMAIL in home.text
    assert 'id="dashboard-figures"' in home.text  # one lands on the dashboard, not an empty page
    assert "System Administrator" in home.text
    assert 'href="/api/v1/docs"' in home.text
    assert 'action="/sign-out"' in home.text and csrf_of(home.text)
    assert_security_headers(home)


def test_session_cookie_is_secure_over_https(database: Database, settings: Settings) -> None:
    with TestClient(create_app(database, settings), base_url="https://testserver") as client:
        form = client.get("/sign-in")
        assert set_cookies(form)["leadflow_csrf"].get("secure") is True
        response = sign_in(client)
        assert response.status_code == 303
        assert set_cookies(response)["leadflow_session"].get("secure") is True
        assert client.get("/", follow_redirects=False).status_code == 200


def test_home_without_a_session_redirects_to_sign_in(anonymous_client: TestClient) -> None:
    response = anonymous_client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in"
    assert_security_headers(response)


def test_a_forged_session_cookie_is_refused(anonymous_client: TestClient) -> None:
    anonymous_client.cookies.set("leadflow_session", "lf_forged")
    response = anonymous_client.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/sign-in"


def test_an_api_token_is_not_a_web_session(anonymous_client: TestClient, database: Database) -> None:
    from tests.conftest import bearer_headers

    secret = bearer_headers(database, ADMIN_EMAIL)["Authorization"].removeprefix("Bearer ")
    anonymous_client.cookies.set("leadflow_session", secret)
    assert anonymous_client.get("/", follow_redirects=False).status_code == 303


def test_sign_out_without_csrf_is_refused(anonymous_client: TestClient) -> None:
    assert sign_in(anonymous_client).status_code == 303
    response = anonymous_client.post("/sign-out", follow_redirects=False)
    assert response.status_code == 403
    assert_security_headers(response)
    wrong = anonymous_client.post("/sign-out", data={"csrf_token": "0" * 64}, follow_redirects=False)
    assert wrong.status_code == 403
    # still signed in
    assert anonymous_client.get("/", follow_redirects=False).status_code == 200


def test_the_pre_session_token_does_not_sign_out(anonymous_client: TestClient) -> None:
    pre_session = csrf_of(anonymous_client.get("/sign-in").text)
    assert sign_in(anonymous_client).status_code == 303
    response = anonymous_client.post("/sign-out", data={"csrf_token": pre_session}, follow_redirects=False)
    assert response.status_code == 403


def test_sign_out_revokes_the_session(anonymous_client: TestClient, database: Database) -> None:
    signed_in = sign_in(anonymous_client)
    old_secret = set_cookies(signed_in)["leadflow_session"]["value"]
    token = csrf_of(anonymous_client.get("/").text)
    response = anonymous_client.post("/sign-out", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in"
    deleted = set_cookies(response)["leadflow_session"]
    assert deleted["value"] == "" and deleted.get("max-age") == "0"
    assert "leadflow_session" not in anonymous_client.cookies

    # The old cookie, replayed, no longer works.
    anonymous_client.cookies.set("leadflow_session", old_secret)
    again = anonymous_client.get("/", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == "/sign-in"
    with database.unit_of_work(read_only=True) as uow:
        assert all(t.revoked_at is not None for t in uow.session.scalars(select(AccessToken)))
        assert "sign_out" in set(uow.session.scalars(select(AuditEntry.action)))


@pytest.mark.parametrize("email", [ADMIN_EMAIL, "nobody@example.com"])
def test_after_five_wrong_passwords_sign_in_is_throttled(anonymous_client: TestClient, email: str) -> None:
    """Five failures for one email from one address in ten minutes: the sixth attempt must wait (429),
    an email nobody has exactly like a known one."""
    for attempt in range(5):
        response = sign_in(anonymous_client, email=email, password=f"wrong password {attempt}")
        assert response.status_code == 401, attempt
    throttled = sign_in(anonymous_client, email=email, password="wrong password 6")
    assert throttled.status_code == 429
    wait = int(throttled.headers["retry-after"])
    assert 1 <= wait <= 15 * 60
    assert re.search(r"Too many wrong attempts from here: wait \d+ seconds before trying again\.", throttled.text)
    assert f'value="{email}"' in throttled.text and csrf_of(throttled.text)  # the form stays usable
    assert "leadflow_session" not in set_cookies(throttled)
    # Even the right password waits while the delay lasts.
    still = sign_in(anonymous_client, email=email, password=ADMIN_PASSWORD)
    assert still.status_code == 429
    assert "leadflow_session" not in set_cookies(still)


def test_the_wait_is_told_in_spanish(anonymous_client: TestClient) -> None:
    headers = {"Accept-Language": "es-ES,es;q=0.9"}
    for attempt in range(5):
        assert sign_in(anonymous_client, password=f"wrong password {attempt}", **headers).status_code == 401
    throttled = sign_in(anonymous_client, password="wrong again", **headers)
    assert throttled.status_code == 429
    assert re.search(r"Demasiados intentos fallidos desde aquí: espere \d+ segundos", throttled.text)


def test_after_signing_in_in_spanish_one_lands_on_the_dashboard(anonymous_client: TestClient) -> None:
    headers = {"Accept-Language": "es-ES,es;q=0.9"}
    signed_in = sign_in(anonymous_client, **headers)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"

    home = anonymous_client.get("/", headers=headers)

    assert home.status_code == 200
    assert 'id="dashboard-figures"' in home.text and "Panel" in home.text
    assert "Sesión iniciada como" in home.text


def test_throttling_counts_one_email_at_a_time(anonymous_client: TestClient, database: Database) -> None:
    with database.unit_of_work() as uow:
        create_user(
            email="other@example.com",
            full_name="Other",
            role_names=["Salesperson"],
            business_unit_name=None,
            password="a long enough password",
            uow=uow,
            actor=None,
        )
        uow.commit()
    for attempt in range(6):
        sign_in(anonymous_client, password=f"wrong password {attempt}")
    assert sign_in(anonymous_client).status_code == 429
    assert sign_in(anonymous_client, email="other@example.com", password="a long enough password").status_code == 303


def test_a_user_name_is_escaped_on_the_home_page(anonymous_client: TestClient, database: Database) -> None:
    with database.unit_of_work() as uow:
        create_user(
            email="mallory@example.com",
            full_name="<script>alert(1)</script>",
            role_names=["Salesperson"],
            business_unit_name=None,
            password="a long enough password",
            uow=uow,
            actor=None,
        )
        uow.commit()
    assert sign_in(anonymous_client, email="mallory@example.com", password="a long enough password").status_code == 303
    home = anonymous_client.get("/")
    assert home.status_code == 200
    assert "<script>alert(1)</script>" not in home.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in home.text
    assert "mallory@example.com" in home.text


def test_the_typed_email_is_escaped_when_the_form_comes_back(anonymous_client: TestClient) -> None:
    response = sign_in(anonymous_client, email='"><script>alert(1)</script>', password="whatever it is")
    assert response.status_code == 401
    assert "<script>" not in response.text
    assert "&#34;&gt;&lt;script&gt;" in response.text


def test_spanish_labels(anonymous_client: TestClient) -> None:
    headers = {"Accept-Language": "es-ES,es;q=0.9"}
    page = anonymous_client.get("/sign-in", headers=headers)
    assert '<html lang="es">' in page.text
    for label in ("Iniciar sesión", "Correo electrónico", "Contraseña"):
        assert label in page.text
    wrong = sign_in(anonymous_client, password="not the password", **headers)
    assert wrong.status_code == 401
    assert "El correo electrónico o la contraseña no son correctos." in wrong.text
    assert sign_in(anonymous_client, **headers).status_code == 303
    home = anonymous_client.get("/", headers=headers)
    assert "Cerrar sesión" in home.text and "Sesión iniciada como" in home.text


def test_spanish_forbidden_page(anonymous_client: TestClient) -> None:
    response = anonymous_client.post("/sign-in", data={}, headers={"Accept-Language": "es"})
    assert response.status_code == 403
    assert '<html lang="es">' in response.text


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "en"),
        ("", "en"),
        ("es-ES,es;q=0.9", "es"),
        ("ES", "es"),
        ("en-GB,en;q=0.9,es;q=0.8", "en"),
        ("fr-FR,fr;q=0.9,es;q=0.5,en;q=0.4", "es"),
        ("en;q=0.3,es;q=0.7", "es"),
        ("es;q=0,en", "en"),
        ("de,fr", "en"),
        ("*", "en"),
        ("es;q=abc", "en"),
    ],
)
def test_language_from_accept_language(header: str | None, language: str) -> None:
    assert language_from_header(header) == language


def test_a_concurrent_sign_in_conflict_shows_the_form_again(
    anonymous_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from leadflow.core.errors import Conflict
    from leadflow.web import routes

    def busy(*_args, **_kwargs):
        raise Conflict("busy", code="concurrent_update")

    monkeypatch.setattr(routes, "sign_in", busy)
    response = sign_in(anonymous_client)
    assert response.status_code == 409
    assert "try again" in response.text
    assert "leadflow_session" not in set_cookies(response)
