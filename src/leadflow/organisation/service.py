"""Organisation bootstrap, settings and currency lookups."""

from __future__ import annotations

import uuid

from babel.numbers import get_currency_name, get_currency_symbol, list_currencies
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.errors import NotFound, ValidationFailed
from leadflow.audit.service import changed_fields, record_action
from leadflow.records import apply_changes, check_version
from leadflow.security.access import require_admin
from leadflow.security.actor import Actor
from leadflow.security.privileges import Privilege
from leadflow.organisation.models import Currency, OrganisationSettings
from leadflow.security.models import BusinessUnit
from leadflow.security.service import ensure_builtin_roles
from leadflow.uow import UnitOfWork

# Currencies enabled in a new organisation besides the base currency.
STARTER_CURRENCIES = ("EUR", "USD", "GBP", "MXN")


def ensure_organisation(*, uow: UnitOfWork, base_currency: str) -> OrganisationSettings:
    """Create the root business unit, built-in roles, currencies and settings if missing (idempotent).

    The first administrator is created by `leadflow init` (or by the demo data).
    """
    session = uow.session
    ensure_builtin_roles(session)
    settings = session.scalars(select(OrganisationSettings).limit(1)).first()
    if settings is not None:
        _ensure_duplicate_rules(session, settings)
        return settings
    base_code = normalise_currency_code(base_currency)
    session.add(BusinessUnit(id=uuid.uuid4(), name="Organisation", parent_id=None))
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
    _ensure_duplicate_rules(session, settings)
    return settings


def _ensure_duplicate_rules(session: Session, settings: OrganisationSettings) -> None:
    """The out-of-box duplicate detection rules, published, once per organisation (§9)."""
    if settings.builtin_duplicate_rules_created:
        return
    from leadflow.duplicates.rules import ensure_builtin_rules

    ensure_builtin_rules(session, default_region=settings.default_phone_region or "ES")
    settings.builtin_duplicate_rules_created = True
    session.flush()


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


def update_settings(
    changes: dict[str, object], *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> OrganisationSettings:
    """Change organisation settings (§6 qualification, duplicate detection); needs Write on settings."""
    require_admin(actor, "settings", Privilege.WRITE)
    settings = get_settings(uow.session)
    check_version(settings, expected_version)
    apply_changes(settings, changes)
    record_action(uow.session, actor, "settings_change", table="organisation_settings", record_id=settings.id,
                  changes=changed_fields(settings))
    uow.flush()
    return settings
