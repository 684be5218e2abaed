"""Property-based API fuzzing with Schemathesis: no generated request may cause a server error (5xx).

Schemathesis loads the app's own OpenAPI schema in process (``schemathesis.openapi.from_asgi``),
generates requests for every operation (one pytest item per operation and backend), sends them to
the ASGI app as the System Administrator (bearer token) and fails on any 5xx
(``not_a_server_error``). The run is bounded and deterministic: 5 examples per operation,
derandomized, no example database.

The schema is loaded at import from an app whose database is never touched (serving the OpenAPI
document needs none); each test then calls a real app built on the test's own ``database`` (SQLite
and PostgreSQL). ``schemathesis.pytest.from_fixture`` would be the natural loader, but schemathesis
4.32.5 reads ``Function._nodeid`` there, which pytest 9.2 no longer has.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from hypothesis import HealthCheck, settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup

from leadflow.api.app import API_PREFIX
from leadflow.asgi import create_app
from leadflow.core.config import Settings
from leadflow.security.actor import Actor
from leadflow.core.uow import Database
from tests.conftest import ADMIN_EMAIL, bearer_headers
from tests.factories import make_lead

# Only serves /api/v1/openapi.json for loading: this in-memory database is never queried.
_SCHEMA_APP = create_app(Database("sqlite://"), Settings(database_url="sqlite://"))
schema = schemathesis.openapi.from_asgi(f"{API_PREFIX}/openapi.json", _SCHEMA_APP)


@pytest.fixture
def app_under_test(database: Database, settings: Settings, actor: Actor) -> Iterator[FastAPI]:
    """The real app on this test's database, with a lead in it so that generated reads can hit data."""
    make_lead(database, actor)
    yield create_app(database, settings)


@pytest.fixture
def admin_headers(database: Database) -> dict[str, str]:
    return bearer_headers(database, ADMIN_EMAIL)


@schema.parametrize()
@hypothesis_settings(
    max_examples=5,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_generated_request_causes_a_server_error(case, app_under_test, admin_headers):
    response = case.call(app=app_under_test, headers=admin_headers)
    case.validate_response(response, checks=[not_a_server_error], headers=admin_headers)


def test_the_fuzzing_check_fails_on_a_server_error():
    """The harness can fail: the same call and check, against an app whose endpoint answers 500."""
    broken = FastAPI()

    @broken.get(f"{API_PREFIX}/health")
    def health() -> JSONResponse:
        return JSONResponse({"error": {"code": "internal_error", "message": "boom"}}, status_code=500)

    case = schema[f"{API_PREFIX}/health"]["GET"].Case()
    response = case.call(app=broken)
    assert response.status_code == 500
    try:
        case.validate_response(response, checks=[not_a_server_error])
    except FailureGroup as failures:
        assert [type(failure).__name__ for failure in failures.exceptions] == ["ServerError"]
    else:
        raise AssertionError("not_a_server_error let a 500 through")
