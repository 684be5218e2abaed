"""Lead use cases one lead at a time: create, read, update, delete, qualify, disqualify, reactivate.

Qualifying many leads at once is ``leads.bulk``; what one qualification creates and how it is
written is ``leads.qualification``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import exists, select

from leadflow.activities.activity import cancel_open_activities_of
from leadflow.activities.models import RegardingTable
from leadflow.activities.service import delete_timeline_of
from leadflow.core.names import compose_full_name
from leadflow.core.records import check_version, get_record, get_reference
from leadflow.core.uow import UnitOfWork
from leadflow.customers.models import Account, Contact
from leadflow.duplicates.detection import detect_on_save
from leadflow.fields.service import apply_custom, clear_custom_lookups
from leadflow.leads.models import Lead, LeadStatusReason
from leadflow.leads.qualification import QualifyResult, prepare_qualify, qualify_loaded_lead
from leadflow.leads.schemas import LeadCreate, LeadFields, LeadUpdate, QualifyOptions
from leadflow.opportunities.models import Opportunity
from leadflow.organisation.currencies import rate_values
from leadflow.organisation.models import Campaign
from leadflow.organisation.service import currency_by_code
from leadflow.security.access import get_accessible, linkable
from leadflow.security.actor import Actor
from leadflow.security.audit import record_action
from leadflow.security.ownership import change_owned, create_owned_many, delete_owned, with_owner_unit
from leadflow.security.privileges import Privilege


def _column_values(data: LeadFields, *, uow: UnitOfWork, actor: Actor, present: set[str]) -> dict[str, Any]:
    """Translate validated input into column values, checking every record it names (linking an
    account or contact needs Append To on it)."""
    session = uow.session
    values = {name: getattr(data, name) for name in present}
    if "currency" in values:
        code = values.pop("currency")
        values["currency_id"] = currency_by_code(session, code).id if code else None
    with_owner_unit(session, values)
    if values.get("campaign_id"):
        get_reference(session, Campaign, values["campaign_id"], field="campaign_id", label="campaign")
    for field, model in (("parent_account_id", Account), ("parent_contact_id", Contact)):
        if values.get(field):
            linkable(session, actor, model, values[field], field=field)
    return values


def create_lead(
    data: LeadCreate,
    *,
    uow: UnitOfWork,
    actor: Actor,
    suppress_duplicates: bool = False,
    record_id: uuid.UUID | None = None,
) -> Lead:
    """Create an open lead owned by the actor unless another owner is named (with the id the client
    chose, when it chose one)."""
    return create_leads([data], uow=uow, actor=actor, suppress_duplicates=suppress_duplicates, record_ids=[record_id])[
        0
    ]


def create_leads(
    items: Sequence[LeadCreate],
    *,
    uow: UnitOfWork,
    actor: Actor,
    suppress_duplicates: bool = False,
    record_ids: Sequence[uuid.UUID | None] | None = None,
) -> list[Lead]:
    """Create several open leads, written in one flush; each is checked as ``create_lead`` checks one,
    and duplicate detection also sees the others of the batch. The caller's unit of work keeps them
    all or none."""
    rows = []
    for index, data in enumerate(items):
        values = _column_values(data, uow=uow, actor=actor, present=set(data.model_fields_set) | {"topic", "last_name"})
        if record_ids is not None and record_ids[index] is not None:
            values["id"] = record_ids[index]
        values["full_name"] = compose_full_name(values.get("first_name"), values["last_name"])
        apply_custom(uow.session, "leads", values, actor=actor)
        values.update(rate_values(uow.session, "leads", values))
        rows.append(values)
    created = create_owned_many(Lead, rows, summary_of="topic", uow=uow, actor=actor)
    for lead in created:
        detect_on_save(uow.session, lead, actor=actor, suppress=suppress_duplicates)
    return created


def get_lead(lead_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> Lead:
    """One lead by id, if the actor may read it."""
    return get_accessible(uow.session, Lead, lead_id, label="lead", actor=actor, privilege=Privilege.READ)


def update_lead(
    lead_id: uuid.UUID,
    changes: LeadUpdate,
    *,
    uow: UnitOfWork,
    actor: Actor,
    expected_version: int | None = None,
    suppress_duplicates: bool = False,
) -> Lead:
    """Change the given fields of an open lead; closed leads are read-only (§1)."""
    lead = get_accessible(
        uow.session, Lead, lead_id, label="lead", actor=actor, privilege=Privilege.WRITE, for_update=True
    )
    check_version(lead, expected_version)
    lead.ensure_editable()
    values = _column_values(changes, uow=uow, actor=actor, present=set(changes.model_fields_set))
    apply_custom(uow.session, "leads", values, actor=actor, current=lead)
    first, last = values.get("first_name", lead.first_name), values.get("last_name", lead.last_name)
    values.update(rate_values(uow.session, "leads", values, current=lead))
    change_owned(lead, {**values, "full_name": compose_full_name(first, last)}, uow=uow, actor=actor)
    detect_on_save(uow.session, lead, actor=actor, suppress=suppress_duplicates, changed={*values, "full_name"})
    return lead


def delete_lead(lead_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None) -> None:
    """Delete a lead with its notes and attachments; records it created keep existing."""
    session = uow.session
    lead = get_accessible(
        session, Lead, lead_id, label="lead", actor=actor, privilege=Privilege.DELETE, for_update=True
    )
    check_version(lead, expected_version)
    delete_timeline_of(session, RegardingTable.LEADS, lead.id)
    clear_custom_lookups(session, "leads", lead.id)
    delete_owned(lead, summary=lead.topic, uow=uow, actor=actor)


def qualify_lead(lead_id: uuid.UUID, options: QualifyOptions, *, uow: UnitOfWork, actor: Actor) -> QualifyResult:
    """Qualify one open lead into the records the settings and options ask for, atomically (§2)."""
    context = prepare_qualify(options, uow=uow, actor=actor)
    lead = get_record(uow.session, Lead, lead_id, label="lead", for_update=True)
    return qualify_loaded_lead(lead, context, uow=uow, actor=actor)


# ----------------------------------------------------------------------------------------------
# disqualify (§3) and reactivate (§4)


def disqualify_lead(
    lead_id: uuid.UUID,
    reason: LeadStatusReason,
    *,
    uow: UnitOfWork,
    actor: Actor,
    cancel_open_activities: bool = False,
) -> Lead:
    """Close an open lead as disqualified; refused while an opportunity is associated with it (§3).
    With ``cancel_open_activities`` the lead's open activities that the actor may change are canceled."""
    session = uow.session
    lead = get_accessible(session, Lead, lead_id, label="lead", actor=actor, privilege=Privilege.WRITE, for_update=True)
    has_opportunity = session.scalar(select(exists().where(Opportunity.originating_lead_id == lead.id)))
    lead.disqualify(reason, has_opportunity=bool(has_opportunity))
    lead.modified_by_id = actor.user_id
    record_action(session, actor, "disqualify", table="leads", record_id=lead.id, summary=reason.value)
    if cancel_open_activities:
        cancel_open_activities_of(session, actor, RegardingTable.LEADS, lead.id)
    uow.flush()
    return lead


def reactivate_lead(lead_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> Lead:
    """Reopen a qualified or disqualified lead as New, with all its data, notes and attachments."""
    lead = get_accessible(
        uow.session, Lead, lead_id, label="lead", actor=actor, privilege=Privilege.WRITE, for_update=True
    )
    lead.reactivate()
    lead.modified_by_id = actor.user_id
    record_action(uow.session, actor, "reactivate", table="leads", record_id=lead.id)
    uow.flush()
    return lead
