"""The seller's day in the web app: the lists of activities (my open ones, due today, overdue, completed
this week, all I can see), the forms of a new task, phone call, appointment or e-mail, and an activity's
page with its commands (complete, cancel, reopen, delete, send an e-mail).

Every form posts to a route of its own; a refusal shows the form again with the refusal and the field
messages in the user's language. The routes translate the forms into the calls the REST API makes
(``leadflow.activities.activity``), which decide what may change and when; ``activities_page`` lays
the pages out.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leadflow.activities import activity as activities
from leadflow.activities.models import ActivityState, ActivityStatus, ActivityType, RegardingTable
from leadflow.core.errors import Forbidden, LeadflowError
from leadflow.core.uow import UnitOfWork
from leadflow.http.errors import status_for
from leadflow.security.access import can
from leadflow.security.models import User
from leadflow.security.privileges import Privilege
from leadflow.tasks import submit
from leadflow.web.areas.activities_page import (
    DEFAULT_VIEW,
    DIRECTION_CHOICES,
    NEW_LABELS,
    NOTICES,
    PAGE_SIZE,
    PRIORITY_CHOICES,
    REGARDING_PATHS,
    STATE_CHOICES,
    TYPE_CHOICES,
    TYPE_ICONS,
    VIEW_LABELS,
    ActivityForm,
    activity_form,
    activity_refusal,
    blank_values,
    creatable_types,
    label_of,
    may,
    parse_type,
    posted_values,
    regarding_names,
    rows_of,
    service_fields,
    stored_values,
    zone_name,
)
from leadflow.web.forms import FormDep, Refusal, id_in_path, parse_version
from leadflow.web.pages import (
    WebSession,
    WebSessionDep,
    committed,
    database_of,
    redirect,
    refusals_shown_by,
    render,
)

router = APIRouter()

ACTIVITIES = "/activities"


@dataclass(frozen=True)
class Kind:
    """What the shared "refused" page names: the list it leads back to."""

    plural: str = "Activities"
    path: str = "activities"


def _refused(request: Request, session: WebSession, error: LeadflowError) -> Response:
    """An activity the user cannot open: 404 when it does not exist, 403 when they may not read it."""
    return render(
        request,
        session,
        "records/refused.html",
        status_code=status_for(error),
        kind=Kind(),
        refusal=activity_refusal(session.language, error),
    )


activity_route = refusals_shown_by(_refused)


def _activity_id(raw: str) -> uuid.UUID:
    return id_in_path(raw, record="activity")


def _mail_configured(request: Request) -> bool:
    return bool(request.app.state.settings.smtp_url)


# ---------------------------------------------------------------------------------------------- the list


def _enum_values(enum_type: type[Any], raw: list[str]) -> list[Any]:
    found = []
    for value in raw:
        try:
            found.append(enum_type(value))
        except ValueError:
            continue
    return found


@router.get(ACTIVITIES, name="activities_list")
def list_activities(request: Request, session: WebSessionDep) -> Response:
    """The seller's lists: my open activities (the default), due today, overdue, completed this week,
    and every activity the user may read, filtered by type and state; paged."""
    params = request.query_params
    view = params.get("view") or DEFAULT_VIEW
    if view not in VIEW_LABELS:
        view = DEFAULT_VIEW
    types = _enum_values(ActivityType, params.getlist("type"))
    states = _enum_values(ActivityState, params.getlist("state"))
    after = params.get("after") or None
    failure: Refusal | None = None
    filters = (
        activities.ActivityFilter(types=types, states=states) if view == "all" else activities.ActivityFilter(view=view)
    )
    with database_of(request).unit_of_work(read_only=True) as uow:
        try:
            page = activities.list_activities(
                filters,
                uow=uow,
                actor=session.actor,
                time_zone=zone_name(session.time_zone),
                limit=PAGE_SIZE,
                cursor=after,
            )
        except LeadflowError as error:  # a cursor that is not one: the first page, with the refusal
            failure = activity_refusal(session.language, error)
            page = activities.list_activities(
                filters, uow=uow, actor=session.actor, time_zone=zone_name(session.time_zone), limit=PAGE_SIZE
            )
        rows = rows_of(uow.session, session.actor, list(page.items))

    def link(**changes: Any) -> str:
        query: dict[str, Any] = {"view": view}
        if view == "all":
            query.update(type=[t.value for t in types], state=[s.value for s in states])
        query.update(changes)
        return f"{ACTIVITIES}?" + urlencode({k: v for k, v in query.items() if v}, doseq=True)

    return render(
        request,
        session,
        "activities/list.html",
        status_code=200 if failure is None else 422,
        view=view,
        views=VIEW_LABELS,
        rows=rows,
        refusal=failure,
        type_choices=TYPE_CHOICES,
        state_choices=STATE_CHOICES,
        chosen_types=[t.value for t in types],
        chosen_states=[s.value for s in states],
        new_links=[(kind.value, NEW_LABELS[kind], TYPE_ICONS[kind]) for kind in creatable_types(session.actor)],
        next_link=link(after=page.next_cursor) if page.next_cursor else None,
        first_link=link() if after else None,
    )


# ---------------------------------------------------------------------------------------------- a new activity


def _form_page(
    request: Request,
    session: WebSession,
    form: ActivityForm,
    *,
    activity: Any = None,
    status_code: int = 200,
    failure: Refusal | None = None,
    notice: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    return render(
        request,
        session,
        "activities/activity.html",
        status_code=status_code,
        form=form,
        activity=activity,
        refusal=failure,
        errors=failure.fields if failure else {},
        notice=notice,
        priority_choices=PRIORITY_CHOICES,
        direction_choices=DIRECTION_CHOICES,
        type_label=label_of(ActivityType, form.kind),
        new_label=NEW_LABELS[form.kind],
        icon=TYPE_ICONS[form.kind],
        **(extra or {}),
    )


def _new_kind(session: WebSession, raw: str | None) -> ActivityType:
    """The type a new activity's form is for; refused (403) when the user may not create it."""
    kind = parse_type(raw) or ActivityType.TASK
    if not may(session.actor, kind, Privilege.CREATE):
        raise Forbidden(
            f"You may not create {kind.value.replace('_', ' ')} activities.",
            code="forbidden",
        )
    return kind


