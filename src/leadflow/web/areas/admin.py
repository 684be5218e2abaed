"""Administration pages: organisation settings (§6) and the user's own page; what every admin page shares.

The other administration areas live beside this module (``admin_rules``, ``admin_duplicates``,
``admin_users``, ``admin_audit``) and use its helpers: the privilege gate that answers with a 403
page, the page of a refusal no form shows, and the regions phone numbers are read in. Refusals are
put into words by ``leadflow.web.forms``.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any

import phonenumbers
import segno
from babel import Locale
from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy import select
from starlette.datastructures import FormData

from leadflow.activities import calendar
from leadflow.core.db import utcnow
from leadflow.core.errors import Forbidden, LeadflowError, ValidationFailed
from leadflow.core.formatting import locale_of, time_zone_names
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.http.errors import status_for
from leadflow.organisation.models import DuplicateExperience, QualificationExperience, RecordCreation
from leadflow.organisation.schemas import (
    DuplicateDetectionSettings,
    QualificationSettings,
    RegionalSettings,
    SalesSettingsChange,
)
from leadflow.organisation.service import get_settings, update_settings
from leadflow.sales import numbering as numbering_service
from leadflow.sales.models import DocumentKind
from leadflow.sales.schemas import NumberingUpdate
from leadflow.security import authentication, directory
from leadflow.security import service as security_service
from leadflow.security.access import forbidden
from leadflow.security.credentials import MIN_PASSWORD_LENGTH
from leadflow.security.models import BusinessUnit, User
from leadflow.security.privileges import Privilege
from leadflow.web.areas.admin_labels import (
    DUPLICATE_EXPERIENCE_LABELS,
    LANGUAGE_LABELS,
    QUALIFICATION_EXPERIENCE_LABELS,
    RECORD_CREATION_LABELS,
    ROLE_LABELS,
    TOKEN_KIND_LABELS,
)
from leadflow.web.forms import (
    PASSWORD_FIELDS,
    FormDep,
    field_errors,
    id_in_path,
    parse_version,
    refusal,
    refusal_text,
    repeated_password,
)
from leadflow.web.i18n import N_, gettext
from leadflow.web.labels import label
from leadflow.web.pages import (
    TWO_FACTOR_SETUP,
    Endpoint,
    WebSession,
    WebSessionDep,
    committed,
    database_of,
    redirect,
    refusals_shown_by,
    render,
)

router = APIRouter()


# ---------------------------------------------------------------------------------------------- shared helpers


def refused_page(request: Request, session: WebSession, error: LeadflowError) -> Response:
    """A page telling why the request was refused (403 for a missing privilege, 404, 409...)."""
    status = status_for(error)
    title = N_("You can't open this page") if isinstance(error, Forbidden) else N_("This can't be done")
    return render(
        request,
        session,
        "admin/refused.html",
        status_code=status,
        title=title,
        message=refusal_text(session.language, error),
    )


# A page any signed-in user may open; the services decide, and their refusals become pages.
signed_in_page = refusals_shown_by(refused_page)


def admin_area(area: str, privilege: Privilege) -> Callable[[Endpoint], Endpoint]:
    """Gate a page on an administrative privilege; any refusal left unhandled becomes a page.

    The endpoint must take ``request`` and ``session`` parameters. Without the privilege the page
    is a 403 naming what is missing; a domain error the endpoint does not handle itself (a record
    not found, a privilege a service refuses) is shown with its status instead of the API's JSON.
    """

    def decorate(endpoint: Endpoint) -> Endpoint:
        shown = signed_in_page(endpoint)

        @functools.wraps(endpoint)
        def gated(*args: Any, **kwargs: Any) -> Response:
            session: WebSession = kwargs["session"]
            if not session.can_admin(area, privilege):
                return refused_page(
                    kwargs["request"], session, forbidden(session.actor, privilege, area, what="this area")
                )
            return shown(*args, **kwargs)

        return gated

    return decorate


def phone_regions(language: str) -> list[tuple[str, str]]:
    """Regions phone numbers can be read in, named in the page's language, sorted by name."""
    names = Locale.parse(locale_of(language)).territories
    regions = [(code, names.get(code, code)) for code in phonenumbers.SUPPORTED_REGIONS]
    return sorted(regions, key=lambda item: item[1].casefold())


