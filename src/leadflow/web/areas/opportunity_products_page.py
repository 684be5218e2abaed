"""What an opportunity's page shows of its products: the pricing inputs (price list, how the revenue is
calculated, the discount on the whole and the freight), the lines with the forms that add, change and
remove them, the totals, and the quotes made from it with "New quote".

The routes of those forms are in ``opportunity_products``; the services they call
(``leadflow.opportunities.service.update_opportunity`` and ``leadflow.sales.service``) price the lines
and keep the totals. A won or lost opportunity shows all of it read-only.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from leadflow.core.formatting import amount_input
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.opportunities.models import Opportunity, OpportunityProduct, RevenueCalculation
from leadflow.opportunities.schemas import OpportunityUpdate
from leadflow.sales.models import Quote
from leadflow.sales.printing import status_text
from leadflow.security.access import access_condition
from leadflow.security.privileges import Depth, Privilege
from leadflow.web.areas.sales_lines import (
    LinesPanel,
    SectionFailure,
    lines_panel,
    percentage_input,
    price_list_options,
    product_choices,
    typed,
)
from leadflow.web.i18n import N_
from leadflow.web.pages import WebSession

# The price lists the pricing form offers (by name).
# The quotes listed on the opportunity's page (newest number first; every revision).
QUOTES_SHOWN = 50

REVENUE_LABELS = {
    RevenueCalculation.SYSTEM.value: N_("System calculated"),
    RevenueCalculation.USER.value: N_("User provided"),
}
PRICING_INPUTS = ("price_list_id", "revenue_calculation", "discount_percentage", "discount_amount", "freight_amount")


def pricing_values(opportunity: Opportunity, language: str) -> dict[str, str]:
    """The pricing form's inputs for the opportunity as stored."""
    return {
        "price_list_id": str(opportunity.price_list_id) if opportunity.price_list_id else "",
        "revenue_calculation": opportunity.revenue_calculation.value,
        "discount_percentage": percentage_input(opportunity.discount_percentage, language),
        "discount_amount": amount_input(opportunity.discount_amount, language),
        "freight_amount": amount_input(opportunity.freight_amount, language),
    }


def posted_pricing(form: Mapping[str, Any]) -> dict[str, str]:
    return {name: value if isinstance(value := form.get(name), str) else "" for name in PRICING_INPUTS}


def pricing_changes(posted: Mapping[str, str], stored: Mapping[str, str], *, language: str) -> OpportunityUpdate:
    """The update of the pricing form: the inputs whose text changed (an amount emptied is zero)."""
    data: dict[str, Any] = {}
    for name in PRICING_INPUTS:
        raw = posted.get(name, "").strip()
        if raw == stored.get(name, "").strip():
            continue
        if name in ("price_list_id", "revenue_calculation"):
            data[name] = raw or None
        else:
            data[name] = typed(raw, language) if raw else "0"
    return parse(OpportunityUpdate, data)


@dataclass(frozen=True)
class QuoteRow:
    """A quote of the opportunity as its page lists it."""

    quote: Quote
    status: str

    @property
    def href(self) -> str:
        return f"/quotes/{self.quote.id}"


@dataclass
class ProductsPanel:
    """The products section of an opportunity's page."""

    record: Opportunity
    currency: str | None
    lines: LinesPanel
    editable: bool  # the pricing form and the lines can change
    pricing: dict[str, str]
    price_lists: list[tuple[str, str]]
    quotes: list[QuoteRow]
    can_create_quote: bool
    failure: SectionFailure | None = None
    revenue_labels: dict[str, str] = field(default_factory=lambda: REVENUE_LABELS)

    @property
    def pricing_errors(self) -> dict[str, str]:
        if self.failure is not None and self.failure.where == "pricing":
            return self.failure.refusal.fields
        return {}

    @property
    def price_list_name(self) -> str | None:
        chosen = self.pricing.get("price_list_id")
        return next((label for value, label in self.price_lists if value == chosen), None)


def _price_lists(uow: UnitOfWork, session: WebSession, record: Opportunity) -> list[tuple[str, str]]:
    """The price lists in the opportunity's currency, and the one it names whatever its currency."""
    if record.currency_id is None and record.price_list_id is None:
        return []
    options = price_list_options(uow, session.actor, record.currency_id, record.price_list_id)
    return [(option.value, option.label) for option in options]


def _quotes(uow: UnitOfWork, session: WebSession, opportunity_id: uuid.UUID) -> list[QuoteRow]:
    """The quotes of the opportunity the user may read, by number and revision, newest first."""
    statement = (
        select(Quote)
        .where(Quote.opportunity_id == opportunity_id, access_condition(session.actor, Privilege.READ, "quotes", Quote))
        .order_by(Quote.number.desc(), Quote.revision.desc())
        .limit(QUOTES_SHOWN)
    )
    return [QuoteRow(quote, status_text(quote, session.language)) for quote in uow.session.scalars(statement)]


def products_panel(
    uow: UnitOfWork,
    session: WebSession,
    record: Opportunity,
    *,
    may_write: bool,
    failure: SectionFailure | None = None,
) -> ProductsPanel:
    """The opportunity's products, pricing, totals and quotes; what a refused form typed stays in it."""
    language = session.language
    editable = may_write and record.is_open
    lines = uow.session.scalars(
        select(OpportunityProduct)
        .where(OpportunityProduct.opportunity_id == record.id)
        .order_by(OpportunityProduct.line_number, OpportunityProduct.id)
    ).all()
    currency = record.currency.iso_code if record.currency is not None else None
    pricing = pricing_values(record, language)
    if failure is not None and failure.where == "pricing":
        pricing = {**pricing, **failure.posted}
    return ProductsPanel(
        record=record,
        currency=currency,
        lines=lines_panel(
            lines,
            prefix="products",
            action=f"/opportunities/{record.id}/products",
            editable=editable,
            version=record.row_version,
            currency=currency,
            choices=product_choices(uow, session.actor, record.price_list_id, language=language) if editable else [],
            has_price_list=record.price_list_id is not None,
            actor=session.actor,
            language=language,
            failure=failure,
        ),
        editable=editable,
        pricing=pricing,
        price_lists=_price_lists(uow, session, record),
        quotes=_quotes(uow, session, record.id),
        can_create_quote=record.is_open and session.actor.depth("quotes", Privilege.CREATE) is not Depth.NONE,
        failure=failure,
    )
