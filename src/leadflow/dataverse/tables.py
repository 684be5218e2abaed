"""The tables the Dataverse Web API serves, in Dynamics' names, mapped onto leadflow's records.

Policy as data: each table names its entity set, primary key and primary name, the leadflow model
behind it, how access to it is checked, and each attribute's logical name, type, column and the
service input field a write fills. Reads, queries, writes and the metadata documents are all made
from this registry; nothing else knows a logical name.

Why this module is over 600 lines: it is a declaration, one ``Table`` per entity set (nineteen, with
their attributes), read as one schema the way Dynamics' own metadata is; splitting it by table would
scatter the one place where a logical name meets a column.
"""

from __future__ import annotations

import base64
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session, object_session

from leadflow.activities import activity as activity_service
from leadflow.activities.models import Activity, ActivityState, ActivityType, Attachment, Note
from leadflow.catalog.models import Product
from leadflow.customers import service as customers
from leadflow.customers.models import Account, Contact
from leadflow.customers.schemas import AccountCreate, AccountUpdate, ContactCreate, ContactUpdate
from leadflow.dataverse import options
from leadflow.dataverse.options import OptionSet
from leadflow.fields.models import CUSTOMISABLE, CustomField, FieldKind
from leadflow.fields.service import fields_of
from leadflow.leads import service as leads
from leadflow.leads.models import Lead
from leadflow.leads.schemas import LeadCreate, LeadUpdate
from leadflow.opportunities import service as opportunities
from leadflow.opportunities.models import Competitor, Opportunity, OpportunityClose
from leadflow.opportunities.schemas import OpportunityCreate, OpportunityUpdate
from leadflow.organisation.models import Currency
from leadflow.sales.models import Invoice, Order, Quote
from leadflow.security.models import BusinessUnit, Team, User


class Kind(enum.StrEnum):
    """An attribute's Dataverse type (AttributeType in the metadata)."""

    ID = "Uniqueidentifier"
    STRING = "String"
    MEMO = "Memo"
    INTEGER = "Integer"
    BIGINT = "BigInt"
    DECIMAL = "Decimal"
    MONEY = "Money"
    BOOLEAN = "Boolean"
    DATETIME = "DateTime"
    DATE = "DateOnly"
    PICKLIST = "Picklist"
    STATE = "State"
    STATUS = "Status"
    LOOKUP = "Lookup"
    CUSTOMER = "Customer"
    OWNER = "Owner"


LOOKUP_KINDS = (Kind.LOOKUP, Kind.CUSTOMER, Kind.OWNER)


@dataclass(frozen=True)
class Attribute:
    """One column of a table as the Web API names and types it."""

    name: str  # logical name: firstname, leadsourcecode, parentaccountid
    kind: Kind
    column: str | None  # the model's attribute it reads; None for a value made from others
    writes: str | None = None  # the service input field a write fills; None: read-only
    options: OptionSet | None = None
    targets: tuple[str, ...] = ()  # a lookup's target tables (logical names)
    kind_column: str | None = None  # a polymorphic lookup's column naming the target's table
    writes_kind: str | None = None  # the input field a polymorphic lookup's target table fills
    label: str = ""  # display name (English message id)
    compute: Callable[[Any], Any] | None = None  # a value made from the record, when column is None
    on_request: bool = False  # answered only when $select names it (a note's file, in base64)
    # A custom field's display names in English and Spanish, as its administrator wrote them (the
    # built-in attributes' labels are message ids the catalogues translate).
    display: tuple[str, str] | None = None

    @property
    def is_lookup(self) -> bool:
        return self.kind in LOOKUP_KINDS

    @property
    def read_name(self) -> str:
        """The name the attribute has in a response and in $select: ``_x_value`` for a lookup."""
        return f"_{self.name}_value" if self.is_lookup else self.name

    def navigation(self, target: str) -> str:
        """The navigation property that binds this lookup to a ``target`` record."""
        return self.name if len(self.targets) == 1 and self.kind is not Kind.CUSTOMER else f"{self.name}_{target}"


@dataclass(frozen=True)
class Writer:
    """The service functions a table's writes go through, and the input shapes they validate."""

    create_input: type[Any]
    update_input: type[Any]
    create: Callable[..., Any]
    update: Callable[..., Any]
    delete: Callable[..., Any]
    create_many: Callable[..., Any] | None = None  # several records in one flush (CreateMultiple)
    create_defaults: Mapping[str, Any] = field(default_factory=dict)  # input the table itself implies
    # statecode changes: (record id, state member, status member or None, uow, actor, expected version)
    set_state: Callable[..., Any] | None = None


