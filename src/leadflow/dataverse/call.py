"""One Web API request as read once: its address, headers, language, preferences and body.

Shared by the router and by $batch, which makes one for each request it holds."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers, QueryParams

from leadflow.core.uow import Database, UnitOfWork
from leadflow.dataverse.entities import Renderer
from leadflow.dataverse.errors import bad_request
from leadflow.dataverse.query import Prefer, parse_prefer
from leadflow.dataverse.tables import load_custom_attributes
from leadflow.http.bearer import actor_for_bearer
from leadflow.http.language import language_from_header
from leadflow.security.actor import Actor


@dataclass
class Call:
    """One Web API request, read once."""

    method: str
    headers: Headers
    params: QueryParams
    database: Database
    segments: list[str]
    base: str  # the absolute address of the service root, ending in "/"
    language: str
    prefer: Prefer
    body: Any = None
    raw_body: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    @property
    def suppress_duplicates(self) -> bool:
        """Dataverse detects duplicates only when asked: ``MSCRM.SuppressDuplicateDetection: false``."""
        return (self.header("MSCRM.SuppressDuplicateDetection") or "true").strip().lower() != "false"

    def actor(self, uow: UnitOfWork) -> Actor:
        authorization = self.header("authorization") or ""
        scheme, _, secret = authorization.partition(" ")
        load_custom_attributes(uow.session)  # the custom fields as they are now, for this request
        return actor_for_bearer(
            secret.strip() if scheme.lower() == "bearer" else None,
            database=self.database,
            uow=uow,
            refusal="Send Authorization: Bearer <token> with a leadflow API token (leadflow tokens create).",
        )

    def renderer(self, uow: UnitOfWork, actor: Actor) -> Renderer:
        return Renderer(uow.session, actor, prefer=self.prefer, language=self.language)

    def context(self, fragment: str) -> str:
        return f"{self.base}$metadata#{fragment}"


def make_call(
    *, method: str, headers: Headers, params: QueryParams, database: Database, path: str, base: str, raw_body: bytes
) -> Call:
    """A request read: its segments, language, preferences and JSON body (a $batch keeps its bytes)."""
    segments = [segment for segment in path.split("/") if segment]
    body = None
    is_batch = segments[:1] == ["$batch"]
    if raw_body.strip() and not is_batch:
        try:
            body = json.loads(raw_body)
        except (ValueError, UnicodeDecodeError):
            raise bad_request("The request body is not valid JSON.") from None
    return Call(
        method=method,
        headers=headers,
        params=params,
        database=database,
        segments=segments,
        base=base,
        language=language_from_header(headers.get("accept-language")),
        prefer=parse_prefer(headers.getlist("prefer")),
        body=body,
        raw_body=raw_body if is_batch else b"",
    )
