"""indexes that serve every sort and the search of the lead list

Revision ID: 0004
Revises: 0003

Sorting: one index per sortable key of the lead list, on the very expression
``leadflow.leads.models.LEAD_SORTS`` sorts by, with the id behind it for the keyset, then state
and owner so that the views' filters are tested on the index entry.

Search (topic, full name, company and e-mail contain a term, ignoring letter case):

* PostgreSQL: the ``pg_trgm`` extension (a trusted extension: the database's owner may create
  it) and one trigram GIN index per searched column on ``lower(column)``, which serves the
  ``lower(column) LIKE '%term%'`` of ``leadflow.leads.views`` as it is.
* SQLite: an FTS5 table with the trigram tokenizer, ``leads_search``, whose rowid is the
  ``id`` of ``leads_search_rows`` (lead id -> search row). The leads table's own rowid is not
  used because VACUUM may renumber it. Triggers on ``leads`` keep both tables current.

Neither structure is in the models (``migrations/env.py`` leaves them out of comparisons).
A later migration that rebuilds ``leads`` on SQLite (Alembic's batch mode copies the table)
drops the triggers and the expression indexes with the old table and must create them again;
``tests/integration/test_lead_list_indexes.py`` fails if it does not.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_SORTS = {
    "modified_at": "modified_at",
    "topic": "lower(coalesce(topic, ''))",
    "full_name": "lower(coalesce(full_name, ''))",
    "last_name": "lower(coalesce(last_name, ''))",
    "company_name": "lower(coalesce(company_name, ''))",
    "email": "lower(coalesce(email, ''))",
    "status_reason": (
        "CASE status_reason WHEN 'new' THEN 1 WHEN 'contacted' THEN 2 WHEN 'qualified' THEN 3 "
        "WHEN 'lost' THEN 4 WHEN 'cannot_contact' THEN 5 WHEN 'no_longer_interested' THEN 6 "
        "WHEN 'canceled' THEN 7 ELSE 0 END"
    ),
    "rating": "CASE rating WHEN 'hot' THEN 1 WHEN 'warm' THEN 2 WHEN 'cold' THEN 3 ELSE 0 END",
    "budget_amount": "coalesce(budget_amount, -10000)",
}
_SEARCHED = ("topic", "full_name", "company_name", "email")


def upgrade() -> None:
    for key, expression in _SORTS.items():
        column = expression if key == "modified_at" else sa.text(f"({expression})")
        op.create_index(f"ix_leads_sort_{key}", "leads", [column, "id", "state", "owner_user_id"])
    if op.get_context().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name in _SEARCHED:
            op.execute(f"CREATE INDEX ix_leads_search_{name} ON leads USING gin (lower({name}) gin_trgm_ops)")
    elif op.get_context().dialect.name == "sqlite":
        _create_sqlite_search()


def _create_sqlite_search() -> None:
    import sqlite3

    if sqlite3.sqlite_version_info < (3, 34):
        raise RuntimeError(
            f"leadflow's lead search needs SQLite 3.34 or newer (its FTS5 trigram tokenizer); this Python "
            f"uses SQLite {sqlite3.sqlite_version}. Use a Python built with a newer SQLite, or PostgreSQL."
        )
    columns = ", ".join(_SEARCHED)
    new_values = ", ".join(f"new.{name}" for name in _SEARCHED)
    op.execute("CREATE TABLE leads_search_rows (id INTEGER PRIMARY KEY, lead_id CHAR(32) NOT NULL UNIQUE)")
    op.execute(f"CREATE VIRTUAL TABLE leads_search USING fts5({columns}, tokenize='trigram')")
    op.execute("INSERT INTO leads_search_rows (lead_id) SELECT id FROM leads")
    op.execute(
        f"INSERT INTO leads_search (rowid, {columns}) "
        f"SELECT r.id, {', '.join(f'l.{name}' for name in _SEARCHED)} FROM leads l JOIN leads_search_rows r ON r.lead_id = l.id"
    )
    op.execute(
        "CREATE TRIGGER leads_search_insert AFTER INSERT ON leads BEGIN "
        "INSERT INTO leads_search_rows (lead_id) VALUES (new.id); "
        f"INSERT INTO leads_search (rowid, {columns}) "
        f"VALUES ((SELECT id FROM leads_search_rows WHERE lead_id = new.id), {new_values}); "
        "END"
    )
    op.execute(
        f"CREATE TRIGGER leads_search_update AFTER UPDATE OF {columns} ON leads BEGIN "
        f"UPDATE leads_search SET {', '.join(f'{name} = new.{name}' for name in _SEARCHED)} "
        "WHERE rowid = (SELECT id FROM leads_search_rows WHERE lead_id = new.id); "
        "END"
    )
    op.execute(
        "CREATE TRIGGER leads_search_delete AFTER DELETE ON leads BEGIN "
        "DELETE FROM leads_search WHERE rowid = (SELECT id FROM leads_search_rows WHERE lead_id = old.id); "
        "DELETE FROM leads_search_rows WHERE lead_id = old.id; "
        "END"
    )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for name in _SEARCHED:
            op.execute(f"DROP INDEX ix_leads_search_{name}")
    elif op.get_context().dialect.name == "sqlite":
        for trigger in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER leads_search_{trigger}")
        op.execute("DROP TABLE leads_search")
        op.execute("DROP TABLE leads_search_rows")
    for key in reversed(list(_SORTS)):
        op.drop_index(f"ix_leads_sort_{key}", table_name="leads")
