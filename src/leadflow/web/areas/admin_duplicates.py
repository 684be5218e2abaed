"""Duplicate sets and merges (§9): find-all jobs, their sets, CSV export, merge with preview, undo.

Finding duplicates runs as a job of the job queue (``leadflow.tasks.admin.start_scan``): the page
starts it and the duplicate detection job's page follows the progress of the job that fills it
(``static/jobs.js``, as the jobs' own pages do) until it has finished. A merge is chosen on one page
(the master, then the surviving value of each field the two records disagree on), previewed on the
next, and done from the preview; its page offers the undo. Lead, account and contact pages link to
``/admin/merge`` with the two records, so the merge pages are open to every signed-in user: the merge
service checks the rights on the records themselves.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.errors import Forbidden, LeadflowError, ValidationFailed
from leadflow.core.formatting import format_day, format_moment, format_number
from leadflow.customers.models import Account, Contact
from leadflow.duplicates import merge as merge_service
from leadflow.duplicates import scan, sets
from leadflow.duplicates.models import DetectionTable, JobState, MergeJournal, MergeState
from leadflow.duplicates.tables import TABLES
from leadflow.fields.service import fields_of
from leadflow.fields.values import as_text
from leadflow.http.errors import status_for
from leadflow.organisation.models import Campaign, Currency
from leadflow.security.access import get_accessible
from leadflow.security.actor import Actor
from leadflow.security.models import User
from leadflow.security.privileges import Privilege
from leadflow.tasks.admin import SCAN, start_scan
from leadflow.web.areas.admin import admin_area, signed_in_page
from leadflow.web.areas.admin_labels import (
    JOB_STATE_BADGES,
    JOB_STATE_LABELS,
    MERGE_STATE_LABELS,
    MOVED_LABELS,
    VALUE_LABELS,
)
from leadflow.web.areas.jobs import latest_job, progress_of, progress_url
from leadflow.web.forms import FormDep, parse_uuid, refusal_text
from leadflow.web.i18n import gettext
from leadflow.web.labels import COLUMN_LABELS, RECORD_LABELS, RECORD_PAGES, TABLE_LABELS, label, rule_name
from leadflow.web.pages import WebSession, WebSessionDep, committed, database_of, redirect, render
from leadflow.web.routes import _secure

router = APIRouter()

DUPLICATES = "/admin/duplicates"
SETS_PER_PAGE = 20
JOBS_PER_PAGE = 20
MERGES_SHOWN = 20
CHOICE_PREFIX = "choice-"


# ---------------------------------------------------------------------------------------------- jobs and sets


def _job_row(language: str, job: Any) -> dict[str, Any]:
    return {
        "id": job.id,
        "table": label(language, TABLE_LABELS, job.table_name),
        "state": job.state.value,
        "state_label": label(language, JOB_STATE_LABELS, job.state),
        "state_badge": JOB_STATE_BADGES[job.state.value],
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "set_count": job.set_count,
        "record_count": job.record_count,
        "done": job.progress_done,
        "total": job.progress_total,
        "error": job.error,
        "active": job.state in (JobState.QUEUED, JobState.RUNNING),
    }


def _record_names(session: Session, table: DetectionTable, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    info = TABLES[table]
    wanted = list(set(ids))
    if not wanted:
        return {}
    column = info.table.c[info.name_column]
    return {
        row.id: row[1] or ""
        for row in session.execute(select(info.table.c.id, column).where(info.table.c.id.in_(wanted)))
    }


def _merge_rows(language: str, session: Session, journals: list[MergeJournal]) -> list[dict[str, Any]]:
    names: dict[uuid.UUID, str] = {}
    for table in {journal.table_name for journal in journals}:
        ids = [
            i
            for journal in journals
            if journal.table_name == table
            for i in (journal.master_id, journal.subordinate_id)
        ]
        names.update(_record_names(session, DetectionTable(table), ids))
    return [
        {
            "id": journal.id,
            "table": label(language, TABLE_LABELS, journal.table_name),
            "master": names.get(journal.master_id, str(journal.master_id)),
            "subordinate": names.get(journal.subordinate_id, str(journal.subordinate_id)),
            "state": label(language, MERGE_STATE_LABELS, journal.state),
            "undone": journal.state is MergeState.UNDONE,
            "created_at": journal.created_at,
        }
        for journal in journals
    ]


@router.get(DUPLICATES)
@admin_area("settings", Privilege.WRITE)
def duplicates_page(request: Request, session: WebSessionDep, cursor: str | None = None) -> Response:
    """Start a find-all-duplicates job; the jobs so far and the latest merges."""
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        page = scan.list_jobs(uow=uow, actor=session.actor, limit=JOBS_PER_PAGE, cursor=cursor)
        jobs = [_job_row(language, job) for job in page.items]
        merges = _merge_rows(
            language, uow.session, merge_service.list_merges(limit=MERGES_SHOWN, uow=uow, actor=session.actor).items
        )
    return render(
        request,
        session,
        "admin/duplicates.html",
        jobs=jobs,
        merges=merges,
        next_cursor=page.next_cursor,
        paged=cursor is not None,
        tables=[(table.value, label(language, TABLE_LABELS, table)) for table in DetectionTable],
    )


@router.post(DUPLICATES + "/jobs")
@admin_area("settings", Privilege.WRITE)
def start_job(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """Start finding every duplicate set of one table as a job; the duplicate job's page follows it."""
    found, job = start_scan(str(form.get("table", "")), database=database_of(request), actor=session.actor)
    request.app.state.queue.enqueue(job.id)
    return redirect(f"{DUPLICATES}/jobs/{found.id}")


