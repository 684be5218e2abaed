"""Saved views: list, save, share, change and choose the default view of a table, and what a view
asks of a list.

Everyone reads the system views; a personal view is read by its owner and, when shared, by the
members of its team. Only administrators (Write on ``settings``) change system views, which cannot
be deleted; only the owner changes a personal view. A view is checked when saved: every filter,
the sort, the columns and the grouping must name fields the table has and lists may use (not a
hidden custom field), so a saved view never fails when it is opened.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, StringConstraints
from sqlalchemy import delete, false, func, inspect, or_, select
from sqlalchemy.orm import Session

from leadflow.core.db import mapped_class
from leadflow.core.errors import Forbidden, InvalidState, NotFound, field_refusal
from leadflow.core.paging import keyset_page
from leadflow.core.records import check_version
from leadflow.core.schemas import InputModel, RecordOut, partial_model
from leadflow.core.uow import UnitOfWork
from leadflow.fields import storage
from leadflow.fields.filters import Condition, condition_sql, custom_field, custom_sort
from leadflow.fields.models import FieldKind, SavedView, SavedViewDefault
from leadflow.fields.service import ADMIN_TABLE, check_table
from leadflow.security.access import access_condition, has_admin
from leadflow.security.actor import Actor
from leadflow.security.audit import record_action
from leadflow.security.privileges import Privilege

ViewName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
FieldKey = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


class ConditionIn(InputModel):
    field: FieldKey
    op: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
    value: Any = None


class ViewChanges(InputModel):
    """What a view says of its list."""

    name: ViewName
    conditions: Annotated[list[ConditionIn], Field(max_length=50)] = []
    sort: FieldKey = "-created_at"
    columns: Annotated[list[FieldKey], Field(max_length=100)] = []
    group_by: FieldKey | None = None
    team_id: uuid.UUID | None = None


class ViewCreate(ViewChanges):
    """A new view of ``table``: personal (shared with ``team_id`` if given), or a system view
    (``system``: administrators only)."""

    table: str
    system: bool = False


ViewUpdate = partial_model(ViewChanges, "ViewUpdate", "A partial change of a saved view.")


class ViewOut(RecordOut):
    table: Annotated[str, Field(validation_alias="table_name")]
    name: str
    system_key: str | None
    owner_user_id: uuid.UUID | None
    team_id: uuid.UUID | None
    conditions: list[dict[str, Any]]
    sort: str
    columns: list[str]
    group_by: str | None
    is_system: bool
    is_default: bool = False


# The system views every organisation starts with (migration 0018 writes the same ones into an existing
# database): the lead views of §10, whose condition depends on who asks and when (the key names it),
# every table's "all" view, and the open opportunities grouped by stage (the board as a view).
SYSTEM_VIEWS: tuple[tuple[str, str | None, str, list[dict[str, Any]], str | None], ...] = (
    ("leads", "my-open", "My open leads", [], None),
    ("leads", "open", "Open leads", [], None),
    ("leads", "closed", "Closed leads", [], None),
    ("leads", "all", "All leads", [], None),
    ("leads", "opened-this-week", "Leads opened this week", [], None),
    ("leads", "opened-last-week", "Leads opened last week", [], None),
    ("accounts", None, "All accounts", [], None),
    ("contacts", None, "All contacts", [], None),
    ("opportunities", None, "All opportunities", [], None),
    (
        "opportunities",
        None,
        "Open opportunities by stage",
        [{"field": "state", "op": "eq", "value": "open"}],
        "process_stage",
    ),
)


def ensure_system_views(session: Session) -> None:
    """Add the system views an organisation lacks (idempotent; an administrator's edits stay)."""
    present = set(
        session.execute(
            select(SavedView.table_name, SavedView.system_key, SavedView.name).where(SavedView.owner_user_id.is_(None))
        ).all()
    )
    for table, key, name, conditions, group_by in SYSTEM_VIEWS:
        if not any(row[0] == table and (row[1] == key if key else row[2] == name) for row in present):
            session.add(
                SavedView(
                    table_name=table, system_key=key, name=name, conditions=conditions, group_by=group_by, columns=[]
                )
            )


def _visible(actor: Actor) -> Any:
    shared = SavedView.team_id.in_(actor.team_ids) if actor.team_ids else false()
    return or_(SavedView.owner_user_id.is_(None), SavedView.owner_user_id == actor.user_id, shared)


def list_views(table: str, *, uow: UnitOfWork, actor: Actor) -> list[SavedView]:
    """The views of ``table`` the actor may open: system views first, then theirs and their teams'."""
    statement = (
        select(SavedView)
        .where(SavedView.table_name == check_table(table), _visible(actor))
        .order_by(SavedView.owner_user_id.is_not(None), SavedView.created_at, SavedView.name)
    )
    return list(uow.session.scalars(statement))


def get_view(view_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> SavedView:
    """A view the actor may open (one they may not is answered as one that does not exist)."""
    view = uow.session.scalars(select(SavedView).where(SavedView.id == view_id, _visible(actor))).first()
    if view is None:
        raise NotFound(f"No saved view has the id {view_id}.", code="saved_view_not_found")
    return view


def default_view_id(table: str, *, uow: UnitOfWork, actor: Actor) -> uuid.UUID | None:
    """The view the actor's list of ``table`` opens with, if they chose one."""
    return uow.session.scalar(
        select(SavedViewDefault.view_id).where(
            SavedViewDefault.user_id == actor.user_id, SavedViewDefault.table_name == table
        )
    )


def _sortable(session: Session, table: str, key: str) -> None:
    name = key.lstrip("-+ ")
    if name.startswith("custom."):
        custom_sort(session, table, name)
        return
    if inspect(mapped_class(table)).columns.get(name) is None or name in ("custom", "row_version"):
        raise field_refusal("sort", "invalid_sort", f"The {table} table has no field named {name!r} to sort by.")


def _field_key(session: Session, table: str, key: str, *, what: str) -> None:
    if key.startswith("custom."):
        custom_field(session, table, key, purpose="show")
        return
    if inspect(mapped_class(table)).columns.get(key) is None or key in ("custom", "row_version"):
        raise field_refusal(what, "unknown_field", f"The {table} table has no field named {key!r}.")


def _checked(session: Session, table: str, data: Any, actor: Actor) -> dict[str, Any]:
    """The view's column values, once every part of it names what the table has."""
    values = data.model_dump(exclude_unset=True, exclude={"table", "system"})
    if "conditions" in values:
        conditions = [Condition(**item) for item in values["conditions"]]
        for condition in conditions:
            condition_sql(session, table, condition)  # refuses an unknown or hidden field, operator, value
        values["conditions"] = [condition.as_dict() for condition in conditions]
    if "sort" in values:
        _sortable(session, table, values["sort"])
    for key in values.get("columns", []):
        _field_key(session, table, key, what="columns")
    if values.get("group_by"):
        _field_key(session, table, values["group_by"], what="group_by")
    team_id = values.get("team_id")
    if team_id is not None and team_id not in actor.team_ids:
        raise field_refusal("team_id", "not_a_member", "Share a view with a team you belong to.")
    return values


def _audit(session: Session, actor: Actor, action: str, view: SavedView) -> None:
    record_action(session, actor, action, table="saved_views", record_id=view.id, summary=view.name)


def create_view(data: ViewCreate, *, uow: UnitOfWork, actor: Actor) -> SavedView:
    """Save a view: the actor's own (shared with one of their teams if asked) or, for an administrator, a system view."""
    table = check_table(data.table)
    if data.system and not has_admin(actor, ADMIN_TABLE, Privilege.WRITE):
        raise Forbidden(
            "Only administrators save system views; save it as your own view, or share it with your team.",
            code="forbidden",
            details={
                "privilege": "write",
                "table": ADMIN_TABLE,
                "level": actor.depth(ADMIN_TABLE, Privilege.WRITE).label,
            },
        )
    values = _checked(uow.session, table, data, actor)
    if data.system and values.get("team_id"):
        raise field_refusal("team_id", "not_applicable", "A system view is everyone's; it is not shared with a team.")
    view = SavedView(
        table_name=table,
        owner_user_id=None if data.system else actor.user_id,
        **{"conditions": [], "columns": [], "sort": "-created_at", **values},
    )
    uow.session.add(view)
    uow.flush()
    _audit(uow.session, actor, "create", view)
    return view


def _changeable(view: SavedView, actor: Actor) -> None:
    if view.is_system:
        if not has_admin(actor, ADMIN_TABLE, Privilege.WRITE):
            raise Forbidden(
                "Only administrators change system views; save your own copy instead.",
                code="forbidden",
                details={
                    "privilege": "write",
                    "table": ADMIN_TABLE,
                    "level": actor.depth(ADMIN_TABLE, Privilege.WRITE).label,
                },
            )
    elif view.owner_user_id != actor.user_id:
        raise Forbidden(
            "Only the owner of a view changes it; save your own copy instead.",
            code="not_view_owner",
        )


def update_view(
    view_id: uuid.UUID, changes: Any, *, uow: UnitOfWork, actor: Actor, expected_version: int | None = None
) -> SavedView:
    """Change a view the actor may change."""
    view = get_view(view_id, uow=uow, actor=actor)
    _changeable(view, actor)
    check_version(view, expected_version)
    values = _checked(uow.session, view.table_name, changes, actor)
    if view.is_system and values.get("team_id"):
        raise field_refusal("team_id", "not_applicable", "A system view is everyone's; it is not shared with a team.")
    for name, value in values.items():
        setattr(view, name, value)
    uow.flush()
    _audit(uow.session, actor, "update", view)
    return view


def delete_view(view_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> None:
    """Delete a personal view (system views stay: an administrator changes them instead)."""
    view = get_view(view_id, uow=uow, actor=actor)
    if view.is_system:
        raise InvalidState("System views cannot be deleted; change them instead.", code="system_view")
    _changeable(view, actor)
    _audit(uow.session, actor, "delete", view)
    uow.session.delete(view)
    uow.flush()


def set_default(view_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> SavedView:
    """Make a view the one the actor's list of its table opens with."""
    view = get_view(view_id, uow=uow, actor=actor)
    session = uow.session
    session.execute(
        delete(SavedViewDefault).where(
            SavedViewDefault.user_id == actor.user_id, SavedViewDefault.table_name == view.table_name
        )
    )
    session.add(SavedViewDefault(user_id=actor.user_id, table_name=view.table_name, view_id=view.id))
    uow.flush()
    return view


def conditions_of(view: SavedView) -> tuple[Condition, ...]:
    return tuple(Condition(**item) for item in view.conditions or [])


def group_counts(view: SavedView, *, uow: UnitOfWork, actor: Actor) -> list[tuple[Any, int]]:
    """How many records the actor may read fall in each group of a grouped view (its filters applied)."""
    if not view.group_by:
        raise InvalidState("This view is not grouped; set group_by first.", code="view_not_grouped")
    session = uow.session
    model = mapped_class(view.table_name)
    if view.group_by.startswith("custom."):
        key: Any = custom_sort(session, view.table_name, view.group_by)[0]
    else:
        key = getattr(model, view.group_by)
    statement = (
        select(key, func.count())
        .select_from(model)
        .where(access_condition(actor, Privilege.READ, view.table_name, model))
    )
    for condition in conditions_of(view):
        statement = statement.where(condition_sql(session, view.table_name, condition))
    rows = session.execute(statement.group_by(key).order_by(key)).all()
    return [(value.value if hasattr(value, "value") else value, count) for value, count in rows]


def list_page(
    table: str,
    *,
    uow: UnitOfWork,
    actor: Actor,
    conditions: Sequence[Condition] = (),
    sort: str = "created_at",
    limit: int,
    cursor: str | None,
) -> Any:
    """A page of the records of ``table`` the actor may read, filtered and sorted on any field."""
    session = uow.session
    model = mapped_class(table)
    descending = sort.startswith("-")
    name = sort.lstrip("-+ ")
    statement = select(model).where(access_condition(actor, Privilege.READ, table, model))
    for condition in conditions:
        statement = statement.where(condition_sql(session, table, condition))
    nullable = False
    if name.startswith("custom."):
        key, kind = custom_sort(session, table, name)  # blanks read as the lowest value
    else:
        _sortable(session, table, name)
        column = inspect(model).columns[name]
        key, kind, nullable = getattr(model, name), _kind(column), bool(column.nullable)
    return keyset_page(
        session,
        statement,
        key=key,
        id_column=model.id,
        kind=kind,
        limit=limit,
        cursor=cursor,
        descending=descending,
        key_of=sort_value(session, table, name),
        nullable=nullable,
    )


def _kind(column: Any) -> Any:
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return "text"
    if python_type is datetime:
        return "datetime"
    if python_type is date:
        return "date"
    if python_type is Decimal:
        return "money"
    if python_type is int:
        return "integer"
    return "text"


def sort_value(session: Session, table: str, key: str) -> Any:
    """Reads a record's value of the sort ``key`` (a column, or ``custom.<name>``) as ``list_page``'s
    order does, for a cursor at that record: a custom field's blanks as the lowest value."""
    if not key.startswith("custom."):
        return lambda record: getattr(record, key)
    field = custom_field(session, table, key, purpose="sort")

    def read(record: Any) -> Any:
        stored = (record.custom or {}).get(field.name)
        if stored is None:
            return storage.blank_value(field)
        return int(stored) if field.kind is FieldKind.YES_NO else stored

    return read
