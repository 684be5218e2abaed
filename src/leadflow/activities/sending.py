"""Sending recorded e-mails through the configured SMTP server, as jobs that retry.

An e-mail asked to be sent is Completed / Pending Send and a job sends it. A job marks it Sending
(committed) before it talks to the server, then Sent; a server that refuses or does not answer leaves
it Pending Send with the reason and the time of the next try (1, 5, 15, 60 minutes later), and after
``MAX_SEND_ATTEMPTS`` tries it is Open / Failed with the last reason, to be corrected and sent again.
Nothing is lost: the e-mail stays recorded whatever the server does. ``due_for_retry`` hands the
e-mails whose next try has come (and those left Sending by a worker that died) to new jobs.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import Any

from sqlalchemy import or_, select, update

from leadflow.activities.activity import MAX_SEND_ATTEMPTS, send_backoff
from leadflow.activities.models import Activity, ActivityParty, ActivityState, ActivityStatus, PartyRole
from leadflow.core.config import Settings
from leadflow.core.db import utcnow
from leadflow.core.errors import Unavailable
from leadflow.core.mail import send
from leadflow.core.uow import Database

# An e-mail left Sending this long was being sent by a worker that died: it is tried again.
STALE_SENDING = timedelta(minutes=10)


def _address(party: ActivityParty) -> str:
    return formataddr((party.name or "", party.address or ""))


def build_message(activity: Activity, parties: list[ActivityParty], settings: Settings) -> EmailMessage:
    """The message of a recorded e-mail: its sender (or the configured sender), recipients, subject and text."""
    email = EmailMessage()
    senders = [party for party in parties if party.role is PartyRole.SENDER and party.address]
    email["From"] = _address(senders[0]) if senders else settings.mail_from
    to = [_address(party) for party in parties if party.role is PartyRole.TO and party.address]
    cc = [_address(party) for party in parties if party.role is PartyRole.CC and party.address]
    if to:
        email["To"] = ", ".join(to)
    if cc:
        email["Cc"] = ", ".join(cc)
    email["Subject"] = activity.subject
    email["Date"] = format_datetime(utcnow())
    domain = (senders[0].address or "").rpartition("@")[2] if senders else None
    email["Message-ID"] = activity.message_id or make_msgid(domain=domain or None)
    email.set_content(activity.description or "")
    return email


def deliver_email(database: Database, activity_id: uuid.UUID, settings: Settings) -> dict[str, Any]:
    """Try once to send an e-mail waiting to be sent; the outcome is recorded on it.

    Raises Unavailable (the job fails with the reason) when the server did not take it; the e-mail is
    then Pending Send with its next try, or Failed after the last one.
    """
    with database.unit_of_work() as uow:
        session = uow.session
        activity = session.get(Activity, activity_id, with_for_update=True)
        if activity is None or activity.status_reason not in (ActivityStatus.PENDING_SEND, ActivityStatus.SENDING):
            return {"activity_id": str(activity_id), "skipped": "no longer waiting to be sent"}
        parties = list(
            session.scalars(
                select(ActivityParty)
                .where(ActivityParty.activity_id == activity_id)
                .order_by(ActivityParty.role, ActivityParty.position)
            )
        )
        message = build_message(activity, parties, settings)
        activity.status_reason = ActivityStatus.SENDING
        activity.message_id = str(message["Message-ID"])
        activity.next_send_at = None
        uow.commit()
    delivery = send(settings, message)
    problem = None if delivery.sent else (delivery.problem or "no mail server is configured (LEADFLOW_SMTP_URL)")
    with database.unit_of_work() as uow:
        activity = uow.session.get_one(Activity, activity_id, with_for_update=True)
        activity.send_attempts += 1
        if problem is None:
            activity.status_reason = ActivityStatus.SENT
            activity.sent_at = activity.actual_end = utcnow()
            activity.send_error = None
        elif activity.send_attempts >= MAX_SEND_ATTEMPTS:
            activity.state = ActivityState.OPEN
            activity.status_reason = ActivityStatus.FAILED
            activity.actual_end = None
            activity.send_error = problem[:1000]
        else:
            activity.status_reason = ActivityStatus.PENDING_SEND
            activity.send_error = problem[:1000]
            activity.next_send_at = utcnow() + send_backoff(activity.send_attempts)
        attempts = activity.send_attempts
        uow.commit()
    if problem is not None:
        raise Unavailable(
            f"The e-mail was not sent (try {attempts} of {MAX_SEND_ATTEMPTS}): {problem}.", code="smtp_failed"
        )
    return {"activity_id": str(activity_id), "sent": True, "attempts": attempts}


def due_for_retry(database: Database) -> list[tuple[uuid.UUID, uuid.UUID | None]]:
    """The e-mails whose next try has come, with the user to send as (who last changed them), each
    taken so that no other sweep takes it too."""
    now = utcnow()
    with database.unit_of_work() as uow:
        session = uow.session
        rows = session.execute(
            select(Activity.id, Activity.modified_by_id).where(
                or_(
                    (Activity.status_reason == ActivityStatus.PENDING_SEND) & (Activity.next_send_at <= now),
                    (Activity.status_reason == ActivityStatus.SENDING) & (Activity.modified_at < now - STALE_SENDING),
                )
            )
        ).all()
        taken = []
        for activity_id, user_id in rows:
            claimed = session.execute(
                update(Activity)
                .where(
                    Activity.id == activity_id,
                    Activity.status_reason.in_([ActivityStatus.PENDING_SEND, ActivityStatus.SENDING]),
                )
                .values(
                    status_reason=ActivityStatus.PENDING_SEND,
                    next_send_at=None,
                    modified_at=now,
                    row_version=Activity.row_version + 1,
                )
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount:  # type: ignore[attr-defined]
                taken.append((activity_id, user_id))
        uow.commit()
    return taken
