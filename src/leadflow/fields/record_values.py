"""A record's custom values, on every create and update of a customisable table: the values given are
checked against the table's fields (every problem reported at once, as a 422 naming
``custom.<field>``), defaults fill a new record, and the stored column is written; money fields keep
their base amounts at the record's rate and follow it when it is captured again. Also how the API
and the audit log show the stored values."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, object_session

from leadflow.core.db import mapped_class
from leadflow.core.errors import ValidationFailed
from leadflow.fields.definitions import _output, fields_of
from leadflow.fields.models import CustomField, FieldKind
from leadflow.fields.values import FieldProblem, base_of, to_output, to_stored
from leadflow.organisation.currencies import MONEY_FIELDS, RATE_FOLLOWERS
from leadflow.organisation.models import Currency
from leadflow.security.access import can
from leadflow.security.actor import Actor
from leadflow.security.audit import AUDIT_SHOWN
from leadflow.security.privileges import Privilege


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


def output_rows(session: Session, table: str, records: Iterable[Any]) -> list[dict[str, Any]]:
    """``custom_output`` of several records (one read of the definitions)."""
    return [custom_output(session, table, record.custom) for record in records]
