"""`leadflow duplicates merge` and `leadflow duplicates undo` (§9)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from typer.testing import CliRunner

from leadflow.activities.models import RegardingTable
from leadflow.cli import app
from leadflow.customers.models import Account, Contact, CustomerState
from leadflow.duplicates.models import MergeJournal, MergeState
from tests.integration.test_merge import (
    load,
    make_account,
    make_contact,
    make_note,
    raw_rows,
)


def run(database, *arguments: str):
    """Invoke the command line on the test database; output with its line wrapping undone."""
    result = CliRunner().invoke(app, ["--database-url", database.url, "duplicates", *arguments])
    result.flat_output = " ".join(result.output.split())
    return result


def journal_of(database, master_id: uuid.UUID) -> MergeJournal:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalars(select(MergeJournal).where(MergeJournal.master_id == master_id)).one()


def test_merge_takes_the_fields_named_and_prints_what_moved(database, actor):
    master = make_account(database, actor, name="Acme Corp", email="sales@acme.example")
    subordinate = make_account(database, actor, name="ACME Corporation", email="info@acme.example")
    for last_name in ("Dupont", "Durand"):
        make_contact(database, actor, last_name=last_name, account_id=subordinate.id)
    make_note(database, actor, RegardingTable.ACCOUNTS, subordinate.id)

    result = run(
        database, "merge", "accounts", str(master.id), str(subordinate.id), "--take", "name", "--take", "email"
    )

    assert result.exit_code == 0, result.output
    journal = journal_of(database, master.id)
    assert f"Merged accounts {subordinate.id} into {master.id} (merge {journal.id})" in result.flat_output
    assert "Values taken from the subordinate: email, name." in result.flat_output
    assert "contacts │ account_id │ 2" in result.flat_output and "notes │ regarding_id │ 1" in result.flat_output
    assert f"leadflow duplicates undo {journal.id}" in result.flat_output
    merged = load(database, Account, master.id)
    assert (merged.name, merged.email) == ("ACME Corporation", "info@acme.example")
    assert load(database, Account, subordinate.id).state is CustomerState.INACTIVE


def test_undo_puts_both_records_and_the_children_back(database, actor):
    master = make_account(database, actor)
    subordinate = make_account(database, actor, name="ACME")
    make_contact(database, actor, account_id=subordinate.id)
    before = raw_rows(database, ("accounts", "contacts"))
    assert run(database, "merge", "accounts", str(master.id), str(subordinate.id)).exit_code == 0
    journal = journal_of(database, master.id)

    result = run(database, "undo", str(journal.id))

    assert result.exit_code == 0, result.output
    assert f"Undid merge {journal.id}" in result.flat_output
    assert "contacts │ account_id │ 1" in result.flat_output
    assert raw_rows(database, ("accounts", "contacts")) == before
    assert journal_of(database, master.id).state is MergeState.UNDONE

    again = run(database, "undo", str(journal.id))
    assert again.exit_code == 1 and "merge_already_undone" in again.flat_output


def test_a_refused_merge_exits_non_zero_with_the_reason_and_changes_nothing(database, actor):
    acme, globex = make_account(database, actor, name="Acme Corp"), make_account(database, actor, name="Globex")
    master = make_contact(database, actor, account_id=acme.id)
    subordinate = make_contact(database, actor, account_id=globex.id)
    before = raw_rows(database)

    result = run(database, "merge", "contacts", str(master.id), str(subordinate.id))

    assert result.exit_code == 1
    assert "merge_parent_mismatch" in result.flat_output and "Globex" in result.flat_output
    assert raw_rows(database) == before

    forced = run(database, "merge", "contacts", str(master.id), str(subordinate.id), "--force-parenting")
    assert forced.exit_code == 0, forced.output
    assert load(database, Contact, subordinate.id).master_id == master.id


def test_bad_input_exits_2_and_an_unknown_record_exits_3(database, actor):
    master, subordinate = make_account(database, actor), make_account(database, actor, name="ACME")

    unsupported = run(database, "merge", "opportunities", str(master.id), str(subordinate.id))
    unknown_field = run(database, "merge", "accounts", str(master.id), str(subordinate.id), "--take", "nickname")
    missing = run(database, "merge", "accounts", str(master.id), str(uuid.uuid4()))

    assert (unsupported.exit_code, unknown_field.exit_code, missing.exit_code) == (2, 2, 3)
    assert "merge_table_not_supported" in unsupported.flat_output
    assert "nickname" in unknown_field.flat_output
    assert "account_not_found" in missing.flat_output
