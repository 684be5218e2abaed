"""Tasks, phone calls, appointments and e-mails: create, change, complete, cancel, reopen, delete, and
the lists a seller works from (Dynamics' activity model, reference §5).

Each type keeps its own fields: a field of another type is refused by name, not ignored. An activity
regards at most one lead, account, contact or opportunity, which the user must be able to read and
append to; its privileges are its type's (``tasks``, ``phone_calls``, ``appointments``, ``emails``).
Completed and canceled activities are read-only until reopened, as in Dynamics.

This module is the public face of activities: it creates, changes, closes and sends them; the request
shapes and their checks are in ``checks``, the lists in ``lists``, what other domains ask of the
activities of a record in ``regarding``, and every public name of those is named here too.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from leadflow.activities.checks import (
    COMMON_FIELDS,
    MAX_PARTIES,
    SENDING_STATES,
    TYPE_FIELDS,
    ActivityChanges,
    ActivityFields,
    AttendeeIn,
    _check_reason,
    _columns,
    _only_fields_of,
    _parties,
    _regarding,
    _replace_parties,
    _state_columns,
    email_address,
)
from leadflow.activities.lists import (
    VIEWS,
    ActivityFilter,
    View,
    day_bounds,
    is_overdue,
    list_activities,
    readable_activities,
    week_start,
)
from leadflow.activities.models import (
    STATUS_REASONS,
    Activity,
    ActivityParty,
    ActivityState,
    ActivityStatus,
    ActivityType,
    Direction,
    PartyRole,
)
from leadflow.activities.regarding import (
    cancel_open_activities_of,
    cancelable_count,
    delete_activities_of,
    move_activities,
)
from leadflow.core.db import utcnow
from leadflow.core.errors import InvalidState, field_refusal
from leadflow.core.records import check_version
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.jobs.models import Job
from leadflow.jobs.service import create_job
from leadflow.security.access import get_accessible
from leadflow.security.actor import Actor
from leadflow.security.audit import record_action
from leadflow.security.models import User
from leadflow.security.ownership import change_owned, create_owned, delete_owned, with_owner_unit
from leadflow.security.privileges import Privilege

SEND_KIND = "email_send"
# How often sending an e-mail is tried before it is left Open as Failed, and the waits between tries.
MAX_SEND_ATTEMPTS = 5
SEND_BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))

# ------------------------------------------------------------------------------------------ operations


def get_activity(
    activity_id: uuid.UUID,
    *,
    uow: UnitOfWork,
    actor: Actor,
    privilege: Privilege = Privilege.READ,
    for_update: bool = False,
) -> Activity:
    """An activity the actor holds ``privilege`` on (one they may not read is not found)."""
    return get_accessible(
        uow.session, Activity, activity_id, label="activity", actor=actor, privilege=privilege, for_update=for_update
    )


def parties_of(session: Session, activity_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[ActivityParty]]:
    """The parties of some activities, in their order, by activity."""
    found: dict[uuid.UUID, list[ActivityParty]] = {activity_id: [] for activity_id in activity_ids}
    if not activity_ids:
        return found
    rows = session.scalars(
        select(ActivityParty)
        .where(ActivityParty.activity_id.in_(list(activity_ids)))
        .order_by(ActivityParty.activity_id, ActivityParty.role, ActivityParty.position)
    )
    for party in rows:
        found[party.activity_id].append(party)
    return found


def create_activity(
    data: ActivityFields | dict[str, Any],
    *,
    uow: UnitOfWork,
    actor: Actor,
    mail_configured: bool = False,
    record_id: uuid.UUID | None = None,
) -> tuple[Activity, Job | None]:
    """A new activity of the actor (or of the owner named, with Assign), with the id a client chose
    when it chose one, and, for an e-mail created with ``send``, the job that sends it (hand it to the
    queue after commit)."""
    fields = data if isinstance(data, ActivityFields) else parse(ActivityFields, data)
    named = set(fields.model_fields_set)
    kind = fields.type
    _only_fields_of(kind, named)
    values = {name: getattr(fields, name) for name in named}
    session = uow.session
    _regarding(uow, actor, fields.regarding_table, fields.regarding_id)
    columns = _columns(kind, values, None)
    columns.update(_state_columns(kind, fields.status_reason, None))
    if kind in (ActivityType.PHONE_CALL, ActivityType.EMAIL) and columns.get("direction") is None:
        columns["direction"] = Direction.OUTGOING
    if kind is ActivityType.PHONE_CALL and fields.status_reason is None and "direction" in named:
        pass  # an open call; made or received when it is completed
    if kind is ActivityType.EMAIL and fields.send and columns.get("direction") is Direction.INCOMING:
        raise field_refusal("send", "incoming_not_sent", "send: an incoming e-mail is recorded, not sent.")
    if kind is ActivityType.EMAIL and fields.send and fields.status_reason is not None:
        raise field_refusal("status_reason", "set_by_sending", "status_reason: sending sets the e-mail's status.")
    parties, _roles = _parties(session, actor, kind, values)
    if kind is ActivityType.EMAIL and "sender" not in named:
        user = session.get(User, actor.user_id)
        if user is not None:
            parties.append(
                {
                    "role": PartyRole.SENDER,
                    "position": 0,
                    "party_table": "users",
                    "party_id": user.id,
                    "name": user.full_name,
                    "address": user.email,
                }
            )
    columns.update(
        type=kind,
        regarding_table=fields.regarding_table,
        regarding_id=fields.regarding_id,
    )
    if record_id is not None:
        columns["id"] = record_id
    activity = create_owned(Activity, with_owner_unit(session, columns), summary_of="subject", uow=uow, actor=actor)
    session.add_all(ActivityParty(id=uuid.uuid4(), activity_id=activity.id, **party) for party in parties)
    uow.flush()
    job = None
    if fields.send:
        job = _request_send(activity, uow=uow, actor=actor, mail_configured=mail_configured)
    return activity, job


def update_activity(
    activity_id: uuid.UUID,
    data: ActivityChanges | dict[str, Any],
    *,
    uow: UnitOfWork,
    actor: Actor,
    expected_version: int | None = None,
) -> Activity:
    """Change the named fields of an open activity (completed and canceled ones are read-only)."""
    changes = data if isinstance(data, ActivityChanges) else parse(ActivityChanges, data)
    named = set(changes.model_fields_set)
    session = uow.session
    activity = get_activity(activity_id, uow=uow, actor=actor, privilege=Privilege.WRITE)
    check_version(activity, expected_version)
    _only_fields_of(activity.type, named)
    if not activity.is_open:
        raise InvalidState(
            f"This {_kind_label(activity)} is {activity.state.value} and read-only; reopen it to change it.",
            code="activity_closed",
        )
    values = {name: getattr(changes, name) for name in named}
    if "subject" in values and values["subject"] is None:
        raise field_refusal("subject", "missing", "subject: an activity needs a subject.")
    if "regarding_table" in values or "regarding_id" in values:
        table = values.get("regarding_table", activity.regarding_table)
        record_id = values.get("regarding_id", activity.regarding_id)
        _regarding(uow, actor, table, record_id)
    columns = _columns(activity.type, values, activity)
    reason = values.get("status_reason")
    if reason is not None and _check_reason(activity.type, reason) is not ActivityState.OPEN:
        raise field_refusal(
            "status_reason",
            "use_complete_or_cancel",
            "status_reason: complete or cancel the activity to give it a closed status reason.",
        )
    columns.update(_state_columns(activity.type, reason, activity))
    for name in ("regarding_table", "regarding_id"):
        if name in values:
            columns[name] = values[name]
    parties, roles = _parties(session, actor, activity.type, values)
    if roles:
        _replace_parties(session, activity, parties, roles)
    change_owned(activity, with_owner_unit(session, columns), uow=uow, actor=actor)
    return activity


def _kind_label(activity: Activity) -> str:
    return activity.type.value.replace("_", " ")


def complete_activity(
    activity_id: uuid.UUID,
    *,
    status_reason: ActivityStatus | None = None,
    uow: UnitOfWork,
    actor: Actor,
    expected_version: int | None = None,
) -> Activity:
    """Mark an open activity complete (with one of its type's completed reasons); a canceled one must be
    reopened first, a completed one is left as it is."""
    activity = get_activity(activity_id, uow=uow, actor=actor, privilege=Privilege.WRITE, for_update=True)
    check_version(activity, expected_version)
    if activity.state is ActivityState.CANCELED:
        raise InvalidState(
            f"This {_kind_label(activity)} is canceled; reopen it before completing it.", code="activity_canceled"
        )
    if activity.state is ActivityState.COMPLETED:
        raise InvalidState(f"This {_kind_label(activity)} is already completed.", code="activity_completed")
    reasons = STATUS_REASONS[activity.type][ActivityState.COMPLETED]
    if status_reason is None:
        status_reason = reasons[0]
        if activity.type is ActivityType.PHONE_CALL and activity.direction is Direction.INCOMING:
            status_reason = ActivityStatus.RECEIVED
        if activity.type is ActivityType.EMAIL and activity.direction is Direction.INCOMING:
            status_reason = ActivityStatus.RECEIVED
    if _check_reason(activity.type, status_reason) is not ActivityState.COMPLETED:
        raise field_refusal(
            "status_reason",
            "invalid_status_reason",
            f"status_reason: a completed {_kind_label(activity)} has the status reasons "
            f"{', '.join(r.value for r in reasons if r not in SENDING_STATES)}.",
        )
    _close(activity, ActivityState.COMPLETED, status_reason, uow=uow, actor=actor, action="complete")
    return activity


def cancel_activity(
    activity_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> Activity:
    """Cancel an open activity (an e-mail waiting to be sent is no longer sent)."""
    activity = get_activity(activity_id, uow=uow, actor=actor, privilege=Privilege.WRITE, for_update=True)
    check_version(activity, expected_version)
    if activity.state is ActivityState.CANCELED:
        raise InvalidState(f"This {_kind_label(activity)} is already canceled.", code="activity_canceled")
    if activity.state is ActivityState.COMPLETED and activity.status_reason is not ActivityStatus.PENDING_SEND:
        raise InvalidState(
            f"This {_kind_label(activity)} is completed; reopen it before canceling it.", code="activity_completed"
        )
    _close(activity, ActivityState.CANCELED, ActivityStatus.CANCELED, uow=uow, actor=actor, action="cancel")
    activity.next_send_at = None
    return activity


def reopen_activity(
    activity_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> Activity:
    """Open a completed or canceled activity again, with its type's first open status reason; a sent
    e-mail stays sent (it left; there is nothing to reopen)."""
    activity = get_activity(activity_id, uow=uow, actor=actor, privilege=Privilege.WRITE, for_update=True)
    check_version(activity, expected_version)
    if activity.is_open:
        raise InvalidState(f"This {_kind_label(activity)} is already open.", code="activity_open")
    if activity.status_reason in SENDING_STATES:
        raise InvalidState("This e-mail was sent (or is being sent); it cannot be reopened.", code="email_sent")
    activity.state = ActivityState.OPEN
    activity.status_reason = STATUS_REASONS[activity.type][ActivityState.OPEN][0]
    activity.actual_end = None
    activity.modified_by_id = actor.user_id
    uow.flush()
    record_action(uow.session, actor, "reopen", table="activities", record_id=activity.id, summary=activity.subject)
    return activity


def _close(
    activity: Activity, state: ActivityState, reason: ActivityStatus, *, uow: UnitOfWork, actor: Actor, action: str
) -> None:
    activity.state = state
    activity.status_reason = reason
    activity.actual_end = utcnow()
    if activity.type is ActivityType.TASK and state is ActivityState.COMPLETED:
        activity.percent_complete = 100
    activity.modified_by_id = actor.user_id
    uow.flush()
    record_action(uow.session, actor, action, table="activities", record_id=activity.id, summary=activity.subject)


def delete_activity(
    activity_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> None:
    """Delete an activity with its parties."""
    activity = get_activity(activity_id, uow=uow, actor=actor, privilege=Privilege.DELETE)
    check_version(activity, expected_version)
    uow.session.execute(delete(ActivityParty).where(ActivityParty.activity_id == activity.id))
    delete_owned(activity, summary=activity.subject, uow=uow, actor=actor)


# ------------------------------------------------------------------------------------------------ e-mail


def _request_send(activity: Activity, *, uow: UnitOfWork, actor: Actor, mail_configured: bool) -> Job:
    if not mail_configured:
        raise InvalidState(
            "No mail server is configured (LEADFLOW_SMTP_URL), so leadflow cannot send e-mail; record it "
            "without sending, or ask an administrator to configure one.",
            code="smtp_not_configured",
        )
    if activity.direction is Direction.INCOMING:
        raise InvalidState("An incoming e-mail is recorded, not sent.", code="incoming_not_sent")
    recipients = uow.session.scalar(
        select(ActivityParty.id)
        .where(ActivityParty.activity_id == activity.id, ActivityParty.role.in_([PartyRole.TO, PartyRole.CC]))
        .limit(1)
    )
    if recipients is None:
        raise field_refusal("to", "no_recipient", "to: an e-mail to send needs at least one recipient.")
    activity.state = ActivityState.COMPLETED
    activity.status_reason = ActivityStatus.PENDING_SEND
    activity.send_error = None
    # Each sending gets its own tries: a failed e-mail sent again is not failed again at its first try.
    activity.send_attempts = 0
    activity.next_send_at = utcnow()
    activity.modified_by_id = actor.user_id
    uow.flush()
    return create_job(
        uow.session,
        actor,
        kind=SEND_KIND,
        title=f"Send the e-mail {activity.subject}"[:200],
        parameters={"activity_id": str(activity.id)},
    )


def send_email(
    activity_id: uuid.UUID,
    *,
    uow: UnitOfWork,
    actor: Actor,
    mail_configured: bool,
    expected_version: int | None = None,
) -> tuple[Activity, Job]:
    """Send a draft (or failed) e-mail: it becomes Pending Send and a job sends it, retrying on failure."""
    activity = get_activity(activity_id, uow=uow, actor=actor, privilege=Privilege.WRITE, for_update=True)
    check_version(activity, expected_version)
    if activity.type is not ActivityType.EMAIL:
        raise InvalidState(f"A {_kind_label(activity)} is not sent; only e-mails are.", code="not_an_email")
    if not activity.is_open:
        raise InvalidState(
            f"This e-mail is {activity.status_reason.value.replace('_', ' ')}; only a draft is sent.",
            code="email_not_draft",
        )
    return activity, _request_send(activity, uow=uow, actor=actor, mail_configured=mail_configured)


def send_backoff(attempts: int) -> timedelta:
    """How long to wait before the next try after ``attempts`` failed ones."""
    return SEND_BACKOFF[min(attempts, len(SEND_BACKOFF)) - 1]


__all__ = [
    "ActivityChanges",
    "ActivityFields",
    "ActivityFilter",
    "AttendeeIn",
    "COMMON_FIELDS",
    "MAX_PARTIES",
    "MAX_SEND_ATTEMPTS",
    "SENDING_STATES",
    "SEND_BACKOFF",
    "SEND_KIND",
    "TYPE_FIELDS",
    "VIEWS",
    "View",
    "cancel_activity",
    "cancel_open_activities_of",
    "cancelable_count",
    "complete_activity",
    "create_activity",
    "day_bounds",
    "delete_activities_of",
    "delete_activity",
    "email_address",
    "get_activity",
    "is_overdue",
    "list_activities",
    "move_activities",
    "parties_of",
    "readable_activities",
    "reopen_activity",
    "send_backoff",
    "send_email",
    "update_activity",
    "week_start",
]
