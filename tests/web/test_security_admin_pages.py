"""Security administration in the web app (§8): business units, teams, a user's unit, the role grid, and
the Share dialog of records; in English and Spanish, with the refusals a salesperson meets.

The organisation: the administrator at the root; Ventas under it with Sam (a salesperson) and Rita (a
Sales Team Member); Sales UK under the root with Bob (a salesperson).
"""

from __future__ import annotations

import html as markup
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from leadflow.core.uow import Database
from leadflow.leads.models import Lead
from leadflow.security import service as security
from leadflow.security.actor import Actor, actor_for_email
from leadflow.security.audit import AuditEntry
from leadflow.security.models import BusinessUnit, RecordShare, Role, Team, User
from leadflow.security.privileges import SYSTEM_ADMINISTRATOR, TABLES, Depth, Privilege
from tests.factories import make_lead
from tests.web.conftest import page_csrf

SAM, RITA, BOB = "sam@example.com", "rita@example.com", "bob@example.com"
PASSWORDS = {SAM: "sam's long password", RITA: "rita's long password", BOB: "bob's long password"}
# The tables a security page may write, compared row by row to prove a refusal changed nothing.
WRITTEN = (
    "business_units",
    "teams",
    "team_members",
    "team_roles",
    "roles",
    "role_privileges",
    "user_roles",
    "users",
    "record_shares",
    "leads",
)


@pytest.fixture
def organisation(database: Database, actor: Actor) -> Database:
    with database.unit_of_work() as uow:
        security.create_business_unit("Ventas", parent_name=None, uow=uow, actor=actor)
        security.create_business_unit("Sales UK", parent_name=None, uow=uow, actor=actor)
        for email, name, role, unit in (
            (SAM, "Sam Seller", "Salesperson", "Ventas"),
            (RITA, "Rita Reader", "Sales Team Member", "Ventas"),
            (BOB, "Bob Brown", "Salesperson", "Sales UK"),
        ):
            security.create_user(
                email=email,
                full_name=name,
                role_names=[role],
                business_unit_name=unit,
                password=PASSWORDS[email],
                uow=uow,
                actor=actor,
            )
        uow.commit()
    return database


@pytest.fixture
def admin(organisation: Database, web_client_for: Callable[..., TestClient]) -> TestClient:
    return web_client_for()


@pytest.fixture
def spanish_admin(organisation: Database, web_client_for: Callable[..., TestClient]) -> TestClient:
    return web_client_for(accept_language="es-ES,es;q=0.9")


@pytest.fixture
def client_of(organisation: Database, web_client_for: Callable[..., TestClient]) -> Callable[..., TestClient]:
    """A browser signed in as one of the organisation's people (``language`` for the browser's)."""
    return lambda email, language="en": web_client_for(email, PASSWORDS[email], accept_language=language)


def post_form(client: TestClient, page: str, action: str, data: dict[str, Any] | list[tuple[str, Any]]) -> Any:
    """Load ``page`` for its CSRF token and post ``data`` to ``action`` as its form would."""
    token = page_csrf(client.get(page).text)
    items = list(data.items()) if isinstance(data, dict) else list(data)
    form: dict[str, list[str]] = {}
    for name, value in [("csrf_token", token), *items]:
        form.setdefault(name, []).append(str(value))
    return client.post(action, data=form, follow_redirects=False)


def snapshot(database: Database) -> dict[str, list[tuple]]:
    with database.engine.connect() as connection:
        return {
            table: sorted((tuple(row) for row in connection.execute(text(f"SELECT * FROM {table}"))), key=repr)
            for table in WRITTEN
        }


def one(database: Database, statement: Any) -> Any:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalars(statement).one()


def unit_named(database: Database, name: str) -> BusinessUnit:
    return one(database, select(BusinessUnit).where(BusinessUnit.name == name))


def user_id(database: Database, email: str) -> uuid.UUID:
    return one(database, select(User.id).where(User.email == email))


