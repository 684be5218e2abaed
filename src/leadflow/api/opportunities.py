"""Closing opportunities (win, lose, reopen, close records) and competitors."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from leadflow.api.deps import CurrentActor, ExpectedVersion, ReadUowDep, UowDep
from leadflow.api.paging import Cursor, Limit, PageOut, page_out
from leadflow.opportunities import closing, competitors
from leadflow.opportunities.models import Opportunity
from leadflow.opportunities.schemas import (
    CompetitorCreate,
    CompetitorOut,
    CompetitorUpdate,
    LoseOpportunity,
    OpportunityCloseOut,
    OpportunityOut,
    WinOpportunity,
)

router = APIRouter(tags=["opportunities"])


def _answer(opportunity: Opportunity, response: Response) -> OpportunityOut:
    response.headers["ETag"] = opportunity.etag
    return OpportunityOut.model_validate(opportunity)


@router.post("/opportunities/{opportunity_id}/win")
def win(
    opportunity_id: uuid.UUID,
    data: WinOpportunity,
    uow: UowDep,
    actor: CurrentActor,
    version: ExpectedVersion,
    response: Response,
) -> OpportunityOut:
    """Close an open opportunity as won (actual revenue defaults to the estimated revenue, close date to today)."""
    opportunity = closing.win_opportunity(opportunity_id, data, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return _answer(opportunity, response)


@router.post("/opportunities/{opportunity_id}/lose")
def lose(
    opportunity_id: uuid.UUID,
    data: LoseOpportunity,
    uow: UowDep,
    actor: CurrentActor,
    version: ExpectedVersion,
    response: Response,
) -> OpportunityOut:
    """Close an open opportunity as lost: canceled, or out-sold (with the competitor who won it)."""
    opportunity = closing.lose_opportunity(opportunity_id, data, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return _answer(opportunity, response)


@router.post("/opportunities/{opportunity_id}/reopen")
def reopen(
    opportunity_id: uuid.UUID, uow: UowDep, actor: CurrentActor, version: ExpectedVersion, response: Response
) -> OpportunityOut:
    """Reopen a won or lost opportunity: Open / In Progress again; its close records become canceled."""
    opportunity = closing.reopen_opportunity(opportunity_id, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return _answer(opportunity, response)


@router.get("/opportunities/{opportunity_id}/closes")
def closes(opportunity_id: uuid.UUID, uow: ReadUowDep, actor: CurrentActor) -> list[OpportunityCloseOut]:
    """The opportunity's close records, newest first (canceled ones were undone by a reopen)."""
    return [
        OpportunityCloseOut.model_validate(record)
        for record in closing.opportunity_closes(opportunity_id, uow=uow, actor=actor)
    ]


@router.get("/opportunities/{opportunity_id}/competitors")
def opportunity_competitors(opportunity_id: uuid.UUID, uow: ReadUowDep, actor: CurrentActor) -> list[CompetitorOut]:
    """The competitors named in the opportunity."""
    opportunity = closing.readable_opportunity(opportunity_id, uow=uow, actor=actor)
    return [CompetitorOut.model_validate(item) for item in competitors.competitors_of(uow.session, actor, opportunity)]


@router.put("/opportunities/{opportunity_id}/competitors/{competitor_id}", status_code=status.HTTP_204_NO_CONTENT)
def name_competitor(opportunity_id: uuid.UUID, competitor_id: uuid.UUID, uow: UowDep, actor: CurrentActor) -> Response:
    """Name a competitor in an open opportunity."""
    competitors.link_competitor(opportunity_id, competitor_id, uow=uow, actor=actor)
    uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/opportunities/{opportunity_id}/competitors/{competitor_id}", status_code=status.HTTP_204_NO_CONTENT)
def unname_competitor(
    opportunity_id: uuid.UUID, competitor_id: uuid.UUID, uow: UowDep, actor: CurrentActor
) -> Response:
    """Stop naming a competitor in an open opportunity."""
    competitors.link_competitor(opportunity_id, competitor_id, uow=uow, actor=actor, linked=False)
    uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/competitors", tags=["competitors"])
def list_competitors(
    uow: ReadUowDep,
    actor: CurrentActor,
    limit: Limit = 50,
    cursor: Cursor = None,
    search: Annotated[str | None, Query(max_length=100, description="Part of the name.")] = None,
) -> PageOut[CompetitorOut]:
    """Competitors by name."""
    page = competitors.list_competitors(uow=uow, actor=actor, limit=limit, cursor=cursor, search=search)
    return PageOut[CompetitorOut].model_validate(page_out(page, CompetitorOut.model_validate))


@router.post("/competitors", status_code=status.HTTP_201_CREATED, tags=["competitors"])
def create_competitor(data: CompetitorCreate, uow: UowDep, actor: CurrentActor, response: Response) -> CompetitorOut:
    """Add a competitor."""
    competitor = competitors.create_competitor(data, uow=uow, actor=actor)
    uow.commit()
    response.headers["Location"] = f"/api/v1/competitors/{competitor.id}"
    response.headers["ETag"] = competitor.etag
    return CompetitorOut.model_validate(competitor)


@router.get("/competitors/{competitor_id}", tags=["competitors"])
def read_competitor(
    competitor_id: uuid.UUID, uow: ReadUowDep, actor: CurrentActor, response: Response
) -> CompetitorOut:
    """One competitor."""
    competitor = competitors.read_competitor(competitor_id, uow=uow, actor=actor)
    response.headers["ETag"] = competitor.etag
    return CompetitorOut.model_validate(competitor)


@router.patch("/competitors/{competitor_id}", tags=["competitors"])
def change_competitor(
    competitor_id: uuid.UUID,
    changes: CompetitorUpdate,
    uow: UowDep,
    actor: CurrentActor,
    version: ExpectedVersion,
    response: Response,
) -> CompetitorOut:
    """Change the given fields of a competitor."""
    competitor = competitors.update_competitor(competitor_id, changes, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    response.headers["ETag"] = competitor.etag
    return CompetitorOut.model_validate(competitor)


@router.delete("/competitors/{competitor_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["competitors"])
def delete_competitor(competitor_id: uuid.UUID, uow: UowDep, actor: CurrentActor, version: ExpectedVersion) -> Response:
    """Delete a competitor no opportunity names (409 while one does)."""
    competitors.delete_competitor(competitor_id, uow=uow, actor=actor, expected_version=version)
    uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
