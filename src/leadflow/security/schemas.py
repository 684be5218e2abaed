"""Input models of the security use cases, shared by every entry point."""

from __future__ import annotations

from pydantic import Field

from leadflow.core.schemas import InputModel


class UserIn(InputModel):
    email: str
    full_name: str = Field(min_length=1, max_length=160)
    roles: list[str] = Field(min_length=1)
    business_unit: str | None = None
    password: str | None = None
    # None: pages follow the browser's Accept-Language.
    language: str | None = None
