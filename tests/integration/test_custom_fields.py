"""Custom fields through the service layer, on SQLite and PostgreSQL: retyping and its refusal,
removal with the audit log keeping the values, qualify mappings, the indexes of searchable fields,
and list filters and sorts on every kind."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, select

from leadflow.core.errors import InvalidState, LeadflowError, ValidationFailed
from leadflow.core.schemas import parse
from leadflow.core.uow import Database
from leadflow.customers import service as customers
from leadflow.customers.models import Account, Contact
from leadflow.customers.schemas import AccountCreate
from leadflow.fields import service as fields
from leadflow.fields.filters import parse_condition
from leadflow.fields.models import CustomField, FieldMapping
from leadflow.fields.schemas import FieldCreate, FieldUpdate, MappingIn
from leadflow.leads import service as leads
from leadflow.leads.models import Lead
from leadflow.leads.schemas import LeadUpdate, QualifyOptions
from leadflow.leads.views import LeadQuery, LeadView, list_leads
from leadflow.opportunities.models import Opportunity
from leadflow.security.actor import Actor, actor_for_email
from leadflow.security.audit import AuditEntry
from leadflow.security.service import create_business_unit, create_user
from tests.factories import make_lead

REGIONS = [
    {"value": "north", "label_en": "North", "label_es": "Norte"},
    {"value": "south", "label_en": "South", "label_es": "Sur"},
    {"value": "east", "label_en": "East", "label_es": "Este"},
]


# --- helpers -----------------------------------------------------------------------------------------


def define(
    database: Database, actor: Actor, name: str, kind: str, *, table: str = "leads", **settings: Any
) -> uuid.UUID:
    """Add a custom field through the service and return its id."""
    body = {"table": table, "name": name, "label_en": name.title(), "label_es": name, "kind": kind, **settings}
    with database.unit_of_work() as uow:
        field = fields.create_field(parse(FieldCreate, body), uow=uow, actor=actor)
        uow.commit()
        return field.id


def change(database: Database, actor: Actor, field_id: uuid.UUID, **changes: Any) -> None:
    with database.unit_of_work() as uow:
        fields.update_field(field_id, parse(FieldUpdate, changes), uow=uow, actor=actor)
        uow.commit()


def remove(database: Database, actor: Actor, field_id: uuid.UUID, *, confirm: bool = False) -> int:
    with database.unit_of_work() as uow:
        removed = fields.delete_field(field_id, uow=uow, actor=actor, confirm=confirm)
        uow.commit()
    return removed


def definition(database: Database, field_id: uuid.UUID) -> dict[str, Any] | None:
    """Every column of a field's definition (None once it is gone)."""
    with database.unit_of_work(read_only=True) as uow:
        field = uow.session.get(CustomField, field_id)
        if field is None:
            return None
        return {column.key: getattr(field, column.key) for column in CustomField.__mapper__.column_attrs}


def lead_with(database: Database, actor: Actor, **custom: Any) -> uuid.UUID:
    return make_lead(database, actor, custom=custom).id


def stored(database: Database, model: type[Any], record_id: uuid.UUID) -> dict[str, Any]:
    """The record's ``custom`` column exactly as the database keeps it."""
    with database.unit_of_work(read_only=True) as uow:
        return dict(uow.session.get(model, record_id).custom)


def shown(database: Database, model: type[Any], record_id: uuid.UUID) -> dict[str, Any]:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.get(model, record_id).custom_values


def every_custom_column(database: Database) -> dict[uuid.UUID, dict[str, Any]]:
    with database.unit_of_work(read_only=True) as uow:
        return {lead.id: dict(lead.custom) for lead in uow.session.scalars(select(Lead))}


def custom_field_indexes(database: Database) -> set[str]:
    """The indexes of searchable custom fields (expression indexes: SQLAlchemy's inspector skips them on SQLite)."""
    listing = (
        "SELECT indexname FROM pg_indexes WHERE left(indexname, 6) = 'ix_cf_'"
        if database.dialect == "postgresql"
        else "SELECT name FROM sqlite_master WHERE type = 'index' AND substr(name, 1, 6) = 'ix_cf_'"
    )
    with database.engine.connect() as connection:
        return {name for (name,) in connection.exec_driver_sql(listing)}


