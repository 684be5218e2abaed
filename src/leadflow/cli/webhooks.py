"""`leadflow webhooks list|create|delete|deliveries|redeliver|resume`: webhook subscriptions (administrators)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer
from rich.table import Table

from leadflow.cli.common import JsonFlag, console, emit, page_of, read, run, settings_of, text
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.security.actor import Actor
from leadflow.webhooks import service
from leadflow.webhooks.events import EVENT_NAMES, EVENT_TABLES
from leadflow.webhooks.models import WebhookDelivery
from leadflow.webhooks.schemas import WebhookIn

WebhookId = Annotated[uuid.UUID, typer.Argument(help="The webhook's id (see `leadflow webhooks list`).")]


def _delivery_data(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": str(delivery.id),
        "event": delivery.event,
        "state": delivery.state.value,
        "attempts": delivery.attempts,
        "last_status": delivery.last_status,
        "last_response_ms": delivery.last_response_ms,
        "last_error": delivery.last_error,
        "created_at": delivery.created_at.isoformat(),
        "next_attempt_at": delivery.next_attempt_at.isoformat() if delivery.next_attempt_at else None,
        "delivered_at": delivery.delivered_at.isoformat() if delivery.delivered_at else None,
        "payload": delivery.payload,
    }


def webhooks_commands() -> typer.Typer:
    group = typer.Typer(help="Webhooks: leadflow's events posted, signed, to other systems.", no_args_is_help=True)

    @group.command("list")
    def list_(ctx: typer.Context, as_json: JsonFlag = False) -> None:
        """Every webhook with its state."""
        items = read(
            ctx,
            lambda uow, actor: [
                service.subscription_values(item) for item in service.list_subscriptions(uow=uow, actor=actor)
            ],
        )

        def render() -> None:
            grid = Table(title="Webhooks")
            for column in ("id", "name", "url", "events", "state"):
                grid.add_column(column)
            for item in items:
                state = item["state"] + (f" ({item['paused_reason']})" if item["paused_reason"] else "")
                grid.add_row(item["id"], item["name"], item["url"], ", ".join(item["events"]), state)
            console.print(grid)

        emit(as_json, items, render)

    @group.command("create")
    def create(
        ctx: typer.Context,
        name: Annotated[str, typer.Argument(help="The webhook's name.")],
        url: Annotated[str, typer.Argument(help="Where the events are posted: http:// or https://.")],
        event: Annotated[
            list[str], typer.Option("--event", help=f"An event to send (repeat it): {', '.join(EVENT_NAMES)}.")
        ],
        table: Annotated[
            list[str] | None,
            typer.Option("--table", help=f"Only the events of this table (repeat it): {', '.join(EVENT_TABLES)}."),
        ] = None,
        secret: Annotated[str | None, typer.Option(help="The signing secret (default: a new random one).")] = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Subscribe a URL to events (administrators); prints the secret its receiver checks signatures with."""
        allow = settings_of(ctx).webhook_private_targets == "allow"
        data: dict[str, Any] = {"name": name, "url": url, "events": event, "tables": table or []}
        if secret is not None:
            data["secret"] = secret

        def create_it(uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
            subscription = service.create_subscription(
                parse(WebhookIn, data), uow=uow, actor=actor, allow_private=allow
            )
            return {**service.subscription_values(subscription), "secret": subscription.secret}

        created = run(ctx, create_it)

        def render() -> None:
            console.print(f"Created the webhook {created['name']} [bold]{created['id']}[/]")
            console.print(f"Secret (give it to the receiver): {created['secret']}")

        emit(as_json, created, render)

    @group.command("delete")
    def delete(ctx: typer.Context, webhook_id: WebhookId) -> None:
        """Delete a webhook and its deliveries."""
        run(ctx, lambda uow, actor: service.delete_subscription(webhook_id, uow=uow, actor=actor))
        console.print(f"Deleted the webhook {webhook_id}")

    @group.command("deliveries")
    def deliveries(
        ctx: typer.Context,
        webhook_id: WebhookId,
        limit: Annotated[int, typer.Option(help="How many, newest first (at most 500).")] = 50,
        cursor: Annotated[str | None, typer.Option(help="The next_cursor of the previous page.")] = None,
        as_json: JsonFlag = False,
    ) -> None:
        """A webhook's deliveries, newest first: state, attempts, last status, response time, error."""

        def gather(uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
            page = service.list_deliveries(webhook_id, uow=uow, actor=actor, limit=limit, cursor=cursor)
            return page_of((_delivery_data(item) for item in page.items), page.next_cursor)

        data = read(ctx, gather)

        def render() -> None:
            grid = Table(title="Deliveries")
            for column in ("id", "event", "state", "attempts", "status", "ms", "error", "created", "next attempt"):
                grid.add_column(column)
            for item in data["items"]:
                grid.add_row(
                    item["id"],
                    item["event"],
                    item["state"],
                    str(item["attempts"]),
                    text(item["last_status"]),
                    text(item["last_response_ms"]),
                    text(item["last_error"]),
                    item["created_at"],
                    text(item["next_attempt_at"]),
                )
            console.print(grid)
            if data["next_cursor"]:
                console.print(f"More: --cursor {data['next_cursor']}")

        emit(as_json, data, render)

    @group.command("redeliver")
    def redeliver(
        ctx: typer.Context,
        webhook_id: WebhookId,
        delivery_id: Annotated[
            uuid.UUID, typer.Argument(help="The delivery's id (see `leadflow webhooks deliveries`).")
        ],
    ) -> None:
        """Send a delivery again: a worker (`leadflow worker`, or the one `leadflow serve` runs) sends it."""
        run(ctx, lambda uow, actor: service.redeliver(webhook_id, delivery_id, uow=uow, actor=actor))
        console.print(f"The delivery {delivery_id} is pending again; a worker sends it within a minute.")

    @group.command("resume")
    def resume(ctx: typer.Context, webhook_id: WebhookId) -> None:
        """Resume a paused webhook; a worker sends its pending deliveries."""
        resumed = run(ctx, lambda uow, actor: service.resume_subscription(webhook_id, uow=uow, actor=actor))
        console.print(f"Resumed the webhook {resumed.name}; its pending deliveries are sent by a worker.")

    return group


def register(app: typer.Typer) -> None:
    """Add the webhooks command group to the root command."""
    app.add_typer(webhooks_commands(), name="webhooks")
