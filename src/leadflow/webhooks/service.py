"""Webhooks' use cases: subscriptions (create, read, change, delete, resume), their deliveries
(read, redeliver) and the event catalogue.

Managing webhooks is an administrator's task (the ``webhooks`` area of the privileges): every use
case checks it here, so that the API, the web pages and the command line allow and refuse alike.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from leadflow.core.db import utcnow
from leadflow.core.errors import InvalidState, ValidationFailed, field_refusal
from leadflow.core.paging import Page, keyset_page
from leadflow.core.records import check_version, get_record, not_found
from leadflow.core.uow import UnitOfWork
from leadflow.security.access import require_admin
from leadflow.security.actor import Actor
from leadflow.security.audit import record_action
from leadflow.security.privileges import Privilege
from leadflow.webhooks.events import EVENT_NAMES, EVENT_TABLES, EVENTS, Event
from leadflow.webhooks.models import DeliveryState, WebhookDelivery, WebhookState, WebhookSubscription
from leadflow.webhooks.outbox import forget_subscriptions, wake_after_commit
from leadflow.webhooks.schemas import WebhookChange, WebhookIn
from leadflow.webhooks.targets import check_target

AREA = "webhooks"
PAUSED_BY_ADMINISTRATOR = "Paused by an administrator."
EVENTS_REQUIRED = "Choose at least one event for the webhook."
UNKNOWN_EVENT = "Choose the webhook's events from the list of events leadflow sends."
UNKNOWN_TABLE = "Choose the webhook's tables from the list of tables whose events leadflow sends."
NOT_PAUSED = "This webhook is not paused."


def event_catalogue() -> tuple[Event, ...]:
    """Every event a webhook can subscribe to, with what it means."""
    return EVENTS


def new_secret() -> str:
    """A new signing secret: 64 hex characters."""
    return secrets.token_hex(32)


def _check_events(events: list[str] | None) -> list[str]:
    if not events:
        raise field_refusal("events", "events_required", EVENTS_REQUIRED)
    unknown = [name for name in events if name not in EVENT_NAMES]
    if unknown:
        raise ValidationFailed(
            UNKNOWN_EVENT,
            code="unknown_event",
            details={
                "fields": [{"field": "events", "code": "unknown_event", "message": UNKNOWN_EVENT}],
                "unknown": unknown,
                "events": list(EVENT_NAMES),
            },
        )
    return list(dict.fromkeys(events))


def _check_tables(tables: list[str] | None) -> list[str]:
    unknown = [name for name in tables or () if name not in EVENT_TABLES]
    if unknown:
        raise ValidationFailed(
            UNKNOWN_TABLE,
            code="unknown_webhook_table",
            details={
                "fields": [{"field": "tables", "code": "unknown_webhook_table", "message": UNKNOWN_TABLE}],
                "unknown": unknown,
                "tables": list(EVENT_TABLES),
            },
        )
    return list(dict.fromkeys(tables or ()))


def _set_active(subscription: WebhookSubscription, active: bool) -> None:
    if active and subscription.state is WebhookState.PAUSED:
        _resume(subscription)
    elif not active and subscription.state is WebhookState.ACTIVE:
        subscription.state = WebhookState.PAUSED
        subscription.paused_reason = PAUSED_BY_ADMINISTRATOR
        subscription.paused_at = utcnow()


def _resume(subscription: WebhookSubscription) -> None:
    subscription.state = WebhookState.ACTIVE
    subscription.paused_reason = None
    subscription.paused_at = None
    subscription.consecutive_failures = 0


def create_subscription(data: WebhookIn, *, uow: UnitOfWork, actor: Actor, allow_private: bool) -> WebhookSubscription:
    """A new subscription (webhooks Create); its secret is made when none is given. The URL must be
    http(s) with a host and, unless ``allow_private``, resolve to public addresses only."""
    require_admin(actor, AREA, Privilege.CREATE)
    check_target(data.url, allow_private=allow_private)
    subscription = WebhookSubscription(
        id=uuid.uuid4(),
        name=data.name,
        url=data.url,
        secret=data.secret or new_secret(),
        events=_check_events(data.events),
        tables=_check_tables(data.tables),
        state=WebhookState.ACTIVE,
        consecutive_failures=0,
        created_by_id=actor.user_id,
    )
    _set_active(subscription, data.active)
    uow.session.add(subscription)
    uow.flush()
    forget_subscriptions(uow.session)
    record_action(uow.session, actor, "create", table=AREA, record_id=subscription.id, summary=subscription.name)
    return subscription


def list_subscriptions(*, uow: UnitOfWork, actor: Actor) -> list[WebhookSubscription]:
    """Every subscription by name (webhooks Read)."""
    require_admin(actor, AREA, Privilege.READ)
    return list(
        uow.session.scalars(
            select(WebhookSubscription).order_by(func.lower(WebhookSubscription.name), WebhookSubscription.id)
        )
    )


def get_subscription(
    subscription_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, for_update: bool = False
) -> WebhookSubscription:
    """One subscription (webhooks Read)."""
    require_admin(actor, AREA, Privilege.READ)
    return get_record(uow.session, WebhookSubscription, subscription_id, label="webhook", for_update=for_update)


def update_subscription(
    subscription_id: uuid.UUID,
    change: WebhookChange,
    *,
    uow: UnitOfWork,
    actor: Actor,
    allow_private: bool,
    expected_version: int | None = None,
) -> WebhookSubscription:
    """Change a subscription (webhooks Write): the fields sent change; ``secret`` sent empty (null)
    makes a new one; ``active`` pauses or resumes it."""
    require_admin(actor, AREA, Privilege.WRITE)
    subscription = get_record(uow.session, WebhookSubscription, subscription_id, label="webhook", for_update=True)
    check_version(subscription, expected_version)
    values = change.model_dump(exclude_unset=True)
    if "name" in values:
        if not values["name"]:
            raise field_refusal("name", "required", "Name is required.")
        subscription.name = values["name"]
    if "url" in values:
        check_target(values["url"] or "", allow_private=allow_private)
        subscription.url = values["url"]
    if "secret" in values:
        subscription.secret = values["secret"] or new_secret()
    if "events" in values:
        subscription.events = _check_events(values["events"])
    if "tables" in values:
        subscription.tables = _check_tables(values["tables"])
    resumed = values.get("active") is True and subscription.state is WebhookState.PAUSED
    if values.get("active") is not None:
        _set_active(subscription, values["active"])
    uow.flush()
    if resumed:
        _send_pending_now(uow, subscription.id)
    forget_subscriptions(uow.session)
    record_action(uow.session, actor, "update", table=AREA, record_id=subscription.id, summary=subscription.name)
    return subscription


def delete_subscription(
    subscription_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> None:
    """Delete a subscription and its deliveries (webhooks Delete)."""
    require_admin(actor, AREA, Privilege.DELETE)
    subscription = get_record(uow.session, WebhookSubscription, subscription_id, label="webhook", for_update=True)
    check_version(subscription, expected_version)
    name = subscription.name
    uow.session.delete(subscription)
    uow.flush()
    forget_subscriptions(uow.session)
    record_action(uow.session, actor, "delete", table=AREA, record_id=subscription_id, summary=name)


def _send_pending_now(uow: UnitOfWork, subscription_id: uuid.UUID) -> None:
    now = utcnow()
    uow.session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.subscription_id == subscription_id,
            WebhookDelivery.state == DeliveryState.PENDING,
            WebhookDelivery.next_attempt_at > now,
        )
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    wake_after_commit(uow.session)


def resume_subscription(
    subscription_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> WebhookSubscription:
    """Resume a paused subscription (webhooks Write): its pending deliveries are sent at once."""
    require_admin(actor, AREA, Privilege.WRITE)
    subscription = get_record(uow.session, WebhookSubscription, subscription_id, label="webhook", for_update=True)
    check_version(subscription, expected_version)
    if subscription.state is not WebhookState.PAUSED:
        raise InvalidState(NOT_PAUSED, code="webhook_not_paused")
    _resume(subscription)
    uow.flush()
    _send_pending_now(uow, subscription.id)
    forget_subscriptions(uow.session)
    record_action(
        uow.session, actor, "webhook_resumed", table=AREA, record_id=subscription.id, summary=subscription.name
    )
    return subscription


def list_deliveries(
    subscription_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, limit: int = 50, cursor: str | None = None
) -> Page[WebhookDelivery]:
    """A page of a subscription's deliveries, newest first (webhooks Read)."""
    get_subscription(subscription_id, uow=uow, actor=actor)
    return keyset_page(
        uow.session,
        select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id),
        key=WebhookDelivery.created_at,
        id_column=WebhookDelivery.id,
        kind="datetime",
        limit=limit,
        cursor=cursor,
        descending=True,
    )


