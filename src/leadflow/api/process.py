"""Process flow shapes and the opportunity stage endpoints (§7)."""

from __future__ import annotations

import dataclasses
import uuid

from fastapi import APIRouter
from pydantic import BaseModel

from leadflow.api.deps import CurrentActor, ReadUowDep, UowDep
from leadflow.process.flow import ProcessState, move_stage, opportunity_process


class StepOut(BaseModel):
    name: str
    column: str
    complete: bool


class StageOut(BaseModel):
    name: str
    table: str
    record_id: uuid.UUID | None
    status: str
    steps: list[StepOut]


class ProcessOut(BaseModel):
    process: str
    active_stage: str
    lead_id: uuid.UUID | None
    opportunity_id: uuid.UUID | None
    stages: list[StageOut]


def process_out(state: ProcessState) -> ProcessOut:
    return ProcessOut.model_validate(dataclasses.asdict(state))


router = APIRouter(prefix="/opportunities", tags=["opportunities"])


@router.get("/{opportunity_id}/process")
def get_opportunity_process(opportunity_id: uuid.UUID, uow: ReadUowDep, actor: CurrentActor) -> ProcessOut:
    """The Lead to Opportunity Sales Process as seen from this opportunity."""
    return process_out(opportunity_process(opportunity_id, uow=uow, actor=actor))


@router.post("/{opportunity_id}/process/next-stage")
def next_stage(opportunity_id: uuid.UUID, uow: UowDep, actor: CurrentActor) -> ProcessOut:
    """Move the opportunity's flow to the next stage (Develop → Propose → Close)."""
    state = move_stage(opportunity_id, forward=True, uow=uow, actor=actor)
    uow.commit()
    return process_out(state)


@router.post("/{opportunity_id}/process/previous-stage")
def previous_stage(opportunity_id: uuid.UUID, uow: UowDep, actor: CurrentActor) -> ProcessOut:
    """Move the opportunity's flow back one stage (never back to Qualify)."""
    state = move_stage(opportunity_id, forward=False, uow=uow, actor=actor)
    uow.commit()
    return process_out(state)
