"""Bulk qualification's choice for a lead whose qualification meets a duplicate (§2.6, §5), through the
service, on SQLite and PostgreSQL: skip it, stop the run there, or ignore duplicates.

Each lead stays its own atomic unit: what was qualified before a stop stays, a skipped or stopped lead
stays open with nothing created for it, and the leads after a stop are neither attempted nor read.
``ignore`` is allowed exactly when suppressing detection on one lead is (the same service check).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from leadflow.core.errors import LeadflowError
from leadflow.core.schemas import parse
from leadflow.core.uow import Database
from leadflow.customers.models import Account
from leadflow.customers.schemas import AccountCreate
from leadflow.customers.service import create_account
from leadflow.leads import bulk, qualification, service
from leadflow.leads.bulk import BulkResult, OnDuplicate
from leadflow.leads.models import Lead, LeadState
from leadflow.leads.schemas import LeadCreate, QualifyOptions
from leadflow.security.actor import Actor, actor_for_email
from leadflow.security.service import create_user
from tests.factories import lead_data, make_lead

TWIN_COMPANY = "Muebles Repetidos S.L."


def make_account(database: Database, actor: Actor, name: str) -> Account:
    with database.unit_of_work() as uow:
        account = create_account(parse(AccountCreate, {"name": name}), uow=uow, actor=actor)
        uow.commit()
    return account


def lead_despite_duplicates(database: Database, actor: Actor, **fields: Any) -> Lead:
    """A lead saved although a published rule finds a duplicate of it."""
    with database.unit_of_work() as uow:
        lead = service.create_lead(
            parse(LeadCreate, lead_data(**fields)), uow=uow, actor=actor, suppress_duplicates=True
        )
        uow.commit()
    return lead


def states(database: Database, leads: list[Lead]) -> list[LeadState]:
    with database.unit_of_work(read_only=True) as uow:
        return [uow.session.get(Lead, lead.id).state for lead in leads]


def accounts_from(database: Database, lead: Lead) -> int:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalar(
            select(func.count()).select_from(Account).where(Account.originating_lead_id == lead.id)
        )


def run(
    database: Database, actor: Actor, leads: list[Lead], on_duplicate: OnDuplicate, **keywords: Any
) -> list[bulk.QualifyOutcome]:
    ids = [lead.id for lead in leads]
    return list(
        bulk.qualify_leads(ids, QualifyOptions(), database=database, actor=actor, on_duplicate=on_duplicate, **keywords)
    )


# ---------------------------------------------------------------------------------------------- skip


def test_skip_leaves_the_duplicate_open_with_its_match_and_qualifies_the_others(database, actor):
    existing = make_account(database, actor, TWIN_COMPANY)
    leads = [
        make_lead(database, actor),
        make_lead(database, actor, company_name=TWIN_COMPANY),
        make_lead(database, actor),
    ]

    outcomes = run(database, actor, leads, OnDuplicate.SKIP)

    assert [o.status for o in outcomes] == [BulkResult.QUALIFIED, BulkResult.SKIPPED, BulkResult.QUALIFIED]
    assert [match["id"] for match in outcomes[1].matches] == [str(existing.id)]
    assert states(database, leads) == [LeadState.QUALIFIED, LeadState.OPEN, LeadState.QUALIFIED]
    assert accounts_from(database, leads[1]) == 0


def test_skip_is_the_default_and_also_skips_a_blocking_lead_duplicate(database, actor):
    first = make_lead(database, actor, email="same@example.com")
    second = lead_despite_duplicates(database, actor, email="same@example.com")
    clean = make_lead(database, actor)

    outcomes = list(bulk.qualify_leads([second.id, clean.id], QualifyOptions(), database=database, actor=actor))

    assert [o.status for o in outcomes] == [BulkResult.SKIPPED, BulkResult.QUALIFIED]
    assert outcomes[0].error.code == "lead_duplicate"
    assert [match["id"] for match in outcomes[0].matches] == [str(first.id)]
    assert states(database, [second, clean]) == [LeadState.OPEN, LeadState.QUALIFIED]


# ---------------------------------------------------------------------------------------------- stop


def test_stop_keeps_what_was_qualified_before_and_attempts_nothing_after(database, actor):
    make_account(database, actor, TWIN_COMPANY)
    before = make_lead(database, actor)
    twin = make_lead(database, actor, company_name=TWIN_COMPANY)
    after = [make_lead(database, actor) for _ in range(3)]
    leads = [before, twin, *after]
    read: list[uuid.UUID] = []

    def ids():
        for lead in leads:
            read.append(lead.id)
            yield lead.id

    outcomes = list(
        bulk.qualify_leads(
            ids(), QualifyOptions(), database=database, actor=actor, on_duplicate=OnDuplicate.STOP, batch_size=2
        )
    )

    assert [(o.lead_id, o.status) for o in outcomes] == [
        (before.id, BulkResult.QUALIFIED),
        (twin.id, BulkResult.STOPPED),
    ]
    assert outcomes[1].error.code == "duplicate_detected"
    assert read == [before.id, twin.id]  # the batch that stopped was the last one read
    assert states(database, leads) == [LeadState.QUALIFIED, *[LeadState.OPEN] * 4]
    assert accounts_from(database, before) == 1 and accounts_from(database, twin) == 0


def test_stop_in_a_later_batch_keeps_the_earlier_batches_and_the_leads_before_it(database, actor):
    make_account(database, actor, TWIN_COMPANY)
    leads = [make_lead(database, actor) for _ in range(3)]
    twin = make_lead(database, actor, company_name=TWIN_COMPANY)
    last = make_lead(database, actor)

    outcomes = run(database, actor, [*leads, twin, last], OnDuplicate.STOP, batch_size=2)

    assert [o.status for o in outcomes] == [BulkResult.QUALIFIED] * 3 + [BulkResult.STOPPED]
    assert states(database, [*leads, twin, last]) == [LeadState.QUALIFIED] * 3 + [LeadState.OPEN] * 2


def test_stop_does_not_stop_at_a_refusal_that_is_not_a_duplicate(database, actor):
    make_account(database, actor, TWIN_COMPANY)
    first = make_lead(database, actor)
    twin = make_lead(database, actor, company_name=TWIN_COMPANY)
    after = make_lead(database, actor)
    unknown = uuid.uuid4()

    outcomes = list(
        bulk.qualify_leads(
            [unknown, first.id, twin.id, after.id],
            QualifyOptions(),
            database=database,
            actor=actor,
            on_duplicate=OnDuplicate.STOP,
        )
    )

    assert [o.status for o in outcomes] == [BulkResult.FAILED, BulkResult.QUALIFIED, BulkResult.STOPPED]
    assert outcomes[0].error.code == "lead_not_found"
    assert states(database, [first, twin, after]) == [LeadState.QUALIFIED, LeadState.OPEN, LeadState.OPEN]


def test_stop_holds_when_the_database_refuses_the_batch_and_it_is_redone_lead_by_lead(database, actor, monkeypatch):
    make_account(database, actor, TWIN_COMPANY)
    broken, clean_before = make_lead(database, actor), make_lead(database, actor)
    twin, clean_after = make_lead(database, actor, company_name=TWIN_COMPANY), make_lead(database, actor)
    real_plan = qualification.plan_qualification

    def plan_with_a_broken_account(lead, context, **keywords):
        pending = real_plan(lead, context, **keywords)
        if lead.id == broken.id:  # an account without a name: the database's NOT NULL refuses the batch
            pending.rows[qualification.ACCOUNTS][0]["name"] = None
        return pending

    monkeypatch.setattr(bulk, "plan_qualification", plan_with_a_broken_account)
    monkeypatch.setattr(qualification, "plan_qualification", plan_with_a_broken_account)
    outcomes = run(database, actor, [broken, clean_before, twin, clean_after], OnDuplicate.STOP)

    assert [o.status for o in outcomes] == [BulkResult.FAILED, BulkResult.QUALIFIED, BulkResult.STOPPED]
    assert outcomes[0].error.code == "lead_not_saved"
    assert states(database, [broken, clean_before, twin, clean_after]) == [
        LeadState.OPEN,
        LeadState.QUALIFIED,
        LeadState.OPEN,
        LeadState.OPEN,
    ]


# ---------------------------------------------------------------------------------------------- ignore


def test_ignore_qualifies_leads_with_account_and_blocking_lead_duplicates(database, actor):
    existing = make_account(database, actor, TWIN_COMPANY)
    twin = make_lead(database, actor, company_name=TWIN_COMPANY)
    make_lead(database, actor, email="again@example.com")
    blocked = lead_despite_duplicates(database, actor, email="again@example.com")

    outcomes = run(database, actor, [twin, blocked], OnDuplicate.IGNORE)

    assert [o.status for o in outcomes] == [BulkResult.QUALIFIED, BulkResult.QUALIFIED]
    assert outcomes[0].result.account_id not in (None, existing.id)
    assert states(database, [twin, blocked]) == [LeadState.QUALIFIED, LeadState.QUALIFIED]
    with database.unit_of_work(read_only=True) as uow:
        names = list(uow.session.scalars(select(Account.name).where(Account.name == TWIN_COMPANY)))
    assert names == [TWIN_COMPANY, TWIN_COMPANY]  # the existing account and the new one


def test_without_ignore_the_same_leads_are_not_qualified(database, actor):
    make_account(database, actor, TWIN_COMPANY)
    twin = make_lead(database, actor, company_name=TWIN_COMPANY)

    [outcome] = run(database, actor, [twin], OnDuplicate.SKIP)

    assert outcome.status is BulkResult.SKIPPED
    assert states(database, [twin]) == [LeadState.OPEN]


# ---------------------------------------------------------------------------------------------- who may ignore


def user_with_role(database: Database, admin: Actor, role: str) -> Actor:
    email = f"{role.lower().replace(' ', '.')}@example.com"
    with database.unit_of_work() as uow:
        create_user(
            email=email, full_name=role, role_names=[role], business_unit_name=None, password=None, uow=uow, actor=admin
        )
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        return actor_for_email(uow.session, email)


def qualified_one_by_one(database: Database, who: Actor, lead: Lead) -> str:
    """Qualify one lead with detection suppressed: "qualified", or the refusal's code."""
    try:
        with database.unit_of_work() as uow:
            service.qualify_lead(lead.id, QualifyOptions(suppress_duplicate_detection=True), uow=uow, actor=who)
            uow.commit()
    except LeadflowError as refused:
        return refused.code
    return "qualified"


