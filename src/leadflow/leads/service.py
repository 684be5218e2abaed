"""Lead use cases: create, update, delete, qualify (one and many), disqualify, reactivate."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, select

from leadflow.activity.models import RegardingTable
from leadflow.activity.service import delete_notes_of
from leadflow.customers.models import Account, Contact, CustomerState
from leadflow.errors import LeadflowError, NotFound, ValidationFailed
from leadflow.leads.mappings import (
    LEAD_TO_ACCOUNT,
    LEAD_TO_CONTACT,
    LEAD_TO_OPPORTUNITY,
    mapped_values,
)
from leadflow.leads.models import Lead, LeadStatusReason, compose_full_name
from leadflow.leads.schemas import LeadCreate, LeadFields, LeadUpdate, QualifyOptions
from leadflow.opportunities.models import CustomerKind, Opportunity, OpportunityState
from leadflow.organisation.models import (
    Campaign,
    OrganisationSettings,
    QualificationExperience,
    RecordCreation,
)
from leadflow.organisation.service import currency_by_code, get_settings
from leadflow.records import apply_changes, check_version, get_record, get_reference
from leadflow.security.actor import Actor
from leadflow.security.models import User
from leadflow.uow import Database, UnitOfWork

# ----------------------------------------------------------------------------------------------
# create / read / update / delete


def _column_values(data: LeadFields, *, uow: UnitOfWork, present: set[str]) -> dict[str, Any]:
    """Translate validated input into column values, checking every record it names."""
    session = uow.session
    values = {name: getattr(data, name) for name in present}
    if "currency" in values:
        code = values.pop("currency")
        values["currency_id"] = currency_by_code(session, code).id if code else None
    if values.get("campaign_id"):
        get_reference(session, Campaign, values["campaign_id"], field="campaign_id", label="campaign")
    if values.get("owner_user_id"):
        owner = get_reference(session, User, values["owner_user_id"], field="owner_user_id", label="user")
        values["owning_business_unit_id"] = owner.business_unit_id
    if values.get("parent_account_id"):
        get_reference(
            session, Account, values["parent_account_id"], field="parent_account_id", label="account"
        )
    if values.get("parent_contact_id"):
        get_reference(
            session, Contact, values["parent_contact_id"], field="parent_contact_id", label="contact"
        )
    return values


def create_lead(data: LeadCreate, *, uow: UnitOfWork, actor: Actor) -> Lead:
    """Create an open lead owned by the actor unless another owner is named."""
    values = _column_values(data, uow=uow, present=set(data.model_fields_set) | {"topic", "last_name"})
    lead = Lead(
        id=uuid.uuid4(),
        owner_user_id=actor.user_id,
        owning_business_unit_id=actor.business_unit_id,
        created_by_id=actor.user_id,
        modified_by_id=actor.user_id,
        **values,
    )
    lead.full_name = compose_full_name(lead.first_name, lead.last_name)
    uow.session.add(lead)
    uow.flush()
    return lead


def get_lead(lead_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> Lead:
    """One lead by id."""
    return get_record(uow.session, Lead, lead_id, label="lead")


def update_lead(
    lead_id: uuid.UUID,
    changes: LeadUpdate,
    *,
    uow: UnitOfWork,
    actor: Actor,
    expected_version: int | None = None,
) -> Lead:
    """Change the given fields of an open lead; closed leads are read-only (§1)."""
    lead = get_record(uow.session, Lead, lead_id, label="lead", for_update=True)
    check_version(lead, expected_version)
    lead.ensure_editable()
    apply_changes(lead, _column_values(changes, uow=uow, present=set(changes.model_fields_set)))
    lead.full_name = compose_full_name(lead.first_name, lead.last_name)
    lead.modified_by_id = actor.user_id
    uow.flush()
    return lead


def delete_lead(
    lead_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> None:
    """Delete a lead with its notes and attachments; records it created keep existing."""
    session = uow.session
    lead = get_record(session, Lead, lead_id, label="lead", for_update=True)
    check_version(lead, expected_version)
    delete_notes_of(session, RegardingTable.LEADS, lead.id)
    session.delete(lead)
    uow.flush()


# ----------------------------------------------------------------------------------------------
# qualify (§2, §6)

_RECORDS = ("account", "contact", "opportunity")


@dataclass(frozen=True)
class QualifyPlan:
    """Which records this qualification creates, after the settings of §6 are applied."""

    account: bool
    contact: bool
    opportunity: bool


@dataclass
class QualifyResult:
    """The qualified lead and the records the qualification created."""

    lead: Lead
    account_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None
    opportunity_ids: list[uuid.UUID] = field(default_factory=list)


def creation_modes(settings: OrganisationSettings) -> dict[str, RecordCreation]:
    """Who decides, per record, under the organisation's qualification experience."""
    if settings.qualification_experience is QualificationExperience.LEGACY:
        mode = RecordCreation.AUTOMATIC if settings.create_records_on_qualify else RecordCreation.SELLER
        return dict.fromkeys(_RECORDS, mode)
    return {
        "account": settings.account_creation,
        "contact": settings.contact_creation,
        "opportunity": settings.opportunity_creation,
    }


