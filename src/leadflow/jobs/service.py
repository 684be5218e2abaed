"""Who may see and steer jobs, and the operations on them: start, read, list, cancel, retry.

Starting a job needs nothing of its own: each kind checks, when it is started and again for every
item when it runs, exactly what the same work needs when done at once (qualifying a lead needs what
a single qualify needs). Reading and steering a job is its starter's, and an administrator's: Write
on the settings sees, cancels and retries anyone's (every built-in role reads the settings, so Read
would have shown every user everyone's jobs).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadflow.core.db import utcnow
from leadflow.core.errors import InvalidState, ValidationFailed
from leadflow.core.paging import Page, check_limit, keyset_page
from leadflow.core.records import get_record, not_found
from leadflow.core.uow import Database, UnitOfWork
from leadflow.jobs.models import FINISHED, Job, JobItem, JobState
from leadflow.security.access import has_admin
from leadflow.security.actor import Actor
from leadflow.security.audit import record_action
from leadflow.security.privileges import Privilege


def create_job(
    session: Session, actor: Actor, *, kind: str, title: str, parameters: dict[str, Any], total: int = 0
) -> Job:
    """A queued job, audited, in the caller's transaction; the caller hands its id to the queue after commit."""
    job = Job(
        id=uuid.uuid4(),
        kind=kind,
        title=title[:200],
        parameters=parameters,
        state=JobState.QUEUED,
        progress_total=total,
        created_by_id=actor.user_id,
        enqueued_at=utcnow(),
    )
    session.add(job)
    session.flush()
    record_action(session, actor, "create", table="jobs", record_id=job.id, summary=title[:200])
    return job


def sees_every_job(actor: Actor) -> bool:
    """Whether the actor sees and steers every job, not only their own: an administrator (settings Write)."""
    return has_admin(actor, "settings", Privilege.WRITE)


def start_job(
    database: Database, actor: Actor, *, kind: str, title: str, parameters: dict[str, Any], total: int = 0
) -> Job:
    """``create_job`` in a unit of work of its own, committed: a job ready to hand to the queue."""
    with database.unit_of_work() as uow:
        job = create_job(uow.session, actor, kind=kind, title=title, parameters=parameters, total=total)
        uow.commit()
    return job


def _may_see(actor: Actor, job: Job) -> bool:
    return job.created_by_id == actor.user_id or sees_every_job(actor)


def get_job(job_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> Job:
    """One job, if the actor started it or may see every job; otherwise it is not found."""
    job = get_record(uow.session, Job, job_id, label="job")
    if not _may_see(actor, job):
        raise not_found(label="job", record_id=job_id)
    return job


def list_jobs(
    *,
    uow: UnitOfWork,
    actor: Actor,
    state: JobState | None = None,
    kind: str | None = None,
    mine: bool = False,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[Job]:
    """A page of jobs, newest first: the actor's own, or everyone's for an administrator (unless ``mine``)."""
    check_limit(limit)
    statement = select(Job)
    if mine or not sees_every_job(actor):
        statement = statement.where(Job.created_by_id == actor.user_id)
    if state is not None:
        statement = statement.where(Job.state == state)
    if kind is not None:
        statement = statement.where(Job.kind == kind)
    return keyset_page(
        uow.session,
        statement,
        key=Job.created_at,
        id_column=Job.id,
        kind="datetime",
        limit=limit,
        cursor=cursor,
        descending=True,
    )


def job_items(
    job_id: uuid.UUID,
    *,
    uow: UnitOfWork,
    actor: Actor,
    status: str | None = None,
    after: int = -1,
    limit: int = 100,
) -> list[JobItem]:
    """A job's item results in order, from the position after ``after``, optionally of one status."""
    check_limit(limit)
    get_job(job_id, uow=uow, actor=actor)
    statement = select(JobItem).where(JobItem.job_id == job_id, JobItem.position > after)
    if status is not None:
        statement = statement.where(JobItem.status == status)
    return list(uow.session.scalars(statement.order_by(JobItem.position).limit(limit)))


def item_counts(session: Session, job_id: uuid.UUID) -> dict[str, int]:
    """How many items of a job came to each status."""
    rows = session.execute(
        select(JobItem.status, func.count()).where(JobItem.job_id == job_id).group_by(JobItem.status)
    )
    return {status: count for status, count in rows}


def _steerable(job_id: uuid.UUID, uow: UnitOfWork, actor: Actor) -> Job:
    job = get_record(uow.session, Job, job_id, label="job", for_update=True)
    if not _may_see(actor, job):
        raise not_found(label="job", record_id=job_id)
    return job


def cancel_job(job_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> Job:
    """Cancel a job: a queued one at once; a running one stops after the batch it is writing, which
    stays written (the job's items say which); a finished one is refused (``job_finished``)."""
    job = _steerable(job_id, uow, actor)
    if job.state in FINISHED:
        raise InvalidState(
            f"This job has already {_ended(job.state)}; there is nothing to cancel.", code="job_finished"
        )
    if job.state is JobState.QUEUED:
        job.state = JobState.CANCELED
        job.finished_at = utcnow()
    else:
        job.cancel_requested = True
    uow.flush()
    record_action(uow.session, actor, "cancel", table="jobs", record_id=job.id, summary=job.title)
    return job


def retry_job(job_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> Job:
    """Queue a failed or canceled job again; it goes on from where it stopped (the items it finished
    keep their results). Queued, running and succeeded jobs are refused (``job_not_retryable``)."""
    job = _steerable(job_id, uow, actor)
    if job.state not in (JobState.FAILED, JobState.CANCELED):
        raise InvalidState(
            f"Only a failed or canceled job can be retried; this one is {job.state.value}.",
            code="job_not_retryable",
        )
    job.state = JobState.QUEUED
    job.cancel_requested = False
    job.error = None
    job.finished_at = None
    job.attempts = 0
    job.enqueued_at = utcnow()
    uow.flush()
    record_action(uow.session, actor, "retry", table="jobs", record_id=job.id, summary=job.title)
    return job


def _ended(state: JobState) -> str:
    return {JobState.SUCCEEDED: "succeeded", JobState.FAILED: "failed"}.get(state, "been canceled")


def check_state(value: str | None) -> JobState | None:
    """A state filter as typed, or a refusal naming the states."""
    if value is None:
        return None
    try:
        return JobState(value)
    except ValueError:
        states = ", ".join(state.value for state in JobState)
        raise ValidationFailed(f"Unknown job state {value!r}; use one of {states}.", code="invalid_job_state") from None
