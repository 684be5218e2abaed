"""Duplicate detection rules that compare custom fields (a field whose definition lets duplicate rules
use it): a published rule refuses a second record with the same value on create and on update,
publishing codes the values records already hold, find-all finds them, and a field a rule compares
keeps its kind and stays until the rule lets it go. Both databases."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from leadflow.core.errors import Conflict, DuplicateDetected
from leadflow.core.schemas import parse
from leadflow.core.uow import Database
from leadflow.customers.schemas import AccountCreate
from leadflow.customers.service import create_account
from leadflow.duplicates import rules as rule_service
from leadflow.duplicates.criteria import InvalidCondition
from leadflow.leads import service as leads
from leadflow.leads.models import Lead
from leadflow.leads.schemas import LeadUpdate
from leadflow.security.actor import Actor
from tests.e2e.helpers import API
from tests.factories import make_lead
from tests.integration.test_custom_fields import REGIONS, change, define, definition, remove, stored
from tests.integration.test_duplicate_rules import matches_of, new_rule, publish, rules_snapshot
from tests.integration.test_duplicate_scan import all_sets, member_sets, run

VAT_RULE = {
    "name": "Leads with the same VAT number",
    "base_table": "leads",
    "conditions": [{"base_column": "custom.vat", "criterion": "exact_match"}],
}


def vat_field(database: Database, actor: Actor, **settings: Any) -> uuid.UUID:
    return define(database, actor, "vat", "text", max_length=20, duplicate_rules=True, **settings)


def published_vat_rule(database: Database, actor: Actor) -> uuid.UUID:
    rule_id = new_rule(database, actor, **VAT_RULE)
    publish(database, actor, rule_id)
    return rule_id


def refused_as_duplicate(action: Callable[[], Any]) -> DuplicateDetected:
    with pytest.raises(DuplicateDetected) as raised:
        action()
    return raised.value


def test_a_published_rule_refuses_a_second_lead_with_the_same_custom_value(database: Database, actor: Actor) -> None:
    vat_field(database, actor)
    published_vat_rule(database, actor)
    first = make_lead(database, actor, custom={"vat": "ESB12345678"})

    error = refused_as_duplicate(lambda: make_lead(database, actor, custom={"vat": "esb12345678"}))  # any case
    assert [match["id"] for match in error.details["matches"]] == [str(first.id)]
    other = make_lead(database, actor, custom={"vat": "ESA87654321"})  # another value is no duplicate
    assert matches_of(database, actor, "leads", {"custom.vat": "ESB12345678"}) == [
        (first.id, "Leads with the same VAT number")
    ]

    def give_the_first_value() -> None:
        with database.unit_of_work() as uow:
            leads.update_lead(other.id, parse(LeadUpdate, {"custom": {"vat": "ESB12345678"}}), uow=uow, actor=actor)
            uow.commit()

    refused_as_duplicate(give_the_first_value)
    assert stored(database, Lead, other.id) == {"vat": "ESA87654321"}


def test_publishing_codes_the_values_leads_already_hold_and_find_all_finds_them(
    database: Database, actor: Actor
) -> None:
    vat_field(database, actor)
    pair = {make_lead(database, actor, custom={"vat": "ESB00000001"}).id for _ in range(2)}
    make_lead(database, actor, custom={"vat": "ESB00000002"})
    make_lead(database, actor)  # no value: never a duplicate
    rule_id = published_vat_rule(database, actor)

    job = run(database, actor, "leads")
    assert member_sets(all_sets(database, actor, job.id), rule_id) == {frozenset(pair)}
    refused_as_duplicate(lambda: make_lead(database, actor, custom={"vat": "ESB00000001"}))


def test_a_lead_choice_is_compared_with_an_account_choice_of_the_same_options(database: Database, actor: Actor) -> None:
    define(database, actor, "region", "choice", options=REGIONS, duplicate_rules=True)
    define(database, actor, "region", "choice", table="accounts", options=REGIONS, duplicate_rules=True)
    rule_id = new_rule(
        database,
        actor,
        name="Accounts in the lead's region",
        base_table="leads",
        matching_table="accounts",
        conditions=[{"base_column": "custom.region", "criterion": "exact_picklist"}],
    )
    publish(database, actor, rule_id)
    with database.unit_of_work() as uow:
        north = create_account(
            parse(AccountCreate, {"name": "Norte S.A.", "custom": {"region": "north"}}), uow=uow, actor=actor
        )
        uow.commit()

    found = matches_of(database, actor, "accounts", {"name": "Otra"})  # accounts compare nothing custom
    assert north.id not in {record for record, _ in found}
    assert (north.id, "Accounts in the lead's region") in matches_of(
        database, actor, "leads", {"custom.region": "north"}
    )
    assert matches_of(database, actor, "leads", {"custom.region": "south"}) == []


@pytest.mark.parametrize(
    ("field", "condition", "code"),
    [
        # The definition does not let duplicate rules use the field.
        ({"name": "vat", "kind": "text", "duplicate_rules": False}, {"criterion": "exact_match"}, "unknown_column"),
        # Money, numbers and multi-choice are not compared, whatever the definition says.
        ({"name": "vat", "kind": "money", "duplicate_rules": True}, {"criterion": "exact_match"}, "unknown_column"),
        # A text field is no pick-list.
        (
            {"name": "vat", "kind": "text", "duplicate_rules": True},
            {"criterion": "exact_picklist"},
            "criterion_not_applicable",
        ),
        # No field of that name.
        (None, {"criterion": "exact_match"}, "unknown_column"),
    ],
)
def test_a_condition_on_a_custom_field_rules_cannot_compare_is_refused_and_nothing_is_stored(
    database: Database, actor: Actor, field: dict[str, Any] | None, condition: dict[str, Any], code: str
) -> None:
    if field is not None:
        settings = {key: value for key, value in field.items() if key not in ("name", "kind")}
        define(database, actor, field["name"], field["kind"], **settings)
    before = rules_snapshot(database)
    with pytest.raises(InvalidCondition) as raised:
        new_rule(
            database,
            actor,
            name="VAT",
            base_table="leads",
            conditions=[{"base_column": "custom.vat", **condition}],
        )
    assert raised.value.code == code
    assert rules_snapshot(database) == before


def test_choices_with_other_options_are_not_the_same_pick_list(database: Database, actor: Actor) -> None:
    define(database, actor, "region", "choice", options=REGIONS, duplicate_rules=True)
    define(database, actor, "region", "choice", table="accounts", options=REGIONS[:2], duplicate_rules=True)
    before = rules_snapshot(database)
    with pytest.raises(InvalidCondition, match="same pick-list"):
        new_rule(
            database,
            actor,
            name="Accounts in the lead's region",
            base_table="leads",
            matching_table="accounts",
            conditions=[{"base_column": "custom.region", "criterion": "exact_picklist"}],
        )
    assert rules_snapshot(database) == before


def test_a_field_a_rule_compares_keeps_its_kind_and_stays_until_the_rule_lets_it_go(
    database: Database, actor: Actor
) -> None:
    field_id = vat_field(database, actor)
    rule_id = new_rule(database, actor, **VAT_RULE)  # unpublished rules count too: they can be published
    lead = make_lead(database, actor, custom={"vat": "ESB12345678"})
    before = definition(database, field_id)

    for refused in (
        lambda: remove(database, actor, field_id, confirm=True),
        lambda: change(database, actor, field_id, kind="multiline"),
        lambda: change(database, actor, field_id, duplicate_rules=False),
    ):
        with pytest.raises(Conflict) as raised:
            refused()
        assert raised.value.code == "field_in_use"
        assert "Leads with the same VAT number" in raised.value.message
    assert definition(database, field_id) == before
    assert stored(database, Lead, lead.id) == {"vat": "ESB12345678"}

    change(database, actor, field_id, label_en="VAT number")  # a new label breaks nothing
    with database.unit_of_work() as uow:
        rule_service.delete_rule(rule_id, uow=uow, actor=actor)
        uow.commit()
    assert remove(database, actor, field_id, confirm=True) == 1
    assert definition(database, field_id) is None


def test_the_api_refuses_removing_a_field_a_rule_compares_in_the_user_s_language(
    client: TestClient, database: Database, actor: Actor
) -> None:
    field_id = vat_field(database, actor)
    new_rule(database, actor, **VAT_RULE)
    answer = client.delete(f"{API}/custom-fields/{field_id}?confirm=true", headers={"Accept-Language": "es"})
    assert answer.status_code == 409, answer.text
    body = answer.json()["error"]
    assert body["code"] == "field_in_use"
    assert body["message"] == (
        "Las reglas de detección de duplicados Leads with the same VAT number comparan el campo vat; quítelo de "
        "sus condiciones (o elimine esas reglas) antes."
    )
    assert definition(database, field_id) is not None
