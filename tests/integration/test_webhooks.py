"""Webhooks on SQLite and PostgreSQL: every kind of event reaches a local HTTP receiver (started here,
on 127.0.0.1) with its payload, signed with the subscription's secret; failed attempts are retried
with a growing backoff, a subscription that keeps failing is paused and resumed, a delivery can be
sent again, a rolled-back action sends nothing, and private targets are refused unless allowed.

Delivery is driven by calling ``deliver_due`` with the time to act at (no sleeping); the job queue's
waker is switched off so that nothing is sent behind the test's back.
"""

from __future__ import annotations

import ipaddress
import json
import threading
import uuid
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadflow.core.config import Settings
from leadflow.core.db import utcnow
from leadflow.core.errors import Forbidden, LeadflowError, ValidationFailed
from leadflow.core.schemas import parse
from leadflow.core.uow import Database
from leadflow.customers import service as customers
from leadflow.customers.schemas import AccountCreate, AccountUpdate
from leadflow.duplicates.merge import merge_records
from leadflow.leads import service as leads
from leadflow.leads.models import LeadStatusReason
from leadflow.leads.schemas import LeadCreate, LeadUpdate, QualifyOptions
from leadflow.opportunities import closing
from leadflow.opportunities.schemas import LoseOpportunity, OpportunityCreate, WinOpportunity
from leadflow.opportunities.service import create_opportunity
from leadflow.security.actor import Actor, actor_for_email
from leadflow.security.audit import AuditEntry
from leadflow.security.service import create_user
from leadflow.tasks import job_queue
from leadflow.webhooks import outbox, service, targets
from leadflow.webhooks.delivery import MAX_ATTEMPTS, PAUSE_AFTER_FAILURES, deliver_due
from leadflow.webhooks.events import EVENT_NAMES
from leadflow.webhooks.models import DeliveryState, WebhookDelivery, WebhookState, WebhookSubscription
from leadflow.webhooks.schemas import WebhookIn
from leadflow.webhooks.signing import verify_signature
from tests.conftest import ADMIN_EMAIL, app_for, bearer_headers
from tests.factories import lead_data, make_lead


class NoWakers(weakref.WeakKeyDictionary):  # type: ignore[type-arg]
    """No waker: an app built during the test (whose job queue registers one) sends nothing by itself."""

    def __setitem__(self, key: object, value: object) -> None:
        pass


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


class Receiver:
    """A webhook receiver on 127.0.0.1 (a free port) that records every request and answers the
    scripted statuses in turn (200 once they run out)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.statuses: list[int] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.received.append(Received(self.path, dict(self.headers.items()), body))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                answer = b"ok" if status < 300 else b"receiver is down"
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def events(self) -> list[str]:
        return [item.headers["Leadflow-Event"] for item in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture(autouse=True)
def no_waker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deliveries are sent only when the test calls ``deliver_due``."""
    monkeypatch.setattr(outbox, "WAKERS", NoWakers())


@pytest.fixture
def allowing(database: Database) -> Settings:
    """Settings that let deliveries reach the receiver on 127.0.0.1."""
    return Settings(database_url=database.url, webhook_private_targets="allow")


def subscribe(database: Database, actor: Actor, url: str, **values: Any) -> WebhookSubscription:
    data = {"name": values.pop("name", "Receiver"), "url": url, "events": list(EVENT_NAMES), **values}
    with database.unit_of_work() as uow:
        subscription = service.create_subscription(parse(WebhookIn, data), uow=uow, actor=actor, allow_private=True)
        uow.commit()
    return subscription


def deliveries(database: Database, subscription_id: uuid.UUID) -> list[WebhookDelivery]:
    with database.unit_of_work(read_only=True) as uow:
        return list(
            uow.session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.subscription_id == subscription_id)
                .order_by(WebhookDelivery.created_at, WebhookDelivery.id)
            )
        )


def subscription_of(database: Database, subscription_id: uuid.UUID) -> WebhookSubscription:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.get_one(WebhookSubscription, subscription_id)


