"""The web app's languages: gettext catalogues (Babel), the request's language, the formatting filters.

Message ids are the English texts; ``locale/<lang>/LC_MESSAGES/*.po`` hold the translations, one
catalogue per area of the app, merged at load. The catalogues are read with Babel and compiled in
memory on first use, so there is no build step and a translation edit shows on restart. A message
without a translation falls back to its English id. ``tests/web/test_i18n.py`` checks that every
message the templates and the web code use has a Spanish translation. The templates' date, datetime,
number, money and percent filters write values as ``leadflow.core.formatting`` does everywhere.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import pass_context

from leadflow.core import formatting

LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


@cache
def translations(language: str) -> NullTranslations:
    """Every catalogue of a language merged into one; English (the message ids) needs none."""
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    merged: NullTranslations | None = None
    for path in sorted(folder.glob("*.po")) if folder.is_dir() else ():
        with path.open("rb") as source:
            catalog = read_po(source, locale=language)
        compiled = io.BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        loaded = Translations(compiled)
        if merged is None:
            merged = loaded
        else:
            merged.merge(loaded)  # type: ignore[attr-defined]
    return merged or NullTranslations()


def gettext(language: str, message: str, **values: Any) -> str:
    """``message`` in ``language``, with ``%(name)s`` placeholders filled from ``values``."""
    text = translations(language).gettext(message)
    return text % values if values else text


def ngettext(language: str, singular: str, plural: str, n: int, **values: Any) -> str:
    text = translations(language).ngettext(singular, plural, n)
    return text % {"num": n, **values}


def N_(message: str) -> str:
    """Mark a message for extraction where it is defined; it is translated where it is shown."""
    return message


def language_from_header(accept_language: str | None) -> str:
    """The best supported language of an ``Accept-Language`` header (RFC 9110 §12.5.4); English by default."""
    best, best_q = DEFAULT_LANGUAGE, 0.0
    for item in (accept_language or "").split(",")[:20]:
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().split("-")[0].lower()
        if primary not in LANGUAGES:
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
        # Highest weight wins; on a tie the first listed (strictly greater keeps the earlier one).
        if 0.0 < q <= 1.0 and q > best_q:
            best, best_q = primary, q
    return best


def choose_language(user_language: str | None, accept_language: str | None) -> str:
    """The user's own setting when it names a supported language, else the browser's preference."""
    if user_language and user_language in LANGUAGES:
        return user_language
    return language_from_header(accept_language)


# ---------------------------------------------------------------------------------------------- Jinja


def _language_of(context: Any) -> str:
    return context.get("lang") or DEFAULT_LANGUAGE


# Jinja's new-style gettext wrapper fills the placeholders (escaping the values) after these return.
@pass_context
def _template_gettext(context: Any, message: str) -> str:
    return translations(_language_of(context)).gettext(message)


@pass_context
def _template_ngettext(context: Any, singular: str, plural: str, n: int) -> str:
    return translations(_language_of(context)).ngettext(singular, plural, n)


@pass_context
def _date(context: Any, value: date | datetime | None, format: str = "medium") -> str:
    return formatting.format_day(value, _language_of(context), format=format)


@pass_context
def _datetime(context: Any, value: datetime | None, format: str = "medium") -> str:
    return formatting.format_moment(value, _language_of(context), format=format)


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


def extracted_messages() -> set[str]:
    """Every message id the web templates (``_()``) and the web code (``gettext(language, ...)``) use."""
    from babel.messages.extract import extract_from_dir

    found: set[str] = set()
    sources = (
        ([("templates/**.html", "jinja2.ext:babel_extract")], {"_": None, "gettext": None, "ngettext": (1, 2)}),
        ([("**.py", "python")], {"gettext": (2,), "ngettext": (2, 3), "N_": None}),
    )
    for method_map, keywords in sources:
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(WEB_DIR), method_map=method_map, keywords=keywords, options_map={"**.html": {"trimmed": "true"}}
        ):
            found.update(message if isinstance(message, tuple) else (message,))
    return {message for message in found if message}


def untranslated(language: str) -> set[str]:
    """The messages the web app uses that ``language`` has no translation for."""
    catalog = translations(language)
    return {message for message in extracted_messages() if catalog.gettext(message) == message and message not in _SAME_IN_EVERY_LANGUAGE}


# Words written the same way in Spanish and English: no translation is not a missing one.
_SAME_IN_EVERY_LANGUAGE = frozenset({"leadflow", "Roles", "CSV", "ETag", "API", "Total", "Error", "Web"})
