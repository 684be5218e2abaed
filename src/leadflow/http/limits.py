"""The request body limit, checked before a byte of the body is read."""

from __future__ import annotations

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from leadflow.activities.service import attachment_too_large
from leadflow.core.errors import TooLarge
from leadflow.http.errors import error_body

# Largest JSON body: a bulk request naming 5,000 lead ids is about 200 KB.
MAX_JSON_BYTES = 2 * 1024 * 1024
# Room for the multipart envelope and the form fields around an attachment.
_ENVELOPE_BYTES = 64 * 1024


class BodySizeLimit:
    """Refuse a request whose declared body is too large, before reading it.

    Uploads (multipart forms) may carry an attachment up to the configured limit; any other body
    (JSON) is capped at ``max_json_bytes``.
    """

    def __init__(self, app: ASGIApp, *, max_attachment_bytes: int, max_json_bytes: int) -> None:
        self.app = app
        self.max_attachment_bytes = max_attachment_bytes
        self.max_json_bytes = max_json_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            declared = headers.get(b"content-length", b"")
            if declared.isdigit():
                is_upload = headers.get(b"content-type", b"").startswith(b"multipart/form-data")
                limit = self.max_attachment_bytes + _ENVELOPE_BYTES if is_upload else self.max_json_bytes
                if int(declared) > limit:
                    error = (
                        attachment_too_large(self.max_attachment_bytes)
                        if is_upload
                        else TooLarge(
                            f"The request body is larger than {self.max_json_bytes} bytes; send less at once.",
                            code="request_too_large",
                        )
                    )
                    await JSONResponse(error_body(error), status_code=413)(scope, receive, send)
                    return
        await self.app(scope, receive, send)
