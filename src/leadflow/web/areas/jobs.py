"""Jobs, for every signed-in user: the long work they started (everyone's for an administrator), a
job's page with its progress, what it came to and the line of each item, and Cancel and Retry.

``leadflow.jobs.service`` decides who sees and steers which job: someone else's job is not found.
While a job is queued or running its page follows the progress without reloading: ``static/jobs.js``
asks ``/jobs/{id}/progress`` every two seconds, stops once the job has finished and loads the page
once more to show what it came to. Without JavaScript the page's Refresh link does the same.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.errors import Forbidden, LeadflowError, NotFound
from leadflow.core.formatting import format_number, format_percent
from leadflow.customers.models import Account, Contact
from leadflow.duplicates.models import DuplicateJob, DuplicateRule
from leadflow.http.errors import status_for
from leadflow.jobs import service
from leadflow.jobs.models import FINISHED, Job, JobItem, JobState
from leadflow.leads.bulk import BulkResult
from leadflow.leads.models import Lead
from leadflow.opportunities.models import Opportunity
from leadflow.scoring.models import ScoringModel, ScoringVersion
from leadflow.security.access import access_condition
from leadflow.security.models import User
from leadflow.security.privileges import Privilege
from leadflow.tasks import admin as admin_tasks
from leadflow.tasks import mail as mail_tasks
from leadflow.tasks import qualify as qualify_task
from leadflow.tasks import scoring as scoring_tasks
from leadflow.tasks import transfer as transfer_tasks
from leadflow.web.areas.admin import refused_page
from leadflow.web.forms import id_in_path, parse_uuid, refusal, refusal_text
from leadflow.web.i18n import N_, gettext, translations
from leadflow.web.labels import TABLE_LABELS, label, rule_name
from leadflow.web.pages import (
    WebSession,
    WebSessionDep,
    committed,
    database_of,
    redirect,
    refusals_shown_by,
    render,
)
from leadflow.web.routes import _secure

router = APIRouter()

JOBS = "/jobs"
JOBS_PER_PAGE = 25
ITEMS_PER_PAGE = 50
# How often a job's page asks for its progress while the job is queued or running (milliseconds).
POLL_MILLISECONDS = 2000

# ---------------------------------------------------------------------------------------------- labels

JOB_STATE_LABELS = {
    JobState.QUEUED.value: N_("Queued"),
    JobState.RUNNING.value: N_("Running"),
    JobState.SUCCEEDED.value: N_("Succeeded"),
    JobState.FAILED.value: N_("Failed"),
    JobState.CANCELED.value: N_("Canceled"),
}
# The badge of each state (the colours of leadflow.css and jobs.css); the label always says it in words.
JOB_STATE_BADGES = {
    JobState.QUEUED.value: "",
    JobState.RUNNING.value: "info",
    JobState.SUCCEEDED.value: "ok",
    JobState.FAILED.value: "bad",
    JobState.CANCELED.value: "muted",
}
# A kind's name; the context keeps it apart from the same English words elsewhere ("Find duplicates",
# the button that starts a search, is a verb: the kind is a noun in Spanish).
KIND_CONTEXT = "job kind"
JOB_KIND_LABELS = {
    qualify_task.KIND: "Bulk qualification",
    admin_tasks.SCAN: "Find duplicates",
    admin_tasks.PUBLISH: "Rule publishing",
    admin_tasks.RECALCULATE: "Currency recalculation",
    transfer_tasks.IMPORT: "Import",
    transfer_tasks.EXPORT: "Export",
    mail_tasks.KIND: "E-mail sending",
    scoring_tasks.TRAIN: "Scoring model training",
    scoring_tasks.RESCORE: "Lead scoring",
}
# What one item of a job came to; a status without a label is shown as stored.
ITEM_STATUS_LABELS = {
    BulkResult.QUALIFIED.value: N_("Qualified"),
    BulkResult.SKIPPED.value: N_("Skipped"),
    BulkResult.STOPPED.value: N_("Stopped here"),
    BulkResult.FAILED.value: N_("Refused"),
    # the rows of an import
    "created": N_("Created"),
    "updated": N_("Updated"),
    "unchanged": N_("Unchanged"),
}
ITEM_STATUS_BADGES = {
    BulkResult.QUALIFIED.value: "ok",
    BulkResult.SKIPPED.value: "warn",
    BulkResult.STOPPED.value: "bad",
    BulkResult.FAILED.value: "bad",
    "created": "ok",
    "updated": "ok",
}
# What the rows of an import came to, as its page counts them (``tasks.transfer.import_summary``).
IMPORT_COUNT_LABELS = (
    ("created", N_("Rows created")),
    ("updated", N_("Rows updated")),
    ("unchanged", N_("Rows unchanged")),
    ("skipped", N_("Rows skipped")),
    ("failed", N_("Rows that failed")),
    ("qualified", N_("Leads qualified")),
)
NOTICES = {
    "canceled": N_("The job was canceled."),
    "stopping": N_("The job stops after the batch it is writing; what that batch does stays done."),
    "retried": N_("The job was queued again; it goes on from where it stopped."),
}


def kind_label(language: str, kind: str) -> str:
    """A kind of job in words (a kind this version does not know is shown as stored)."""
    text = JOB_KIND_LABELS.get(kind)
    return str(translations(language).pgettext(KIND_CONTEXT, text)) if text else kind


_QUALIFY_TITLE = re.compile(r"Qualify (?P<count>\d+) leads?")
_SCAN_TITLE = re.compile(r"Find all duplicates in (?P<table>\w+)")
_PUBLISH_TITLE = re.compile(r"Publish the rule (?P<rule>.+)", re.DOTALL)
_RECALCULATE_TITLE = "Recalculate open records"
# ``leadflow.activities.activity`` and ``leadflow.tasks.mail`` title the jobs that send e-mails so.
_SEND_TITLE = re.compile(r"Send the e-mail (?P<subject>.+)", re.DOTALL)
_RESEND_TITLE = "Send an e-mail again"
# ``leadflow.tasks.scoring`` titles the training of a scoring model and the scoring of the open leads so.
_TRAIN_TITLE = re.compile(r"Train the scoring model (?P<model>.+)", re.DOTALL)
_RESCORE_TITLE = re.compile(r"Score the open leads \((?P<model>.+)\)", re.DOTALL)
# ``leadflow.transfer.service`` and ``leadflow.tasks.transfer`` title imports, dry runs and exports so.
_TRANSFER_TITLE = re.compile(
    r"(?:(?P<verb>Import|Check) (?P<table>\w+) from (?P<filename>.+)|Export (?P<exported>\w+) to (?P<format>\w+))",
    re.DOTALL,
)
_TRANSFER_TITLES = {
    ("Import", "leads"): N_("Import leads from %(filename)s"),
    ("Import", "accounts"): N_("Import accounts from %(filename)s"),
    ("Import", "contacts"): N_("Import contacts from %(filename)s"),
    ("Import", "opportunities"): N_("Import opportunities from %(filename)s"),
    ("Check", "leads"): N_("Dry run: leads from %(filename)s"),
    ("Check", "accounts"): N_("Dry run: accounts from %(filename)s"),
    ("Check", "contacts"): N_("Dry run: contacts from %(filename)s"),
    ("Check", "opportunities"): N_("Dry run: opportunities from %(filename)s"),
    ("Export", "leads"): N_("Export leads to %(format)s"),
    ("Export", "accounts"): N_("Export accounts to %(format)s"),
    ("Export", "contacts"): N_("Export contacts to %(format)s"),
    ("Export", "opportunities"): N_("Export opportunities to %(format)s"),
}


def job_title(language: str, title: str) -> str:
    """A job's title (``leadflow.tasks`` writes it in English) in the reader's language; a title worded
    otherwise is shown as stored. The audit log words its entries about jobs with it too."""
    if found := _QUALIFY_TITLE.fullmatch(title):
        count = int(found["count"])  # no plural forms: the catalogues word counts as "...: 3"
        return gettext(language, "Qualify leads: %(count)s", count=format_number(count, language))
    if found := _SCAN_TITLE.fullmatch(title):
        return gettext(
            language, "Find all duplicates in %(searched)s", searched=label(language, TABLE_LABELS, found["table"])
        )
    if found := _PUBLISH_TITLE.fullmatch(title):
        return gettext(language, "Publish the rule %(rule)s", rule=rule_name(language, found["rule"]))
    if title == _RECALCULATE_TITLE:
        return gettext(language, "Recalculate open records")
    if found := _SEND_TITLE.fullmatch(title):
        return gettext(language, "Send the e-mail %(subject)s", subject=found["subject"])
    if title == _RESEND_TITLE:
        return gettext(language, "Send an e-mail again")
    if found := _TRAIN_TITLE.fullmatch(title):
        return gettext(language, "Train the scoring model %(model)s", model=found["model"])
    if found := _RESCORE_TITLE.fullmatch(title):
        return gettext(language, "Score the open leads (%(model)s)", model=found["model"])
    if found := _TRANSFER_TITLE.fullmatch(title):
        verb, table = ("Export", found["exported"]) if found["exported"] else (found["verb"], found["table"])
        if message := _TRANSFER_TITLES.get((verb, table)):
            return gettext(language, message, filename=found["filename"] or "", format=found["format"] or "")
    return title


# ---------------------------------------------------------------------------------------------- progress


@dataclass(frozen=True)
class Progress:
    """How far a job got, as its pages and its progress answer show it."""

    state: str
    state_label: str
    badge: str
    done: int
    total: int
    # None while there is no total to measure against (a job that has not counted its work yet).
    fraction: float | None
    text: str
    finished: bool
    cancel_requested: bool

    @property
    def bar_max(self) -> int:
        """The ``max`` of the page's progress bar: the total, or 1 for a job that counted none."""
        return self.total if self.total > 0 else 1

    @property
    def bar_value(self) -> int:
        """The ``value`` of the page's progress bar (with no total: full when done, else empty)."""
        if self.total > 0:
            return min(self.done, self.total)
        return 1 if self.fraction == 1 else 0

    def as_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "state_label": self.state_label,
            "badge": self.badge,
            "done": self.done,
            "total": self.total,
            "fraction": self.fraction,
            "text": self.text,
            "finished": self.finished,
            "cancel_requested": self.cancel_requested,
        }


