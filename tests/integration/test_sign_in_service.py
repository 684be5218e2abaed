"""Signing in through the service: throttling instead of lock-outs, passwords kept up, second factors.

Every case runs on SQLite and PostgreSQL. Throttling windows are simulated by moving recorded
failures back in time, never by sleeping.
"""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import func, select, update

from leadflow.core.db import utcnow
from leadflow.core.errors import InvalidState, LeadflowError, ValidationFailed
from leadflow.core.uow import Database
from leadflow.security import authentication
from leadflow.security.actor import actor_for_email
from leadflow.security.audit import AuditEntry
from leadflow.security.authentication import TooManyAttempts, sign_in
from leadflow.security.credentials import AuthenticationFailed
from leadflow.security.models import AccessToken, SignInFailure, TokenKind, User
from leadflow.security.service import create_user, require_two_factor_for
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

HERE, THERE = "10.0.0.1", "10.0.0.2"
PASSWORD = "a long enough secret 7"


def attempt(
    database: Database, email: str, password: str, address: str = HERE, **more: object
) -> authentication.SignIn:
    return sign_in(email, password, kind=TokenKind.SIGN_IN, address=address, database=database, **more)


def make_person(database: Database, email: str = "ana@example.com", role: str = "Salesperson") -> str:
    with database.unit_of_work() as uow:
        create_user(
            email=email,
            full_name="Ana",
            role_names=[role],
            business_unit_name=None,
            password=PASSWORD,
            uow=uow,
            actor=None,
        )
        uow.commit()
    return email


def as_actor(database: Database, email: str):
    with database.unit_of_work(read_only=True) as uow:
        return actor_for_email(uow.session, email)


def age_failures(database: Database, by: timedelta) -> None:
    """Move every recorded failure back in time, as if ``by`` had passed since the latest."""
    with database.unit_of_work() as uow:
        uow.session.execute(update(SignInFailure).values(occurred_at=utcnow() - by))
        uow.commit()


def valid_tokens(database: Database, email: str) -> int:
    with database.unit_of_work(read_only=True) as uow:
        return (
            uow.session.scalar(
                select(func.count())
                .select_from(AccessToken)
                .join(User, User.id == AccessToken.user_id)
                .where(User.email == email, AccessToken.revoked_at.is_(None))
            )
            or 0
        )


# ---------------------------------------------------------------------------------------------- passwords


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("short one", "password_too_short"),
        ("Qwerty123456", "password_too_common"),
        ("iloveyou12345!", "password_too_common"),
    ],
)
def test_weak_passwords_are_refused(database: Database, password: str, code: str) -> None:
    with pytest.raises(ValidationFailed) as refused, database.unit_of_work() as uow:
        create_user(
            email="weak@example.com",
            full_name="Weak",
            role_names=["Salesperson"],
            business_unit_name=None,
            password=password,
            uow=uow,
            actor=None,
        )
    assert refused.value.code == code


# ---------------------------------------------------------------------------------------------- throttling


def test_after_five_failures_from_one_address_even_the_right_password_waits(database: Database) -> None:
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            attempt(database, ADMIN_EMAIL, "wrong password")
    with pytest.raises(TooManyAttempts) as throttled:
        attempt(database, ADMIN_EMAIL, ADMIN_PASSWORD)
    assert throttled.value.details["retry_after"] >= 1
    # The same person from elsewhere is not kept out by whoever guesses here.
    assert attempt(database, ADMIN_EMAIL, ADMIN_PASSWORD, address=THERE).issued is not None


def test_the_wait_grows_with_every_attempt_and_ends(database: Database) -> None:
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            attempt(database, ADMIN_EMAIL, "wrong password")
    waits = []
    for _ in range(3):
        with pytest.raises(TooManyAttempts) as throttled:
            attempt(database, ADMIN_EMAIL, "wrong password")
        waits.append(throttled.value.details["retry_after"])
    assert waits == sorted(waits) and waits[-1] > waits[0]
    age_failures(database, timedelta(minutes=11))  # the window has passed
    assert attempt(database, ADMIN_EMAIL, ADMIN_PASSWORD).issued is not None


