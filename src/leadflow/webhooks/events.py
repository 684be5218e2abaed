"""The events a webhook can subscribe to, and which audit entries raise them (policy as data).

Every audited action passes through ``leadflow.security.audit.write_entries``; an entry whose action
and table match a rule below raises that rule's event (a rule with ``when`` only when the entry's
changes show that field's new value). Other entries raise nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Event:
    name: str
    description: str


EVENTS = (
    Event("record.created", "A lead, account, contact, opportunity, quote, order, invoice or activity was created."),
    Event("record.updated", "One was changed; changes holds each field's old and new value."),
    Event("record.deleted", "One was deleted."),
    Event("record.merged", "Two leads, accounts or contacts were merged; record_id is the master."),
    Event("lead.qualified", "A lead was qualified; changes names the account, contact and opportunities made."),
    Event("lead.disqualified", "A lead was disqualified; summary is the status reason."),
    Event("lead.reactivated", "A closed lead was opened again."),
    Event("opportunity.won", "An opportunity was closed as won."),
    Event("opportunity.lost", "An opportunity was closed as lost."),
    Event("import.finished", "An import finished; record_id is the import's id, changes its counts."),
)
EVENT_NAMES = tuple(event.name for event in EVENTS)

# The tables whose records' creation, change and deletion are events (the sales records, not
# users, roles, settings or the webhooks themselves).
RECORD_TABLES = frozenset(
    {"leads", "accounts", "contacts", "opportunities", "quotes", "orders", "invoices", "activities"}
)
# What a subscription may name in its tables filter.
EVENT_TABLES = tuple(sorted(RECORD_TABLES | {"imports"}))


@dataclass(frozen=True)
class Rule:
    """An audit entry of ``action`` on one of ``tables`` raises ``event`` (when ``when`` = (field,
    value) holds: the entry's changes give the field that new value)."""

    action: str
    tables: frozenset[str]
    event: str
    when: tuple[str, str] | None = None


RULES = (
    Rule("create", RECORD_TABLES, "record.created"),
    Rule("update", RECORD_TABLES, "record.updated"),
    Rule("delete", RECORD_TABLES, "record.deleted"),
    Rule("merge", frozenset({"leads", "accounts", "contacts"}), "record.merged"),
    Rule("qualify", frozenset({"leads"}), "lead.qualified"),
    Rule("disqualify", frozenset({"leads"}), "lead.disqualified"),
    Rule("reactivate", frozenset({"leads"}), "lead.reactivated"),
    Rule("close", frozenset({"opportunities"}), "opportunity.won", when=("state", "won")),
    Rule("close", frozenset({"opportunities"}), "opportunity.lost", when=("state", "lost")),
    Rule("import", frozenset({"imports"}), "import.finished"),
)
_RULES_BY_ACTION: dict[str, tuple[Rule, ...]] = {}
for _rule in RULES:
    _RULES_BY_ACTION[_rule.action] = (*_RULES_BY_ACTION.get(_rule.action, ()), _rule)


def _holds(rule: Rule, changes: Any) -> bool:
    if rule.when is None:
        return True
    field, value = rule.when
    change = changes.get(field) if isinstance(changes, Mapping) else None
    return isinstance(change, Mapping) and change.get("new") == value


def events_of(entry: Mapping[str, Any]) -> list[str]:
    """The events an audit entry (as ``entry_values`` makes it) raises; usually none."""
    rules = _RULES_BY_ACTION.get(entry["action"])
    if not rules:
        return []
    return [rule.event for rule in rules if entry["table_name"] in rule.tables and _holds(rule, entry.get("changes"))]