def make_account(database: Database, actor: Actor, name: str) -> uuid.UUID:
    with database.unit_of_work() as uow:
        account = customers.create_account(AccountCreate(name=name), uow=uow, actor=actor, suppress_duplicates=True)
        uow.commit()
    return account.id


def make_opportunity(database: Database, actor: Actor, name: str) -> uuid.UUID:
    with database.unit_of_work() as uow:
        opportunity = create_opportunity(OpportunityCreate(name=name), uow=uow, actor=actor, suppress_duplicates=True)
        uow.commit()
    return opportunity.id


# ---------------------------------------------------------------------------------------------- events


def test_every_kind_of_event_reaches_the_receiver_with_its_payload(
    database: Database, actor: Actor, receiver: Receiver, allowing: Settings
) -> None:
    subscription = subscribe(database, actor, receiver.url)
    lead = make_lead(database, actor)
    with database.unit_of_work() as uow:
        leads.update_lead(lead.id, LeadUpdate(job_title="Chief buyer"), uow=uow, actor=actor)
        uow.commit()
    with database.unit_of_work() as uow:
        leads.disqualify_lead(lead.id, LeadStatusReason.CANNOT_CONTACT, uow=uow, actor=actor)
        uow.commit()
    with database.unit_of_work() as uow:
        leads.reactivate_lead(lead.id, uow=uow, actor=actor)
        uow.commit()
    with database.unit_of_work() as uow:
        leads.delete_lead(lead.id, uow=uow, actor=actor)
        uow.commit()
    qualified = make_lead(database, actor)
    with database.unit_of_work() as uow:
        leads.qualify_lead(qualified.id, QualifyOptions(), uow=uow, actor=actor)
        uow.commit()
    won, lost = make_opportunity(database, actor, "Won deal"), make_opportunity(database, actor, "Lost deal")
    with database.unit_of_work() as uow:
        closing.win_opportunity(won, WinOpportunity(), uow=uow, actor=actor)
        closing.lose_opportunity(lost, LoseOpportunity(), uow=uow, actor=actor)
        uow.commit()
    master, subordinate = make_account(database, actor, "Iberia SA"), make_account(database, actor, "Iberia S.A.")
    with database.unit_of_work() as uow:
        merge_records("accounts", master, subordinate, uow=uow, actor=actor)
        uow.commit()

    report = deliver_due(database, settings=allowing, now=utcnow())

    by_event: dict[str, list[dict[str, Any]]] = {}
    for item in receiver.received:
        by_event.setdefault(item.headers["Leadflow-Event"], []).append(item.json)
    assert set(by_event) == set(EVENT_NAMES) - {"import.finished"}
    assert report.delivered == len(receiver.received) and report.retrying == report.failed == 0

    updated = next(body for body in by_event["record.updated"] if body["record_id"] == str(lead.id))
    assert updated["table"] == "leads" and updated["user_id"] == str(actor.user_id)
    assert updated["changes"]["job_title"] == {"old": "Purchasing manager", "new": "Chief buyer"}
    assert {body["record_id"] for body in by_event["lead.disqualified"]} == {str(lead.id)}
    assert by_event["lead.disqualified"][0]["summary"] == "cannot_contact"
    assert [body["record_id"] for body in by_event["lead.reactivated"]] == [str(lead.id)]
    assert str(lead.id) in {body["record_id"] for body in by_event["record.deleted"]}
    assert {"leads", "opportunities"} <= {body["table"] for body in by_event["record.created"]}
    qualifying = by_event["lead.qualified"][0]
    assert qualifying["record_id"] == str(qualified.id) and qualifying["changes"]["account_id"]
    assert [body["record_id"] for body in by_event["opportunity.won"]] == [str(won)]
    assert [body["record_id"] for body in by_event["opportunity.lost"]] == [str(lost)]
    assert by_event["opportunity.won"][0]["changes"]["state"] == {"old": "open", "new": "won"}
    merged = by_event["record.merged"][0]
    assert merged["record_id"] == str(master) and merged["changes"]["subordinate_id"] == str(subordinate)

    # Each body names its delivery, as the headers do, and says when it happened.
    for item in receiver.received:
        body = item.json
        assert set(body) == {"id", "event", "occurred_at", "table", "record_id", "user_id", "changes", "summary"}
        assert item.headers["Leadflow-Delivery"] == body["id"]
        assert body["event"] == item.headers["Leadflow-Event"]
        assert body["occurred_at"].endswith("+00:00")
        assert item.headers["Content-Type"] == "application/json"
    assert all(d.state is DeliveryState.DELIVERED for d in deliveries(database, subscription.id))


