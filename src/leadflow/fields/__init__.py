"""Custom fields: the columns an administrator adds to leads, accounts, contacts and opportunities."""
