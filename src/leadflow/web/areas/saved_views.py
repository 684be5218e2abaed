"""Saved views (pages): a table's views (system, the user's own, their teams'), a view saved or changed
through a form with a filter builder, a sort, a column chooser and a grouping, the view a list opens
with, and a personal view's removal; and what the lead list needs to offer and apply them.

The form's fields become the ``ViewCreate`` / ``ViewUpdate`` the REST API's ``leadflow.api.views``
takes; ``leadflow.fields.saved_views`` decides. Its refusals are shown on the page in the user's
language, with the form as it was typed and nothing saved.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import inspect

from leadflow.core.db import mapped_class
from leadflow.core.errors import LeadflowError, NotFound, ValidationFailed
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.fields import saved_views as service
from leadflow.fields.filters import OPERATORS
from leadflow.fields.models import CustomField, FieldKind, SavedView
from leadflow.fields.saved_views import ViewCreate, ViewUpdate
from leadflow.fields.storage import SORTABLE_KINDS, blank_value
from leadflow.fields.values import as_text
from leadflow.http.errors import status_for
from leadflow.http.labels import CHOICE_LABELS, label
from leadflow.leads.models import LEAD_SORTS
from leadflow.process.flow import STAGE_NAMES
from leadflow.security.privileges import Privilege
from leadflow.web import custom_values
from leadflow.web.areas import leads_lookups as lookups
from leadflow.web.forms import FormDep, Refusal, parse_uuid, parse_version, refusal
from leadflow.web.i18n import N_, gettext
from leadflow.web.labels import COLUMN_LABELS, STAGE_LABELS, TABLE_LABELS
from leadflow.web.pages import WebSession, WebSessionDep, committed, database_of, redirect, render

router = APIRouter(include_in_schema=False)

VIEWS_PAGE = "/views"
TABLES = ("leads", "accounts", "contacts", "opportunities")
# Rows of the filter builder a page offers: enough to work without JavaScript, which adds more.
EMPTY_FILTER_ROWS = 5
MAX_FILTER_ROWS = 50

OPERATOR_LABELS = {
    "eq": N_("equals"),
    "ne": N_("does not equal"),
    "lt": N_("less than"),
    "le": N_("at most"),
    "gt": N_("greater than"),
    "ge": N_("at least"),
    "contains": N_("contains"),
    "in": N_("is one of"),
    "blank": N_("is empty"),
    "not_blank": N_("is not empty"),
}
_NO_VALUE_OPERATORS = {"blank", "not_blank"}

# The names of the system views (leadflow.fields.saved_views.SYSTEM_VIEWS), translated where shown; a
# system view an administrator renamed shows as typed.
SYSTEM_VIEW_NAMES = {
    "My open leads": N_("My open leads"),
    "Open leads": N_("Open leads"),
    "Closed leads": N_("Closed leads"),
    "All leads": N_("All leads"),
    "Leads opened this week": N_("Leads opened this week"),
    "Leads opened last week": N_("Leads opened last week"),
    "All accounts": N_("All accounts"),
    "All contacts": N_("All contacts"),
    "All opportunities": N_("All opportunities"),
    "Open opportunities by stage": N_("Open opportunities by stage"),
}

# The built-in fields a view filters, sorts, shows and groups on, by table, in the order offered.
BUILTIN_FIELDS = {
    "leads": (
        "full_name",
        "first_name",
        "last_name",
        "topic",
        "company_name",
        "job_title",
        "email",
        "business_phone",
        "lead_source",
        "rating",
        "state",
        "status_reason",
        "score",
        "score_grade",
        "budget_amount",
        "address_city",
        "address_country",
        "owner_user_id",
        "created_at",
        "modified_at",
    ),
    "accounts": (
        "name",
        "email",
        "telephone",
        "website",
        "state",
        "address_city",
        "address_country",
        "owner_user_id",
        "created_at",
        "modified_at",
    ),
    "contacts": (
        "full_name",
        "first_name",
        "last_name",
        "job_title",
        "email",
        "business_phone",
        "state",
        "address_city",
        "address_country",
        "owner_user_id",
        "created_at",
        "modified_at",
    ),
    "opportunities": (
        "name",
        "state",
        "status_reason",
        "process_stage",
        "rating",
        "probability",
        "estimated_revenue",
        "estimated_close_date",
        "owner_user_id",
        "created_at",
        "modified_at",
    ),
}
_MORE_LABELS = {
    "created_at": N_("Created on"),
    "modified_at": N_("Modified on"),
    "score": N_("Score"),
    "score_grade": N_("Grade"),
    "name": N_("Name"),
}
# The lead list's columns as a view names them (leadflow.web.areas.leads.LIST_COLUMNS, in that order).
LEAD_LIST_FIELDS = (
    "full_name",
    "score",
    "topic",
    "company_name",
    "email",
    "status_reason",
    "rating",
    "lead_source",
    "owner_user_id",
    "created_at",
)

NOTICES = {
    "created": N_("The view was saved."),
    "saved": N_("Your changes to the view were saved."),
    "deleted": N_("The view was deleted."),
    "default": N_("Your list now opens with this view."),
}


# ---------------------------------------------------------------------------------------------- helpers


def view_name(language: str, view: SavedView) -> str:
    """A view's name: a system view's in the user's language, any other as typed."""
    if view.is_system and view.name in SYSTEM_VIEW_NAMES:
        return gettext(language, SYSTEM_VIEW_NAMES[view.name])
    return view.name


