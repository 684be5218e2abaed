"""Password sign-in through the service: counting failures, lock-out and its end."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from leadflow.security.audit import AuditEntry
from leadflow.core.db import utcnow
from leadflow.core.errors import LeadflowError
from leadflow.security.models import TokenKind, User
from leadflow.security.service import AccountLocked, AuthenticationFailed, sign_in
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD


def failures(database) -> int:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalar(select(User.failed_sign_ins).where(User.email == ADMIN_EMAIL))


def test_an_expired_lock_starts_the_count_afresh(database):
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            sign_in(ADMIN_EMAIL, "wrong password", kind=TokenKind.SIGN_IN, database=database)
    with pytest.raises(AccountLocked):
        sign_in(ADMIN_EMAIL, "wrong password", kind=TokenKind.SIGN_IN, database=database)
    with database.unit_of_work() as uow:  # fifteen minutes later
        uow.session.execute(update(User).where(User.email == ADMIN_EMAIL).values(locked_until=utcnow() - timedelta(seconds=1)))
        uow.commit()
    with pytest.raises(AuthenticationFailed):  # one more mistake is just a mistake, not a new lock
        sign_in(ADMIN_EMAIL, "wrong password", kind=TokenKind.SIGN_IN, database=database)
    assert failures(database) == 1
    assert sign_in(ADMIN_EMAIL, ADMIN_PASSWORD, kind=TokenKind.SIGN_IN, database=database).secret


@pytest.mark.concurrency
def test_simultaneous_wrong_passwords_are_all_counted_and_audited(database):
    attempts = 4
    barrier = threading.Barrier(attempts)
    outcomes: list[object] = []

    def guess() -> None:
        barrier.wait(timeout=10)
        try:
            sign_in(ADMIN_EMAIL, "wrong password", kind=TokenKind.SIGN_IN, database=database)
        except LeadflowError as error:
            outcomes.append(type(error))

    threads = [threading.Thread(target=guess) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes == [AuthenticationFailed] * attempts
    assert failures(database) == attempts
    with database.unit_of_work(read_only=True) as uow:
        audited = uow.session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "sign_in_failed")
        )
    assert audited == attempts
