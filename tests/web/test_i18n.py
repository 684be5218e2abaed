"""The web app's languages: complete Spanish catalogue, language choice, locale formatting."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import jinja2
import pytest

from leadflow.web import i18n


def test_every_message_of_the_web_app_has_a_spanish_translation() -> None:
    assert i18n.extracted_messages(), "no messages were extracted: the extraction itself is broken"
    assert i18n.untranslated("es") == set()


def test_a_message_without_translation_falls_back_to_english() -> None:
    assert i18n.gettext("es", "A sentence nobody translated") == "A sentence nobody translated"
    assert i18n.gettext("es", "Sign in") == "Iniciar sesión"


@pytest.mark.parametrize(
    ("user_language", "header", "expected"),
    [
        ("es", "en-GB,en;q=0.9", "es"),
        ("en", "es-ES", "en"),
        (None, "es-ES,es;q=0.9", "es"),
        ("", None, "en"),
        ("fr", "es", "es"),
    ],
)
def test_the_users_language_wins_over_the_browsers(user_language, header, expected) -> None:
    assert i18n.choose_language(user_language, header) == expected


def _render(source: str, language: str, **values) -> str:
    environment = jinja2.Environment(autoescape=True)
    i18n.install(environment)
    return environment.from_string(source).render(lang=language, **values)


def test_dates_numbers_and_money_follow_the_locale() -> None:
    values = {
        "day": date(2026, 11, 26),
        "amount": Decimal("25000.5"),
        "when": datetime(2026, 11, 26, 9, 30, tzinfo=UTC),
    }
    english = _render("{{ day|date }}|{{ amount|money('EUR') }}|{{ amount|number }}", "en", **values)
    spanish = _render("{{ day|date }}|{{ amount|money('EUR') }}|{{ amount|number }}", "es", **values)
    assert english == "26 Nov 2026|€25,000.50|25,000.5"
    assert spanish == "26 nov 2026|25.000,50\xa0€|25.000,5"


def test_translated_placeholders_are_escaped() -> None:
    rendered = _render('{{ _("Signed in as") }} {{ _("%(name)s", name=name) }}', "es", name="<b>x</b>")
    assert rendered == "Sesión iniciada como &lt;b&gt;x&lt;/b&gt;"
