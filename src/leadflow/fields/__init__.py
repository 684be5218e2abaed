"""Making leadflow theirs: custom fields on leads, accounts, contacts and opportunities, and saved views."""

# The service registers how records show their custom values (leadflow.fields.models.SHOWN) on import.
from leadflow.fields import service as service