def progress_of(language: str, job: Job) -> Progress:
    """A job's state and progress in the reader's language."""
    state = job.state.value
    finished = job.state in FINISHED
    done, total = job.progress_done, job.progress_total
    fraction: float | None = None
    if total > 0:
        fraction = min(done, total) / total
        text = gettext(
            language,
            "%(done)s of %(total)s (%(percent)s)",
            done=format_number(done, language),
            total=format_number(total, language),
            percent=format_percent(fraction, language),
        )
    elif job.state is JobState.SUCCEEDED:
        fraction, text = 1.0, format_percent(1, language)
    elif job.state is JobState.QUEUED:
        text = gettext(language, "Waiting in the queue.")
    elif job.state is JobState.RUNNING:
        text = gettext(language, "Getting started…")
    else:
        fraction, text = 0.0, gettext(language, "Nothing was done.")
    return Progress(
        state=state,
        state_label=label(language, JOB_STATE_LABELS, state),
        badge=JOB_STATE_BADGES.get(state, ""),
        done=done,
        total=total,
        fraction=fraction,
        text=text,
        finished=finished,
        cancel_requested=job.cancel_requested and not finished,
    )


def progress_url(job_id: uuid.UUID) -> str:
    """Where a page asks for a job's progress (``static/jobs.js``)."""
    return f"{JOBS}/{job_id}/progress"


