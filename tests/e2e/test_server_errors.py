"""An unexpected error answers a clean 500 with a request id, and the connection stays usable.

A real server (uvicorn on a free port) and a real keep-alive connection: after the 500 the same
connection carries the client's next request.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator

import pytest

from leadflow.asgi import create_app
from leadflow.core.config import Settings
from leadflow.core.uow import Database
from tests.live import serving


@pytest.fixture
def server(database: Database, settings: Settings) -> Iterator[int]:
    app = create_app(database, settings)

    @app.get("/api/v1/test-only/boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("a bug no test should ever see in production")

    with serving(app, lifespan="off") as port:
        yield port


def test_a_500_names_its_request_and_keeps_the_connection_open(server: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    connection.request("GET", "/api/v1/test-only/boom")
    failed = connection.getresponse()
    body = json.loads(failed.read())
    assert failed.status == 500
    assert body["error"]["code"] == "internal_error"
    assert body["error"]["request_id"] == failed.getheader("X-Request-ID")
    assert "RuntimeError" not in json.dumps(body) and "production" not in json.dumps(body)
    assert failed.getheader("Connection", "").lower() != "close"

    connection.request("GET", "/api/v1/health")  # the same connection, the next request
    healthy = connection.getresponse()
    assert healthy.status == 200 and json.loads(healthy.read())["status"] == "ok"
    connection.close()


def test_a_caller_request_id_is_echoed_and_a_strange_one_replaced(server: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    connection.request("GET", "/api/v1/health", headers={"X-Request-ID": "trace-42.a_b"})
    response = connection.getresponse()
    response.read()
    assert response.getheader("X-Request-ID") == "trace-42.a_b"
    connection.request("GET", "/api/v1/health", headers={"X-Request-ID": "<script>" * 20})
    replaced = connection.getresponse()
    replaced.read()
    assert replaced.getheader("X-Request-ID") not in (None, "<script>" * 20)
    connection.close()
