"""The request body limit, checked before a byte of the body is read."""

from __future__ import annotations

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadflow.activities.service import attachment_too_large
from leadflow.core.errors import TooLarge
from leadflow.http.errors import error_body

# Largest JSON body: a bulk request naming 5,000 lead ids is about 200 KB.
MAX_JSON_BYTES = 2 * 1024 * 1024
# Room for the multipart envelope and the form fields around an attachment.
_ENVELOPE_BYTES = 64 * 1024


class _BodyTooLarge(Exception):
    """Raised from ``receive`` once a body passes its limit, to stop the app reading it."""


class BodySizeLimit:
    """Refuse a request whose body is too large: at once when it declares its length, and as soon
    as the bytes that arrive pass the limit when it does not (a chunked body).

    Uploads (multipart forms) may carry an attachment up to the configured limit; any other body
    (JSON) is capped at ``max_json_bytes``.
    """

    def __init__(self, app: ASGIApp, *, max_attachment_bytes: int, max_json_bytes: int) -> None:
        self.app = app
        self.max_attachment_bytes = max_attachment_bytes
        self.max_json_bytes = max_json_bytes

    def _refusal(self, is_upload: bool) -> TooLarge:
        if is_upload:
            return attachment_too_large(self.max_attachment_bytes)
        return TooLarge(
            f"The request body is larger than {self.max_json_bytes} bytes; send less at once.",
            code="request_too_large",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        is_upload = headers.get(b"content-type", b"").startswith(b"multipart/form-data")
        limit = self.max_attachment_bytes + _ENVELOPE_BYTES if is_upload else self.max_json_bytes
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await JSONResponse(error_body(self._refusal(is_upload)), status_code=413)(scope, receive, send)
            return
        received = 0
        passed_limit = False

        async def counted() -> Message:
            nonlocal received, passed_limit
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    passed_limit = True
                    raise _BodyTooLarge
            return message

        async def unless_refused(message: Message) -> None:
            # Whatever the app answers to a body cut short (FastAPI makes it a 400) is replaced below.
            if not passed_limit:
                await send(message)

        try:
            await self.app(scope, counted, unless_refused)
        except _BodyTooLarge:
            pass
        if passed_limit:
            await JSONResponse(error_body(self._refusal(is_upload)), status_code=413)(scope, receive, send)
