"""Errors in Dataverse's shape: ``{"error": {"code": "0x8004...", "message": "..."}}``.

Dynamics clients switch on the hexadecimal code (the SDK keeps it as ``service_error_code``) and
read the message's first line; they crash on any other body. Every refusal of the Web API is
answered here, in the request's language, with the code a Dynamics client knows.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from leadflow.core.errors import (
    Conflict,
    DuplicateDetected,
    Forbidden,
    InvalidState,
    LeadflowError,
    NotFound,
    StaleVersion,
    TooLarge,
    Unavailable,
    ValidationFailed,
)
from leadflow.http.language import gettext
from leadflow.http.refusals import answer_text
from leadflow.security.authentication import TooManyAttempts
from leadflow.security.credentials import AuthenticationFailed

# The codes Dataverse answers, as its clients know them.
RECORD_NOT_FOUND = "0x80040217"  # ObjectDoesNotExist
BAD_SEGMENT = "0x80060888"  # an unknown segment, set, property, or a query that does not parse
STALE_VERSION = "0x80060882"  # the If-Match row version is not the record's
ALREADY_EXISTS = "0x80040237"  # If-None-Match: * and the record exists
DUPLICATE = "0x80040333"  # DuplicateRecord
PICKLIST_OUT_OF_RANGE = "0x80044331"
INVALID_ARGUMENT = "0x80040203"  # InvalidArgument: a value, a state or an action parameter refused
PRIVILEGE_DENIED = "0x80040220"
NOT_AUTHENTICATED = "0x80040220"
THROTTLED = "0x80072322"
UNAVAILABLE = "0x80040216"
UNEXPECTED = "0x80040216"  # UnExpected

# Most specific first: the first matching class decides the status and code.
_ANSWERS: tuple[tuple[type[LeadflowError], int, str], ...] = (
    (AuthenticationFailed, 401, NOT_AUTHENTICATED),
    (TooManyAttempts, 429, THROTTLED),
    (NotFound, 404, RECORD_NOT_FOUND),
    (StaleVersion, 412, STALE_VERSION),
    # Dynamics answers a duplicate with 500; a refusal of the request's data is not a server error here.
    (DuplicateDetected, 409, DUPLICATE),
    (Forbidden, 403, PRIVILEGE_DENIED),
    (InvalidState, 400, INVALID_ARGUMENT),
    (Conflict, 409, INVALID_ARGUMENT),
    (TooLarge, 413, INVALID_ARGUMENT),
    (ValidationFailed, 400, INVALID_ARGUMENT),
    (Unavailable, 503, UNAVAILABLE),
)


class DataverseError(Exception):
    """A refusal of the Web API itself (a query that does not parse, an unknown property).

    ``message`` is an English message id with ``%(name)s`` placeholders, translated when answered."""

    def __init__(self, status: int, code: str, message: str, **values: Any) -> None:
        super().__init__(message % values if values else message)
        self.status = status
        self.code = code
        self.message = message
        self.values = values

    def text(self, language: str) -> str:
        return gettext(language, self.message, **self.values)


def unexpected_failure() -> DataverseError:
    """500 for a failure no refusal foresaw (logged where it happened)."""
    return DataverseError(500, UNEXPECTED, "An unexpected error occurred. The server logged it; try again later.")


def bad_request(message: str, **values: Any) -> DataverseError:
    """400 with the code of a request Dataverse cannot read (syntax, unknown names)."""
    return DataverseError(400, BAD_SEGMENT, message, **values)


def invalid(message: str, **values: Any) -> DataverseError:
    """400 with the code of a value or parameter refused."""
    return DataverseError(400, INVALID_ARGUMENT, message, **values)


def body(code: str, message: str, **more: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **more}}


def respond(error: Exception, language: str, *, headers: dict[str, str] | None = None) -> JSONResponse:
    """The response of a refusal, domain or Web API, in ``language``."""
    if isinstance(error, DataverseError):
        return JSONResponse(body(error.code, error.text(language)), status_code=error.status, headers=headers)
    assert isinstance(error, LeadflowError)
    status, code = next(
        ((status, code) for kind, status, code in _ANSWERS if isinstance(error, kind)), (400, INVALID_ARGUMENT)
    )
    extra: dict[str, Any] = {}
    if isinstance(error, DuplicateDetected) and error.details:
        # The matches, as leadflow's API lists them, for a client that wants to show them.
        extra["innererror"] = {"message": error.message, "type": error.code, "matches": error.details}
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": 'Bearer realm="leadflow"'}
    return JSONResponse(body(code, answer_text(language, error), **extra), status_code=status, headers=headers)