def test_an_unknown_email_is_throttled_exactly_like_a_known_one(database: Database) -> None:
    outcomes = {}
    for email in (ADMIN_EMAIL, "nobody@example.com"):
        seen = []
        for _ in range(6):
            try:
                attempt(database, email, "wrong password")
            except LeadflowError as refusal:
                seen.append((type(refusal).__name__, refusal.code, refusal.message))
        outcomes[email] = seen
    assert outcomes[ADMIN_EMAIL] == outcomes["nobody@example.com"]
    assert outcomes[ADMIN_EMAIL][-1][0] == "TooManyAttempts"


def test_twenty_failures_from_one_address_throttle_every_email_from_it(database: Database) -> None:
    for n in range(20):
        with pytest.raises(AuthenticationFailed):
            attempt(database, f"guess{n}@example.com", "wrong password")
    with pytest.raises(TooManyAttempts):
        attempt(database, ADMIN_EMAIL, ADMIN_PASSWORD)
    assert attempt(database, ADMIN_EMAIL, ADMIN_PASSWORD, address=THERE).issued is not None


@pytest.mark.concurrency
def test_simultaneous_wrong_passwords_are_all_counted_and_audited(database: Database) -> None:
    attempts = 4
    barrier = threading.Barrier(attempts)
    outcomes: list[object] = []

    def guess() -> None:
        barrier.wait(timeout=10)
        try:
            attempt(database, ADMIN_EMAIL, "wrong password")
        except LeadflowError as error:
            outcomes.append(type(error))

    threads = [threading.Thread(target=guess) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes == [AuthenticationFailed] * attempts
    with database.unit_of_work(read_only=True) as uow:
        counted = uow.session.scalar(select(func.count()).select_from(SignInFailure))
        audited = uow.session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "sign_in_failed")
        )
    assert counted == audited == attempts


# ---------------------------------------------------------------------------------------------- passwords kept up


def test_changing_ones_password_ends_every_other_session(database: Database) -> None:
    email = make_person(database)
    kept = attempt(database, email, PASSWORD).issued
    attempt(database, email, PASSWORD)
    with database.unit_of_work() as uow:
        with pytest.raises(ValidationFailed) as wrong:
            authentication.change_password(
                "not it", "a brand new secret 9", uow=uow, actor=as_actor(database, email), keep_token=kept.token.id
            )
        assert wrong.value.code == "wrong_password"
    with database.unit_of_work() as uow:
        authentication.change_password(
            PASSWORD, "a brand new secret 9", uow=uow, actor=as_actor(database, email), keep_token=kept.token.id
        )
        uow.commit()
    assert valid_tokens(database, email) == 1  # only the session it was changed from
    with pytest.raises(AuthenticationFailed):
        attempt(database, email, PASSWORD)
    assert attempt(database, email, "a brand new secret 9").issued is not None


def test_a_reset_link_works_once_within_a_day_and_ends_every_session(database: Database) -> None:
    email = make_person(database)
    attempt(database, email, PASSWORD)
    admin = as_actor(database, ADMIN_EMAIL)
    with database.unit_of_work() as uow:
        user_id = uow.session.scalars(select(User.id).where(User.email == email)).one()
        first = authentication.issue_reset_link(user_id, uow=uow, actor=admin)
        second = authentication.issue_reset_link(user_id, uow=uow, actor=admin)
        uow.commit()
    for secret in (first.secret,):  # a newer link replaces the older one
        with pytest.raises(InvalidState), database.unit_of_work() as uow:
            authentication.reset_password(secret, "a brand new secret 9", uow=uow)
    with database.unit_of_work() as uow:
        authentication.reset_password(second.secret, "a brand new secret 9", uow=uow)
        uow.commit()
    assert valid_tokens(database, email) == 0
    with pytest.raises(InvalidState), database.unit_of_work() as uow:  # once
        authentication.reset_password(second.secret, "yet another secret 10", uow=uow)
    assert attempt(database, email, "a brand new secret 9").issued is not None