def latest_job(session: Session, *, kind: str, parameter: str, value: uuid.UUID) -> Job | None:
    """The newest job of a kind whose parameter ``parameter`` names ``value`` (the job that fills a
    duplicate detection job, or publishes a rule), for the pages of what it works on."""
    statement = (
        select(Job)
        .where(Job.kind == kind, Job.parameters[parameter].as_string() == str(value))
        .order_by(Job.created_at.desc())
        .limit(1)
    )
    return session.scalars(statement).first()


# ---------------------------------------------------------------------------------------------- rows


def _names(session: Session, user_ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = {user_id for user_id in user_ids if user_id is not None}
    if not wanted:
        return {}
    return dict(session.execute(select(User.id, User.full_name).where(User.id.in_(wanted))).all())


def _job_row(language: str, job: Job, names: dict[uuid.UUID, str]) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "title": job_title(language, job.title),
        "kind_label": kind_label(language, job.kind),
        "progress": progress_of(language, job),
        "started_by": names.get(job.created_by_id) if job.created_by_id else None,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        # Why it failed, in the reader's language when the catalogue has the service's sentence.
        "error": gettext(language, job.error) if job.error else None,
        "attempts": job.attempts,
    }


def _refused(request: Request, session: WebSession, error: LeadflowError) -> Response:
    """A job that does not exist, or that is not the user's to see (404), in the user's language."""
    if error.code == "job_not_found":
        error = NotFound(N_("This job does not exist, or it is not one you may see."), code="job_not_found")
    return refused_page(request, session, error)


