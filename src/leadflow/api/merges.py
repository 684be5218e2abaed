"""Merge and unmerge endpoints (§9)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from pydantic import Field, StringConstraints

from leadflow.api.deps import CurrentActor, ReadUowDep, UowDep
from leadflow.api.paging import Cursor, Limit, PageOut, page_out
from leadflow.core.schemas import InputModel
from leadflow.duplicates import merge as merge_service

router = APIRouter(tags=["duplicate detection"])


class MergeRequest(InputModel):
    """Which two records to merge and, field by field, whose value survives."""

    table: Annotated[str, StringConstraints(min_length=1, max_length=40)] = Field(
        description="accounts, contacts or leads."
    )
    master_id: uuid.UUID = Field(description="The record that stays.")
    subordinate_id: uuid.UUID = Field(description="The record merged into the master and deactivated.")
    fields: Annotated[dict[str, str], Field(max_length=100)] = Field(
        default_factory=dict,
        description='{column: "master" | "subordinate"}; by default the master\'s value unless it is blank.',
    )
    force_parenting: bool = Field(
        default=False, description="Merge even when the records belong to different parent accounts or contacts."
    )


def _merge_arguments(data: MergeRequest) -> dict[str, Any]:
    return {
        "table": data.table,
        "master_id": data.master_id,
        "subordinate_id": data.subordinate_id,
        "fields": data.fields,
        "force_parenting": data.force_parenting,
    }


@router.post("/merges", status_code=status.HTTP_201_CREATED)
def create_merge(data: MergeRequest, uow: UowDep, actor: CurrentActor, response: Response) -> dict[str, Any]:
    """Merge the subordinate into the master: its children move, it is deactivated; undo with the returned link."""
    journal = merge_service.merge_records(**_merge_arguments(data), uow=uow, actor=actor)
    uow.commit()
    response.headers["Location"] = f"/api/v1/merges/{journal.id}"
    return merge_service.journal_out(journal)


@router.post("/merges/preview")
def preview_merge(data: MergeRequest, uow: ReadUowDep, actor: CurrentActor) -> dict[str, Any]:
    """The master's values after the merge and the children that would move; nothing is saved."""
    return merge_service.preview_merge(**_merge_arguments(data), uow=uow, actor=actor).as_dict()


@router.get("/merges")
def list_merges(
    uow: ReadUowDep,
    actor: CurrentActor,
    record_id: Annotated[
        uuid.UUID | None, Query(description="Only merges where this record was master or subordinate.")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> PageOut[dict[str, Any]]:
    """The merges you may see, newest first."""
    page = merge_service.list_merges(record_id=record_id, limit=limit, cursor=cursor, uow=uow, actor=actor)
    return PageOut[dict[str, Any]].model_validate(page_out(page, merge_service.journal_out))


@router.get("/merges/{merge_id}")
def read_merge(merge_id: uuid.UUID, uow: ReadUowDep, actor: CurrentActor) -> dict[str, Any]:
    """One merge: the records, the choices made, what moved, and whether it was undone."""
    return merge_service.journal_out(merge_service.get_merge(merge_id, uow=uow, actor=actor))


@router.post("/merges/{merge_id}/undo")
def undo_merge(merge_id: uuid.UUID, uow: UowDep, actor: CurrentActor) -> dict[str, Any]:
    """Put both records and every moved child back exactly as they were; refused if any changed since."""
    journal = merge_service.undo_merge(merge_id, uow=uow, actor=actor)
    uow.commit()
    return merge_service.journal_out(journal)
