"""The kernel every domain stands on: settings, database, unit of work, errors, paging, formatting."""
