"""Custom fields (administrators): each table's fields in their order (label, name, kind, required,
searchable, hidden) with Up and Down, a new field, a field's page (its settings, kind by kind), its
removal (a confirmation that says how many records hold a value), and the qualify mappings that
fill the custom fields of the records qualifying a lead creates.

The services of ``leadflow.fields.service`` decide, as the REST API's ``leadflow.api.custom_fields``
calls them; their refusals are shown on the page in the user's language.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import inspect

from leadflow.core.db import mapped_class
from leadflow.core.errors import Forbidden, LeadflowError, NotFound
from leadflow.core.formatting import parse_amount
from leadflow.core.schemas import parse
from leadflow.fields import service
from leadflow.fields.models import CUSTOMISABLE, CustomField, FieldKind
from leadflow.fields.schemas import FieldCreate, FieldUpdate, MappingIn
from leadflow.fields.values import as_text
from leadflow.http.errors import status_for
from leadflow.security.privileges import Privilege
from leadflow.web.areas.admin import admin_area
from leadflow.web.forms import FormDep, Refusal, id_in_path, parse_version, refusal
from leadflow.web.i18n import N_, gettext
from leadflow.web.labels import COLUMN_LABELS
from leadflow.web.pages import WebSession, WebSessionDep, committed, database_of, redirect, render

router = APIRouter()

FIELDS = "/admin/custom-fields"
MAPPINGS = "/admin/custom-field-mappings"

TABLE_LABELS = {
    "leads": N_("Leads"),
    "accounts": N_("Accounts"),
    "contacts": N_("Contacts"),
    "opportunities": N_("Opportunities"),
}
KIND_LABELS = {
    FieldKind.TEXT: N_("Text"),
    FieldKind.MULTILINE: N_("Multiple lines of text"),
    FieldKind.WHOLE_NUMBER: N_("Whole number"),
    FieldKind.DECIMAL: N_("Decimal number"),
    FieldKind.MONEY: N_("Money"),
    FieldKind.DATE: N_("Date"),
    FieldKind.DATETIME: N_("Date and time"),
    FieldKind.YES_NO: N_("Yes/no"),
    FieldKind.CHOICE: N_("Choice"),
    FieldKind.MULTI_CHOICE: N_("Multiple choice"),
    FieldKind.LOOKUP: N_("Lookup"),
    FieldKind.EMAIL: N_("Email address"),
    FieldKind.PHONE: N_("Phone number"),
    FieldKind.URL: N_("Web address"),
}
_NOTICES = {
    "created": N_("The custom field was added."),
    "saved": N_("Your changes were saved."),
    "deleted": N_("The custom field was removed."),
    "reordered": N_("The new order was saved."),
    "mapped": N_("The mapping was saved."),
    "unmapped": N_("The mapping was removed."),
}
# The form field a refusal that names none belongs to.
_FIELDS_BY_CODE = {
    "invalid_name": "name",
    "reserved_name": "name",
    "builtin_name": "name",
    "field_exists": "name",
    "duplicate_option": "options",
    "incompatible_mapping": "source_field",
}
_TEXT_INPUTS = ("name", "label_en", "label_es", "kind", "max_length", "precision", "options", "lookup_table", "default")
_FLAGS = ("required", "searchable", "hidden", "duplicate_rules")
# Lead columns a mapping may not read: keys and bookkeeping.
_UNMAPPABLE = {"id", "custom", "row_version", "search_vector"}


def _gate(endpoint: Any) -> Any:
    return admin_area("settings", Privilege.WRITE)(endpoint)


def _refusal(language: str, error: LeadflowError) -> Refusal:
    found = refusal(language, error, _FIELDS_BY_CODE)
    if error.code in _FIELDS_BY_CODE:
        found.fields[_FIELDS_BY_CODE[error.code]] = found.message
    return found


def _notice(language: str, request: Request) -> str | None:
    key = request.query_params.get("notice")
    return gettext(language, _NOTICES[key]) if key in _NOTICES else None


def _table(raw: object) -> str:
    return raw if isinstance(raw, str) and raw in CUSTOMISABLE else CUSTOMISABLE[0]


def _choices(language: str) -> dict[str, Any]:
    return {
        "tables": [(table, gettext(language, TABLE_LABELS[table])) for table in CUSTOMISABLE],
        "kind_choices": [(kind.value, gettext(language, KIND_LABELS[kind])) for kind in FieldKind],
    }


# ---------------------------------------------------------------------------------------------- form <-> input


def options_text(options: list[dict[str, str]] | None) -> str:
    """A choice field's options as the form's textarea shows them: "value | English | Español" a line."""
    return "\n".join(f"{item['value']} | {item['label_en']} | {item['label_es']}" for item in options or [])


def parse_options(text: str) -> list[dict[str, str]] | None:
    """The textarea's lines as options: a line with one part is its value and both labels; with
    two, the value and a label for both languages. The service checks what they hold."""
    options = []
    for line in text.splitlines():
        parts = [part.strip() for part in line.split("|")]
        if not any(parts):
            continue
        value = parts[0]
        label_en = parts[1] if len(parts) > 1 else value
        label_es = parts[2] if len(parts) > 2 else label_en
        options.append({"value": value, "label_en": label_en, "label_es": label_es})
    return options or None


def _stored(field: CustomField | None, table: str, language: str) -> dict[str, Any]:
    if field is None:
        return {
            "table": table,
            "name": "",
            "label_en": "",
            "label_es": "",
            "kind": FieldKind.TEXT.value,
            "max_length": "",
            "precision": "",
            "options": "",
            "lookup_table": "",
            "default": "",
            "required": False,
            "searchable": False,
            "hidden": False,
            "duplicate_rules": False,
        }
    default = as_text(field, field.default_value, "en")
    if field.kind is FieldKind.YES_NO and field.default_value is not None:
        default = "true" if field.default_value else "false"
    elif field.kind in (FieldKind.CHOICE, FieldKind.MULTI_CHOICE) and field.default_value is not None:
        chosen = field.default_value if isinstance(field.default_value, list) else [field.default_value]
        default = "; ".join(chosen)
    return {
        "table": field.table_name,
        "name": field.name,
        "label_en": field.label_en,
        "label_es": field.label_es,
        "kind": field.kind.value,
        "max_length": "" if field.max_length is None else str(field.max_length),
        "precision": "" if field.precision is None else str(field.precision),
        "options": options_text(field.options),
        "lookup_table": field.lookup_table or "",
        "default": default,
        "required": field.required,
        "searchable": field.searchable,
        "hidden": field.hidden,
        "duplicate_rules": field.duplicate_rules,
    }


def _posted(form: Any) -> dict[str, Any]:
    posted: dict[str, Any] = {
        name: value if isinstance(value := form.get(name), str) else "" for name in (*_TEXT_INPUTS, "table")
    }
    for flag in _FLAGS:
        posted[flag] = form.get(flag) in ("1", "on", "true")
    return posted


def _input(posted: dict[str, Any], *, language: str) -> dict[str, Any]:
    """The service input of the form: an empty setting is no setting (the kind's own inputs only are
    posted: the page switches off the others)."""
    kind = posted["kind"]
    data: dict[str, Any] = {
        "label_en": posted["label_en"],
        "label_es": posted["label_es"],
        "kind": kind,
        **{flag: posted[flag] for flag in _FLAGS},
    }
    for name in ("max_length", "precision"):
        data[name] = posted[name].strip() or None
    data["options"] = parse_options(posted["options"])
    data["lookup_table"] = posted["lookup_table"].strip() or None
    default = posted["default"].strip()
    if default and kind in (FieldKind.DECIMAL.value, FieldKind.MONEY.value):
        try:
            default = str(parse_amount(default, language))
        except ValueError:
            pass  # the service names the default as not a number
    data["default"] = default or None
    return data


# ---------------------------------------------------------------------------------------------- the list


def _rows(language: str, fields: list[CustomField]) -> list[dict[str, Any]]:
    names = [field.name for field in fields]
    rows = []
    for index, field in enumerate(fields):
        up = names[:]
        down = names[:]
        if index > 0:
            up[index - 1], up[index] = up[index], up[index - 1]
        if index < len(names) - 1:
            down[index + 1], down[index] = down[index], down[index + 1]
        rows.append(
            {
                "id": field.id,
                "name": field.name,
                "label": field.label(language),
                "kind": gettext(language, KIND_LABELS[field.kind]),
                "required": field.required,
                "searchable": field.searchable,
                "hidden": field.hidden,
                "up": up if index > 0 else None,
                "down": down if index < len(names) - 1 else None,
            }
        )
    return rows


def _list_page(
    request: Request, session: WebSession, table: str, *, failure: Refusal | None = None, status_code: int = 200
) -> Response:
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        fields = service.list_fields(table, uow=uow, actor=session.actor)
        rows = _rows(language, fields)
    return render(
        request,
        session,
        "admin/custom_fields.html",
        status_code=status_code,
        table=table,
        table_label=gettext(language, TABLE_LABELS[table]),
        fields=rows,
        refusal=failure,
        notice=_notice(language, request),
        **_choices(language),
    )


@router.get(FIELDS, name="custom_fields")
@_gate
def custom_fields(request: Request, session: WebSessionDep, table: str = "leads") -> Response:
    """The custom fields of one table (``?table=``), in the order forms show them."""
    return _list_page(request, session, _table(table))


@router.post(FIELDS + "/order", name="custom_fields_order")
@_gate
def reorder_custom_fields(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """Save a table's fields in the order posted (an Up or Down button posts the order it makes)."""
    table = _table(form.get("table"))
    names = [name for name in form.getlist("names") if isinstance(name, str)]
    try:
        committed(request, lambda uow: service.reorder_fields(table, names, uow=uow, actor=session.actor))
    except LeadflowError as error:
        if isinstance(error, Forbidden):
            raise
        return _list_page(
            request, session, table, failure=_refusal(session.language, error), status_code=status_for(error)
        )
    return redirect(f"{FIELDS}?{urlencode({'table': table, 'notice': 'reordered'})}#custom-fields-table")


