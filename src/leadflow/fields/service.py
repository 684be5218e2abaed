"""Custom field use cases: define, change, reorder and remove fields (administrators), and check,
store and show the values every record carries (every create and update of a customisable table).

Defining fields is a setting of the organisation: it needs Write on ``settings``, checked here so
that the API, the web app and the command line refuse alike. Reading the definitions is open to
every user (the forms need them).

This module is the public face of custom fields and defines them; the definitions as read are in
``definitions``, a record's values in ``record_values``, qualify's mappings in ``mappings``, and every
public name of those is named here too.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, inspect, select
from sqlalchemy.orm import Session

from leadflow.core.db import mapped_class
from leadflow.core.errors import Conflict, InvalidState, NotFound, field_refusal
from leadflow.core.records import check_version
from leadflow.core.uow import UnitOfWork
from leadflow.fields import storage
from leadflow.fields.definitions import (
    ADMIN_TABLE,
    _forget,
    field_named,
    fields_of,
    has_any,
    shown_values,
)
from leadflow.fields.mappings import QualifyMapper, delete_mapping, list_mappings, set_mapping
from leadflow.fields.models import CUSTOMISABLE, RULES_USING, CustomField, FieldKind, FieldMapping
from leadflow.fields.record_values import (
    apply_custom,
    audited_value,
    custom_output,
    follow_rate,
    output_rows,
    stored_custom,
)
from leadflow.fields.schemas import FieldChanges, FieldCreate, OptionIn
from leadflow.fields.values import TEXT_KINDS, FieldProblem, as_text, to_output, to_stored
from leadflow.security.access import require_admin
from leadflow.security.actor import Actor
from leadflow.security.audit import changed_fields, entry_values, plain, record_action, write_entries
from leadflow.security.privileges import Depth, Privilege

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# Words a field may not be named: SQL's reserved words that a careless query could trip on, and the
# names leadflow's own APIs give a special meaning (list parameters, the record's envelope).
RESERVED = frozenset(
    {
        "all", "and", "any", "as", "asc", "between", "by", "case", "cast", "check", "column", "constraint",
        "create", "cross", "current", "default", "delete", "desc", "distinct", "drop", "else", "end", "exists",
        "false", "for", "foreign", "from", "full", "group", "having", "in", "index", "inner", "insert", "into",
        "is", "join", "key", "left", "like", "limit", "not", "null", "offset", "on", "or", "order", "outer",
        "primary", "references", "right", "select", "set", "table", "then", "to", "true", "union", "unique",
        "update", "user", "using", "values", "when", "where", "with",
        "custom", "cursor", "etag", "expand", "filter", "grade", "q", "sort", "view", "view_id", "odata",
        "currency", "owner", "state", "status", "columns",
    }
)  # fmt: skip


# --- definitions ---------------------------------------------------------------------------------


def check_table(table: str, *, field: str = "table") -> str:
    """A table that has custom fields, or a 422 naming the ones that do."""
    if table not in CUSTOMISABLE:
        raise field_refusal(
            field, "invalid_option", f"Custom fields exist on {', '.join(CUSTOMISABLE)}; {table!r} is not one of them."
        )
    return table


def builtin_names(table: str) -> set[str]:
    """The names a table's records already use: its columns, its API's own names, its relations."""
    mapper = inspect(mapped_class(table))
    names = {column.key for column in mapper.columns} | set(mapper.relationships.keys())
    return names | {"currency", "grade", "owner", "custom", "etag", "full_name"}


def _check_name(table: str, name: str) -> None:
    if not _NAME.match(name) or "__" in name or name.endswith("_base") or len(name) > 40:
        raise field_refusal(
            "name",
            "invalid_name",
            "A field's name has 1 to 40 lower-case letters, digits and single underscores, starts with a letter "
            "and does not end in _base (for example: region or contract_end).",
        )
    if name in RESERVED:
        raise field_refusal("name", "reserved_name", f"{name!r} is a reserved word; choose another name.")
    if name in builtin_names(table):
        raise field_refusal(
            "name",
            "builtin_name",
            f"The {table} table already has a built-in field named {name!r}; choose another name.",
        )


def _check_shape(table: str, data: FieldChanges, *, actor: Actor) -> None:
    """Refuse a definition whose settings do not fit its kind."""
    kind = data.kind
    if kind in (FieldKind.CHOICE, FieldKind.MULTI_CHOICE):
        values = [option.value for option in data.options or []]
        if not values:
            raise field_refusal("options", "required", "A choice field needs at least one option.")
        if len(set(values)) != len(values):
            raise field_refusal("options", "duplicate_option", "Two options have the same value; give each its own.")
        if any(not re.match(r"^[A-Za-z0-9_.-]+$", value) for value in values):
            raise field_refusal(
                "options", "invalid_option", "An option's value has letters, digits, '_', '.' or '-' only."
            )
    elif data.options:
        raise field_refusal("options", "not_applicable", "Only choice and multi-choice fields have options.")
    if kind is FieldKind.LOOKUP:
        target = data.lookup_table
        if target is None:
            raise field_refusal("lookup_table", "required", "Name the table a lookup field points to.")
        check_table(target, field="lookup_table")
        if actor.depth(target, Privilege.READ) is Depth.NONE:
            raise field_refusal(
                "lookup_table",
                "unreadable_table",
                f"You cannot read {target}, so you cannot add a lookup to it; ask for a role that reads it.",
            )
    elif data.lookup_table is not None:
        raise field_refusal("lookup_table", "not_applicable", "Only lookup fields point to a table.")
    if data.max_length is not None and kind not in TEXT_KINDS:
        raise field_refusal("max_length", "not_applicable", "Only text fields have a maximum length.")
    if data.precision is not None and kind not in (FieldKind.DECIMAL, FieldKind.MONEY):
        raise field_refusal("precision", "not_applicable", "Only decimal and money fields have a precision.")
    if data.searchable and kind not in storage.SORTABLE_KINDS:
        raise field_refusal(
            "searchable", "not_applicable", "A multi-choice field cannot be indexed; lists still filter on it."
        )


def _definition_values(table: str, data: FieldChanges, *, name: str, actor: Actor) -> dict[str, Any]:
    _check_shape(table, data, actor=actor)
    values = data.model_dump(exclude={"default", "options", "position", "table", "name"})
    values["options"] = [option.model_dump() for option in data.options] if data.options is not None else None
    probe = CustomField(table_name=table, name=name, **{k: v for k, v in values.items()})
    try:
        values["default_value"] = to_stored(probe, data.default) if data.kind is not FieldKind.LOOKUP else None
    except FieldProblem as problem:
        raise field_refusal("default", problem.code, problem.message) from None
    if data.default is not None and data.kind is FieldKind.LOOKUP:
        raise field_refusal("default", "not_applicable", "A lookup field has no default.")
    return values


def _audit(session: Session, actor: Actor, action: str, field: CustomField, changes: Any = None) -> None:
    record_action(
        session,
        actor,
        action,
        table="custom_fields",
        record_id=field.id,
        summary=f"{field.table_name}.{field.name}",
        changes=changes,
    )


def list_fields(table: str | None = None, *, uow: UnitOfWork, actor: Actor) -> list[CustomField]:
    """The custom fields of one table (or of all), in their order."""
    statement = select(CustomField).order_by(CustomField.table_name, CustomField.position, CustomField.name)
    if table is not None:
        statement = statement.where(CustomField.table_name == check_table(table))
    return list(uow.session.scalars(statement))


def get_field(field_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, for_update: bool = False) -> CustomField:
    """One custom field by id."""
    statement = select(CustomField).where(CustomField.id == field_id)
    field = uow.session.scalars(statement.with_for_update() if for_update else statement).first()
    if field is None:
        raise NotFound(f"No custom field has the id {field_id}.", code="custom_field_not_found")
    return field


def create_field(data: FieldCreate, *, uow: UnitOfWork, actor: Actor) -> CustomField:
    """Add a custom field to a table; a searchable one gets its index at once."""
    require_admin(actor, ADMIN_TABLE, Privilege.WRITE)
    session = uow.session
    table = check_table(data.table)
    _check_name(table, data.name)
    if session.scalar(select(CustomField.id).where(CustomField.table_name == table, CustomField.name == data.name)):
        raise field_refusal(
            "name",
            "field_exists",
            f"The {table} table already has a custom field named {data.name!r}; choose another name.",
            error=Conflict,
        )
    values = _definition_values(table, data, name=data.name, actor=actor)
    position = data.position
    if position is None:
        last = session.scalar(select(func.max(CustomField.position)).where(CustomField.table_name == table))
        position = (last or 0) + 1
    field = CustomField(table_name=table, name=data.name, position=position, **values)
    session.add(field)
    uow.flush()
    if field.searchable:
        storage.create_index(session, field)
    _audit(session, actor, "create", field)
    _forget(session)
    return field


def _values_of(session: Session, field: CustomField) -> list[tuple[uuid.UUID, Any]]:
    """Every record of the field's table that holds a value of it, with that stored value."""
    model = mapped_class(field.table_name)
    rows = session.execute(select(model.id, model.custom).where(storage.has_value(field, session)))
    return [(record_id, custom.get(field.name)) for record_id, custom in rows if custom.get(field.name) is not None]


