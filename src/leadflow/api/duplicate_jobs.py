"""Find-all-duplicates job endpoints (§9)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["duplicate detection"])