def role_named(database: Database, name: str) -> Role:
    return one(database, select(Role).where(Role.name == name))


def actor_of(database: Database, email: str) -> Actor:
    with database.unit_of_work(read_only=True) as uow:
        return actor_for_email(uow.session, email)


def shown(response: Any) -> str:
    """The page's text with its entities resolved, for looking up words."""
    return markup.unescape(response.text)


def grid_form(html: str) -> list[tuple[str, str]]:
    """The grid form's fields as the browser sends them: the row version and each cell's selected level."""
    form = html[html.index('id="role-form"') : html.index("</form>", html.index('id="role-form"'))]
    fields = re.findall(r'<input type="hidden" name="(row_version|name)" value="([^"]*)">', form)
    for name, body in re.findall(r'<select id="[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', form, flags=re.DOTALL):
        fields.append((name, re.search(r'<option value="(\d)" selected>', body).group(1)))
    return fields


def changed(fields: list[tuple[str, str]], **cells: int) -> list[tuple[str, str]]:
    """The grid's fields with some cells (``leads_read=4``) set to another level."""
    wanted = {f"level-{key.replace('_', '-', 1)}": str(level) for key, level in cells.items()}
    return [(name, wanted.get(name, value)) for name, value in fields]


# ---------------------------------------------------------------------------------------------- the pages, both languages

PAGES = {
    "/admin/business-units": (
        ("Business units", "Parent business unit", "New business unit", "Ventas"),
        ("Unidades de negocio", "Unidad de negocio primaria", "Nueva unidad de negocio", "Ventas"),
    ),
    "/admin/teams": (
        ("Teams", "There are no teams yet.", "New team"),
        ("Equipos", "Todavía no hay equipos.", "Nuevo equipo"),
    ),
    "/admin/roles": (("Security roles", "New role"), ("Roles de seguridad", "Nuevo rol")),
    "/admin/roles/new": (
        ("New role", "Sales records", "Administration", "Parent: Child Business Units", "Append To"),
        ("Nuevo rol", "Registros de ventas", "Administración", "Primario: unidades de negocio secundarias", "Anexar a"),
    ),
}


@pytest.mark.parametrize("path", sorted(PAGES))
@pytest.mark.parametrize("language", ["en", "es"])
def test_each_security_page_speaks_the_users_language(
    admin: TestClient, spanish_admin: TestClient, path: str, language: str
) -> None:
    response = (admin if language == "en" else spanish_admin).get(path)
    assert response.status_code == 200, response.text
    assert f'<html lang="{language}">' in response.text
    for words in PAGES[path][0 if language == "en" else 1]:
        assert words in shown(response), words
    # The tabs lead to every security page.
    for tab in ("/admin/users", "/admin/roles", "/admin/business-units", "/admin/teams"):
        assert f'href="{tab}"' in response.text


def test_the_security_pages_use_no_inline_script_or_style(admin: TestClient, organisation: Database) -> None:
    team = post_form(admin, "/admin/teams", "/admin/teams", {"name": "Key accounts", "business_unit": "Ventas"})
    role = role_named(organisation, "Salesperson")
    for path in (
        "/admin/business-units",
        f"/admin/business-units/{unit_named(organisation, 'Ventas').id}",
        "/admin/teams",
        team.headers["location"],
        "/admin/roles/new",
        f"/admin/roles/{role.id}/edit",
    ):
        html = admin.get(path).text
        assert "<script>" not in html and " onclick=" not in html and " style=" not in html, path
        for script in re.findall(r"<script[^>]*>", html):
            assert 'src="/static/' in script, script


# ---------------------------------------------------------------------------------------------- business units


