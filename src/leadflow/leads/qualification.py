"""What qualifying a lead creates (§2, §6), decided in memory and written in bulk.

``resolve_plan`` applies the organisation's settings to a request; ``prepare_qualify`` resolves the
records the options name once for any number of leads; ``plan_qualification`` decides one lead's
new rows without writing anything; ``write_qualifications`` writes many planned leads with one
statement per table.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from leadflow.activities.models import RegardingTable
from leadflow.activities.service import copy_notes
from leadflow.core.db import affected_rows, utcnow
from leadflow.core.errors import Conflict, ValidationFailed
from leadflow.core.records import get_reference, not_found, record_label
from leadflow.core.uow import UnitOfWork
from leadflow.customers.models import Account, Contact, CustomerState
from leadflow.customers.service import linkable_customer
from leadflow.duplicates.detection import QualifyDuplicates, complete, qualification_duplicates
from leadflow.duplicates.engine import index_rows, record_values
from leadflow.duplicates.models import DetectionTable
from leadflow.fields.service import QualifyMapper
from leadflow.leads.mappings import LEAD_TO_ACCOUNT, LEAD_TO_CONTACT, LEAD_TO_OPPORTUNITY, mapped_values
from leadflow.leads.models import Lead
from leadflow.leads.schemas import QualifyOptions
from leadflow.opportunities.models import CustomerKind, Opportunity, customer_kind_of
from leadflow.organisation.currencies import in_base
from leadflow.organisation.models import (
    Campaign,
    Currency,
    OrganisationSettings,
    QualificationExperience,
    RecordCreation,
)
from leadflow.organisation.service import currency_by_code, get_settings
from leadflow.security.access import can, forbidden, linkable, require
from leadflow.security.actor import Actor
from leadflow.security.audit import entry_values, plain, write_entries
from leadflow.security.privileges import Depth, Privilege

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
    # The existing opportunity the lead was qualified into, when it was (nothing else is then created for it).
    into_opportunity_id: uuid.UUID | None = None

    @property
    def opportunity_id(self) -> uuid.UUID | None:
        """The lead's qualifying opportunity: the first one created, or the one it went into."""
        return self.opportunity_ids[0] if self.opportunity_ids else self.into_opportunity_id


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
    if options.existing_opportunity_id is not None:
        if choices["opportunity"] or options.opportunity_customer_id is not None:
            raise ValidationFailed(
                "existing_opportunity_id qualifies the lead into an opportunity that exists; remove "
                "create_opportunity, opportunities and opportunity_customer_id, which describe a new one.",
                code="contradictory_options",
            )
        choices["opportunity"] = False
    missing = [name for name in _RECORDS if choices[name] is None and modes[name] is RecordCreation.SELLER]
    if missing:
        flags = ", ".join(f"create_{name}" for name in missing)
        raise ValidationFailed(
            "Your organisation asks the seller to choose which records qualifying creates; "
            f"set {flags} (true or false), or pick an existing record.",
            code="qualification_choice_required",
            details={"choices": missing},
        )
    several_allowed = (
        settings.qualification_experience is QualificationExperience.PER_RECORD
        and settings.opportunity_creation is RecordCreation.SELLER
    )
    if options.opportunities and len(options.opportunities) > 1 and not several_allowed:
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
    # The matches the seller linked in answer to a duplicate warning (§5).
    linked_account: Account | None = None
    linked_contact: Account | None = None
    # Existing records whose link this actor was already allowed to make, checked once per batch.
    checked_links: set[uuid.UUID] = field(default_factory=set)
    # Each currency's rate, captured by the opportunities the qualification creates.
    rates: dict[uuid.UUID, Decimal] = field(default_factory=dict)
    # The open opportunity the lead is qualified into instead of creating one, locked until commit.
    existing_opportunity: Opportunity | None = None
    # How the lead's custom values fill the custom fields of the records it creates (read once).
    custom: QualifyMapper | None = None


