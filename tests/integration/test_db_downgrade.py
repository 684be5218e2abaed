"""``leadflow db downgrade REVISION`` takes the schema down one revision at a time to base, and the
migrations build it up again, on each backend: after every step the tables, the columns each revision
adds or drops, the lead list's indexes and ``alembic_version`` are what that revision leaves.

Each test has a database of its own (the shared test database stays at the latest revision). Every
revision in ``migrations/versions`` must be described in ``CHANGES`` below, so that a new migration
is downgraded here too.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from unittest.mock import patch

import pytest
from alembic import command
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import SAWarning
from typer.testing import CliRunner

from leadflow.bootstrap import prepare_database
from leadflow.cli import app
from leadflow.cli.common import console, errors
from leadflow.core import migrate
from leadflow.core.config import Settings
from leadflow.core.db import make_engine
from leadflow.organisation.models import Currency
from leadflow.security.actor import default_actor
from leadflow.security.models import User
from leadflow.security.service import create_user
from tests.conftest import (
    ADMIN_EMAIL,
    BACKENDS,
    _create_postgres_database,
    _drop_postgres_database,
    _postgres_available,
    _postgres_problem,
)

SELLER = "seller@example.com"
SORT_INDEXES = frozenset(
    f"ix_leads_sort_{key}"
    for key in (
        "modified_at",
        "topic",
        "full_name",
        "last_name",
        "company_name",
        "email",
        "status_reason",
        "rating",
        "budget_amount",
    )
)
SEARCH_INDEXES = frozenset(f"ix_leads_search_{column}" for column in ("topic", "full_name", "company_name", "email"))


@dataclass(frozen=True)
class Change:
    """What one revision does to the schema, written by hand from its migration."""

    tables: frozenset[str] = frozenset()
    added: dict[str, set[str]] = field(default_factory=dict)  # columns it adds, by table
    dropped: dict[str, set[str]] = field(default_factory=dict)  # columns it drops, by table
    lead_indexes: dict[str, frozenset[str]] = field(default_factory=dict)  # indexes on leads, by backend
    sqlite_search: bool = False  # SQLite's FTS5 lead search (leads_search and leads_search_rows)


CHANGES = {
    "0001": Change(
        tables=frozenset(
            {
                "business_units",
                "campaigns",
                "currencies",
                "organisation_settings",
                "teams",
                "users",
                "leads",
                "notes",
                "accounts",
                "attachments",
                "contacts",
                "opportunities",
            }
        ),
        added={"users": {"email", "full_name", "language"}, "organisation_settings": {"base_currency_id"}},
    ),
    "0002": Change(
        tables=frozenset(
            {
                "roles",
                "role_privileges",
                "access_tokens",
                "audit_entries",
                "record_shares",
                "team_members",
                "user_roles",
            }
        ),
        added={"users": {"password_hash", "failed_sign_ins", "locked_until", "last_sign_in_at"}},
    ),
    "0003": Change(
        tables=frozenset(
            {
                "duplicate_rules",
                "duplicate_match_codes",
                "duplicate_rule_conditions",
                "duplicate_jobs",
                "merge_journal",
                "duplicate_sets",
                "duplicate_set_members",
            }
        ),
        added={
            "organisation_settings": {
                "detect_duplicates_leads",
                "detect_duplicates_accounts",
                "detect_duplicates_contacts",
                "default_phone_region",
                "builtin_duplicate_rules_created",
            }
        },
    ),
    "0004": Change(
        lead_indexes={"sqlite": SORT_INDEXES, "postgresql": SORT_INDEXES | SEARCH_INDEXES},
        sqlite_search=True,
    ),
    "0005": Change(
        tables=frozenset({"recovery_codes", "sign_in_failures"}),
        added={"users": {"totp_secret", "totp_enabled_at", "totp_last_step"}, "roles": {"requires_two_factor"}},
        dropped={"users": {"failed_sign_ins", "locked_until"}},
    ),
    "0006": Change(tables=frozenset({"security_generation"})),
    "0007": Change(added={"users": {"time_zone"}, "organisation_settings": {"default_time_zone"}}),
    "0008": Change(tables=frozenset({"team_roles"})),
    "0009": Change(
        tables=frozenset({"competitors", "opportunity_closes", "opportunity_competitors"}),
        added={
            "opportunities": {
                "status_reason",
                "probability",
                "rating",
                "actual_revenue",
                "actual_close_date",
                "process_status",
                "exchange_rate",
                "estimated_revenue_base",
                "actual_revenue_base",
            },
            "leads": {"exchange_rate", "budget_amount_base"},
            "currencies": {"precision"},
        },
    ),
    "0010": Change(),  # indexes on opportunities only (the pipeline board and the forecast)
    "0011": Change(),  # a data step: base amounts of the records saved before 0009
    "0012": Change(tables=frozenset({"jobs", "job_items"})),
    "0013": Change(tables=frozenset({"transfer_files", "transfer_chunks", "import_mappings"})),
    "0014": Change(
        tables=frozenset(
            {
                "document_numbering",
                "unit_groups",
                "units",
                "product_families",
                "products",
                "discount_lists",
                "discount_tiers",
                "price_lists",
                "price_list_items",
                "opportunity_products",
                "quotes",
                "quote_lines",
                "orders",
                "order_lines",
                "invoices",
                "invoice_lines",
            }
        ),
        added={
            "opportunities": {
                "revenue_calculation",
                "price_list_id",
                "discount_percentage",
                "discount_amount",
                "freight_amount",
                "detail_amount",
                "total_line_discount",
                "total_discount_amount",
                "pre_freight_amount",
                "total_tax",
                "total_amount",
            },
            "organisation_settings": {"company_name", "company_address"},
        },
    ),
    "0015": Change(tables=frozenset({"activities", "activity_parties", "calendar_feeds"})),
    # An index on the lead's e-mail; the parent-account index is made again over linked leads only.
    "0016": Change(lead_indexes={"sqlite": frozenset({"ix_leads_email"}), "postgresql": frozenset({"ix_leads_email"})}),
    # Scoring models, versions and the lead's score: the score and grade on the lead, with their indexes.
    "0017": Change(
        tables=frozenset({"scoring_models", "scoring_versions", "lead_scores"}),
        added={"leads": {"score", "score_grade"}},
        lead_indexes={
            backend: frozenset({"ix_leads_sort_score", "ix_leads_state_grade"}) for backend in ("sqlite", "postgresql")
        },
    ),
    # Custom field definitions and their qualify mappings, saved views and defaults; a JSON column of
    # custom values on each customisable table.
    "0018": Change(
        tables=frozenset({"custom_fields", "custom_field_mappings", "saved_views", "saved_view_defaults"}),
        added={table: {"custom"} for table in ("leads", "accounts", "contacts", "opportunities")},
    ),
    # Webhook subscriptions and their deliveries (the outbox).
    "0019": Change(tables=frozenset({"webhooks", "webhook_deliveries"})),
    # An account's usual payment terms, which its quotes take.
    "0020": Change(added={"accounts": {"payment_terms"}}),
}
ALL_LEAD_INDEXES = frozenset().union(*(names for change in CHANGES.values() for names in change.lead_indexes.values()))


def leadflow(*arguments: str, input: str | None = None):  # type: ignore[no-untyped-def]
    with patch.object(console, "_width", 400), patch.object(errors, "_width", 400):
        return CliRunner().invoke(app, list(arguments), input=input, env={"COLUMNS": "400"})


def one_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert "Traceback" not in output
    return lines[0]


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a new, empty database of each backend, for this test alone."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'leadflow.db'}"
        return
    if not _postgres_available():
        pytest.skip(f"PostgreSQL not reachable: {_postgres_problem[0]}")
    name, postgres_url = _create_postgres_database()
    try:
        yield postgres_url
    finally:
        _drop_postgres_database(name)


@pytest.fixture
def organisation(url: str) -> str:
    """The database at the latest revision, with the organisation, its administrator and a salesperson."""
    database = prepare_database(Settings(database_url=url)).database
    with database.unit_of_work() as uow:
        create_user(
            email=ADMIN_EMAIL,
            full_name="Ada Admin",
            role_names=["System Administrator"],
            business_unit_name=None,
            password=None,
            uow=uow,
            actor=None,
        )
        uow.commit()
    with database.unit_of_work() as uow:
        create_user(
            email=SELLER,
            full_name="Sam Seller",
            role_names=["Salesperson"],
            business_unit_name=None,
            password=None,
            uow=uow,
            actor=default_actor(uow.session),
        )
        uow.commit()
    database.dispose()
    return url


def expected_schema(
    revision: str | None, backend: str
) -> tuple[set[str], dict[str, set[str]], dict[str, set[str]], set[str], bool]:
    """The tables, the columns present and absent by table, the lead indexes and the lead search at a revision."""
    applied = [] if revision is None else migrate.revisions()[: migrate.revisions().index(revision) + 1]
    tables: set[str] = set()
    present: dict[str, set[str]] = {}
    absent: dict[str, set[str]] = {}
    indexes: set[str] = set()
    search = False
    for name in applied:
        change = CHANGES[name]
        tables |= change.tables
        for table, columns in change.added.items():
            present.setdefault(table, set()).update(columns)
            absent.setdefault(table, set()).difference_update(columns)
        for table, columns in change.dropped.items():
            absent.setdefault(table, set()).update(columns)
            present.setdefault(table, set()).difference_update(columns)
        indexes |= change.lead_indexes.get(backend, frozenset())
        search = search or (change.sqlite_search and backend == "sqlite")
    return tables, present, absent, indexes, search


def assert_schema(url: str, revision: str | None) -> None:
    """The database's schema is the one ``revision`` (None: base) leaves, and alembic_version says so."""
    engine = make_engine(url)
    try:
        backend = engine.dialect.name
        tables, present, absent, indexes, search = expected_schema(revision, backend)
        found = set(inspect(engine).get_table_names())
        assert found - {"alembic_version"} - {name for name in found if name.startswith("leads_search")} == tables
        assert (
            {"leads_search", "leads_search_rows"} <= found
            if search
            else not any(name.startswith("leads_search") for name in found)
        ), sorted(found)
        for table in tables:
            columns = {column["name"] for column in inspect(engine).get_columns(table)}
            assert present.get(table, set()) <= columns, (table, present[table] - columns)
            assert not absent.get(table, set()) & columns, (table, absent[table] & columns)
        with engine.connect() as connection:
            if "leads" in tables:
                statement = (
                    "SELECT indexname FROM pg_indexes WHERE tablename = 'leads'"
                    if backend == "postgresql"
                    else "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'leads'"
                )
                on_leads = set(connection.execute(text(statement)).scalars())
                assert on_leads & ALL_LEAD_INDEXES == indexes, sorted(on_leads & ALL_LEAD_INDEXES ^ indexes)
            versions = (
                list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
                if "alembic_version" in found
                else []
            )
        assert versions == ([] if revision is None else [revision])
        assert migrate.current_revision(engine) == revision
    finally:
        engine.dispose()


