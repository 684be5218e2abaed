"""Accounts looked after from the web pages: two-factor sign-in (set up on /me, the code as a second
step, recovery codes, required by a role), the password (changed on /me, reset with a link), the
user's sessions and tokens, and what administrators do to a user (deactivate, reactivate, reassign)."""

from __future__ import annotations

import html as markup
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadflow.core.config import Settings
from leadflow.core.uow import Database
from leadflow.leads.models import Lead
from leadflow.security.actor import Actor, actor_for_email
from leadflow.security.models import AccessToken, Role, User
from leadflow.security.service import create_user
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, app_for, bearer_headers
from tests.factories import make_lead
from tests.web.conftest import page_csrf

SELLER_EMAIL = "sam.seller@example.com"
SELLER_PASSWORD = "a long seller password"
NEW_PASSWORD = "violet harbour lantern 42"
_HIDDEN = r'<input type="hidden" name="{}" value="([^"]*)">'


def hidden(html: str, name: str) -> str:
    match = re.search(_HIDDEN.format(name), html)
    assert match is not None, f"no hidden field {name}"
    return markup.unescape(match.group(1))


def post_form(client: TestClient, page: str, action: str, data: dict[str, Any] | None = None) -> Any:
    """Load ``page`` for its CSRF token and post ``data`` to ``action`` as its form would."""
    token = page_csrf(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **(data or {})}, follow_redirects=False)


def password_step(client: TestClient, email: str, password: str, *, next_path: str = "/") -> Any:
    """The sign-in form sent with an email and password; the answer is not followed."""
    form = client.get(f"/sign-in?next={next_path}")
    return client.post(
        "/sign-in",
        data={"email": email, "password": password, "csrf_token": page_csrf(form.text), "next": next_path},
        follow_redirects=False,
    )


def code_step(client: TestClient, first: Any, code: str) -> Any:
    """The second step of a sign-in, with the step and form token the first answer carried."""
    return client.post(
        "/sign-in/code",
        data={
            "step": hidden(first.text, "step"),
            "code": code,
            "csrf_token": page_csrf(first.text),
            "next": hidden(first.text, "next"),
        },
        follow_redirects=False,
    )


def next_code(secret: str) -> str:
    """A code of the app's next time step: accepted, and never one already used in the current step."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def wrong_code(secret: str) -> str:
    """Six digits that are the app's code for no step the server accepts now."""
    totp, now = pyotp.TOTP(secret), time.time()
    valid = {totp.at(now + offset) for offset in (-60, -30, 0, 30, 60)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)


def fresh_client(database: Database, settings: Settings, language: str = "en") -> TestClient:
    return TestClient(app_for(database, settings), headers={"Accept-Language": language})


def make_user(
    database: Database, email: str = SELLER_EMAIL, role: str = "Salesperson", name: str = "Sam Seller"
) -> uuid.UUID:
    with database.unit_of_work() as uow:
        user = create_user(
            email=email,
            full_name=name,
            role_names=[role],
            business_unit_name=None,
            password=SELLER_PASSWORD,
            uow=uow,
            actor=None,
        )
        uow.commit()
        return user.id


def set_up_two_factor(client: TestClient) -> tuple[str, list[str], str]:
    """Set up two-factor sign-in on the user's pages: the key shown, the recovery codes, the setup page."""
    started = post_form(client, "/me", "/me/two-factor")
    assert started.status_code == 200, started.text
    secret = re.search(r'<code class="mono secret" id="two-factor-secret">([A-Z2-7 ]+)</code>', started.text).group(1)
    secret = secret.replace(" ", "")
    confirmed = client.post(
        "/me/two-factor/confirm",
        data={"csrf_token": page_csrf(started.text), "code": pyotp.TOTP(secret).now()},
        follow_redirects=False,
    )
    assert confirmed.status_code == 200, confirmed.text
    codes_list = confirmed.text[confirmed.text.index('id="recovery-codes"') :]
    codes = re.findall(r"<li>([0-9a-f]{6}-[0-9a-f]{6})</li>", codes_list)
    return secret, codes, started.text


