"""The record forms of accounts, contacts and opportunities, described as data.

Each table lists its fields (label, input kind, pick-list) grouped in sections as the page shows
them; the same description turns a record into form values, posted form values into the input the
services take, and a refusal into messages next to the fields.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from babel.numbers import (
    NumberFormatError,
    format_decimal,
    get_currency_name,
    parse_decimal,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.customers.models import Account, Contact
from leadflow.customers.schemas import (
    AccountCreate,
    AccountUpdate,
    ContactCreate,
    ContactUpdate,
)
from leadflow.core.errors import DuplicateDetected, LeadflowError, ValidationFailed
from leadflow.leads.models import (
    Need,
    PurchaseProcess,
    PurchaseTimeframe,
)
from leadflow.opportunities.models import Opportunity
from leadflow.opportunities.schemas import OpportunityCreate, OpportunityUpdate
from leadflow.organisation.models import Campaign, CampaignState, Currency
from leadflow.security.access import access_condition
from leadflow.security.actor import Actor
from leadflow.security.models import User
from leadflow.security.privileges import Privilege
from leadflow.web.areas.choice_labels import CHOICE_LABELS
from leadflow.web.i18n import FORMAT_LOCALES, N_, gettext

# Lookups list at most this many records (by name); the record's current value is always offered.
LOOKUP_LIMIT = 500

# ---------------------------------------------------------------------------------------------- pick-lists


# The steps of the Lead to Opportunity Sales Process (§7), by their names in leadflow.process.flow.
STEP_LABELS = {
    "existing_contact": N_("Existing contact"),
    "existing_account": N_("Existing account"),
    "purchase_timeframe": N_("Purchase timeframe"),
    "estimated_budget": N_("Estimated budget"),
    "purchase_process": N_("Purchase process"),
    "identify_decision_maker": N_("Identify decision maker"),
    "capture_summary": N_("Capture summary"),
    "customer_need": N_("Customer need"),
    "proposed_solution": N_("Proposed solution"),
    "identify_stakeholders": N_("Identify stakeholders"),
    "identify_competitors": N_("Identify competitors"),
    "identify_sales_team": N_("Identify sales team"),
    "develop_proposal": N_("Develop proposal"),
    "complete_internal_review": N_("Complete internal review"),
    "present_proposal": N_("Present proposal"),
    "complete_final_proposal": N_("Complete final proposal"),
    "present_final_proposal": N_("Present final proposal"),
    "confirm_decision_date": N_("Confirm decision date"),
    "send_thank_you_note": N_("Send thank-you note"),
    "file_debrief": N_("File de-brief"),
}


# ---------------------------------------------------------------------------------------------- fields


@dataclass(frozen=True)
class FormField:
    """One input of a record form."""

    name: str
    label: str  # English message id
    kind: str = "text"  # text email tel url textarea date money select lookup checkbox yes_no
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


ADDRESS = Section(
    "address",
    N_("Address"),
    (
        FormField("address_line1", N_("Street 1"), max_length=250),
        FormField("address_line2", N_("Street 2"), max_length=250),
        FormField("address_line3", N_("Street 3"), max_length=250),
        FormField("address_city", N_("City"), max_length=80),
        FormField("address_state_or_province", N_("State/Province"), max_length=50),
        FormField("address_postal_code", N_("ZIP/Postal code"), max_length=20),
        FormField("address_country", N_("Country/Region"), max_length=80),
    ),
)

ACCOUNT_SECTIONS = (
    Section(
        "summary",
        N_("Account information"),
        (
            FormField("name", N_("Account name"), required=True, max_length=160),
            FormField("telephone", N_("Main phone"), kind="tel", max_length=50),
            FormField("email", N_("Email"), kind="email", max_length=320),
            FormField("website", N_("Website"), kind="url", max_length=200),
            FormField("primary_contact_id", N_("Primary contact"), kind="lookup", options="account_contacts",
                      on_create=False),
            FormField("owner_user_id", N_("Owner"), kind="lookup", options="users", blank=False),
        ),
    ),
    ADDRESS,
    Section("details", N_("Details"), (FormField("description", N_("Description"), kind="textarea", wide=True),)),
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
            FormField("owner_user_id", N_("Owner"), kind="lookup", options="users", blank=False),
        ),
    ),
    ADDRESS,
    Section("details", N_("Details"), (FormField("description", N_("Description"), kind="textarea", wide=True),)),
)

OPPORTUNITY_SECTIONS = (
    Section(
        "summary",
        N_("Opportunity information"),
        (
            FormField("name", N_("Topic"), required=True, max_length=300),
            FormField("customer_id", N_("Potential customer"), kind="lookup", options="customers",
                      hint=N_("An account or a contact.")),
            FormField("parent_account_id", N_("Account"), kind="lookup", options="accounts"),
            FormField("parent_contact_id", N_("Contact"), kind="lookup", options="contacts"),
            FormField("currency", N_("Currency"), kind="select", options="currencies", blank=False),
            FormField("estimated_revenue", N_("Est. revenue"), kind="money"),
            FormField("estimated_close_date", N_("Est. close date"), kind="date"),
            FormField("campaign_id", N_("Source campaign"), kind="lookup", options="campaigns"),
            FormField("owner_user_id", N_("Owner"), kind="lookup", options="users", blank=False),
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
    Section("details", N_("Details"), (FormField("description", N_("Description"), kind="textarea", wide=True),)),
)

# The steps of the later stages (§7) as form inputs, keyed by the process's step names.
STEP_FIELDS: dict[str, FormField] = {
    "customer_need": FormField("customer_need", N_("Customer need"), kind="textarea"),
    "proposed_solution": FormField("proposed_solution", N_("Proposed solution"), kind="textarea"),
    "identify_stakeholders": FormField("stakeholders_identified", N_("Identify stakeholders"), kind="checkbox"),
    "identify_competitors": FormField("competitors_identified", N_("Identify competitors"), kind="checkbox"),
    "identify_sales_team": FormField("sales_team_identified", N_("Identify sales team"), kind="checkbox"),
    "develop_proposal": FormField("proposal_developed", N_("Develop proposal"), kind="checkbox"),
    "complete_internal_review": FormField("internal_review_completed", N_("Complete internal review"), kind="checkbox"),
    "present_proposal": FormField("proposal_presented", N_("Present proposal"), kind="checkbox"),
    "complete_final_proposal": FormField("final_proposal_completed", N_("Complete final proposal"), kind="checkbox"),
    "present_final_proposal": FormField("final_proposal_presented", N_("Present final proposal"), kind="checkbox"),
    "confirm_decision_date": FormField("decision_date", N_("Confirm decision date"), kind="date"),
    "send_thank_you_note": FormField("thank_you_note_sent", N_("Send thank-you note"), kind="checkbox"),
    "file_debrief": FormField("debrief_filed", N_("File de-brief"), kind="checkbox"),
}


@dataclass(frozen=True)
class RecordKind:
    """What the pages of one table need: names, forms, schemas and the service functions they call."""

    path: str  # URL segment and table name
    model: type
    singular: str  # English message ids
    plural: str
    new_title: str
    sections: tuple[Section, ...]
    create_schema: type
    update_schema: type
    delete_warning: str
    extra_fields: tuple[FormField, ...] = ()

    def fields(self, *, creating: bool) -> list[FormField]:
        found = [f for section in self.sections for f in section.fields if f.on_create or not creating]
        return found + ([] if creating else list(self.extra_fields))

    def display_name(self, record: Any) -> str:
        return record.full_name if isinstance(record, Contact) else record.name


ACCOUNTS = RecordKind(
    "accounts", Account, N_("Account"), N_("Accounts"), N_("New account"), ACCOUNT_SECTIONS, AccountCreate,
    AccountUpdate,
    N_("Delete this account? Its notes and attachments are deleted too; its contacts and opportunities stay, "
       "without the link to it."),
)
CONTACTS = RecordKind(
    "contacts", Contact, N_("Contact"), N_("Contacts"), N_("New contact"), CONTACT_SECTIONS, ContactCreate,
    ContactUpdate,
    N_("Delete this contact? Its notes and attachments are deleted too; its opportunities stay, without the link "
       "to it."),
)
OPPORTUNITIES = RecordKind(
    "opportunities", Opportunity, N_("Opportunity"), N_("Opportunities"), N_("New opportunity"),
    OPPORTUNITY_SECTIONS, OpportunityCreate, OpportunityUpdate,
    N_("Delete this opportunity? Its notes and attachments are deleted too. Notes of the lead it came from "
       "stay with the lead."),
    extra_fields=tuple(STEP_FIELDS.values()),
)
KINDS = {kind.path: kind for kind in (ACCOUNTS, CONTACTS, OPPORTUNITIES)}
# Where a record of each table is opened (matches of duplicate detection can be leads too).
RECORD_PATHS = {"leads": "/leads", "accounts": "/accounts", "contacts": "/contacts", "opportunities": "/opportunities"}


# ---------------------------------------------------------------------------------------------- values


def money_input(value: Decimal | None, language: str) -> str:
    """An amount as the user types it in their language: no grouping, the locale's decimal mark."""
    if value is None:
        return ""
    return format_decimal(value, format="0.00##", locale=FORMAT_LOCALES.get(language, "en_GB"))


