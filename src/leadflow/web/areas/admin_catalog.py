"""What the product catalogue's administration pages share: the gate on the "products" area and its
refusal page, the tabs between the pages, the labels of the catalogue's pick-lists, the reading of
their forms and the delete confirmation.

The pages live beside this module: products (``admin_catalog_products``), product families
(``admin_catalog_families``), unit groups (``admin_catalog_units``), price lists
(``admin_catalog_prices``) and discount lists (``admin_catalog_discounts``). Every role reads the
catalogue; the roles that may change it (the "products" area, ``leadflow.security.privileges``) are
shown its forms, the others its lists and pages only. The services of ``leadflow.catalog.service`` decide; their refusals are shown next to
the fields they name.
"""

from __future__ import annotations

import functools
import operator
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from leadflow.catalog.models import DiscountKind, PricingMethod, ProductState, RoundingOption, RoundingPolicy, UnitGroup
from leadflow.core.errors import Forbidden, LeadflowError
from leadflow.core.formatting import locale_of
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.http.errors import status_for
from leadflow.http.refusals import field_items
from leadflow.organisation.models import Currency
from leadflow.security.access import forbidden
from leadflow.security.privileges import Privilege
from leadflow.web.areas.opportunities_page import typed_number
from leadflow.web.forms import FormDep, Refusal, id_in_path, parse_version, refusal
from leadflow.web.i18n import N_, gettext
from leadflow.web.pages import (
    Endpoint,
    WebSession,
    WebSessionDep,
    committed,
    database_of,
    redirect,
    refusals_shown_by,
    render,
)

AREA = "products"
PAGE_SIZE = 50

# The tabs between the catalogue's pages (every role that reads one reads them all).
TABS = (
    ("/admin/products", N_("Products")),
    ("/admin/product-families", N_("Product families")),
    ("/admin/unit-groups", N_("Unit groups")),
    ("/admin/price-lists", N_("Price lists")),
    ("/admin/discount-lists", N_("Discount lists")),
)

STATE_LABELS = {
    ProductState.DRAFT.value: N_("Draft"),
    ProductState.ACTIVE.value: N_("Active"),
    ProductState.RETIRED.value: N_("Retired"),
}
STATE_BADGES = {ProductState.DRAFT.value: "warn", ProductState.ACTIVE.value: "ok", ProductState.RETIRED.value: ""}
METHOD_LABELS = {
    PricingMethod.CURRENCY_AMOUNT.value: N_("Currency amount"),
    PricingMethod.PERCENT_OF_LIST.value: N_("Percent of list"),
    PricingMethod.MARKUP_CURRENT_COST.value: N_("Percent markup - current cost"),
    PricingMethod.MARKUP_STANDARD_COST.value: N_("Percent markup - standard cost"),
    PricingMethod.MARGIN_CURRENT_COST.value: N_("Percent margin - current cost"),
    PricingMethod.MARGIN_STANDARD_COST.value: N_("Percent margin - standard cost"),
}
POLICY_LABELS = {
    RoundingPolicy.NONE.value: N_("No rounding"),
    RoundingPolicy.UP.value: N_("Up"),
    RoundingPolicy.DOWN.value: N_("Down"),
    RoundingPolicy.NEAREST.value: N_("To nearest"),
}
OPTION_LABELS = {RoundingOption.ENDS_IN.value: N_("Ends in"), RoundingOption.MULTIPLE_OF.value: N_("Multiple of")}
KIND_LABELS = {DiscountKind.PERCENTAGE.value: N_("Percentage"), DiscountKind.AMOUNT.value: N_("Amount")}

# The field a refusal that names none belongs to.
_FIELDS_BY_CODE = {"invalid_currency": "currency", "currency_not_enabled": "currency"}


def catalog_refusal(language: str, error: LeadflowError) -> Refusal:
    """A catalogue refusal in the user's language with its messages next to the fields (the words are
    ``leadflow.http.refusals``'s); a discount tier's own check (its end below its begin) names the row."""
    found = refusal(language, error, _FIELDS_BY_CODE)
    for item in field_items(error):
        name = str(item["field"])
        if name.startswith("tiers.") and name.count(".") == 1 and item.get("code") == "invalid_value":
            found.fields[name] = gettext(language, "The end quantity is below the begin quantity.")
    return found


def refused_page(request: Request, session: WebSession, error: LeadflowError) -> Response:
    """A page telling why the request was refused: a missing privilege (403), a record not found (404)..."""
    title = N_("You can't open this page") if isinstance(error, Forbidden) else N_("This can't be done")
    return render(
        request,
        session,
        "admin/refused.html",
        status_code=status_for(error),
        title=title,
        message=catalog_refusal(session.language, error).message,
    )


