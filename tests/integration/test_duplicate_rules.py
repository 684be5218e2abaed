"""Administering duplicate detection rules (§9) through the rule service, on SQLite and PostgreSQL.

Every refusal leaves the rules, their conditions, the stored match codes and the audit log exactly
as they were.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from leadflow.core.errors import (
    Conflict,
    InvalidState,
    LeadflowError,
    StaleVersion,
    ValidationFailed,
)
from leadflow.core.schemas import parse
from leadflow.core.uow import Database
from leadflow.customers.models import Contact
from leadflow.customers.schemas import AccountCreate, ContactCreate, ContactUpdate
from leadflow.customers.service import create_account, create_contact, update_contact
from leadflow.duplicates import rules as rule_service
from leadflow.duplicates.detection import check_record
from leadflow.duplicates.engine import MATCH_CODES
from leadflow.duplicates.models import (
    DetectionTable,
    DuplicateRule,
    DuplicateRuleCondition,
    RuleState,
)
from leadflow.security.actor import Actor
from leadflow.security.audit import AUDIT_TABLE
from tests.builtin_rules import make_room_for_a_rule
from tests.factories import make_lead

RULES_TABLE = DuplicateRule.__table__
CONDITIONS_TABLE = DuplicateRuleCondition.__table__


# ----------------------------------------------------------------------------------------------
# helpers


def rules_snapshot(database: Database) -> dict[str, Any]:
    """Every rule, condition and match code row, and the audit log's size: equal means unchanged."""
    with database.unit_of_work(read_only=True) as uow:
        session = uow.session
        return {
            "rules": [dict(row) for row in session.execute(select(RULES_TABLE).order_by(RULES_TABLE.c.id)).mappings()],
            "conditions": [
                dict(row)
                for row in session.execute(
                    select(CONDITIONS_TABLE).order_by(CONDITIONS_TABLE.c.rule_id, CONDITIONS_TABLE.c.position)
                ).mappings()
            ],
            "match_codes": [
                tuple(row)
                for row in session.execute(
                    select(MATCH_CODES.c.rule_id, MATCH_CODES.c.record_id, MATCH_CODES.c.code).order_by(
                        MATCH_CODES.c.rule_id, MATCH_CODES.c.record_id
                    )
                )
            ],
            "audit_entries": session.scalar(select(func.count()).select_from(AUDIT_TABLE)),
        }


def new_rule(database: Database, actor: Actor, **definition: Any) -> uuid.UUID:
    """Create an unpublished rule from its API-shaped definition; returns its id."""
    with database.unit_of_work() as uow:
        rule = rule_service.create_rule(parse(rule_service.RuleCreate, definition), uow=uow, actor=actor)
        uow.commit()
        return rule.id


def job_title_rule(database: Database, actor: Actor, **options: Any) -> uuid.UUID:
    return new_rule(
        database,
        actor,
        name="Contacts with the same job title",
        base_table="contacts",
        conditions=[{"base_column": "job_title", "criterion": "exact_match"}],
        **options,
    )


def publish(database: Database, actor: Actor, rule_id: uuid.UUID, **options: Any) -> DuplicateRule:
    return rule_service.publish_rule(rule_id, database=database, actor=actor, **options)


def unpublish(database: Database, actor: Actor, rule_id: uuid.UUID) -> None:
    with database.unit_of_work() as uow:
        rule_service.unpublish_rule(rule_id, uow=uow, actor=actor)
        uow.commit()


def read_rule(database: Database, rule_id: uuid.UUID) -> DuplicateRule:
    with database.unit_of_work(read_only=True) as uow:
        return rule_service.get_rule(uow.session, rule_id)


def make_contact(database: Database, actor: Actor, **fields: Any) -> Contact:
    with database.unit_of_work() as uow:
        contact = create_contact(parse(ContactCreate, fields), uow=uow, actor=actor)
        uow.commit()
        return contact


def matches_of(database: Database, actor: Actor, table: str, values: dict[str, Any]) -> list[tuple[uuid.UUID, str]]:
    """(matching record id, rule name) of every duplicate the published rules find for these values."""
    with database.unit_of_work(read_only=True) as uow:
        return [(m.id, m.rule_name) for m in check_record(uow.session, DetectionTable(table), values, actor=actor)]