@dataclass(frozen=True, eq=False)
class Table:
    """One entity: its names, its model, how access is checked, and its attributes."""

    logical: str
    entity_set: str
    primary_name: str
    model: type[Any]
    privilege_table: str
    owned: bool  # owned records: read by the actor's access depth; else an administrative area
    label: str
    plural_label: str
    attributes: tuple[Attribute, ...]
    writer: Writer | None = None
    where: Callable[[], ColumnElement[bool]] | None = None  # rows of the model that belong to it
    object_type_code: int = 0
    id_name: str = ""  # the primary key's name when it is not ``<logical>id`` (activities: activityid)

    @property
    def primary_id(self) -> str:
        return self.id_name or f"{self.logical}id"

    @property
    def schema_name(self) -> str:
        return self.logical.capitalize() if self.logical.islower() else self.logical

    def attribute(self, name: str) -> Attribute | None:
        """An attribute by its logical name or its read name (``_x_value``), custom ones too."""
        found = _by_name(self).get(name)
        if found is None and name.startswith(CUSTOM_PREFIX):
            found = next((custom for custom in _CUSTOM.get(self.logical, ()) if custom.name == name), None)
        return found

    def navigation(self, name: str) -> tuple[Attribute, str] | None:
        """The lookup and the target table a navigation property binds."""
        return _navigations(self).get(name)


@cache
def _by_name(table: Table) -> dict[str, Attribute]:
    names: dict[str, Attribute] = {}
    for attribute in table.attributes:
        names[attribute.name] = attribute
        names[attribute.read_name] = attribute
    return names


@cache
def _navigations(table: Table) -> dict[str, tuple[Attribute, str]]:
    return {
        attribute.navigation(target): (attribute, target)
        for attribute in table.attributes
        if attribute.is_lookup
        for target in attribute.targets
    }


def _a(name: str, kind: Kind, column: str | None, writes: str | bool | None = None, **more: Any) -> Attribute:
    """An attribute; ``writes=True`` means it fills the input field named like its column."""
    return Attribute(name, kind, column, writes=column if writes is True else (writes or None), **more)


def _document_body(note: Note) -> str | None:
    """A note's attached file in base64, read from its own table only when asked for."""
    if note.file_name is None:
        return None
    session = object_session(note)
    attachment = session.get(Attachment, note.id) if session is not None else None
    return base64.b64encode(attachment.content).decode("ascii") if attachment is not None else None


def _record_stamps(owned: bool = True) -> tuple[Attribute, ...]:
    stamps = (
        _a("createdon", Kind.DATETIME, "created_at", label="Created on"),
        _a("modifiedon", Kind.DATETIME, "modified_at", label="Modified on"),
        _a("versionnumber", Kind.BIGINT, "row_version", label="Version number"),
    )
    if not owned:
        return stamps
    return (
        *stamps,
        _a("ownerid", Kind.OWNER, "owner_user_id", "owner_user_id", targets=("systemuser",), label="Owner"),
        _a("owningbusinessunit", Kind.LOOKUP, "owning_business_unit_id", targets=("businessunit",)),
        _a("owningteam", Kind.LOOKUP, "owner_team_id", targets=("team",)),
        _a("createdby", Kind.LOOKUP, "created_by_id", targets=("systemuser",), label="Created by"),
        _a("modifiedby", Kind.LOOKUP, "modified_by_id", targets=("systemuser",), label="Modified by"),
    )


def _address() -> tuple[Attribute, ...]:
    parts = (
        ("address1_line1", "address_line1", "Street 1"),
        ("address1_line2", "address_line2", "Street 2"),
        ("address1_line3", "address_line3", "Street 3"),
        ("address1_city", "address_city", "City"),
        ("address1_stateorprovince", "address_state_or_province", "State/Province"),
        ("address1_postalcode", "address_postal_code", "ZIP/Postal Code"),
        ("address1_country", "address_country", "Country/Region"),
    )
    return tuple(_a(name, Kind.STRING, column, True, label=label) for name, column, label in parts)


def _currency() -> Attribute:
    return _a(
        "transactioncurrencyid",
        Kind.LOOKUP,
        "currency_id",
        "currency",
        targets=("transactioncurrency",),
        label="Currency",
    )


_BANT = (
    _a(
        "purchasetimeframe",
        Kind.PICKLIST,
        "purchase_timeframe",
        True,
        options=options.PURCHASE_TIMEFRAME,
        label="Purchase timeframe",
    ),
    _a(
        "purchaseprocess",
        Kind.PICKLIST,
        "purchase_process",
        True,
        options=options.PURCHASE_PROCESS,
        label="Purchase process",
    ),
    _a("decisionmaker", Kind.BOOLEAN, "decision_maker", True, label="Decision maker?"),
    _a("need", Kind.PICKLIST, "need", True, options=options.NEED, label="Need"),
    _a("qualificationcomments", Kind.MEMO, "qualification_comments", True, label="Qualification comments"),
)

