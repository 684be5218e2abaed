"""An import survives its worker: a worker process killed with SIGKILL in the middle of a file leaves
every saved row with its line and nothing half saved; the next worker goes on with the next row, and no
row is saved twice. Importing the same file again afterwards with "skip" adds nothing."""

from __future__ import annotations

import io
import os
import signal
import uuid
from pathlib import Path

from sqlalchemy import func, select

from leadflow.core.uow import Database
from leadflow.jobs.models import Job, JobItem, JobState
from leadflow.jobs.queue import JobQueue
from leadflow.jobs.runner import execute
from leadflow.leads.models import Lead
from leadflow.security.actor import Actor
from leadflow.tasks import HANDLERS
from leadflow.transfer import service
from leadflow.transfer.models import TransferTable
from tests.integration.test_job_queue import _worker, job_state, wait_for, word

ROWS = int(os.environ.get("LEADFLOW_TEST_IMPORT_ROWS", "1500"))


def leads_csv(rows: int) -> bytes:
    lines = ["Topic,First Name,Last Name,Email"]
    for n in range(rows):
        first, last = word(n, "b").title(), word(n * 7 + 3, "k").title()
        lines.append(f"Deal {n},{first},{last},{first.lower()}.{last.lower()}{n}@example.com")
    return ("\r\n".join(lines) + "\r\n").encode()


def start(database: Database, actor: Actor, content: bytes, **parameters: object) -> uuid.UUID:
    job = service.start_import(
        io.BytesIO(content),
        service.ImportRequest(table=TransferTable.LEADS),
        filename="leads.csv",
        media_type="text/csv",
        database=database,
        actor=actor,
        max_bytes=10 * 1024 * 1024,
    )
    if parameters:
        with database.unit_of_work() as uow:
            found = uow.session.get_one(Job, job.id)
            found.parameters = {**found.parameters, **parameters}
            uow.commit()
    return job.id


def lead_rows(database: Database) -> tuple[int, int]:
    with database.unit_of_work(read_only=True) as uow:
        leads = uow.session.scalar(select(func.count()).select_from(Lead)) or 0
        emails = uow.session.scalar(select(func.count(func.distinct(Lead.email)))) or 0
    return leads, emails


def test_a_worker_killed_mid_import_leaves_no_row_saved_twice_and_the_next_goes_on(
    database: Database, actor: Actor, tmp_path: Path
):
    content = leads_csv(ROWS)
    queue_url = f"sqlite:///{tmp_path / 'queue.db'}" if database.dialect == "sqlite" else database.url
    name = f"import-crash-{uuid.uuid4().hex[:12]}"
    queue = JobQueue(queue_url, database, HANDLERS, name=name)
    job_id = start(database, actor, content, batch_size=50)
    assert queue.enqueue(job_id)

    log = tmp_path / "workers.log"
    first = _worker(database, queue_url, name, log)
    try:
        wait_for(lambda: job_state(database, job_id).progress_done >= 200, seconds=120, what="a few batches")
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    killed = job_state(database, job_id)
    assert killed.state is JobState.RUNNING and killed.progress_done < ROWS, "the kill came too late"
    leads, emails = lead_rows(database)
    # What the kill interrupted was rolled back whole: each saved row has its lead and its line.
    assert leads == emails == killed.progress_done
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).where(JobItem.job_id == job_id)) == leads

    second = _worker(database, queue_url, name, log)  # finds the job of a dead process and queues it again
    try:
        wait_for(lambda: job_state(database, job_id).state is JobState.SUCCEEDED, seconds=300, what="the import")
    except AssertionError:
        raise AssertionError(log.read_text()[-3000:]) from None
    finally:
        second.send_signal(signal.SIGINT)
        second.wait(timeout=30)
    ended = job_state(database, job_id)
    assert ended.attempts == 2
    assert ended.summary is not None and ended.summary["created"] == ROWS and ended.summary["failed"] == 0
    assert lead_rows(database) == (ROWS, ROWS)
    with database.unit_of_work(read_only=True) as uow:
        positions = uow.session.scalars(select(JobItem.position).where(JobItem.job_id == job_id)).all()
    assert sorted(positions) == list(range(ROWS))

    again = start(database, actor, content)
    assert execute(database, again, HANDLERS) is JobState.SUCCEEDED
    summary = job_state(database, again).summary
    assert summary is not None and summary["skipped"] == ROWS and summary["created"] == 0
    assert lead_rows(database) == (ROWS, ROWS)
