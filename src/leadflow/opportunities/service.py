"""Opportunity use cases."""

from __future__ import annotations

import uuid
from typing import Any

from leadflow.activities.models import RegardingTable
from leadflow.activities.service import delete_notes_of
from leadflow.customers.models import Account, Contact
from leadflow.duplicates.detection import detect_on_save
from leadflow.core.errors import ValidationFailed
from leadflow.opportunities.models import CustomerKind, Opportunity
from leadflow.opportunities.schemas import OpportunityCreate, OpportunityFields, OpportunityUpdate
from leadflow.organisation.models import Campaign
from leadflow.organisation.service import currency_by_code, get_settings
from leadflow.security.audit import changed_fields, record_action
from leadflow.core.records import apply_changes, check_version, get_reference
from leadflow.security.access import get_accessible
from leadflow.security.access import require, require_create
from leadflow.security.privileges import Privilege
from leadflow.security.service import delete_shares_of
from leadflow.security.actor import Actor
from leadflow.security.models import User
from leadflow.core.uow import UnitOfWork


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
            account, contact = session.get(Account, customer_id), session.get(Contact, customer_id)
            if account is not None or contact is not None:
                customer = account if account is not None else contact
                values["customer_kind"] = CustomerKind.ACCOUNT if account is not None else CustomerKind.CONTACT
                require(session, actor, Privilege.APPEND_TO, customer.__tablename__, customer)
            else:
                raise ValidationFailed(
                    f"customer_id names no existing account or contact (id {customer_id}).",
                    code="customer_id_not_found",
                )
    references = {
        "parent_account_id": (Account, "account"),
        "parent_contact_id": (Contact, "contact"),
        "campaign_id": (Campaign, "campaign"),
        "owner_user_id": (User, "user"),
    }
    for field, (model, label) in references.items():
        if values.get(field):
            record = get_reference(session, model, values[field], field=field, label=label)
            if field == "owner_user_id":
                values["owning_business_unit_id"] = record.business_unit_id
            elif field in ("parent_account_id", "parent_contact_id"):
                require(session, actor, Privilege.APPEND_TO, model.__tablename__, record)
    return values


def create_opportunity(
    data: OpportunityCreate, *, uow: UnitOfWork, actor: Actor, suppress_duplicates: bool = False
) -> Opportunity:
    """Create an open opportunity at the Develop stage, owned by the actor unless named otherwise."""
    values = _column_values(data, uow=uow, actor=actor)
    values.setdefault("currency_id", get_settings(uow.session).base_currency_id)
    defaults = {
        "owner_user_id": actor.user_id,
        "owning_business_unit_id": actor.business_unit_id,
        "created_by_id": actor.user_id,
        "modified_by_id": actor.user_id,
    }
    opportunity = Opportunity(id=uuid.uuid4(), **{**defaults, **values})
    require_create(
        actor, "opportunities", owner_user_id=opportunity.owner_user_id, owning_unit_id=opportunity.owning_business_unit_id
    )
    uow.session.add(opportunity)
    uow.flush()
    detect_on_save(uow.session, opportunity, actor=actor, suppress=suppress_duplicates)
    record_action(uow.session, actor, "create", table="opportunities", record_id=opportunity.id, summary=opportunity.name)
    return opportunity


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
    opportunity = get_accessible(
        uow.session, Opportunity, opportunity_id, label="opportunity", actor=actor, privilege=Privilege.WRITE, for_update=True
    )
    check_version(opportunity, expected_version)
    values = _column_values(changes, uow=uow, actor=actor)
    if "owner_user_id" in values and values["owner_user_id"] != opportunity.owner_user_id:
        require(uow.session, actor, Privilege.ASSIGN, "opportunities", opportunity)
    apply_changes(opportunity, values)
    opportunity.modified_by_id = actor.user_id
    record_action(uow.session, actor, "update", table="opportunities", record_id=opportunity.id,
                  changes=changed_fields(opportunity))
    uow.flush()
    detect_on_save(uow.session, opportunity, actor=actor, suppress=suppress_duplicates, changed=values)
    return opportunity


def delete_opportunity(
    opportunity_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> None:
    """Delete an opportunity and its notes."""
    opportunity = get_accessible(
        uow.session, Opportunity, opportunity_id, label="opportunity", actor=actor, privilege=Privilege.DELETE, for_update=True
    )
    check_version(opportunity, expected_version)
    delete_notes_of(uow.session, RegardingTable.OPPORTUNITIES, opportunity.id)
    delete_shares_of(uow.session, "opportunities", opportunity.id)
    uow.session.delete(opportunity)
    uow.flush()
    record_action(uow.session, actor, "delete", table="opportunities", record_id=opportunity_id, summary=opportunity.name)
