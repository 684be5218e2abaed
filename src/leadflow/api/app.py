"""The FastAPI application: REST API under /api/v1."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from leadflow import __version__
from leadflow.api import leads, notes, process, settings as settings_api
from leadflow.api.errors import error_body, install_error_handlers
from leadflow.api.records import TableEndpoints, crud_router
from leadflow.config import Settings
from leadflow.customers import service as customers
from leadflow.customers.models import Account, Contact
from leadflow.customers.schemas import AccountCreate, AccountOut, AccountUpdate, ContactCreate, ContactOut, ContactUpdate
from leadflow.opportunities import service as opportunities
from leadflow.opportunities.models import Opportunity
from leadflow.opportunities.schemas import OpportunityCreate, OpportunityOut, OpportunityUpdate
from leadflow.uow import Database

API_PREFIX = "/api/v1"
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
    """Refuse a request whose declared body is larger than any upload allowed, before reading it."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes + _ENVELOPE_BYTES:
                    response = JSONResponse(error_body(notes.too_large(self.max_bytes)), status_code=413)
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def create_app(database: Database, settings: Settings) -> FastAPI:
    """Build the application around one database."""
    app = FastAPI(
        title="leadflow",
        version=__version__,
        description="Sales CRM built around the lead lifecycle: capture, qualify, disqualify, reactivate.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.database = database
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(leads.router, prefix=API_PREFIX)
    app.include_router(process.router, prefix=API_PREFIX)
    for table in TABLES:
        app.include_router(crud_router(table), prefix=API_PREFIX)
    app.include_router(notes.router, prefix=API_PREFIX)
    app.include_router(settings_api.router, prefix=API_PREFIX)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_attachment_bytes)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse(f"{API_PREFIX}/docs")

    @app.get(f"{API_PREFIX}/health", tags=["meta"])
    def health() -> dict[str, str]:
        """Liveness: the app answers and names its database dialect."""
        return {"status": "ok", "database": database.dialect}

    return app
