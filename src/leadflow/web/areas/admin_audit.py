"""The audit log (§8): who did what and when, filtered by user, action, table, record and dates, paged.

What the services recorded is stored in English (action codes, field names, stored values, a summary);
the page shows each in the user's language: actions, fields and choices by their labels, and the
summaries whose wording is known (``AUDIT_SUMMARIES``) in a sentence of the user's language.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from leadflow.leads.models import LeadStatusReason
from leadflow.security.audit import AuditEntry, AuditQuery, list_entries
from leadflow.security.models import User
from leadflow.security.privileges import Privilege
from leadflow.web.areas.admin import admin_area
from leadflow.web.areas.admin_labels import (
    ACTION_LABELS,
    AUDIT_FIELD_LABELS,
    AUDIT_STATE_LABELS,
    AUDIT_SUMMARIES,
    AUDIT_TABLE_LABELS,
    AUDIT_VALUE_LABELS,
    LANGUAGE_LABELS,
    TOKEN_KIND_LABELS,
    UNKNOWN_USER,
)
from leadflow.web.areas.jobs import job_title
from leadflow.web.forms import parse_uuid
from leadflow.web.i18n import gettext
from leadflow.web.labels import (
    CHOICE_LABELS,
    COLUMN_LABELS,
    DEPTH_LABELS,
    PRIVILEGE_LABELS,
    RECORD_PAGES,
    TABLE_LABELS,
    label,
    role_name,
    rule_name,
)
from leadflow.web.pages import WebSessionDep, database_of, render

router = APIRouter()

AUDIT = "/admin/audit"
ENTRIES_PER_PAGE = 50
_FILTERS = ("user", "action", "table", "record", "since", "until")


def _day_start(day: date, zone: tzinfo) -> datetime:
    """When a day typed in the filters starts: a day of the reader's calendar, in their time zone."""
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def _parse_filters(language: str, params: Any, zone: tzinfo) -> tuple[dict[str, str], dict[str, Any], dict[str, str]]:
    """The filters as typed, as the query needs them, and the messages of those that make no sense."""
    typed = {name: str(params.get(name, "")).strip()[:100] for name in _FILTERS}
    query: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, field in (("user", "user_id"), ("record", "record_id")):
        parsed = parse_uuid(typed[name])
        if parsed is not None:
            query[field] = parsed
        elif typed[name]:
            errors[name] = gettext(language, "This is not a valid id.")
    for name in ("action", "table"):
        if typed[name]:
            query[name] = typed[name]
    for name in ("since", "until"):
        if typed[name]:
            try:
                day = date.fromisoformat(typed[name])
            except ValueError:
                errors[name] = gettext(language, "Enter a date such as 2026-11-26.")
                continue
            # "Until" includes its whole day: entries before the start of the next one.
            query[name] = _day_start(day if name == "since" else day + timedelta(days=1), zone)
    return typed, query, errors


def _field_label(language: str, name: str) -> str:
    """A changed field in words: a column of a record, another audited field, a table (a role's privileges)."""
    for labels in (COLUMN_LABELS, AUDIT_FIELD_LABELS, TABLE_LABELS):
        if name in labels:
            return label(language, labels, name)
    return name


