"""`leadflow duplicates ...` on SQLite and PostgreSQL: list, create, publish and unpublish rules, check values.

Refusals exit non-zero with the error's code (2 for bad input, 3 for a missing record, 1 otherwise)
and leave the database as it was.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from unittest.mock import patch

import pytest
from click.testing import Result
from sqlalchemy import func, select
from typer.testing import CliRunner

from leadflow.cli import app
from leadflow.cli.common import console
from leadflow.core.schemas import parse
from leadflow.core.uow import Database
from leadflow.customers.schemas import ContactCreate
from leadflow.customers.service import create_contact
from leadflow.duplicates import rules as rule_service
from leadflow.duplicates.engine import MATCH_CODES
from leadflow.duplicates.models import DuplicateRule, DuplicateRuleCondition, RuleState
from leadflow.security.audit import AUDIT_TABLE
from leadflow.security.service import create_user

JOB_TITLE_RULE = {
    "name": "Contacts with the same job title",
    "base_table": "contacts",
    "conditions": [{"base_column": "job_title", "criterion": "exact_match"}],
}


# ----------------------------------------------------------------------------------------------
# helpers


def leadflow(database: Database, *arguments: str) -> Result:
    """Run the command line against the test database, wide enough that tables never wrap.

    Rich fixes a console's width when it is made if COLUMNS is set then, as pytest-xdist's workers
    set it (80), so the width is also given to the console itself for the call."""
    with patch.object(console, "_width", 400):
        return CliRunner().invoke(app, ["--database-url", database.url, *arguments], env={"COLUMNS": "400"})


def rules_snapshot(database: Database) -> dict[str, Any]:
    with database.unit_of_work(read_only=True) as uow:
        session = uow.session
        rules, conditions = DuplicateRule.__table__, DuplicateRuleCondition.__table__
        return {
            "rules": [dict(row) for row in session.execute(select(rules).order_by(rules.c.id)).mappings()],
            "conditions": [
                dict(row)
                for row in session.execute(
                    select(conditions).order_by(conditions.c.rule_id, conditions.c.position)
                ).mappings()
            ],
            "match_codes": [
                tuple(row)
                for row in session.execute(select(MATCH_CODES).order_by(MATCH_CODES.c.rule_id, MATCH_CODES.c.record_id))
            ],
            "audit_entries": session.scalar(select(func.count()).select_from(AUDIT_TABLE)),
        }


def rule_named(database: Database, name: str) -> DuplicateRule:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalars(select(DuplicateRule).where(DuplicateRule.name == name)).one()


def make_contact(database: Database, actor, **fields: Any) -> uuid.UUID:
    with database.unit_of_work() as uow:
        contact = create_contact(parse(ContactCreate, fields), uow=uow, actor=actor)
        uow.commit()
        return contact.id


def create_rule(database: Database, definition: dict[str, Any] = JOB_TITLE_RULE) -> DuplicateRule:
    result = leadflow(database, "duplicates", "rules", "create", json.dumps(definition))
    assert result.exit_code == 0, result.output
    return rule_named(database, definition["name"])


# ----------------------------------------------------------------------------------------------
# rules list


def test_rules_list_shows_every_out_of_box_rule_with_its_state(database):
    result = leadflow(database, "duplicates", "rules", "list")

    assert result.exit_code == 0, result.output
    for name in (
        "Accounts with the same account name",
        "Accounts with a similar account name",
        "Accounts with the same email address",
        "Accounts with the same phone number",
        "Accounts with the same website",
        "Contacts with the same business phone",
        "Contacts with the same email address",
        "Contacts with the same first name and last name",
        "Contacts with a similar first name and last name",
        "Leads with the same email address",
        "Leads with the same business phone",
        "Leads with a similar first name and last name",
    ):
        assert name in result.output
    assert result.output.count("published") == 12
    assert "first_name exact_match first_name; last_name exact_match last_name" in result.output


def test_rules_list_shows_only_the_rules_of_one_table(database):
    result = leadflow(database, "duplicates", "rules", "list", "--table", "leads")

    assert result.exit_code == 0, result.output
    assert "Leads with the same email address" in result.output
    assert "Accounts" not in result.output and "Contacts" not in result.output


# ----------------------------------------------------------------------------------------------
# rules create


def test_rules_create_stores_an_unpublished_rule_from_its_json(database):
    result = leadflow(
        database,
        "duplicates",
        "rules",
        "create",
        json.dumps(
            {
                **JOB_TITLE_RULE,
                "conditions": [{"base_column": "job_title", "criterion": "same_first_characters", "n": 5}],
            }
        ),
    )

    assert result.exit_code == 0, result.output
    rule = rule_named(database, "Contacts with the same job title")
    assert f"Created rule Contacts with the same job title ({rule.id}), unpublished." in result.output
    assert rule.state is RuleState.UNPUBLISHED
    assert [(c.base_column, c.criterion.value, c.n) for c in rule.conditions] == [
        ("job_title", "same_first_characters", 5)
    ]


@pytest.mark.parametrize(
    ("definition", "code"),
    [
        pytest.param({**JOB_TITLE_RULE, "conditions": []}, "no_conditions", id="no-conditions"),
        pytest.param(
            {
                **JOB_TITLE_RULE,
                "conditions": [{"base_column": "job_title", "criterion": "same_last_characters", "n": 0}],
            },
            "n_required",
            id="n-zero",
        ),
        pytest.param(
            {**JOB_TITLE_RULE, "conditions": [{"base_column": "shoe_size", "criterion": "exact_match"}]},
            "unknown_column",
            id="unknown-column",
        ),
        pytest.param(
            {**JOB_TITLE_RULE, "conditions": [{"base_column": "job_title", "criterion": "same_date"}]},
            "criterion_not_applicable",
            id="criterion-not-applicable",
        ),
        pytest.param({**JOB_TITLE_RULE, "default_region": "ZZ"}, "unknown_region", id="unknown-region"),
        pytest.param({**JOB_TITLE_RULE, "base_table": "invoices"}, "invalid_option", id="unknown-table"),
        pytest.param([JOB_TITLE_RULE], "invalid_value", id="not-an-object"),
    ],
)
def test_rules_create_refuses_an_invalid_rule_with_exit_code_2_and_stores_nothing(database, definition, code):
    before = rules_snapshot(database)

    result = leadflow(database, "duplicates", "rules", "create", json.dumps(definition))

    assert result.exit_code == 2, result.output
    assert f"({code})" in result.output or f": {code})" in result.output
    assert rules_snapshot(database) == before


def test_rules_create_refuses_text_that_is_not_json(database):
    before = rules_snapshot(database)

    result = leadflow(database, "duplicates", "rules", "create", "{name: contacts}")

    assert result.exit_code == 2, result.output
    assert "not JSON" in result.output
    assert rules_snapshot(database) == before


def test_rules_create_as_a_salesperson_is_forbidden(database):
    with database.unit_of_work() as uow:
        create_user(
            email="seller@example.com",
            full_name="Seller",
            role_names=["Salesperson"],
            business_unit_name=None,
            password=None,
            uow=uow,
            actor=None,
        )
        uow.commit()
    before = rules_snapshot(database)

    result = CliRunner().invoke(
        app,
        [
            "--database-url",
            database.url,
            "--as",
            "seller@example.com",
            "duplicates",
            "rules",
            "create",
            json.dumps(JOB_TITLE_RULE),
        ],
        env={"COLUMNS": "400"},
    )

    assert result.exit_code == 1, result.output
    assert "(forbidden)" in result.output
    assert rules_snapshot(database) == before


# ----------------------------------------------------------------------------------------------
# rules publish / unpublish


def test_rules_publish_codes_existing_records_and_the_rule_then_finds_them(database, actor):
    buyer = make_contact(database, actor, last_name="Ruiz", job_title="Buyer")
    make_contact(database, actor, last_name="Soto", job_title="Engineer")
    rule = create_rule(database)

    result = leadflow(database, "duplicates", "rules", "publish", str(rule.id))

    assert result.exit_code == 0, result.output
    assert "Published Contacts with the same job title: 2 records coded." in result.output
    assert rule_named(database, rule.name).state is RuleState.PUBLISHED
    check = leadflow(database, "duplicates", "check", "contacts", '{"job_title": "BUYER"}')
    assert str(buyer) in check.output and "Contacts with the same job title" in check.output


def test_rules_publish_refuses_a_sixth_published_rule_and_leaves_it_unpublished(database, actor):
    for column in ("address_city",):  # contacts: four out-of-box rules and this one
        rule = create_rule(
            database,
            {
                **JOB_TITLE_RULE,
                "name": f"Contacts by {column}",
                "conditions": [{"base_column": column, "criterion": "exact_match"}],
            },
        )
        rule_service.publish_rule(rule.id, database=database, actor=actor)
    sixth = create_rule(database)
    before = rules_snapshot(database)

    result = leadflow(database, "duplicates", "rules", "publish", str(sixth.id))

    assert result.exit_code == 1, result.output
    assert "(too_many_published_rules)" in result.output
    assert rule_named(database, sixth.name).state is RuleState.UNPUBLISHED
    assert rules_snapshot(database) == before


def test_rules_publish_of_an_unknown_rule_exits_3(database):
    before = rules_snapshot(database)

    result = leadflow(database, "duplicates", "rules", "publish", str(uuid.uuid4()))

    assert result.exit_code == 3, result.output
    assert "(rule_not_found)" in result.output
    assert rules_snapshot(database) == before


def test_rules_unpublish_stops_the_rule_being_used_by_checks(database, actor):
    make_contact(database, actor, last_name="Ruiz", email="ruiz@example.com")
    rule = rule_named(database, "Contacts with the same email address")
    assert (
        "ruiz@example.com"
        in leadflow(database, "duplicates", "check", "contacts", '{"email": "ruiz@example.com"}').output
    )

    result = leadflow(database, "duplicates", "rules", "unpublish", str(rule.id))

    assert result.exit_code == 0, result.output
    assert "Unpublished Contacts with the same email address." in result.output
    assert rule_named(database, rule.name).state is RuleState.UNPUBLISHED
    check = leadflow(database, "duplicates", "check", "contacts", '{"email": "ruiz@example.com"}')
    assert "No duplicates found." in check.output


def test_rules_unpublish_of_an_unpublished_rule_is_refused(database):
    rule = create_rule(database)
    before = rules_snapshot(database)

    result = leadflow(database, "duplicates", "rules", "unpublish", str(rule.id))

    assert result.exit_code == 1, result.output
    assert "(rule_not_published)" in result.output
    assert rules_snapshot(database) == before


# ----------------------------------------------------------------------------------------------
# duplicates check


def test_check_lists_each_duplicate_with_its_details_rule_and_score(database, actor):
    contact = make_contact(
        database,
        actor,
        first_name="Rosa",
        last_name="Prieto",
        email="rosa@example.com",
        business_phone="+34 911 222 333",
        address_city="Lugo",
    )
    before = rules_snapshot(database)

    result = leadflow(database, "duplicates", "check", "contacts", '{"email": "ROSA@example.com"}')

    assert result.exit_code == 0, result.output
    [row] = [line for line in result.output.splitlines() if str(contact) in line]
    for text in (
        "Rosa Prieto",
        "rosa@example.com",
        "+34 911 222 333",
        "Lugo",
        "Ada Admin",
        "Contacts with the same email address",
        "1.00",
    ):
        assert text in row, (text, row)
    assert rules_snapshot(database) == before


def test_check_without_duplicates_says_so(database):
    result = leadflow(database, "duplicates", "check", "accounts", '{"name": "Nobody Ltd"}')

    assert result.exit_code == 0, result.output
    assert "No duplicates found." in result.output


def test_check_of_an_unknown_table_is_refused(database):
    result = leadflow(database, "duplicates", "check", "invoices", '{"name": "x"}')

    assert result.exit_code == 2, result.output
    assert "invoices" in result.output


@pytest.mark.parametrize("values", ['{"email": ', '["ana@example.com"]'], ids=["not-json", "not-an-object"])
def test_check_refuses_values_that_are_not_a_json_object_with_exit_code_2(database, values):
    result = leadflow(database, "duplicates", "check", "contacts", values)

    assert result.exit_code == 2, (result.output, result.exception)
    assert "JSON" in result.output
