"""Custom field use cases: define, change, reorder and remove fields (administrators), and check,
store and show the values every record carries (every create and update of a customisable table).

Defining fields is a setting of the organisation: it needs Write on ``settings``, checked here so
that the API, the web app and the command line refuse alike. Reading the definitions is open to
every user (the forms need them).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, inspect, select
from sqlalchemy.orm import Session, object_session

from leadflow.core.db import mapped_class
from leadflow.core.errors import Conflict, InvalidState, NotFound, ValidationFailed, field_refusal
from leadflow.core.records import check_version
from leadflow.core.uow import UnitOfWork
from leadflow.fields import storage
from leadflow.fields.models import CUSTOMISABLE, RULES_USING, SHOWN, CustomField, FieldKind, FieldMapping
from leadflow.fields.schemas import FieldChanges, FieldCreate, MappingIn, OptionIn
from leadflow.fields.values import TEXT_KINDS, FieldProblem, as_text, base_of, to_output, to_stored
from leadflow.organisation.currencies import MONEY_FIELDS, RATE_FOLLOWERS
from leadflow.organisation.models import Currency
from leadflow.security.access import can, require_admin
from leadflow.security.actor import Actor
from leadflow.security.audit import AUDIT_SHOWN, changed_fields, entry_values, plain, record_action, write_entries
from leadflow.security.privileges import Depth, Privilege

ADMIN_TABLE = "settings"
_CACHE = "leadflow.custom_fields"
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


# The definitions each table had when last read, for a record shown after its session closed.
_LAST_READ: dict[str, list[CustomField]] = {}


def fields_of(session: Session, table: str) -> list[CustomField]:
    """The custom fields of ``table`` in their order (read once per session)."""
    cache: dict[str, list[CustomField]] = session.info.setdefault(_CACHE, {})
    if table not in cache:
        statement = (
            select(CustomField).where(CustomField.table_name == table).order_by(CustomField.position, CustomField.name)
        )
        cache[table] = _LAST_READ[table] = list(session.scalars(statement))
    return cache[table]


def shown_values(record: Any) -> dict[str, Any]:
    """``custom_output`` of a loaded record, with the definitions of its session."""
    table = record.__tablename__
    session = object_session(record)
    cached = session.info.get(_CACHE, {}).get(table) if session is not None else None
    if cached is not None:
        return _output(cached, record.custom)
    # After a commit, reading the definitions would begin a new transaction (on SQLite a writer's, with
    # its lock) only to show the answer: the ones last read serve, unless this process has none yet.
    if session is not None and (session.in_transaction() or table not in _LAST_READ):
        return _output(fields_of(session, table), record.custom)
    return _output(_LAST_READ.get(table, []), record.custom)


SHOWN["values"] = shown_values
SHOWN["default"] = lambda field: to_output(field, field.default_value)


def field_named(session: Session, table: str, name: str) -> CustomField | None:
    return next((field for field in fields_of(session, table) if field.name == name), None)


def _forget(session: Session) -> None:
    session.info.pop(_CACHE, None)


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


# --- values ----------------------------------------------------------------------------------------


def _refusal(problems: list[dict[str, str]]) -> ValidationFailed:
    listed = "; ".join(f"{item['field']}: {item['message']}" for item in problems)
    return ValidationFailed(
        f"Some custom fields need your attention: {listed}", code="validation_failed", details={"fields": problems}
    )


def _problem(field: str, code: str, message: str) -> dict[str, str]:
    return {"field": f"custom.{field}", "code": code, "message": message}


def _check_lookup(session: Session, actor: Actor | None, field: CustomField, stored: str) -> str | None:
    """None when the lookup names a record the actor may read, else the problem's message."""
    assert field.lookup_table is not None
    record = session.get(mapped_class(field.lookup_table), uuid.UUID(stored))
    if record is None or (actor is not None and not can(session, actor, Privilege.READ, field.lookup_table, record)):
        return "The chosen record no longer exists."
    return None