def test_a_finished_import_is_an_event_with_its_counts(
    database: Database, settings: Settings, receiver: Receiver, allowing: Settings, actor: Actor
) -> None:
    subscription = subscribe(database, actor, receiver.url, events=["import.finished"])
    content = b"Topic,Last Name,Email\r\nChairs,Ruiz,ruiz@example.com\r\nDesks,Pardo,pardo@example.com\r\n"
    with TestClient(app_for(database, settings), headers=bearer_headers(database, ADMIN_EMAIL)) as client:
        answer = client.post(
            "/api/v1/imports", files={"file": ("leads.csv", content, "text/csv")}, data={"table": "leads"}
        )
    assert answer.status_code == 202, answer.text
    import_id = answer.json()["id"]

    deliver_due(database, settings=allowing, now=utcnow())

    assert receiver.events() == ["import.finished"]
    body = receiver.received[0].json
    assert body["table"] == "imports" and body["record_id"] == import_id
    assert body["changes"]["created"] == 2 and body["changes"]["rows"] == 2
    assert [d.state for d in deliveries(database, subscription.id)] == [DeliveryState.DELIVERED]


def test_a_subscription_gets_only_its_events_and_tables(
    database: Database, actor: Actor, receiver: Receiver, allowing: Settings
) -> None:
    subscribe(database, actor, receiver.url, events=["record.created", "record.updated"], tables=["accounts"])
    make_lead(database, actor)
    account = make_account(database, actor, "Only accounts")
    with database.unit_of_work() as uow:
        customers.update_account(account, AccountUpdate(website="https://only.example"), uow=uow, actor=actor)
        customers.delete_account(account, uow=uow, actor=actor)
        uow.commit()

    deliver_due(database, settings=allowing, now=utcnow())

    assert sorted(receiver.events()) == ["record.created", "record.updated"]  # sent at once: in any order
    assert {item.json["table"] for item in receiver.received} == {"accounts"}


def test_the_job_queue_sends_a_committed_event_at_once(
    database: Database, actor: Actor, receiver: Receiver, allowing: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox, "WAKERS", weakref.WeakKeyDictionary())
    job_queue(allowing, database)  # immediate here: the waker it installs sends in the committing process
    subscription = subscribe(database, actor, receiver.url, events=["record.created"])
    lead = make_lead(database, actor)
    assert [item.json["record_id"] for item in receiver.received] == [str(lead.id)]
    assert [d.state for d in deliveries(database, subscription.id)] == [DeliveryState.DELIVERED]


# ---------------------------------------------------------------------------------------------- signatures


def test_the_signature_verifies_with_the_secret_and_not_with_another(
    database: Database, actor: Actor, receiver: Receiver, allowing: Settings
) -> None:
    subscription = subscribe(database, actor, receiver.url, events=["record.created"])
    assert len(subscription.secret) == 64
    make_lead(database, actor)
    deliver_due(database, settings=allowing, now=utcnow())

    [item] = receiver.received
    header = item.headers["Leadflow-Signature"]
    assert header.startswith("t=") and ",v1=" in header
    assert verify_signature(subscription.secret, header, item.body)
    assert not verify_signature("another secret of the right length", header, item.body)
    assert not verify_signature(subscription.secret, header, item.body + b" ")
    timestamp = int(header.split(",")[0].removeprefix("t="))
    assert not verify_signature(subscription.secret, header, item.body, now=timestamp + 301)


