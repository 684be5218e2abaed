"""Signing in and staying signed in: throttling, tokens and sessions, two-factor enrolment, password
changes and reset links (the checks of the credentials themselves are in leadflow.security.credentials).

* Passwords are argon2id hashes; a new one has at least 12 characters and is not a common password
  (the list of the zxcvbn package), nor one with digits or symbols added at its end.
* Wrong attempts are throttled, not locked out: after 5 failures for one email from one address, or
  20 from one address, in 10 minutes, each further attempt must wait for a delay that doubles (up to
  15 minutes). An email nobody has is throttled exactly like a known one, so the answers tell an
  attacker nothing, and throttling by address as well means nobody can keep the administrator out
  from elsewhere.
* A user may add a second factor (TOTP, RFC 6238, with pyotp), with one-time recovery codes; a role
  can require it. Sign-in then takes the code too (or, in the web app, asks for it in a second step).
* Changing or resetting a password ends the user's other sessions and revokes their tokens.
"""

from __future__ import annotations

import math
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

import pyotp
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from leadflow.core.db import affected_rows, utcnow
from leadflow.core.errors import InvalidState, LeadflowError, NotFound, ValidationFailed
from leadflow.core.mail import Outgoing
from leadflow.core.uow import Database, UnitOfWork
from leadflow.security.access import require_admin
from leadflow.security.actor import Actor, cached_actor, held_role_ids, security_generation
from leadflow.security.audit import record_action
from leadflow.security.credentials import (
    ISSUER,
    AuthenticationFailed,
    accept_totp,
    check_password_strength,
    digest,
    dummy_hash,
    email_key,
    hash_password,
    new_recovery_codes,
    password_hasher,
    use_recovery_code,
    verify_password,
    wrong_code,
)
from leadflow.security.models import AccessToken, RecoveryCode, Role, SignInFailure, TokenKind, User
from leadflow.security.privileges import Privilege

SIGN_IN_TOKEN_LIFETIME = timedelta(hours=8)
WEB_SESSION_LIFETIME = timedelta(hours=12)
RESET_LINK_LIFETIME = timedelta(hours=24)
SECOND_STEP_LIFETIME = timedelta(minutes=5)

# Throttling: failures counted over a window, per (email, address) and per address.
FAILURE_WINDOW = timedelta(minutes=10)
FAILURES_PER_ACCOUNT = 5
FAILURES_PER_ADDRESS = 20
LONGEST_WAIT = timedelta(minutes=15)


class TooManyAttempts(LeadflowError):
    """Too many wrong sign-ins lately: the caller must wait ``details["retry_after"]`` seconds (HTTP 429)."""

    code = "too_many_attempts"


# ---------------------------------------------------------------------------------------------- throttling


def _wait_left(session: Session, key: str, address: str, now: datetime) -> float:
    """Seconds this (email, address) must still wait before trying again; 0 when it may try now."""
    since = now - FAILURE_WINDOW
    recent = SignInFailure.occurred_at >= since
    by_account, last_account = session.execute(
        select(func.count(), func.max(SignInFailure.occurred_at)).where(
            SignInFailure.email_key == key, SignInFailure.address == address, recent
        )
    ).one()
    by_address, last_address = session.execute(
        select(func.count(), func.max(SignInFailure.occurred_at)).where(SignInFailure.address == address, recent)
    ).one()
    waits = []
    for count, limit, last in (
        (by_account, FAILURES_PER_ACCOUNT, last_account),
        (by_address, FAILURES_PER_ADDRESS, last_address),
    ):
        if count >= limit and last is not None:
            delay = min(timedelta(seconds=2 ** (count - limit + 1)), LONGEST_WAIT)
            waits.append((_aware(last) + delay - now).total_seconds())
    return max([0.0, *waits])


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=utcnow().tzinfo)


def _record_failure(session: Session, key: str, address: str, now: datetime) -> None:
    session.add(SignInFailure(id=uuid.uuid4(), occurred_at=now, email_key=key, address=address))
    # Failures older than the window count for nothing: drop them as new ones come.
    session.execute(delete(SignInFailure).where(SignInFailure.occurred_at < now - FAILURE_WINDOW))


def _refuse_if_throttled(session: Session, key: str, address: str, now: datetime) -> None:
    wait = _wait_left(session, key, address, now)
    if wait > 0:
        _record_failure(session, key, address, now)  # knocking again makes the wait longer
        looks_like_email = "@" in key and " " not in key and len(key) <= 200
        record_action(
            session,
            None,
            "sign_in_throttled",
            table="users",
            summary=f"{key if looks_like_email else 'unknown user'} from {address}",
        )
        seconds = math.ceil(wait)
        raise TooManyAttempts(
            f"Too many wrong attempts from here: wait {seconds} seconds before trying again.",
            details={"retry_after": seconds},
        )