def test_an_administrator_creates_a_business_unit_under_another(admin: TestClient, organisation: Database) -> None:
    response = post_form(
        admin, "/admin/business-units", "/admin/business-units", {"name": "Madrid", "parent": "Ventas"}
    )

    assert response.status_code == 303
    madrid = unit_named(organisation, "Madrid")
    assert response.headers["location"] == f"/admin/business-units/{madrid.id}?created=true"
    assert madrid.parent_id == unit_named(organisation, "Ventas").id
    page = admin.get(response.headers["location"]).text
    assert "The business unit was created." in page and f'href="/admin/business-units/{madrid.parent_id}"' in page
    tree = admin.get("/admin/business-units").text
    assert re.search(r'class="tree-level-2"><a href="/admin/business-units/[^"]+">Madrid</a>', tree)


def test_a_business_unit_whose_name_is_taken_is_refused_next_to_the_name(
    spanish_admin: TestClient, organisation: Database
) -> None:
    before = snapshot(organisation)

    response = post_form(
        spanish_admin, "/admin/business-units", "/admin/business-units", {"name": "VENTAS", "parent": "Sales UK"}
    )

    assert response.status_code == 422
    assert 'id="unit-name-error"' in response.text and 'value="VENTAS"' in response.text
    assert "Ya existe una unidad de negocio con este nombre." in shown(response)
    assert snapshot(organisation) == before


def test_a_business_unit_is_renamed_and_moved_from_its_page(admin: TestClient, organisation: Database) -> None:
    ventas, uk = unit_named(organisation, "Ventas"), unit_named(organisation, "Sales UK")
    page = f"/admin/business-units/{ventas.id}"
    html = admin.get(page).text
    assert f'<option value="{uk.id}">Sales UK</option>' in html
    assert f'<option value="{ventas.id}"' not in html  # not under itself

    response = post_form(
        admin, page, page, {"name": "Ventas Iberia", "parent_id": uk.id, "row_version": ventas.row_version}
    )

    assert response.status_code == 303 and response.headers["location"] == f"{page}?saved=true"
    moved = unit_named(organisation, "Ventas Iberia")
    assert moved.parent_id == uk.id and moved.row_version == ventas.row_version + 1
    assert "The business unit was saved." in admin.get(response.headers["location"]).text


def test_a_business_unit_form_older_than_the_unit_is_refused_and_offers_a_reload(
    admin: TestClient, organisation: Database
) -> None:
    ventas = unit_named(organisation, "Ventas")
    page = f"/admin/business-units/{ventas.id}"
    first = post_form(
        admin, page, page, {"name": "Ventas 1", "parent_id": ventas.parent_id, "row_version": ventas.row_version}
    )
    assert first.status_code == 303

    second = post_form(
        admin, page, page, {"name": "Ventas 2", "parent_id": ventas.parent_id, "row_version": ventas.row_version}
    )

    assert second.status_code == 412
    assert "changed by someone else" in second.text and 'id="reload-page"' in second.text
    assert 'value="Ventas 2"' in second.text  # what was typed stays on the page...
    assert f'name="row_version" value="{ventas.row_version}"' in second.text  # ...with the version it was based on
    assert unit_named(organisation, "Ventas 1").id == ventas.id


def test_a_business_unit_moved_under_a_unit_below_it_is_refused_in_spanish(
    spanish_admin: TestClient, organisation: Database, actor: Actor
) -> None:
    with organisation.unit_of_work() as uow:
        security.create_business_unit("Madrid", parent_name="Ventas", uow=uow, actor=actor)
        uow.commit()
    ventas, madrid = unit_named(organisation, "Ventas"), unit_named(organisation, "Madrid")
    page = f"/admin/business-units/{ventas.id}"
    assert f'<option value="{madrid.id}"' not in spanish_admin.get(page).text  # not offered...
    before = snapshot(organisation)

    response = post_form(spanish_admin, page, page, {"name": "Ventas", "parent_id": madrid.id, "row_version": ""})

    assert response.status_code == 409  # ...and refused when sent anyway
    assert "no puede depender de sí misma ni de una unidad que dependa de ella" in shown(response)
    assert 'id="unit-parent-error"' in response.text
    assert snapshot(organisation) == before


# ---------------------------------------------------------------------------------------------- teams


