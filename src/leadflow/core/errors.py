"""One error tree for the whole domain; each entry point maps it to its medium once."""

from __future__ import annotations

from typing import Any


class LeadflowError(Exception):
    """A refusal with a stable machine code and a sentence a person can act on."""

    code: str = "error"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details


class NotFound(LeadflowError):
    """The record named in the request does not exist."""

    code = "not_found"


class Conflict(LeadflowError):
    """The request clashes with the current state of the data (for example a concurrent change)."""

    code = "conflict"


class StaleVersion(Conflict):
    """The caller's copy of the record (its ETag) is out of date."""

    code = "stale_version"


class Forbidden(LeadflowError):
    """The actor lacks a privilege for the operation."""

    code = "forbidden"


class InvalidState(LeadflowError):
    """The record's state does not allow the operation."""

    code = "invalid_state"


class DuplicateDetected(LeadflowError):
    """A duplicate detection rule matched; details list the matching records."""

    code = "duplicate_detected"


class ValidationFailed(LeadflowError):
    """The input is malformed; details list the offending fields."""

    code = "validation_failed"


class TooLarge(ValidationFailed):
    """An upload exceeds the configured size limit."""

    code = "too_large"


class Unavailable(LeadflowError):
    """A service leadflow needs (the job queue's broker) does not answer; trying again later may work."""

    code = "unavailable"


def field_refusal(
    field: str, code: str, message: str, *, error: type[LeadflowError] = ValidationFailed
) -> LeadflowError:
    """A refusal of one field of the input (422 unless another error is named), with the field in its details."""
    return error(message, code=code, details={"fields": [{"field": field, "code": code, "message": message}]})
