"""Time zones without a database: which zone a reader sees times in, and a UTC instant written on the
clock of that zone, across the changes to and from summer time."""

from __future__ import annotations

from datetime import UTC, date, datetime

import jinja2
import pytest

from leadflow.core.errors import ValidationFailed
from leadflow.core.formatting import (
    DEFAULT_TIME_ZONE,
    format_day,
    format_moment,
    known_time_zone,
    local_moment,
    resolve_time_zone,
    time_zone_names,
)
from leadflow.core.schemas import parse
from leadflow.organisation.schemas import RegionalSettings, RegionalSettingsChange
from leadflow.security.schemas import OwnSettingsChange, UserIn
from leadflow.security.service import checked_time_zone
from leadflow.web import i18n

MADRID, NEW_YORK = "Europe/Madrid", "America/New_York"

# ------------------------------------------------------------------------------------ which zone


def test_a_new_organisation_and_a_reader_without_a_zone_read_utc() -> None:
    assert DEFAULT_TIME_ZONE == "UTC"
    assert resolve_time_zone(None, None).key == "UTC"


def test_the_users_own_zone_wins_over_the_organisations() -> None:
    assert resolve_time_zone(NEW_YORK, MADRID).key == NEW_YORK


def test_a_user_without_a_zone_reads_the_organisations() -> None:
    assert resolve_time_zone(None, MADRID).key == MADRID


def test_a_stored_zone_no_longer_known_is_passed_over_not_refused() -> None:
    assert resolve_time_zone("Mars/Olympus_Mons", MADRID).key == MADRID
    assert resolve_time_zone("Mars/Olympus_Mons", "Atlantis/Capital").key == "UTC"


@pytest.mark.parametrize(
    ("typed", "known"),
    [
        ("Europe/Madrid", "Europe/Madrid"),
        ("europe/madrid", "Europe/Madrid"),
        ("  America/New_York ", "America/New_York"),
        ("utc", "UTC"),
        ("America/Argentina/ComodRivadavia", "America/Argentina/ComodRivadavia"),
    ],
)
def test_a_time_zone_is_known_by_its_iana_name_in_any_case(typed: str, known: str) -> None:
    assert known_time_zone(typed) == known


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "Mars/Olympus_Mons",
        "Madrid",
        "../../etc/passwd",
        "/etc/localtime",
        "localtime",
        "posixrules",
        "Europe/Madrid\x00",
        "+01:00",
    ],
)
def test_what_is_no_iana_time_zone_is_not_known(typed: str) -> None:
    assert known_time_zone(typed) is None


def test_the_choices_are_every_iana_zone_sorted_without_the_machines_own() -> None:
    names = time_zone_names()
    assert list(names) == sorted(names)
    assert {MADRID, NEW_YORK, "UTC", "Asia/Kolkata"} <= set(names)
    assert "localtime" not in names and "posixrules" not in names
    assert all(known_time_zone(name) == name for name in names)


# ------------------------------------------------------------------------------------ the clock of the zone

# Spain moves to summer time on 29 March 2026 at 01:00 UTC and back on 25 October at 01:00 UTC;
# New York moves on 8 March 2026 at 07:00 UTC (02:00 EST) and back on 1 November at 06:00 UTC.


@pytest.mark.parametrize(
    ("instant", "madrid", "new_york"),
    [
        (datetime(2026, 1, 15, 12, 0, tzinfo=UTC), "15 Jan 2026, 13:00:00", "15 Jan 2026, 07:00:00"),
        # Between the two changes Madrid is five hours ahead of New York instead of six.
        (datetime(2026, 3, 8, 6, 59, tzinfo=UTC), "8 Mar 2026, 07:59:00", "8 Mar 2026, 01:59:00"),
        (datetime(2026, 3, 8, 7, 0, tzinfo=UTC), "8 Mar 2026, 08:00:00", "8 Mar 2026, 03:00:00"),
        (datetime(2026, 3, 29, 0, 59, tzinfo=UTC), "29 Mar 2026, 01:59:00", "28 Mar 2026, 20:59:00"),
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "29 Mar 2026, 03:00:00", "28 Mar 2026, 21:00:00"),
        (datetime(2026, 7, 1, 12, 0, tzinfo=UTC), "1 Jul 2026, 14:00:00", "1 Jul 2026, 08:00:00"),
        # In autumn the hour from 02:00 to 03:00 comes twice in Madrid.
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "25 Oct 2026, 02:30:00", "24 Oct 2026, 20:30:00"),
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "25 Oct 2026, 02:30:00", "24 Oct 2026, 21:30:00"),
    ],
)
def test_a_utc_instant_reads_on_the_clock_of_madrid_and_new_york(instant: datetime, madrid: str, new_york: str) -> None:
    assert format_moment(instant, "en", time_zone=MADRID) == madrid
    assert format_moment(instant, "en", time_zone=resolve_time_zone(NEW_YORK, MADRID)) == new_york


