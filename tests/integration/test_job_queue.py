"""The job queue with real workers: a worker thread on each queue storage (a SQLite file, PostgreSQL's
own tables, Redis) runs a bulk qualification; a worker process killed with SIGKILL in the middle of
one leaves no lead qualified twice or half, and the next worker goes on from the last committed batch.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from leadflow.core.names import compose_full_name
from leadflow.core.uow import Database
from leadflow.customers.models import Account, Contact
from leadflow.jobs.models import Job, JobItem, JobState
from leadflow.jobs.queue import JobQueue
from leadflow.leads.bulk import OnDuplicate
from leadflow.leads.models import Lead, LeadState
from leadflow.leads.schemas import QualifyOptions
from leadflow.opportunities.models import Opportunity
from leadflow.security.actor import Actor
from leadflow.tasks import HANDLERS
from leadflow.tasks import qualify as qualify_task
from tests.conftest import REDIS_URL, redis_available

# Leads of the killed-worker test; LEADFLOW_TEST_CRASH_LEADS=50000 runs it at the size bench/README.md reports.
CRASH_LEADS = int(os.environ.get("LEADFLOW_TEST_CRASH_LEADS", "3000"))


_SYLLABLES = ("ba", "ke", "lo", "mi", "nu", "ra", "se", "ti", "vo", "zu", "da", "fe", "go", "hi", "ju", "pa")


def word(n: int, start: str) -> str:
    """A made-up word of its own for each ``n`` (and ``start``): names that neither match nor sound alike."""
    syllables = [start]
    while True:
        n, digit = divmod(n, len(_SYLLABLES))
        syllables.append(_SYLLABLES[digit])
        if not n:
            return "".join(syllables).capitalize()


def insert_leads(database: Database, actor: Actor, count: int) -> list[uuid.UUID]:
    """``count`` open leads, each a different person at a different company (no duplicates among them:
    duplicate detection's similar-name rules put few of them in one block)."""
    ids = [uuid.uuid4() for _ in range(count)]
    rows = [
        {
            "id": lead_id,
            "topic": f"Order {n}",
            "first_name": word(n, "an"),
            "last_name": word(n, "or"),
            "full_name": compose_full_name(word(n, "an"), word(n, "or")),
            "company_name": f"{word(n, 'el')} {word(n, 'us')}",
            "email": f"person{n}@{word(n, 'el').lower()}.example.com",
            "owner_user_id": actor.user_id,
            "owning_business_unit_id": actor.business_unit_id,
            "created_by_id": actor.user_id,
            "modified_by_id": actor.user_id,
        }
        for n, lead_id in enumerate(ids)
    ]
    with database.engine.begin() as connection:
        for start in range(0, count, 1000):
            connection.execute(insert(Lead), rows[start : start + 1000])
    return ids


def wait_for(condition: Callable[[], bool], *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds} s for {what}")
        time.sleep(0.05)


def job_state(database: Database, job_id: uuid.UUID) -> Job:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.get_one(Job, job_id)


def counts(database: Database, job_id: uuid.UUID) -> dict[str, int]:
    with database.unit_of_work(read_only=True) as uow:
        session = uow.session
        return {
            "qualified": session.scalar(select(func.count()).where(Lead.state == LeadState.QUALIFIED)) or 0,
            "accounts": session.scalar(select(func.count()).select_from(Account)) or 0,
            "contacts": session.scalar(select(func.count()).select_from(Contact)) or 0,
            "opportunities": session.scalar(select(func.count()).select_from(Opportunity)) or 0,
            "items": session.scalar(select(func.count()).where(JobItem.job_id == job_id)) or 0,
            "qualified_items": session.scalar(
                select(func.count()).where(JobItem.job_id == job_id, JobItem.status == "qualified")
            )
            or 0,
            # A qualified lead without its opportunity, or an opportunity whose lead is not qualified.
            "half": (
                session.scalar(
                    select(func.count()).where(
                        Lead.state == LeadState.QUALIFIED, Lead.qualifying_opportunity_id.is_(None)
                    )
                )
                or 0
            )
            + (
                session.scalar(
                    select(func.count())
                    .select_from(Opportunity)
                    .join(Lead, Lead.id == Opportunity.originating_lead_id)
                    .where(Lead.state != LeadState.QUALIFIED)
                )
                or 0
            ),
        }


def queue_urls(tmp_path: Path, database: Database) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'queue.db'}"
    if database.dialect == "postgresql":
        yield database.url


