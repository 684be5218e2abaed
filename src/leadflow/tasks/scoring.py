"""Scoring's long work as jobs: training a model's new version, scoring every open lead after a
version is published, and the scheduled retraining of models whose time has come."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from leadflow.core.db import utcnow
from leadflow.core.uow import Database
from leadflow.jobs.models import Job
from leadflow.jobs.runner import JobCanceled, JobRun
from leadflow.jobs.service import create_job
from leadflow.scoring import service
from leadflow.scoring.models import ScoringModel, ScoringVersion, VersionState
from leadflow.security.access import has_admin, require_admin
from leadflow.security.actor import Actor, load_actor
from leadflow.security.models import User
from leadflow.security.privileges import Privilege

TRAIN = "scoring_train"
RESCORE = "scoring_rescore"
STEPS = ("reading", "fitting", "testing", "storing")


def start_training(
    model_id: uuid.UUID, *, database: Database, actor: Actor, scheduled: bool = False
) -> tuple[ScoringVersion, Job]:
    """A new version of a model and the job that trains it; refused at once when the history is too
    small or the model names a field that no longer exists (settings Write)."""
    with database.unit_of_work() as uow:
        version = service.begin_training(model_id, uow=uow, actor=actor)
        model = uow.session.get_one(ScoringModel, model_id)
        job = create_job(
            uow.session,
            actor,
            kind=TRAIN,
            title=f"Train the scoring model {model.name}",
            parameters={"version_id": str(version.id), "scheduled": scheduled},
            total=len(STEPS),
        )
        version.job_id = job.id
        uow.commit()
    return version, job


def run_training(job: JobRun) -> dict[str, Any]:
    version_id = uuid.UUID(job.parameters["version_id"])
    with job.database.unit_of_work() as uow:
        actor = job.actor(uow.session)
        require_admin(actor, service.ADMIN_TABLE, Privilege.WRITE)
        version = uow.session.get_one(ScoringVersion, version_id, with_for_update=True)
        version.state = VersionState.TRAINING  # started again after its worker died: from the beginning
        version.error = None
        uow.commit()

    def step(name: str) -> None:
        job.progress(None, STEPS.index(name), len(STEPS))
        job.check_canceled()

    try:
        version = service.run_training(version_id, database=job.database, step=step)
    except JobCanceled:
        service.fail_training(version_id, database=job.database, error=service.CANCELED_TRAINING)
        raise
    summary: dict[str, Any] = {"version_id": str(version_id), "auc": (version.report or {}).get("auc")}
    if job.parameters.get("scheduled"):
        with job.database.unit_of_work() as uow:
            model = uow.session.get_one(ScoringModel, version.model_id)
            auto = model.auto_publish
        if auto:
            with job.database.unit_of_work() as uow:
                service.publish(version_id, uow=uow, actor=job.actor(uow.session))
                uow.commit()
            summary["published"] = True
            summary["scored"] = service.rescore_all(database=job.database, progress=_reporting(job))
    job.progress(None, len(STEPS), len(STEPS))
    return summary


def _reporting(job: JobRun) -> service.Progress:
    def progress(done: int, total: int) -> None:
        job.progress(None, done, total)
        job.check_canceled()

    return progress


def publish_version(version_id: uuid.UUID, *, database: Database, actor: Actor) -> tuple[ScoringModel, Job]:
    """Publish a version (or restore an earlier one) and start the job that scores every open lead with it."""
    with database.unit_of_work() as uow:
        model = service.publish(version_id, uow=uow, actor=actor)
        job = _rescore_job(uow.session, actor, model)
        uow.commit()
    return model, job


def unpublish_model(model_id: uuid.UUID, *, database: Database, actor: Actor) -> tuple[ScoringModel, Job]:
    """Stop a model scoring; a job clears its leads' scores (or gives them to another model that covers them)."""
    with database.unit_of_work() as uow:
        model = service.unpublish(model_id, uow=uow, actor=actor)
        job = _rescore_job(uow.session, actor, model)
        uow.commit()
    return model, job


def _rescore_job(session: Any, actor: Actor, model: ScoringModel) -> Job:
    return create_job(
        session, actor, kind=RESCORE, title=f"Score the open leads ({model.name})", parameters={}, total=0
    )


def run_rescore(job: JobRun) -> dict[str, Any]:
    with job.database.unit_of_work(read_only=True) as uow:
        require_admin(job.actor(uow.session), service.ADMIN_TABLE, Privilege.WRITE)
    return {"scored": service.rescore_all(database=job.database, progress=_reporting(job))}


def due_retraining(database: Database) -> list[Job]:
    """Start the training of every model whose retraining is due (``retrain_days`` since its last
    training), as the user who made it; models that cannot train now are left for the next day."""
    now = utcnow()
    started: list[Job] = []
    with database.unit_of_work(read_only=True) as uow:
        models = [
            (model.id, model.created_by_id)
            for model in uow.session.scalars(
                select(ScoringModel).where(ScoringModel.retrain_days > 0, ScoringModel.last_trained_at.is_not(None))
            )
            if model.last_trained_at is not None and model.last_trained_at <= now - timedelta(days=model.retrain_days)
        ]
    for model_id, creator_id in models:
        try:
            with database.unit_of_work(read_only=True) as uow:
                user = uow.session.get(User, creator_id) if creator_id else None
                if user is None or not user.is_active:
                    continue
                actor = load_actor(uow.session, user)
            started.append(start_training(model_id, database=database, actor=actor, scheduled=True)[1])
        except Exception:  # noqa: BLE001 - a model that cannot train today (too few leads) waits
            continue
    return started


def nightly_rescore(database: Database) -> Job | None:
    """Start scoring every open lead again, so that what time changes (days open, the week's notes)
    shows in the scores and trends; started as the maker of a published model who is still an
    active administrator (None when there is none, or no published model)."""
    with database.unit_of_work() as uow:
        for model in uow.session.scalars(
            select(ScoringModel).where(ScoringModel.published_version_id.is_not(None)).order_by(ScoringModel.created_at)
        ):
            user = uow.session.get(User, model.created_by_id) if model.created_by_id else None
            if user is None or not user.is_active:
                continue
            actor = load_actor(uow.session, user)
            if not has_admin(actor, service.ADMIN_TABLE, Privilege.WRITE):
                continue
            job = create_job(
                uow.session, actor, kind=RESCORE, title="Score the open leads again (nightly)", parameters={}
            )
            uow.commit()
            return job
    return None
