"""The HTTP status of each domain error and the one JSON shape of an error, for every HTTP entry point."""

from __future__ import annotations

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
from leadflow.http.language import DEFAULT_LANGUAGE
from leadflow.http.refusals import answer_details, answer_text
from leadflow.security.authentication import TooManyAttempts
from leadflow.security.credentials import AuthenticationFailed

# Most specific first: the first matching class decides the status.
STATUS_BY_ERROR: tuple[tuple[type[LeadflowError], int], ...] = (
    (AuthenticationFailed, 401),
    (TooManyAttempts, 429),
    (NotFound, 404),
    (StaleVersion, 412),
    (DuplicateDetected, 409),
    (Conflict, 409),
    (Forbidden, 403),
    (InvalidState, 409),
    (TooLarge, 413),
    (ValidationFailed, 422),
    (Unavailable, 503),
)


def status_for(error: LeadflowError) -> int:
    """The HTTP status of a domain error."""
    for error_class, status in STATUS_BY_ERROR:
        if isinstance(error, error_class):
            return status
    return 400


def error_body(error: LeadflowError, language: str = DEFAULT_LANGUAGE) -> dict[str, object]:
    """The JSON shape of every error: ``{"error": {"code", "message"[, "details"]}}``.

    The message (and each field's, in the details) is in ``language``; the codes are the same in every one.
    """
    body: dict[str, object] = {"code": error.code, "message": answer_text(language, error)}
    details = answer_details(language, error)
    if details is not None:
        body["details"] = details
    return {"error": body}
