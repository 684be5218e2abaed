"""Webhooks (administrators): the subscriptions with their state and a banner for those paused, a new
subscription (events as checkboxes), a subscription's page: its settings and secret, Resume, Delete,
and its deliveries log (newest first, status, response time, attempts, error) with Send again.

The services of ``leadflow.webhooks.service`` decide, as the REST API's ``leadflow.api.webhooks``
calls them; their refusals are shown on the page in the user's language.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leadflow.core.errors import Forbidden, LeadflowError, NotFound
from leadflow.core.schemas import parse
from leadflow.http.errors import status_for
from leadflow.security.privileges import Privilege
from leadflow.web.areas.admin import admin_area
from leadflow.web.forms import FormDep, Refusal, id_in_path, parse_version, refusal
from leadflow.web.i18n import N_, gettext
from leadflow.web.pages import WebSession, WebSessionDep, committed, database_of, redirect, render
from leadflow.webhooks import service
from leadflow.webhooks.events import EVENT_TABLES
from leadflow.webhooks.models import DeliveryState, WebhookState, WebhookSubscription
from leadflow.webhooks.schemas import WebhookChange, WebhookIn

router = APIRouter()

WEBHOOKS = "/admin/webhooks"
DELIVERIES_PER_PAGE = 25

_NOTICES = {
    "created": N_(
        "The webhook was created. Give its secret to the receiver, which checks each delivery's signature with it."
    ),
    "saved": N_("Your changes were saved."),
    "resumed": N_("The webhook was resumed; its pending deliveries are being sent."),
    "redelivered": N_("The delivery will be sent again in a moment."),
    "deleted": N_("The webhook was deleted."),
}
# What each event means, in words the pages show (the catalogue's own descriptions are the API's).
EVENT_LABELS = {
    "record.created": N_("A record was created"),
    "record.updated": N_("A record was changed"),
    "record.deleted": N_("A record was deleted"),
    "record.merged": N_("Two records were merged"),
    "lead.qualified": N_("A lead was qualified"),
    "lead.disqualified": N_("A lead was disqualified"),
    "lead.reactivated": N_("A lead was reactivated"),
    "opportunity.won": N_("An opportunity was won"),
    "opportunity.lost": N_("An opportunity was lost"),
    "import.finished": N_("An import finished"),
}
TABLE_LABELS = {
    "accounts": N_("Accounts"),
    "activities": N_("Activities"),
    "contacts": N_("Contacts"),
    "imports": N_("Imports"),
    "invoices": N_("Invoices"),
    "leads": N_("Leads"),
    "opportunities": N_("Opportunities"),
    "orders": N_("Orders"),
    "quotes": N_("Quotes"),
}
STATE_LABELS = {WebhookState.ACTIVE: N_("Active"), WebhookState.PAUSED: N_("Paused")}
DELIVERY_LABELS = {
    DeliveryState.PENDING: N_("Pending"),
    DeliveryState.DELIVERED: N_("Delivered"),
    DeliveryState.FAILED: N_("Failed"),
}
DELIVERY_BADGES = {DeliveryState.PENDING: "warn", DeliveryState.DELIVERED: "ok", DeliveryState.FAILED: "bad"}
# The form field each refusal of the service belongs to.
_FIELDS_BY_CODE = {
    "invalid_url": "url",
    "private_target": "url",
    "events_required": "events",
    "unknown_event": "events",
    "unknown_webhook_table": "tables",
}


def _gate(endpoint: Any) -> Any:
    return admin_area("webhooks", Privilege.WRITE)(endpoint)


def _refusal(language: str, error: LeadflowError) -> Refusal:
    """A refusal of the webhook forms, its sentence beside the field it belongs to too."""
    found = refusal(language, error, _FIELDS_BY_CODE)
    if error.code in _FIELDS_BY_CODE:
        found.fields[_FIELDS_BY_CODE[error.code]] = found.message
    return found


def _allow_private(request: Request) -> bool:
    return request.app.state.settings.webhook_private_targets == "allow"


def paused_reason(language: str, subscription: WebhookSubscription) -> str:
    """Why a subscription is paused, in words."""
    reason = subscription.paused_reason or ""
    if reason == service.PAUSED_BY_ADMINISTRATOR:
        return gettext(language, service.PAUSED_BY_ADMINISTRATOR)
    if reason.startswith("Paused after "):
        return gettext(
            language,
            "Paused after %(count)s failed delivery attempts in a row; resume it once the receiver answers.",
            count=subscription.consecutive_failures,
        )
    return reason


def _choices(language: str) -> dict[str, Any]:
    return {
        "event_choices": [
            (event.name, gettext(language, EVENT_LABELS[event.name])) for event in service.event_catalogue()
        ],
        "table_choices": [(table, gettext(language, TABLE_LABELS[table])) for table in EVENT_TABLES],
    }


def _stored(subscription: WebhookSubscription | None) -> dict[str, Any]:
    if subscription is None:
        return {"name": "", "url": "https://", "secret": "", "events": [], "tables": [], "active": True}
    return {
        "name": subscription.name,
        "url": subscription.url,
        "secret": "",
        "events": list(subscription.events),
        "tables": list(subscription.tables),
        "active": subscription.state is WebhookState.ACTIVE,
    }


def _posted(form: Any) -> dict[str, Any]:
    text = {name: value if isinstance(value := form.get(name), str) else "" for name in ("name", "url", "secret")}
    return {
        **text,
        "events": [value for value in form.getlist("events") if isinstance(value, str)],
        "tables": [value for value in form.getlist("tables") if isinstance(value, str)],
        "active": form.get("active") in ("1", "on", "true"),
        "new_secret": form.get("new_secret") in ("1", "on", "true"),
    }


def _input(posted: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": posted["name"],
        "url": posted["url"].strip(),
        "events": posted["events"],
        "tables": posted["tables"],
        "active": posted["active"],
    }
    if posted["secret"].strip():
        data["secret"] = posted["secret"].strip()
    elif not creating and posted.get("new_secret"):
        data["secret"] = None
    return data


def _notice(language: str, request: Request) -> str | None:
    key = request.query_params.get("notice")
    return gettext(language, _NOTICES[key]) if key in _NOTICES else None


# ---------------------------------------------------------------------------------------------- the list


def _list_page(
    request: Request,
    session: WebSession,
    *,
    values: dict[str, Any] | None = None,
    failure: Refusal | None = None,
    status_code: int = 200,
) -> Response:
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        rows = [
            {
                "id": item.id,
                "name": item.name,
                "url": item.url,
                "events": [gettext(language, EVENT_LABELS.get(name, name)) for name in item.events],
                "state": item.state.value,
                "state_label": gettext(language, STATE_LABELS[item.state]),
                "paused_reason": paused_reason(language, item) if item.state is WebhookState.PAUSED else None,
                "failures": item.consecutive_failures,
            }
            for item in service.list_subscriptions(uow=uow, actor=session.actor)
        ]
    return render(
        request,
        session,
        "admin/webhooks.html",
        status_code=status_code,
        webhooks=rows,
        paused=[row for row in rows if row["state"] == WebhookState.PAUSED.value],
        values=values or _stored(None),
        refusal=failure,
        field_errors=failure.fields if failure else {},
        notice=_notice(language, request),
        **_choices(language),
    )


@router.get(WEBHOOKS, name="webhooks")
@_gate
def webhooks(request: Request, session: WebSessionDep) -> Response:
    """Every webhook with its state (a banner for those paused), and the form of a new one."""
    return _list_page(request, session)


@router.post(WEBHOOKS, name="webhooks_create")
@_gate
def create_webhook(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """Create a webhook; the list again with the refusal, the input kept, when refused."""
    posted = _posted(form)
    allow = _allow_private(request)
    try:
        data = parse(WebhookIn, _input(posted, creating=True))
        created = committed(
            request, lambda uow: service.create_subscription(data, uow=uow, actor=session.actor, allow_private=allow)
        )
    except LeadflowError as error:
        if isinstance(error, Forbidden):
            raise
        return _list_page(
            request, session, values=posted, failure=_refusal(session.language, error), status_code=status_for(error)
        )
    return redirect(f"{WEBHOOKS}/{created.id}?notice=created")


# ---------------------------------------------------------------------------------------------- a webhook


def _webhook_id(raw: str) -> uuid.UUID:
    return id_in_path(raw, record="webhook")


def _webhook_page(
    request: Request,
    session: WebSession,
    webhook_id: uuid.UUID,
    *,
    values: dict[str, Any] | None = None,
    failure: Refusal | None = None,
    status_code: int = 200,
    row_version: int | None = None,
) -> Response:
    language = session.language
    cursor = request.query_params.get("cursor") or None
    with database_of(request).unit_of_work(read_only=True) as uow:
        subscription = service.get_subscription(webhook_id, uow=uow, actor=session.actor)
        try:
            page = service.list_deliveries(
                webhook_id, uow=uow, actor=session.actor, limit=DELIVERIES_PER_PAGE, cursor=cursor
            )
        except LeadflowError:  # a stale page link: the first page instead
            cursor = None
            page = service.list_deliveries(webhook_id, uow=uow, actor=session.actor, limit=DELIVERIES_PER_PAGE)
        deliveries = [
            {
                "id": item.id,
                "event": item.event,
                "event_label": gettext(language, EVENT_LABELS.get(item.event, item.event)),
                "record_id": (item.payload or {}).get("record_id"),
                "state_label": gettext(language, DELIVERY_LABELS[item.state]),
                "badge": DELIVERY_BADGES[item.state],
                "attempts": item.attempts,
                "last_status": item.last_status,
                "last_response_ms": item.last_response_ms,
                "last_error": item.last_error,
                "created_at": item.created_at,
                "next_attempt_at": item.next_attempt_at if item.state is DeliveryState.PENDING else None,
                "delivered_at": item.delivered_at,
            }
            for item in page.items
        ]
        return render(
            request,
            session,
            "admin/webhooks_edit.html",
            status_code=status_code,
            webhook=subscription,
            state_label=gettext(language, STATE_LABELS[subscription.state]),
            paused_reason=paused_reason(language, subscription) if subscription.state is WebhookState.PAUSED else None,
            values={**_stored(subscription), **(values or {})},
            refusal=failure,
            field_errors=failure.fields if failure else {},
            row_version=row_version if row_version is not None and row_version >= 0 else subscription.row_version,
            deliveries=deliveries,
            next_link=f"{WEBHOOKS}/{webhook_id}?cursor={page.next_cursor}#deliveries" if page.next_cursor else None,
            first_link=f"{WEBHOOKS}/{webhook_id}#deliveries" if cursor else None,
            notice=_notice(language, request),
            **_choices(language),
        )


@router.get(WEBHOOKS + "/{webhook_id}", name="webhook")
@_gate
def webhook(request: Request, webhook_id: str, session: WebSessionDep) -> Response:
    """A webhook: its settings and secret, Resume when paused, and its deliveries log."""
    return _webhook_page(request, session, _webhook_id(webhook_id))


@router.post(WEBHOOKS + "/{webhook_id}", name="webhook_save")
@_gate
def save_webhook(request: Request, webhook_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Change a webhook; refused when it changed since the form was loaded."""
    parsed = _webhook_id(webhook_id)
    posted = _posted(form)
    version = parse_version(form.get("row_version"))
    allow = _allow_private(request)
    try:
        change = parse(WebhookChange, _input(posted, creating=False))
        committed(
            request,
            lambda uow: service.update_subscription(
                parsed, change, uow=uow, actor=session.actor, allow_private=allow, expected_version=version
            ),
        )
    except LeadflowError as error:
        if isinstance(error, Forbidden | NotFound):
            raise
        return _webhook_page(
            request,
            session,
            parsed,
            values=posted,
            failure=_refusal(session.language, error),
            status_code=status_for(error),
            row_version=version,
        )
    return redirect(f"{WEBHOOKS}/{parsed}?notice=saved")