def user_id_of(database: Database, email: str) -> uuid.UUID:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalars(select(User.id).where(User.email == email)).one()


def role_id_of(database: Database, name: str) -> uuid.UUID:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalars(select(Role.id).where(Role.name == name)).one()


def stored(database: Database, model: type, record_id: uuid.UUID, column: str) -> Any:
    """A column of a record as the database has it now."""
    with database.unit_of_work(read_only=True) as uow:
        return getattr(uow.session.get(model, record_id), column)


def totp_enabled(database: Database, email: str) -> bool:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalars(select(User.totp_enabled_at).where(User.email == email)).one() is not None


@pytest.fixture
def seller(database: Database, web_client_for: Callable[..., TestClient]) -> TestClient:
    make_user(database)
    return web_client_for(SELLER_EMAIL, SELLER_PASSWORD)


# ---------------------------------------------------------------------------------------------- two-factor sign-in


def test_two_factor_sign_in_is_set_up_on_my_page_and_then_asked_for(
    web_client: TestClient, anonymous_client: TestClient, database: Database
) -> None:
    me = web_client.get("/me").text
    assert 'id="two-factor-start"' in me and "Set up two-factor sign-in" in me
    secret, codes, setup = set_up_two_factor(web_client)
    # The key in groups of four, the same as an otpauth link and as a QR code drawn in the page.
    assert re.search(r'id="two-factor-secret">([A-Z2-7]{4} )+[A-Z2-7]{1,4}</code>', setup)
    assert "otpauth://totp/leadflow:admin%40example.com?secret=" + secret in markup.unescape(setup)
    assert '<svg viewBox="0 0' in setup and 'class="qr-code"' in setup and "<title>QR code" in setup
    assert len(codes) == 10 and len(set(codes)) == 10
    assert totp_enabled(database, ADMIN_EMAIL)
    me = web_client.get("/me").text
    assert 'id="two-factor-off"' in me and 'id="two-factor-start"' not in me

    first = password_step(anonymous_client, ADMIN_EMAIL, ADMIN_PASSWORD, next_path="/leads")
    assert first.status_code == 200
    assert "leadflow_session" not in first.cookies
    assert 'action="/sign-in/code"' in first.text and 'autocomplete="one-time-code"' in first.text
    wrong = code_step(anonymous_client, first, wrong_code(secret))
    assert wrong.status_code == 401
    assert "The code is wrong or was already used" in wrong.text and 'action="/sign-in/code"' in wrong.text
    assert "leadflow_session" not in wrong.cookies
    signed_in = code_step(anonymous_client, wrong, next_code(secret))
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/leads"
    assert anonymous_client.get("/", follow_redirects=False).status_code == 200


def test_the_second_step_needs_the_pre_sign_in_form_token(web_client: TestClient, anonymous_client: TestClient) -> None:
    secret, _codes, _setup = set_up_two_factor(web_client)
    first = password_step(anonymous_client, ADMIN_EMAIL, ADMIN_PASSWORD)
    forged = anonymous_client.post(
        "/sign-in/code",
        data={"step": hidden(first.text, "step"), "code": next_code(secret), "csrf_token": "x" * 43},
        follow_redirects=False,
    )
    assert forged.status_code == 403 and "leadflow_session" not in forged.cookies


