"""The page of an error no page shows itself: an unknown address, a refusal or a failure a page left
unhandled, a body over the size limit.

Pages that can explain a refusal in context (a form with its messages next to the fields, a record's
own 404 page) keep doing so; what falls through them ends here instead of in the API's JSON.
``leadflow.asgi`` decides which answer a request gets: a path under /api/ keeps its JSON, any other
one gets this page, in the user's language, with the status of the error and a way back (the
previous page of this site when the browser names it, and the home page).

The 404 page says the same for an address that names nothing and for a record the user may not read,
so that it does not tell which records exist. The 500 page shows the request id and no internals.
Every function here may raise; the caller then answers the plain JSON instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from babel.units import format_unit
from fastapi import Request
from fastapi.responses import Response

from leadflow.core.errors import LeadflowError
from leadflow.core.formatting import locale_of
from leadflow.web.forms import REFUSALS, refusal_text
from leadflow.web.i18n import N_, choose_language, gettext, language_from_header
from leadflow.web.routes import SESSION_COOKIE, _current_session, _secure, safe_next, templates

_MEGABYTE = 1024 * 1024

# The heading of each status's page (any other status: the last one).
TITLES = {
    403: N_("You can't open this page"),
    404: N_("Page not found"),
    405: N_("This page cannot be shown"),
    409: N_("This can't be done"),
    412: N_("This record was changed by someone else"),
    413: N_("The file is too large"),
    429: N_("Too many attempts"),
    500: N_("Something went wrong"),
}
_OTHER_TITLE = N_("This can't be done")

# What the page says when the error carries no sentence of its own (any other status: the last one).
MESSAGES = {
    403: N_("You lack a privilege this page needs; ask an administrator for a role that grants it."),
    404: N_("There is nothing at this address, or you may not open it. Check the address, or go back."),
    405: N_("This address cannot be used that way; go back and use the links and buttons of the page."),
    409: N_(
        "The record is in a state that does not allow this, or it changed meanwhile; reload the page and try again."
    ),
    412: REFUSALS["stale_etag"],
    422: N_("What was sent could not be read; go back, reload the page and try again."),
    500: N_("Something went wrong on the server. If it happens again, give this id to your administrator:"),
}
_OTHER_MESSAGE = N_("The request could not be handled; go back and try again.")


def error_page(
    request: Request,
    status_code: int,
    *,
    error: LeadflowError | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The page of an error a page left unhandled: ``error`` says what happened (a 404 never does:
    an unknown address and an unreadable record look the same)."""
    language = _language(request, ask_the_database=True)
    if error is not None and status_code != 404:
        message = refusal_text(language, error)
    else:
        message = gettext(language, MESSAGES.get(status_code, _OTHER_MESSAGE))
    return _render(request, language, status_code, TITLES.get(status_code, _OTHER_TITLE), message, headers=headers)


def failure_page(request: Request, request_id: str) -> Response:
    """The 500 page of an unexpected error: the request id to give the administrator, nothing else.

    The language comes from the browser alone: after an unexpected error the database is not asked."""
    language = _language(request, ask_the_database=False)
    return _render(request, language, 500, TITLES[500], gettext(language, MESSAGES[500]), request_id=request_id)


def too_large_page(request: Request, refusal: LeadflowError, limit_bytes: int) -> Response:
    """The 413 page of a body over its size limit (refused before it was read): the limit in MB."""
    language = _language(request, ask_the_database=True)
    size = megabytes(language, limit_bytes)
    if refusal.code == "attachment_too_large":
        title = TITLES[413]
        message = gettext(
            language, "The file is larger than the limit of %(size)s; go back and attach a smaller file.", size=size
        )
    else:
        title = N_("What was sent is too large")
        message = gettext(
            language, "What was sent is larger than the limit of %(size)s; go back and send less at once.", size=size
        )
    return _render(request, language, 413, title, message)


def megabytes(language: str, size: int) -> str:
    """A size limit in megabytes, in the user's locale ("32 MB", "0,06 MB")."""
    return format_unit(
        round(size / _MEGABYTE, 2), "digital-megabyte", length="short", format="0.##", locale=locale_of(language)
    )


# ---------------------------------------------------------------------------------------------- helpers


def _render(
    request: Request,
    language: str,
    status_code: int,
    title: str,
    message: str,
    *,
    request_id: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    response = templates.TemplateResponse(
        request,
        "error.html",
        {
            "lang": language,
            "status_code": status_code,
            "title": title,
            "message": message,
            "request_id": request_id,
            "previous_page": _previous_page(request),
        },
        status_code=status_code,
    )
    for name, value in (headers or {}).items():
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value
    return _secure(response)


def _language(request: Request, *, ask_the_database: bool) -> str:
    """The signed-in user's language (as on every other page), else the browser's."""
    header = request.headers.get("accept-language")
    if ask_the_database and request.cookies.get(SESSION_COOKIE):
        try:
            found = _current_session(request)
        except Exception:  # noqa: BLE001 - the page is still shown, in the browser's language
            found = None
        if found is not None:
            return choose_language(found[1].language, header)
    return language_from_header(header)


def _previous_page(request: Request) -> str | None:
    """The page of this site the browser came from (its ``Referer``), unless it is this very address."""
    referer = request.headers.get("referer", "")
    if not referer or len(referer) > 2000:
        return None
    try:
        parts = urlsplit(referer)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or parts.netloc != request.url.netloc:
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if path in (here, "/") or safe_next(path) != path:  # the home page has its own link
        return None
    return path