LEAD = Table(
    "lead",
    "leads",
    "fullname",
    Lead,
    "leads",
    owned=True,
    label="Lead",
    plural_label="Leads",
    object_type_code=4,
    attributes=(
        _a("leadid", Kind.ID, "id", label="Lead"),
        _a("subject", Kind.STRING, "topic", "topic", label="Topic"),
        _a("firstname", Kind.STRING, "first_name", True, label="First name"),
        _a("lastname", Kind.STRING, "last_name", True, label="Last name"),
        _a("fullname", Kind.STRING, "full_name", label="Name"),
        _a("jobtitle", Kind.STRING, "job_title", True, label="Job title"),
        _a("companyname", Kind.STRING, "company_name", True, label="Company"),
        _a("telephone1", Kind.STRING, "business_phone", True, label="Business phone"),
        _a("mobilephone", Kind.STRING, "mobile_phone", True, label="Mobile phone"),
        _a("emailaddress1", Kind.STRING, "email", True, label="Email"),
        _a("websiteurl", Kind.STRING, "website", True, label="Website"),
        _a("description", Kind.MEMO, "description", True, label="Description"),
        _a("leadsourcecode", Kind.PICKLIST, "lead_source", True, options=options.LEAD_SOURCE, label="Lead source"),
        _a("leadqualitycode", Kind.PICKLIST, "rating", True, options=options.LEAD_QUALITY, label="Rating"),
        _a("budgetamount", Kind.MONEY, "budget_amount", True, label="Budget amount"),
        _a("budgetamount_base", Kind.MONEY, "budget_amount_base", label="Budget amount (base)"),
        _a("budgetstatus", Kind.PICKLIST, "budget_status", True, options=options.BUDGET_STATUS, label="Budget"),
        *_BANT,
        _a("exchangerate", Kind.DECIMAL, "exchange_rate", label="Exchange rate"),
        _currency(),
        _a("campaignid", Kind.LOOKUP, "campaign_id", True, targets=("campaign",), label="Source campaign"),
        _a(
            "parentaccountid",
            Kind.LOOKUP,
            "parent_account_id",
            True,
            targets=("account",),
            label="Existing account",
        ),
        _a(
            "parentcontactid",
            Kind.LOOKUP,
            "parent_contact_id",
            True,
            targets=("contact",),
            label="Existing contact",
        ),
        _a(
            "qualifyingopportunityid",
            Kind.LOOKUP,
            "qualifying_opportunity_id",
            targets=("opportunity",),
            label="Qualifying opportunity",
        ),
        _a("masterid", Kind.LOOKUP, "master_lead_id", targets=("lead",), label="Master ID"),
        _a("merged", Kind.BOOLEAN, "merged", label="Merged"),
        # Dynamics' predictive lead scoring: the score (0-100) of the published scoring model, read-only.
        _a("msdyn_leadscore", Kind.INTEGER, "score", label="Lead score"),
        _a("statecode", Kind.STATE, "state", options=options.LEAD_STATE, label="Status"),
        _a("statuscode", Kind.STATUS, "status_reason", options=options.LEAD_STATUS, label="Status reason"),
        *_address(),
        *_record_stamps(),
    ),
    writer=Writer(
        LeadCreate, LeadUpdate, leads.create_lead, leads.update_lead, leads.delete_lead, create_many=leads.create_leads
    ),
)

ACCOUNT = Table(
    "account",
    "accounts",
    "name",
    Account,
    "accounts",
    owned=True,
    label="Account",
    plural_label="Accounts",
    object_type_code=1,
    attributes=(
        _a("accountid", Kind.ID, "id", label="Account"),
        _a("name", Kind.STRING, "name", True, label="Account name"),
        _a("telephone1", Kind.STRING, "telephone", True, label="Main phone"),
        _a("emailaddress1", Kind.STRING, "email", True, label="Email"),
        _a("websiteurl", Kind.STRING, "website", True, label="Website"),
        _a("description", Kind.MEMO, "description", True, label="Description"),
        _a(
            "primarycontactid",
            Kind.LOOKUP,
            "primary_contact_id",
            True,
            targets=("contact",),
            label="Primary contact",
        ),
        _a("originatingleadid", Kind.LOOKUP, "originating_lead_id", targets=("lead",), label="Originating lead"),
        _a("masterid", Kind.LOOKUP, "master_id", targets=("account",), label="Master ID"),
        _a("merged", Kind.BOOLEAN, None, label="Merged", compute=lambda record: record.master_id is not None),
        _currency(),
        _a("statecode", Kind.STATE, "state", options=options.CUSTOMER_STATE, label="Status"),
        _a("statuscode", Kind.STATUS, "state", options=options.CUSTOMER_STATUS, label="Status reason"),
        *_address(),
        *_record_stamps(),
    ),
    writer=Writer(
        AccountCreate, AccountUpdate, customers.create_account, customers.update_account, customers.delete_account
    ),
)