def test_a_secret_given_is_used(database: Database, actor: Actor, receiver: Receiver, allowing: Settings) -> None:
    subscribe(database, actor, receiver.url, events=["record.created"], secret="whsec-of-our-own-0123456789")
    make_lead(database, actor)
    deliver_due(database, settings=allowing, now=utcnow())
    [item] = receiver.received
    assert verify_signature("whsec-of-our-own-0123456789", item.headers["Leadflow-Signature"], item.body)


# ---------------------------------------------------------------------------------------------- retries


def test_failed_attempts_are_retried_with_a_growing_backoff_until_delivered(
    database: Database, actor: Actor, receiver: Receiver, allowing: Settings
) -> None:
    subscription = subscribe(database, actor, receiver.url, events=["record.created"])
    make_lead(database, actor)
    receiver.statuses = [500, 500, 200]
    now = utcnow()

    first = deliver_due(database, settings=allowing, now=now)
    [delivery] = deliveries(database, subscription.id)
    assert (first.retrying, delivery.state, delivery.attempts, delivery.last_status) == (
        1,
        DeliveryState.PENDING,
        1,
        500,
    )
    assert delivery.last_error == "HTTP 500: receiver is down" and delivery.last_response_ms is not None
    first_wait = delivery.next_attempt_at - now
    assert timedelta(seconds=24) <= first_wait <= timedelta(seconds=36)

    assert deliver_due(database, settings=allowing, now=now + timedelta(seconds=10)).attempts == 0  # not due yet
    later = now + first_wait
    deliver_due(database, settings=allowing, now=later)
    [delivery] = deliveries(database, subscription.id)
    assert (delivery.attempts, delivery.last_status, delivery.state) == (2, 500, DeliveryState.PENDING)
    second_wait = delivery.next_attempt_at - later
    assert second_wait > first_wait and timedelta(seconds=48) <= second_wait <= timedelta(seconds=72)

    deliver_due(database, settings=allowing, now=later + second_wait)
    [delivery] = deliveries(database, subscription.id)
    assert (delivery.attempts, delivery.last_status, delivery.state) == (3, 200, DeliveryState.DELIVERED)
    assert delivery.delivered_at is not None and delivery.next_attempt_at is None and delivery.last_error is None
    assert len(receiver.received) == 3
    assert len({item.headers["Leadflow-Delivery"] for item in receiver.received}) == 1
    assert subscription_of(database, subscription.id).consecutive_failures == 0


def test_a_delivery_fails_after_its_last_attempt(
    database: Database, actor: Actor, receiver: Receiver, allowing: Settings
) -> None:
    subscription = subscribe(database, actor, receiver.url, events=["record.created"])
    make_lead(database, actor)
    receiver.statuses = [503] * MAX_ATTEMPTS
    moment = utcnow()
    for _ in range(MAX_ATTEMPTS):
        deliver_due(database, settings=allowing, now=moment)
        moment += timedelta(days=1)
    [delivery] = deliveries(database, subscription.id)
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == (DeliveryState.FAILED, MAX_ATTEMPTS, None)
    assert deliver_due(database, settings=allowing, now=moment).attempts == 0
    assert len(receiver.received) == MAX_ATTEMPTS


def test_an_unreachable_receiver_is_logged_as_an_error(database: Database, actor: Actor, allowing: Settings) -> None:
    with Receiver() as gone:
        url = gone.url
    subscription = subscribe(database, actor, url, events=["record.created"])
    make_lead(database, actor)
    deliver_due(database, settings=allowing, now=utcnow())
    [delivery] = deliveries(database, subscription.id)
    assert delivery.state is DeliveryState.PENDING and delivery.last_status is None
    assert delivery.last_error and "Connect" in delivery.last_error


# ---------------------------------------------------------------------------------------------- pausing


