"""Lead use cases: create, update, delete, qualify (one and many), disqualify, reactivate."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, bindparam, exists, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from leadflow.activities.models import RegardingTable
from leadflow.activities.service import delete_notes_of
from leadflow.security.audit import (
    AUDIT_TABLE,
    changed_fields,
    entry_values,
    plain,
    record_action,
)
from leadflow.customers.models import Account, Contact, CustomerState
from leadflow.core.db import utcnow
from leadflow.duplicates.detection import (
    QualifyDuplicates,
    add_pending_matches,
    complete,
    detect_on_save,
    qualification_duplicates,
)
from leadflow.duplicates.engine import PendingIndex, index_rows, record_values
from leadflow.duplicates.models import DetectionTable
from leadflow.core.errors import (
    Conflict,
    InvalidState,
    LeadflowError,
    NotFound,
    ValidationFailed,
)
from leadflow.leads.mappings import (
    LEAD_TO_ACCOUNT,
    LEAD_TO_CONTACT,
    LEAD_TO_OPPORTUNITY,
    mapped_values,
)
from leadflow.leads.models import LEAD_IS_CLOSED, Lead, LeadStatusReason
from leadflow.core.names import compose_full_name
from leadflow.leads.schemas import (
    LeadCreate,
    LeadFields,
    LeadUpdate,
    QualifyOptions,
)
from leadflow.opportunities.models import CustomerKind, Opportunity
from leadflow.organisation.models import (
    Campaign,
    OrganisationSettings,
    QualificationExperience,
    RecordCreation,
)
from leadflow.organisation.service import currency_by_code, get_settings
from leadflow.core.records import apply_changes, check_version, get_record, get_reference
from leadflow.security.access import get_accessible
from leadflow.security.access import forbidden, require, require_create
from leadflow.security.actor import Actor
from leadflow.security.models import User
from leadflow.security.privileges import Depth, Privilege
from leadflow.security.service import delete_shares_of
from leadflow.core.uow import Database, UnitOfWork

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


def create_lead(data: LeadCreate, *, uow: UnitOfWork, actor: Actor, suppress_duplicates: bool = False) -> Lead:
    """Create an open lead owned by the actor unless another owner is named."""
    values = _column_values(data, uow=uow, present=set(data.model_fields_set) | {"topic", "last_name"})
    defaults = {
        "owner_user_id": actor.user_id,
        "owning_business_unit_id": actor.business_unit_id,
        "created_by_id": actor.user_id,
        "modified_by_id": actor.user_id,
    }
    lead = Lead(id=uuid.uuid4(), **{**defaults, **values})
    require_create(actor, "leads", owner_user_id=lead.owner_user_id, owning_unit_id=lead.owning_business_unit_id)
    lead.full_name = compose_full_name(lead.first_name, lead.last_name)
    uow.session.add(lead)
    uow.flush()
    detect_on_save(uow.session, lead, actor=actor, suppress=suppress_duplicates)
    record_action(uow.session, actor, "create", table="leads", record_id=lead.id, summary=lead.topic)
    return lead


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
    values = _column_values(changes, uow=uow, present=set(changes.model_fields_set))
    if "owner_user_id" in values and values["owner_user_id"] != lead.owner_user_id:
        require(uow.session, actor, Privilege.ASSIGN, "leads", lead)
    apply_changes(lead, values)
    lead.full_name = compose_full_name(lead.first_name, lead.last_name)
    lead.modified_by_id = actor.user_id
    record_action(uow.session, actor, "update", table="leads", record_id=lead.id, changes=changed_fields(lead))
    uow.flush()
    detect_on_save(uow.session, lead, actor=actor, suppress=suppress_duplicates, changed={*values, "full_name"})
    return lead


def delete_lead(
    lead_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> None:
    """Delete a lead with its notes and attachments; records it created keep existing."""
    session = uow.session
    lead = get_accessible(session, Lead, lead_id, label="lead", actor=actor, privilege=Privilege.DELETE, for_update=True)
    check_version(lead, expected_version)
    delete_notes_of(session, RegardingTable.LEADS, lead.id)
    delete_shares_of(session, "leads", lead.id)
    session.delete(lead)
    uow.flush()
    record_action(session, actor, "delete", table="leads", record_id=lead_id, summary=lead.topic)


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
    resolution = options.duplicate_resolution
    if resolution is not None and resolution.links:
        if resolution.account_id:
            context.linked_account = _active_reference(
                session, Account, resolution.account_id, field="duplicate_resolution.account_id", label="account"
            )
        if resolution.contact_id:
            context.linked_contact = _active_reference(
                session, Contact, resolution.contact_id, field="duplicate_resolution.contact_id", label="contact"
            )
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


@dataclass
class PendingQualification:
    """One lead's qualification computed in memory: the rows to insert and the lead's new values."""

    lead: Lead
    result: QualifyResult
    rows: dict[Table, list[dict[str, Any]]]
    lead_values: dict[str, Any]


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
    # Access first: the state of a lead the actor may not change is none of their business.
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

    account_row = None
    if creates["accounts"]:
        account_id = result.account_id = uuid.uuid4()
        account_row = {"id": account_id, **mapped_values(lead, LEAD_TO_ACCOUNT), **common}
        rows[ACCOUNTS] = [account_row]

    if creates["contacts"]:
        contact_id = result.contact_id = uuid.uuid4()
        rows[CONTACTS] = [
            {"id": contact_id, "account_id": account_id, **mapped_values(lead, LEAD_TO_CONTACT), **common}
        ]
        if account_row is not None:
            account_row["primary_contact_id"] = contact_id
    if account_row is not None:
        account_row.setdefault("primary_contact_id", None)

    if plan.opportunity:
        if context.customer is not None:
            customer_kind, customer_id = _customer_kind(context.customer), context.customer.id
        elif account_id is not None:
            customer_kind, customer_id = CustomerKind.ACCOUNT, account_id
        elif contact_id is not None:
            customer_kind, customer_id = CustomerKind.CONTACT, contact_id
        else:
            customer_kind = customer_id = None
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
        **lead.qualified_values(opportunity_id=result.opportunity_ids[0] if result.opportunity_ids else None),
        "parent_account_id": account_id if account_id is not None else lead.parent_account_id,
        "parent_contact_id": contact_id if contact_id is not None else lead.parent_contact_id,
        "modified_by_id": actor.user_id,
        "modified_at": now,
    }
    return PendingQualification(lead=lead, result=result, rows=rows, lead_values=lead_values)


def _prospects(lead: Lead, context: QualifyContext) -> dict[DetectionTable, dict[str, Any] | None]:
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
    prospects = [_prospects(lead, context) for lead in leads]
    by_table = {table: [item[table] for item in prospects] for table in DetectionTable if table is not DetectionTable.LEADS}
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
    updated = session.execute(_LEAD_QUALIFIED_UPDATE, lead_rows)
    if session.get_bind().dialect.supports_sane_multi_rowcount and updated.rowcount != len(lead_rows):
        raise Conflict(
            "Someone else changed one of these leads while it was being qualified; reload it and try again.",
            code="concurrent_update",
        )
    session.execute(
        AUDIT_TABLE.insert(),
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


def _linked_id(session: Session, model: type, record_id: uuid.UUID | None) -> uuid.UUID | None:
    """The lead's existing account/contact, if it is still there and active."""
    if record_id is None:
        return None
    record = session.get(model, record_id)
    return record.id if record is not None and record.state is CustomerState.ACTIVE else None


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
    if options.duplicate_resolution is not None and options.duplicate_resolution.links:
        raise ValidationFailed(
            "Linking duplicate matches applies to one lead at a time; qualify the leads with duplicates one by one, "
            "or use duplicate_resolution 'ignore' to create new records for all of them.",
            code="duplicate_link_not_allowed_in_bulk",
        )
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


