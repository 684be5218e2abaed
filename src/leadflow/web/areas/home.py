"""Where a signed-in user lands: the dashboard, under who is signed in and with which roles."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leadflow.web.areas.dashboard import dashboard_page
from leadflow.web.labels import role_name
from leadflow.web.pages import WebSessionDep

router = APIRouter()


@router.get("/")
def home(request: Request, session: WebSessionDep) -> Response:
    """The dashboard with a welcome line; anyone not signed in is sent to the sign-in form."""
    roles = [role_name(session.language, name) for name in session.actor.role_names]
    return dashboard_page(request, session, welcome={"roles": roles})
