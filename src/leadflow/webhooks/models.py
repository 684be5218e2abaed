"""Webhook subscriptions and their deliveries (the outbox).

A subscription names a target URL, the secret its deliveries are signed with and the events it wants
(optionally only those of some tables). Each event a subscription wants becomes one delivery row,
written in the transaction of the action that caused it, so that a refused or rolled-back action
sends nothing and a process that dies loses nothing; workers send the due rows and log each attempt
on the row (state, attempts, last status and response time, last error, next attempt).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from leadflow.core.db import Base, RecordMixin, UTCDateTime, enum_column, utcnow

# active: deliveries are sent; paused: by an administrator, or by leadflow after repeated failures
# (``paused_reason`` says which); nothing is sent and no new delivery is queued until resumed.
WebhookState = enum.StrEnum("WebhookState", "ACTIVE PAUSED")
# pending: to send (at ``next_attempt_at``); delivered: a 2xx answer; failed: every attempt failed.
DeliveryState = enum.StrEnum("DeliveryState", "PENDING DELIVERED FAILED")


class WebhookSubscription(RecordMixin, Base):
    """Where to send which events, and the secret that signs them."""

    __tablename__ = "webhooks"

    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(200))
    # Event names of leadflow.webhooks.events.EVENTS; tables: only events of these tables (empty: all).
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    tables: Mapped[list[str]] = mapped_column(JSON, default=list)
    state: Mapped[WebhookState] = mapped_column(enum_column(WebhookState), default=WebhookState.ACTIVE)
    paused_reason: Mapped[str | None] = mapped_column(String(500))
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Failed attempts since the last delivered one; at PAUSE_AFTER_FAILURES the subscription pauses.
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class WebhookDelivery(Base):
    """One event for one subscription, and how sending it went."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
        Index("ix_webhook_deliveries_subscription", "subscription_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    subscription_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(40))
    # The JSON body sent (its "id" is this delivery's id), signed afresh at each attempt.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[DeliveryState] = mapped_column(enum_column(DeliveryState), default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When a pending delivery is due; a worker sending it moves it on by a lease, so that a worker
    # that dies mid-send leaves it to be sent again once the lease is over.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_response_ms: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
