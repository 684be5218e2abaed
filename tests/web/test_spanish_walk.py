"""A Spanish-speaking user never reads an English label.

One demo user of each role, with Spanish set on their account, signs in and walks every page reachable
by links (the crawl of ``tests/web/crawl.py``, which the dead-link test uses too). The visible text of
each page (its text, and the titles, labels and placeholders a browser shows) must not contain one of
the English labels below: the names of the built-in roles and of the out-of-box duplicate detection
rules, the states and status reasons of leads and opportunities, the actions of the audit log, column
names, and the stored values (``cannot_contact``, ``web_session``...) a page would show when a label
is missing. What users typed (a lead's topic, a note, a rule of their own) is data, shown as typed.

A label that is a single common word (Open, New, Create...) counts when it stands alone: as a whole
text, or a part of one between separators (``Estado: Open → Qualified``), so that an English note
such as "Lost to a local supplier" is not mistaken for one. Longer labels and the names of roles and
rules count wherever they appear.

The walk runs on SQLite only: what language a page speaks does not depend on the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from leadflow.core.uow import Database
from leadflow.demo import DEMO_USERS
from leadflow.duplicates.models import DuplicateRule
from leadflow.duplicates.rules import BUILTIN_RULES, unpublish_rule
from leadflow.leads.models import LeadState, LeadStatusReason
from leadflow.security.actor import actor_for_email
from leadflow.security.audit import AuditEntry
from leadflow.security.directory import user_by_email
from leadflow.security.models import TokenKind
from leadflow.security.privileges import BUILTIN_ROLES
from leadflow.security.service import create_user, grant_role, set_language
from leadflow.web.areas.admin_audit import summary_text
from leadflow.web.areas.admin_labels import ACTION_LABELS
from tests.web import crawl as crawling
from tests.web.crawl import crawl, demo_clients

# ---------------------------------------------------------------------------------------------- the known English labels

# Names of what the application ships: built-in roles and out-of-box rules (and the rules' description).
BUILT_IN_NAMES = (*BUILTIN_ROLES, *(rule.name for rule in BUILTIN_RULES), "Out-of-box rule.")

# The English labels the Spanish pages translate.
ENGLISH_LABELS = (
    # States and status reasons of leads, states of opportunities
    "Open",
    "Qualified",
    "Disqualified",
    "New",
    "Contacted",
    "Lost",
    "Cannot contact",
    "No longer interested",
    "Canceled",
    "Won",
    # Columns and headings
    "Status reason",
    "Status",
    "Created",
    "Created on",
    "Updated",
    "Modified on",
    "Owner",
    "Topic",
    # The actions of the audit log
    *ACTION_LABELS.values(),
)

# Stored values and field names that a page shows only when their label is missing.
STORED_VALUES = (
    *(reason.value for reason in LeadStatusReason if "_" in reason.value),
    *(kind.value for kind in TokenKind if "_" in kind.value),
    *(action for action in ACTION_LABELS if "_" in action),
    "language",
    "time_zone",
    "contact_id",
    "opportunity_ids",
    "merge_id",
    "subordinate_id",
    "status_reason",
)

# Found wherever they appear; the others only standing alone (see the module's docstring).
ANYWHERE = tuple(text for text in (*BUILT_IN_NAMES, *ENGLISH_LABELS) if " " in text or text in BUILT_IN_NAMES)
STANDING_ALONE = frozenset(
    {text for text in ENGLISH_LABELS if text not in ANYWHERE}
    | set(STORED_VALUES)
    | {state.value for state in LeadState}
    | {reason.value for reason in LeadStatusReason}
)
_ANYWHERE = re.compile(
    "|".join(rf"(?<![\w-]){re.escape(text)}(?![\w-])" for text in sorted(ANYWHERE, key=len, reverse=True))
)
# What separates the parts of a text: a field from its value, an old value from the new, items of a list.
_SEPARATORS = re.compile(r"\s*(?:[:·,;()\[\]{}\"“”«»]|→|–|—|\s-\s)\s*")


class _VisibleText(HTMLParser):
    """The texts of a page a reader sees: text nodes (not scripts, styles or what a form field holds),
    and the attributes a browser shows (title, aria-label, placeholder, alt, a button's value)."""

    HIDDEN = frozenset({"script", "style", "textarea", "template"})
    SHOWN_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag in self.HIDDEN:
            self._hidden += 1
        self.texts += [attributes[name] for name in self.SHOWN_ATTRIBUTES if attributes.get(name)]
        if tag == "input" and attributes.get("type") in ("submit", "button") and attributes.get("value"):
            self.texts.append(attributes["value"])

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.texts.append(" ".join(data.split()))


def visible_texts(html: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    return parser.texts


def english_labels_in(text: str) -> set[str]:
    """The known English labels a visible text contains (see the module's docstring)."""
    found = set(_ANYWHERE.findall(text))
    parts = {part.strip(" .") for part in _SEPARATORS.split(text)}
    return found | (parts & STANDING_ALONE)


# ---------------------------------------------------------------------------------------------- the demo in Spanish


@pytest.fixture(scope="module")
def spanish_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """The demo with every user's language set to Spanish, and a few administration steps the demo does
    not take (a user created, a role granted, an out-of-box rule unpublished), so that the audit log shows them."""
    with crawling.demo_database("sqlite", tmp_path_factory) as database:
        with database.unit_of_work() as uow:
            admin = actor_for_email(uow.session, crawling.demo_user("System Administrator")["email"])
            for user in DEMO_USERS:
                set_language(user_by_email(user["email"], uow=uow).id, "es", uow=uow, actor=admin)
            walker = create_user(
                email="walker@leadflow.example",
                full_name="Walker",
                role_names=["Salesperson"],
                business_unit_name=None,
                password=None,
                language="es",
                uow=uow,
                actor=admin,
            )
            grant_role(walker.id, "Sales Team Member", uow=uow, actor=admin)
            rule_id = uow.session.scalars(
                select(DuplicateRule.id).where(DuplicateRule.name == "Leads with the same email address")
            ).one()
            unpublish_rule(rule_id, uow=uow, actor=admin)
            uow.commit()
        yield database


ONE_USER_PER_ROLE = list({user["role"]: user for user in reversed(DEMO_USERS)}.values())


@pytest.mark.parametrize("user", ONE_USER_PER_ROLE, ids=[user["role"] for user in ONE_USER_PER_ROLE])
def test_no_page_a_spanish_speaker_can_reach_shows_an_english_label(
    spanish_demo: Database, user: dict[str, str]
) -> None:
    found: dict[str, list[str]] = {}

    def read(link: str, html: str) -> None:
        for text in visible_texts(html):
            for english in english_labels_in(text):
                found.setdefault(english, []).append(f"{link}: {text[:120]!r}")

    with demo_clients(spanish_demo) as client_for:
        # The browser asks for English: the account's language setting decides.
        result = crawl(client_for({**user, "language": "en"}), on_page=read)

    assert not result.truncated and not result.dead and not result.failed
    assert set(result.languages) == {"es"}, result.languages
    assert "/dashboard" in result.visited and "/leads" in result.visited
    if user["role"] == "System Administrator":  # the pages that name roles, rules and audited actions
        assert {"/admin/audit", "/admin/duplicate-rules", "/admin/roles", "/admin/users"} <= set(result.visited)
    report = "\n".join(
        f"  {english!r}, e.g. {places[0]} ({len(places)} times)" for english, places in sorted(found.items())
    )
    assert not found, f"{user['role']} ({user['email']}) was shown English labels in Spanish pages:\n{report}"


# ---------------------------------------------------------------------------------------------- the check itself


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Roles: Salesperson, Sales Manager", {"Salesperson", "Sales Manager"}),
        ("Privilegios de Sales Manager", {"Sales Manager"}),
        (
            "Leads with the same email address · Reglas de detección de duplicados",
            {"Leads with the same email address"},
        ),
        ("Estado: open → qualified", {"open", "qualified"}),
        ("Motivo para el estado: Open → Qualified", {"Open", "Qualified"}),
        ("cannot_contact", {"cannot_contact"}),
        ("language: en → es", {"language"}),
        ("Lost to a local supplier", set()),
        ("New office fit-out for 60 staff", set()),
        ("Vendedor, Gerente de ventas", set()),
        ("Cuentas con el mismo nombre de cuenta", set()),
    ],
)
def test_the_check_finds_labels_and_leaves_data_alone(text: str, expected: set[str]) -> None:
    assert english_labels_in(text) == expected


