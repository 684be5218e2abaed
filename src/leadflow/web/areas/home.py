"""The home page: who is signed in, with the site map to every area."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leadflow.web.pages import WebSessionDep, render

router = APIRouter()


@router.get("/")
def home(request: Request, session: WebSessionDep) -> Response:
    """Who is signed in and their roles; anyone else is sent to the sign-in form."""
    return render(
        request,
        session,
        "home.html",
        email=session.email,
        full_name=session.full_name,
        roles=list(session.actor.role_names),
    )
