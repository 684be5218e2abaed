"""What operators watch: /healthz, /readyz (database, migrations, queue), /metrics, JSON log lines;
and what a broker that does not answer does to new jobs (they wait in the database, nothing is lost)."""

from __future__ import annotations

import json
import logging
import uuid

from fastapi.testclient import TestClient

from leadflow.asgi import create_app
from leadflow.core.config import Settings
from leadflow.core.uow import Database
from leadflow.http.observability import JsonLines
from leadflow.jobs.models import JobState
from leadflow.jobs.queue import JobQueue
from leadflow.jobs.runner import recover_jobs
from leadflow.tasks import HANDLERS
from tests.conftest import ADMIN_EMAIL, app_for, bearer_headers
from tests.factories import make_lead

# A Redis that does not answer: nothing listens on port 1.
DEAD_BROKER = "redis://127.0.0.1:1/0"


def test_healthz_and_readyz_answer_while_all_is_well(client: TestClient):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "migrations": "ok", "queue": "ok"}}


def test_readyz_fails_naming_the_queue_when_the_broker_does_not_answer(database: Database, settings: Settings):
    queue = JobQueue(DEAD_BROKER, database, HANDLERS)
    with TestClient(create_app(database, settings, queue=queue)) as client:
        ready = client.get("/readyz")
        assert client.get("/healthz").status_code == 200  # alive all the same
    assert ready.status_code == 503
    assert ready.json()["status"] == "not ready"
    assert ready.json()["checks"]["queue"].startswith("does not answer")
    assert ready.json()["checks"]["database"] == "ok"


def test_a_job_started_while_the_broker_is_away_waits_in_the_database_and_runs_once_it_is_back(
    database: Database, settings: Settings, actor
):
    lead = make_lead(database, actor)
    away = JobQueue(DEAD_BROKER, database, HANDLERS)
    app = create_app(database, settings, queue=away)
    with TestClient(app, headers=bearer_headers(database, ADMIN_EMAIL)) as client:
        started = client.post(
            "/api/v1/leads/qualify", json={"lead_ids": [str(lead.id)]}, headers={"Prefer": "respond-async"}
        )
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["state"] == "queued"
    assert client.get(f"/api/v1/leads/{lead.id}").json()["state"] == "open"  # nothing done, nothing lost

    # The broker is back (here: a queue that answers); the worker's recovery hands the job over.
    back = JobQueue("immediate", database, HANDLERS)
    handed = recover_jobs(database, stale_after=0)
    assert handed == [uuid.UUID(job["id"])]
    for job_id in handed:
        back.enqueue(job_id)
    with TestClient(app_for(database, settings), headers=bearer_headers(database, ADMIN_EMAIL)) as client:
        assert client.get(f"/api/v1/jobs/{job['id']}").json()["state"] == JobState.SUCCEEDED.value
        assert client.get(f"/api/v1/leads/{lead.id}").json()["state"] == "qualified"


def test_metrics_count_requests_by_route_template_and_jobs_by_state(client: TestClient):
    client.get(f"/api/v1/leads/{uuid.uuid4()}")
    client.post("/api/v1/currencies/recalculate")
    text = client.get("/metrics").text
    assert 'route="/api/v1/leads/{lead_id}",status="404"' in text
    assert 'leadflow_jobs{state="succeeded"}' in text
    succeeded = next(line for line in text.splitlines() if line.startswith('leadflow_jobs{state="succeeded"}'))
    assert float(succeeded.split()[-1]) >= 1
    assert "leadflow_queue_depth" in text


def test_metrics_can_be_turned_off(database: Database, settings: Settings):
    quiet = settings.model_copy(update={"metrics": False})
    with TestClient(app_for(database, quiet)) as client:
        assert client.get("/metrics").status_code == 404


def test_json_log_lines_carry_the_request_id(client: TestClient):
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.name == "leadflow.test":
                records.append(record)
                lines.append(JsonLines().format(record))

    lines: list[str] = []
    handler = Keep()
    logging.getLogger().addHandler(handler)
    try:
        from leadflow.http.failures import CURRENT_REQUEST_ID

        token = CURRENT_REQUEST_ID.set("req-123")
        logging.getLogger("leadflow.test").warning("something %s", "happened")
        CURRENT_REQUEST_ID.reset(token)
    finally:
        logging.getLogger().removeHandler(handler)
    entry = json.loads(lines[0])
    assert entry["message"] == "something happened"
    assert entry["request_id"] == "req-123"
    assert entry["level"] == "warning" and entry["logger"] == "leadflow.test"
