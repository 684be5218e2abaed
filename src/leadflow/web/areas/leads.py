"""The Leads area of the sales hub: the lead list (§10) with its views, sort links, search and
keyset paging, and bulk Qualify and Disqualify of the selected leads, each lead on its own (§2.6).
The lead page itself lives in ``leads_record`` and its Qualify in ``leads_qualify``; the helpers
they share are here.

Every route translates the form into the service call the REST API makes and renders the result;
a refusal is shown on the page in the user's language with the user's input kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, tzinfo
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from leadflow.core.errors import DuplicateDetected, LeadflowError, NotFound, ValidationFailed
from leadflow.core.formatting import format_day
from leadflow.core.paging import encode_cursor
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.fields.filters import custom_sort
from leadflow.fields.models import CustomField
from leadflow.fields.values import as_text
from leadflow.http.errors import status_for
from leadflow.leads import bulk, qualification, service, views
from leadflow.leads.models import Lead
from leadflow.leads.schemas import DisqualifyRequest, QualifyOptions
from leadflow.organisation.models import QualificationExperience, RecordCreation
from leadflow.organisation.service import get_settings
from leadflow.security.access import access_condition
from leadflow.security.privileges import Depth, Privilege
from leadflow.web.areas import leads_lookups as lookups
from leadflow.web.areas import saved_views as saved_view_pages
from leadflow.web.areas.leads_forms import (
    CHOICE_KEYS,
    DISQUALIFY_OPTIONS,
    PAGE_SIZE,
    QUALIFY_KEYS,
    RESOLUTION_KEYS,
    VIEW_LABELS,
    carried_fields,
    choice_label,
    qualify_options_input,
)
from leadflow.web.areas.records_page import can_create
from leadflow.web.forms import FormDep, field_errors, id_in_path, match_rows, parse_uuid, refusal_text
from leadflow.web.i18n import N_, gettext
from leadflow.web.labels import CHOICE_LABELS
from leadflow.web.pages import WebSession, WebSessionDep, database_of, refusals_shown_by, render

router = APIRouter(include_in_schema=False)


# Notices shown after a form posted and redirected (``?done=...``).
NOTICES = {
    "saved": N_("The lead was saved."),
    "qualified": N_(
        "The lead is qualified. No opportunity was created, so the sales process stays at the Qualify stage."
    ),
    "disqualified": N_("The lead is disqualified."),
    "reactivated": N_("The lead is open again."),
    "note": N_("The note was added."),
    "deleted": N_("The lead was deleted with its notes and attachments."),
}

# The list's columns: the view's sort key (None: not sortable), the heading, and whether a phone hides it.
LIST_COLUMNS = (
    ("full_name", N_("Name"), False),
    ("score", N_("Score"), False),
    ("topic", N_("Topic"), False),
    ("company_name", N_("Company"), True),
    ("email", N_("Email"), True),
    ("status_reason", N_("Status reason"), False),
    ("rating", N_("Rating"), True),
    (None, N_("Lead source"), True),
    (None, N_("Owner"), True),
    ("created_at", N_("Created on"), True),
)
DEFAULT_SORT = "-created_at"
_DESCENDING_FIRST = {"created_at", "modified_at", "budget_amount", "score"}
# The grade filter's choices (a lead's score_grade); "" shows every grade and unscored leads.
GRADE_CHOICES = ("A", "B", "C", "D")

# The bulk Qualify's choice for a lead whose qualification meets a duplicate (§2.6, §5).
ON_DUPLICATE_OPTIONS = (
    (bulk.OnDuplicate.SKIP.value, N_("Skip that lead")),
    (bulk.OnDuplicate.STOP.value, N_("Stop at the first duplicate")),
    (bulk.OnDuplicate.IGNORE.value, N_("Ignore duplicates and qualify")),
)


# ---------------------------------------------------------------------------------------------- helpers


def lead_id_from(raw: str) -> uuid.UUID:
    """The lead id of a URL; a malformed one names no lead (404, not a validation error)."""
    return id_in_path(raw, record="lead")


def error_page(request: Request, session: WebSession, error: LeadflowError) -> Response:
    """A page that cannot be shown (no such lead, no privilege), with the refusal's status."""
    return render(
        request,
        session,
        "leads/error.html",
        status_code=status_for(error),
        message=refusal_text(session.language, error),
    )


# A lead page whose unhandled refusals (no such lead, no privilege) show the error page.
lead_page_route = refusals_shown_by(error_page)


def _list_return(raw: Any) -> str:
    """Where "back to the list" goes: a lead list address of this site, else the default list."""
    text = str(raw or "")
    return (
        text
        if text.startswith("/leads") and not text.startswith("//") and "\\" not in text and len(text) < 2000
        else "/leads"
    )


