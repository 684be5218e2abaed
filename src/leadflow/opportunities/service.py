"""Opportunity use cases."""

from __future__ import annotations

import uuid
from typing import Any

from leadflow.activities.models import RegardingTable
from leadflow.activities.service import delete_notes_of
from leadflow.core.records import check_version, get_reference
from leadflow.core.uow import UnitOfWork
from leadflow.customers.models import Account, Contact
from leadflow.customers.service import linkable_customer
from leadflow.duplicates.detection import detect_on_save
from leadflow.opportunities.models import Opportunity, customer_kind_of
from leadflow.opportunities.schemas import OpportunityCreate, OpportunityFields, OpportunityUpdate
from leadflow.organisation.currencies import rate_values
from leadflow.organisation.models import Campaign
from leadflow.organisation.service import currency_by_code, get_settings
from leadflow.security.access import get_accessible, linkable
from leadflow.security.actor import Actor
from leadflow.security.ownership import change_owned, create_owned, delete_owned, with_owner_unit
from leadflow.security.privileges import Privilege


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


def create_opportunity(
    data: OpportunityCreate, *, uow: UnitOfWork, actor: Actor, suppress_duplicates: bool = False
) -> Opportunity:
    """Create an open opportunity at the Develop stage, owned by the actor unless named otherwise."""
    values = _column_values(data, uow=uow, actor=actor)
    values.setdefault("currency_id", get_settings(uow.session).base_currency_id)
    values.update(rate_values(uow.session, "opportunities", values))
    opportunity = create_owned(Opportunity, values, summary_of="name", uow=uow, actor=actor)
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
    values = _column_values(changes, uow=uow, actor=actor)
    values.update(rate_values(uow.session, "opportunities", values, current=opportunity))
    change_owned(opportunity, values, uow=uow, actor=actor)
    detect_on_save(uow.session, opportunity, actor=actor, suppress=suppress_duplicates, changed=values)
    return opportunity


def delete_opportunity(
    opportunity_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> None:
    """Delete an opportunity and its notes."""
    opportunity = _for_change(uow, actor, opportunity_id, Privilege.DELETE)
    check_version(opportunity, expected_version)
    delete_notes_of(uow.session, RegardingTable.OPPORTUNITIES, opportunity.id)
    delete_owned(opportunity, summary=opportunity.name, uow=uow, actor=actor)
