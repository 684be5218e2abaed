"""`leadflow fields list|add|change|remove|order|map|unmap|mappings` and `leadflow views list|show`:
custom fields and saved views from the command line (the same service calls as the API and the web app)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer
from rich.table import Table

from leadflow.cli.common import JsonFlag, console, emit, read, run, text
from leadflow.core.errors import NotFound
from leadflow.core.schemas import parse
from leadflow.core.uow import UnitOfWork
from leadflow.fields import saved_views, service
from leadflow.fields.models import CustomField, FieldKind
from leadflow.fields.saved_views import ViewOut
from leadflow.fields.schemas import FieldCreate, FieldOut, FieldUpdate, MappingIn, MappingOut
from leadflow.security.actor import Actor

fields_app = typer.Typer(
    help="Add, change, order and remove custom fields; map them for qualify.", no_args_is_help=True
)
views_app = typer.Typer(help="List the saved views of a table.", no_args_is_help=True)

FieldRef = Annotated[str, typer.Argument(help="TABLE.NAME (e.g. leads.region) or the field's id.")]
OptionFlag = Annotated[
    list[str] | None,
    typer.Option("--option", help="A choice's option as value:English:Español (repeat the flag for each)."),
]


def _field(uow: UnitOfWork, actor: Actor, reference: str) -> CustomField:
    table, _, name = reference.partition(".")
    if name:
        field = service.field_named(uow.session, service.check_table(table), name)
        if field is None:
            raise NotFound(f"The {table} table has no custom field named {name!r}.", code="custom_field_not_found")
        return field
    try:
        return service.get_field(uuid.UUID(reference), uow=uow, actor=actor)
    except ValueError:
        raise NotFound(
            f"Name the field as TABLE.NAME (e.g. leads.region), not {reference!r}.", code="custom_field_not_found"
        ) from None


def _options(given: list[str] | None) -> list[dict[str, str]] | None:
    if not given:
        return None
    options = []
    for item in given:
        value, _, labels = item.partition(":")
        english, _, spanish = labels.partition(":")
        options.append({"value": value, "label_en": english or value, "label_es": spanish or english or value})
    return options


def _print_fields(fields: list[CustomField], as_json: bool) -> None:
    document = [FieldOut.model_validate(field, from_attributes=True).model_dump(mode="json") for field in fields]

    def render() -> None:
        table = Table(title="Custom fields")
        for column in ("table", "name", "label (en / es)", "kind", "required", "searchable", "hidden"):
            table.add_column(column)
        for field in fields:
            table.add_row(
                field.table_name,
                field.name,
                f"{field.label_en} / {field.label_es}",
                field.kind.value + (f" ({', '.join(field.option_values())})" if field.options else ""),
                "yes" if field.required else "",
                "yes" if field.searchable else "",
                "yes" if field.hidden else "",
            )
        console.print(table)

    emit(as_json, document, render)


@fields_app.command("list")
def fields_list(
    ctx: typer.Context,
    table: Annotated[
        str | None, typer.Option(help="leads, accounts, contacts or opportunities (default: all).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List custom fields in their order."""
    fields = read(ctx, lambda uow, actor: service.list_fields(table, uow=uow, actor=actor))
    _print_fields(fields, as_json)


@fields_app.command("add")
def fields_add(
    ctx: typer.Context,
    table: Annotated[str, typer.Argument(help="leads, accounts, contacts or opportunities.")],
    name: Annotated[str, typer.Argument(help="The field's name, e.g. region (lower case, digits, underscores).")],
    kind: Annotated[FieldKind, typer.Option(help="What it holds.")],
    label_en: Annotated[str, typer.Option(help="Its label in English.")],
    label_es: Annotated[str, typer.Option(help="Its label in Spanish.")],
    option: OptionFlag = None,
    required: Annotated[bool, typer.Option("--required")] = False,
    searchable: Annotated[bool, typer.Option("--searchable", help="Index it for filtering and sorting.")] = False,
    hidden: Annotated[bool, typer.Option("--hidden")] = False,
    max_length: Annotated[int | None, typer.Option(help="Text: the most characters.")] = None,
    precision: Annotated[int | None, typer.Option(help="Decimal or money: decimals (0-4).")] = None,
    lookup_table: Annotated[str | None, typer.Option(help="Lookup: the table it points to.")] = None,
    default: Annotated[str | None, typer.Option(help="The value new records get.")] = None,
) -> None:
    """Add a custom field (administrators)."""
    data = {
        "table": table, "name": name, "kind": kind.value, "label_en": label_en, "label_es": label_es,
        "options": _options(option), "required": required, "searchable": searchable, "hidden": hidden,
        "max_length": max_length, "precision": precision, "lookup_table": lookup_table, "default": default,
    }  # fmt: skip
    field = run(ctx, lambda uow, actor: service.create_field(parse(FieldCreate, data), uow=uow, actor=actor))
    console.print(f"Added the custom field [bold]{field.table_name}.{field.name}[/] ({field.kind.value}).")


