"""The duplicate rule pages offer the custom fields duplicate rules may use, by their labels in the
reader's language, and name them so in a rule's conditions."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from leadflow.core.uow import Database
from leadflow.security.actor import Actor
from tests.integration.test_custom_fields import define
from tests.integration.test_duplicate_rules import new_rule, publish


def column_options(html: str, select_id: str) -> dict[str, str]:
    """The options of one select of the rule form: value -> text."""
    select = re.search(rf'<select id="{select_id}"[^>]*>(.*?)</select>', html, re.S)
    assert select is not None, select_id
    return dict(re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1)))


@pytest.mark.parametrize(("language", "label"), [("en", "VAT number"), ("es", "NIF")])
def test_the_rule_form_offers_the_custom_fields_rules_may_use_by_their_labels(
    web_client_for: Callable[..., TestClient], database: Database, actor: Actor, language: str, label: str
) -> None:
    define(database, actor, "vat", "text", duplicate_rules=True, label_en="VAT number", label_es="NIF")
    define(database, actor, "budget_note", "text", duplicate_rules=False)
    define(database, actor, "budget", "money", duplicate_rules=True)
    client = web_client_for(accept_language=language)

    options = column_options(client.get("/admin/duplicate-rules/new").text, "conditions-0-base_column")
    assert options["custom.vat"] == label
    assert "custom.budget_note" not in options and "custom.budget" not in options  # not for rules; not comparable
    assert "email" in options  # beside the table's own columns

    rule_id = new_rule(
        database,
        actor,
        name="Same VAT",
        base_table="leads",
        conditions=[{"base_column": "custom.vat", "criterion": "exact_match"}],
    )
    editing = client.get(f"/admin/duplicate-rules/{rule_id}").text  # unpublished: its form, the field chosen
    assert f'<option value="custom.vat" selected>{label}</option>' in editing
    assert f'<td class="optional">{label}: ' in client.get("/admin/duplicate-rules").text
    publish(database, actor, rule_id)
    assert re.search(rf"<li>{label}: [^<]+</li>", client.get(f"/admin/duplicate-rules/{rule_id}").text)
