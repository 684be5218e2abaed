"""leadflow as several processes, started the documented way: two web processes
(``uvicorn --factory leadflow.asgi:create_app``) and one ``leadflow worker`` on one database and
one queue (Redis when it answers, else the queue beside the database); and ``leadflow serve --workers 2``
with its embedded workers. A bulk job started through one process is followed through the other
and run by the worker; a rule changed through one process applies at once in the other."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from leadflow.core.uow import Database
from leadflow.demo import DEMO_USERS
from leadflow.security.actor import Actor
from tests.conftest import ADMIN_EMAIL, REDIS_URL, bearer_headers, redis_available
from tests.integration.test_job_queue import insert_leads, wait_for
from tests.live import free_port


@contextmanager
def process(arguments: list[str], environment: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A child process for the block, stopped (SIGTERM, then SIGKILL) after it."""
    with log.open("ab") as output:
        child = subprocess.Popen(arguments, env=environment, stdout=output, stderr=subprocess.STDOUT)
    try:
        yield child
    finally:
        child.terminate()
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def ready(port: int, log: Path) -> None:
    def answers() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(answers, seconds=60, what=f"the server on port {port}")
    except AssertionError:
        raise AssertionError(log.read_text()[-3000:]) from None


def environment_for(database: Database, queue_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "LEADFLOW_DATABASE_URL": database.url,
        "LEADFLOW_QUEUE_URL": queue_url,
        "LEADFLOW_QUEUE_NAME": f"deploy-{uuid.uuid4().hex[:12]}",
        "LEADFLOW_DEMO_ON_FIRST_START": "false",
    }


def test_two_web_processes_and_a_worker_share_jobs_and_rules(database: Database, actor: Actor, tmp_path: Path):
    if redis_available():
        queue_url = REDIS_URL
    else:  # said loudly at the end of the run; the queue beside the database still shows the shape
        queue_url = database.url if database.dialect == "postgresql" else f"sqlite:///{tmp_path / 'queue.db'}"
    environment = environment_for(database, queue_url)
    log = tmp_path / "processes.log"
    ports = [free_port(), free_port()]
    web = [sys.executable, "-m", "uvicorn", "--factory", "leadflow.asgi:create_app", "--host", "127.0.0.1"]
    headers = bearer_headers(database, ADMIN_EMAIL)
    lead_ids = insert_leads(database, actor, 200)
    with ExitStack() as stack:
        for port in ports:
            stack.enter_context(process([*web, "--port", str(port)], environment, log))
        stack.enter_context(process([sys.executable, "-m", "leadflow.cli", "worker"], environment, log))
        for port in ports:
            ready(port, log)
        first, second = (
            stack.enter_context(httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", headers=headers, timeout=30))
            for port in ports
        )

        started = first.post(
            "/leads/qualify",
            json={"lead_ids": [str(lead_id) for lead_id in lead_ids]},
            headers={"Prefer": "respond-async"},
        )
        assert started.status_code == 202, started.text
        job_id = started.json()["id"]
        wait_for(lambda: second.get(f"/jobs/{job_id}").json()["state"] == "succeeded", seconds=120, what="the job")
        assert second.get(f"/jobs/{job_id}").json()["progress"] == {"done": 200, "total": 200}
        assert second.get(f"/leads/{lead_ids[-1]}").json()["state"] == "qualified"

        # A rule changed through the first process applies in the second at once.
        lead = {"last_name": "Okafor", "company_name": "Okafor Trading", "email": "ada@okafor.example"}
        assert second.post("/leads", json={**lead, "topic": "First"}).status_code == 201
        assert second.post("/leads", json={**lead, "topic": "Second"}).status_code == 409
        rules = first.get("/duplicate-rules").json()
        same_email = next(rule for rule in rules if rule["base_table"] == "leads" and "email" in rule["name"].lower())
        assert first.post(f"/duplicate-rules/{same_email['id']}/unpublish").status_code == 200
        assert second.post("/leads", json={**lead, "topic": "Second"}).status_code == 201


def test_serve_with_two_processes_runs_jobs_in_its_embedded_workers(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'leadflow.db'}"
    port = free_port()
    environment = {**os.environ, "LEADFLOW_DATABASE_URL": url, "HOME": str(tmp_path)}
    environment.pop("LEADFLOW_QUEUE_URL", None)  # the queue beside the database, as installed
    log = tmp_path / "serve.log"
    serve = [sys.executable, "-m", "leadflow.cli", "serve", "--workers", "2", "--port", str(port), "--demo"]
    with process(serve, environment, log) as server:
        ready(port, log)
        assert (tmp_path / "leadflow.queue.db").exists()
        database = Database(url)
        token = bearer_headers(
            database, next(user["email"] for user in DEMO_USERS if user["role"] == "System Administrator")
        )
        with httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", headers=token, timeout=30) as client:
            started = client.post("/currencies/recalculate")
            assert started.status_code == 202, started.text
            job_id = started.json()["id"]
            wait_for(lambda: client.get(f"/jobs/{job_id}").json()["state"] == "succeeded", seconds=60, what="the job")
        database.dispose()
        assert server.poll() is None
