"""What a user cannot reach stays out of sight, whatever the way in.

* A record one may not read answers 404 exactly like an id that names nothing; 403 (naming the
  missing privilege) is for a record one can read but not change.
* Every lookup a request sets (a lead's parent account or contact, qualify's customer) needs Read
  and Append To on the record it names; one that cannot be read is answered like one that does
  not exist.
* The audit log shows a reader only as far as their access level on it reaches.
* A token records when it was last used.

The organisation: the administrator at the root; Ventas (Ana, a salesperson; Rosa, read-only) and
Sales UK (Bob, a salesperson) under it.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadflow.asgi import create_app
from leadflow.core.config import Settings
from leadflow.core.errors import Forbidden
from leadflow.core.schemas import parse
from leadflow.core.uow import Database
from leadflow.customers import service as customers
from leadflow.customers.models import Contact
from leadflow.customers.schemas import AccountCreate
from leadflow.leads import service as leads
from leadflow.leads.models import Lead, LeadState
from leadflow.leads.schemas import QualifyOptions
from leadflow.opportunities.models import Opportunity
from leadflow.security import service as security
from leadflow.security.actor import actor_for_email, default_actor
from leadflow.security.models import AccessToken
from leadflow.security.privileges import Depth, Privilege
from tests.conftest import ADMIN_EMAIL, app_for, bearer_headers
from tests.factories import lead_data, make_lead

ANA, ROSA, BOB = "ana@example.com", "rosa@example.com", "bob@example.com"
API = "/api/v1"


@pytest.fixture
def people(database: Database) -> Database:
    with database.unit_of_work() as uow:
        admin = default_actor(uow.session)
        for unit in ("Ventas", "Sales UK"):
            security.create_business_unit(unit, parent_name=None, uow=uow, actor=admin)
        for email, role, unit in (
            (ANA, "Salesperson", "Ventas"),
            (ROSA, "Sales Team Member", "Ventas"),
            (BOB, "Salesperson", "Sales UK"),
        ):
            security.create_user(
                email=email,
                full_name=email.split("@")[0].title(),
                role_names=[role],
                business_unit_name=unit,
                password=None,
                uow=uow,
                actor=admin,
            )
        uow.commit()
    return database


def client_of(database: Database, email: str) -> TestClient:
    return TestClient(app_for(database, Settings(database_url=database.url)), headers=bearer_headers(database, email))


def as_actor(database: Database, email: str) -> Any:
    with database.unit_of_work(read_only=True) as uow:
        return actor_for_email(uow.session, email)


def account_of(database: Database, email: str) -> uuid.UUID:
    with database.unit_of_work() as uow:
        account = customers.create_account(
            parse(AccountCreate, {"name": f"Cuenta {uuid.uuid4().hex[:8]}"}), uow=uow, actor=as_actor(database, email)
        )
        uow.commit()
    return account.id


def _without_ids(body: dict[str, Any], *ids: object) -> str:
    text = str(body)
    for value in ids:
        text = text.replace(str(value), "ID")
    return text


def test_a_record_one_may_not_read_answers_like_one_that_does_not_exist(people: Database) -> None:
    theirs = make_lead(people, as_actor(people, ANA)).id
    nobody = uuid.uuid4()
    with client_of(people, BOB) as bob:
        for method, suffix, body in (
            ("GET", "", None),
            ("PATCH", "", {"topic": "Mine now"}),
            ("DELETE", "", None),
            ("POST", "/qualify", {}),
            ("GET", "/notes", None),
            ("GET", "/timeline", None),
        ):
            foreign = bob.request(method, f"{API}/leads/{theirs}{suffix}", json=body)
            unknown = bob.request(method, f"{API}/leads/{nobody}{suffix}", json=body)
            assert foreign.status_code == unknown.status_code == 404, (method, suffix, foreign.text)
            assert _without_ids(foreign.json(), theirs) == _without_ids(unknown.json(), nobody)


def test_a_record_one_can_read_but_not_change_is_a_403_naming_the_privilege(people: Database) -> None:
    lead = make_lead(people, as_actor(people, ANA)).id
    with client_of(people, ROSA) as rosa:
        assert rosa.get(f"{API}/leads/{lead}").status_code == 200
        refused = rosa.patch(f"{API}/leads/{lead}", json={"topic": "Changed"})
    assert refused.status_code == 403
    assert refused.json()["error"]["details"]["privilege"] == "write"


def test_adding_a_note_needs_append_to_on_the_record(people: Database) -> None:
    lead = make_lead(people, as_actor(people, ANA)).id
    with client_of(people, ROSA) as rosa:  # reads Ana's lead, appends to nothing
        assert rosa.get(f"{API}/leads/{lead}").status_code == 200
        refused = rosa.post(
            f"{API}/leads/{lead}/notes", data={"title": "Called"}, files={"file": ("offer.txt", b"offer", "text/plain")}
        )
        notes = rosa.get(f"{API}/leads/{lead}/notes").json()["items"]
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["details"]["privilege"] == "append_to"
    assert notes == []


def test_a_lead_cannot_name_a_parent_account_its_creator_may_not_read(people: Database) -> None:
    ventas_account = account_of(people, ANA)
    with client_of(people, BOB) as bob:
        foreign = bob.post(f"{API}/leads", json={**lead_data(), "parent_account_id": str(ventas_account)})
        unknown = bob.post(f"{API}/leads", json={**lead_data(), "parent_account_id": str(uuid.uuid4())})
        assert foreign.status_code == unknown.status_code == 422
        assert foreign.json()["error"]["code"] == unknown.json()["error"]["code"] == "parent_account_id_not_found"
        own = bob.post(f"{API}/leads", json=lead_data()).json()
        changed = bob.patch(f"{API}/leads/{own['id']}", json={"parent_account_id": str(ventas_account)})
        assert changed.status_code == 422
    with client_of(people, ADMIN_EMAIL) as admin:  # nothing of the account leaked into the lead
        assert admin.get(f"{API}/leads/{own['id']}").json()["parent_account_id"] is None


def test_linking_needs_append_to_on_the_record_linked(people: Database) -> None:
    with people.unit_of_work() as uow:
        admin = default_actor(uow.session)
        reader_of_accounts = {
            "leads": {Privilege.CREATE: Depth.USER, Privilege.READ: Depth.USER, Privilege.WRITE: Depth.USER},
            "accounts": {Privilege.READ: Depth.BUSINESS_UNIT},
        }
        security.create_role("Lead writer", reader_of_accounts, uow=uow, actor=admin)
        security.create_user(
            email="lina@example.com",
            full_name="Lina",
            role_names=["Lead writer"],
            business_unit_name="Ventas",
            password=None,
            uow=uow,
            actor=admin,
        )
        uow.commit()
    account = account_of(people, ANA)
    with client_of(people, "lina@example.com") as lina:
        assert lina.get(f"{API}/accounts/{account}").status_code == 200
        refused = lina.post(f"{API}/leads", json={**lead_data(), "parent_account_id": str(account)})
    assert refused.status_code == 403
    assert refused.json()["error"]["details"]["privilege"] == "append_to"


def test_naming_an_opportunitys_customer_needs_append_to_on_it(people: Database) -> None:
    with people.unit_of_work() as uow:
        admin = default_actor(uow.session)
        seller_of_opportunities = {
            "opportunities": {Privilege.CREATE: Depth.USER, Privilege.READ: Depth.USER, Privilege.WRITE: Depth.USER},
            "leads": {Privilege.CREATE: Depth.USER, Privilege.READ: Depth.USER, Privilege.WRITE: Depth.USER},
            "accounts": {Privilege.READ: Depth.BUSINESS_UNIT},
        }
        security.create_role("Opportunity writer", seller_of_opportunities, uow=uow, actor=admin)
        security.create_user(
            email="olivia@example.com",
            full_name="Olivia",
            role_names=["Opportunity writer"],
            business_unit_name="Ventas",
            password=None,
            uow=uow,
            actor=admin,
        )
        uow.commit()
    account = account_of(people, ANA)
    with client_of(people, "olivia@example.com") as olivia:
        assert olivia.get(f"{API}/accounts/{account}").status_code == 200
        created = olivia.post(f"{API}/opportunities", json={"name": "Sillas", "customer_id": str(account)})
        lead = olivia.post(f"{API}/leads", json=lead_data()).json()
        qualified = olivia.post(
            f"{API}/leads/{lead['id']}/qualify",
            json={
                "create_account": False,
                "create_contact": False,
                "create_opportunity": True,
                "opportunity_customer_id": str(account),
            },
        )
        listed = olivia.get(f"{API}/opportunities").json()["items"]
        state = olivia.get(f"{API}/leads/{lead['id']}").json()["state"]
    for refused in (created, qualified):
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["details"]["privilege"] == "append_to"
    assert listed == [] and state == "open"


# A role that qualifies its own leads into a contact and an opportunity, linking the account the lead names.
QUALIFIER = {
    "leads": {
        Privilege.CREATE: Depth.USER,
        Privilege.READ: Depth.USER,
        Privilege.WRITE: Depth.USER,
        Privilege.APPEND: Depth.USER,
    },
    "accounts": {Privilege.READ: Depth.BUSINESS_UNIT, Privilege.APPEND_TO: Depth.BUSINESS_UNIT},
    "contacts": {Privilege.CREATE: Depth.USER, Privilege.READ: Depth.USER},
    "opportunities": {Privilege.CREATE: Depth.USER, Privilege.READ: Depth.USER},
}


def _lead_of_a_qualifier(
    people: Database, matrix: dict[str, dict[Privilege, Depth]]
) -> tuple[Any, uuid.UUID, uuid.UUID]:
    """A user holding only ``matrix``, and a lead of theirs whose parent account is a colleague's account."""
    with people.unit_of_work() as uow:
        admin = default_actor(uow.session)
        security.create_role("Qualifier", matrix, uow=uow, actor=admin)
        user = security.create_user(
            email="quinn@example.com",
            full_name="Quinn",
            role_names=["Qualifier"],
            business_unit_name="Ventas",
            password=None,
            uow=uow,
            actor=admin,
        )
        uow.commit()
    account = account_of(people, ANA)
    lead = make_lead(people, as_actor(people, ADMIN_EMAIL), owner_user_id=str(user.id), parent_account_id=str(account))
    return as_actor(people, "quinn@example.com"), lead.id, account


