"""The privilege matrix of §8: every built-in role × lead operation × record location.

The expected outcome of each cell is written below by hand (``EXPECTED``), derived from the role
definitions in ``leadflow.security.privileges.BUILTIN_ROLES`` and the meaning of the access levels:

* User                          = records the user owns (or that are shared with them)
* Business Unit                 = records owned in the user's own business unit
* Parent: Child Business Units  = records owned in the user's unit or any unit below it
* Organization                  = every record

The organisation used by every case::

    Organisation (root, the administrator)
    ├── Sales Spain      the actor, a colleague ("unit") and a share grantee
    │   └── Sales Madrid a user ("child")
    └── Sales Mexico     a user ("other": a sibling, not below the actor's unit)

Every case runs on SQLite and PostgreSQL (the ``database`` fixture). When an operation is refused
on a lead the role can read, the service must raise Forbidden naming the missing privilege; on a
lead it cannot even read, NotFound, exactly as for an id that names nothing (so that nobody learns
which ids exist by trying them). Either way it changes nothing: the refused
unit of work is even committed, and the database must still be identical.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from leadflow.activities.models import Attachment, Note
from leadflow.core.errors import Forbidden, NotFound
from leadflow.core.schemas import parse
from leadflow.core.uow import Database
from leadflow.customers import service as customers
from leadflow.customers.models import Account, Contact
from leadflow.customers.schemas import AccountCreate, AccountUpdate, ContactCreate, ContactUpdate
from leadflow.leads import service as leads
from leadflow.leads.models import Lead, LeadState, LeadStatusReason
from leadflow.leads.schemas import LeadCreate, LeadUpdate, QualifyOptions
from leadflow.leads.views import LeadQuery, LeadView, list_leads
from leadflow.opportunities import service as opportunities
from leadflow.opportunities.models import Opportunity
from leadflow.opportunities.schemas import OpportunityCreate, OpportunityUpdate
from leadflow.security import service as security
from leadflow.security.access import get_accessible
from leadflow.security.actor import Actor, default_actor, load_actor
from leadflow.security.audit import AuditEntry
from leadflow.security.models import RecordShare, User
from leadflow.security.privileges import BUILTIN_ROLES, TABLES, Depth, Privilege
from tests.factories import lead_data

ROLES = (
    "System Administrator",
    "System Customizer",
    "Vice President of Sales",
    "Sales Manager",
    "Salesperson",
    "Sales Team Member",
)
OPERATIONS = ("create", "read", "write", "delete", "qualify", "disqualify", "assign", "share")
LOCATIONS = ("own", "unit", "child", "other")

# ------------------------------------------------------------------------------------------------
# THE EXPECTED MATRIX, by hand. "yes" = allowed, "no" = refused (Forbidden, nothing changed).
# Locations: own = owned by the actor; unit = owned by a colleague in the actor's unit (Sales Spain);
# child = owned in Sales Madrid (below Sales Spain); other = owned in Sales Mexico (a sibling unit).
# create: a new lead owned by that location's user (own = the actor); it needs the Create level to
# reach that owner (User: only oneself; Business Unit: one's unit; ...).
# qualify: Write on the lead plus Create on account, contact and opportunity.

EXPECTED_TABLE = """
role                    | operation  | own | unit | child | other
System Administrator    | create     | yes | yes  | yes   | yes
System Administrator    | read       | yes | yes  | yes   | yes
System Administrator    | write      | yes | yes  | yes   | yes
System Administrator    | delete     | yes | yes  | yes   | yes
System Administrator    | qualify    | yes | yes  | yes   | yes
System Administrator    | disqualify | yes | yes  | yes   | yes
System Administrator    | assign     | yes | yes  | yes   | yes
System Administrator    | share      | yes | yes  | yes   | yes
System Customizer       | create     | yes | no   | no    | no
System Customizer       | read       | yes | yes  | yes   | yes
System Customizer       | write      | yes | no   | no    | no
System Customizer       | delete     | yes | no   | no    | no
System Customizer       | qualify    | yes | no   | no    | no
System Customizer       | disqualify | yes | no   | no    | no
System Customizer       | assign     | yes | no   | no    | no
System Customizer       | share      | yes | no   | no    | no
Vice President of Sales | create     | yes | yes  | yes   | yes
Vice President of Sales | read       | yes | yes  | yes   | yes
Vice President of Sales | write      | yes | yes  | yes   | yes
Vice President of Sales | delete     | yes | yes  | yes   | no
Vice President of Sales | qualify    | yes | yes  | yes   | yes
Vice President of Sales | disqualify | yes | yes  | yes   | yes
Vice President of Sales | assign     | yes | yes  | yes   | yes
Vice President of Sales | share      | yes | yes  | yes   | yes
Sales Manager           | create     | yes | yes  | no    | no
Sales Manager           | read       | yes | yes  | yes   | no
Sales Manager           | write      | yes | yes  | yes   | no
Sales Manager           | delete     | yes | yes  | no    | no
Sales Manager           | qualify    | yes | yes  | yes   | no
Sales Manager           | disqualify | yes | yes  | yes   | no
Sales Manager           | assign     | yes | yes  | yes   | no
Sales Manager           | share      | yes | yes  | yes   | no
Salesperson             | create     | yes | no   | no    | no
Salesperson             | read       | yes | yes  | no    | no
Salesperson             | write      | yes | no   | no    | no
Salesperson             | delete     | yes | no   | no    | no
Salesperson             | qualify    | yes | no   | no    | no
Salesperson             | disqualify | yes | no   | no    | no
Salesperson             | assign     | yes | no   | no    | no
Salesperson             | share      | yes | no   | no    | no
Sales Team Member       | create     | no  | no   | no    | no
Sales Team Member       | read       | yes | yes  | no    | no
Sales Team Member       | write      | no  | no   | no    | no
Sales Team Member       | delete     | no  | no   | no    | no
Sales Team Member       | qualify    | no  | no   | no    | no
Sales Team Member       | disqualify | no  | no   | no    | no
Sales Team Member       | assign     | no  | no   | no    | no
Sales Team Member       | share      | no  | no   | no    | no
"""

# The privilege a refusal must name, per operation (create may name Create or Assign: creating a
# record for someone else is also a change of owner).
REFUSAL_PRIVILEGES = {
    "create": {"create", "assign"},
    "read": {"read"},
    "write": {"write"},
    "delete": {"delete"},
    "qualify": {"write"},
    "disqualify": {"write"},
    "assign": {"assign"},
    "share": {"share"},
}


def _parse_expected(table: str) -> dict[tuple[str, str, str], bool]:
    lines = [line for line in table.strip().splitlines()]
    header = [cell.strip() for cell in lines[0].split("|")]
    assert header == ["role", "operation", *LOCATIONS]
    expected: dict[tuple[str, str, str], bool] = {}
    for line in lines[1:]:
        role, operation, *cells = (cell.strip() for cell in line.split("|"))
        assert role in ROLES and operation in OPERATIONS and len(cells) == len(LOCATIONS), line
        for location, cell in zip(LOCATIONS, cells, strict=True):
            assert cell in {"yes", "no"}, line
            assert (role, operation, location) not in expected, f"duplicate row: {line}"
            expected[(role, operation, location)] = cell == "yes"
    return expected


EXPECTED = _parse_expected(EXPECTED_TABLE)


def test_the_expected_table_is_complete():
    assert set(EXPECTED) == {(r, o, place) for r in ROLES for o in OPERATIONS for place in LOCATIONS}
    assert set(ROLES) == set(BUILTIN_ROLES)


# ------------------------------------------------------------------------------------------------
# the organisation of every case


UNITS = (("Sales Spain", None), ("Sales Madrid", "Sales Spain"), ("Sales Mexico", None))


@dataclass(frozen=True)
class World:
    actor: Actor
    owners: dict[str, uuid.UUID]  # location -> the user owning that location's records
    leads: dict[str, uuid.UUID]  # lead name -> id
    colleague_id: uuid.UUID
    grantee_id: uuid.UUID


def build_world(database: Database, role: str, *, extras: bool = False) -> World:
    """Units, users and one lead per location, in one unit of work (no passwords: no argon2 cost)."""
    with database.unit_of_work() as uow:
        session = uow.session
        admin = default_actor(session)
        for name, parent in UNITS:
            security.create_business_unit(name, parent_name=parent, uow=uow, actor=None)

        def user(key: str, roles: list[str], unit: str) -> User:
            return security.create_user(
                email=f"{key}@example.com",
                full_name=key.title(),
                role_names=roles,
                business_unit_name=unit,
                password=None,
                uow=uow,
                actor=None,
            )

        me = user("actor", [role], "Sales Spain")
        colleague = user("colleague", ["Salesperson"], "Sales Spain")
        madrid = user("madrid", ["Salesperson"], "Sales Madrid")
        mexico = user("mexico", ["Salesperson"], "Sales Mexico")
        grantee = user("grantee", ["Sales Team Member"], "Sales Spain")
        owners = {"own": me.id, "unit": colleague.id, "child": madrid.id, "other": mexico.id}

        def lead(owner_id: uuid.UUID) -> uuid.UUID:
            data = LeadCreate.model_validate(lead_data(owner_user_id=str(owner_id)))
            return leads.create_lead(data, uow=uow, actor=admin).id

        lead_ids = {location: lead(owner) for location, owner in owners.items()}
        if extras:
            closed = lead(me.id)
            session.get(Lead, closed).disqualify(LeadStatusReason.LOST, has_opportunity=False)
            lead_ids["own_closed"] = closed
            shared = lead(mexico.id)
            security.share_record(
                "leads", session.get(Lead, shared), user_id=me.id, team_id=None, rights={"read"}, uow=uow, actor=admin
            )
            lead_ids["other_shared"] = shared
            lead_ids["root"] = lead(admin.user_id)
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        actor = load_actor(uow.session, uow.session.get(User, owners["own"]))
    assert actor.role_names == (role,)
    return World(actor=actor, owners=owners, leads=lead_ids, colleague_id=colleague.id, grantee_id=grantee.id)


SNAPSHOT_MODELS = (Lead, Account, Contact, Opportunity, RecordShare, Note, Attachment, AuditEntry, User)


def snapshot(database: Database) -> dict[str, Any]:
    """Every lead's columns, every share, and row counts: equal means nothing changed."""
    with database.unit_of_work(read_only=True) as uow:
        session = uow.session
        return {
            "counts": {m.__tablename__: session.scalar(select(func.count()).select_from(m)) for m in SNAPSHOT_MODELS},
            "leads": {
                lead.id: {c.key: getattr(lead, c.key) for c in Lead.__mapper__.column_attrs}
                for lead in session.scalars(select(Lead))
            },
            "shares": sorted(
                (s.record_id, s.user_id, s.can_read, s.can_write) for s in session.scalars(select(RecordShare))
            ),
        }


