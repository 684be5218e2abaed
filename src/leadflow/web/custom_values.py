"""Custom fields on the record forms: each visible field of a table as a form input, a record's stored
values as the inputs' text, the posted text as the ``custom`` input of the services, and the values
as the lists show them.

Inputs are named ``custom.<name>``, the very name a refusal gives the field's problem, so that the
message lands next to its input. Only the text a person types is translated here (an amount typed
the Spanish way, a local time of a ``datetime-local`` input); the services check and store values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadflow.core.db import mapped_class
from leadflow.core.formatting import amount_input, parse_amount
from leadflow.fields.models import CustomField, FieldKind
from leadflow.fields.service import fields_of
from leadflow.fields.values import as_text, to_output
from leadflow.security.access import access_condition
from leadflow.security.actor import Actor
from leadflow.security.privileges import Privilege
from leadflow.web.i18n import gettext

PREFIX = "custom."
LOOKUP_LIMIT = 200  # a lookup offers this many records by name; the chosen one is always offered

# The input each kind of field is typed in.
INPUT_KINDS = {
    FieldKind.TEXT: "text",
    FieldKind.MULTILINE: "textarea",
    FieldKind.WHOLE_NUMBER: "number",
    FieldKind.DECIMAL: "decimal",
    FieldKind.MONEY: "decimal",
    FieldKind.DATE: "date",
    FieldKind.DATETIME: "datetime",
    FieldKind.YES_NO: "yes_no",
    FieldKind.CHOICE: "select",
    FieldKind.MULTI_CHOICE: "multi",
    FieldKind.LOOKUP: "lookup",
    FieldKind.EMAIL: "email",
    FieldKind.PHONE: "tel",
    FieldKind.URL: "url",
}
# The column a lookup's records are named by.
_NAME_COLUMNS = {"leads": "full_name", "accounts": "name", "contacts": "full_name", "opportunities": "name"}


@dataclass
class CustomInput:
    """One custom field as a form shows it."""

    key: str  # the input's name: custom.<name>
    name: str
    label: str  # in the page's language
    input: str  # text textarea number decimal date datetime yes_no select multi lookup email tel url
    required: bool
    max_length: int | None
    choices: list[tuple[str, str]] = field(default_factory=list)  # (value, label) of a select or multi

    @property
    def input_id(self) -> str:
        return "custom-" + self.name.replace("_", "-")


def visible_fields(session: Session, table: str) -> list[CustomField]:
    """The custom fields of ``table`` the forms and lists show, in their order (hidden ones left out)."""
    return [item for item in fields_of(session, table) if not item.hidden]


def _lookup_choices(
    session: Session, actor: Actor, table: str, chosen: Iterable[str], language: str
) -> list[tuple[str, str]]:
    model = mapped_class(table)
    name = getattr(model, _NAME_COLUMNS.get(table, "name"))
    readable = access_condition(actor, Privilege.READ, table, model)
    rows = [
        (str(record_id), str(label or ""))
        for record_id, label in session.execute(
            select(model.id, name).where(readable).order_by(name, model.id).limit(LOOKUP_LIMIT)
        )
    ]
    offered = {value for value, _ in rows}
    for raw in chosen:
        if raw and raw not in offered:
            rows.append((raw, gettext(language, "A record you cannot open")))
    return rows


def form_inputs(
    session: Session, table: str, *, actor: Actor, language: str, values: Mapping[str, Any]
) -> list[CustomInput]:
    """The inputs of the visible custom fields of ``table``, with the options their selects offer."""
    inputs = []
    for item in visible_fields(session, table):
        kind = INPUT_KINDS[item.kind]
        choices: list[tuple[str, str]] = []
        if kind in ("select", "multi"):
            choices = [(option["value"], option[f"label_{language}"]) for option in item.options or []]
        elif kind == "lookup" and item.lookup_table:
            current = values.get(PREFIX + item.name, "")
            choices = _lookup_choices(session, actor, item.lookup_table, [str(current)], language)
        inputs.append(
            CustomInput(
                key=PREFIX + item.name,
                name=item.name,
                label=item.label(language),
                input=kind,
                required=item.required,
                max_length=item.max_length,
                choices=choices,
            )
        )
    return inputs


def _input_text(item: CustomField, stored: Any, *, language: str, zone: tzinfo) -> Any:
    """A stored value as its input shows it (a list of option values for a multi-choice)."""
    if stored is None:
        return [] if item.kind is FieldKind.MULTI_CHOICE else ""
    value = to_output(item, stored)
    if item.kind is FieldKind.MULTI_CHOICE:
        return list(value)
    if item.kind in (FieldKind.DECIMAL, FieldKind.MONEY):
        return amount_input(value, language)
    if item.kind is FieldKind.YES_NO:
        return "true" if value else "false"
    if item.kind is FieldKind.DATETIME:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M")
    return str(value)


def form_values(
    session: Session, table: str, stored: Mapping[str, Any] | None, *, language: str, zone: tzinfo
) -> dict[str, Any]:
    """A record's custom values as the form's inputs show them, by input name; ``stored`` None for a
    new record, whose form shows the fields' defaults."""
    values: dict[str, Any] = {}
    for item in visible_fields(session, table):
        value = item.default_value if stored is None else stored.get(item.name)
        values[PREFIX + item.name] = _input_text(item, value, language=language, zone=zone)
    return values


