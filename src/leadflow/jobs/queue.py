"""The job queue: Huey, with its storage chosen by one setting, ``LEADFLOW_QUEUE_URL``.

* unset: kept beside the database, with no server of its own: a SQLite file next to a SQLite
  database (``leadflow.db`` → ``leadflow.queue.db``), or tables of the same PostgreSQL database
  (Huey's PostgreSQL storage, woken by LISTEN/NOTIFY), which every machine that reaches the
  database shares;
* ``redis://host:port/db``: a Redis broker, for many machines;
* ``sqlite:///path`` or ``postgresql://...``: those storages at another place;
* ``immediate``: no queue at all, each job runs at once in the process that starts it (scripts
  and test suites);
* ``memory``: a queue inside one process, for a worker thread of that same process.

The queue carries only job ids; what a job does and how far it got live in the ``jobs`` table,
which is why the same job code runs on every storage and why a message lost with a killed worker
loses nothing (``leadflow.jobs.runner.recover_jobs`` queues the job again).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from huey import Huey, MemoryHuey, PostgresHuey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer
from sqlalchemy.engine import make_url

from leadflow.core.errors import ValidationFailed
from leadflow.core.uow import Database
from leadflow.jobs.runner import Handler, execute, recover_jobs

log = logging.getLogger(__name__)

QUEUE_NAME = "leadflow"
# The tables Huey keeps in a PostgreSQL database: job_queue_task, job_queue_schedule, ...
POSTGRES_TABLE_PREFIX = "job_queue"


def default_queue_url(database_url: str) -> str:
    """Where the queue lives when ``LEADFLOW_QUEUE_URL`` is unset: beside the database."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        return url.set(drivername="postgresql").render_as_string(hide_password=False)
    if url.database in (None, "", ":memory:"):
        return "immediate"
    path = Path(url.database)
    return f"sqlite:///{path.with_name(path.stem + '.queue.db')}"


def make_huey(queue_url: str, name: str = QUEUE_NAME) -> Huey:
    """A Huey instance on the storage ``queue_url`` names (see the module's docstring)."""
    if queue_url == "immediate":
        return MemoryHuey(name, immediate=True, results=False)
    if queue_url == "memory":
        return MemoryHuey(name, results=False)
    scheme = queue_url.partition(":")[0].lower()
    if scheme in ("redis", "rediss", "unix"):
        return RedisHuey(name, url=queue_url, results=False)
    if scheme.startswith("sqlite"):
        path = make_url(queue_url).database
        if not path or path == ":memory:":
            raise ValidationFailed(
                "A SQLite queue needs a file: LEADFLOW_QUEUE_URL=sqlite:///path/to/queue.db.", code="invalid_queue_url"
            )
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(name, filename=path, results=False)
    if scheme.startswith(("postgresql", "postgres")):
        dsn = make_url(queue_url).set(drivername="postgresql").render_as_string(hide_password=False)
        return PostgresHuey(name, dsn=dsn, table_prefix=POSTGRES_TABLE_PREFIX, results=False)
    raise ValidationFailed(
        f"LEADFLOW_QUEUE_URL {queue_url!r} names no queue leadflow knows: use redis://, sqlite:///, "
        "postgresql://, memory or immediate, or leave it unset to keep the queue beside the database.",
        code="invalid_queue_url",
    )


class _EmbeddedConsumer(Consumer):
    """A consumer inside another program (the web server): the program keeps its signal handlers."""

    def _set_signal_handlers(self) -> None:
        pass


class JobQueue:
    """Hands job ids to workers and runs them there with the kinds' handlers."""

    def __init__(
        self, url: str, database: Database, handlers: Mapping[str, Handler], *, name: str = QUEUE_NAME
    ) -> None:
        self.url = url
        self.database = database
        self.handlers = dict(handlers)
        self.huey = make_huey(url, name)
        self._run = self.huey.task(name="leadflow.run_job")(self._execute)
        self.huey.periodic_task(crontab(minute="*"), name="leadflow.recover_jobs")(self.recover)

    @property
    def immediate(self) -> bool:
        return bool(self.huey.immediate)

    def _execute(self, job_id: str) -> None:
        execute(self.database, uuid.UUID(job_id), self.handlers)

    def enqueue(self, job_id: uuid.UUID) -> bool:
        """Hand a committed job to the workers (in ``immediate`` mode: run it now). False when the queue
        does not answer: the job stays queued in the database and is handed over once it does."""
        try:
            self._run(str(job_id))
        except Exception:  # the job stays queued in the database, handed over by recover_jobs
            log.exception("the job queue (%s) did not take job %s; it stays queued", self.describe(), job_id)
            return False
        return True

    def recover(self) -> list[uuid.UUID]:
        """Queue again the jobs whose worker died (see ``recover_jobs``)."""
        ids = recover_jobs(self.database)
        for job_id in ids:
            self.enqueue(job_id)
        return ids

    def reachable(self) -> bool:
        """Whether the queue's storage answers."""
        try:
            if isinstance(self.huey, RedisHuey):
                self.huey.storage.conn.ping()
            else:
                self.huey.pending_count()
        except Exception:  # noqa: BLE001 - whatever the storage raises (Redis, SQLite, psycopg), it does not answer
            return False
        return True

    def depth(self) -> int | None:
        """Messages waiting in the queue, or None when it does not answer."""
        try:
            return int(self.huey.pending_count())
        except Exception:  # noqa: BLE001 - as in reachable
            return None

    def describe(self) -> str:
        """The queue's storage, with no password."""
        if self.url in ("immediate", "memory"):
            return self.url
        try:
            return make_url(self.url).render_as_string(hide_password=True)
        except Exception:  # noqa: BLE001 - not a URL SQLAlchemy reads (redis://): only its scheme
            return self.url.partition(":")[0] + "://…"

    def consumer(self, *, workers: int = 1, embedded: bool = False, **options: Any) -> Consumer:
        """A Huey consumer of this queue with ``workers`` threads; ``embedded`` leaves signals alone."""
        kind = _EmbeddedConsumer if embedded else Consumer
        options.setdefault("max_delay", 1.0)  # an idle SQLite queue is polled at least every second
        return kind(self.huey, workers=workers, worker_type="thread", **options)