# ---------------------------------------------------------------------------------------------- sign-in


def authenticate(email: str, password: str, *, address: str, uow: UnitOfWork) -> User:
    """Check a password; a failure is recorded (and throttles later attempts), a success clears them."""
    session = uow.session
    key = email_key(email)
    now = utcnow()
    _refuse_if_throttled(session, key, address, now)
    user = session.scalars(select(User).where(User.email == key)).first()
    usable = user is not None and user.is_active and user.password_hash is not None
    stored = user.password_hash if user is not None and usable else None
    if not verify_password(stored or dummy_hash(), password) or not usable:
        _record_failure(session, key, address, now)
        # Only something shaped like an address is kept: a password typed in the wrong box is not.
        looks_like_email = "@" in key and " " not in key and len(key) <= 200
        summary = "wrong password" if usable else (f"unknown user {key}" if looks_like_email else "unknown user")
        record_action(
            session,
            None,
            "sign_in_failed",
            table="users",
            record_id=user.id if usable else None,  # type: ignore[union-attr]
            summary=summary,
        )
        raise AuthenticationFailed("The email or password is wrong.")
    assert user is not None and user.password_hash is not None
    if password_hasher.check_needs_rehash(user.password_hash):
        user.password_hash = password_hasher.hash(password)
    session.execute(delete(SignInFailure).where(SignInFailure.email_key == key, SignInFailure.address == address))
    return user


@dataclass(frozen=True)
class IssuedToken:
    """A new token: the secret is shown once and only its digest is stored."""

    token: AccessToken
    secret: str


def issue_token(
    user: User, *, kind: TokenKind, lifetime: timedelta, name: str | None = None, session: Session
) -> IssuedToken:
    """Create a random bearer secret for a user."""
    secret = "lf_" + secrets.token_urlsafe(32)
    token = AccessToken(
        id=uuid.uuid4(),
        user_id=user.id,
        kind=kind,
        name=name,
        token_digest=digest(secret),
        csrf_secret=secrets.token_hex(32) if kind is TokenKind.WEB_SESSION else None,
        expires_at=utcnow() + lifetime,
    )
    session.add(token)
    session.flush()
    return IssuedToken(token=token, secret=secret)


@dataclass(frozen=True)
class SignIn:
    """The outcome of a password: a session or token, or the second step a second factor needs."""

    issued: IssuedToken | None = None
    # Set when a code is still needed: the secret of the short second step that takes it.
    second_step: IssuedToken | None = None


def requires_two_factor(session: Session, user: User) -> bool:
    """Whether a role the user holds (their own or a team's) asks for a second factor."""
    statement = (
        select(func.count())
        .select_from(Role)
        .where(Role.id.in_(held_role_ids(user.id)), Role.requires_two_factor.is_(True))
    )
    return bool(session.scalar(statement))


def sign_in(
    email: str,
    password: str,
    *,
    kind: TokenKind,
    address: str,
    database: Database,
    one_time_code: str | None = None,
) -> SignIn:
    """Password sign-in. With a second factor, the code goes with it (API) or comes in a second step
    (web: ``second_step``). Failures are kept, for throttling and the audit log, even when refused."""
    with database.unit_of_work() as uow:
        try:
            user = authenticate(email, password, address=address, uow=uow)
            if user.totp_enabled_at is not None:
                if one_time_code is None:
                    if kind is TokenKind.WEB_SESSION:
                        step = issue_token(
                            user, kind=TokenKind.TWO_FACTOR, lifetime=SECOND_STEP_LIFETIME, session=uow.session
                        )
                        uow.commit()
                        return SignIn(second_step=step)
                    raise AuthenticationFailed(
                        "This account signs in with a second factor: send the 6-digit code of the "
                        "authenticator app (or a recovery code) in the field otp.",
                        code="two_factor_required",
                    )
                _check_second_factor(uow.session, user, one_time_code, address=address)
            elif requires_two_factor(uow.session, user) and kind is not TokenKind.WEB_SESSION:
                raise AuthenticationFailed(
                    "Your role requires two-factor sign-in: sign in to the web app once to set it up.",
                    code="two_factor_enrolment_required",
                )
        except LeadflowError:
            uow.commit()  # keep the failure for throttling and the audit entry
            raise
        issued = _open_session(uow, user, kind)
        uow.commit()
    return SignIn(issued=issued)


