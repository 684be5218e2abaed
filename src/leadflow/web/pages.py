"""What every signed-in page shares: the session dependency, CSRF checks, a change committed in a unit
of work of its own, refusals shown as pages, rendering and the site map.

Page routes translate form fields into the same service calls the API makes and render the result;
no business rule lives here. A domain refusal is shown on the page in the user's language
(``leadflow.web.forms`` puts it into words).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response

from leadflow.core.errors import LeadflowError
from leadflow.core.uow import Database, UnitOfWork
from leadflow.organisation.service import time_zone_of
from leadflow.security.access import has_admin
from leadflow.security.actor import Actor
from leadflow.security.authentication import actor_for_secret, note_token_use
from leadflow.security.credentials import AuthenticationFailed
from leadflow.security.models import TokenKind, User
from leadflow.security.privileges import Depth, Privilege
from leadflow.web.i18n import N_, choose_language
from leadflow.web.routes import (
    _MAX_TOKEN_LENGTH,
    CSRF_FIELD,
    SESSION_COOKIE,
    _delete_cookie,
    _forbidden,
    _redirect,
    _same,
    _secure,
    _session_form_token,
    templates,
)


@dataclass(frozen=True)
class NavItem:
    path: str
    label: str  # an English message id, translated when rendered


# The site map (issue: Leads, Accounts, Contacts, Opportunities, Dashboard; administration apart),
# importing spreadsheets, and the jobs the user started, which every signed-in user follows.
SALES_NAV = (
    NavItem("/leads", N_("Leads")),
    NavItem("/accounts", N_("Accounts")),
    NavItem("/contacts", N_("Contacts")),
    NavItem("/opportunities", N_("Opportunities")),
    NavItem("/activities", N_("Activities")),
    NavItem("/board", N_("Pipeline board")),
    NavItem("/forecast", N_("Forecast")),
    NavItem("/competitors", N_("Competitors")),
    NavItem("/dashboard", N_("Dashboard")),
    NavItem("/imports", N_("Import")),
    NavItem("/jobs", N_("Jobs")),
)
# Quotes, orders and invoices follow the opportunities, for those who may read them.
DOCUMENT_NAV = (
    (NavItem("/quotes", N_("Quotes")), "quotes"),
    (NavItem("/orders", N_("Orders")), "orders"),
    (NavItem("/invoices", N_("Invoices")), "invoices"),
)
ADMIN_NAV = (
    (NavItem("/admin/settings", N_("Settings")), "settings", Privilege.WRITE),
    (NavItem("/admin/currencies", N_("Currencies")), "currencies", Privilege.WRITE),
    # Every role reads the product catalogue; the pages offer their forms to those who may change it.
    (NavItem("/admin/products", N_("Product catalogue")), "products", Privilege.READ),
    (NavItem("/admin/duplicate-rules", N_("Duplicate detection rules")), "settings", Privilege.WRITE),
    (NavItem("/admin/duplicates", N_("Duplicate records")), "settings", Privilege.WRITE),
    (NavItem("/admin/scoring", N_("Lead scoring")), "settings", Privilege.WRITE),
    (NavItem("/admin/custom-fields", N_("Custom fields")), "settings", Privilege.WRITE),
    (NavItem("/admin/webhooks", N_("Webhooks")), "webhooks", Privilege.WRITE),
    (NavItem("/admin/users", N_("Users and roles")), "users", Privilege.READ),
    (NavItem("/admin/audit", N_("Audit log")), "audit", Privilege.READ),
)


@dataclass
class WebSession:
    """The signed-in user of a page request."""

    actor: Actor
    full_name: str
    email: str
    language: str
    csrf_token: str
    # The zone the pages show moments in (``leadflow.organisation.service.time_zone_of``).
    time_zone: tzinfo = UTC
    # The access token of this session: the user's own page ends every other one.
    token_id: uuid.UUID | None = None
    two_factor_on: bool = False
    admin_nav: list[NavItem] = field(default_factory=list)
    sales_nav: list[NavItem] = field(default_factory=lambda: list(SALES_NAV))

    def can_admin(self, area: str, privilege: Privilege = Privilege.WRITE) -> bool:
        return has_admin(self.actor, area, privilege)


# The page where a user sets up two-factor sign-in; a user whose role requires it and who has none yet
# is sent there from every other page.
TWO_FACTOR_SETUP = "/me/two-factor"


class TwoFactorSetupRequired(Exception):
    """The user's role requires two-factor sign-in and the account has none yet."""