def resolve_plan(settings: OrganisationSettings, options: QualifyOptions) -> QualifyPlan:
    """Apply the settings to the request: automatic records default to created, seller ones must be chosen."""
    modes = creation_modes(settings)
    choices: dict[str, bool | None] = {
        "account": options.create_account,
        "contact": options.create_contact,
        "opportunity": options.create_opportunity,
    }
    # Picking an existing record is a choice too, and so is listing opportunities.
    if choices["account"] is None and options.existing_account_id is not None:
        choices["account"] = False
    if choices["contact"] is None and options.existing_contact_id is not None:
        choices["contact"] = False
    if choices["opportunity"] is None and options.opportunities is not None:
        choices["opportunity"] = bool(options.opportunities)
    missing = [name for name in _RECORDS if choices[name] is None and modes[name] is RecordCreation.SELLER]
    if missing:
        flags = ", ".join(f"create_{name}" for name in missing)
        raise ValidationFailed(
            "Your organisation asks the seller to choose which records qualifying creates; "
            f"set {flags} (true or false), or pick an existing record.",
            code="qualification_choice_required",
            details={"choices": missing},
        )
    if options.opportunities and len(options.opportunities) > 1 and modes["opportunity"] is not RecordCreation.SELLER:
        raise ValidationFailed(
            "Several opportunities can be created from one lead only when the qualification "
            "settings let the seller create opportunities; ask an administrator to set "
            "opportunity creation to Seller.",
            code="multiple_opportunities_not_allowed",
        )
    if options.opportunities is not None and choices["opportunity"] is False and options.opportunities:
        raise ValidationFailed(
            "create_opportunity is false but opportunities are listed; remove one of the two.",
            code="contradictory_options",
        )
    return QualifyPlan(**{name: bool(choices[name]) if choices[name] is not None else True for name in _RECORDS})


@dataclass
class QualifyContext:
    """What the same options resolve to for every lead they qualify, computed once."""

    options: QualifyOptions
    plan: QualifyPlan
    base_currency_id: uuid.UUID | None
    opportunity_currency_id: uuid.UUID | None = None
    spec_currency_ids: list[uuid.UUID | None] = field(default_factory=list)
    existing_account: Account | None = None
    existing_contact: Contact | None = None
    customer: Account | Contact | None = None


def prepare_qualify(options: QualifyOptions, *, uow: UnitOfWork) -> QualifyContext:
    """Resolve the settings and every record the options name; refuse before touching any lead."""
    session = uow.session
    settings = get_settings(session)
    context = QualifyContext(
        options=options,
        plan=resolve_plan(settings, options),
        base_currency_id=settings.base_currency_id,
    )
    if options.opportunity_currency:
        context.opportunity_currency_id = currency_by_code(session, options.opportunity_currency).id
    context.spec_currency_ids = [
        currency_by_code(session, spec.currency).id if spec.currency else None
        for spec in options.opportunities or ()
    ]
    if options.source_campaign_id:
        get_reference(session, Campaign, options.source_campaign_id, field="source_campaign_id", label="campaign")
    if options.existing_account_id:
        context.existing_account = _active_reference(
            session, Account, options.existing_account_id, field="existing_account_id", label="account"
        )
    if options.existing_contact_id:
        context.existing_contact = _active_reference(
            session, Contact, options.existing_contact_id, field="existing_contact_id", label="contact"
        )
    if options.opportunity_customer_id:
        customer = session.get(Account, options.opportunity_customer_id) or session.get(
            Contact, options.opportunity_customer_id
        )
        if customer is None:
            raise ValidationFailed(
                f"opportunity_customer_id names no existing account or contact (id {options.opportunity_customer_id}).",
                code="opportunity_customer_id_not_found",
            )
        context.customer = customer
    return context