def test_an_administrator_makes_a_team_adds_a_member_and_grants_it_a_role(
    admin: TestClient, organisation: Database
) -> None:
    created = post_form(admin, "/admin/teams", "/admin/teams", {"name": "Key accounts", "business_unit": "Ventas"})
    assert created.status_code == 303
    team = one(organisation, select(Team).where(Team.name == "Key accounts"))
    page = f"/admin/teams/{team.id}"
    assert created.headers["location"] == f"{page}?created=true"
    assert team.business_unit_id == unit_named(organisation, "Ventas").id
    html = admin.get(created.headers["location"]).text
    assert "The team was created." in html and "The team has no members yet." in html
    rita = user_id(organisation, RITA)
    assert f'<option value="{rita}">Rita Reader (rita@example.com)</option>' in html

    added = post_form(admin, page, f"{page}/members", {"user_id": rita})
    granted = post_form(admin, page, f"{page}/roles", {"role": "Sales Manager"})

    assert added.headers["location"] == f"{page}?member_added=true"
    assert granted.headers["location"] == f"{page}?granted=true"
    html = admin.get(granted.headers["location"]).text
    members = html[html.index('id="team-members"') : html.index("</ul>", html.index('id="team-members"'))]
    roles = html[html.index('id="team-roles"') : html.index("</ul>", html.index('id="team-roles"'))]
    assert "Rita Reader" in members and "Sales Manager" in roles
    assert actor_of(organisation, RITA).depth("leads", Privilege.CREATE) is Depth.BUSINESS_UNIT
    listed = admin.get("/admin/teams").text
    row = listed[listed.index("Key accounts") :]
    assert "Ventas" in row[: row.index("</tr>")] and "Sales Manager" in row[: row.index("</tr>")]
    # The member's own page names the team and what it brings.
    assert "Key accounts" in admin.get(f"/admin/users/{rita}").text


def test_a_member_taken_out_of_a_team_loses_its_roles(admin: TestClient, organisation: Database, actor: Actor) -> None:
    with organisation.unit_of_work() as uow:
        team = security.create_team("Key accounts", business_unit_name="Ventas", uow=uow, actor=actor)
        security.add_to_team(team.id, user_id(organisation, RITA), uow=uow, actor=actor)
        security.grant_team_role(team.id, "Salesperson", uow=uow, actor=actor)
        uow.commit()
    page = f"/admin/teams/{team.id}"

    revoked = post_form(admin, page, f"{page}/roles/revoke", {"role": "Salesperson"})
    removed = post_form(admin, page, f"{page}/members/remove", {"user_id": user_id(organisation, RITA)})

    assert revoked.status_code == removed.status_code == 303
    html = admin.get(removed.headers["location"]).text
    assert "The user was removed from the team." in html and "The team holds no roles." in html
    assert actor_of(organisation, RITA).role_names == ("Sales Team Member",)


def test_a_team_name_taken_is_refused_in_spanish(
    spanish_admin: TestClient, organisation: Database, actor: Actor
) -> None:
    with organisation.unit_of_work() as uow:
        security.create_team("Key accounts", business_unit_name=None, uow=uow, actor=actor)
        uow.commit()
    before = snapshot(organisation)

    response = post_form(
        spanish_admin, "/admin/teams", "/admin/teams", {"name": "key accounts", "business_unit": "Ventas"}
    )

    assert response.status_code == 422
    assert "Ya existe un equipo con este nombre." in shown(response) and 'id="team-name-error"' in response.text
    assert snapshot(organisation) == before


# ---------------------------------------------------------------------------------------------- a user's business unit


