"""Qualify mappings: which lead field fills which custom field of the account, contact or opportunity
qualify creates (one source per target), refused when the lead's values could not fill the target;
and ``QualifyMapper``, which fills those custom fields for a batch of qualifications, leaving out a
value the target cannot hold rather than refusing the qualification."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from leadflow.core.db import mapped_class
from leadflow.core.errors import NotFound, field_refusal
from leadflow.core.uow import UnitOfWork
from leadflow.fields.definitions import ADMIN_TABLE, field_named, fields_of
from leadflow.fields.models import CustomField, FieldKind, FieldMapping
from leadflow.fields.schemas import MappingIn
from leadflow.fields.values import TEXT_KINDS, FieldProblem, as_text, base_of, to_output, to_stored
from leadflow.security.access import require_admin
from leadflow.security.actor import Actor
from leadflow.security.audit import plain, record_action
from leadflow.security.privileges import Privilege


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
