"""Labels of the administration pages: states, settings, roles, audited actions and changes, merge choices.

Stored values (enum values, column names) are mapped to English message ids, translated where
they are shown. A value without a label here is shown as it is stored; the labels every area
shows (tables, columns, privileges, pick-lists) are in ``leadflow.web.labels``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from leadflow.duplicates.models import JobState, MergeState, RuleState
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
from leadflow.opportunities.models import OpportunityState
from leadflow.organisation.models import DuplicateExperience, QualificationExperience, RecordCreation
from leadflow.web.i18n import N_
from leadflow.web.labels import CHOICE_LABELS, STAGE_LABELS, TABLE_LABELS
from leadflow.web.labels import ROLE_LABELS as ROLE_LABELS  # the administration pages name roles by it

RULE_STATE_LABELS = {
    RuleState.UNPUBLISHED.value: N_("Unpublished"),
    RuleState.PUBLISHING.value: N_("Publishing"),
    RuleState.PUBLISHED.value: N_("Published"),
}
RULE_STATE_BADGES = {
    RuleState.UNPUBLISHED.value: "",
    RuleState.PUBLISHING.value: "warn",
    RuleState.PUBLISHED.value: "ok",
}

JOB_STATE_LABELS = {
    JobState.QUEUED.value: N_("Queued"),
    JobState.RUNNING.value: N_("Running"),
    JobState.COMPLETED.value: N_("Completed"),
    JobState.FAILED.value: N_("Failed"),
}
JOB_STATE_BADGES = {
    JobState.QUEUED.value: "",
    JobState.RUNNING.value: "warn",
    JobState.COMPLETED.value: "ok",
    JobState.FAILED.value: "bad",
}

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

ACTION_LABELS = {
    "create": N_("Create"),
    "update": N_("Update"),
    "delete": N_("Delete"),
    "assign": N_("Assign"),
    "share": N_("Share"),
    "qualify": N_("Qualify"),
    "disqualify": N_("Disqualify"),
    "reactivate": N_("Reactivate"),
    "close": N_("Close opportunity"),
    "reopen": N_("Reopen opportunity"),
    "recalculate": N_("Recalculate open records"),
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
    "team_remove_member": N_("Remove team member"),
    "team_role_grant": N_("Grant team role"),
    "team_role_revoke": N_("Revoke team role"),
    "role_update": N_("Change role privileges"),
    "unshare": N_("Stop sharing"),
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
    "sign_in_throttled": N_("Sign-in held back after wrong attempts"),
    "cancel": N_("Cancel job"),
    "retry": N_("Retry job"),
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
    "contacts": {
        "account_id": N_("Contacts of the account"),
        "originating_lead_id": N_("Contacts created from the lead"),
    },
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


# ---------------------------------------------------------------------------------------------- the audit log

# The fields an audit entry's changes name beyond the columns of the sales records (COLUMN_LABELS):
# users', settings', rules' and what qualify, merge, share and reassign record.
AUDIT_FIELD_LABELS = {
    "language": N_("Language"),
    "time_zone": N_("Time zone"),
    "email": N_("Email"),
    "is_active": N_("Active"),
    "requires_two_factor": N_("Two-factor sign-in required"),
    "qualification_experience": N_("Lead qualification experience"),
    "create_records_on_qualify": N_(
        "Create account, contact, and opportunity records by default upon qualifying a lead"
    ),
    "account_creation": N_("Who creates the account"),
    "contact_creation": N_("Who creates the contact"),
    "opportunity_creation": N_("Who creates the opportunity"),
    "duplicate_experience": N_("Duplicate warning that sellers see"),
    "duplicate_detection_enabled": N_("Duplicate detection is on"),
    "detect_duplicates_leads": N_("Detect duplicates of leads"),
    "detect_duplicates_accounts": N_("Detect duplicates of accounts"),
    "detect_duplicates_contacts": N_("Detect duplicates of contacts"),
    "detect_duplicates_opportunities": N_("Detect duplicates of opportunities"),
    "default_phone_region": N_("Default phone region"),
    "default_time_zone": N_("Default time zone"),
    "base_table": N_("Base table"),
    "matching_table": N_("Matching table"),
    "case_sensitive": N_("Case-sensitive"),
    "exclude_inactive": N_("Exclude inactive matching records"),
    "contact_id": N_("Contact"),
    "opportunity_ids": N_("Opportunities"),
    "merge_id": N_("Merge"),
    "subordinate_id": N_("Subordinate"),
    "moved": N_("Records moved"),
    "grantee": N_("Shared with"),
    "rights": N_("Rights"),
    "to_user_id": N_("Records given to"),
}

# The labels of a changed field's values, by field (``state`` by table: a lead's, an opportunity's
# and a rule's differ). Booleans are Yes or No; languages are named in their own language.
AUDIT_VALUE_LABELS: dict[str, dict[str, str]] = {
    "status_reason": CHOICE_LABELS[LeadStatusReason],
    "lead_source": CHOICE_LABELS[LeadSource],
    "rating": CHOICE_LABELS[Rating],
    "purchase_timeframe": CHOICE_LABELS[PurchaseTimeframe],
    "budget_status": CHOICE_LABELS[BudgetStatus],
    "purchase_process": CHOICE_LABELS[PurchaseProcess],
    "need": CHOICE_LABELS[Need],
    "process_stage": STAGE_LABELS,
    "qualification_experience": QUALIFICATION_EXPERIENCE_LABELS,
    "account_creation": RECORD_CREATION_LABELS,
    "contact_creation": RECORD_CREATION_LABELS,
    "opportunity_creation": RECORD_CREATION_LABELS,
    "duplicate_experience": DUPLICATE_EXPERIENCE_LABELS,
    "base_table": TABLE_LABELS,
    "matching_table": TABLE_LABELS,
}
# The tables audit entries name: the sales and administration tables, and the jobs of the job queue.
AUDIT_TABLE_LABELS = {**TABLE_LABELS, "jobs": N_("Jobs")}

AUDIT_STATE_LABELS = {
    "leads": CHOICE_LABELS[LeadState],
    "opportunities": CHOICE_LABELS[OpportunityState],
    "duplicate_rules": RULE_STATE_LABELS,
}


@dataclass(frozen=True)
class AuditSummary:
    """How the services word an entry's summary for one action (on one table, or any): the stored
    English text's pattern, and either the sentence that says it in the user's language or, without
    one, the stored text with its named parts labelled in place.

    ``parts`` names the kind of each part: ``status_reason``, ``token_kind``, ``role``, ``roles`` (a
    comma-separated list), ``rule`` (a rule's name), ``table``, ``who`` (a user or "unknown user");
    a part of no kind (an email, an address, a number) is shown as stored.
    """

    action: str
    table: str | None
    pattern: re.Pattern[str]
    sentence: str | None = None
    parts: dict[str, str] = field(default_factory=dict)


def _summary(
    action: str, pattern: str, sentence: str | None = None, *, table: str | None = None, **parts: str
) -> AuditSummary:
    return AuditSummary(action, table, re.compile(pattern), sentence, parts)


AUDIT_SUMMARIES = (
    _summary("disqualify", r"(?P<reason>[a-z_]+)", reason="status_reason"),
    _summary("sign_in", r"(?P<kind>[a-z_]+)", kind="token_kind"),
    _summary("role_grant", r"(?P<role>.+)", role="role"),
    _summary("role_revoke", r"(?P<role>.+)", role="role"),
    _summary("role_two_factor", r"(?P<role>.+): required", N_("%(role)s: two-factor sign-in required"), role="role"),
    _summary("role_two_factor", r"(?P<role>.+): optional", N_("%(role)s: two-factor sign-in optional"), role="role"),
    *(
        _summary(action, r"(?P<rule>.+)", table="duplicate_rules", rule="rule")
        for action in ("create", "delete", "publish", "unpublish")
    ),
    _summary(
        "create",
        r"Find all duplicates in (?P<searched>\w+)",
        N_("Find all duplicates in %(searched)s"),
        table="duplicate_jobs",
        searched="table",
    ),
    _summary("create", r"\S+ \((?P<roles>.*)\)", table="users", roles="roles"),
    _summary("deactivate", r"(?P<count>\d+) sessions ended", N_("Sessions ended: %(count)s")),
    _summary("password_change", r"(?P<count>\d+) sessions ended", N_("Sessions ended: %(count)s")),
    _summary("sign_in_failed", r"wrong password", N_("Wrong password")),
    _summary("sign_in_failed", r"unknown user", N_("Unknown user")),
    _summary("sign_in_failed", r"unknown user (?P<email>\S+)", N_("Unknown user %(email)s")),
    _summary("sign_in_throttled", r"(?P<who>.+) from (?P<address>\S+)", N_("%(who)s from %(address)s"), who="who"),
)
UNKNOWN_USER = {"unknown user": N_("unknown user")}
