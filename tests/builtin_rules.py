"""Helpers for tests that publish rules of their own beside a new organisation's out-of-box rules.

A new organisation publishes five account rules, the most a table can have
(``leadflow.duplicates.rules.MAX_PUBLISHED_RULES``), four contact rules and three lead rules.
"""

from __future__ import annotations

from leadflow.core.uow import Database
from leadflow.duplicates import rules as rule_service
from leadflow.duplicates.models import DetectionTable, RuleState
from leadflow.security.actor import Actor


def unpublish_builtin_rules(database: Database, actor: Actor, *names: str) -> None:
    """Unpublish the out-of-box rules of these names."""
    with database.unit_of_work() as uow:
        rules = {rule.name: rule for rule in rule_service.list_rules(uow.session) if rule.is_builtin}
        for name in names:
            rule_service.unpublish_rule(rules[name].id, uow=uow, actor=actor)
        uow.commit()


def make_room_for_a_rule(database: Database, actor: Actor, table: str) -> None:
    """Unpublish the table's out-of-box similar-name rule, so that one more rule can be published."""
    with database.unit_of_work() as uow:
        rule = next(
            rule
            for rule in rule_service.list_rules(uow.session, base_table=DetectionTable(table))
            if rule.is_builtin
            and rule.state is RuleState.PUBLISHED
            and any(condition.criterion == "similar" for condition in rule.conditions)
        )
        rule_service.unpublish_rule(rule.id, uow=uow, actor=actor)
        uow.commit()


def builtin_rules_of(database: Database, table: str) -> list[str]:
    """The names of the table's published out-of-box rules."""
    with database.unit_of_work(read_only=True) as uow:
        return [
            rule.name
            for rule in rule_service.list_rules(uow.session, base_table=DetectionTable(table))
            if rule.is_builtin and rule.state is RuleState.PUBLISHED
        ]
