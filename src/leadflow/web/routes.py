"""Web sign-in, home and sign-out: server-rendered pages with cookie sessions.

Sessions are ``web_session`` access tokens kept in the ``leadflow_session`` cookie (HttpOnly,
SameSite=Lax, Secure over https). Every form carries a CSRF token:

* before sign-in, a double-submit cookie: a random value in the ``leadflow_csrf`` cookie and the
  same value in the form's hidden field;
* after sign-in, an HMAC of the session's ``csrf_secret`` (stored with the token in the database).

Tokens are compared with ``hmac.compare_digest``. No JavaScript is served; the Content-Security-Policy
allows only this origin.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import APIRouter, Form, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadflow.core.db import utcnow
from leadflow.core.errors import LeadflowError
from leadflow.core.uow import Database
from leadflow.http.clients import client_address
from leadflow.http.errors import status_for
from leadflow.security.audit import record_action
from leadflow.security.authentication import (
    Authenticated,
    IssuedToken,
    TooManyAttempts,
    actor_for_secret,
    complete_second_step,
    reset_password,
    revoke_secret,
    sign_in,
)
from leadflow.security.credentials import MIN_PASSWORD_LENGTH, AuthenticationFailed
from leadflow.security.models import TokenKind, User
from leadflow.web import i18n
from leadflow.web.forms import PASSWORD_FIELDS, refusal, repeated_password
from leadflow.web.i18n import gettext, language_from_header

HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"

SESSION_COOKIE = "leadflow_session"
CSRF_COOKIE = "leadflow_csrf"
CSRF_FIELD = "csrf_token"
CSRF_COOKIE_MAX_AGE = 2 * 60 * 60  # a sign-in form stays usable two hours
_CSRF_PURPOSE = b"leadflow web form v1"
_MAX_TOKEN_LENGTH = 200  # cookies and form tokens longer than any we issue are refused unread

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": ("default-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'"),
    "X-Frame-Options": "SAMEORIGIN",
}

_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,  # every template, whatever its extension
    undefined=jinja2.StrictUndefined,
)
i18n.install(_environment)
templates = Jinja2Templates(env=_environment)

router = APIRouter(include_in_schema=False)


class SecurityHeaders:
    """Add the security headers to every response of a wrapped ASGI app (the static files)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(
                    (name.lower().encode(), value.encode())
                    for name, value in SECURITY_HEADERS.items()
                    if name.lower().encode() not in present
                )
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except StarletteHTTPException as error:  # StaticFiles raises 404/405 before it sends anything
            response = PlainTextResponse(str(error.detail), status_code=error.status_code, headers=error.headers)
            await response(scope, receive, send_with_headers)


router.mount("/static", SecurityHeaders(StaticFiles(directory=STATIC_DIR)), name="static")


# ---------------------------------------------------------------------------------------------- helpers


def _database(request: Request) -> Database:
    return request.app.state.database


def _language(request: Request) -> str:
    return language_from_header(request.headers.get("accept-language"))


def _is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def _secure(response: Response) -> Response:
    """Every web response: security headers, no caching (pages hold CSRF tokens), varies by language."""
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response


def _page(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    language = _language(request)
    response = templates.TemplateResponse(request, template, {"lang": language, **context}, status_code=status_code)
    return _secure(response)


def _redirect(location: str) -> Response:
    return _secure(RedirectResponse(location, status_code=303))


def _same(expected: str | None, given: str | None) -> bool:
    """Constant-time equality of two non-empty tokens."""
    if not expected or not given or len(given) > _MAX_TOKEN_LENGTH:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def _session_form_token(csrf_secret: str | None) -> str | None:
    """The CSRF token of a session's forms: an HMAC of its secret (the secret itself never leaves the server)."""
    if not csrf_secret:
        return None
    return hmac.new(csrf_secret.encode(), _CSRF_PURPOSE, hashlib.sha256).hexdigest()


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", httponly=True, samesite="lax", secure=_is_https(request)
    )


def _delete_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=_is_https(request))


def _pre_session_csrf(request: Request) -> str:
    """The double-submit token already in the browser's cookie, or a fresh one."""
    current = request.cookies.get(CSRF_COOKIE, "")
    if (
        32 <= len(current) <= _MAX_TOKEN_LENGTH
        and current.isascii()
        and current.replace("-", "").replace("_", "").isalnum()
    ):
        return current
    return secrets.token_urlsafe(32)