def _on_page(request: Request, session: WebSession, webhook_id: uuid.UUID, error: LeadflowError) -> Response:
    if isinstance(error, Forbidden | NotFound):
        raise error
    return _webhook_page(
        request, session, webhook_id, failure=_refusal(session.language, error), status_code=status_for(error)
    )


@router.post(WEBHOOKS + "/{webhook_id}/resume", name="webhook_resume")
@_gate
def resume_webhook(request: Request, webhook_id: str, session: WebSessionDep) -> Response:
    """Resume a paused webhook: its pending deliveries are sent at once."""
    parsed = _webhook_id(webhook_id)
    try:
        committed(request, lambda uow: service.resume_subscription(parsed, uow=uow, actor=session.actor))
    except LeadflowError as error:
        return _on_page(request, session, parsed, error)
    return redirect(f"{WEBHOOKS}/{parsed}?notice=resumed")


@router.post(WEBHOOKS + "/{webhook_id}/delete", name="webhook_delete")
@_gate
def delete_webhook(request: Request, webhook_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Delete a webhook and its deliveries."""
    parsed = _webhook_id(webhook_id)
    version = parse_version(form.get("row_version"))
    try:
        committed(
            request,
            lambda uow: service.delete_subscription(parsed, uow=uow, actor=session.actor, expected_version=version),
        )
    except LeadflowError as error:
        return _on_page(request, session, parsed, error)
    return redirect(f"{WEBHOOKS}?notice=deleted")


@router.post(WEBHOOKS + "/{webhook_id}/deliveries/{delivery_id}/redeliver", name="webhook_redeliver")
@_gate
def redeliver(request: Request, webhook_id: str, delivery_id: str, session: WebSessionDep) -> Response:
    """Send a delivery again now."""
    parsed = _webhook_id(webhook_id)
    delivery = id_in_path(delivery_id, record="webhook_delivery")
    try:
        committed(request, lambda uow: service.redeliver(parsed, delivery, uow=uow, actor=session.actor))
    except LeadflowError as error:
        return _on_page(request, session, parsed, error)
    return redirect(f"{WEBHOOKS}/{parsed}?notice=redelivered#deliveries")