_job_page = refusals_shown_by(_refused)


# ---------------------------------------------------------------------------------------------- the list


@router.get(JOBS)
@_job_page
def jobs_page(request: Request, session: WebSessionDep) -> Response:
    """Jobs, newest first: the user's own, or everyone's for an administrator; by state, paged."""
    language = session.language
    params = request.query_params
    state_value = params.get("state", "")
    state = JobState(state_value) if state_value in JOB_STATE_LABELS else None
    sees_everyone = service.sees_every_job(session.actor)
    mine = sees_everyone and params.get("mine") == "true"
    cursor = params.get("cursor") or None
    failure = None
    with database_of(request).unit_of_work(read_only=True) as uow:
        try:
            page = service.list_jobs(
                uow=uow, actor=session.actor, state=state, mine=mine, limit=JOBS_PER_PAGE, cursor=cursor
            )
        except LeadflowError as error:
            if error.code != "invalid_cursor":
                raise
            failure, cursor = refusal(language, error), None
            page = service.list_jobs(uow=uow, actor=session.actor, state=state, mine=mine, limit=JOBS_PER_PAGE)
        names = _names(uow.session, (job.created_by_id for job in page.items))
        rows = [_job_row(language, job, names) for job in page.items]
    kept = {
        name: value
        for name, value in (("state", state.value if state else ""), ("mine", "true" if mine else ""))
        if value
    }
    return render(
        request,
        session,
        "jobs/list.html",
        status_code=200 if failure is None else 422,
        jobs=rows,
        refusal=failure,
        states=[(value, gettext(language, text)) for value, text in JOB_STATE_LABELS.items()],
        state=state.value if state else "",
        sees_everyone=sees_everyone,
        mine=mine,
        any_active=any(not row["progress"].finished for row in rows),
        this_page=f"{JOBS}?{urlencode({**kept, **({'cursor': cursor} if cursor else {})})}".rstrip("?"),
        next_link=f"{JOBS}?{urlencode({**kept, 'cursor': page.next_cursor})}" if page.next_cursor else None,
        first_link=f"{JOBS}?{urlencode(kept)}".rstrip("?") if cursor else None,
        filtered=bool(kept),
    )


# ---------------------------------------------------------------------------------------------- one job


def _after(raw: str | None) -> int:
    """The position the item lines start after (``after``); the first line for anything else."""
    if raw and raw.isdigit() and len(raw) < 10:
        return int(raw)
    return -1