def _regarding_param(request: Request) -> str:
    """A record the new activity regards, when the page was opened from it (``?regarding=leads:<id>``)."""
    raw = request.query_params.get("regarding", "")[:100]
    table, _, record_id = raw.partition(":")
    try:
        return f"{RegardingTable(table).value}:{uuid.UUID(record_id)}"
    except ValueError:
        return ""


@router.get(ACTIVITIES + "/new", name="activities_new")
@activity_route
def new_activity(request: Request, session: WebSessionDep) -> Response:
    """The form of a new task, phone call, appointment or e-mail (``?type=``)."""
    kind = _new_kind(session, request.query_params.get("type"))
    with database_of(request).unit_of_work(read_only=True) as uow:
        form = activity_form(uow, session.actor, kind, blank_values(kind, regarding=_regarding_param(request)))
    return _form_page(request, session, form, extra={"mail_configured": _mail_configured(request)})


@router.post(ACTIVITIES + "/new", name="activities_create")
@activity_route
def create_activity(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """Create the activity; an e-mail created with "Send" is handed to the queue that sends it."""
    kind = _new_kind(session, str(form.get("type") or request.query_params.get("type") or ""))
    database = database_of(request)
    send = kind is ActivityType.EMAIL and form.get("send") == "1"
    try:
        data = service_fields(kind, form, session.time_zone, creating=True)
        if send:
            # Sending sets the e-mail's status: the form's (a draft's) is not sent along.
            data.pop("status_reason", None)
            data["send"] = True

        def create(uow: UnitOfWork) -> Any:
            created, job = activities.create_activity(
                data, uow=uow, actor=session.actor, mail_configured=_mail_configured(request)
            )
            return created.id, job.id if job else None

        created_id, job_id = committed(request, create)
    except LeadflowError as error:
        failure = activity_refusal(session.language, error)
        with database.unit_of_work(read_only=True) as uow:
            shown = activity_form(uow, session.actor, kind, blank_values(kind) | posted_values(form))
        return _form_page(
            request,
            session,
            shown,
            status_code=status_for(error),
            failure=failure,
            extra={"mail_configured": _mail_configured(request)},
        )
    if job_id is not None:
        submit(job_id, queue=request.app.state.queue, database=database)
        return redirect(f"{ACTIVITIES}/{created_id}?notice=sending")
    return redirect(f"{ACTIVITIES}/{created_id}?notice=created")


# ---------------------------------------------------------------------------------------------- an activity


def _activity_page(
    request: Request,
    session: WebSession,
    record_id: uuid.UUID,
    *,
    status_code: int = 200,
    failure: Refusal | None = None,
    posted: dict[str, Any] | None = None,
    notice: str | None = None,
) -> Response:
    """An activity's page: its fields (a form while open and writable), its commands, its sending status."""
    actor = session.actor
    with database_of(request).unit_of_work(read_only=True) as uow:
        found = activities.get_activity(record_id, uow=uow, actor=actor)
        parties = activities.parties_of(uow.session, [found.id])[found.id]
        values = stored_values(found, parties, session.time_zone)
        if posted is not None:
            values |= posted
        form = activity_form(uow, actor, found.type, values)
        names = regarding_names(uow.session, actor, [found])
        owner = uow.session.get(User, found.owner_user_id) if found.owner_user_id else None
        table = found.privilege_table
        may_write = can(uow.session, actor, Privilege.WRITE, table, found)
        may_delete = can(uow.session, actor, Privilege.DELETE, table, found)
        writable = found.is_open and may_write
        uow.session.expunge(found)
    regarded = names.get(found.regarding_id) if found.regarding_id else None
    return _form_page(
        request,
        session,
        form,
        activity=found,
        status_code=status_code,
        failure=failure,
        notice=notice,
        extra={
            "writable": writable,
            "may_write": may_write,
            "may_delete": may_delete,
            "privilege_table": table,
            "state_label": label_of(ActivityState, found.state),
            "status_label": label_of(ActivityStatus, found.status_reason),
            "overdue": activities.is_overdue(found),
            "regarding_name": regarded,
            "regarding_url": (
                f"{REGARDING_PATHS[found.regarding_table]}/{found.regarding_id}"
                if regarded and found.regarding_table
                else None
            ),
            "owner_name": owner.full_name if owner else "",
            "parties": parties,
            "mail_configured": _mail_configured(request),
            "sending": found.status_reason in (ActivityStatus.PENDING_SEND, ActivityStatus.SENDING),
        },
    )


def _refused_command(
    request: Request, session: WebSession, record_id: uuid.UUID, error: LeadflowError, posted: Any = None
) -> Response:
    if error.code.endswith("_not_found") and error.code != "regarding_id_not_found" and status_for(error) == 404:
        raise error
    return _activity_page(
        request,
        session,
        record_id,
        status_code=status_for(error),
        failure=activity_refusal(session.language, error),
        posted=posted,
    )


@router.get(ACTIVITIES + "/{record_id}", name="activities_record")
@activity_route
def show_activity(request: Request, record_id: str, session: WebSessionDep) -> Response:
    """The activity's page."""
    notice = NOTICES.get(request.query_params.get("notice", ""))
    return _activity_page(request, session, _activity_id(record_id), notice=notice)


@router.post(ACTIVITIES + "/{record_id}", name="activities_save")
@activity_route
def save_activity(request: Request, record_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Save an open activity's fields; refused when it is closed or was changed meanwhile."""
    parsed = _activity_id(record_id)
    version = parse_version(form.get("row_version"))

    def change(uow: UnitOfWork) -> Any:
        stored = activities.get_activity(parsed, uow=uow, actor=session.actor)
        data = service_fields(stored.type, form, session.time_zone, creating=False)
        if data.get("status_reason") == stored.status_reason.value:
            del data["status_reason"]
        return activities.update_activity(parsed, data, uow=uow, actor=session.actor, expected_version=version)

    try:
        committed(request, change)
    except LeadflowError as error:
        return _refused_command(request, session, parsed, error, posted=posted_values(form))
    return redirect(f"{ACTIVITIES}/{parsed}?notice=saved")


@router.post(ACTIVITIES + "/{record_id}/complete", name="activities_complete")
@activity_route
def complete_activity(request: Request, record_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Mark the activity complete, with the status reason chosen (a phone call: made or received)."""
    parsed = _activity_id(record_id)
    version = parse_version(form.get("row_version"))
    raw_reason = str(form.get("status_reason") or "")
    try:
        reason = ActivityStatus(raw_reason) if raw_reason else None
    except ValueError:
        reason = None
    try:
        committed(
            request,
            lambda uow: activities.complete_activity(
                parsed, status_reason=reason, uow=uow, actor=session.actor, expected_version=version
            ),
        )
    except LeadflowError as error:
        return _refused_command(request, session, parsed, error)
    return redirect(f"{ACTIVITIES}/{parsed}?notice=completed")


def _command(
    request: Request,
    session: WebSession,
    record_id: str,
    form: Any,
    operation: Callable[..., object],
    done: Callable[[uuid.UUID], str],
) -> Response:
    """Run one command on the activity at its version from the form; its page with the refusal, or on."""
    parsed = _activity_id(record_id)
    version = parse_version(form.get("row_version"))
    try:
        committed(request, lambda uow: operation(parsed, uow=uow, actor=session.actor, expected_version=version))
    except LeadflowError as error:
        return _refused_command(request, session, parsed, error)
    return redirect(done(parsed))


@router.post(ACTIVITIES + "/{record_id}/cancel", name="activities_cancel")
@activity_route
def cancel_activity(request: Request, record_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Cancel the activity."""
    return _command(
        request, session, record_id, form, activities.cancel_activity, lambda i: f"{ACTIVITIES}/{i}?notice=canceled"
    )


@router.post(ACTIVITIES + "/{record_id}/reopen", name="activities_reopen")
@activity_route
def reopen_activity(request: Request, record_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Reopen a completed or canceled activity (a sent e-mail stays sent)."""
    return _command(
        request, session, record_id, form, activities.reopen_activity, lambda i: f"{ACTIVITIES}/{i}?notice=reopened"
    )


@router.post(ACTIVITIES + "/{record_id}/delete", name="activities_delete")
@activity_route
def delete_activity(request: Request, record_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Delete the activity and go back to the list."""
    return _command(
        request, session, record_id, form, activities.delete_activity, lambda _i: f"{ACTIVITIES}?deleted=true"
    )


@router.post(ACTIVITIES + "/{record_id}/send", name="activities_send")
@activity_route
def send_email(request: Request, record_id: str, session: WebSessionDep, form: FormDep) -> Response:
    """Send a draft (or failed) e-mail: the queue sends it, and tries again after a failure."""
    parsed = _activity_id(record_id)
    version = parse_version(form.get("row_version"))
    database = database_of(request)
    try:
        job_id = committed(
            request,
            lambda uow: (
                activities.send_email(
                    parsed,
                    uow=uow,
                    actor=session.actor,
                    mail_configured=_mail_configured(request),
                    expected_version=version,
                )[1].id
            ),
        )
    except LeadflowError as error:
        return _refused_command(request, session, parsed, error)
    submit(job_id, queue=request.app.state.queue, database=database)
    return redirect(f"{ACTIVITIES}/{parsed}?notice=sending")
