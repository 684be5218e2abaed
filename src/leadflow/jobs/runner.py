"""How a worker runs a job: claim it, run its kind's handler, record how it ended; and how jobs
left behind by a worker that died are found and queued again.

A handler receives a ``JobRun``. It does its work in batches, and with each batch, in the same
transaction, it records the batch's item results (``JobRun.record``) or its progress. A job that
is started again after its worker died therefore goes on from its last committed batch: the items
of that batch have their results, the next ones do not, and nothing is done twice or half.

While a handler runs, a thread of the worker beats the job's heartbeat every few seconds, on a
connection of its own; a job whose worker stopped beating (the process was killed, the machine went
away) is queued again by ``recover_jobs``, which every worker runs when it starts and every minute.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from leadflow.core.db import utcnow
from leadflow.core.errors import InvalidState, LeadflowError
from leadflow.core.uow import Database
from leadflow.jobs.models import Job, JobItem, JobState
from leadflow.jobs.service import item_counts
from leadflow.security.actor import Actor, load_actor
from leadflow.security.models import User

log = logging.getLogger(__name__)

#: A worker beats each running job's heartbeat this often (seconds).
HEARTBEAT_SECONDS = 5.0
#: A running job whose heartbeat is older than this (seconds) has lost its worker.
STALE_AFTER_SECONDS = 60.0
#: A job whose worker died this many times while running it is failed instead of started again.
MAX_ATTEMPTS = 3


class JobCanceled(Exception):
    """Raised by ``JobRun.check_canceled`` when someone asked the job to stop."""


@dataclass(frozen=True)
class ItemResult:
    """What one item of a job came to."""

    record_id: uuid.UUID | None
    status: str
    code: str | None = None
    message: str | None = None
    data: dict[str, Any] | None = None


@dataclass
class JobRun:
    """A claimed job as its handler sees it."""

    database: Database
    job_id: uuid.UUID
    kind: str
    parameters: dict[str, Any]
    created_by_id: uuid.UUID | None
    # The job's progress when claimed: for a job that records items, the items already recorded,
    # where a job started again goes on.
    done: int
    attempts: int
    summary: dict[str, Any] = field(default_factory=dict)

    def actor(self, session: Session) -> Actor:
        """The user who started the job, with their privileges as they stand now: a job does only
        what its starter may still do."""
        user = session.get(User, self.created_by_id) if self.created_by_id else None
        if user is None or not user.is_active:
            raise InvalidState(
                "The user who started this job no longer exists or was deactivated; "
                "an active user must start it again.",
                code="job_user_inactive",
            )
        return load_actor(session, user)

    def record(self, session: Session, first_position: int, items: Sequence[ItemResult]) -> None:
        """Write a batch's item results from ``first_position`` on, and the progress they make, in the
        caller's transaction (the one that writes the batch's work)."""
        if items:
            session.execute(
                insert(JobItem),
                [
                    {
                        "job_id": self.job_id,
                        "position": first_position + offset,
                        "record_id": item.record_id,
                        "status": item.status,
                        "code": item.code,
                        "message": item.message,
                        "data": item.data,
                    }
                    for offset, item in enumerate(items)
                ],
            )
        self.progress(session, first_position + len(items))

    def progress(self, session: Session | None, done: int, total: int | None = None) -> None:
        """Set the job's progress, in the caller's transaction, or on its own when ``session`` is None."""
        values: dict[str, Any] = {"progress_done": done, "heartbeat_at": utcnow()}
        if total is not None:
            values["progress_total"] = total
        statement = update(Job).where(Job.id == self.job_id).values(**values)
        if session is not None:
            session.execute(statement)
            return
        with self.database.unit_of_work() as uow:
            uow.session.execute(statement)
            uow.commit()

    def check_canceled(self) -> None:
        """Stop here (``JobCanceled``) if someone asked the job to; call it between batches."""
        with self.database.unit_of_work(read_only=True) as uow:
            asked = uow.session.scalar(select(Job.cancel_requested).where(Job.id == self.job_id))
        if asked:
            raise JobCanceled


Handler = Callable[[JobRun], dict[str, Any] | None]


def worker_name() -> str:
    """This process as a job's worker: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(database: Database, job_id: uuid.UUID, worker: str) -> JobRun | None:
    """Queued → running for this worker, atomically; None when the job is gone, finished, canceled
    or already taken (a second message for the same job changes nothing)."""
    now = utcnow()
    with database.unit_of_work() as uow:
        taken = uow.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == JobState.QUEUED, Job.cancel_requested.is_(False))
            .values(
                state=JobState.RUNNING,
                worker=worker[:200],
                heartbeat_at=now,
                started_at=func.coalesce(Job.started_at, now),  # a job started again keeps its first start
                attempts=Job.attempts + 1,
                row_version=Job.row_version + 1,
            )
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            return None
        job = uow.session.get_one(Job, job_id)
        run = JobRun(
            database=database,
            job_id=job.id,
            kind=job.kind,
            parameters=dict(job.parameters or {}),
            created_by_id=job.created_by_id,
            done=job.progress_done,
            attempts=job.attempts,
        )
        uow.commit()
    return run


