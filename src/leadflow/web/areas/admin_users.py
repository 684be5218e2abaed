"""Users (§8): the users with their business unit and roles, new users, and a user's page: roles
granted or revoked, the business unit changed, the teams they are in, access (deactivation, password
link, two-factor sign-in) and their records reassigned. Roles have their pages in
``admin_security_roles``.

The users are read through ``leadflow.security.directory``, which checks the reader's privileges, so
that these pages show what the API and the command line show.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from starlette.datastructures import FormData

from leadflow.core.errors import Forbidden, LeadflowError, NotFound, ValidationFailed
from leadflow.core.mail import deliver
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.http.errors import status_for
from leadflow.security import authentication, directory
from leadflow.security import service as security_service
from leadflow.security.actor import Actor
from leadflow.security.credentials import MIN_PASSWORD_LENGTH
from leadflow.security.models import BusinessUnit
from leadflow.security.privileges import Privilege
from leadflow.security.schemas import UserIn
from leadflow.web.areas.admin import admin_area
from leadflow.web.areas.admin_labels import LANGUAGE_LABELS, ROLE_LABELS
from leadflow.web.areas.admin_security import security_tabs
from leadflow.web.forms import FormDep, parse_uuid, parse_version, refusal, refusal_text
from leadflow.web.i18n import N_, gettext
from leadflow.web.labels import TABLE_LABELS, label
from leadflow.web.pages import WebSession, WebSessionDep, committed, database_of, redirect, render

router = APIRouter()

USERS = "/admin/users"


# ---------------------------------------------------------------------------------------------- reads


def _user_row(language: str, entry: directory.UserEntry) -> dict[str, Any]:
    user = entry.user
    return {
        "id": user.id,
        "full_name": user.full_name,
        "email": user.email,
        "business_unit": entry.business_unit,
        "roles": [label(language, ROLE_LABELS, role) for role in entry.roles],
        "role_names": entry.roles,
        "is_active": user.is_active,
        "language": LANGUAGE_LABELS.get(user.language or "", gettext(language, "The browser's language")),
        "last_sign_in_at": user.last_sign_in_at,
        "two_factor": user.totp_enabled_at is not None,
        "business_unit_id": user.business_unit_id,
        "row_version": user.row_version,
    }


def _role_choices(language: str, uow: UnitOfWork, session: WebSession) -> list[tuple[str, str]]:
    entries = directory.list_roles(uow=uow, actor=session.actor).items
    return [(entry.role.name, label(language, ROLE_LABELS, entry.role.name)) for entry in entries]


# ---------------------------------------------------------------------------------------------- users


@router.get(USERS)
@admin_area("users", Privilege.READ)
def users_page(request: Request, session: WebSessionDep, created: bool = False) -> Response:
    """Every user: name, email, business unit, roles, and whether the user is active."""
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        rows = [_user_row(language, entry) for entry in directory.list_users(uow=uow, actor=session.actor).items]
    return render(
        request,
        session,
        "admin/users.html",
        users=rows,
        created=created,
        tabs=security_tabs(session),
        can_create=session.can_admin("users", Privilege.CREATE),
        can_read_roles=session.can_admin("roles", Privilege.READ),
    )


def _new_user_page(
    request: Request,
    session: WebSession,
    values: dict[str, Any],
    *,
    status_code: int = 200,
    error: str | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        roles = _role_choices(language, uow, session)
        # The security directory lists no business units; the form offers them all, the root unit chosen.
        units = sorted(set(uow.session.scalars(select(BusinessUnit.name))), key=str.casefold)
        root = uow.session.scalar(select(BusinessUnit.name).where(BusinessUnit.parent_id.is_(None)))
    values.setdefault("business_unit", root or "")
    return render(
        request,
        session,
        "admin/user_new.html",
        status_code=status_code,
        values=values,
        error=error,
        errors=errors or {},
        roles=roles,
        units=[(name, name) for name in units],
        languages=[("", gettext(language, "The browser's language")), *LANGUAGE_LABELS.items()],
        min_password_length=MIN_PASSWORD_LENGTH,
    )


# The field of the new user's form each refusal without a field of its own belongs to.
_NEW_USER_FIELDS = {
    "invalid_email": "email",
    "user_exists": "email",
    "password_too_short": "password",
    "password_too_common": "password",
    "role_required": "roles",
    "role_not_found": "roles",
}


@router.get(USERS + "/new")
@admin_area("users", Privilege.CREATE)
def new_user_page(request: Request, session: WebSessionDep) -> Response:
    """The form of a new user: name, email, business unit, roles, language and an optional password."""
    return _new_user_page(request, session, {"email": "", "full_name": "", "roles": [], "language": ""})


@router.post(USERS)
@admin_area("users", Privilege.CREATE)
def create_user(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """Create a user; a refusal shows the form again with what was typed (never the password)."""
    values = {
        "email": str(form.get("email", "")).strip(),
        "full_name": str(form.get("full_name", "")),
        "business_unit": str(form.get("business_unit", "")),
        "roles": [str(role) for role in form.getlist("roles")],
        "language": str(form.get("language", "")),
    }
    password = str(form.get("password", ""))
    try:
        data = parse(
            UserIn,
            {
                **values,
                "business_unit": values["business_unit"] or None,
                "language": values["language"] or None,
                "password": password or None,
            },
        )
        with database_of(request).unit_of_work() as uow:
            user = security_service.create_user(
                email=data.email,
                full_name=data.full_name,
                role_names=data.roles,
                business_unit_name=data.business_unit,
                password=data.password,
                language=data.language,
                uow=uow,
                actor=session.actor,
            )
            uow.commit()
            user_id = user.id
    except LeadflowError as error:
        if isinstance(error, Forbidden):
            raise
        refused = refusal(session.language, error, _NEW_USER_FIELDS)
        return _new_user_page(
            request, session, values, status_code=status_for(error), error=refused.message, errors=refused.fields
        )
    return redirect(f"{USERS}/{user_id}?created=true")


def _user_page(
    request: Request,
    session: WebSession,
    user_id: uuid.UUID,
    *,
    status_code: int = 200,
    error: str | None = None,
    notice: str | None = None,
    reset_link: dict[str, Any] | None = None,
    moved: list[tuple[str, int]] | None = None,
    unit_values: dict[str, Any] | None = None,
    stale: bool = False,
) -> Response:
    can_assign = session.can_admin("roles", Privilege.ASSIGN)
    can_read_roles = session.can_admin("roles", Privilege.READ)
    can_manage = session.can_admin("users", Privilege.WRITE)
    can_read_units = session.can_admin("business_units", Privilege.READ)
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        entries = directory.list_users(uow=uow, actor=session.actor).items
        entry = next((e for e in entries if e.user.id == user_id), None)
        if entry is None:
            raise NotFound(f"No user has the id {user_id}.", code="user_not_found")
        # Granting needs the roles' names, which only readers of roles may list.
        choices = _role_choices(language, uow, session) if can_assign and can_read_roles else []
        # Moving the user needs the units, which only readers of business units may list.
        units = directory.list_business_units(uow=uow, actor=session.actor) if can_read_units else []
        teams = directory.teams_of(user_id, uow=uow, actor=session.actor)
    row = _user_row(language, entry)
    grantable = [(value, text) for value, text in choices if value not in entry.roles]
    # Whom the records can go to: the other active users.
    heirs = [
        (str(e.user.id), f"{e.user.full_name} ({e.user.email})")
        for e in entries
        if e.user.is_active and e.user.id != user_id
    ]
    return render(
        request,
        session,
        "admin/user.html",
        status_code=status_code,
        user=row,
        error=error,
        notice=notice,
        held=[(name, label(language, ROLE_LABELS, name)) for name in entry.roles],
        grantable=grantable,
        can_grant=can_assign,
        can_revoke=can_assign,
        can_read_roles=can_read_roles,
        can_manage=can_manage,
        is_self=user_id == session.actor.user_id,
        heirs=heirs,
        reset_link=reset_link,
        moved=moved,
        tabs=security_tabs(session),
        units=[(str(unit.unit.id), unit.unit.name) for unit in units],
        can_move=can_manage and can_read_units,
        unit_values=unit_values
        or {"business_unit_id": str(row["business_unit_id"]), "row_version": row["row_version"]},
        stale=stale,
        can_read_units=can_read_units,
        teams=[
            {
                "id": team.team.id,
                "name": team.team.name,
                "roles": [label(language, ROLE_LABELS, role) for role in team.roles],
            }
            for team in teams
        ],
    )


_USER_NOTICES = {
    "created": N_("The user was created."),
    "granted": N_("The role was granted."),
    "revoked": N_("The role was revoked."),
    "deactivated": N_(
        "The user was deactivated: they cannot sign in, and every session and token of theirs has ended."
    ),
    "reactivated": N_("The user was reactivated and can sign in again."),
    "two_factor_off": N_(
        "Two-factor sign-in was turned off for this user; they can set it up again from their own page."
    ),
    "moved": N_("The user is in the new business unit now, and the records they own moved with them."),
}


@router.get(USERS + "/{user_id}")
@admin_area("users", Privilege.READ)
def user_page(request: Request, session: WebSessionDep, user_id: uuid.UUID) -> Response:
    """One user and the user's roles; grant or revoke roles (Assign on roles); deactivate, reactivate,
    hand out a password link, turn off two-factor sign-in, reassign the records (Write on users)."""
    notice = next(
        (gettext(session.language, text) for key, text in _USER_NOTICES.items() if request.query_params.get(key)), None
    )
    return _user_page(request, session, user_id, notice=notice)


UserChange = Callable[[uuid.UUID, FormData, UnitOfWork, Actor], object]


def _user_change(path: str, change: UserChange, *, done: str, summary: str) -> None:
    """Register the page that posts a change of a user (a role granted or revoked, the user deactivated...);
    a refusal shows the user's page with the reason."""

    @router.post(path)
    @admin_area("users", Privilege.READ)
    def change_user(request: Request, session: WebSessionDep, user_id: uuid.UUID, form: FormDep) -> Response:
        try:
            committed(request, lambda uow: change(user_id, form, uow, session.actor))
        except LeadflowError as error:
            if isinstance(error, Forbidden) or error.code == "user_not_found":
                raise
            return _user_page(
                request, session, user_id, status_code=status_for(error), error=refusal_text(session.language, error)
            )
        return redirect(f"{USERS}/{user_id}?{done}=true")

    change_user.__doc__ = summary


