"""Sharing a record grants exactly the rights shared, to a user or to every member of a team (§8).

The organisation: Bob, a salesperson of Sales UK, owns the lead; Ana and Carl, salespeople of
Ventas, cannot reach it by their roles (Business Unit read, User write); Ana is in the team
"Key accounts", Carl is not.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from leadflow.core.errors import Forbidden, NotFound
from leadflow.core.uow import Database
from leadflow.leads import service as leads
from leadflow.leads.models import Lead
from leadflow.leads.schemas import LeadUpdate
from leadflow.leads.views import LeadQuery, LeadView, list_leads
from leadflow.security import service as security
from leadflow.security.actor import Actor, actor_for_email, default_actor
from leadflow.security.models import RecordShare, Team
from tests.factories import make_lead

ANA, BOB, CARL = "ana@example.com", "bob@example.com", "carl@example.com"


@pytest.fixture
def people(database: Database) -> Database:
    with database.unit_of_work() as uow:
        admin = default_actor(uow.session)
        for unit in ("Ventas", "Sales UK"):
            security.create_business_unit(unit, parent_name=None, uow=uow, actor=admin)
        for email, unit in ((ANA, "Ventas"), (BOB, "Sales UK"), (CARL, "Ventas")):
            security.create_user(
                email=email,
                full_name=email.split("@")[0].title(),
                role_names=["Salesperson"],
                business_unit_name=unit,
                password=None,
                uow=uow,
                actor=admin,
            )
        security.create_team("Key accounts", business_unit_name="Ventas", uow=uow, actor=admin)
        uow.commit()
    with database.unit_of_work() as uow:
        security.add_team_member("Key accounts", ANA, uow=uow, actor=default_actor(uow.session))
        uow.commit()
    return database


def actor_of(database: Database, email: str) -> Actor:
    with database.unit_of_work(read_only=True) as uow:
        return actor_for_email(uow.session, email)


def bobs_lead(database: Database) -> uuid.UUID:
    return make_lead(database, actor_of(database, BOB)).id


def share(
    database: Database, lead_id: uuid.UUID, rights: set[str], *, email: str | None = None, team: str | None = None
) -> None:
    with database.unit_of_work() as uow:
        admin = default_actor(uow.session)
        user_id = actor_of(database, email).user_id if email else None
        team_id = uow.session.scalars(select(Team.id).where(Team.name == team)).one() if team else None
        security.share_record(
            "leads",
            uow.session.get(Lead, lead_id),
            user_id=user_id,
            team_id=team_id,
            rights=rights,
            uow=uow,
            actor=admin,
        )
        uow.commit()


def can_read(database: Database, email: str, lead_id: uuid.UUID) -> bool:
    """Whether the user reads the lead, asked both ways (one record, and the list), which must agree."""
    actor = actor_of(database, email)
    with database.unit_of_work(read_only=True) as uow:
        listed = lead_id in {
            lead.id for lead in list_leads(LeadQuery(view=LeadView.ALL, limit=500), uow=uow, actor=actor).items
        }
        try:
            leads.get_lead(lead_id, uow=uow, actor=actor)
            found = True
        except NotFound:
            found = False
    assert listed == found, "the list and the record disagree"
    return found


def write(database: Database, email: str, lead_id: uuid.UUID) -> None:
    with database.unit_of_work() as uow:
        leads.update_lead(lead_id, LeadUpdate(topic=f"Changed by {email}"), uow=uow, actor=actor_of(database, email))
        uow.commit()


def test_without_a_share_the_lead_is_out_of_reach(people: Database) -> None:
    lead_id = bobs_lead(people)
    assert not can_read(people, ANA, lead_id)


def test_a_read_share_lets_the_user_read_but_not_change(people: Database) -> None:
    lead_id = bobs_lead(people)
    share(people, lead_id, {"read"}, email=ANA)

    assert can_read(people, ANA, lead_id)
    with pytest.raises(Forbidden) as refused:
        write(people, ANA, lead_id)
    assert refused.value.details["privilege"] == "write"
    assert not can_read(people, CARL, lead_id)


def test_a_write_share_lets_the_user_change_and_so_read(people: Database) -> None:
    lead_id = bobs_lead(people)
    share(people, lead_id, {"write"}, email=ANA)

    assert can_read(people, ANA, lead_id)
    write(people, ANA, lead_id)
    with people.unit_of_work(read_only=True) as uow:
        assert uow.session.get(Lead, lead_id).topic == f"Changed by {ANA}"


def test_a_share_with_a_team_reaches_its_members_only(people: Database) -> None:
    lead_id = bobs_lead(people)
    share(people, lead_id, {"read", "write"}, team="Key accounts")

    assert can_read(people, ANA, lead_id)
    write(people, ANA, lead_id)
    assert not can_read(people, CARL, lead_id)
    with pytest.raises(NotFound):
        write(people, CARL, lead_id)


def test_sharing_no_rights_takes_the_share_back(people: Database) -> None:
    lead_id = bobs_lead(people)
    share(people, lead_id, {"read"}, email=ANA)
    share(people, lead_id, set(), email=ANA)

    assert not can_read(people, ANA, lead_id)
    with people.unit_of_work(read_only=True) as uow:
        assert uow.session.scalars(select(RecordShare)).all() == []


def test_deleting_a_lead_takes_its_shares_with_it(people: Database) -> None:
    lead_id = bobs_lead(people)
    share(people, lead_id, {"read"}, email=ANA)
    share(people, lead_id, {"read"}, team="Key accounts")

    with people.unit_of_work() as uow:
        leads.delete_lead(lead_id, uow=uow, actor=actor_of(people, BOB))
        uow.commit()

    with people.unit_of_work(read_only=True) as uow:
        assert uow.session.scalars(select(RecordShare).where(RecordShare.record_id == lead_id)).all() == []
