"""What an opportunity's page shows beyond the form every record has: its state and status reason, what
closing it recorded (actual revenue and close date, the exchange rate captured and the amounts in base
currency), the commands of its life (close as won, close as lost, reopen) with their forms, the
competitors named in the deal, and its close records in the timeline.

The routes of those commands are in ``opportunities``; the services they call (``leadflow.opportunities
.closing`` and ``.competitors``) decide. Refusals read as every page's do (``leadflow.web.forms``), with
the sentences of these services in the user's language.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from sqlalchemy import select

from leadflow.core.formatting import amount_input, locale_of, parse_amount
from leadflow.core.schemas import InputModel, parse
from leadflow.core.uow import UnitOfWork
from leadflow.opportunities.closing import opportunity_closes
from leadflow.opportunities.competitors import competitors_of, list_competitors
from leadflow.opportunities.models import (
    STATUS_REASONS,
    CloseState,
    Competitor,
    Opportunity,
    OpportunityClose,
    OpportunityState,
    OpportunityStatusReason,
)
from leadflow.opportunities.schemas import LoseOpportunity, WinOpportunity
from leadflow.organisation.models import Currency
from leadflow.security.access import has_admin
from leadflow.security.models import User
from leadflow.security.privileges import Privilege
from leadflow.web.i18n import N_
from leadflow.web.labels import CHOICE_LABELS
from leadflow.web.pages import WebSession

# The competitors a select offers (by name).
COMPETITOR_CHOICES = 500

# ---------------------------------------------------------------------------------------------- refusals


# ---------------------------------------------------------------------------------------------- typed values


def typed_number(text: str, language: str) -> str:
    """A number typed in the user's language ("1,0825" in Spanish) as a plain decimal string; text the
    locale cannot read goes on as typed, so that validation names the field."""
    try:
        return str(parse_amount(text, language))
    except ValueError:
        return text


def rate_text(rate: Decimal | None, language: str) -> str:
    """An exchange rate with every decimal it has (up to ten), as the user's language writes numbers."""
    if rate is None:
        return ""
    return format_decimal(rate, format="#,##0.##########", locale=locale_of(language))


def rate_input(rate: Decimal | None, language: str) -> str:
    """An exchange rate as a person types it: every decimal, no grouping."""
    if rate is None:
        return ""
    return format_decimal(rate, format="0.##########", locale=locale_of(language))


# ---------------------------------------------------------------------------------------------- closing


@dataclass(frozen=True)
class CloseKind:
    """Close as won or close as lost: the dialog, its page, the service's command and its fields."""

    key: str  # the opportunity's state after it
    path: str  # the address of the form's page, under the opportunity's
    title: str  # English message id
    action: str  # the address the form posts to, under the opportunity's
    schema: type[InputModel]
    reasons: tuple[OpportunityStatusReason, ...]
    fields: tuple[str, ...]
    intro: str

    @property
    def dialog_id(self) -> str:
        return f"close-{self.key}-dialog"

    @property
    def reason_choices(self) -> list[tuple[str, str]]:
        """The status reasons the form offers: (value, English message id)."""
        labels = CHOICE_LABELS[OpportunityStatusReason]
        return [(reason.value, labels[reason.value]) for reason in self.reasons]


WON = CloseKind(
    "won",
    "close-as-won",
    N_("Close as won"),
    "win",
    WinOpportunity,
    STATUS_REASONS[OpportunityState.WON],
    ("status_reason", "actual_revenue", "close_date", "description"),
    N_(
        "The opportunity becomes read-only; reopen it to change it again. The actual revenue starts as the "
        "estimated revenue."
    ),
)
LOST = CloseKind(
    "lost",
    "close-as-lost",
    N_("Close as lost"),
    "lose",
    LoseOpportunity,
    STATUS_REASONS[OpportunityState.LOST],
    ("status_reason", "competitor_id", "actual_revenue", "close_date", "description"),
    N_(
        "The opportunity becomes read-only; reopen it to change it again. Out-Sold needs the competitor who won "
        "the deal."
    ),
)
CLOSE_KINDS = {kind.key: kind for kind in (WON, LOST)}


def close_defaults(kind: CloseKind, opportunity: Opportunity, *, language: str, today: date) -> dict[str, str]:
    """What a close form starts with: the kind's first status reason, today, and (when won) the estimated revenue."""
    revenue = opportunity.estimated_revenue if kind is WON else None
    values = {
        "status_reason": kind.reasons[0].value,
        "competitor_id": "",
        "actual_revenue": amount_input(revenue, language),
        "close_date": today.isoformat(),
        "description": "",
    }
    return {name: values[name] for name in kind.fields}


def posted_close(kind: CloseKind, form: Mapping[str, Any]) -> dict[str, str]:
    """The posted text of each field of a close form."""
    values = {}
    for name in kind.fields:
        raw = form.get(name)
        values[name] = raw if isinstance(raw, str) else ""
    return values


def close_command(kind: CloseKind, posted: Mapping[str, str], *, language: str) -> Any:
    """The service's command of a posted close form; a field left empty takes the service's default."""
    data: dict[str, str] = {}
    for name in kind.fields:
        raw = posted.get(name, "").strip()
        if raw:
            data[name] = typed_number(raw, language) if name == "actual_revenue" else raw
    return parse(kind.schema, data)


