"""Every long operation as a job: how each kind is started (checked at once, as the same work done
in one request would be) and how a worker runs it (``HANDLERS``), over the job machinery of
``leadflow.jobs``. The API, the web app and the command line start jobs here; ``leadflow worker``
and the worker ``leadflow serve`` embeds run them.
"""

from __future__ import annotations

import uuid

from huey import crontab

from leadflow.core.config import Settings
from leadflow.core.uow import Database
from leadflow.jobs.models import Job
from leadflow.jobs.queue import JobQueue, default_queue_url
from leadflow.jobs.runner import Handler
from leadflow.tasks import admin, mail, qualify, scoring, transfer, webhooks

HANDLERS: dict[str, Handler] = {
    qualify.KIND: qualify.run,
    admin.SCAN: admin.run_scan,
    admin.PUBLISH: admin.run_publish,
    admin.RECALCULATE: admin.run_recalculation,
    transfer.IMPORT: transfer.run_import,
    transfer.EXPORT: transfer.run_export,
    scoring.TRAIN: scoring.run_training,
    scoring.RESCORE: scoring.run_rescore,
}


def queue_url(settings: Settings) -> str:
    """The queue's address: the setting, or beside the database."""
    return settings.queue_url or default_queue_url(settings.database_url)


def job_queue(settings: Settings, database: Database) -> JobQueue:
    """The job queue of these settings, running leadflow's kinds of job on ``database``; its workers
    also start, every minute, the next try of each e-mail the mail server did not take, and every
    night the scoring of every open lead again (02:47) and the trainings of the scoring models whose
    retraining is due (03:17); webhook deliveries are sent when a commit queues them and every minute
    (``leadflow.tasks.webhooks``)."""
    queue = JobQueue(
        queue_url(settings), database, {**HANDLERS, mail.KIND: mail.sender(settings)}, name=settings.queue_name
    )

    def retry_emails() -> None:
        for job in mail.start_retries(database):
            queue.enqueue(job.id)

    def retrain_models() -> None:
        for job in scoring.due_retraining(database):
            queue.enqueue(job.id)

    def rescore_leads() -> None:
        job = scoring.nightly_rescore(database)
        if job is not None:
            queue.enqueue(job.id)

    queue.huey.periodic_task(crontab(minute="*"), name="leadflow.retry_emails")(retry_emails)
    queue.huey.periodic_task(crontab(minute="17", hour="3"), name="leadflow.retrain_models")(retrain_models)
    queue.huey.periodic_task(crontab(minute="47", hour="2"), name="leadflow.rescore_leads")(rescore_leads)
    webhooks.install(queue, settings)
    return queue


def submit(job_id: uuid.UUID, *, queue: JobQueue, database: Database) -> Job:
    """Hand a committed job to the queue and read it back (in ``immediate`` mode it has run by then)."""
    queue.enqueue(job_id)
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.get_one(Job, job_id)


__all__ = [
    "HANDLERS",
    "admin",
    "job_queue",
    "mail",
    "qualify",
    "queue_url",
    "scoring",
    "submit",
    "transfer",
    "webhooks",
]