def listed(
    database: Database, actor: Actor, *conditions: str, sort: str = "created_at", limit: int = 2
) -> list[uuid.UUID]:
    """The ids of every lead of the list filtered by ``conditions`` and sorted by ``sort``, page by page."""
    found: list[uuid.UUID] = []
    cursor = None
    for _ in range(100):
        query = LeadQuery(
            view=LeadView.ALL,
            sort=sort,
            limit=limit,
            cursor=cursor,
            conditions=tuple(parse_condition(condition) for condition in conditions),
        )
        with database.unit_of_work(read_only=True) as uow:
            page = list_leads(query, uow=uow, actor=actor)
        found += [lead.id for lead in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return found
    raise AssertionError("the list never ended")


def refusal(error: LeadflowError) -> dict[str, str]:
    return {item["field"]: item["code"] for item in (error.details or {}).get("fields", [])}


# --- changing a field's kind and settings ------------------------------------------------------------


def test_whole_numbers_become_decimals_when_the_field_becomes_a_decimal(database: Database, actor: Actor) -> None:
    seats = define(database, actor, "seats", "whole_number")
    twelve, blank = lead_with(database, actor, seats=12), lead_with(database, actor)

    change(database, actor, seats, kind="decimal", precision=2)

    assert stored(database, Lead, twelve) == {"seats": 120_000}
    assert shown(database, Lead, twelve)["seats"] == Decimal("12.00")
    assert stored(database, Lead, blank) == {}


def test_text_that_names_options_becomes_a_choice(database: Database, actor: Actor) -> None:
    region = define(database, actor, "region", "text")
    by_label, by_value, by_spanish = (lead_with(database, actor, region=text) for text in ("North", "south", "Este"))

    change(database, actor, region, kind="choice", options=REGIONS)

    assert [stored(database, Lead, lead)["region"] for lead in (by_label, by_value, by_spanish)] == [
        "north",
        "south",
        "east",
    ]


def test_a_choice_becomes_text_holding_the_option_s_english_label(database: Database, actor: Actor) -> None:
    region = define(database, actor, "region", "choice", options=REGIONS)
    lead = lead_with(database, actor, region="Sur")

    change(database, actor, region, kind="text", options=None)

    assert stored(database, Lead, lead) == {"region": "South"}
    assert definition(database, region)["options"] is None


def test_a_choice_becomes_text_when_only_the_kind_is_changed(database: Database, actor: Actor) -> None:
    region = define(database, actor, "region", "choice", options=REGIONS)
    lead = lead_with(database, actor, region="Sur")

    change(database, actor, region, kind="text")

    assert stored(database, Lead, lead) == {"region": "South"}


def test_a_multi_choice_holding_single_options_becomes_a_choice(database: Database, actor: Actor) -> None:
    areas = define(database, actor, "areas", "multi_choice", options=REGIONS)
    lead = lead_with(database, actor, areas=["east"])

    change(database, actor, areas, kind="choice")

    assert stored(database, Lead, lead) == {"areas": "east"}


def test_yes_no_becomes_text_in_english_words(database: Database, actor: Actor) -> None:
    vip = define(database, actor, "vip", "yes_no")
    yes, no = lead_with(database, actor, vip=True), lead_with(database, actor, vip=False)

    change(database, actor, vip, kind="text")

    assert (stored(database, Lead, yes), stored(database, Lead, no)) == ({"vip": "Yes"}, {"vip": "No"})


def test_a_wider_setting_keeps_every_value_as_it_was(database: Database, actor: Actor) -> None:
    ratio = define(database, actor, "ratio", "decimal", precision=2)
    note = define(database, actor, "note", "text", max_length=10)
    region = define(database, actor, "region", "choice", options=REGIONS[:2])
    lead = lead_with(database, actor, ratio="1.25", note="Short", region="north")
    before = stored(database, Lead, lead)

    change(database, actor, ratio, precision=4)
    change(database, actor, note, max_length=100)
    change(database, actor, region, options=REGIONS)

    assert stored(database, Lead, lead) == before
    assert shown(database, Lead, lead)["ratio"] == Decimal("1.2500")


@pytest.mark.parametrize(
    ("kind", "settings", "values", "changes"),
    [
        ("text", {}, ["12", "about twelve", "7"], {"kind": "whole_number"}),
        ("text", {"max_length": 30}, ["Short", "Castilla y León"], {"max_length": 6}),
        ("decimal", {"precision": 2}, ["1.5", "1.25"], {"precision": 1}),
        ("choice", {"options": REGIONS}, ["north", "east"], {"options": REGIONS[:2]}),
        ("multi_choice", {"options": REGIONS}, [["north"], ["north", "south"]], {"kind": "choice"}),
        ("text", {}, ["North", "West"], {"kind": "choice", "options": REGIONS}),
        ("whole_number", {}, [1, 4], {"kind": "yes_no"}),
    ],
)  # fmt: skip
def test_a_change_one_value_does_not_fit_is_refused_and_changes_nothing(
    database: Database, actor: Actor, kind: str, settings: dict[str, Any], values: list[Any], changes: dict[str, Any]
) -> None:
    # A name of its own per case: PostgreSQL builds a new index over row versions older readers still see.
    name = f"probe_{uuid.uuid4().hex[:8]}"
    field_id = define(database, actor, name, kind, searchable=kind != "multi_choice", **settings)
    for value in values:
        lead_with(database, actor, **{name: value})
    lead_with(database, actor)
    definition_before, values_before = definition(database, field_id), every_custom_column(database)
    indexes_before = custom_field_indexes(database)

    with pytest.raises(InvalidState) as refused:
        change(database, actor, field_id, **changes)

    assert refused.value.code == "values_do_not_convert"
    assert refused.value.details["count"] == 1 and refused.value.details["field"] == name
    assert definition(database, field_id) == definition_before
    assert every_custom_column(database) == values_before
    assert custom_field_indexes(database) == indexes_before


def test_removing_an_option_no_record_holds_is_allowed(database: Database, actor: Actor) -> None:
    region = define(database, actor, "region", "choice", options=REGIONS)
    lead = lead_with(database, actor, region="north")

    change(database, actor, region, options=REGIONS[:1])

    assert stored(database, Lead, lead) == {"region": "north"}
    assert [option["value"] for option in definition(database, region)["options"]] == ["north"]


# --- removing a field --------------------------------------------------------------------------------


def test_a_field_with_values_is_kept_until_the_removal_is_confirmed(database: Database, actor: Actor) -> None:
    seats = define(database, actor, "seats", "whole_number", searchable=True)
    lead_with(database, actor, seats=3)
    before = (definition(database, seats), every_custom_column(database), custom_field_indexes(database))

    with pytest.raises(InvalidState) as refused:
        remove(database, actor, seats)

    assert refused.value.code == "field_has_values" and refused.value.details["count"] == 1
    assert (definition(database, seats), every_custom_column(database), custom_field_indexes(database)) == before


def test_a_confirmed_removal_takes_every_value_away_and_the_audit_log_keeps_each_one(
    database: Database, actor: Actor
) -> None:
    deal = define(database, actor, "deal_size", "money", searchable=True)
    define(database, actor, "region", "text")
    big = lead_with(database, actor, deal_size="1500.50", region="Norte")
    small = lead_with(database, actor, deal_size="20")
    without = lead_with(database, actor, region="Sur")

    assert remove(database, actor, deal, confirm=True) == 2

    assert definition(database, deal) is None
    assert stored(database, Lead, big) == {"region": "Norte"}  # the base amount went too
    assert stored(database, Lead, small) == {}
    assert stored(database, Lead, without) == {"region": "Sur"}
    assert "ix_cf_leads_deal_size" not in custom_field_indexes(database)
    with database.unit_of_work(read_only=True) as uow:
        entries = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.table_name == "leads", AuditEntry.record_id.in_([big, small, without]))
        ).all()
    kept = {
        entry.record_id: entry.changes["custom.deal_size"]
        for entry in entries
        if entry.changes and "custom.deal_size" in entry.changes and entry.changes["custom.deal_size"]["new"] is None
    }
    assert {record: Decimal(change["old"]) for record, change in kept.items()} == {
        big: Decimal("1500.50"),
        small: Decimal("20"),
    }


