"""Bulk qualification as a job (§2.6): each lead on its own, committed in batches with its result line.

A batch's qualifications and the job's item lines for its leads commit in one transaction, so a job
started again after its worker died goes on with the first lead that has no line: no lead is
qualified twice, and none is left half qualified.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.uow import Database
from leadflow.http.errors import error_body
from leadflow.http.language import DEFAULT_LANGUAGE
from leadflow.jobs.models import Job, JobItem
from leadflow.jobs.runner import ItemResult, JobRun
from leadflow.jobs.service import start_job
from leadflow.leads import bulk
from leadflow.leads.bulk import BulkResult, OnDuplicate, QualifyOutcome
from leadflow.leads.schemas import QualifyOptions
from leadflow.security.actor import Actor

KIND = "bulk_qualify"
BATCH = 500


def start(
    lead_ids: Sequence[uuid.UUID],
    options: QualifyOptions,
    *,
    on_duplicate: OnDuplicate,
    database: Database,
    actor: Actor,
) -> Job:
    """A queued job qualifying ``lead_ids`` in order; options are refused now, as a bulk request's are."""
    bulk.check_bulk_options(options, on_duplicate=on_duplicate, database=database, actor=actor)
    count = len(lead_ids)
    return start_job(
        database,
        actor,
        kind=KIND,
        title=f"Qualify {count} lead{'s' if count != 1 else ''}",
        parameters={
            "lead_ids": [str(lead_id) for lead_id in lead_ids],
            "options": options.model_dump(mode="json", exclude_unset=True),
            "on_duplicate": on_duplicate.value,
        },
        total=count,
    )


def item_of(outcome: QualifyOutcome, language: str) -> ItemResult:
    """One lead's line: what was created, or the refusal (in the starter's language) and its matches."""
    if outcome.result is not None:
        result = outcome.result
        created = {
            "account_id": str(result.account_id) if result.account_id else None,
            "contact_id": str(result.contact_id) if result.contact_id else None,
            "opportunity_ids": [str(opportunity_id) for opportunity_id in result.opportunity_ids],
        }
        return ItemResult(outcome.lead_id, BulkResult.QUALIFIED.value, data={"created": created})
    assert outcome.error is not None
    error = error_body(outcome.error, language)["error"]
    assert isinstance(error, dict)
    return ItemResult(
        outcome.lead_id,
        outcome.status.value,
        code=outcome.error.code,
        message=str(error["message"]),
        data={"error": to_jsonable_python(error)},
    )


def _stopped_already(session: Session, run: JobRun) -> bool:
    """Whether the lines recorded before a restart end with the lead that stopped the run."""
    if run.done == 0:
        return False
    last = session.scalar(
        select(JobItem.status).where(JobItem.job_id == run.job_id).order_by(JobItem.position.desc()).limit(1)
    )
    return last == BulkResult.STOPPED.value


def run(job: JobRun) -> dict[str, Any]:
    """Qualify the job's leads from the first one without a line; each batch commits with its lines."""
    parameters = job.parameters
    lead_ids = [uuid.UUID(value) for value in parameters["lead_ids"]]
    options = QualifyOptions.model_validate(parameters.get("options") or {})
    on_duplicate = OnDuplicate(parameters.get("on_duplicate", OnDuplicate.SKIP.value))
    with job.database.unit_of_work(read_only=True) as uow:
        actor = job.actor(uow.session)
        if _stopped_already(uow.session, job):
            return {"not_attempted": len(lead_ids) - job.done}
    language = actor.language or DEFAULT_LANGUAGE

    def record(session: Session, first: int, outcomes: list[QualifyOutcome]) -> None:
        job.record(session, first, [item_of(outcome, language) for outcome in outcomes])

    attempted = job.done
    for _outcome in bulk.qualify_leads(
        lead_ids[job.done :],
        options,
        database=job.database,
        actor=actor,
        batch_size=int(parameters.get("batch_size", BATCH)),
        on_duplicate=on_duplicate,
        before_commit=record,
        between_batches=job.check_canceled,
        first_position=job.done,
    ):
        attempted += 1
    return {"not_attempted": len(lead_ids) - attempted}
