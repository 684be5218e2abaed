"""Labels of stored values every area of the web app shows: tables, records, columns, criteria,
privileges, access levels, pick-list values, process stages and steps, out-of-box rules and built-in
roles; and where a record is opened.

Stored values (enum values, table and column names) are mapped to English message ids, translated
where they are shown. A value without a label here is shown as it is stored. The labels a refusal
names too (tables, privileges, access levels) are in ``leadflow.http.labels``, shared with the API.
"""

from __future__ import annotations

import enum

from leadflow.duplicates.criteria import Criterion
from leadflow.duplicates.models import DetectionTable
from leadflow.duplicates.rules import BUILTIN_RULES
from leadflow.http.labels import DEPTH_LABELS, PRIVILEGE_LABELS, TABLE_LABELS, label
from leadflow.leads.models import (
    BudgetStatus,
    LeadSource,
    LeadState,
    LeadStatusReason,
    Need,
    PurchaseProcess,
    PurchaseTimeframe,
    Rating,
)
from leadflow.opportunities.models import CloseState, OpportunityState, OpportunityStatusReason
from leadflow.opportunities.models import Rating as OpportunityRating
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

COLUMN_LABELS = {
    "topic": N_("Topic"),
    "name": N_("Name"),
    "first_name": N_("First name"),
    "last_name": N_("Last name"),
    "full_name": N_("Full name"),
    "job_title": N_("Job title"),
    "company_name": N_("Company name"),
    "business_phone": N_("Business phone"),
    "mobile_phone": N_("Mobile phone"),
    "telephone": N_("Phone"),
    "email": N_("Email"),
    "website": N_("Website"),
    "description": N_("Description"),
    "lead_source": N_("Lead source"),
    "rating": N_("Rating"),
    "purchase_timeframe": N_("Purchase timeframe"),
    "budget_amount": N_("Estimated budget"),
    "budget_status": N_("Budget status"),
    "purchase_process": N_("Purchase process"),
    "decision_maker": N_("Identify decision maker"),
    "need": N_("Need"),
    "qualification_comments": N_("Capture summary"),
    "state": N_("Status"),
    "status_reason": N_("Status reason"),
    "closed_at": N_("Closed on"),
    "probability": N_("Probability"),
    "actual_revenue": N_("Actual revenue"),
    "actual_close_date": N_("Actual close date"),
    "exchange_rate": N_("Exchange rate"),
    "address_line1": N_("Street 1"),
    "address_line2": N_("Street 2"),
    "address_line3": N_("Street 3"),
    "address_city": N_("City"),
    "address_state_or_province": N_("State/Province"),
    "address_postal_code": N_("ZIP/Postal code"),
    "address_country": N_("Country/Region"),
    "currency_id": N_("Currency"),
    "campaign_id": N_("Source campaign"),
    "primary_contact_id": N_("Primary contact"),
    "account_id": N_("Account"),
    "parent_account_id": N_("Existing account"),
    "parent_contact_id": N_("Existing contact"),
    "owner_user_id": N_("Owner"),
    "customer_kind": N_("Potential customer type"),
    "estimated_close_date": N_("Estimated close date"),
    "process_stage": N_("Process stage"),
    "customer_need": N_("Customer need"),
    "proposed_solution": N_("Proposed solution"),
    "stakeholders_identified": N_("Identify stakeholders"),
    "competitors_identified": N_("Identify competitors"),
    "sales_team_identified": N_("Identify sales team"),
    "proposal_developed": N_("Develop proposal"),
    "internal_review_completed": N_("Complete internal review"),
    "proposal_presented": N_("Present proposal"),
    "final_proposal_completed": N_("Complete final proposal"),
    "final_proposal_presented": N_("Present final proposal"),
    "decision_date": N_("Confirm decision date"),
    "thank_you_note_sent": N_("Send thank-you note"),
    "debrief_filed": N_("File de-brief"),
}

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

# The English label (message id) of every pick-list value the pages show, by enum and stored value.
CHOICE_LABELS: dict[type[enum.Enum], dict[str, str]] = {
    LeadSource: {
        "advertisement": N_("Advertisement"),
        "employee_referral": N_("Employee referral"),
        "external_referral": N_("External referral"),
        "partner": N_("Partner"),
        "public_relations": N_("Public relations"),
        "seminar": N_("Seminar"),
        "trade_show": N_("Trade show"),
        "web": N_("Web"),
        "word_of_mouth": N_("Word of mouth"),
        "other": N_("Other"),
    },
    Rating: {"hot": N_("Hot"), "warm": N_("Warm"), "cold": N_("Cold")},
    PurchaseTimeframe: {
        "immediate": N_("Immediate"),
        "this_quarter": N_("This quarter"),
        "next_quarter": N_("Next quarter"),
        "this_year": N_("This year"),
        "unknown": N_("Unknown"),
    },
    BudgetStatus: {
        "no_committed_budget": N_("No committed budget"),
        "may_buy": N_("May buy"),
        "can_buy": N_("Can buy"),
        "will_buy": N_("Will buy"),
    },
    PurchaseProcess: {
        "individual": N_("Individual purchase"),
        "committee": N_("Committee"),
        "unknown": N_("Unknown"),
    },
    Need: {
        "must_have": N_("Must have"),
        "should_have": N_("Should have"),
        "good_to_have": N_("Good to have"),
        "no_need": N_("No need"),
    },
    LeadStatusReason: {
        "new": N_("New"),
        "contacted": N_("Contacted"),
        "qualified": N_("Qualified"),
        "lost": N_("Lost"),
        "cannot_contact": N_("Cannot contact"),
        "no_longer_interested": N_("No longer interested"),
        "canceled": N_("Canceled"),
    },
    LeadState: {"open": N_("Open"), "qualified": N_("Qualified"), "disqualified": N_("Disqualified")},
    OpportunityState: {"open": N_("Open"), "won": N_("Won"), "lost": N_("Lost")},
    # Dynamics' status reasons of an opportunity (statuscode): two while open, one won, two lost.
    OpportunityStatusReason: {
        "in_progress": N_("In progress"),
        "on_hold": N_("On hold"),
        "won": N_("Won"),
        "canceled": N_("Canceled"),
        "out_sold": N_("Out-Sold"),
    },
    OpportunityRating: {"hot": N_("Hot"), "warm": N_("Warm"), "cold": N_("Cold")},
    # An opportunity close record: completed when written, canceled when the opportunity is reopened.
    CloseState: {"completed": N_("Completed"), "canceled": N_("Canceled")},
}
DECISION_LABELS = {"yes": N_("Identified"), "no": N_("Not identified")}

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