def _table_of(raw: str) -> str:
    return raw if raw in TABLES else "leads"


def _builtin_label(language: str, key: str) -> str:
    message = COLUMN_LABELS.get(key) or _MORE_LABELS.get(key)
    return gettext(language, message) if message else key.replace("_", " ")


@dataclass
class FieldChoices:
    """What a table's views may name, labelled in the user's language."""

    filters: list[tuple[str, str]]
    sorts: list[tuple[str, str]]
    columns: list[tuple[str, str]]
    groups: list[tuple[str, str]]


def field_choices(session: Any, table: str, language: str) -> FieldChoices:
    """The built-in and visible custom fields of ``table`` a view filters, sorts, shows and groups on."""
    present = {column.key for column in inspect(mapped_class(table)).columns}
    builtin = [(key, _builtin_label(language, key)) for key in BUILTIN_FIELDS[table] if key in present]
    custom: list[CustomField] = custom_values.visible_fields(session, table)
    custom_pairs = [(f"custom.{item.name}", item.label(language)) for item in custom]
    sortable_custom = [(f"custom.{item.name}", item.label(language)) for item in custom if item.kind in SORTABLE_KINDS]
    # The lead list sorts on the keys it has an index for; other tables on any column.
    sorts = [pair for pair in builtin if table != "leads" or pair[0] in LEAD_SORTS]
    columns = builtin
    if table == "leads":
        columns = [(key, _builtin_label(language, key)) for key in LEAD_LIST_FIELDS]
    groupable_custom = [
        (f"custom.{item.name}", item.label(language)) for item in custom if item.kind is not FieldKind.MULTI_CHOICE
    ]
    return FieldChoices(
        filters=[*builtin, *custom_pairs],
        sorts=[*sorts, *sortable_custom],
        columns=[*columns, *custom_pairs],
        groups=[*builtin, *groupable_custom],
    )


@dataclass
class ViewForm:
    """A view's form as typed (or as the view holds it)."""

    view_id: str = ""
    row_version: str = ""
    name: str = ""
    conditions: list[dict[str, str]] = field(default_factory=list)
    sort_field: str = "created_at"
    sort_descending: bool = True
    columns: list[str] = field(default_factory=list)
    group_by: str = ""
    team_id: str = ""
    system: bool = False
    make_default: bool = False

    @property
    def filter_rows(self) -> list[dict[str, str]]:
        """The typed conditions and empty rows after them, so that a page without JavaScript can add some."""
        blank = {"field": "", "op": "eq", "value": ""}
        return [*self.conditions, *(dict(blank) for _ in range(EMPTY_FILTER_ROWS))][:MAX_FILTER_ROWS]


