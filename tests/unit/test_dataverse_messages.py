"""Every message the Dataverse Web API answers has a Spanish translation that fills the same placeholders.

The message ids are found in the source, as an extractor would: the first argument of ``bad_request`` and
``invalid``, the third of ``DataverseError``, the ``label=``/``plural_label=`` strings and the ``N_``
strings of ``leadflow/dataverse/*.py``; and, from the table registry, the display names passed through
variables (an activity table's name, an address line's). A new message without a Spanish entry in a
catalogue (``dataverse.po`` unless another area already has it) fails here.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

import leadflow.dataverse
from leadflow.dataverse.tables import TABLES
from leadflow.http.language import LOCALE_DIR, translations

PACKAGE = Path(leadflow.dataverse.__file__).resolve().parent
CATALOGUES = LOCALE_DIR / "es" / "LC_MESSAGES"
OWN_CATALOGUE = CATALOGUES / "dataverse.po"

# Calls whose argument at this position is a message id.
MESSAGE_ARGUMENT = {"bad_request": 0, "invalid": 0, "N_": 0, "DataverseError": 2}
LABEL_KEYWORDS = {"label", "plural_label"}

# Ids with nothing to translate: no catalogue entry is needed.
NOTHING_TO_TRANSLATE = {
    "%(action)s: %(problem)s": "only placeholders and punctuation (the action's name and a validation problem)",
}
# Ids whose Spanish is the English word itself: the catalogue has them, with the same text.
SAME_IN_SPANISH = {
    "No": "the Spanish word for no is no",
}

# %(name)s, and the other conversions of %-formatting (%(most)d...).
PLACEHOLDER = re.compile(r"%\((?P<name>[^)]*)\)[-#0 +]*\d*(?:\.\d+)?(?P<conversion>[diouxXeEfFgGcrsa])")


def _call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _message_arguments(node: ast.Call) -> Iterator[ast.expr]:
    position = MESSAGE_ARGUMENT.get(_call_name(node) or "")
    if position is not None:
        if len(node.args) > position:
            yield node.args[position]
        elif position == 2:
            yield from (keyword.value for keyword in node.keywords if keyword.arg == "message")
    yield from (keyword.value for keyword in node.keywords if keyword.arg in LABEL_KEYWORDS)


def _strings(expression: ast.expr, where: str, found: dict[str, str], unreadable: list[str]) -> None:
    """The literal message ids of an argument; anything but a literal or a variable passing one through is
    a message no catalogue can hold (an f-string, a concatenation)."""
    if isinstance(expression, ast.Constant) and isinstance(expression.value, str):
        if expression.value:  # an empty label has no translation (gettext("") is the catalogue's header)
            found.setdefault(expression.value, where)
    elif isinstance(expression, ast.IfExp):
        _strings(expression.body, where, found, unreadable)
        _strings(expression.orelse, where, found, unreadable)
    elif not isinstance(expression, ast.Name):
        unreadable.append(f"{where}: {ast.unparse(expression)}")


@cache
def _extracted() -> tuple[dict[str, str], tuple[str, ...]]:
    """Every literal message id of the package with where it first appears, and the arguments that are not
    literals."""
    found: dict[str, str] = {}
    unreadable: list[str] = []
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                for argument in _message_arguments(node):
                    _strings(argument, f"{path.name}:{node.lineno}", found, unreadable)
    return found, tuple(unreadable)


@cache
def message_ids() -> dict[str, str]:
    """The extracted ids, and the display names the registry holds that reached it through variables."""
    found = dict(_extracted()[0])
    for table in TABLES:
        for label in (table.label, table.plural_label, *(attribute.label for attribute in table.attributes)):
            if label:
                found.setdefault(label, f"tables.py ({table.logical})")
    return found


def _defined(path: Path) -> set[str]:
    with path.open("rb") as source:
        return {message.id for message in read_po(source, locale="es") if message.id and message.string}


def placeholders(text: str) -> set[str]:
    return {match.group(0) for match in PLACEHOLDER.finditer(text)}


def dummy_values(text: str) -> dict[str, object]:
    return {match["name"]: "x" if match["conversion"] in "rsa" else 1 for match in PLACEHOLDER.finditer(text)}


def spanish(message: str) -> str:
    return translations("es").gettext(message)


def test_the_extraction_finds_the_messages_and_only_literals():
    found, unreadable = _extracted()
    # A sanity check of the extraction itself: one id of each kind.
    assert "%(table)s With Id = %(id)s Does Not Exist" in found  # DataverseError(status, code, message)
    assert "The $filter could not be read." in found  # bad_request(message)
    assert "Inactive" in found  # N_(message)
    assert "Created by" in found  # label=
    assert not unreadable, "message ids must be literal strings:\n" + "\n".join(unreadable)


def test_every_message_has_a_spanish_translation():
    untranslated = [
        f"{where}: {message!r}"
        for message, where in message_ids().items()
        if message not in NOTHING_TO_TRANSLATE and message not in SAME_IN_SPANISH and spanish(message) == message
    ]
    assert not untranslated, "add these to " + OWN_CATALOGUE.name + ":\n" + "\n".join(untranslated)


def test_the_exceptions_are_still_messages_and_the_same_words_are_in_a_catalogue():
    ids = message_ids()
    assert set(NOTHING_TO_TRANSLATE) <= set(ids), "drop the exceptions that are no longer messages"
    assert set(SAME_IN_SPANISH) <= set(ids), "drop the exceptions that are no longer messages"
    defined = set().union(*(_defined(path) for path in CATALOGUES.glob("*.po")))
    assert set(SAME_IN_SPANISH) <= defined


def test_every_translation_keeps_the_placeholders_of_its_message():
    changed = [
        f"{where}: {message!r} -> {spanish(message)!r}"
        for message, where in message_ids().items()
        if placeholders(spanish(message)) != placeholders(message)
    ]
    assert not changed, "\n".join(changed)


def test_every_translation_formats_with_its_placeholders_filled():
    failures = []
    for message, where in message_ids().items():
        values = dummy_values(message)
        if not values:
            continue  # answered as it is, never %-formatted
        for text in (message, spanish(message)):
            try:
                text % values
            except (KeyError, ValueError, TypeError) as error:
                failures.append(f"{where}: {text!r}: {error!r}")
    assert not failures, "\n".join(failures)


def test_the_dataverse_catalogue_repeats_no_other_catalogue():
    own = _defined(OWN_CATALOGUE)
    others = {path.name: _defined(path) & own for path in sorted(CATALOGUES.glob("*.po")) if path != OWN_CATALOGUE}
    repeated = {name: sorted(ids) for name, ids in others.items() if ids}
    assert not repeated, f"already translated elsewhere; remove from {OWN_CATALOGUE.name}: {repeated}"