def complete_second_step(step_secret: str, one_time_code: str, *, address: str, database: Database) -> IssuedToken:
    """The web sign-in's second step: the code, with the secret the first step handed out."""
    with database.unit_of_work() as uow:
        session = uow.session
        step = session.scalars(select(AccessToken).where(AccessToken.token_digest == digest(step_secret))).first()
        if (
            step is None
            or step.kind is not TokenKind.TWO_FACTOR
            or step.revoked_at is not None
            or step.expires_at <= utcnow()
        ):
            raise AuthenticationFailed(
                "This sign-in has expired; enter your email and password again.", code="second_step_expired"
            )
        user = session.get(User, step.user_id)
        if user is None or not user.is_active:
            raise AuthenticationFailed("This user is no longer active.", code="user_inactive")
        try:
            _refuse_if_throttled(session, user.email, address, utcnow())
            _check_second_factor(session, user, one_time_code, address=address)
        except LeadflowError:
            uow.commit()
            raise
        step.revoked_at = utcnow()
        issued = _open_session(uow, user, TokenKind.WEB_SESSION)
        uow.commit()
    return issued


def _open_session(uow: UnitOfWork, user: User, kind: TokenKind) -> IssuedToken:
    user.last_sign_in_at = utcnow()
    lifetime = SIGN_IN_TOKEN_LIFETIME if kind is TokenKind.SIGN_IN else WEB_SESSION_LIFETIME
    issued = issue_token(user, kind=kind, lifetime=lifetime, session=uow.session)
    record_action(uow.session, None, "sign_in", table="users", record_id=user.id, summary=kind.value)
    return issued


@dataclass(frozen=True)
class Authenticated:
    actor: Actor
    token: AccessToken


def actor_for_secret(secret: str, *, session: Session, kinds: tuple[TokenKind, ...]) -> Authenticated:
    """The actor a bearer secret or session cookie stands for; 401 when unknown, expired or revoked."""
    row = session.execute(
        select(AccessToken, User, security_generation())
        .join(User, User.id == AccessToken.user_id)
        .where(AccessToken.token_digest == digest(secret))
    ).first()
    token, user, generation = row if row is not None else (None, None, None)
    if token is None or user is None or token.kind not in kinds:
        raise AuthenticationFailed("The access token is not valid; sign in again.", code="invalid_token")
    if token.revoked_at is not None:
        raise AuthenticationFailed("The access token was revoked; sign in again.", code="token_revoked")
    if token.expires_at <= utcnow():
        raise AuthenticationFailed("The access token has expired; sign in again.", code="token_expired")
    if not user.is_active:
        raise AuthenticationFailed("This user is no longer active.", code="user_inactive")
    return Authenticated(actor=cached_actor(session, user, generation), token=token)


# A token's last use is written at most this often: every request would otherwise be a write.
LAST_USE_PRECISION = timedelta(minutes=1)


def note_token_use(authenticated: Authenticated, *, database: Database, uow: UnitOfWork | None = None) -> None:
    """Record when a token was last used (to the minute): in the request's own writing unit of work
    when given (it commits with the request), else in a short transaction of its own."""
    now = utcnow()
    last = authenticated.token.last_used_at
    if last is not None and now - last < LAST_USE_PRECISION:
        return
    noting = update(AccessToken).where(AccessToken.id == authenticated.token.id).values(last_used_at=now)
    if uow is not None and not uow.read_only:
        uow.session.execute(noting)
        return
    with database.unit_of_work() as own:
        own.session.execute(noting)
        own.commit()


# ---------------------------------------------------------------------------------------------- tokens


def create_personal_token(
    email: str, *, name: str | None, days: int, uow: UnitOfWork, actor: Actor | None
) -> IssuedToken:
    """A personal API token for scripts, valid ``days`` days; administrators only."""
    if actor is not None:
        require_admin(actor, "users", Privilege.WRITE)
    if not 1 <= days <= 3650:
        raise ValidationFailed("A token lasts between 1 and 3650 days.", code="out_of_range")
    session = uow.session
    user = session.scalars(select(User).where(User.email == email_key(email), User.is_active.is_(True))).first()
    if user is None:
        raise NotFound(f"No active user has the email {email}.", code="user_not_found")
    issued = issue_token(user, kind=TokenKind.PERSONAL, lifetime=timedelta(days=days), name=name, session=session)
    record_action(session, actor, "token_create", table="users", record_id=user.id, summary=name)
    return issued