def _value_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def form_of(view: SavedView, *, is_default: bool) -> ViewForm:
    """A saved view as its form shows it."""
    return ViewForm(
        view_id=str(view.id),
        row_version=str(view.row_version),
        name=view.name,
        conditions=[
            {
                "field": str(item.get("field", "")),
                "op": str(item.get("op", "eq")),
                "value": _value_text(item.get("value")),
            }
            for item in view.conditions or []
        ],
        sort_field=view.sort.lstrip("-+ "),
        sort_descending=view.sort.startswith("-"),
        columns=list(view.columns or []),
        group_by=view.group_by or "",
        team_id=str(view.team_id or ""),
        system=view.is_system,
        make_default=is_default,
    )


def _text(form: Any, name: str, limit: int = 200) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _texts(form: Any, name: str) -> list[str]:
    return [value.strip()[:200] if isinstance(value, str) else "" for value in form.getlist(name)]


def typed_form(form: Any) -> ViewForm:
    """The posted view form, as typed."""
    fields, ops, values = _texts(form, "filter_field"), _texts(form, "filter_op"), _texts(form, "filter_value")
    conditions = []
    for index, key in enumerate(fields[:MAX_FILTER_ROWS]):
        if not key:
            continue  # an empty row of the builder
        op = ops[index] if index < len(ops) else "eq"
        conditions.append({"field": key, "op": op, "value": values[index] if index < len(values) else ""})
    return ViewForm(
        view_id=_text(form, "view_id"),
        row_version=_text(form, "row_version"),
        name=_text(form, "name", 300),
        conditions=conditions,
        sort_field=_text(form, "sort_field") or "created_at",
        sort_descending=bool(form.get("sort_descending")),
        columns=[key for key in _texts(form, "columns") if key][:100],
        group_by=_text(form, "group_by"),
        team_id=_text(form, "team_id"),
        system=bool(form.get("system")),
        make_default=bool(form.get("make_default")),
    )


def _condition_input(item: dict[str, str]) -> dict[str, Any]:
    op = item["op"]
    value: Any = item["value"]
    if op in _NO_VALUE_OPERATORS:
        value = None
    elif op == "in":
        value = [part.strip() for part in value.replace("|", ",").split(",") if part.strip()]
    return {"field": item["field"], "op": op, "value": value}


def view_input(typed: ViewForm) -> dict[str, Any]:
    """The form as the services' input (what the REST API's JSON body says)."""
    team = typed.team_id
    return {
        "name": typed.name,
        "conditions": [_condition_input(item) for item in typed.conditions],
        "sort": ("-" if typed.sort_descending else "") + typed.sort_field,
        "columns": typed.columns,
        "group_by": typed.group_by or None,
        # A team id that is no UUID is passed as typed: the model's check names the field.
        "team_id": (str(parse_uuid(team)) if parse_uuid(team) else team) if team else None,
    }


def team_choices(session: Any, team_ids: Any) -> list[tuple[str, str]]:
    """The teams the user belongs to, by name."""
    names = lookups.owner_names(session, user_ids=(), team_ids=team_ids)
    return sorted(((str(team_id), names.get(team_id, str(team_id))) for team_id in team_ids), key=lambda pair: pair[1])


@dataclass
class ViewRow:
    """A view as the page lists it."""

    id: str
    name: str
    kind: str  # system, own, team
    is_default: bool
    can_change: bool
    can_delete: bool
    summary: str


def _summary(language: str, view: SavedView, labels: dict[str, str]) -> str:
    parts = []
    for item in view.conditions or []:
        key = str(item.get("field", ""))
        op = str(item.get("op", ""))
        words = [labels.get(key, key), gettext(language, OPERATOR_LABELS.get(op, op))]
        if op not in _NO_VALUE_OPERATORS:
            words.append(_value_text(item.get("value")))
        parts.append(" ".join(words))
    return "; ".join(parts)


def view_rows(
    language: str, views: list[SavedView], *, default: uuid.UUID | None, session: WebSession, labels: dict[str, str]
) -> list[ViewRow]:
    """The views of a table as the page lists them, with what the user may do with each."""
    admin = session.can_admin("settings", Privilege.WRITE)
    rows = []
    for view in views:
        own = view.owner_user_id == session.actor.user_id
        kind = "system" if view.is_system else ("own" if own else "team")
        rows.append(
            ViewRow(
                id=str(view.id),
                name=view_name(language, view),
                kind=kind,
                is_default=view.id == default,
                can_change=(admin if view.is_system else own),
                can_delete=own and not view.is_system,
                summary=_summary(language, view, labels),
            )
        )
    return rows


