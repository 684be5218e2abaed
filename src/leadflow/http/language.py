"""The languages every HTTP entry point answers in: the gettext catalogues (Babel) and the request's language.

Message ids are the English texts; ``leadflow/web/locale/<lang>/LC_MESSAGES/*.po`` hold the
translations, one catalogue per area of the app, merged at load. They sit beside the web app, which
shows most of their messages; the REST API reads the same files for the sentences of its errors, so
that a refusal reads the same on a page and in a JSON body. The catalogues are read with Babel and
compiled in memory on first use: no build step, and a translation edit shows on restart. A message
without a translation falls back to its English id.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "web" / "locale"


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
    """The singular or plural form of a message for ``n``, in ``language``; ``%(num)s`` is ``n``."""
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
