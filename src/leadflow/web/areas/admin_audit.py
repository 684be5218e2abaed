"""The audit log (§8): who did what and when, filtered by user, action, table, record and dates, paged."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from leadflow.security.audit import AuditEntry
from leadflow.security.audit import AuditQuery, list_entries
from leadflow.security.models import User
from leadflow.security.privileges import Privilege
from leadflow.web.areas.admin import admin_area
from leadflow.web.areas.admin_labels import ACTION_LABELS
from leadflow.web.forms import parse_uuid
from leadflow.web.i18n import gettext
from leadflow.web.labels import COLUMN_LABELS, RECORD_PAGES, TABLE_LABELS, label
from leadflow.web.pages import WebSessionDep, database_of, render

router = APIRouter()

AUDIT = "/admin/audit"
ENTRIES_PER_PAGE = 50
# Dates typed in the filters are days of the organisation's calendar (the pages show Madrid time).
LOCAL_ZONE = ZoneInfo("Europe/Madrid")
_FILTERS = ("user", "action", "table", "record", "since", "until")


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LOCAL_ZONE).astimezone(UTC)


def _parse_filters(language: str, params: Any) -> tuple[dict[str, str], dict[str, Any], dict[str, str]]:
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
            query[name] = _day_start(day if name == "since" else day + timedelta(days=1))
    return typed, query, errors


def _change_lines(language: str, changes: Any) -> list[str]:
    if not isinstance(changes, dict):
        return [] if changes is None else [json.dumps(changes, ensure_ascii=False, default=str)[:300]]
    lines = []
    for name, value in list(changes.items())[:30]:
        field = label(language, COLUMN_LABELS, name) if name in COLUMN_LABELS else name
        if isinstance(value, dict) and set(value) == {"old", "new"}:
            old = "—" if value["old"] in (None, "") else value["old"]
            new = "—" if value["new"] in (None, "") else value["new"]
            lines.append(f"{field}: {old} → {new}"[:300])
        else:
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
            lines.append(f"{field}: {shown}"[:300])
    return lines


def _entry_row(language: str, entry: AuditEntry, users: dict[uuid.UUID, str]) -> dict[str, Any]:
    page = RECORD_PAGES.get(entry.table_name or "")
    return {
        "id": entry.id,
        "occurred_at": entry.occurred_at,
        "user": users.get(entry.user_id, "") if entry.user_id else gettext(language, "System"),
        "action": label(language, ACTION_LABELS, entry.action),
        "table": label(language, TABLE_LABELS, entry.table_name) if entry.table_name else "",
        "record_id": entry.record_id,
        "record_link": page.format(id=entry.record_id) if page and entry.record_id else None,
        "summary": entry.summary or "",
        "changes": _change_lines(language, entry.changes),
    }


@router.get(AUDIT)
@admin_area("audit", Privilege.READ)
def audit_page(request: Request, session: WebSessionDep) -> Response:
    """The audit log, newest first, with its filters; "Older entries" pages back in time."""
    language = session.language
    typed, filters, errors = _parse_filters(language, request.query_params)
    cursor = request.query_params.get("cursor") or None
    entries: list[AuditEntry] = []
    older: str | None = None
    with database_of(request).unit_of_work(read_only=True) as uow:
        users = {
            user_id: f"{name} ({email})"
            for user_id, name, email in uow.session.execute(select(User.id, User.full_name, User.email))
        }
        if not errors:
            page = list_entries(AuditQuery(**filters, cursor=cursor, limit=ENTRIES_PER_PAGE), uow=uow, actor=session.actor)
            entries, older = page.items, page.next_cursor
        actions = sorted(uow.session.scalars(select(AuditEntry.action).distinct()))
        tables = sorted(name for name in uow.session.scalars(select(AuditEntry.table_name).distinct()) if name)
    rows = [_entry_row(language, entry, users) for entry in entries]
    query = {name: value for name, value in typed.items() if value}
    return render(
        request, session, "admin/audit.html", status_code=422 if errors else 200,
        rows=rows, values=typed, errors=errors,
        error=gettext(language, "Some filters need attention; check the messages next to them.") if errors else None,
        users=sorted(((str(user_id), name) for user_id, name in users.items()), key=lambda item: item[1].casefold()),
        actions=[(action, label(language, ACTION_LABELS, action)) for action in actions],
        tables=[(table, label(language, TABLE_LABELS, table)) for table in tables],
        older=f"{AUDIT}?{urlencode({**query, 'cursor': older})}" if older else None,
        newest=f"{AUDIT}?{urlencode(query)}" if cursor else None,
        filtered=bool(query),
    )