def codes_of(database: Database, rule_id: uuid.UUID) -> set[uuid.UUID]:
    """The records holding a match code of the rule."""
    with database.unit_of_work(read_only=True) as uow:
        return set(uow.session.scalars(select(MATCH_CODES.c.record_id).where(MATCH_CODES.c.rule_id == rule_id)))


# ----------------------------------------------------------------------------------------------
# out-of-box rules


SIMILAR_PERSON = [("first_name", "similar", 0.92), ("last_name", "similar", 0.92)]
OUT_OF_BOX = {
    "Accounts with the same account name": ("accounts", [("name", "normalized", None)]),
    "Accounts with a similar account name": ("accounts", [("name", "similar", 0.97)]),
    "Accounts with the same email address": ("accounts", [("email", "exact_match", None)]),
    "Accounts with the same phone number": ("accounts", [("telephone", "normalized", None)]),
    "Accounts with the same website": ("accounts", [("website", "normalized", None)]),
    "Contacts with the same business phone": ("contacts", [("business_phone", "normalized", None)]),
    "Contacts with the same email address": ("contacts", [("email", "exact_match", None)]),
    "Contacts with the same first name and last name": (
        "contacts",
        [("first_name", "exact_match", None), ("last_name", "exact_match", None)],
    ),
    "Contacts with a similar first name and last name": ("contacts", SIMILAR_PERSON),
    "Leads with the same email address": ("leads", [("email", "exact_match", None)]),
    "Leads with the same business phone": ("leads", [("business_phone", "normalized", None)]),
    "Leads with a similar first name and last name": ("leads", SIMILAR_PERSON),
}


def test_a_new_database_has_the_twelve_out_of_box_rules_published(database):
    with database.unit_of_work(read_only=True) as uow:
        rules = [rule_service.rule_out(rule) for rule in rule_service.list_rules(uow.session)]

    assert {rule["name"] for rule in rules} == set(OUT_OF_BOX)
    for rule in rules:
        table, conditions = OUT_OF_BOX[rule["name"]]
        assert (rule["base_table"], rule["matching_table"]) == (table, table), rule
        assert rule["state"] == "published" and rule["is_builtin"] and rule["published_at"], rule
        assert [(c["base_column"], c["criterion"], c["threshold"]) for c in rule["conditions"]] == conditions, rule
        assert [c["matching_column"] for c in rule["conditions"]] == [c["base_column"] for c in rule["conditions"]]
        assert rule["description"] and rule["description"] != "Out-of-box rule.", rule
    published = Counter(rule["base_table"] for rule in rules)
    assert published == {"accounts": 5, "contacts": 4, "leads": 3}
    assert max(published.values()) <= rule_service.MAX_PUBLISHED_RULES


def test_out_of_box_rules_find_duplicates_in_a_new_database(database, actor):
    contact = make_contact(database, actor, first_name="Lucía", last_name="Fernández", email="lucia@example.com")

    found = matches_of(database, actor, "contacts", {"first_name": "lucía", "last_name": "FERNÁNDEZ"})

    assert found == [(contact.id, "Contacts with the same first name and last name")]


def test_out_of_box_rules_read_account_names_phones_and_websites_as_a_person_would(database, actor):
    with database.unit_of_work() as uow:
        account = create_account(
            parse(
                AccountCreate,
                {
                    "name": "Muebles Ibéricos S.L.",
                    "telephone": "+34 910 123 456",
                    "website": "https://www.muebles-ibericos.example",
                },
            ),
            uow=uow,
            actor=actor,
        )
        uow.commit()

    assert matches_of(database, actor, "accounts", {"name": "MUEBLES IBERICOS"}) == [
        (account.id, "Accounts with the same account name")
    ]
    assert matches_of(database, actor, "accounts", {"name": "Otra", "telephone": "0034-910-12-34-56"}) == [
        (account.id, "Accounts with the same phone number")
    ]
    assert matches_of(database, actor, "accounts", {"name": "Otra", "website": "muebles-ibericos.example/"}) == [
        (account.id, "Accounts with the same website")
    ]
    assert matches_of(database, actor, "accounts", {"name": "Muebles Ibéricos del Sur"}) == []


# ----------------------------------------------------------------------------------------------
# the out-of-box rules on names: a typo is the same person, a near-namesake is not