def test_a_subscription_that_keeps_failing_is_paused_and_resuming_sends_what_is_pending(
    database: Database, actor: Actor, receiver: Receiver, allowing: Settings
) -> None:
    subscription = subscribe(database, actor, receiver.url, events=["record.created"])
    for _ in range(PAUSE_AFTER_FAILURES):
        make_lead(database, actor)
    receiver.statuses = [500] * PAUSE_AFTER_FAILURES
    now = utcnow()

    report = deliver_due(database, settings=allowing, now=now)

    assert report.paused == [subscription.id]
    paused = subscription_of(database, subscription.id)
    assert paused.state is WebhookState.PAUSED and paused.paused_at is not None
    assert paused.paused_reason and f"{PAUSE_AFTER_FAILURES} failed" in paused.paused_reason
    assert paused.row_version == subscription.row_version + 1
    with database.unit_of_work(read_only=True) as uow:
        audited = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "webhook_paused", AuditEntry.record_id == subscription.id)
        ).all()
    assert len(audited) == 1 and audited[0].user_id is None

    # Paused: nothing is sent, not even when due, and new events are not queued for it.
    make_lead(database, actor)
    assert deliver_due(database, settings=allowing, now=now + timedelta(days=1)).attempts == 0
    assert len(receiver.received) == PAUSE_AFTER_FAILURES
    assert len(deliveries(database, subscription.id)) == PAUSE_AFTER_FAILURES

    with database.unit_of_work() as uow:
        resumed = service.resume_subscription(subscription.id, uow=uow, actor=actor)
        uow.commit()
    assert resumed.state is WebhookState.ACTIVE and resumed.consecutive_failures == 0
    deliver_due(database, settings=allowing, now=utcnow())
    assert len(receiver.received) == 2 * PAUSE_AFTER_FAILURES
    assert {d.state for d in deliveries(database, subscription.id)} == {DeliveryState.DELIVERED}


def test_one_success_resets_the_count_of_failures(
    database: Database, actor: Actor, receiver: Receiver, allowing: Settings
) -> None:
    subscription = subscribe(database, actor, receiver.url, events=["record.created"])
    make_lead(database, actor)
    receiver.statuses = [500]
    now = utcnow()
    deliver_due(database, settings=allowing, now=now)
    assert subscription_of(database, subscription.id).consecutive_failures == 1
    deliver_due(database, settings=allowing, now=now + timedelta(minutes=5))
    assert subscription_of(database, subscription.id).consecutive_failures == 0


# ---------------------------------------------------------------------------------------------- redelivery


def test_an_administrator_can_send_a_delivery_again(
    database: Database, actor: Actor, receiver: Receiver, allowing: Settings
) -> None:
    subscription = subscribe(database, actor, receiver.url, events=["record.created"])
    make_lead(database, actor)
    deliver_due(database, settings=allowing, now=utcnow())
    [delivery] = deliveries(database, subscription.id)
    assert delivery.state is DeliveryState.DELIVERED

    with database.unit_of_work() as uow:
        again = service.redeliver(subscription.id, delivery.id, uow=uow, actor=actor)
        uow.commit()
    assert again.state is DeliveryState.PENDING
    deliver_due(database, settings=allowing, now=utcnow())

    [delivery] = deliveries(database, subscription.id)
    assert (delivery.state, delivery.attempts) == (DeliveryState.DELIVERED, 2)
    assert [item.headers["Leadflow-Delivery"] for item in receiver.received] == [str(delivery.id)] * 2
    assert receiver.received[0].body == receiver.received[1].body


def test_a_salesperson_may_not_manage_webhooks(database: Database, actor: Actor, receiver: Receiver) -> None:
    subscription = subscribe(database, actor, receiver.url, events=["record.created"])
    with database.unit_of_work() as uow:
        create_user(
            email="seller@example.com",
            full_name="Sol Seller",
            role_names=["Salesperson"],
            business_unit_name=None,
            password=None,
            uow=uow,
            actor=actor,
        )
        uow.commit()
    with database.unit_of_work() as uow:
        seller = actor_for_email(uow.session, "seller@example.com")
        with pytest.raises(Forbidden):
            service.list_subscriptions(uow=uow, actor=seller)
        with pytest.raises(Forbidden):
            service.resume_subscription(subscription.id, uow=uow, actor=seller)
        with pytest.raises(Forbidden):
            service.create_subscription(
                parse(WebhookIn, {"name": "x", "url": receiver.url, "events": ["record.created"]}),
                uow=uow,
                actor=seller,
                allow_private=True,
            )


