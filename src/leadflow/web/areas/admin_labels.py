"""Labels of the administration pages: states, settings, roles, audited actions, merge choices.

Stored values (enum values, column names) are mapped to English message ids, translated where
they are shown. A value without a label here is shown as it is stored; the labels every area
shows (tables, columns, privileges, pick-lists) are in ``leadflow.web.labels``.
"""

from __future__ import annotations

from leadflow.duplicates.models import JobState, MergeState, RuleState
from leadflow.leads.models import BudgetStatus, LeadSource, Need, PurchaseProcess, PurchaseTimeframe, Rating
from leadflow.organisation.models import DuplicateExperience, QualificationExperience, RecordCreation
from leadflow.web.i18n import N_
from leadflow.web.labels import CHOICE_LABELS

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
    "password_change": N_("Change password"),
    "password_reset_link": N_("Password reset link"),
    "password_reset": N_("Reset password"),
    "two_factor_on": N_("Turn on two-factor sign-in"),
    "two_factor_off": N_("Turn off two-factor sign-in"),
    "deactivate": N_("Deactivate user"),
    "reassign": N_("Reassign records"),
    "role_two_factor": N_("Two-factor sign-in rule of a role"),
}

# The kinds of access tokens, by stored value (leadflow.security.models.TokenKind).
TOKEN_KIND_LABELS = {
    "sign_in": N_("API sign-in"),
    "personal": N_("Personal API token"),
    "web_session": N_("Web session"),
    "password_reset": N_("Password reset link"),
    "two_factor": N_("Sign-in awaiting its code"),
}

LANGUAGE_LABELS = {"en": "English", "es": "Español"}


# Pick-list values of the columns a merge can choose (§1), by stored value.
VALUE_LABELS = {
    value: text
    for choices in (LeadSource, Rating, PurchaseTimeframe, BudgetStatus, PurchaseProcess, Need)
    for value, text in CHOICE_LABELS[choices].items()
}

# What a merge moves, by table, then by the column that pointed at the subordinate.
MOVED_LABELS = {
    "notes": {"regarding_id": N_("Notes and attachments")},
    "contacts": {"account_id": N_("Contacts of the account"), "originating_lead_id": N_("Contacts created from the lead")},
    "opportunities": {
        "parent_account_id": N_("Opportunities (parent account)"),
        "parent_contact_id": N_("Opportunities (parent contact)"),
        "customer_id": N_("Opportunities (potential customer)"),
        "originating_lead_id": N_("Opportunities created from the lead"),
    },
    "leads": {
        "parent_account_id": N_("Leads linked to the account"),
        "parent_contact_id": N_("Leads linked to the contact"),
    },
    "accounts": {
        "primary_contact_id": N_("Accounts with this primary contact"),
        "originating_lead_id": N_("Accounts created from the lead"),
    },
    "duplicate_set_members": {"record_id": N_("Duplicate sets the subordinate was in")},
}
