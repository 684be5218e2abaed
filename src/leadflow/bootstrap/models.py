"""Every mapped table, loaded in one place: metadata (and Alembic, which compares it with the
database) sees them all, and lower domains can find a record's class by its table name."""

from leadflow.activities import models as activities
from leadflow.catalog import models as catalog
from leadflow.core.db import Base
from leadflow.customers import models as customers
from leadflow.duplicates import models as duplicates
from leadflow.fields import models as fields
from leadflow.jobs import models as jobs
from leadflow.leads import models as leads
from leadflow.opportunities import models as opportunities
from leadflow.organisation import models as organisation
from leadflow.sales import models as sales
from leadflow.scoring import models as scoring
from leadflow.security import audit
from leadflow.security import models as security
from leadflow.transfer import models as transfer
from leadflow.webhooks import models as webhooks

# Importing a module of models registers its tables with ``Base.metadata``.
MODEL_MODULES = (
    activities,
    audit,
    catalog,
    customers,
    duplicates,
    fields,
    jobs,
    leads,
    opportunities,
    organisation,
    sales,
    scoring,
    security,
    transfer,
    webhooks,
)
metadata = Base.metadata

__all__ = ["MODEL_MODULES", "metadata"]
