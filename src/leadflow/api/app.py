"""The REST API under /api/v1: its routers, its error handlers and its documentation pages."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from leadflow.api import (
    activities,
    catalog,
    currencies,
    custom_fields,
    duplicate_jobs,
    duplicates,
    jobs,
    leads,
    merges,
    notes,
    process,
    reporting,
    sales,
    scoring,
    security,
    transfer,
    webhooks,
)
from leadflow.api import opportunities as opportunities_api
from leadflow.api import settings as settings_api
from leadflow.api import views as saved_views
from leadflow.api.errors import ERROR_RESPONSES, install_error_handlers
from leadflow.api.records import TableEndpoints, crud_router
from leadflow.core.uow import Database
from leadflow.customers import service as customers
from leadflow.customers.models import Account, Contact
from leadflow.customers.schemas import (
    AccountCreate,
    AccountOut,
    AccountUpdate,
    ContactCreate,
    ContactOut,
    ContactUpdate,
)
from leadflow.opportunities import service as opportunities
from leadflow.opportunities.models import Opportunity
from leadflow.opportunities.schemas import OpportunityCreate, OpportunityOut, OpportunityUpdate

API_PREFIX = "/api/v1"
DOCS_ASSETS = f"{API_PREFIX}/docs-assets"
# Swagger UI 5 as shipped inside the fastapi-offline wheel (installed from PyPI); only its files are used.
_FASTAPI_OFFLINE = importlib.util.find_spec("fastapi_offline")
assert _FASTAPI_OFFLINE is not None and _FASTAPI_OFFLINE.origin, "fastapi-offline is a dependency of leadflow"
SWAGGER_UI_ASSETS = Path(_FASTAPI_OFFLINE.origin).parent / "static"

TABLES = (
    TableEndpoints(
        "accounts",
        "account",
        Account,
        AccountCreate,
        AccountUpdate,
        AccountOut,
        customers.create_account,
        customers.update_account,
        customers.delete_account,
    ),
    TableEndpoints(
        "contacts",
        "contact",
        Contact,
        ContactCreate,
        ContactUpdate,
        ContactOut,
        customers.create_contact,
        customers.update_contact,
        customers.delete_contact,
    ),
    TableEndpoints(
        "opportunities",
        "opportunity",
        Opportunity,
        OpportunityCreate,
        OpportunityUpdate,
        OpportunityOut,
        opportunities.create_opportunity,
        opportunities.update_opportunity,
        opportunities.delete_opportunity,
    ),
)


def install_api(app: FastAPI, database: Database) -> None:
    """Add the REST API to an application: routers, JSON error handlers, docs and health."""
    install_error_handlers(app)
    routers = [
        security.router,
        leads.router,
        process.router,
        *(crud_router(table) for table in TABLES),
        opportunities_api.router,
        currencies.router,
        catalog.router,
        sales.router,
        notes.router,
        activities.router,
        settings_api.router,
        duplicates.router,
        duplicate_jobs.router,
        jobs.router,
        merges.router,
        reporting.router,
        transfer.router,
        scoring.router,
        scoring.leads_router,
        custom_fields.router,
        custom_fields.mappings_router,
        saved_views.router,
        webhooks.router,
    ]
    for router in routers:
        app.include_router(router, prefix=API_PREFIX, responses=ERROR_RESPONSES)
    # Calendar apps read a user's feed at its secret address, outside the API and without a sign-in.
    app.include_router(activities.feed_router)

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
