"""Parallel Dynamics clients through a real server: one ETag wins, one qualification happens.

A real server (uvicorn, its thread pool) on each database, and clients sending at the same moment
through the Web API what two integrations would: the same stale-or-not PATCH, the same QualifyLead.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest

from leadflow.asgi import create_app
from leadflow.core.config import Settings
from leadflow.core.uow import Database
from tests.conftest import ADMIN_EMAIL, bearer_headers
from tests.live import serving

CLIENTS = 4


@pytest.fixture
def base_url(database: Database, settings: Settings) -> Iterator[str]:
    with serving(create_app(database, settings), lifespan="off") as port:
        yield f"http://127.0.0.1:{port}/api/data/v9.2"


def _at_once(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Run the calls from as many threads, released together."""
    barrier = threading.Barrier(len(calls))
    answers: list[httpx.Response | None] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        answers[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(answer is not None for answer in answers)
    return [answer for answer in answers if answer is not None]


def _new_lead(client: httpx.Client, **fields: object) -> str:
    created = client.post("/leads", json={"subject": "Concurrencia", "lastname": "Paralelo", **fields})
    assert created.status_code == 204, created.text
    return re.search(r"\(([0-9a-f-]{36})\)$", created.headers["OData-EntityId"]).group(1)


def test_clients_patching_with_the_same_etag_at_once_let_exactly_one_win(base_url: str, database: Database) -> None:
    headers = bearer_headers(database, ADMIN_EMAIL)
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as setup:
        lead_id = _new_lead(setup)
        etag = setup.get(f"/leads({lead_id})?$select=subject").json()["@odata.etag"]
    clients = [httpx.Client(base_url=base_url, headers=headers, timeout=60) for _ in range(CLIENTS)]
    try:
        answers = _at_once(
            [
                (
                    lambda client=client, n=n: client.patch(
                        f"/leads({lead_id})", json={"jobtitle": f"Puesto {n}"}, headers={"If-Match": etag}
                    )
                )
                for n, client in enumerate(clients)
            ]
        )
    finally:
        for client in clients:
            client.close()
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [204] + [412] * (CLIENTS - 1)
    assert all(answer.json()["error"]["code"] == "0x80060882" for answer in answers if answer.status_code == 412)
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as check:
        final = check.get(f"/leads({lead_id})?$select=jobtitle").json()
    winner = next(n for n, answer in enumerate(answers) if answer.status_code == 204)
    assert final["jobtitle"] == f"Puesto {winner}"
    assert final["@odata.etag"] != etag


def test_clients_qualifying_the_same_lead_at_once_create_one_account(base_url: str, database: Database) -> None:
    headers = bearer_headers(database, ADMIN_EMAIL)
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as setup:
        lead_id = _new_lead(setup, companyname="Carreras Simultáneas SL")
    body = {"CreateAccount": True, "CreateContact": True, "CreateOpportunity": True, "Status": 3}
    clients = [httpx.Client(base_url=base_url, headers=headers, timeout=60) for _ in range(CLIENTS)]
    try:
        answers = _at_once(
            [
                (lambda client=client: client.post(f"/leads({lead_id})/Microsoft.Dynamics.CRM.QualifyLead", json=body))
                for client in clients
            ]
        )
    finally:
        for client in clients:
            client.close()
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses[0] == 200 and statuses.count(200) == 1, [answer.text for answer in answers]
    assert all(400 <= status < 500 for status in statuses[1:])
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as check:
        accounts = check.get(
            "/accounts", params={"$filter": "name eq 'Carreras Simultáneas SL'", "$count": "true", "$select": "name"}
        ).json()
    assert accounts["@odata.count"] == 1