CONTACT = Table(
    "contact",
    "contacts",
    "fullname",
    Contact,
    "contacts",
    owned=True,
    label="Contact",
    plural_label="Contacts",
    object_type_code=2,
    attributes=(
        _a("contactid", Kind.ID, "id", label="Contact"),
        _a("firstname", Kind.STRING, "first_name", True, label="First name"),
        _a("lastname", Kind.STRING, "last_name", True, label="Last name"),
        _a("fullname", Kind.STRING, "full_name", label="Full name"),
        _a("jobtitle", Kind.STRING, "job_title", True, label="Job title"),
        _a("emailaddress1", Kind.STRING, "email", True, label="Email"),
        _a("telephone1", Kind.STRING, "business_phone", True, label="Business phone"),
        _a("mobilephone", Kind.STRING, "mobile_phone", True, label="Mobile phone"),
        _a("websiteurl", Kind.STRING, "website", True, label="Website"),
        _a("description", Kind.MEMO, "description", True, label="Description"),
        # leadflow links a contact to an account only; Dynamics' customer lookup may also name a contact.
        _a("parentcustomerid", Kind.CUSTOMER, "account_id", "account_id", targets=("account",), label="Company name"),
        _a("originatingleadid", Kind.LOOKUP, "originating_lead_id", targets=("lead",), label="Originating lead"),
        _a("masterid", Kind.LOOKUP, "master_id", targets=("contact",), label="Master ID"),
        _a("merged", Kind.BOOLEAN, None, label="Merged", compute=lambda record: record.master_id is not None),
        _currency(),
        _a("statecode", Kind.STATE, "state", options=options.CUSTOMER_STATE, label="Status"),
        _a("statuscode", Kind.STATUS, "state", options=options.CUSTOMER_STATUS, label="Status reason"),
        *_address(),
        *_record_stamps(),
    ),
    writer=Writer(
        ContactCreate, ContactUpdate, customers.create_contact, customers.update_contact, customers.delete_contact
    ),
)

OPPORTUNITY = Table(
    "opportunity",
    "opportunities",
    "name",
    Opportunity,
    "opportunities",
    owned=True,
    label="Opportunity",
    plural_label="Opportunities",
    object_type_code=3,
    attributes=(
        _a("opportunityid", Kind.ID, "id", label="Opportunity"),
        _a("name", Kind.STRING, "name", True, label="Topic"),
        _a("description", Kind.MEMO, "description", True, label="Description"),
        _a(
            "customerid",
            Kind.CUSTOMER,
            "customer_id",
            True,
            targets=("account", "contact"),
            kind_column="customer_kind",
            label="Potential customer",
        ),
        _a("parentaccountid", Kind.LOOKUP, "parent_account_id", True, targets=("account",), label="Account"),
        _a("parentcontactid", Kind.LOOKUP, "parent_contact_id", True, targets=("contact",), label="Contact"),
        _a("originatingleadid", Kind.LOOKUP, "originating_lead_id", targets=("lead",), label="Originating lead"),
        _a("estimatedvalue", Kind.MONEY, "estimated_revenue", True, label="Est. revenue"),
        _a("estimatedvalue_base", Kind.MONEY, "estimated_revenue_base", label="Est. revenue (base)"),
        _a("estimatedclosedate", Kind.DATE, "estimated_close_date", True, label="Est. close date"),
        _a("closeprobability", Kind.INTEGER, "probability", True, label="Probability"),
        _a(
            "opportunityratingcode",
            Kind.PICKLIST,
            "rating",
            True,
            options=options.OPPORTUNITY_RATING,
            label="Rating",
        ),
        *_BANT,
        _a("customerneed", Kind.MEMO, "customer_need", True, label="Customer need"),
        _a("proposedsolution", Kind.MEMO, "proposed_solution", True, label="Proposed solution"),
        _a("actualvalue", Kind.MONEY, "actual_revenue", label="Actual revenue"),
        _a("actualclosedate", Kind.DATE, "actual_close_date", label="Actual close date"),
        _a("exchangerate", Kind.DECIMAL, "exchange_rate", label="Exchange rate"),
        _a("totalamount", Kind.MONEY, "total_amount", label="Total amount"),
        _currency(),
        _a("campaignid", Kind.LOOKUP, "campaign_id", True, targets=("campaign",), label="Source campaign"),
        _a("statecode", Kind.STATE, "state", options=options.OPPORTUNITY_STATE, label="Status"),
        _a(
            "statuscode",
            Kind.STATUS,
            "status_reason",
            "status_reason",
            options=options.OPPORTUNITY_STATUS,
            label="Status reason",
        ),
        *_record_stamps(),
    ),
    writer=Writer(
        OpportunityCreate,
        OpportunityUpdate,
        opportunities.create_opportunity,
        opportunities.update_opportunity,
        opportunities.delete_opportunity,
    ),
)