def make_person(database: Database, actor: Actor, table: str, **fields: Any) -> uuid.UUID:
    if table == "contacts":
        return make_contact(database, actor, **fields).id
    return make_lead(database, actor, **fields).id


@pytest.mark.parametrize("table", ["contacts", "leads"])
@pytest.mark.parametrize(
    ("first", "last", "other_person", "typo"),
    [
        ("Pablo", "Navarro", "Navarrete", "Navaro"),
        ("Marta", "Gil Navarro", "Gil Navarrete", "Gil Navarrro"),
    ],
)
def test_the_built_in_rules_tell_navarrete_from_navarro_and_find_a_typo_of_navarro(
    database, actor, table, first, last, other_person, typo
):
    navarro = make_person(
        database,
        actor,
        table,
        first_name=first,
        last_name=last,
        email="navarro@correo.example",
        business_phone="+34 655 550 309",
    )

    someone_else = matches_of(
        database,
        actor,
        table,
        {
            "first_name": first,
            "last_name": other_person,
            "email": "navarrete@otro.example",
            "business_phone": "+34 954 550 310",
        },
    )
    the_same_person = matches_of(database, actor, table, {"first_name": first, "last_name": typo})

    assert someone_else == []
    assert the_same_person == [(navarro, f"{table.capitalize()} with a similar first name and last name")]


def test_ensuring_the_out_of_box_rules_again_creates_none(database):
    before = rules_snapshot(database)
    with database.unit_of_work() as uow:
        rule_service.ensure_builtin_rules(uow.session)
        uow.commit()
    assert rules_snapshot(database) == before


# ----------------------------------------------------------------------------------------------
# create, change, delete


def test_a_rule_is_created_unpublished_with_its_conditions_in_order(database, actor):
    rule_id = new_rule(
        database,
        actor,
        name="Leads matching contacts by email and last name",
        description="Catch leads of people who are already customers.",
        base_table="leads",
        matching_table="contacts",
        case_sensitive=True,
        exclude_inactive=True,
        default_region="gb",
        conditions=[
            {"base_column": "email", "criterion": "normalized"},
            {
                "base_column": "last_name",
                "matching_column": "last_name",
                "criterion": "same_first_characters",
                "n": 4,
                "ignore_blank": False,
            },
            {"base_column": "company_name", "matching_column": "full_name", "criterion": "similar", "threshold": 0.8},
        ],
    )

    rule = rule_service.rule_out(read_rule(database, rule_id))
    assert rule["state"] == "unpublished" and not rule["is_builtin"] and rule["published_at"] is None
    assert (rule["base_table"], rule["matching_table"]) == ("leads", "contacts")
    assert (rule["case_sensitive"], rule["exclude_inactive"], rule["default_region"]) == (True, True, "GB")
    assert rule["description"] == "Catch leads of people who are already customers."
    assert rule["conditions"] == [
        {
            "base_column": "email",
            "matching_column": "email",
            "criterion": "normalized",
            "n": None,
            "threshold": None,
            "ignore_blank": True,
        },
        {
            "base_column": "last_name",
            "matching_column": "last_name",
            "criterion": "same_first_characters",
            "n": 4,
            "threshold": None,
            "ignore_blank": False,
        },
        {
            "base_column": "company_name",
            "matching_column": "full_name",
            "criterion": "similar",
            "n": None,
            "threshold": 0.8,
            "ignore_blank": True,
        },
    ]
    assert codes_of(database, rule_id) == set()


def test_a_rule_without_a_matching_table_matches_its_base_table_in_the_organisations_region(database, actor):
    rule_id = new_rule(
        database,
        actor,
        name="Same mobile",
        base_table="leads",
        conditions=[{"base_column": "mobile_phone", "criterion": "normalized"}],
    )

    rule = read_rule(database, rule_id)
    assert rule.matching_table is DetectionTable.LEADS
    assert rule.default_region == "ES"


def _condition(**fields: Any) -> dict[str, Any]:
    return {"base_column": "job_title", "criterion": "exact_match", **fields}