def revoke_token(token_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor | None) -> AccessToken:
    """Revoke a token at once (one's own, or anyone's for those who manage users); it stays listed."""
    session = uow.session
    token = session.get(AccessToken, token_id)
    if token is None:
        raise NotFound(f"No token has the id {token_id}.", code="token_not_found")
    if actor is not None and token.user_id != actor.user_id:
        require_admin(actor, "users", Privilege.WRITE)
    token.revoked_at = token.revoked_at or utcnow()
    uow.flush()
    record_action(session, actor, "token_revoke", table="users", record_id=token.user_id, summary=str(token.id))
    return token


def revoke_secret(secret: str, *, uow: UnitOfWork) -> None:
    """Revoke the token holding this secret (sign-out); unknown secrets are ignored."""
    token = uow.session.scalars(select(AccessToken).where(AccessToken.token_digest == digest(secret))).first()
    if token is not None and token.revoked_at is None:
        token.revoked_at = utcnow()
        uow.flush()


def revoke_all_tokens(session: Session, user_id: uuid.UUID, *, keep: uuid.UUID | None = None) -> int:
    """End every session and token of a user (but ``keep``); how many were still valid."""
    statement = update(AccessToken).where(AccessToken.user_id == user_id, AccessToken.revoked_at.is_(None))
    if keep is not None:
        statement = statement.where(AccessToken.id != keep)
    return affected_rows(session.execute(statement.values(revoked_at=utcnow())))


# ---------------------------------------------------------------------------------------------- passwords kept up


def change_password(
    current_password: str, new_password: str, *, uow: UnitOfWork, actor: Actor, keep_token: uuid.UUID | None
) -> int:
    """Change one's own password (the current one is required); every other session and token ends.
    Returns how many ended."""
    session = uow.session
    user = session.get(User, actor.user_id)
    if user is None or user.password_hash is None or not verify_password(user.password_hash, current_password):
        raise ValidationFailed(
            "The current password is wrong.",
            code="wrong_password",
            details={
                "fields": [
                    {"field": "current_password", "code": "wrong_password", "message": "The current password is wrong."}
                ]
            },
        )
    check_password_strength(new_password)
    user.password_hash = hash_password(new_password)
    ended = revoke_all_tokens(session, user.id, keep=keep_token)
    uow.flush()
    record_action(
        session, actor, "password_change", table="users", record_id=user.id, summary=f"{ended} sessions ended"
    )
    return ended