def _posted_role(change: Callable[..., object]) -> UserChange:
    return lambda user_id, form, uow, actor: change(user_id, str(form.get("role", "")), uow=uow, actor=actor)


def _of_user(change: Callable[..., object]) -> UserChange:
    return lambda user_id, _form, uow, actor: change(user_id, uow=uow, actor=actor)


_user_change(
    USERS + "/{user_id}/roles",
    _posted_role(security_service.grant_role),
    done="granted",
    summary="Give the user one more role (roles are cumulative).",
)
_user_change(
    USERS + "/{user_id}/roles/revoke",
    _posted_role(security_service.revoke_role),
    done="revoked",
    summary="Take a role back from the user.",
)
_user_change(
    USERS + "/{user_id}/deactivate",
    _of_user(security_service.deactivate_user),
    done="deactivated",
    summary="Deactivate the user: no more sign-in, every session and token ends; their records stay theirs.",
)
_user_change(
    USERS + "/{user_id}/reactivate",
    _of_user(security_service.reactivate_user),
    done="reactivated",
    summary="Let a deactivated user sign in again.",
)
_user_change(
    USERS + "/{user_id}/two-factor/off",
    _of_user(authentication.turn_off_two_factor),
    done="two_factor_off",
    summary="Turn off the user's two-factor sign-in (a lost phone).",
)


