"""Sending due deliveries: claim a batch, post each one signed (several at once over a pool of
connections), log how each attempt went, retry with exponential backoff, and pause a subscription
whose attempts keep failing.

``deliver_due`` is what a worker runs (woken after a commit that queued deliveries, and every minute
for the retries); tests call it with ``now`` to step through retries without waiting.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import httpx
from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from leadflow.core.config import Settings
from leadflow.core.db import utcnow
from leadflow.core.mail import Outgoing, deliver
from leadflow.core.uow import Database
from leadflow.security.actor import first_administrator
from leadflow.security.audit import record_action
from leadflow.security.models import User
from leadflow.webhooks.models import DeliveryState, WebhookDelivery, WebhookState, WebhookSubscription
from leadflow.webhooks.outbox import forget_subscriptions
from leadflow.webhooks.signing import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signature_header
from leadflow.webhooks.targets import RefusedTarget, delivery_target

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BACKOFF_SECONDS = 30  # before the second attempt; doubled before each next one, with +-20 % jitter
BACKOFF_CAP_SECONDS = 6 * 60 * 60
PAUSE_AFTER_FAILURES = 10  # failed attempts in a row (across deliveries) that pause a subscription
TIMEOUT_SECONDS = 10.0
LEASE_SECONDS = 120  # a claimed delivery is not claimed again for this long (its worker may have died)
BATCH = 200  # deliveries claimed at once
THREADS = 16  # deliveries sent at once
RESPONSE_READ_LIMIT = 64 * 1024  # bytes of an answer read (the rest is dropped with the connection)
USER_AGENT = "leadflow-webhooks/1"


def backoff(attempts: int, *, jitter: float | None = None) -> timedelta:
    """How long after its ``attempts``-th failed attempt a delivery is tried again: 30 s doubled per
    attempt, capped at six hours, spread by +-20 % so that failures do not retry in step."""
    spread = random.uniform(0.8, 1.2) if jitter is None else jitter
    return timedelta(seconds=min(BACKOFF_SECONDS * 2 ** (attempts - 1), BACKOFF_CAP_SECONDS) * spread)


@dataclass(frozen=True)
class Claimed:
    """A delivery claimed for sending, with what sending it needs."""

    id: uuid.UUID
    subscription_id: uuid.UUID
    event: str
    payload: dict[str, Any]
    attempts: int
    url: str
    secret: str


@dataclass(frozen=True)
class Attempt:
    """How one attempt went."""

    delivery: Claimed
    finished: float
    status: int | None
    milliseconds: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class DeliveryReport:
    """What one ``deliver_due`` did."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    paused: list[uuid.UUID] = field(default_factory=list)

    @property
    def attempts(self) -> int:
        return self.delivered + self.retrying + self.failed


_client_lock = threading.Lock()
_clients: dict[int, httpx.Client] = {}


def http_client(threads: int = THREADS) -> httpx.Client:
    """The process's HTTP client for deliveries: a pool of kept-alive connections, a 10 s timeout,
    no redirects followed (a redirect could lead past the address check)."""
    with _client_lock:
        client = _clients.get(threads)
        if client is None:
            client = _clients[threads] = httpx.Client(
                timeout=TIMEOUT_SECONDS,
                follow_redirects=False,
                limits=httpx.Limits(max_connections=threads * 2, max_keepalive_connections=threads * 2),
                headers={"User-Agent": USER_AGENT},
            )
        return client


def _claim(database: Database, now: datetime, limit: int) -> list[Claimed]:
    """Due deliveries of active subscriptions, moved on by the lease in the same transaction (on
    PostgreSQL rows another worker holds are skipped; SQLite's writers take turns)."""
    active = select(WebhookSubscription.id).where(WebhookSubscription.state == WebhookState.ACTIVE)
    with database.unit_of_work() as uow:
        ids = list(
            uow.session.scalars(
                select(WebhookDelivery.id)
                .where(
                    WebhookDelivery.state == DeliveryState.PENDING,
                    WebhookDelivery.next_attempt_at <= now,
                    WebhookDelivery.subscription_id.in_(active),
                )
                .order_by(WebhookDelivery.next_attempt_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if not ids:
            return []
        uow.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids))
            .values(next_attempt_at=now + timedelta(seconds=LEASE_SECONDS))
            .execution_options(synchronize_session=False)
        )
        rows = uow.session.execute(
            select(
                WebhookDelivery.id,
                WebhookDelivery.subscription_id,
                WebhookDelivery.event,
                WebhookDelivery.payload,
                WebhookDelivery.attempts,
                WebhookSubscription.url,
                WebhookSubscription.secret,
            )
            .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
            .where(WebhookDelivery.id.in_(ids))
        ).all()
        uow.commit()
    return [Claimed(*row) for row in rows]