def _qualify_into_contact_and_opportunity(people: Database, actor: Any, lead_id: uuid.UUID) -> Any:
    with people.unit_of_work() as uow:
        options = QualifyOptions(create_account=False, create_contact=True, create_opportunity=True)
        result = leads.qualify_lead(lead_id, options, uow=uow, actor=actor)
        uow.commit()
    return result


def test_qualifying_links_the_leads_account_when_the_role_holds_append_and_append_to(people: Database) -> None:
    actor, lead_id, account = _lead_of_a_qualifier(people, QUALIFIER)
    result = _qualify_into_contact_and_opportunity(people, actor, lead_id)
    with people.unit_of_work(read_only=True) as uow:
        assert uow.session.get(Contact, result.contact_id).account_id == account
        assert uow.session.get(Lead, lead_id).state is LeadState.QUALIFIED


@pytest.mark.parametrize(("table", "privilege"), [("leads", Privilege.APPEND), ("accounts", Privilege.APPEND_TO)])
def test_qualifying_into_the_leads_account_needs_append_on_the_lead_and_append_to_on_the_account(
    people: Database, table: str, privilege: Privilege
) -> None:
    matrix = {name: dict(row) for name, row in QUALIFIER.items()}
    del matrix[table][privilege]
    actor, lead_id, _account = _lead_of_a_qualifier(people, matrix)

    with pytest.raises(Forbidden) as refused:
        _qualify_into_contact_and_opportunity(people, actor, lead_id)

    assert (refused.value.details["privilege"], refused.value.details["table"]) == (privilege.value, table)
    with people.unit_of_work(read_only=True) as uow:
        assert uow.session.get(Lead, lead_id).state is LeadState.OPEN
        assert uow.session.scalars(select(Contact.id)).all() == []
        assert uow.session.scalars(select(Opportunity.id)).all() == []