class _RetryLeadByLead(Exception):
    """The fast path of a batch met an unexpected failure; redo the batch one savepoint per lead."""


def _lock_leads(session: Any, lead_ids: list[uuid.UUID]) -> dict[uuid.UUID, Lead]:
    """Load a batch of leads in one query, locked against concurrent qualification."""
    statement = select(Lead).where(Lead.id.in_(set(lead_ids))).order_by(Lead.id).with_for_update()
    return {lead.id: lead for lead in session.scalars(statement)}


def _qualify_batch(
    lead_ids: list[uuid.UUID], options: QualifyOptions, *, database: Database, actor: Actor
) -> list[QualifyOutcome]:
    try:
        return _qualify_batch_at_once(lead_ids, options, database=database, actor=actor)
    except _RetryLeadByLead:
        return _qualify_batch_lead_by_lead(lead_ids, options, database=database, actor=actor)


def _qualify_batch_at_once(
    lead_ids: list[uuid.UUID], options: QualifyOptions, *, database: Database, actor: Actor
) -> list[QualifyOutcome]:
    """The fast path: every lead of the batch planned in memory, then written with one statement per table.

    Leads that the access or state rules refuse are reported and left untouched. Anything else that fails
    (an unexpected error, or the database refusing the batch) rolls the batch back and it is
    redone lead by lead, so that each lead still succeeds or fails on its own.
    """
    outcomes: list[QualifyOutcome] = []
    pending: list[PendingQualification] = []
    with database.unit_of_work() as uow:
        context = prepare_qualify(options, uow=uow)
        leads = _lock_leads(uow.session, lead_ids)
        # Detection for the whole batch at once: one query per rule, not one per lead and rule.
        found = list(leads.values())
        duplicates = dict(zip((lead.id for lead in found), qualify_duplicates(uow.session, found, context, actor=actor), strict=True))
        # Records planned earlier in this batch are not in the index yet: they are checked here.
        pending_index = None if context.options.suppress_duplicate_detection else PendingIndex(uow.session)
        detects = get_settings(uow.session).detects_duplicates_in
        planned: set[uuid.UUID] = set()
        for lead_id in lead_ids:
            lead = leads.get(lead_id)
            if lead is None:
                outcomes.append(QualifyOutcome(lead_id, error=_lead_not_found(lead_id)))
                continue
            if lead_id in planned:  # named twice: the first mention closes it
                outcomes.append(QualifyOutcome(lead_id, error=InvalidState(LEAD_IS_CLOSED, code="lead_closed")))
                continue
            planned.add(lead_id)
            if pending_index is not None:
                add_pending_matches(duplicates[lead_id], pending_index, _prospects(lead, context), enabled=detects)
            try:
                item = plan_qualification(
                    lead, context, session=uow.session, actor=actor, duplicates=duplicates[lead_id]
                )
            except LeadflowError as refused:  # raised by the checks, before the lead changed
                outcomes.append(QualifyOutcome(lead_id, error=refused))
                continue
            except Exception as error:
                raise _RetryLeadByLead from error
            pending.append(item)
            outcomes.append(QualifyOutcome(lead_id, result=item.result))
            if pending_index is not None:
                for table, rows in item.rows.items():
                    pending_index.add(DetectionTable(table.name), [complete(DetectionTable(table.name), row) for row in rows])
        try:
            write_qualifications(uow.session, pending, actor=actor)
            uow.commit()
        except (LeadflowError, SQLAlchemyError) as error:
            raise _RetryLeadByLead from error
    return outcomes