@router.post(USERS + "/{user_id}/reset-link")
@admin_area("users", Privilege.READ)
def password_reset_link(request: Request, session: WebSessionDep, user_id: uuid.UUID) -> Response:
    """A one-time link with which the user sets a new password, valid 24 hours; shown this once."""
    try:
        link = committed(
            request,
            lambda uow: authentication.make_reset_link(
                user_id, base_url=str(request.base_url), uow=uow, actor=session.actor
            ),
        )
    except LeadflowError as error:
        if isinstance(error, Forbidden):
            raise
        return _user_page(
            request, session, user_id, status_code=status_for(error), error=refusal_text(session.language, error)
        )
    delivery = deliver(request.app.state.settings, authentication.reset_link_mail(link))
    shown = {"url": link.url, "expires_at": link.expires_at, "emailed": delivery.sent, "mail_problem": delivery.problem}
    return _user_page(request, session, user_id, reset_link=shown)


@router.post(USERS + "/{user_id}/reassign")
@admin_area("users", Privilege.READ)
def reassign_records(request: Request, session: WebSessionDep, user_id: uuid.UUID, form: FormDep) -> Response:
    """Give every lead, account, contact and opportunity the user owns to another active user."""
    heir = parse_uuid(form.get("to_user_id"))
    try:
        if heir is None:
            raise ValidationFailed("Choose the user who gets the records.", code="required")
        moved = committed(
            request, lambda uow: security_service.reassign_records(user_id, heir, uow=uow, actor=session.actor)
        )
    except LeadflowError as error:
        if isinstance(error, Forbidden):
            raise
        return _user_page(
            request, session, user_id, status_code=status_for(error), error=refusal_text(session.language, error)
        )
    counts = [(label(session.language, TABLE_LABELS, table), count) for table, count in moved.items()]
    return _user_page(request, session, user_id, moved=counts)


@router.post(USERS + "/{user_id}/business-unit")
@admin_area("users", Privilege.READ)
def move_to_business_unit(request: Request, session: WebSessionDep, user_id: uuid.UUID, form: FormDep) -> Response:
    """Put the user in another business unit; the records they own go with them (Write on users)."""
    values = {
        "business_unit_id": str(form.get("business_unit_id", ""))[:100],
        "row_version": str(form.get("row_version", ""))[:20],
    }
    unit_id = parse_uuid(values["business_unit_id"])
    try:
        if unit_id is None:
            raise ValidationFailed(
                "Choose a business unit from the list.",
                code="invalid_option",
                details={"fields": [{"field": "business_unit_id", "code": "invalid_option"}]},
            )
        committed(
            request,
            lambda uow: security_service.move_user_to_business_unit(
                user_id, unit_id, expected_version=parse_version(values["row_version"]), uow=uow, actor=session.actor
            ),
        )
    except LeadflowError as error:
        if isinstance(error, Forbidden) or error.code == "user_not_found":
            raise
        return _user_page(
            request,
            session,
            user_id,
            status_code=status_for(error),
            unit_values=values,
            error=refusal_text(session.language, error),
            stale=error.code in ("stale_etag", "concurrent_update"),
        )
    return redirect(f"{USERS}/{user_id}?moved=true")
