"""An opportunity's products in the web app: its pricing inputs, its lines (add an existing product or a
write-in one, change a line, remove it) and "New quote".

Each form posts to a route of its own and lands back on the opportunity's products section; a refusal
shows the opportunity's page again with the refusal beside the form and what the user typed. The
routes translate the forms into the calls the REST API makes (``leadflow.opportunities.service`` and
``leadflow.sales.service``), which decide.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leadflow.catalog.schemas import LineUpdate
from leadflow.core.errors import LeadflowError
from leadflow.core.uow import UnitOfWork
from leadflow.http.errors import status_for
from leadflow.opportunities.models import Opportunity, OpportunityProduct
from leadflow.opportunities.service import update_opportunity
from leadflow.sales import service as sales
from leadflow.web.areas.opportunity_products_page import posted_pricing, pricing_changes, pricing_values
from leadflow.web.areas.records_forms import OPPORTUNITIES
from leadflow.web.areas.records_page import readable_record, record_page, refused_page
from leadflow.web.areas.sales_lines import SectionFailure, line_changes, new_line, posted_line, sales_refusal
from leadflow.web.forms import FormDep, id_in_path, parse_version
from leadflow.web.pages import WebSession, WebSessionDep, committed, redirect, refusals_shown_by

router = APIRouter()

_opportunity_route = refusals_shown_by(
    lambda request, session, error: refused_page(request, session, OPPORTUNITIES, error)
)
# Where each form lands: the opportunity's products section.
_PRODUCTS = "#products"


def _opportunity_id(raw: str) -> uuid.UUID:
    return id_in_path(raw, record="opportunity")


def _refused(
    request: Request,
    session: WebSession,
    record_id: uuid.UUID,
    error: LeadflowError,
    *,
    where: str,
    posted: dict[str, str] | None = None,
) -> Response:
    """The opportunity's page again, with the refusal beside the form it came from."""
    failure = SectionFailure(where, sales_refusal(session.language, error), posted or {})
    return record_page(
        request, session, OPPORTUNITIES, record_id, status_code=status_for(error), products_failure=failure
    )


def _done(record_id: uuid.UUID, notice: str) -> Response:
    return redirect(f"/opportunities/{record_id}?notice={notice}{_PRODUCTS}")


@router.post("/opportunities/{record_id}/pricing", name="opportunities_pricing")
@_opportunity_route
def save_pricing(request: Request, record_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Change the price list, how the revenue is calculated, the discount on the whole or the freight."""
    parsed = _opportunity_id(record_id)
    posted = posted_pricing(form)
    version = parse_version(form.get("row_version"))

    def change(uow: UnitOfWork) -> Opportunity:
        stored = pricing_values(readable_record(uow, session, OPPORTUNITIES, parsed), session.language)
        changes = pricing_changes(posted, stored, language=session.language)
        return update_opportunity(parsed, changes, uow=uow, actor=session.actor, expected_version=version)

    try:
        committed(request, change)
    except LeadflowError as error:
        return _refused(request, session, parsed, error, where="pricing", posted=posted)
    return _done(parsed, "products")


@router.post("/opportunities/{record_id}/products", name="opportunities_add_product")
@_opportunity_route
def add_product(request: Request, record_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Add an existing product in a unit, or a write-in product, to the opportunity."""
    parsed = _opportunity_id(record_id)
    posted = posted_line(form)
    where = "write_in" if "write_in_name" in posted else "existing"
    version = parse_version(form.get("row_version"))
    try:
        data = new_line(posted, language=session.language)
        committed(
            request,
            lambda uow: sales.add_opportunity_product(
                parsed, data, uow=uow, actor=session.actor, expected_version=version
            ),
        )
    except LeadflowError as error:
        return _refused(request, session, parsed, error, where=where, posted=posted)
    return _done(parsed, "products")


@router.post("/opportunities/{record_id}/products/{line_id}", name="opportunities_change_product")
@_opportunity_route
def change_product(request: Request, record_id: str, line_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Change a line's quantity, discount, tax (or a write-in's name and price)."""
    parsed, line = _opportunity_id(record_id), id_in_path(line_id, record="line")
    posted = posted_line(form)
    version = parse_version(form.get("row_version"))

    def change(uow: UnitOfWork) -> OpportunityProduct:
        stored = uow.session.get(OpportunityProduct, line)
        changes = line_changes(posted, stored, language=session.language) if stored is not None else LineUpdate()
        return sales.update_opportunity_product(
            parsed, line, changes, uow=uow, actor=session.actor, expected_version=version
        )

    try:
        committed(request, change)
    except LeadflowError as error:
        return _refused(request, session, parsed, error, where=str(line), posted=posted)
    return _done(parsed, "products")


@router.post("/opportunities/{record_id}/products/{line_id}/remove", name="opportunities_remove_product")
@_opportunity_route
def remove_product(request: Request, record_id: str, line_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Remove a line from the opportunity."""
    parsed, line = _opportunity_id(record_id), id_in_path(line_id, record="line")
    version = parse_version(form.get("row_version"))
    try:
        committed(
            request,
            lambda uow: sales.delete_opportunity_product(
                parsed, line, uow=uow, actor=session.actor, expected_version=version
            ),
        )
    except LeadflowError as error:
        return _refused(request, session, parsed, error, where=str(line))
    return _done(parsed, "products")


@router.post("/opportunities/{record_id}/quotes", name="opportunities_new_quote")
@_opportunity_route
def new_quote(request: Request, record_id: str, session: WebSessionDep) -> Response:
    """A draft quote with the opportunity's products, price list, currency and customer."""
    parsed = _opportunity_id(record_id)
    try:
        quote = committed(request, lambda uow: sales.quote_from_opportunity(parsed, uow=uow, actor=session.actor))
    except LeadflowError as error:
        return _refused(request, session, parsed, error, where="quotes")
    return redirect(f"/quotes/{quote.id}?notice=created")