def prepare_qualify(options: QualifyOptions, *, uow: UnitOfWork, actor: Actor) -> QualifyContext:
    """Resolve the settings and every record the options name (linking one needs Append To on it);
    refuse before touching any lead."""
    session = uow.session
    settings = get_settings(session)
    context = QualifyContext(
        options=options,
        plan=resolve_plan(settings, options),
        base_currency_id=settings.base_currency_id,
        rates=dict(session.execute(select(Currency.id, Currency.exchange_rate)).all()),
        custom=QualifyMapper(session),
    )
    if options.opportunity_currency:
        context.opportunity_currency_id = currency_by_code(session, options.opportunity_currency).id
    context.spec_currency_ids = [
        currency_by_code(session, spec.currency).id if spec.currency else None for spec in options.opportunities or ()
    ]
    if options.source_campaign_id:
        get_reference(session, Campaign, options.source_campaign_id, field="source_campaign_id", label="campaign")
    context.existing_account = _active_link(
        session, actor, Account, options.existing_account_id, field="existing_account_id"
    )
    context.existing_contact = _active_link(
        session, actor, Contact, options.existing_contact_id, field="existing_contact_id"
    )
    if options.opportunity_customer_id:
        context.customer = linkable_customer(
            session, actor, options.opportunity_customer_id, field="opportunity_customer_id"
        )
    if options.existing_opportunity_id is not None:
        context.existing_opportunity = _open_opportunity(session, actor, options.existing_opportunity_id)
    resolution = options.duplicate_resolution
    if resolution is not None and resolution.links:
        context.linked_account = _active_link(
            session, actor, Account, resolution.account_id, field="duplicate_resolution.account_id"
        )
        context.linked_contact = _active_link(
            session, actor, Contact, resolution.contact_id, field="duplicate_resolution.contact_id"
        )
    return context


def _active_link(session: Any, actor: Actor, model: type[Any], record_id: uuid.UUID | None, *, field: str) -> Any:
    """The active account or contact an option names to link, or None when it names none."""
    if record_id is None:
        return None
    label = record_label(model.__tablename__)
    record = linkable(session, actor, model, record_id, field=field)
    if record.state is not CustomerState.ACTIVE:
        raise ValidationFailed(
            f"The {label} named in {field} is inactive; pick an active {label}.",
            code=f"{field}_inactive",
        )
    return record


_EXISTING_OPPORTUNITY = "existing_opportunity_id"


def _open_opportunity(session: Session, actor: Actor, opportunity_id: uuid.UUID) -> Opportunity:
    """The open opportunity a lead is qualified into (Append To on it, as for any link), locked so
    that nobody closes it before the lead's notes are in it."""
    linkable(session, actor, Opportunity, opportunity_id, field=_EXISTING_OPPORTUNITY)
    opportunity = session.get(Opportunity, opportunity_id, with_for_update=True, populate_existing=True)
    if opportunity is None or not opportunity.is_open:
        raise ValidationFailed(
            f"The opportunity named in {_EXISTING_OPPORTUNITY} is closed; reopen it first or pick an open one.",
            code=f"{_EXISTING_OPPORTUNITY}_closed",
            details={"fields": [{"field": _EXISTING_OPPORTUNITY, "code": "closed", "message": "closed"}]},
        )
    return opportunity


def _ensure_opportunity_of(
    opportunity: Opportunity, account_id: uuid.UUID | None, contact_id: uuid.UUID | None
) -> None:
    """A lead goes only into an opportunity of the account or contact it is qualified to."""
    customers = {account_id, contact_id} - {None}
    if not customers & {opportunity.customer_id, opportunity.parent_account_id, opportunity.parent_contact_id}:
        raise ValidationFailed(
            f"The opportunity named in {_EXISTING_OPPORTUNITY} is not one of the lead's account or contact; "
            "pick one of theirs, or link the lead to the opportunity's customer (existing_account_id or "
            "existing_contact_id).",
            code=f"{_EXISTING_OPPORTUNITY}_other_customer",
            details={
                "fields": [{"field": _EXISTING_OPPORTUNITY, "code": "other_customer", "message": "other customer"}]
            },
        )


@dataclass
class PendingQualification:
    """One lead's qualification computed in memory: the rows to insert and the lead's new values."""

    lead: Lead
    result: QualifyResult
    rows: dict[Table, list[dict[str, Any]]]
    lead_values: dict[str, Any]
    # The existing opportunity that receives copies of the lead's notes, when there is one.
    notes_to: uuid.UUID | None = None