REFUSED_DEFINITIONS = [
    pytest.param({"conditions": []}, "no_conditions", id="no-conditions"),
    pytest.param({"conditions": [_condition(criterion="same_first_characters", n=0)]}, "n_required", id="first-n-zero"),
    pytest.param(
        {"conditions": [_condition(criterion="same_first_characters", n=-3)]}, "n_required", id="first-n-negative"
    ),
    pytest.param({"conditions": [_condition(criterion="same_last_characters", n=0)]}, "n_required", id="last-n-zero"),
    pytest.param(
        {"conditions": [_condition(criterion="same_last_characters", n=-1)]}, "n_required", id="last-n-negative"
    ),
    pytest.param({"conditions": [_condition(criterion="same_last_characters")]}, "n_required", id="last-n-missing"),
    pytest.param({"conditions": [_condition(n=3)]}, "n_not_applicable", id="n-on-exact-match"),
    pytest.param(
        {"conditions": [_condition(criterion="similar", threshold=0)]}, "threshold_out_of_range", id="threshold-zero"
    ),
    pytest.param(
        {"conditions": [_condition(criterion="similar", threshold=1.5)]},
        "threshold_out_of_range",
        id="threshold-above-one",
    ),
    pytest.param({"conditions": [_condition(threshold=0.8)]}, "threshold_not_applicable", id="threshold-on-exact"),
    pytest.param({"conditions": [_condition(base_column="shoe_size")]}, "unknown_column", id="unknown-base-column"),
    pytest.param(
        {"conditions": [_condition(matching_column="shoe_size")]}, "unknown_column", id="unknown-matching-column"
    ),
    pytest.param({"conditions": [_condition(base_column="id")]}, "unknown_column", id="system-column"),
    pytest.param({"conditions": [_condition(base_column="account_id")]}, "unknown_column", id="reference-column"),
    pytest.param(
        {"conditions": [_condition(criterion="same_date")]}, "criterion_not_applicable", id="same-date-on-text"
    ),
    pytest.param(
        {"conditions": [_condition(criterion="exact_picklist")]}, "criterion_not_applicable", id="picklist-on-text"
    ),
    pytest.param(
        {"base_table": "leads", "conditions": [_condition(base_column="rating")]},
        "criterion_not_applicable",
        id="exact-on-picklist",
    ),
    pytest.param(
        {"base_table": "leads", "conditions": [_condition(base_column="closed_at", criterion="normalized")]},
        "criterion_not_applicable",
        id="normalized-on-datetime",
    ),
    pytest.param(
        {
            "base_table": "opportunities",
            "conditions": [_condition(base_column="estimated_close_date", criterion="same_date_and_time")],
        },
        "criterion_not_applicable",
        id="date-and-time-on-date",
    ),
    pytest.param(
        {
            "base_table": "leads",
            "conditions": [_condition(base_column="rating", matching_column="lead_source", criterion="exact_picklist")],
        },
        "criterion_not_applicable",
        id="picklists-that-differ",
    ),
    pytest.param({"default_region": "ZZ"}, "unknown_region", id="unknown-region"),
]


@pytest.mark.parametrize(("changes", "code"), REFUSED_DEFINITIONS)
def test_an_invalid_rule_is_refused_with_its_code_and_nothing_is_stored(database, actor, changes, code):
    definition = {"name": "Broken rule", "base_table": "contacts", "conditions": [_condition()], **changes}
    before = rules_snapshot(database)

    with database.unit_of_work() as uow, pytest.raises(ValidationFailed) as refused:
        rule_service.create_rule(parse(rule_service.RuleCreate, definition), uow=uow, actor=actor)
        uow.commit()

    assert refused.value.code == code
    assert refused.value.message.strip()
    assert rules_snapshot(database) == before


def test_a_refused_condition_names_its_position(database, actor):
    definition = {
        "name": "Second is wrong",
        "base_table": "contacts",
        "conditions": [_condition(), _condition(base_column="shoe_size")],
    }
    with database.unit_of_work() as uow, pytest.raises(ValidationFailed) as refused:
        rule_service.create_rule(parse(rule_service.RuleCreate, definition), uow=uow, actor=actor)
    assert refused.value.code == "unknown_column"
    assert refused.value.details["condition"] == 1
    assert refused.value.details["column"] == "shoe_size"


