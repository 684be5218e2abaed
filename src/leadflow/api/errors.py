"""The one place where domain errors become HTTP responses."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from leadflow.core.errors import LeadflowError, ValidationFailed
from leadflow.core.schemas import validation_failed_from
from leadflow.http.errors import error_body, status_for
from leadflow.http.language import language_from_header


class ErrorBody(BaseModel):
    """What went wrong: a stable code to switch on, a sentence a person can act on (in the language the
    request's Accept-Language prefers, English or Spanish; English by default), and details."""

    code: str
    message: str
    details: Any = None
    request_id: str | None = None


class ErrorOut(BaseModel):
    """Every refusal and error of the API has this shape."""

    error: ErrorBody


def _answer(description: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description}


# The refusals any operation may answer, declared on every one of them in the OpenAPI document.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _answer("No valid token: sign in, or send a token that is not expired or revoked."),
    403: _answer("A privilege is missing; the message names it."),
    404: _answer("No such record, or one you may not read."),
    409: _answer("The record's state, a duplicate or a concurrent change forbids it."),
    412: _answer("The If-Match header names an older version of the record."),
    413: _answer("The body or the attachment is over its size limit."),
    422: _answer("The input is malformed; details.fields names each field."),
    429: _answer("Too many wrong sign-ins lately; wait details.retry_after seconds."),
}


def answer_language(request: Request) -> str:
    """The language of an error's sentences: the one the request's ``Accept-Language`` prefers (English by default)."""
    return language_from_header(request.headers.get("accept-language"))


def install_error_handlers(app: FastAPI) -> None:
    """Map domain, validation and routing errors to the one error shape, its sentences in the request's language."""

    @app.exception_handler(LeadflowError)
    async def on_domain_error(request: Request, error: LeadflowError) -> JSONResponse:
        status = status_for(error)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if status == 429 and isinstance(error.details, dict) and "retry_after" in error.details:
            headers = {"Retry-After": str(error.details["retry_after"])}
        return JSONResponse(error_body(error, answer_language(request)), status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = list(error.errors())
        broken = next((item for item in errors if item.get("type") == "json_invalid"), None)
        if broken is not None:
            # Not a field problem: the body could not be parsed at all (pydantic names a byte offset).
            reason = (broken.get("ctx") or {}).get("error")
            failure = ValidationFailed(
                "The request body is not valid JSON" + (f" ({reason})" if reason else "") + "; send a JSON object.",
                code="invalid_json",
            )
        else:
            failure = validation_failed_from(errors, located=True)
        return JSONResponse(error_body(failure, answer_language(request)), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 400:
            # FastAPI's own refusal of a body it cannot even decode (bytes that are not UTF-8):
            # the same answer as any other unparseable body.
            failure = ValidationFailed(
                "The request body is not valid JSON; send a JSON object in UTF-8.", code="invalid_json"
            )
            return JSONResponse(error_body(failure, answer_language(request)), status_code=422)
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        message = {
            404: "There is nothing at this address; check the URL against /api/v1/docs.",
            405: "This address does not accept that method; see /api/v1/docs.",
        }.get(error.status_code, str(error.detail))
        return JSONResponse(
            error_body(LeadflowError(message, code=code), answer_language(request)),
            status_code=error.status_code,
            headers=getattr(error, "headers", None),
        )