# ---------------------------------------------------------------------------------------------- a field


def _field_page(
    request: Request,
    session: WebSession,
    *,
    field_id: uuid.UUID | None,
    table: str,
    values: dict[str, Any] | None = None,
    failure: Refusal | None = None,
    status_code: int = 200,
    row_version: int | None = None,
) -> Response:
    language = session.language
    field: CustomField | None = None
    with database_of(request).unit_of_work(read_only=True) as uow:
        if field_id is not None:
            field = service.get_field(field_id, uow=uow, actor=session.actor)
            table = field.table_name
            held = service.count_values(uow.session, field)
        else:
            held = 0
        stored = _stored(field, table, language)
        label = field.label(language) if field is not None else ""
        version = field.row_version if field is not None else None
    return render(
        request,
        session,
        "admin/custom_field.html",
        status_code=status_code,
        field_id=field_id,
        field_label=label,
        table=table,
        table_label=gettext(language, TABLE_LABELS[table]),
        values={**stored, **(values or {})},
        refusal=failure,
        field_errors=failure.fields if failure else {},
        row_version=row_version if row_version is not None and row_version >= 0 else version,
        held=held,
        notice=_notice(language, request),
        **_choices(language),
    )


@router.get(FIELDS + "/new", name="custom_field_new")
@_gate
def new_custom_field(request: Request, session: WebSessionDep, table: str = "leads") -> Response:
    """The form of a new custom field of ``?table=``."""
    return _field_page(request, session, field_id=None, table=_table(table))


