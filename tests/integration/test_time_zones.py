"""Time zones stored and checked on each backend: the organisation's default, each user's own, the zone
an actor reads times in, the demo organisation's, and migration 0007 up and down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text, update

from leadflow.bootstrap import prepare_database
from leadflow.core import migrate
from leadflow.core.config import Settings
from leadflow.core.db import make_engine
from leadflow.core.errors import Forbidden, ValidationFailed
from leadflow.core.uow import Database
from leadflow.demo import load_demo
from leadflow.organisation.models import OrganisationSettings
from leadflow.organisation.service import get_settings, time_zone_of, update_settings
from leadflow.security.actor import Actor, actor_for_email, default_actor
from leadflow.security.audit import AuditEntry
from leadflow.security.models import User
from leadflow.security.service import create_user, set_time_zone
from tests.conftest import (
    ADMIN_EMAIL,
    BACKENDS,
    _create_postgres_database,
    _drop_postgres_database,
    _postgres_available,
    _postgres_problem,
)

SELLER = "seller@example.com"
MADRID, NEW_YORK = "Europe/Madrid", "America/New_York"


@pytest.fixture
def seller(database: Database) -> Actor:
    with database.unit_of_work() as uow:
        create_user(
            email=SELLER,
            full_name="Sam Seller",
            role_names=["Salesperson"],
            business_unit_name=None,
            password=None,
            uow=uow,
            actor=None,
        )
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        return actor_for_email(uow.session, SELLER)


def zone_of(database: Database, actor: Actor) -> str:
    with database.unit_of_work(read_only=True) as uow:
        return time_zone_of(actor, session=uow.session).key


def stored(database: Database) -> tuple[str, int, dict[str, str | None]]:
    """The organisation's default time zone, the settings' version, and every user's own zone."""
    with database.unit_of_work(read_only=True) as uow:
        settings = get_settings(uow.session)
        users = dict(uow.session.execute(select(User.email, User.time_zone)).all())
        return settings.default_time_zone, settings.row_version, users


def set_default(database: Database, actor: Actor, zone: object) -> None:
    with database.unit_of_work() as uow:
        update_settings({"default_time_zone": zone}, uow=uow, actor=actor)
        uow.commit()


def set_own(database: Database, actor: Actor, email: str, zone: str | None) -> None:
    with database.unit_of_work() as uow:
        user_id = actor_for_email(uow.session, email).user_id
        set_time_zone(user_id, zone, uow=uow, actor=actor)
        uow.commit()


def time_zone_audit(database: Database) -> list[dict]:
    with database.unit_of_work(read_only=True) as uow:
        return [
            changes["time_zone"]
            for changes in uow.session.scalars(select(AuditEntry.changes).order_by(AuditEntry.occurred_at))
            if changes and "time_zone" in changes
        ]


# ---------------------------------------------------------------------------------------------- the organisation


def test_a_new_organisation_starts_on_utc_and_so_do_its_users(database: Database, actor: Actor, seller: Actor) -> None:
    assert stored(database)[0] == "UTC"
    assert zone_of(database, actor) == zone_of(database, seller) == "UTC"


def test_the_organisations_default_is_stored_in_its_iana_spelling_and_read_by_every_user_without_one(
    database: Database, actor: Actor, seller: Actor
) -> None:
    set_default(database, actor, "america/new_york")
    assert stored(database)[0] == NEW_YORK
    assert zone_of(database, actor) == zone_of(database, seller) == NEW_YORK
    with database.unit_of_work(read_only=True) as uow:
        changes = uow.session.scalars(select(AuditEntry.changes).where(AuditEntry.action == "settings_change")).one()
    assert changes == {"default_time_zone": {"old": "UTC", "new": NEW_YORK}}


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", None, "../../etc/passwd", 3])
def test_an_unknown_default_is_refused_and_nothing_changes(database: Database, actor: Actor, zone: object) -> None:
    before = stored(database)
    with pytest.raises(ValidationFailed) as refused:
        set_default(database, actor, zone)
    assert refused.value.code == "unknown_time_zone"
    assert refused.value.details["fields"][0]["field"] == "default_time_zone"
    assert stored(database) == before


def test_only_who_may_write_settings_changes_the_default(database: Database, seller: Actor) -> None:
    before = stored(database)
    with pytest.raises(Forbidden):
        set_default(database, seller, MADRID)
    assert stored(database) == before


# ---------------------------------------------------------------------------------------------- each user


def test_a_users_own_zone_wins_and_cleared_it_follows_the_organisation(
    database: Database, actor: Actor, seller: Actor
) -> None:
    set_default(database, actor, MADRID)
    set_own(database, seller, SELLER, "America/New_York")
    assert stored(database)[2][SELLER] == NEW_YORK
    assert (zone_of(database, seller), zone_of(database, actor)) == (NEW_YORK, MADRID)

    set_own(database, seller, SELLER, None)
    assert stored(database)[2][SELLER] is None
    assert zone_of(database, seller) == MADRID
    assert time_zone_audit(database) == [{"old": None, "new": NEW_YORK}, {"old": NEW_YORK, "new": None}]


def test_setting_the_same_zone_again_writes_no_audit_entry(database: Database, seller: Actor) -> None:
    set_own(database, seller, SELLER, MADRID)
    set_own(database, seller, SELLER, "europe/madrid")
    assert time_zone_audit(database) == [{"old": None, "new": MADRID}]


