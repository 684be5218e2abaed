"""Labels of stored values every area of the web app shows: tables, records, columns, criteria,
privileges, access levels, pick-list values, process stages and steps; and where a record is opened.

Stored values (enum values, table and column names) are mapped to English message ids, translated
where they are shown. A value without a label here is shown as it is stored.
"""

from __future__ import annotations

import enum

from leadflow.duplicates.criteria import Criterion
from leadflow.duplicates.models import DetectionTable
from leadflow.leads.models import BudgetStatus, LeadSource, LeadState, LeadStatusReason, Need, PurchaseProcess
from leadflow.leads.models import PurchaseTimeframe, Rating
from leadflow.opportunities.models import OpportunityState
from leadflow.process.flow import LEAD_TO_OPPORTUNITY_PROCESS
from leadflow.security.privileges import Depth, Privilege
from leadflow.web.i18n import N_, gettext

TABLE_LABELS = {
    DetectionTable.LEADS.value: N_("Leads"),
    DetectionTable.ACCOUNTS.value: N_("Accounts"),
    DetectionTable.CONTACTS.value: N_("Contacts"),
    DetectionTable.OPPORTUNITIES.value: N_("Opportunities"),
    "users": N_("Users"),
    "roles": N_("Roles"),
    "business_units": N_("Business units"),
    "settings": N_("Settings"),
    "audit": N_("Audit log"),
    "teams": N_("Teams"),
    "notes": N_("Notes"),
    "duplicate_rules": N_("Duplicate detection rules"),
    "duplicate_jobs": N_("Duplicate detection jobs"),
    "organisation_settings": N_("Settings"),
    "duplicate_set_members": N_("Duplicate sets"),
}

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

PRIVILEGE_LABELS = {
    Privilege.CREATE.value: N_("Create"),
    Privilege.READ.value: N_("Read"),
    Privilege.WRITE.value: N_("Write"),
    Privilege.DELETE.value: N_("Delete"),
    Privilege.APPEND.value: N_("Append"),
    Privilege.APPEND_TO.value: N_("Append To"),
    Privilege.ASSIGN.value: N_("Assign"),
    Privilege.SHARE.value: N_("Share"),
}
DEPTH_LABELS = {
    int(Depth.NONE): N_("None"),
    int(Depth.USER): N_("User"),
    int(Depth.BUSINESS_UNIT): N_("Business Unit"),
    int(Depth.PARENT_CHILD): N_("Parent: Child Business Units"),
    int(Depth.ORGANIZATION): N_("Organization"),
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
}
DECISION_LABELS = {"yes": N_("Identified"), "no": N_("Not identified")}

# The stages of the Lead to Opportunity Sales Process (§7), by their names in leadflow.process.flow.
STAGE_LABELS = {"qualify": N_("Qualify"), "develop": N_("Develop"), "propose": N_("Propose"), "close": N_("Close")}
# Each step of the process is named after the column it fills.
STEP_LABELS = {
    step.name: COLUMN_LABELS[step.column] for stage in LEAD_TO_OPPORTUNITY_PROCESS for step in stage.steps
}


def label(language: str, labels: dict, value: object) -> str:
    """The translated label of a stored value, or the value itself when it has none."""
    key = getattr(value, "value", value)
    message = labels.get(key)
    return gettext(language, message) if message else str(key if key is not None else "")
