"""The nightly scoring of every open lead: started as an administrator who made a published model,
it brings what time changes (days open) into the scores."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from leadflow.core.db import utcnow
from leadflow.core.schemas import parse
from leadflow.core.uow import Database
from leadflow.demo.history import load_history
from leadflow.jobs.models import JobState
from leadflow.jobs.runner import execute
from leadflow.leads import service as leads
from leadflow.leads.models import Lead
from leadflow.leads.schemas import LeadCreate
from leadflow.scoring import service
from leadflow.scoring.models import LeadScore
from leadflow.scoring.schemas import ScoringModelIn
from leadflow.security.actor import Actor
from leadflow.tasks import HANDLERS, scoring
from tests.factories import lead_data


def _published(database: Database, actor: Actor) -> None:
    load_history(database, {"es": actor, "en": actor}, count=240)
    with database.unit_of_work() as uow:
        model = service.create_model(
            ScoringModelIn(name="Nightly", fields=["days_open", "budget_status"]), uow=uow, actor=actor
        )
        version = service.begin_training(model.id, uow=uow, actor=actor)
        uow.commit()
    service.run_training(version.id, database=database, step=lambda _step: None)
    with database.unit_of_work() as uow:
        service.publish(version.id, uow=uow, actor=actor)
        uow.commit()


def test_no_published_model_starts_no_nightly_job(database: Database) -> None:
    assert scoring.nightly_rescore(database) is None


def test_the_nightly_job_scores_a_lead_again_with_the_days_it_has_been_open(database: Database, actor: Actor) -> None:
    _published(database, actor)
    with database.unit_of_work() as uow:
        lead = leads.create_lead(parse(LeadCreate, lead_data(budget_status="can_buy")), uow=uow, actor=actor)
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        first = uow.session.get_one(LeadScore, lead.id)
        before = uow.session.get_one(Lead, lead.id)
        version_before = before.row_version
        assert {field: value for field, value, _ in first.reasons}["days_open"] == "0-8"
        first_scored_at = first.scored_at
    # Time passes: the lead was opened 100 days ago (written past the services, as a clock would).
    with database.unit_of_work() as uow:
        uow.session.execute(
            update(Lead).where(Lead.id == lead.id).values(created_at=utcnow() - timedelta(days=100), score=None)
        )
        uow.commit()

    job = scoring.nightly_rescore(database)
    assert job is not None and job.kind == scoring.RESCORE and job.created_by_id == actor.user_id
    assert execute(database, job.id, HANDLERS) is JobState.SUCCEEDED

    with database.unit_of_work(read_only=True) as uow:
        again = uow.session.get_one(LeadScore, lead.id)
        rescored = uow.session.get_one(Lead, lead.id)
        values = {field: value for field, value, _ in again.reasons}
        assert rescored.score == again.score is not None
        # A score is not an edit: a seller's form, opened before the night, still saves (same ETag).
        assert rescored.row_version == version_before
        assert again.scored_at > first_scored_at
        assert values["days_open"] == "91+"