def qualified_in_bulk(database: Database, who: Actor, lead: Lead) -> str:
    """Qualify one lead in bulk with ``ignore``: "qualified", or the refusal's code."""
    [outcome] = run(database, who, [lead], OnDuplicate.IGNORE)
    return "qualified" if outcome.ok else outcome.error.code


@pytest.mark.parametrize(
    ("role", "owner", "expected"),
    [
        ("Salesperson", "self", "qualified"),  # a seller may ignore duplicates on the leads they may qualify
        ("Salesperson", "admin", "forbidden"),  # Write on leads at User level: not someone else's lead
        ("Sales Team Member", "admin", "forbidden"),  # read only: no qualifying, duplicates or not
    ],
)
def test_ignore_in_bulk_is_allowed_exactly_when_suppressing_detection_on_one_lead_is(
    database, actor, role, owner, expected
):
    who = user_with_role(database, actor, role)
    make_account(database, actor, TWIN_COMPANY)
    creator = who if owner == "self" else actor
    one, other = (lead_despite_duplicates(database, creator, company_name=TWIN_COMPANY) for _ in range(2))

    assert qualified_one_by_one(database, who, one) == expected
    assert qualified_in_bulk(database, who, other) == expected
    assert states(database, [one, other]) == [LeadState.QUALIFIED if expected == "qualified" else LeadState.OPEN] * 2
