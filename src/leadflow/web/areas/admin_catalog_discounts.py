"""Discount lists, in the product catalogue's administration: the list, a new discount list, and a
discount list's page to rename it, replace its quantity tiers or delete it. The tiers are rows of
begin quantity, end quantity and value, with a few empty rows to fill. Shared pieces are in
``admin_catalog``."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leadflow.catalog import service
from leadflow.catalog.models import DiscountKind, DiscountList
from leadflow.catalog.schemas import DiscountListCreate, DiscountListUpdate
from leadflow.core.errors import LeadflowError
from leadflow.core.formatting import amount_input, parse_amount
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.http.errors import status_for
from leadflow.organisation import currencies
from leadflow.security.privileges import Privilege
from leadflow.web.areas.admin_catalog import (
    KIND_LABELS,
    PAGE_SIZE,
    Deletable,
    catalog_refusal,
    choices,
    committed_form,
    gate,
    may,
    notice_of,
    number_input,
    posted,
    refused_form,
    service_input,
    tabs,
)
from leadflow.web.areas.opportunities_page import typed_number
from leadflow.web.forms import FormDep, Refusal, id_in_path, refusal
from leadflow.web.i18n import N_
from leadflow.web.labels import label
from leadflow.web.pages import WebSession, WebSessionDep, committed, database_of, redirect, render

router = APIRouter()

DISCOUNT_LISTS = "/admin/discount-lists"
_FIELDS = ("name", "kind", "currency", "description")
_TIER_FIELDS = ("begin_quantity", "end_quantity", "value")
# The empty rows a form offers below the tiers it shows, and the most rows it reads back.
EMPTY_ROWS = 3
MAX_ROWS = 100

_NOTICES = {
    "created": N_("The discount list was created."),
    "saved": N_("Your changes were saved."),
    "deleted": N_("The discount list was deleted."),
}


def _posted_tiers(form: Mapping[str, Any], language: str) -> list[dict[str, str]]:
    """The tier rows the form sent that are not empty, by begin quantity (the service's order: its
    refusals name a tier by its place in it)."""
    count = form.get("tier_count")
    rows = []
    for index in range(min(int(count), MAX_ROWS) if isinstance(count, str) and count.isdigit() else 0):
        row = {name: str(form.get(f"tiers-{index}-{name}", "")).strip() for name in _TIER_FIELDS}
        if any(row.values()):
            rows.append(row)
    return sorted(rows, key=lambda row: _begin(row, language))


def _begin(row: Mapping[str, str], language: str) -> Decimal:
    """A row's begin quantity as typed in the user's language; a row without a readable one goes last."""
    try:
        return parse_amount(row["begin_quantity"], language)
    except ValueError:
        return Decimal("Infinity")


def _tiers_input(rows: list[dict[str, str]], language: str) -> list[dict[str, str]]:
    return [{name: typed_number(value, language) for name, value in row.items() if value} for row in rows]


def _tier_rows(rows: list[dict[str, str]], errors: Mapping[str, str]) -> list[dict[str, Any]]:
    """The rows the form shows: the tiers, then empty rows; each with its fields' messages."""
    shown = [*rows, *(dict.fromkeys(_TIER_FIELDS, "") for _ in range(EMPTY_ROWS))]
    return [
        {
            "index": index,
            "values": row,
            "errors": {name: errors.get(f"tiers.{index}.{name}", "") for name in _TIER_FIELDS},
            "error": errors.get(f"tiers.{index}", ""),
        }
        for index, row in enumerate(shown)
    ]


def _stored_tiers(discount: DiscountList, language: str) -> list[dict[str, str]]:
    return [
        {
            "begin_quantity": number_input(tier.begin_quantity, language),
            "end_quantity": number_input(tier.end_quantity, language),
            "value": number_input(tier.value, language)
            if discount.kind is DiscountKind.PERCENTAGE
            else amount_input(tier.value, language),
        }
        for tier in discount.tiers
    ]


# ---------------------------------------------------------------------------------------------- the list


@router.get(DISCOUNT_LISTS, name="catalog_discount_lists")
@gate(Privilege.READ)
def discount_lists_page(request: Request, session: WebSessionDep) -> Response:
    """The discount lists by name, with their kind and tiers."""
    params = request.query_params
    language = session.language
    failure: Refusal | None = None
    with database_of(request).unit_of_work(read_only=True) as uow:
        try:
            page = service.list_discount_lists(
                uow=uow, actor=session.actor, limit=PAGE_SIZE, cursor=params.get("cursor") or None
            )
        except LeadflowError as error:
            if error.code != "invalid_cursor":
                raise
            failure = refusal(language, error)
            page = service.list_discount_lists(uow=uow, actor=session.actor, limit=PAGE_SIZE)
        rows = [
            {
                "id": discount.id,
                "name": discount.name,
                "kind": label(language, KIND_LABELS, discount.kind),
                "percentage": discount.kind is DiscountKind.PERCENTAGE,
                "currency": discount.currency.iso_code if discount.currency else "",
                "tiers": [(tier.begin_quantity, tier.end_quantity, tier.value) for tier in discount.tiers],
            }
            for discount in page.items
        ]
    return render(
        request,
        session,
        "catalog/discount_lists.html",
        status_code=200 if failure is None else 422,
        tabs=tabs(session),
        discount_lists=rows,
        refusal=failure,
        notice=notice_of(request, _NOTICES, language),
        can_create=may(session, Privilege.CREATE),
        next_link=f"{DISCOUNT_LISTS}?cursor={page.next_cursor}" if page.next_cursor else None,
        first_link=DISCOUNT_LISTS if params.get("cursor") else None,
    )


