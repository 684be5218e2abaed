"""Saved views: the lists people work from (system views, their own, their teams'), and a grouped view's counts."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel

from leadflow.api.deps import CurrentActor, ExpectedVersion, ReadUowDep, UowDep
from leadflow.fields import saved_views as service
from leadflow.fields.models import SavedView
from leadflow.fields.saved_views import ViewCreate, ViewOut, ViewUpdate

router = APIRouter(prefix="/views", tags=["saved views"])


class GroupOut(BaseModel):
    value: Any
    count: int


def _out(view: SavedView, default: uuid.UUID | None, response: Response | None = None) -> ViewOut:
    out = ViewOut.model_validate(view, from_attributes=True)
    out.is_default = view.id == default
    if response is not None:
        response.headers["ETag"] = view.etag
    return out


@router.get("", summary="List saved views")
def list_views(
    uow: ReadUowDep,
    actor: CurrentActor,
    table: Annotated[str, Query(description="leads, accounts, contacts or opportunities")],
) -> list[ViewOut]:
    """The views of a table you may open: system views, yours and your teams'; `is_default` marks the one your list opens with."""
    default = service.default_view_id(table, uow=uow, actor=actor)
    return [_out(view, default) for view in service.list_views(table, uow=uow, actor=actor)]


@router.post("", status_code=status.HTTP_201_CREATED, summary="Save a view")
def create_view(data: ViewCreate, uow: UowDep, actor: CurrentActor, response: Response) -> ViewOut:
    """Save a view of your own (shared with one of your teams with `team_id`), or a system view (administrators, `system: true`)."""
    view = service.create_view(data, uow=uow, actor=actor)
    uow.commit()
    response.headers["Location"] = f"/api/v1/views/{view.id}"
    return _out(view, None, response)


@router.get("/{view_id}", summary="Read a saved view")
def get_view(view_id: uuid.UUID, uow: ReadUowDep, actor: CurrentActor, response: Response) -> ViewOut:
    view = service.get_view(view_id, uow=uow, actor=actor)
    return _out(view, service.default_view_id(view.table_name, uow=uow, actor=actor), response)


@router.patch("/{view_id}", summary="Change a saved view")
def update_view(
    view_id: uuid.UUID,
    changes: ViewUpdate,  # type: ignore[valid-type]
    uow: UowDep,
    actor: CurrentActor,
    version: ExpectedVersion,
    response: Response,
) -> ViewOut:
    """Change your view, or (administrators) a system view."""
    view = service.update_view(view_id, changes, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return _out(view, service.default_view_id(view.table_name, uow=uow, actor=actor), response)


@router.delete("/{view_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a saved view")
def delete_view(view_id: uuid.UUID, uow: UowDep, actor: CurrentActor) -> Response:
    service.delete_view(view_id, uow=uow, actor=actor)
    uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{view_id}/default", summary="Open this table's list with this view")
def set_default(view_id: uuid.UUID, uow: UowDep, actor: CurrentActor) -> ViewOut:
    view = service.set_default(view_id, uow=uow, actor=actor)
    uow.commit()
    return _out(view, view.id)


@router.get("/{view_id}/groups", summary="Count a grouped view's records by group")
def groups(view_id: uuid.UUID, uow: ReadUowDep, actor: CurrentActor) -> list[GroupOut]:
    """How many records you may read fall in each group of the view (its filters applied), in group order."""
    view = service.get_view(view_id, uow=uow, actor=actor)
    return [GroupOut(value=value, count=count) for value, count in service.group_counts(view, uow=uow, actor=actor)]
