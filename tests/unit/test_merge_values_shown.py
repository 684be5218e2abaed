"""The merge pages show a moment on the reader's clock, like every other page."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from leadflow.web.areas.admin_duplicates import _shown


def test_a_moment_is_shown_in_the_readers_time_zone() -> None:
    moment = datetime(2026, 7, 1, 22, 30, tzinfo=UTC)
    assert _shown("en", ZoneInfo("Europe/Madrid"), "x", moment, {}).startswith("2 Jul 2026, 00:30")  # the next day
    assert _shown("en", ZoneInfo("America/New_York"), "x", moment, {}).startswith("1 Jul 2026, 18:30")
    assert _shown("en", UTC, "x", moment, {}).startswith("1 Jul 2026, 22:30")
