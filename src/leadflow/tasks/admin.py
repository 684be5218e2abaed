"""The administrator's long work as jobs: finding every duplicate of a table, publishing a duplicate
rule (coding every record) and recalculating open records with the current exchange rates."""

from __future__ import annotations

import uuid
from typing import Any

from leadflow.core.errors import InvalidState
from leadflow.core.uow import Database
from leadflow.duplicates import rules as rule_service
from leadflow.duplicates import scan
from leadflow.duplicates.models import DetectionTable, DuplicateJob, DuplicateRule
from leadflow.duplicates.models import JobState as ScanState
from leadflow.jobs.models import Job
from leadflow.jobs.runner import JobRun
from leadflow.jobs.service import start_job
from leadflow.organisation import currencies
from leadflow.security.access import require_admin
from leadflow.security.actor import Actor
from leadflow.security.privileges import Privilege

SCAN = "duplicate_scan"
PUBLISH = "rule_publish"
RECALCULATE = "currency_recalculation"


def _reporting(job: JobRun) -> scan.Progress:
    """A progress callback that records the job's progress and stops it when asked."""

    def progress(done: int, total: int) -> None:
        job.progress(None, done, total)
        job.check_canceled()

    return progress


# ---------------------------------------------------------------------------------------------- scan


def start_scan(table: str | DetectionTable, *, database: Database, actor: Actor) -> tuple[DuplicateJob, Job]:
    """A find-all-duplicates job over one table (settings Write): its sets' record, and the job that fills it."""
    found = scan.start_job(table, database=database, actor=actor)
    title = f"Find all duplicates in {found.table_name.value}"
    job = start_job(database, actor, kind=SCAN, title=title, parameters={"duplicate_job_id": str(found.id)})
    return found, job


def run_scan(job: JobRun) -> dict[str, Any]:
    found_id = uuid.UUID(job.parameters["duplicate_job_id"])
    if job.attempts > 1:  # started again after its worker died: from the beginning
        scan.restart_job(job.database, found_id)
    found = scan.run_job(found_id, database=job.database, progress=_reporting(job))
    if found.state is ScanState.FAILED:
        job.check_canceled()
        raise InvalidState(found.error or "The duplicate detection job failed.", code="duplicate_job_failed")
    return {"duplicate_job_id": str(found_id), "sets": found.set_count, "records": found.record_count}


# ---------------------------------------------------------------------------------------------- publish


def start_publish(rule_id: uuid.UUID, *, database: Database, actor: Actor) -> tuple[DuplicateRule, Job]:
    """Publish a rule: checked and Publishing at once; the job codes every record, then it is Published."""
    rule = rule_service.begin_publishing(rule_id, database=database, actor=actor)
    job = start_job(
        database, actor, kind=PUBLISH, title=f"Publish the rule {rule.name}", parameters={"rule_id": str(rule_id)}
    )
    return rule, job


def run_publish(job: JobRun) -> dict[str, Any]:
    rule_id = uuid.UUID(job.parameters["rule_id"])
    with job.database.unit_of_work(read_only=True) as uow:
        actor = job.actor(uow.session)
    rule = rule_service.run_publication(rule_id, database=job.database, actor=actor, progress=_reporting(job))
    return {"rule_id": str(rule_id), "records": rule.publish_done}


# ---------------------------------------------------------------------------------------------- currencies


def start_recalculation(*, database: Database, actor: Actor) -> Job:
    """Recalculate open records with the current exchange rates (currencies Write, checked now and when it runs)."""
    require_admin(actor, currencies.TABLE, Privilege.WRITE)
    return start_job(database, actor, kind=RECALCULATE, title="Recalculate open records", parameters={}, total=1)


def run_recalculation(job: JobRun) -> dict[str, Any]:
    with job.database.unit_of_work() as uow:
        actor = job.actor(uow.session)
        changed = currencies.recalculate_open_records(uow=uow, actor=actor)
        job.progress(uow.session, 1, 1)
        uow.commit()
    return {"changed": changed}