def test_a_removed_field_takes_its_qualify_mappings_with_it(database: Database, actor: Actor) -> None:
    source = define(database, actor, "region", "text")
    define(database, actor, "region", "text", table="accounts")
    with database.unit_of_work() as uow:
        fields.set_mapping(
            MappingIn(target_table="accounts", target_field="region", source_field="custom.region"),
            uow=uow,
            actor=actor,
        )
        uow.commit()

    remove(database, actor, source)

    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalars(select(FieldMapping)).all() == []


def test_a_new_field_of_a_removed_one_s_name_starts_empty(database: Database, actor: Actor) -> None:
    old = define(database, actor, "seats", "whole_number")
    lead = lead_with(database, actor, seats=3)
    remove(database, actor, old, confirm=True)

    define(database, actor, "seats", "text")

    assert shown(database, Lead, lead) == {"seats": None}


# --- values and their audit --------------------------------------------------------------------------


def test_an_update_of_custom_values_is_audited_as_custom_fields(database: Database, actor: Actor) -> None:
    define(database, actor, "seats", "whole_number")
    define(database, actor, "region", "text")
    lead = lead_with(database, actor, seats=3, region="Norte")

    with database.unit_of_work() as uow:
        leads.update_lead(lead, parse(LeadUpdate, {"custom": {"seats": 4, "region": None}}), uow=uow, actor=actor)
        uow.commit()

    with database.unit_of_work(read_only=True) as uow:
        changes = [
            entry.changes
            for entry in uow.session.scalars(
                select(AuditEntry).where(AuditEntry.record_id == lead, AuditEntry.action == "update")
            )
        ]
    assert {"custom.seats": {"old": 3, "new": 4}, "custom.region": {"old": "Norte", "new": None}} in changes