def plan_qualification(
    lead: Lead,
    context: QualifyContext,
    *,
    session: Session,
    actor: Actor,
    duplicates: QualifyDuplicates | None = None,
) -> PendingQualification:
    """Decide what qualifying this lead creates (§2.2), without writing anything.

    Raises the state rule's refusal for a closed lead; after it, nothing here can fail, which is
    what lets a batch write many leads with one statement per table.
    """
    # Access first: the state of a lead the actor may not change is none of their business, and a
    # lead they may not even read is, to them, a lead that does not exist.
    if not can(session, actor, Privilege.READ, "leads", lead):
        raise not_found(label="lead", record_id=lead.id)
    require(session, actor, Privilege.WRITE, "leads", lead)
    lead.ensure_can_qualify()
    plan, options = context.plan, context.options
    now = utcnow()
    common = {
        "row_version": 1,
        "created_at": now,
        "modified_at": now,
        "owner_user_id": actor.user_id,
        "owning_business_unit_id": actor.business_unit_id,
        "created_by_id": actor.user_id,
        "modified_by_id": actor.user_id,
        "originating_lead_id": lead.id,
    }
    result = QualifyResult(lead=lead)
    rows: dict[Table, list[dict[str, Any]]] = {}

    account_id = (
        _active_id(context.existing_account)
        or _active_id(context.linked_account)
        or _linked_id(session, Account, lead.parent_account_id)
    )
    contact_id = (
        _active_id(context.existing_contact)
        or _active_id(context.linked_contact)
        or _linked_id(session, Contact, lead.parent_contact_id)
    )
    creates = {
        "accounts": account_id is None and plan.account and bool(lead.company_name),
        "contacts": contact_id is None and plan.contact,
        "opportunities": plan.opportunity,
    }
    if duplicates is None:
        duplicates = qualify_duplicates(session, [lead], context, actor=actor)[0]
    _refuse_duplicates(duplicates, context, creates)
    for table, created in creates.items():
        if created and actor.depth(table, Privilege.CREATE) is Depth.NONE:
            raise forbidden(actor, Privilege.CREATE, table, what="the records qualifying creates")
    # Linking existing records needs Append on the lead and Append To on what it is linked to.
    for model, record_id in ((Account, account_id), (Contact, contact_id)):
        if record_id is not None and record_id not in context.checked_links:
            require(session, actor, Privilege.APPEND, "leads", lead)
            require(session, actor, Privilege.APPEND_TO, model.__tablename__, session.get(model, record_id))
            context.checked_links.add(record_id)
    existing_opportunity = context.existing_opportunity
    if existing_opportunity is not None:
        _ensure_opportunity_of(existing_opportunity, account_id, contact_id)
        require(session, actor, Privilege.APPEND, "leads", lead)  # Append To on it: checked in prepare_qualify
        result.into_opportunity_id = existing_opportunity.id

    custom = context.custom or QualifyMapper(session)
    lead_rate = context.rates.get(lead.currency_id, Decimal(1)) if lead.currency_id else Decimal(1)
    account_row = None
    if creates["accounts"]:
        account_id = result.account_id = uuid.uuid4()
        account_row = {"id": account_id, **mapped_values(lead, LEAD_TO_ACCOUNT), **common}
        account_row["custom"] = custom.values(lead, "accounts", rate=lead_rate)
        rows[ACCOUNTS] = [account_row]

    if creates["contacts"]:
        contact_id = result.contact_id = uuid.uuid4()
        rows[CONTACTS] = [
            {
                "id": contact_id,
                "account_id": account_id,
                **mapped_values(lead, LEAD_TO_CONTACT),
                **common,
                "custom": custom.values(lead, "contacts", rate=lead_rate),
            }
        ]
        if account_row is not None:
            account_row["primary_contact_id"] = contact_id
    if account_row is not None:
        account_row.setdefault("primary_contact_id", None)

    if plan.opportunity:
        if context.customer is not None:
            customer_kind, customer_id = customer_kind_of(context.customer), context.customer.id
        elif account_id is not None:
            customer_kind, customer_id = CustomerKind.ACCOUNT, account_id
        elif contact_id is not None:
            customer_kind, customer_id = CustomerKind.CONTACT, contact_id
        else:
            customer_kind, customer_id = None, None
        opportunity_rows = []
        for index, spec in enumerate(options.opportunities or [None]):
            values = mapped_values(lead, LEAD_TO_OPPORTUNITY)
            values["currency_id"] = (
                (context.spec_currency_ids[index] if spec is not None else None)
                or context.opportunity_currency_id
                or lead.currency_id
                or context.base_currency_id
            )
            if options.source_campaign_id:
                values["campaign_id"] = options.source_campaign_id
            values["estimated_close_date"] = spec.estimated_close_date if spec is not None else None
            if spec is not None:
                for key, value in (
                    ("name", spec.name),
                    ("estimated_revenue", spec.estimated_revenue),
                    ("description", spec.description),
                ):
                    if value is not None:
                        values[key] = value
            values["exchange_rate"] = rate = context.rates.get(values["currency_id"], Decimal(1))
            values["estimated_revenue_base"] = in_base(values.get("estimated_revenue"), rate)
            values["custom"] = custom.values(lead, "opportunities", rate=rate)
            opportunity_id = uuid.uuid4()
            opportunity_rows.append(
                {
                    "id": opportunity_id,
                    "customer_kind": customer_kind,
                    "customer_id": customer_id,
                    "parent_account_id": account_id,
                    "parent_contact_id": contact_id,
                    **values,
                    **common,
                }
            )
            result.opportunity_ids.append(opportunity_id)
        rows[OPPORTUNITIES] = opportunity_rows

    # The state rule runs on the record; its outcome is written with the other rows, in bulk.
    lead_values = {
        **lead.qualified_values(opportunity_id=result.opportunity_id),
        "parent_account_id": account_id if account_id is not None else lead.parent_account_id,
        "parent_contact_id": contact_id if contact_id is not None else lead.parent_contact_id,
        "modified_by_id": actor.user_id,
        "modified_at": now,
    }
    return PendingQualification(
        lead=lead,
        result=result,
        rows=rows,
        lead_values=lead_values,
        notes_to=result.into_opportunity_id,
    )


