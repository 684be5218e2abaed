"""Organisation bootstrap, settings and currency lookups."""

from __future__ import annotations

import uuid

from babel.numbers import get_currency_name, get_currency_symbol, list_currencies
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.errors import NotFound, ValidationFailed
from leadflow.records import apply_changes, check_version
from leadflow.organisation.models import Currency, OrganisationSettings
from leadflow.security.models import BusinessUnit, User
from leadflow.uow import UnitOfWork

# Currencies enabled in a new organisation besides the base currency.
STARTER_CURRENCIES = ("EUR", "USD", "GBP", "MXN")
ADMIN_EMAIL = "admin@leadflow.local"


def ensure_organisation(*, uow: UnitOfWork, base_currency: str) -> OrganisationSettings:
    """Create the root business unit, administrator, currencies and settings if missing (idempotent)."""
    session = uow.session
    settings = session.scalars(select(OrganisationSettings).limit(1)).first()
    if settings is not None:
        return settings
    base_code = normalise_currency_code(base_currency)
    root = BusinessUnit(id=uuid.uuid4(), name="Organisation", parent_id=None)
    session.add(root)
    session.add(
        User(
            id=uuid.uuid4(),
            email=ADMIN_EMAIL,
            full_name="Administrator",
            business_unit_id=root.id,
            language="en",
        )
    )
    base: Currency | None = None
    for code in dict.fromkeys((base_code, *STARTER_CURRENCIES)):
        currency = Currency(
            id=uuid.uuid4(),
            iso_code=code,
            name=get_currency_name(code, locale="en"),
            symbol=get_currency_symbol(code, locale="en"),
            is_base=code == base_code,
        )
        session.add(currency)
        if code == base_code:
            base = currency
    settings = OrganisationSettings(id=uuid.uuid4(), base_currency_id=base.id if base else None)
    session.add(settings)
    uow.flush()
    return settings


def normalise_currency_code(code: str) -> str:
    """Upper-case an ISO 4217 code and check that it exists."""
    normalised = code.strip().upper()
    if normalised not in list_currencies():
        raise ValidationFailed(
            f"{code!r} is not an ISO 4217 currency code (for example EUR or USD).",
            code="invalid_currency",
        )
    return normalised


def get_settings(session: Session) -> OrganisationSettings:
    """The organisation's settings row."""
    settings = session.scalars(select(OrganisationSettings).limit(1)).first()
    if settings is None:
        raise NotFound(
            "The organisation is not set up; run `leadflow db upgrade` first.",
            code="organisation_not_set_up",
        )
    return settings


def currency_by_code(session: Session, code: str) -> Currency:
    """The enabled currency with this ISO code, or a clear refusal."""
    normalised = normalise_currency_code(code)
    currency = session.scalars(select(Currency).where(Currency.iso_code == normalised)).first()
    if currency is None:
        raise ValidationFailed(
            f"The currency {normalised} is not enabled in this organisation; an administrator can add it.",
            code="currency_not_enabled",
        )
    return currency


def update_qualification_settings(
    changes: dict[str, object], *, uow: UnitOfWork, expected_version: int | None = None
) -> OrganisationSettings:
    """Change the qualification settings of §6 (administrators only, once security lands)."""
    settings = get_settings(uow.session)
    check_version(settings, expected_version)
    apply_changes(settings, changes)
    uow.flush()
    return settings