@pytest.fixture(params=["file", "redis"])
def queue(request: pytest.FixtureRequest, database: Database, tmp_path: Path) -> Iterator[JobQueue]:
    """A real queue for this test's database: on SQLite a queue file, on PostgreSQL its own tables; and Redis."""
    if request.param == "redis":
        if not redis_available():
            pytest.skip(f"Redis not reachable at {REDIS_URL}")
        url = REDIS_URL
    elif database.dialect == "postgresql":
        url = database.url
    else:
        url = f"sqlite:///{tmp_path / 'queue.db'}"
    job_queue = JobQueue(url, database, HANDLERS, name=f"test-{uuid.uuid4().hex[:12]}")
    yield job_queue
    job_queue.huey.flush()


def test_a_worker_thread_runs_a_bulk_qualification_from_the_queue(database: Database, actor: Actor, queue: JobQueue):
    lead_ids = insert_leads(database, actor, 120)
    job = qualify_task.start(lead_ids, QualifyOptions(), on_duplicate=OnDuplicate.SKIP, database=database, actor=actor)
    assert queue.enqueue(job.id)
    assert queue.depth() == 1 and job_state(database, job.id).state is JobState.QUEUED  # nobody took it yet

    # Without the scheduler's periodic recovery, whose own message would count in the depth below.
    consumer = queue.consumer(workers=1, embedded=True, periodic=False)
    consumer.start()
    try:
        wait_for(lambda: job_state(database, job.id).state is JobState.SUCCEEDED, seconds=60, what="the job to end")
    finally:
        consumer.stop(graceful=True)

    ended = job_state(database, job.id)
    assert (ended.progress_done, ended.progress_total) == (120, 120)
    assert ended.summary == {"items": {"qualified": 120}, "not_attempted": 0}
    assert counts(database, job.id) == {
        "qualified": 120,
        "accounts": 120,
        "contacts": 120,
        "opportunities": 120,
        "items": 120,
        "qualified_items": 120,
        "half": 0,
    }
    assert queue.depth() == 0


def _worker(database: Database, queue_url: str, queue_name: str, log: Path) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "LEADFLOW_DATABASE_URL": database.url,
        "LEADFLOW_QUEUE_URL": queue_url,
        "LEADFLOW_QUEUE_NAME": queue_name,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "leadflow.cli", "worker"],
        env=environment,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def test_a_worker_killed_mid_job_leaves_no_lead_qualified_twice_or_half_and_the_next_goes_on(
    database: Database, actor: Actor, tmp_path: Path
):
    queue_url = f"sqlite:///{tmp_path / 'queue.db'}" if database.dialect == "sqlite" else database.url
    name = f"crash-{uuid.uuid4().hex[:12]}"
    queue = JobQueue(queue_url, database, HANDLERS, name=name)
    lead_ids = insert_leads(database, actor, CRASH_LEADS)
    job = qualify_task.start(lead_ids, QualifyOptions(), on_duplicate=OnDuplicate.SKIP, database=database, actor=actor)
    with database.unit_of_work() as uow:  # small batches: the kill lands between many commits
        uow.session.get_one(Job, job.id).parameters = {**job.parameters, "batch_size": 100}
        uow.commit()
    assert queue.enqueue(job.id)

    log = tmp_path / "workers.log"
    first = _worker(database, queue_url, name, log)
    try:
        wait_for(lambda: job_state(database, job.id).progress_done >= 300, seconds=120, what="a few batches")
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    killed = job_state(database, job.id)
    assert killed.state is JobState.RUNNING and killed.progress_done < CRASH_LEADS, "the kill came too late"
    middle = counts(database, job.id)
    # Whatever the kill interrupted was rolled back whole: each committed lead has its records and its line.
    assert middle["half"] == 0
    assert middle["qualified"] == middle["accounts"] == middle["contacts"] == middle["opportunities"]
    assert middle["qualified"] == middle["qualified_items"] == middle["items"] == killed.progress_done

    second = _worker(database, queue_url, name, log)  # finds the job of a dead process and queues it again
    try:
        wait_for(
            lambda: job_state(database, job.id).state is JobState.SUCCEEDED,
            seconds=max(120, CRASH_LEADS / 50),
            what="the job to end",
        )
    except AssertionError:
        raise AssertionError(log.read_text()[-3000:]) from None
    finally:
        second.send_signal(signal.SIGINT)
        try:
            second.wait(timeout=30)
        except subprocess.TimeoutExpired:
            second.kill()
    ended = job_state(database, job.id)
    assert ended.attempts == 2
    final = counts(database, job.id)
    # Every lead has exactly one line; each qualified one has its three records, once; made-up names
    # that happen to look alike (more of them the more leads there are) are skipped as duplicates,
    # with their line saying so.
    assert final["items"] == CRASH_LEADS and final["half"] == 0
    assert final["qualified"] == final["accounts"] == final["contacts"] == final["opportunities"]
    assert final["qualified"] == final["qualified_items"] > CRASH_LEADS / 2
    assert ended.summary is not None
    assert ended.summary["items"] == {
        "qualified": final["qualified"],
        **({"skipped": CRASH_LEADS - final["qualified"]} if final["qualified"] < CRASH_LEADS else {}),
    }
    with database.unit_of_work(read_only=True) as uow:
        positions = uow.session.scalars(select(JobItem.position).where(JobItem.job_id == job.id)).all()
    assert sorted(positions) == list(range(CRASH_LEADS))


