"""Administration pages: organisation settings (§6) and the user's own page; what every admin page shares.

The other administration areas live beside this module (``admin_rules``, ``admin_duplicates``,
``admin_users``, ``admin_audit``) and use its helpers: the privilege gate that answers with a 403
page, the page of a refusal no form shows, and the regions phone numbers are read in. Refusals are
put into words by ``leadflow.web.forms``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import phonenumbers
from babel import Locale
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from starlette.datastructures import FormData

from leadflow.core.errors import Forbidden, LeadflowError
from leadflow.core.formatting import locale_of
from leadflow.core.schemas import parse
from leadflow.http.errors import status_for
from leadflow.organisation.models import DuplicateExperience, QualificationExperience, RecordCreation
from leadflow.organisation.schemas import DuplicateDetectionSettings, QualificationSettings
from leadflow.organisation.service import get_settings, update_settings
from leadflow.security import service as security_service
from leadflow.security.access import forbidden
from leadflow.security.models import BusinessUnit, User
from leadflow.security.privileges import Privilege
from leadflow.web.areas.admin_labels import DUPLICATE_EXPERIENCE_LABELS, LANGUAGE_LABELS, QUALIFICATION_EXPERIENCE_LABELS
from leadflow.web.areas.admin_labels import RECORD_CREATION_LABELS, ROLE_LABELS
from leadflow.web.forms import FormDep, field_errors, parse_version, refusal_text
from leadflow.web.i18n import N_, gettext
from leadflow.web.labels import label
from leadflow.web.pages import Endpoint, WebSession, WebSessionDep, committed, database_of, redirect
from leadflow.web.pages import refusals_shown_by, render

router = APIRouter()


# ---------------------------------------------------------------------------------------------- shared helpers


def refused_page(request: Request, session: WebSession, error: LeadflowError) -> Response:
    """A page telling why the request was refused (403 for a missing privilege, 404, 409...)."""
    status = status_for(error)
    title = N_("You can't open this page") if isinstance(error, Forbidden) else N_("This can't be done")
    return render(
        request, session, "admin/refused.html", status_code=status, title=title,
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
                return refused_page(kwargs["request"], session, forbidden(session.actor, privilege, area, what="this area"))
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
    values["row_version"] = settings.row_version
    return values


def _posted_settings(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {name: form.get(name) for name in (*_QUALIFICATION_FIELDS, *_DUPLICATE_FIELDS)}
    for name in _CHECKBOXES:
        values[name] = name in form
    values["row_version"] = form.get("row_version", "")
    return values


def _settings_page(
    request: Request, session: WebSession, values: dict[str, Any], *, status_code: int = 200,
    error: str | None = None, errors: dict[str, str] | None = None, saved: bool = False,
) -> Response:
    language = session.language
    return render(
        request, session, "admin/settings.html", status_code=status_code,
        values=values, error=error, errors=errors or {}, saved=saved,
        qualification_experiences=[(e.value, label(language, QUALIFICATION_EXPERIENCE_LABELS, e)) for e in QualificationExperience],
        record_creations=[(c.value, label(language, RECORD_CREATION_LABELS, c)) for c in RecordCreation],
        duplicate_experiences=[(e.value, label(language, DUPLICATE_EXPERIENCE_LABELS, e)) for e in DuplicateExperience],
        regions=phone_regions(language),
    )


@router.get("/admin/settings")
@admin_area("settings", Privilege.WRITE)
def settings_page(request: Request, session: WebSessionDep, saved: bool = False) -> Response:
    """Qualification settings (§6) and duplicate detection settings (§5, §6)."""
    with database_of(request).unit_of_work(read_only=True) as uow:
        values = _settings_values(get_settings(uow.session))
    return _settings_page(request, session, values, saved=saved)


@router.post("/admin/settings")
@admin_area("settings", Privilege.WRITE)
def save_settings(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """Save both groups of settings in one step; a refusal keeps what was typed."""
    values = _posted_settings(form)
    try:
        qualification = parse(QualificationSettings, {name: values[name] for name in _QUALIFICATION_FIELDS})
        duplicates = parse(DuplicateDetectionSettings, {name: values[name] for name in _DUPLICATE_FIELDS})
        with database_of(request).unit_of_work() as uow:
            update_settings(
                {**qualification.model_dump(), **duplicates.model_dump()},
                uow=uow, actor=session.actor, expected_version=parse_version(values["row_version"]),
            )
            uow.commit()
    except LeadflowError as error:
        if isinstance(error, Forbidden):
            raise
        return _settings_page(
            request, session, values, status_code=status_for(error),
            error=refusal_text(session.language, error), errors=field_errors(session.language, error),
        )
    return redirect("/admin/settings?saved=true")


# ---------------------------------------------------------------------------------------------- the user's own page

def _me_page(request: Request, session: WebSession, *, status_code: int = 200, error: str | None = None,
             saved: bool = False) -> Response:
    with database_of(request).unit_of_work(read_only=True) as uow:
        user = uow.session.get(User, session.actor.user_id)
        unit = uow.session.scalar(select(BusinessUnit.name).where(BusinessUnit.id == user.business_unit_id)) if user else None
        stored_language = (user.language if user else None) or ""
    language = session.language
    return render(
        request, session, "admin/me.html", status_code=status_code, error=error, saved=saved,
        business_unit=unit,
        roles=[label(language, ROLE_LABELS, role) for role in session.actor.role_names],
        language_choices=[*LANGUAGE_LABELS.items(), ("", gettext(language, "The browser's language"))],
        stored_language=stored_language,
        can_save_language=True,
    )


@router.get("/me")
@signed_in_page
def me_page(request: Request, session: WebSessionDep, saved: bool = False) -> Response:
    """The signed-in user's name, email, business unit, roles and language setting."""
    return _me_page(request, session, saved=saved)


@router.post("/me")
@signed_in_page
def save_me(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """Save the user's language: English, Spanish, or the browser's (an empty choice)."""
    choice = str(form.get("language", "")).strip() or None
    try:
        user_id = session.actor.user_id
        committed(request, lambda uow: security_service.set_language(user_id, choice, uow=uow, actor=session.actor))
    except LeadflowError as error:
        return _me_page(request, session, status_code=status_for(error), error=refusal_text(session.language, error))
    return redirect("/me?saved=true")
