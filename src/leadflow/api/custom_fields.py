"""Custom fields: their definitions (administrators change them; everyone reads them) and the
qualify mappings that carry a lead's values into the records it creates."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from leadflow.api.deps import CurrentActor, ExpectedVersion, ReadUowDep, UowDep
from leadflow.fields import service
from leadflow.fields.schemas import FieldCreate, FieldOrder, FieldOut, FieldUpdate, MappingIn, MappingOut

router = APIRouter(prefix="/custom-fields", tags=["custom fields"])
mappings_router = APIRouter(prefix="/custom-field-mappings", tags=["custom fields"])


def _render(field: object, response: Response) -> FieldOut:
    out = FieldOut.model_validate(field, from_attributes=True)
    response.headers["ETag"] = f'"{out.row_version}"'
    return out


@router.get("", summary="List custom fields")
def list_fields(
    uow: ReadUowDep,
    actor: CurrentActor,
    table: Annotated[str | None, Query(description="leads, accounts, contacts or opportunities")] = None,
) -> list[FieldOut]:
    """The custom fields of one table (or of every table), in the order forms show them."""
    return [
        FieldOut.model_validate(field, from_attributes=True)
        for field in service.list_fields(table, uow=uow, actor=actor)
    ]


@router.post("", status_code=status.HTTP_201_CREATED, summary="Add a custom field")
def create_field(data: FieldCreate, uow: UowDep, actor: CurrentActor, response: Response) -> FieldOut:
    """Add a field to a table; a searchable one is indexed at once (administrators)."""
    field = service.create_field(data, uow=uow, actor=actor)
    uow.commit()
    response.headers["Location"] = f"/api/v1/custom-fields/{field.id}"
    return _render(field, response)


@router.put("/order", summary="Reorder a table's custom fields")
def reorder_fields(
    table: Annotated[str, Query(description="leads, accounts, contacts or opportunities")],
    order: FieldOrder,
    uow: UowDep,
    actor: CurrentActor,
) -> list[FieldOut]:
    """Put every custom field of the table in the order given."""
    fields = service.reorder_fields(table, order.names, uow=uow, actor=actor)
    uow.commit()
    return [FieldOut.model_validate(field, from_attributes=True) for field in fields]


@router.get("/{field_id}", summary="Read a custom field")
def get_field(field_id: uuid.UUID, uow: ReadUowDep, actor: CurrentActor, response: Response) -> FieldOut:
    return _render(service.get_field(field_id, uow=uow, actor=actor), response)


@router.patch("/{field_id}", summary="Change a custom field")
def update_field(
    field_id: uuid.UUID,
    changes: FieldUpdate,  # type: ignore[valid-type]
    uow: UowDep,
    actor: CurrentActor,
    version: ExpectedVersion,
    response: Response,
) -> FieldOut:
    """Relabel, reorder, hide, index or retype a field; a change the stored values do not fit is a 409."""
    field = service.update_field(field_id, changes, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return _render(field, response)


@router.delete("/{field_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove a custom field")
def delete_field(
    field_id: uuid.UUID,
    uow: UowDep,
    actor: CurrentActor,
    version: ExpectedVersion,
    confirm: Annotated[bool, Query(description="true to remove a field that holds values")] = False,
) -> Response:
    """Remove a field and its values; while records hold values, only with `confirm=true` (the audit log keeps them)."""
    service.delete_field(field_id, uow=uow, actor=actor, confirm=confirm, expected_version=version)
    uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@mappings_router.get("", summary="List the qualify mappings of custom fields")
def list_mappings(uow: ReadUowDep, actor: CurrentActor) -> list[MappingOut]:
    return [
        MappingOut.model_validate(mapping, from_attributes=True)
        for mapping in service.list_mappings(uow=uow, actor=actor)
    ]


@mappings_router.put("", summary="Map a lead field onto a custom field of a record qualify creates")
def set_mapping(data: MappingIn, uow: UowDep, actor: CurrentActor) -> MappingOut:
    mapping = service.set_mapping(data, uow=uow, actor=actor)
    uow.commit()
    return MappingOut.model_validate(mapping, from_attributes=True)


@mappings_router.delete("/{mapping_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove a mapping")
def delete_mapping(mapping_id: uuid.UUID, uow: UowDep, actor: CurrentActor) -> Response:
    service.delete_mapping(mapping_id, uow=uow, actor=actor)
    uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