# ------------------------------------------------------------------------------------------------
# the operations: each runs the service, and checks its effect when it was allowed


def _new_owner(world: World, location: str) -> uuid.UUID:
    """Assigning one's own lead gives it to the colleague; anyone else's lead is taken by the actor."""
    return world.colleague_id if location == "own" else world.actor.user_id


def op_create(uow, world: World, location: str) -> Any:
    overrides = {} if location == "own" else {"owner_user_id": str(world.owners[location])}
    return leads.create_lead(LeadCreate.model_validate(lead_data(**overrides)), uow=uow, actor=world.actor).id


def op_read(uow, world: World, location: str) -> Any:
    return leads.get_lead(world.leads[location], uow=uow, actor=world.actor).id


def op_write(uow, world: World, location: str) -> Any:
    changes = LeadUpdate.model_validate({"topic": "Changed by the matrix"})
    return leads.update_lead(world.leads[location], changes, uow=uow, actor=world.actor).id


def op_delete(uow, world: World, location: str) -> Any:
    leads.delete_lead(world.leads[location], uow=uow, actor=world.actor)


def op_qualify(uow, world: World, location: str) -> Any:
    options = QualifyOptions(create_account=True, create_contact=True, create_opportunity=True)
    return leads.qualify_lead(world.leads[location], options, uow=uow, actor=world.actor)