def body_of(payload: dict[str, Any]) -> bytes:
    """The bytes posted for a delivery's payload (compact JSON, UTF-8)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _send(client: httpx.Client, delivery: Claimed, *, allow_private: bool) -> Attempt:
    body = body_of(delivery.payload)
    started = time.perf_counter()
    try:
        target = delivery_target(delivery.url, allow_private=allow_private)
        headers = {
            "Content-Type": "application/json",
            EVENT_HEADER: delivery.event,
            DELIVERY_HEADER: str(delivery.id),
            SIGNATURE_HEADER: signature_header(delivery.secret, body),
        }
        extensions: dict[str, Any] = {}
        if target.host_header:
            headers["Host"] = target.host_header
        if target.server_name:
            extensions["sni_hostname"] = target.server_name
        with client.stream("POST", target.url, content=body, headers=headers, extensions=extensions) as response:
            answer = b""
            for chunk in response.iter_bytes():
                answer += chunk
                if len(answer) >= RESPONSE_READ_LIMIT:
                    break
        milliseconds = round((time.perf_counter() - started) * 1000)
        error = None
        if not 200 <= response.status_code < 300:
            excerpt = answer[:200].decode("utf-8", "replace").strip()
            error = f"HTTP {response.status_code}" + (f": {excerpt}" if excerpt else "")
        return Attempt(delivery, time.monotonic(), response.status_code, milliseconds, error)
    except RefusedTarget as refused:
        return Attempt(delivery, time.monotonic(), None, None, f"Refused: {refused}")
    except httpx.TimeoutException:
        return Attempt(delivery, time.monotonic(), None, None, f"No answer within {TIMEOUT_SECONDS:g} s")
    except (httpx.HTTPError, OSError, ValueError) as error:
        return Attempt(delivery, time.monotonic(), None, None, f"{type(error).__name__}: {error}"[:500])


_DELIVERY = cast(Table, WebhookDelivery.__table__)


def _record(database: Database, attempts: list[Attempt], now: datetime, settings: Settings) -> DeliveryReport:
    """Log each attempt on its delivery, count failures in a row per subscription, pause those that
    reached ``PAUSE_AFTER_FAILURES`` (audited, and their maker told by e-mail when mail is set up)."""
    report = DeliveryReport()
    rows = []
    for attempt in attempts:
        tries = attempt.delivery.attempts + 1
        if attempt.delivered:
            state, next_at, report.delivered = DeliveryState.DELIVERED, None, report.delivered + 1
        elif tries >= MAX_ATTEMPTS:
            state, next_at, report.failed = DeliveryState.FAILED, None, report.failed + 1
        else:
            state, next_at, report.retrying = DeliveryState.PENDING, now + backoff(tries), report.retrying + 1
        rows.append(
            {
                "b_id": attempt.delivery.id,
                "b_state": state,
                "b_attempts": tries,
                "b_next": next_at,
                "b_last": now,
                "b_status": attempt.status,
                "b_ms": attempt.milliseconds,
                "b_error": attempt.error[:500] if attempt.error else None,
                "b_delivered": now if attempt.delivered else None,
            }
        )
    # Failures in a row per subscription, in the order the attempts ended: a success resets.
    streaks: dict[uuid.UUID, tuple[bool, int]] = {}  # subscription -> (reset, failures since)
    for attempt in sorted(attempts, key=lambda item: item.finished):
        reset, failures = streaks.get(attempt.delivery.subscription_id, (False, 0))
        streaks[attempt.delivery.subscription_id] = (True, 0) if attempt.delivered else (reset, failures + 1)
    paused: list[tuple[uuid.UUID, str, uuid.UUID | None]] = []
    with database.unit_of_work() as uow:
        session = uow.session
        session.execute(
            update(_DELIVERY)
            .where(_DELIVERY.c.id == bindparam("b_id"))
            .values(
                state=bindparam("b_state"),
                attempts=bindparam("b_attempts"),
                next_attempt_at=bindparam("b_next"),
                last_attempt_at=bindparam("b_last"),
                last_status=bindparam("b_status"),
                last_response_ms=bindparam("b_ms"),
                last_error=bindparam("b_error"),
                delivered_at=bindparam("b_delivered"),
            )
            .execution_options(synchronize_session=False),
            rows,
        )
        for subscription_id, (reset, failures) in streaks.items():
            count = WebhookSubscription.consecutive_failures
            session.execute(
                update(WebhookSubscription)
                .where(WebhookSubscription.id == subscription_id)
                .values(consecutive_failures=failures if reset else count + failures)
                .execution_options(synchronize_session=False)
            )
        paused = _pause_failing(session, list(streaks), now)
        uow.commit()
    for subscription_id, reason, maker_id in paused:
        report.paused.append(subscription_id)
        _tell(database, settings, subscription_id, reason, maker_id)
    return report


def pause_reason(failures: int) -> str:
    """Why leadflow paused a subscription."""
    return f"Paused after {failures} failed delivery attempts in a row; resume it once the receiver answers."


def _pause_failing(
    session: Session, subscription_ids: list[uuid.UUID], now: datetime
) -> list[tuple[uuid.UUID, str, uuid.UUID | None]]:
    failing = session.execute(
        select(WebhookSubscription.id, WebhookSubscription.consecutive_failures, WebhookSubscription.created_by_id)
        .where(
            WebhookSubscription.id.in_(subscription_ids),
            WebhookSubscription.state == WebhookState.ACTIVE,
            WebhookSubscription.consecutive_failures >= PAUSE_AFTER_FAILURES,
        )
        .with_for_update()
    ).all()
    paused = []
    for subscription_id, failures, maker_id in failing:
        reason = pause_reason(failures)
        session.execute(
            update(WebhookSubscription)
            .where(WebhookSubscription.id == subscription_id)
            .values(
                state=WebhookState.PAUSED,
                paused_reason=reason,
                paused_at=now,
                row_version=WebhookSubscription.row_version + 1,
            )
            .execution_options(synchronize_session=False)
        )
        record_action(session, None, "webhook_paused", table="webhooks", record_id=subscription_id, summary=reason)
        paused.append((subscription_id, reason, maker_id))
    if paused:
        forget_subscriptions(session)
    return paused


def _tell(
    database: Database, settings: Settings, subscription_id: uuid.UUID, reason: str, maker_id: uuid.UUID | None
) -> None:
    """E-mail the subscription's maker (else the first administrator) that it was paused; without a
    mail server the audit entry and the pages' banner tell it."""
    if not settings.smtp_url:
        return
    with database.unit_of_work(read_only=True) as uow:
        maker = uow.session.get(User, maker_id) if maker_id else None
        person = maker if maker is not None and maker.is_active else first_administrator(uow.session)
        subscription = uow.session.get(WebhookSubscription, subscription_id)
        if person is None or subscription is None:
            return
        message = Outgoing(
            to=person.email,
            subject=f"leadflow: the webhook {subscription.name} was paused",
            text=f"The webhook {subscription.name} ({subscription.url}) was paused.\n{reason}\n",
        )
    sent = deliver(settings, message)
    if sent.problem:
        log.warning("could not e-mail that webhook %s was paused: %s", subscription_id, sent.problem)


def deliver_due(
    database: Database,
    *,
    settings: Settings,
    now: datetime | None = None,
    limit: int = BATCH,
    threads: int = THREADS,
    client: httpx.Client | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> DeliveryReport:
    """Send every delivery due at ``now`` (by default the clock's time, read again for each batch),
    ``limit`` at a time, ``threads`` at once, until none is due; each batch is logged as it ends."""
    allow_private = settings.webhook_private_targets == "allow"
    sender = client or http_client(threads)
    total = DeliveryReport()
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="webhook") as pool:
        while True:
            moment = now or clock()
            claimed = _claim(database, moment, limit)
            if not claimed:
                return total
            attempts = list(pool.map(lambda item: _send(sender, item, allow_private=allow_private), claimed))
            report = _record(database, attempts, moment, settings)
            total.delivered += report.delivered
            total.retrying += report.retrying
            total.failed += report.failed
            total.paused.extend(report.paused)