OPPORTUNITY_CLOSE = Table(
    "opportunityclose",
    "opportunitycloses",
    "subject",
    OpportunityClose,
    "opportunities",
    owned=False,
    label="Opportunity close",
    plural_label="Opportunity closes",
    object_type_code=4208,
    id_name="activityid",
    attributes=(
        _a("activityid", Kind.ID, "id", label="Opportunity close"),
        _a("subject", Kind.STRING, "description", label="Subject"),
        _a("opportunityid", Kind.LOOKUP, "opportunity_id", targets=("opportunity",), label="Opportunity"),
        _a("actualrevenue", Kind.MONEY, "actual_revenue", label="Actual revenue"),
        _a("actualend", Kind.DATE, "close_date", label="Close date"),
        _a("competitorid", Kind.LOOKUP, "competitor_id", targets=("competitor",), label="Competitor"),
        _a("statecode", Kind.STATE, "state", options=options.CLOSE_STATE, label="Activity status"),
        _a(
            "statuscode",
            Kind.STATUS,
            "status_reason",
            options=options.OPPORTUNITY_STATUS,
            label="Status reason",
        ),
        _currency(),
        *_record_stamps(owned=False),
    ),
)

ANNOTATION = Table(
    "annotation",
    "annotations",
    "subject",
    Note,
    "notes",
    owned=False,
    label="Note",
    plural_label="Notes",
    object_type_code=5,
    attributes=(
        _a("annotationid", Kind.ID, "id", label="Note"),
        _a("subject", Kind.STRING, "title", label="Title"),
        _a("notetext", Kind.MEMO, "body", label="Description"),
        _a("filename", Kind.STRING, "file_name", label="File name"),
        _a("mimetype", Kind.STRING, "mime_type", label="Mime type"),
        _a("filesize", Kind.INTEGER, "file_size", label="File size (bytes)"),
        _a("isdocument", Kind.BOOLEAN, None, label="Is document", compute=lambda note: note.file_name is not None),
        _a("documentbody", Kind.MEMO, None, label="Document", compute=_document_body, on_request=True),
        _a(
            "objectid",
            Kind.LOOKUP,
            "regarding_id",
            targets=("lead", "account", "contact", "opportunity"),
            kind_column="regarding_table",
            label="Regarding",
        ),
        _a("createdby", Kind.LOOKUP, "created_by_id", targets=("systemuser",), label="Created by"),
        _a("createdon", Kind.DATETIME, "created_at", label="Created on"),
        _a("modifiedon", Kind.DATETIME, "modified_at", label="Modified on"),
        _a("versionnumber", Kind.BIGINT, "row_version", label="Version number"),
    ),
)

SYSTEMUSER = Table(
    "systemuser",
    "systemusers",
    "fullname",
    User,
    "users",
    owned=False,
    label="User",
    plural_label="Users",
    object_type_code=8,
    attributes=(
        _a("systemuserid", Kind.ID, "id", label="User"),
        _a("fullname", Kind.STRING, "full_name", label="Full name"),
        _a("internalemailaddress", Kind.STRING, "email", label="Primary email"),
        _a("domainname", Kind.STRING, "email", label="User name"),
        _a("isdisabled", Kind.BOOLEAN, None, label="Status", compute=lambda user: not user.is_active),
        _a("businessunitid", Kind.LOOKUP, "business_unit_id", targets=("businessunit",), label="Business unit"),
        *_record_stamps(owned=False),
    ),
)

BUSINESSUNIT = Table(
    "businessunit",
    "businessunits",
    "name",
    BusinessUnit,
    "business_units",
    owned=False,
    label="Business unit",
    plural_label="Business units",
    object_type_code=10,
    attributes=(
        _a("businessunitid", Kind.ID, "id", label="Business unit"),
        _a("name", Kind.STRING, "name", label="Name"),
        _a("parentbusinessunitid", Kind.LOOKUP, "parent_id", targets=("businessunit",), label="Parent business"),
        *_record_stamps(owned=False),
    ),
)

TEAM = Table(
    "team",
    "teams",
    "name",
    Team,
    "users",
    owned=False,
    label="Team",
    plural_label="Teams",
    object_type_code=9,
    attributes=(
        _a("teamid", Kind.ID, "id", label="Team"),
        _a("name", Kind.STRING, "name", label="Team name"),
        _a("businessunitid", Kind.LOOKUP, "business_unit_id", targets=("businessunit",), label="Business unit"),
        *_record_stamps(owned=False),
    ),
)