def op_disqualify(uow, world: World, location: str) -> Any:
    return leads.disqualify_lead(world.leads[location], LeadStatusReason.LOST, uow=uow, actor=world.actor).id


def op_assign(uow, world: World, location: str) -> Any:
    lead = uow.session.get(Lead, world.leads[location])
    return security.assign_record("leads", lead, _new_owner(world, location), uow=uow, actor=world.actor).id


def op_share(uow, world: World, location: str) -> Any:
    lead = uow.session.get(Lead, world.leads[location])
    return security.share_record(
        "leads", lead, user_id=world.grantee_id, team_id=None, rights={"read", "write"}, uow=uow, actor=world.actor
    )


OPERATION_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "create": op_create,
    "read": op_read,
    "write": op_write,
    "delete": op_delete,
    "qualify": op_qualify,
    "disqualify": op_disqualify,
    "assign": op_assign,
    "share": op_share,
}


def check_effect(
    database: Database, world: World, operation: str, location: str, outcome: Any, before: dict[str, Any]
) -> None:
    """The allowed operation really did what it says."""
    after = snapshot(database)
    counts_before, counts_after = before["counts"], after["counts"]
    lead_id = world.leads[location]
    lead_after = after["leads"].get(lead_id)
    if operation == "create":
        assert counts_after["leads"] == counts_before["leads"] + 1
        created = after["leads"][outcome]
        assert created["owner_user_id"] == world.owners[location]
        assert created["created_by_id"] == world.actor.user_id
    elif operation == "read":
        assert outcome == lead_id
        assert after == before
    elif operation == "write":
        assert lead_after["topic"] == "Changed by the matrix"
        assert lead_after["row_version"] == before["leads"][lead_id]["row_version"] + 1
    elif operation == "delete":
        assert lead_after is None and counts_after["leads"] == counts_before["leads"] - 1
    elif operation == "qualify":
        assert lead_after["state"] is LeadState.QUALIFIED
        for table in ("accounts", "contacts", "opportunities"):
            assert counts_after[table] == counts_before[table] + 1, table
        assert outcome.opportunity_ids and lead_after["qualifying_opportunity_id"] == outcome.opportunity_ids[0]
    elif operation == "disqualify":
        assert lead_after["state"] is LeadState.DISQUALIFIED
        assert lead_after["status_reason"] is LeadStatusReason.LOST
    elif operation == "assign":
        new_owner = _new_owner(world, location)
        assert lead_after["owner_user_id"] == new_owner
        with database.unit_of_work(read_only=True) as uow:
            unit = uow.session.get(User, new_owner).business_unit_id
        assert lead_after["owning_business_unit_id"] == unit
    elif operation == "share":
        assert (lead_id, world.grantee_id, True, True) in after["shares"]
    else:  # pragma: no cover
        raise AssertionError(operation)
    if operation != "read":
        assert counts_after["audit_entries"] > counts_before["audit_entries"], "an allowed change is audited"