@pytest.fixture
def seller_of_another_unit(database: Database) -> Actor:
    """A Salesperson of a business unit of their own, who cannot read the administrator's records."""
    with database.unit_of_work() as uow:
        create_business_unit("North", parent_name=None, uow=uow, actor=None)
        create_user(
            email="north@example.com", full_name="Nora North", role_names=["Salesperson"],
            business_unit_name="North", password=None, uow=uow, actor=None,
        )  # fmt: skip
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        return actor_for_email(uow.session, "north@example.com")


def test_a_lookup_to_a_record_the_user_cannot_read_is_not_found(
    database: Database, actor: Actor, seller_of_another_unit: Actor
) -> None:
    define(database, actor, "partner", "lookup", lookup_table="accounts")
    with database.unit_of_work() as uow:
        hidden = customers.create_account(parse(AccountCreate, {"name": "Admin's account"}), uow=uow, actor=actor).id
        uow.commit()
    with database.unit_of_work() as uow:
        own = customers.create_account(
            parse(AccountCreate, {"name": "Nora's account"}), uow=uow, actor=seller_of_another_unit
        ).id
        uow.commit()

    with pytest.raises(ValidationFailed) as refused:
        make_lead(database, seller_of_another_unit, custom={"partner": str(hidden)})

    assert refusal(refused.value) == {"custom.partner": "not_found"}
    accepted = make_lead(database, seller_of_another_unit, custom={"partner": str(own)})
    assert stored(database, Lead, accepted.id) == {"partner": str(own)}
    assert make_lead(database, actor, custom={"partner": str(hidden)}).custom == {"partner": str(hidden)}


def test_a_lookup_to_a_deleted_record_is_cleared(database: Database, actor: Actor) -> None:
    define(database, actor, "partner", "lookup", lookup_table="accounts")
    with database.unit_of_work() as uow:
        account = customers.create_account(parse(AccountCreate, {"name": "Gone soon"}), uow=uow, actor=actor).id
        uow.commit()
    lead = lead_with(database, actor, partner=str(account))

    with database.unit_of_work() as uow:
        customers.delete_account(account, uow=uow, actor=actor)
        uow.commit()

    assert stored(database, Lead, lead) == {}


def test_defaults_fill_new_records_of_every_table(database: Database, actor: Actor) -> None:
    define(database, actor, "tier", "choice", table="accounts", options=REGIONS, default="Norte")
    define(database, actor, "seats", "whole_number", default=5)

    with database.unit_of_work() as uow:
        account = customers.create_account(parse(AccountCreate, {"name": "Acme"}), uow=uow, actor=actor).id
        uow.commit()

    assert stored(database, Account, account) == {"tier": "north"}
    assert stored(database, Lead, lead_with(database, actor)) == {"seats": 5}
    assert stored(database, Lead, lead_with(database, actor, seats=None)) == {}


# --- qualify mappings --------------------------------------------------------------------------------


def map_field(database: Database, actor: Actor, target_table: str, target_field: str, source_field: str) -> None:
    with database.unit_of_work() as uow:
        fields.set_mapping(
            MappingIn(target_table=target_table, target_field=target_field, source_field=source_field),
            uow=uow,
            actor=actor,
        )
        uow.commit()