def _rate(session: Session, currency_id: Any) -> Decimal:
    currency = session.get(Currency, currency_id) if currency_id else None
    return currency.exchange_rate if currency is not None else Decimal(1)


def stored_custom(
    session: Session,
    table: str,
    given: Mapping[str, Any] | None,
    *,
    actor: Actor | None,
    current: Mapping[str, Any] | None = None,
    currency_id: Any = None,
) -> dict[str, Any]:
    """The record's whole ``custom`` column after applying ``given`` (the caller's values, by field
    name; None clears one) to ``current`` (None for a new record: defaults fill what is not given).
    Every problem is reported at once, as a 422 naming ``custom.<field>``."""
    fields = {field.name: field for field in fields_of(session, table)}
    creating = current is None
    result: dict[str, Any] = dict(current or {})
    problems: list[dict[str, str]] = []
    for name, value in (given or {}).items():
        field = fields.get(name)
        if field is None:
            problems.append(_problem(name, "unknown_field", f"The {table} table has no custom field named {name!r}."))
            continue
        try:
            stored = to_stored(field, value)
        except FieldProblem as problem:
            problems.append(_problem(name, problem.code, problem.message))
            continue
        if stored is not None and field.kind is FieldKind.LOOKUP:
            message = _check_lookup(session, actor, field, stored)
            if message is not None:
                problems.append(_problem(name, "not_found", message))
                continue
        if stored is None:
            result.pop(name, None)
        else:
            result[name] = stored
    for field in fields.values():
        if creating and field.name not in (given or {}) and field.default_value is not None:
            result[field.name] = field.default_value
        reported = any(item["field"] == f"custom.{field.name}" for item in problems)
        if (
            field.required
            and not reported
            and result.get(field.name) is None
            and (creating or field.name in (given or {}))
        ):
            problems.append(_problem(field.name, "required", "This field is required."))
    if problems:
        raise _refusal(problems)
    if any(field.kind is FieldKind.MONEY for field in fields.values()):
        _base_amounts(fields.values(), result, _rate(session, currency_id))
    # Values of fields removed meanwhile are not kept by a new write.
    return {key: value for key, value in result.items() if key.split("__")[0] in fields}


def _base_amounts(fields: Iterable[CustomField], values: dict[str, Any], rate: Decimal) -> None:
    """Set, in place, each money field's base amount (``<name>__base``) at ``rate``."""
    for field in fields:
        if field.kind is FieldKind.MONEY:
            base = base_of(values.get(field.name), rate)
            if base is None:
                values.pop(f"{field.name}__base", None)
            else:
                values[f"{field.name}__base"] = base


def follow_rate(session: Session, record: Any) -> None:
    """Move a record's custom money base amounts to the rate it has just captured (a recalculation,
    a win or a loss), as its built-in amounts move."""
    if not record.custom:
        return
    values = dict(record.custom)
    _base_amounts(fields_of(session, record.__tablename__), values, record.exchange_rate or Decimal(1))
    if values != record.custom:
        record.custom = values


RATE_FOLLOWERS.append(follow_rate)


def audited_value(record: Any, name: str, stored: Any) -> Any:
    """A record's stored custom value as its audit entry keeps it: as the API shows it."""
    session = object_session(record)
    field = (
        next((field for field in fields_of(session, record.__tablename__) if field.name == name), None)
        if session
        else None
    )
    return stored if field is None else to_output(field, stored)


AUDIT_SHOWN["custom"] = audited_value