def prospects(lead: Lead, context: QualifyContext) -> dict[DetectionTable, dict[str, Any] | None]:
    """The account, contact and opportunity qualifying could create for the lead, as detection checks them."""
    plan = context.plan
    opportunity = mapped_values(lead, LEAD_TO_OPPORTUNITY) if plan.opportunity else None
    if opportunity is not None and context.options.opportunities and context.options.opportunities[0].name:
        opportunity["name"] = context.options.opportunities[0].name
    return {
        DetectionTable.ACCOUNTS: mapped_values(lead, LEAD_TO_ACCOUNT) if plan.account and lead.company_name else None,
        DetectionTable.CONTACTS: mapped_values(lead, LEAD_TO_CONTACT) if plan.contact else None,
        DetectionTable.OPPORTUNITIES: opportunity,
    }


def qualify_duplicates(
    session: Session, leads: list[Lead], context: QualifyContext, *, actor: Actor
) -> list[QualifyDuplicates]:
    """Duplicate detection for the leads and what their qualification would create, one query per rule."""
    if context.options.suppress_duplicate_detection:
        return [QualifyDuplicates() for _ in leads]
    planned = [prospects(lead, context) for lead in leads]
    by_table: dict[DetectionTable, list[Mapping[str, Any] | None]] = {
        table: [item[table] for item in planned] for table in DetectionTable if table is not DetectionTable.LEADS
    }
    return qualification_duplicates(session, leads, by_table, actor=actor)


def _refuse_duplicates(duplicates: QualifyDuplicates, context: QualifyContext, creates: dict[str, bool]) -> None:
    """Block on lead and opportunity duplicates; warn on account and contact ones unless resolved (§5)."""
    opportunity_blocks = duplicates.opportunities if creates["opportunities"] else []
    blocking = QualifyDuplicates(lead_matches=duplicates.lead_matches, opportunities=opportunity_blocks)
    error = blocking.blocking_error()
    if error is None and context.options.duplicate_resolution is None:
        error = duplicates.warning(account=creates["accounts"], contact=creates["contacts"])
    if error is not None:
        raise error


