"""The lead pages' forms described as data: fields, pick-list labels, and form input <-> service input.

The lead form groups its fields like the source document (Contact, Company, Details) and the
Qualify stage of the business process bar (§7) shows the stage's steps, taken from
``leadflow.process.flow``. Posted strings become the values the lead schemas validate; the qualify
dialogs' answers become ``QualifyOptions`` input. Nothing here decides a business rule: the
services do, and ``leadflow.web.forms`` turns their refusals into sentences in the user's language.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from leadflow.core.errors import ValidationFailed
from leadflow.core.formatting import amount_input, parse_amount
from leadflow.leads.models import (
    DISQUALIFY_REASONS,
    BudgetStatus,
    Lead,
    LeadSource,
    LeadState,
    LeadStatusReason,
    Need,
    PurchaseProcess,
    PurchaseTimeframe,
    Rating,
)
from leadflow.leads.views import LeadView
from leadflow.process.flow import LEAD_TO_OPPORTUNITY_PROCESS
from leadflow.web.forms import ADDRESS_LENGTHS
from leadflow.web.i18n import N_
from leadflow.web.labels import CHOICE_LABELS, COLUMN_LABELS, DECISION_LABELS

PAGE_SIZE = 50
MAX_OPPORTUNITIES = 5  # §6: up to five opportunities from one qualified lead

# ---------------------------------------------------------------------------------------------- labels

VIEW_LABELS: dict[LeadView, str] = {
    LeadView.MY_OPEN: N_("My Open Leads"),
    LeadView.OPEN: N_("Open Leads"),
    LeadView.CLOSED: N_("Closed Leads"),
    LeadView.ALL: N_("All Leads"),
    LeadView.OPENED_THIS_WEEK: N_("Leads opened this week"),
    LeadView.OPENED_LAST_WEEK: N_("Leads opened last week"),
}

STATE_BADGES = {LeadState.OPEN: "ok", LeadState.QUALIFIED: "ok", LeadState.DISQUALIFIED: "bad"}


def choice_label(value: Any) -> str:
    """The English label (message id) of a pick-list value; '' when unset."""
    if value is None or value == "":
        return ""
    if isinstance(value, enum.Enum):
        return CHOICE_LABELS.get(type(value), {}).get(value.value, str(value.value))
    return str(value)


def choice_options(choices: type[enum.Enum]) -> list[tuple[str, str]]:
    """(value, English label) of each member of a pick-list, in its defined order."""
    labels = CHOICE_LABELS[choices]
    return [(member.value, labels[member.value]) for member in choices]


DISQUALIFY_OPTIONS = [(reason.value, CHOICE_LABELS[LeadStatusReason][reason.value]) for reason in DISQUALIFY_REASONS]

# ---------------------------------------------------------------------------------------------- the form


@dataclass(frozen=True)
class FormField:
    """One input of the lead form; ``name`` is the lead schema's field."""

    name: str
    label: str
    kind: str  # text, email, tel, url, textarea, choice, amount, decision, account, contact, currency, campaign, owner
    choices: type[enum.Enum] | None = None
    max_length: int | None = None
    required: bool = False
    autocomplete: str | None = None

    @property
    def input_id(self) -> str:
        return f"lead-{self.name.replace('_', '-')}"


@dataclass(frozen=True)
class Section:
    id: str
    legend: str
    fields: tuple[FormField, ...]


SECTIONS = (
    Section(
        "contact",
        N_("Contact"),
        (
            FormField("topic", N_("Topic"), "text", max_length=300, required=True),
            FormField("first_name", N_("First name"), "text", max_length=50, autocomplete="off"),
            FormField("last_name", N_("Last name"), "text", max_length=50, required=True, autocomplete="off"),
            FormField("job_title", N_("Job title"), "text", max_length=100),
            FormField("business_phone", N_("Business phone"), "tel", max_length=50),
            FormField("mobile_phone", N_("Mobile phone"), "tel", max_length=50),
            FormField("email", N_("Email"), "email", max_length=320),
        ),
    ),
    Section(
        "company",
        N_("Company"),
        (
            FormField("company_name", N_("Company name"), "text", max_length=100),
            FormField("website", N_("Website"), "url", max_length=200),
            *(FormField(name, COLUMN_LABELS[name], "text", max_length=length) for name, length in ADDRESS_LENGTHS),
        ),
    ),
    Section(
        "details",
        N_("Details"),
        (
            FormField("description", N_("Description"), "textarea"),
            FormField("lead_source", N_("Lead source"), "choice", LeadSource),
            FormField("rating", N_("Rating"), "choice", Rating),
            FormField("budget_status", N_("Budget status"), "choice", BudgetStatus),
            FormField("need", N_("Need"), "choice", Need),
            FormField("currency", N_("Currency"), "currency"),
            FormField("campaign_id", N_("Campaign"), "campaign"),
            FormField("owner_user_id", N_("Owner"), "owner"),
        ),
    ),
)