def posted_values(session: Session, table: str, form: Any) -> dict[str, Any]:
    """The custom inputs a form posted, by input name (a multi-choice as the list of ticked values;
    its hidden marker tells a form that had it from one that did not)."""
    posted: dict[str, Any] = {}
    for item in visible_fields(session, table):
        key = PREFIX + item.name
        if key not in form:
            continue
        if item.kind is FieldKind.MULTI_CHOICE:
            posted[key] = [value for value in form.getlist(key) if isinstance(value, str) and value]
        else:
            raw = form.get(key)
            posted[key] = raw if isinstance(raw, str) else ""
    return posted


def _service_value(item: CustomField, text: Any, *, language: str, zone: tzinfo) -> Any:
    """A posted text as the service reads it: an amount typed in the page's language as a plain
    number, a local time with the user's zone; what cannot be read goes on as typed, for the service
    to refuse next to its field."""
    if isinstance(text, list):
        return text or None
    text = text if item.kind is FieldKind.MULTILINE else text.strip()
    if not text.strip():
        return None
    if item.kind in (FieldKind.DECIMAL, FieldKind.MONEY):
        try:
            return str(parse_amount(text, language))
        except ValueError:
            return text
    if item.kind is FieldKind.DATETIME:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return text
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        return moment.astimezone(UTC).isoformat()
    return text


def service_custom(
    session: Session,
    table: str,
    posted: Mapping[str, Any],
    *,
    language: str,
    zone: tzinfo,
    initial: Mapping[str, Any] | None = None,
) -> dict[str, Any] | None:
    """The ``custom`` input of a create (the filled fields) or of a save (``initial``: the form as
    loaded; only the fields whose text changed), None when there is nothing to send."""
    given: dict[str, Any] = {}
    for item in visible_fields(session, table):
        key = PREFIX + item.name
        if key not in posted:
            continue
        text = posted[key]
        if initial is not None and text == initial.get(key, [] if isinstance(text, list) else ""):
            continue
        value = _service_value(item, text, language=language, zone=zone)
        if initial is None and value is None:
            continue
        given[item.name] = value
    return given or None


def display_values(session: Session, table: str, stored: Mapping[str, Any] | None, *, language: str) -> dict[str, str]:
    """The record's custom values as text (option labels in ``language``), by field name."""
    stored = stored or {}
    return {item.name: as_text(item, stored.get(item.name), language) for item in visible_fields(session, table)}


def list_columns(session: Session, table: str, *, language: str) -> list[tuple[str, str]]:
    """The custom columns of a list: the visible searchable fields, as (sort key, label)."""
    return [(PREFIX + item.name, item.label(language)) for item in visible_fields(session, table) if item.searchable]
