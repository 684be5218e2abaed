"""Sellers working at the same moment never create duplicates the published rules forbid.

Each case starts two real database clients (threads with their own connections) at the same
instant behind a barrier. On PostgreSQL both transactions really run side by side; detection and
the insert it guards serialise on the match codes (advisory locks), so the second one waits and then
sees the first one's record. SQLite lets one writer in at a time, so it must give the same answers.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from leadflow.core.errors import DuplicateDetected
from leadflow.core.schemas import parse
from leadflow.core.uow import Database
from leadflow.customers import service as customers
from leadflow.customers.models import Account, Contact
from leadflow.customers.schemas import AccountCreate, ContactCreate
from leadflow.leads import bulk, qualification
from leadflow.leads import service as leads
from leadflow.leads.schemas import QualifyOptions
from leadflow.security.actor import Actor
from tests.factories import make_lead

PAIRS = 16


def together(*actions: Callable[[], Any]) -> list[Any]:
    """Run the actions at the same instant, each on its own thread; their results or errors."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[Any] = [None] * len(actions)

    def run(index: int, action: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            outcomes[index] = action()
        except Exception as error:  # noqa: BLE001 - the refusal is the outcome
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(i, action)) for i, action in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def count(database: Database, model: type, **where: Any) -> int:
    with database.unit_of_work(read_only=True) as uow:
        statement = select(func.count()).select_from(model)
        for column, value in where.items():
            statement = statement.where(getattr(model, column) == value)
        return uow.session.scalar(statement) or 0


def _lead_of(database: Database, actor: Actor, company: str) -> uuid.UUID:
    """An open lead from ``company``, a person of its own (so that only the account can clash)."""
    mark = uuid.uuid4().hex[:8]
    lead = make_lead(
        database,
        actor,
        company_name=company,
        last_name=f"Persona {mark}",
        email=f"{mark}@example.com",
        business_phone=None,
    )
    return lead.id


@pytest.mark.concurrency
def test_two_sellers_qualifying_leads_of_one_new_company_at_once_create_one_account(
    database: Database, actor: Actor
) -> None:
    for pair in range(PAIRS):
        company = f"Talleres Concurrentes {pair} S.L."
        first, second = _lead_of(database, actor, company), _lead_of(database, actor, company)

        def qualify(lead_id: uuid.UUID) -> Callable[[], Any]:
            def action() -> Any:
                with database.unit_of_work() as uow:
                    result = leads.qualify_lead(lead_id, QualifyOptions(), uow=uow, actor=actor)
                    uow.commit()
                    return result

            return action

        outcomes = together(qualify(first), qualify(second))
        qualified = [o for o in outcomes if isinstance(o, qualification.QualifyResult)]
        warned = [o for o in outcomes if isinstance(o, DuplicateDetected)]
        assert len(qualified) == 1 and len(warned) == 1, (pair, outcomes)
        assert warned[0].details["matching_accounts"][0]["id"] == str(qualified[0].account_id)
        assert count(database, Account, name=company) == 1, pair


@pytest.mark.concurrency
def test_two_sellers_creating_the_same_contact_at_once_create_one(database: Database, actor: Actor) -> None:
    for pair in range(PAIRS):
        email = f"misma.persona.{pair}@example.com"

        def create() -> Any:
            with database.unit_of_work() as uow:
                contact = customers.create_contact(
                    parse(ContactCreate, {"last_name": "Pérez", "email": email}),  # noqa: B023 - called in this turn
                    uow=uow,
                    actor=actor,
                )
                uow.commit()
                return contact

        outcomes = together(create, create)
        assert sum(isinstance(o, Contact) for o in outcomes) == 1, (pair, outcomes)
        assert sum(isinstance(o, DuplicateDetected) for o in outcomes) == 1, (pair, outcomes)
        assert count(database, Contact, email=email) == 1, pair


@pytest.mark.concurrency
def test_a_check_waits_for_an_account_being_saved_anyway_and_then_sees_it(database: Database, actor: Actor) -> None:
    name = "Guardada a propósito S.L."
    saved, release = threading.Event(), threading.Event()

    def save_anyway() -> None:
        with database.unit_of_work() as uow:
            customers.create_account(
                parse(AccountCreate, {"name": name}), uow=uow, actor=actor, suppress_duplicates=True
            )
            saved.set()
            release.wait(timeout=30)  # the account is written, not yet committed
            uow.commit()

    checked: list[Any] = []

    def save_with_detection() -> None:
        try:
            with database.unit_of_work() as uow:
                checked.append(customers.create_account(parse(AccountCreate, {"name": name}), uow=uow, actor=actor))
                uow.commit()
        except DuplicateDetected as refused:
            checked.append(refused)

    first = threading.Thread(target=save_anyway)
    first.start()
    assert saved.wait(timeout=30)
    second = threading.Thread(target=save_with_detection)
    second.start()
    second.join(timeout=1)
    assert second.is_alive(), "the check did not wait for the uncommitted account"
    release.set()
    first.join(timeout=30)
    second.join(timeout=30)
    assert len(checked) == 1 and isinstance(checked[0], DuplicateDetected), checked
    assert count(database, Account, name=name) == 1


@pytest.mark.concurrency
def test_bulk_qualify_batches_running_side_by_side_create_each_account_once(database: Database, actor: Actor) -> None:
    companies = [f"Mayorista Paralelo {n} S.A." for n in range(PAIRS)]
    left = [_lead_of(database, actor, company) for company in companies]
    right = [_lead_of(database, actor, company) for company in companies]

    def run(ids: list[uuid.UUID]) -> Callable[[], Any]:
        return lambda: list(bulk.qualify_leads(ids, QualifyOptions(), database=database, actor=actor, batch_size=4))

    outcomes = together(run(left), run(right))
    lines = [line for outcome in outcomes for line in outcome]
    assert sum(line.ok for line in lines) == PAIRS, [line.error for line in lines if not line.ok]
    assert all(line.error.code == "duplicate_detected" for line in lines if not line.ok)
    for company in companies:
        assert count(database, Account, name=company) == 1, company