def safe_next(path: str | None) -> str:
    """Where to go after signing in: a path of this site only (never another host)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path or len(path) > 500:
        return "/"
    return path


def _pre_session_page(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    """A form shown before sign-in, protected by the double-submit cookie: the same random value in the
    ``leadflow_csrf`` cookie and in the form's hidden field."""
    csrf = _pre_session_csrf(request)
    response = _page(request, template, status_code, csrf_token=csrf, **context)
    _set_cookie(request, response, CSRF_COOKIE, csrf, CSRF_COOKIE_MAX_AGE)
    return response


def _sign_in_form(
    request: Request,
    *,
    status_code: int = 200,
    email: str = "",
    error: str | None = None,
    next_path: str = "/",
    notice: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    response = _pre_session_page(
        request, "sign_in.html", status_code, email=email, error=error, notice=notice, next_path=safe_next(next_path)
    )
    response.headers.update(headers or {})
    return response


def _code_form(
    request: Request,
    *,
    step: str,
    next_path: str,
    status_code: int = 200,
    error: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The second step of a two-factor sign-in: the code, with the step's secret in a hidden field."""
    response = _pre_session_page(
        request, "sign_in_code.html", status_code, step=step, error=error, next_path=safe_next(next_path)
    )
    response.headers.update(headers or {})
    return response


def _forbidden(request: Request) -> Response:
    return _page(request, "forbidden.html", 403)


def _current_session(request: Request) -> tuple[Authenticated, User] | None:
    """The signed-in session and its user, or None when the cookie is missing or no longer valid."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret or len(secret) > _MAX_TOKEN_LENGTH:
        return None
    with _database(request).unit_of_work(read_only=True) as uow:
        try:
            authenticated = actor_for_secret(secret, session=uow.session, kinds=(TokenKind.WEB_SESSION,))
        except AuthenticationFailed:
            return None
        user = uow.session.get(User, authenticated.actor.user_id)
        if user is None:
            return None
        return authenticated, user


def _refused_sign_in(request: Request, error: LeadflowError) -> tuple[int, str, dict[str, str]]:
    """The status, the sentence and the headers of a refused sign-in (a wrong password, a wrong code,
    too many attempts: then the wait, also in a Retry-After header)."""
    if isinstance(error, TooManyAttempts):
        wait = error.details.get("retry_after", 1) if isinstance(error.details, dict) else 1
        return 429, refusal(_language(request), error).message, {"Retry-After": str(wait)}
    if isinstance(error, AuthenticationFailed):
        return 401, refusal(_language(request), error).message, {}
    # For example a concurrent sign-in attempt on the same account (409).
    return 409, gettext(_language(request), "The sign-in could not be completed just now; try again in a moment."), {}


def _start_session(request: Request, issued: IssuedToken, next_path: str) -> Response:
    """Signed in: the session cookie, and on to the page asked for."""
    response = _redirect(safe_next(next_path))
    lifetime = max(1, int((issued.token.expires_at - utcnow()).total_seconds()))
    _set_cookie(request, response, SESSION_COOKIE, issued.secret, lifetime)
    _delete_cookie(request, response, CSRF_COOKIE)  # the session's own CSRF token takes over
    return response


# ---------------------------------------------------------------------------------------------- pages


@router.get("/sign-in")
def sign_in_page(request: Request, next: str = "/", reset: str = "") -> Response:
    """The sign-in form (after a password reset, with a word saying so)."""
    notice = gettext(_language(request), "Your password was changed. Sign in with the new one.") if reset else None
    return _sign_in_form(request, next_path=next, notice=notice)


@router.post("/sign-in")
def sign_in_submit(
    request: Request,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next_path: Annotated[str, Form(alias="next")] = "/",
) -> Response:
    """Check the password and start a web session, or ask for the second factor's code; the form
    again with a message when refused."""
    if not _same(request.cookies.get(CSRF_COOKIE), csrf_token):
        return _forbidden(request)
    email = email.strip()[:320]
    try:
        outcome = sign_in(
            email,
            password[:1024],
            kind=TokenKind.WEB_SESSION,
            address=client_address(request),
            database=_database(request),
        )
    except LeadflowError as error:
        status, message, headers = _refused_sign_in(request, error)
        return _sign_in_form(
            request, status_code=status, email=email, next_path=next_path, error=message, headers=headers
        )
    if outcome.second_step is not None:
        return _code_form(request, step=outcome.second_step.secret, next_path=next_path)
    assert outcome.issued is not None
    return _start_session(request, outcome.issued, next_path)


@router.post("/sign-in/code")
def sign_in_code_submit(
    request: Request,
    step: Annotated[str, Form()] = "",
    code: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next_path: Annotated[str, Form(alias="next")] = "/",
) -> Response:
    """The second step of a two-factor sign-in: the authenticator app's code (or a recovery code)."""
    if not _same(request.cookies.get(CSRF_COOKIE), csrf_token) or len(step) > _MAX_TOKEN_LENGTH:
        return _forbidden(request)
    try:
        issued = complete_second_step(
            step, code.strip()[:64], address=client_address(request), database=_database(request)
        )
    except LeadflowError as error:
        status, message, headers = _refused_sign_in(request, error)
        if error.code in ("wrong_code", "too_many_attempts"):  # the same step may take another code
            return _code_form(
                request, step=step, next_path=next_path, status_code=status, error=message, headers=headers
            )
        return _sign_in_form(request, status_code=status, next_path=next_path, error=message, headers=headers)
    return _start_session(request, issued, next_path)


def _looks_like_a_link_secret(token: str) -> bool:
    return (
        10 <= len(token) <= _MAX_TOKEN_LENGTH and token.isascii() and token.replace("-", "").replace("_", "").isalnum()
    )


def _reset_form(
    request: Request,
    token: str,
    *,
    status_code: int | None = None,
    error: str | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    """The new password's form, or (for a link that cannot be one) why not and what to do."""
    valid = _looks_like_a_link_secret(token)
    if not valid:
        error = error or gettext(
            _language(request),
            "This password link is not valid any more (used, expired or replaced); ask an administrator for a new one.",
        )
    return _pre_session_page(
        request,
        "reset_password.html",
        status_code or (200 if valid else 404),
        token=token if valid else "",
        error=error,
        errors=errors or {},
        min_password_length=MIN_PASSWORD_LENGTH,
    )


@router.get("/reset-password")
def reset_password_page(request: Request, token: str = "") -> Response:
    """The form of a password reset link: the new password, twice. No sign-in needed: the link is the key."""
    return _reset_form(request, token)


@router.post("/reset-password")
def reset_password_submit(
    request: Request,
    token: Annotated[str, Form()] = "",
    new_password: Annotated[str, Form()] = "",
    repeat_password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Set the new password; the link then stops working, and every session of the user ends."""
    if not _same(request.cookies.get(CSRF_COOKIE), csrf_token):
        return _forbidden(request)
    if not _looks_like_a_link_secret(token):
        return _reset_form(request, token)
    try:
        repeated_password(new_password, repeat_password)
        with _database(request).unit_of_work() as uow:
            reset_password(token, new_password[:1024], uow=uow)
            uow.commit()
    except LeadflowError as error:
        refused = refusal(_language(request), error, PASSWORD_FIELDS)
        still_valid = error.code not in ("reset_link_invalid", "user_inactive")
        return _reset_form(
            request,
            token if still_valid else "",
            status_code=status_for(error),
            error=refused.message,
            errors=refused.fields,
        )
    response = _redirect("/sign-in?reset=true")
    _delete_cookie(request, response, CSRF_COOKIE)
    return response


@router.post("/sign-out")
def sign_out(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    """End the session: the token is revoked at once and the cookie removed."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not csrf_token:
        return _forbidden(request)
    if not secret or len(secret) > _MAX_TOKEN_LENGTH:
        return _redirect("/sign-in")
    with _database(request).unit_of_work() as uow:
        try:
            authenticated = actor_for_secret(secret, session=uow.session, kinds=(TokenKind.WEB_SESSION,))
        except AuthenticationFailed:
            response = _redirect("/sign-in")
            _delete_cookie(request, response, SESSION_COOKIE)
            return response
        if not _same(_session_form_token(authenticated.token.csrf_secret), csrf_token):
            return _forbidden(request)
        revoke_secret(secret, uow=uow)
        record_action(
            uow.session, authenticated.actor, "sign_out", table="users", record_id=authenticated.actor.user_id
        )
        uow.commit()
    response = _redirect("/sign-in")
    _delete_cookie(request, response, SESSION_COOKIE)
    return response
