"""Imports running side by side, as two sellers' would on two workers, never make the same record twice:
two files naming the same new account (created when missing) leave one account, and two files with
the same leads leave each lead once."""

from __future__ import annotations

import io
import threading
import uuid

from sqlalchemy import func, select

from leadflow.core.uow import Database
from leadflow.customers.models import Account, Contact
from leadflow.jobs.models import JobState
from leadflow.jobs.runner import execute
from leadflow.leads.models import Lead
from leadflow.security.actor import Actor
from leadflow.tasks import HANDLERS
from leadflow.transfer import service
from leadflow.transfer.models import TransferTable


def run_side_by_side(database: Database, actor: Actor, files: list[bytes], **request: object) -> list[JobState | None]:
    jobs = [
        service.start_import(
            io.BytesIO(content),
            service.ImportRequest(**request),  # type: ignore[arg-type]
            filename=f"{index}.csv",
            media_type="text/csv",
            database=database,
            actor=actor,
            max_bytes=1 << 20,
        ).id
        for index, content in enumerate(files)
    ]
    states: dict[uuid.UUID, JobState | None] = {}
    start = threading.Barrier(len(jobs))

    def work(job_id: uuid.UUID) -> None:
        start.wait()
        states[job_id] = execute(database, job_id, HANDLERS, worker=f"test-{job_id.hex[:6]}")

    threads = [threading.Thread(target=work, args=(job_id,)) for job_id in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return [states.get(job_id) for job_id in jobs]


def test_two_imports_naming_the_same_new_account_create_it_once(database: Database, actor: Actor):
    files = [
        "Last Name,Email,Account Name\r\n"
        + "".join(f"Person{side}{n},p{side}{n}@example.com,Contoso Ibérica\r\n" for n in range(15))
        for side in ("a", "b")
    ]
    states = run_side_by_side(
        database,
        actor,
        [content.encode() for content in files],
        table=TransferTable.CONTACTS,
        create_missing_accounts=True,
    )
    assert states == [JobState.SUCCEEDED, JobState.SUCCEEDED]
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Account)) == 1
        assert uow.session.scalar(select(func.count()).select_from(Contact)) == 30
        assert uow.session.scalar(select(func.count(func.distinct(Contact.account_id)))) == 1


def test_two_imports_of_the_same_leads_save_each_lead_once(database: Database, actor: Actor):
    content = "Topic,Last Name,Email\r\n" + "".join(f"Deal {n},Buyer{n},buyer{n}@example.com\r\n" for n in range(20))
    # Not the same bytes (so not recognised by the file): the duplicate rules must catch them.
    files = [content.encode(), (content + "\r\n").encode()]
    states = run_side_by_side(database, actor, files, table=TransferTable.LEADS)
    assert states == [JobState.SUCCEEDED, JobState.SUCCEEDED]
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Lead)) == 20
        assert uow.session.scalar(select(func.count(func.distinct(Lead.email)))) == 20