def test_a_user_is_moved_to_another_business_unit_from_their_page(admin: TestClient, organisation: Database) -> None:
    sam = one(organisation, select(User).where(User.email == SAM))
    lead = make_lead(organisation, actor_of(organisation, SAM))
    uk = unit_named(organisation, "Sales UK")
    page = f"/admin/users/{sam.id}"

    response = post_form(
        admin, page, f"{page}/business-unit", {"business_unit_id": uk.id, "row_version": sam.row_version}
    )

    assert response.status_code == 303 and response.headers["location"] == f"{page}?moved=true"
    assert "the records they own moved with them" in admin.get(response.headers["location"]).text
    assert one(organisation, select(User.business_unit_id).where(User.id == sam.id)) == uk.id
    assert one(organisation, select(Lead.owning_business_unit_id).where(Lead.id == lead.id)) == uk.id
    # The same form sent again, from the page as it was, is older than the user now.
    stale = post_form(
        admin,
        page,
        f"{page}/business-unit",
        {"business_unit_id": unit_named(organisation, "Ventas").id, "row_version": sam.row_version},
    )
    assert stale.status_code == 412 and 'id="reload-page"' in stale.text


# ---------------------------------------------------------------------------------------------- the role grid


def test_the_role_grid_offers_every_access_level_in_every_cell_with_a_label(
    admin: TestClient, organisation: Database
) -> None:
    role = role_named(organisation, "Salesperson")
    html = admin.get(f"/admin/roles/{role.id}").text
    assert f'href="/admin/roles/{role.id}/edit"' in html

    grid = admin.get(f"/admin/roles/{role.id}/edit").text

    cells = re.findall(r'<select id="(level-[a-z_]+-[a-z_]+)" name="\1"', grid)
    assert len(cells) == len(TABLES) * len(Privilege)
    for cell in cells:
        assert f'<label class="visually-hidden" for="{cell}">' in grid, cell
    assert re.search(r'for="level-leads-append_to">Leads: Append To</label>', grid)
    assert dict(grid_form(grid))["level-leads-read"] == str(int(Depth.BUSINESS_UNIT))
    options = re.findall(r'<option value="(\d)"', grid[grid.index('id="level-leads-create"') :])[:5]
    assert options == ["0", "1", "2", "3", "4"]


def test_the_grid_is_saved_at_once_and_the_holders_privileges_follow(admin: TestClient, organisation: Database) -> None:
    role = role_named(organisation, "Salesperson")
    page = f"/admin/roles/{role.id}/edit"
    fields = changed(grid_form(admin.get(page).text), leads_read=4, accounts_delete=0)

    response = post_form(admin, page, f"/admin/roles/{role.id}/privileges", fields)

    assert response.status_code == 303 and response.headers["location"] == f"/admin/roles/{role.id}?saved=true"
    assert "The role's privileges were saved." in shown(admin.get(response.headers["location"]))
    sam = actor_of(organisation, SAM)
    assert sam.depth("leads", Privilege.READ) is Depth.ORGANIZATION
    assert sam.depth("accounts", Privilege.DELETE) is Depth.NONE
    assert sam.depth("leads", Privilege.WRITE) is Depth.USER
    audit = one(organisation, select(AuditEntry).where(AuditEntry.action == "role_update"))
    assert audit.changes == {
        "leads": {"read": {"old": "Business Unit", "new": "Organization"}},
        "accounts": {"delete": {"old": "User", "new": "None"}},
    }


def test_a_grid_saved_over_a_newer_one_is_refused_and_shown_as_it_was_sent(
    admin: TestClient, spanish_admin: TestClient, organisation: Database
) -> None:
    role = role_named(organisation, "Salesperson")
    page = f"/admin/roles/{role.id}/edit"
    loaded = grid_form(admin.get(page).text)  # two administrators open the same grid
    first = post_form(admin, page, f"/admin/roles/{role.id}/privileges", changed(loaded, leads_delete=0))
    assert first.status_code == 303
    before = snapshot(organisation)

    second = post_form(spanish_admin, page, f"/admin/roles/{role.id}/privileges", changed(loaded, leads_create=0))

    assert second.status_code == 412
    assert "Otra persona modificó este registro" in shown(second) and 'id="reload-page"' in second.text
    assert dict(grid_form(second.text))["level-leads-create"] == "0"  # the grid as the second one sent it
    assert snapshot(organisation) == before
    sam = actor_of(organisation, SAM)
    assert sam.depth("leads", Privilege.DELETE) is Depth.NONE and sam.depth("leads", Privilege.CREATE) is Depth.USER