def _end(
    database: Database, job_id: uuid.UUID, state: JobState, *, summary: Mapping[str, Any] | None, error: str | None
) -> None:
    with database.unit_of_work() as uow:
        counts = item_counts(uow.session, job_id)
        values: dict[str, Any] = {
            "state": state,
            "finished_at": utcnow(),
            "error": error,
            "heartbeat_at": utcnow(),
            "row_version": Job.row_version + 1,
        }
        merged = {**({"items": counts} if counts else {}), **(summary or {})}
        if merged:
            values["summary"] = merged
        if state is JobState.SUCCEEDED:
            job = uow.session.get_one(Job, job_id)
            values["progress_done"] = max(job.progress_done, job.progress_total)
            values["progress_total"] = max(job.progress_done, job.progress_total)
        uow.session.execute(update(Job).where(Job.id == job_id, Job.state == JobState.RUNNING).values(**values))
        uow.commit()


def failure_text(error: BaseException) -> str:
    """The reason a job failed, as its readers see it."""
    if isinstance(error, LeadflowError):
        return error.message
    reason = (str(error).splitlines() or [""])[0][:300]
    return f"The job stopped on an unexpected error ({type(error).__name__}: {reason}); retry it, or ask an administrator to look at the worker's log."


class _Heartbeat:
    """Beats a running job's heartbeat from a thread of its own until stopped."""

    def __init__(self, database: Database, job_id: uuid.UUID, every: float) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, args=(database, job_id, every), daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _beat(self, database: Database, job_id: uuid.UUID, every: float) -> None:
        while not self._stop.wait(every):
            try:
                with database.unit_of_work() as uow:
                    uow.session.execute(
                        update(Job).where(Job.id == job_id, Job.state == JobState.RUNNING).values(heartbeat_at=utcnow())
                    )
                    uow.commit()
            except (SQLAlchemyError, LeadflowError):  # busy with the job's own batch: beat next time
                log.debug("heartbeat of job %s skipped", job_id, exc_info=True)


def execute(
    database: Database,
    job_id: uuid.UUID,
    handlers: Mapping[str, Handler],
    *,
    worker: str | None = None,
    heartbeat: float = HEARTBEAT_SECONDS,
) -> JobState | None:
    """Run one job to its end, as a worker does; None when there was nothing to run (see ``claim``).

    A handler that raises fails the job with the reason, and the worker goes on with the next job.
    """
    run = claim(database, job_id, worker or worker_name())
    if run is None:
        return None
    handler = handlers.get(run.kind)
    try:
        if handler is None:
            raise InvalidState(f"This worker does not know jobs of kind {run.kind!r}.", code="job_kind_unknown")
        with _Heartbeat(database, job_id, heartbeat):
            summary = handler(run)
    except JobCanceled:
        _end(database, job_id, JobState.CANCELED, summary=run.summary, error=None)
        return JobState.CANCELED
    except Exception as error:
        if not isinstance(error, LeadflowError):
            log.exception("job %s (%s) failed", job_id, run.kind)
        _end(database, job_id, JobState.FAILED, summary=run.summary, error=failure_text(error))
        return JobState.FAILED
    _end(database, job_id, JobState.SUCCEEDED, summary={**run.summary, **(summary or {})}, error=None)
    return JobState.SUCCEEDED


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _worker_gone(worker: str | None, host: str) -> bool:
    """Whether a job's worker is a process of this host that no longer runs."""
    if not worker or ":" not in worker:
        return False
    worker_host, _, pid = worker.rpartition(":")
    return worker_host == host and pid.isdigit() and int(pid) != os.getpid() and not _process_alive(int(pid))


def recover_jobs(database: Database, *, stale_after: float = STALE_AFTER_SECONDS) -> list[uuid.UUID]:
    """Queue again the jobs whose worker died (a process of this host that is gone, or a heartbeat
    older than ``stale_after`` seconds), and the queued jobs whose message may have been lost with
    it; fail those whose worker died ``MAX_ATTEMPTS`` times. Returns the ids to hand to the queue."""
    now = utcnow()
    limit = now - timedelta(seconds=stale_after)
    host = socket.gethostname()
    requeue: list[uuid.UUID] = []
    with database.unit_of_work() as uow:
        session = uow.session
        running = session.execute(
            select(Job.id, Job.worker, Job.heartbeat_at, Job.attempts).where(Job.state == JobState.RUNNING)
        ).all()
        for job_id, worker, beat, attempts in running:
            if not (_worker_gone(worker, host) or beat is None or beat < limit):
                continue
            orphan = update(Job).where(Job.id == job_id, Job.state == JobState.RUNNING, Job.worker == worker)
            if attempts >= MAX_ATTEMPTS:
                session.execute(
                    orphan.values(
                        state=JobState.FAILED,
                        finished_at=now,
                        error=f"The worker running this job stopped {attempts} times before it finished "
                        f"(last: {worker}); it was not started again. Retry it once the cause is fixed.",
                        row_version=Job.row_version + 1,
                    )
                )
                continue
            moved = session.execute(
                orphan.values(state=JobState.QUEUED, enqueued_at=now, row_version=Job.row_version + 1)
            )
            if moved.rowcount == 1:  # type: ignore[attr-defined]
                log.warning("job %s lost its worker %s; queued again", job_id, worker)
                requeue.append(job_id)
        waiting = session.scalars(
            select(Job.id).where(Job.state == JobState.QUEUED, or_(Job.enqueued_at.is_(None), Job.enqueued_at < limit))
        ).all()
        if waiting:
            session.execute(update(Job).where(Job.id.in_(waiting)).values(enqueued_at=now))
            requeue.extend(waiting)
        uow.commit()
    return requeue