def gate(privilege: Privilege) -> Callable[[Endpoint], Endpoint]:
    """A catalogue page for those who hold ``privilege`` on the catalogue (a 403 page otherwise); a
    refusal the endpoint leaves unhandled (a record not found) becomes a page too."""

    def decorate(endpoint: Endpoint) -> Endpoint:
        shown = refusals_shown_by(refused_page)(endpoint)

        @functools.wraps(endpoint)
        def gated(*args: Any, **kwargs: Any) -> Response:
            session: WebSession = kwargs["session"]
            if not may(session, privilege):
                return refused_page(
                    kwargs["request"], session, forbidden(session.actor, privilege, AREA, what="this area")
                )
            return shown(*args, **kwargs)

        return gated

    return decorate


def may(session: WebSession, privilege: Privilege) -> bool:
    return session.can_admin(AREA, privilege)


def tabs(session: WebSession) -> list[dict[str, str]]:
    """The tabs between the catalogue's pages."""
    return [
        {"path": path, "label": gettext(session.language, text), "id": f"tab-{path.rsplit('/', 1)[-1]}"}
        for path, text in TABS
    ]


def choices(language: str, labels: Mapping[str, str]) -> list[tuple[str, str]]:
    """The options of a pick-list, labelled in the user's language."""
    return [(value, gettext(language, text)) for value, text in labels.items()]


def posted(form: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, str]:
    """The fields of ``names`` the form sent, as text (a field it left out is left out)."""
    return {name: value if isinstance(value := form.get(name), str) else "" for name in names if name in form}