def apply_custom(
    session: Session, table: str, values: dict[str, Any], *, actor: Actor | None, current: Any = None
) -> None:
    """Turn ``values["custom"]`` (a create's or an update's input) into the stored column in place:
    a new record always gets its defaults; a change touches the column when it names custom values
    or a new currency (money fields keep their base amounts)."""
    # Read the definitions now, in the write's transaction: the record's answer shows its custom values
    # after the commit, and reading them then would open a second transaction (and connection).
    fields_of(session, table)
    given = values.pop("custom", None)
    # A change of currency or of a built-in amount captures the currency's rate again (rate_values):
    # money fields' base amounts follow it.
    recaptured = "currency_id" in values or bool(set(MONEY_FIELDS.get(table, ())) & set(values))
    if current is not None and given is None and not recaptured:
        return
    if current is None and not given and not fields_of(session, table):
        values["custom"] = {}
        return
    currency_id = values.get("currency_id", getattr(current, "currency_id", None))
    values["custom"] = stored_custom(
        session,
        table,
        given,
        actor=actor,
        current=None if current is None else dict(current.custom or {}),
        currency_id=currency_id,
    )


def custom_output(session: Session, table: str, stored: Mapping[str, Any] | None) -> dict[str, Any]:
    """A record's custom values as the API shows them: every field by name (None when blank), a
    money field's base amount beside it as ``<name>_base``."""
    return _output(fields_of(session, table), stored)


def _output(fields: Iterable[CustomField], stored: Mapping[str, Any] | None) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    stored = stored or {}
    for field in fields:
        shown[field.name] = to_output(field, stored.get(field.name))
        if field.kind is FieldKind.MONEY:
            shown[f"{field.name}_base"] = to_output(field, stored.get(f"{field.name}__base"))
    return shown


# --- qualify mappings --------------------------------------------------------------------------------


def list_mappings(*, uow: UnitOfWork, actor: Actor) -> list[FieldMapping]:
    """The lead-to-record mappings of custom fields."""
    return list(
        uow.session.scalars(select(FieldMapping).order_by(FieldMapping.target_table, FieldMapping.target_field))
    )


def _source_kind(session: Session, source: str) -> tuple[CustomField | None, Any]:
    """The lead's custom field a mapping reads (or None and the built-in column)."""
    if source.startswith("custom."):
        field = field_named(session, "leads", source.removeprefix("custom."))
        if field is None:
            raise field_refusal("source_field", "not_found", f"Leads have no custom field named {source[7:]!r}.")
        return field, None
    column = inspect(mapped_class("leads")).columns.get(source)
    if column is None or source in {"id", "custom", "row_version"}:
        raise field_refusal("source_field", "not_found", f"Leads have no field named {source!r}.")
    return None, column


def set_mapping(data: MappingIn, *, uow: UnitOfWork, actor: Actor) -> FieldMapping:
    """Map a lead field onto a custom field of the account, contact or opportunity qualify creates
    (one source per target); refused when the lead's values could not fill the target."""
    require_admin(actor, ADMIN_TABLE, Privilege.WRITE)
    session = uow.session
    if data.target_table not in ("accounts", "contacts", "opportunities"):
        raise field_refusal(
            "target_table",
            "invalid_option",
            "Qualify creates accounts, contacts and opportunities; map onto one of them.",
        )
    target = field_named(session, data.target_table, data.target_field)
    if target is None:
        raise field_refusal(
            "target_field",
            "not_found",
            f"The {data.target_table} table has no custom field named {data.target_field!r}.",
        )
    source, column = _source_kind(session, data.source_field)
    fits = (
        target.kind in (FieldKind.TEXT, FieldKind.MULTILINE)
        or (
            source is not None
            and source.kind is target.kind
            and set(source.option_values()) <= set(target.option_values())
            and source.lookup_table == target.lookup_table
        )
        or (column is not None and _column_fits(column, target))
    )
    if not fits:
        raise field_refusal(
            "source_field",
            "incompatible_mapping",
            f"The lead's {data.source_field} cannot fill {target.name} ({target.kind.value}); map a field of the "
            "same kind, or map onto a text field.",
        )
    mapping = session.scalars(
        select(FieldMapping).where(
            FieldMapping.target_table == data.target_table, FieldMapping.target_field == data.target_field
        )
    ).first()
    if mapping is None:
        mapping = FieldMapping(target_table=data.target_table, target_field=data.target_field)
        session.add(mapping)
    mapping.source_field = data.source_field
    uow.flush()
    record_action(
        session, actor, "save", table="custom_field_mappings", record_id=mapping.id,
        summary=f"leads.{data.source_field} → {data.target_table}.{data.target_field}",
    )  # fmt: skip
    return mapping