def test_an_unknown_second_step_sends_back_to_the_password(anonymous_client: TestClient) -> None:
    form = anonymous_client.get("/sign-in")
    response = anonymous_client.post(
        "/sign-in/code",
        data={"step": "lf_" + "x" * 43, "code": "123456", "csrf_token": page_csrf(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 401
    assert "This sign-in has expired; enter your email and password again." in response.text
    assert 'action="/sign-in"' in response.text


def test_a_recovery_code_signs_in_once(web_client: TestClient, anonymous_client: TestClient) -> None:
    _secret, codes, _setup = set_up_two_factor(web_client)
    first = password_step(anonymous_client, ADMIN_EMAIL, ADMIN_PASSWORD)
    assert code_step(anonymous_client, first, codes[3].upper()).status_code == 303
    anonymous_client.cookies.clear()
    again = password_step(anonymous_client, ADMIN_EMAIL, ADMIN_PASSWORD)
    refused = code_step(anonymous_client, again, codes[3])
    assert refused.status_code == 401 and "leadflow_session" not in refused.cookies
    assert code_step(anonymous_client, refused, codes[4]).status_code == 303


def test_wrong_codes_are_throttled_too(web_client: TestClient, anonymous_client: TestClient) -> None:
    secret, _codes, _setup = set_up_two_factor(web_client)
    answer = password_step(anonymous_client, ADMIN_EMAIL, ADMIN_PASSWORD)
    statuses = []
    for _ in range(6):
        answer = code_step(anonymous_client, answer, wrong_code(secret))
        statuses.append(answer.status_code)
    assert statuses[:5] == [401] * 5 and statuses[5] == 429
    assert "Too many wrong attempts" in answer.text and 'action="/sign-in/code"' in answer.text


def test_a_wrong_first_code_keeps_the_setup_going_and_can_start_again(
    web_client: TestClient, database: Database
) -> None:
    started = post_form(web_client, "/me", "/me/two-factor")
    secret = re.search(r'id="two-factor-secret">([A-Z2-7 ]+)<', started.text).group(1).replace(" ", "")
    wrong = web_client.post(
        "/me/two-factor/confirm",
        data={"csrf_token": page_csrf(started.text), "code": wrong_code(secret)},
        follow_redirects=False,
    )
    assert wrong.status_code == 401
    assert 'id="two-factor-error"' in wrong.text and 'id="two-factor-code"' in wrong.text
    assert 'id="two-factor-restart"' in wrong.text
    assert not totp_enabled(database, ADMIN_EMAIL)
    done = web_client.post(
        "/me/two-factor/confirm",
        data={"csrf_token": page_csrf(wrong.text), "code": pyotp.TOTP(secret).now()},
        follow_redirects=False,
    )
    assert done.status_code == 200 and 'id="recovery-codes"' in done.text


def test_two_factor_set_up_and_turned_off_in_spanish(
    web_client_for: Callable[..., TestClient], database: Database
) -> None:
    client = web_client_for(accept_language="es-ES,es;q=0.9")
    me = client.get("/me").text
    assert "Inicio de sesión en dos pasos" in me and "Configurar el inicio de sesión en dos pasos" in me
    started = post_form(client, "/me", "/me/two-factor")
    assert "Escanee este código QR" in started.text and "<title>Código QR" in started.text
    _secret, codes, _setup = set_up_two_factor(client)
    assert len(codes) == 10
    off = post_form(client, "/me", "/me/two-factor/off")
    assert off.status_code == 303
    assert "El inicio de sesión en dos pasos está desactivado." in client.get(off.headers["location"]).text
    assert not totp_enabled(database, ADMIN_EMAIL)


def test_a_role_that_requires_two_factor_sends_its_holders_to_set_it_up(
    web_client: TestClient, database: Database, settings: Settings
) -> None:
    make_user(database)
    role_id = role_id_of(database, "Salesperson")
    role_page = web_client.get(f"/admin/roles/{role_id}").text
    assert 'id="role-two-factor-state">optional<' in role_page
    toggled = post_form(
        web_client, f"/admin/roles/{role_id}", f"/admin/roles/{role_id}/two-factor", {"required": "true"}
    )
    assert toggled.status_code == 303
    assert 'id="role-two-factor-state">required<' in web_client.get(toggled.headers["location"]).text

    with fresh_client(database, settings) as seller:
        assert password_step(seller, SELLER_EMAIL, SELLER_PASSWORD, next_path="/leads").status_code == 303
        for path in ("/", "/leads", "/me", "/admin/users"):
            answer = seller.get(path, follow_redirects=False)
            assert (answer.status_code, answer.headers.get("location")) == (303, "/me/two-factor"), path
        # Even a form posted elsewhere goes to the setup first.
        assert (
            seller.post("/me", data={"language": "es"}, follow_redirects=False).headers["location"] == "/me/two-factor"
        )
        setup = seller.get("/me/two-factor")
        assert setup.status_code == 200 and 'id="two-factor-required"' in setup.text
        secret, _codes, _page = set_up_two_factor(seller)
        assert seller.get("/leads", follow_redirects=False).status_code == 200
        # Next time the code is asked for.
        seller.cookies.clear()
        first = password_step(seller, SELLER_EMAIL, SELLER_PASSWORD)
        assert first.status_code == 200 and code_step(seller, first, next_code(secret)).status_code == 303

    back = post_form(web_client, f"/admin/roles/{role_id}", f"/admin/roles/{role_id}/two-factor", {"required": "false"})
    assert back.status_code == 303
    assert stored(database, Role, role_id, "requires_two_factor") is False


def test_only_those_who_may_change_roles_see_the_two_factor_toggle(
    database: Database, web_client_for: Callable[..., TestClient]
) -> None:
    make_user(database, "manager@example.com", role="Sales Manager", name="Mia Manager")  # reads roles, changes none
    manager = web_client_for("manager@example.com", SELLER_PASSWORD)
    role_id = role_id_of(database, "Salesperson")
    page = manager.get(f"/admin/roles/{role_id}")
    assert page.status_code == 200
    assert 'id="role-two-factor-state">optional<' in page.text and 'id="role-two-factor-button"' not in page.text
    refused = manager.post(
        f"/admin/roles/{role_id}/two-factor",
        data={"csrf_token": page_csrf(page.text), "required": "true"},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    assert stored(database, Role, role_id, "requires_two_factor") is False


# ---------------------------------------------------------------------------------------------- passwords


def test_changing_my_password_ends_my_other_sessions(
    seller: TestClient, database: Database, settings: Settings
) -> None:
    with fresh_client(database, settings) as phone:
        assert password_step(phone, SELLER_EMAIL, SELLER_PASSWORD).status_code == 303
        assert phone.get("/", follow_redirects=False).status_code == 200
        changed = post_form(
            seller,
            "/me",
            "/me/password",
            {
                "current_password": SELLER_PASSWORD,
                "new_password": NEW_PASSWORD,
                "repeat_password": NEW_PASSWORD,
            },
        )
        assert changed.status_code == 303
        notice = seller.get(changed.headers["location"]).text
        assert "Your password was changed. Your other sessions and tokens were ended" in notice
        assert seller.get("/", follow_redirects=False).status_code == 200  # this session goes on
        ended = phone.get("/", follow_redirects=False)
        assert ended.status_code == 303 and ended.headers["location"] == "/sign-in"
        assert password_step(phone, SELLER_EMAIL, SELLER_PASSWORD).status_code == 401
        assert password_step(phone, SELLER_EMAIL, NEW_PASSWORD).status_code == 303


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"current_password": "not my password"}, "current-password", "The current password is wrong."),
        (
            {"new_password": "too short", "repeat_password": "too short"},
            "me-new-password",
            "Passwords need at least 12 characters.",
        ),
        (
            {"new_password": "iloveyou12345", "repeat_password": "iloveyou12345"},
            "me-new-password",
            "one of the most common ones",
        ),
        ({"repeat_password": "violet harbour lantern 43"}, "me-repeat-password", "The two passwords are not the same."),
    ],
)
def test_a_refused_password_change_says_why_next_to_the_field(
    seller: TestClient, database: Database, fields: dict[str, str], field: str, message: str
) -> None:
    data = {
        "current_password": SELLER_PASSWORD,
        "new_password": NEW_PASSWORD,
        "repeat_password": NEW_PASSWORD,
        **fields,
    }
    refused = post_form(seller, "/me", "/me/password", data)
    assert refused.status_code in (401, 409, 422)
    error = re.search(rf'<p class="field-error" id="{field}-error">([^<]+)</p>', refused.text)
    assert error is not None and message in markup.unescape(error.group(1))
    assert f'id="{field}" name=' in refused.text and 'aria-invalid="true"' in refused.text
    assert "value=" not in refused.text[refused.text.index('id="current-password"') :].split(">")[0]  # never typed back
    assert password_step(seller, SELLER_EMAIL, SELLER_PASSWORD).status_code == 303  # unchanged