CASES = [
    pytest.param(role, operation, location, id=f"{role}-{operation}-{location}".replace(" ", "_"))
    for role in ROLES
    for operation in OPERATIONS
    for location in LOCATIONS
]


@pytest.mark.parametrize(("role", "operation", "location"), CASES)
def test_privilege_matrix(database: Database, role: str, operation: str, location: str) -> None:
    world = build_world(database, role)
    before = snapshot(database)
    allowed = EXPECTED[(role, operation, location)]
    run = OPERATION_FUNCTIONS[operation]

    with database.unit_of_work() as uow:
        try:
            outcome = run(uow, world, location)
        except (Forbidden, NotFound) as refusal:
            error: Forbidden | NotFound | None = refusal
        else:
            error = None
        # Commit even after a refusal: a refused service must not have changed anything at all.
        uow.commit()

    if allowed:
        assert error is None, f"{role} should be allowed to {operation} a lead ({location}), got: {error}"
        check_effect(database, world, operation, location, outcome, before)
    else:
        assert error is not None, f"{role} should be refused to {operation} a lead ({location}), but it was allowed"
        if operation != "create" and not EXPECTED[(role, "read", location)]:
            assert isinstance(error, NotFound) and error.code == "lead_not_found", error
            assert snapshot(database) == before, "a refused operation changed the database"
            return
        assert error.code == "forbidden"
        assert error.details["privilege"] in REFUSAL_PRIVILEGES[operation], error.details
        assert error.details["table"] == "leads"
        assert error.details["privilege"].replace("_", " ") in error.message.lower()
        assert snapshot(database) == before, "a refused operation changed the database"


