"""Teams own records together: a member acts for the team (§8)."""

import pytest
from sqlalchemy import update

from leadflow.core.errors import Forbidden
from leadflow.leads import service
from leadflow.leads.models import Lead
from leadflow.leads.schemas import LeadUpdate
from leadflow.security.actor import actor_for_email
from leadflow.security.service import add_team_member, create_team, create_user
from tests.factories import make_lead


def test_a_salesperson_may_edit_a_lead_owned_by_their_team(database, actor):
    with database.unit_of_work() as uow:
        create_user(
            email="ana@example.com",
            full_name="Ana",
            role_names=["Salesperson"],
            business_unit_name=None,
            password=None,
            uow=uow,
            actor=actor,
        )
        team = create_team("Key accounts", business_unit_name=None, uow=uow, actor=actor)
        uow.commit()
    lead = make_lead(database, actor)
    with database.unit_of_work() as uow:
        uow.session.execute(update(Lead).where(Lead.id == lead.id).values(owner_user_id=None, owner_team_id=team.id))
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        outsider = actor_for_email(uow.session, "ana@example.com")
    with database.unit_of_work() as uow, pytest.raises(Forbidden):  # not in the team yet: User level misses it
        service.update_lead(lead.id, LeadUpdate(topic="Renewal"), uow=uow, actor=outsider)
    with database.unit_of_work() as uow:
        add_team_member("Key accounts", "ana@example.com", uow=uow, actor=actor)
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        member = actor_for_email(uow.session, "ana@example.com")
    assert team.id in member.team_ids
    with database.unit_of_work() as uow:
        changed = service.update_lead(lead.id, LeadUpdate(topic="Renewal"), uow=uow, actor=member)
        uow.commit()
    assert changed.topic == "Renewal"