def _active_reference(session: Any, model: type, record_id: uuid.UUID, *, field: str, label: str) -> Any:
    record = get_reference(session, model, record_id, field=field, label=label)
    if record.state is not CustomerState.ACTIVE:
        raise ValidationFailed(
            f"The {label} named in {field} is inactive; pick an active {label}.",
            code=f"{field}_inactive",
        )
    return record


def qualify_lead(lead_id: uuid.UUID, options: QualifyOptions, *, uow: UnitOfWork, actor: Actor) -> QualifyResult:
    """Qualify one open lead into the records the settings and options ask for, atomically (§2)."""
    context = prepare_qualify(options, uow=uow)
    lead = get_record(uow.session, Lead, lead_id, label="lead", for_update=True)
    return qualify_loaded_lead(lead, context, uow=uow, actor=actor)


def qualify_loaded_lead(lead: Lead, context: QualifyContext, *, uow: UnitOfWork, actor: Actor) -> QualifyResult:
    """Qualify a lead already loaded (and locked) by the caller."""
    lead.ensure_can_qualify()
    session = uow.session
    plan, options = context.plan, context.options
    owner = {
        "owner_user_id": actor.user_id,
        "owning_business_unit_id": actor.business_unit_id,
        "created_by_id": actor.user_id,
        "modified_by_id": actor.user_id,
        "originating_lead_id": lead.id,
    }
    result = QualifyResult(lead=lead)

    account = context.existing_account or _linked(session, Account, lead.parent_account_id)
    if account is None and plan.account and lead.company_name:
        account = Account(id=uuid.uuid4(), **mapped_values(lead, LEAD_TO_ACCOUNT), **owner)
        session.add(account)
        result.account_id = account.id

    contact = context.existing_contact or _linked(session, Contact, lead.parent_contact_id)
    if contact is None and plan.contact:
        contact = Contact(
            id=uuid.uuid4(),
            account_id=account.id if account is not None else None,
            **mapped_values(lead, LEAD_TO_CONTACT),
            **owner,
        )
        session.add(contact)
        result.contact_id = contact.id
        if result.account_id is not None:
            account.primary_contact_id = contact.id

    if plan.opportunity:
        customer = context.customer or account or contact
        specs = options.opportunities or [None]
        for index, spec in enumerate(specs):
            values = mapped_values(lead, LEAD_TO_OPPORTUNITY)
            values["currency_id"] = (
                (context.spec_currency_ids[index] if spec is not None else None)
                or context.opportunity_currency_id
                or lead.currency_id
                or context.base_currency_id
            )
            if options.source_campaign_id:
                values["campaign_id"] = options.source_campaign_id
            if spec is not None:
                values.update(
                    {
                        key: value
                        for key, value in (
                            ("name", spec.name),
                            ("estimated_revenue", spec.estimated_revenue),
                            ("description", spec.description),
                        )
                        if value is not None
                    }
                )
                values["estimated_close_date"] = spec.estimated_close_date
            opportunity = Opportunity(
                id=uuid.uuid4(),
                customer_kind=_customer_kind(customer),
                customer_id=customer.id if customer is not None else None,
                parent_account_id=account.id if account is not None else None,
                parent_contact_id=contact.id if contact is not None else None,
                **values,
                **owner,
            )
            session.add(opportunity)
            result.opportunity_ids.append(opportunity.id)

    lead.parent_account_id = account.id if account is not None else lead.parent_account_id
    lead.parent_contact_id = contact.id if contact is not None else lead.parent_contact_id
    lead.qualify(opportunity_id=result.opportunity_ids[0] if result.opportunity_ids else None)
    lead.modified_by_id = actor.user_id
    uow.flush()
    return result


