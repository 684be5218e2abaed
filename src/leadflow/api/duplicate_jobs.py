"""Find-all-duplicates job endpoints (§9): start a job, follow it, page through or export its sets."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from leadflow.api.deps import CurrentActor, DatabaseDep, QueueDep, ReadUowDep
from leadflow.api.paging import Cursor, PageOut, page_out
from leadflow.core.schemas import InputModel
from leadflow.duplicates import scan, sets
from leadflow.duplicates.models import DetectionTable, DuplicateJob, JobState
from leadflow.duplicates.tables import RecordSummary
from leadflow.tasks import admin as admin_tasks

router = APIRouter(tags=["duplicate detection"])


class JobCreate(InputModel):
    table: DetectionTable


class ProgressOut(BaseModel):
    done: int
    total: int


class JobOut(BaseModel):
    id: uuid.UUID
    table: DetectionTable
    state: JobState
    progress: ProgressOut
    set_count: int
    record_count: int
    error: str | None
    created_by_id: uuid.UUID | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class RuleCountOut(BaseModel):
    rule_id: uuid.UUID | None
    rule_name: str | None
    sets: int
    records: int


class JobDetailOut(JobOut):
    rules: list[RuleCountOut]


class SetOut(BaseModel):
    position: int
    rule_id: uuid.UUID | None
    rule_name: str | None
    score: float
    size: int
    members: list[RecordSummary]


def _job_out(job: DuplicateJob) -> dict:
    return {
        "id": job.id,
        "table": job.table_name,
        "state": job.state,
        "progress": {"done": job.progress_done, "total": job.progress_total},
        "set_count": job.set_count,
        "record_count": job.record_count,
        "error": job.error,
        "created_by_id": job.created_by_id,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


@router.post("/duplicate-jobs", status_code=status.HTTP_202_ACCEPTED)
def start_job(
    data: JobCreate, database: DatabaseDep, queue: QueueDep, actor: CurrentActor, response: Response
) -> JobOut:
    """Start finding every duplicate set of a table under its published rules (no record limit).

    The job runs in the background: poll ``GET /duplicate-jobs/{id}`` for its progress and state.
    """
    found, job = admin_tasks.start_scan(data.table, database=database, actor=actor)
    queue.enqueue(job.id)
    response.headers["Location"] = f"/api/v1/duplicate-jobs/{found.id}"
    response.headers["Link"] = f'</api/v1/jobs/{job.id}>; rel="job"'
    return JobOut.model_validate(_job_out(found))


@router.get("/duplicate-jobs")
def list_jobs(
    uow: ReadUowDep,
    actor: CurrentActor,
    limit: Annotated[int, Query(ge=1, le=scan.MAX_PAGE)] = 50,
    cursor: Cursor = None,
) -> PageOut[JobOut]:
    """Jobs, newest first; `cursor` is the `next_cursor` of the previous page."""
    page = scan.list_jobs(uow=uow, actor=actor, limit=limit, cursor=cursor)
    return PageOut[JobOut].model_validate(page_out(page, lambda job: JobOut.model_validate(_job_out(job))))


@router.get("/duplicate-jobs/{job_id}")
def read_job(job_id: uuid.UUID, uow: ReadUowDep, actor: CurrentActor) -> JobDetailOut:
    """One job: state, progress, counts, error, and what each rule found."""
    job = scan.get_job(job_id, uow=uow, actor=actor)
    rules = scan.job_rules(job_id, uow=uow, actor=actor)
    return JobDetailOut.model_validate({**_job_out(job), "rules": [vars(rule) for rule in rules]})


@router.get("/duplicate-jobs/{job_id}/sets")
def list_sets(
    job_id: uuid.UUID,
    uow: ReadUowDep,
    actor: CurrentActor,
    limit: Annotated[int, Query(ge=1, le=scan.MAX_PAGE)] = 50,
    cursor: Cursor = None,
) -> PageOut[SetOut]:
    """A page of the job's duplicate sets in the order found, each with its rule, score and members.

    `cursor` is the `next_cursor` of the previous page. Members are the records you may read (at
    most 1,000 per set here; the CSV export has them all).
    """
    page = sets.list_sets(job_id, uow=uow, actor=actor, limit=limit, cursor=cursor)
    return PageOut[SetOut].model_validate(page_out(page, set_out))


def set_out(found: sets.FoundSet) -> SetOut:
    """A duplicate set as the API (and ``leadflow duplicates sets --json``) shows it."""
    return SetOut.model_validate({**vars(found), "members": found.members})


@router.get(
    "/duplicate-jobs/{job_id}/sets.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "One line per member of each set."}},
)
def export_sets(job_id: uuid.UUID, database: DatabaseDep, actor: CurrentActor) -> StreamingResponse:
    """Every set of the job as CSV, one line per member: set, rule, score, table, record id, name, email, phone, city, owner."""
    rows = sets.iter_set_rows(job_id, database=database, actor=actor)
    return StreamingResponse(
        sets.csv_chunks(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename=duplicate-sets-{job_id}.csv"},
    )