TRANSACTIONCURRENCY = Table(
    "transactioncurrency",
    "transactioncurrencies",
    "currencyname",
    Currency,
    "currencies",
    owned=False,
    label="Currency",
    plural_label="Currencies",
    object_type_code=9105,
    attributes=(
        _a("transactioncurrencyid", Kind.ID, "id", label="Currency"),
        _a("currencyname", Kind.STRING, "name", label="Currency name"),
        _a("isocurrencycode", Kind.STRING, "iso_code", label="Currency code"),
        _a("currencysymbol", Kind.STRING, "symbol", label="Currency symbol"),
        _a("exchangerate", Kind.DECIMAL, "exchange_rate", label="Exchange rate"),
        _a("currencyprecision", Kind.INTEGER, "precision", label="Currency precision"),
        *_record_stamps(owned=False),
    ),
)

COMPETITOR = Table(
    "competitor",
    "competitors",
    "name",
    Competitor,
    "competitors",
    owned=False,
    label="Competitor",
    plural_label="Competitors",
    object_type_code=123,
    attributes=(
        _a("competitorid", Kind.ID, "id", label="Competitor"),
        _a("name", Kind.STRING, "name", label="Name"),
        _a("websiteurl", Kind.STRING, "website", label="Website"),
        _a("strengths", Kind.MEMO, "strengths", label="Strengths"),
        _a("weaknesses", Kind.MEMO, "weaknesses", label="Weaknesses"),
        _a("reportedrevenue", Kind.MONEY, "reported_revenue", label="Reported revenue"),
        *_record_stamps(owned=False),
    ),
)


def _activity_writer(kind: ActivityType) -> Writer:
    """The activity services, for one type of activity."""

    def create(data: Any, *, uow: Any, actor: Any, suppress_duplicates: bool = False, record_id: Any = None) -> Any:
        return activity_service.create_activity(data, uow=uow, actor=actor, record_id=record_id)[0]

    def update(
        record_id: Any,
        data: Any,
        *,
        uow: Any,
        actor: Any,
        expected_version: Any = None,
        suppress_duplicates: bool = False,
    ) -> Any:
        return activity_service.update_activity(
            record_id, data, uow=uow, actor=actor, expected_version=expected_version
        )

    return Writer(
        activity_service.ActivityFields,
        activity_service.ActivityChanges,
        create,
        update,
        activity_service.delete_activity,
        create_defaults={"type": kind.value},
        set_state=_set_activity_state,
    )


def _set_activity_state(
    record_id: Any, state: Any, status: Any, *, uow: Any, actor: Any, expected_version: int | None
) -> None:
    """Complete (statecode 1), cancel (2) or reopen (0) an activity, as its own commands do."""
    current = uow.session.get(Activity, record_id)
    if state is ActivityState.OPEN:
        if current is not None and current.state is not ActivityState.OPEN:
            activity_service.reopen_activity(record_id, uow=uow, actor=actor, expected_version=expected_version)
        return
    if state is ActivityState.COMPLETED:
        activity_service.complete_activity(
            record_id, status_reason=status, uow=uow, actor=actor, expected_version=expected_version
        )
        return
    activity_service.cancel_activity(record_id, uow=uow, actor=actor, expected_version=expected_version)


def _activity(
    logical: str, entity_set: str, kind: ActivityType, privilege_table: str, label: str, plural: str, code: int
) -> Table:
    """An activity table: one type of leadflow's activities, read and written through the Web API."""
    appointment = kind is ActivityType.APPOINTMENT
    own: list[Attribute] = []
    if kind is ActivityType.PHONE_CALL:
        own.append(_a("phonenumber", Kind.STRING, "phone_number", True, label="Phone number"))
        own.append(_a("leftvoicemail", Kind.BOOLEAN, "left_voicemail", True, label="Left voice mail"))
    if kind is ActivityType.TASK:
        own.append(_a("percentcomplete", Kind.INTEGER, "percent_complete", True, label="Percent complete"))
    if appointment:
        own.append(_a("location", Kind.STRING, "location", True, label="Location"))
        own.append(_a("isalldayevent", Kind.BOOLEAN, "all_day", True, label="All day event"))
    if not appointment:
        own.append(_a("actualdurationminutes", Kind.INTEGER, "duration_minutes", True, label="Duration"))
    return Table(
        logical,
        entity_set,
        "subject",
        Activity,
        privilege_table,
        owned=True,
        label=label,
        plural_label=plural,
        object_type_code=code,
        id_name="activityid",
        where=lambda: Activity.type == kind,
        attributes=(
            _a("activityid", Kind.ID, "id", label=label),
            _a("subject", Kind.STRING, "subject", True, label="Subject"),
            _a("description", Kind.MEMO, "description", True, label="Description"),
            _a(
                "regardingobjectid",
                Kind.LOOKUP,
                "regarding_id",
                "regarding_id",
                targets=("lead", "account", "contact", "opportunity"),
                kind_column="regarding_table",
                writes_kind="regarding_table",
                label="Regarding",
            ),
            _a(
                "scheduledstart", Kind.DATETIME, "scheduled_start", "start" if appointment else None, label="Start date"
            ),
            _a("scheduledend", Kind.DATETIME, "scheduled_end", "end" if appointment else "due", label="Due"),
            _a("actualend", Kind.DATETIME, "actual_end", label="Actual end"),
            _a("prioritycode", Kind.PICKLIST, "priority", "priority", options=options.PRIORITY, label="Priority"),
            *own,
            _a("statecode", Kind.STATE, "state", options=options.ACTIVITY_STATE, label="Activity status"),
            _a(
                "statuscode",
                Kind.STATUS,
                "status_reason",
                "status_reason",
                options=options.ACTIVITY_STATUS[kind],
                label="Status reason",
            ),
            *_record_stamps(),
        ),
        writer=_activity_writer(kind),
    )