# ---------------------------------------------------------------------------------------------- qualify choices (shared with the lead page)


@dataclass
class QualifyPlanView:
    """How the qualify dialogs ask: per record, Automatic or Seller, and whether several opportunities may be listed."""

    experience: str
    modes: dict[str, str]
    several_opportunities: bool

    @property
    def needs_choice(self) -> bool:
        return any(mode == RecordCreation.SELLER.value for mode in self.modes.values())

    @property
    def prompts_with_checkboxes(self) -> bool:
        return self.experience == QualificationExperience.LEGACY.value


def qualify_plan(uow: UnitOfWork) -> QualifyPlanView:
    """What the organisation's qualification settings ask the seller (§6)."""
    settings = get_settings(uow.session)
    modes = qualification.creation_modes(settings)
    return QualifyPlanView(
        experience=settings.qualification_experience.value,
        modes={record: mode.value for record, mode in modes.items()},
        several_opportunities=settings.qualification_experience is QualificationExperience.PER_RECORD
        and settings.opportunity_creation is RecordCreation.SELLER,
    )


def given_answers(form: Any) -> dict[str, str]:
    """The qualify dialogs' answers already given, to show them again."""
    if form is None:
        return {}
    answers = {key: str(form.get(key)) for key in QUALIFY_KEYS if isinstance(form.get(key), str)}
    for key in CHOICE_KEYS:
        values = form.getlist(key) if hasattr(form, "getlist") else []
        if values:
            answers[key] = "new" if "new" in values else str(values[-1])
    return answers


# ---------------------------------------------------------------------------------------------- the list


@dataclass
class ListState:
    view: views.LeadView
    q: str
    sort: str
    cursor: str | None
    backwards: bool
    problems: list[str] = field(default_factory=list)
    grade: str = ""
    # The saved view applied (``?view_id=``) and its filters.
    view_id: str = ""
    conditions: tuple[Any, ...] = ()

    def query(self) -> views.LeadQuery:
        return views.LeadQuery(
            view=self.view,
            q=self.q or None,
            sort=self.sort,
            limit=PAGE_SIZE,
            cursor=self.cursor,
            grade=self.grade or None,
            conditions=self.conditions,
        )

    def url(self, **changes: Any) -> str:
        params = {
            "view": self.view.value,
            "view_id": self.view_id,
            "q": self.q,
            "grade": self.grade,
            "sort": self.sort,
            **changes,
        }
        return "/leads?" + urlencode({key: value for key, value in params.items() if value})

    @property
    def sort_key(self) -> str:
        return self.sort.lstrip("-")

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")

    def sort_url(self, key: str) -> str:
        if key == self.sort_key:
            return self.url(sort=key if self.descending else f"-{key}")
        return self.url(sort=f"-{key}" if key in _DESCENDING_FIRST else key)


def _cursor_of(uow: UnitOfWork, lead: Lead, key: str) -> str:
    """The keyset cursor just at this lead in a list sorted by ``key`` (the sort expression evaluated by the database)."""
    expression = custom_sort(uow.session, "leads", key)[0] if key.startswith("custom.") else views.SORTABLE[key]
    value = uow.session.scalar(select(expression).where(Lead.id == lead.id))
    return encode_cursor(value, lead.id)


def _page(uow: UnitOfWork, session: WebSession, state: ListState) -> tuple[list[Lead], str | None, str | None]:
    """One page of the view and the cursors of the next and previous pages (None when there is none)."""
    actor = session.actor
    query = state.query()
    if state.backwards and state.cursor:
        reverse = state.sort_key if state.descending else f"-{state.sort_key}"
        page = views.list_leads(replace(query, sort=reverse), uow=uow, actor=actor)
        if page.next_cursor is None:  # back at the start: the first page, full
            first = views.list_leads(replace(query, cursor=None), uow=uow, actor=actor)
            return first.items, first.next_cursor, None
        items = list(reversed(page.items))
        return items, _cursor_of(uow, items[-1], state.sort_key), page.next_cursor
    page = views.list_leads(query, uow=uow, actor=actor)
    previous = _cursor_of(uow, page.items[0], state.sort_key) if state.cursor and page.items else None
    return page.items, page.next_cursor, previous


@lru_cache(maxsize=4096)
def _medium_date(day: date, language: str) -> str:
    """A day as the list shows it; cached, as a list shows few distinct days again and again."""
    return format_day(day, language)


