"""Unit groups, in the product catalogue's administration: the list with a new group (its name and base
unit), a group's page to rename or delete it and to add units, and a unit's page to rename it, change
its quantity or delete it. Shared pieces are in ``admin_catalog``."""

from __future__ import annotations

import functools
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leadflow.catalog import service
from leadflow.catalog.models import Unit, UnitGroup
from leadflow.catalog.schemas import UnitCreate, UnitGroupCreate, UnitGroupUpdate, UnitUpdate
from leadflow.core.errors import LeadflowError
from leadflow.core.records import not_found
from leadflow.security.privileges import Privilege
from leadflow.web.areas.admin_catalog import (
    PAGE_SIZE,
    Deletable,
    commit_on_page,
    confirm_record_delete,
    create_record,
    gate,
    may,
    notice_of,
    number_input,
    save_record,
    tabs,
)
from leadflow.web.forms import FormDep, Refusal, id_in_path, refusal
from leadflow.web.i18n import N_, gettext
from leadflow.web.pages import WebSession, WebSessionDep, database_of, render

router = APIRouter()

GROUPS = "/admin/unit-groups"
_NEW_GROUP_FIELDS = ("name", "base_unit", "description")
_GROUP_FIELDS = ("name", "description")
_UNIT_FIELDS = ("name", "quantity", "base_unit_id")

_NOTICES = {
    "created": N_("The unit group was created with its base unit."),
    "saved": N_("Your changes were saved."),
    "deleted": N_("The unit group was deleted."),
    "unit_added": N_("The unit was added."),
    "unit_saved": N_("The unit was saved."),
    "unit_deleted": N_("The unit was deleted."),
}


def _unit_rows(group: UnitGroup) -> list[dict[str, Any]]:
    names = {unit.id: unit.name for unit in group.units}
    return [
        {
            "id": unit.id,
            "name": unit.name,
            "quantity": unit.quantity,
            "of": names.get(unit.base_unit_id) if unit.base_unit_id else None,
        }
        for unit in group.units
    ]


# ---------------------------------------------------------------------------------------------- the list


def _groups_page(
    request: Request,
    session: WebSession,
    *,
    values: dict[str, str] | None = None,
    failure: Refusal | None = None,
    status_code: int = 200,
) -> Response:
    params = request.query_params
    with database_of(request).unit_of_work(read_only=True) as uow:
        try:
            page = service.list_unit_groups(
                uow=uow, actor=session.actor, limit=PAGE_SIZE, cursor=params.get("cursor") or None
            )
        except LeadflowError as error:
            if error.code != "invalid_cursor":
                raise
            failure, status_code = refusal(session.language, error), 422
            page = service.list_unit_groups(uow=uow, actor=session.actor, limit=PAGE_SIZE)
        rows = [
            {
                "id": group.id,
                "name": group.name,
                "base_unit": group.base_unit.name,
                "units": [unit.name for unit in group.units if unit.base_unit_id is not None],
            }
            for group in page.items
        ]
    return render(
        request,
        session,
        "catalog/unit_groups.html",
        status_code=status_code,
        tabs=tabs(session),
        groups=rows,
        values=values or dict.fromkeys(_NEW_GROUP_FIELDS, ""),
        refusal=failure,
        field_errors=failure.fields if failure else {},
        notice=notice_of(request, _NOTICES, session.language),
        can_create=may(session, Privilege.CREATE),
        next_link=f"{GROUPS}?cursor={page.next_cursor}" if page.next_cursor else None,
        first_link=GROUPS if params.get("cursor") else None,
    )


@router.get(GROUPS, name="catalog_unit_groups")
@gate(Privilege.READ)
def unit_groups_page(request: Request, session: WebSessionDep) -> Response:
    """The unit groups by name, each with its base unit and its other units; a new group."""
    return _groups_page(request, session)


