"""Labels of stored values every area of the web app shows: tables, records, columns, criteria,
privileges, access levels, pick-list values, process stages and steps, out-of-box rules and built-in
roles; and where a record is opened.

Stored values (enum values, table and column names) are mapped to English message ids, translated
where they are shown. A value without a label here is shown as it is stored. The labels a refusal
names too (tables, privileges, access levels) are in ``leadflow.http.labels``, shared with the API.
"""

from __future__ import annotations

from leadflow.duplicates.criteria import Criterion
from leadflow.duplicates.models import DetectionTable
from leadflow.duplicates.rules import BUILTIN_RULES
from leadflow.http.labels import (
    CHOICE_LABELS,
    COLUMN_LABELS,
    DECISION_LABELS,
    DEPTH_LABELS,
    PRIVILEGE_LABELS,
    TABLE_LABELS,
    label,
)
from leadflow.process.flow import LEAD_TO_OPPORTUNITY_PROCESS
from leadflow.web.i18n import N_

# One record of a table, for sentences such as "Merge two accounts" and the type of a duplicate.
RECORD_LABELS = {
    DetectionTable.LEADS.value: N_("Lead"),
    DetectionTable.ACCOUNTS.value: N_("Account"),
    DetectionTable.CONTACTS.value: N_("Contact"),
    DetectionTable.OPPORTUNITIES.value: N_("Opportunity"),
}

# The page of a record, for links to it from other pages (duplicates, merges, the audit log).
RECORD_PAGES = {table: f"/{table}/{{id}}" for table in RECORD_LABELS}

CRITERION_LABELS = {
    Criterion.EXACT.value: N_("Exact match"),
    Criterion.SAME_FIRST_CHARACTERS.value: N_("Same first characters"),
    Criterion.SAME_LAST_CHARACTERS.value: N_("Same last characters"),
    Criterion.SAME_DATE.value: N_("Same date"),
    Criterion.SAME_DATE_AND_TIME.value: N_("Same date and time"),
    Criterion.EXACT_PICKLIST.value: N_("Exact pick-list value"),
    Criterion.NORMALIZED.value: N_("Normalised match"),
    Criterion.SIMILAR.value: N_("Similar (fuzzy)"),
}


# The out-of-box duplicate detection rules (§9), by the name and description they are created with
# (leadflow.duplicates.rules.BUILTIN_RULES). Only an out-of-box rule's are translated: a rule an
# administrator named, or renamed, shows as typed.
RULE_LABELS = {
    "Accounts with the same account name": N_("Accounts with the same account name"),
    "Accounts with a similar account name": N_("Accounts with a similar account name"),
    "Accounts with the same email address": N_("Accounts with the same email address"),
    "Accounts with the same phone number": N_("Accounts with the same phone number"),
    "Accounts with the same website": N_("Accounts with the same website"),
    "Contacts with the same business phone": N_("Contacts with the same business phone"),
    "Contacts with the same email address": N_("Contacts with the same email address"),
    "Contacts with the same first name and last name": N_("Contacts with the same first name and last name"),
    "Contacts with a similar first name and last name": N_("Contacts with a similar first name and last name"),
    "Leads with the same email address": N_("Leads with the same email address"),
    "Leads with the same business phone": N_("Leads with the same business phone"),
    "Leads with a similar first name and last name": N_("Leads with a similar first name and last name"),
}
# Each out-of-box rule's own description, and the one every out-of-box rule was created with before 2026-12.
RULE_DESCRIPTION_LABELS = {
    "Out-of-box rule.": N_("Out-of-box rule."),
    **{rule.description: rule.description for rule in BUILTIN_RULES},
}

# The built-in security roles (§8), by name; a role of the organisation's own shows as typed.
ROLE_LABELS = {
    "System Administrator": N_("System Administrator"),
    "System Customizer": N_("System Customizer"),
    "Vice President of Sales": N_("Vice President of Sales"),
    "Sales Manager": N_("Sales Manager"),
    "Salesperson": N_("Salesperson"),
    "Sales Team Member": N_("Sales Team Member"),
}

# The stages of the Lead to Opportunity Sales Process (§7), by their names in leadflow.process.flow.
STAGE_LABELS = {"qualify": N_("Qualify"), "develop": N_("Develop"), "propose": N_("Propose"), "close": N_("Close")}
# Each step of the process is named after the column it fills.
STEP_LABELS = {step.name: COLUMN_LABELS[step.column] for stage in LEAD_TO_OPPORTUNITY_PROCESS for step in stage.steps}


def rule_name(language: str, name: str | None, *, builtin: bool = True) -> str:
    """A duplicate detection rule's name in the user's language when it is an out-of-box rule's; any other as typed.

    ``builtin`` is False for a rule known to be the organisation's own (where the page has the rule at
    hand): its name is never translated, even when it happens to read like an out-of-box one.
    """
    return label(language, RULE_LABELS, name) if builtin else (name or "")


def role_name(language: str, name: str) -> str:
    """A role's name: a built-in role's in the user's language, a role of the organisation's own as typed."""
    return label(language, ROLE_LABELS, name)


__all__ = [
    "CHOICE_LABELS",
    "COLUMN_LABELS",
    "CRITERION_LABELS",
    "DECISION_LABELS",
    "DEPTH_LABELS",
    "PRIVILEGE_LABELS",
    "RECORD_LABELS",
    "RECORD_PAGES",
    "ROLE_LABELS",
    "RULE_DESCRIPTION_LABELS",
    "RULE_LABELS",
    "STAGE_LABELS",
    "STEP_LABELS",
    "TABLE_LABELS",
    "label",
    "role_name",
    "rule_name",
]
