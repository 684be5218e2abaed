"""Sending recorded e-mails as jobs: the handler a worker runs, and the sweep that starts a new job
for each e-mail whose next try has come (run every minute by the queue's workers)."""

from __future__ import annotations

import uuid
from typing import Any

from leadflow.activities.activity import SEND_KIND
from leadflow.activities.sending import deliver_email, due_for_retry
from leadflow.core.config import Settings
from leadflow.core.uow import Database
from leadflow.jobs.models import Job
from leadflow.jobs.runner import Handler, JobRun
from leadflow.jobs.service import create_job
from leadflow.security.actor import load_actor
from leadflow.security.models import User

KIND = SEND_KIND


def sender(settings: Settings) -> Handler:
    """The handler that sends one e-mail through the server of ``settings``."""

    def run(job: JobRun) -> dict[str, Any]:
        return deliver_email(job.database, uuid.UUID(job.parameters["activity_id"]), settings)

    return run


def start_retries(database: Database) -> list[Job]:
    """A job for each e-mail whose next try has come, started as the user who last changed it."""
    jobs = []
    for activity_id, user_id in due_for_retry(database):
        with database.unit_of_work() as uow:
            user = uow.session.get(User, user_id) if user_id else None
            if user is None:
                continue
            job = create_job(
                uow.session,
                load_actor(uow.session, user),
                kind=KIND,
                title="Send an e-mail again",
                parameters={"activity_id": str(activity_id)},
            )
            uow.commit()
        jobs.append(job)
    return jobs