def _linked(session: Any, model: type, record_id: uuid.UUID | None) -> Any:
    """The active record a lead's existing-account/contact field points to, if any."""
    if record_id is None:
        return None
    record = session.get(model, record_id)
    return record if record is not None and record.state is CustomerState.ACTIVE else None


def _customer_kind(customer: Account | Contact | None) -> CustomerKind | None:
    if customer is None:
        return None
    return CustomerKind.ACCOUNT if isinstance(customer, Account) else CustomerKind.CONTACT


@dataclass
class QualifyOutcome:
    """One lead's line in a bulk qualification: what was created, or why it was refused."""

    lead_id: uuid.UUID
    result: QualifyResult | None = None
    error: LeadflowError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def qualify_leads(
    lead_ids: Iterable[uuid.UUID],
    options: QualifyOptions,
    *,
    database: Database,
    actor: Actor,
    batch_size: int = 500,
) -> Iterator[QualifyOutcome]:
    """Qualify many leads (§2.6): each atomically on its own, committed in batches, results streamed.

    Memory stays flat whatever the number of leads: each batch has its own unit of work, and the
    ids are consumed lazily.
    """
    with database.unit_of_work(read_only=True) as uow:
        prepare_qualify(options, uow=uow)  # refuse bad options once, before any lead
    batch: list[uuid.UUID] = []
    for lead_id in lead_ids:
        batch.append(lead_id)
        if len(batch) >= batch_size:
            yield from _qualify_batch(batch, options, database=database, actor=actor)
            batch = []
    if batch:
        yield from _qualify_batch(batch, options, database=database, actor=actor)


def _qualify_batch(
    lead_ids: list[uuid.UUID], options: QualifyOptions, *, database: Database, actor: Actor
) -> list[QualifyOutcome]:
    outcomes: list[QualifyOutcome] = []
    with database.unit_of_work() as uow:
        session = uow.session
        context = prepare_qualify(options, uow=uow)
        unique_ids = list(dict.fromkeys(lead_ids))
        leads = {
            lead.id: lead
            for lead in session.scalars(
                select(Lead).where(Lead.id.in_(unique_ids)).order_by(Lead.id).with_for_update()
            )
        }
        for lead_id in lead_ids:
            lead = leads.get(lead_id)
            if lead is None:
                error = NotFound(f"No lead has the id {lead_id}.", code="lead_not_found")
                outcomes.append(QualifyOutcome(lead_id, error=error))
                continue
            savepoint = session.begin_nested()
            try:
                result = qualify_loaded_lead(lead, context, uow=uow, actor=actor)
            except LeadflowError as error:
                savepoint.rollback()
                outcomes.append(QualifyOutcome(lead_id, error=error))
            else:
                savepoint.commit()
                outcomes.append(QualifyOutcome(lead_id, result=result))
        uow.commit()
    return outcomes


# ----------------------------------------------------------------------------------------------
# disqualify (§3) and reactivate (§4)


def disqualify_lead(
    lead_id: uuid.UUID, reason: LeadStatusReason, *, uow: UnitOfWork, actor: Actor
) -> Lead:
    """Close an open lead as disqualified; refused while an open opportunity came from it."""
    session = uow.session
    lead = get_record(session, Lead, lead_id, label="lead", for_update=True)
    has_opportunity = session.scalar(
        select(
            exists().where(
                Opportunity.originating_lead_id == lead.id,
                Opportunity.state == OpportunityState.OPEN,
            )
        )
    )
    lead.disqualify(reason, has_opportunity=bool(has_opportunity))
    lead.modified_by_id = actor.user_id
    uow.flush()
    return lead


def reactivate_lead(lead_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> Lead:
    """Reopen a qualified or disqualified lead as New, with all its data, notes and attachments."""
    lead = get_record(uow.session, Lead, lead_id, label="lead", for_update=True)
    lead.reactivate()
    lead.modified_by_id = actor.user_id
    uow.flush()
    return lead