def issue_reset_link(user_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor | None) -> IssuedToken:
    """A one-time secret that lets a user set a new password within 24 hours (administrators).

    Earlier links of the user stop working; the caller turns the secret into a link.
    """
    if actor is not None:
        require_admin(actor, "users", Privilege.WRITE)
    session = uow.session
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user has the id {user_id}.", code="user_not_found")
    if not user.is_active:
        raise InvalidState(
            "This user is deactivated; reactivate them before sending a password link.", code="user_inactive"
        )
    session.execute(
        update(AccessToken)
        .where(
            AccessToken.user_id == user.id,
            AccessToken.kind == TokenKind.PASSWORD_RESET,
            AccessToken.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    issued = issue_token(user, kind=TokenKind.PASSWORD_RESET, lifetime=RESET_LINK_LIFETIME, session=session)
    record_action(session, actor, "password_reset_link", table="users", record_id=user.id)
    return issued


def reset_url(base_url: str, secret: str) -> str:
    """The web page where a user sets a new password with a reset link's secret."""
    return f"{base_url.rstrip('/')}/reset-password?token={quote(secret)}"


@dataclass(frozen=True)
class ResetLink:
    """A reset link as its user receives it."""

    url: str
    expires_at: datetime
    email: str
    full_name: str
    language: str | None


def make_reset_link(user_id: uuid.UUID, *, base_url: str, uow: UnitOfWork, actor: Actor | None) -> ResetLink:
    """Issue a reset link (see issue_reset_link) and spell out its address for the user."""
    issued = issue_reset_link(user_id, uow=uow, actor=actor)
    user = uow.session.get(User, user_id)
    assert user is not None  # issue_reset_link found them
    return ResetLink(
        reset_url(base_url, issued.secret), issued.token.expires_at, user.email, user.full_name, user.language
    )


_RESET_MAIL = {
    "en": (
        "Set your leadflow password",
        "Hello {name},\n\nAn administrator sent you this link to set a new leadflow password:\n\n{url}\n\n"
        "It works once, until {until} UTC. If you did not expect it, ignore this message: your password "
        "stays as it is.\n",
    ),
    "es": (
        "Establezca su contraseña de leadflow",
        "Hola, {name}:\n\nUn administrador le envía este enlace para establecer una nueva contraseña de "
        "leadflow:\n\n{url}\n\nFunciona una sola vez, hasta el {until} UTC. Si no lo esperaba, ignore este "
        "mensaje: su contraseña no cambia.\n",
    ),
}


def reset_link_mail(link: ResetLink) -> Outgoing:
    """The message that brings a reset link to its user, in their language (English by default)."""
    subject, text = _RESET_MAIL.get((link.language or "en")[:2], _RESET_MAIL["en"])
    until = f"{link.expires_at:%Y-%m-%d %H:%M}"
    return Outgoing(to=link.email, subject=subject, text=text.format(name=link.full_name, url=link.url, until=until))


def reset_password(secret: str, new_password: str, *, uow: UnitOfWork) -> User:
    """Set a new password with a reset link's secret; the link then stops working, and so does every
    session and token the user had."""
    session = uow.session
    token = session.scalars(select(AccessToken).where(AccessToken.token_digest == digest(secret))).first()
    if (
        token is None
        or token.kind is not TokenKind.PASSWORD_RESET
        or token.revoked_at is not None
        or token.expires_at <= utcnow()
    ):
        raise InvalidState(
            "This password link is not valid any more (used, expired or replaced); ask an administrator for a new one.",
            code="reset_link_invalid",
        )
    check_password_strength(new_password)
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        raise InvalidState("This user is no longer active.", code="user_inactive")
    user.password_hash = hash_password(new_password)
    revoke_all_tokens(session, user.id)
    uow.flush()
    record_action(session, None, "password_reset", table="users", record_id=user.id)
    return user


# ---------------------------------------------------------------------------------------------- second factor


@dataclass(frozen=True)
class Enrolment:
    """What an authenticator app needs to add the account: the secret, and the same as a URI (a QR code)."""

    secret: str
    uri: str


def start_two_factor(*, uow: UnitOfWork, actor: Actor) -> Enrolment:
    """A new secret for one's own account; it counts once ``confirm_two_factor`` got a code from it."""
    user = uow.session.get(User, actor.user_id)
    if user is None:
        raise NotFound("This user no longer exists.", code="user_not_found")
    if user.totp_enabled_at is not None:
        raise InvalidState(
            "Two-factor sign-in is already on; turn it off first to use a new device.", code="two_factor_on"
        )
    user.totp_secret = pyotp.random_base32()
    user.totp_last_step = None
    uow.flush()
    return Enrolment(
        user.totp_secret, pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    )


def confirm_two_factor(code: str, *, uow: UnitOfWork, actor: Actor) -> list[str]:
    """Turn two-factor sign-in on with a first code from the app; returns the recovery codes, shown once."""
    session = uow.session
    user = session.get(User, actor.user_id)
    if user is None or user.totp_secret is None:
        raise InvalidState("Start setting up two-factor sign-in first.", code="two_factor_not_started")
    if user.totp_enabled_at is not None:
        raise InvalidState("Two-factor sign-in is already on.", code="two_factor_on")
    if not accept_totp(user, code):
        raise wrong_code()
    user.totp_enabled_at = utcnow()
    codes = new_recovery_codes(session, user)
    uow.flush()
    record_action(session, actor, "two_factor_on", table="users", record_id=user.id)
    return codes


def turn_off_two_factor(user_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> None:
    """Turn two-factor sign-in off: for oneself, or for anyone by those who manage users (a lost phone)."""
    if user_id != actor.user_id:
        require_admin(actor, "users", Privilege.WRITE)
    session = uow.session
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user has the id {user_id}.", code="user_not_found")
    if user_id == actor.user_id and requires_two_factor(session, user):
        raise InvalidState(
            "Your role requires two-factor sign-in, so you cannot turn it off; to use a new device, ask an "
            "administrator to turn it off for you, then set it up again.",
            code="two_factor_required_by_role",
        )
    user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    uow.flush()
    record_action(session, actor, "two_factor_off", table="users", record_id=user.id)


def _check_second_factor(session: Session, user: User, code: str, *, address: str) -> None:
    if accept_totp(user, code) or use_recovery_code(session, user, code):
        return
    _record_failure(session, user.email, address, utcnow())
    raise wrong_code()