def count_values(session: Session, field: CustomField) -> int:
    """How many records hold a value of ``field``."""
    model = mapped_class(field.table_name)
    return session.scalar(select(func.count()).select_from(model).where(storage.has_value(field, session))) or 0


def _convert_values(session: Session, before: CustomField, after: CustomField) -> None:
    """Rewrite every stored value for the field's new kind or settings; refused, changing nothing,
    when one does not convert (naming how many and the first)."""
    converted: dict[uuid.UUID, Any] = {}
    failures: list[tuple[uuid.UUID, str]] = []
    for record_id, stored in _values_of(session, before):
        value = to_output(before, stored)
        if after.kind in TEXT_KINDS and before.kind not in TEXT_KINDS:
            value = as_text(before, stored)
        elif after.kind in (FieldKind.CHOICE, FieldKind.MULTI_CHOICE) and before.kind is FieldKind.MULTI_CHOICE:
            value = value if after.kind is FieldKind.MULTI_CHOICE else (value[0] if len(value) == 1 else value)
        try:
            new = to_stored(after, value)
        except FieldProblem as problem:
            failures.append((record_id, problem.message))
            continue
        if new != stored:
            converted[record_id] = new
    if failures:
        record_id, message = failures[0]
        raise InvalidState(
            f"{len(failures)} record(s) hold a value of {before.name!r} that does not fit the new settings "
            f"(record {record_id}: {message}); change or clear those values first.",
            code="values_do_not_convert",
            details={"count": len(failures), "record_id": str(record_id), "field": before.name},
        )
    model = mapped_class(before.table_name)
    for record_id, new in converted.items():
        record = session.get(model, record_id)
        if record is not None:
            record.custom = {**record.custom, after.name: new}