def test_a_reset_link_expires_after_a_day(database: Database) -> None:
    email = make_person(database)
    with database.unit_of_work() as uow:
        user_id = uow.session.scalars(select(User.id).where(User.email == email)).one()
        link = authentication.issue_reset_link(user_id, uow=uow, actor=as_actor(database, ADMIN_EMAIL))
        uow.commit()
    with database.unit_of_work() as uow:
        uow.session.execute(
            update(AccessToken)
            .where(AccessToken.id == link.token.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        uow.commit()
    with pytest.raises(InvalidState) as expired, database.unit_of_work() as uow:
        authentication.reset_password(link.secret, "a brand new secret 9", uow=uow)
    assert expired.value.code == "reset_link_invalid"


# ---------------------------------------------------------------------------------------------- second factor


def test_two_factor_sign_in_takes_a_code_once_and_a_recovery_code_once(database: Database) -> None:
    email = make_person(database)
    actor = as_actor(database, email)
    with database.unit_of_work() as uow:
        enrolment = authentication.start_two_factor(uow=uow, actor=actor)
        uow.commit()
    confirmation = pyotp.TOTP(enrolment.secret).now()
    with database.unit_of_work() as uow:
        codes = authentication.confirm_two_factor(confirmation, uow=uow, actor=actor)
        uow.commit()
    assert len(codes) == 10 and len(set(codes)) == 10
    with pytest.raises(AuthenticationFailed) as asked:
        attempt(database, email, PASSWORD)
    assert asked.value.code == "two_factor_required"
    with pytest.raises(AuthenticationFailed) as reused:  # the code of the confirmation works once
        attempt(database, email, PASSWORD, one_time_code=confirmation)
    assert reused.value.code == "wrong_code"
    assert attempt(database, email, PASSWORD, one_time_code=codes[0]).issued is not None
    with pytest.raises(AuthenticationFailed):
        attempt(database, email, PASSWORD, one_time_code=codes[0])
    web = sign_in(email, PASSWORD, kind=TokenKind.WEB_SESSION, address=HERE, database=database)
    assert web.issued is None and web.second_step is not None
    session = authentication.complete_second_step(web.second_step.secret, codes[1], address=HERE, database=database)
    assert session.token.kind is TokenKind.WEB_SESSION


def test_a_role_that_requires_two_factor_keeps_api_sign_in_out_until_it_is_set_up(database: Database) -> None:
    email = make_person(database)
    with database.unit_of_work() as uow:
        require_two_factor_for("Salesperson", True, uow=uow, actor=as_actor(database, ADMIN_EMAIL))
        uow.commit()
    with pytest.raises(AuthenticationFailed) as refused:
        attempt(database, email, PASSWORD)
    assert refused.value.code == "two_factor_enrolment_required"
    web = sign_in(email, PASSWORD, kind=TokenKind.WEB_SESSION, address=HERE, database=database)
    assert web.issued is not None  # the web app lets them in to set it up


def test_an_administrator_turns_off_a_lost_second_factor(database: Database) -> None:
    email = make_person(database)
    actor = as_actor(database, email)
    with database.unit_of_work() as uow:
        secret = authentication.start_two_factor(uow=uow, actor=actor).secret
        authentication.confirm_two_factor(pyotp.TOTP(secret).now(), uow=uow, actor=actor)
        uow.commit()
    with database.unit_of_work() as uow:
        user_id = uow.session.scalars(select(User.id).where(User.email == email)).one()
        authentication.turn_off_two_factor(user_id, uow=uow, actor=as_actor(database, ADMIN_EMAIL))
        uow.commit()
    assert attempt(database, email, PASSWORD).issued is not None


def test_someone_else_cannot_turn_off_my_second_factor(database: Database) -> None:
    mine, theirs = make_person(database), make_person(database, "bob@example.com")
    with database.unit_of_work() as uow:
        target = uow.session.scalars(select(User.id).where(User.email == mine)).one()
        with pytest.raises(LeadflowError) as refused:
            authentication.turn_off_two_factor(target, uow=uow, actor=as_actor(database, theirs))
    assert refused.value.code == "forbidden"
    assert uuid.UUID(str(target))
