"""Currencies (administrators): the enabled currencies with their exchange rates, enabling another one,
a currency's page to change its name, symbol, precision and rate or remove it, and recalculating the
open records with the current rates (a job: its page, ``/jobs/{id}``, follows it and says how many
records changed).

The pages are for those who may change currencies (System Administrator and System Customizer); the
services of ``leadflow.organisation.currencies`` decide, and refuse to remove the base currency or one
that records use.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from babel.numbers import get_currency_name, list_currencies
from fastapi import APIRouter, Request
from fastapi.responses import Response

from leadflow.core.errors import Forbidden, LeadflowError
from leadflow.core.formatting import locale_of
from leadflow.core.schemas import parse
from leadflow.http.errors import status_for
from leadflow.organisation import currencies as service
from leadflow.organisation.currencies import CurrencyCreate, CurrencyUpdate
from leadflow.organisation.models import Currency
from leadflow.security.privileges import Privilege
from leadflow.tasks.admin import start_recalculation
from leadflow.web.areas.admin import admin_area
from leadflow.web.areas.opportunities_page import rate_input, rate_text, typed_number
from leadflow.web.forms import FormDep, Refusal, id_in_path, parse_version, refusal
from leadflow.web.i18n import N_, gettext
from leadflow.web.pages import WebSession, WebSessionDep, committed, database_of, redirect, render

router = APIRouter()

CURRENCIES = "/admin/currencies"
_NEW_FIELDS = ("iso_code", "name", "symbol", "precision", "exchange_rate")
_CHANGED_FIELDS = ("name", "symbol", "precision", "exchange_rate")
PRECISIONS = (0, 1, 2, 3, 4)

_NOTICES = {
    "enabled": N_("The currency was enabled."),
    "saved": N_(
        "Your changes were saved. Records keep the rate they captured until they are saved again or recalculated."
    ),
    "removed": N_("The currency was removed."),
    "base": N_("The base currency changed; the other exchange rates are now per unit of it."),
}
# The field a refusal that names none belongs to.
_FIELDS_BY_CODE = {"currency_exists": "iso_code", "invalid_currency": "iso_code", "base_currency_rate": "exchange_rate"}


def _gate(endpoint: Any) -> Any:
    return admin_area("currencies", Privilege.WRITE)(endpoint)


def _rows(currencies: list[Currency], language: str) -> list[dict[str, Any]]:
    return [
        {
            "id": currency.id,
            "iso_code": currency.iso_code,
            "name": currency.name,
            "symbol": currency.symbol,
            "precision": currency.precision,
            "rate": rate_text(currency.exchange_rate, language),
            "is_base": currency.is_base,
        }
        for currency in currencies
    ]


def _choices(enabled: set[str], language: str) -> list[tuple[str, str]]:
    """The ISO 4217 currencies not enabled yet, by code, named in the user's language."""
    locale = locale_of(language)
    return [
        (code, f"{code} · {get_currency_name(code, locale=locale)}") for code in sorted(list_currencies() - enabled)
    ]


def _posted(form: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, str]:
    return {name: value if isinstance(value := form.get(name), str) else "" for name in names}


def _input(posted: Mapping[str, str], language: str) -> dict[str, Any]:
    """The service's input: the rate read in the user's language; fields left empty are not sent."""
    data: dict[str, Any] = {}
    for name, raw in posted.items():
        text = raw.strip()
        if text:
            data[name] = typed_number(text, language) if name == "exchange_rate" else text
    return data


def _currencies_page(
    request: Request,
    session: WebSession,
    *,
    values: dict[str, str] | None = None,
    failure: Refusal | None = None,
    status_code: int = 200,
    notice: str | None = None,
) -> Response:
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        currencies = list(service.list_currencies(uow=uow, actor=session.actor))
    return render(
        request,
        session,
        "admin/currencies.html",
        status_code=status_code,
        currencies=_rows(currencies, language),
        choices=_choices({currency.iso_code for currency in currencies}, language),
        values=values or {"iso_code": "", "name": "", "symbol": "", "precision": "2", "exchange_rate": ""},
        precisions=[(str(precision), str(precision)) for precision in PRECISIONS],
        refusal=failure,
        field_errors=failure.fields if failure else {},
        notice=notice,
    )


@router.get(CURRENCIES, name="currencies_list")
@_gate
def currencies_page(request: Request, session: WebSessionDep) -> Response:
    """The enabled currencies, the base first; enabling another; recalculating the open records."""
    params = request.query_params
    notice = gettext(session.language, _NOTICES[params["notice"]]) if params.get("notice") in _NOTICES else None
    return _currencies_page(request, session, notice=notice)