def update_field(
    field_id: uuid.UUID,
    changes: Any,
    *,
    uow: UnitOfWork,
    actor: Actor,
    expected_version: int | None = None,
) -> CustomField:
    """Relabel, reorder, hide or retype a field. A new kind, a shorter length, fewer decimals or fewer
    options are refused while a stored value does not fit them; otherwise every value is converted."""
    require_admin(actor, ADMIN_TABLE, Privilege.WRITE)
    session = uow.session
    field = get_field(field_id, uow=uow, actor=actor, for_update=True)
    check_version(field, expected_version)
    given = changes.model_dump(exclude_unset=True)
    current = FieldChanges(
        label_en=field.label_en,
        label_es=field.label_es,
        kind=field.kind,
        required=field.required,
        default=to_output(field, field.default_value),
        max_length=field.max_length,
        precision=field.precision,
        options=[OptionIn.model_validate(option) for option in field.options] if field.options else None,
        lookup_table=field.lookup_table,
        searchable=field.searchable,
        duplicate_rules=field.duplicate_rules,
        hidden=field.hidden,
        position=field.position,
    )
    kept = current.model_dump()
    if "kind" in given:  # a new kind drops the settings of the old one that the caller did not restate
        kind = FieldKind(given["kind"])
        for setting, applies in (
            ("options", kind in (FieldKind.CHOICE, FieldKind.MULTI_CHOICE)),
            ("lookup_table", kind is FieldKind.LOOKUP),
            ("max_length", kind in TEXT_KINDS),
            ("precision", kind in (FieldKind.DECIMAL, FieldKind.MONEY)),
            ("searchable", kind in storage.SORTABLE_KINDS),
        ):
            if not applies and setting not in given:
                kept[setting] = False if setting == "searchable" else None
        if kind is not field.kind and "default" not in given:
            kept["default"] = None
    merged = FieldChanges.model_validate({**kept, **given})
    values = _definition_values(field.table_name, merged, name=field.name, actor=actor)
    after = CustomField(table_name=field.table_name, name=field.name, **values)
    if after.kind is not field.kind or (field.duplicate_rules and not after.duplicate_rules):
        _refuse_if_used(session, field, "change its kind or keep duplicate rules from using it")
    reshaped = any(
        getattr(after, key) != getattr(field, key)
        for key in ("kind", "max_length", "precision", "options", "lookup_table")
    )
    if reshaped:
        _convert_values(session, field, after)
    was_searchable, old_kind = field.searchable, field.kind
    for key, value in values.items():
        setattr(field, key, value)
    if merged.position is not None:
        field.position = merged.position
    audit = changed_fields(field)
    uow.flush()
    if was_searchable and (not field.searchable or old_kind is not field.kind):
        storage.drop_index(session, CustomField(table_name=field.table_name, name=field.name, kind=old_kind))
    if field.searchable:
        storage.create_index(session, field)
    _audit(session, actor, "update", field, audit)
    _forget(session)
    return field


