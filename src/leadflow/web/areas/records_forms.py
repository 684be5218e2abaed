"""The record forms of accounts, contacts and opportunities, described as data.

Each table lists its fields (label, input kind, pick-list) grouped in sections as the page shows
them; the same description turns a record into form values, posted form values into the input the
services take, and draws the option lists of its selects.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from babel.numbers import get_currency_name
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.formatting import amount_input, locale_of, parse_amount
from leadflow.customers.models import Account, Contact
from leadflow.customers.schemas import AccountCreate, AccountUpdate, ContactCreate, ContactUpdate
from leadflow.leads.models import Need, PurchaseProcess, PurchaseTimeframe
from leadflow.opportunities.models import STATUS_REASONS, Opportunity, OpportunityState, OpportunityStatusReason
from leadflow.opportunities.models import Rating as OpportunityRating
from leadflow.opportunities.schemas import OpportunityCreate, OpportunityUpdate
from leadflow.organisation.models import Campaign, CampaignState, Currency
from leadflow.process.flow import LEAD_TO_OPPORTUNITY_PROCESS
from leadflow.security.access import access_condition
from leadflow.security.actor import Actor
from leadflow.security.models import User
from leadflow.security.privileges import Privilege
from leadflow.web.forms import ADDRESS_LENGTHS, parse_uuid
from leadflow.web.i18n import N_
from leadflow.web.labels import CHOICE_LABELS, COLUMN_LABELS

# Lookups list at most this many records (by name); the record's current value is always offered.
LOOKUP_LIMIT = 500

# ---------------------------------------------------------------------------------------------- fields


@dataclass(frozen=True)
class FormField:
    """One input of a record form."""

    name: str
    label: str  # English message id
    kind: str = "text"  # text email tel url textarea date money integer select lookup checkbox yes_no
    required: bool = False
    max_length: int | None = None
    options: str | None = None  # the option list a select draws from (see option_lists)
    hint: str | None = None
    on_create: bool = True  # offered on the "new" form too
    wide: bool = False
    blank: bool = True  # a select offers an empty choice


@dataclass(frozen=True)
class Section:
    """A fieldset of the form."""

    key: str
    legend: str
    fields: tuple[FormField, ...]


# What the forms of every table end with: the owner, the address (not on opportunities) and the description.
OWNER = FormField("owner_user_id", N_("Owner"), kind="lookup", options="users", blank=False)
ADDRESS = Section(
    "address",
    N_("Address"),
    tuple(FormField(name, COLUMN_LABELS[name], max_length=length) for name, length in ADDRESS_LENGTHS),
)
DETAILS = Section("details", N_("Details"), (FormField("description", N_("Description"), kind="textarea", wide=True),))

ACCOUNT_SECTIONS = (
    Section(
        "summary",
        N_("Account information"),
        (
            FormField("name", N_("Account name"), required=True, max_length=160),
            FormField("telephone", N_("Main phone"), kind="tel", max_length=50),
            FormField("email", N_("Email"), kind="email", max_length=320),
            FormField("website", N_("Website"), kind="url", max_length=200),
            FormField("payment_terms", N_("Payment terms"), kind="select", options="payment_terms"),
            FormField(
                "primary_contact_id", N_("Primary contact"), kind="lookup", options="account_contacts", on_create=False
            ),
            OWNER,
        ),
    ),
    ADDRESS,
    DETAILS,
)

CONTACT_SECTIONS = (
    Section(
        "summary",
        N_("Contact information"),
        (
            FormField("first_name", N_("First name"), max_length=50),
            FormField("last_name", N_("Last name"), required=True, max_length=50),
            FormField("job_title", N_("Job title"), max_length=100),
            FormField("account_id", N_("Account name"), kind="lookup", options="accounts"),
            FormField("email", N_("Email"), kind="email", max_length=320),
            FormField("business_phone", N_("Business phone"), kind="tel", max_length=50),
            FormField("mobile_phone", N_("Mobile phone"), kind="tel", max_length=50),
            FormField("website", N_("Website"), kind="url", max_length=200),
            OWNER,
        ),
    ),
    ADDRESS,
    DETAILS,
)

OPPORTUNITY_SECTIONS = (
    Section(
        "summary",
        N_("Opportunity information"),
        (
            FormField("name", N_("Topic"), required=True, max_length=300),
            FormField(
                "customer_id",
                N_("Potential customer"),
                kind="lookup",
                options="customers",
                hint=N_("An account or a contact."),
            ),
            FormField("parent_account_id", N_("Account"), kind="lookup", options="accounts"),
            FormField("parent_contact_id", N_("Contact"), kind="lookup", options="contacts"),
            FormField("currency", N_("Currency"), kind="select", options="currencies", blank=False),
            FormField("estimated_revenue", N_("Est. revenue"), kind="money"),
            FormField("estimated_close_date", N_("Est. close date"), kind="date"),
            FormField("probability", N_("Probability"), kind="integer", hint=N_("A whole number from 0 to 100.")),
            FormField("rating", N_("Rating"), kind="select", options="opportunity_ratings"),
            FormField(
                "status_reason", N_("Status reason"), kind="select", options="opportunity_status_reasons", blank=False
            ),
            FormField("campaign_id", N_("Source campaign"), kind="lookup", options="campaigns"),
            OWNER,
        ),
    ),
    Section(
        "qualification",
        N_("Qualification"),
        (
            FormField("purchase_timeframe", N_("Purchase timeframe"), kind="select", options="purchase_timeframe"),
            FormField("purchase_process", N_("Purchase process"), kind="select", options="purchase_process"),
            FormField("decision_maker", N_("Identify decision maker"), kind="yes_no"),
            FormField("need", N_("Need"), kind="select", options="need"),
        ),
    ),
    DETAILS,
)

# The steps of the later stages (§7) as inputs of the opportunity column each one fills, keyed by step name.
_STEP_KINDS = {"customer_need": "textarea", "proposed_solution": "textarea", "decision_date": "date"}
STEP_FIELDS: dict[str, FormField] = {
    step.name: FormField(step.column, COLUMN_LABELS[step.column], kind=_STEP_KINDS.get(step.column, "checkbox"))
    for stage in LEAD_TO_OPPORTUNITY_PROCESS
    if stage.table == "opportunities"
    for step in stage.steps
}


@dataclass(frozen=True)
class RecordKind:
    """What the pages of one table need: names, forms, schemas and the service functions they call."""

    path: str  # URL segment and table name
    model: type[Any]
    singular: str  # English message ids
    plural: str
    new_title: str
    sections: tuple[Section, ...]
    create_schema: type[Any]
    update_schema: type[Any]
    delete_warning: str
    extra_fields: tuple[FormField, ...] = ()

    def fields(self, *, creating: bool) -> list[FormField]:
        found = [f for section in self.sections for f in section.fields if f.on_create or not creating]
        return found + ([] if creating else list(self.extra_fields))

    def display_name(self, record: Any) -> str:
        return record.full_name if isinstance(record, Contact) else record.name


ACCOUNTS = RecordKind(
    "accounts",
    Account,
    N_("Account"),
    N_("Accounts"),
    N_("New account"),
    ACCOUNT_SECTIONS,
    AccountCreate,
    AccountUpdate,
    N_(
        "Delete this account? Its notes and attachments are deleted too; its contacts and opportunities stay, "
        "without the link to it."
    ),
)
CONTACTS = RecordKind(
    "contacts",
    Contact,
    N_("Contact"),
    N_("Contacts"),
    N_("New contact"),
    CONTACT_SECTIONS,
    ContactCreate,
    ContactUpdate,
    N_(
        "Delete this contact? Its notes and attachments are deleted too; its opportunities stay, without the link "
        "to it."
    ),
)
OPPORTUNITIES = RecordKind(
    "opportunities",
    Opportunity,
    N_("Opportunity"),
    N_("Opportunities"),
    N_("New opportunity"),
    OPPORTUNITY_SECTIONS,
    OpportunityCreate,
    OpportunityUpdate,
    N_(
        "Delete this opportunity? Its notes and attachments are deleted too. Notes of the lead it came from "
        "stay with the lead."
    ),
    extra_fields=tuple(STEP_FIELDS.values()),
)
KINDS = {kind.path: kind for kind in (ACCOUNTS, CONTACTS, OPPORTUNITIES)}


# ---------------------------------------------------------------------------------------------- values


def _typed_amount(text: str, language: str) -> str:
    """A typed amount in the user's language ("25.000,50" in Spanish) as a plain decimal string.

    Text the locale cannot read goes on as typed, so that validation names the field.
    """
    try:
        return str(parse_amount(text, language))
    except ValueError:
        return text


def form_values(kind: RecordKind, record: Any, *, session: Session, language: str) -> dict[str, str]:
    """The form inputs' values for a stored record."""
    values: dict[str, str] = {}
    for item in kind.fields(creating=False):
        if item.name == "currency":
            currency = session.get(Currency, record.currency_id) if record.currency_id else None
            values["currency"] = currency.iso_code if currency else ""
            continue
        value = getattr(record, item.name)
        values[item.name] = _as_text(item, value, language)
    return values