def test_qualify_fills_the_new_records_custom_fields_as_the_mappings_say(database: Database, actor: Actor) -> None:
    define(database, actor, "region", "choice", options=REGIONS[:2])
    define(database, actor, "seats", "whole_number")
    define(database, actor, "region", "choice", table="accounts", options=REGIONS)
    define(database, actor, "region_name", "text", table="contacts")
    define(database, actor, "source", "text", table="contacts", default="qualified lead")
    define(database, actor, "seats", "whole_number", table="opportunities")
    define(database, actor, "stage_note", "text", table="opportunities", default="new")
    map_field(database, actor, "accounts", "region", "custom.region")
    map_field(database, actor, "contacts", "region_name", "custom.region")
    map_field(database, actor, "opportunities", "seats", "custom.seats")
    lead = make_lead(database, actor, custom={"region": "south", "seats": 40})

    with database.unit_of_work() as uow:
        result = leads.qualify_lead(lead.id, QualifyOptions(), uow=uow, actor=actor)
        uow.commit()

    assert stored(database, Account, result.account_id) == {"region": "south"}
    assert stored(database, Contact, result.contact_id) == {"region_name": "South", "source": "qualified lead"}
    opportunity = shown(database, Opportunity, result.opportunity_id)
    assert opportunity["seats"] == 40 and opportunity["stage_note"] == "new"


def test_qualify_copies_a_built_in_lead_column_into_a_text_field(database: Database, actor: Actor) -> None:
    define(database, actor, "origin", "text", table="opportunities")
    map_field(database, actor, "opportunities", "origin", "job_title")
    lead = make_lead(database, actor, job_title="Purchasing manager")

    with database.unit_of_work() as uow:
        result = leads.qualify_lead(lead.id, QualifyOptions(), uow=uow, actor=actor)
        uow.commit()

    assert stored(database, Opportunity, result.opportunity_id) == {"origin": "Purchasing manager"}


def test_qualify_copies_the_lead_budget_into_a_money_field_with_its_base_amount(
    database: Database, actor: Actor
) -> None:
    define(database, actor, "budget", "money", table="opportunities")
    map_field(database, actor, "opportunities", "budget", "budget_amount")
    lead = make_lead(database, actor, budget_amount="25000.50")

    with database.unit_of_work() as uow:
        result = leads.qualify_lead(lead.id, QualifyOptions(), uow=uow, actor=actor)
        uow.commit()

    opportunity = shown(database, Opportunity, result.opportunity_id)
    assert opportunity["budget"] == Decimal("25000.50") == opportunity["budget_base"]


def test_qualify_leaves_out_a_lead_value_the_target_cannot_hold(database: Database, actor: Actor) -> None:
    define(database, actor, "region", "choice", options=REGIONS)
    define(database, actor, "note", "text", table="accounts", max_length=3)
    map_field(database, actor, "accounts", "note", "custom.region")
    lead = make_lead(database, actor, custom={"region": "north"})  # "North" does not fit three characters

    with database.unit_of_work() as uow:
        result = leads.qualify_lead(lead.id, QualifyOptions(), uow=uow, actor=actor)
        uow.commit()

    assert stored(database, Account, result.account_id) == {}


@pytest.mark.parametrize(
    ("source_kind", "source_settings", "target_kind", "target_settings"),
    [
        ("whole_number", {}, "date", {}),
        ("text", {}, "whole_number", {}),
        ("choice", {"options": REGIONS}, "choice", {"options": REGIONS[:2]}),
        ("decimal", {}, "money", {}),
        ("lookup", {"lookup_table": "accounts"}, "lookup", {"lookup_table": "contacts"}),
    ],
)
def test_a_mapping_between_incompatible_kinds_is_refused_and_not_kept(
    database: Database,
    actor: Actor,
    source_kind: str,
    source_settings: dict[str, Any],
    target_kind: str,
    target_settings: dict[str, Any],
) -> None:
    define(database, actor, "source", source_kind, **source_settings)
    define(database, actor, "target", target_kind, table="opportunities", **target_settings)

    with pytest.raises(ValidationFailed) as refused:
        map_field(database, actor, "opportunities", "target", "custom.source")

    assert refused.value.code == "incompatible_mapping"
    assert refusal(refused.value) == {"source_field": "incompatible_mapping"}
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalars(select(FieldMapping)).all() == []


def test_a_mapping_is_replaced_for_the_same_target(database: Database, actor: Actor) -> None:
    define(database, actor, "first", "text")
    define(database, actor, "second", "text")
    define(database, actor, "note", "text", table="accounts")

    map_field(database, actor, "accounts", "note", "custom.first")
    map_field(database, actor, "accounts", "note", "custom.second")

    with database.unit_of_work(read_only=True) as uow:
        mappings = [(m.target_table, m.target_field, m.source_field) for m in uow.session.scalars(select(FieldMapping))]
    assert mappings == [("accounts", "note", "custom.second")]