# ---------------------------------------------------------------------------------------------- one discount list


def _discount_page(
    request: Request,
    session: WebSession,
    discount_id: uuid.UUID | None,
    *,
    values: dict[str, str] | None = None,
    tiers: list[dict[str, str]] | None = None,
    failure: Refusal | None = None,
    status_code: int = 200,
    version: int | None = None,
) -> Response:
    """A discount list's page (or the empty form of a new one), with the user's input and any refusal."""
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        discount = service.read_discount_list(discount_id, uow=uow, actor=session.actor) if discount_id else None
        enabled = [currency.iso_code for currency in currencies.list_currencies(uow=uow, actor=session.actor)]
        if discount is not None:
            stored = {
                "name": discount.name,
                "kind": discount.kind.value,
                "currency": discount.currency.iso_code if discount.currency else "",
                "description": discount.description or "",
            }
            stored_tiers = _stored_tiers(discount, language)
        else:
            stored = {"name": "", "kind": DiscountKind.PERCENTAGE.value, "currency": "", "description": ""}
            stored_tiers = []
    errors = failure.fields if failure else {}
    return render(
        request,
        session,
        "catalog/discount_list.html",
        status_code=status_code,
        tabs=tabs(session),
        discount=discount,
        kind_label=label(language, KIND_LABELS, discount.kind) if discount else "",
        values={**stored, **(values or {})},
        tiers=_tier_rows(tiers if tiers is not None else stored_tiers, errors),
        kinds=choices(language, KIND_LABELS),
        currencies=[(code, code) for code in enabled],
        refusal=failure,
        field_errors=errors,
        notice=notice_of(request, _NOTICES, language),
        row_version=version if version is not None and version >= 0 else (discount.row_version if discount else 0),
        can_write=may(session, Privilege.CREATE if discount is None else Privilege.WRITE),
        can_delete=discount is not None and may(session, Privilege.DELETE),
    )


def _discount_id(raw: str) -> uuid.UUID:
    return id_in_path(raw, record="discount_list")


_DISCOUNT_LIST = Deletable(
    path=DISCOUNT_LISTS,
    record="discount_list",
    read=service.read_discount_list,
    delete=service.delete_discount_list,
    page=_discount_page,
    warning=N_("Delete this discount list? The price list items that use it give no volume discount any more."),
)
_DISCOUNT_LIST.add_routes(router)


@router.get(DISCOUNT_LISTS + "/new", name="catalog_discount_list_new")
@gate(Privilege.CREATE)
def new_discount_list(request: Request, session: WebSessionDep) -> Response:
    """An empty form for a new discount list."""
    return _discount_page(request, session, None)


@router.post(DISCOUNT_LISTS + "/new", name="catalog_discount_list_create")
@gate(Privilege.CREATE)
def create_discount_list(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """Add a discount list with its tiers; the form again, with the refusal, when refused."""
    values = posted(form, _FIELDS)
    rows = _posted_tiers(form, session.language)
    try:
        data = parse(
            DiscountListCreate,
            {
                **service_input(values, language=session.language, creating=True),
                "tiers": _tiers_input(rows, session.language),
            },
        )
        discount = committed(request, lambda uow: service.create_discount_list(data, uow=uow, actor=session.actor))
    except LeadflowError as error:
        refused_form(error)
        return _discount_page(
            request,
            session,
            None,
            values=values,
            tiers=rows,
            failure=catalog_refusal(session.language, error),
            status_code=status_for(error),
        )
    return redirect(f"{DISCOUNT_LISTS}/{discount.id}?notice=created")


@router.get(DISCOUNT_LISTS + "/{discount_id}", name="catalog_discount_list")
@gate(Privilege.READ)
def discount_list_page(request: Request, discount_id: str, session: WebSessionDep) -> Response:
    """One discount list with its tiers."""
    return _discount_page(request, session, _discount_id(discount_id))


@router.post(DISCOUNT_LISTS + "/{discount_id}", name="catalog_discount_list_save")
@gate(Privilege.WRITE)
def save_discount_list(request: Request, discount_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Rename the discount list or replace its tiers; refused when it changed since the form was loaded."""
    parsed = _discount_id(discount_id)
    values = posted(form, ("name", "description"))
    rows = _posted_tiers(form, session.language)

    def change(version: int | None) -> Callable[[UnitOfWork], object]:
        changes = parse(
            DiscountListUpdate,
            {
                **service_input(values, language=session.language, creating=False),
                "tiers": _tiers_input(rows, session.language),
            },
        )
        return lambda uow: service.update_discount_list(
            parsed, changes, uow=uow, actor=session.actor, expected_version=version
        )

    return committed_form(
        request,
        session,
        form,
        change=change,
        again=lambda failure, status_code, version: _discount_page(
            request,
            session,
            parsed,
            values=values,
            tiers=rows,
            failure=failure,
            status_code=status_code,
            version=version,
        ),
        done=f"{DISCOUNT_LISTS}/{parsed}?notice=saved",
    )
