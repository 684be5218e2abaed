"""Managing security (§8): business units as a tree, teams with members and roles, a role's privilege
grid saved at once, and sharing a record, each checked in the service layer, on both backends.

The organisation: the administrator at the root; Ventas under it with Ana (a salesperson) and Rosa
(a Sales Team Member, read-only); Sales UK under the root with Bob (a salesperson).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import select

from leadflow.core.errors import Forbidden, InvalidState, LeadflowError, NotFound, ValidationFailed
from leadflow.core.uow import Database, UnitOfWork
from leadflow.leads import service as leads
from leadflow.leads.models import Lead
from leadflow.security import directory
from leadflow.security import service as security
from leadflow.security.actor import Actor, actor_for_email
from leadflow.security.audit import AuditEntry
from leadflow.security.authentication import requires_two_factor
from leadflow.security.models import BusinessUnit, Role, User
from leadflow.security.privileges import SYSTEM_ADMINISTRATOR, Depth, Privilege
from tests.conftest import ADMIN_EMAIL
from tests.factories import make_lead

ANA, ROSA, BOB = "ana@example.com", "rosa@example.com", "bob@example.com"


@pytest.fixture
def organisation(database: Database) -> Database:
    with database.unit_of_work() as uow:
        admin = actor_for_email(uow.session, ADMIN_EMAIL)
        security.create_business_unit("Ventas", parent_name=None, uow=uow, actor=admin)
        security.create_business_unit("Sales UK", parent_name=None, uow=uow, actor=admin)
        for email, name, role, unit in (
            (ANA, "Ana", "Salesperson", "Ventas"),
            (ROSA, "Rosa", "Sales Team Member", "Ventas"),
            (BOB, "Bob", "Salesperson", "Sales UK"),
        ):
            security.create_user(
                email=email,
                full_name=name,
                role_names=[role],
                business_unit_name=unit,
                password=None,
                uow=uow,
                actor=admin,
            )
        uow.commit()
    return database


def as_user(database: Database, email: str) -> Actor:
    """The actor of a user as a new request would compute it."""
    with database.unit_of_work(read_only=True) as uow:
        return actor_for_email(uow.session, email)


def run(database: Database, email: str, change: Callable[[UnitOfWork, Actor], object]) -> object:
    """Run one change as a user in a unit of work of its own, and commit it."""
    actor = as_user(database, email)
    with database.unit_of_work() as uow:
        done = change(uow, actor)
        uow.commit()
    return done


def unit_named(database: Database, name: str) -> BusinessUnit:
    with database.unit_of_work(read_only=True) as uow:
        return security.business_unit_by_name(uow.session, name)


def user_named(database: Database, email: str) -> User:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalars(select(User).where(User.email == email)).one()


def role_named(database: Database, name: str) -> Role:
    with database.unit_of_work(read_only=True) as uow:
        return security.role_by_name(uow.session, name)


def audited(database: Database, action: str) -> list[AuditEntry]:
    with database.unit_of_work(read_only=True) as uow:
        return list(
            uow.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.occurred_at))
        )


# ---------------------------------------------------------------------------------------------- business units


def test_business_units_are_listed_as_a_tree_with_their_users_and_teams(organisation: Database) -> None:
    run(
        organisation,
        ADMIN_EMAIL,
        lambda uow, a: security.create_business_unit("Madrid", parent_name="Ventas", uow=uow, actor=a),
    )
    run(
        organisation,
        ADMIN_EMAIL,
        lambda uow, a: security.create_team("Key accounts", business_unit_name="Ventas", uow=uow, actor=a),
    )

    with organisation.unit_of_work(read_only=True) as uow:
        tree = directory.list_business_units(uow=uow, actor=as_user(organisation, BOB))

    assert [(entry.unit.name, entry.level, entry.parent) for entry in tree] == [
        ("Organisation", 0, None),
        ("Sales UK", 1, "Organisation"),
        ("Ventas", 1, "Organisation"),
        ("Madrid", 2, "Ventas"),
    ]
    ventas = next(entry for entry in tree if entry.unit.name == "Ventas")
    assert (ventas.users, ventas.teams) == (2, 1)


def test_a_business_unit_needs_a_name_no_other_unit_has(organisation: Database) -> None:
    for name, code in (("  ", "required"), ("ventas", "business_unit_exists"), ("x" * 161, "too_long")):
        with pytest.raises(ValidationFailed) as refused:
            run(
                organisation,
                ADMIN_EMAIL,
                lambda uow, a, name=name: security.create_business_unit(name, parent_name=None, uow=uow, actor=a),
            )
        assert refused.value.code == code


def test_a_business_unit_is_renamed_and_moved_with_the_units_below_it(organisation: Database) -> None:
    run(
        organisation,
        ADMIN_EMAIL,
        lambda uow, a: security.create_business_unit("Madrid", parent_name="Ventas", uow=uow, actor=a),
    )
    ventas, uk = unit_named(organisation, "Ventas"), unit_named(organisation, "Sales UK")

    run(
        organisation,
        ADMIN_EMAIL,
        lambda uow, a: security.update_business_unit(
            ventas.id, name="Ventas Iberia", parent_id=uk.id, expected_version=ventas.row_version, uow=uow, actor=a
        ),
    )

    moved = unit_named(organisation, "Ventas Iberia")
    assert moved.parent_id == uk.id and moved.row_version == ventas.row_version + 1
    assert unit_named(organisation, "Madrid").parent_id == moved.id
    # Bob's Parent: Child Business Units reach now covers the units moved under his.
    assert {moved.id, unit_named(organisation, "Madrid").id} <= as_user(organisation, BOB).unit_subtree
    assert audited(organisation, "update")[-1].changes["name"] == {"old": "Ventas", "new": "Ventas Iberia"}


def test_no_business_unit_goes_under_itself_or_a_unit_below_it(organisation: Database) -> None:
    run(
        organisation,
        ADMIN_EMAIL,
        lambda uow, a: security.create_business_unit("Madrid", parent_name="Ventas", uow=uow, actor=a),
    )
    ventas, madrid = unit_named(organisation, "Ventas"), unit_named(organisation, "Madrid")
    for parent in (ventas.id, madrid.id):
        with pytest.raises(InvalidState) as refused:
            run(
                organisation,
                ADMIN_EMAIL,
                lambda uow, a, parent=parent: security.update_business_unit(
                    ventas.id, name="Ventas", parent_id=parent, expected_version=None, uow=uow, actor=a
                ),
            )
        assert refused.value.code == "business_unit_loop"
    assert unit_named(organisation, "Ventas").parent_id == unit_named(organisation, "Organisation").id


def test_the_root_business_unit_stays_the_root(organisation: Database) -> None:
    root, ventas = unit_named(organisation, "Organisation"), unit_named(organisation, "Ventas")
    with pytest.raises(InvalidState) as refused:
        run(
            organisation,
            ADMIN_EMAIL,
            lambda uow, a: security.update_business_unit(
                root.id, name="Organisation", parent_id=ventas.id, expected_version=None, uow=uow, actor=a
            ),
        )
    assert refused.value.code == "root_business_unit"
    run(
        organisation,
        ADMIN_EMAIL,
        lambda uow, a: security.update_business_unit(
            root.id, name="Leadflow Ltd", parent_id=None, expected_version=None, uow=uow, actor=a
        ),
    )
    assert unit_named(organisation, None).name == "Leadflow Ltd"  # type: ignore[arg-type]


def test_a_business_unit_changed_since_it_was_read_is_not_overwritten(organisation: Database) -> None:
    ventas = unit_named(organisation, "Ventas")
    run(
        organisation,
        ADMIN_EMAIL,
        lambda uow, a: security.update_business_unit(
            ventas.id,
            name="Ventas 1",
            parent_id=ventas.parent_id,
            expected_version=ventas.row_version,
            uow=uow,
            actor=a,
        ),
    )
    with pytest.raises(LeadflowError) as refused:
        run(
            organisation,
            ADMIN_EMAIL,
            lambda uow, a: security.update_business_unit(
                ventas.id,
                name="Ventas 2",
                parent_id=ventas.parent_id,
                expected_version=ventas.row_version,
                uow=uow,
                actor=a,
            ),
        )
    assert refused.value.code == "stale_etag"
    assert unit_named(organisation, "Ventas 1").id == ventas.id


def test_only_those_who_may_write_business_units_change_them(organisation: Database) -> None:
    ventas = unit_named(organisation, "Ventas")
    with pytest.raises(Forbidden):
        run(
            organisation,
            ANA,
            lambda uow, a: security.update_business_unit(
                ventas.id, name="Mine", parent_id=ventas.parent_id, expected_version=None, uow=uow, actor=a
            ),
        )
    with pytest.raises(Forbidden):
        run(organisation, ANA, lambda uow, a: security.create_business_unit("Mine", parent_name=None, uow=uow, actor=a))


def test_a_user_moved_to_another_business_unit_takes_their_records_along(organisation: Database) -> None:
    lead = make_lead(organisation, as_user(organisation, ANA))
    ana, uk = user_named(organisation, ANA), unit_named(organisation, "Sales UK")
    with organisation.unit_of_work(read_only=True) as uow:  # Bob reads his unit's leads: not Ana's yet
        with pytest.raises(NotFound):
            leads.get_lead(lead.id, uow=uow, actor=as_user(organisation, BOB))

    run(
        organisation,
        ADMIN_EMAIL,
        lambda uow, a: security.move_user_to_business_unit(
            ana.id, uk.id, expected_version=ana.row_version, uow=uow, actor=a
        ),
    )

    with organisation.unit_of_work(read_only=True) as uow:
        moved = uow.session.get(Lead, lead.id)
        assert moved.owning_business_unit_id == uk.id and moved.row_version == lead.row_version + 1
        assert leads.get_lead(lead.id, uow=uow, actor=as_user(organisation, BOB)).id == lead.id
    assert as_user(organisation, ANA).business_unit_id == uk.id
    with pytest.raises(LeadflowError) as refused:  # the form that still shows Ana in Ventas
        run(
            organisation,
            ADMIN_EMAIL,
            lambda uow, a: security.move_user_to_business_unit(
                ana.id, unit_named(organisation, "Ventas").id, expected_version=ana.row_version, uow=uow, actor=a
            ),
        )
    assert refused.value.code == "stale_etag"


# ---------------------------------------------------------------------------------------------- teams


def make_team(database: Database, name: str = "Key accounts", unit: str | None = "Ventas") -> uuid.UUID:
    team = run(
        database, ADMIN_EMAIL, lambda uow, a: security.create_team(name, business_unit_name=unit, uow=uow, actor=a)
    )
    return team.id  # type: ignore[attr-defined]


def test_members_of_a_team_hold_its_roles_beside_their_own(organisation: Database) -> None:
    team_id = make_team(organisation)
    rosa = user_named(organisation, ROSA)
    run(organisation, ADMIN_EMAIL, lambda uow, a: security.add_to_team(team_id, rosa.id, uow=uow, actor=a))
    assert as_user(organisation, ROSA).depth("leads", Privilege.CREATE) is Depth.NONE

    run(organisation, ADMIN_EMAIL, lambda uow, a: security.grant_team_role(team_id, "Sales Manager", uow=uow, actor=a))

    member = as_user(organisation, ROSA)
    assert member.depth("leads", Privilege.CREATE) is Depth.BUSINESS_UNIT
    assert member.depth("leads", Privilege.READ) is Depth.PARENT_CHILD  # the wider of her own and the team's
    assert set(member.role_names) == {"Sales Team Member", "Sales Manager"}
    with organisation.unit_of_work(read_only=True) as uow:
        detail = directory.get_team(team_id, uow=uow, actor=as_user(organisation, ADMIN_EMAIL))
    assert [user.email for user in detail.members] == [ROSA] and detail.roles == ["Sales Manager"]

    run(organisation, ADMIN_EMAIL, lambda uow, a: security.remove_from_team(team_id, rosa.id, uow=uow, actor=a))
    assert as_user(organisation, ROSA).depth("leads", Privilege.CREATE) is Depth.NONE
    assert [entry.action for entry in audited(organisation, "team_remove_member")] == ["team_remove_member"]


def test_a_role_taken_back_from_a_team_leaves_its_members_their_own(organisation: Database) -> None:
    team_id = make_team(organisation)
    run(
        organisation,
        ADMIN_EMAIL,
        lambda uow, a: security.add_to_team(team_id, user_named(organisation, ROSA).id, uow=uow, actor=a),
    )
    run(organisation, ADMIN_EMAIL, lambda uow, a: security.grant_team_role(team_id, "Salesperson", uow=uow, actor=a))
    run(organisation, ADMIN_EMAIL, lambda uow, a: security.revoke_team_role(team_id, "Salesperson", uow=uow, actor=a))

    assert as_user(organisation, ROSA).role_names == ("Sales Team Member",)
    with pytest.raises(InvalidState) as refused:
        run(
            organisation,
            ADMIN_EMAIL,
            lambda uow, a: security.revoke_team_role(team_id, "Salesperson", uow=uow, actor=a),
        )
    assert refused.value.code == "team_role_not_held"


def test_a_teams_role_that_requires_a_second_factor_requires_it_of_its_members(organisation: Database) -> None:
    team_id = make_team(organisation)
    run(
        organisation,
        ADMIN_EMAIL,
        lambda uow, a: security.add_to_team(team_id, user_named(organisation, ROSA).id, uow=uow, actor=a),
    )
    run(
        organisation,
        ADMIN_EMAIL,
        lambda uow, a: security.require_two_factor_for("Sales Manager", True, uow=uow, actor=a),
    )
    run(organisation, ADMIN_EMAIL, lambda uow, a: security.grant_team_role(team_id, "Sales Manager", uow=uow, actor=a))

    with organisation.unit_of_work(read_only=True) as uow:
        assert requires_two_factor(uow.session, user_named(organisation, ROSA))
    assert as_user(organisation, ROSA).two_factor_required


def test_a_team_needs_a_name_of_its_own_and_active_members(organisation: Database) -> None:
    team_id = make_team(organisation)
    with pytest.raises(ValidationFailed) as refused:
        make_team(organisation, "KEY ACCOUNTS")
    assert refused.value.code == "team_exists"
    bob = user_named(organisation, BOB)
    run(organisation, ADMIN_EMAIL, lambda uow, a: security.deactivate_user(bob.id, uow=uow, actor=a))
    with pytest.raises(InvalidState) as inactive:
        run(organisation, ADMIN_EMAIL, lambda uow, a: security.add_to_team(team_id, bob.id, uow=uow, actor=a))
    assert inactive.value.code == "user_inactive"
    with pytest.raises(InvalidState) as not_member:
        run(organisation, ADMIN_EMAIL, lambda uow, a: security.remove_from_team(team_id, bob.id, uow=uow, actor=a))
    assert not_member.value.code == "not_a_member"


def test_a_salesperson_manages_no_team(organisation: Database) -> None:
    team_id = make_team(organisation)
    ana = user_named(organisation, ANA)
    for change in (
        lambda uow, a: security.create_team("Mine", business_unit_name=None, uow=uow, actor=a),
        lambda uow, a: security.add_to_team(team_id, ana.id, uow=uow, actor=a),
        lambda uow, a: security.grant_team_role(team_id, "Salesperson", uow=uow, actor=a),
    ):
        with pytest.raises(Forbidden):
            run(organisation, ANA, change)


# ---------------------------------------------------------------------------------------------- roles


def full_row(depth: Depth) -> dict[Privilege, Depth]:
    return dict.fromkeys(Privilege, depth)


def test_a_roles_grid_is_saved_at_once_and_audited_cell_by_cell(organisation: Database) -> None:
    role = run(
        organisation,
        ADMIN_EMAIL,
        lambda uow, a: security.create_role("Lead desk", {"leads": full_row(Depth.USER)}, uow=uow, actor=a),
    )
    version = role.row_version  # type: ignore[attr-defined]

    run(
        organisation,
        ADMIN_EMAIL,
        lambda uow, a: security.update_role_privileges(
            role.id,
            {"leads": {Privilege.READ: Depth.ORGANIZATION}, "accounts": {Privilege.READ: Depth.BUSINESS_UNIT}},  # type: ignore[attr-defined]
            expected_version=version,
            uow=uow,
            actor=a,
        ),
    )

    with organisation.unit_of_work(read_only=True) as uow:
        saved, matrix = directory.get_role(role.id, uow=uow, actor=as_user(organisation, ADMIN_EMAIL))  # type: ignore[attr-defined]
    assert matrix["leads"][Privilege.READ] is Depth.ORGANIZATION and matrix["leads"][Privilege.WRITE] is Depth.USER
    assert matrix["accounts"][Privilege.READ] is Depth.BUSINESS_UNIT
    assert saved.row_version == version + 1
    assert audited(organisation, "role_update")[0].changes == {
        "leads": {"read": {"old": "User", "new": "Organization"}},
        "accounts": {"read": {"old": "None", "new": "Business Unit"}},
    }


def test_two_administrators_saving_the_same_role_do_not_merge_their_grids(organisation: Database) -> None:
    role = role_named(organisation, "Salesperson")
    run(
        organisation,
        ADMIN_EMAIL,
        lambda uow, a: security.update_role_privileges(
            role.id, {"leads": {Privilege.DELETE: Depth.NONE}}, expected_version=role.row_version, uow=uow, actor=a
        ),
    )

    with pytest.raises(LeadflowError) as refused:
        run(
            organisation,
            ADMIN_EMAIL,
            lambda uow, a: security.update_role_privileges(
                role.id, {"leads": {Privilege.CREATE: Depth.NONE}}, expected_version=role.row_version, uow=uow, actor=a
            ),
        )

    assert refused.value.code == "stale_etag"
    assert as_user(organisation, ANA).depth("leads", Privilege.CREATE) is Depth.USER  # the second grid left nothing
    assert as_user(organisation, ANA).depth("leads", Privilege.DELETE) is Depth.NONE  # the first one holds


def test_the_system_administrator_role_keeps_every_privilege(organisation: Database) -> None:
    role = role_named(organisation, SYSTEM_ADMINISTRATOR)
    with pytest.raises(InvalidState) as refused:
        run(
            organisation,
            ADMIN_EMAIL,
            lambda uow, a: security.update_role_privileges(
                role.id, {"leads": {Privilege.READ: Depth.USER}}, expected_version=None, uow=uow, actor=a
            ),
        )
    assert refused.value.code == "role_not_editable"


def test_nobody_grants_a_privilege_wider_than_their_own(organisation: Database) -> None:
    # A role manager who reads only their own leads: they manage roles, but cannot widen anyone's reach.
    run(
        organisation,
        ADMIN_EMAIL,
        lambda uow, a: security.create_role(
            "Role manager", {"roles": full_row(Depth.ORGANIZATION), "leads": full_row(Depth.USER)}, uow=uow, actor=a
        ),
    )
    run(
        organisation,
        ADMIN_EMAIL,
        lambda uow, a: security.grant_role(user_named(organisation, BOB).id, "Role manager", uow=uow, actor=a),
    )
    salesperson = role_named(organisation, "Salesperson")

    for change in (
        lambda uow, a: security.update_role_privileges(
            salesperson.id, {"leads": {Privilege.READ: Depth.ORGANIZATION}}, expected_version=None, uow=uow, actor=a
        ),
        lambda uow, a: security.create_role("Wide", {"leads": {Privilege.READ: Depth.ORGANIZATION}}, uow=uow, actor=a),
        lambda uow, a: security.grant_role(user_named(organisation, BOB).id, SYSTEM_ADMINISTRATOR, uow=uow, actor=a),
    ):
        with pytest.raises(Forbidden) as refused:
            run(organisation, BOB, change)
        assert refused.value.code == "privilege_beyond_own"
    # Within their own reach they may.
    run(
        organisation,
        BOB,
        lambda uow, a: security.create_role("Narrow", {"leads": {Privilege.READ: Depth.USER}}, uow=uow, actor=a),
    )


def test_a_copied_role_starts_with_the_privileges_and_second_factor_rule_of_the_original(
    organisation: Database,
) -> None:
    run(
        organisation,
        ADMIN_EMAIL,
        lambda uow, a: security.require_two_factor_for("Sales Manager", True, uow=uow, actor=a),
    )
    original = role_named(organisation, "Sales Manager")

    copy = run(
        organisation,
        ADMIN_EMAIL,
        lambda uow, a: security.copy_role(original.id, "Sales Manager (Iberia)", uow=uow, actor=a),
    )

    with organisation.unit_of_work(read_only=True) as uow:
        admin = as_user(organisation, ADMIN_EMAIL)
        copied, copied_matrix = directory.get_role(copy.id, uow=uow, actor=admin)  # type: ignore[attr-defined]
        _, original_matrix = directory.get_role(original.id, uow=uow, actor=admin)
    assert copied_matrix == original_matrix
    assert copied.requires_two_factor and not copied.is_builtin
    with pytest.raises(ValidationFailed) as refused:
        run(
            organisation, ADMIN_EMAIL, lambda uow, a: security.copy_role(original.id, "sales manager", uow=uow, actor=a)
        )
    assert refused.value.code == "role_exists"


# ---------------------------------------------------------------------------------------------- sharing


def lead_of(database: Database, email: str) -> Lead:
    return make_lead(database, as_user(database, email))


def share(database: Database, email: str, lead: Lead, **grantee: object) -> None:
    def change(uow: UnitOfWork, actor: Actor) -> None:
        record = uow.session.get(Lead, lead.id)
        security.share_record("leads", record, uow=uow, actor=actor, **grantee)  # type: ignore[arg-type]

    run(database, email, change)


def test_a_shared_lead_is_listed_with_its_rights_and_unsharing_takes_them_back(organisation: Database) -> None:
    lead = lead_of(organisation, ANA)
    bob = user_named(organisation, BOB)
    share(organisation, ANA, lead, user_id=bob.id, team_id=None, rights={"read", "write"})

    with organisation.unit_of_work(read_only=True) as uow:
        assert leads.get_lead(lead.id, uow=uow, actor=as_user(organisation, BOB)).id == lead.id
        sharing = security.sharing_of(
            "leads", uow.session.get(Lead, lead.id), uow=uow, actor=as_user(organisation, ANA)
        )
    assert [(entry.grantee, entry.is_team, entry.rights) for entry in sharing.shares] == [
        ("Bob (bob@example.com)", False, ("read", "write"))
    ]
    assert ANA not in {user.email for user in sharing.users} and BOB in {user.email for user in sharing.users}
    assert sharing.grantable == ("read", "write", "delete", "append", "assign", "share")

    share_id = sharing.shares[0].share.id
    run(
        organisation,
        ANA,
        lambda uow, a: security.unshare_record("leads", uow.session.get(Lead, lead.id), share_id, uow=uow, actor=a),
    )

    with organisation.unit_of_work(read_only=True) as uow, pytest.raises(NotFound):
        leads.get_lead(lead.id, uow=uow, actor=as_user(organisation, BOB))
    assert [entry.changes for entry in audited(organisation, "unshare")] == [{"grantee": str(bob.id)}]
    with pytest.raises(NotFound) as gone:
        run(
            organisation,
            ANA,
            lambda uow, a: security.unshare_record("leads", uow.session.get(Lead, lead.id), share_id, uow=uow, actor=a),
        )
    assert gone.value.code == "share_not_found"


def test_a_lead_shared_with_a_team_is_open_to_its_members(organisation: Database) -> None:
    lead = lead_of(organisation, ANA)
    team_id = make_team(organisation, "UK desk", "Sales UK")
    run(
        organisation,
        ADMIN_EMAIL,
        lambda uow, a: security.add_to_team(team_id, user_named(organisation, BOB).id, uow=uow, actor=a),
    )

    share(organisation, ANA, lead, user_id=None, team_id=team_id, rights={"read"})

    with organisation.unit_of_work(read_only=True) as uow:
        assert leads.get_lead(lead.id, uow=uow, actor=as_user(organisation, BOB)).id == lead.id
        entry = security.sharing_of(
            "leads", uow.session.get(Lead, lead.id), uow=uow, actor=as_user(organisation, ANA)
        ).shares[0]
    assert (entry.grantee, entry.is_team, entry.rights) == ("UK desk", True, ("read",))


def test_nobody_shares_a_right_they_do_not_hold_on_the_record(organisation: Database) -> None:
    # Sharing without deleting: a seller of this role may pass on read and write, not delete.
    matrix = {"leads": full_row(Depth.USER) | {Privilege.DELETE: Depth.NONE}}
    run(organisation, ADMIN_EMAIL, lambda uow, a: security.create_role("No delete", matrix, uow=uow, actor=a))
    run(
        organisation,
        ADMIN_EMAIL,
        lambda uow, a: security.create_user(
            email="nina@example.com",
            full_name="Nina",
            role_names=["No delete"],
            business_unit_name="Ventas",
            password=None,
            uow=uow,
            actor=a,
        ),
    )
    lead = lead_of(organisation, "nina@example.com")
    bob = user_named(organisation, BOB)

    with pytest.raises(Forbidden) as refused:
        share(organisation, "nina@example.com", lead, user_id=bob.id, team_id=None, rights={"read", "delete"})

    assert refused.value.code == "share_beyond_own" and refused.value.details == {"rights": ["delete"]}
    with organisation.unit_of_work(read_only=True) as uow:
        sharing = security.sharing_of(
            "leads", uow.session.get(Lead, lead.id), uow=uow, actor=as_user(organisation, "nina@example.com")
        )
    assert sharing.shares == [] and "delete" not in sharing.grantable


def test_who_may_not_share_a_record_does_not_see_its_shares(organisation: Database) -> None:
    lead = lead_of(organisation, ANA)
    with organisation.unit_of_work(read_only=True) as uow:
        record = uow.session.get(Lead, lead.id)
        with pytest.raises(Forbidden):  # Rosa reads the unit's leads but shares none
            security.sharing_of("leads", record, uow=uow, actor=as_user(organisation, ROSA))
        with pytest.raises(NotFound):  # Bob cannot even read it
            security.sharing_of("leads", record, uow=uow, actor=as_user(organisation, BOB))
