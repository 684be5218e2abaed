"""The "Lead to Opportunity Sales Process" business process flow (§7), defined as data."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from leadflow.core.errors import InvalidState
from leadflow.core.uow import UnitOfWork
from leadflow.leads.models import Lead, LeadState
from leadflow.opportunities.models import Opportunity
from leadflow.security.access import get_accessible
from leadflow.security.actor import Actor
from leadflow.security.audit import record_action
from leadflow.security.privileges import Privilege


@dataclass(frozen=True)
class StepDefinition:
    """A step and the column whose value completes it."""

    name: str
    column: str


@dataclass(frozen=True)
class StageDefinition:
    name: str
    table: str  # "leads" or "opportunities": where the stage's steps live
    steps: tuple[StepDefinition, ...]


LEAD_TO_OPPORTUNITY_PROCESS: tuple[StageDefinition, ...] = (
    StageDefinition(
        "qualify",
        "leads",
        (
            StepDefinition("existing_contact", "parent_contact_id"),
            StepDefinition("existing_account", "parent_account_id"),
            StepDefinition("purchase_timeframe", "purchase_timeframe"),
            StepDefinition("estimated_budget", "budget_amount"),
            StepDefinition("purchase_process", "purchase_process"),
            StepDefinition("identify_decision_maker", "decision_maker"),
            StepDefinition("capture_summary", "qualification_comments"),
        ),
    ),
    StageDefinition(
        "develop",
        "opportunities",
        (
            StepDefinition("customer_need", "customer_need"),
            StepDefinition("proposed_solution", "proposed_solution"),
            StepDefinition("identify_stakeholders", "stakeholders_identified"),
            StepDefinition("identify_competitors", "competitors_identified"),
        ),
    ),
    StageDefinition(
        "propose",
        "opportunities",
        (
            StepDefinition("identify_sales_team", "sales_team_identified"),
            StepDefinition("develop_proposal", "proposal_developed"),
            StepDefinition("complete_internal_review", "internal_review_completed"),
            StepDefinition("present_proposal", "proposal_presented"),
        ),
    ),
    StageDefinition(
        "close",
        "opportunities",
        (
            StepDefinition("complete_final_proposal", "final_proposal_completed"),
            StepDefinition("present_final_proposal", "final_proposal_presented"),
            StepDefinition("confirm_decision_date", "decision_date"),
            StepDefinition("send_thank_you_note", "thank_you_note_sent"),
            StepDefinition("file_debrief", "debrief_filed"),
        ),
    ),
)
STAGE_NAMES = tuple(stage.name for stage in LEAD_TO_OPPORTUNITY_PROCESS)


@dataclass
class StepState:
    name: str
    column: str
    complete: bool


@dataclass
class StageState:
    name: str
    table: str
    record_id: uuid.UUID | None
    status: str  # "completed", "active" or "pending"
    steps: list[StepState]


@dataclass
class ProcessState:
    """Where a lead's sales process stands: the active stage and each step's completion."""

    process: str
    active_stage: str
    lead_id: uuid.UUID | None
    opportunity_id: uuid.UUID | None
    stages: list[StageState]


def _complete(value: Any) -> bool:
    # A boolean step is done when ticked; any other step when it has a value.
    return value is True if isinstance(value, bool) else value not in (None, "")


def process_state(lead: Lead | None, opportunity: Opportunity | None) -> ProcessState:
    """Compute the flow from the records: Qualify on the lead, later stages on the opportunity."""
    on_opportunity = opportunity is not None and (lead is None or lead.state is LeadState.QUALIFIED)
    active = opportunity.process_stage if on_opportunity and opportunity else "qualify"
    active_index = STAGE_NAMES.index(active)
    stages = []
    for index, definition in enumerate(LEAD_TO_OPPORTUNITY_PROCESS):
        record = lead if definition.table == "leads" else (opportunity if on_opportunity else None)
        stages.append(
            StageState(
                name=definition.name,
                table=definition.table,
                record_id=record.id if record is not None else None,
                status="completed" if index < active_index else "active" if index == active_index else "pending",
                steps=[
                    StepState(step.name, step.column, record is not None and _complete(getattr(record, step.column)))
                    for step in definition.steps
                ],
            )
        )
    return ProcessState(
        process="lead_to_opportunity_sales_process",
        active_stage=active,
        lead_id=lead.id if lead is not None else None,
        opportunity_id=opportunity.id if on_opportunity and opportunity else None,
        stages=stages,
    )


def lead_process(lead_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> ProcessState:
    """The flow seen from a lead: at Qualify until a qualification created an opportunity (§2.4)."""
    lead = get_accessible(uow.session, Lead, lead_id, label="lead", actor=actor, privilege=Privilege.READ)
    opportunity = (
        uow.session.get(Opportunity, lead.qualifying_opportunity_id) if lead.qualifying_opportunity_id else None
    )
    return process_state(lead, opportunity)


def opportunity_process(opportunity_id: uuid.UUID, *, uow: UnitOfWork, actor: Actor) -> ProcessState:
    """The flow seen from an opportunity, with its originating lead's Qualify stage."""
    opportunity = get_accessible(
        uow.session, Opportunity, opportunity_id, label="opportunity", actor=actor, privilege=Privilege.READ
    )
    lead = uow.session.get(Lead, opportunity.originating_lead_id) if opportunity.originating_lead_id else None
    if lead is not None and lead.state is not LeadState.QUALIFIED:
        lead = None  # the lead was reactivated: its new flow is its own
    return process_state(lead, opportunity)


def move_stage(opportunity_id: uuid.UUID, *, forward: bool, uow: UnitOfWork, actor: Actor) -> ProcessState:
    """Move an opportunity's flow one stage on or back; the Qualify stage is left only by qualifying."""
    opportunity = get_accessible(
        uow.session,
        Opportunity,
        opportunity_id,
        label="opportunity",
        actor=actor,
        privilege=Privilege.WRITE,
        for_update=True,
    )
    opportunity.ensure_editable()
    index = STAGE_NAMES.index(opportunity.process_stage) + (1 if forward else -1)
    if index >= len(STAGE_NAMES):
        raise InvalidState("The opportunity is already at the last stage, Close.", code="last_stage")
    if index < 1:
        raise InvalidState(
            "An opportunity cannot go back to Qualify; that stage belongs to the lead.",
            code="qualify_stage_is_on_the_lead",
        )
    previous = opportunity.process_stage
    opportunity.process_stage = STAGE_NAMES[index]
    opportunity.modified_by_id = actor.user_id
    record_action(
        uow.session,
        actor,
        "update",
        table="opportunities",
        record_id=opportunity.id,
        changes={"process_stage": {"old": previous, "new": opportunity.process_stage}},
    )
    uow.flush()
    return opportunity_process(opportunity_id, uow=uow, actor=actor)
