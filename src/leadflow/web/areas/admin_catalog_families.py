"""Product families, in the product catalogue's administration: the list with the number of products in
each and a new family, and a family's page to rename it, change its description or delete it (its
products stay, in no family). Shared pieces are in ``admin_catalog``."""

from __future__ import annotations

import functools
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from leadflow.catalog import service
from leadflow.catalog.models import Product
from leadflow.catalog.schemas import FamilyCreate, FamilyUpdate
from leadflow.core.errors import LeadflowError
from leadflow.core.uow import UnitOfWork
from leadflow.security.privileges import Privilege
from leadflow.web.areas.admin_catalog import (
    PAGE_SIZE,
    Deletable,
    create_record,
    gate,
    may,
    notice_of,
    save_record,
    tabs,
)
from leadflow.web.forms import FormDep, Refusal, id_in_path, refusal
from leadflow.web.i18n import N_
from leadflow.web.pages import WebSession, WebSessionDep, database_of, render

router = APIRouter()

FAMILIES = "/admin/product-families"
_FAMILY_FIELDS = ("name", "description")

_NOTICES = {
    "created": N_("The product family was created."),
    "saved": N_("Your changes were saved."),
    "deleted": N_("The product family was deleted; its products are in no family."),
}


def _product_counts(uow: UnitOfWork, family_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """The number of products in each of the families."""
    if not family_ids:
        return {}
    rows = uow.session.execute(
        select(Product.family_id, func.count()).where(Product.family_id.in_(family_ids)).group_by(Product.family_id)
    ).all()
    return {family_id: total for family_id, total in rows if family_id is not None}


# ---------------------------------------------------------------------------------------------- the list


def _families_page(
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
            page = service.list_families(
                uow=uow, actor=session.actor, limit=PAGE_SIZE, cursor=params.get("cursor") or None
            )
        except LeadflowError as error:
            if error.code != "invalid_cursor":
                raise
            failure, status_code = refusal(session.language, error), 422
            page = service.list_families(uow=uow, actor=session.actor, limit=PAGE_SIZE)
        counts = _product_counts(uow, [family.id for family in page.items])
        rows = [
            {
                "id": family.id,
                "name": family.name,
                "description": family.description or "",
                "products": counts.get(family.id, 0),
            }
            for family in page.items
        ]
    return render(
        request,
        session,
        "catalog/families.html",
        status_code=status_code,
        tabs=tabs(session),
        families=rows,
        values=values or dict.fromkeys(_FAMILY_FIELDS, ""),
        refusal=failure,
        field_errors=failure.fields if failure else {},
        notice=notice_of(request, _NOTICES, session.language),
        can_create=may(session, Privilege.CREATE),
        next_link=f"{FAMILIES}?cursor={page.next_cursor}" if page.next_cursor else None,
        first_link=FAMILIES if params.get("cursor") else None,
    )


@router.get(FAMILIES, name="catalog_families")
@gate(Privilege.READ)
def families_page(request: Request, session: WebSessionDep) -> Response:
    """The product families by name, each with its number of products; a new family."""
    return _families_page(request, session)


@router.post(FAMILIES, name="catalog_family_create")
@gate(Privilege.CREATE)
def create_family(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """Add a product family; the list again, with the refusal, when refused."""
    return create_record(
        request,
        session,
        form,
        fields=_FAMILY_FIELDS,
        schema=FamilyCreate,
        create=service.create_family,
        again=lambda values, failure, status_code: _families_page(
            request, session, values=values, failure=failure, status_code=status_code
        ),
        done=lambda family: f"{FAMILIES}/{family.id}?notice=created",
    )


# ---------------------------------------------------------------------------------------------- one family


def _family_page(
    request: Request,
    session: WebSession,
    family_id: uuid.UUID,
    *,
    values: dict[str, str] | None = None,
    failure: Refusal | None = None,
    status_code: int = 200,
    version: int | None = None,
) -> Response:
    """A family's page: its name and description, its number of products and its deletion."""
    with database_of(request).unit_of_work(read_only=True) as uow:
        family = service.read_family(family_id, uow=uow, actor=session.actor)
        products = _product_counts(uow, [family.id]).get(family.id, 0)
        stored = {"name": family.name, "description": family.description or ""}
    return render(
        request,
        session,
        "catalog/family.html",
        status_code=status_code,
        tabs=tabs(session),
        family=family,
        products=products,
        values={**stored, **(values or {})},
        refusal=failure,
        field_errors=failure.fields if failure else {},
        notice=notice_of(request, _NOTICES, session.language),
        row_version=version if version is not None and version >= 0 else family.row_version,
        can_write=may(session, Privilege.WRITE),
        can_delete=may(session, Privilege.DELETE),
    )


def _family_id(raw: str) -> uuid.UUID:
    return id_in_path(raw, record="family")


_FAMILY = Deletable(
    path=FAMILIES,
    record="family",
    read=service.read_family,
    delete=service.delete_family,
    page=_family_page,
    warning=N_("Delete this product family? Its products stay, in no family."),
)
_FAMILY.add_routes(router)


@router.get(FAMILIES + "/{family_id}", name="catalog_family")
@gate(Privilege.READ)
def family_page(request: Request, family_id: str, session: WebSessionDep) -> Response:
    """One product family."""
    return _family_page(request, session, _family_id(family_id))


@router.post(FAMILIES + "/{family_id}", name="catalog_family_save")
@gate(Privilege.WRITE)
def save_family(request: Request, family_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Rename the family or change its description; refused when it changed since the form was loaded."""
    parsed = _family_id(family_id)
    return save_record(
        request,
        session,
        form,
        fields=_FAMILY_FIELDS,
        schema=FamilyUpdate,
        update=functools.partial(service.update_family, parsed),
        page=functools.partial(_family_page, request, session, parsed),
        done=f"{FAMILIES}/{parsed}?notice=saved",
    )
