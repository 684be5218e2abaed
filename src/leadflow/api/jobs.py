"""Jobs: long work followed, canceled and retried (bulk qualify, duplicate scans, rule publishing,
currency recalculation); each starts at its own endpoint and answers 202 with the job."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from leadflow.api.deps import CurrentActor, DatabaseDep, QueueDep, ReadUowDep, UowDep
from leadflow.api.paging import Cursor, PageOut, page_out
from leadflow.jobs import service
from leadflow.jobs.models import Job, JobItem, JobState

router = APIRouter(prefix="/jobs", tags=["jobs"])


class JobProgressOut(BaseModel):
    done: int
    total: int


class JobOut(BaseModel):
    id: uuid.UUID
    kind: str
    title: str
    state: JobState
    progress: JobProgressOut
    summary: dict[str, Any] | None
    error: str | None
    cancel_requested: bool
    attempts: int
    created_by_id: uuid.UUID | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None


class JobItemOut(BaseModel):
    position: int
    record_id: uuid.UUID | None
    status: str
    code: str | None
    message: str | None
    data: dict[str, Any] | None


class JobItemsOut(BaseModel):
    items: list[JobItemOut]
    next_after: int | None = None


def job_out(job: Job) -> JobOut:
    return JobOut(
        id=job.id,
        kind=job.kind,
        title=job.title,
        state=job.state,
        progress=JobProgressOut(done=job.progress_done, total=job.progress_total),
        summary=job.summary,
        error=job.error,
        cancel_requested=job.cancel_requested,
        attempts=job.attempts,
        created_by_id=job.created_by_id,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        heartbeat_at=job.heartbeat_at,
    )


def accepted(job: Job, response: Response) -> JobOut:
    """The answer of an endpoint that started a job: 202, with the job and where to follow it."""
    response.status_code = 202
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return job_out(job)


def _item_out(item: JobItem) -> JobItemOut:
    return JobItemOut(
        position=item.position,
        record_id=item.record_id,
        status=item.status,
        code=item.code,
        message=item.message,
        data=item.data,
    )


@router.get("")
def list_jobs(
    uow: ReadUowDep,
    actor: CurrentActor,
    state: JobState | None = None,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    mine: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Cursor = None,
) -> PageOut[JobOut]:
    """Jobs, newest first: your own, or everyone's for an administrator (``mine`` for your own only)."""
    page = service.list_jobs(uow=uow, actor=actor, state=state, kind=kind, mine=mine, limit=limit, cursor=cursor)
    return PageOut[JobOut].model_validate(page_out(page, job_out))


@router.get("/{job_id}")
def get_job(job_id: uuid.UUID, uow: ReadUowDep, actor: CurrentActor) -> JobOut:
    """One job: state, progress (done of total), summary when it ended, the error if it failed."""
    return job_out(service.get_job(job_id, uow=uow, actor=actor))


@router.get("/{job_id}/items")
def job_items(
    job_id: uuid.UUID,
    uow: ReadUowDep,
    actor: CurrentActor,
    status: Annotated[str | None, Query(max_length=20)] = None,
    after: Annotated[int, Query(ge=-1, le=2**31 - 1)] = -1,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> JobItemsOut:
    """What each item came to, in order; ``after`` is the last position of the previous page."""
    items = service.job_items(job_id, uow=uow, actor=actor, status=status, after=after, limit=limit)
    next_after = items[-1].position if len(items) == limit else None
    return JobItemsOut(items=[_item_out(item) for item in items], next_after=next_after)


@router.post("/{job_id}/cancel")
def cancel_job(job_id: uuid.UUID, uow: UowDep, actor: CurrentActor) -> JobOut:
    """Cancel a job: a queued one at once, a running one after the batch it is writing (kept)."""
    job = service.cancel_job(job_id, uow=uow, actor=actor)
    uow.commit()
    return job_out(job)


@router.post("/{job_id}/retry", status_code=202)
def retry_job(
    job_id: uuid.UUID, database: DatabaseDep, queue: QueueDep, actor: CurrentActor, response: Response
) -> JobOut:
    """Queue a failed or canceled job again; it goes on from where it stopped."""
    with database.unit_of_work() as uow:
        service.retry_job(job_id, uow=uow, actor=actor)
        uow.commit()
    queue.enqueue(job_id)
    with database.unit_of_work(read_only=True) as uow:
        return accepted(service.get_job(job_id, uow=uow, actor=actor), response)
