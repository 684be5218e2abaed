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
    ValidationFailed,
)
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
)


def status_for(error: LeadflowError) -> int:
    """The HTTP status of a domain error."""
    for error_class, status in STATUS_BY_ERROR:
        if isinstance(error, error_class):
            return status
    return 400


def error_body(error: LeadflowError) -> dict[str, object]:
    """The JSON shape of every error: ``{"error": {"code", "message"[, "details"]}}``."""
    body: dict[str, object] = {"code": error.code, "message": error.message}
    if error.details is not None:
        body["details"] = error.details
    return {"error": body}