@pytest.mark.parametrize(
    "definition",
    [
        pytest.param({"base_table": "invoices"}, id="unknown-base-table"),
        pytest.param({"base_table": "contacts", "matching_table": "invoices"}, id="unknown-matching-table"),
        pytest.param(
            {"base_table": "contacts", "conditions": [_condition(criterion="sounds_like")]}, id="unknown-criterion"
        ),
    ],
)
def test_an_unknown_table_or_criterion_is_refused_before_anything_is_stored(database, definition):
    before = rules_snapshot(database)
    with pytest.raises(ValidationFailed) as refused:
        parse(rule_service.RuleCreate, {"name": "Unknown", "conditions": [_condition()], **definition})
    assert refused.value.code == "invalid_option"
    assert rules_snapshot(database) == before


def test_changing_or_deleting_a_published_rule_is_refused(database, actor):
    rule_id = job_title_rule(database, actor)
    publish(database, actor, rule_id)
    before = rules_snapshot(database)

    with database.unit_of_work() as uow, pytest.raises(InvalidState) as changing:
        rule_service.update_rule(rule_id, rule_service.RuleUpdate(name="Renamed"), uow=uow, actor=actor)
    with database.unit_of_work() as uow, pytest.raises(InvalidState) as deleting:
        rule_service.delete_rule(rule_id, uow=uow, actor=actor)

    assert changing.value.code == deleting.value.code == "rule_published"
    assert "unpublish" in changing.value.message.lower()
    assert rules_snapshot(database) == before


def test_an_unpublished_rule_can_be_changed_and_published_again_with_its_new_conditions(database, actor):
    buyer = make_contact(database, actor, last_name="Ruiz", job_title="Buyer", address_city="Sevilla")
    make_contact(database, actor, last_name="Soto", job_title="Engineer", address_city="Bilbao")
    rule_id = job_title_rule(database, actor)
    publish(database, actor, rule_id)
    unpublish(database, actor, rule_id)

    with database.unit_of_work() as uow:
        rule = rule_service.update_rule(
            rule_id,
            rule_service.RuleUpdate(
                name="Contacts in the same city",
                conditions=[{"base_column": "address_city", "criterion": "exact_match"}],
            ),
            uow=uow,
            actor=actor,
        )
        uow.commit()
    publish(database, actor, rule_id)

    assert [c.base_column for c in read_rule(database, rule_id).conditions] == ["address_city"]
    assert matches_of(database, actor, "contacts", {"address_city": "SEVILLA"}) == [
        (buyer.id, "Contacts in the same city")
    ]
    assert matches_of(database, actor, "contacts", {"job_title": "Buyer"}) == []
    assert rule.name == "Contacts in the same city"


def test_changing_a_rule_to_no_conditions_is_refused_and_keeps_the_old_ones(database, actor):
    rule_id = job_title_rule(database, actor)
    before = rules_snapshot(database)

    with database.unit_of_work() as uow, pytest.raises(ValidationFailed) as refused:
        rule_service.update_rule(rule_id, rule_service.RuleUpdate(conditions=[]), uow=uow, actor=actor)
        uow.commit()

    assert refused.value.code == "no_conditions"
    assert rules_snapshot(database) == before


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        pytest.param({"name": None}, "name_required", id="clear-name"),
        pytest.param({"case_sensitive": None}, "case_sensitive_required", id="clear-case-sensitive"),
        pytest.param({"default_region": "ZZ"}, "unknown_region", id="unknown-region"),
        pytest.param(
            {"conditions": [_condition(criterion="same_first_characters", n=0)]}, "n_required", id="first-n-zero"
        ),
    ],
)
def test_an_invalid_change_of_a_rule_is_refused_and_changes_nothing(database, actor, changes, code):
    rule_id = job_title_rule(database, actor)
    before = rules_snapshot(database)

    with database.unit_of_work() as uow, pytest.raises(ValidationFailed) as refused:
        rule_service.update_rule(rule_id, parse(rule_service.RuleUpdate, changes), uow=uow, actor=actor)
        uow.commit()

    assert refused.value.code == code
    assert rules_snapshot(database) == before


def test_changing_a_rule_from_a_stale_version_is_refused(database, actor):
    rule_id = job_title_rule(database, actor)
    version = read_rule(database, rule_id).row_version
    with database.unit_of_work() as uow:
        rule_service.update_rule(rule_id, rule_service.RuleUpdate(description="First change"), uow=uow, actor=actor)
        uow.commit()
    before = rules_snapshot(database)

    with database.unit_of_work() as uow, pytest.raises(StaleVersion):
        rule_service.update_rule(
            rule_id,
            rule_service.RuleUpdate(description="Second change"),
            uow=uow,
            actor=actor,
            expected_version=version,
        )

    assert rules_snapshot(database) == before