# --- indexes -----------------------------------------------------------------------------------------


def test_a_searchable_field_has_an_index_for_as_long_as_it_is_searchable(database: Database, actor: Actor) -> None:
    seats = define(database, actor, "seats", "whole_number", searchable=True)
    define(database, actor, "region", "text")
    assert custom_field_indexes(database) == {"ix_cf_leads_seats"}

    change(database, actor, seats, searchable=False)
    assert custom_field_indexes(database) == set()

    change(database, actor, seats, searchable=True)
    assert custom_field_indexes(database) == {"ix_cf_leads_seats"}

    remove(database, actor, seats)
    assert custom_field_indexes(database) == set()


def test_fields_of_the_same_name_on_two_tables_have_an_index_each(database: Database, actor: Actor) -> None:
    define(database, actor, "region", "text", searchable=True)
    accounts_region = define(database, actor, "region", "text", table="accounts", searchable=True)

    assert custom_field_indexes(database) == {"ix_cf_leads_region", "ix_cf_accounts_region"}
    remove(database, actor, accounts_region)
    assert custom_field_indexes(database) == {"ix_cf_leads_region"}


def test_a_retyped_searchable_field_is_still_listed_in_order_by_its_new_kind(database: Database, actor: Actor) -> None:
    seats = define(database, actor, "seats", "text", searchable=True)
    ids = {value: lead_with(database, actor, seats=value) for value in ("9", "10", "100")}

    change(database, actor, seats, kind="whole_number")

    assert custom_field_indexes(database) == {"ix_cf_leads_seats"}
    assert listed(database, actor, sort="custom.seats") == [ids["9"], ids["10"], ids["100"]]


@contextmanager
def plans_of_lead_queries(database: Database) -> Iterator[list[str]]:
    """The query plan of every SELECT on ``leads`` run inside the block."""
    plans: list[str] = []

    def explain(connection: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if not statement.lstrip().upper().startswith("SELECT") or "FROM leads" not in statement:
            return
        explain_cursor = connection.connection.cursor()
        if database.dialect == "sqlite":
            explain_cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
        else:
            for setting in ("enable_seqscan", "enable_sort", "enable_bitmapscan"):
                explain_cursor.execute(f"SET LOCAL {setting} = off")
            explain_cursor.execute("EXPLAIN " + statement, parameters)
        plans.append("\n".join(" ".join(str(part) for part in row) for row in explain_cursor.fetchall()))
        explain_cursor.close()

    event.listen(database.engine, "before_cursor_execute", explain)
    try:
        yield plans
    finally:
        event.remove(database.engine, "before_cursor_execute", explain)


@pytest.mark.parametrize(
    ("conditions", "sort"),
    [((), "custom.headcount"), ((), "-custom.headcount"), (("custom.headcount:gt:5",), "custom.headcount"),
     (("custom.headcount:eq:7",), "custom.headcount")],
)  # fmt: skip
def test_a_list_sorted_or_filtered_by_a_searchable_field_reads_its_index(
    database: Database, actor: Actor, conditions: tuple[str, ...], sort: str
) -> None:
    define(database, actor, "headcount", "whole_number", searchable=True)
    for seats in (3, 7, 9, None):
        lead_with(database, actor, headcount=seats)

    with plans_of_lead_queries(database) as plans:
        listed(database, actor, *conditions, sort=sort, limit=50)

    assert plans and any("ix_cf_leads_headcount" in plan for plan in plans), plans


# --- list filters and sorts --------------------------------------------------------------------------


@pytest.fixture
def seats_leads(database: Database, actor: Actor) -> dict[Any, uuid.UUID]:
    """Leads with seats 3, 7, 7, 12 and one without, by their seats (the second 7 as "7b")."""
    define(database, actor, "seats", "whole_number", searchable=True)
    return {
        label: lead_with(database, actor, seats=value)
        for label, value in (("3", 3), ("7", 7), ("7b", 7), ("12", 12), (None, None))
    }


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("custom.seats:eq:7", ["7", "7b"]),
        ("custom.seats:lt:7", ["3"]),
        ("custom.seats:le:7", ["3", "7", "7b"]),
        ("custom.seats:gt:7", ["12"]),
        ("custom.seats:ge:7", ["7", "7b", "12"]),
        ("custom.seats:in:3|12", ["3", "12"]),
        ("custom.seats:blank", [None]),
        ("custom.seats:not_blank", ["3", "7", "7b", "12"]),
        ("custom.seats:gt:-1", ["3", "7", "7b", "12"]),
    ],
)
def test_whole_numbers_filter_with_every_operator(
    database: Database, actor: Actor, seats_leads: dict[Any, uuid.UUID], condition: str, expected: list[Any]
) -> None:
    assert set(listed(database, actor, condition)) == {seats_leads[label] for label in expected}


