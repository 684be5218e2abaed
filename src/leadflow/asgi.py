"""The ASGI application: the REST API and the web app, served together by one process.

``leadflow serve`` builds it around the database it prepared; ``create_app`` also works as an
application factory (``uvicorn --factory leadflow.asgi:create_app``), reading the settings from the
environment.

An error no page or endpoint answered itself (an unknown address, a refusal left unhandled, a body
over its size limit, an unexpected failure) answers the API's JSON under /api/ and a web page, in
the user's language, everywhere else; should that page fail, the JSON is answered after all.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import Scope

from leadflow import __version__
from leadflow.api.app import API_PREFIX, install_api
from leadflow.bootstrap import prepare_database
from leadflow.core.config import Settings
from leadflow.core.errors import LeadflowError, TooLarge
from leadflow.core.uow import Database
from leadflow.dataverse import install_dataverse
from leadflow.http.errors import status_for
from leadflow.http.failures import RequestIds
from leadflow.http.limits import MAX_JSON_BYTES, BodySizeLimit
from leadflow.http.observability import install_operations
from leadflow.jobs.queue import JobQueue
from leadflow.tasks import job_queue
from leadflow.web import install_web_handlers, web_router
from leadflow.web.errors import error_page, failure_page, too_large_page

log = logging.getLogger("leadflow.http")

# How long a stopping server waits for the jobs its worker is running (seconds).
WORKER_SHUTDOWN_SECONDS = 10

ExceptionHandler = Callable[[Request, Exception], Awaitable[Response]]
# What Starlette keeps for an exception class: a function, plain or async, of the request and the error.
RegisteredHandler = Callable[[Request, Any], Response | Awaitable[Response]]


def create_app(
    database: Database | None = None,
    settings: Settings | None = None,
    *,
    queue: JobQueue | None = None,
    worker: bool = False,
) -> FastAPI:
    """Build the application around one database (by default the configured one, migrated first) and
    its job queue (by default the configured one); with ``worker``, it runs jobs too, in threads of
    its own (``embedded_worker``) while it serves."""
    settings = settings or Settings()
    database = database or prepare_database(settings).database
    queue = queue or job_queue(settings, database)
    app = FastAPI(
        lifespan=embedded_worker(queue, threads=settings.worker_threads) if worker else None,
        title="leadflow",
        version=__version__,
        description="Sales CRM built around the lead lifecycle: capture, qualify, disqualify, reactivate.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served by the API from local assets: leadflow works offline, no CDN
        redoc_url=None,
    )
    app.state.database = database
    app.state.settings = settings
    app.state.queue = queue
    install_api(app, database)
    install_dataverse(app)
    app.include_router(web_router)
    install_web_handlers(app)
    install_error_pages(app)
    install_operations(app, database=database, queue=queue, metrics=settings.metrics)
    app.add_middleware(
        BodySizeLimit,
        max_attachment_bytes=settings.max_attachment_bytes,
        max_json_bytes=MAX_JSON_BYTES,
        page_for_refusal=_page_for_refusal,
        import_paths=("/api/v1/imports", "/imports"),
        max_import_bytes=settings.max_import_bytes,
    )
    # Outermost of ours: every answer, the body limit's too, carries the id.
    app.add_middleware(RequestIds, page_for_failure=_page_for_failure)
    return app


def embedded_worker(queue: JobQueue, *, threads: int = 1) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """A lifespan that runs a job worker inside the server: jobs left by a worker that died are
    queued again, then ``threads`` threads take jobs until the server stops (a job still running
    then is given a few seconds, and otherwise picked up again by the next worker that starts)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        consumer = None
        if not queue.immediate:
            await run_in_threadpool(queue.recover)
            consumer = queue.consumer(workers=threads, embedded=True, shutdown_timeout=WORKER_SHUTDOWN_SECONDS)
            consumer.start()
            log.info("job worker started in the server (%s thread(s), queue %s)", threads, queue.describe())
        try:
            yield
        finally:
            if consumer is not None:
                await run_in_threadpool(consumer.stop, graceful=True)

    return lifespan


#: Set to 1 by ``leadflow serve --workers N``: each server process runs a job worker too.
EMBEDDED_WORKER = "LEADFLOW_EMBEDDED_WORKER"


def served_app() -> FastAPI:
    """The application factory of ``leadflow serve --workers N``: ``create_app`` from the environment,
    with a job worker when ``LEADFLOW_EMBEDDED_WORKER=1``."""
    return create_app(worker=os.environ.get(EMBEDDED_WORKER) == "1")


# ---------------------------------------------------------------------------------------------- errors: JSON or page


def is_api_request(scope: Scope) -> bool:
    """Whether a request's path is under /api/ (the REST API, whose errors are always JSON).

    The path is the app's own: without the prefix the server may serve the app under (``root_path``),
    as the routes see it, also once a mounted app (the API's documentation assets) changed the scope."""
    path = scope["path"]
    root = scope.get("app_root_path", scope.get("root_path", ""))
    if root and path.startswith(root):
        path = path[len(root) :]
    return path == "/api" or path.startswith("/api/")


# The errors the API's handlers answer with JSON for every path; outside /api/ they become pages.
_ERRORS_WITH_PAGES = (LeadflowError, RequestValidationError, StarletteHTTPException)


def install_error_pages(app: FastAPI) -> None:
    """Wrap the API's error handlers: JSON under /api/, the web app's error page elsewhere."""
    for error_class in _ERRORS_WITH_PAGES:
        app.add_exception_handler(error_class, _json_or_page(app.exception_handlers[error_class]))


def _json_or_page(api_answer: RegisteredHandler) -> ExceptionHandler:
    async def answer(request: Request, error: Exception) -> Response:
        if is_api_request(request.scope):
            return await _answered(api_answer, request, error)
        try:
            # The page may look up the signed-in user's language: a database query, off the event loop.
            return await run_in_threadpool(_page_for_error, request, error)
        except Exception:
            log.exception("the error page of %s %s failed; answering JSON", request.method, request.url.path)
            return await _answered(api_answer, request, error)

    return answer


async def _answered(handler: RegisteredHandler, request: Request, error: Exception) -> Response:
    answered = handler(request, error)
    return answered if isinstance(answered, Response) else await answered


def _page_for_error(request: Request, error: Exception) -> Response:
    if isinstance(error, LeadflowError):
        status = status_for(error)
        headers: dict[str, str] = {}
        if status == 429 and isinstance(error.details, dict) and "retry_after" in error.details:
            headers["Retry-After"] = str(error.details["retry_after"])
        return error_page(request, status, error=error, headers=headers)
    if isinstance(error, StarletteHTTPException):
        return error_page(request, error.status_code, headers=error.headers)  # a 405's Allow, say
    return error_page(request, 422)  # a RequestValidationError: what was sent could not be read


async def _page_for_refusal(scope: Scope, refusal: TooLarge, limit_bytes: int) -> Response | None:
    if is_api_request(scope):
        return None
    return await run_in_threadpool(too_large_page, Request(scope), refusal, limit_bytes)


def _page_for_failure(scope: Scope, request_id: str) -> Response | None:
    if is_api_request(scope):
        return None
    return failure_page(Request(scope), request_id)
