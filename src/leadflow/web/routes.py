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

from leadflow.security.audit import record_action
from leadflow.core.db import utcnow
from leadflow.core.errors import LeadflowError
from leadflow.security.models import TokenKind, User
from leadflow.security.service import (
    AccountLocked,
    Authenticated,
    AuthenticationFailed,
    actor_for_secret,
    revoke_secret,
    sign_in,
)
from leadflow.core.uow import Database
from leadflow.web import i18n
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
    "Content-Security-Policy": (
        "default-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
    ),
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
    response = templates.TemplateResponse(
        request, template, {"lang": language, **context}, status_code=status_code
    )
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
    if 32 <= len(current) <= _MAX_TOKEN_LENGTH and current.isascii() and current.replace("-", "").replace("_", "").isalnum():
        return current
    return secrets.token_urlsafe(32)


def safe_next(path: str | None) -> str:
    """Where to go after signing in: a path of this site only (never another host)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path or len(path) > 500:
        return "/"
    return path


def _sign_in_form(
    request: Request, *, status_code: int = 200, email: str = "", error: str | None = None, next_path: str = "/"
) -> Response:
    csrf = _pre_session_csrf(request)
    response = _page(
        request, "sign_in.html", status_code, csrf_token=csrf, email=email, error=error, next_path=safe_next(next_path)
    )
    _set_cookie(request, response, CSRF_COOKIE, csrf, CSRF_COOKIE_MAX_AGE)
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


# ---------------------------------------------------------------------------------------------- pages


@router.get("/sign-in")
def sign_in_page(request: Request, next: str = "/") -> Response:
    """The sign-in form."""
    return _sign_in_form(request, next_path=next)


@router.post("/sign-in")
def sign_in_submit(
    request: Request,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next_path: Annotated[str, Form(alias="next")] = "/",
) -> Response:
    """Check the password and start a web session; the form again with a message when refused."""
    if not _same(request.cookies.get(CSRF_COOKIE), csrf_token):
        return _forbidden(request)
    language = _language(request)
    email = email.strip()[:320]
    try:
        issued = sign_in(email, password, kind=TokenKind.WEB_SESSION, database=_database(request))
    except AuthenticationFailed:
        return _sign_in_form(request, status_code=401, email=email, next_path=next_path, error=gettext(language, "The email or password is wrong."))
    except AccountLocked:
        return _sign_in_form(request, status_code=423, email=email, next_path=next_path, error=gettext(
            language,
            "Too many wrong passwords: this account is locked for a while. "
            "Try again later or ask an administrator to reset the password.",
        ))
    except LeadflowError:  # for example a concurrent sign-in attempt on the same account (409)
        return _sign_in_form(request, status_code=409, email=email, next_path=next_path, error=gettext(language, "The sign-in could not be completed just now; try again in a moment."))
    response = _redirect(safe_next(next_path))
    lifetime = max(1, int((issued.token.expires_at - utcnow()).total_seconds()))
    _set_cookie(request, response, SESSION_COOKIE, issued.secret, lifetime)
    _delete_cookie(request, response, CSRF_COOKIE)  # the session's own CSRF token takes over
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
        record_action(uow.session, authenticated.actor, "sign_out", table="users",
                      record_id=authenticated.actor.user_id)
        uow.commit()
    response = _redirect("/sign-in")
    _delete_cookie(request, response, SESSION_COOKIE)
    return response