def _works_on(language: str, session: Session, web: WebSession, job: Job) -> list[tuple[str, str, str, str]]:
    """What a job works on, for its facts (label, link id, address, text): the duplicate detection job a
    scan fills, the rule a publishing job publishes; shown to those whose page it is, while it exists."""
    if not web.can_admin("settings", Privilege.WRITE):
        return []
    parameters = job.parameters or {}
    if job.kind == admin_tasks.SCAN:
        found = parse_uuid(parameters.get("duplicate_job_id"))
        if found is not None and session.get(DuplicateJob, found) is not None:
            page = f"/admin/duplicates/jobs/{found}"
            return [
                (
                    gettext(language, "Duplicate detection job"),
                    "duplicate-job-link",
                    page,
                    gettext(language, "See the duplicate sets"),
                )
            ]
    if job.kind == admin_tasks.PUBLISH:
        rule = session.get(DuplicateRule, rule_id) if (rule_id := parse_uuid(parameters.get("rule_id"))) else None
        if rule is not None:
            return [
                (
                    gettext(language, "Rule"),
                    "rule-link",
                    f"/admin/duplicate-rules/{rule.id}",
                    rule_name(language, rule.name),
                )
            ]
    if job.kind == scoring_tasks.TRAIN:
        found = parse_uuid(parameters.get("version_id"))
        version = session.get(ScoringVersion, found) if found is not None else None
        model = session.get(ScoringModel, version.model_id) if version is not None else None
        if version is not None and model is not None:
            return [
                (
                    gettext(language, "Scoring model"),
                    "scoring-model-link",
                    f"/admin/scoring/{model.id}?version={version.id}",
                    f"{model.name} · v{version.number}",
                )
            ]
    return []


def _summary(language: str, job: Job) -> dict[str, Any]:
    """What a job came to, by kind, as its page shows it: counts per result, figures, a sentence."""
    summary = job.summary or {}
    shown: dict[str, Any] = {"figures": [], "sentence": None}
    figures: list[tuple[str, int]] = shown["figures"]
    if job.kind == admin_tasks.SCAN:
        for key, text in (("sets", N_("Duplicate sets")), ("records", N_("Records in a set"))):
            if isinstance(summary.get(key), int):
                figures.append((gettext(language, text), summary[key]))
    elif job.kind == admin_tasks.PUBLISH:
        if isinstance(summary.get("records"), int):
            figures.append((gettext(language, "Records coded"), summary["records"]))
    elif job.kind == transfer_tasks.IMPORT:
        for key, text in IMPORT_COUNT_LABELS:
            if isinstance(summary.get(key), int) and (summary[key] or key != "qualified"):
                figures.append((gettext(language, text), summary[key]))
        if summary.get("dry_run"):
            shown["sentence"] = gettext(
                language,
                "This was a dry run: every row was checked and none was saved. The counts say what an import would do.",
            )
        return shown  # its figures are the counts of its items, worded for rows
    elif job.kind == admin_tasks.RECALCULATE:
        changed = summary.get("changed")
        if isinstance(changed, dict):
            shown["sentence"] = gettext(
                language,
                "The open records were recalculated with the current exchange rates: %(leads)s leads and "
                "%(opportunities)s opportunities changed.",
                leads=format_number(_count(changed.get("leads")), language),
                opportunities=format_number(_count(changed.get("opportunities")), language),
            )
            for table, count in changed.items():
                if table not in ("leads", "opportunities") and isinstance(count, int):
                    figures.append(
                        (gettext(language, "%(table)s changed", table=label(language, TABLE_LABELS, table)), count)
                    )
    counts = summary.get("items")
    if isinstance(counts, dict):
        for status, count in counts.items():
            if isinstance(count, int):
                figures.append((label(language, ITEM_STATUS_LABELS, status), count))
    if isinstance(summary.get("not_attempted"), int) and summary["not_attempted"]:
        figures.append((gettext(language, "Not attempted"), summary["not_attempted"]))
    return shown


def _downloads(language: str, job: Job, counts: dict[str, int]) -> list[tuple[str, str, str]]:
    """The files a job leaves to download (link id, address, text): the rows of an import that failed,
    the file an export wrote."""
    if job.kind == transfer_tasks.IMPORT and counts.get("failed"):
        return [
            ("failed-rows-link", f"/imports/{job.id}/errors.csv", gettext(language, "Download the rows that failed"))
        ]
    if job.kind == transfer_tasks.EXPORT and job.state is JobState.SUCCEEDED:
        return [("export-file-link", f"/exports/{job.id}/file", gettext(language, "Download the file"))]
    return []


def _count(value: object) -> int:
    return value if isinstance(value, int) else 0


