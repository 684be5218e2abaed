"""The one place where domain errors become HTTP responses."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from leadflow.core.errors import LeadflowError, ValidationFailed
from leadflow.core.schemas import validation_failed_from
from leadflow.http.errors import error_body, status_for

def install_error_handlers(app: FastAPI) -> None:
    """Map domain, validation and routing errors to the one error shape."""

    @app.exception_handler(LeadflowError)
    async def on_domain_error(_request: Request, error: LeadflowError) -> JSONResponse:
        status = status_for(error)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse(error_body(error), status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
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
            failure = validation_failed_from(errors)
        return JSONResponse(error_body(failure), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        message = {
            404: "There is nothing at this address; check the URL against /api/v1/docs.",
            405: "This address does not accept that method; see /api/v1/docs.",
        }.get(error.status_code, str(error.detail))
        return JSONResponse(
            {"error": {"code": code, "message": message}},
            status_code=error.status_code,
            headers=getattr(error, "headers", None),
        )
