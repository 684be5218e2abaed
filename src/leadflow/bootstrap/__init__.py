"""Open a database for leadflow: migrate it, load every model, and set up the organisation.

The organisation's first state spans several domains (the root business unit and built-in roles
of security, the currencies and settings of the organisation, the out-of-box duplicate rules), so
it is assembled here, above them all.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from babel.numbers import get_currency_name, get_currency_symbol
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

import leadflow.bootstrap.models  # noqa: F401 - every mapped class, before any table is named by string
from leadflow.core.config import Settings, pool_options
from leadflow.core.db import make_engine
from leadflow.core.migrate import upgrade
from leadflow.core.uow import Database, UnitOfWork
from leadflow.duplicates.rules import ensure_builtin_rules
from leadflow.fields.saved_views import ensure_system_views
from leadflow.organisation.models import Currency, OrganisationSettings
from leadflow.organisation.service import normalise_currency_code
from leadflow.security.models import BusinessUnit
from leadflow.security.service import ensure_builtin_roles

# Currencies enabled in a new organisation besides the base currency.
STARTER_CURRENCIES = ("EUR", "USD", "GBP", "MXN")


@dataclass
class Prepared:
    database: Database
    created: bool  # True when this call set up a new organisation


def prepare_database(settings: Settings) -> Prepared:
    """Migrate to the latest schema and create the organisation on a new database."""
    database = Database(settings.database_url, engine=make_engine(settings.database_url, **pool_options(settings)))
    was_new = not inspect(database.engine).has_table("organisation_settings")
    upgrade(database.engine)
    with database.unit_of_work() as uow:
        ensure_organisation(uow=uow, base_currency=settings.base_currency)
        uow.commit()
    return Prepared(database=database, created=was_new)


def ensure_organisation(*, uow: UnitOfWork, base_currency: str) -> OrganisationSettings:
    """Create the root business unit, built-in roles, currencies and settings if missing (idempotent).

    The first administrator is created by `leadflow init` (or by the demo data).
    """
    session = uow.session
    ensure_builtin_roles(session)
    ensure_system_views(session)
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
    """The out-of-box duplicate detection rules, published, once per organisation (§9).

    Once only: an organisation keeps the rules its administrators left it, and one set up by an
    earlier version is not given the out-of-box rules added since (the similar names and the
    leads' business phone): published at startup, they would change which records its users are
    warned about without an administrator choosing it, code every record inside the startup
    transaction, and could take a table past its five published rules. Its administrator can
    create them on the rules page (their definitions are ``BUILTIN_RULES``). A demo database of an
    earlier version already has them, as the demo's own rules under the same names.
    """
    if settings.builtin_duplicate_rules_created:
        return
    ensure_builtin_rules(session, default_region=settings.default_phone_region or "ES")
    settings.builtin_duplicate_rules_created = True
    session.flush()
