"""Writers arriving together queue and all succeed: nobody waits out the busy timeout.

A real server (uvicorn, its event loop and thread pool) on a real database file, and four clients
writing at once through it: notes with attachments, roles, users and assignments, the writes that
once waited 30 s for SQLite's lock and failed with "database is locked". (An endpoint that did its
database work on the event loop blocked every other request of the process while it waited.)
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from leadflow.asgi import create_app
from leadflow.core.config import Settings
from leadflow.core.uow import Database
from tests.conftest import ADMIN_EMAIL, bearer_headers
from tests.factories import lead_data
from tests.live import serving

CLIENTS = 4
ROUNDS = 6


@pytest.fixture
def base_url(database: Database, settings: Settings) -> Iterator[str]:
    with serving(create_app(database, settings), lifespan="off") as port:
        yield f"http://127.0.0.1:{port}/api/v1"


def _writes(client: httpx.Client, me: str, lead_id: str, user_id: str) -> list[Callable[[], httpx.Response]]:
    mark = uuid.uuid4().hex[:8]
    return [
        lambda: client.post(
            f"/leads/{lead_id}/notes",
            data={"title": f"Nota {mark}"},
            files={"file": ("acta.txt", b"x" * 20_000, "text/plain")},
        ),
        lambda: client.post("/roles", json={"name": f"Rol {me} {mark}", "privileges": {"leads": {"read": 1}}}),
        lambda: client.post(
            "/users", json={"email": f"{mark}@example.com", "full_name": "Nueva", "roles": ["Salesperson"]}
        ),
        lambda: client.post(f"/leads/{lead_id}/assign", json={"owner_user_id": user_id}),
    ]


def test_four_clients_writing_at_once_all_succeed_without_waiting_out_the_lock(
    base_url: str, database: Database
) -> None:
    headers = bearer_headers(database, ADMIN_EMAIL)
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as setup:
        lead_id = setup.post("/leads", json=lead_data()).json()["id"]
        user_id = setup.get("/me").json()["user_id"]
    barrier = threading.Barrier(CLIENTS)
    answers: list[tuple[int, float, str]] = []
    lock = threading.Lock()

    def client(number: int) -> None:
        with httpx.Client(base_url=base_url, headers=headers, timeout=60) as http:
            barrier.wait()
            for _ in range(ROUNDS):
                for write in _writes(http, str(number), lead_id, user_id):
                    started = time.monotonic()
                    response: Any = write()
                    with lock:
                        answers.append((response.status_code, time.monotonic() - started, response.text[:200]))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(answers) == CLIENTS * ROUNDS * 4
    failed = [(status, text) for status, _, text in answers if status >= 300]
    assert failed == []
    # The busy timeout is 30 s: a request that waited anywhere near it was stuck behind a lock holder.
    assert max(seconds for _, seconds, _ in answers) < 10