def service_input(
    values: Mapping[str, str], *, language: str, creating: bool, numbers: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The service's input: numbers read in the user's language; an emptied field is left out of a new
    record and cleared on an existing one (the service names a required one)."""
    data: dict[str, Any] = {}
    for name, raw in values.items():
        text = raw.strip()
        if text and name in numbers:
            text = typed_number(text, language)
        if text or not creating:
            data[name] = text or None
    return data


def number_input(value: Decimal | int | None, language: str) -> str:
    """A quantity or a percentage as a person types it: the decimals it has, no grouping."""
    if value is None:
        return ""
    return format_decimal(value, format="0.#####", locale=locale_of(language))


def refused_form(error: LeadflowError) -> None:
    """A missing privilege is a 403 page, not a form to correct: raised again for the area's gate."""
    if isinstance(error, Forbidden):
        raise error


def base_currency(uow: UnitOfWork) -> str | None:
    return uow.session.scalar(select(Currency.iso_code).where(Currency.is_base.is_(True)))


def unit_choices(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every unit, grouped by its unit group (groups and units by name), for the unit pickers."""
    groups = uow.session.scalars(select(UnitGroup).order_by(UnitGroup.name).limit(1000)).all()
    return [{"label": group.name, "choices": [(str(unit.id), unit.name) for unit in group.units]} for group in groups]


def confirm_delete(
    request: Request,
    session: WebSession,
    *,
    heading: str,
    warning: str,
    action: str,
    back: str,
    row_version: int | None,
) -> Response:
    """A delete's confirmation on a page of its own (the page's dialog does the same with JavaScript)."""
    return render(
        request,
        session,
        "catalog/confirm_delete.html",
        heading=heading,
        warning=warning,
        action=action,
        back=back,
        row_version="" if row_version is None else row_version,
    )


def create_record(
    request: Request,
    session: WebSession,
    form: Mapping[str, Any],
    *,
    fields: tuple[str, ...],
    schema: type[Any],
    create: Callable[..., Any],
    again: Callable[[dict[str, str], Refusal, int], Response],
    done: Callable[[Any], str],
    numbers: tuple[str, ...] = (),
) -> Response:
    """Add a record from a form: ``create(data, uow=, actor=)``, then the page ``done`` names for what
    it made; refused, ``again(values, refusal, status)`` shows the form again with what was typed."""
    values = posted(form, fields)
    try:
        data = parse(schema, service_input(values, language=session.language, creating=True, numbers=numbers))
        made = committed(request, lambda uow: create(data, uow=uow, actor=session.actor))
    except LeadflowError as error:
        refused_form(error)
        return again(values, catalog_refusal(session.language, error), status_for(error))
    return redirect(done(made))


def committed_form(
    request: Request,
    session: WebSession,
    form: Mapping[str, Any],
    *,
    change: Callable[[int | None], Callable[[UnitOfWork], object]],
    again: Callable[[Refusal, int, int | None], Response],
    done: str,
) -> Response:
    """Commit what a form asks: ``change`` reads the form (a refusal there is the form's too) and gives
    the work, checked against the row version the form was loaded at; then the page ``done`` names, or
    the page ``again`` shows with the refusal, its status and that version."""
    version = parse_version(form.get("row_version"))
    try:
        committed(request, change(version))
    except LeadflowError as error:
        refused_form(error)
        return again(catalog_refusal(session.language, error), status_for(error), version)
    return redirect(done)


def save_record(
    request: Request,
    session: WebSession,
    form: Mapping[str, Any],
    *,
    fields: tuple[str, ...],
    schema: type[Any],
    update: Callable[..., object],
    page: Callable[..., Response],
    done: str,
    numbers: tuple[str, ...] = (),
) -> Response:
    """Save a record's form: ``update(changes, uow=, actor=, expected_version=)``; refused, its page
    (``page(values=, failure=, status_code=, version=)``) again with what was typed."""
    values = posted(form, fields)

    def change(version: int | None) -> Callable[[UnitOfWork], object]:
        changes = parse(schema, service_input(values, language=session.language, creating=False, numbers=numbers))
        return lambda uow: update(changes, uow=uow, actor=session.actor, expected_version=version)

    return committed_form(
        request,
        session,
        form,
        change=change,
        again=lambda failure, status_code, version: page(
            values=values, failure=failure, status_code=status_code, version=version
        ),
        done=done,
    )


def commit_on_page(
    request: Request,
    session: WebSession,
    form: Mapping[str, Any],
    *,
    run: Callable[..., object],
    page: Callable[..., Response],
    done: str,
) -> Response:
    """A button of a record's page (delete, publish...): ``run(uow=, actor=, expected_version=)``;
    refused, the page (``page(failure=, status_code=)``) again with the refusal."""
    return committed_form(
        request,
        session,
        form,
        change=lambda version: lambda uow: run(uow=uow, actor=session.actor, expected_version=version),
        again=lambda failure, status_code, _version: page(failure=failure, status_code=status_code),
        done=done,
    )


def confirm_record_delete(
    request: Request, session: WebSession, *, heading: Callable[[UnitOfWork], str], warning: str, path: str
) -> Response:
    """The confirmation of the delete of the record at ``path``, headed by what ``heading`` reads."""
    with database_of(request).unit_of_work(read_only=True) as uow:
        name = heading(uow)
    return confirm_delete(
        request,
        session,
        heading=name,
        warning=warning,
        action=f"{path}/delete",
        back=path,
        row_version=parse_version(request.query_params.get("row_version")),
    )


@dataclass(frozen=True)
class Deletable:
    """A catalogue record deleted from its own page, at ``{path}/{id}``: what its delete's confirmation
    and its delete need."""

    path: str  # the path of the list of these records
    record: str  # the record's name in routes and refusals: "unit_group" (routes catalog_unit_group_delete...)
    read: Callable[..., Any]  # the service's read: (id, uow=, actor=)
    delete: Callable[..., object]  # the service's delete: (id, uow=, actor=, expected_version=)
    page: Callable[..., Response]  # the record's page: (request, session, id, failure=, status_code=)
    warning: str  # marked with N_, said in the user's language
    heading: Callable[[Any], str] = operator.attrgetter("name")

    def add_routes(self, router: APIRouter) -> None:
        """The delete's confirmation page (``GET {path}/{id}/delete``) and the delete itself (``POST``)."""
        path = self.path + "/{record_id}/delete"

        @router.get(path, name=f"catalog_{self.record}_confirm_delete")
        @gate(Privilege.DELETE)
        def confirm_delete(request: Request, record_id: str, session: WebSessionDep) -> Response:
            """The delete's confirmation (the page's dialog does the same with JavaScript)."""
            return self.confirm(request, session, id_in_path(record_id, record=self.record))

        @router.post(path, name=f"catalog_{self.record}_delete")
        @gate(Privilege.DELETE)
        def delete(request: Request, record_id: str, session: WebSessionDep, form: FormDep) -> Response:
            """Delete the record; refused (on its page) when the service refuses."""
            return self.deleted(request, session, id_in_path(record_id, record=self.record), form)

    def confirm(self, request: Request, session: WebSession, record_id: uuid.UUID) -> Response:
        """The delete's confirmation (the page's dialog does the same with JavaScript)."""
        return confirm_record_delete(
            request,
            session,
            heading=lambda uow: self.heading(self.read(record_id, uow=uow, actor=session.actor)),
            warning=gettext(session.language, self.warning),
            path=f"{self.path}/{record_id}",
        )

    def deleted(self, request: Request, session: WebSession, record_id: uuid.UUID, form: Mapping[str, Any]) -> Response:
        """Delete the record, then its list; refused, its page again with the refusal."""
        return commit_on_page(
            request,
            session,
            form,
            run=functools.partial(self.delete, record_id),
            page=functools.partial(self.page, request, session, record_id),
            done=f"{self.path}?notice=deleted",
        )


def notice_of(request: Request, notices: Mapping[str, str], language: str) -> str | None:
    key = request.query_params.get("notice", "")
    return gettext(language, notices[key]) if key in notices else None