def test_a_level_that_is_none_of_the_options_is_refused_next_to_its_cell(
    admin: TestClient, organisation: Database
) -> None:
    role = role_named(organisation, "Salesperson")
    page = f"/admin/roles/{role.id}/edit"
    before = snapshot(organisation)
    fields = [(name, "9" if name == "level-leads-read" else value) for name, value in grid_form(admin.get(page).text)]

    response = post_form(admin, page, f"/admin/roles/{role.id}/privileges", fields)

    assert response.status_code == 422
    assert re.search(
        r'<td class="level-\d has-error">\s*<label class="visually-hidden" for="level-leads-read">', response.text
    )
    assert snapshot(organisation) == before


def test_a_new_role_is_created_from_the_grid_and_granted_to_a_user(admin: TestClient, organisation: Database) -> None:
    fields = changed(grid_form(admin.get("/admin/roles/new").text), leads_read=2, leads_create=1)
    fields = [("name", "Lead desk"), *[(name, value) for name, value in fields if name != "name"]]

    created = post_form(admin, "/admin/roles/new", "/admin/roles", fields)

    assert created.status_code == 303
    role = role_named(organisation, "Lead desk")
    assert created.headers["location"] == f"/admin/roles/{role.id}?created=true"
    page = f"/admin/users/{user_id(organisation, RITA)}"
    granted = post_form(admin, page, f"{page}/roles", {"role": "Lead desk"})
    assert granted.status_code == 303
    rita = actor_of(organisation, RITA)
    assert (
        rita.depth("leads", Privilege.CREATE) is Depth.USER and rita.depth("accounts", Privilege.CREATE) is Depth.NONE
    )


def test_a_copied_role_opens_in_the_grid_and_a_taken_name_is_refused(admin: TestClient, organisation: Database) -> None:
    manager = role_named(organisation, "Sales Manager")
    page = f"/admin/roles/{manager.id}"
    assert 'value="Copy of Sales Manager"' in admin.get(page).text

    copied = post_form(admin, page, f"{page}/copy", {"name": "Sales Manager Iberia"})
    taken = post_form(admin, page, f"{page}/copy", {"name": "salesperson"})

    copy = role_named(organisation, "Sales Manager Iberia")
    assert copied.headers["location"] == f"/admin/roles/{copy.id}/edit?copied=true"
    assert "The role was copied" in admin.get(copied.headers["location"]).text
    assert taken.status_code == 422 and 'id="copy-role-name-error"' in taken.text


def test_the_system_administrator_role_has_no_grid_to_edit(spanish_admin: TestClient, organisation: Database) -> None:
    role = role_named(organisation, SYSTEM_ADMINISTRATOR)
    assert f"/admin/roles/{role.id}/edit" not in spanish_admin.get(f"/admin/roles/{role.id}").text

    response = spanish_admin.get(f"/admin/roles/{role.id}/edit")

    assert response.status_code == 409
    assert "Los privilegios del rol Administrador del sistema no se pueden cambiar" in shown(response)


# ---------------------------------------------------------------------------------------------- refused to a salesperson


def test_a_salesperson_reads_units_and_teams_but_is_offered_no_change(
    client_of: Callable[..., TestClient], organisation: Database, actor: Actor
) -> None:
    with organisation.unit_of_work() as uow:
        team = security.create_team("Key accounts", business_unit_name="Ventas", uow=uow, actor=actor)
        uow.commit()
    seller = client_of(SAM)
    for path in (
        "/admin/business-units",
        f"/admin/business-units/{unit_named(organisation, 'Ventas').id}",
        "/admin/teams",
        f"/admin/teams/{team.id}",
        f"/admin/users/{user_id(organisation, SAM)}",
    ):
        html = seller.get(path).text
        assert "<form" not in html.replace('<form method="post" action="/sign-out"', ""), path
        assert "/admin/roles" not in html, path  # the roles tab is for readers of roles