def test_an_unpublished_rule_is_deleted_with_its_conditions(database, actor):
    rule_id = job_title_rule(database, actor)

    with database.unit_of_work() as uow:
        rule_service.delete_rule(rule_id, uow=uow, actor=actor)
        uow.commit()

    snapshot = rules_snapshot(database)
    assert rule_id not in {rule["id"] for rule in snapshot["rules"]}
    assert rule_id not in {condition["rule_id"] for condition in snapshot["conditions"]}


# ----------------------------------------------------------------------------------------------
# publish and unpublish


def test_publishing_codes_the_records_created_before_the_rule(database, actor):
    buyers = [make_contact(database, actor, last_name=name, job_title="Buyer") for name in ("Ruiz", "Soto")]
    engineer = make_contact(database, actor, last_name="Vidal", job_title="Engineer")
    make_contact(database, actor, last_name="Sanz")  # no job title: nothing to code
    rule_id = job_title_rule(database, actor)
    assert matches_of(database, actor, "contacts", {"job_title": "buyer"}) == []

    publish(database, actor, rule_id)

    assert codes_of(database, rule_id) == {buyers[0].id, buyers[1].id, engineer.id}
    found = matches_of(database, actor, "contacts", {"job_title": "BUYER"})
    assert sorted(found) == sorted((buyer.id, "Contacts with the same job title") for buyer in buyers)


def test_publishing_goes_from_unpublished_through_publishing_to_published_reporting_progress(database, actor):
    for index in range(5):
        make_contact(database, actor, last_name=f"Contact {index}", job_title=f"Title {index}")
    rule_id = job_title_rule(database, actor)
    assert read_rule(database, rule_id).state is RuleState.UNPUBLISHED
    seen: list[tuple[int, int, RuleState, int, int]] = []

    def progress(done: int, total: int) -> None:
        rule = read_rule(database, rule_id)
        seen.append((done, total, rule.state, rule.publish_done, rule.publish_total))

    published = publish(database, actor, rule_id, progress=progress, batch_size=2)

    assert seen == [
        (2, 5, RuleState.PUBLISHING, 2, 5),
        (4, 5, RuleState.PUBLISHING, 4, 5),
        (5, 5, RuleState.PUBLISHING, 5, 5),
    ]
    rule = read_rule(database, rule_id)
    assert rule.state is RuleState.PUBLISHED and published.state is RuleState.PUBLISHED
    assert (rule.publish_done, rule.publish_total) == (5, 5)
    assert rule.published_at is not None


def test_records_written_while_a_rule_is_publishing_are_coded(database, actor):
    for index in range(4):
        make_contact(database, actor, last_name=f"Contact {index}", job_title="Buyer")
    rule_id = job_title_rule(database, actor)
    # The smallest id sorts before every batch, so only the write itself can code this contact.
    early = uuid.UUID(int=1)

    def write_during_publication(done: int, _total: int) -> None:
        if done == 2:
            with database.unit_of_work() as uow:
                uow.session.add(
                    Contact(id=early, last_name="Written meanwhile", full_name="Written meanwhile", job_title="Auditor")
                )
                uow.commit()

    publish(database, actor, rule_id, progress=write_during_publication, batch_size=2)

    assert early in codes_of(database, rule_id)
    assert matches_of(database, actor, "contacts", {"job_title": "auditor"}) == [
        (early, "Contacts with the same job title")
    ]


def test_a_publication_that_fails_leaves_the_rule_unpublished_without_codes(database, actor):
    for index in range(3):
        make_contact(database, actor, last_name=f"Contact {index}", job_title="Buyer")
    rule_id = job_title_rule(database, actor)

    def interrupted(_done: int, _total: int) -> None:
        raise RuntimeError("the connection dropped")

    with pytest.raises(RuntimeError):
        publish(database, actor, rule_id, progress=interrupted, batch_size=1)

    rule = read_rule(database, rule_id)
    assert rule.state is RuleState.UNPUBLISHED and rule.published_at is None and rule.publish_done == 0
    assert codes_of(database, rule_id) == set()
    assert matches_of(database, actor, "contacts", {"job_title": "Buyer"}) == []