# The Qualify stage's steps (§7) and the lead column each one fills, in the flow's order.
_STEP_FIELDS = {
    "parent_contact_id": FormField("parent_contact_id", N_("Existing contact"), "contact"),
    "parent_account_id": FormField("parent_account_id", N_("Existing account"), "account"),
    "purchase_timeframe": FormField("purchase_timeframe", N_("Purchase timeframe"), "choice", PurchaseTimeframe),
    "budget_amount": FormField("budget_amount", N_("Estimated budget"), "amount"),
    "purchase_process": FormField("purchase_process", N_("Purchase process"), "choice", PurchaseProcess),
    "decision_maker": FormField("decision_maker", N_("Identify decision maker"), "decision"),
    "qualification_comments": FormField("qualification_comments", N_("Capture summary"), "textarea", max_length=2000),
}
QUALIFY_STAGE = LEAD_TO_OPPORTUNITY_PROCESS[0]
QUALIFY_STEPS: tuple[tuple[str, FormField], ...] = tuple(
    (step.name, _STEP_FIELDS[step.column]) for step in QUALIFY_STAGE.steps
)
ALL_FIELDS: tuple[FormField, ...] = (
    *(field for _step, field in QUALIFY_STEPS),
    *(field for section in SECTIONS for field in section.fields),
)
FIELD_NAMES = frozenset(field.name for field in ALL_FIELDS)
_BY_NAME = {field.name: field for field in ALL_FIELDS}


def lead_form_values(lead: Lead, *, currency_code: str | None, language: str) -> dict[str, str]:
    """The lead's values as the form shows them (strings, '' when blank)."""
    values: dict[str, str] = {}
    for field in ALL_FIELDS:
        if field.name == "currency":
            values["currency"] = currency_code or ""
            continue
        value = getattr(lead, field.name)
        if value is None:
            values[field.name] = ""
        elif field.kind == "amount":
            values[field.name] = amount_input(value, language)
        elif field.kind == "decision":
            values[field.name] = "yes" if value else "no"
        elif isinstance(value, enum.Enum):
            values[field.name] = str(value.value)
        else:
            values[field.name] = str(value)
    return values


def posted_lead_values(form: Mapping[str, Any]) -> dict[str, str]:
    """The lead fields present in a posted form, as strings (disabled inputs are not posted)."""
    return {name: str(form[name]) for name in FIELD_NAMES if name in form and isinstance(form[name], str)}


@dataclass
class FieldProblem:
    field: str
    code: str


def read_lead_values(posted: Mapping[str, str], *, language: str) -> tuple[dict[str, Any], list[FieldProblem]]:
    """Posted strings as the schema's input: trimmed, blank as None, amounts and yes/no read."""
    values: dict[str, Any] = {}
    problems: list[FieldProblem] = []
    for name, raw in posted.items():
        text = raw.strip()
        field = _BY_NAME[name]
        if not text:
            values[name] = None
        elif field.kind == "amount":
            try:
                values[name] = parse_amount(text, language)
            except ValueError:
                problems.append(FieldProblem(name, "invalid_amount"))
        elif field.kind == "decision":
            if text not in DECISION_LABELS:
                problems.append(FieldProblem(name, "invalid_option"))
            else:
                values[name] = text == "yes"
        else:
            values[name] = text
    return values, problems


