"""The request body limit, driven directly as the ASGI middleware it is: a body that declares a length
over the limit is refused before the application sees a byte of it; one that does not declare it is
refused as soon as what arrives passes the limit."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from leadflow.http.limits import BodySizeLimit

ATTACHMENT_LIMIT, JSON_LIMIT, ENVELOPE = 1000, 500, 64 * 1024


class App:
    """An application that reads the whole body and answers 201, remembering whether it was reached."""

    def __init__(self) -> None:
        self.called = False
        self.received = b""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.called = True
        while True:
            message = await receive()
            self.received += message.get("body", b"")
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"created"})


def call(
    body_parts: list[bytes], *, content_type: str, declared: int | None, language: str | None = None
) -> tuple[App, int, bytes, int]:
    """Send a request through the limit: the app, the status and body answered, and the parts read."""
    app = App()
    limit = BodySizeLimit(app, max_attachment_bytes=ATTACHMENT_LIMIT, max_json_bytes=JSON_LIMIT)
    headers = [(b"content-type", content_type.encode())]
    if declared is not None:
        headers.append((b"content-length", str(declared).encode()))
    if language is not None:
        headers.append((b"accept-language", language.encode()))
    scope = {"type": "http", "method": "POST", "path": "/api/v1/leads", "headers": headers}
    pending = list(body_parts)
    read = 0
    answered: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal read
        read += 1
        part = pending.pop(0) if pending else b""
        return {"type": "http.request", "body": part, "more_body": bool(pending)}

    async def send(message: dict[str, Any]) -> None:
        answered.append(message)

    # In a thread of its own: a test before this one in the same process (Playwright's synchronous API)
    # may have left an event loop running in this thread, where asyncio.run refuses to start another.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, limit(scope, receive, send)).result()
    status = next(m["status"] for m in answered if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in answered if m["type"] == "http.response.body")
    return app, status, body, read


def test_a_declared_length_over_the_limit_is_refused_before_the_app_reads_anything() -> None:
    app, status, body, read = call([b"{}"], content_type="application/json", declared=JSON_LIMIT + 1)
    assert status == 413 and json.loads(body)["error"]["code"] == "request_too_large"
    assert not app.called and read == 0


def test_a_declared_upload_over_the_attachment_limit_and_its_envelope_is_refused_at_once() -> None:
    declared = ATTACHMENT_LIMIT + ENVELOPE + 1
    app, status, body, read = call([b"--x"], content_type="multipart/form-data; boundary=x", declared=declared)
    assert status == 413 and json.loads(body)["error"]["code"] == "attachment_too_large"
    assert not app.called and read == 0


@pytest.mark.parametrize(
    ("content_type", "size"),
    [
        ("application/json", JSON_LIMIT),
        ("multipart/form-data; boundary=x", ATTACHMENT_LIMIT + ENVELOPE),  # an upload has room for its envelope
    ],
)
def test_a_body_at_the_limit_reaches_the_app(content_type: str, size: int) -> None:
    app, status, _body, _read = call([b"x" * size], content_type=content_type, declared=size)
    assert status == 201 and app.received == b"x" * size


def test_a_body_without_a_declared_length_is_refused_once_it_passes_the_limit() -> None:
    parts = [b"x" * 300, b"x" * 300, b"x" * 300]  # passes the JSON limit with the second part
    app, status, body, read = call(parts, content_type="application/json", declared=None)
    assert status == 413 and json.loads(body)["error"]["code"] == "request_too_large"
    assert app.called and read == 2  # the third part is never asked for


def test_the_refusal_speaks_the_language_the_request_asks_for() -> None:
    _, status, body, _ = call([b"{}"], content_type="application/json", declared=JSON_LIMIT + 1, language="es-ES,es")
    error = json.loads(body)["error"]
    assert status == 413 and error["code"] == "request_too_large"
    assert error["message"] != "The request body is larger than 500 bytes; send less at once."
    assert "límite" in error["message"]