def test_a_sixth_published_rule_on_one_base_table_is_refused_and_stays_unpublished(database, actor):
    # accounts has its five out-of-box rules published: one of them makes room for the test's fifth
    make_room_for_a_rule(database, actor, "accounts")
    fifth = new_rule(
        database,
        actor,
        name="Accounts in the same city",
        base_table="accounts",
        conditions=[{"base_column": "address_city", "criterion": "exact_match"}],
    )
    sixth = new_rule(
        database,
        actor,
        name="Accounts with the same postal code",
        base_table="accounts",
        conditions=[{"base_column": "address_postal_code", "criterion": "exact_match"}],
    )
    publish(database, actor, fifth)
    before = rules_snapshot(database)

    with pytest.raises(Conflict) as refused:
        publish(database, actor, sixth)

    assert refused.value.code == "too_many_published_rules"
    assert "unpublish" in refused.value.message.lower()
    assert len(refused.value.details["published"]) == 5
    assert read_rule(database, sixth).state is RuleState.UNPUBLISHED
    assert rules_snapshot(database) == before


def test_the_published_rule_limit_counts_each_base_table_on_its_own(database, actor):
    accounts = [
        new_rule(
            database,
            actor,
            name=f"Accounts rule {column}",
            base_table="accounts",
            conditions=[{"base_column": column, "criterion": "exact_match"}],
        )
        for column in ("address_city", "address_postal_code")
    ]
    make_room_for_a_rule(database, actor, "accounts")
    publish(database, actor, accounts[0])  # accounts: 4 out-of-box + 1, full
    with pytest.raises(Conflict):
        publish(database, actor, accounts[1])
    contacts_rule = job_title_rule(database, actor)

    publish(database, actor, contacts_rule)  # contacts: 4 out-of-box + 1

    assert read_rule(database, contacts_rule).state is RuleState.PUBLISHED
    unpublish(database, actor, accounts[0])
    publish(database, actor, accounts[1])  # room again on accounts once one is unpublished
    assert read_rule(database, accounts[1]).state is RuleState.PUBLISHED


def test_an_unpublished_rule_is_no_longer_used_by_checks_and_its_codes_are_dropped(database, actor):
    buyer = make_contact(database, actor, last_name="Ruiz", job_title="Buyer")
    rule_id = job_title_rule(database, actor)
    publish(database, actor, rule_id)
    assert matches_of(database, actor, "contacts", {"job_title": "Buyer"}) == [
        (buyer.id, "Contacts with the same job title")
    ]

    unpublish(database, actor, rule_id)

    rule = read_rule(database, rule_id)
    assert rule.state is RuleState.UNPUBLISHED and rule.published_at is None
    assert codes_of(database, rule_id) == set()
    assert matches_of(database, actor, "contacts", {"job_title": "Buyer"}) == []
    # and a write no longer codes it
    with database.unit_of_work() as uow:
        update_contact(buyer.id, parse(ContactUpdate, {"job_title": "Chief buyer"}), uow=uow, actor=actor)
        uow.commit()
    assert codes_of(database, rule_id) == set()


def test_publishing_a_published_rule_or_unpublishing_an_unpublished_one_is_refused(database, actor):
    rule_id = job_title_rule(database, actor)
    before = rules_snapshot(database)
    with database.unit_of_work() as uow, pytest.raises(InvalidState) as unpublishing:
        rule_service.unpublish_rule(rule_id, uow=uow, actor=actor)
    assert unpublishing.value.code == "rule_not_published"
    assert rules_snapshot(database) == before

    publish(database, actor, rule_id)
    before = rules_snapshot(database)
    with pytest.raises(InvalidState) as publishing:
        publish(database, actor, rule_id)
    assert publishing.value.code == "rule_published"
    assert rules_snapshot(database) == before


def test_an_unknown_rule_is_not_found(database, actor):
    missing = uuid.uuid4()
    with database.unit_of_work() as uow, pytest.raises(LeadflowError) as refused:
        rule_service.unpublish_rule(missing, uow=uow, actor=actor)
    assert refused.value.code == "rule_not_found"
    with pytest.raises(LeadflowError) as publishing:
        publish(database, actor, missing)
    assert publishing.value.code == "rule_not_found"
