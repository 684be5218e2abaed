"""The lead list offers bulk qualify and disqualify only to who may change leads: a reader sees the
list without the selection boxes and commands that would end in a refusal."""

from __future__ import annotations

from leadflow.security import service as security
from leadflow.security.privileges import Depth, Privilege
from tests.factories import make_lead


def test_a_reader_gets_the_list_without_bulk_commands(database, actor, web_client_for) -> None:
    make_lead(database, actor)
    with database.unit_of_work() as uow:
        security.create_role("Lead reader", {"leads": {Privilege.READ: Depth.ORGANIZATION}}, uow=uow, actor=actor)
        security.create_user(
            email="reader@example.com",
            full_name="Rita Reader",
            role_names=["Lead reader"],
            business_unit_name=None,
            password="a long enough passphrase 42",
            uow=uow,
            actor=actor,
        )
        uow.commit()
    page = web_client_for("reader@example.com", "a long enough passphrase 42").get("/leads?view=all").text
    assert 'id="lead-table"' in page and "Muebles Ibéricos" in page
    assert 'id="bulk-qualify-button"' not in page and 'name="lead_id"' not in page

    admin_page = web_client_for().get("/leads?view=all").text
    assert 'id="bulk-qualify-button"' in admin_page and 'name="lead_id"' in admin_page