def _readable(
    session: Session, web: WebSession, model: Any, table: str, column: Any, ids: set[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """Names of the records among ``ids`` the reader may read (the others are shown without a link)."""
    if not ids:
        return {}
    statement = select(model.id, column).where(
        model.id.in_(ids), access_condition(web.actor, Privilege.READ, table, model)
    )
    return {record_id: name or "" for record_id, name in session.execute(statement)}


_CREATED = (
    ("account_id", N_("Account"), "/accounts/{id}"),
    ("contact_id", N_("Contact"), "/contacts/{id}"),
)
# The name of a record of each table a job's items may name (a qualification's leads, an import's rows).
_RECORD_NAMES: dict[str, tuple[Any, Any]] = {
    "leads": (Lead, Lead.full_name),
    "accounts": (Account, Account.name),
    "contacts": (Contact, Contact.full_name),
    "opportunities": (Opportunity, Opportunity.name),
}


def _items_table(job: Job) -> str | None:
    """The table whose records a job's items name, when its page links them: leads, or an import's table."""
    if job.kind == qualify_task.KIND:
        return "leads"
    if job.kind == transfer_tasks.IMPORT and not (job.parameters or {}).get("dry_run"):
        table = ((job.parameters or {}).get("options") or {}).get("table")
        return table if table in _RECORD_NAMES else None
    return None


def _item_rows(
    language: str, session: Session, web: WebSession, job: Job, items: list[JobItem]
) -> list[dict[str, Any]]:
    """Each item's line: its position, its record (its page when the reader may read it), what it
    came to, the message of a refusal and the records it created."""
    table = _items_table(job)
    created = [(item.data or {}).get("created") or {} for item in items]
    record_ids = {item.record_id for item in items if item.record_id is not None}
    record_names: dict[uuid.UUID, str] = {}
    if table is not None:
        model, name_column = _RECORD_NAMES[table]
        record_names = _readable(session, web, model, table, name_column, record_ids)
    accounts = {uuid.UUID(c["account_id"]) for c in created if c.get("account_id")}
    contacts = {uuid.UUID(c["contact_id"]) for c in created if c.get("contact_id")}
    opportunities = {uuid.UUID(i) for c in created for i in c.get("opportunity_ids") or []}
    names = {
        **_readable(session, web, Account, "accounts", Account.name, accounts),
        **_readable(session, web, Contact, "contacts", Contact.full_name, contacts),
        **_readable(session, web, Opportunity, "opportunities", Opportunity.name, opportunities),
    }
    rows = []
    for item, made in zip(items, created, strict=True):
        records = []
        for opportunity in made.get("opportunity_ids") or []:
            records.append((gettext(language, "Opportunity"), f"/opportunities/{opportunity}", uuid.UUID(opportunity)))
        for key, text, page in _CREATED:
            if made.get(key):
                records.append((gettext(language, text), page.format(id=made[key]), uuid.UUID(made[key])))
        rows.append(
            {
                "position": item.position + 1,
                "record_id": item.record_id,
                "record_name": record_names.get(item.record_id) if item.record_id else None,
                "record_link": f"/{table}/{item.record_id}" if item.record_id in record_names else None,
                "status": item.status,
                "status_label": label(language, ITEM_STATUS_LABELS, item.status),
                "status_badge": ITEM_STATUS_BADGES.get(item.status, ""),
                "message": item.message or "",
                "records": [
                    {"kind": kind, "link": link if record_id in names else None, "name": names.get(record_id) or ""}
                    for kind, link, record_id in records
                ],
            }
        )
    return rows


def _detail_page(
    request: Request,
    session: WebSession,
    job_id: uuid.UUID,
    *,
    status_code: int = 200,
    error: str | None = None,
    notice: str | None = None,
) -> Response:
    language = session.language
    params = request.query_params
    status = params.get("status", "")[:20] or None
    after = _after(params.get("after"))
    with database_of(request).unit_of_work(read_only=True) as uow:
        job = service.get_job(job_id, uow=uow, actor=session.actor)
        counts = service.item_counts(uow.session, job_id)
        items = service.job_items(
            job_id, uow=uow, actor=session.actor, status=status, after=after, limit=ITEMS_PER_PAGE + 1
        )
        more = len(items) > ITEMS_PER_PAGE
        items = items[:ITEMS_PER_PAGE]
        row = _job_row(language, job, _names(uow.session, [job.created_by_id]))
        item_rows = _item_rows(language, uow.session, session, job, items)
        summary = _summary(language, job)
        works_on = _works_on(language, uow.session, session, job)
        downloads = _downloads(language, job, counts)
    progress: Progress = row["progress"]
    here = f"{JOBS}/{job_id}"
    status_query = {"status": status} if status else {}
    return render(
        request,
        session,
        "jobs/job.html",
        status_code=status_code,
        job=row,
        progress=progress,
        progress_url=progress_url(job_id) if not progress.finished else None,
        poll_milliseconds=POLL_MILLISECONDS,
        error=error,
        notice=notice,
        summary=summary,
        works_on=works_on,
        downloads=downloads,
        # Whoever sees a job steers it (its starter, an administrator): the service decides both.
        can_cancel=not progress.finished and not progress.cancel_requested,
        can_retry=job.state in (JobState.FAILED, JobState.CANCELED),
        items=item_rows,
        has_items=bool(counts),
        item_statuses=[(value, label(language, ITEM_STATUS_LABELS, value)) for value in sorted(counts)],
        item_status=status or "",
        shows_records=job.kind == qualify_task.KIND,
        next_items=f"{here}?{urlencode({**status_query, 'after': items[-1].position})}" if more and items else None,
        first_items=f"{here}?{urlencode(status_query)}".rstrip("?") if after >= 0 else None,
        refresh_link=f"{here}?{urlencode({**status_query, **({'after': after} if after >= 0 else {})})}".rstrip("?"),
    )


def _job_id(raw: str) -> uuid.UUID:
    return id_in_path(raw, record="job")


@router.get(JOBS + "/{job_id}")
@_job_page
def job_page(request: Request, session: WebSessionDep, job_id: str) -> Response:
    """One job: state, progress, times, what it came to, the line of each item; Cancel and Retry."""
    notice_key = request.query_params.get("notice", "")
    notice = gettext(session.language, NOTICES[notice_key]) if notice_key in NOTICES else None
    return _detail_page(request, session, _job_id(job_id), notice=notice)


@router.get(JOBS + "/{job_id}/progress")
def job_progress(request: Request, session: WebSessionDep, job_id: str) -> Response:
    """A job's state and progress as JSON, for its page to follow while it runs."""
    try:
        with database_of(request).unit_of_work(read_only=True) as uow:
            job = service.get_job(_job_id(job_id), uow=uow, actor=session.actor)
            answer = progress_of(session.language, job).as_json()
    except LeadflowError as error:
        body = {"error": {"code": error.code, "message": refusal_text(session.language, error)}}
        return _secure(JSONResponse(body, status_code=status_for(error)))
    return _secure(JSONResponse(answer))


def _steered(request: Request, session: WebSession, job_id: uuid.UUID, error: LeadflowError) -> Response:
    """A refused Cancel or Retry on the job's page (a finished job, say); not found or forbidden as a page."""
    if isinstance(error, Forbidden) or error.code == "job_not_found":
        raise error
    return _detail_page(
        request, session, job_id, status_code=status_for(error), error=refusal_text(session.language, error)
    )


@router.post(JOBS + "/{job_id}/cancel")
@_job_page
def cancel_job(request: Request, session: WebSessionDep, job_id: str) -> Response:
    """Cancel a job: a queued one at once, a running one after the batch it is writing."""
    parsed = _job_id(job_id)
    try:
        state = committed(request, lambda uow: service.cancel_job(parsed, uow=uow, actor=session.actor).state)
    except LeadflowError as error:
        return _steered(request, session, parsed, error)
    return redirect(f"{JOBS}/{parsed}?notice={'canceled' if state is JobState.CANCELED else 'stopping'}")


@router.post(JOBS + "/{job_id}/retry")
@_job_page
def retry_job(request: Request, session: WebSessionDep, job_id: str) -> Response:
    """Queue a failed or canceled job again; it goes on from where it stopped."""
    parsed = _job_id(job_id)
    try:
        committed(request, lambda uow: service.retry_job(parsed, uow=uow, actor=session.actor))
    except LeadflowError as error:
        return _steered(request, session, parsed, error)
    request.app.state.queue.enqueue(parsed)
    return redirect(f"{JOBS}/{parsed}?notice=retried")
