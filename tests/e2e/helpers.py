"""Small helpers the end-to-end tests share: HTTP shortcuts, the error shape, database snapshots."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from leadflow.activities.models import Attachment, Note
from leadflow.core.uow import Database
from leadflow.customers.models import Account, Contact
from leadflow.leads.models import Lead
from leadflow.opportunities.models import Opportunity
from leadflow.organisation.models import Campaign, Currency, OrganisationSettings
from tests.factories import lead_data

API = "/api/v1"
MODELS = {
    "leads": Lead,
    "accounts": Account,
    "contacts": Contact,
    "opportunities": Opportunity,
    "notes": Note,
    "attachments": Attachment,
}


def assert_error(response: Response, status: int, code: str) -> dict[str, Any]:
    """The response is the one error shape with this status and code; returns the error object."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"].strip(), error
    assert set(error) <= {"code", "message", "details"}, error
    return error


def field_errors(error: dict[str, Any]) -> dict[str, str]:
    """``{field: code}`` from a validation error's details."""
    return {item["field"]: item["code"] for item in error["details"]["fields"]}


def create_lead(client: TestClient, **overrides: Any) -> dict[str, Any]:
    """POST a valid lead (with overrides) and return its JSON."""
    response = client.post(f"{API}/leads", json=lead_data(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


def get_lead(client: TestClient, lead_id: Any) -> dict[str, Any]:
    response = client.get(f"{API}/leads/{lead_id}")
    assert response.status_code == 200, response.text
    return response.json()


def get_record(client: TestClient, table: str, record_id: Any) -> dict[str, Any]:
    response = client.get(f"{API}/{table}/{record_id}")
    assert response.status_code == 200, response.text
    return response.json()


def qualify(client: TestClient, lead_id: Any, **options: Any) -> dict[str, Any]:
    response = client.post(f"{API}/leads/{lead_id}/qualify", json=options)
    assert response.status_code == 200, response.text
    return response.json()


def disqualify(client: TestClient, lead_id: Any, reason: str = "lost") -> dict[str, Any]:
    response = client.post(f"{API}/leads/{lead_id}/disqualify", json={"status_reason": reason})
    assert response.status_code == 200, response.text
    return response.json()


def reactivate(client: TestClient, lead_id: Any) -> dict[str, Any]:
    response = client.post(f"{API}/leads/{lead_id}/reactivate")
    assert response.status_code == 200, response.text
    return response.json()


def add_note(
    client: TestClient,
    table: str,
    record_id: Any,
    *,
    title: str | None = "Call",
    body: str | None = "Spoke with the buyer.",
    file: tuple[str, bytes, str] | None = None,
) -> Response:
    data = {key: value for key, value in (("title", title), ("body", body)) if value is not None}
    files = {"file": file} if file is not None else None
    return client.post(f"{API}/{table}/{record_id}/notes", data=data, files=files)


def list_view(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    """Every lead of a view, walking all pages."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(200):
        query = dict(params)
        if cursor:
            query["cursor"] = cursor
        response = client.get(f"{API}/leads", params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return items
    raise AssertionError("the view never ended")


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


def counts(database: Database) -> dict[str, int]:
    """How many rows each table the tests care about holds."""
    with database.unit_of_work(read_only=True) as uow:
        return {name: uow.session.scalar(select(func.count()).select_from(model)) for name, model in MODELS.items()}


def snapshot(database: Database) -> dict[str, Any]:
    """Row counts plus every lead's full column values: equal before and after means nothing changed."""
    with database.unit_of_work(read_only=True) as uow:
        leads = {
            lead.id: {column.key: getattr(lead, column.key) for column in Lead.__mapper__.column_attrs}
            for lead in uow.session.scalars(select(Lead))
        }
        versions = {
            name: sorted((row.id, row.row_version) for row in uow.session.scalars(select(model)))
            for name, model in MODELS.items()
            if name not in ("leads", "attachments")
        }
    return {"counts": counts(database), "leads": leads, "versions": versions}


def currency_id(database: Database, code: str) -> str:
    with database.unit_of_work(read_only=True) as uow:
        return str(uow.session.scalars(select(Currency.id).where(Currency.iso_code == code)).one())


def base_currency_id(database: Database) -> str:
    with database.unit_of_work(read_only=True) as uow:
        return str(uow.session.scalars(select(OrganisationSettings.base_currency_id)).one())


def make_campaign(database: Database, name: str = "Spring trade show") -> str:
    with database.unit_of_work() as uow:
        campaign = Campaign(id=uuid.uuid4(), name=name, code=f"C-{uuid.uuid4().hex[:8]}")
        uow.session.add(campaign)
        uow.commit()
        return str(campaign.id)


def money(value: Any) -> Decimal:
    return Decimal(str(value))
