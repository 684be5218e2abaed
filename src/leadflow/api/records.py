"""CRUD endpoints for accounts, contacts and opportunities, built from one description per table.

(No ``from __future__ import annotations`` here: FastAPI reads the body types from the closures.)
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel

from leadflow.api.deps import (
    CurrentActor,
    DatabaseDep,
    ExpectedVersion,
    ReadUowDep,
    SuppressDuplicates,
    UowDep,
)
from leadflow.api.paging import Cursor, Limit, PageOut, page_out
from leadflow.api.transfer import FILE_RESPONSES, export_response, reader_language
from leadflow.core.errors import field_refusal
from leadflow.fields import saved_views
from leadflow.fields.filters import parse_condition
from leadflow.security.access import get_accessible, list_records
from leadflow.security.privileges import Privilege
from leadflow.transfer.models import TransferTable
from leadflow.transfer.service import ExportRequest


@dataclass(frozen=True)
class TableEndpoints:
    """What the CRUD routes of one table call."""

    path: str
    label: str
    model: type[Any]
    create_schema: type[BaseModel]
    update_schema: type[BaseModel]
    out_schema: type[BaseModel]
    create: Callable[..., Any]
    update: Callable[..., Any]
    delete: Callable[..., Any]


def crud_router(table: TableEndpoints) -> APIRouter:
    """List, create, read, update (If-Match) and delete (If-Match) routes for one table."""
    router = APIRouter(prefix=f"/{table.path}", tags=[table.path])
    Out = table.out_schema
    Create = table.create_schema
    Update = table.update_schema

    RecordPage = PageOut[Out]  # type: ignore[valid-type]

    a_record = f"{'an' if table.label[0] in 'aeiou' else 'a'} {table.label}"

    def render(record: Any, response: Response) -> Any:
        response.headers["ETag"] = record.etag
        return Out.model_validate(record)

    @router.get("", summary=f"List {table.path}", responses=FILE_RESPONSES)
    def list_(
        uow: ReadUowDep,
        actor: CurrentActor,
        database: DatabaseDep,
        http: Request,
        limit: Limit = 50,
        cursor: Cursor = None,
        format: Annotated[
            Literal["json", "csv", "xlsx"], Query(description="csv or xlsx: every record as a file")
        ] = "json",
        filter: Annotated[
            list[str],
            Query(max_length=50, description="`field:op:value`, repeatable (see GET /api/v1/leads)"),
        ] = [],  # noqa: B006 - FastAPI reads the default; it is never mutated
        sort: Annotated[str | None, Query(description="a field, `custom.<name>` too; `-` for descending")] = None,
        view_id: Annotated[uuid.UUID | None, Query(description="a saved view of this table")] = None,
    ) -> RecordPage:
        """The records you may read, oldest first; with `format=csv` or `xlsx`, all of them as a download."""
        if format != "json":
            export = ExportRequest(table=TransferTable(table.path))
            language = reader_language(http, actor)
            return export_response(export, format, database=database, actor=actor, language=language)  # type: ignore[return-value]
        conditions = tuple(parse_condition(text) for text in filter)
        if view_id is not None:
            saved = saved_views.get_view(view_id, uow=uow, actor=actor)
            if saved.table_name != table.path:
                raise field_refusal("view_id", "wrong_table", f"This view lists {saved.table_name}, not {table.path}.")
            conditions = saved_views.conditions_of(saved) + conditions
            sort = sort or saved.sort
        if conditions or sort:
            page = saved_views.list_page(
                table.path, uow=uow, actor=actor, conditions=conditions, sort=sort or "created_at", limit=limit,
                cursor=cursor,
            )  # fmt: skip
        else:
            page = list_records(uow.session, table.model, actor=actor, limit=limit, cursor=cursor)
        return RecordPage.model_validate(page_out(page, Out.model_validate))

    @router.post("", status_code=status.HTTP_201_CREATED, summary=f"Create {a_record}")
    def create(
        data: Create,  # type: ignore[valid-type]
        uow: UowDep,
        actor: CurrentActor,
        response: Response,
        suppress: SuppressDuplicates = False,
    ) -> Out:  # type: ignore[valid-type]
        record = table.create(data, uow=uow, actor=actor, suppress_duplicates=suppress)
        uow.commit()
        response.headers["Location"] = f"/api/v1/{table.path}/{record.id}"
        return render(record, response)

    @router.get("/{record_id}", summary=f"Read {a_record}")
    def read(record_id: uuid.UUID, uow: ReadUowDep, actor: CurrentActor, response: Response) -> Out:  # type: ignore[valid-type]
        record = get_accessible(
            uow.session, table.model, record_id, label=table.label, actor=actor, privilege=Privilege.READ
        )
        return render(record, response)

    @router.patch("/{record_id}", summary=f"Change {a_record}")
    def update(
        record_id: uuid.UUID,
        changes: Update,  # type: ignore[valid-type]
        uow: UowDep,
        actor: CurrentActor,
        version: ExpectedVersion,
        response: Response,
        suppress: SuppressDuplicates = False,
    ) -> Out:  # type: ignore[valid-type]
        record = table.update(
            record_id, changes, uow=uow, actor=actor, expected_version=version, suppress_duplicates=suppress
        )
        uow.commit()
        return render(record, response)

    @router.delete("/{record_id}", status_code=status.HTTP_204_NO_CONTENT, summary=f"Delete {a_record}")
    def delete(record_id: uuid.UUID, uow: UowDep, actor: CurrentActor, version: ExpectedVersion) -> Response:
        table.delete(record_id, uow=uow, actor=actor, expected_version=version)
        uow.commit()
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router