@dataclass(frozen=True)
class _Member:
    id: uuid.UUID
    name: str | None
    email: str | None
    phone: str | None
    city: str | None
    owner_name: str | None
    link: str


@router.get(DUPLICATES + "/jobs/{job_id}")
@admin_area("settings", Privilege.WRITE)
def job_page(request: Request, session: WebSessionDep, job_id: uuid.UUID, cursor: str | None = None) -> Response:
    """One job: state and progress, what each rule found, and a page of its duplicate sets.

    While it is queued or running, the page follows the progress of the job of the queue that fills it,
    and stops once that job has finished (done, failed or canceled)."""
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        job = scan.get_job(job_id, uow=uow, actor=session.actor)
        rules = scan.job_rules(job_id, uow=uow, actor=session.actor)
        page = sets.list_sets(job_id, uow=uow, actor=session.actor, limit=SETS_PER_PAGE, cursor=cursor)
        filling = latest_job(uow.session, kind=SCAN, parameter="duplicate_job_id", value=job_id)
        follow = progress_of(language, filling) if filling is not None else None
    table = job.table_name.value
    shown = [
        {
            "position": found.position,
            "rule_name": rule_name(language, found.rule_name) if found.rule_name else None,
            "score": found.score,
            "size": found.size,
            "members": [
                _Member(m.id, m.name, m.email, m.phone, m.city, m.owner_name, RECORD_PAGES[table].format(id=m.id))
                for m in found.members
            ],
        }
        for found in page.items
    ]
    return render(
        request,
        session,
        "admin/job.html",
        job=_job_row(language, job),
        filling_job=filling.id if filling is not None else None,
        follow=follow,
        follow_url=progress_url(filling.id) if filling is not None and follow and not follow.finished else None,
        table=table,
        sets=shown,
        rules=[
            replace(rule, rule_name=rule_name(language, rule.rule_name)) if rule.rule_name else rule for rule in rules
        ],
        next_cursor=page.next_cursor,
        paged=cursor is not None,
        mergeable=DetectionTable(table) in merge_service.POLICIES,
        record_label=label(language, RECORD_LABELS, table),
    )