def get_delivery(
    subscription_id: uuid.UUID, delivery_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor
) -> WebhookDelivery:
    """One delivery of a subscription (webhooks Read)."""
    get_subscription(subscription_id, uow=uow, actor=actor)
    delivery = uow.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.subscription_id != subscription_id:
        raise not_found(label="webhook_delivery", record_id=delivery_id, noun="webhook delivery")
    return delivery


def redeliver(
    subscription_id: uuid.UUID, delivery_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, now: datetime | None = None
) -> WebhookDelivery:
    """Send a delivery again, whatever became of it, at once (webhooks Write); a paused
    subscription's is sent when it is resumed."""
    require_admin(actor, AREA, Privilege.WRITE)
    delivery = get_delivery(subscription_id, delivery_id, uow=uow, actor=actor)
    delivery.state = DeliveryState.PENDING
    delivery.next_attempt_at = now or utcnow()
    uow.flush()
    wake_after_commit(uow.session)
    record_action(
        uow.session,
        actor,
        "webhook_redeliver",
        table=AREA,
        record_id=subscription_id,
        changes={"delivery_id": str(delivery_id), "event": delivery.event},
    )
    return delivery


def subscription_values(subscription: WebhookSubscription) -> dict[str, Any]:
    """A subscription as plain values (for the command line's JSON and the pages)."""
    return {
        "id": str(subscription.id),
        "name": subscription.name,
        "url": subscription.url,
        "events": list(subscription.events),
        "tables": list(subscription.tables),
        "state": subscription.state.value,
        "paused_reason": subscription.paused_reason,
        "paused_at": subscription.paused_at.isoformat() if subscription.paused_at else None,
        "consecutive_failures": subscription.consecutive_failures,
        "row_version": subscription.row_version,
    }
