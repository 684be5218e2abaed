"""Who a bearer token stands for: shared by the REST API and the Dataverse Web API."""

from __future__ import annotations

from leadflow.core.uow import Database, UnitOfWork
from leadflow.security.actor import Actor
from leadflow.security.authentication import actor_for_secret, note_token_use
from leadflow.security.credentials import AuthenticationFailed
from leadflow.security.models import TokenKind

BEARER_KINDS = (TokenKind.SIGN_IN, TokenKind.PERSONAL)


def actor_for_bearer(secret: str | None, *, database: Database, uow: UnitOfWork | None = None, refusal: str) -> Actor:
    """The user of a bearer token (sign-in or personal), read in ``uow`` when given; 401 without one.

    One query, with the actor from the process's cache while no role or membership changed; the
    token's last use is noted."""
    if not secret:
        raise AuthenticationFailed(refusal)
    if uow is not None:
        authenticated = actor_for_secret(secret, session=uow.session, kinds=BEARER_KINDS)
    else:
        with database.unit_of_work(read_only=True) as reading:
            authenticated = actor_for_secret(secret, session=reading.session, kinds=BEARER_KINDS)
    note_token_use(authenticated, database=database, uow=uow)
    return authenticated.actor