class SignInRequired(Exception):
    """The page needs a signed-in user; the browser is sent to the sign-in form."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


T = TypeVar("T")


def database_of(request: Request) -> Database:
    return request.app.state.database


def committed(request: Request, change: Callable[[UnitOfWork], T]) -> T:
    """Run a change in a unit of work of its own and commit it; a refusal it raises leaves nothing changed."""
    with database_of(request).unit_of_work() as uow:
        done = change(uow)
        uow.commit()
    return done


def web_session(request: Request) -> WebSession:
    """The page's signed-in user, or a redirect to the sign-in form."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret or len(secret) > _MAX_TOKEN_LENGTH:
        raise SignInRequired(request.url.path)
    with database_of(request).unit_of_work(read_only=True) as uow:
        try:
            authenticated = actor_for_secret(secret, session=uow.session, kinds=(TokenKind.WEB_SESSION,))
        except AuthenticationFailed:
            raise SignInRequired(request.url.path) from None
        user = uow.session.get(User, authenticated.actor.user_id)
        if user is None:
            raise SignInRequired(request.url.path)
        session = WebSession(
            actor=authenticated.actor,
            full_name=user.full_name,
            email=user.email,
            language=choose_language(user.language, request.headers.get("accept-language")),
            csrf_token=_session_form_token(authenticated.token.csrf_secret) or "",
            time_zone=time_zone_of(authenticated.actor, session=uow.session),
            token_id=authenticated.token.id,
            two_factor_on=user.totp_enabled_at is not None,
        )
        if (
            not session.two_factor_on
            and not request.url.path.startswith(TWO_FACTOR_SETUP)
            and authenticated.actor.two_factor_required
        ):
            raise TwoFactorSetupRequired
    note_token_use(authenticated, database=database_of(request))
    session.admin_nav = [item for item, area, privilege in ADMIN_NAV if session.can_admin(area, privilege)]
    session.sales_nav = sales_nav_of(authenticated.actor)
    return session


def sales_nav_of(actor: Actor) -> list[NavItem]:
    """The site map a user is shown: the sales pages, with the documents they may read after the opportunities."""
    documents = [item for item, table in DOCUMENT_NAV if actor.depth(table, Privilege.READ) is not Depth.NONE]
    after = next(index for index, item in enumerate(SALES_NAV) if item.path == "/opportunities") + 1
    return [*SALES_NAV[:after], *documents, *SALES_NAV[after:]]


WebSessionDep = Annotated[WebSession, Depends(web_session)]


class CsrfRefused(Exception):
    """A form arrived without this session's CSRF token."""


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def require_form_token(request: Request, session: WebSessionDep) -> None:
    """Every change a signed-in page posts carries the session's CSRF token (a 403 page otherwise,
    nothing changed). Installed on the routers of every area, so that a new form cannot forget it."""
    if request.method in _SAFE_METHODS:
        return
    try:
        token = (await request.form()).get(CSRF_FIELD)
    except Exception:  # noqa: BLE001 - a body that is no form (or a broken one) carries no token
        raise CsrfRefused from None
    # A file sent in the token's field is no token either.
    if not isinstance(token, str) or not _same(session.csrf_token, token):
        raise CsrfRefused


def render(request: Request, session: WebSession, template: str, *, status_code: int = 200, **context: Any) -> Response:
    """A signed-in page in the user's language, with the site map and the CSRF token for its forms."""
    response = templates.TemplateResponse(
        request,
        template,
        {
            "lang": session.language,
            "time_zone": session.time_zone,
            "session": session,
            "csrf_token": session.csrf_token,
            "sales_nav": session.sales_nav,
            "admin_nav": session.admin_nav,
            "current_path": request.url.path,
            **context,
        },
        status_code=status_code,
    )
    return _secure(response)


Endpoint = Callable[..., Response]


def refusals_shown_by(page: Callable[[Request, WebSession, LeadflowError], Response]) -> Callable[[Endpoint], Endpoint]:
    """Decorate a page endpoint so that a domain refusal it leaves unhandled is shown by ``page``.

    The endpoint must take ``request`` and ``session`` parameters: a record that does not exist or
    may not be read, say, becomes a page with the refusal's status instead of the API's JSON.
    """

    def decorate(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        def guarded(*args: Any, **kwargs: Any) -> Response:
            try:
                return endpoint(*args, **kwargs)
            except LeadflowError as error:
                return page(kwargs["request"], kwargs["session"], error)

        return guarded

    return decorate


def redirect(location: str) -> Response:
    """303 See Other: after a form post the browser loads the result with GET."""
    return _redirect(location)


def install_web_handlers(app: FastAPI) -> None:
    """Map the page-level exceptions to browser answers (sign-in redirect, 403 page)."""

    @app.exception_handler(SignInRequired)
    async def _to_sign_in(request: Request, error: SignInRequired) -> Response:
        target = "/sign-in" if error.next_path == "/" else f"/sign-in?next={quote(error.next_path, safe='/')}"
        response = _redirect(target)
        if SESSION_COOKIE in request.cookies:  # expired or revoked: stop sending it
            _delete_cookie(request, response, SESSION_COOKIE)
        return response

    @app.exception_handler(TwoFactorSetupRequired)
    async def _to_two_factor_setup(request: Request, _error: TwoFactorSetupRequired) -> Response:
        return _redirect(TWO_FACTOR_SETUP)

    @app.exception_handler(CsrfRefused)
    async def _csrf_refused(request: Request, _error: CsrfRefused) -> Response:
        return _forbidden(request)