def test_blanks_sort_first_ascending_and_last_descending_page_by_page(
    database: Database, actor: Actor, seats_leads: dict[Any, uuid.UUID]
) -> None:
    ascending = listed(database, actor, sort="custom.seats", limit=1)
    descending = listed(database, actor, sort="-custom.seats", limit=1)

    assert ascending[0] == seats_leads[None] and descending[-1] == seats_leads[None]
    assert ascending == list(reversed(descending))
    values = [next(label for label, lead in seats_leads.items() if lead == found) for found in ascending]
    assert [label and label.rstrip("b") for label in values] == [None, "3", "7", "7", "12"]


def test_not_equal_leaves_out_blank_values_as_it_does_on_built_in_columns(
    database: Database, actor: Actor, seats_leads: dict[Any, uuid.UUID]
) -> None:
    cold = make_lead(database, actor, rating="cold").id
    unrated = make_lead(database, actor, rating=None).id
    built_in = set(listed(database, actor, "rating:ne:hot"))
    assert cold in built_in and unrated not in built_in

    assert set(listed(database, actor, "custom.seats:ne:7")) == {seats_leads["3"], seats_leads["12"]}


def test_decimals_and_money_filter_by_their_amounts(database: Database, actor: Actor) -> None:
    define(database, actor, "ratio", "decimal", precision=2)
    define(database, actor, "deal_size", "money", searchable=True)
    small = lead_with(database, actor, ratio="0.5", deal_size="99.99")
    large = lead_with(database, actor, ratio="1.25", deal_size="100")
    lead_with(database, actor)

    assert listed(database, actor, "custom.ratio:gt:0.5") == [large]
    assert listed(database, actor, "custom.ratio:eq:0.50") == [small]
    assert listed(database, actor, "custom.deal_size:lt:100") == [small]
    assert listed(database, actor, "custom.deal_size:ge:100", "custom.ratio:not_blank") == [large]


def test_text_filters_by_equality_contents_and_options_and_sorts_blanks_first(database: Database, actor: Actor) -> None:
    define(database, actor, "region", "text", searchable=True)
    north = lead_with(database, actor, region="North coast")
    south = lead_with(database, actor, region="South")
    blank = lead_with(database, actor)

    assert listed(database, actor, "custom.region:eq:South") == [south]
    assert listed(database, actor, "custom.region:contains:coast") == [north]
    assert listed(database, actor, "custom.region:contains:COAST") == [north]
    assert set(listed(database, actor, "custom.region:in:South|North coast")) == {north, south}
    assert listed(database, actor, "custom.region:blank") == [blank]
    assert listed(database, actor, sort="custom.region") == [blank, north, south]
    assert listed(database, actor, sort="-custom.region") == [south, north, blank]


def test_choices_filter_by_option_value_or_label(database: Database, actor: Actor) -> None:
    define(database, actor, "region", "choice", options=REGIONS, searchable=True)
    north = lead_with(database, actor, region="north")
    south = lead_with(database, actor, region="south")
    lead_with(database, actor)

    assert listed(database, actor, "custom.region:eq:Norte") == [north]
    assert listed(database, actor, "custom.region:eq:north") == [north]
    assert set(listed(database, actor, "custom.region:in:North|Sur")) == {north, south}
    with pytest.raises(ValidationFailed):
        listed(database, actor, "custom.region:eq:West")


def test_multi_choice_filters_find_records_holding_an_option(database: Database, actor: Actor) -> None:
    define(database, actor, "areas", "multi_choice", options=REGIONS)
    both = lead_with(database, actor, areas=["north", "south"])
    east = lead_with(database, actor, areas=["east"])
    blank = lead_with(database, actor)

    assert listed(database, actor, "custom.areas:eq:south") == [both]
    assert listed(database, actor, "custom.areas:in:Norte") == [both]
    assert set(listed(database, actor, "custom.areas:not_blank")) == {both, east}
    assert blank not in listed(database, actor, "custom.areas:not_blank")
    with pytest.raises(ValidationFailed) as refused:
        listed(database, actor, sort="custom.areas")
    assert refused.value.code == "invalid_sort"