def count(url: str, model: type) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(model.__table__)).scalar_one()
    finally:
        engine.dispose()


def test_every_revision_is_described_here() -> None:
    assert list(CHANGES) == migrate.revisions()


def test_db_downgrade_goes_down_one_revision_at_a_time_to_base_and_the_migrations_go_up_again(
    organisation: str,
) -> None:
    url = organisation
    *earlier, head = migrate.revisions()
    assert_schema(url, head)
    users, currencies = count(url, User), count(url, Currency)
    assert users == 2 and currencies > 0

    for revision in [*reversed(earlier), migrate.BASE]:
        result = leadflow("--database-url", url, "db", "downgrade", revision, "--yes")
        assert result.exit_code == 0, result.output
        assert f"The database schema is at revision {revision}" in result.stdout
        reached = None if revision == migrate.BASE else revision
        assert_schema(url, reached)
        if reached is not None:  # the rows of the tables that stay stay, however SQLite rebuilt them
            assert (count(url, User), count(url, Currency)) == (users, currencies)

    engine = make_engine(url)
    try:
        for revision in migrate.revisions():
            migrate.upgrade(engine, revision)
            assert_schema(url, revision)
    finally:
        engine.dispose()

    result = leadflow("--database-url", url, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert_schema(url, head)
    with warnings.catch_warnings():  # as tests/integration/test_migrations.py: the models' schema, exactly
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index", SAWarning)
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")
        command.check(migrate.alembic_config(url))


def test_it_goes_down_several_revisions_at_once(organisation: str) -> None:
    result = leadflow("--database-url", organisation, "db", "downgrade", "0002", "--yes")
    assert result.exit_code == 0, result.output
    assert_schema(organisation, "0002")
    assert count(organisation, Currency) > 0


def test_an_unknown_revision_is_one_line_and_exit_code_2(organisation: str) -> None:
    head = migrate.revisions()[-1]
    result = leadflow("--database-url", organisation, "db", "downgrade", "9999", "--yes")
    assert result.exit_code == 2, result.output
    line = one_line(result.stderr)
    assert line.startswith("Error:") and "'9999'" in line and "base" in line and "(unknown_revision)" in line
    assert result.stdout == ""
    assert_schema(organisation, head)


def test_a_revision_above_the_databases_is_one_line_and_exit_code_2(organisation: str) -> None:
    assert leadflow("--database-url", organisation, "db", "downgrade", "0003", "--yes").exit_code == 0
    result = leadflow("--database-url", organisation, "db", "downgrade", "0004", "--yes")
    assert result.exit_code == 2, result.output
    assert "(revision_above_current)" in one_line(result.stderr)
    assert_schema(organisation, "0003")
    again = leadflow("--database-url", organisation, "db", "downgrade", "0003")  # nothing to do: no question
    assert again.exit_code == 0, again.output
    assert "already at revision 0003" in again.stdout
    assert_schema(organisation, "0003")


def test_it_asks_before_dropping_anything_unless_told_yes(organisation: str) -> None:
    *_, previous, head = migrate.revisions()
    declined = leadflow("--database-url", organisation, "db", "downgrade", previous, input="n\n")
    assert declined.exit_code == 1, declined.output
    assert f"from revision {head} to {previous}" in declined.stdout and "dropped" in declined.stdout
    assert_schema(organisation, head)
    accepted = leadflow("--database-url", organisation, "db", "downgrade", previous, input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert_schema(organisation, previous)


def test_a_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.db"
    result = leadflow("--database-url", f"sqlite:///{path}", "db", "downgrade", "base", "--yes")
    assert result.exit_code == 3, result.output
    assert "(no_database)" in one_line(result.stderr)
    assert not path.exists()


def test_under_as_only_an_administrator_may_downgrade(organisation: str) -> None:
    *_, previous, head = migrate.revisions()
    refused = leadflow("--database-url", organisation, "--as", SELLER, "db", "downgrade", migrate.BASE, "--yes")
    assert refused.exit_code == 1, refused.output
    assert "(operator_command)" in one_line(refused.stderr) and "not a System Administrator" in refused.stderr
    assert_schema(organisation, head)

    allowed = leadflow("--database-url", organisation, "--as", ADMIN_EMAIL, "db", "downgrade", previous, "--yes")
    assert allowed.exit_code == 0, allowed.output
    assert_schema(organisation, previous)

    # Below the latest revision, who --as names cannot be read: nobody may go on under --as.
    for email in (SELLER, ADMIN_EMAIL):
        below = leadflow("--database-url", organisation, "--as", email, "db", "downgrade", migrate.BASE, "--yes")
        assert below.exit_code == 1, below.output
        assert "(operator_command)" in one_line(below.stderr)
        assert_schema(organisation, previous)
