"""The jobs API refuses what it should, each refusal clear and the database untouched: a wrong value,
a missing record, a closed lead, a duplicate, a job that already ended, another user's job, a user
without the privilege. Jobs run at once here (LEADFLOW_QUEUE_URL=immediate)."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadflow.core.uow import Database
from leadflow.customers.models import Account
from leadflow.jobs.models import Job
from leadflow.jobs.service import create_job
from leadflow.security.actor import Actor
from leadflow.security.service import create_user
from tests.conftest import app_for, bearer_headers
from tests.factories import make_lead

API = "/api/v1"
ASYNC = {"Prefer": "respond-async"}


def job_count(database: Database) -> int:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(Job)) or 0


def seller_client(database: Database, settings) -> TestClient:
    with database.unit_of_work() as uow:
        create_user(
            email="sam@example.com",
            full_name="Sam Seller",
            role_names=["Salesperson"],
            business_unit_name=None,
            password="a long enough password 2026",
            uow=uow,
            actor=None,
        )
        uow.commit()
    return TestClient(app_for(database, settings), headers=bearer_headers(database, "sam@example.com"))


def queued(database: Database, actor: Actor) -> uuid.UUID:
    with database.unit_of_work() as uow:
        job = create_job(uow.session, actor, kind="currency_recalculation", title="Recalculate", parameters={})
        uow.commit()
    return job.id


def test_wrong_values_are_refused_with_422_and_start_nothing(client: TestClient, database: Database, actor: Actor):
    lead = make_lead(database, actor)
    assert client.get(f"{API}/jobs", params={"state": "sleeping"}).status_code == 422
    assert client.get(f"{API}/jobs/not-an-id").status_code == 422
    assert client.get(f"{API}/jobs/{uuid.uuid4()}/items", params={"after": -5}).status_code == 422
    refused = client.post(
        f"{API}/leads/qualify", json={"lead_ids": [str(lead.id)], "on_duplicate": "shrug"}, headers=ASYNC
    )
    assert refused.status_code == 422
    assert client.post(f"{API}/leads/qualify", json={"lead_ids": []}, headers=ASYNC).status_code == 422
    assert job_count(database) == 0
    assert client.get(f"{API}/leads/{lead.id}").json()["state"] == "open"


def test_more_leads_than_a_job_may_take_are_refused(database: Database, settings, actor: Actor):
    small = settings.model_copy(update={"max_job_leads": 2})
    with TestClient(app_for(database, small), headers=bearer_headers(database, actor.email)) as client:
        ids = [str(uuid.uuid4()) for _ in range(3)]
        refused = client.post(f"{API}/leads/qualify", json={"lead_ids": ids}, headers=ASYNC)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "too_many_leads"
    assert job_count(database) == 0


def test_a_missing_job_is_404_and_a_missing_lead_is_its_own_line(client: TestClient, database: Database, actor: Actor):
    missing = uuid.uuid4()
    for answer in (client.get(f"{API}/jobs/{missing}"), client.post(f"{API}/jobs/{missing}/cancel")):
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "job_not_found"

    lead = make_lead(database, actor)
    started = client.post(f"{API}/leads/qualify", json={"lead_ids": [str(missing), str(lead.id)]}, headers=ASYNC)
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["state"] == "succeeded" and job["summary"]["items"] == {"failed": 1, "qualified": 1}
    lines = client.get(f"{API}/jobs/{job['id']}/items").json()["items"]
    assert [(line["record_id"], line["status"], line["code"]) for line in lines] == [
        (str(missing), "failed", "lead_not_found"),
        (str(lead.id), "qualified", None),
    ]


def test_a_closed_lead_and_a_duplicate_get_their_reason_and_are_left_as_they_were(
    client: TestClient, database: Database, actor: Actor
):
    closed = make_lead(database, actor, company_name="Closed Company")
    assert client.post(f"{API}/leads/{closed.id}/qualify", json={}).status_code == 200
    before = client.get(f"{API}/leads/{closed.id}").json()
    first = make_lead(database, actor, company_name="Turia Distribuciones", email="ana@turia.example")
    assert client.post(f"{API}/leads/{first.id}/qualify", json={}).status_code == 200
    with database.unit_of_work(read_only=True) as uow:
        accounts = uow.session.scalar(select(func.count()).select_from(Account))

    twin = client.post(
        f"{API}/leads",
        json={"topic": "Second order", "last_name": "Soler", "company_name": "Turia Distribuciones S.L."},
        params={"suppress_duplicate_detection": "true"},  # saved as a seller who was warned would
    )
    assert twin.status_code == 201, twin.text
    twin_id = twin.json()["id"]

    started = client.post(f"{API}/leads/qualify", json={"lead_ids": [str(closed.id), twin_id]}, headers=ASYNC)
    assert started.status_code == 202, started.text
    lines = client.get(f"{API}/jobs/{started.json()['id']}/items").json()["items"]
    assert [(line["status"], line["code"]) for line in lines] == [
        ("failed", "lead_closed"),
        ("skipped", "duplicate_detected"),
    ]
    assert lines[1]["data"]["error"]["details"]  # the matches it met
    assert client.get(f"{API}/leads/{closed.id}").json() == before
    assert client.get(f"{API}/leads/{twin_id}").json()["state"] == "open"
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Account)) == accounts


def test_a_job_that_ended_cannot_be_canceled_and_one_that_succeeded_cannot_be_retried(
    client: TestClient, database: Database
):
    job = client.post(f"{API}/currencies/recalculate").json()
    assert job["state"] == "succeeded"
    canceled = client.post(f"{API}/jobs/{job['id']}/cancel")
    assert canceled.status_code == 409 and canceled.json()["error"]["code"] == "job_finished"
    retried = client.post(f"{API}/jobs/{job['id']}/retry")
    assert retried.status_code == 409 and retried.json()["error"]["code"] == "job_not_retryable"
    assert client.get(f"{API}/jobs/{job['id']}").json() == job  # untouched


def test_another_users_job_is_not_found_for_a_seller_and_the_seller_cannot_start_admin_jobs(
    database: Database, settings, actor: Actor, anonymous_client: TestClient
):
    job_id = queued(database, actor)
    with seller_client(database, settings) as seller:
        assert seller.get(f"{API}/jobs/{job_id}").status_code == 404
        assert seller.post(f"{API}/jobs/{job_id}/cancel").status_code == 404
        assert seller.post(f"{API}/jobs/{job_id}/retry").status_code == 404
        assert seller.get(f"{API}/jobs").json()["items"] == []
        forbidden = seller.post(f"{API}/currencies/recalculate")
        assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "forbidden"
    assert anonymous_client.get(f"{API}/jobs").status_code == 401
    assert job_count(database) == 1
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.get_one(Job, job_id).state.value == "queued"
