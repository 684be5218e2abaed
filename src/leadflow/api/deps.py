"""Request-scoped dependencies shared by every router."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from leadflow.core.config import Settings
from leadflow.core.errors import StaleVersion
from leadflow.core.uow import Database, UnitOfWork
from leadflow.http.bearer import actor_for_bearer
from leadflow.jobs.queue import JobQueue
from leadflow.security.actor import Actor


def get_database(request: Request) -> Database:
    return request.app.state.database


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_queue(request: Request) -> JobQueue:
    return request.app.state.queue


DatabaseDep = Annotated[Database, Depends(get_database)]
QueueDep = Annotated[JobQueue, Depends(get_queue)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def get_uow(request: Request, database: DatabaseDep) -> Iterator[UnitOfWork]:
    """A write unit of work for the request; the route commits it after the service succeeds."""
    with database.unit_of_work() as uow:
        request.state.unit_of_work = uow  # authentication reads in it too: one session per request
        yield uow


def get_read_uow(request: Request, database: DatabaseDep) -> Iterator[UnitOfWork]:
    """A read-only unit of work."""
    with database.unit_of_work(read_only=True) as uow:
        request.state.unit_of_work = uow
        yield uow


_bearer = HTTPBearer(auto_error=False, description="A token from POST /api/v1/auth/token or `leadflow tokens create`.")


def get_actor(
    request: Request,
    database: DatabaseDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """Who is asking: the user of the bearer token (sign-in or personal token); 401 without one.

    Read in the route's own unit of work when it has one (routes name it before the actor)."""
    bearer = credentials is not None and credentials.scheme.lower() == "bearer"
    return actor_for_bearer(
        credentials.credentials if credentials is not None and bearer else None,
        database=database,
        uow=getattr(request.state, "unit_of_work", None),
        refusal="Sign in first: send `Authorization: Bearer <token>` with a token from POST /api/v1/auth/token.",
    )


UowDep = Annotated[UnitOfWork, Depends(get_uow)]
ReadUowDep = Annotated[UnitOfWork, Depends(get_read_uow)]
CurrentActor = Annotated[Actor, Depends(get_actor)]

# If-Match uses the strong comparison (RFC 9110): a weak validator never matches.
_ETAG = re.compile(r'^\s*"(\d+)"\s*$')


def expected_version(if_match: Annotated[str | None, Header()] = None) -> int | None:
    """The row version an If-Match header names; a header that names none cannot match (412)."""
    if if_match is None or if_match.strip() == "*":
        return None
    match = _ETAG.match(if_match)
    if match is None:
        raise StaleVersion(
            "The If-Match header does not hold an ETag of this record; reload it and send its ETag.",
            code="stale_etag",
        )
    return int(match.group(1))


ExpectedVersion = Annotated[int | None, Depends(expected_version)]

# Duplicate detection runs on every create and update; a client that has shown the user the
# matches and was told to save anyway sends this (§9: detection can be suppressed per request).
SuppressDuplicates = Annotated[
    bool,
    Query(
        alias="suppress_duplicate_detection",
        description="Save even when duplicate detection rules find matches (they are reported as 409 otherwise).",
    ),
]