# ------------------------------------------------------------------------------------------------
# list filtering: the views return exactly what the role may read, filtered in SQL

# Leads of the list world: the four locations plus a closed lead of the actor, a Mexico lead
# shared with the actor (read), and a lead of the administrator in the root unit (above the actor).
ALL_LEADS = {"own", "own_closed", "unit", "child", "other", "other_shared", "root"}
READABLE = {
    "System Administrator": ALL_LEADS,
    "System Customizer": ALL_LEADS,
    "Vice President of Sales": ALL_LEADS,
    "Sales Manager": {"own", "own_closed", "unit", "child", "other_shared"},
    "Salesperson": {"own", "own_closed", "unit", "other_shared"},
    "Sales Team Member": {"own", "own_closed", "unit", "other_shared"},
}


def _names(world: World, items: list[Lead]) -> set[str]:
    by_id = {lead_id: name for name, lead_id in world.leads.items()}
    names = [by_id.get(item.id, f"unknown {item.id}") for item in items]
    assert len(names) == len(set(names)), "a lead is listed twice"
    return set(names)


@pytest.mark.parametrize("role", ROLES)
def test_list_views_return_exactly_what_the_role_may_read(database: Database, role: str) -> None:
    world = build_world(database, role, extras=True)
    assert set(world.leads) == ALL_LEADS

    with database.unit_of_work(read_only=True) as uow:
        everything = list_leads(LeadQuery(view=LeadView.ALL, limit=500), uow=uow, actor=world.actor)
        mine = list_leads(LeadQuery(view=LeadView.MY_OPEN, limit=500), uow=uow, actor=world.actor)
        # Paging through one lead at a time gives the same set (the filter is part of the keyset query).
        paged: list[Lead] = []
        cursor = None
        for _ in range(20):
            page = list_leads(LeadQuery(view=LeadView.ALL, limit=1, cursor=cursor), uow=uow, actor=world.actor)
            paged.extend(page.items)
            cursor = page.next_cursor
            if cursor is None:
                break

    assert _names(world, everything.items) == READABLE[role]
    assert everything.next_cursor is None
    assert _names(world, paged) == READABLE[role]
    assert _names(world, mine.items) == {"own"}

    # The SQL filter agrees with the per-record check of get_lead.
    with database.unit_of_work(read_only=True) as uow:
        for name, lead_id in world.leads.items():
            if name in READABLE[role]:
                assert leads.get_lead(lead_id, uow=uow, actor=world.actor).id == lead_id
            else:  # as if it did not exist
                with pytest.raises(NotFound):
                    leads.get_lead(lead_id, uow=uow, actor=world.actor)


# ------------------------------------------------------------------------------------------------
# docs/roles.md is generated from BUILTIN_ROLES and must match it exactly

ROLES_DOC = Path(__file__).resolve().parents[2] / "docs" / "roles.md"
PRIVILEGE_HEADINGS = {
    Privilege.CREATE: "Create",
    Privilege.READ: "Read",
    Privilege.WRITE: "Write",
    Privilege.DELETE: "Delete",
    Privilege.APPEND: "Append",
    Privilege.APPEND_TO: "Append To",
    Privilege.ASSIGN: "Assign",
    Privilege.SHARE: "Share",
}


