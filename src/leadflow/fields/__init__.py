"""Making leadflow theirs: custom fields on leads, accounts, contacts and opportunities, and saved views."""