def picker_choices(
    uow: UnitOfWork, session: WebSession, table: str
) -> tuple[list[tuple[str, str, bool]], uuid.UUID | None]:
    """The views a list's picker offers (id, name, whether it is the user's default) and the default's id."""
    default = service.default_view_id(table, uow=uow, actor=session.actor)
    choices = [
        (str(view.id), view_name(session.language, view), view.id == default)
        for view in service.list_views(table, uow=uow, actor=session.actor)
    ]
    return choices, default


# ---------------------------------------------------------------------------------------------- the page


def _page(
    request: Request,
    session: WebSession,
    table: str,
    *,
    typed: ViewForm | None = None,
    refused: Refusal | None = None,
    status_code: int = 200,
    notice: str | None = None,
) -> Response:
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        choices = field_choices(uow.session, table, language)
        labels = dict(choices.filters + choices.columns)
        default = service.default_view_id(table, uow=uow, actor=session.actor)
        rows = view_rows(
            language,
            service.list_views(table, uow=uow, actor=session.actor),
            default=default,
            session=session,
            labels=labels,
        )
        teams = team_choices(uow.session, session.actor.team_ids)
    form = typed or ViewForm()
    return render(
        request,
        session,
        "views/page.html",
        status_code=status_code,
        table=table,
        tables=[(value, gettext(language, TABLE_LABELS.get(value, value))) for value in TABLES],
        table_label=gettext(language, TABLE_LABELS.get(table, table)),
        rows=rows,
        form=form,
        choices=choices,
        operators=[(op, gettext(language, OPERATOR_LABELS[op])) for op in OPERATORS],
        teams=teams,
        can_system=session.can_admin("settings", Privilege.WRITE),
        refusal=refused,
        field_errors=refused.fields if refused else {},
        notice=gettext(language, notice) if notice else None,
        list_url="/leads" if table == "leads" else f"/{table}",
    )


@router.get(VIEWS_PAGE)
def views_page(
    request: Request, session: WebSessionDep, table: str = "leads", edit: str = "", done: str = ""
) -> Response:
    """A table's saved views and the form of a new view, or of the view being changed (``edit``)."""
    table = _table_of(table)
    typed = None
    edit_id = parse_uuid(edit)
    if edit_id is not None:
        try:
            with database_of(request).unit_of_work(read_only=True) as uow:
                view = service.get_view(edit_id, uow=uow, actor=session.actor)
                default = service.default_view_id(view.table_name, uow=uow, actor=session.actor)
                typed = form_of(view, is_default=view.id == default)
                table = view.table_name
        except NotFound as error:
            return _page(request, session, table, refused=refusal(session.language, error), status_code=404)
    return _page(request, session, table, typed=typed, notice=NOTICES.get(done))


def _after(table: str, done: str, view_id: uuid.UUID | None = None) -> Response:
    params = {"table": table, "done": done}
    if view_id is not None:
        params["edit"] = str(view_id)
    return redirect(f"{VIEWS_PAGE}?{urlencode(params)}")