def _list_rows(
    language: str,
    items: list[Lead],
    owners: dict[uuid.UUID, str],
    zone: tzinfo,
    custom_fields: Sequence[CustomField] = (),
) -> list[dict[str, Any]]:
    """The list's cells as display strings: each pick-list label translated once per page."""
    labels: dict[Any, str] = {}

    def label(value: Any) -> str:
        if value is None:
            return ""
        if value not in labels:
            labels[value] = gettext(language, choice_label(value))
        return labels[value]

    rows = []
    for lead in items:
        day = lead.created_at.astimezone(zone).date()
        rows.append(
            {
                "id": str(lead.id),
                "name": lead.full_name,
                "topic": lead.topic,
                "company": lead.company_name or "",
                "email": lead.email or "",
                "status": label(lead.status_reason),
                "score": "" if lead.score is None else str(lead.score),
                "grade": lead.score_grade or "",
                "rating": label(lead.rating),
                "source": label(lead.lead_source),
                "owner": owners.get(lead.owner_user_id or lead.owner_team_id, ""),  # type: ignore[arg-type]
                "created": _medium_date(day, language),
                "custom": [as_text(item, (lead.custom or {}).get(item.name), language) for item in custom_fields],
            }
        )
    return rows


@router.get("/leads")
def lead_list(
    request: Request,
    session: WebSessionDep,
    view: str = "",
    q: str = "",
    sort: str = "",
    cursor: str = "",
    direction: str = "next",
    done: str = "",
    grade: str = "",
    view_id: str = "",
) -> Response:
    """A lead view (§10): searched, filtered by grade, sorted by a column, keyset-paged; rows selectable
    for bulk Qualify/Disqualify."""
    language = session.language
    problems: list[str] = []
    grade = grade.strip().upper()
    if grade and grade not in GRADE_CHOICES:
        grade = ""
        problems.append(gettext(language, "There is no such grade; showing every grade."))
    # A saved view (picked, else the user's default) starts from its system view's leads, else from all.
    picked = saved_view_pages.picked_view(request, session, "leads", view_id=view_id, asked=bool(view))
    problems.extend(picked.problems)
    try:
        lead_view = views.LeadView(view or picked.system_key or ("all" if picked.id else "my-open"))
    except ValueError:
        lead_view = views.LeadView.MY_OPEN
        problems.append(gettext(language, "There is no such view; showing My Open Leads."))
    state = ListState(
        lead_view,
        q.strip()[:200],
        sort or picked.sort or DEFAULT_SORT,
        cursor or None,
        direction == "previous",
        problems,
        grade,
        view_id=picked.id,
        conditions=picked.conditions,
    )
    with database_of(request).unit_of_work(read_only=True) as uow:
        try:
            items, next_cursor, previous_cursor = _page(uow, session, state)
        except ValidationFailed as refused:
            state.problems.append(refusal_text(language, refused))
            if refused.code == "invalid_sort" or state.sort_key.startswith("custom."):
                state.sort = DEFAULT_SORT
            if refused.code not in ("invalid_sort", "invalid_cursor"):
                state.conditions = ()  # a saved view's filter that no longer holds (a field hidden since)
            state.cursor, state.backwards = None, False
            items, next_cursor, previous_cursor = _page(uow, session, state)
        owners = lookups.owner_names(
            uow.session,
            user_ids=(lead.owner_user_id for lead in items),
            team_ids=(lead.owner_team_id for lead in items),
        )
        custom_fields = saved_view_pages.list_custom_fields(uow.session, "leads", picked)
        rows = _list_rows(language, items, owners, session.time_zone, custom_fields)
        custom_columns = [(f"custom.{item.name}", item.label(language)) for item in custom_fields]
    shown_columns, shown = saved_view_pages.lead_columns(LIST_COLUMNS, picked.columns)
    return render(
        request,
        session,
        "leads/list.html",
        state=state,
        rows=rows,
        views=[(item.value, VIEW_LABELS[item]) for item in views.LeadView],
        view_label=picked.name or VIEW_LABELS[state.view],
        columns=shown_columns,
        shown=shown,
        saved_views=picked.choices,
        saved_view_id=picked.id,
        custom_columns=custom_columns,
        groups=picked.groups,
        grades=GRADE_CHOICES,
        next_url=state.url(cursor=next_cursor) if next_cursor else None,
        previous_url=state.url(cursor=previous_cursor, direction="previous") if previous_cursor else None,
        first_url=state.url() if state.cursor else None,
        return_to=str(request.url.path) + ("?" + request.url.query if request.url.query else ""),
        notice=NOTICES.get(done),
        disqualify_options=DISQUALIFY_OPTIONS,
        on_duplicate_options=ON_DUPLICATE_OPTIONS,
        can_create=can_create(session, "leads"),
        can_change=session.actor.depth("leads", Privilege.WRITE) is not Depth.NONE,
    )