def _qualify_batch_lead_by_lead(
    lead_ids: list[uuid.UUID], options: QualifyOptions, *, database: Database, actor: Actor
) -> list[QualifyOutcome]:
    """The careful path: a savepoint per lead, so one lead's failure takes back only its records."""
    outcomes: list[QualifyOutcome] = []
    with database.unit_of_work() as uow:
        session = uow.session
        context = prepare_qualify(options, uow=uow)
        leads = _lock_leads(session, lead_ids)
        for lead_id in lead_ids:
            lead = leads.get(lead_id)
            if lead is None:
                outcomes.append(QualifyOutcome(lead_id, error=_lead_not_found(lead_id)))
                continue
            savepoint = session.begin_nested()
            try:
                result = qualify_loaded_lead(lead, context, uow=uow, actor=actor)
            except LeadflowError as error:
                savepoint.rollback()
                outcomes.append(QualifyOutcome(lead_id, error=error))
            except SQLAlchemyError as error:
                savepoint.rollback()
                refusal = Conflict(
                    "The database refused this lead's records; nothing was saved for it.",
                    code="lead_not_saved",
                    details={"reason": str(getattr(error, "orig", error)).splitlines()[0]},
                )
                outcomes.append(QualifyOutcome(lead_id, error=refusal))
            else:
                savepoint.commit()
                outcomes.append(QualifyOutcome(lead_id, result=result))
        uow.commit()
    return outcomes


def _lead_not_found(lead_id: uuid.UUID) -> NotFound:
    return NotFound(f"No lead has the id {lead_id}.", code="lead_not_found")


# ----------------------------------------------------------------------------------------------
# disqualify (§3) and reactivate (§4)


def disqualify_lead(
    lead_id: uuid.UUID, reason: LeadStatusReason, *, uow: UnitOfWork, actor: Actor
) -> Lead:
    """Close an open lead as disqualified; refused while an opportunity is associated with it (§3)."""
    session = uow.session
    lead = get_accessible(session, Lead, lead_id, label="lead", actor=actor, privilege=Privilege.WRITE, for_update=True)
    has_opportunity = session.scalar(
        select(
            exists().where(Opportunity.originating_lead_id == lead.id)
        )
    )
    lead.disqualify(reason, has_opportunity=bool(has_opportunity))
    lead.modified_by_id = actor.user_id
    record_action(session, actor, "disqualify", table="leads", record_id=lead.id, summary=reason.value)
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
