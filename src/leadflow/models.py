"""Every mapped table, imported in one place so that metadata and Alembic see them all."""

from leadflow.activity.models import Attachment, Note
from leadflow.customers.models import Account, Contact
from leadflow.db import Base
from leadflow.leads.models import Lead
from leadflow.opportunities.models import Opportunity
from leadflow.organisation.models import Campaign, Currency, OrganisationSettings
from leadflow.security.models import BusinessUnit, Team, User

metadata = Base.metadata

__all__ = [
    "Account",
    "Attachment",
    "BusinessUnit",
    "Campaign",
    "Contact",
    "Currency",
    "Lead",
    "Note",
    "Opportunity",
    "OrganisationSettings",
    "Team",
    "User",
    "metadata",
]
