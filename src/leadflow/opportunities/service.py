"""Opportunity use cases."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from leadflow.activities.models import RegardingTable
from leadflow.activities.service import delete_timeline_of
from leadflow.catalog.lines import line_sums, price_list_for, recalculate
from leadflow.catalog.service import field_refusal
from leadflow.core.records import check_version, get_reference
from leadflow.core.uow import UnitOfWork
from leadflow.customers.models import Account, Contact
from leadflow.customers.service import linkable_customer
from leadflow.duplicates.detection import detect_on_save
from leadflow.fields.service import apply_custom, clear_custom_lookups
from leadflow.opportunities.models import Opportunity, OpportunityProduct, RevenueCalculation, customer_kind_of
from leadflow.opportunities.schemas import OpportunityCreate, OpportunityFields, OpportunityUpdate
from leadflow.organisation.currencies import rate_values
from leadflow.organisation.models import Campaign
from leadflow.organisation.service import currency_by_code, get_settings
from leadflow.security.access import get_accessible, linkable
from leadflow.security.actor import Actor
from leadflow.security.ownership import change_owned, create_owned, delete_owned, with_owner_unit
from leadflow.security.privileges import Privilege

# Changes after which the totals (and a system-calculated revenue) are computed again.
PRICING_INPUTS = frozenset(
    {
        "discount_percentage",
        "discount_amount",
        "freight_amount",
        "revenue_calculation",
        "estimated_revenue",
        "currency_id",
    }
)


def _column_values(data: OpportunityFields, *, uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    """Column values from input; every account or contact linked needs Append To for the actor."""
    session = uow.session
    values = data.model_dump(exclude_unset=True)
    if "currency" in values:
        code = values.pop("currency")
        values["currency_id"] = currency_by_code(session, code).id if code else None
    if "customer_id" in values:
        customer_id = values["customer_id"]
        values["customer_kind"] = None
        if customer_id is not None:
            customer = linkable_customer(session, actor, customer_id, field="customer_id")
            values["customer_kind"] = customer_kind_of(customer)
    with_owner_unit(session, values)
    if values.get("campaign_id"):
        get_reference(session, Campaign, values["campaign_id"], field="campaign_id", label="campaign")
    for field, model in (("parent_account_id", Account), ("parent_contact_id", Contact)):
        if values.get(field):
            linkable(session, actor, model, values[field], field=field)
    return values


def _typed_revenue(data: OpportunityFields, opportunity: Opportunity | None = None) -> None:
    """A system-calculated estimated revenue is not typed."""
    calculation = data.revenue_calculation or (
        opportunity.revenue_calculation if opportunity else RevenueCalculation.USER
    )
    if calculation is RevenueCalculation.SYSTEM and "estimated_revenue" in data.model_fields_set:
        raise field_refusal(
            "estimated_revenue",
            "revenue_system_calculated",
            "estimated_revenue: the system calculates it from the products; switch the revenue to user provided to type it.",
        )


def _pricing(uow: UnitOfWork, values: dict[str, Any], opportunity: Opportunity | None = None) -> None:
    """A price list named must be in the opportunity's currency, whose currency cannot change under
    its products; totals (and a system-calculated estimated revenue) follow the pricing inputs."""
    session = uow.session
    currency_id = values.get("currency_id", opportunity.currency_id if opportunity else None)
    if opportunity is not None and "currency_id" in values and values["currency_id"] != opportunity.currency_id:
        if session.scalar(select(exists().where(OpportunityProduct.opportunity_id == opportunity.id))):
            raise field_refusal(
                "currency",
                "currency_has_lines",
                "currency: remove the opportunity's products before changing its currency.",
            )
    price_list_id = values.get("price_list_id", opportunity.price_list_id if opportunity else None)
    if "price_list_id" in values or "currency_id" in values:
        price_list_for(session, price_list_id, currency_id=currency_id)


def refresh_totals(session: Session, opportunity: Opportunity) -> None:
    """Recompute an opportunity's totals from its products, and its estimated revenue when the system
    calculates it (then the total amount; a typed one stays as typed)."""
    sums = line_sums(session, OpportunityProduct, OpportunityProduct.opportunity_id, opportunity.id)
    precision = opportunity.currency.precision if opportunity.currency is not None else 2
    recalculate(opportunity, [sums], precision=precision)
    if (
        opportunity.revenue_calculation is RevenueCalculation.SYSTEM
        and opportunity.estimated_revenue != opportunity.total_amount
    ):
        values = {"estimated_revenue": opportunity.total_amount}
        values.update(rate_values(session, "opportunities", values, current=opportunity))
        for name, value in values.items():
            setattr(opportunity, name, value)


def create_opportunity(
    data: OpportunityCreate,
    *,
    uow: UnitOfWork,
    actor: Actor,
    suppress_duplicates: bool = False,
    record_id: uuid.UUID | None = None,
) -> Opportunity:
    """Create an open opportunity at the Develop stage, owned by the actor unless named otherwise
    (with the id the client chose, when it chose one)."""
    _typed_revenue(data)
    values = _column_values(data, uow=uow, actor=actor)
    if record_id is not None:
        values["id"] = record_id
    values.setdefault("currency_id", get_settings(uow.session).base_currency_id)
    apply_custom(uow.session, "opportunities", values, actor=actor)
    values.update(rate_values(uow.session, "opportunities", values))
    _pricing(uow, values)
    opportunity = create_owned(Opportunity, values, summary_of="name", uow=uow, actor=actor)
    refresh_totals(uow.session, opportunity)
    detect_on_save(uow.session, opportunity, actor=actor, suppress=suppress_duplicates)
    return opportunity


def _for_change(uow: UnitOfWork, actor: Actor, opportunity_id: uuid.UUID, privilege: Privilege) -> Opportunity:
    return get_accessible(
        uow.session, Opportunity, opportunity_id, label="opportunity", actor=actor, privilege=privilege, for_update=True
    )


def update_opportunity(
    opportunity_id: uuid.UUID,
    changes: OpportunityUpdate,
    *,
    uow: UnitOfWork,
    actor: Actor,
    expected_version: int | None = None,
    suppress_duplicates: bool = False,
) -> Opportunity:
    """Change the given fields of an opportunity."""
    opportunity = _for_change(uow, actor, opportunity_id, Privilege.WRITE)
    opportunity.ensure_editable()
    check_version(opportunity, expected_version)
    _typed_revenue(changes, opportunity)
    values = _column_values(changes, uow=uow, actor=actor)
    apply_custom(uow.session, "opportunities", values, actor=actor, current=opportunity)
    values.update(rate_values(uow.session, "opportunities", values, current=opportunity))
    _pricing(uow, values, opportunity)
    change_owned(opportunity, values, uow=uow, actor=actor)
    if PRICING_INPUTS & set(values):
        if "currency_id" in values:
            uow.session.refresh(opportunity, ["currency"])
        refresh_totals(uow.session, opportunity)
    detect_on_save(uow.session, opportunity, actor=actor, suppress=suppress_duplicates, changed=values)
    return opportunity


def delete_opportunity(
    opportunity_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> None:
    """Delete an opportunity and its notes."""
    opportunity = _for_change(uow, actor, opportunity_id, Privilege.DELETE)
    check_version(opportunity, expected_version)
    delete_timeline_of(uow.session, RegardingTable.OPPORTUNITIES, opportunity.id)
    clear_custom_lookups(uow.session, "opportunities", opportunity.id)
    delete_owned(opportunity, summary=opportunity.name, uow=uow, actor=actor)