@router.post(FIELDS + "/new", name="custom_field_create")
@_gate
def create_custom_field(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """Add the field; the form again, with the refusal next to its input, when refused."""
    posted = _posted(form)
    table = _table(posted["table"])
    try:
        data = parse(
            FieldCreate,
            {"table": posted["table"], "name": posted["name"], **_input(posted, language=session.language)},
        )
        committed(request, lambda uow: service.create_field(data, uow=uow, actor=session.actor))
    except LeadflowError as error:
        if isinstance(error, Forbidden):
            raise
        return _field_page(
            request,
            session,
            field_id=None,
            table=table,
            values=posted,
            failure=_refusal(session.language, error),
            status_code=status_for(error),
        )
    return redirect(f"{FIELDS}?{urlencode({'table': table, 'notice': 'created'})}")


def _field_id(raw: str) -> uuid.UUID:
    return id_in_path(raw, record="custom_field")


@router.get(FIELDS + "/{field_id}", name="custom_field")
@_gate
def custom_field(request: Request, session: WebSessionDep, field_id: str) -> Response:
    """A field's settings."""
    return _field_page(request, session, field_id=_field_id(field_id), table=CUSTOMISABLE[0])


@router.post(FIELDS + "/{field_id}", name="custom_field_save")
@_gate
def save_custom_field(request: Request, session: WebSessionDep, form: FormDep, field_id: str) -> Response:
    """Change a field; refused, nothing changed, when stored values do not fit the new settings."""
    parsed = _field_id(field_id)
    posted = _posted(form)
    version = parse_version(form.get("row_version"))
    try:
        changes = parse(FieldUpdate, _input(posted, language=session.language))
        field = committed(
            request,
            lambda uow: service.update_field(parsed, changes, uow=uow, actor=session.actor, expected_version=version),
        )
    except LeadflowError as error:
        if isinstance(error, Forbidden | NotFound):
            raise
        return _field_page(
            request,
            session,
            field_id=parsed,
            table=CUSTOMISABLE[0],
            values={key: value for key, value in posted.items() if key not in ("name", "table")},
            failure=_refusal(session.language, error),
            status_code=status_for(error),
            row_version=version,
        )
    return redirect(f"{FIELDS}?{urlencode({'table': field.table_name, 'notice': 'saved'})}")


@router.get(FIELDS + "/{field_id}/delete", name="custom_field_confirm_delete")
@_gate
def confirm_delete_custom_field(request: Request, session: WebSessionDep, field_id: str) -> Response:
    """Ask before removing a field, saying how many records hold a value of it."""
    return _delete_page(request, session, _field_id(field_id))


def _delete_page(
    request: Request,
    session: WebSession,
    field_id: uuid.UUID,
    *,
    failure: Refusal | None = None,
    status_code: int = 200,
) -> Response:
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        field = service.get_field(field_id, uow=uow, actor=session.actor)
        held = service.count_values(uow.session, field)
        label, name, table, version = field.label(language), field.name, field.table_name, field.row_version
    return render(
        request,
        session,
        "admin/custom_field_delete.html",
        status_code=status_code,
        field_id=field_id,
        field_label=label,
        field_name=name,
        table=table,
        table_label=gettext(language, TABLE_LABELS[table]),
        held=held,
        row_version=version,
        refusal=failure,
    )


@router.post(FIELDS + "/{field_id}/delete", name="custom_field_delete")
@_gate
def delete_custom_field(request: Request, session: WebSessionDep, form: FormDep, field_id: str) -> Response:
    """Remove a field and its values (``confirm`` posted once the page said how many)."""
    parsed = _field_id(field_id)
    confirm = form.get("confirm") in ("1", "true", "on")
    version = parse_version(form.get("row_version"))
    with database_of(request).unit_of_work(read_only=True) as uow:
        table = service.get_field(parsed, uow=uow, actor=session.actor).table_name
    try:
        committed(
            request,
            lambda uow: service.delete_field(
                parsed, uow=uow, actor=session.actor, confirm=confirm, expected_version=version
            ),
        )
    except LeadflowError as error:
        if isinstance(error, Forbidden | NotFound):
            raise
        return _delete_page(
            request, session, parsed, failure=_refusal(session.language, error), status_code=status_for(error)
        )
    return redirect(f"{FIELDS}?{urlencode({'table': table, 'notice': 'deleted'})}")


# ---------------------------------------------------------------------------------------------- qualify mappings


def _lead_sources(language: str, lead_fields: list[CustomField]) -> list[tuple[str, str]]:
    """What a mapping may read from the lead: its custom fields, then its own columns."""
    custom = [(f"custom.{field.name}", f"{field.label(language)} (custom.{field.name})") for field in lead_fields]
    columns = sorted(
        (
            (column.key, gettext(language, COLUMN_LABELS[column.key]) if column.key in COLUMN_LABELS else column.key)
            for column in inspect(mapped_class("leads")).columns
            if column.key not in _UNMAPPABLE
        ),
        key=lambda item: item[1].casefold(),
    )
    return custom + columns


def _mappings_page(
    request: Request,
    session: WebSession,
    *,
    values: dict[str, str] | None = None,
    failure: Refusal | None = None,
    status_code: int = 200,
) -> Response:
    language = session.language
    with database_of(request).unit_of_work(read_only=True) as uow:
        every = service.list_fields(uow=uow, actor=session.actor)
        labels = {(field.table_name, field.name): field.label(language) for field in every}
        sources = dict(_lead_sources(language, [field for field in every if field.table_name == "leads"]))
        targets = [
            (
                gettext(language, TABLE_LABELS[table]),
                [(f"{table}:{field.name}", field.label(language)) for field in every if field.table_name == table],
            )
            for table in ("accounts", "contacts", "opportunities")
        ]
        rows = [
            {
                "id": mapping.id,
                "table": gettext(language, TABLE_LABELS.get(mapping.target_table, mapping.target_table)),
                "target": labels.get((mapping.target_table, mapping.target_field), mapping.target_field),
                "target_name": mapping.target_field,
                "source": sources.get(mapping.source_field, mapping.source_field),
            }
            for mapping in service.list_mappings(uow=uow, actor=session.actor)
        ]
    return render(
        request,
        session,
        "admin/custom_field_mappings.html",
        status_code=status_code,
        mappings=rows,
        targets=[(group, items) for group, items in targets if items],
        sources=list(sources.items()),
        values=values or {"target": "", "source_field": ""},
        refusal=failure,
        field_errors=failure.fields if failure else {},
        notice=_notice(language, request),
    )


@router.get(MAPPINGS, name="custom_field_mappings")
@_gate
def custom_field_mappings(request: Request, session: WebSessionDep) -> Response:
    """The qualify mappings: which lead field fills which custom field of the records qualify creates."""
    return _mappings_page(request, session)


@router.post(MAPPINGS, name="custom_field_mapping_save")
@_gate
def save_custom_field_mapping(request: Request, session: WebSessionDep, form: FormDep) -> Response:
    """Map a lead field onto a custom field (one source per target)."""
    target = form.get("target")
    source = form.get("source_field")
    posted = {
        "target": target if isinstance(target, str) else "",
        "source_field": source if isinstance(source, str) else "",
    }
    target_table, _, target_field = posted["target"].partition(":")
    try:
        data = parse(
            MappingIn,
            {"target_table": target_table, "target_field": target_field, "source_field": posted["source_field"]},
        )
        committed(request, lambda uow: service.set_mapping(data, uow=uow, actor=session.actor))
    except LeadflowError as error:
        if isinstance(error, Forbidden):
            raise
        failure = _refusal(session.language, error)
        for name in ("target_table", "target_field"):
            if name in failure.fields:
                failure.fields.setdefault("target", failure.fields[name])
        return _mappings_page(request, session, values=posted, failure=failure, status_code=status_for(error))
    return redirect(f"{MAPPINGS}?notice=mapped")


@router.post(MAPPINGS + "/{mapping_id}/delete", name="custom_field_mapping_delete")
@_gate
def delete_custom_field_mapping(request: Request, session: WebSessionDep, mapping_id: str) -> Response:
    """Stop qualify from filling a custom field."""
    parsed = id_in_path(mapping_id, record="custom_field_mapping")
    committed(request, lambda uow: service.delete_mapping(parsed, uow=uow, actor=session.actor))
    return redirect(f"{MAPPINGS}?notice=unmapped")
