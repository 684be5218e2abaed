"""The outbox: audit entries become webhook deliveries in the same transaction, and a committed
transaction that wrote some wakes the workers.

``leadflow.security.audit.write_entries`` calls ``queue_deliveries`` with every batch of entries it
writes. An entry that raises no event (``leadflow.webhooks.events``) costs a dictionary lookup; one
that does reads the active subscriptions once per transaction (kept in ``session.info``) and inserts
one delivery per subscription that wants it. The job queue, which sits above this layer, registers a
waker per database engine (``WAKERS``): after a commit that wrote deliveries it is called to hand
the sending to a worker (in ``immediate`` mode, to send at once).
"""

from __future__ import annotations

import logging
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import Engine, event, insert, select
from sqlalchemy.orm import Session, SessionTransaction

from leadflow.security.audit import ENTRY_LISTENERS
from leadflow.webhooks.events import events_of
from leadflow.webhooks.models import DeliveryState, WebhookDelivery, WebhookState, WebhookSubscription

log = logging.getLogger(__name__)

_SUBSCRIPTIONS_KEY = "leadflow_webhook_subscriptions"
_WAKE_KEY = "leadflow_webhook_wake"

# A callable per engine, called after a commit on it that wrote deliveries (see the module's docstring).
WAKERS: weakref.WeakKeyDictionary[Engine, Callable[[], None]] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Active:
    """What the listener needs of an active subscription."""

    id: uuid.UUID
    events: frozenset[str]
    tables: frozenset[str]

    def wants(self, event_name: str, table: str | None) -> bool:
        return event_name in self.events and (not self.tables or table in self.tables)


def active_subscriptions(session: Session) -> list[Active]:
    """The active subscriptions, read once per transaction."""
    cached = session.info.get(_SUBSCRIPTIONS_KEY)
    if cached is None:
        rows = session.execute(
            select(WebhookSubscription.id, WebhookSubscription.events, WebhookSubscription.tables).where(
                WebhookSubscription.state == WebhookState.ACTIVE
            )
        )
        cached = session.info[_SUBSCRIPTIONS_KEY] = [
            Active(row.id, frozenset(row.events or ()), frozenset(row.tables or ())) for row in rows
        ]
    return cached


def forget_subscriptions(session: Session) -> None:
    """Read the subscriptions again at the next event (one was created, changed or deleted)."""
    session.info.pop(_SUBSCRIPTIONS_KEY, None)


def payload(delivery_id: uuid.UUID, event_name: str, entry: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of one delivery of an audit entry's event."""
    occurred: datetime = entry["occurred_at"]
    return {
        "id": str(delivery_id),
        "event": event_name,
        "occurred_at": occurred.isoformat(),
        "table": entry["table_name"],
        "record_id": str(entry["record_id"]) if entry["record_id"] is not None else None,
        "user_id": str(entry["user_id"]) if entry["user_id"] is not None else None,
        "changes": to_jsonable_python(entry.get("changes"), fallback=str),
        "summary": entry.get("summary"),
    }


def queue_deliveries(session: Session, entries: list[dict[str, Any]]) -> None:
    """One pending delivery per active subscription that wants an event of ``entries``, in the
    caller's transaction (the listener of ``write_entries``)."""
    raised = [(entry, name) for entry in entries for name in events_of(entry)]
    if not raised:
        return
    subscriptions = active_subscriptions(session)
    if not subscriptions:
        return
    rows = []
    for entry, name in raised:
        for subscription in subscriptions:
            if subscription.wants(name, entry["table_name"]):
                delivery_id = uuid.uuid4()
                rows.append(
                    {
                        "id": delivery_id,
                        "subscription_id": subscription.id,
                        "event": name,
                        "payload": payload(delivery_id, name, entry),
                        "state": DeliveryState.PENDING,
                        "attempts": 0,
                        "next_attempt_at": entry["occurred_at"],
                        "created_at": entry["occurred_at"],
                    }
                )
    if rows:
        session.execute(insert(WebhookDelivery), rows)
        wake_after_commit(session)


def wake_after_commit(session: Session) -> None:
    """Wake the workers once this session's transaction commits."""
    session.info[_WAKE_KEY] = True


def wake(engine: Engine) -> None:
    """Call the waker of ``engine``, if the job queue registered one; its failure is only logged
    (the minute sweep sends what it did not)."""
    waker = WAKERS.get(engine)
    if waker is None:
        return
    try:
        waker()
    except Exception:  # a queue that does not answer must not undo a committed action
        log.exception("could not wake the webhook workers; the minute sweep will send the deliveries")


@event.listens_for(Session, "after_commit")
def _wake_on_commit(session: Session) -> None:
    if session.info.pop(_WAKE_KEY, False):
        bind = session.get_bind()
        wake(bind if isinstance(bind, Engine) else bind.engine)


@event.listens_for(Session, "after_rollback")
def _no_wake_on_rollback(session: Session) -> None:
    session.info.pop(_WAKE_KEY, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_at_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        forget_subscriptions(session)


if queue_deliveries not in ENTRY_LISTENERS:
    ENTRY_LISTENERS.append(queue_deliveries)