def _document(
    logical: str,
    entity_set: str,
    model: type[Any],
    privilege_table: str,
    label: str,
    plural: str,
    code: int,
    state: OptionSet,
    status: OptionSet,
    *more: Attribute,
) -> Table:
    """A sales document (quote, order, invoice), read through the Web API."""
    return Table(
        logical,
        entity_set,
        "name",
        model,
        privilege_table,
        owned=True,
        label=label,
        plural_label=plural,
        object_type_code=code,
        attributes=(
            _a(f"{logical}id", Kind.ID, "id", label=label),
            _a(f"{logical}number", Kind.STRING, "number", label="Number"),
            _a("name", Kind.STRING, "name", label="Name"),
            _a("description", Kind.MEMO, "description", label="Description"),
            _a(
                "customerid",
                Kind.CUSTOMER,
                "customer_id",
                targets=("account", "contact"),
                kind_column="customer_kind",
                label="Potential customer",
            ),
            _a("opportunityid", Kind.LOOKUP, "opportunity_id", targets=("opportunity",), label="Opportunity"),
            _a("pricelevelid", Kind.LOOKUP, "price_list_id", targets=("pricelevel",), label="Price list"),
            _a("totallineitemamount", Kind.MONEY, "detail_amount", label="Detail amount"),
            _a("discountpercentage", Kind.DECIMAL, "discount_percentage", label="Discount (%)"),
            _a("discountamount", Kind.MONEY, "discount_amount", label="Discount"),
            _a("totaldiscountamount", Kind.MONEY, "total_discount_amount", label="Total discount amount"),
            _a("freightamount", Kind.MONEY, "freight_amount", label="Freight amount"),
            _a("totaltax", Kind.MONEY, "total_tax", label="Total tax"),
            _a("totalamount", Kind.MONEY, "total_amount", label="Total amount"),
            _a("totalamount_base", Kind.MONEY, "total_amount_base", label="Total amount (base)"),
            _a("exchangerate", Kind.DECIMAL, "exchange_rate", label="Exchange rate"),
            _a("ispricelocked", Kind.BOOLEAN, "prices_locked", label="Prices locked"),
            _currency(),
            *more,
            _a("statecode", Kind.STATE, "state", options=state, label="Status"),
            _a("statuscode", Kind.STATUS, "status_reason", options=status, label="Status reason"),
            *_record_stamps(),
        ),
    )


QUOTE = _document(
    "quote",
    "quotes",
    Quote,
    "quotes",
    "Quote",
    "Quotes",
    1084,
    options.QUOTE_STATE,
    options.QUOTE_STATUS,
    _a("revisionnumber", Kind.INTEGER, "revision", label="Revision ID"),
    _a("effectivefrom", Kind.DATE, "effective_from", label="Effective from"),
    _a("effectiveto", Kind.DATE, "effective_to", label="Effective to"),
    _a("closedon", Kind.DATE, "closed_on", label="Closed on"),
)
SALESORDER = _document(
    "salesorder",
    "salesorders",
    Order,
    "orders",
    "Order",
    "Orders",
    1088,
    options.ORDER_STATE,
    options.ORDER_STATUS,
    _a("quoteid", Kind.LOOKUP, "quote_id", targets=("quote",), label="Quote"),
    _a("datefulfilled", Kind.DATE, "date_fulfilled", label="Date fulfilled"),
    _a("requestdeliveryby", Kind.DATE, "requested_delivery", label="Requested delivery date"),
)
INVOICE = _document(
    "invoice",
    "invoices",
    Invoice,
    "invoices",
    "Invoice",
    "Invoices",
    1090,
    options.INVOICE_STATE,
    options.INVOICE_STATUS,
    _a("salesorderid", Kind.LOOKUP, "order_id", targets=("salesorder",), label="Order"),
    _a("duedate", Kind.DATE, "due_date", label="Due date"),
    _a("datedelivered", Kind.DATE, "date_paid", label="Date paid"),
)
PRODUCT = Table(
    "product",
    "products",
    "name",
    Product,
    "products",
    owned=False,
    label="Product",
    plural_label="Products",
    object_type_code=1024,
    attributes=(
        _a("productid", Kind.ID, "id", label="Product"),
        _a("productnumber", Kind.STRING, "number", label="Product ID"),
        _a("name", Kind.STRING, "name", label="Name"),
        _a("description", Kind.MEMO, "description", label="Description"),
        _a("quantitydecimal", Kind.INTEGER, "decimals_supported", label="Decimals supported"),
        _a("price", Kind.MONEY, "list_price", label="List price"),
        _a("standardcost", Kind.MONEY, "standard_cost", label="Standard cost"),
        _a("currentcost", Kind.MONEY, "current_cost", label="Current cost"),
        _a("statecode", Kind.STATE, "state", options=options.PRODUCT_STATE, label="Status"),
        _a("statuscode", Kind.STATUS, "state", options=options.PRODUCT_STATUS, label="Status reason"),
        *_record_stamps(owned=False),
    ),
)