def delete_field(
    field_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor, confirm: bool = False, expected_version: int | None = None
) -> int:
    """Remove a field and its values; while records hold values it asks for ``confirm``, and then
    keeps each record's value in the audit log. Returns how many values were removed."""
    require_admin(actor, ADMIN_TABLE, Privilege.WRITE)
    session = uow.session
    field = get_field(field_id, uow=uow, actor=actor, for_update=True)
    check_version(field, expected_version)
    _refuse_if_used(session, field, "remove it")
    held = _values_of(session, field)
    if held and not confirm:
        raise InvalidState(
            f"{len(held)} record(s) hold a value of {field.name!r}; removing the field removes them (the audit "
            "log keeps them). Confirm to remove it.",
            code="field_has_values",
            details={"count": len(held), "field": field.name},
        )
    write_entries(
        session,
        [
            entry_values(
                actor,
                "update",
                table=field.table_name,
                record_id=record_id,
                changes={f"custom.{field.name}": {"old": plain(to_output(field, stored)), "new": None}},
                summary=f"custom field {field.name} removed",
            )
            for record_id, stored in held
        ],
    )
    storage.remove_values(session, field)
    storage.drop_index(session, field)
    session.execute(
        delete(FieldMapping).where(
            (FieldMapping.source_field == f"custom.{field.name}")
            | ((FieldMapping.target_table == field.table_name) & (FieldMapping.target_field == field.name))
        )
    )
    _audit(session, actor, "delete", field, {"values_removed": len(held)})
    session.delete(field)
    uow.flush()
    _forget(session)
    return len(held)


def _refuse_if_used(session: Session, field: CustomField, doing: str) -> None:
    """Refuse a change that would break a duplicate detection rule comparing the field."""
    rules = [name for find in RULES_USING for name in find(session, field)]
    if rules:
        raise Conflict(
            f"The duplicate detection rules {', '.join(rules)} compare the field {field.name}; take it out of "
            f"their conditions (or delete those rules) before you {doing}.",
            code="field_in_use",
            details={"field": field.name, "rules": ", ".join(rules)},
        )


def reorder_fields(table: str, names: Sequence[str], *, uow: UnitOfWork, actor: Actor) -> list[CustomField]:
    """Put a table's fields in the order given (every field named once)."""
    require_admin(actor, ADMIN_TABLE, Privilege.WRITE)
    fields = {field.name: field for field in list_fields(check_table(table), uow=uow, actor=actor)}
    if sorted(names) != sorted(fields):
        raise field_refusal(
            "names", "invalid_value", f"Name every custom field of {table} once: {', '.join(sorted(fields))}."
        )
    for position, name in enumerate(names, start=1):
        fields[name].position = position
    uow.flush()
    record_action(uow.session, actor, "reorder", table="custom_fields", summary=table)
    _forget(uow.session)
    return [fields[name] for name in names]


def clear_custom_lookups(session: Session, table: str, record_id: uuid.UUID) -> None:
    """Before a record of ``table`` is deleted: the custom lookups naming it forget it."""
    lookups = select(CustomField).where(CustomField.kind == FieldKind.LOOKUP, CustomField.lookup_table == table)
    for field in session.scalars(lookups):
        storage.clear_lookup_values(session, field, record_id)


__all__ = [
    "ADMIN_TABLE",
    "QualifyMapper",
    "RESERVED",
    "apply_custom",
    "audited_value",
    "builtin_names",
    "check_table",
    "clear_custom_lookups",
    "count_values",
    "create_field",
    "custom_output",
    "delete_field",
    "delete_mapping",
    "field_named",
    "fields_of",
    "follow_rate",
    "get_field",
    "has_any",
    "list_fields",
    "list_mappings",
    "output_rows",
    "reorder_fields",
    "set_mapping",
    "shown_values",
    "stored_custom",
    "update_field",
]