def test_the_visible_text_leaves_out_scripts_and_what_fields_hold() -> None:
    html = (
        '<title>Salesperson</title><p title="Sales Manager">Hola</p><script>var x = "Qualified";</script>'
        '<textarea>Open</textarea><input name="name" value="Lost"><input type="submit" value="Merge">'
    )
    assert visible_texts(html) == ["Salesperson", "Sales Manager", "Hola", "Merge"]


# ---------------------------------------------------------------------------------------------- what the audit log says


@pytest.mark.parametrize(
    ("action", "table", "stored", "spanish", "english"),
    [
        ("disqualify", "leads", "no_longer_interested", "Ya no está interesado", "No longer interested"),
        ("sign_in", "users", "web_session", "Sesión web", "Web session"),
        ("role_grant", "users", "Sales Manager", "Gerente de ventas", "Sales Manager"),
        ("role_grant", "users", "Regional Auditor", "Regional Auditor", "Regional Auditor"),  # the organisation's own
        (
            "create",
            "users",
            "ana@example.com (Salesperson, Sales Team Member)",
            "ana@example.com (Vendedor, Miembro del equipo de ventas)",
            "ana@example.com (Salesperson, Sales Team Member)",
        ),
        (
            "unpublish",
            "duplicate_rules",
            "Leads with the same email address",
            "Clientes potenciales con la misma dirección de correo electrónico",
            "Leads with the same email address",
        ),
        (
            "create",
            "duplicate_jobs",
            "Find all duplicates in accounts",
            "Buscar todos los duplicados en Cuentas",
            "Find all duplicates in Accounts",
        ),
        (
            "role_two_factor",
            "roles",
            "Sales Manager: required",
            "Gerente de ventas: inicio de sesión en dos pasos obligatorio",
            "Sales Manager: two-factor sign-in required",
        ),
        ("deactivate", "users", "2 sessions ended", "Sesiones cerradas: 2", "Sessions ended: 2"),
        (
            "sign_in_failed",
            "users",
            "unknown user eve@example.com",
            "Usuario desconocido eve@example.com",
            "Unknown user eve@example.com",
        ),
        (
            "sign_in_throttled",
            "users",
            "unknown user from 10.0.0.1",
            "usuario desconocido desde 10.0.0.1",
            "unknown user from 10.0.0.1",
        ),
        ("note_add", "leads", "Call back on Monday", "Call back on Monday", "Call back on Monday"),  # a title: data
    ],
)
def test_the_audit_log_words_what_the_services_recorded_in_the_readers_language(
    action: str, table: str, stored: str, spanish: str, english: str
) -> None:
    entry = AuditEntry(action=action, table_name=table, summary=stored)

    assert summary_text("es", entry) == spanish
    assert summary_text("en", entry) == english
