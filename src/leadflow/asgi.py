"""The ASGI application: the REST API and the web app, served together by one process.

``leadflow serve`` builds it around the database it prepared; ``create_app`` also works as an
application factory (``uvicorn --factory leadflow.asgi:create_app``), reading the settings from the
environment.
"""

from __future__ import annotations

from fastapi import FastAPI

from leadflow import __version__
from leadflow.api.app import API_PREFIX, install_api
from leadflow.bootstrap import prepare_database
from leadflow.core.config import Settings
from leadflow.core.uow import Database
from leadflow.http.failures import RequestIds
from leadflow.http.limits import MAX_JSON_BYTES, BodySizeLimit
from leadflow.web import install_web_handlers, web_router


def create_app(database: Database | None = None, settings: Settings | None = None) -> FastAPI:
    """Build the application around one database (by default the configured one, migrated first)."""
    settings = settings or Settings()
    database = database or prepare_database(settings).database
    app = FastAPI(
        title="leadflow",
        version=__version__,
        description="Sales CRM built around the lead lifecycle: capture, qualify, disqualify, reactivate.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served by the API from local assets: leadflow works offline, no CDN
        redoc_url=None,
    )
    app.state.database = database
    app.state.settings = settings
    install_api(app, database)
    app.include_router(web_router)
    install_web_handlers(app)
    app.add_middleware(
        BodySizeLimit, max_attachment_bytes=settings.max_attachment_bytes, max_json_bytes=MAX_JSON_BYTES
    )
    app.add_middleware(RequestIds)  # outermost of ours: every answer, the body limit's too, carries the id
    return app