def test_the_same_instant_in_spanish_keeps_the_zone() -> None:
    instant = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert format_moment(instant, "es", time_zone=MADRID) == "29 mar 2026, 3:00:00"
    assert format_moment(instant, "es", format="short", time_zone=NEW_YORK) == "28/3/26, 21:00"


def test_without_a_zone_a_moment_reads_in_utc_and_a_naive_one_is_taken_as_utc() -> None:
    assert format_moment(datetime(2026, 7, 1, 12, 0, tzinfo=UTC), "en") == "1 Jul 2026, 12:00:00"
    assert local_moment(datetime(2026, 7, 1, 12, 0), MADRID) == datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert local_moment(datetime(2026, 7, 1, 12, 0), MADRID).hour == 14


def test_the_day_of_a_moment_is_its_day_in_the_readers_zone() -> None:
    late_evening_in_utc = datetime(2026, 3, 29, 23, 30, tzinfo=UTC)
    assert format_day(late_evening_in_utc, "en", time_zone=MADRID) == "30 Mar 2026"
    assert format_day(late_evening_in_utc, "en", time_zone=NEW_YORK) == "29 Mar 2026"
    assert format_day(late_evening_in_utc, "en") == "29 Mar 2026"
    assert format_day(date(2026, 3, 29), "en", time_zone=MADRID) == "29 Mar 2026"  # a day is no instant


def test_blank_stays_blank_in_any_zone() -> None:
    assert format_moment(None, "en", time_zone=MADRID) == ""
    assert format_day(None, "es", time_zone=NEW_YORK) == ""


# ------------------------------------------------------------------------------------ the page filters


def _render(source: str, **context: object) -> str:
    environment = jinja2.Environment(autoescape=True)
    i18n.install(environment)
    return environment.from_string(source).render(**context)


def test_the_page_filters_write_moments_in_the_pages_time_zone() -> None:
    instant = datetime(2026, 3, 29, 23, 30, tzinfo=UTC)
    template = "{{ when|datetime }}|{{ when|datetime('short') }}|{{ when|date }}"
    assert _render(template, lang="en", when=instant, time_zone=resolve_time_zone(None, MADRID)) == (
        "30 Mar 2026, 01:30:00|30/03/2026, 01:30|30 Mar 2026"
    )
    assert _render(template, lang="en", when=instant, time_zone=resolve_time_zone(NEW_YORK, MADRID)) == (
        "29 Mar 2026, 19:30:00|29/03/2026, 19:30|29 Mar 2026"
    )
    assert _render(template, lang="en", when=instant) == "29 Mar 2026, 23:30:00|29/03/2026, 23:30|29 Mar 2026"


# ------------------------------------------------------------------------------------ what the entry points accept


def test_the_settings_and_the_users_input_take_an_iana_name_in_its_own_spelling() -> None:
    assert parse(RegionalSettings, {"default_time_zone": "america/new_york"}).default_time_zone == NEW_YORK
    assert parse(OwnSettingsChange, {"time_zone": "europe/madrid"}).time_zone == MADRID
    assert parse(OwnSettingsChange, {"time_zone": None}).time_zone is None
    assert parse(RegionalSettingsChange, {}).model_dump(exclude_unset=True) == {}
    user = parse(
        UserIn, {"email": "ines@example.com", "full_name": "Inés", "roles": ["Salesperson"], "time_zone": "UTC"}
    )
    assert user.time_zone == "UTC"


@pytest.mark.parametrize(
    ("model", "field"), [(RegionalSettings, "default_time_zone"), (OwnSettingsChange, "time_zone")]
)
def test_an_unknown_zone_is_a_validation_error_naming_the_field(model: type, field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse(model, {field: "Mars/Olympus_Mons"})
    assert [(item["field"], item["code"]) for item in refused.value.details["fields"]] == [(field, "invalid_value")]
    assert "IANA time zone" in refused.value.message


def test_the_organisations_default_cannot_be_emptied() -> None:
    with pytest.raises(ValidationFailed):
        parse(RegionalSettingsChange, {"default_time_zone": None})
    with pytest.raises(ValidationFailed) as refused:
        checked_time_zone(None, field="default_time_zone", optional=False)
    assert refused.value.code == "unknown_time_zone"
    assert refused.value.details["fields"][0]["field"] == "default_time_zone"


def test_the_services_check_takes_the_same_names() -> None:
    assert checked_time_zone("europe/madrid") == MADRID
    assert checked_time_zone(None) is None
    with pytest.raises(ValidationFailed) as refused:
        checked_time_zone("Mars/Olympus_Mons")
    assert refused.value.code == "unknown_time_zone"