ACCOUNTS: Table = Account.__table__  # type: ignore[assignment]
CONTACTS: Table = Contact.__table__  # type: ignore[assignment]
OPPORTUNITIES: Table = Opportunity.__table__  # type: ignore[assignment]
LEADS: Table = Lead.__table__  # type: ignore[assignment]
_QUALIFIED_LEAD_COLUMNS = (
    "state",
    "status_reason",
    "qualifying_opportunity_id",
    "closed_at",
    "parent_account_id",
    "parent_contact_id",
    "modified_by_id",
    "modified_at",
)
_LEAD_QUALIFIED_UPDATE = (
    update(LEADS)
    .where(LEADS.c.id == bindparam("lead_id"), LEADS.c.row_version == bindparam("expected_version"))
    .values(
        {
            **{name: bindparam(f"new_{name}", type_=LEADS.c[name].type) for name in _QUALIFIED_LEAD_COLUMNS},
            "row_version": LEADS.c.row_version + 1,
        }
    )
)


def write_qualifications(session: Session, pending: list[PendingQualification], *, actor: Actor) -> None:
    """Write planned qualifications: one multi-row INSERT per table and one batched lead UPDATE.

    The ORM's row-by-row flush costs more than the database work here, so the rows go through
    Core; the lead objects are then told their new committed values, version included, so that
    the ORM never writes them a second time. Callers flush their own earlier changes first.
    """
    if not pending:
        return
    for table in (ACCOUNTS, CONTACTS, OPPORTUNITIES):
        rows = [row for item in pending for row in item.rows.get(table, ())]
        if rows:
            session.execute(table.insert(), rows)
            index_rows(session, table.name, [complete(DetectionTable(table.name), row) for row in rows])
    lead_rows = [
        {
            "lead_id": item.lead.id,
            "expected_version": item.lead.row_version,
            **{f"new_{name}": value for name, value in item.lead_values.items()},
        }
        for item in pending
    ]
    copied = {
        item.lead.id: copy_notes(
            session, (RegardingTable.LEADS, item.lead.id), (RegardingTable.OPPORTUNITIES, item.notes_to)
        )
        for item in pending
        if item.notes_to is not None
    }
    updated = session.execute(_LEAD_QUALIFIED_UPDATE, lead_rows)
    if session.get_bind().dialect.supports_sane_multi_rowcount and affected_rows(updated) != len(lead_rows):
        raise Conflict(
            "Someone else changed one of these leads while it was being qualified; reload it and try again.",
            code="concurrent_update",
        )
    write_entries(
        session,
        [
            entry_values(
                actor,
                "qualify",
                table="leads",
                record_id=item.lead.id,
                changes={
                    "account_id": plain(item.result.account_id),
                    "contact_id": plain(item.result.contact_id),
                    "opportunity_ids": [str(i) for i in item.result.opportunity_ids],
                    **(
                        {"existing_opportunity_id": str(item.notes_to), "notes_copied": copied[item.lead.id]}
                        if item.notes_to is not None
                        else {}
                    ),
                },
            )
            for item in pending
        ],
    )
    for item in pending:
        for name, value in {**item.lead_values, "row_version": item.lead.row_version + 1}.items():
            set_committed_value(item.lead, name, value)
    # Lead rules comparing a column qualifying changes (status, closing time) need the new codes.
    index_rows(
        session, DetectionTable.LEADS, [record_values(item.lead) for item in pending], changed=_QUALIFIED_LEAD_COLUMNS
    )


def qualify_loaded_lead(lead: Lead, context: QualifyContext, *, uow: UnitOfWork, actor: Actor) -> QualifyResult:
    """Qualify a lead already loaded (and locked) by the caller."""
    uow.flush()  # changes made earlier in this unit go first; the plan's own are written below
    pending = plan_qualification(lead, context, session=uow.session, actor=actor)
    write_qualifications(uow.session, [pending], actor=actor)
    return pending.result


def _active_id(record: Account | Contact | None) -> uuid.UUID | None:
    return record.id if record is not None else None


def _linked_id(session: Session, model: type[Any], record_id: uuid.UUID | None) -> uuid.UUID | None:
    """The lead's existing account/contact, if it is still there and active."""
    if record_id is None:
        return None
    record = session.get(model, record_id)
    return record.id if record is not None and record.state is CustomerState.ACTIVE else None
