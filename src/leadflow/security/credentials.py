"""What people prove who they are with, checked without the database: passwords (strength and argon2id
hashes), the email as a sign-in key, TOTP codes (RFC 6238, with pyotp), and the digests under which
secrets (tokens, recovery codes) are stored."""

from __future__ import annotations

import hashlib
import secrets
import string
from functools import lru_cache

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete
from sqlalchemy.orm import Session
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from leadflow.core.config import password_hashing
from leadflow.core.db import utcnow
from leadflow.core.errors import LeadflowError, ValidationFailed
from leadflow.security.models import RecoveryCode, User

MIN_PASSWORD_LENGTH = 12
RECOVERY_CODES = 10
ISSUER = "leadflow"

# argon2id with the library's recommended parameters; its cheapest ones only where a test suite asks.
password_hasher = (
    PasswordHasher()
    if password_hashing() == "recommended"
    else PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
)


class AuthenticationFailed(LeadflowError):
    """Wrong credentials, or an unknown, expired or revoked token (HTTP 401)."""

    code = "not_authenticated"


# ---------------------------------------------------------------------------------------------- passwords


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


def check_password_strength(password: str) -> None:
    """Refuse passwords too short to resist guessing, or common ones (with digits added or not)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.", code="password_too_short")
    lowered = password.lower()
    if lowered in _common_passwords() or lowered.rstrip(string.digits + string.punctuation) in _common_passwords():
        raise ValidationFailed(
            "This password is one of the most common ones, which attackers try first; choose another.",
            code="password_too_common",
        )


def hash_password(password: str) -> str:
    """The argon2id hash to store, for a password that passed ``check_password_strength``."""
    return password_hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return password_hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash verified when the email is unknown, so that the time taken tells nothing.

    Made on first use: hashing takes argon2's 64 MiB, which no process should pay at import.
    """
    return password_hasher.hash("leadflow-no-such-user")


def normalise_email(email: str) -> str:
    """An email as leadflow stores it (checked, normalised, lower-case); a malformed one is refused."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise ValidationFailed(f"{email!r} is not a valid email address: {error}", code="invalid_email") from None


def email_key(email: str) -> str:
    """How a typed email is compared with the stored ones (and throttled): normalised as stored when it
    is an address, else trimmed and lower-cased."""
    try:
        return normalise_email(email)[:320]
    except ValidationFailed:
        return email.strip().lower()[:320]


def digest(secret: str) -> str:
    """What is stored of a secret (a token, a recovery code): enough to recognise it, never to show it."""
    return hashlib.sha256(secret.encode()).hexdigest()


# ---------------------------------------------------------------------------------------------- second factor


def wrong_code() -> AuthenticationFailed:
    return AuthenticationFailed(
        "The code is wrong or was already used; enter the current code of the authenticator app.",
        code="wrong_code",
    )


def accept_totp(user: User, code: str) -> bool:
    """Whether ``code`` is the app's code now (or one step either side), and not one already used."""
    cleaned = code.replace(" ", "")
    if user.totp_secret is None or not (cleaned.isdigit() and len(cleaned) == 6):
        return False
    totp = pyotp.TOTP(user.totp_secret)
    now = utcnow()
    step = totp.timecode(now)
    for candidate in (step - 1, step, step + 1):
        if secrets.compare_digest(totp.generate_otp(candidate), cleaned):
            if user.totp_last_step is not None and candidate <= user.totp_last_step:
                return False  # a code works once
            user.totp_last_step = candidate
            return True
    return False


def new_recovery_codes(session: Session, user: User) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["-".join(secrets.token_hex(3) for _ in range(2)) for _ in range(RECOVERY_CODES)]
    session.add_all(RecoveryCode(user_id=user.id, code_digest=digest(code)) for code in codes)
    return codes


def use_recovery_code(session: Session, user: User, code: str) -> bool:
    found = session.get(RecoveryCode, (user.id, digest(code.strip().lower())))
    if found is None or found.used_at is not None:
        return False
    found.used_at = utcnow()
    return True
