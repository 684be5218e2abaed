"""A new organisation's out-of-box rules catch typos, and a phone written another way, on their own (§9).

The typo-tolerant rules the demo used to add (names ``similar``, the leads' business phone
``normalized``) are out-of-box rules since 2026-12: every new organisation publishes them, with
figures in bench/README.md. An organisation of an earlier version is not given them at startup,
and a database that already has rules of the same names never gets a second one.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from leadflow.bootstrap import ensure_organisation
from leadflow.core.errors import DuplicateDetected
from leadflow.core.schemas import parse
from leadflow.core.uow import Database
from leadflow.customers.schemas import AccountCreate, ContactCreate
from leadflow.customers.service import create_account, create_contact
from leadflow.duplicates import rules as rule_service
from leadflow.duplicates import scan, sets
from leadflow.duplicates.detection import check_record
from leadflow.duplicates.models import DetectionTable, DuplicateRule, RuleState
from leadflow.leads import service as lead_service
from leadflow.leads.schemas import LeadCreate
from leadflow.organisation.models import OrganisationSettings
from leadflow.security.actor import Actor
from tests.factories import lead_data, make_lead

NEW_RULES = (
    "Accounts with a similar account name",
    "Contacts with a similar first name and last name",
    "Leads with the same business phone",
    "Leads with a similar first name and last name",
)


def matches(database: Database, actor: Actor, table: str, values: dict[str, Any]) -> list[tuple[uuid.UUID, str]]:
    """(record id, rule name) of every match the published rules find for these values."""
    with database.unit_of_work(read_only=True) as uow:
        return [(m.id, m.rule_name) for m in check_record(uow.session, DetectionTable(table), values, actor=actor)]


def contact(database: Database, actor: Actor, **fields: Any) -> uuid.UUID:
    with database.unit_of_work() as uow:
        record = create_contact(parse(ContactCreate, fields), uow=uow, actor=actor)
        uow.commit()
        return record.id


def account(database: Database, actor: Actor, **fields: Any) -> uuid.UUID:
    with database.unit_of_work() as uow:
        record = create_account(parse(AccountCreate, fields), uow=uow, actor=actor)
        uow.commit()
        return record.id


def rules_by_name(database: Database) -> Counter[str]:
    with database.unit_of_work(read_only=True) as uow:
        return Counter(uow.session.scalars(select(DuplicateRule.name)))


def published_per_table(database: Database) -> Counter[str]:
    with database.unit_of_work(read_only=True) as uow:
        return Counter(
            rule.base_table.value for rule in rule_service.list_rules(uow.session) if rule.state is RuleState.PUBLISHED
        )


# ---------------------------------------------------------------------------------------------- what they catch


def test_a_typo_in_a_contacts_name_is_caught(database, actor):
    lucia = contact(database, actor, first_name="Lucía", last_name="Fernández Ruiz", email="lucia@turia.example")

    found = matches(database, actor, "contacts", {"first_name": "Lucia", "last_name": "Fernandes Ruiz"})

    assert found == [(lucia, "Contacts with a similar first name and last name")]


def test_a_typo_in_a_leads_name_is_caught_and_saving_it_is_refused(database, actor):
    whitaker = make_lead(database, actor, first_name="Jonathan", last_name="Whitaker")

    found = matches(database, actor, "leads", {"first_name": "Jonathan", "last_name": "Whitakr"})

    assert found == [(whitaker.id, "Leads with a similar first name and last name")]
    with database.unit_of_work() as uow, pytest.raises(DuplicateDetected):
        lead_service.create_lead(
            parse(LeadCreate, lead_data(first_name="Jonathan", last_name="Whitakr")), uow=uow, actor=actor
        )


def test_a_leads_business_phone_written_another_way_is_caught(database, actor):
    lead = make_lead(database, actor, first_name="Marta", last_name="Gil", business_phone="+34 915 550 142")

    for written in ("915 55 01 42", "0034-915-55-01-42", "+34915550142"):
        found = matches(database, actor, "leads", {"last_name": "Ortega", "business_phone": written})
        assert found == [(lead.id, "Leads with the same business phone")], written


def test_a_typo_in_an_account_name_is_caught(database, actor):
    valenciano = account(database, actor, name="Transportes Valenciano S.L.")

    typo = matches(database, actor, "accounts", {"name": "Transportes Valencinao"})
    other_order = matches(database, actor, "accounts", {"name": "Valenciano Transportes"})

    assert typo == [(valenciano, "Accounts with a similar account name")]
    assert other_order == [(valenciano, "Accounts with a similar account name")]


@pytest.mark.parametrize("table", ["contacts", "leads"])
def test_pablo_navarrete_is_not_taken_for_pablo_navarro(database, actor, table):
    if table == "contacts":
        contact(database, actor, first_name="Pablo", last_name="Navarro")
    else:
        make_lead(database, actor, first_name="Pablo", last_name="Navarro")

    assert matches(database, actor, table, {"first_name": "Pablo", "last_name": "Navarrete"}) == []


def test_hermanos_salas_is_not_taken_for_hermanos_sala(database, actor):
    account(database, actor, name="Hermanos Sala S.L.")

    assert matches(database, actor, "accounts", {"name": "Hermanos Salas"}) == []


def test_a_scan_finds_the_accounts_of_a_similar_name(database, actor):
    turia = account(database, actor, name="Turia Distribuciones S.L.")
    with database.unit_of_work() as uow:  # saved past the warning, as a user who ignores it would
        other = create_account(
            parse(AccountCreate, {"name": "Distribuciones Turia"}), uow=uow, actor=actor, suppress_duplicates=True
        ).id
        uow.commit()

    job = scan.start_job("accounts", database=database, actor=actor)
    job = scan.run_job(job.id, database=database)

    with database.unit_of_work(read_only=True) as uow:
        found = sets.list_sets(job.id, uow=uow, actor=actor, limit=50, cursor=None).items
    assert [(s.rule_name, {m.id for m in s.members}) for s in found] == [
        ("Accounts with a similar account name", {turia, other})
    ]


# ---------------------------------------------------------------------------------------------- the rules themselves


def test_every_out_of_box_rule_has_its_own_description_and_fits_the_limit():
    assert len({rule.name for rule in rule_service.BUILTIN_RULES}) == len(rule_service.BUILTIN_RULES)
    assert all(rule.description and rule.description != "Out-of-box rule." for rule in rule_service.BUILTIN_RULES)
    per_table = Counter(rule.table for rule in rule_service.BUILTIN_RULES)
    assert max(per_table.values()) <= rule_service.MAX_PUBLISHED_RULES
    for rule in rule_service.BUILTIN_RULES:
        for condition in rule.conditions:
            assert (condition.threshold is not None) == (condition.criterion == "similar"), rule.name


# ---------------------------------------------------------------------------------------------- earlier organisations


def as_an_earlier_version_left_it(database: Database, actor: Actor) -> None:
    """The organisation as an earlier version set it up: without the new out-of-box rules, with the
    demo's rules of the same names (the organisation's own, not out-of-box) published instead."""
    with database.unit_of_work() as uow:
        for rule in rule_service.list_rules(uow.session):
            if rule.name in NEW_RULES:
                rule_service.unpublish_rule(rule.id, uow=uow, actor=actor)
                rule_service.delete_rule(rule.id, uow=uow, actor=actor)
        uow.commit()
    for builtin in rule_service.BUILTIN_RULES:
        if builtin.name not in NEW_RULES:
            continue
        definition = {
            "name": builtin.name,
            "description": "The demo's rule.",
            "base_table": builtin.table.value,
            "exclude_inactive": True,
            "conditions": [
                {"base_column": c.column, "criterion": c.criterion.value, "threshold": c.threshold}
                for c in builtin.conditions
            ],
        }
        with database.unit_of_work() as uow:
            rule = rule_service.create_rule(parse(rule_service.RuleCreate, definition), uow=uow, actor=actor)
            uow.commit()
        rule_service.publish_rule(rule.id, database=database, actor=actor)


def test_an_earlier_demo_database_keeps_one_rule_of_each_name_within_the_limit_at_startup(database, actor):
    as_an_earlier_version_left_it(database, actor)
    before = rules_by_name(database)

    with database.unit_of_work() as uow:  # what every start does
        ensure_organisation(uow=uow, base_currency="EUR")
        uow.commit()

    assert rules_by_name(database) == before
    assert max(rules_by_name(database).values()) == 1
    assert max(published_per_table(database).values()) <= rule_service.MAX_PUBLISHED_RULES


def test_ensuring_the_out_of_box_rules_skips_names_taken_and_never_passes_the_limit(database, actor):
    as_an_earlier_version_left_it(database, actor)
    with database.unit_of_work() as uow:  # the demo's similar account name rule gone, one of the admin's own instead
        rule = next(r for r in rule_service.list_rules(uow.session) if r.name == "Accounts with a similar account name")
        rule_service.unpublish_rule(rule.id, uow=uow, actor=actor)
        rule_service.delete_rule(rule.id, uow=uow, actor=actor)
        uow.commit()
    with database.unit_of_work() as uow:
        own = rule_service.create_rule(
            parse(
                rule_service.RuleCreate,
                {
                    "name": "Accounts in the same city",
                    "base_table": "accounts",
                    "conditions": [{"base_column": "address_city", "criterion": "exact_match"}],
                },
            ),
            uow=uow,
            actor=actor,
        )
        uow.commit()
    rule_service.publish_rule(own.id, database=database, actor=actor)
    with database.unit_of_work() as uow:
        uow.session.scalars(select(OrganisationSettings)).one().builtin_duplicate_rules_created = False
        uow.commit()

    with database.unit_of_work() as uow:
        ensure_organisation(uow=uow, base_currency="EUR")
        uow.commit()

    assert max(rules_by_name(database).values()) == 1
    assert published_per_table(database)["accounts"] == rule_service.MAX_PUBLISHED_RULES
    with database.unit_of_work(read_only=True) as uow:
        similar = next(
            r for r in rule_service.list_rules(uow.session) if r.name == "Accounts with a similar account name"
        )
        assert similar.is_builtin and similar.state is RuleState.UNPUBLISHED
        demo = [r for r in rule_service.list_rules(uow.session) if r.name in NEW_RULES and not r.is_builtin]
        assert len(demo) == 3 and all(r.state is RuleState.PUBLISHED for r in demo)