def test_blank_on_a_multi_choice_field_finds_the_records_without_an_option(database: Database, actor: Actor) -> None:
    define(database, actor, "areas", "multi_choice", options=REGIONS)
    lead_with(database, actor, areas=["north"])
    blank = lead_with(database, actor)

    assert listed(database, actor, "custom.areas:blank") == [blank]


def test_in_on_a_multi_choice_field_finds_records_holding_any_of_the_options(database: Database, actor: Actor) -> None:
    define(database, actor, "areas", "multi_choice", options=REGIONS)
    both = lead_with(database, actor, areas=["north", "south"])
    east = lead_with(database, actor, areas=["east"])
    lead_with(database, actor)

    assert set(listed(database, actor, "custom.areas:in:north|east")) == {both, east}


def test_dates_and_times_filter_and_sort_in_time_order(database: Database, actor: Actor) -> None:
    define(database, actor, "renewal", "date", searchable=True)
    define(database, actor, "meeting", "datetime", searchable=True)
    early = lead_with(database, actor, renewal="2026-01-31", meeting="2026-12-31T23:30:00-02:00")
    late = lead_with(database, actor, renewal="2026-12-01", meeting="2027-01-01T00:30:00+02:00")
    blank = lead_with(database, actor)

    assert listed(database, actor, "custom.renewal:lt:2026-06-01") == [early]
    assert listed(database, actor, "custom.renewal:ge:2026-06-01") == [late]
    # 2027-01-01T01:30Z and 2026-12-31T22:30Z: the later instant is the earlier local date-time.
    assert listed(database, actor, "custom.meeting:gt:2027-01-01T00:00:00Z") == [early]
    assert listed(database, actor, sort="custom.meeting") == [blank, late, early]
    assert listed(database, actor, sort="custom.renewal") == [blank, early, late]


def test_yes_no_filters_and_sorts_blank_then_no_then_yes(database: Database, actor: Actor) -> None:
    define(database, actor, "vip", "yes_no", searchable=True)
    yes = lead_with(database, actor, vip=True)
    no = lead_with(database, actor, vip=False)
    blank = lead_with(database, actor)

    assert listed(database, actor, "custom.vip:eq:yes") == [yes]
    assert listed(database, actor, "custom.vip:eq:false") == [no]
    assert listed(database, actor, "custom.vip:blank") == [blank]
    assert listed(database, actor, sort="custom.vip", limit=1) == [blank, no, yes]


def test_built_in_columns_filter_beside_custom_fields(database: Database, actor: Actor) -> None:
    define(database, actor, "seats", "whole_number")
    hot = make_lead(database, actor, rating="hot", custom={"seats": 5}).id
    make_lead(database, actor, rating="cold", custom={"seats": 5})
    make_lead(database, actor, rating="hot", custom={"seats": 1})

    assert listed(database, actor, "rating:eq:hot", "custom.seats:ge:5") == [hot]


def test_a_hidden_field_cannot_filter_or_sort_a_list(database: Database, actor: Actor) -> None:
    define(database, actor, "secret", "text", hidden=True)

    for attempt in ({"conditions": ("custom.secret:eq:x",)}, {"sort": "custom.secret"}):
        with pytest.raises(ValidationFailed) as refused:
            listed(database, actor, *attempt.get("conditions", ()), sort=attempt.get("sort", "created_at"))
        assert refusal(refused.value) == {"filter": "hidden_field"}


def test_a_searchable_number_field_can_take_the_name_of_a_removed_text_field_while_a_report_reads(
    database: Database, actor: Actor
) -> None:
    if database.dialect != "postgresql":
        pytest.skip("only PostgreSQL indexes row versions that earlier readers still see")
    old = define(database, actor, "probe", "text")
    define(database, actor, "anchor", "text", searchable=True)  # an index on custom: no update of it is HOT
    lead = lead_with(database, actor, probe="North")
    with (
        database.engine.connect().execution_options(isolation_level="REPEATABLE READ") as report,
        report.begin(),
    ):
        report.exec_driver_sql("SELECT count(*) FROM leads").scalar()  # the report's snapshot sees "North"
        remove(database, actor, old, confirm=True)

        define(database, actor, "probe", "whole_number", searchable=True)

    assert stored(database, Lead, lead) == {}
    assert "ix_cf_leads_probe" in custom_field_indexes(database)
