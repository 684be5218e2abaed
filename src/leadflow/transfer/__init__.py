"""Import and export of leads, accounts, contacts and opportunities."""