def _value_text(language: str, table: str | None, name: str, value: Any) -> str:
    """A changed field's value in words: its label when it is a stored choice, else as stored."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return gettext(language, "Yes") if value else gettext(language, "No")
    if name == "language":
        return LANGUAGE_LABELS.get(str(value), str(value))
    labels = AUDIT_STATE_LABELS.get(table or "") if name == "state" else AUDIT_VALUE_LABELS.get(name)
    if labels and isinstance(value, str) and value in labels:
        return label(language, labels, value)
    if isinstance(value, dict) and name in TABLE_LABELS:  # a role's privileges on a table, at their levels
        levels = {message: depth for depth, message in DEPTH_LABELS.items()}
        return ", ".join(
            f"{label(language, PRIVILEGE_LABELS, privilege)}: "
            f"{label(language, DEPTH_LABELS, levels[level]) if level in levels else level}"
            for privilege, level in value.items()
        )
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ", ".join(value)
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _change_lines(language: str, table: str | None, changes: Any) -> list[str]:
    if not isinstance(changes, dict):
        return [] if changes is None else [json.dumps(changes, ensure_ascii=False, default=str)[:300]]
    lines = []
    for name, value in list(changes.items())[:30]:
        field = _field_label(language, name)
        if isinstance(value, dict) and set(value) == {"old", "new"}:
            old, new = (_value_text(language, table, name, value[side]) for side in ("old", "new"))
            lines.append(f"{field}: {old} → {new}"[:300])
        else:
            lines.append(f"{field}: {_value_text(language, table, name, value)}"[:300])
    return lines


def _summary_part(language: str, kind: str | None, text: str) -> str:
    if kind == "status_reason":
        return label(language, CHOICE_LABELS[LeadStatusReason], text)
    if kind == "token_kind":
        return label(language, TOKEN_KIND_LABELS, text)
    if kind == "role":
        return role_name(language, text)
    if kind == "roles":
        return ", ".join(role_name(language, name) for name in text.split(", "))
    if kind == "rule":
        return rule_name(language, text)
    if kind == "table":
        return label(language, TABLE_LABELS, text)
    if kind == "who":
        return label(language, UNKNOWN_USER, text)
    return text


def summary_text(language: str, entry: AuditEntry) -> str:
    """An entry's summary in the user's language, as far as the services' wording is known
    (``AUDIT_SUMMARIES``, and a job's title as the jobs' pages word it); a name, a title or any other
    text is shown as stored."""
    text = entry.summary or ""
    if entry.table_name == "jobs":
        return job_title(language, text)
    for known in AUDIT_SUMMARIES:
        if known.action != entry.action or known.table not in (None, entry.table_name):
            continue
        match = known.pattern.fullmatch(text)
        if match is None:
            continue
        parts = {
            name: _summary_part(language, known.parts.get(name), part or "") for name, part in match.groupdict().items()
        }
        if known.sentence is not None:
            return gettext(language, known.sentence, **parts)
        shown, end = [], 0
        for name in match.groupdict():
            shown += [text[end : match.start(name)], parts[name]]
            end = match.end(name)
        return "".join([*shown, text[end:]])
    return text


def _entry_row(language: str, entry: AuditEntry, users: dict[uuid.UUID, str]) -> dict[str, Any]:
    page = RECORD_PAGES.get(entry.table_name or "")
    return {
        "id": entry.id,
        "occurred_at": entry.occurred_at,
        "user": users.get(entry.user_id, "") if entry.user_id else gettext(language, "System"),
        "action": label(language, ACTION_LABELS, entry.action),
        "table": label(language, AUDIT_TABLE_LABELS, entry.table_name) if entry.table_name else "",
        "record_id": entry.record_id,
        "record_link": page.format(id=entry.record_id) if page and entry.record_id else None,
        "summary": summary_text(language, entry),
        "changes": _change_lines(language, entry.table_name, entry.changes),
    }


@router.get(AUDIT)
@admin_area("audit", Privilege.READ)
def audit_page(request: Request, session: WebSessionDep) -> Response:
    """The audit log, newest first, with its filters; "Older entries" pages back in time."""
    language = session.language
    typed, filters, errors = _parse_filters(language, request.query_params, session.time_zone)
    cursor = request.query_params.get("cursor") or None
    entries: list[AuditEntry] = []
    older: str | None = None
    with database_of(request).unit_of_work(read_only=True) as uow:
        users = {
            user_id: f"{name} ({email})"
            for user_id, name, email in uow.session.execute(select(User.id, User.full_name, User.email))
        }
        if not errors:
            page = list_entries(
                AuditQuery(**filters, cursor=cursor, limit=ENTRIES_PER_PAGE), uow=uow, actor=session.actor
            )
            entries, older = page.items, page.next_cursor
        actions = sorted(uow.session.scalars(select(AuditEntry.action).distinct()))
        tables = sorted(name for name in uow.session.scalars(select(AuditEntry.table_name).distinct()) if name)
    rows = [_entry_row(language, entry, users) for entry in entries]
    query = {name: value for name, value in typed.items() if value}
    return render(
        request,
        session,
        "admin/audit.html",
        status_code=422 if errors else 200,
        rows=rows,
        values=typed,
        errors=errors,
        error=gettext(language, "Some filters need attention; check the messages next to them.") if errors else None,
        users=sorted(((str(user_id), name) for user_id, name in users.items()), key=lambda item: item[1].casefold()),
        actions=[(action, label(language, ACTION_LABELS, action)) for action in actions],
        tables=[(table, label(language, AUDIT_TABLE_LABELS, table)) for table in tables],
        older=f"{AUDIT}?{urlencode({**query, 'cursor': older})}" if older else None,
        newest=f"{AUDIT}?{urlencode(query)}" if cursor else None,
        filtered=bool(query),
    )
