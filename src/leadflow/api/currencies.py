"""Currencies: the base currency and the others, with their exchange rates."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from leadflow.api.deps import CurrentActor, DatabaseDep, ExpectedVersion, QueueDep, ReadUowDep, UowDep
from leadflow.api.jobs import JobOut, accepted
from leadflow.organisation import currencies
from leadflow.organisation.currencies import CurrencyCreate, CurrencyOut, CurrencyUpdate
from leadflow.tasks import admin as admin_tasks
from leadflow.tasks import submit

router = APIRouter(prefix="/currencies", tags=["currencies"])


@router.get("")
def list_currencies(uow: ReadUowDep, actor: CurrentActor) -> list[CurrencyOut]:
    """Every enabled currency, the base currency first."""
    return [CurrencyOut.model_validate(item) for item in currencies.list_currencies(uow=uow, actor=actor)]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_currency(data: CurrencyCreate, uow: UowDep, actor: CurrentActor, response: Response) -> CurrencyOut:
    """Enable a currency with its exchange rate (units of it per unit of the base currency)."""
    currency = currencies.create_currency(data, uow=uow, actor=actor)
    uow.commit()
    response.headers["Location"] = f"/api/v1/currencies/{currency.id}"
    response.headers["ETag"] = currency.etag
    return CurrencyOut.model_validate(currency)


@router.post("/recalculate", status_code=status.HTTP_202_ACCEPTED)
def recalculate_open_records(database: DatabaseDep, queue: QueueDep, actor: CurrentActor, response: Response) -> JobOut:
    """Start a job that applies the current exchange rates to every open lead and opportunity; the
    job's summary says how many changed, by table (``changed``)."""
    job = admin_tasks.start_recalculation(database=database, actor=actor)
    return accepted(submit(job.id, queue=queue, database=database), response)


@router.post("/{currency_id}/base")
def make_base_currency(currency_id: uuid.UUID, uow: UowDep, actor: CurrentActor, response: Response) -> CurrencyOut:
    """Make this currency the base currency, while no record holds an amount or names a currency (409
    ``base_currency_in_use`` after); the other rates are re-expressed per unit of it."""
    currency = currencies.change_base_currency(currency_id, uow=uow, actor=actor)
    uow.commit()
    response.headers["ETag"] = currency.etag
    return CurrencyOut.model_validate(currency)


@router.get("/{currency_id}")
def read_currency(currency_id: uuid.UUID, uow: ReadUowDep, actor: CurrentActor, response: Response) -> CurrencyOut:
    """One currency."""
    currency = currencies.read_currency(currency_id, uow=uow, actor=actor)
    response.headers["ETag"] = currency.etag
    return CurrencyOut.model_validate(currency)


@router.patch("/{currency_id}")
def change_currency(
    currency_id: uuid.UUID,
    changes: CurrencyUpdate,
    uow: UowDep,
    actor: CurrentActor,
    version: ExpectedVersion,
    response: Response,
) -> CurrencyOut:
    """Change a currency; records keep the rate they captured until their next save or a recalculation."""
    currency = currencies.update_currency(currency_id, changes, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    response.headers["ETag"] = currency.etag
    return CurrencyOut.model_validate(currency)


@router.delete("/{currency_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_currency(currency_id: uuid.UUID, uow: UowDep, actor: CurrentActor, version: ExpectedVersion) -> Response:
    """Remove a currency no record uses (409 for the base currency or one in use)."""
    currencies.delete_currency(currency_id, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
