"""The organisation always keeps an active System Administrator: the last one can be neither
deactivated nor stripped of the role, by anybody."""

from __future__ import annotations

import threading
import uuid
from unittest.mock import patch

import pytest

from leadflow.core.errors import InvalidState
from leadflow.core.uow import Database
from leadflow.security import common as security_common
from leadflow.security import service as security
from leadflow.security.actor import Actor, actor_for_email
from leadflow.security.models import User
from leadflow.security.privileges import Depth, Privilege


def user_manager(database: Database, actor: Actor) -> Actor:
    """A user who may change users (and nothing else): not an administrator."""
    with database.unit_of_work() as uow:
        security.create_role(
            "User manager",
            {"users": {Privilege.READ: Depth.ORGANIZATION, Privilege.WRITE: Depth.ORGANIZATION}},
            uow=uow,
            actor=actor,
        )
        security.create_user(
            email="uma@example.com",
            full_name="Uma",
            role_names=["User manager"],
            business_unit_name=None,
            password=None,
            uow=uow,
            actor=actor,
        )
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        return actor_for_email(uow.session, "uma@example.com")


def is_active(database: Database, user_id: uuid.UUID) -> bool:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.get(User, user_id).is_active


def deactivate(database: Database, user_id: uuid.UUID, actor: Actor) -> None:
    with database.unit_of_work() as uow:
        security.deactivate_user(user_id, uow=uow, actor=actor)
        uow.commit()


def test_the_last_active_administrator_cannot_be_deactivated(database: Database, actor: Actor) -> None:
    manager = user_manager(database, actor)

    with pytest.raises(InvalidState) as refused:
        deactivate(database, actor.user_id, manager)

    assert refused.value.code == "last_administrator"
    assert is_active(database, actor.user_id)


def test_an_administrator_can_be_deactivated_while_another_one_remains(database: Database, actor: Actor) -> None:
    manager = user_manager(database, actor)
    with database.unit_of_work() as uow:
        security.create_user(
            email="second@example.com",
            full_name="Second",
            role_names=["System Administrator"],
            business_unit_name=None,
            password=None,
            uow=uow,
            actor=actor,
        )
        uow.commit()

    deactivate(database, actor.user_id, manager)

    assert not is_active(database, actor.user_id)


def test_the_last_administrator_keeps_the_role(database: Database, actor: Actor) -> None:
    with database.unit_of_work() as uow:
        security.grant_role(actor.user_id, "Salesperson", uow=uow, actor=actor)
        uow.commit()

    with pytest.raises(InvalidState) as refused:
        with database.unit_of_work() as uow:
            security.revoke_role(actor.user_id, "System Administrator", uow=uow, actor=actor)
            uow.commit()

    assert refused.value.code == "last_administrator"
    with database.unit_of_work(read_only=True) as uow:
        assert "System Administrator" in actor_for_email(uow.session, "admin@example.com").role_names


# ---------------------------------------------------------------------------------------------- held through a team


def team_administrator(database: Database, actor: Actor) -> tuple[uuid.UUID, uuid.UUID]:
    """A second administrator who holds the role only through a team: (team, user)."""
    with database.unit_of_work() as uow:
        team = security.create_team("Administrators", business_unit_name=None, uow=uow, actor=actor)
        security.grant_team_role(team.id, "System Administrator", uow=uow, actor=actor)
        user = security.create_user(
            email="tess@example.com",
            full_name="Tess",
            role_names=["Salesperson"],
            business_unit_name=None,
            password=None,
            uow=uow,
            actor=actor,
        )
        security.add_to_team(team.id, user.id, uow=uow, actor=actor)
        uow.commit()
    return team.id, user.id


def refused_and_kept(database: Database, change) -> None:  # type: ignore[no-untyped-def]
    """The change is refused as the last administrator's, and the organisation still has that administrator."""
    with pytest.raises(InvalidState) as refused:
        with database.unit_of_work() as uow:
            change(uow)
            uow.commit()
    assert refused.value.code == "last_administrator"
    with database.unit_of_work(read_only=True) as uow:
        assert "System Administrator" in actor_for_email(uow.session, "tess@example.com").role_names


def test_an_administrator_through_a_team_counts_as_one(database: Database, actor: Actor) -> None:
    team_administrator(database, actor)
    with database.unit_of_work() as uow:
        security.grant_role(actor.user_id, "Salesperson", uow=uow, actor=actor)
        uow.commit()
    # Tess holds the role through her team, so Ada's own may go (the check used to count own roles only).
    with database.unit_of_work() as uow:
        security.revoke_role(actor.user_id, "System Administrator", uow=uow, actor=actor)
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        tess = actor_for_email(uow.session, "tess@example.com")
    deactivate(database, actor.user_id, tess)
    assert not is_active(database, actor.user_id)


@pytest.mark.parametrize("way", ["deactivate", "leave the team", "the team loses the role"])
def test_the_last_administrator_through_a_team_keeps_it_every_way(database: Database, actor: Actor, way: str) -> None:
    team_id, tess_id = team_administrator(database, actor)
    with database.unit_of_work() as uow:
        security.grant_role(actor.user_id, "Salesperson", uow=uow, actor=actor)
        security.revoke_role(actor.user_id, "System Administrator", uow=uow, actor=actor)
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        tess = actor_for_email(uow.session, "tess@example.com")
    manager = user_manager(database, tess)
    changes = {
        "deactivate": lambda uow: security.deactivate_user(tess_id, uow=uow, actor=manager),
        "leave the team": lambda uow: security.remove_from_team(team_id, tess_id, uow=uow, actor=manager),
        "the team loses the role": lambda uow: security.revoke_team_role(
            team_id, "System Administrator", uow=uow, actor=tess
        ),
    }
    refused_and_kept(database, changes[way])
    assert is_active(database, tess_id)


# ---------------------------------------------------------------------------------------------- at the same instant


def test_two_administrators_deactivated_at_once_leave_one(database: Database, actor: Actor) -> None:
    """Each deactivation counts the administrators after its own change; both count at the same moment
    here (a barrier inside the count), so without the lock each would see the other still active."""
    manager = user_manager(database, actor)
    with database.unit_of_work() as uow:
        second = security.create_user(
            email="second@example.com",
            full_name="Second",
            role_names=["System Administrator"],
            business_unit_name=None,
            password=None,
            uow=uow,
            actor=actor,
        )
        uow.commit()
    counting = threading.Barrier(2)
    count = security_common._administrators

    def counted_together(session):  # type: ignore[no-untyped-def]
        try:
            counting.wait(timeout=2)  # the other one may be waiting for the lock instead: go on alone
        except threading.BrokenBarrierError:
            pass
        return count(session)

    outcomes: list[object] = [None, None]

    def deactivate_in_thread(index: int, user_id: uuid.UUID) -> None:
        try:
            deactivate(database, user_id, manager)
            outcomes[index] = "deactivated"
        except InvalidState as refused:
            outcomes[index] = refused.code

    with patch.object(security_common, "_administrators", counted_together):
        threads = [
            threading.Thread(target=deactivate_in_thread, args=(index, user_id))
            for index, user_id in enumerate((actor.user_id, second.id))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    assert sorted(map(str, outcomes)) == ["deactivated", "last_administrator"]
    assert is_active(database, actor.user_id) != is_active(database, second.id)