@router.get(DUPLICATES + "/jobs/{job_id}/sets.csv")
@admin_area("settings", Privilege.WRITE)
def job_csv(request: Request, session: WebSessionDep, job_id: uuid.UUID) -> Response:
    """Every set of the job as CSV, one line per member."""
    rows = sets.iter_set_rows(job_id, database=database_of(request), actor=session.actor)
    response = StreamingResponse(
        sets.csv_chunks(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="duplicate-sets-{job_id}.csv"'},
    )
    return _secure(response)


# ---------------------------------------------------------------------------------------------- merge

# Lookup columns shown by the name of the record they point at.
_LOOKUPS: dict[str, tuple[Any, Any]] = {
    "owner_user_id": (User, User.full_name),
    "account_id": (Account, Account.name),
    "parent_account_id": (Account, Account.name),
    "primary_contact_id": (Contact, Contact.full_name),
    "parent_contact_id": (Contact, Contact.full_name),
    "currency_id": (Currency, Currency.iso_code),
    "campaign_id": (Campaign, Campaign.name),
}


# Columns a merge sets from the owner it keeps: the owner's own line says it all.
_DERIVED = frozenset({"owner_team_id", "owning_business_unit_id"})


def _values_of(record: Any, fields: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(record, name) for name in fields}


def _lookup_names(
    session: Session, rows: Iterable[Mapping[str, Any]], fields: Iterable[str]
) -> dict[tuple[str, Any], str]:
    """Names of the records lookup columns point at, by (column, id)."""
    rows = list(rows)
    names: dict[tuple[str, Any], str] = {}
    for name in fields:
        if name not in _LOOKUPS:
            continue
        model, column = _LOOKUPS[name]
        ids = {row.get(name) for row in rows} - {None}
        if ids:
            for record_id, text in session.execute(select(model.id, column).where(model.id.in_(ids))):
                names[(name, record_id)] = text or ""
    return names


def _shown(language: str, time_zone: tzinfo, name: str, value: Any, names: dict[tuple[str, Any], str]) -> str:
    """A column's value as the merge pages show it (moments on the reader's clock)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return "—"
    if (name, value) in names:
        return names[(name, value)]
    if isinstance(value, bool):
        return gettext(language, "Yes") if value else "No"  # the same word in English and Spanish
    if isinstance(value, enum.Enum):
        return label(language, VALUE_LABELS, value)
    if isinstance(value, Decimal | float | int):
        return format_number(value, language)
    if isinstance(value, datetime):
        return format_moment(value, language, time_zone=time_zone)
    if isinstance(value, date):
        return format_day(value, language)
    return str(value)


@dataclass
class _MergeRequest:
    table: str
    master_id: uuid.UUID | None
    subordinate_id: uuid.UUID | None
    choices: dict[str, str]
    force_parenting: bool

    @classmethod
    def of(cls, values: Any) -> _MergeRequest:
        choices = {
            key[len(CHOICE_PREFIX) :]: str(value) for key, value in values.items() if key.startswith(CHOICE_PREFIX)
        }
        return cls(
            table=str(values.get("table", "")),
            master_id=parse_uuid(values.get("master")),
            subordinate_id=parse_uuid(values.get("subordinate")),
            choices=choices,
            force_parenting=str(values.get("force_parenting", "")).lower() in ("true", "on", "1"),
        )

    def query(self, **changes: Any) -> str:
        params: dict[str, Any] = {
            "table": self.table,
            "master": self.master_id or "",
            "subordinate": self.subordinate_id or "",
        }
        if self.force_parenting:
            params["force_parenting"] = "true"
        params.update({CHOICE_PREFIX + name: choice for name, choice in self.choices.items()})
        params.update(changes)
        return urlencode(params)

    def swapped(self) -> str:
        params = {"table": self.table, "master": self.subordinate_id or "", "subordinate": self.master_id or ""}
        if self.force_parenting:
            params["force_parenting"] = "true"
        return urlencode(params)


def _required_ids(wanted: _MergeRequest) -> tuple[uuid.UUID, uuid.UUID]:
    """The master's and the subordinate's ids; refused when either is missing."""
    if wanted.master_id is None or wanted.subordinate_id is None:
        raise ValidationFailed(
            "Name the two records to merge by their ids: the master and the subordinate.",
            code="merge_records_required",
        )
    return wanted.master_id, wanted.subordinate_id


def _merge_context(
    session: Session, actor: Actor, language: str, wanted: _MergeRequest, *, time_zone: tzinfo
) -> dict[str, Any]:
    """Both records side by side, field by field, with the value each field will keep."""
    master_id, subordinate_id = _required_ids(wanted)
    policy = merge_service.policy_for(wanted.table)
    info = TABLES[policy.table]
    master = get_accessible(session, policy.model, master_id, label=info.label, actor=actor, privilege=Privilege.READ)
    subordinate = get_accessible(
        session, policy.model, subordinate_id, label=info.label, actor=actor, privilege=Privilege.READ
    )
    names = _lookup_names(
        session, (_values_of(master, policy.fields), _values_of(subordinate, policy.fields)), policy.fields
    )
    fields = []
    same = 0
    for name in policy.fields:
        ours, theirs = getattr(master, name), getattr(subordinate, name)
        if ours == theirs:
            same += 1
            continue
        fields.append(
            {
                "name": name,
                "label": label(language, COLUMN_LABELS, name),
                "master": _shown(language, time_zone, name, ours, names),
                "subordinate": _shown(language, time_zone, name, theirs, names),
            }
        )
    # Custom fields, chosen one by one like the built-in ones.
    for custom in fields_of(session, policy.table.value):
        name = f"custom.{custom.name}"
        ours, theirs = merge_service.field_value(master, name), merge_service.field_value(subordinate, name)
        if ours == theirs:
            same += 1
            continue
        fields.append(
            {
                "name": name,
                "label": custom.label(language),
                "master": as_text(custom, ours, language),
                "subordinate": as_text(custom, theirs, language),
            }
        )
    table = policy.table.value
    return {
        "table": table,
        "table_label": label(language, TABLE_LABELS, table),
        "record_label": label(language, RECORD_LABELS, table),
        "master": {
            "id": master.id,
            "name": getattr(master, info.name_column) or "",
            "link": RECORD_PAGES[table].format(id=master.id),
        },
        "subordinate": {
            "id": subordinate.id,
            "name": getattr(subordinate, info.name_column) or "",
            "link": RECORD_PAGES[table].format(id=subordinate.id),
        },
        "fields": fields,
        "same_count": same,
        "names": names,
        "records": (master, subordinate),
        "has_parents": bool(policy.parents),
    }


def _choices_page(
    request: Request, session: WebSession, wanted: _MergeRequest, *, error: LeadflowError | None = None
) -> Response:
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        context = _merge_context(uow.session, session.actor, language, wanted, time_zone=session.time_zone)
        choices = dict(wanted.choices)
        if not choices and error is None:
            try:
                choices = merge_service.preview_merge(
                    wanted.table,
                    *_required_ids(wanted),
                    fields={},
                    force_parenting=wanted.force_parenting,
                    uow=uow,
                    actor=session.actor,
                ).choices
            except LeadflowError as refused:
                if isinstance(refused, Forbidden):
                    raise
                error = refused
    for field in context["fields"]:
        field["choice"] = choices.get(field["name"], merge_service.MASTER)
    return render(
        request,
        session,
        "admin/merge.html",
        status_code=status_for(error) if error else 200,
        wanted=wanted,
        swap_query=wanted.swapped(),
        error=refusal_text(language, error) if error else None,
        parent_mismatch=error is not None and error.code == "merge_parent_mismatch",
        **{key: value for key, value in context.items() if key not in ("names", "records")},
    )


@router.get("/admin/merge")
@signed_in_page
def merge_page(request: Request, session: WebSessionDep) -> Response:
    """Choose the master and, for each field the two records disagree on, the value that survives."""
    return _choices_page(request, session, _MergeRequest.of(request.query_params))


def _moved_rows(language: str, moves: Iterable[tuple[str, str, int]]) -> list[dict[str, Any]]:
    rows = []
    for table, column, count in moves:
        text = MOVED_LABELS.get(table, {}).get(column)
        shown = gettext(language, text) if text else f"{label(language, TABLE_LABELS, table)} ({column})"
        rows.append({"label": shown, "count": count})
    return rows


@router.get("/admin/merge/preview")
@signed_in_page
def merge_preview(request: Request, session: WebSessionDep) -> Response:
    """What the merge will do: the master's changed values and the records that move. Nothing is saved."""
    language = session.language
    wanted = _MergeRequest.of(request.query_params)
    with database_of(request).unit_of_work(read_only=True) as uow:
        context = _merge_context(uow.session, session.actor, language, wanted, time_zone=session.time_zone)
        try:
            preview = merge_service.preview_merge(
                wanted.table,
                *_required_ids(wanted),
                fields=wanted.choices,
                force_parenting=wanted.force_parenting,
                uow=uow,
                actor=session.actor,
            )
        except LeadflowError as error:
            if isinstance(error, Forbidden):
                raise
            refused: LeadflowError | None = error
        else:
            refused = None
            names = context["names"]
            names.update(_lookup_names(uow.session, [preview.values], preview.changed))
    if refused is not None:
        return _choices_page(request, session, wanted, error=refused)
    master, _subordinate = context["records"]
    changed = [
        {
            "label": label(language, COLUMN_LABELS, name),
            "before": _shown(language, session.time_zone, name, getattr(master, name), names),
            "after": _shown(language, session.time_zone, name, preview.values[name], names),
        }
        for name in preview.changed
        if name not in _DERIVED
    ]
    moved = _moved_rows(language, ((move.table, move.column, len(move.ids)) for move in preview.children))
    return render(
        request,
        session,
        "admin/merge_preview.html",
        wanted=wanted,
        changed=changed,
        moved=moved,
        choices=preview.choices,
        back_query=wanted.query(),
        **{key: value for key, value in context.items() if key not in ("names", "records")},
    )


@router.post("/admin/merge")
@signed_in_page
def merge(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """Merge the subordinate into the master with the chosen values; the merge's page offers the undo."""
    wanted = _MergeRequest.of(form)
    try:
        master_id, subordinate_id = _required_ids(wanted)
        with database_of(request).unit_of_work() as uow:
            journal = merge_service.merge_records(
                wanted.table,
                master_id,
                subordinate_id,
                fields=wanted.choices,
                force_parenting=wanted.force_parenting,
                uow=uow,
                actor=session.actor,
            )
            uow.commit()
            merge_id = journal.id
    except LeadflowError as error:
        if isinstance(error, Forbidden):
            raise
        return _choices_page(request, session, wanted, error=error)
    return redirect(f"/admin/merges/{merge_id}?merged=true")


def _journal_page(
    request: Request,
    session: WebSession,
    merge_id: uuid.UUID,
    *,
    status_code: int = 200,
    error: str | None = None,
    notice: str | None = None,
) -> Response:
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        journal = merge_service.get_merge(merge_id, uow=uow, actor=session.actor)
        table = DetectionTable(journal.table_name)
        names = _record_names(uow.session, table, (journal.master_id, journal.subordinate_id))
        users: dict[uuid.UUID | None, str] = dict(
            uow.session.execute(
                select(User.id, User.full_name).where(
                    User.id.in_({journal.merged_by_id, journal.undone_by_id} - {None})
                )
            ).all()
        )
    taken = sorted(
        label(language, COLUMN_LABELS, name)
        for name, choice in journal.choices.items()
        if choice == merge_service.SUBORDINATE
    )
    moved = _moved_rows(
        language, ((item["table"], item["column"], item["count"]) for item in merge_service.moved_summary(journal))
    )
    link = RECORD_PAGES[table.value]
    return render(
        request,
        session,
        "admin/merge_journal.html",
        status_code=status_code,
        error=error,
        notice=notice,
        journal=journal,
        table_label=label(language, TABLE_LABELS, table),
        record_label=label(language, RECORD_LABELS, table),
        master={
            "id": journal.master_id,
            "name": names.get(journal.master_id, ""),
            "link": link.format(id=journal.master_id),
        },
        subordinate={
            "id": journal.subordinate_id,
            "name": names.get(journal.subordinate_id, ""),
            "link": link.format(id=journal.subordinate_id),
        },
        state_label=label(language, MERGE_STATE_LABELS, journal.state),
        undone=journal.state is MergeState.UNDONE,
        merged_by=users.get(journal.merged_by_id),
        undone_by=users.get(journal.undone_by_id),
        taken=taken,
        moved=moved,
    )


@router.get("/admin/merges/{merge_id}")
@signed_in_page
def merge_journal_page(request: Request, session: WebSessionDep, merge_id: uuid.UUID) -> Response:
    """One merge: the two records, the values taken from the subordinate, what moved; undo while merged."""
    language = session.language
    notice = None
    if request.query_params.get("merged"):
        notice = gettext(language, "The records were merged. You can undo the merge from this page.")
    elif request.query_params.get("undone"):
        notice = gettext(language, "The merge was undone: both records are back as they were.")
    return _journal_page(request, session, merge_id, notice=notice)


@router.post("/admin/merges/{merge_id}/undo")
@signed_in_page
def undo_merge(request: Request, session: WebSessionDep, merge_id: uuid.UUID) -> Response:
    """Put both records and every moved record back as they were before the merge."""
    try:
        committed(request, lambda uow: merge_service.undo_merge(merge_id, uow=uow, actor=session.actor))
    except LeadflowError as error:
        if isinstance(error, Forbidden):
            raise
        return _journal_page(
            request, session, merge_id, status_code=status_for(error), error=refusal_text(session.language, error)
        )
    return redirect(f"/admin/merges/{merge_id}?undone=true")


def merge_link(table: str, master_id: uuid.UUID, subordinate_id: uuid.UUID) -> str:
    """The address of the merge page for two records (for the record pages' "Merge" links)."""
    return "/admin/merge?" + urlencode({"table": table, "master": master_id, "subordinate": subordinate_id})
