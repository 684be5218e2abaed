"""Find-all-duplicates jobs (§9): every duplicate set of a table, with no record limit."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from typer.testing import CliRunner

from leadflow.cli import app
from leadflow.core.errors import Forbidden, InvalidState, ValidationFailed
from leadflow.core.schemas import parse
from leadflow.core.uow import Database
from leadflow.customers.models import Account, Contact, CustomerState
from leadflow.duplicates import scan, sets
from leadflow.duplicates.engine import MATCH_CODES, LiveRule, index_rows
from leadflow.duplicates.matchcodes import is_match
from leadflow.duplicates.models import (
    DuplicateJob,
    DuplicateRule,
    DuplicateSet,
    DuplicateSetMember,
    JobState,
)
from leadflow.duplicates.rules import (
    RuleCreate,
    begin_publishing,
    create_rule,
    publish_rule,
)
from leadflow.security.actor import Actor, actor_for_email
from leadflow.security.audit import AuditEntry
from leadflow.security.service import create_user
from tests.builtin_rules import unpublish_builtin_rules
from tests.e2e.helpers import snapshot

NAME_RULE = "Accounts with the same account name"


@pytest.fixture(autouse=True)
def _without_the_similar_account_name_rule(database: Database, actor: Actor) -> None:
    """These tests count the sets of the rules they name, on names that are the same but for capitals.

    The out-of-box *Accounts with a similar account name* would put each of those names in a second
    set, and a new organisation's five out-of-box account rules leave no room for a rule of a test's
    own; it is unpublished here (tests/integration/test_builtin_rules_catch_typos.py scans with it).
    """
    unpublish_builtin_rules(database, actor, "Accounts with a similar account name")


# ---------------------------------------------------------------------------------------------- helpers


def insert_records(database: Database, actor: Actor, model: type, rows: list[dict[str, Any]]) -> list[uuid.UUID]:
    """Insert records with one Core executemany, then store their match codes as a bulk import does."""
    records = [
        {
            "id": uuid.uuid4(),
            "owner_user_id": actor.user_id,
            "owning_business_unit_id": actor.business_unit_id,
            **row,
        }
        for row in rows
    ]
    # One executemany needs the same keys in every row.
    keys = {key for record in records for key in record}
    records = [{key: record.get(key) for key in keys} for record in records]
    ids = [record["id"] for record in records]
    table = model.__table__
    with database.unit_of_work() as uow:
        uow.session.execute(insert(table), records)
        for start in range(0, len(ids), 2000):
            stored = uow.session.execute(select(table).where(table.c.id.in_(ids[start : start + 2000])))
            index_rows(uow.session, model.__tablename__, [dict(row) for row in stored.mappings()])
        uow.commit()
    return ids


def insert_accounts(database: Database, actor: Actor, *names: str, **values: Any) -> list[uuid.UUID]:
    return insert_records(database, actor, Account, [{"name": name, **values} for name in names])


def insert_contacts(database: Database, actor: Actor, rows: list[dict[str, Any]]) -> list[uuid.UUID]:
    return insert_records(
        database,
        actor,
        Contact,
        [{**row, "full_name": f"{row.get('first_name') or ''} {row['last_name']}".strip()} for row in rows],
    )


def published_rule(database: Database, actor: Actor, **definition: Any) -> uuid.UUID:
    with database.unit_of_work() as uow:
        rule = create_rule(parse(RuleCreate, definition), uow=uow, actor=actor)
        uow.commit()
    publish_rule(rule.id, database=database, actor=actor)
    return rule.id


def rule_id(database: Database, name: str) -> uuid.UUID:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalars(select(DuplicateRule.id).where(DuplicateRule.name == name)).one()


def live_rule(database: Database, table: str, rule: uuid.UUID) -> LiveRule:
    with database.unit_of_work(read_only=True) as uow:
        return next(live for live in scan.scan_rules(uow.session, table) if live.id == rule)


def run(database: Database, actor: Actor, table: str, **options: Any) -> DuplicateJob:
    job = scan.start_job(table, database=database, actor=actor)
    return scan.run_job(job.id, database=database, **options)


def all_sets(database: Database, actor: Actor, job_id: uuid.UUID) -> list[sets.FoundSet]:
    found, cursor = [], None
    while True:
        with database.unit_of_work(read_only=True) as uow:
            page = sets.list_sets(job_id, uow=uow, actor=actor, limit=200, cursor=cursor)
        found.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return found


def member_sets(found: list[sets.FoundSet], rule: uuid.UUID | None = None) -> set[frozenset[uuid.UUID]]:
    return {frozenset(m.id for m in s.members) for s in found if rule is None or s.rule_id == rule}


def everything(database: Database) -> dict[str, Any]:
    """The records, every job with its sets and members, and the audit log: equal means nothing changed."""
    with database.unit_of_work(read_only=True) as uow:
        session = uow.session
        return {
            "records": snapshot(database),
            "jobs": sorted(
                (job.id, job.row_version, job.state, job.set_count, job.progress_done)
                for job in session.scalars(select(DuplicateJob))
            ),
            "sets": sorted(session.execute(select(DuplicateSet.id, DuplicateSet.job_id, DuplicateSet.size)).all()),
            "members": sorted(session.execute(select(DuplicateSetMember.set_id, DuplicateSetMember.record_id)).all()),
            "audit": session.scalar(select(func.count()).select_from(AuditEntry)),
        }


def salesperson(database: Database, actor: Actor) -> Actor:
    with database.unit_of_work() as uow:
        create_user(
            email="sam@example.com",
            full_name="Sam Seller",
            role_names=["Salesperson"],
            business_unit_name=None,
            password=None,
            uow=uow,
            actor=actor,
        )
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        return actor_for_email(uow.session, "sam@example.com")


# ---------------------------------------------------------------------------------------------- sets


def test_the_account_name_rule_finds_every_set_case_insensitively(database, actor):
    acme = insert_accounts(database, actor, "Acme Ltd", "ACME LTD", "acme ltd")
    globex = insert_accounts(database, actor, "Globex", "globex")
    insert_accounts(database, actor, "Initech", "Umbrella")

    job = run(database, actor, "accounts")

    assert job.state is JobState.COMPLETED
    assert (job.set_count, job.record_count) == (2, 5)
    assert job.error is None and job.started_at <= job.finished_at
    found = all_sets(database, actor, job.id)
    assert member_sets(found) == {frozenset(acme), frozenset(globex)}
    assert {s.rule_name for s in found} == {NAME_RULE}
    assert all(s.score == 1.0 and s.size == len(s.members) for s in found)
    assert [s.position for s in found] == [1, 2]


def test_records_that_only_share_a_stored_code_are_not_a_set(database, actor):
    acme = insert_accounts(database, actor, "Acme", "ACME")
    [globex] = insert_accounts(database, actor, "Globex")
    name_rule = rule_id(database, NAME_RULE)
    with database.unit_of_work() as uow:  # what a 64-bit collision of two different names looks like
        acme_code = uow.session.scalar(
            select(MATCH_CODES.c.code).where(MATCH_CODES.c.rule_id == name_rule, MATCH_CODES.c.record_id == acme[0])
        )
        uow.session.execute(
            MATCH_CODES.update()
            .where(MATCH_CODES.c.rule_id == name_rule, MATCH_CODES.c.record_id == globex)
            .values(code=acme_code)
        )
        uow.commit()

    job = run(database, actor, "accounts")

    assert member_sets(all_sets(database, actor, job.id)) == {frozenset(acme)}


def test_a_member_shows_name_email_phone_city_and_owner(database, actor):
    insert_accounts(
        database, actor, "Acme", "acme", email="buy@acme.example", telephone="+34 910 000 001", address_city="Madrid"
    )
    job = run(database, actor, "accounts")
    members = [m for s in all_sets(database, actor, job.id) if s.rule_name == NAME_RULE for m in s.members]
    assert {(m.name, m.email, m.phone, m.city, m.owner_id, m.owner_name) for m in members} == {
        ("Acme", "buy@acme.example", "+34 910 000 001", "Madrid", actor.user_id, "Ada Admin"),
        ("acme", "buy@acme.example", "+34 910 000 001", "Madrid", actor.user_id, "Ada Admin"),
    }


def test_a_record_can_be_in_sets_of_several_rules(database, actor):
    shared = insert_accounts(database, actor, "Acme", "Acme", email="buy@acme.example")
    other = insert_accounts(database, actor, "Acme Iberia", email="buy@acme.example")
    job = run(database, actor, "accounts")
    found = all_sets(database, actor, job.id)
    assert member_sets(found, rule_id(database, NAME_RULE)) == {frozenset(shared)}
    assert member_sets(found, rule_id(database, "Accounts with the same email address")) == {frozenset(shared + other)}
    assert (job.set_count, job.record_count) == (2, 3)
    with database.unit_of_work(read_only=True) as uow:
        counts = {c.rule_name: (c.sets, c.records) for c in scan.job_rules(job.id, uow=uow, actor=actor)}
    assert counts == {NAME_RULE: (1, 2), "Accounts with the same email address": (1, 3)}


def test_a_similar_rule_finds_jonathan_and_jonathon_smith_with_their_score(database, actor):
    similar = published_rule(
        database,
        actor,
        name="Contacts with similar names",
        base_table="contacts",
        conditions=[{"base_column": "full_name", "criterion": "similar", "threshold": 0.9}],
    )
    # Names are scored word by word: "Smiht" is a typo of "Smith" (0.95), "Smyth" another spelling (0.89).
    names = [
        ("Jonathan", "Smith"),
        ("Jonathon", "Smith"),
        ("Jonathan", "Smiht"),
        ("Jonathan", "Sanders"),
        ("Jane", "Doe"),
        ("Jonathan", "Smyth"),
    ]
    ids = insert_contacts(database, actor, [{"first_name": first, "last_name": last} for first, last in names])

    job = run(database, actor, "contacts")

    found = [s for s in all_sets(database, actor, job.id) if s.rule_id == similar]
    assert member_sets(found) == {frozenset(ids[:3])}  # "Jonathan Sanders" shares the block, not the likeness
    condition = live_rule(database, "contacts", similar).conditions
    pair_scores = [
        is_match(condition, {"full_name": f"{a[0]} {a[1]}"}, {"full_name": f"{b[0]} {b[1]}"})[1]
        for index, a in enumerate(names[:3])
        for b in names[index + 1 : 3]
    ]
    assert found[0].score == pytest.approx(min(pair_scores))
    assert 0.9 <= found[0].score < 1.0


def test_a_similar_rule_on_a_large_block_finds_exactly_the_pairs_is_match_verifies(database, actor):
    similar = published_rule(
        database,
        actor,
        name="Contacts with similar names",
        base_table="contacts",
        conditions=[{"base_column": "full_name", "criterion": "similar", "threshold": 0.96}],
    )
    # One phonetic block ("JN0N|s") of 100 names: some a letter apart, most not alike enough.
    surnames = [
        "Smith",
        "Sanders",
        "Salas",
        "Soto",
        "Serrano",
        "Suarez",
        "Santos",
        "Silva",
        "Sosa",
        "Sandoval",
        "Sepulveda",
        "Salazar",
        "Sierra",
        "Solis",
        "Segura",
        "Saavedra",
        "Sáez",
        "Simón",
        "Sanz",
        "Soler",
    ]
    firsts = ["Jonathan", "Jonathon", "Jonathin", "Jonathen", "Jonnathan"]
    rows = [{"first_name": first, "last_name": last} for first in firsts for last in surnames]
    ids = insert_contacts(database, actor, rows)
    names = {record_id: f"{row['first_name']} {row['last_name']}" for record_id, row in zip(ids, rows, strict=True)}
    rule = live_rule(database, "contacts", similar)

    # The sets that verifying, one by one, every pair sharing a blocking key would give.
    parent = {record_id: record_id for record_id in ids}

    def root(key):
        while parent[key] != key:
            key = parent[key]
        return key

    for index, a in enumerate(ids):
        for b in ids[index + 1 :]:
            left, right = {"full_name": names[a]}, {"full_name": names[b]}
            if rule.code(left, "base") == rule.code(right, "matching") and is_match(rule.conditions, left, right)[0]:
                parent[root(a)] = root(b)
    expected: dict[uuid.UUID, set[uuid.UUID]] = {}
    for record_id in ids:
        expected.setdefault(root(record_id), set()).add(record_id)

    job = run(database, actor, "contacts")

    found = member_sets(all_sets(database, actor, job.id), similar)
    assert found == {frozenset(members) for members in expected.values() if len(members) > 1}
    assert len(found) > 10


def test_an_asymmetric_rule_pairs_one_records_column_with_anothers(database, actor):
    rule = published_rule(
        database,
        actor,
        name="Business phone is another contact's mobile",
        base_table="contacts",
        conditions=[{"base_column": "business_phone", "matching_column": "mobile_phone", "criterion": "normalized"}],
    )
    rows = [
        {"last_name": "Ruiz", "business_phone": "+34 600 000 001"},
        {"last_name": "Vega", "mobile_phone": "600000001"},
        {"last_name": "Mora", "mobile_phone": "+34 600 000 001"},
        {"last_name": "Lara", "business_phone": "+34 600 000 002", "mobile_phone": "+34 600 000 002"},  # itself only
        {"last_name": "Pons", "business_phone": "+34 600 000 003"},
    ]
    ids = insert_contacts(database, actor, rows)

    job = run(database, actor, "contacts", batch_size=2)  # the base records come over several batches

    assert job.state is JobState.COMPLETED
    assert member_sets(all_sets(database, actor, job.id), rule) == {frozenset(ids[:3])}


def test_a_rule_excluding_inactive_records_leaves_them_out_and_one_that_does_not_keeps_them(database, actor):
    including = published_rule(
        database,
        actor,
        name="Same account name, inactive too",
        base_table="accounts",
        exclude_inactive=False,
        conditions=[{"base_column": "name", "criterion": "exact_match"}],
    )
    active = insert_accounts(database, actor, "Initech", "initech")
    inactive = insert_accounts(database, actor, "INITECH", state=CustomerState.INACTIVE)

    job = run(database, actor, "accounts")

    found = all_sets(database, actor, job.id)
    assert member_sets(found, rule_id(database, NAME_RULE)) == {frozenset(active)}  # out-of-box: excludes inactive
    assert member_sets(found, including) == {frozenset(active + inactive)}


def test_an_inactive_record_alone_with_an_active_one_makes_no_set_when_inactive_records_are_excluded(database, actor):
    insert_accounts(database, actor, "Hooli")
    insert_accounts(database, actor, "Hooli", state=CustomerState.INACTIVE)
    job = run(database, actor, "accounts")
    assert job.set_count == 0 and all_sets(database, actor, job.id) == []


def test_rules_that_are_not_published_are_ignored(database, actor):
    same_city = {"base_table": "accounts", "conditions": [{"base_column": "address_city", "criterion": "exact_match"}]}
    with database.unit_of_work() as uow:
        create_rule(parse(RuleCreate, {"name": "Same city", **same_city}), uow=uow, actor=actor)
        publishing = create_rule(
            parse(RuleCreate, {"name": "Same city, publishing", **same_city}), uow=uow, actor=actor
        )
        uow.commit()
    begin_publishing(publishing.id, database=database, actor=actor)  # live: new records get its codes
    insert_accounts(database, actor, "Acme", "Globex", address_city="Madrid")
    with database.unit_of_work(read_only=True) as uow:
        coded = uow.session.scalar(select(func.count()).where(MATCH_CODES.c.rule_id == publishing.id))
    assert coded == 2

    job = run(database, actor, "accounts")

    assert job.state is JobState.COMPLETED
    assert job.set_count == 0 and all_sets(database, actor, job.id) == []


def test_more_than_five_thousand_records_are_all_looked_through(database, actor):
    rows = [{"name": f"Company {n:05d}"} for n in range(6000)]
    rows += [{"name": f"Company {n:05d}"} for n in range(0, 6000, 10)]  # 600 names held twice
    # Records that come last in id order, the order the table is read in: three more sets.
    last = [uuid.UUID(f"ffffffff-ffff-4fff-bfff-{n:012d}") for n in range(6)]
    late = ["Zeta Late", "ZETA LATE", "Omega Late", "omega late", "Omega Late", "Company 05999"]
    rows += [{"id": record_id, "name": name} for record_id, name in zip(last, late, strict=True)]
    insert_records(database, actor, Account, rows)
    calls: list[tuple[int, int]] = []

    job = run(database, actor, "accounts", batch_size=500, progress=lambda done, total: calls.append((done, total)))

    assert job.state is JobState.COMPLETED
    assert (job.set_count, job.record_count) == (603, 2 * 600 + 2 + 3 + 2)
    found = all_sets(database, actor, job.id)
    assert [s.position for s in found] == list(range(1, 604))
    sets = member_sets(found)
    assert {frozenset(last[:2]), frozenset(last[2:5])} <= sets
    assert any(last[5] in members and len(members) == 2 for members in sets)
    assert len(calls) > 2  # several committed batches
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert calls[-1][0] == calls[-1][1] == job.progress_done == job.progress_total


def test_progress_is_committed_batch_by_batch_for_a_poller(database, actor):
    insert_accounts(database, actor, *[f"Company {n % 300}" for n in range(900)])
    seen: list[tuple[JobState, int, int, int]] = []
    job = scan.start_job("accounts", database=database, actor=actor)

    def poll(done: int, total: int) -> None:
        with database.unit_of_work(read_only=True) as uow:  # another transaction, as a poller's
            current = scan.get_job(job.id, uow=uow, actor=actor)
            seen.append((current.state, current.progress_done, current.progress_total, current.set_count))

    finished = scan.run_job(job.id, database=database, progress=poll, batch_size=100)

    assert finished.state is JobState.COMPLETED and finished.set_count == 300
    assert all(state is JobState.RUNNING for state, *_ in seen)
    assert len({done for _, done, _, _ in seen}) == len(seen) > 3  # it moved on each time
    assert seen[0][3] < seen[-1][3] == 300  # sets became visible while the job ran
    assert seen[-1][1] == seen[-1][2] == 900


def test_a_job_on_a_table_without_published_rules_completes_empty(database, actor):
    make = [{"name": "Deal"}, {"name": "Deal"}]
    from leadflow.opportunities.models import Opportunity

    insert_records(database, actor, Opportunity, make)
    job = run(database, actor, "opportunities")
    assert (job.state, job.set_count, job.record_count, job.progress_total) == (JobState.COMPLETED, 0, 0, 0)


# ---------------------------------------------------------------------------------------------- job life


def test_running_again_creates_a_new_job_and_the_old_one_stays_listable(database, actor):
    insert_accounts(database, actor, "Acme", "acme")
    first = run(database, actor, "accounts")
    second = run(database, actor, "accounts")
    assert first.id != second.id
    with database.unit_of_work(read_only=True) as uow:
        page = scan.list_jobs(uow=uow, actor=actor)
    assert [job.id for job in page.items] == [second.id, first.id]  # newest first
    assert all(len(all_sets(database, actor, job.id)) == 1 for job in (first, second))


def test_jobs_are_listed_in_pages(database, actor):
    jobs = [scan.start_job("leads", database=database, actor=actor).id for _ in range(3)]
    listed, cursor = [], None
    while True:
        with database.unit_of_work(read_only=True) as uow:
            page = scan.list_jobs(uow=uow, actor=actor, limit=2, cursor=cursor)
        listed += [job.id for job in page.items]
        if (cursor := page.next_cursor) is None:
            break
    assert listed == jobs[::-1]


def test_a_finished_job_cannot_run_again_and_stays_as_it_was(database, actor):
    insert_accounts(database, actor, "Acme", "acme")
    job = run(database, actor, "accounts")
    before = everything(database)
    with pytest.raises(InvalidState) as refused:
        scan.run_job(job.id, database=database)
    assert refused.value.code == "job_not_queued"
    assert everything(database) == before


def test_a_job_that_breaks_is_failed_with_the_reason_and_keeps_no_half_result(database, actor):
    insert_accounts(database, actor, *[f"Company {n % 50}" for n in range(200)])
    calls = []

    def broken(done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 2:
            raise RuntimeError("the disk is full")

    job = run(database, actor, "accounts", batch_size=20, progress=broken)

    assert job.state is JobState.FAILED
    assert "the disk is full" in job.error and job.finished_at is not None
    assert job.set_count == 0
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).where(DuplicateSet.job_id == job.id)) == 0
        assert uow.session.scalar(select(func.count()).select_from(DuplicateSetMember)) == 0


def test_a_salesperson_may_not_start_a_job_and_nothing_is_created(database, actor):
    seller = salesperson(database, actor)
    insert_accounts(database, actor, "Acme", "acme")
    run(database, actor, "accounts")
    before = everything(database)
    with pytest.raises(Forbidden):
        scan.start_job("accounts", database=database, actor=seller)
    assert everything(database) == before


def test_an_unknown_table_is_refused_and_nothing_is_created(database, actor):
    before = everything(database)
    with pytest.raises(ValidationFailed) as refused:
        scan.start_job("invoices", database=database, actor=actor)
    assert refused.value.code == "unknown_table"
    assert everything(database) == before


def test_members_a_reader_may_not_read_are_not_shown(database, actor):
    with database.unit_of_work() as uow:
        from leadflow.security.service import create_business_unit

        create_business_unit("Valencia", parent_name=None, uow=uow, actor=actor)
        create_user(
            email="vera@example.com",
            full_name="Vera",
            role_names=["Salesperson"],
            business_unit_name="Valencia",
            password=None,
            uow=uow,
            actor=actor,
        )
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        vera = actor_for_email(uow.session, "vera@example.com")
    mine = insert_accounts(database, vera, "Acme")
    insert_accounts(database, actor, "acme")  # the administrator's, in another business unit
    job = run(database, actor, "accounts")

    found = all_sets(database, vera, job.id)
    assert [(s.size, [m.id for m in s.members]) for s in found] == [(2, mine)]
    rows = list(sets.iter_set_rows(job.id, database=database, actor=vera))
    assert [row.member.id for row in rows] == mine


# ---------------------------------------------------------------------------------------------- CSV


def test_the_csv_lists_every_member_and_neutralises_formulas(database, actor):
    formula = insert_accounts(database, actor, '=HYPERLINK("http://evil")', '=hyperlink("http://evil")')
    plus = insert_accounts(database, actor, "+Acme", "+ACME", email="@acme.example", telephone="-1")
    job = run(database, actor, "accounts")

    text = "".join(sets.csv_chunks(sets.iter_set_rows(job.id, database=database, actor=actor)))
    lines = list(csv.reader(io.StringIO(text)))

    assert lines[0] == list(sets.CSV_HEADER)
    by_id = {line[4]: line for line in lines[1:] if line[1] == NAME_RULE}
    assert set(by_id) == {str(record_id) for record_id in formula + plus}
    assert by_id[str(formula[0])][5] == '\'=HYPERLINK("http://evil")'
    assert by_id[str(plus[0])][5:8] == ["'+Acme", "'@acme.example", "'-1"]
    assert by_id[str(plus[0])][2:4] == ["1.0000", "accounts"]
    # The email and phone rules put the two "+Acme" accounts in sets of their own too.
    assert sorted(line[1] for line in lines[1:] if line[4] == str(plus[1])) == sorted(
        [NAME_RULE, "Accounts with the same email address", "Accounts with the same phone number"]
    )
    assert not any(cell.startswith(("=", "+", "-", "@")) for line in lines for cell in line)


def test_the_csv_streams_sets_larger_than_a_batch(database, actor):
    big = insert_accounts(database, actor, *(["Acme"] * 23))
    small = insert_accounts(database, actor, "Globex", "globex")
    job = run(database, actor, "accounts")
    rows = list(sets.iter_set_rows(job.id, database=database, actor=actor, batch_size=5))
    assert sorted(row.member.id for row in rows) == sorted(big + small)
    assert len(rows) == 25


# ---------------------------------------------------------------------------------------------- CLI


def test_the_cli_scans_a_table_and_lists_or_exports_its_sets(database, actor, tmp_path):
    insert_accounts(database, actor, "Acme", "acme", "Globex", "GLOBEX", "Umbrella")
    runner = CliRunner()

    scanned = runner.invoke(app, ["--database-url", database.url, "duplicates", "scan", "accounts"])

    assert scanned.exit_code == 0, scanned.output
    assert "2 duplicate sets holding 4 accounts" in scanned.output
    assert NAME_RULE in scanned.output
    with database.unit_of_work(read_only=True) as uow:
        job = scan.list_jobs(uow=uow, actor=actor).items[0]
    assert job.state is JobState.COMPLETED and job.set_count == 2

    listed = runner.invoke(app, ["--database-url", database.url, "duplicates", "sets", str(job.id)])
    assert listed.exit_code == 0, listed.output
    assert "Globex" in listed.output and "Acme" in listed.output

    target = tmp_path / "sets.csv"
    exported = runner.invoke(
        app, ["--database-url", database.url, "duplicates", "sets", str(job.id), "--csv", str(target)]
    )
    assert exported.exit_code == 0, exported.output
    lines = list(csv.reader(target.open(encoding="utf-8")))
    assert lines[0] == list(sets.CSV_HEADER) and len(lines) == 1 + 4


def test_the_cli_refuses_an_unknown_job(database):
    result = CliRunner().invoke(app, ["--database-url", database.url, "duplicates", "sets", str(uuid.uuid4())])
    assert result.exit_code == 3
    assert "duplicate_job_not_found" in result.output