def test_a_running_bulk_job_canceled_stops_after_its_batch_and_a_retry_goes_on_from_there(
    database: Database, actor: Actor, tmp_path: Path
):
    from leadflow.jobs.service import cancel_job, retry_job

    queue = JobQueue(f"sqlite:///{tmp_path / 'queue.db'}", database, HANDLERS, name=f"cancel-{uuid.uuid4().hex[:8]}")
    lead_ids = insert_leads(database, actor, 2000)
    job = qualify_task.start(lead_ids, QualifyOptions(), on_duplicate=OnDuplicate.SKIP, database=database, actor=actor)
    with database.unit_of_work() as uow:
        uow.session.get_one(Job, job.id).parameters = {**job.parameters, "batch_size": 50}
        uow.commit()
    consumer = queue.consumer(workers=1, embedded=True)
    consumer.start()
    try:
        queue.enqueue(job.id)
        wait_for(lambda: job_state(database, job.id).progress_done >= 100, seconds=60, what="two batches")
        with database.unit_of_work() as uow:
            assert cancel_job(job.id, uow=uow, actor=actor).cancel_requested
            uow.commit()
        wait_for(lambda: job_state(database, job.id).state is JobState.CANCELED, seconds=60, what="the cancel")
        stopped = job_state(database, job.id)
        middle = counts(database, job.id)
        assert stopped.progress_done % 50 == 0 and stopped.progress_done < 2000  # whole batches only
        assert middle["items"] == stopped.progress_done and middle["half"] == 0
        assert middle["qualified"] == middle["qualified_items"]

        with database.unit_of_work() as uow:
            retry_job(job.id, uow=uow, actor=actor)
            uow.commit()
        queue.enqueue(job.id)
        wait_for(lambda: job_state(database, job.id).state is JobState.SUCCEEDED, seconds=120, what="the retry")
    finally:
        consumer.stop(graceful=True)
    final = counts(database, job.id)
    assert final["items"] == 2000 and final["half"] == 0
    assert final["qualified"] == final["qualified_items"] == final["accounts"]


def test_a_job_that_fails_is_marked_failed_with_its_reason_and_the_queue_goes_on(
    database: Database, actor: Actor, tmp_path: Path
):
    from leadflow.jobs.service import create_job

    queue = JobQueue(f"sqlite:///{tmp_path / 'queue.db'}", database, HANDLERS, name=f"fail-{uuid.uuid4().hex[:8]}")
    with database.unit_of_work() as uow:
        unknown = create_job(uow.session, actor, kind="no_such_kind", title="Mystery", parameters={})
        broken = create_job(uow.session, actor, kind="bulk_qualify", title="Broken", parameters={"lead_ids": ["nope"]})
        good = create_job(uow.session, actor, kind="currency_recalculation", title="Recalculate", parameters={})
        uow.commit()
    for job in (unknown, broken, good):
        queue.enqueue(job.id)
    consumer = queue.consumer(workers=1, embedded=True)
    consumer.start()
    try:
        wait_for(lambda: job_state(database, good.id).state is JobState.SUCCEEDED, seconds=60, what="the good job")
    finally:
        consumer.stop(graceful=True)
    failed = job_state(database, unknown.id)
    assert failed.state is JobState.FAILED and "no_such_kind" in (failed.error or "")
    crashed = job_state(database, broken.id)
    assert crashed.state is JobState.FAILED
    assert crashed.error is not None and crashed.error.startswith("The job stopped on an unexpected error (ValueError")
