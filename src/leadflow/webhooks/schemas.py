"""Shapes of a webhook subscription's input, for every entry point.

The URL, the events and the tables are checked by the service (``leadflow.webhooks.service``), so
that every entry point refuses them with the same codes and sentences.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import Field, StringConstraints

from leadflow.core.schemas import InputModel, partial_model


class WebhookIn(InputModel):
    """A subscription: its name, the URL deliveries are posted to, the secret that signs them (made
    when left out), the events it wants and, optionally, the only tables whose events it wants."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    url: Annotated[str, StringConstraints(max_length=2000)]
    secret: Annotated[str, StringConstraints(min_length=16, max_length=200)] | None = None
    events: list[Annotated[str, StringConstraints(max_length=40)]] = Field(max_length=50)
    tables: list[Annotated[str, StringConstraints(max_length=40)]] = Field(default_factory=list, max_length=50)
    active: bool = True


if TYPE_CHECKING:
    WebhookChange = WebhookIn
else:
    WebhookChange = partial_model(
        WebhookIn, "WebhookChange", "A change of some of a subscription's settings: the fields sent change."
    )