def test_an_unknown_own_zone_is_refused_and_nothing_changes(database: Database, seller: Actor) -> None:
    set_own(database, seller, SELLER, MADRID)
    before = stored(database)
    with pytest.raises(ValidationFailed) as refused:
        set_own(database, seller, SELLER, "Mars/Olympus_Mons")
    assert (refused.value.code, refused.value.details["fields"][0]["field"]) == ("unknown_time_zone", "time_zone")
    assert stored(database) == before


def test_a_salesperson_sets_only_their_own_zone_and_an_administrator_anyones(
    database: Database, actor: Actor, seller: Actor
) -> None:
    with pytest.raises(Forbidden):
        set_own(database, seller, ADMIN_EMAIL, NEW_YORK)
    assert stored(database)[2][ADMIN_EMAIL] is None
    set_own(database, actor, SELLER, NEW_YORK)
    assert stored(database)[2][SELLER] == NEW_YORK


def test_a_user_is_created_with_a_zone_and_an_unknown_one_creates_nobody(database: Database, actor: Actor) -> None:
    with database.unit_of_work() as uow:
        create_user(
            email="ines@example.com",
            full_name="Inés",
            role_names=["Salesperson"],
            business_unit_name=None,
            password=None,
            time_zone="asia/kolkata",
            uow=uow,
            actor=actor,
        )
        uow.commit()
    with pytest.raises(ValidationFailed):
        with database.unit_of_work() as uow:
            create_user(
                email="otto@example.com",
                full_name="Otto",
                role_names=["Salesperson"],
                business_unit_name=None,
                password=None,
                time_zone="Mars/Olympus_Mons",
                uow=uow,
                actor=actor,
            )
            uow.commit()
    users = stored(database)[2]
    assert users["ines@example.com"] == "Asia/Kolkata" and "otto@example.com" not in users


def test_the_longest_iana_name_is_stored_whole(database: Database, actor: Actor) -> None:
    longest = "America/Argentina/ComodRivadavia"
    set_default(database, actor, longest)
    set_own(database, actor, ADMIN_EMAIL, longest)
    assert stored(database)[0] == longest and stored(database)[2][ADMIN_EMAIL] == longest
    assert zone_of(database, actor) == longest


def test_a_stored_zone_the_system_no_longer_knows_falls_back_instead_of_failing(
    database: Database, actor: Actor, seller: Actor
) -> None:
    # As after a time zone database update that retired a name: the row holds it, nothing refuses it.
    with database.engine.begin() as connection:
        connection.execute(update(User).where(User.email == SELLER).values(time_zone="Mars/Olympus_Mons"))
        connection.execute(update(OrganisationSettings).values(default_time_zone=MADRID))
    assert zone_of(database, seller) == MADRID
    with database.engine.begin() as connection:
        connection.execute(update(OrganisationSettings).values(default_time_zone="Atlantis/Capital"))
    assert zone_of(database, seller) == "UTC"


def test_the_demo_organisation_reads_madrid_time_until_an_administrator_chooses_another(
    database: Database, actor: Actor
) -> None:
    load_demo(database)
    assert stored(database)[0] == MADRID
    set_default(database, actor, NEW_YORK)
    load_demo(database)
    assert stored(database)[0] == NEW_YORK


# ---------------------------------------------------------------------------------------------- migration 0007


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a new, empty database of each backend, for this test alone."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'leadflow.db'}"
        return
    if not _postgres_available():
        pytest.skip(f"PostgreSQL not reachable: {_postgres_problem[0]}")
    name, postgres_url = _create_postgres_database()
    try:
        yield postgres_url
    finally:
        _drop_postgres_database(name)


def columns(url: str, table: str) -> set[str]:
    engine = make_engine(url)
    try:
        return {column["name"] for column in inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def scalar(url: str, statement: str) -> object:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(statement)).scalar_one()
    finally:
        engine.dispose()


def test_migration_0007_keeps_an_existing_organisation_on_madrid_time_and_goes_down_and_up_again(url: str) -> None:
    database = prepare_database(Settings(database_url=url)).database
    with database.unit_of_work() as uow:
        create_user(
            email=ADMIN_EMAIL,
            full_name="Ada Admin",
            role_names=["System Administrator"],
            business_unit_name=None,
            password=None,
            time_zone=NEW_YORK,
            uow=uow,
            actor=None,
        )
        uow.commit()
    database.dispose()
    assert scalar(url, "SELECT default_time_zone FROM organisation_settings") == "UTC"  # set up after 0007

    assert migrate.downgrade(url, "0006") == "0006"
    assert "default_time_zone" not in columns(url, "organisation_settings")
    assert "time_zone" not in columns(url, "users")
    assert scalar(url, "SELECT COUNT(*) FROM users") == 1
    assert scalar(url, "SELECT COUNT(*) FROM organisation_settings") == 1

    engine = make_engine(url)
    try:
        migrate.upgrade(engine, "0007")
        assert migrate.current_revision(engine) == "0007"
        # The organisation was there before 0007, when every page showed Madrid time.
        assert scalar(url, "SELECT default_time_zone FROM organisation_settings") == MADRID
        assert scalar(url, "SELECT time_zone FROM users") is None
        migrate.upgrade(engine)
    finally:
        engine.dispose()

    database = Database(url)
    try:
        with database.unit_of_work(read_only=True) as uow:
            admin = default_actor(uow.session)
            assert time_zone_of(admin, session=uow.session).key == MADRID
            assert uow.session.scalar(select(func.count()).select_from(User)) == 1
    finally:
        database.dispose()