def test_qualify_cannot_give_the_opportunity_a_customer_of_another_unit(people: Database) -> None:
    ventas_account = account_of(people, ANA)
    with client_of(people, BOB) as bob:
        lead = bob.post(f"{API}/leads", json=lead_data()).json()
        refused = bob.post(f"{API}/leads/{lead['id']}/qualify", json={"opportunity_customer_id": str(ventas_account)})
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == "opportunity_customer_id_not_found"
        assert bob.get(f"{API}/leads/{lead['id']}").json()["state"] == "open"


def test_the_audit_log_shows_a_reader_only_as_far_as_their_level_reaches(people: Database) -> None:
    with people.unit_of_work() as uow:
        admin = default_actor(uow.session)
        security.create_role("Unit auditor", {"audit": {Privilege.READ: Depth.BUSINESS_UNIT}}, uow=uow, actor=admin)
        security.create_user(
            email="aida@example.com",
            full_name="Aida",
            role_names=["Unit auditor"],
            business_unit_name="Ventas",
            password=None,
            uow=uow,
            actor=admin,
        )
        uow.commit()
    ventas_lead = make_lead(people, as_actor(people, ANA)).id
    uk_lead = make_lead(people, as_actor(people, BOB)).id
    with client_of(people, "aida@example.com") as aida:
        seen = {entry["record_id"] for entry in aida.get(f"{API}/audit?limit=1000").json()["items"]}
    assert str(ventas_lead) in seen and str(uk_lead) not in seen
    with client_of(people, ADMIN_EMAIL) as admin_client:
        everything = {entry["record_id"] for entry in admin_client.get(f"{API}/audit?limit=1000").json()["items"]}
    assert {str(ventas_lead), str(uk_lead)} <= everything


def test_a_token_records_when_it_was_last_used(people: Database) -> None:
    headers = bearer_headers(people, ANA)
    with people.unit_of_work(read_only=True) as uow:
        assert uow.session.scalars(select(AccessToken.last_used_at)).all() == [None]
    with TestClient(create_app(people, Settings(database_url=people.url)), headers=headers) as ana:
        assert ana.get(f"{API}/me").status_code == 200
    with people.unit_of_work(read_only=True) as uow:
        (used,) = uow.session.scalars(select(AccessToken.last_used_at)).all()
    assert used is not None
