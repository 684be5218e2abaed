"""Labels of the stored values a refusal names (tables, privileges, access levels), for every HTTP entry point.

A refused request names them in its sentence ("You lack the Read privilege on Users..."), on a web
page and in the REST API's error body alike. Stored values are mapped to English message ids,
translated where they are shown; a value without a label here is shown as it is stored. The labels
only the web pages show are in ``leadflow.web.labels``.
"""

from __future__ import annotations

from leadflow.duplicates.models import DetectionTable
from leadflow.http.language import N_, gettext
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


def label(language: str, labels: dict, value: object) -> str:
    """The translated label of a stored value, or the value itself when it has none."""
    key = getattr(value, "value", value)
    message = labels.get(key)
    return gettext(language, message) if message else str(key if key is not None else "")