@router.post(GROUPS, name="catalog_unit_group_create")
@gate(Privilege.CREATE)
def create_unit_group(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """Add a unit group with its base unit; the list again, with the refusal, when refused."""
    return create_record(
        request,
        session,
        form,
        fields=_NEW_GROUP_FIELDS,
        schema=UnitGroupCreate,
        create=service.create_unit_group,
        again=lambda values, failure, status_code: _groups_page(
            request, session, values=values, failure=failure, status_code=status_code
        ),
        done=lambda group: f"{GROUPS}/{group.id}?notice=created",
    )


# ---------------------------------------------------------------------------------------------- one group


def _group_page(
    request: Request,
    session: WebSession,
    group_id: uuid.UUID,
    *,
    values: dict[str, str] | None = None,
    unit_values: dict[str, str] | None = None,
    failure: Refusal | None = None,
    unit_failure: Refusal | None = None,
    status_code: int = 200,
    version: int | None = None,
) -> Response:
    """A group's page: its name and description, its units and the form of a new unit."""
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        group = service.read_unit_group(group_id, uow=uow, actor=session.actor)
        units = _unit_rows(group)
        base = group.base_unit
        stored = {"name": group.name, "description": group.description or ""}
    return render(
        request,
        session,
        "catalog/unit_group.html",
        status_code=status_code,
        tabs=tabs(session),
        group=group,
        base_unit=base.name,
        units=units,
        values={**stored, **(values or {})},
        unit_values={"name": "", "quantity": "", "base_unit_id": str(base.id), **(unit_values or {})},
        unit_choices=[(str(unit["id"]), unit["name"]) for unit in units],
        refusal=failure,
        field_errors=failure.fields if failure else {},
        unit_refusal=unit_failure,
        unit_errors=unit_failure.fields if unit_failure else {},
        notice=notice_of(request, _NOTICES, language),
        row_version=version if version is not None and version >= 0 else group.row_version,
        can_write=may(session, Privilege.WRITE),
        can_create=may(session, Privilege.CREATE),
        can_delete=may(session, Privilege.DELETE),
    )


def _group_id(raw: str) -> uuid.UUID:
    return id_in_path(raw, record="unit_group")


_GROUP = Deletable(
    path=GROUPS,
    record="unit_group",
    read=service.read_unit_group,
    delete=service.delete_unit_group,
    page=_group_page,
    warning=N_("Delete this unit group and its units? A group products use cannot be deleted."),
)
_GROUP.add_routes(router)


@router.get(GROUPS + "/{group_id}", name="catalog_unit_group")
@gate(Privilege.READ)
def unit_group_page(request: Request, group_id: str, session: WebSessionDep) -> Response:
    """One unit group with its units."""
    return _group_page(request, session, _group_id(group_id))


@router.post(GROUPS + "/{group_id}", name="catalog_unit_group_save")
@gate(Privilege.WRITE)
def save_unit_group(request: Request, group_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Rename the group or change its description; refused when it changed since the form was loaded."""
    parsed = _group_id(group_id)
    return save_record(
        request,
        session,
        form,
        fields=_GROUP_FIELDS,
        schema=UnitGroupUpdate,
        update=functools.partial(service.update_unit_group, parsed),
        page=functools.partial(_group_page, request, session, parsed),
        done=f"{GROUPS}/{parsed}?notice=saved",
    )


@router.post(GROUPS + "/{group_id}/units", name="catalog_unit_add")
@gate(Privilege.CREATE)
def add_unit(request: Request, group_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Add a unit as a quantity of another unit of the group; the group's page, with the refusal, when refused."""
    parsed = _group_id(group_id)
    return create_record(
        request,
        session,
        form,
        fields=_UNIT_FIELDS,
        schema=UnitCreate,
        numbers=("quantity",),
        create=functools.partial(service.add_unit, parsed),
        again=lambda values, failure, status_code: _group_page(
            request, session, parsed, unit_values=values, unit_failure=failure, status_code=status_code
        ),
        done=lambda _unit: f"{GROUPS}/{parsed}?notice=unit_added#units",
    )


# ---------------------------------------------------------------------------------------------- one unit


def _unit_of(uow: Any, session: WebSession, group_id: uuid.UUID, unit_id: uuid.UUID) -> tuple[UnitGroup, Unit]:
    group = service.read_unit_group(group_id, uow=uow, actor=session.actor)
    unit = service.read_unit(unit_id, uow=uow, actor=session.actor)
    if unit.group_id != group.id:
        raise not_found(label="unit", record_id=unit_id)  # a unit of another group is none of this one's
    return group, unit


def _unit_page(
    request: Request,
    session: WebSession,
    group_id: uuid.UUID,
    unit_id: uuid.UUID,
    *,
    values: dict[str, str] | None = None,
    failure: Refusal | None = None,
    status_code: int = 200,
    version: int | None = None,
) -> Response:
    """A unit's page: its name and its quantity of another unit, and its deletion."""
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        group, unit = _unit_of(uow, session, group_id, unit_id)
        of = next((other.name for other in group.units if other.id == unit.base_unit_id), None)
        stored = {"name": unit.name, "quantity": number_input(unit.quantity, language)}
        facts = {"group_id": group.id, "group": group.name, "is_base": unit.base_unit_id is None, "of": of}
    return render(
        request,
        session,
        "catalog/unit.html",
        status_code=status_code,
        tabs=tabs(session),
        unit=unit,
        facts=facts,
        values={**stored, **(values or {})},
        refusal=failure,
        field_errors=failure.fields if failure else {},
        row_version=version if version is not None and version >= 0 else unit.row_version,
        can_write=may(session, Privilege.WRITE),
        can_delete=may(session, Privilege.DELETE) and unit.base_unit_id is not None,
    )


def _unit_id(raw: str) -> uuid.UUID:
    return id_in_path(raw, record="unit")


@router.get(GROUPS + "/{group_id}/units/{unit_id}", name="catalog_unit")
@gate(Privilege.READ)
def unit_page(request: Request, group_id: str, unit_id: str, session: WebSessionDep) -> Response:
    """One unit of a group."""
    return _unit_page(request, session, _group_id(group_id), _unit_id(unit_id))


@router.post(GROUPS + "/{group_id}/units/{unit_id}", name="catalog_unit_save")
@gate(Privilege.WRITE)
def save_unit(request: Request, group_id: str, unit_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Rename the unit or change its quantity (a base unit stays a quantity of 1)."""
    parsed_group, parsed = _group_id(group_id), _unit_id(unit_id)

    def update(changes: Any, *, uow: Any, actor: Any, expected_version: int | None) -> None:
        _unit_of(uow, session, parsed_group, parsed)
        service.update_unit(parsed, changes, uow=uow, actor=actor, expected_version=expected_version)

    return save_record(
        request,
        session,
        form,
        fields=("name", "quantity"),
        schema=UnitUpdate,
        numbers=("quantity",),
        update=update,
        page=functools.partial(_unit_page, request, session, parsed_group, parsed),
        done=f"{GROUPS}/{parsed_group}?notice=unit_saved#units",
    )


@router.get(GROUPS + "/{group_id}/units/{unit_id}/delete", name="catalog_unit_confirm_delete")
@gate(Privilege.DELETE)
def confirm_unit_delete(request: Request, group_id: str, unit_id: str, session: WebSessionDep) -> Response:
    """The delete's confirmation (the page's dialog does the same with JavaScript)."""
    parsed_group, parsed = _group_id(group_id), _unit_id(unit_id)
    return confirm_record_delete(
        request,
        session,
        heading=lambda uow: _unit_of(uow, session, parsed_group, parsed)[1].name,
        warning=gettext(session.language, "Delete this unit? A unit products, prices or lines use cannot be deleted."),
        path=f"{GROUPS}/{parsed_group}/units/{parsed}",
    )


@router.post(GROUPS + "/{group_id}/units/{unit_id}/delete", name="catalog_unit_delete")
@gate(Privilege.DELETE)
def delete_unit(request: Request, group_id: str, unit_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Delete a unit nothing is measured in; refused (on its page) otherwise."""
    parsed_group, parsed = _group_id(group_id), _unit_id(unit_id)

    def delete(*, uow: Any, actor: Any, expected_version: int | None) -> None:
        _unit_of(uow, session, parsed_group, parsed)
        service.delete_unit(parsed, uow=uow, actor=actor, expected_version=expected_version)

    return commit_on_page(
        request,
        session,
        form,
        run=delete,
        page=functools.partial(_unit_page, request, session, parsed_group, parsed),
        done=f"{GROUPS}/{parsed_group}?notice=unit_deleted#units",
    )
