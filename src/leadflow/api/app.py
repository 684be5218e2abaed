"""The FastAPI application: REST API under /api/v1."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from leadflow import __version__
from leadflow.api import duplicate_jobs, duplicates, leads, merges, notes, process, security, settings as settings_api
from leadflow.api.errors import error_body, install_error_handlers
from leadflow.api.records import TableEndpoints, crud_router
from leadflow.config import Settings
from leadflow.errors import TooLarge
from leadflow.customers import service as customers
from leadflow.customers.models import Account, Contact
from leadflow.customers.schemas import AccountCreate, AccountOut, AccountUpdate, ContactCreate, ContactOut, ContactUpdate
from leadflow.opportunities import service as opportunities
from leadflow.opportunities.models import Opportunity
from leadflow.opportunities.schemas import OpportunityCreate, OpportunityOut, OpportunityUpdate
from leadflow.uow import Database
from leadflow.web import install_web_handlers, web_router

API_PREFIX = "/api/v1"
DOCS_ASSETS = f"{API_PREFIX}/docs-assets"
# Swagger UI 5 as shipped inside the fastapi-offline wheel (installed from PyPI); only its files are used.
SWAGGER_UI_ASSETS = Path(importlib.util.find_spec("fastapi_offline").origin).parent / "static"
# Largest JSON body: a bulk request naming 5,000 lead ids is about 200 KB.
MAX_JSON_BYTES = 2 * 1024 * 1024
# Room for the multipart envelope and the form fields around an attachment.
_ENVELOPE_BYTES = 64 * 1024

TABLES = (
    TableEndpoints(
        "accounts", "account", Account, AccountCreate, AccountUpdate, AccountOut,
        customers.create_account, customers.update_account, customers.delete_account,
    ),
    TableEndpoints(
        "contacts", "contact", Contact, ContactCreate, ContactUpdate, ContactOut,
        customers.create_contact, customers.update_contact, customers.delete_contact,
    ),
    TableEndpoints(
        "opportunities", "opportunity", Opportunity, OpportunityCreate, OpportunityUpdate, OpportunityOut,
        opportunities.create_opportunity, opportunities.update_opportunity, opportunities.delete_opportunity,
    ),
)


class BodySizeLimit:
    """Refuse a request whose declared body is too large, before reading it.

    Uploads (multipart forms) may carry an attachment up to the configured limit; any other body
    (JSON) is capped at ``max_json_bytes``.
    """

    def __init__(self, app: ASGIApp, *, max_attachment_bytes: int, max_json_bytes: int) -> None:
        self.app = app
        self.max_attachment_bytes = max_attachment_bytes
        self.max_json_bytes = max_json_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            declared = headers.get(b"content-length", b"")
            if declared.isdigit():
                is_upload = headers.get(b"content-type", b"").startswith(b"multipart/form-data")
                limit = self.max_attachment_bytes + _ENVELOPE_BYTES if is_upload else self.max_json_bytes
                if int(declared) > limit:
                    error = (
                        notes.too_large(self.max_attachment_bytes)
                        if is_upload
                        else TooLarge(
                            f"The request body is larger than {self.max_json_bytes} bytes; send less at once.",
                            code="request_too_large",
                        )
                    )
                    await JSONResponse(error_body(error), status_code=413)(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def create_app(database: Database, settings: Settings) -> FastAPI:
    """Build the application around one database."""
    app = FastAPI(
        title="leadflow",
        version=__version__,
        description="Sales CRM built around the lead lifecycle: capture, qualify, disqualify, reactivate.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served below from local assets: leadflow works offline, no CDN
        redoc_url=None,
    )
    app.state.database = database
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(security.router, prefix=API_PREFIX)
    app.include_router(leads.router, prefix=API_PREFIX)
    app.include_router(process.router, prefix=API_PREFIX)
    for table in TABLES:
        app.include_router(crud_router(table), prefix=API_PREFIX)
    app.include_router(notes.router, prefix=API_PREFIX)
    app.include_router(settings_api.router, prefix=API_PREFIX)
    app.include_router(duplicates.router, prefix=API_PREFIX)
    app.include_router(duplicate_jobs.router, prefix=API_PREFIX)
    app.include_router(merges.router, prefix=API_PREFIX)
    app.include_router(web_router)
    install_web_handlers(app)
    app.add_middleware(
        BodySizeLimit, max_attachment_bytes=settings.max_attachment_bytes, max_json_bytes=MAX_JSON_BYTES
    )

    app.mount(DOCS_ASSETS, StaticFiles(directory=SWAGGER_UI_ASSETS), name="docs-assets")

    @app.get(f"{API_PREFIX}/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=f"{API_PREFIX}/openapi.json",
            title="leadflow API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
        )

    @app.get(f"{API_PREFIX}/health", tags=["meta"])
    def health() -> dict[str, str]:
        """Liveness: the app answers and names its database dialect."""
        return {"status": "ok", "database": database.dialect}

    return app
