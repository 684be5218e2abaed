"""Helpers the scoring tests share: a planted history of closed leads, scoring models trained and
published through the API, and a snapshot of everything scoring stores."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadflow.activities.models import Note, RegardingTable
from leadflow.core.db import utcnow
from leadflow.core.uow import Database
from leadflow.demo.history import load_history
from leadflow.jobs.models import Job
from leadflow.leads.models import Lead, LeadState
from leadflow.scoring.models import LeadScore, ScoringModel, ScoringVersion
from leadflow.security.actor import Actor
from leadflow.security.service import create_business_unit, create_user
from tests.conftest import app_for, bearer_headers

API = "/api/v1"
# The fields the planted history's outcome depends on (leadflow.demo.history.EFFECTS).
PLANTED_FIELDS = ["budget_status", "lead_source", "rating", "email_kind"]
# An open lead the planted drivers all favour, and one they all hold back.
GOOD = {"lead_source": "trade_show", "budget_status": "will_buy", "rating": "hot", "email": "@harbourfoods.example"}
BAD = {"lead_source": "advertisement", "budget_status": "no_committed_budget", "rating": "cold", "email": "@gmail.com"}
MIDDLE = {"lead_source": "partner", "budget_status": "may_buy", "rating": "warm", "email": "@kestrel.example"}
SELLER_EMAIL = "sam.seller@example.com"
SELLER_UNIT = "South"


def lead_of(fields: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A lead's fields from GOOD, BAD or MIDDLE, its e-mail address (only a domain there) made unique."""
    lead = {**fields, **overrides}
    if str(lead.get("email", "")).startswith("@"):
        lead["email"] = f"buyer.{uuid.uuid4().hex[:10]}{lead['email']}"
    return lead


def load_planted(database: Database, actor: Actor, *, count: int = 200, seed: int = 7) -> dict[str, int]:
    """``count`` closed leads of the last year with planted drivers, created by ``actor``."""
    return dict(load_history(database, {"es": actor, "en": actor}, count=count, seed=seed))


def note_history(database: Database, actor: Actor) -> int:
    """Give a note to every qualified lead of the history (so that notes drive the outcome)."""
    with database.unit_of_work() as uow:
        qualified = list(uow.session.scalars(select(Lead.id).where(Lead.state == LeadState.QUALIFIED)))
        for lead_id in qualified:
            uow.session.add(
                Note(
                    id=uuid.uuid4(),
                    regarding_table=RegardingTable.LEADS,
                    regarding_id=lead_id,
                    title="Call",
                    body="Spoke with the buyer.",
                    created_by_id=actor.user_id,
                    created_at=utcnow() - timedelta(days=400),
                )
            )
        uow.commit()
    return len(qualified)


def create_model(client: TestClient, **data: Any) -> dict[str, Any]:
    body = {"name": f"Model {uuid.uuid4().hex[:8]}", "fields": PLANTED_FIELDS, **data}
    response = client.post(f"{API}/scoring-models", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def read_model(client: TestClient, model_id: Any) -> dict[str, Any]:
    response = client.get(f"{API}/scoring-models/{model_id}")
    assert response.status_code == 200, response.text
    return response.json()


def train(client: TestClient, model_id: Any) -> dict[str, Any]:
    """Train a model; the (succeeded) job."""
    response = client.post(f"{API}/scoring-models/{model_id}/train")
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["state"] == "succeeded", job
    return job


def publish(client: TestClient, model_id: Any, version_id: Any = None) -> dict[str, Any]:
    """Publish a version (the newest trained one without ``version_id``); the (succeeded) rescoring job."""
    body = None if version_id is None else {"version_id": str(version_id)}
    response = client.post(f"{API}/scoring-models/{model_id}/publish", json=body)
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["state"] == "succeeded", job
    return job


def trained_and_published(client: TestClient, **data: Any) -> dict[str, Any]:
    """A model trained on the history there is and published; the model as read afterwards."""
    model = create_model(client, **data)
    train(client, model["id"])
    publish(client, model["id"])
    return read_model(client, model["id"])


def lead_score(client: TestClient, lead_id: Any, **headers: str) -> dict[str, Any]:
    response = client.get(f"{API}/leads/{lead_id}/score", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def seller_client(database: Database, settings: Any) -> TestClient:
    """An HTTP client signed in as a new Salesperson of a business unit of their own (South): they read
    the leads of their unit, not the administrator's."""
    with database.unit_of_work() as uow:
        create_business_unit(SELLER_UNIT, parent_name=None, uow=uow, actor=None)
        create_user(
            email=SELLER_EMAIL,
            full_name="Sam Seller",
            role_names=["Salesperson"],
            business_unit_name=SELLER_UNIT,
            password="a long enough password 2026",
            uow=uow,
            actor=None,
        )
        uow.commit()
    return TestClient(app_for(database, settings), headers=bearer_headers(database, SELLER_EMAIL))


def scoring_state(database: Database) -> dict[str, Any]:
    """Every scoring model, version, lead score, job and lead score column: equal before and after
    means scoring changed nothing."""
    with database.unit_of_work(read_only=True) as uow:
        session = uow.session
        models = sorted(
            (
                str(model.id),
                model.row_version,
                model.name,
                model.fields,
                model.thresholds,
                str(model.published_version_id),
                model.last_trained_at,
            )
            for model in session.scalars(select(ScoringModel))
        )
        versions = sorted(
            (str(version.id), version.number, version.state.value, version.error, version.trained_at)
            for version in session.scalars(select(ScoringVersion))
        )
        scores = sorted(
            (str(row.lead_id), str(row.version_id), row.score, row.previous_score, row.message)
            for row in session.scalars(select(LeadScore))
        )
        leads = sorted(
            (str(lead_id), score, grade, row_version)
            for lead_id, score, grade, row_version in session.execute(
                select(Lead.id, Lead.score, Lead.score_grade, Lead.row_version)
            )
        )
        jobs = session.scalar(select(func.count()).select_from(Job))
    return {"models": models, "versions": versions, "scores": scores, "leads": leads, "jobs": jobs}