def _parse_money(raw: str, language: str) -> str:
    """A typed amount in the user's language ("25.000,50" in Spanish) as a plain decimal string.

    Input the locale cannot read goes on as typed, so that validation names the field.
    """
    try:
        return str(parse_decimal(raw, locale=FORMAT_LOCALES.get(language, "en_GB"), strict=True))
    except NumberFormatError:
        return raw


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
        return money_input(value, language)
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
    kind: RecordKind, posted: Mapping[str, str], *, creating: bool, language: str, initial: Mapping[str, str] | None = None
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
            value = _parse_money(raw.strip(), language) if raw.strip() else None
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


UNREADABLE = N_("A record you cannot open")


def _lookup(
    session: Session,
    actor: Actor,
    model: type,
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


def _named(session: Session, model: type, name: Any, *, include: set[uuid.UUID], where: Any) -> list[Option]:
    """Records anyone may pick (users, campaigns) by name, then any chosen one past the limit."""
    rows = session.execute(select(model.id, name).where(where).order_by(name, model.id).limit(LOOKUP_LIMIT)).all()
    missing = include - {record_id for record_id, _ in rows}
    if missing:
        rows.extend(session.execute(select(model.id, name).where(model.id.in_(missing))).all())
    return [Option(str(record_id), label) for record_id, label in rows]


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
                try:
                    found.add(uuid.UUID(raw or ""))
                except ValueError:
                    continue
        return found

    wanted = {item.options for item in kind.fields(creating=record is None) if item.options}
    lists: dict[str, list[Option]] = {}
    for name, enum_cls in (("purchase_timeframe", PurchaseTimeframe), ("purchase_process", PurchaseProcess), ("need", Need)):
        if name in wanted:
            lists[name] = _enum_options(enum_cls)
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
        include = chosen("customer_id")
        lists["customers"] = _lookup(session, actor, Account, include=include, group=N_("Accounts")) + _lookup(
            session, actor, Contact, include=include, group=N_("Contacts")
        )
    if "currencies" in wanted:
        locale = FORMAT_LOCALES.get(language, "en_GB")
        lists["currencies"] = [
            Option(code, f"{code} · {get_currency_name(code, locale=locale)}")
            for code in session.scalars(select(Currency.iso_code).order_by(Currency.iso_code))
        ]
    if "campaigns" in wanted:
        lists["campaigns"] = _named(
            session, Campaign, Campaign.name, include=chosen("campaign_id"), where=Campaign.state == CampaignState.ACTIVE
        )
    return lists


# ---------------------------------------------------------------------------------------------- refusals

# Field errors by their stable code (leadflow.core.schemas), as shown next to the field.
FIELD_ERRORS = {
    "required": N_("This field is required."),
    "invalid_email": N_("Enter a valid email address, like name@example.com."),
    "too_long": N_("This text is too long."),
    "out_of_range": N_("This value is out of range."),
    "too_precise": N_("Use at most four decimals."),
    "invalid_option": N_("Choose one of the options."),
    "invalid_id": N_("Choose a record from the list."),
    "not_found": N_("The chosen record no longer exists."),
}
FIELD_ERROR_FALLBACK = N_("This value is not valid.")

# Refusals by code, in words a seller can act on; an unknown code shows the service's own message.
REFUSALS = {
    "stale_etag": N_("This record was changed by someone else since you loaded it; reload it and apply your "
                     "change again."),
    "concurrent_update": N_("Someone else changed this record while you were working on it; reload it and try "
                            "again."),
    "account_not_found": N_("This account does not exist or was deleted."),
    "contact_not_found": N_("This contact does not exist or was deleted."),
    "opportunity_not_found": N_("This opportunity does not exist or was deleted."),
    "note_not_found": N_("This note does not exist on this record."),
    "attachment_not_found": N_("This note has no attachment."),
    "empty_note": N_("A note needs a title, a text or an attachment."),
    "last_stage": N_("The opportunity is already at the last stage, Close."),
    "qualify_stage_is_on_the_lead": N_("An opportunity cannot go back to Qualify; that stage belongs to the lead."),
    "customer_id_not_found": N_("The potential customer names no existing account or contact."),
    "currency_not_enabled": N_("This currency is not enabled in the organisation; an administrator can add it."),
}
DUPLICATE_REFUSALS = {
    "accounts": N_("No account record was created or updated because a duplicate of the current record already "
                   "exists."),
    "contacts": N_("No contact record was created or updated because a duplicate of the current record already "
                   "exists."),
    "opportunities": N_("No opportunity record was created or updated because a duplicate of the current record "
                        "already exists."),
    "leads": N_("No lead record was created or updated because a duplicate of the current record already exists."),
}
PRIVILEGE_LABELS = {
    "create": N_("Create"),
    "read": N_("Read"),
    "write": N_("Write"),
    "delete": N_("Delete"),
    "append": N_("Append"),
    "append_to": N_("Append To"),
    "assign": N_("Assign"),
    "share": N_("Share"),
}
TABLE_LABELS = {
    "leads": N_("Leads"),
    "accounts": N_("Accounts"),
    "contacts": N_("Contacts"),
    "opportunities": N_("Opportunities"),
}


@dataclass
class Refusal:
    """A refused request as the page shows it: a message, field messages and any duplicates found."""

    message: str
    code: str
    fields: dict[str, str] = field(default_factory=dict)
    matches: list[dict[str, Any]] = field(default_factory=list)


def refusal(error: LeadflowError, *, language: str) -> Refusal:
    """A domain refusal in the user's language (the service's English message when no translation fits)."""
    details = error.details if isinstance(error.details, dict) else {}
    if isinstance(error, DuplicateDetected) and "matches" in details:
        table = details.get("table", "")
        message = gettext(language, DUPLICATE_REFUSALS[table]) if table in DUPLICATE_REFUSALS else error.message
        return Refusal(message, error.code, matches=list(details.get("matches") or []))
    if error.code == "forbidden" and "privilege" in details:
        message = gettext(
            language,
            "You lack the %(privilege)s privilege on %(table)s for this; ask an administrator for a role that grants it.",
            privilege=gettext(language, PRIVILEGE_LABELS.get(details["privilege"], details["privilege"])),
            table=gettext(language, TABLE_LABELS.get(details.get("table", ""), details.get("table", ""))),
        )
        return Refusal(message, error.code)
    if error.code == "attachment_too_large":
        return Refusal(gettext(language, "The attachment is larger than the size limit; send a smaller file."), error.code)
    fields = {}
    if isinstance(error, ValidationFailed):
        for item in details.get("fields") or []:
            name = str(item.get("field", "")).split(".")[0]
            fields[name] = gettext(language, FIELD_ERRORS.get(item.get("code"), FIELD_ERROR_FALLBACK))
    if error.code in REFUSALS:
        message = gettext(language, REFUSALS[error.code])
    elif fields:
        message = gettext(language, "Some fields need your attention; see the messages next to them.")
    else:
        message = error.message
    return Refusal(message, error.code, fields=fields)
