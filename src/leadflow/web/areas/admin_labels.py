"""Labels of the administration pages: tables, columns, criteria, states, privileges and levels.

Stored values (enum values, column names) are mapped to English message ids, translated where
they are shown. A value without a label here is shown as it is stored.
"""

from __future__ import annotations

from leadflow.duplicates.criteria import Criterion
from leadflow.duplicates.models import DetectionTable, JobState, MergeState, RuleState
from leadflow.leads.models import (
    BudgetStatus,
    LeadSource,
    Need,
    PurchaseProcess,
    PurchaseTimeframe,
    Rating,
)
from leadflow.organisation.models import (
    DuplicateExperience,
    QualificationExperience,
    RecordCreation,
)
from leadflow.security.privileges import Depth, Privilege
from leadflow.web.areas.choice_labels import CHOICE_LABELS
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

# One record of a table, for sentences such as "Merge two accounts".
RECORD_LABELS = {
    DetectionTable.LEADS.value: N_("Lead"),
    DetectionTable.ACCOUNTS.value: N_("Account"),
    DetectionTable.CONTACTS.value: N_("Contact"),
    DetectionTable.OPPORTUNITIES.value: N_("Opportunity"),
}

# The page of a record, for links from the administration pages to the sales hub.
RECORD_PAGES = {
    DetectionTable.LEADS.value: "/leads/{id}",
    DetectionTable.ACCOUNTS.value: "/accounts/{id}",
    DetectionTable.CONTACTS.value: "/contacts/{id}",
    DetectionTable.OPPORTUNITIES.value: "/opportunities/{id}",
}

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

RULE_STATE_LABELS = {
    RuleState.UNPUBLISHED.value: N_("Unpublished"),
    RuleState.PUBLISHING.value: N_("Publishing"),
    RuleState.PUBLISHED.value: N_("Published"),
}
RULE_STATE_BADGES = {RuleState.UNPUBLISHED.value: "", RuleState.PUBLISHING.value: "warn", RuleState.PUBLISHED.value: "ok"}

JOB_STATE_LABELS = {
    JobState.QUEUED.value: N_("Queued"),
    JobState.RUNNING.value: N_("Running"),
    JobState.COMPLETED.value: N_("Completed"),
    JobState.FAILED.value: N_("Failed"),
}
JOB_STATE_BADGES = {JobState.QUEUED.value: "", JobState.RUNNING.value: "warn", JobState.COMPLETED.value: "ok",
                    JobState.FAILED.value: "bad"}

MERGE_STATE_LABELS = {MergeState.MERGED.value: N_("Merged"), MergeState.UNDONE.value: N_("Undone")}

QUALIFICATION_EXPERIENCE_LABELS = {
    QualificationExperience.LEGACY.value: N_("One switch for the three records"),
    QualificationExperience.PER_RECORD.value: N_("Automatic or seller choice, record by record"),
}
RECORD_CREATION_LABELS = {
    RecordCreation.AUTOMATIC.value: N_("Automatic"),
    RecordCreation.SELLER.value: N_("Seller"),
}
DUPLICATE_EXPERIENCE_LABELS = {
    DuplicateExperience.CLASSIC.value: N_("Classic: the Duplicate warning dialog with filtered lookups"),
    DuplicateExperience.ENHANCED.value: N_("Enhanced: “The account or contact might already exist”"),
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

ROLE_LABELS = {
    "System Administrator": N_("System Administrator"),
    "System Customizer": N_("System Customizer"),
    "Vice President of Sales": N_("Vice President of Sales"),
    "Sales Manager": N_("Sales Manager"),
    "Salesperson": N_("Salesperson"),
    "Sales Team Member": N_("Sales Team Member"),
}

ACTION_LABELS = {
    "create": N_("Create"),
    "update": N_("Update"),
    "delete": N_("Delete"),
    "assign": N_("Assign"),
    "share": N_("Share"),
    "qualify": N_("Qualify"),
    "disqualify": N_("Disqualify"),
    "reactivate": N_("Reactivate"),
    "merge": N_("Merge"),
    "unmerge": N_("Undo merge"),
    "publish": N_("Publish"),
    "unpublish": N_("Unpublish"),
    "note_add": N_("Add note"),
    "role_create": N_("Create role"),
    "role_grant": N_("Grant role"),
    "role_revoke": N_("Revoke role"),
    "settings_change": N_("Change settings"),
    "set_password": N_("Set password"),
    "sign_in": N_("Sign in"),
    "sign_in_failed": N_("Failed sign-in"),
    "sign_out": N_("Sign out"),
    "team_add_member": N_("Add team member"),
    "token_create": N_("Create token"),
    "token_revoke": N_("Revoke token"),
    "locked": N_("Account locked"),
}

LANGUAGE_LABELS = {"en": "English", "es": "Español"}


def label(language: str, labels: dict, value: object) -> str:
    """The translated label of a stored value, or the value itself when it has none."""
    key = getattr(value, "value", value)
    message = labels.get(key)
    return gettext(language, message) if message else str(key if key is not None else "")


# Pick-list values of the columns a merge can choose (§1), by stored value.
VALUE_LABELS = {
    value: text
    for choices in (LeadSource, Rating, PurchaseTimeframe, BudgetStatus, PurchaseProcess, Need)
    for value, text in CHOICE_LABELS[choices].items()
}

# What a merge moves, by table and the column that pointed at the subordinate.
MOVED_LABELS = {
    ("notes", "regarding_id"): N_("Notes and attachments"),
    ("contacts", "account_id"): N_("Contacts of the account"),
    ("opportunities", "parent_account_id"): N_("Opportunities (parent account)"),
    ("opportunities", "parent_contact_id"): N_("Opportunities (parent contact)"),
    ("opportunities", "customer_id"): N_("Opportunities (potential customer)"),
    ("opportunities", "originating_lead_id"): N_("Opportunities created from the lead"),
    ("leads", "parent_account_id"): N_("Leads linked to the account"),
    ("leads", "parent_contact_id"): N_("Leads linked to the contact"),
    ("accounts", "primary_contact_id"): N_("Accounts with this primary contact"),
    ("accounts", "originating_lead_id"): N_("Accounts created from the lead"),
    ("contacts", "originating_lead_id"): N_("Contacts created from the lead"),
    ("duplicate_set_members", "record_id"): N_("Duplicate sets the subordinate was in"),
}
