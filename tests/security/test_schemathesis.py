"""Property-based API fuzzing with Schemathesis, as a gate: no generated request may cause a server
error (5xx), and every answer must be one the OpenAPI document declares, in the declared shape.

Schemathesis loads the app's own OpenAPI schema in process (``schemathesis.openapi.from_asgi``) and
generates, for every operation, valid requests and invalid ones (positive and negative data), sent
to the ASGI app as the System Administrator (bearer token). Each answer is checked for: no 5xx, a
declared status, a declared content type, and a body matching the declared schema. A stateful run
then chains operations (an id a POST returned is used by the GET, PATCH and DELETE that take it).

The run is bounded and deterministic: 5 examples per operation and mode, derandomized, no example
database. The schema is loaded at import from an app whose database is never touched (serving the
OpenAPI document needs none); each test then calls a real app built on the test's own ``database``
(SQLite and PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup

from leadflow.api.app import API_PREFIX
from leadflow.asgi import create_app
from leadflow.core.config import Settings
from leadflow.core.uow import Database
from leadflow.security.actor import Actor
from tests.conftest import ADMIN_EMAIL, app_for, bearer_headers
from tests.factories import make_lead

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CONFIG = schemathesis.Config.from_dict({"generation": {"mode": "all", "max-examples": 5, "deterministic": True}})
# Only serves /api/v1/openapi.json for loading: this in-memory database is never queried.
_SCHEMA_APP = create_app(Database("sqlite://"), Settings(database_url="sqlite://"))
schema = schemathesis.openapi.from_asgi(f"{API_PREFIX}/openapi.json", _SCHEMA_APP, config=CONFIG)
HYPOTHESIS = hypothesis_settings(
    max_examples=5, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)


@pytest.fixture
def app_under_test(database: Database, settings: Settings, actor: Actor) -> Iterator[FastAPI]:
    """The real app on this test's database, with a lead in it so that generated reads can hit data."""
    make_lead(database, actor)
    yield app_for(database, settings)


@pytest.fixture
def admin_headers(database: Database) -> dict[str, str]:
    return bearer_headers(database, ADMIN_EMAIL)


@schema.parametrize()
@HYPOTHESIS
def test_no_generated_request_causes_a_server_error_or_an_undeclared_answer(case, app_under_test, admin_headers):
    response = case.call(app=app_under_test, headers=admin_headers)
    case.validate_response(response, checks=CHECKS, headers=admin_headers)


def test_chained_operations_cause_no_server_error_and_no_undeclared_answer(app_under_test, admin_headers):
    base = schema.as_state_machine()

    class Workflow(base):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"app": app_under_test, "headers": admin_headers}

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS, headers=admin_headers)

    Workflow.run(settings=hypothesis_settings(HYPOTHESIS, max_examples=10, stateful_step_count=6))


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


def test_the_conformance_checks_fail_on_an_undeclared_answer():
    """An answer the document does not declare (here a 418 with a body of another shape) is caught."""
    odd = FastAPI()

    @odd.get(f"{API_PREFIX}/health")
    def health() -> JSONResponse:
        return JSONResponse({"unexpected": True}, status_code=418)

    case = schema[f"{API_PREFIX}/health"]["GET"].Case()
    with pytest.raises(FailureGroup):
        case.validate_response(case.call(app=odd), checks=CHECKS)


def test_every_operation_declares_the_refusals_it_can_answer():
    spec = _SCHEMA_APP.openapi()
    error_schema = {"$ref": "#/components/schemas/ErrorOut"}
    for path, operations in spec["paths"].items():
        if path == f"{API_PREFIX}/health":  # answers 200, or nothing at all
            continue
        for method, operation in operations.items():
            for status in ("401", "403", "404", "409", "412", "413", "422", "429"):
                declared = operation["responses"].get(status)
                assert declared is not None, (method, path, status)
                assert declared["content"]["application/json"]["schema"] == error_schema, (method, path, status)


def test_a_405_names_the_methods_allowed(client):
    response = client.put(f"{API_PREFIX}/health")
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET"}


@pytest.mark.parametrize("moment", ["0.5", "1700000000", "-3", "1e9"])
def test_a_number_is_not_taken_for_a_moment(client, moment):
    response = client.get(f"{API_PREFIX}/audit", params={"until": moment})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["fields"][0]["field"] == "until"
