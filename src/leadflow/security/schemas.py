"""Input models of the security use cases, shared by every entry point."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from leadflow.core.formatting import known_time_zone
from leadflow.core.schemas import InputModel


def _known_time_zone(name: str) -> str:
    known = known_time_zone(name)
    if known is None:
        raise PydanticCustomError(
            "unknown_time_zone", "Input should be an IANA time zone name such as Europe/Madrid or America/New_York"
        )
    return known


# An IANA time zone name the system's time zone database holds, spelt as the database spells it.
TimeZoneName = Annotated[str, Field(max_length=64), AfterValidator(_known_time_zone)]


class UserIn(InputModel):
    email: str
    full_name: str = Field(min_length=1, max_length=160)
    roles: list[str] = Field(min_length=1)
    business_unit: str | None = None
    password: str | None = None
    # None: pages follow the browser's Accept-Language.
    language: str | None = None
    # None: times are shown in the organisation's default time zone.
    time_zone: TimeZoneName | None = None


class OwnSettingsChange(InputModel):
    """A change of one's own settings (PATCH): the fields sent change, the others stay."""

    # null: follow the organisation's default time zone.
    time_zone: TimeZoneName | None = None