# ---------------------------------------------------------------------------------------------- settings (§6)

_QUALIFICATION_FIELDS = tuple(QualificationSettings.model_fields)
_DUPLICATE_FIELDS = tuple(DuplicateDetectionSettings.model_fields)
_REGIONAL_FIELDS = tuple(RegionalSettings.model_fields)
_COMPANY_FIELDS = ("company_name", "company_address")
# How quotes, orders and invoices are numbered: a prefix and the next number of each kind.
_NUMBERING_KINDS = (
    (DocumentKind.QUOTE, N_("Quotes")),
    (DocumentKind.ORDER, N_("Orders")),
    (DocumentKind.INVOICE, N_("Invoices")),
)
_NUMBERING_FIELDS = tuple(
    f"numbering_{kind.value}_{part}" for kind, _text in _NUMBERING_KINDS for part in ("prefix", "next_number")
)
_CHECKBOXES = (
    "duplicate_detection_enabled",
    "detect_duplicates_leads",
    "detect_duplicates_accounts",
    "detect_duplicates_contacts",
    "detect_duplicates_opportunities",
)


def _settings_values(settings: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in (*_QUALIFICATION_FIELDS, *_DUPLICATE_FIELDS):
        value = getattr(settings, name)
        values[name] = value if isinstance(value, bool) and name in _CHECKBOXES else getattr(value, "value", value)
    values["create_records_on_qualify"] = "true" if settings.create_records_on_qualify else "false"
    values["default_time_zone"] = settings.default_time_zone
    values["row_version"] = settings.row_version
    values["company_name"] = settings.company_name or ""
    values["company_address"] = settings.company_address or ""
    return values


def _numbering_values(uow: UnitOfWork, actor: Any) -> dict[str, Any]:
    """Each kind's prefix and next number as the form shows them."""
    values: dict[str, Any] = {}
    for row in numbering_service.numbering(uow=uow, actor=actor):
        values[f"numbering_{row.kind.value}_prefix"] = row.prefix
        values[f"numbering_{row.kind.value}_next_number"] = str(row.next_number)
        values[f"numbering_{row.kind.value}_digits"] = row.digits
    return values


def _numbering_rows(language: str, values: dict[str, Any]) -> list[dict[str, str]]:
    """The rows of the numbering table: each kind with the number its next document takes."""
    rows = []
    for kind, text in _NUMBERING_KINDS:
        prefix = str(values.get(f"numbering_{kind.value}_prefix") or "")
        number = str(values.get(f"numbering_{kind.value}_next_number") or "")
        digits = int(values.get(f"numbering_{kind.value}_digits") or 5)
        example = numbering_service.format_number(prefix, int(number), digits) if number.isdigit() else ""
        rows.append({"key": kind.value, "label": gettext(language, text), "example": example})
    return rows


def _numbering_changes(values: dict[str, Any]) -> dict[DocumentKind, NumberingUpdate]:
    """The numbering the form sent, by kind (a kind it did not send is left out); its problems are
    named by the form's fields."""
    changes: dict[DocumentKind, NumberingUpdate] = {}
    problems: list[dict[str, Any]] = []
    for kind, _text in _NUMBERING_KINDS:
        sent = {part: values.get(f"numbering_{kind.value}_{part}") for part in ("prefix", "next_number")}
        if all(value is None for value in sent.values()):
            continue
        try:
            changes[kind] = parse(
                NumberingUpdate, {part: str(value).strip() or None for part, value in sent.items() if value is not None}
            )
        except ValidationFailed as error:
            problems += [
                {**item, "field": f"numbering_{kind.value}_{item['field']}"} for item in error.details["fields"]
            ]
    if problems:
        raise ValidationFailed(
            " ".join(str(item["message"]) for item in problems), code="validation_failed", details={"fields": problems}
        )
    return changes


def _save_numbering(uow: UnitOfWork, actor: Any, changes: dict[DocumentKind, NumberingUpdate]) -> None:
    """Change the numbering of the kinds whose prefix or next number the form changed."""
    current = {row.kind: row for row in numbering_service.numbering(uow=uow, actor=actor)}
    for kind, change in changes.items():
        row = current[kind]
        if (change.prefix, change.next_number) != (row.prefix, row.next_number):
            numbering_service.change_numbering(
                kind, prefix=change.prefix, next_number=change.next_number, uow=uow, actor=actor
            )


def _posted_settings(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {
        name: form.get(name)
        for name in (
            *_QUALIFICATION_FIELDS,
            *_DUPLICATE_FIELDS,
            *_REGIONAL_FIELDS,
            *_COMPANY_FIELDS,
            *_NUMBERING_FIELDS,
        )
    }
    for name in _CHECKBOXES:
        values[name] = name in form
    values["row_version"] = form.get("row_version", "")
    return values


def _settings_page(
    request: Request,
    session: WebSession,
    values: dict[str, Any],
    *,
    status_code: int = 200,
    error: str | None = None,
    errors: dict[str, str] | None = None,
    saved: bool = False,
) -> Response:
    language = session.language
    return render(
        request,
        session,
        "admin/settings.html",
        status_code=status_code,
        values=values,
        error=error,
        errors=errors or {},
        saved=saved,
        qualification_experiences=[
            (e.value, label(language, QUALIFICATION_EXPERIENCE_LABELS, e)) for e in QualificationExperience
        ],
        record_creations=[(c.value, label(language, RECORD_CREATION_LABELS, c)) for c in RecordCreation],
        duplicate_experiences=[(e.value, label(language, DUPLICATE_EXPERIENCE_LABELS, e)) for e in DuplicateExperience],
        regions=phone_regions(language),
        time_zones=[(name, name) for name in time_zone_names()],
        numbering_kinds=_numbering_rows(language, values),
    )


@router.get("/admin/settings")
@admin_area("settings", Privilege.WRITE)
def settings_page(request: Request, session: WebSessionDep, saved: bool = False) -> Response:
    """Qualification settings (§6), duplicate detection settings (§5, §6), the default time zone, and the
    company and numbering of quotes, orders and invoices."""
    # Not read-only: a kind of document never numbered before is given its row (rolled back here).
    with database_of(request).unit_of_work() as uow:
        values = {**_settings_values(get_settings(uow.session)), **_numbering_values(uow, session.actor)}
    return _settings_page(request, session, values, saved=saved)


@router.post("/admin/settings")
@admin_area("settings", Privilege.WRITE)
def save_settings(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """Save every group of settings in one step; a refusal keeps what was typed."""
    values = _posted_settings(form)
    try:
        qualification = parse(QualificationSettings, {name: values[name] for name in _QUALIFICATION_FIELDS})
        duplicates = parse(DuplicateDetectionSettings, {name: values[name] for name in _DUPLICATE_FIELDS})
        # A form without the time zone field (an older page) leaves the default time zone as it is.
        regional = (
            parse(RegionalSettings, {name: values[name] for name in _REGIONAL_FIELDS}).model_dump()
            if values["default_time_zone"] is not None
            else {}
        )
        # The company printed on quotes, orders and invoices, and their numbering, as far as the form sends them.
        company = parse(
            SalesSettingsChange,
            {name: str(values[name]).strip() or None for name in _COMPANY_FIELDS if values[name] is not None},
        ).model_dump(exclude_unset=True)
        numbering = _numbering_changes(values)
        with database_of(request).unit_of_work() as uow:
            update_settings(
                {**qualification.model_dump(), **duplicates.model_dump(), **regional, **company},
                uow=uow,
                actor=session.actor,
                expected_version=parse_version(values["row_version"]),
            )
            _save_numbering(uow, session.actor, numbering)
            uow.commit()
    except LeadflowError as error:
        if isinstance(error, Forbidden):
            raise
        return _settings_page(
            request,
            session,
            values,
            status_code=status_for(error),
            error=refusal_text(session.language, error),
            errors=field_errors(session.language, error),
        )
    return redirect("/admin/settings?saved=true")


# ---------------------------------------------------------------------------------------------- the user's own page

ME = "/me"
# The newest tokens the user's page lists (every sign-in adds one).
TOKENS_SHOWN = 50

_ME_NOTICES = {
    "saved": N_("Your settings were saved."),
    "password_changed": N_(
        "Your password was changed. Your other sessions and tokens were ended: sign in again on your other devices."
    ),
    "token_revoked": N_("The token was revoked."),
    "two_factor_off": N_("Two-factor sign-in is off."),
    "calendar_revoked": N_("The calendar address was revoked: calendars that subscribed to it stop updating."),
}


def _token_rows(language: str, session: WebSession, uow: Any) -> list[dict[str, Any]]:
    now = utcnow()
    rows = []
    for token in (
        entry.token
        for entry in directory.list_tokens(
            user_email=session.email, uow=uow, actor=session.actor, limit=TOKENS_SHOWN
        ).items
    ):
        rows.append(
            {
                "id": token.id,
                "kind": label(language, TOKEN_KIND_LABELS, token.kind),
                "name": token.name,
                "created_at": token.created_at,
                "expires_at": token.expires_at,
                "last_used_at": token.last_used_at,
                "revoked_at": token.revoked_at,
                "current": token.id == session.token_id,
                "usable": token.revoked_at is None and token.expires_at > now,
            }
        )
    return rows


def _me_page(
    request: Request,
    session: WebSession,
    *,
    status_code: int = 200,
    error: str | None = None,
    notice: str | None = None,
    password_errors: dict[str, str] | None = None,
    calendar_url: str | None = None,
) -> Response:
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        # The private calendar feed: whether it is on; its address only right after it is made.
        calendar_feed_on = calendar.has_feed(uow=uow, actor=session.actor)
        user = uow.session.get(User, session.actor.user_id)
        unit = (
            uow.session.scalar(select(BusinessUnit.name).where(BusinessUnit.id == user.business_unit_id))
            if user
            else None
        )
        stored_language = (user.language if user else None) or ""
        stored_time_zone = (user.time_zone if user else None) or ""
        organisation_time_zone = get_settings(uow.session).default_time_zone
        two_factor_since = user.totp_enabled_at if user else None
        tokens = _token_rows(language, session, uow)
    return render(
        request,
        session,
        "admin/me.html",
        status_code=status_code,
        error=error,
        notice=notice,
        business_unit=unit,
        roles=[label(language, ROLE_LABELS, role) for role in session.actor.role_names],
        language_choices=[*LANGUAGE_LABELS.items(), ("", gettext(language, "The browser's language"))],
        stored_language=stored_language,
        can_save_language=True,
        time_zone_choices=[(name, name) for name in time_zone_names()],
        stored_time_zone=stored_time_zone,
        organisation_time_zone=organisation_time_zone,
        password_errors=password_errors or {},
        min_password_length=MIN_PASSWORD_LENGTH,
        two_factor_since=two_factor_since,
        tokens=tokens,
        tokens_shown=TOKENS_SHOWN,
        calendar_feed_on=calendar_feed_on,
        calendar_url=calendar_url,
    )


@router.get(ME)
@signed_in_page
def me_page(request: Request, session: WebSessionDep) -> Response:
    """The signed-in user's name, email, business unit, roles, language and time zone; their password,
    two-factor sign-in, and sessions and tokens."""
    notice = next(
        (gettext(session.language, text) for key, text in _ME_NOTICES.items() if request.query_params.get(key)), None
    )
    return _me_page(request, session, notice=notice)


@router.post(ME)
@signed_in_page
def save_me(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """Save the user's language (English, Spanish, or the browser's: an empty choice) and time zone (an
    IANA name, or the organisation's: an empty choice)."""
    choice = str(form.get("language", "")).strip() or None
    # A form without the time zone field (an older page) leaves the user's time zone as it is.
    time_zone_sent = "time_zone" in form
    time_zone = str(form.get("time_zone", "")).strip() or None
    user_id = session.actor.user_id

    def save(uow: Any) -> None:
        security_service.set_language(user_id, choice, uow=uow, actor=session.actor)
        if time_zone_sent:
            security_service.set_time_zone(user_id, time_zone, uow=uow, actor=session.actor)

    try:
        committed(request, save)
    except LeadflowError as error:
        return _me_page(request, session, status_code=status_for(error), error=refusal_text(session.language, error))
    return redirect(f"{ME}?saved=true")


@router.post(ME + "/password")
@signed_in_page
def change_password(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """Change one's own password: the current one, and the new one twice. Every other session ends."""
    current, new = str(form.get("current_password", ""))[:1024], str(form.get("new_password", ""))[:1024]
    try:
        repeated_password(new, str(form.get("repeat_password", ""))[:1024])
        committed(
            request,
            lambda uow: authentication.change_password(
                current,
                new,
                uow=uow,
                actor=session.actor,
                keep_token=session.token_id,
            ),
        )
    except LeadflowError as error:
        refused = refusal(session.language, error, PASSWORD_FIELDS)
        return _me_page(
            request, session, status_code=status_for(error), error=refused.message, password_errors=refused.fields
        )
    return redirect(f"{ME}?password_changed=true")


@router.post(ME + "/tokens/{token_id}/revoke")
@signed_in_page
def revoke_token(request: Request, session: WebSessionDep, token_id: str) -> Response:
    """Revoke one of one's tokens or sessions at once."""
    parsed = id_in_path(token_id, record="token")
    committed(request, lambda uow: authentication.revoke_token(parsed, uow=uow, actor=session.actor))
    return redirect(f"{ME}?token_revoked=true#tokens")


# ---------------------------------------------------------------------------------------------- two-factor sign-in


def qr_code_svg(text: str, title: str) -> Markup:
    """``text`` as a QR code: an SVG drawn here, to put in the page as it is (no image is fetched)."""
    code = segno.make(text, error="m")
    return Markup(
        code.svg_inline(scale=1, border=4, dark="#000", light="#fff", title=title, svgclass="qr-code", omitsize=True)
    )


def grouped(secret: str) -> str:
    """A secret to type by hand, in groups of four characters."""
    return " ".join(secret[start : start + 4] for start in range(0, len(secret), 4))


def _two_factor_page(
    request: Request,
    session: WebSession,
    *,
    status_code: int = 200,
    enrolment: authentication.Enrolment | None = None,
    recovery_codes: list[str] | None = None,
    error: str | None = None,
    confirming: bool = False,
) -> Response:
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        user = uow.session.get(User, session.actor.user_id)
        required = user is not None and authentication.requires_two_factor(uow.session, user)
    qr_code = (
        qr_code_svg(enrolment.uri, gettext(language, "QR code to add leadflow to an authenticator app"))
        if enrolment
        else None
    )
    return render(
        request,
        session,
        "admin/two_factor.html",
        status_code=status_code,
        required=required,
        error=error,
        secret=grouped(enrolment.secret) if enrolment else None,
        uri=enrolment.uri if enrolment else None,
        qr_code=qr_code,
        recovery_codes=recovery_codes,
        confirming=confirming or enrolment is not None,
    )


@router.get(TWO_FACTOR_SETUP)
@signed_in_page
def two_factor_page(request: Request, session: WebSessionDep) -> Response:
    """Two-factor sign-in, to set up; a user whose role requires it comes here from every page until it is on."""
    if session.two_factor_on:
        return redirect(ME + "#two-factor")
    return _two_factor_page(request, session)


@router.post(TWO_FACTOR_SETUP)
@signed_in_page
def start_two_factor(request: Request, session: WebSessionDep) -> Response:
    """A new secret for the authenticator app, shown as text and as a QR code, with the field of its first code."""
    try:
        enrolment = committed(request, lambda uow: authentication.start_two_factor(uow=uow, actor=session.actor))
    except LeadflowError as error:
        return _two_factor_page(
            request, session, status_code=status_for(error), error=refusal_text(session.language, error)
        )
    return _two_factor_page(request, session, enrolment=enrolment)


@router.post(TWO_FACTOR_SETUP + "/confirm")
@signed_in_page
def confirm_two_factor(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """The app's first code turns two-factor sign-in on; the recovery codes are shown this once."""
    code = str(form.get("code", "")).strip()[:32]
    try:
        codes = committed(request, lambda uow: authentication.confirm_two_factor(code, uow=uow, actor=session.actor))
    except LeadflowError as error:
        return _two_factor_page(
            request,
            session,
            status_code=status_for(error),
            error=refusal_text(session.language, error),
            confirming=error.code == "wrong_code",
        )
    return _two_factor_page(request, session, recovery_codes=codes)


@router.post(TWO_FACTOR_SETUP + "/off")
@signed_in_page
def turn_off_two_factor(request: Request, session: WebSessionDep) -> Response:
    """Turn one's own two-factor sign-in off (the recovery codes go with it)."""
    user_id: uuid.UUID = session.actor.user_id
    committed(request, lambda uow: authentication.turn_off_two_factor(user_id, uow=uow, actor=session.actor))
    return redirect(f"{ME}?two_factor_off=true#two-factor")
