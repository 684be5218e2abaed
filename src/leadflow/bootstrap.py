"""Open the configured database, migrate it and make sure the organisation exists."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import inspect

from leadflow.config import Settings
from leadflow.migrate import upgrade
from leadflow.organisation.service import ensure_organisation
from leadflow.uow import Database


@dataclass
class Prepared:
    database: Database
    created: bool  # True when this call set up a new organisation


def prepare_database(settings: Settings) -> Prepared:
    """Migrate to the latest schema and create the organisation on a new database."""
    database = Database(settings.database_url)
    was_new = not inspect(database.engine).has_table("organisation_settings")
    upgrade(database.engine)
    with database.unit_of_work() as uow:
        ensure_organisation(uow=uow, base_currency=settings.base_currency)
        uow.commit()
    return Prepared(database=database, created=was_new)
