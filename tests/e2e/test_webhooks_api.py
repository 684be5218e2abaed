"""Webhooks over the REST API: an administrator subscribes, reads, changes (with If-Match), pauses,
resumes and deletes; bad URLs, events and tables are refused with 422 and a clear sentence in English
or Spanish, a private target by default; a salesperson is refused with 403; a refusal writes nothing.
With a local receiver (and private targets allowed), a lead created over the API is delivered at once
(the queue runs immediately here), logged, and sent again on request. Both backends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadflow.core.config import Settings
from leadflow.core.uow import Database
from leadflow.security.actor import Actor
from leadflow.security.service import create_user
from leadflow.webhooks import outbox
from leadflow.webhooks.delivery import deliver_due
from leadflow.webhooks.events import EVENT_NAMES
from leadflow.webhooks.models import WebhookDelivery, WebhookSubscription
from leadflow.webhooks.signing import verify_signature
from tests.conftest import app_for, bearer_headers
from tests.e2e.helpers import assert_error, create_lead
from tests.integration.test_webhooks import Receiver

API = "/api/v1"
PUBLIC_URL = "https://93.184.215.14/hooks"  # an address literal: no name to resolve, and a public one
INVALID_URL_EN = (
    "A webhook URL must start with http:// or https:// and name a host, for example https://example.com/hooks."
)
INVALID_URL_ES = (
    "La URL de un webhook debe empezar por http:// o https:// e indicar un servidor, por ejemplo "
    "https://example.com/hooks."
)
SELLER = "seller@example.com"


def webhook(**values: Any) -> dict[str, Any]:
    return {"name": "CRM mirror", "url": PUBLIC_URL, "events": ["lead.qualified", "record.created"], **values}


def stored(database: Database) -> tuple[int, int]:
    with database.unit_of_work(read_only=True) as uow:
        return (
            uow.session.scalar(select(func.count()).select_from(WebhookSubscription)) or 0,
            uow.session.scalar(select(func.count()).select_from(WebhookDelivery)) or 0,
        )


@pytest.fixture
def seller(database: Database, actor: Actor) -> dict[str, str]:
    with database.unit_of_work() as uow:
        create_user(
            email=SELLER,
            full_name="Sol Seller",
            role_names=["Salesperson"],
            business_unit_name=None,
            password=None,
            uow=uow,
            actor=actor,
        )
        uow.commit()
    return bearer_headers(database, SELLER)


def test_an_administrator_creates_reads_changes_and_deletes_a_webhook(client: TestClient, database: Database) -> None:
    created = client.post(f"{API}/webhooks", json=webhook())
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["Location"] == f"/api/v1/webhooks/{body['id']}"
    assert created.headers["ETag"] == '"1"'
    assert len(body["secret"]) == 64 and int(body["secret"], 16) >= 0
    assert (body["state"], body["events"], body["tables"]) == ("active", ["lead.qualified", "record.created"], [])

    assert [item["id"] for item in client.get(f"{API}/webhooks").json()] == [body["id"]]
    read = client.get(f"{API}/webhooks/{body['id']}")
    assert read.status_code == 200 and read.json()["url"] == PUBLIC_URL and read.headers["ETag"] == '"1"'

    changed = client.patch(
        f"{API}/webhooks/{body['id']}", json={"name": "Mirror", "tables": ["leads"]}, headers={"If-Match": '"1"'}
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["tables"], changed.headers["ETag"]) == ("Mirror", ["leads"], '"2"')
    assert_error(
        client.patch(f"{API}/webhooks/{body['id']}", json={"name": "x"}, headers={"If-Match": '"1"'}), 412, "stale_etag"
    )

    rotated = client.patch(f"{API}/webhooks/{body['id']}", json={"secret": None}).json()
    assert len(rotated["secret"]) == 64 and rotated["secret"] != body["secret"]

    assert_error(client.delete(f"{API}/webhooks/{body['id']}", headers={"If-Match": '"1"'}), 412, "stale_etag")
    assert client.delete(f"{API}/webhooks/{body['id']}").status_code == 204
    assert_error(client.get(f"{API}/webhooks/{body['id']}"), 404, "webhook_not_found")
    assert stored(database) == (0, 0)


def test_the_event_catalogue_lists_every_event(client: TestClient) -> None:
    answer = client.get(f"{API}/webhooks/events")
    assert answer.status_code == 200
    assert [item["name"] for item in answer.json()] == list(EVENT_NAMES)
    assert all(item["description"] for item in answer.json())


@pytest.mark.parametrize(
    "url",
    ["ftp://x", "javascript:alert(1)", "http://", "https:///no-host", "hooks.example.com/leadflow", "http://a b/"],
)
@pytest.mark.parametrize(("language", "sentence"), [("en", INVALID_URL_EN), ("es", INVALID_URL_ES)])
def test_a_url_that_is_not_http_with_a_host_is_refused_in_the_users_language(
    client: TestClient, database: Database, url: str, language: str, sentence: str
) -> None:
    answer = client.post(f"{API}/webhooks", json=webhook(url=url), headers={"Accept-Language": language})
    error = assert_error(answer, 422, "invalid_url")
    assert error["message"] == sentence
    assert [(item["field"], item["code"]) for item in error["details"]["fields"]] == [("url", "invalid_url")]
    assert stored(database) == (0, 0)


def test_a_change_to_a_bad_url_is_refused_and_changes_nothing(client: TestClient) -> None:
    body = client.post(f"{API}/webhooks", json=webhook()).json()
    error = assert_error(
        client.patch(f"{API}/webhooks/{body['id']}", json={"url": "javascript:alert(1)", "name": "Changed"}),
        422,
        "invalid_url",
    )
    assert error["message"] == INVALID_URL_EN
    after = client.get(f"{API}/webhooks/{body['id']}").json()
    assert (after["url"], after["name"], after["row_version"]) == (PUBLIC_URL, "CRM mirror", 1)


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("en", "Choose the webhook's events from the list of events leadflow sends."),
        ("es", "Elija los eventos del webhook de la lista de eventos que envía leadflow."),
    ],
)
def test_an_unknown_event_is_refused_naming_it(
    client: TestClient, database: Database, language: str, sentence: str
) -> None:
    answer = client.post(
        f"{API}/webhooks", json=webhook(events=["lead.qualified", "lead.eaten"]), headers={"Accept-Language": language}
    )
    error = assert_error(answer, 422, "unknown_event")
    assert error["message"] == sentence
    assert error["details"]["unknown"] == ["lead.eaten"] and error["details"]["fields"][0]["field"] == "events"
    assert stored(database) == (0, 0)


def test_no_event_and_an_unknown_table_are_refused(client: TestClient, database: Database) -> None:
    error = assert_error(client.post(f"{API}/webhooks", json=webhook(events=[])), 422, "events_required")
    assert error["message"] == "Choose at least one event for the webhook."
    spanish = client.post(f"{API}/webhooks", json=webhook(events=[]), headers={"Accept-Language": "es"})
    assert assert_error(spanish, 422, "events_required")["message"] == "Elija al menos un evento para el webhook."
    error = assert_error(client.post(f"{API}/webhooks", json=webhook(tables=["users"])), 422, "unknown_webhook_table")
    assert error["details"]["unknown"] == ["users"]
    assert_error(client.post(f"{API}/webhooks", json=webhook(color="red")), 422, "unknown_field")
    assert stored(database) == (0, 0)


def test_a_private_target_is_refused_by_default(client: TestClient, database: Database) -> None:
    for url in ("http://127.0.0.1:8080/hooks", "http://192.168.1.20/hooks", "http://[::ffff:10.0.0.1]/"):
        error = assert_error(client.post(f"{API}/webhooks", json=webhook(url=url)), 422, "private_target")
        assert "LEADFLOW_WEBHOOK_PRIVATE_TARGETS=allow" in error["message"]
        assert error["details"]["fields"][0]["field"] == "url"
    spanish = client.post(f"{API}/webhooks", json=webhook(url="http://127.0.0.1/"), headers={"Accept-Language": "es"})
    assert assert_error(spanish, 422, "private_target")["message"].startswith(
        "La URL del webhook lleva a una dirección"
    )
    assert stored(database) == (0, 0)


def test_a_salesperson_is_refused_every_webhook_call(
    client: TestClient, database: Database, seller: dict[str, str]
) -> None:
    body = client.post(f"{API}/webhooks", json=webhook()).json()
    calls = [
        ("GET", f"{API}/webhooks", None),
        ("POST", f"{API}/webhooks", webhook(name="Mine")),
        ("GET", f"{API}/webhooks/{body['id']}", None),
        ("PATCH", f"{API}/webhooks/{body['id']}", {"name": "Mine"}),
        ("DELETE", f"{API}/webhooks/{body['id']}", None),
        ("POST", f"{API}/webhooks/{body['id']}/resume", None),
        ("GET", f"{API}/webhooks/{body['id']}/deliveries", None),
    ]
    for method, path, payload in calls:
        answer = client.request(method, path, json=payload, headers=seller)
        error = assert_error(answer, 403, "forbidden")
        assert error["details"]["table"] == "webhooks", (method, path)
    assert stored(database) == (1, 0)
    assert client.get(f"{API}/webhooks/{body['id']}").json()["name"] == "CRM mirror"


def test_pausing_and_resuming(client: TestClient) -> None:
    body = client.post(f"{API}/webhooks", json=webhook()).json()
    assert_error(client.post(f"{API}/webhooks/{body['id']}/resume"), 409, "webhook_not_paused")
    paused = client.patch(f"{API}/webhooks/{body['id']}", json={"active": False}).json()
    assert (paused["state"], paused["paused_reason"]) == ("paused", "Paused by an administrator.")
    resumed = client.post(f"{API}/webhooks/{body['id']}/resume")
    assert resumed.status_code == 200 and resumed.json()["state"] == "active" and resumed.json()["paused_at"] is None


# ---------------------------------------------------------------------------------------------- delivering


@pytest.fixture
def receiving(database: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, Receiver]]:
    """An administrator's client of an app that lets deliveries reach a receiver on 127.0.0.1. The
    apps are shared between tests, and the waker of the database the last one built: this test's
    wakes with its own settings (as the app's queue would, immediately)."""
    settings = Settings(database_url=database.url, max_attachment_bytes=64 * 1024, webhook_private_targets="allow")
    monkeypatch.setitem(outbox.WAKERS, database.engine, lambda: deliver_due(database, settings=settings))
    with Receiver() as receiver, TestClient(app_for(database, settings)) as http:
        http.headers.update(bearer_headers(database, "admin@example.com"))
        yield http, receiver


def test_an_event_is_delivered_at_once_logged_and_sent_again_on_request(
    receiving: tuple[TestClient, Receiver], database: Database
) -> None:
    http, receiver = receiving
    body = http.post(f"{API}/webhooks", json=webhook(url=receiver.url, events=["record.created"])).json()
    lead = create_lead(http)

    assert receiver.events() == ["record.created"]
    sent = receiver.received[0]
    assert sent.json["record_id"] == lead["id"] and sent.json["table"] == "leads"
    assert verify_signature(body["secret"], sent.headers["Leadflow-Signature"], sent.body)

    page = http.get(f"{API}/webhooks/{body['id']}/deliveries").json()
    [delivery] = page["items"]
    assert page["next_cursor"] is None
    assert (delivery["state"], delivery["attempts"], delivery["last_status"]) == ("delivered", 1, 200)
    assert delivery["last_response_ms"] >= 0 and delivery["delivered_at"] and delivery["payload"] == sent.json

    again = http.post(f"{API}/webhooks/{body['id']}/deliveries/{delivery['id']}/redeliver")
    assert again.status_code == 202, again.text
    assert [item.headers["Leadflow-Delivery"] for item in receiver.received] == [delivery["id"]] * 2
    [delivery] = http.get(f"{API}/webhooks/{body['id']}/deliveries").json()["items"]
    assert (delivery["state"], delivery["attempts"]) == ("delivered", 2)
    assert_error(
        http.post(f"{API}/webhooks/{body['id']}/deliveries/{body['id']}/redeliver"), 404, "webhook_delivery_not_found"
    )


def test_the_deliveries_log_pages_newest_first(receiving: tuple[TestClient, Receiver]) -> None:
    http, receiver = receiving
    body = http.post(f"{API}/webhooks", json=webhook(url=receiver.url, events=["record.created"])).json()
    leads = [create_lead(http)["id"] for _ in range(3)]
    first = http.get(f"{API}/webhooks/{body['id']}/deliveries", params={"limit": 2}).json()
    assert first["next_cursor"]
    rest = http.get(f"{API}/webhooks/{body['id']}/deliveries", params={"limit": 2, "cursor": first["next_cursor"]})
    shown = [item["payload"]["record_id"] for item in first["items"] + rest.json()["items"]]
    assert shown == list(reversed(leads))
