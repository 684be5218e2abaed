"""The request body limit, checked before a byte of the body is read."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadflow.activities.service import attachment_too_large
from leadflow.core.errors import TooLarge
from leadflow.http.errors import error_body
from leadflow.http.language import language_from_header

# Largest JSON body: a bulk request naming 5,000 lead ids is about 200 KB.
MAX_JSON_BYTES = 2 * 1024 * 1024
# Room for the multipart envelope and the form fields around an attachment.
_ENVELOPE_BYTES = 64 * 1024

log = logging.getLogger("leadflow.http")

# Another answer than the JSON for a refused body (the request's scope, the refusal and the limit it
# passed, in bytes: the attachment's for an upload), or None to keep the JSON.
RefusalPage = Callable[[Scope, TooLarge, int], Awaitable[Response | None]]


def size_text(size: int) -> str:
    """A size as people read it, in units every language writes the same: 100 MB, 10 kB, 500 bytes."""
    for unit, name in ((1024 * 1024, "MB"), (1024, "kB")):
        if size >= unit:
            return f"{size // unit} {name}"
    return f"{size} bytes"


def file_too_large(limit: int) -> TooLarge:
    """The refusal of a spreadsheet over the import limit."""
    size = size_text(limit)
    return TooLarge(
        f"The file is larger than the limit of {size}; split it into smaller files and import each one.",
        code="file_too_large",
        details={"limit": limit, "size": size},
    )


class _BodyTooLarge(Exception):
    """Raised from ``receive`` once a body passes its limit, to stop the app reading it."""


class BodySizeLimit:
    """Refuse a request whose body is too large: at once when it declares its length, and as soon
    as the bytes that arrive pass the limit when it does not (a chunked body).

    Uploads (multipart forms) may carry an attachment up to the configured limit; any other body
    (JSON) is capped at ``max_json_bytes``.

    The refusal is the API's JSON error (413); ``page_for_refusal`` may give another answer for a
    request (a web page) or None to keep the JSON. Should it fail, the JSON is answered all the same.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_attachment_bytes: int,
        max_json_bytes: int,
        page_for_refusal: RefusalPage | None = None,
        import_paths: tuple[str, ...] = (),
        max_import_bytes: int = 0,
    ) -> None:
        self.app = app
        # Uploads to these paths are spreadsheets to import, with a limit of their own.
        self.import_paths = import_paths
        self.max_import_bytes = max_import_bytes
        self.max_attachment_bytes = max_attachment_bytes
        self.max_json_bytes = max_json_bytes
        self.page_for_refusal = page_for_refusal

    def _is_import(self, scope: Scope) -> bool:
        return bool(self.import_paths) and str(scope.get("path", "")).startswith(self.import_paths)

    def _refusal(self, is_upload: bool, is_import: bool = False) -> TooLarge:
        if is_upload and is_import:
            return file_too_large(self.max_import_bytes)
        if is_upload:
            return attachment_too_large(self.max_attachment_bytes)
        return TooLarge(
            f"The request body is larger than {self.max_json_bytes} bytes; send less at once.",
            code="request_too_large",
        )

    async def _answer(self, scope: Scope, is_upload: bool) -> Response:
        is_import = is_upload and self._is_import(scope)
        refusal = self._refusal(is_upload, is_import)
        if self.page_for_refusal is not None:
            try:
                limit = self.max_import_bytes if is_import else self.max_attachment_bytes
                page = await self.page_for_refusal(scope, refusal, limit if is_upload else self.max_json_bytes)
            except Exception:  # the page itself failed: the JSON answer is still clean
                log.exception("the page refusing a body over its limit failed; answering JSON")
                page = None
            if page is not None:
                return page
        # In the language the request asks for, as every API answer (the code is the same in each).
        accept = Headers(scope=scope).get("accept-language")
        return JSONResponse(error_body(refusal, language_from_header(accept)), status_code=413)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        is_upload = headers.get(b"content-type", b"").startswith(b"multipart/form-data")
        upload_limit = self.max_import_bytes if is_upload and self._is_import(scope) else self.max_attachment_bytes
        limit = upload_limit + _ENVELOPE_BYTES if is_upload else self.max_json_bytes
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await (await self._answer(scope, is_upload))(scope, receive, send)
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
            await (await self._answer(scope, is_upload))(scope, receive, send)
