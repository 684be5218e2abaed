"""Merging accounts, contacts and leads, and undoing a merge exactly (§9), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, text, update

from leadflow.activities.models import Attachment, Note, RegardingTable
from leadflow.activities.service import AttachmentUpload, add_note
from leadflow.api.errors import status_for
from leadflow.core.errors import (
    Conflict,
    Forbidden,
    InvalidState,
    LeadflowError,
    NotFound,
    ValidationFailed,
)
from leadflow.core.uow import Database
from leadflow.customers import service as customers
from leadflow.customers.models import Account, Contact, CustomerState
from leadflow.customers.schemas import (
    AccountCreate,
    AccountUpdate,
    ContactCreate,
    ContactUpdate,
)
from leadflow.duplicates import merge as merging
from leadflow.duplicates.detection import check_record
from leadflow.duplicates.models import (
    DetectionTable,
    DuplicateJob,
    DuplicateSet,
    DuplicateSetMember,
    JobState,
    MergeJournal,
    MergeState,
)
from leadflow.leads import service as leads
from leadflow.leads.models import Lead, LeadState, LeadStatusReason
from leadflow.leads.schemas import QualifyOptions
from leadflow.opportunities import service as opportunities
from leadflow.opportunities.models import CustomerKind, Opportunity
from leadflow.opportunities.schemas import OpportunityCreate, OpportunityUpdate
from leadflow.security.actor import Actor, actor_for_email
from leadflow.security.audit import AuditEntry
from leadflow.security.models import RecordShare
from leadflow.security.privileges import Depth, Privilege
from leadflow.security.service import create_role, create_user
from tests.factories import make_lead

# Every table a merge or an undo may touch, compared row by row as the database returns them.
RECORD_TABLES = (
    "accounts",
    "contacts",
    "leads",
    "opportunities",
    "notes",
    "attachments",
    "duplicate_match_codes",
    "duplicate_set_members",
)
ALL_TABLES = (*RECORD_TABLES, "merge_journal", "audit_entries")


def raw_rows(database: Database, tables: tuple[str, ...] = ALL_TABLES) -> dict[str, list[tuple]]:
    """Every row of the tables, as the driver returns them (SELECT *): equal means byte-identical."""
    with database.engine.connect() as connection:
        return {
            table: sorted((tuple(row) for row in connection.execute(text(f"SELECT * FROM {table}"))), key=repr)
            for table in tables
        }


def rows_of(database: Database, table: str, ids: list[uuid.UUID]) -> list[tuple]:
    """Full rows (SELECT *) of some records of one table, in the order of ``ids``."""
    with database.engine.connect() as connection:
        result = connection.execute(text(f"SELECT * FROM {table}"))
        position = list(result.keys()).index("id")
        found = {uuid.UUID(str(row[position])): tuple(row) for row in result}
    return [found[i] for i in ids]


# ---------------------------------------------------------------------------------------------- factories


def make_account(database: Database, actor: Actor, **fields: Any) -> Account:
    with database.unit_of_work() as uow:
        account = customers.create_account(
            AccountCreate(**{"name": "Acme Corp", **fields}), uow=uow, actor=actor, suppress_duplicates=True
        )
        uow.commit()
    return account


def make_contact(database: Database, actor: Actor, **fields: Any) -> Contact:
    with database.unit_of_work() as uow:
        contact = customers.create_contact(
            ContactCreate(**{"first_name": "Jean", "last_name": "Dupont", **fields}),
            uow=uow,
            actor=actor,
            suppress_duplicates=True,
        )
        uow.commit()
    return contact


def make_opportunity(database: Database, actor: Actor, **fields: Any) -> Opportunity:
    with database.unit_of_work() as uow:
        opportunity = opportunities.create_opportunity(
            OpportunityCreate(**{"name": "Fleet renewal", **fields}), uow=uow, actor=actor, suppress_duplicates=True
        )
        uow.commit()
    return opportunity


def make_note(
    database: Database,
    actor: Actor,
    table: RegardingTable,
    record_id: uuid.UUID,
    *,
    title: str = "Call",
    attachment: bytes | None = None,
) -> Note:
    upload = AttachmentUpload("offer.pdf", "application/pdf", attachment) if attachment is not None else None
    with database.unit_of_work() as uow:
        note = add_note(
            table,
            record_id,
            title=title,
            body="Spoke with the buyer.",
            attachment=upload,
            max_attachment_bytes=1 << 20,
            uow=uow,
            actor=actor,
        )
        uow.commit()
    return note


def make_salesperson(database: Database, actor: Actor, email: str = "sam@example.com") -> Actor:
    with database.unit_of_work() as uow:
        create_user(
            email=email,
            full_name="Sam Seller",
            role_names=["Salesperson"],
            business_unit_name=None,
            password=None,
            uow=uow,
            actor=actor,
        )
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        return actor_for_email(uow.session, email)


def merge(
    database: Database, actor: Actor, table: str, master_id: uuid.UUID, subordinate_id: uuid.UUID, **options: Any
) -> MergeJournal:
    with database.unit_of_work() as uow:
        journal = merging.merge_records(table, master_id, subordinate_id, uow=uow, actor=actor, **options)
        uow.commit()
    return journal


def undo(database: Database, actor: Actor, merge_id: uuid.UUID) -> MergeJournal:
    with database.unit_of_work() as uow:
        journal = merging.undo_merge(merge_id, uow=uow, actor=actor)
        uow.commit()
    return journal


def load(database: Database, model: type, record_id: uuid.UUID) -> Any:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.get(model, record_id)


def refused(
    database: Database, action: Callable[[Any], Any], error_type: type[LeadflowError], code: str
) -> LeadflowError:
    """Run ``action(uow)`` expecting a refusal; assert the code and that no row of any table changed."""
    before = raw_rows(database)
    with database.unit_of_work() as uow, pytest.raises(error_type) as caught:
        action(uow)
        uow.commit()
    assert caught.value.code == code, caught.value.message
    assert raw_rows(database) == before
    return caught.value


def make_set(database: Database, *record_ids: uuid.UUID) -> uuid.UUID:
    """A duplicate set of a finished find-all job holding these records."""
    with database.unit_of_work() as uow:
        job = DuplicateJob(id=uuid.uuid4(), table_name=DetectionTable.ACCOUNTS, state=JobState.COMPLETED)
        uow.session.add(job)
        uow.flush()
        duplicate_set = DuplicateSet(id=uuid.uuid4(), job_id=job.id, position=0, score=1.0, size=len(record_ids))
        uow.session.add(duplicate_set)
        uow.flush()
        uow.session.add_all([DuplicateSetMember(set_id=duplicate_set.id, record_id=i) for i in record_ids])
        uow.commit()
    return duplicate_set.id


def members(database: Database, set_id: uuid.UUID) -> set[uuid.UUID]:
    with database.unit_of_work(read_only=True) as uow:
        return set(uow.session.scalars(select(DuplicateSetMember.record_id).where(DuplicateSetMember.set_id == set_id)))


# ---------------------------------------------------------------------------------------------- field choice


def test_the_master_keeps_its_values_and_fills_its_blanks_from_the_subordinate(database, actor):
    master = make_account(database, actor, name="Acme Corp", email="sales@acme.example", telephone=None)
    subordinate = make_account(
        database,
        actor,
        name="ACME Corporation",
        email="info@acme.example",
        telephone="+34 910 000 001",
        address_city="Lyon",
    )

    journal = merge(database, actor, "accounts", master.id, subordinate.id)

    merged = load(database, Account, master.id)
    assert (merged.name, merged.email) == ("Acme Corp", "sales@acme.example")
    assert (merged.telephone, merged.address_city) == ("+34 910 000 001", "Lyon")
    assert journal.choices["name"] == "master" and journal.choices["telephone"] == "subordinate"
    assert journal.choices["website"] == "master"  # blank on both sides: nothing to take


def test_a_value_of_spaces_counts_as_blank(database, actor):
    master = make_account(database, actor, description="   ")
    subordinate = make_account(database, actor, description="Key account since 2019.")

    merge(database, actor, "accounts", master.id, subordinate.id)

    assert load(database, Account, master.id).description == "Key account since 2019."


def test_the_fields_chosen_take_the_subordinates_value_and_the_full_name_follows(database, actor):
    master = make_contact(
        database, actor, first_name="Jean", last_name="Dupont", email="jean@acme.example", job_title="CTO"
    )
    subordinate = make_contact(
        database, actor, first_name="Jean-Pierre", last_name="Dupond", email="jp@acme.example", job_title=None
    )

    journal = merge(
        database,
        actor,
        "contacts",
        master.id,
        subordinate.id,
        fields={"first_name": "subordinate", "email": "subordinate", "job_title": "subordinate"},
    )

    merged = load(database, Contact, master.id)
    assert (merged.first_name, merged.last_name, merged.full_name) == ("Jean-Pierre", "Dupont", "Jean-Pierre Dupont")
    assert merged.email == "jp@acme.example"
    assert merged.job_title is None  # chosen explicitly, even blank
    assert journal.choices["first_name"] == journal.choices["email"] == "subordinate"
    assert journal.choices["last_name"] == "master"


def test_choosing_the_subordinates_owner_brings_the_owners_business_unit(database, actor):
    from leadflow.security.service import create_business_unit

    with database.unit_of_work() as uow:
        create_business_unit("Iberia", parent_name=None, uow=uow, actor=actor)
        create_user(
            email="lucia@example.com",
            full_name="Lucía",
            role_names=["Salesperson"],
            business_unit_name="Iberia",
            password=None,
            uow=uow,
            actor=actor,
        )
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        lucia = actor_for_email(uow.session, "lucia@example.com")
    master = make_account(database, actor)
    subordinate = make_account(database, actor, owner_user_id=lucia.user_id)

    merge(database, actor, "accounts", master.id, subordinate.id, fields={"owner_user_id": "subordinate"})

    merged = load(database, Account, master.id)
    assert (merged.owner_user_id, merged.owning_business_unit_id) == (lucia.user_id, lucia.business_unit_id)
    assert merged.owning_business_unit_id != actor.business_unit_id


def test_lead_choices_cover_pick_lists_money_and_yes_no_fields(database, actor):
    master = make_lead(database, actor, rating=None, budget_amount=None, decision_maker=False, need=None)
    subordinate = make_lead(
        database, actor, rating="cold", budget_amount="9999.1234", decision_maker=True, need="should_have"
    )

    merge(database, actor, "leads", master.id, subordinate.id, fields={"topic": "subordinate"})

    merged = load(database, Lead, master.id)
    assert merged.topic == subordinate.topic
    assert merged.rating.value == "cold" and merged.need.value == "should_have"
    assert merged.budget_amount == Decimal("9999.1234")
    assert merged.decision_maker is False  # "no" is an answer, not a blank


# ---------------------------------------------------------------------------------------------- children


def test_merging_accounts_moves_contacts_opportunities_leads_and_notes_to_the_master(database, actor):
    master = make_account(database, actor, name="Acme Corp")
    subordinate = make_account(database, actor, name="Acme Corporation")
    contact = make_contact(database, actor, account_id=subordinate.id)
    as_customer = make_opportunity(database, actor, customer_id=subordinate.id)
    as_parent = make_opportunity(database, actor, name="Laptops", parent_account_id=subordinate.id)
    lead = make_lead(database, actor, parent_account_id=str(subordinate.id))
    note = make_note(database, actor, RegardingTable.ACCOUNTS, subordinate.id, attachment=b"%PDF-1.7 offer")
    untouched = make_opportunity(database, actor, name="Other", customer_id=master.id)

    journal = merge(database, actor, "accounts", master.id, subordinate.id)

    assert load(database, Contact, contact.id).account_id == master.id
    moved_customer = load(database, Opportunity, as_customer.id)
    assert (moved_customer.customer_kind, moved_customer.customer_id) == (CustomerKind.ACCOUNT, master.id)
    assert load(database, Opportunity, as_parent.id).parent_account_id == master.id
    assert load(database, Lead, lead.id).parent_account_id == master.id
    moved_note = load(database, Note, note.id)
    assert (moved_note.regarding_table, moved_note.regarding_id) == (RegardingTable.ACCOUNTS, master.id)
    with database.unit_of_work(read_only=True) as uow:  # the attachment hangs off the note: it follows
        assert uow.session.scalar(select(Attachment.content).where(Attachment.note_id == note.id)) == b"%PDF-1.7 offer"
    assert load(database, Opportunity, untouched.id).row_version == untouched.row_version
    assert {(m["table"], m["column"]) for m in journal.moved} == {
        ("contacts", "account_id"),
        ("opportunities", "customer_id"),
        ("opportunities", "parent_account_id"),
        ("leads", "parent_account_id"),
        ("notes", "regarding_id"),
    }


def test_merging_contacts_moves_opportunities_leads_primary_contact_links_and_notes(database, actor):
    master = make_contact(database, actor, last_name="Dupont")
    subordinate = make_contact(database, actor, last_name="Dupond")
    account = make_account(database, actor, primary_contact_id=subordinate.id)
    as_customer = make_opportunity(database, actor, customer_id=subordinate.id, parent_contact_id=subordinate.id)
    lead = make_lead(database, actor, parent_contact_id=str(subordinate.id))
    note = make_note(database, actor, RegardingTable.CONTACTS, subordinate.id)

    journal = merge(database, actor, "contacts", master.id, subordinate.id)

    assert load(database, Account, account.id).primary_contact_id == master.id
    opportunity = load(database, Opportunity, as_customer.id)
    assert (opportunity.customer_kind, opportunity.customer_id, opportunity.parent_contact_id) == (
        CustomerKind.CONTACT,
        master.id,
        master.id,
    )
    assert opportunity.row_version == as_customer.row_version + 2  # moved in two columns, one bump each
    assert load(database, Lead, lead.id).parent_contact_id == master.id
    assert load(database, Note, note.id).regarding_id == master.id
    assert len(journal.moved) == 5


def test_merging_leads_moves_the_records_they_originated_and_their_notes(database, actor):
    master = make_lead(database, actor)
    subordinate = make_lead(database, actor)
    with database.unit_of_work() as uow:
        result = leads.qualify_lead(subordinate.id, QualifyOptions(), uow=uow, actor=actor)
        leads.reactivate_lead(subordinate.id, uow=uow, actor=actor)
        uow.commit()
    note = make_note(database, actor, RegardingTable.LEADS, subordinate.id)

    merge(database, actor, "leads", master.id, subordinate.id)

    assert load(database, Account, result.account_id).originating_lead_id == master.id
    assert load(database, Contact, result.contact_id).originating_lead_id == master.id
    assert load(database, Opportunity, result.opportunity_ids[0]).originating_lead_id == master.id
    assert load(database, Note, note.id).regarding_id == master.id


def test_every_moved_child_gets_a_new_row_version_and_is_journaled(database, actor):
    master = make_account(database, actor)
    subordinate = make_account(database, actor)
    contact = make_contact(database, actor, account_id=subordinate.id)

    journal = merge(database, actor, "accounts", master.id, subordinate.id)

    after = load(database, Contact, contact.id)
    assert after.row_version == contact.row_version + 1
    [entry] = journal.moved
    assert entry == {
        "table": "contacts",
        "id": str(contact.id),
        "column": "account_id",
        "old": str(subordinate.id),
        "version_before": contact.row_version,
        "modified_at_before": contact.modified_at.isoformat(),
        "version_after": after.row_version,
    }


def test_duplicate_set_memberships_move_to_the_master_or_go_when_it_is_already_there(database, actor):
    master = make_account(database, actor)
    subordinate = make_account(database, actor)
    other = make_account(database, actor)
    with_both = make_set(database, master.id, subordinate.id)
    with_subordinate = make_set(database, subordinate.id, other.id)

    journal = merge(database, actor, "accounts", master.id, subordinate.id)

    assert members(database, with_both) == {master.id}
    assert members(database, with_subordinate) == {master.id, other.id}

    undo(database, actor, journal.id)

    assert members(database, with_both) == {master.id, subordinate.id}
    assert members(database, with_subordinate) == {subordinate.id, other.id}


# ---------------------------------------------------------------------------------------------- the subordinate


def test_the_subordinate_account_is_deactivated_and_points_to_its_master(database, actor):
    master = make_account(database, actor)
    subordinate = make_account(database, actor)

    journal = merge(database, actor, "accounts", master.id, subordinate.id)

    merged = load(database, Account, subordinate.id)
    assert (merged.state, merged.master_id) == (CustomerState.INACTIVE, master.id)
    assert (journal.master_version_after, journal.subordinate_version_after) == (
        load(database, Account, master.id).row_version,
        merged.row_version,
    )
    # Nothing to take from the subordinate, yet the master's version moves: it gained its children.
    assert journal.master_version_after == master.row_version + 1
    assert journal.state is MergeState.MERGED and journal.merged_by_id == actor.user_id


def test_the_subordinate_contact_is_deactivated_and_points_to_its_master(database, actor):
    master = make_contact(database, actor)
    subordinate = make_contact(database, actor)

    merge(database, actor, "contacts", master.id, subordinate.id)

    merged = load(database, Contact, subordinate.id)
    assert (merged.state, merged.master_id) == (CustomerState.INACTIVE, master.id)


def test_the_subordinate_lead_is_closed_as_canceled_merged_into_its_master(database, actor):
    master = make_lead(database, actor)
    subordinate = make_lead(database, actor)

    merge(database, actor, "leads", master.id, subordinate.id)

    merged = load(database, Lead, subordinate.id)
    assert (merged.state, merged.status_reason) == (LeadState.DISQUALIFIED, LeadStatusReason.CANCELED)
    assert (merged.merged, merged.master_lead_id) == (True, master.id)
    assert merged.closed_at is not None
    assert load(database, Lead, master.id).state is LeadState.OPEN


def test_merge_and_undo_are_audited_on_the_master_with_the_merge_id(database, actor):
    master = make_account(database, actor)
    subordinate = make_account(database, actor)

    journal = merge(database, actor, "accounts", master.id, subordinate.id)
    undo(database, actor, journal.id)

    with database.unit_of_work(read_only=True) as uow:
        entries = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action.in_(("merge", "unmerge"))).order_by(AuditEntry.occurred_at)
        ).all()
    assert [(e.action, e.record_id, e.changes["merge_id"]) for e in entries] == [
        ("merge", master.id, str(journal.id)),
        ("unmerge", master.id, str(journal.id)),
    ]


# ---------------------------------------------------------------------------------------------- refusals


def test_merging_a_record_with_itself_is_refused(database, actor):
    account = make_account(database, actor)
    refused(
        database,
        lambda uow: merging.merge_records("accounts", account.id, account.id, uow=uow, actor=actor),
        ValidationFailed,
        "merge_same_record",
    )


@pytest.mark.parametrize("table", ["opportunities", "users", "notes"])
def test_merging_records_of_other_tables_is_refused(database, actor, table):
    first, second = make_opportunity(database, actor), make_opportunity(database, actor, name="Other")
    error = refused(
        database,
        lambda uow: merging.merge_records(table, first.id, second.id, uow=uow, actor=actor),
        ValidationFailed,
        "merge_table_not_supported",
    )
    assert "accounts, contacts or leads" in error.message


@pytest.mark.parametrize("role", ["master", "subordinate"])
def test_merging_ids_of_different_tables_is_refused(database, actor, role):
    contact = make_contact(database, actor)
    account = make_account(database, actor)
    ids = (account.id, contact.id) if role == "master" else (contact.id, account.id)
    error = refused(
        database,
        lambda uow: merging.merge_records("contacts", *ids, uow=uow, actor=actor),
        ValidationFailed,
        "merge_across_tables",
    )
    assert f"{role} id {account.id} names an account, not a contact" in error.message


def test_merging_an_unknown_id_is_not_found(database, actor):
    account = make_account(database, actor)
    missing = uuid.uuid4()
    error = refused(
        database,
        lambda uow: merging.merge_records("accounts", account.id, missing, uow=uow, actor=actor),
        NotFound,
        "account_not_found",
    )
    assert str(missing) in error.message


def test_merging_an_inactive_account_is_refused(database, actor):
    master = make_account(database, actor)
    inactive = make_account(database, actor)
    with database.unit_of_work() as uow:
        uow.session.execute(update(Account).where(Account.id == inactive.id).values(state=CustomerState.INACTIVE))
        uow.commit()
    error = refused(
        database,
        lambda uow: merging.merge_records("accounts", master.id, inactive.id, uow=uow, actor=actor),
        InvalidState,
        "merge_inactive_record",
    )
    assert "inactive" in error.message


@pytest.mark.parametrize("role", ["master", "subordinate"])
def test_merging_an_already_merged_contact_is_refused(database, actor, role):
    first, merged, third = (make_contact(database, actor, last_name=name) for name in ("Dupont", "Dupond", "Durand"))
    merge(database, actor, "contacts", first.id, merged.id)
    ids = (merged.id, third.id) if role == "master" else (third.id, merged.id)
    error = refused(
        database,
        lambda uow: merging.merge_records("contacts", *ids, uow=uow, actor=actor),
        InvalidState,
        "merge_inactive_record",
    )
    assert f"The contact Jean Dupond (id {merged.id}) was already merged" in error.message


def test_merging_a_qualified_lead_into_an_open_one_says_to_reactivate_it_first(database, actor):
    master = make_lead(database, actor)
    qualified = make_lead(database, actor)
    with database.unit_of_work() as uow:
        leads.qualify_lead(qualified.id, QualifyOptions(), uow=uow, actor=actor)
        uow.commit()
    error = refused(
        database,
        lambda uow: merging.merge_records("leads", master.id, qualified.id, uow=uow, actor=actor),
        InvalidState,
        "merge_inactive_record",
    )
    assert "closed leads are read-only" in error.message and "reactivate it first" in error.message


def test_contacts_of_different_accounts_are_not_merged_unless_parenting_is_forced(database, actor):
    acme, globex = make_account(database, actor, name="Acme Corp"), make_account(database, actor, name="Globex")
    master = make_contact(database, actor, account_id=acme.id)
    subordinate = make_contact(database, actor, account_id=globex.id)

    error = refused(
        database,
        lambda uow: merging.merge_records("contacts", master.id, subordinate.id, uow=uow, actor=actor),
        Conflict,
        "merge_parent_mismatch",
    )
    assert "Acme Corp" in error.message and "Globex" in error.message and "force_parenting" in error.message

    merge(database, actor, "contacts", master.id, subordinate.id, force_parenting=True)
    assert load(database, Contact, master.id).account_id == acme.id


def test_a_contact_without_an_account_merges_into_one_with_an_account(database, actor):
    acme = make_account(database, actor)
    master = make_contact(database, actor)
    subordinate = make_contact(database, actor, account_id=acme.id)

    merge(database, actor, "contacts", master.id, subordinate.id)

    assert load(database, Contact, master.id).account_id == acme.id


@pytest.mark.parametrize("column", ["parent_account_id", "parent_contact_id"])
def test_leads_with_different_parents_are_not_merged_unless_parenting_is_forced(database, actor, column):
    make = make_account if column == "parent_account_id" else make_contact
    first = make(database, actor, **({"name": "Acme Corp"} if make is make_account else {"last_name": "Dupont"}))
    second = make(database, actor, **({"name": "Globex"} if make is make_account else {"last_name": "Martin"}))
    master = make_lead(database, actor, **{column: str(first.id)})
    subordinate = make_lead(database, actor, **{column: str(second.id)})

    error = refused(
        database,
        lambda uow: merging.merge_records("leads", master.id, subordinate.id, uow=uow, actor=actor),
        Conflict,
        "merge_parent_mismatch",
    )
    assert str(first.id) in error.message and str(second.id) in error.message
    assert error.details["column"] == column

    merge(database, actor, "leads", master.id, subordinate.id, force_parenting=True, fields={column: "subordinate"})
    assert getattr(load(database, Lead, master.id), column) == second.id


def test_a_salesperson_cannot_merge_a_record_they_may_not_write(database, actor):
    seller = make_salesperson(database, actor)
    own = make_account(database, actor, owner_user_id=seller.user_id)
    not_theirs = make_account(database, actor)
    error = refused(
        database,
        lambda uow: merging.merge_records("accounts", own.id, not_theirs.id, uow=uow, actor=seller),
        Forbidden,
        "forbidden",
    )
    assert error.details["privilege"] == "write"


def test_a_salesperson_cannot_merge_into_a_master_they_may_not_write(database, actor):
    seller = make_salesperson(database, actor)
    not_theirs = make_account(database, actor)  # readable (and Append To) at Business Unit, not writable
    own = make_account(database, actor, owner_user_id=seller.user_id)
    error = refused(
        database,
        lambda uow: merging.merge_records("accounts", not_theirs.id, own.id, uow=uow, actor=seller),
        Forbidden,
        "forbidden",
    )
    assert error.details["privilege"] == "write"


def test_merging_needs_append_to_on_the_master(database, actor):
    """No built-in role writes a record it may not append to, so a custom role shows it."""
    with database.unit_of_work() as uow:
        create_role(
            "Account editor",
            {"accounts": {Privilege.READ: Depth.USER, Privilege.WRITE: Depth.USER}},
            uow=uow,
            actor=actor,
        )
        create_user(
            email="eddie@example.com",
            full_name="Eddie",
            role_names=["Account editor"],
            business_unit_name=None,
            password=None,
            uow=uow,
            actor=actor,
        )
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        editor = actor_for_email(uow.session, "eddie@example.com")
    master = make_account(database, actor, owner_user_id=editor.user_id)
    subordinate = make_account(database, actor, owner_user_id=editor.user_id)
    error = refused(
        database,
        lambda uow: merging.merge_records("accounts", master.id, subordinate.id, uow=uow, actor=editor),
        Forbidden,
        "forbidden",
    )
    assert (error.details["privilege"], error.details["table"]) == ("append_to", "accounts")


def test_a_salesperson_merges_two_records_they_own(database, actor):
    seller = make_salesperson(database, actor)
    master = make_account(database, actor, owner_user_id=seller.user_id)
    subordinate = make_account(database, actor, owner_user_id=seller.user_id)

    merge(database, seller, "accounts", master.id, subordinate.id)

    assert load(database, Account, subordinate.id).master_id == master.id


def test_taking_the_subordinates_owner_needs_assign_on_the_master(database, actor):
    seller = make_salesperson(database, actor)
    olga = make_salesperson(database, actor, email="olga@example.com")
    master = make_account(database, actor, owner_user_id=olga.user_id)
    subordinate = make_account(database, actor, owner_user_id=seller.user_id)
    with database.unit_of_work() as uow:  # Olga lets the seller write her account, not give it away
        uow.session.add(
            RecordShare(
                table_name="accounts", record_id=master.id, user_id=seller.user_id, can_read=True, can_write=True
            )
        )
        uow.commit()

    def merge_as_seller(uow: Any, fields: dict[str, str]) -> MergeJournal:
        return merging.merge_records("accounts", master.id, subordinate.id, fields=fields, uow=uow, actor=seller)

    error = refused(
        database, lambda uow: merge_as_seller(uow, {"owner_user_id": "subordinate"}), Forbidden, "forbidden"
    )
    assert error.details["privilege"] == "assign"

    with database.unit_of_work() as uow:
        merge_as_seller(uow, {})
        uow.commit()
    assert load(database, Account, master.id).owner_user_id == olga.user_id


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"nickname": "master"}, "unknown_merge_field"),
        ({"state": "subordinate"}, "unknown_merge_field"),
        ({"full_name": "subordinate"}, "unknown_merge_field"),
        ({"name": "both"}, "invalid_merge_choice"),
    ],
)
def test_unknown_fields_and_choices_are_refused(database, actor, fields, code):
    master, subordinate = make_account(database, actor), make_account(database, actor)
    error = refused(
        database,
        lambda uow: merging.merge_records("accounts", master.id, subordinate.id, fields=fields, uow=uow, actor=actor),
        ValidationFailed,
        code,
    )
    assert next(iter(fields)) in error.message


# ---------------------------------------------------------------------------------------------- undo


def test_undo_restores_both_accounts_and_every_child_byte_for_byte(database, actor):
    master = make_account(database, actor, name="Acme Corp", email="sales@acme.example")
    subordinate = make_account(
        database, actor, name="ACME Corporation", telephone="+34 910 000 001", website="https://acme.example"
    )
    jean = make_contact(database, actor, account_id=subordinate.id, email="jean@acme.example")
    marie = make_contact(database, actor, first_name="Marie", last_name="Curie", account_id=subordinate.id)
    with database.unit_of_work() as uow:
        customers.update_account(subordinate.id, AccountUpdate(primary_contact_id=jean.id), uow=uow, actor=actor)
        uow.commit()
    make_opportunity(
        database,
        actor,
        customer_id=subordinate.id,
        parent_account_id=subordinate.id,
        estimated_revenue="125000.5",
        estimated_close_date="2027-03-31",
    )
    make_opportunity(database, actor, name="Laptops", parent_contact_id=marie.id, customer_id=marie.id)
    make_note(database, actor, RegardingTable.ACCOUNTS, subordinate.id, attachment=b"%PDF-1.7 offer")
    make_note(database, actor, RegardingTable.CONTACTS, marie.id, title="Met at the fair")
    make_lead(database, actor, parent_account_id=str(subordinate.id))
    make_contact(database, actor, last_name="Curie", first_name="Marie", email="marie@acme.example")
    make_set(database, master.id, subordinate.id)
    before = raw_rows(database, RECORD_TABLES)
    records_before = rows_of(database, "accounts", [master.id, subordinate.id])

    account_merge = merge(database, actor, "accounts", master.id, subordinate.id, fields={"website": "subordinate"})
    with database.unit_of_work(read_only=True) as uow:
        marie_twin = uow.session.scalars(select(Contact.id).where(Contact.email == "marie@acme.example")).one()
    contact_merge = merge(database, actor, "contacts", marie_twin, marie.id, force_parenting=True)
    assert raw_rows(database, RECORD_TABLES) != before

    undo(database, actor, contact_merge.id)
    undo(database, actor, account_merge.id)

    assert rows_of(database, "accounts", [master.id, subordinate.id]) == records_before
    assert raw_rows(database, RECORD_TABLES) == before


def test_undo_restores_two_leads_with_every_kind_of_column_exactly(database, actor):
    master = make_lead(database, actor, budget_amount="12345.6789", decision_maker=False, rating="warm")
    subordinate = make_lead(
        database,
        actor,
        budget_amount=None,
        decision_maker=True,
        need="no_need",
        qualification_comments="Ready to sign.",
        address_line2="Planta 3",
    )
    with database.unit_of_work() as uow:
        leads.qualify_lead(subordinate.id, QualifyOptions(), uow=uow, actor=actor)
        leads.reactivate_lead(subordinate.id, uow=uow, actor=actor)
        uow.commit()
    make_note(database, actor, RegardingTable.LEADS, subordinate.id, attachment=b"\x00\x01 binary")
    before = raw_rows(database, RECORD_TABLES)

    journal = merge(database, actor, "leads", master.id, subordinate.id, fields={"budget_amount": "subordinate"})
    assert load(database, Lead, master.id).budget_amount is None
    undone = undo(database, actor, journal.id)

    assert raw_rows(database, RECORD_TABLES) == before
    assert (undone.state, undone.undone_by_id) == (MergeState.UNDONE, actor.user_id)
    assert undone.undone_at is not None


def test_the_snapshot_round_trips_every_column_of_an_opportunity_too(database, actor):
    opportunity = make_opportunity(
        database,
        actor,
        estimated_revenue="1.0001",
        estimated_close_date="2027-01-31",
        decision_maker=True,
        need="must_have",
    )
    table = Opportunity.__table__
    with database.engine.connect() as connection:
        row = connection.execute(select(table).where(table.c.id == opportunity.id)).mappings().one()
    snapshot = merging.row_snapshot(table, row)
    assert merging.row_values(table, snapshot) == dict(row)
    assert snapshot["estimated_close_date"] == date(2027, 1, 31).isoformat()


def test_undo_is_refused_once_a_moved_child_changed_and_names_it(database, actor):
    master = make_account(database, actor)
    subordinate = make_account(database, actor)
    contact = make_contact(database, actor, first_name="Jean", last_name="Dupont", account_id=subordinate.id)
    journal = merge(database, actor, "accounts", master.id, subordinate.id)
    with database.unit_of_work() as uow:
        customers.update_contact(contact.id, ContactUpdate(job_title="CEO"), uow=uow, actor=actor)
        uow.commit()

    error = refused(
        database, lambda uow: merging.undo_merge(journal.id, uow=uow, actor=actor), Conflict, "merge_undo_conflict"
    )

    assert f"the contact Jean Dupont (id {contact.id}) was changed after the merge" in error.message
    assert [(item["table"], item["id"], item["change"]) for item in error.details["changed"]] == [
        ("contacts", str(contact.id), "changed")
    ]


def test_undo_is_refused_once_a_moved_child_was_deleted(database, actor):
    master = make_account(database, actor)
    subordinate = make_account(database, actor)
    opportunity = make_opportunity(database, actor, customer_id=subordinate.id)
    journal = merge(database, actor, "accounts", master.id, subordinate.id)
    with database.unit_of_work() as uow:
        opportunities.delete_opportunity(opportunity.id, uow=uow, actor=actor)
        uow.commit()

    error = refused(
        database, lambda uow: merging.undo_merge(journal.id, uow=uow, actor=actor), Conflict, "merge_undo_conflict"
    )

    assert f"the opportunity (id {opportunity.id}) was deleted after the merge" in error.message


def test_undo_is_refused_once_the_master_changed_and_names_it(database, actor):
    master = make_account(database, actor, name="Acme Corp")
    subordinate = make_account(database, actor)
    other = make_opportunity(database, actor, customer_id=subordinate.id)
    journal = merge(database, actor, "accounts", master.id, subordinate.id)
    with database.unit_of_work() as uow:
        customers.update_account(master.id, AccountUpdate(telephone="+34 600 000 000"), uow=uow, actor=actor)
        opportunities.update_opportunity(
            other.id, OpportunityUpdate(description="Unchanged customer"), uow=uow, actor=actor
        )
        uow.commit()

    error = refused(
        database, lambda uow: merging.undo_merge(journal.id, uow=uow, actor=actor), Conflict, "merge_undo_conflict"
    )

    assert f"the account Acme Corp (id {master.id}) was changed after the merge" in error.message
    assert {item["table"] for item in error.details["changed"]} == {"accounts", "opportunities"}


def test_a_later_merge_of_the_master_must_be_undone_first(database, actor):
    first, second, third = (make_account(database, actor, name=name) for name in ("Acme", "Acme Corp", "ACME"))
    earlier = merge(database, actor, "accounts", second.id, third.id)
    later = merge(database, actor, "accounts", first.id, second.id)

    refused(database, lambda uow: merging.undo_merge(earlier.id, uow=uow, actor=actor), Conflict, "merge_undo_conflict")

    undo(database, actor, later.id)
    undo(database, actor, earlier.id)
    assert load(database, Account, third.id).state is CustomerState.ACTIVE


def test_an_undone_merge_cannot_be_undone_again(database, actor):
    master, subordinate = make_account(database, actor), make_account(database, actor)
    journal = merge(database, actor, "accounts", master.id, subordinate.id)
    undo(database, actor, journal.id)

    refused(
        database, lambda uow: merging.undo_merge(journal.id, uow=uow, actor=actor), InvalidState, "merge_already_undone"
    )


def test_undoing_needs_write_on_both_records(database, actor):
    seller = make_salesperson(database, actor)
    master = make_account(database, actor, owner_user_id=seller.user_id)
    subordinate = make_account(database, actor)  # the administrator's: the seller reads it, cannot write it
    journal = merge(database, actor, "accounts", master.id, subordinate.id)

    error = refused(database, lambda uow: merging.undo_merge(journal.id, uow=uow, actor=seller), Forbidden, "forbidden")

    assert error.details["privilege"] == "write"
    assert load(database, MergeJournal, journal.id).state is MergeState.MERGED


def test_undoing_an_unknown_merge_is_not_found(database, actor):
    refused(database, lambda uow: merging.undo_merge(uuid.uuid4(), uow=uow, actor=actor), NotFound, "merge_not_found")


# ---------------------------------------------------------------------------------------------- detection


def _duplicates_of(database: Database, actor: Actor, email: str) -> set[uuid.UUID]:
    with database.unit_of_work(read_only=True) as uow:
        matches = check_record(
            uow.session, DetectionTable.CONTACTS, {"last_name": "Other", "email": email}, actor=actor
        )
    return {match.id for match in matches}


def test_detection_stops_reporting_a_merged_contact_and_reports_it_again_after_undo(database, actor):
    master = make_contact(database, actor, last_name="Dupont", email="jean@acme.example")
    subordinate = make_contact(database, actor, last_name="Dupond", email="JEAN@acme.example")
    assert _duplicates_of(database, actor, "jean@acme.example") == {master.id, subordinate.id}

    journal = merge(database, actor, "contacts", master.id, subordinate.id)
    assert _duplicates_of(database, actor, "jean@acme.example") == {master.id}

    undo(database, actor, journal.id)
    assert _duplicates_of(database, actor, "jean@acme.example") == {master.id, subordinate.id}


def test_the_masters_match_codes_follow_the_values_it_took(database, actor):
    master = make_contact(database, actor, last_name="Dupont", email=None)
    subordinate = make_contact(database, actor, last_name="Dupond", email="jp@acme.example")
    assert _duplicates_of(database, actor, "jp@acme.example") == {subordinate.id}

    journal = merge(database, actor, "contacts", master.id, subordinate.id)
    assert _duplicates_of(database, actor, "jp@acme.example") == {master.id}

    undo(database, actor, journal.id)
    assert _duplicates_of(database, actor, "jp@acme.example") == {subordinate.id}


# ---------------------------------------------------------------------------------------------- preview, reading


def test_preview_shows_the_resulting_values_and_the_children_without_writing(database, actor):
    master = make_account(database, actor, name="Acme Corp", telephone=None)
    subordinate = make_account(database, actor, name="ACME", telephone="+34 910 000 001")
    contacts = [make_contact(database, actor, last_name=name, account_id=subordinate.id) for name in ("Ana", "Bea")]
    before = raw_rows(database)

    with database.unit_of_work(read_only=True) as uow:
        preview = merging.preview_merge("accounts", master.id, subordinate.id, uow=uow, actor=actor).as_dict()

    assert raw_rows(database) == before
    assert preview["values"]["name"] == "Acme Corp" and preview["values"]["telephone"] == "+34 910 000 001"
    assert preview["changed"] == ["telephone"]
    assert preview["children"] == [
        {"table": "contacts", "column": "account_id", "count": 2, "ids": sorted(str(c.id) for c in contacts)}
    ]


def test_preview_runs_the_same_checks_as_the_merge(database, actor):
    master = make_contact(database, actor, account_id=make_account(database, actor).id)
    subordinate = make_contact(database, actor, account_id=make_account(database, actor, name="Globex").id)
    with database.unit_of_work(read_only=True) as uow, pytest.raises(Conflict) as caught:
        merging.preview_merge("contacts", master.id, subordinate.id, uow=uow, actor=actor)
    assert caught.value.code == "merge_parent_mismatch"


def test_merges_of_a_record_are_listed_newest_first(database, actor):
    first, second, third = (make_account(database, actor, name=name) for name in ("Acme", "Acme Corp", "ACME"))
    earlier = merge(database, actor, "accounts", first.id, second.id)
    later = merge(database, actor, "accounts", first.id, third.id)

    with database.unit_of_work(read_only=True) as uow:
        of_first = merging.list_merges(record_id=first.id, uow=uow, actor=actor).items
        of_third = merging.list_merges(record_id=third.id, uow=uow, actor=actor).items
    assert [j.id for j in of_first] == [later.id, earlier.id]
    assert [j.id for j in of_third] == [later.id]


# ---------------------------------------------------------------------------------------------- concurrency


@pytest.mark.concurrency
@pytest.mark.parametrize("order", ["same", "swapped"])
def test_two_merges_of_one_pair_at_once_let_exactly_one_succeed(database, actor, backend, order):
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers outright; this exercises PostgreSQL's row locks")
    first, second = make_account(database, actor), make_account(database, actor, name="ACME")
    pairs = [(first.id, second.id), (first.id, second.id) if order == "same" else (second.id, first.id)]
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []

    def run(master_id: uuid.UUID, subordinate_id: uuid.UUID) -> None:
        try:
            with database.unit_of_work() as uow:
                barrier.wait()
                merging.merge_records("accounts", master_id, subordinate_id, uow=uow, actor=actor)
                uow.commit()
            outcomes.append("merged")
        except Exception as error:  # noqa: BLE001 - every outcome is recorded; the assertions judge it
            outcomes.append(error)

    threads = [threading.Thread(target=run, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("merged") == 1, outcomes
    [error] = [outcome for outcome in outcomes if outcome != "merged"]
    assert isinstance(error, LeadflowError) and status_for(error) == 409, repr(error)
    # The loser waited for the winner's row locks, then found a record already merged.
    assert error.code == "merge_inactive_record", error.message
    with database.unit_of_work(read_only=True) as uow:
        assert len(uow.session.scalars(select(MergeJournal)).all()) == 1
        states = {a.id: a.state for a in uow.session.scalars(select(Account))}
    assert sorted(states.values()) == [CustomerState.ACTIVE, CustomerState.INACTIVE]