SELLER_REFUSED_PAGES = ("/admin/roles", "/admin/roles/new", "/admin/roles/{role}/edit", "/admin/roles/{role}")


@pytest.mark.parametrize("path", SELLER_REFUSED_PAGES)
def test_a_salesperson_gets_a_403_page_on_the_role_pages(
    client_of: Callable[..., TestClient], organisation: Database, path: str
) -> None:
    response = client_of(SAM).get(path.format(role=role_named(organisation, "Salesperson").id))
    assert response.status_code == 403
    assert "You can't open this page" in response.text and "privilege" in response.text


def test_every_change_a_salesperson_posts_is_refused_and_changes_nothing(
    client_of: Callable[..., TestClient], organisation: Database, actor: Actor
) -> None:
    with organisation.unit_of_work() as uow:
        team = security.create_team("Key accounts", business_unit_name="Ventas", uow=uow, actor=actor)
        uow.commit()
    seller = client_of(SAM, "es")
    ventas, role, sam = (
        unit_named(organisation, "Ventas"),
        role_named(organisation, "Salesperson"),
        user_id(organisation, SAM),
    )
    posts = {
        "/admin/business-units": {"name": "Mine", "parent": "Ventas"},
        f"/admin/business-units/{ventas.id}": {"name": "Mine", "parent_id": ventas.parent_id},
        "/admin/teams": {"name": "Mine", "business_unit": "Ventas"},
        f"/admin/teams/{team.id}/members": {"user_id": sam},
        f"/admin/teams/{team.id}/roles": {"role": SYSTEM_ADMINISTRATOR},
        f"/admin/users/{sam}/business-unit": {"business_unit_id": ventas.parent_id},
        "/admin/roles": {"name": "Mine", "level-leads-read": 4},
        f"/admin/roles/{role.id}/privileges": {"level-leads-read": 4},
        f"/admin/roles/{role.id}/copy": {"name": "Mine"},
    }
    before = snapshot(organisation)
    for action, data in posts.items():
        response = post_form(seller, "/admin/business-units", action, data)
        assert response.status_code == 403, action
        assert "Le falta el privilegio" in shown(response), action
    assert snapshot(organisation) == before


# ---------------------------------------------------------------------------------------------- sharing a record


def test_a_salesperson_shares_a_lead_with_a_colleague_who_can_then_open_it(
    client_of: Callable[..., TestClient], organisation: Database
) -> None:
    lead = make_lead(organisation, actor_of(organisation, SAM))
    seller, colleague = client_of(SAM), client_of(BOB)
    assert colleague.get(f"/leads/{lead.id}").status_code == 404  # another unit's lead
    record = seller.get(f"/leads/{lead.id}").text
    assert 'id="share-button"' in record and f'href="/leads/{lead.id}/share"' in record
    dialog = record[
        record.index('<dialog id="share-dialog"') : record.index("</dialog>", record.index('<dialog id="share-dialog"'))
    ]
    assert f'<option value="user:{user_id(organisation, BOB)}">Bob Brown (bob@example.com)</option>' in dialog
    assert "This record is not shared with anyone." in dialog

    response = post_form(
        seller,
        f"/leads/{lead.id}",
        f"/leads/{lead.id}/share",
        [("grantee", f"user:{user_id(organisation, BOB)}"), ("rights", "read"), ("rights", "write")],
    )

    assert response.status_code == 303 and response.headers["location"] == f"/leads/{lead.id}/share?shared=true"
    page = seller.get(response.headers["location"]).text
    assert "The record was shared." in page and "Bob Brown (bob@example.com)" in page and "Read, Write" in page
    opened = colleague.get(f"/leads/{lead.id}")
    assert opened.status_code == 200 and lead.topic in shown(opened)
    assert 'id="share-button"' not in opened.text  # Bob was not given the Share right

    share = one(organisation, select(RecordShare.id).where(RecordShare.record_id == lead.id))
    revoked = post_form(seller, f"/leads/{lead.id}/share", f"/leads/{lead.id}/share/{share}/revoke", {})
    assert revoked.headers["location"] == f"/leads/{lead.id}/share?revoked=true"
    assert colleague.get(f"/leads/{lead.id}").status_code == 404