TABLES: tuple[Table, ...] = (
    LEAD,
    ACCOUNT,
    CONTACT,
    OPPORTUNITY,
    OPPORTUNITY_CLOSE,
    ANNOTATION,
    SYSTEMUSER,
    BUSINESSUNIT,
    TEAM,
    TRANSACTIONCURRENCY,
    COMPETITOR,
    _activity("task", "tasks", ActivityType.TASK, "tasks", "Task", "Tasks", 4212),
    _activity("phonecall", "phonecalls", ActivityType.PHONE_CALL, "phone_calls", "Phone call", "Phone calls", 4210),
    _activity(
        "appointment", "appointments", ActivityType.APPOINTMENT, "appointments", "Appointment", "Appointments", 4201
    ),
    _activity("email", "emails", ActivityType.EMAIL, "emails", "Email", "Email messages", 4202),
    PRODUCT,
    QUOTE,
    SALESORDER,
    INVOICE,
)
BY_LOGICAL_NAME = {table.logical: table for table in TABLES}
BY_ENTITY_SET = {table.entity_set: table for table in TABLES}
# Tables Dataverse has that leadflow keeps elsewhere (a lookup may name them) but does not serve.
UNSERVED = {"campaign", "pricelevel"}


# --- custom fields -------------------------------------------------------------------------------
# Each custom field of leads, accounts, contacts and opportunities is an attribute named with
# leadflow's publisher prefix, as a Dynamics customiser's column is (``new_``): ``lf_<name>``. Its
# type follows the field's kind; options travel as their values (text), not as picklist numbers.

CUSTOM_PREFIX = "lf_"
_CUSTOM_KINDS = {
    FieldKind.TEXT: Kind.STRING,
    FieldKind.MULTILINE: Kind.MEMO,
    FieldKind.WHOLE_NUMBER: Kind.INTEGER,
    FieldKind.DECIMAL: Kind.DECIMAL,
    FieldKind.MONEY: Kind.MONEY,
    FieldKind.DATE: Kind.DATE,
    FieldKind.DATETIME: Kind.DATETIME,
    FieldKind.YES_NO: Kind.BOOLEAN,
    FieldKind.CHOICE: Kind.STRING,
    FieldKind.MULTI_CHOICE: Kind.STRING,
    FieldKind.LOOKUP: Kind.STRING,
    FieldKind.EMAIL: Kind.STRING,
    FieldKind.PHONE: Kind.STRING,
    FieldKind.URL: Kind.STRING,
}
_CUSTOM: dict[str, tuple[Attribute, ...]] = {}


def _custom_reader(field: CustomField) -> Callable[[Any], Any]:
    def read(record: Any) -> Any:
        value = record.custom_values.get(field.name)
        return ";".join(value) if isinstance(value, list) else value

    return read


def load_custom_attributes(session: Session) -> None:
    """Read the visible custom fields of the tables that have them, as the attributes the API serves."""
    for table in TABLES:
        name = getattr(table.model, "__tablename__", "")
        if name not in CUSTOMISABLE or table.writer is None:
            continue
        _CUSTOM[table.logical] = tuple(
            Attribute(
                f"{CUSTOM_PREFIX}{field.name}",
                _CUSTOM_KINDS[field.kind],
                None,
                writes=f"custom.{field.name}",
                display=(field.label_en, field.label_es),
                compute=_custom_reader(field),
            )
            for field in fields_of(session, name)
            if not field.hidden
        )


def all_attributes(table: Table) -> tuple[Attribute, ...]:
    """A table's attributes and then its custom fields'."""
    return table.attributes + _CUSTOM.get(table.logical, ())


def nest_custom(values: Mapping[str, Any]) -> dict[str, Any]:
    """Service input with the custom fields' values (``custom.<name>``) gathered into ``custom``."""
    nested = {key: value for key, value in values.items() if not key.startswith("custom.")}
    custom = {key.removeprefix("custom."): value for key, value in values.items() if key.startswith("custom.")}
    if custom:
        nested["custom"] = custom
    return nested
