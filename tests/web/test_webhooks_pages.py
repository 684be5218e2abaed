"""The webhook pages: the list with its paused banner and the new webhook's form (events as checkboxes,
CSRF), a webhook's page with its secret, Resume, its deliveries log and Send again, in English and
Spanish; a refused form keeps the input and saves nothing; a salesperson is refused."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadflow.core.config import Settings
from leadflow.core.db import utcnow
from leadflow.core.schemas import parse
from leadflow.core.uow import Database
from leadflow.security.actor import Actor
from leadflow.security.service import create_user
from leadflow.webhooks import outbox, service
from leadflow.webhooks.delivery import PAUSE_AFTER_FAILURES, deliver_due
from leadflow.webhooks.models import DeliveryState, WebhookDelivery, WebhookState, WebhookSubscription
from leadflow.webhooks.schemas import WebhookIn
from tests.factories import make_lead
from tests.integration.test_webhooks import NoWakers, Receiver
from tests.web.conftest import page_csrf

SELLER_EMAIL = "sofia.seller@example.com"
SELLER_PASSWORD = "seller horse battery staple"


@pytest.fixture(autouse=True)
def no_waker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deliveries are sent only when the test calls ``deliver_due``."""
    monkeypatch.setattr(outbox, "WAKERS", NoWakers())


def count(database: Database) -> int:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(WebhookSubscription)) or 0


def subscribe(database: Database, actor: Actor, url: str, **values: Any) -> WebhookSubscription:
    data = {"name": values.pop("name", "Receiver"), "url": url, "events": ["record.created"], **values}
    with database.unit_of_work() as uow:
        subscription = service.create_subscription(parse(WebhookIn, data), uow=uow, actor=actor, allow_private=True)
        uow.commit()
    return subscription


def form_of(csrf: str, **overrides: Any) -> dict[str, Any]:
    return {
        "csrf_token": csrf,
        "name": "ERP mirror",
        "url": "https://93.184.215.14/hooks",
        "secret": "",
        "events": ["lead.qualified", "opportunity.won"],
        "active": "1",
        **overrides,
    }


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ["Webhooks", "New webhook", "A lead was qualified", "Create webhook"]),
        ("es", ["Notificaciones webhook", "Nuevo webhook", "Se calificó un cliente potencial", "Crear webhook"]),
    ],
)
def test_the_list_reads_in_both_languages_and_is_in_the_admin_navigation(
    web_client_for: Callable[..., TestClient], language: str, words: list[str]
) -> None:
    client = web_client_for(accept_language=language)
    page = client.get("/admin/webhooks")
    assert page.status_code == 200
    text = html.unescape(page.text)
    for word in words:
        assert word in text, word
    assert 'href="/admin/webhooks"' in client.get("/admin/settings").text
    assert 'name="events" value="import.finished"' in page.text


def test_a_webhook_is_created_through_the_form_with_its_events_checked(
    web_client: TestClient, database: Database
) -> None:
    page = web_client.get("/admin/webhooks")
    answer = web_client.post("/admin/webhooks", data=form_of(page_csrf(page.text)), follow_redirects=False)
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert re.fullmatch(r"/admin/webhooks/[0-9a-f-]{36}\?notice=created", location)
    with database.unit_of_work(read_only=True) as uow:
        [saved] = uow.session.scalars(select(WebhookSubscription)).all()
    assert (saved.name, saved.events, saved.state) == (
        "ERP mirror",
        ["lead.qualified", "opportunity.won"],
        WebhookState.ACTIVE,
    )
    shown = web_client.get(location)
    assert shown.status_code == 200
    assert saved.secret in shown.text and "Give its secret to the receiver" in shown.text
    assert "Nothing was sent yet" in shown.text


def test_a_form_without_its_csrf_token_is_refused_and_saves_nothing(web_client: TestClient, database: Database) -> None:
    answer = web_client.post("/admin/webhooks", data=form_of("forged"), follow_redirects=False)
    assert answer.status_code == 403
    assert count(database) == 0


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("en", "A webhook URL must start with http:// or https:// and name a host"),
        ("es", "La URL de un webhook debe empezar por http:// o https:// e indicar un servidor"),
    ],
)
def test_a_bad_url_is_refused_on_the_form_in_the_users_language(
    web_client_for: Callable[..., TestClient], database: Database, language: str, sentence: str
) -> None:
    client = web_client_for(accept_language=language)
    page = client.get("/admin/webhooks")
    answer = client.post("/admin/webhooks", data=form_of(page_csrf(page.text), url="ftp://files.example.com/"))
    assert answer.status_code == 422
    text = html.unescape(answer.text)
    assert text.count(sentence) == 2  # above the form and beside the field
    assert 'value="ftp://files.example.com/"' in answer.text and 'aria-invalid="true"' in answer.text
    assert count(database) == 0


def test_no_event_is_refused_beside_the_events(web_client: TestClient, database: Database) -> None:
    page = web_client.get("/admin/webhooks")
    answer = web_client.post("/admin/webhooks", data=form_of(page_csrf(page.text), events=[]))
    assert answer.status_code == 422
    assert 'id="new-webhook-events-error"' in answer.text
    assert count(database) == 0


