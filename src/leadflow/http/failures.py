"""Every request gets an id; an unexpected error answers a clean 500 naming it and keeps the
connection usable.

Starlette's own last-resort handler answers 500 and then raises again, which makes the server drop
the client's keep-alive connection, so that the client's next, unrelated request fails too. This
middleware sits inside it and answers without raising; the traceback goes to the log, under the
request id the client is shown.

The answer is the API's JSON error, its sentence in the language the request's ``Accept-Language``
prefers; the application may pass ``page_for_failure``, which gives another answer for a request (a
web page naming the id) or None to keep the JSON. Should it fail, the JSON is answered all the same.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from fastapi.responses import JSONResponse
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadflow.core.errors import LeadflowError
from leadflow.http.language import language_from_header
from leadflow.http.refusals import refusal_text

log = logging.getLogger("leadflow.http")

REQUEST_ID_HEADER = "X-Request-ID"
# The id of the request being served, for the log lines written while serving it.
CURRENT_REQUEST_ID: ContextVar[str | None] = ContextVar("leadflow_request_id", default=None)
# A caller's own id is kept when it is short and plain; anything else is replaced.
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

# Another answer than the JSON for an unexpected error of a request (its scope and id), or None.
FailurePage = Callable[[Scope, str], Response | None]


class RequestIds:
    """Give each HTTP request an id (the caller's ``X-Request-ID`` if sane), echo it, and turn an
    unexpected error into a 500 that names it."""

    def __init__(self, app: ASGIApp, *, page_for_failure: FailurePage | None = None) -> None:
        self.app = app
        self.page_for_failure = page_for_failure

    def _page(self, scope: Scope, request_id: str) -> Response | None:
        if self.page_for_failure is None:
            return None
        try:
            return self.page_for_failure(scope, request_id)
        except Exception:  # the error page itself failed: the JSON answer is still clean
            log.exception("the page of the failure of request %s failed too; answering JSON", request_id)
            return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = dict(scope["headers"]).get(REQUEST_ID_HEADER.lower().encode(), b"").decode("latin-1")
        request_id = offered if _ACCEPTABLE_ID.match(offered) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        CURRENT_REQUEST_ID.set(request_id)
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [
                    *message.get("headers", []),
                    (REQUEST_ID_HEADER.lower().encode(), request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unexpected error in %s %s (request %s)", scope.get("method"), scope.get("path"), request_id)
            if started:  # part of the answer is out: nothing clean can follow
                raise
            page = self._page(scope, request_id)
            if page is not None:
                await page(scope, receive, send_with_id)
                return
            failure = LeadflowError(
                "Something went wrong on the server; nothing was changed. "
                f"If it happens again, give this id to your administrator: {request_id}.",
                code="internal_error",
                details={"request_id": request_id},
            )
            language = language_from_header(dict(scope["headers"]).get(b"accept-language", b"").decode("latin-1"))
            body = {
                "error": {"code": failure.code, "message": refusal_text(language, failure), "request_id": request_id}
            }
            await JSONResponse(body, status_code=500)(scope, receive, send_with_id)