# ---------------------------------------------------------------------------------------------- bulk actions


def _selected_ids(form: Any) -> list[str]:
    return list(dict.fromkeys(str(value) for value in form.getlist("lead_id") if isinstance(value, str)))


def _lead_names(uow: UnitOfWork, session: WebSession, lead_ids: list[uuid.UUID]) -> dict[uuid.UUID, Lead]:
    if not lead_ids:
        return {}
    statement = select(Lead).where(
        Lead.id.in_(lead_ids), access_condition(session.actor, Privilege.READ, "leads", Lead)
    )
    return {lead.id: lead for lead in uow.session.scalars(statement)}


@router.post("/leads/bulk")
def bulk_action(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """Qualify or disqualify the selected leads; each lead succeeds or fails on its own (§2.6)."""
    language = session.language
    return_to = _list_return(form.get("return_to"))
    raw_ids = _selected_ids(form)
    action = str(form.get("action") or "")
    problem = None
    if not raw_ids:
        problem = gettext(language, "Select at least one lead first.")
    elif len(raw_ids) > request.app.state.settings.max_bulk_leads:
        problem = gettext(language, "Too many leads were selected at once; select fewer.")
    elif action not in ("qualify", "disqualify"):
        problem = gettext(language, "Choose Qualify or Disqualify.")
    if problem is not None:
        return render(
            request,
            session,
            "leads/bulk_result.html",
            status_code=422,
            problem=problem,
            rows=[],
            return_to=return_to,
            retry_ids=[],
            action=action,
        )
    if action == "disqualify":
        return _bulk_disqualify(request, session, form, raw_ids, return_to)
    return _bulk_qualify(request, session, form, raw_ids, return_to)


def _bulk_qualify(request: Request, session: WebSession, form: Any, raw_ids: list[str], return_to: str) -> Response:
    language = session.language
    database = database_of(request)
    ids = [parsed for parsed in (parse_uuid(raw) for raw in raw_ids) if parsed is not None]
    try:
        on_duplicate = bulk.OnDuplicate(str(form.get("on_duplicate") or bulk.OnDuplicate.SKIP.value))
    except ValueError:
        return render(
            request,
            session,
            "leads/bulk_result.html",
            status_code=422,
            rows=[],
            return_to=return_to,
            retry_ids=[],
            action="qualify",
            problem=gettext(language, "Choose what to do when a duplicate is found."),
        )
    try:
        options = parse(QualifyOptions, qualify_options_input(form, language=language))
        outcomes = list(
            bulk.qualify_leads(ids, options, database=database, actor=session.actor, on_duplicate=on_duplicate)
        )
    except ValidationFailed as refused:
        if refused.code == "qualification_choice_required":
            return _bulk_choices(request, session, raw_ids, return_to, form=form, on_duplicate=on_duplicate)
        return _bulk_choices(
            request, session, raw_ids, return_to, form=form, on_duplicate=on_duplicate, error=refused, status_code=422
        )
    except LeadflowError as refused:
        return render(
            request,
            session,
            "leads/bulk_result.html",
            status_code=status_for(refused),
            problem=refusal_text(language, refused),
            rows=[],
            return_to=return_to,
            retry_ids=[],
            action="qualify",
        )
    not_attempted = ids[len(outcomes) :]
    rows = []
    retry_ids = []
    with database.unit_of_work(read_only=True) as uow:
        leads = _lead_names(uow, session, ids)
        created = [outcome.result for outcome in outcomes if outcome.result is not None]
        names = lookups.record_names(
            uow.session,
            accounts=[r.account_id for r in created if r.account_id],
            contacts=[r.contact_id for r in created if r.contact_id],
            opportunities=[i for r in created for i in r.opportunity_ids],
        )
        for outcome in outcomes:
            lead = leads.get(outcome.lead_id)
            row: dict[str, Any] = {
                "lead_id": outcome.lead_id,
                "lead": lead,
                "records": [],
                "matches": [],
                "message": "",
                "duplicate": False,
            }
            if outcome.result is not None:
                result = outcome.result
                row["status"] = "qualified"
                row["records"] = [
                    *(("Opportunity", f"/opportunities/{i}", names.get(i, "")) for i in result.opportunity_ids),
                    *(
                        (("Account", f"/accounts/{result.account_id}", names.get(result.account_id, "")),)
                        if result.account_id
                        else ()
                    ),
                    *(
                        (("Contact", f"/contacts/{result.contact_id}", names.get(result.contact_id, "")),)
                        if result.contact_id
                        else ()
                    ),
                ]
            else:
                error = outcome.error
                assert error is not None
                row["message"] = refusal_text(language, error)
                row["status"] = "refused" if outcome.status is bulk.BulkResult.FAILED else outcome.status.value
                if isinstance(error, DuplicateDetected):
                    row["duplicate"] = True
                    row["matches"] = match_rows(language, outcome.matches)
                    if (
                        error.code == "duplicate_detected"
                    ):  # an account or contact warning: "Ignore and save" answers it
                        retry_ids.append(str(outcome.lead_id))
            rows.append(row)
        for lead_id in not_attempted:
            rows.append(
                {
                    "lead_id": lead_id,
                    "lead": leads.get(lead_id),
                    "records": [],
                    "matches": [],
                    "message": "",
                    "duplicate": False,
                    "status": "not_attempted",
                }
            )
    counts = {
        status: sum(1 for row in rows if row["status"] == status)
        for status in ("qualified", "skipped", "stopped", "refused", "not_attempted")
    }
    stopped_ids = [str(row["lead_id"]) for row in rows if row["status"] in ("stopped", "not_attempted")]
    carried = carried_fields(form, drop=frozenset({"lead_id", "action", "return_to", *RESOLUTION_KEYS}))
    return render(
        request,
        session,
        "leads/bulk_result.html",
        rows=rows,
        problem=None,
        return_to=return_to,
        retry_ids=retry_ids,
        action="qualify",
        carried=carried,
        qualified=counts["qualified"],
        counts=counts,
        on_duplicate_label=dict(ON_DUPLICATE_OPTIONS)[on_duplicate.value],
        stopped_ids=stopped_ids,
        continue_carried=[(name, value) for name, value in carried if name != "on_duplicate"],
        on_duplicate_options=ON_DUPLICATE_OPTIONS,
    )


def _bulk_choices(
    request: Request,
    session: WebSession,
    raw_ids: list[str],
    return_to: str,
    *,
    form: Any,
    on_duplicate: bulk.OnDuplicate,
    error: LeadflowError | None = None,
    status_code: int = 200,
) -> Response:
    """Ask which records qualifying the selected leads creates, as the settings want the seller to choose (§6)."""
    with database_of(request).unit_of_work(read_only=True) as uow:
        plan = qualify_plan(uow)
    return render(
        request,
        session,
        "leads/bulk_choices.html",
        status_code=status_code,
        lead_ids=raw_ids,
        return_to=return_to,
        plan=plan,
        answers=given_answers(form),
        answer_errors=field_errors(session.language, error),
        error=refusal_text(session.language, error) if error else None,
        on_duplicate=on_duplicate.value,
    )


def _bulk_disqualify(request: Request, session: WebSession, form: Any, raw_ids: list[str], return_to: str) -> Response:
    language = session.language
    database = database_of(request)
    try:
        reason = parse(DisqualifyRequest, {"status_reason": str(form.get("status_reason") or "")}).status_reason
    except ValidationFailed:
        return render(
            request,
            session,
            "leads/bulk_result.html",
            status_code=422,
            rows=[],
            return_to=return_to,
            retry_ids=[],
            action="disqualify",
            problem=gettext(language, "Choose a status reason to disqualify the leads with."),
        )
    rows = []
    ids = [parse_uuid(raw) for raw in raw_ids]
    for raw, lead_id in zip(raw_ids, ids, strict=True):
        row: dict[str, Any] = {"lead_id": lead_id or raw, "lead": None, "records": [], "matches": [], "message": ""}
        try:
            if lead_id is None:
                raise NotFound(f"No lead has the id {raw}.", code="lead_not_found")
            with database.unit_of_work() as uow:
                service.disqualify_lead(lead_id, reason, uow=uow, actor=session.actor)
                uow.commit()
            row["status"] = "disqualified"
        except LeadflowError as refused:
            row["status"] = "refused"
            row["message"] = refusal_text(language, refused)
        rows.append(row)
    with database.unit_of_work(read_only=True) as uow:
        leads = _lead_names(uow, session, [i for i in ids if i is not None])
    for row in rows:
        row["lead"] = leads.get(row["lead_id"])
    return render(
        request,
        session,
        "leads/bulk_result.html",
        rows=rows,
        problem=None,
        return_to=return_to,
        retry_ids=[],
        action="disqualify",
        reason_label=CHOICE_LABELS[type(reason)][reason.value],
        disqualified=sum(1 for row in rows if row["status"] == "disqualified"),
    )