def test_a_paused_webhook_shows_a_banner_and_resumes(
    web_client_for: Callable[..., TestClient], database: Database, actor: Actor
) -> None:
    settings = Settings(database_url=database.url, webhook_private_targets="allow")
    with Receiver() as receiver:
        subscription = subscribe(database, actor, receiver.url)
        for _ in range(PAUSE_AFTER_FAILURES):
            make_lead(database, actor)
        receiver.statuses = [500] * PAUSE_AFTER_FAILURES
        deliver_due(database, settings=settings, now=utcnow())

        for language, banner, reason in (
            ("en", "Paused webhooks: 1.", f"Paused after {PAUSE_AFTER_FAILURES} failed delivery attempts in a row"),
            ("es", "Webhooks en pausa: 1.", f"En pausa tras {PAUSE_AFTER_FAILURES} intentos de entrega fallidos"),
        ):
            client = web_client_for(accept_language=language)
            listing = html.unescape(client.get("/admin/webhooks").text)
            assert banner in listing and reason in listing
            page = client.get(f"/admin/webhooks/{subscription.id}")
            assert 'id="webhook-paused"' in page.text and 'id="resume-button"' in page.text
            assert html.unescape(page.text).count(reason) == 1
            assert page.text.count('id="redeliver-button-') == PAUSE_AFTER_FAILURES

        client = web_client_for()
        page = client.get(f"/admin/webhooks/{subscription.id}")
        resumed = client.post(
            f"/admin/webhooks/{subscription.id}/resume",
            data={"csrf_token": page_csrf(page.text)},
            follow_redirects=False,
        )
        assert resumed.status_code == 303 and resumed.headers["location"].endswith("?notice=resumed")
        assert 'id="webhook-paused"' not in client.get(resumed.headers["location"]).text
        deliver_due(database, settings=settings, now=utcnow())
        assert len(receiver.received) == 2 * PAUSE_AFTER_FAILURES


def test_the_deliveries_log_sends_a_delivery_again(web_client: TestClient, database: Database, actor: Actor) -> None:
    settings = Settings(database_url=database.url, webhook_private_targets="allow")
    with Receiver() as receiver:
        subscription = subscribe(database, actor, receiver.url)
        make_lead(database, actor)
        deliver_due(database, settings=settings, now=utcnow())
        with database.unit_of_work(read_only=True) as uow:
            [delivery] = uow.session.scalars(select(WebhookDelivery)).all()
        page = web_client.get(f"/admin/webhooks/{subscription.id}")
        row = page.text.split(f'id="delivery-{delivery.id}"', 1)[1].split("</tr>", 1)[0]
        assert "Delivered" in row and ">200<" in row
        again = web_client.post(
            f"/admin/webhooks/{subscription.id}/deliveries/{delivery.id}/redeliver",
            data={"csrf_token": page_csrf(page.text)},
            follow_redirects=False,
        )
        assert again.status_code == 303
        deliver_due(database, settings=settings, now=utcnow())
        assert [item.headers["Leadflow-Delivery"] for item in receiver.received] == [str(delivery.id)] * 2
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.get_one(WebhookDelivery, delivery.id).state is DeliveryState.DELIVERED


def test_changing_and_deleting_a_webhook(web_client: TestClient, database: Database, actor: Actor) -> None:
    subscription = subscribe(database, actor, "https://93.184.215.14/hooks")
    page = web_client.get(f"/admin/webhooks/{subscription.id}")
    csrf = page_csrf(page.text)
    saved = web_client.post(
        f"/admin/webhooks/{subscription.id}",
        data=form_of(csrf, name="Renamed", row_version="1", new_secret="1"),
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    with database.unit_of_work(read_only=True) as uow:
        changed = uow.session.get_one(WebhookSubscription, subscription.id)
    assert changed.name == "Renamed" and changed.secret != subscription.secret
    stale = web_client.post(f"/admin/webhooks/{subscription.id}", data=form_of(csrf, name="Late", row_version="1"))
    assert stale.status_code == 412 and 'id="reload-record"' in stale.text
    deleted = web_client.post(
        f"/admin/webhooks/{subscription.id}/delete",
        data={"csrf_token": csrf, "row_version": str(changed.row_version)},
        follow_redirects=False,
    )
    assert deleted.status_code == 303 and deleted.headers["location"] == "/admin/webhooks?notice=deleted"
    assert count(database) == 0
    assert web_client.get(f"/admin/webhooks/{uuid.uuid4()}").status_code == 404


def test_a_salesperson_may_not_open_the_webhook_pages(
    web_client_for: Callable[..., TestClient], database: Database, actor: Actor
) -> None:
    subscription = subscribe(database, actor, "https://93.184.215.14/hooks")
    with database.unit_of_work() as uow:
        create_user(
            email=SELLER_EMAIL,
            full_name="Sofía Seller",
            role_names=["Salesperson"],
            business_unit_name=None,
            password=SELLER_PASSWORD,
            uow=uow,
            actor=None,
        )
        uow.commit()
    client = web_client_for(SELLER_EMAIL, SELLER_PASSWORD)
    assert client.get("/admin/webhooks").status_code == 403
    assert client.get(f"/admin/webhooks/{subscription.id}").status_code == 403
    assert 'href="/admin/webhooks"' not in client.get("/leads").text