def test_a_refused_password_change_in_spanish(seller_es: TestClient) -> None:
    refused = post_form(
        seller_es,
        "/me",
        "/me/password",
        {
            "current_password": "not my password",
            "new_password": NEW_PASSWORD,
            "repeat_password": NEW_PASSWORD,
        },
    )
    assert "La contraseña actual no es correcta." in refused.text
    mismatch = post_form(
        seller_es,
        "/me",
        "/me/password",
        {
            "current_password": SELLER_PASSWORD,
            "new_password": NEW_PASSWORD,
            "repeat_password": "otra cosa distinta",
        },
    )
    assert "Las dos contraseñas no coinciden." in mismatch.text


@pytest.fixture
def seller_es(database: Database, web_client_for: Callable[..., TestClient]) -> TestClient:
    make_user(database)
    return web_client_for(SELLER_EMAIL, SELLER_PASSWORD, accept_language="es")


def test_a_reset_link_lets_the_user_choose_a_new_password_once(
    web_client: TestClient, anonymous_client: TestClient, database: Database
) -> None:
    seller_id = make_user(database)
    issued = post_form(web_client, f"/admin/users/{seller_id}", f"/admin/users/{seller_id}/reset-link")
    assert issued.status_code == 200
    link = markup.unescape(
        re.search(r'<code class="mono reset-link" id="reset-link-url">([^<]+)</code>', issued.text).group(1)
    )
    assert link.startswith("http://testserver/reset-password?token=lf_")
    assert link not in web_client.get(f"/admin/users/{seller_id}").text  # shown once
    path = link.removeprefix("http://testserver")

    form = anonymous_client.get(path)
    assert form.status_code == 200 and 'action="/reset-password"' in form.text
    assert 'name="new_password"' in form.text and 'name="repeat_password"' in form.text
    token = hidden(form.text, "token")
    forged = anonymous_client.post(
        "/reset-password",
        data={"token": token, "new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    mismatch = anonymous_client.post(
        "/reset-password",
        data={
            "token": token,
            "new_password": NEW_PASSWORD,
            "repeat_password": "something else entirely",
            "csrf_token": page_csrf(form.text),
        },
        follow_redirects=False,
    )
    assert mismatch.status_code == 422 and 'id="reset-repeat-password-error"' in mismatch.text
    too_short = anonymous_client.post(
        "/reset-password",
        data={"token": token, "new_password": "short", "repeat_password": "short", "csrf_token": page_csrf(form.text)},
        follow_redirects=False,
    )
    assert too_short.status_code == 422 and 'id="reset-new-password-error"' in too_short.text
    done = anonymous_client.post(
        "/reset-password",
        data={
            "token": token,
            "new_password": NEW_PASSWORD,
            "repeat_password": NEW_PASSWORD,
            "csrf_token": page_csrf(form.text),
        },
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/sign-in?reset=true"
    assert "Your password was changed. Sign in with the new one." in anonymous_client.get(done.headers["location"]).text
    assert password_step(anonymous_client, SELLER_EMAIL, NEW_PASSWORD).status_code == 303

    again_form = anonymous_client.get(path)
    used = anonymous_client.post(
        "/reset-password",
        data={
            "token": token,
            "new_password": "another fine passphrase",
            "repeat_password": "another fine passphrase",
            "csrf_token": page_csrf(again_form.text),
        },
        follow_redirects=False,
    )
    assert used.status_code == 409
    assert "ask an administrator for a new one" in used.text and 'name="new_password"' not in used.text


@pytest.mark.parametrize("token", ["", "not a token <script>", "x" * 300])
def test_a_malformed_reset_link_says_to_ask_for_a_new_one(anonymous_client: TestClient, token: str) -> None:
    page = anonymous_client.get("/reset-password", params={"token": token}, headers={"Accept-Language": "es"})
    assert page.status_code == 404
    assert "pida uno nuevo a un administrador" in page.text and 'name="new_password"' not in page.text
    assert "<script>" not in page.text


# ---------------------------------------------------------------------------------------------- sessions and tokens


def test_my_page_lists_my_sessions_and_revokes_another_one(
    seller: TestClient, database: Database, settings: Settings
) -> None:
    with fresh_client(database, settings) as phone:
        assert password_step(phone, SELLER_EMAIL, SELLER_PASSWORD).status_code == 303
        page = seller.get("/me").text
        table = page[page.index('id="tokens-table"') :]
        rows = re.findall(r'<tr id="token-([0-9a-f-]+)">(.*?)</tr>', table, re.S)
        assert len(rows) == 2 and all("Web session" in row for _id, row in rows)
        current = [token_id for token_id, row in rows if "This session" in row]
        other = [token_id for token_id, row in rows if "This session" not in row]
        assert len(current) == 1 and len(other) == 1
        assert f"/me/tokens/{current[0]}/revoke" not in page  # no button to end this very session
        revoked = post_form(seller, "/me", f"/me/tokens/{other[0]}/revoke")
        assert revoked.status_code == 303
        assert "The token was revoked." in seller.get(revoked.headers["location"]).text
        assert phone.get("/", follow_redirects=False).status_code == 303
        assert seller.get("/", follow_redirects=False).status_code == 200


def test_nobody_revokes_someone_elses_token_from_their_page(seller: TestClient, database: Database) -> None:
    admin_id = user_id_of(database, ADMIN_EMAIL)
    bearer_headers(database, ADMIN_EMAIL)
    with database.unit_of_work(read_only=True) as uow:
        token_id = uow.session.scalars(select(AccessToken.id).where(AccessToken.user_id == admin_id)).one()
    refused = post_form(seller, "/me", f"/me/tokens/{token_id}/revoke")
    assert refused.status_code == 403
    assert stored(database, AccessToken, token_id, "revoked_at") is None


# ---------------------------------------------------------------------------------------------- administrators


def test_a_deactivated_user_is_signed_out_and_cannot_sign_in_until_reactivated(
    web_client: TestClient, seller: TestClient, database: Database
) -> None:
    seller_id = user_id_of(database, SELLER_EMAIL)
    page = web_client.get(f"/admin/users/{seller_id}").text
    assert 'id="deactivate-button"' in page and 'id="reactivate-button"' not in page
    done = post_form(web_client, f"/admin/users/{seller_id}", f"/admin/users/{seller_id}/deactivate")
    assert done.status_code == 303
    page = web_client.get(done.headers["location"]).text
    assert (
        "The user was deactivated" in page and 'id="reactivate-button"' in page and 'id="deactivate-button"' not in page
    )
    assert seller.get("/", follow_redirects=False).status_code == 303
    seller.cookies.clear()
    assert password_step(seller, SELLER_EMAIL, SELLER_PASSWORD).status_code == 401
    users = web_client.get("/admin/users").text
    row = users[users.index("Sam Seller") :].split("</tr>")[0]
    assert 'class="badge bad">No<' in row

    back = post_form(web_client, f"/admin/users/{seller_id}", f"/admin/users/{seller_id}/reactivate")
    assert back.status_code == 303
    assert "The user was reactivated" in web_client.get(back.headers["location"]).text
    assert password_step(seller, SELLER_EMAIL, SELLER_PASSWORD).status_code == 303


def test_administrators_cannot_deactivate_themselves(web_client: TestClient, database: Database) -> None:
    admin_id = user_id_of(database, ADMIN_EMAIL)
    page = web_client.get(f"/admin/users/{admin_id}").text
    assert 'id="deactivate-button"' not in page and 'id="reset-link-button"' in page
    refused = post_form(web_client, f"/admin/users/{admin_id}", f"/admin/users/{admin_id}/deactivate")
    assert refused.status_code == 409
    assert "You cannot deactivate yourself; ask another administrator." in refused.text
    assert web_client.get("/", follow_redirects=False).status_code == 200


def test_records_are_reassigned_to_another_user(web_client: TestClient, database: Database, actor: Actor) -> None:
    leaver_id = make_user(database, "leaver@example.com", role="Sales Manager", name="Lee Leaver")
    heir_id = make_user(database, "heir@example.com", name="Hana Heir")
    with database.unit_of_work(read_only=True) as uow:
        leaver = actor_for_email(uow.session, "leaver@example.com")
    for topic in ("Chairs", "Desks"):
        make_lead(database, leaver, topic=topic)
    make_lead(database, actor, topic="Lamps")
    page = web_client.get(f"/admin/users/{leaver_id}").text
    choices = page[page.index('id="reassign-to"') :].split("</select>")[0]
    assert f'value="{heir_id}"' in choices and f'value="{leaver_id}"' not in choices
    moved = post_form(
        web_client, f"/admin/users/{leaver_id}", f"/admin/users/{leaver_id}/reassign", {"to_user_id": str(heir_id)}
    )
    assert moved.status_code == 200, moved.text
    counts = moved.text[moved.text.index('id="reassigned"') :].split("</section>")[0]
    assert "<li>Leads: 2</li>" in counts and "<li>Accounts: 0</li>" in counts
    with database.unit_of_work(read_only=True) as uow:
        owners = dict(uow.session.execute(select(Lead.topic, Lead.owner_user_id)).all())
    assert owners["Chairs"] == owners["Desks"] == heir_id and owners["Lamps"] == actor.user_id


def test_records_go_to_active_users_only(web_client: TestClient, database: Database) -> None:
    leaver_id = make_user(database, "leaver@example.com", name="Lee Leaver")
    gone_id = make_user(database, "gone@example.com", name="Gus Gone")
    post_form(web_client, f"/admin/users/{gone_id}", f"/admin/users/{gone_id}/deactivate")
    page = web_client.get(f"/admin/users/{leaver_id}").text
    assert f'value="{gone_id}"' not in page[page.index('id="reassign-to"') :].split("</select>")[0]
    refused = post_form(
        web_client, f"/admin/users/{leaver_id}", f"/admin/users/{leaver_id}/reassign", {"to_user_id": str(gone_id)}
    )
    assert refused.status_code == 409 and 'id="user-error"' in refused.text


def test_an_administrator_turns_off_a_users_two_factor_sign_in(
    web_client: TestClient, seller: TestClient, database: Database
) -> None:
    set_up_two_factor(seller)
    seller_id = user_id_of(database, SELLER_EMAIL)
    users = web_client.get("/admin/users").text
    assert 'class="badge ok">On<' in users[users.index("Sam Seller") :].split("</tr>")[0]
    page = web_client.get(f"/admin/users/{seller_id}").text
    assert 'id="user-two-factor">On<' in page and 'id="two-factor-off-button"' in page
    done = post_form(web_client, f"/admin/users/{seller_id}", f"/admin/users/{seller_id}/two-factor/off")
    assert done.status_code == 303
    assert 'id="user-two-factor">Off<' in web_client.get(done.headers["location"]).text
    seller.cookies.clear()
    assert password_step(seller, SELLER_EMAIL, SELLER_PASSWORD).status_code == 303  # no code asked


def test_a_salesperson_sees_no_access_buttons_and_cannot_post_them(seller: TestClient, database: Database) -> None:
    admin_id = user_id_of(database, ADMIN_EMAIL)
    page = seller.get(f"/admin/users/{admin_id}")
    assert page.status_code == 200
    for button in ("deactivate-button", "reset-link-button", "reassign-button", "two-factor-off-button"):
        assert f'id="{button}"' not in page.text
    token = page_csrf(page.text)
    for action in ("deactivate", "reset-link", "two-factor/off"):
        refused = seller.post(f"/admin/users/{admin_id}/{action}", data={"csrf_token": token}, follow_redirects=False)
        assert refused.status_code == 403, action
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalars(select(User.is_active).where(User.id == admin_id)).one() is True
        assert (
            uow.session.scalar(
                select(func.count()).select_from(AccessToken).where(AccessToken.kind == "password_reset")
            )
            == 0
        )
