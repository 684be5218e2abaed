"""Sending webhook deliveries from the job queue's workers.

A commit that queued deliveries wakes the workers (the domain's waker, registered here per database
engine): a Huey task sends what is due, several at once; every minute a periodic task sends what
has become due since (the retries). In ``immediate`` mode the task runs at once, in the process that
committed. The deliveries themselves are rows (``leadflow.webhooks.models``); the queue carries no
more than the wake-up.
"""

from __future__ import annotations

import logging

from huey import crontab

from leadflow.core.config import Settings
from leadflow.jobs.queue import JobQueue
from leadflow.webhooks import outbox
from leadflow.webhooks.delivery import DeliveryReport, deliver_due

log = logging.getLogger(__name__)

DELIVER = "leadflow.deliver_webhooks"
SWEEP = "leadflow.deliver_webhooks_due"


def install(queue: JobQueue, settings: Settings) -> None:
    """Give ``queue`` the task that sends due deliveries, run when a commit queued some and every minute."""
    database = queue.database

    def deliver() -> DeliveryReport:
        report = deliver_due(database, settings=settings)
        if report.attempts:
            log.info("webhooks: %s delivered, %s to retry, %s failed", report.delivered, report.retrying, report.failed)
        return report

    task = queue.huey.task(name=DELIVER)(deliver)
    queue.huey.periodic_task(crontab(minute="*"), name=SWEEP)(deliver)

    def wake() -> None:
        task()

    outbox.WAKERS[database.engine] = wake
