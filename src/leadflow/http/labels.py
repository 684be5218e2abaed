"""Labels of the stored values a refusal names (tables, privileges, access levels), for every HTTP entry point.

A refused request names them in its sentence ("You lack the Read privilege on Users..."), on a web
page and in the REST API's error body alike. Stored values are mapped to English message ids,
translated where they are shown; a value without a label here is shown as it is stored. The labels
only the web pages show are in ``leadflow.web.labels``.
"""

from __future__ import annotations

import enum

from leadflow.activities.models import ActivityState, ActivityStatus, ActivityType, Direction, Priority
from leadflow.duplicates.models import DetectionTable
from leadflow.http.language import N_, gettext
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
from leadflow.security.privileges import Depth, Privilege

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
    "competitors": N_("Competitors"),
    "currencies": N_("Currencies"),
    "products": N_("Product catalogue"),
    "price_overrides": N_("Override prices"),
    "quotes": N_("Quotes"),
    "orders": N_("Orders"),
    "invoices": N_("Invoices"),
    "tasks": N_("Tasks"),
    "phone_calls": N_("Phone calls"),
    "appointments": N_("Appointments"),
    "emails": N_("Emails"),
    "webhooks": N_("Webhooks"),
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


# The label of every column a page, a refusal or a spreadsheet names (import mappings, export headers).
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
    # Activities (reference §5): Dynamics' types, states and status reasons (statuscode).
    ActivityType: {
        "task": N_("Task"),
        "phone_call": N_("Phone call"),
        "appointment": N_("Appointment"),
        "email": N_("Email"),
    },
    ActivityState: {"open": N_("Open"), "completed": N_("Completed"), "canceled": N_("Canceled")},
    ActivityStatus: {
        "not_started": N_("Not started"),
        "in_progress": N_("In progress"),
        "waiting": N_("Waiting on someone else"),
        "deferred": N_("Deferred"),
        "open": N_("Open"),
        "made": N_("Made"),
        "received": N_("Received"),
        "free": N_("Free"),
        "tentative": N_("Tentative"),
        "busy": N_("Busy"),
        "out_of_office": N_("Out of office"),
        "draft": N_("Draft"),
        "failed": N_("Failed"),
        "sent": N_("Sent"),
        "pending_send": N_("Pending send"),
        "sending": N_("Sending"),
        "completed": N_("Completed"),
        "canceled": N_("Canceled"),
    },
    Priority: {"low": N_("Low"), "normal": N_("Normal"), "high": N_("High")},
    Direction: {"incoming": N_("Incoming"), "outgoing": N_("Outgoing")},
}
DECISION_LABELS = {"yes": N_("Identified"), "no": N_("Not identified")}


def label(language: str, labels: dict, value: object) -> str:
    """The translated label of a stored value, or the value itself when it has none."""
    key = getattr(value, "value", value)
    message = labels.get(key)
    return gettext(language, message) if message else str(key if key is not None else "")
