"""Signing deliveries and checking a signature, as a receiver does.

Each delivery carries ``Leadflow-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>``, the HMAC of
``f"{t}.{body}"`` under the subscription's secret: the timestamp is signed with the body, so that a
receiver that refuses old timestamps refuses a replayed delivery.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Leadflow-Signature"
EVENT_HEADER = "Leadflow-Event"
DELIVERY_HEADER = "Leadflow-Delivery"
TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``f"{timestamp}.{body}"`` under ``secret``."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The value of the ``Leadflow-Signature`` header for ``body``, signed now (or at ``timestamp``)."""
    moment = int(time.time()) if timestamp is None else timestamp
    return f"t={moment},v1={signature(secret, moment, body)}"


def verify_signature(
    secret: str, header: str, body: bytes, tolerance: int = TOLERANCE_SECONDS, *, now: float | None = None
) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` and its timestamp is within ``tolerance``
    seconds of now (several ``v1=`` values are accepted, for a receiver rolling its secret)."""
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)
