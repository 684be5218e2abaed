"""Webhooks (administrators): subscriptions to leadflow's events, their deliveries and redelivery."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict

from leadflow.api.deps import CurrentActor, ExpectedVersion, ReadUowDep, SettingsDep, UowDep
from leadflow.core.config import Settings
from leadflow.webhooks import service
from leadflow.webhooks.models import DeliveryState, WebhookDelivery, WebhookState, WebhookSubscription
from leadflow.webhooks.schemas import WebhookChange, WebhookIn

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    url: str
    secret: str
    events: list[str]
    tables: list[str]
    state: WebhookState
    paused_reason: str | None
    paused_at: datetime | None
    consecutive_failures: int
    row_version: int
    created_at: datetime
    modified_at: datetime


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    subscription_id: uuid.UUID
    event: str
    state: DeliveryState
    attempts: int
    last_status: int | None
    last_response_ms: int | None
    last_error: str | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    payload: dict[str, Any]


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None


class EventOut(BaseModel):
    name: str
    description: str


def _allow_private(settings: Settings) -> bool:
    return settings.webhook_private_targets == "allow"


def _out(subscription: WebhookSubscription, response: Response | None = None) -> WebhookOut:
    if response is not None:
        response.headers["ETag"] = subscription.etag
    return WebhookOut.model_validate(subscription)


@router.get("/events")
def list_webhook_events() -> list[EventOut]:
    """The events a webhook can subscribe to."""
    return [EventOut(name=event.name, description=event.description) for event in service.event_catalogue()]


@router.get("")
def list_webhooks(uow: ReadUowDep, actor: CurrentActor) -> list[WebhookOut]:
    """Every webhook subscription (administrators)."""
    return [_out(subscription) for subscription in service.list_subscriptions(uow=uow, actor=actor)]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_webhook(
    data: WebhookIn, uow: UowDep, actor: CurrentActor, settings: SettingsDep, response: Response
) -> WebhookOut:
    """Subscribe a URL to events (administrators); the secret that signs deliveries is made when left
    out. A URL that is not http(s) with a host is refused (422 ``invalid_url``), and so is one on a
    private network unless ``LEADFLOW_WEBHOOK_PRIVATE_TARGETS=allow`` (422 ``private_target``)."""
    subscription = service.create_subscription(data, uow=uow, actor=actor, allow_private=_allow_private(settings))
    out = _out(subscription, response)
    uow.commit()
    response.headers["Location"] = f"/api/v1/webhooks/{subscription.id}"
    return out


@router.get("/{webhook_id}")
def read_webhook(webhook_id: uuid.UUID, uow: ReadUowDep, actor: CurrentActor, response: Response) -> WebhookOut:
    """One webhook subscription, with its state and why it is paused."""
    return _out(service.get_subscription(webhook_id, uow=uow, actor=actor), response)


@router.patch("/{webhook_id}")
def change_webhook(
    webhook_id: uuid.UUID,
    data: WebhookChange,
    uow: UowDep,
    actor: CurrentActor,
    version: ExpectedVersion,
    settings: SettingsDep,
    response: Response,
) -> WebhookOut:
    """Change a subscription (with ``If-Match``); ``"secret": null`` makes a new secret, ``"active"``
    pauses or resumes it."""
    subscription = service.update_subscription(
        webhook_id, data, uow=uow, actor=actor, allow_private=_allow_private(settings), expected_version=version
    )
    out = _out(subscription, response)
    uow.commit()
    return out


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_webhook(webhook_id: uuid.UUID, uow: UowDep, actor: CurrentActor, version: ExpectedVersion) -> Response:
    """Delete a subscription and its deliveries (with ``If-Match``)."""
    service.delete_subscription(webhook_id, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{webhook_id}/resume")
def resume_webhook(
    webhook_id: uuid.UUID, uow: UowDep, actor: CurrentActor, version: ExpectedVersion, response: Response
) -> WebhookOut:
    """Resume a paused subscription: its pending deliveries are sent at once (409 when not paused)."""
    subscription = service.resume_subscription(webhook_id, uow=uow, actor=actor, expected_version=version)
    out = _out(subscription, response)
    uow.commit()
    return out


@router.get("/{webhook_id}/deliveries")
def list_webhook_deliveries(
    webhook_id: uuid.UUID, uow: ReadUowDep, actor: CurrentActor, limit: int = 50, cursor: str | None = None
) -> DeliveryPage:
    """A subscription's deliveries, newest first: state, attempts, last status, response time and error."""
    page = service.list_deliveries(webhook_id, uow=uow, actor=actor, limit=limit, cursor=cursor)
    return DeliveryPage(items=[_delivery(item) for item in page.items], next_cursor=page.next_cursor)


def _delivery(delivery: WebhookDelivery) -> DeliveryOut:
    return DeliveryOut.model_validate(delivery)


@router.post("/{webhook_id}/deliveries/{delivery_id}/redeliver", status_code=status.HTTP_202_ACCEPTED)
def redeliver_webhook(webhook_id: uuid.UUID, delivery_id: uuid.UUID, uow: UowDep, actor: CurrentActor) -> DeliveryOut:
    """Send a delivery again now, whatever became of it (202: it is pending; a worker sends it)."""
    delivery = service.redeliver(webhook_id, delivery_id, uow=uow, actor=actor)
    out = _delivery(delivery)
    uow.commit()
    return out
