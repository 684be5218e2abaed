"""Administration pages: organisation settings (§6) and the user's own page; what every admin page shares.

The other administration areas live beside this module (``admin_rules``, ``admin_duplicates``,
``admin_users``, ``admin_audit``) and use its helpers: the privilege gate that answers with a 403
page, the form reader, and the refusal texts (a domain error's own message in English, a
translation of its code in Spanish).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Annotated, Any

import phonenumbers
from babel import Locale
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from starlette.datastructures import FormData

from leadflow.http.errors import status_for
from leadflow.core.errors import Forbidden, LeadflowError
from leadflow.organisation.models import (
    DuplicateExperience,
    QualificationExperience,
    RecordCreation,
)
from leadflow.organisation.schemas import (
    DuplicateDetectionSettings,
    QualificationSettings,
)
from leadflow.organisation.service import get_settings, update_settings
from leadflow.core.schemas import parse
from leadflow.security import service as security_service
from leadflow.security.access import forbidden
from leadflow.security.models import BusinessUnit, User
from leadflow.security.privileges import Privilege
from leadflow.web.areas.admin_labels import (
    DEPTH_LABELS,
    DUPLICATE_EXPERIENCE_LABELS,
    LANGUAGE_LABELS,
    PRIVILEGE_LABELS,
    QUALIFICATION_EXPERIENCE_LABELS,
    RECORD_CREATION_LABELS,
    ROLE_LABELS,
    TABLE_LABELS,
    label,
)
from leadflow.web.i18n import FORMAT_LOCALES, N_, gettext
from leadflow.web.pages import (
    CsrfField,
    WebSession,
    WebSessionDep,
    database_of,
    redirect,
    render,
    verify_csrf,
)

router = APIRouter()


# ---------------------------------------------------------------------------------------------- shared helpers


async def _form(request: Request) -> FormData:
    return await request.form()


# Every field of the posted form (a multi-dict: ``getlist`` for repeated names).
FormDep = Annotated[FormData, Depends(_form)]


def admin_area(area: str, privilege: Privilege) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Gate a page on an administrative privilege; any refusal left unhandled becomes a page.

    The endpoint must take ``request`` and ``session`` parameters. Without the privilege the page
    is a 403 naming what is missing; a domain error the endpoint does not handle itself (a record
    not found, a privilege a service refuses) is shown with its status instead of the API's JSON.
    """

    def decorate(endpoint: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(endpoint)
        def gated(*args: Any, **kwargs: Any) -> Response:
            request: Request = kwargs["request"]
            session: WebSession = kwargs["session"]
            if not session.can_admin(area, privilege):
                return refused_page(request, session, forbidden(session.actor, privilege, area, what="this area"))
            try:
                return endpoint(*args, **kwargs)
            except LeadflowError as error:
                return refused_page(request, session, error)

        return gated

    return decorate


def signed_in_page(endpoint: Callable[..., Response]) -> Callable[..., Response]:
    """A page any signed-in user may open; the services decide, and their refusals become pages."""

    @functools.wraps(endpoint)
    def guarded(*args: Any, **kwargs: Any) -> Response:
        try:
            return endpoint(*args, **kwargs)
        except LeadflowError as error:
            return refused_page(kwargs["request"], kwargs["session"], error)

    return guarded


def refused_page(request: Request, session: WebSession, error: LeadflowError) -> Response:
    """A page telling why the request was refused (403 for a missing privilege, 404, 409...)."""
    status = status_for(error)
    title = N_("You can't open this page") if isinstance(error, Forbidden) else N_("This can't be done")
    return render(
        request, session, "admin/refused.html", status_code=status, title=title,
        message=refusal_text(session.language, error),
    )


# Spanish (and any other translation) of the refusals the administration pages meet, by code.
# English pages show the service's own sentence, which names the record and the way out.
REFUSALS = {
    "forbidden": N_(
        "You lack the %(privilege)s privilege on %(table)s (your roles grant it at level %(level)s); "
        "ask an administrator for a role that does."
    ),
    "stale_etag": N_(
        "This record was changed by someone else since you loaded it; reload it and apply your change again."
    ),
    "validation_failed": N_("Some fields need attention; check the messages next to them."),
    "required": N_("Some required fields are empty; fill them in."),
    "invalid_option": N_("Some fields have a value that is not one of the options; choose one of the options."),
    "invalid_value": N_("Some fields have a value that is not valid; correct them."),
    "rule_published": N_("This rule is published or being published; unpublish it first."),
    "rule_not_published": N_("This rule is not published."),
    "rule_not_publishing": N_("This rule is not being published."),
    "rule_not_found": N_("No duplicate detection rule has this id; it may have been deleted."),
    "too_many_published_rules": N_(
        "This table already has 5 published rules, the most it can have; unpublish one of them first."
    ),
    "no_conditions": N_("A duplicate detection rule needs at least one condition."),
    "unknown_column": N_("The %(table)s table has no column that duplicate detection can compare called %(column)s."),
    "criterion_not_applicable": N_("The criterion cannot compare these columns; choose another criterion or other columns."),
    "column_required": N_("Each condition needs a base column and a matching column."),
    "unknown_criterion": N_("Choose a criterion from the list."),
    "n_required": N_("This criterion needs a number of characters N of at least 1."),
    "n_not_applicable": N_("This criterion takes no number of characters N; leave N empty."),
    "threshold_out_of_range": N_("The similarity threshold must be greater than 0 and at most 1."),
    "threshold_not_applicable": N_("Only the Similar criterion takes a similarity threshold; leave it empty."),
    "unknown_region": N_("Choose a region from the list to read phone numbers written without a country code."),
    "unknown_table": N_("Duplicate detection does not cover this table."),
    "name_required": N_("The rule needs a name."),
    "duplicate_job_not_found": N_("No duplicate detection job has this id."),
    "job_not_queued": N_("This job has already started."),
    "invalid_cursor": N_("The page link is out of date; start again from the first page."),
    "invalid_limit": N_("The page size is out of range."),
    "merge_same_record": N_("The master and the subordinate are the same record; a merge needs two different records."),
    "merge_inactive_record": N_(
        "One of the records is inactive or was already merged; only active records can be merged "
        "(reactivate a closed lead first)."
    ),
    "merge_parent_mismatch": N_(
        "These records belong to different parents (%(master_parent)s and %(subordinate_parent)s). Link them to "
        "the same one first, or choose “Merge even if the parents differ”."
    ),
    "merge_across_tables": N_("The two records are not of the same kind; a merge joins two records of the same table."),
    "merge_records_required": N_("Name the two records to merge: the master and the subordinate."),
    "merge_table_not_supported": N_("Only accounts, contacts and leads can be merged."),
    "merge_undo_conflict": N_(
        "This merge cannot be undone because the records or the records moved changed after it; undoing it "
        "would overwrite those changes."
    ),
    "merge_already_undone": N_("This merge was already undone; there is nothing left to undo."),
    "merge_not_found": N_("No merge has this id."),
    "unknown_merge_field": N_("Choose the master's or the subordinate's value for each field of the list."),
    "invalid_merge_choice": N_("Choose the master's or the subordinate's value for each field of the list."),
    "account_not_found": N_("The record does not exist; it may have been deleted."),
    "contact_not_found": N_("The record does not exist; it may have been deleted."),
    "lead_not_found": N_("The record does not exist; it may have been deleted."),
    "role_not_found": N_("No role has this name."),
    "role_exists": N_("A role with this name already exists."),
    "role_required": N_("A user needs at least one role."),
    "role_not_held": N_("The user does not hold this role."),
    "last_administrator": N_("The organisation's last System Administrator cannot lose that role."),
    "user_not_found": N_("No user has this id."),
    "user_exists": N_("A user with this email already exists."),
    "invalid_email": N_("This is not a valid email address."),
    "password_too_short": N_("Passwords need at least %(length)s characters."),
    "business_unit_not_found": N_("No business unit has this name."),
    "organisation_not_set_up": N_("The organisation is not set up yet; ask whoever installed leadflow."),
}

FIELD_ERRORS = {
    "required": N_("This field is required."),
    "invalid_option": N_("Choose one of the options."),
    "too_long": N_("This value is too long."),
    "too_many": N_("There are too many items."),
    "out_of_range": N_("This value is out of range."),
    "too_precise": N_("This value has too many decimals."),
    "invalid_email": N_("This is not a valid email address."),
    "invalid_id": N_("This is not a valid id."),
    "invalid_value": N_("This value is not valid."),
}


def _detail_values(language: str, error: LeadflowError) -> dict[str, Any]:
    details = error.details if isinstance(error.details, dict) else {}
    values: dict[str, Any] = {key: value for key, value in details.items() if isinstance(value, str | int)}
    if "privilege" in values:
        values["privilege"] = label(language, PRIVILEGE_LABELS, values["privilege"])
    if "table" in values:
        values["table"] = label(language, TABLE_LABELS, values["table"])
    if "level" in values:
        level = {message: depth for depth, message in DEPTH_LABELS.items()}.get(values["level"])
        values["level"] = label(language, DEPTH_LABELS, level) if level is not None else values["level"]
    if "column" in values and "table" not in details:
        values["table"] = ""
    values["length"] = security_service.MIN_PASSWORD_LENGTH
    return values


def refusal_text(language: str, error: LeadflowError) -> str:
    """The refusal as the page shows it: the service's sentence, or its translation by code."""
    message = REFUSALS.get(error.code)
    if language == "en" or message is None:
        return error.message
    translated = gettext(language, message)
    try:
        return translated % _detail_values(language, error) if "%(" in translated else translated
    except (KeyError, ValueError, TypeError):
        return error.message


def field_errors(language: str, error: LeadflowError) -> dict[str, str]:
    """Per-field messages of a refusal, by field name (``conditions.0.n`` for nested fields)."""
    details = error.details if isinstance(error.details, dict) else {}
    found: dict[str, str] = {}
    for item in details.get("fields") or ():
        if not isinstance(item, dict) or "field" not in item:
            continue
        message = FIELD_ERRORS.get(item.get("code", ""))
        if language != "en" and message is not None:
            text = gettext(language, message)
        else:
            text = item.get("message") or gettext(language, FIELD_ERRORS["invalid_value"])
        found.setdefault(str(item["field"]), text)
    return found


def parse_version(value: str | None) -> int | None:
    """The row version a form carries (None when absent, which skips the concurrency check)."""
    if value is None or not value.strip():
        return None
    try:
        return int(value)
    except ValueError:
        return -1  # never a row version: the service answers with the stale-record refusal


def parse_uuid(value: str | None) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        return None


def phone_regions(language: str) -> list[tuple[str, str]]:
    """Regions phone numbers can be read in, named in the page's language, sorted by name."""
    names = Locale.parse(FORMAT_LOCALES.get(language, "en_GB")).territories
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
def save_settings(request: Request, session: WebSessionDep, form: FormDep, csrf_token: CsrfField = "") -> Response:
    """Save both groups of settings in one step; a refusal keeps what was typed."""
    verify_csrf(session, csrf_token)
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
def save_me(request: Request, session: WebSessionDep, form: FormDep, csrf_token: CsrfField = "") -> Response:
    """Save the user's language: English, Spanish, or the browser's (an empty choice)."""
    verify_csrf(session, csrf_token)
    choice = str(form.get("language", "")).strip() or None
    try:
        with database_of(request).unit_of_work() as uow:
            security_service.set_language(session.actor.user_id, choice, uow=uow, actor=session.actor)
            uow.commit()
    except LeadflowError as error:
        return _me_page(request, session, status_code=status_for(error), error=refusal_text(session.language, error))
    return redirect("/me?saved=true")