# ---------------------------------------------------------------------------------------------- the page's parts


@dataclass(frozen=True)
class CloseEntry:
    """A close record in the opportunity's timeline."""

    close: OpportunityClose
    at: datetime
    closed_by: str
    competitor: str | None
    competitor_href: str | None
    currency: str | None

    @property
    def canceled(self) -> bool:
        return self.close.state is CloseState.CANCELED

    @property
    def state_label(self) -> str:
        return CHOICE_LABELS[OpportunityState][self.close.opportunity_state.value]

    @property
    def reason_label(self) -> str:
        return CHOICE_LABELS[OpportunityStatusReason][self.close.status_reason.value]


@dataclass
class OpportunityPanel:
    """What an opportunity's page shows of its life, and which of its commands the user may use."""

    record: Opportunity
    currency: str | None
    base_currency: str | None
    exchange_rate: str
    may_write: bool
    can_read_competitors: bool
    competitors: Sequence[Competitor] = ()
    competitor_choices: list[tuple[str, str]] = field(default_factory=list)
    history: list[CloseEntry] = field(default_factory=list)
    close_values: dict[str, dict[str, str]] = field(default_factory=dict)
    kinds: tuple[CloseKind, ...] = (WON, LOST)

    @property
    def closed(self) -> bool:
        return not self.record.is_open

    @property
    def can_close(self) -> bool:
        return self.may_write and not self.closed

    @property
    def can_reopen(self) -> bool:
        return self.may_write and self.closed

    @property
    def can_name_competitors(self) -> bool:
        return self.can_close and self.can_read_competitors

    @property
    def state_label(self) -> str:
        return CHOICE_LABELS[OpportunityState][self.record.state.value]

    @property
    def reason_label(self) -> str:
        return CHOICE_LABELS[OpportunityStatusReason][self.record.status_reason.value]

    @property
    def addable_competitors(self) -> list[tuple[str, str]]:
        named = {str(competitor.id) for competitor in self.competitors}
        return [choice for choice in self.competitor_choices if choice[0] not in named]


def competitor_choices(uow: UnitOfWork, session: WebSession) -> list[tuple[str, str]]:
    """The competitors a select offers, by name (none for those who may not read competitors)."""
    if not has_admin(session.actor, "competitors", Privilege.READ):
        return []
    page = list_competitors(uow=uow, actor=session.actor, limit=COMPETITOR_CHOICES)
    return [(str(competitor.id), competitor.name) for competitor in page.items]


def _history(
    uow: UnitOfWork, session: WebSession, record: Opportunity, codes: dict[uuid.UUID, str]
) -> list[CloseEntry]:
    return close_entries(uow, session, opportunity_closes(record.id, uow=uow, actor=session.actor), codes)


def close_entries(
    uow: UnitOfWork, session: WebSession, closes: Sequence[OpportunityClose], codes: dict[uuid.UUID, str] | None = None
) -> list[CloseEntry]:
    """Close records as the timeline shows them: who closed, the competitor (when readable), the currency."""
    if codes is None:
        codes = dict(uow.session.execute(select(Currency.id, Currency.iso_code)).all())
    people = {close.closed_by_id for close in closes if close.closed_by_id}
    names = (
        dict(uow.session.execute(select(User.id, User.full_name).where(User.id.in_(people))).all()) if people else {}
    )
    readable = has_admin(session.actor, "competitors", Privilege.READ)
    rivals = {close.competitor_id for close in closes if close.competitor_id}
    rival_names = (
        dict(uow.session.execute(select(Competitor.id, Competitor.name).where(Competitor.id.in_(rivals))).all())
        if rivals and readable
        else {}
    )
    return [
        CloseEntry(
            close=close,
            at=close.created_at,
            closed_by=names.get(close.closed_by_id, "") if close.closed_by_id else "",
            competitor=rival_names.get(close.competitor_id) if close.competitor_id else None,
            competitor_href=f"/competitors/{close.competitor_id}" if close.competitor_id in rival_names else None,
            currency=codes.get(close.currency_id) if close.currency_id else None,
        )
        for close in closes
    ]


def opportunity_panel(
    uow: UnitOfWork, session: WebSession, record: Opportunity, *, may_write: bool
) -> OpportunityPanel:
    """The opportunity's state, close figures, competitors, close history and the forms of its commands."""
    language = session.language
    codes = dict(uow.session.execute(select(Currency.id, Currency.iso_code)).all())
    base = uow.session.scalar(select(Currency.iso_code).where(Currency.is_base.is_(True)))
    readable = has_admin(session.actor, "competitors", Privilege.READ)
    today = datetime.now(session.time_zone).date()
    panel = OpportunityPanel(
        record=record,
        currency=codes.get(record.currency_id) if record.currency_id else None,
        base_currency=base,
        exchange_rate=rate_text(record.exchange_rate, language),
        may_write=may_write,
        can_read_competitors=readable,
        competitors=competitors_of(uow.session, session.actor, record),
        history=_history(uow, session, record, codes),
    )
    if panel.can_close:
        panel.competitor_choices = competitor_choices(uow, session)
        panel.close_values = {
            kind.key: close_defaults(kind, record, language=language, today=today) for kind in CLOSE_KINDS.values()
        }
    return panel