@fields_app.command("change")
def fields_change(
    ctx: typer.Context,
    reference: FieldRef,
    label_en: Annotated[str | None, typer.Option()] = None,
    label_es: Annotated[str | None, typer.Option()] = None,
    kind: Annotated[FieldKind | None, typer.Option(help="A new kind (refused while a value does not convert).")] = None,
    option: OptionFlag = None,
    required: Annotated[bool | None, typer.Option("--required/--optional")] = None,
    searchable: Annotated[bool | None, typer.Option("--searchable/--not-searchable")] = None,
    hidden: Annotated[bool | None, typer.Option("--hidden/--shown")] = None,
    max_length: Annotated[int | None, typer.Option()] = None,
    precision: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Relabel, retype, hide or index a custom field (administrators)."""
    given: dict[str, Any] = {
        "label_en": label_en, "label_es": label_es, "kind": kind.value if kind else None, "options": _options(option),
        "required": required, "searchable": searchable, "hidden": hidden, "max_length": max_length,
        "precision": precision,
    }  # fmt: skip
    changes = parse(FieldUpdate, {key: value for key, value in given.items() if value is not None})

    def action(uow: UnitOfWork, actor: Actor) -> CustomField:
        return service.update_field(_field(uow, actor, reference).id, changes, uow=uow, actor=actor)

    field = run(ctx, action)
    console.print(f"Changed the custom field [bold]{field.table_name}.{field.name}[/].")


@fields_app.command("remove")
def fields_remove(
    ctx: typer.Context,
    reference: FieldRef,
    confirm: Annotated[bool, typer.Option("--confirm", help="Remove it even though records hold values.")] = False,
) -> None:
    """Remove a custom field and its values (the audit log keeps them)."""

    def action(uow: UnitOfWork, actor: Actor) -> int:
        return service.delete_field(_field(uow, actor, reference).id, uow=uow, actor=actor, confirm=confirm)

    removed = run(ctx, action)
    console.print(f"Removed the custom field {reference} and {removed} value(s).")


@fields_app.command("order")
def fields_order(
    ctx: typer.Context,
    table: Annotated[str, typer.Argument()],
    names: Annotated[list[str], typer.Argument(help="Every field of the table, in the new order.")],
) -> None:
    """Put a table's custom fields in a new order."""
    run(ctx, lambda uow, actor: service.reorder_fields(table, names, uow=uow, actor=actor))
    console.print(f"Ordered the custom fields of {table}: {', '.join(names)}.")


@fields_app.command("map")
def fields_map(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="TABLE.NAME qualify fills: accounts|contacts|opportunities.<field>.")],
    source: Annotated[str, typer.Argument(help="The lead's field: a column (e.g. job_title) or custom.<name>.")],
) -> None:
    """Have qualify fill a custom field of the records it creates from a lead field."""
    table, _, name = target.partition(".")
    data = {"target_table": table, "target_field": name, "source_field": source}
    run(ctx, lambda uow, actor: service.set_mapping(parse(MappingIn, data), uow=uow, actor=actor))
    console.print(f"Qualify fills {target} from the lead's {source}.")


@fields_app.command("mappings")
def fields_mappings(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List what qualify copies into custom fields."""
    mappings = read(ctx, lambda uow, actor: service.list_mappings(uow=uow, actor=actor))
    document = [
        MappingOut.model_validate(mapping, from_attributes=True).model_dump(mode="json") for mapping in mappings
    ]

    def render() -> None:
        table = Table(title="Qualify mappings of custom fields")
        for column in ("id", "lead field", "fills"):
            table.add_column(column)
        for mapping in mappings:
            table.add_row(str(mapping.id), mapping.source_field, f"{mapping.target_table}.{mapping.target_field}")
        console.print(table)

    emit(as_json, document, render)


@fields_app.command("unmap")
def fields_unmap(ctx: typer.Context, mapping_id: Annotated[uuid.UUID, typer.Argument()]) -> None:
    """Stop qualify from filling a custom field."""
    run(ctx, lambda uow, actor: service.delete_mapping(mapping_id, uow=uow, actor=actor))
    console.print("Removed the mapping.")


@views_app.command("list")
def views_list(
    ctx: typer.Context,
    table: Annotated[str, typer.Argument(help="leads, accounts, contacts or opportunities.")],
    as_json: JsonFlag = False,
) -> None:
    """The saved views of a table you may open."""

    def action(uow: UnitOfWork, actor: Actor) -> tuple[list[Any], uuid.UUID | None]:
        return (
            saved_views.list_views(table, uow=uow, actor=actor),
            saved_views.default_view_id(table, uow=uow, actor=actor),
        )

    views, default = read(ctx, action)
    document = []
    for view in views:
        out = ViewOut.model_validate(view, from_attributes=True)
        out.is_default = view.id == default
        document.append(out.model_dump(mode="json"))

    def render() -> None:
        listing = Table(title=f"Saved views of {table}")
        for column in ("id", "name", "kind", "filters", "sort", "group by"):
            listing.add_column(column)
        for view in views:
            kind = "system" if view.is_system else ("team" if view.team_id else "mine")
            filters = "; ".join(f"{c['field']} {c['op']} {c.get('value')}" for c in view.conditions or [])
            mark = " (default)" if view.id == default else ""
            listing.add_row(str(view.id), view.name + mark, kind, filters, view.sort, text(view.group_by))
        console.print(listing)

    emit(as_json, document, render)


def register(app: typer.Typer) -> None:
    """Add `fields` and `views` to the command line."""
    app.add_typer(fields_app, name="fields")
    app.add_typer(views_app, name="views")
