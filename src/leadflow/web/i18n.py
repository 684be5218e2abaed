"""The web app's languages: gettext catalogues (Babel), the request's language, the formatting filters.

Message ids are the English texts; ``locale/<lang>/LC_MESSAGES/*.po`` hold the translations, one
catalogue per area of the app, merged at load by ``leadflow.http.language`` (the REST API's error
sentences come from them too). A message without a translation falls back to its English id.
``tests/web/test_i18n.py`` checks that every message the templates, the web code and the sentences of
refusals (``leadflow.http``) use has a Spanish translation. The templates' date, datetime,
number, money and percent filters write values as ``leadflow.core.formatting`` does everywhere; the
date and datetime filters show moments in the page's ``time_zone`` (the signed-in user's, else the
organisation's default, else UTC).
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import pass_context

from leadflow.core import formatting
from leadflow.http.language import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    LOCALE_DIR,
    N_,
    gettext,
    language_from_header,
    ngettext,
    translations,
)

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LOCALE_DIR",
    "N_",
    "choose_language",
    "extracted_messages",
    "gettext",
    "install",
    "language_from_header",
    "ngettext",
    "translations",
    "untranslated",
]


def choose_language(user_language: str | None, accept_language: str | None) -> str:
    """The user's own setting when it names a supported language, else the browser's preference."""
    if user_language and user_language in LANGUAGES:
        return user_language
    return language_from_header(accept_language)


# ---------------------------------------------------------------------------------------------- Jinja


def _language_of(context: Any) -> str:
    return context.get("lang") or DEFAULT_LANGUAGE


def _time_zone_of(context: Any) -> str | tzinfo:
    """The zone the page shows moments in: the reader's, as ``leadflow.web.pages.render`` passes it."""
    return context.get("time_zone") or formatting.DEFAULT_TIME_ZONE


# Jinja's new-style gettext wrapper fills the placeholders (escaping the values) after these return.
@pass_context
def _template_gettext(context: Any, message: str) -> str:
    return translations(_language_of(context)).gettext(message)


@pass_context
def _template_ngettext(context: Any, singular: str, plural: str, n: int) -> str:
    return translations(_language_of(context)).ngettext(singular, plural, n)


@pass_context
def _date(context: Any, value: date | datetime | None, format: str = "medium") -> str:
    return formatting.format_day(value, _language_of(context), format=format, time_zone=_time_zone_of(context))


@pass_context
def _datetime(context: Any, value: datetime | None, format: str = "medium") -> str:
    return formatting.format_moment(value, _language_of(context), format=format, time_zone=_time_zone_of(context))


@pass_context
def _number(context: Any, value: Decimal | float | None) -> str:
    return formatting.format_number(value, _language_of(context))


@pass_context
def _money(context: Any, value: Decimal | float | None, currency: str | None = "EUR") -> str:
    return formatting.format_money(value, currency, _language_of(context))


@pass_context
def _percent(context: Any, value: float | None) -> str:
    return formatting.format_percent(value, _language_of(context))


def install(environment: Any) -> None:
    """Give a Jinja environment ``_()``, ``ngettext()`` and the locale-aware formatting filters."""
    environment.add_extension("jinja2.ext.i18n")
    environment.install_gettext_callables(_template_gettext, _template_ngettext, newstyle=True)
    environment.filters.update(
        {"date": _date, "datetime": _datetime, "number": _number, "money": _money, "percent": _percent}
    )


# ---------------------------------------------------------------------------------------------- catalogue upkeep

WEB_DIR = Path(__file__).resolve().parent
HTTP_DIR = WEB_DIR.parent / "http"
TRANSFER_DIR = HTTP_DIR.parent / "transfer"


def extracted_messages() -> set[str]:
    """Every message id the web templates (``_()``) and the web code (``gettext(language, ...)``) use."""
    from babel.messages.extract import extract_from_dir

    found: set[str] = set()
    python = {"gettext": (2,), "ngettext": (2, 3), "N_": None}
    sources = (
        (
            WEB_DIR,
            [("templates/**.html", "jinja2.ext:babel_extract")],
            {"_": None, "gettext": None, "ngettext": (1, 2)},
        ),
        (WEB_DIR, [("**.py", "python")], python),
        # The sentences of refusals and the labels they name, which the REST API answers with too.
        (HTTP_DIR, [("**.py", "python")], python),
        # The columns of import and export files, and the words of their error files.
        (TRANSFER_DIR, [("**.py", "python")], python),
    )
    for folder, method_map, keywords in sources:
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(folder), method_map=method_map, keywords=keywords, options_map={"**.html": {"trimmed": "true"}}
        ):
            found.update(message if isinstance(message, tuple) else (message,))
    return {message for message in found if message}


def untranslated(language: str) -> set[str]:
    """The messages the web app uses that ``language`` has no translation for."""
    catalog = translations(language)
    return {
        message
        for message in extracted_messages()
        if catalog.gettext(message) == message and message not in _SAME_IN_EVERY_LANGUAGE
    }


# Words written the same way in Spanish and English: no translation is not a missing one.
_SAME_IN_EVERY_LANGUAGE = frozenset(
    {"leadflow", "Roles", "CSV", "ETag", "API", "AUC", "Total", "Error", "Web", "No", "Normal"}
)