# ---------------------------------------------------------------------------------------------- nothing half-done


def test_an_action_rolled_back_sends_nothing(
    database: Database, actor: Actor, receiver: Receiver, allowing: Settings
) -> None:
    subscription = subscribe(database, actor, receiver.url)
    with database.unit_of_work() as uow:
        leads.create_lead(parse(LeadCreate, lead_data()), uow=uow, actor=actor)
        with uow.session.no_autoflush:
            assert uow.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1
        # not committed: the unit of work rolls back
    lead = make_lead(database, actor)
    with database.unit_of_work() as uow, pytest.raises(LeadflowError):
        leads.reactivate_lead(lead.id, uow=uow, actor=actor)  # an open lead: refused
    deliver_due(database, settings=allowing, now=utcnow())

    assert receiver.events() == ["record.created"]
    assert receiver.received[0].json["record_id"] == str(lead.id)
    assert len(deliveries(database, subscription.id)) == 1


def test_no_subscription_writes_no_delivery(database: Database, actor: Actor) -> None:
    make_lead(database, actor)
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


# ---------------------------------------------------------------------------------------------- private targets


def test_private_targets_are_refused_when_saved_unless_allowed(
    database: Database, actor: Actor, receiver: Receiver
) -> None:
    data = parse(WebhookIn, {"name": "Local", "url": receiver.url, "events": ["record.created"]})
    for url in (receiver.url, "http://10.0.0.7/hooks", "http://169.254.169.254/latest", "http://[::1]:8080/"):
        with database.unit_of_work() as uow, pytest.raises(ValidationFailed) as refused:
            service.create_subscription(data.model_copy(update={"url": url}), uow=uow, actor=actor, allow_private=False)
        assert refused.value.code == "private_target"
        assert refused.value.details["fields"][0]["field"] == "url"
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(WebhookSubscription)) == 0
    with database.unit_of_work() as uow:
        saved = service.create_subscription(data, uow=uow, actor=actor, allow_private=True)
        uow.commit()
    assert saved.url == receiver.url


def test_a_private_target_is_refused_at_delivery_when_the_setting_refuses_it(
    database: Database, actor: Actor, receiver: Receiver
) -> None:
    subscription = subscribe(database, actor, receiver.url, events=["record.created"])
    make_lead(database, actor)
    refusing = Settings(database_url=database.url, webhook_private_targets="refuse")

    deliver_due(database, settings=refusing, now=utcnow())

    assert receiver.received == []
    [delivery] = deliveries(database, subscription.id)
    assert delivery.state is DeliveryState.PENDING and delivery.attempts == 1 and delivery.last_status is None
    assert delivery.last_error and delivery.last_error.startswith("Refused:") and "127.0.0.1" in delivery.last_error


def test_a_checked_delivery_connects_to_the_address_it_checked_and_keeps_the_host(
    database: Database, actor: Actor, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = receiver.server.server_address[1]
    subscription = subscribe(database, actor, f"http://receiver.test:{port}/hooks", events=["record.created"])
    monkeypatch.setattr(targets, "resolve", lambda host, _port: [ipaddress.ip_address("127.0.0.1")])
    monkeypatch.setattr(targets, "is_private", lambda _address: False)  # as if 127.0.0.1 were public
    make_lead(database, actor)

    deliver_due(database, settings=Settings(database_url=database.url), now=utcnow())

    [item] = receiver.received
    assert item.headers["Host"] == f"receiver.test:{port}" and item.path == "/hooks"
    assert [d.state for d in deliveries(database, subscription.id)] == [DeliveryState.DELIVERED]
