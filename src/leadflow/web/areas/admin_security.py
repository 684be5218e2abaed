"""Security administration (§8): the tabs every security page shares, and business units, the tree the
organisation is made of (list, new unit, rename, move under another unit).

Teams are in ``admin_security_teams``, roles and their privilege grid in ``admin_security_roles``,
users in ``admin_users``. The pages read through ``leadflow.security.directory`` and change through
``leadflow.security.service``, which check the privileges: a page only translates forms into those
calls and shows their refusals.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leadflow.core.errors import Forbidden, LeadflowError, ValidationFailed
from leadflow.http.errors import status_for
from leadflow.security import directory
from leadflow.security import service as security_service
from leadflow.security.privileges import Privilege
from leadflow.web.areas.admin import admin_area
from leadflow.web.forms import FormDep, Refusal, parse_uuid, parse_version, refusal
from leadflow.web.i18n import N_, gettext
from leadflow.web.pages import WebSession, WebSessionDep, committed, database_of, redirect, render

router = APIRouter()

UNITS = "/admin/business-units"

# Sentences of the security services the catalogues translate word for word (they carry no values);
# listed so that the catalogue check asks for their translation.
SECURITY_SENTENCES = (
    N_("A business unit needs a name."),
    N_("A team needs a name."),
    N_("The name of a business unit is at most 160 characters."),
    N_("The name of a team is at most 160 characters."),
    N_("A business unit with this name already exists."),
    N_("A team with this name already exists."),
    N_("The root business unit is the organisation itself; it cannot go under another unit."),
    N_("A business unit cannot go under itself or under a unit below it."),
    N_("Choose the business unit this one belongs to."),
    N_("The privileges of the System Administrator role cannot be changed; copy it to make a role of your own."),
    N_("This user is not a member of the team."),
    N_("This record is not shared with them any more."),
    N_("A role needs a name."),
    N_("A role's name is at most 100 characters."),
    N_("Share with exactly one user or one team."),
    # The refusals of the security pages' own forms
    N_("Choose a business unit from the list."),
    N_("Choose a user from the list."),
    N_("Choose a user or a team to share with."),
    N_("Choose an access level from the list in every cell."),
)


# ---------------------------------------------------------------------------------------------- the tabs

# The security pages, each shown to whom may read it: (path, label, administrative area).
_TABS = (
    ("/admin/users", N_("Users"), "users"),
    ("/admin/roles", N_("Security roles"), "roles"),
    (UNITS, N_("Business units"), "business_units"),
    ("/admin/teams", N_("Teams"), "users"),
)


def security_tabs(session: WebSession) -> list[dict[str, str]]:
    """The tabs of the security pages the user may open (Read on their area)."""
    return [
        {"path": path, "label": gettext(session.language, text), "id": f"tab-{path.rsplit('/', 1)[-1]}"}
        for path, text, area in _TABS
        if session.can_admin(area, Privilege.READ)
    ]


def stale(error: Refusal | None) -> bool:
    """Whether a refusal says the form is older than the record (then the page offers a reload)."""
    return error is not None and error.code in ("stale_etag", "concurrent_update")


# ---------------------------------------------------------------------------------------------- business units

# The field of the unit forms each refusal without a field of its own belongs to.
_UNIT_FIELDS = {
    "business_unit_exists": "name",
    "business_unit_loop": "parent_id",
    "root_business_unit": "parent_id",
    "business_unit_not_found": "parent",
    "parent_id_not_found": "parent_id",
}

_UNIT_NOTICES = {
    "created": N_("The business unit was created."),
    "saved": N_("The business unit was saved."),
}


def _units_page(
    request: Request,
    session: WebSession,
    *,
    values: dict[str, str] | None = None,
    failure: Refusal | None = None,
    status_code: int = 200,
) -> Response:
    with database_of(request).unit_of_work(read_only=True) as uow:
        tree = directory.list_business_units(uow=uow, actor=session.actor)
    rows = [
        {
            "id": entry.unit.id,
            "name": entry.unit.name,
            "level": entry.level,
            "parent": entry.parent,
            "users": entry.users,
            "teams": entry.teams,
        }
        for entry in tree
    ]
    root = next((row["name"] for row in rows if row["parent"] is None), "")
    return render(
        request,
        session,
        "admin/business_units.html",
        status_code=status_code,
        tabs=security_tabs(session),
        units=rows,
        parents=[(row["name"], row["name"]) for row in rows],
        values=values or {"name": "", "parent": root},
        error=failure.message if failure else None,
        errors=failure.fields if failure else {},
        can_create=session.can_admin("business_units", Privilege.CREATE),
    )


@router.get(UNITS)
@admin_area("business_units", Privilege.READ)
def business_units_page(request: Request, session: WebSessionDep) -> Response:
    """The business units as a tree, with their users and teams; a new unit (Create on business units)."""
    return _units_page(request, session)


@router.post(UNITS)
@admin_area("business_units", Privilege.READ)
def create_business_unit(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """Add a business unit under another; a refusal shows the list again with what was typed."""
    values = {"name": str(form.get("name", ""))[:1000], "parent": str(form.get("parent", ""))[:1000]}
    try:
        unit = committed(
            request,
            lambda uow: security_service.create_business_unit(
                values["name"], parent_name=values["parent"] or None, uow=uow, actor=session.actor
            ),
        )
    except LeadflowError as error:
        if isinstance(error, Forbidden):
            raise
        return _units_page(
            request,
            session,
            values=values,
            failure=refusal(session.language, error, _UNIT_FIELDS),
            status_code=status_for(error),
        )
    return redirect(f"{UNITS}/{unit.id}?created=true")


def _unit_page(
    request: Request,
    session: WebSession,
    unit_id: uuid.UUID,
    *,
    values: dict[str, Any] | None = None,
    failure: Refusal | None = None,
    status_code: int = 200,
    notice: str | None = None,
) -> Response:
    with database_of(request).unit_of_work(read_only=True) as uow:
        detail = directory.get_business_unit(unit_id, uow=uow, actor=session.actor)
    unit = detail.unit
    stored = {"name": unit.name, "parent_id": str(unit.parent_id or ""), "row_version": unit.row_version}
    return render(
        request,
        session,
        "admin/business_unit.html",
        status_code=status_code,
        tabs=security_tabs(session),
        unit={"id": unit.id, "name": unit.name, "is_root": unit.parent_id is None},
        parent={"id": detail.parent.id, "name": detail.parent.name} if detail.parent else None,
        children=[{"id": child.id, "name": child.name} for child in detail.children],
        users=[
            {"id": user.id, "full_name": user.full_name, "email": user.email, "is_active": user.is_active}
            for user in detail.users
        ],
        teams=[{"id": team.id, "name": team.name} for team in detail.teams],
        parents=[(str(parent.id), parent.name) for parent in detail.possible_parents],
        values={**stored, **(values or {})},
        error=failure.message if failure else None,
        errors=failure.fields if failure else {},
        stale=stale(failure),
        notice=notice,
        can_change=session.can_admin("business_units", Privilege.WRITE),
        can_read_users=session.can_admin("users", Privilege.READ),
    )


@router.get(UNITS + "/{unit_id}")
@admin_area("business_units", Privilege.READ)
def business_unit_page(request: Request, session: WebSessionDep, unit_id: uuid.UUID) -> Response:
    """One business unit: its parent, the units below it, its users and teams; rename it or move it
    under another unit (Write on business units)."""
    notice = next(
        (gettext(session.language, text) for key, text in _UNIT_NOTICES.items() if request.query_params.get(key)), None
    )
    return _unit_page(request, session, unit_id, notice=notice)


@router.post(UNITS + "/{unit_id}")
@admin_area("business_units", Privilege.READ)
def save_business_unit(request: Request, session: WebSessionDep, unit_id: uuid.UUID, form: FormDep) -> Response:
    """Rename the unit or move it; a unit changed by someone else since the form was loaded is not overwritten."""
    values = {
        "name": str(form.get("name", ""))[:1000],
        "parent_id": str(form.get("parent_id", ""))[:100],
        "row_version": str(form.get("row_version", ""))[:20],
    }
    try:
        parent_id = parse_uuid(values["parent_id"])
        if values["parent_id"] and parent_id is None:
            raise ValidationFailed(
                "Choose a business unit from the list.",
                code="invalid_option",
                details={"fields": [{"field": "parent_id", "code": "invalid_option"}]},
            )
        committed(
            request,
            lambda uow: security_service.update_business_unit(
                unit_id,
                name=values["name"],
                parent_id=parent_id,
                expected_version=parse_version(values["row_version"]),
                uow=uow,
                actor=session.actor,
            ),
        )
    except LeadflowError as error:
        if isinstance(error, Forbidden) or error.code == "business_unit_not_found":
            raise
        return _unit_page(
            request,
            session,
            unit_id,
            values=values,
            status_code=status_for(error),
            failure=refusal(session.language, error, _UNIT_FIELDS),
        )
    return redirect(f"{UNITS}/{unit_id}?saved=true")