@router.post(VIEWS_PAGE)
def save_view(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """Save a new view, or the changes to one (``view_id``); the form again with the refusal when refused."""
    table = _table_of(_text(form, "table"))
    typed = typed_form(form)
    view_id = parse_uuid(typed.view_id)
    data = view_input(typed)

    def change(uow: UnitOfWork) -> SavedView:
        if view_id is None:
            view = service.create_view(
                parse(ViewCreate, {**data, "table": table, "system": typed.system}), uow=uow, actor=session.actor
            )
        else:
            view = service.update_view(
                view_id,
                parse(ViewUpdate, data),
                uow=uow,
                actor=session.actor,
                expected_version=parse_version(typed.row_version),
            )
        if typed.make_default:
            service.set_default(view.id, uow=uow, actor=session.actor)
        return view

    try:
        view = committed(request, change)
    except LeadflowError as error:
        refused = refusal(session.language, error)
        if isinstance(error, ValidationFailed) and not refused.fields:
            refused.fields["conditions"] = refused.message
        return _page(request, session, table, typed=typed, refused=refused, status_code=status_for(error))
    return _after(table, "created" if view_id is None else "saved", view.id)


@router.post(VIEWS_PAGE + "/{view_id}/default")
def make_default(request: Request, session: WebSessionDep, view_id: str, form: FormDep) -> Response:
    """Open the table's list with this view."""
    table = _table_of(_text(form, "table"))
    found = parse_uuid(view_id)
    try:
        if found is None:
            raise NotFound(f"No saved view has the id {view_id}.", code="saved_view_not_found")
        view = committed(request, lambda uow: service.set_default(found, uow=uow, actor=session.actor))
    except LeadflowError as error:
        return _page(request, session, table, refused=refusal(session.language, error), status_code=status_for(error))
    return _after(view.table_name, "default")


@router.post(VIEWS_PAGE + "/{view_id}/delete")
def delete_view(request: Request, session: WebSessionDep, view_id: str, form: FormDep) -> Response:
    """Delete a personal view of the user's own."""
    table = _table_of(_text(form, "table"))
    found = parse_uuid(view_id)
    try:
        if found is None:
            raise NotFound(f"No saved view has the id {view_id}.", code="saved_view_not_found")
        committed(request, lambda uow: service.delete_view(found, uow=uow, actor=session.actor))
    except LeadflowError as error:
        return _page(request, session, table, refused=refusal(session.language, error), status_code=status_for(error))
    return _after(table, "deleted")


# ---------------------------------------------------------------------------------------------- the lists' picker


@dataclass
class PickedView:
    """The saved view a list opens with (chosen in its picker, else the user's default) and what it asks."""

    id: str = ""  # "" when no saved view applies
    name: str = ""
    system_key: str | None = None
    conditions: tuple[Any, ...] = ()
    sort: str | None = None
    columns: list[str] = field(default_factory=list)
    choices: list[tuple[str, str, bool]] = field(default_factory=list)  # (id, name, is the default)
    problems: list[str] = field(default_factory=list)
    groups: GroupSummary | None = None  # a grouped view's counts by group


@dataclass
class GroupSummary:
    """How many of a grouped view's records fall in each group, labelled in the user's language."""

    field: str
    rows: list[tuple[str, int]]


# Built-in text columns whose stored values have labels of their own.
_VALUE_LABELS: dict[str, dict[str, str]] = {"process_stage": STAGE_LABELS}


def _group_text(
    uow: UnitOfWork, language: str, table: str, name: str, custom: CustomField | None, values: list[Any]
) -> Any:
    """A function showing one group's value as the list shows it (blank as "(blank)")."""
    blank = gettext(language, "(blank)")
    if custom is not None:
        empty = blank_value(custom)
        return lambda value: blank if value is None or value == empty else as_text(custom, value, language)
    if name.startswith("custom."):  # a field hidden since the view was saved
        return lambda value: blank if value is None else str(value)
    column = inspect(mapped_class(table)).columns[name]
    enum_class = getattr(column.type, "enum_class", None)
    labels = CHOICE_LABELS.get(enum_class) if enum_class is not None else _VALUE_LABELS.get(name)
    if labels is not None:
        return lambda value: blank if value is None else label(language, labels, value)
    if column.foreign_keys and name.endswith(("user_id", "by_id", "team_id")):
        ids = [value for value in values if isinstance(value, uuid.UUID)]
        names = lookups.owner_names(uow.session, user_ids=ids, team_ids=ids)
        return lambda value: blank if value is None else names.get(value, str(value))
    if isinstance(column.type.python_type, type) and issubclass(column.type.python_type, bool):
        return lambda value: (
            blank if value is None else (gettext(language, "Yes") if value else gettext(language, "No"))
        )
    return lambda value: blank if value is None or value == "" else str(value)


def group_summary(uow: UnitOfWork, session: WebSession, view: SavedView) -> GroupSummary | None:
    """The counts by group of a grouped view (None when it is not grouped, or its grouping no longer holds)."""
    if not view.group_by:
        return None
    language = session.language
    try:
        counts = service.group_counts(view, uow=uow, actor=session.actor)
    except LeadflowError:
        return None
    name, table = view.group_by, view.table_name
    custom = next(
        (item for item in custom_values.visible_fields(uow.session, table) if f"custom.{item.name}" == name), None
    )
    field_label = custom.label(language) if custom is not None else _builtin_label(language, name)
    text = _group_text(uow, language, table, name, custom, [value for value, _ in counts])
    order = _choice_order(table, name, custom)
    if order:  # a pick-list's groups in its own order (Develop, Propose, Close), blanks first
        counts = sorted(counts, key=lambda pair: -1 if pair[0] in (None, "") else order.get(pair[0], len(order)))
    return GroupSummary(field=field_label, rows=[(text(value), count) for value, count in counts])


def _choice_order(table: str, name: str, custom: CustomField | None) -> dict[Any, int]:
    """The position of each value of a pick-list field (a custom choice's options, an enum's members,
    the process stages); empty for other fields, whose groups keep the order of their values."""
    if name.startswith("custom."):
        values: list[Any] = custom.option_values() if custom is not None and custom.kind is FieldKind.CHOICE else []
    elif name == "process_stage":
        values = list(STAGE_NAMES)
    else:
        enum_class = getattr(inspect(mapped_class(table)).columns[name].type, "enum_class", None)
        values = [member.value for member in enum_class] if enum_class is not None else []
    return {value: position for position, value in enumerate(values)}


# The picker's choice of no saved view at all (the list's own views then, not the default).
NO_VIEW = "none"


def picked_view(request: Request, session: WebSession, table: str, *, view_id: str, asked: bool) -> PickedView:
    """The saved view of ``?view_id=``; else, when the list was not asked for one of its own views
    (``asked``), the user's default view; and the picker's choices."""
    with database_of(request).unit_of_work(read_only=True) as uow:
        choices, default = picker_choices(uow, session, table)
        picked = PickedView(choices=choices)
        missing = gettext(session.language, "There is no such saved view; showing the list without it.")
        wanted = parse_uuid(view_id)
        if view_id and view_id != NO_VIEW and wanted is None:
            picked.problems.append(missing)
        if wanted is None and not view_id and not asked:
            wanted = default
        if wanted is None:
            return picked
        try:
            view = service.get_view(wanted, uow=uow, actor=session.actor)
        except NotFound:
            picked.problems.append(missing)
            return picked
        if view.table_name != table:
            picked.problems.append(missing)
            return picked
        picked.id = str(view.id)
        picked.name = view_name(session.language, view)
        picked.system_key = view.system_key
        picked.conditions = service.conditions_of(view)
        picked.sort = view.sort or None
        picked.columns = list(view.columns or [])
        picked.groups = group_summary(uow, session, view)
    return picked


def lead_columns(list_columns: Any, chosen: list[str]) -> tuple[list[Any], set[str]]:
    """The lead list's built-in columns a view shows (all when it names none; the name always, as it
    links to the lead) and the field names of those shown."""
    by_field = dict(zip(LEAD_LIST_FIELDS, list_columns, strict=True))
    wanted = {key for key in chosen if key in by_field}
    if not wanted:
        return list(list_columns), set(LEAD_LIST_FIELDS)
    shown = {"full_name", *wanted}
    return [column for key, column in by_field.items() if key in shown], shown


def custom_columns_of(fields: list[CustomField], chosen: list[str]) -> list[CustomField]:
    """The custom fields a view shows as columns, in the view's order (fields hidden since left out)."""
    by_key = {f"custom.{item.name}": item for item in fields}
    return [by_key[key] for key in chosen if key in by_key]


def list_custom_fields(db_session: Any, table: str, picked: PickedView) -> list[CustomField]:
    """The custom fields a list shows as columns: the picked view's, else the visible searchable ones."""
    visible: list[CustomField] = custom_values.visible_fields(db_session, table)
    if picked.columns:
        return custom_columns_of(visible, picked.columns)
    return [item for item in visible if item.searchable]
