"""Who is on the other end of a request, as far as the server can tell."""

from __future__ import annotations

from starlette.requests import Request


def client_address(request: Request) -> str:
    """Where a request comes from, as sign-in throttling counts it (behind a proxy, what the server
    was told; see uvicorn's ``--forwarded-allow-ips``)."""
    return (request.client.host if request.client else "unknown")[:64]
