"""Every mapped table, imported in one place so that metadata and Alembic see them all."""

from leadflow.activities.models import Attachment, Note
from leadflow.security.audit import AuditEntry
from leadflow.customers.models import Account, Contact
from leadflow.core.db import Base
from leadflow.duplicates.models import (
    DuplicateJob,
    DuplicateRule,
    DuplicateRuleCondition,
    DuplicateSet,
    DuplicateSetMember,
    MatchCode,
    MergeJournal,
)
from leadflow.leads.models import Lead
from leadflow.opportunities.models import Opportunity
from leadflow.organisation.models import Campaign, Currency, OrganisationSettings
from leadflow.security.models import (
    AccessToken,
    BusinessUnit,
    RecordShare,
    Role,
    RolePrivilege,
    Team,
    TeamMember,
    User,
    UserRole,
)

metadata = Base.metadata

__all__ = [
    "AccessToken",
    "Account",
    "Attachment",
    "AuditEntry",
    "BusinessUnit",
    "Campaign",
    "Contact",
    "Currency",
    "DuplicateJob",
    "DuplicateRule",
    "DuplicateRuleCondition",
    "DuplicateSet",
    "DuplicateSetMember",
    "Lead",
    "MatchCode",
    "MergeJournal",
    "Note",
    "Opportunity",
    "OrganisationSettings",
    "RecordShare",
    "Role",
    "RolePrivilege",
    "Team",
    "TeamMember",
    "User",
    "UserRole",
    "metadata",
]
