"""The private calendar feed on the user's own page: make its address (shown once: only its digest is
kept), make a new one (the old one stops working), or revoke it. ``leadflow.activities.calendar``
keeps the feeds; the API serves ``/calendar/<token>.ics`` to calendar apps."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from leadflow.activities import calendar
from leadflow.core.config import public_url
from leadflow.web.areas.admin import ME, _me_page, signed_in_page
from leadflow.web.pages import WebSessionDep, committed, redirect

router = APIRouter()

CALENDAR_FEED = ME + "/calendar-feed"


def feed_address(request: Request, token: str) -> str:
    """The address calendar apps subscribe to: the site's public address and the feed's secret."""
    return f"{public_url(request.app.state.settings)}/calendar/{token}.ics"


@router.post(CALENDAR_FEED)
@signed_in_page
def issue_calendar_feed(request: Request, session: WebSessionDep) -> Response:
    """Make the user's calendar address (a new one replaces the old) and show it this once."""
    token = committed(request, lambda uow: calendar.issue_feed(uow=uow, actor=session.actor))
    return _me_page(request, session, calendar_url=feed_address(request, token))


@router.post(CALENDAR_FEED + "/revoke")
@signed_in_page
def revoke_calendar_feed(request: Request, session: WebSessionDep) -> Response:
    """Revoke the user's calendar address: calendars subscribed to it stop updating."""
    committed(request, lambda uow: calendar.revoke_feed(uow=uow, actor=session.actor))
    return redirect(f"{ME}?calendar_revoked=true#calendar-feed")
