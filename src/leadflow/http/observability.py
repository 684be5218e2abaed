"""What operators watch: liveness and readiness, Prometheus metrics, and logs as JSON lines.

* ``/healthz`` answers 200 while the process serves; ``/readyz`` answers 200 only when the database
  answers, its schema is at leadflow's latest revision and the job queue answers (503 naming what
  does not otherwise), for load balancers and orchestrators.
* ``/metrics`` (prometheus-client's text format): request latency by method, route template and
  status; jobs by state and the queue's depth, read when scraped. Each server process counts its
  own requests (scrape every process, or set ``PROMETHEUS_MULTIPROC_DIR``, see prometheus-client).
* ``LEADFLOW_LOG_FORMAT=json`` writes every log line as one JSON object with the request's id.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadflow.core.migrate import current_revision, revisions
from leadflow.core.uow import Database
from leadflow.http.failures import CURRENT_REQUEST_ID
from leadflow.jobs.models import Job, JobState
from leadflow.jobs.queue import JobQueue

log = logging.getLogger(__name__)

# Latency buckets (seconds): leadflow's answers are mostly a few milliseconds.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _JobCollector(Collector):
    """Jobs by state and the queue's depth, read from the database and the queue at each scrape."""

    def __init__(self, database: Database, queue: JobQueue) -> None:
        self.database = database
        self.queue = queue

    def collect(self) -> Iterator[GaugeMetricFamily]:
        jobs = GaugeMetricFamily("leadflow_jobs", "Jobs by state.", labels=["state"])
        try:
            with self.database.unit_of_work(read_only=True) as uow:
                found = dict(uow.session.execute(select(Job.state, func.count()).group_by(Job.state)).all())
        except SQLAlchemyError:
            log.warning("metrics: the database did not answer", exc_info=True)
            found = {}
        for state in JobState:
            jobs.add_metric([state.value], found.get(state, 0))
        yield jobs
        depth = self.queue.depth()
        queue = GaugeMetricFamily("leadflow_queue_depth", "Messages waiting in the job queue (-1: it does not answer).")
        queue.add_metric([], -1 if depth is None else depth)
        yield queue


class Metrics:
    """One application's metrics, in a registry of its own."""

    def __init__(self, database: Database, queue: JobQueue) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "leadflow_http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route template and status.",
            ["method", "route", "status"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_JobCollector(database, queue))


class RequestTimer:
    """Times every HTTP request into ``Metrics.latency`` under its route's template."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self.metrics.latency.labels(scope.get("method", ""), route_template(scope), str(status)).observe(
                time.perf_counter() - started
            )


def route_template(scope: Scope) -> str:
    """The template of the route that answered (``/api/v1/leads/{lead_id}``), or ``unmatched``: a label
    per route, not per address. A route of an included router knows its path within the router only;
    the segments before it are the request's own (a template has as many segments as the path)."""
    template = getattr(scope.get("route"), "path", None)
    if not template:
        return "unmatched"
    path, ours = scope.get("path", "").rstrip("/").split("/"), template.rstrip("/").split("/")
    return "/".join(path[: max(len(path) - len(ours) + 1, 1)]) + template if len(ours) <= len(path) else template


def readiness(database: Database, queue: JobQueue) -> dict[str, str]:
    """Each dependency's state: ``ok``, or what is wrong."""
    checks: dict[str, str] = {}
    try:
        with database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        at, latest = current_revision(database.engine), revisions()[-1]
        checks["database"] = "ok"
        checks["migrations"] = "ok" if at == latest else f"at {at}, leadflow needs {latest}: run `leadflow db upgrade`"
    except SQLAlchemyError as error:
        checks["database"] = f"does not answer ({type(error).__name__})"
        checks["migrations"] = "unknown"
    checks["queue"] = "ok" if queue.reachable() else f"does not answer ({queue.describe()})"
    return checks


def operations_router(*, metrics: Metrics | None) -> APIRouter:
    """``/healthz``, ``/readyz`` and (with ``metrics``) ``/metrics``."""
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    def readyz(request: Request) -> JSONResponse:
        checks = readiness(request.app.state.database, request.app.state.queue)
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
        )

    if metrics is not None:

        @router.get("/metrics")
        def metrics_text() -> Response:
            return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return router


def install_operations(app: FastAPI, *, database: Database, queue: JobQueue, metrics: bool) -> None:
    """Add the health and readiness checks, and the metrics with their request timer when ``metrics``."""
    measured = Metrics(database, queue) if metrics else None
    app.include_router(operations_router(metrics=measured))
    if measured is not None:
        app.add_middleware(RequestTimer, metrics=measured)


class JsonLines(logging.Formatter):
    """A log record as one JSON object: time, level, logger, message, request id, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = CURRENT_REQUEST_ID.get()
        if request_id is not None:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def logging_config(log_format: str, level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for leadflow, uvicorn and Huey: plain lines or JSON lines."""
    formatter: dict[str, Any] = (
        {"()": JsonLines} if log_format == "json" else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    )
    handler = {"class": "logging.StreamHandler", "formatter": "leadflow", "stream": "ext://sys.stderr"}
    loggers = {
        name: {"handlers": ["leadflow"], "level": level, "propagate": False}
        for name in ("uvicorn", "uvicorn.access", "uvicorn.error", "huey", "leadflow")
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"leadflow": formatter},
        "handlers": {"leadflow": handler},
        "loggers": loggers,
        "root": {"handlers": ["leadflow"], "level": "WARNING"},
    }
