"""The duplicate check and a save agree: for any values, "the check finds a match" exactly when
"saving the same values is refused as a duplicate", under the same published rules, on SQLite and
PostgreSQL. (A check once said "no match" for Pablo Navarrete while saving him was refused as a
duplicate of Pablo Navarro: the check compared the names as typed, the save the composed full name.)"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadflow.core.errors import DuplicateDetected
from leadflow.core.schemas import parse
from leadflow.core.uow import Database
from leadflow.customers.schemas import ContactCreate
from leadflow.customers.service import create_contact
from leadflow.duplicates import rules as rule_service
from leadflow.duplicates.detection import check_record
from leadflow.duplicates.models import DetectionTable
from leadflow.leads import service as lead_service
from leadflow.leads.schemas import LeadCreate
from leadflow.security.actor import Actor

FIRST = st.sampled_from(["Pablo", "Pablo ", "pablo", "Lucía", "Lucia", "Ana", " Ana María"])
LAST = st.sampled_from(["Navarro", "Navarrete", "Navarra", "Navaro", "Fernández Ruiz", "Fernandes Ruiz", "García"])
EMAIL = st.sampled_from([None, "pablo@example.com", "PABLO@example.com", "ana@example.com"])


def _publish(database: Database, actor: Actor, definition: dict[str, Any]) -> None:
    with database.unit_of_work() as uow:
        rule = rule_service.create_rule(parse(rule_service.RuleCreate, definition), uow=uow, actor=actor)
        uow.commit()
    rule_service.publish_rule(rule.id, database=database, actor=actor)


def _agree(database: Database, actor: Actor, table: DetectionTable, values: dict[str, Any], save: Any) -> None:
    with database.unit_of_work(read_only=True) as uow:
        matched = bool(check_record(uow.session, table, values, actor=actor))
    try:
        with database.unit_of_work() as uow:
            save(values, uow)
            uow.commit()
        refused = False
    except DuplicateDetected:
        refused = True
    assert matched == refused, (
        values,
        "check matched" if matched else "check found nothing",
        "save refused" if refused else "save accepted",
    )


def test_a_contact_check_says_match_exactly_when_saving_it_is_refused(database: Database, actor: Actor) -> None:
    # Under the out-of-box rules of a new organisation, which compare contacts' names exactly and similarly.
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True)
    @given(first=FIRST, last=LAST, email=EMAIL)
    def check_then_save(first: str, last: str, email: str | None) -> None:
        values = {"first_name": first, "last_name": last, **({"email": email} if email else {})}
        _agree(
            database,
            actor,
            DetectionTable.CONTACTS,
            values,
            lambda data, uow: create_contact(ContactCreate(**data), uow=uow, actor=actor),
        )

    check_then_save()


def test_a_lead_check_says_match_exactly_when_saving_it_is_refused(database: Database, actor: Actor) -> None:
    _publish(
        database,
        actor,
        {
            "name": "Leads with a similar full name",
            "base_table": "leads",
            "exclude_inactive": True,
            "conditions": [{"base_column": "full_name", "criterion": "similar", "threshold": 0.92}],
        },
    )

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True)
    @given(first=FIRST, last=LAST, email=EMAIL)
    def check_then_save(first: str, last: str, email: str | None) -> None:
        values = {"first_name": first, "last_name": last, **({"email": email} if email else {})}
        _agree(
            database,
            actor,
            DetectionTable.LEADS,
            values,
            lambda data, uow: lead_service.create_lead(LeadCreate(topic="Sillas", **data), uow=uow, actor=actor),
        )

    check_then_save()