@router.post(CURRENCIES, name="currencies_enable")
@_gate
def enable_currency(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """Enable a currency with its rate to the base currency; the list again, with the refusal, when refused."""
    posted = _posted(form, _NEW_FIELDS)
    try:
        data = parse(CurrencyCreate, _input(posted, session.language))
        committed(request, lambda uow: service.create_currency(data, uow=uow, actor=session.actor))
    except LeadflowError as error:
        if isinstance(error, Forbidden):
            raise
        return _currencies_page(
            request,
            session,
            values=posted,
            failure=refusal(session.language, error, _FIELDS_BY_CODE),
            status_code=status_for(error),
        )
    return redirect(f"{CURRENCIES}?notice=enabled")


@router.post(CURRENCIES + "/recalculate", name="currencies_recalculate")
@_gate
def recalculate(request: Request, session: WebSessionDep) -> Response:
    """Apply the current exchange rates to the open leads and opportunities, as a job; its page follows
    it and says how many changed."""
    job = start_recalculation(database=database_of(request), actor=session.actor)
    request.app.state.queue.enqueue(job.id)
    return redirect(f"/jobs/{job.id}")


def _currency_page(
    request: Request,
    session: WebSession,
    currency_id: uuid.UUID,
    *,
    values: dict[str, str] | None = None,
    failure: Refusal | None = None,
    status_code: int = 200,
    version: int | None = None,
    confirming_removal: bool = False,
) -> Response:
    """A currency's form with the user's input and any refusal; also the removal's confirmation."""
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        try:
            currency = service.read_currency(currency_id, uow=uow, actor=session.actor)
        except LeadflowError as error:
            if isinstance(error, Forbidden):
                raise
            return render(
                request,
                session,
                "admin/refused.html",
                status_code=status_for(error),
                title=N_("This can't be done"),
                message=refusal(language, error).message,
            )
        base_locked = service.money_in_use(uow.session) is not None
    stored = {
        "name": currency.name,
        "symbol": currency.symbol,
        "precision": str(currency.precision),
        "exchange_rate": rate_input(currency.exchange_rate, language),
    }
    return render(
        request,
        session,
        "admin/currency.html",
        status_code=status_code,
        currency=currency,
        values={**stored, **(values or {})},
        precisions=[(str(precision), str(precision)) for precision in PRECISIONS],
        refusal=failure,
        field_errors=failure.fields if failure else {},
        row_version=version if version is not None and version >= 0 else currency.row_version,
        confirming_removal=confirming_removal,
        base_locked=base_locked,
    )


def _currency_id(raw: str) -> uuid.UUID:
    return id_in_path(raw, record="currency")


@router.get(CURRENCIES + "/{currency_id}", name="currencies_record")
@_gate
def currency_page(request: Request, currency_id: str, session: WebSessionDep) -> Response:
    """One currency: its name, symbol, precision and rate, and its removal."""
    return _currency_page(request, session, _currency_id(currency_id))


@router.post(CURRENCIES + "/{currency_id}", name="currencies_save")
@_gate
def save_currency(request: Request, currency_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Change a currency; refused when it changed since the form was loaded."""
    parsed = _currency_id(currency_id)
    posted = _posted(form, tuple(name for name in _CHANGED_FIELDS if name in form))
    version = parse_version(form.get("row_version"))
    try:
        # An emptied field is sent as empty, so that the service names it as required.
        changes = parse(CurrencyUpdate, {name: None for name in posted} | _input(posted, session.language))
        committed(
            request,
            lambda uow: service.update_currency(
                parsed, changes, uow=uow, actor=session.actor, expected_version=version
            ),
        )
    except LeadflowError as error:
        if isinstance(error, Forbidden):
            raise
        return _currency_page(
            request,
            session,
            parsed,
            values=posted,
            status_code=status_for(error),
            version=version,
            failure=refusal(session.language, error, _FIELDS_BY_CODE),
        )
    return redirect(f"{CURRENCIES}?notice=saved")


@router.post(CURRENCIES + "/{currency_id}/base", name="currencies_make_base")
@_gate
def make_base(request: Request, currency_id: str, session: WebSessionDep) -> Response:
    """Make this currency the base currency; refused (on its page) once records hold amounts."""
    parsed = _currency_id(currency_id)
    try:
        committed(request, lambda uow: service.change_base_currency(parsed, uow=uow, actor=session.actor))
    except LeadflowError as error:
        if isinstance(error, Forbidden):
            raise
        return _currency_page(
            request, session, parsed, status_code=status_for(error), failure=refusal(session.language, error)
        )
    return redirect(f"{CURRENCIES}?notice=base")


@router.get(CURRENCIES + "/{currency_id}/remove", name="currencies_confirm_removal")
@_gate
def confirm_removal(request: Request, currency_id: str, session: WebSessionDep) -> Response:
    """The removal's confirmation (the page's dialog does the same with JavaScript)."""
    version = parse_version(request.query_params.get("row_version"))
    return _currency_page(request, session, _currency_id(currency_id), version=version, confirming_removal=True)


@router.post(CURRENCIES + "/{currency_id}/remove", name="currencies_remove")
@_gate
def remove_currency(request: Request, currency_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Remove a currency that is not the base and that no record uses; refused (on its page) otherwise."""
    parsed = _currency_id(currency_id)
    version = parse_version(form.get("row_version"))
    try:
        committed(
            request, lambda uow: service.delete_currency(parsed, uow=uow, actor=session.actor, expected_version=version)
        )
    except LeadflowError as error:
        if isinstance(error, Forbidden):
            raise
        return _currency_page(
            request,
            session,
            parsed,
            status_code=status_for(error),
            version=version,
            failure=refusal(session.language, error),
        )
    return redirect(f"{CURRENCIES}?notice=removed")