def render_roles_markdown() -> str:
    """The text of docs/roles.md: a short introduction and the privilege matrix of every built-in role."""
    levels = ", ".join(f"**{depth.label}**" for depth in Depth)
    lines = [
        "# Built-in roles",
        "",
        "<!-- Generated from leadflow.security.privileges.BUILTIN_ROLES by "
        "tests/security/test_privilege_matrix.py::render_roles_markdown; do not edit by hand. -->",
        "",
        "Every user holds one or more roles; roles are cumulative (the widest level of any role wins). "
        "A role grants, per table, each privilege at an access level: "
        f"{levels}. User reaches the records the user (or one of their teams) owns or that are shared "
        "with them; Business Unit adds the records owned in the user's business unit; Parent: Child "
        "Business Units adds those of every unit below it; Organization reaches every record. "
        "On the administrative areas (users, roles, business units, settings, audit) any level above "
        "None allows the action.",
        "",
        "| Role | Table | " + " | ".join(PRIVILEGE_HEADINGS[p] for p in Privilege) + " |",
        "|---|---|" + "---|" * len(Privilege),
    ]
    for role, matrix in BUILTIN_ROLES.items():
        for table in TABLES:
            row = matrix.get(table, {})
            cells = [row.get(privilege, Depth.NONE).label for privilege in Privilege]
            lines.append(f"| {role} | {table} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def test_docs_roles_md_matches_the_builtin_roles():
    assert ROLES_DOC.exists(), f"{ROLES_DOC} is missing; write render_roles_markdown() into it"
    assert ROLES_DOC.read_text(encoding="utf-8") == render_roles_markdown(), (
        "docs/roles.md is out of date with BUILTIN_ROLES; regenerate it with "
        "tests.security.test_privilege_matrix.render_roles_markdown()"
    )


def test_the_generated_table_covers_every_role_table_and_privilege():
    text = render_roles_markdown()
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| Role")]
    assert len(rows) == len(BUILTIN_ROLES) * len(TABLES)
    labels = {depth.label for depth in Depth}
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert len(cells) == 2 + len(Privilege)
        assert set(cells[2:]) <= labels
    # Spot checks written by hand against the reference roles.
    assert "| Salesperson | leads | User | Business Unit | User | User | User | Business Unit | User | User |" in rows
    assert (
        "| Sales Manager | leads | Business Unit | Parent: Child Business Units | Parent: Child Business Units "
        "| Business Unit | Parent: Child Business Units | Parent: Child Business Units "
        "| Parent: Child Business Units | Parent: Child Business Units |"
    ) in rows
    assert "| Sales Team Member | leads | None | Business Unit | None | None | None | None | None | None |" in rows


# ------------------------------------------------------------------------------------------------
# qualify needs Create on each record it creates (no built-in role with Write lacks Create, so a
# custom role shows it): refused naming the table, nothing written; allowed when that record is skipped.


@pytest.mark.parametrize("table", ["accounts", "contacts", "opportunities"])
def test_qualify_needs_create_on_each_record_it_creates(database: Database, actor: Actor, table: str) -> None:
    matrix = {t: dict(row) for t, row in BUILTIN_ROLES["Vice President of Sales"].items()}
    matrix[table][Privilege.CREATE] = Depth.NONE
    with database.unit_of_work() as uow:
        security.create_role(f"No create on {table}", matrix, uow=uow, actor=actor)
        uow.commit()
    world = build_world(database, f"No create on {table}")
    lead_id = world.leads["other"]
    before = snapshot(database)

    with database.unit_of_work() as uow:
        with pytest.raises(Forbidden) as refused:
            op_qualify(uow, world, "other")
        uow.commit()

    assert refused.value.details == {"privilege": "create", "table": table, "level": "None"}
    assert snapshot(database) == before

    flag = {"accounts": "create_account", "contacts": "create_contact", "opportunities": "create_opportunity"}[table]
    options = QualifyOptions(
        **{"create_account": True, "create_contact": True, "create_opportunity": True, flag: False}
    )
    with database.unit_of_work() as uow:
        leads.qualify_lead(lead_id, options, uow=uow, actor=world.actor)
        uow.commit()
    after = snapshot(database)
    assert after["leads"][lead_id]["state"] is LeadState.QUALIFIED
    assert after["counts"][table] == before["counts"][table]


# ------------------------------------------------------------------------------------------------
# accounts, contacts and opportunities follow the same levels: a Salesperson reads the records of
# their unit but changes only their own; another unit's records are, to them, records that do not exist.

RECORD_SERVICES: dict[str, tuple[type, str, Callable[..., Any], Callable[..., Any], Callable[..., Any]]] = {
    # table: (model, label, create, update, delete)
    "accounts": (
        Account,
        "account",
        lambda uow, actor, owner: customers.create_account(
            parse(AccountCreate, {"name": f"Acme {uuid.uuid4().hex}", "owner_user_id": str(owner)}),
            uow=uow,
            actor=actor,
        ),
        lambda uow, actor, record_id: customers.update_account(
            record_id, parse(AccountUpdate, {"description": "Changed"}), uow=uow, actor=actor
        ),
        customers.delete_account,
    ),
    "contacts": (
        Contact,
        "contact",
        lambda uow, actor, owner: customers.create_contact(
            parse(ContactCreate, {"last_name": f"Dupont {uuid.uuid4().hex}", "owner_user_id": str(owner)}),
            uow=uow,
            actor=actor,
        ),
        lambda uow, actor, record_id: customers.update_contact(
            record_id, parse(ContactUpdate, {"description": "Changed"}), uow=uow, actor=actor
        ),
        customers.delete_contact,
    ),
    "opportunities": (
        Opportunity,
        "opportunity",
        lambda uow, actor, owner: opportunities.create_opportunity(
            parse(OpportunityCreate, {"name": f"Deal {uuid.uuid4().hex}", "owner_user_id": str(owner)}),
            uow=uow,
            actor=actor,
        ),
        lambda uow, actor, record_id: opportunities.update_opportunity(
            record_id, parse(OpportunityUpdate, {"description": "Changed"}), uow=uow, actor=actor
        ),
        opportunities.delete_opportunity,
    ),
}
# What a Salesperson may do, per location of the record (own, a colleague's in the unit, another unit's).
SALESPERSON_RECORDS = {
    ("read", "own"): True,
    ("read", "unit"): True,
    ("read", "other"): False,
    ("write", "own"): True,
    ("write", "unit"): False,
    ("write", "other"): False,
    ("delete", "own"): True,
    ("delete", "unit"): False,
    ("delete", "other"): False,
    ("create", "own"): True,
    ("create", "unit"): False,
    ("create", "other"): False,
}


def record_versions(database: Database) -> dict[str, Any]:
    with database.unit_of_work(read_only=True) as uow:
        return {
            model.__tablename__: sorted(
                (row.id, row.row_version, row.description) for row in uow.session.scalars(select(model))
            )
            for model in (Account, Contact, Opportunity)
        } | {"audit": uow.session.scalar(select(func.count()).select_from(AuditEntry))}


@pytest.mark.parametrize("table", RECORD_SERVICES)
@pytest.mark.parametrize(("operation", "location"), list(SALESPERSON_RECORDS))
def test_a_salesperson_reads_the_units_records_and_changes_only_their_own(
    database: Database, table: str, operation: str, location: str
) -> None:
    world = build_world(database, "Salesperson")
    model, label, create, update, delete = RECORD_SERVICES[table]
    owners = {name: world.owners[name] for name in ("own", "unit", "other")}
    with database.unit_of_work() as uow:
        admin = default_actor(uow.session)
        record_id = create(uow, admin, owners[location]).id
        uow.commit()
    before = record_versions(database)

    with database.unit_of_work() as uow:
        try:
            if operation == "read":
                outcome = get_accessible(
                    uow.session, model, record_id, label=label, actor=world.actor, privilege=Privilege.READ
                )
            elif operation == "write":
                outcome = update(uow, world.actor, record_id)
            elif operation == "delete":
                outcome = delete(record_id, uow=uow, actor=world.actor)
            else:
                outcome = create(uow, world.actor, owners[location])
        except (Forbidden, NotFound) as refusal:
            error: Forbidden | NotFound | None = refusal
        else:
            error = None
        uow.commit()

    after = record_versions(database)
    if SALESPERSON_RECORDS[(operation, location)]:
        assert error is None, error
        if operation == "read":
            assert outcome.id == record_id and after == before
        elif operation == "write":
            assert (record_id, 2, "Changed") in after[table]
        elif operation == "delete":
            assert record_id not in {row[0] for row in after[table]}
        else:
            assert len(after[table]) == len(before[table]) + 1
        return
    assert error is not None, f"a Salesperson may not {operation} a {label} ({location})"
    assert after == before, "a refused operation changed the database"
    if operation != "create" and location == "other":
        assert isinstance(error, NotFound) and error.code == f"{label}_not_found", error
    else:
        assert error.code == "forbidden"
        assert (error.details["privilege"], error.details["table"]) == (operation, table), error.details


# ------------------------------------------------------------------------------------------------
# giving a record to someone else needs Assign, whichever the way (no built-in role has Create or
# Write wider than Assign, so a custom role shows it)

WIDE_WITHOUT_ASSIGN = {
    "leads": {
        Privilege.CREATE: Depth.ORGANIZATION,
        Privilege.READ: Depth.ORGANIZATION,
        Privilege.WRITE: Depth.ORGANIZATION,
        Privilege.ASSIGN: Depth.USER,
    },
}


def _wide_without_assign(database: Database, actor: Actor) -> World:
    with database.unit_of_work() as uow:
        security.create_role("Wide without assign", WIDE_WITHOUT_ASSIGN, uow=uow, actor=actor)
        uow.commit()
    return build_world(database, "Wide without assign")


def test_creating_a_lead_for_someone_else_needs_assign_reaching_them(database: Database, actor: Actor) -> None:
    world = _wide_without_assign(database, actor)
    before = snapshot(database)

    with database.unit_of_work() as uow:
        with pytest.raises(Forbidden) as refused:
            op_create(uow, world, "unit")
        uow.commit()

    assert (refused.value.details["privilege"], refused.value.details["table"]) == ("assign", "leads")
    assert snapshot(database) == before
    with database.unit_of_work() as uow:  # for oneself, Create is enough
        created = op_create(uow, world, "own")
        uow.commit()
    assert snapshot(database)["leads"][created]["owner_user_id"] == world.actor.user_id


def test_changing_a_leads_owner_in_an_update_needs_assign(database: Database, actor: Actor) -> None:
    world = _wide_without_assign(database, actor)
    lead_id = world.leads["unit"]
    before = snapshot(database)

    with database.unit_of_work() as uow:
        with pytest.raises(Forbidden) as refused:
            leads.update_lead(
                lead_id,
                LeadUpdate.model_validate({"owner_user_id": str(world.actor.user_id)}),
                uow=uow,
                actor=world.actor,
            )
        uow.commit()

    assert (refused.value.details["privilege"], refused.value.details["table"]) == ("assign", "leads")
    assert snapshot(database) == before
    with database.unit_of_work() as uow:  # any other change of the same lead is a plain write
        leads.update_lead(lead_id, LeadUpdate.model_validate({"topic": "Still theirs"}), uow=uow, actor=world.actor)
        uow.commit()
    after = snapshot(database)["leads"][lead_id]
    assert (after["topic"], after["owner_user_id"]) == ("Still theirs", world.owners["unit"])


def test_reassigning_every_record_of_a_user_needs_assign_at_the_organization_level(
    database: Database, actor: Actor
) -> None:
    """Write on users is not enough: the records may be anywhere, so Assign must reach every unit."""
    matrix: dict[str, dict[Privilege, Depth]] = {
        "users": {Privilege.READ: Depth.ORGANIZATION, Privilege.WRITE: Depth.ORGANIZATION},
        **{
            table: {Privilege.READ: Depth.ORGANIZATION, Privilege.ASSIGN: Depth.PARENT_CHILD}
            for table in ("leads", "accounts", "contacts", "opportunities")
        },
    }
    with database.unit_of_work() as uow:
        security.create_role("User manager", matrix, uow=uow, actor=actor)
        uow.commit()
    world = build_world(database, "User manager")
    before = snapshot(database)

    with database.unit_of_work() as uow:
        with pytest.raises(Forbidden) as refused:
            security.reassign_records(world.owners["unit"], world.owners["own"], uow=uow, actor=world.actor)
        uow.commit()

    assert (refused.value.details["privilege"], refused.value.details["level"]) == ("assign", Depth.PARENT_CHILD.label)
    assert snapshot(database) == before
