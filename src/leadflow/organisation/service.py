"""Organisation settings, currency lookups, and the time zone a user reads times in."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from babel.numbers import list_currencies
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.errors import NotFound, ValidationFailed
from leadflow.core.formatting import resolve_time_zone
from leadflow.core.records import apply_changes, check_version
from leadflow.core.uow import UnitOfWork
from leadflow.organisation.models import Currency, OrganisationSettings
from leadflow.security.access import require_admin
from leadflow.security.actor import Actor
from leadflow.security.audit import changed_fields, record_action
from leadflow.security.models import User
from leadflow.security.privileges import Privilege
from leadflow.security.service import checked_time_zone


def normalise_currency_code(code: str) -> str:
    """Upper-case an ISO 4217 code and check that it exists."""
    normalised = code.strip().upper()
    if normalised not in list_currencies():
        raise ValidationFailed(
            f"{code!r} is not an ISO 4217 currency code (for example EUR or USD).",
            code="invalid_currency",
        )
    return normalised


_SETTINGS_ID = "leadflow_organisation_settings_id"


def get_settings(session: Session) -> OrganisationSettings:
    """The organisation's settings row.

    Found by its key once the session has seen it: from the session's identity map without a query
    while the transaction lasts (an import asks for every row it saves), read again after a commit."""
    known = session.info.get(_SETTINGS_ID)
    if known is not None and (found := session.get(OrganisationSettings, known)) is not None:
        return found
    settings = session.scalars(select(OrganisationSettings).limit(1)).first()
    if settings is None:
        raise NotFound(
            "The organisation is not set up; run `leadflow db upgrade` first.",
            code="organisation_not_set_up",
        )
    session.info[_SETTINGS_ID] = settings.id
    return settings


def read_settings(*, uow: UnitOfWork, actor: Actor) -> OrganisationSettings:
    """The organisation's settings, for those who may read them (Read on settings)."""
    require_admin(actor, "settings", Privilege.READ)
    return get_settings(uow.session)


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
    """Change organisation settings (§6 qualification, duplicate detection, the default time zone);
    needs Write on settings."""
    require_admin(actor, "settings", Privilege.WRITE)
    if "default_time_zone" in changes:
        changes = {
            **changes,
            "default_time_zone": checked_time_zone(
                changes["default_time_zone"], field="default_time_zone", optional=False
            ),
        }
    settings = get_settings(uow.session)
    check_version(settings, expected_version)
    apply_changes(settings, changes)
    record_action(
        uow.session,
        actor,
        "settings_change",
        table="organisation_settings",
        record_id=settings.id,
        changes=changed_fields(settings),
    )
    uow.flush()
    return settings


def time_zone_of(actor: Actor, *, session: Session) -> ZoneInfo:
    """The time zone the actor reads times in: their own, else the organisation's default, else UTC.

    Pages, the command line and exports show moments in it; the stored moments stay UTC.
    """
    user = session.get(User, actor.user_id)
    organisation = session.scalar(select(OrganisationSettings.default_time_zone).limit(1))
    return resolve_time_zone(user.time_zone if user is not None else None, organisation)