def _column_fits(column: Any, target: CustomField) -> bool:
    python_type = column.type.python_type
    if target.kind in (FieldKind.DECIMAL, FieldKind.MONEY):
        return python_type in (Decimal, int)
    if target.kind is FieldKind.WHOLE_NUMBER:
        return python_type is int
    if target.kind is FieldKind.YES_NO:
        return python_type is bool
    if target.kind in (FieldKind.EMAIL, FieldKind.PHONE, FieldKind.URL):
        return python_type is str
    return False


def delete_mapping(mapping_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> None:
    """Stop qualify from filling a custom field."""
    require_admin(actor, ADMIN_TABLE, Privilege.WRITE)
    mapping = uow.session.get(FieldMapping, mapping_id)
    if mapping is None:
        raise NotFound(f"No custom field mapping has the id {mapping_id}.", code="custom_field_mapping_not_found")
    uow.session.delete(mapping)
    record_action(uow.session, actor, "delete", table="custom_field_mappings", record_id=mapping_id)
    uow.flush()


class QualifyMapper:
    """Fills the custom fields of the records qualify creates from a lead, as the mappings say;
    made once per qualification batch (the mappings and definitions are read once)."""

    def __init__(self, session: Session) -> None:
        self.targets: dict[str, list[tuple[CustomField, CustomField | None, str]]] = {}
        mappings = list(session.scalars(select(FieldMapping)))
        for table in ("accounts", "contacts", "opportunities"):
            entries = []
            for mapping in mappings:
                if mapping.target_table != table:
                    continue
                target = field_named(session, table, mapping.target_field)
                if target is None:
                    continue
                source = (
                    field_named(session, "leads", mapping.source_field[7:])
                    if mapping.source_field.startswith("custom.")
                    else None
                )
                entries.append((target, source, mapping.source_field))
            self.targets[table] = entries
        self.defaults = {
            table: {
                field.name: field.default_value
                for field in fields_of(session, table)
                if field.default_value is not None
            }
            for table in ("accounts", "contacts", "opportunities")
        }
        self.money = {
            table: [field for field in fields_of(session, table) if field.kind is FieldKind.MONEY]
            for table in ("accounts", "contacts", "opportunities")
        }

    def values(self, lead: Any, table: str, *, rate: Decimal = Decimal(1)) -> dict[str, Any]:
        """The stored ``custom`` column of the ``table`` record qualify makes from ``lead``; a lead
        value the target cannot hold (an option the target lacks) is left out, not refused."""
        result = dict(self.defaults[table])
        lead_custom = lead.custom or {}
        for target, source, source_name in self.targets[table]:
            if source is not None:
                stored = lead_custom.get(source.name)
                value = (
                    as_text(source, stored)
                    if target.kind in (FieldKind.TEXT, FieldKind.MULTILINE) and source.kind not in TEXT_KINDS
                    else to_output(source, stored)
                )
            elif source_name.startswith("custom."):
                continue
            else:
                value = plain(getattr(lead, source_name, None))
            try:
                stored_value = to_stored(target, value)
            except FieldProblem:
                continue
            if stored_value is not None:
                result[target.name] = stored_value
        for field in self.money[table]:
            base = base_of(result.get(field.name), rate)
            if base is not None:
                result[f"{field.name}__base"] = base
        return result


def output_rows(session: Session, table: str, records: Iterable[Any]) -> list[dict[str, Any]]:
    """``custom_output`` of several records (one read of the definitions)."""
    return [custom_output(session, table, record.custom) for record in records]


def has_any(session: Session, table: str) -> bool:
    return bool(fields_of(session, table))