def changed_values(posted: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """The fields whose posted value differs from the record's: a save sends only these."""
    return {name: value for name, value in posted.items() if value != current.get(name)}


def field_problems_error(problems: list[FieldProblem], error: ValidationFailed | None) -> ValidationFailed:
    """One refusal naming every field the form or the schema could not accept."""
    fields = [{"field": p.field, "code": p.code, "message": ""} for p in problems]
    if error is not None:
        fields.extend((error.details or {}).get("fields", []))
        message = error.message
    else:
        message = "Some fields are not valid."
    return ValidationFailed(message, code="validation_failed", details={"fields": fields})


# ---------------------------------------------------------------------------------------------- qualify options

CHOICE_KEYS = ("account_choice", "contact_choice", "opportunity_choice")
RESOLUTION_KEYS = ("duplicate_resolution", "duplicate_account_id", "duplicate_contact_id")


def opportunity_row_keys(index: int) -> tuple[str, str, str]:
    return (f"opportunity_{index}_name", f"opportunity_{index}_revenue", f"opportunity_{index}_close_date")


OPPORTUNITY_ROW_KEYS = tuple(key for index in range(1, MAX_OPPORTUNITIES + 1) for key in opportunity_row_keys(index))
QUALIFY_KEYS = frozenset(
    {
        *CHOICE_KEYS,
        *RESOLUTION_KEYS,
        *OPPORTUNITY_ROW_KEYS,
        "existing_account_id",
        "existing_contact_id",
        "existing_opportunity_id",
        "opportunity_currency",
        "qualify_choices",
    }
)


def _choice(form: Any, key: str) -> str | None:
    """A record's answer: a ticked checkbox (value "new") wins over its hidden "none"."""
    values = form.getlist(key) if hasattr(form, "getlist") else [form[key]] if key in form else []
    if not values:
        return None
    return "new" if "new" in values else str(values[-1])


def qualify_options_input(form: Any, *, language: str) -> dict[str, Any]:
    """The answers of the qualify dialogs (records to create, opportunities, duplicate resolution) as QualifyOptions input."""
    data: dict[str, Any] = {}
    problems: list[dict[str, str]] = []
    for record in ("account", "contact", "opportunity"):
        choice = _choice(form, f"{record}_choice")
        if choice is None:
            continue
        if choice == "new":
            data[f"create_{record}"] = True
        elif choice == "none":
            data[f"create_{record}"] = False
        elif choice == "existing" and record != "opportunity":
            picked = str(form.get(f"existing_{record}_id") or "").strip()
            if not picked:
                problems.append({"field": f"existing_{record}_id", "code": "required", "message": ""})
            else:
                data[f"existing_{record}_id"] = picked
        else:
            problems.append({"field": f"{record}_choice", "code": "invalid_option", "message": ""})
    if data.get("create_opportunity"):
        rows = []
        for index in range(1, MAX_OPPORTUNITIES + 1):
            name_key, revenue_key, date_key = opportunity_row_keys(index)
            name = str(form.get(name_key) or "").strip()
            revenue = str(form.get(revenue_key) or "").strip()
            close_date = str(form.get(date_key) or "").strip()
            if not (name or revenue or close_date):
                continue
            row: dict[str, Any] = {"name": name or None}
            if revenue:
                try:
                    row["estimated_revenue"] = parse_amount(revenue, language)
                except ValueError:
                    problems.append({"field": revenue_key, "code": "invalid_amount", "message": ""})
            if close_date:
                try:
                    row["estimated_close_date"] = date.fromisoformat(close_date)
                except ValueError:
                    problems.append({"field": date_key, "code": "invalid_date", "message": ""})
            rows.append(row)
        if rows:
            data["opportunities"] = rows
    into = str(form.get("existing_opportunity_id") or "").strip()
    if into:
        # Qualifying into an existing opportunity replaces whatever was chosen for a new one.
        data.pop("create_opportunity", None)
        data.pop("opportunities", None)
        data["existing_opportunity_id"] = into
    currency = str(form.get("opportunity_currency") or "").strip()
    if currency and not into:
        data["opportunity_currency"] = currency
    resolution = str(form.get("duplicate_resolution") or "")
    if resolution == "ignore":
        data["duplicate_resolution"] = "ignore"
    elif resolution == "link":
        data["duplicate_resolution"] = {
            "account_id": str(form.get("duplicate_account_id") or "") or None,
            "contact_id": str(form.get("duplicate_contact_id") or "") or None,
        }
    if problems:
        raise ValidationFailed(
            "Some answers are missing or not valid.", code="validation_failed", details={"fields": problems}
        )
    return data


def carried_fields(form: Any, *, drop: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """The posted fields a follow-up form must send again (lead edits, earlier answers), as hidden inputs."""
    items = form.multi_items() if hasattr(form, "multi_items") else list(form.items())
    return [(key, value) for key, value in items if isinstance(value, str) and key != "csrf_token" and key not in drop]