def _as_text(item: FormField, value: Any, language: str) -> str:
    if item.kind == "checkbox":
        return "on" if value else ""
    if item.kind == "yes_no":
        return "" if value is None else ("yes" if value else "no")
    if item.kind == "money":
        return amount_input(value, language)
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)  # dates as ISO 8601, the form of <input type="date">


def posted_values(kind: RecordKind, form: Mapping[str, Any], *, creating: bool) -> dict[str, str]:
    """The posted text of every input of the form (a checkbox left unticked is '')."""
    values = {}
    for item in kind.fields(creating=creating):
        raw = form.get(item.name)
        values[item.name] = raw if isinstance(raw, str) else ""
    return values


def service_input(
    kind: RecordKind,
    posted: Mapping[str, str],
    *,
    creating: bool,
    language: str,
    initial: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The service input of a posted form.

    Creating sends the filled fields; saving sends only the fields whose text changed from the
    record as loaded (``initial``), so untouched links are not checked again.
    """
    data: dict[str, Any] = {}
    for item in kind.fields(creating=creating):
        raw = posted.get(item.name, "")
        if initial is not None and raw == initial.get(item.name, ""):
            continue
        value: Any
        if item.kind == "checkbox":
            value = bool(raw)
        elif item.kind == "yes_no":
            value = {"yes": True, "no": False}.get(raw)
        elif item.kind == "money":
            value = _typed_amount(raw.strip(), language) if raw.strip() else None
        else:
            value = raw.strip() or None
        if creating and value in (None, False):
            continue
        data[item.name] = value
    return data


# ---------------------------------------------------------------------------------------------- options


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    translate: bool = False  # the label is a message id
    group: str | None = None  # message id of an <optgroup>


def _enum_options(enum_cls: type[enum.Enum]) -> list[Option]:
    return [Option(member.value, CHOICE_LABELS[enum_cls][member.value], translate=True) for member in enum_cls]


# Dynamics' payment terms, as an account and its quotes, orders and invoices offer them.
PAYMENT_TERM_OPTIONS = [
    Option("net_30", N_("Net 30"), translate=True),
    Option("two_percent_10_net_30", N_("2%% 10, Net 30"), translate=True),
    Option("net_45", N_("Net 45"), translate=True),
    Option("net_60", N_("Net 60"), translate=True),
]


UNREADABLE = N_("A record you cannot open")


def _lookup(
    session: Session,
    actor: Actor,
    model: type[Any],
    *,
    include: set[uuid.UUID],
    where: Any = None,
    group: str | None = None,
) -> list[Option]:
    """The readable records of a lookup by name, then any chosen one past the limit.

    A chosen record the actor may not read is offered under a neutral label, so that saving the
    form keeps the link instead of clearing it.
    """
    name = model.full_name if model is Contact else model.name
    readable = access_condition(actor, Privilege.READ, model.__tablename__, model)
    statement = select(model.id, name).where(readable).order_by(name, model.id).limit(LOOKUP_LIMIT)
    if where is not None:
        statement = statement.where(where)
    options = [Option(str(record_id), label, group=group) for record_id, label in session.execute(statement)]
    missing = include - {uuid.UUID(option.value) for option in options}
    if missing:
        existing = session.execute(select(model.id, name, readable).where(model.id.in_(missing))).all()
        options.extend(
            Option(str(record_id), label if allowed else UNREADABLE, translate=not allowed, group=group)
            for record_id, label, allowed in existing
        )
    return options


def _named(session: Session, model: type[Any], name: Any, *, include: set[uuid.UUID], where: Any) -> list[Option]:
    """Records anyone may pick (users, campaigns) by name, then any chosen one past the limit."""
    rows = list(session.execute(select(model.id, name).where(where).order_by(name, model.id).limit(LOOKUP_LIMIT)).all())
    missing = include - {record_id for record_id, _ in rows}
    if missing:
        rows.extend(session.execute(select(model.id, name).where(model.id.in_(missing))).all())
    return [Option(str(record_id), label) for record_id, label in rows]


def customer_options(session: Session, actor: Actor, *, include: set[uuid.UUID]) -> list[Option]:
    """The accounts, then the contacts, a record may name as its customer (grouped), and any chosen one."""
    return _lookup(session, actor, Account, include=include, group=N_("Accounts")) + _lookup(
        session, actor, Contact, include=include, group=N_("Contacts")
    )


def currency_options(session: Session, language: str) -> list[Option]:
    """Every currency by ISO code, named in the reader's language: "EUR · euro"."""
    locale = locale_of(language)
    return [
        Option(code, f"{code} · {get_currency_name(code, locale=locale)}")
        for code in session.scalars(select(Currency.iso_code).order_by(Currency.iso_code))
    ]


def option_lists(
    kind: RecordKind,
    *,
    session: Session,
    actor: Actor,
    record: Any | None,
    values: Mapping[str, str],
    language: str,
) -> dict[str, list[Option]]:
    """Every option list the form of ``kind`` uses; a chosen value is always offered."""

    def chosen(*names: str) -> set[uuid.UUID]:
        found = set()
        for name in names:
            for raw in (values.get(name), str(getattr(record, name, "") or "") if record is not None else ""):
                parsed = parse_uuid(raw)
                if parsed is not None:
                    found.add(parsed)
        return found

    wanted = {item.options for item in kind.fields(creating=record is None) if item.options}
    lists: dict[str, list[Option]] = {}
    for name, enum_cls in (
        ("purchase_timeframe", PurchaseTimeframe),
        ("purchase_process", PurchaseProcess),
        ("need", Need),
    ):
        if name in wanted:
            lists[name] = _enum_options(enum_cls)
    if "payment_terms" in wanted:
        lists["payment_terms"] = PAYMENT_TERM_OPTIONS
    if "users" in wanted:
        user_label = User.full_name + " (" + User.email + ")"
        lists["users"] = _named(
            session, User, user_label, include=chosen("owner_user_id"), where=User.is_active.is_(True)
        )
    if "accounts" in wanted:
        include = chosen("account_id", "parent_account_id")
        lists["accounts"] = _lookup(session, actor, Account, include=include)
    if "contacts" in wanted:
        lists["contacts"] = _lookup(session, actor, Contact, include=chosen("parent_contact_id"))
    if "account_contacts" in wanted and record is not None:
        lists["account_contacts"] = _lookup(
            session, actor, Contact, include=chosen("primary_contact_id"), where=Contact.account_id == record.id
        )
    if "customers" in wanted:
        lists["customers"] = customer_options(session, actor, include=chosen("customer_id"))
    if "currencies" in wanted:
        lists["currencies"] = currency_options(session, language)
    if "opportunity_ratings" in wanted:
        lists["opportunity_ratings"] = _enum_options(OpportunityRating)
    if "opportunity_status_reasons" in wanted:
        # While open, in progress or on hold; a closed opportunity's own reason is shown as it stands.
        reasons = list(STATUS_REASONS[OpportunityState.OPEN])
        current = values.get("status_reason", "")
        if current and current not in reasons and current in {reason.value for reason in OpportunityStatusReason}:
            reasons.append(OpportunityStatusReason(current))
        labels = CHOICE_LABELS[OpportunityStatusReason]
        lists["opportunity_status_reasons"] = [
            Option(reason.value, labels[reason.value], translate=True) for reason in reasons
        ]
    if "campaigns" in wanted:
        lists["campaigns"] = _named(
            session,
            Campaign,
            Campaign.name,
            include=chosen("campaign_id"),
            where=Campaign.state == CampaignState.ACTIVE,
        )
    return lists
