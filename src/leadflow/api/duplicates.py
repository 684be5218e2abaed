"""Duplicate detection endpoints: rules (§9), publishing, ad-hoc checks and the detection settings."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from pydantic import field_validator

from leadflow.api.deps import (
    CurrentActor,
    DatabaseDep,
    ExpectedVersion,
    QueueDep,
    ReadUowDep,
    UowDep,
)
from leadflow.core.schemas import InputModel, refuse_unstorable
from leadflow.duplicates import rules as rule_service
from leadflow.duplicates.detection import check_record
from leadflow.duplicates.models import DetectionTable
from leadflow.tasks import admin as admin_tasks

router = APIRouter(tags=["duplicate detection"])


def _rule_response(rule: Any, response: Response) -> dict[str, Any]:
    response.headers["ETag"] = rule.etag
    return rule_service.rule_out(rule)


@router.get("/duplicate-rules")
def list_rules(
    uow: ReadUowDep, actor: CurrentActor, base_table: Annotated[DetectionTable | None, Query()] = None
) -> list[dict[str, Any]]:
    """Every duplicate detection rule, optionally of one base table."""
    return [
        rule_service.rule_out(rule) for rule in rule_service.read_rules(uow=uow, actor=actor, base_table=base_table)
    ]


@router.post("/duplicate-rules", status_code=status.HTTP_201_CREATED)
def create_rule(data: rule_service.RuleCreate, uow: UowDep, actor: CurrentActor, response: Response) -> dict[str, Any]:
    """Create an unpublished rule with its conditions."""
    rule = rule_service.create_rule(data, uow=uow, actor=actor)
    uow.commit()
    response.headers["Location"] = f"/api/v1/duplicate-rules/{rule.id}"
    return _rule_response(rule, response)


@router.get("/duplicate-rules/{rule_id}")
def read_rule(rule_id: uuid.UUID, uow: ReadUowDep, actor: CurrentActor, response: Response) -> dict[str, Any]:
    """One rule, with its publication progress."""
    return _rule_response(rule_service.read_rule(rule_id, uow=uow, actor=actor), response)


@router.patch("/duplicate-rules/{rule_id}")
def update_rule(
    rule_id: uuid.UUID,
    changes: rule_service.RuleUpdate,
    uow: UowDep,
    actor: CurrentActor,
    version: ExpectedVersion,
    response: Response,
) -> dict[str, Any]:
    """Change an unpublished rule (name, options, conditions)."""
    rule = rule_service.update_rule(rule_id, changes, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return _rule_response(rule, response)


@router.delete("/duplicate-rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_rule(rule_id: uuid.UUID, uow: UowDep, actor: CurrentActor, version: ExpectedVersion) -> Response:
    """Delete an unpublished rule."""
    rule_service.delete_rule(rule_id, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/duplicate-rules/{rule_id}/publish", status_code=status.HTTP_202_ACCEPTED)
def publish_rule(
    rule_id: uuid.UUID, database: DatabaseDep, queue: QueueDep, actor: CurrentActor, response: Response
) -> dict[str, Any]:
    """Start publishing: the rule is Publishing at once and Published when every record is coded.

    Poll ``GET /duplicate-rules/{id}`` for ``publish_progress`` and the state.
    """
    rule, job = admin_tasks.start_publish(rule_id, database=database, actor=actor)
    queue.enqueue(job.id)
    response.headers["Location"] = f"/api/v1/duplicate-rules/{rule_id}"
    response.headers["Link"] = f'</api/v1/jobs/{job.id}>; rel="job"'
    return _rule_response(rule, response)


@router.post("/duplicate-rules/{rule_id}/unpublish")
def unpublish_rule(rule_id: uuid.UUID, uow: UowDep, actor: CurrentActor, response: Response) -> dict[str, Any]:
    """Unpublish a rule: checks stop using it and its match codes are dropped."""
    rule = rule_service.unpublish_rule(rule_id, uow=uow, actor=actor)
    uow.commit()
    return _rule_response(rule, response)


class CheckRequest(InputModel):
    table: DetectionTable
    record: dict[str, Any]
    record_id: uuid.UUID | None = None

    @field_validator("record")
    @classmethod
    def _storable_values(cls, record: dict[str, Any]) -> dict[str, Any]:
        refuse_unstorable([*record, *record.values()])
        return record


@router.post("/duplicates/check")
def check_duplicates(data: CheckRequest, uow: ReadUowDep, actor: CurrentActor) -> dict[str, Any]:
    """The records the published rules say duplicate the given field values (nothing is saved).

    ``record_id`` names the record being edited, so that it does not match itself.
    """
    matches = check_record(uow.session, data.table, data.record, actor=actor, record_id=data.record_id)
    return {"matches": [match.as_dict() for match in matches]}