def test_an_account_is_shared_with_a_team_in_spanish(
    client_of: Callable[..., TestClient], organisation: Database, actor: Actor
) -> None:
    from leadflow.customers import service as customers
    from leadflow.customers.schemas import AccountCreate

    with organisation.unit_of_work() as uow:
        team = security.create_team("UK desk", business_unit_name="Sales UK", uow=uow, actor=actor)
        security.add_to_team(team.id, user_id(organisation, BOB), uow=uow, actor=actor)
        account = customers.create_account(
            AccountCreate(name="Muebles Ruiz"), uow=uow, actor=actor_for_email(uow.session, SAM)
        )
        uow.commit()
    seller = client_of(SAM, "es")
    page = seller.get(f"/accounts/{account.id}/share")
    assert page.status_code == 200
    for words in (
        "Compartir con",
        "Elija un usuario o un equipo",
        "Derechos",
        "Leer",
        "Escribir",
        "Anexar",
        "Asignar",
        "Este registro no se comparte con nadie.",
        "Volver al registro",
    ):
        assert words in shown(page), words

    response = post_form(
        seller,
        f"/accounts/{account.id}/share",
        f"/accounts/{account.id}/share",
        [("grantee", f"team:{team.id}"), ("rights", "read")],
    )

    assert response.status_code == 303
    listed = shown(seller.get(response.headers["location"]))
    assert "Se compartió el registro." in listed and "UK desk Equipo" in re.sub(r"<[^>]+>", "", listed).replace(
        "  ", " "
    )
    assert client_of(BOB).get(f"/accounts/{account.id}").status_code == 200


def test_only_who_may_share_a_record_is_offered_to(
    client_of: Callable[..., TestClient], organisation: Database
) -> None:
    lead = make_lead(organisation, actor_of(organisation, SAM))
    reader = client_of(RITA)  # reads the unit's leads, shares none
    page = reader.get(f"/leads/{lead.id}")
    assert page.status_code == 200 and 'id="share-button"' not in page.text and 'id="share-dialog"' not in page.text
    assert reader.get(f"/leads/{lead.id}/share").status_code == 403
    before = snapshot(organisation)
    refused = post_form(
        reader,
        f"/leads/{lead.id}",
        f"/leads/{lead.id}/share",
        [("grantee", f"user:{user_id(organisation, RITA)}"), ("rights", "read")],
    )
    assert refused.status_code == 403
    assert snapshot(organisation) == before
    # Someone who cannot even read it finds nothing there.
    assert client_of(BOB).get(f"/leads/{lead.id}/share").status_code == 404


def test_a_right_the_seller_does_not_hold_is_neither_offered_nor_granted(
    client_of: Callable[..., TestClient], organisation: Database, actor: Actor
) -> None:
    with organisation.unit_of_work() as uow:
        security.update_role_privileges(
            role_named(organisation, "Salesperson").id,
            {"leads": {Privilege.DELETE: Depth.NONE}},
            expected_version=None,
            uow=uow,
            actor=actor,
        )
        uow.commit()
    lead = make_lead(organisation, actor_of(organisation, SAM))
    seller = client_of(SAM)
    page = seller.get(f"/leads/{lead.id}/share").text
    assert 'id="share-right-write"' in page and 'id="share-right-delete"' not in page
    before = snapshot(organisation)

    response = post_form(
        seller,
        f"/leads/{lead.id}/share",
        f"/leads/{lead.id}/share",
        [("grantee", f"user:{user_id(organisation, BOB)}"), ("rights", "read"), ("rights", "delete")],
    )

    assert response.status_code == 403
    assert "You can share only the rights you hold on this record yourself" in shown(response)
    assert 'id="share-form"' in response.text  # the form stays, to choose again
    assert snapshot(organisation) == before
