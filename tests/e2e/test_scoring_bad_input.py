"""Scoring refuses what it should, each refusal clear and the database as it was: too small a history,
unknown fields, thresholds out of order, a period out of range, a scope without its unit, a taken
name, a stale ETag, a version of another model or a failed one, a second training at once, a field
removed since; a training that fails leaves the published version scoring; a lead source the model
never saw leaves the lead unscored with a reason; hostile names never give a 5xx. Both backends."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from leadflow.core.db import utcnow
from leadflow.core.uow import Database
from leadflow.leads.models import Lead, LeadSource, LeadState
from leadflow.scoring.models import ScoringModel
from leadflow.security.actor import Actor
from leadflow.security.service import create_business_unit
from leadflow.tasks import scoring as scoring_tasks
from tests.e2e.helpers import assert_error, create_lead, get_lead
from tests.scoring_helpers import (
    API,
    GOOD,
    MIDDLE,
    PLANTED_FIELDS,
    create_model,
    lead_of,
    lead_score,
    load_planted,
    read_model,
    scoring_state,
    train,
    trained_and_published,
)


def _fields_named(error: dict[str, Any]) -> set[str]:
    """The fields a refusal names, in the API's one shape: ``details.fields``, a list of
    ``{field, code, message}``."""
    fields = error["details"]["fields"]
    assert isinstance(fields, list) and all(isinstance(item, dict) for item in fields), (
        f"details.fields is not a list of {{field, code, message}}: {fields!r}"
    )
    return {item["field"] for item in fields}


def test_too_small_a_history_is_refused_saying_how_many_leads_are_missing(
    client: TestClient, database: Database, actor: Actor
):
    closed = load_planted(database, actor, count=60)
    assert closed["qualified"] < 40 or closed["disqualified"] < 40
    model = create_model(client)
    assert model["readiness"]["ready"] is False
    before = scoring_state(database)

    error = assert_error(client.post(f"{API}/scoring-models/{model['id']}/train"), 409, "scoring_too_few_leads")
    assert error["details"] == {
        "qualified": closed["qualified"],
        "disqualified": closed["disqualified"],
        "missing_qualified": max(40 - closed["qualified"], 0),
        "missing_disqualified": max(40 - closed["disqualified"], 0),
    }
    assert model["readiness"]["missing_qualified"] == error["details"]["missing_qualified"]
    assert model["readiness"]["missing_disqualified"] == error["details"]["missing_disqualified"]
    assert scoring_state(database) == before  # no version, no job
    assert read_model(client, model["id"])["versions"] == []


def test_a_model_without_any_history_lacks_forty_of_each(client: TestClient, database: Database):
    model = create_model(client)
    before = scoring_state(database)
    error = assert_error(client.post(f"{API}/scoring-models/{model['id']}/train"), 409, "scoring_too_few_leads")
    assert (error["details"]["missing_qualified"], error["details"]["missing_disqualified"]) == (40, 40)
    assert scoring_state(database) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"fields": ["lead_source", "shoe_size"]}, "fields"),
        ({"fields": []}, "fields"),
        ({"thresholds": {"A": 50, "B": 75, "C": 25}}, "thresholds"),
        ({"thresholds": {"A": 75, "B": 75, "C": 25}}, "thresholds"),
        ({"thresholds": {"A": 101, "B": 50, "C": 25}}, "thresholds"),
        ({"thresholds": {"A": 75, "B": 50, "C": 0}}, "thresholds"),
        ({"thresholds": {"A": 75, "B": 50}}, "thresholds"),
        ({"history_months": 0}, "history_months"),
        ({"history_months": 1000}, "history_months"),
        ({"retrain_days": -1}, "retrain_days"),
        ({"scope_kind": "everything"}, "scope_kind"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_model_settings_are_refused_with_422_naming_the_field(
    client: TestClient, database: Database, body: dict[str, Any], field: str
):
    before = scoring_state(database)
    answer = client.post(f"{API}/scoring-models", json={"name": "Leads", **body})
    assert answer.status_code == 422, answer.text
    assert field in _fields_named(answer.json()["error"])
    assert scoring_state(database) == before


def test_an_unknown_field_is_named_in_the_refusal(client: TestClient, database: Database):
    answer = client.post(f"{API}/scoring-models", json={"name": "Leads", "fields": ["lead_source", "shoe_size"]})
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert _fields_named(error) == {"fields"}
    assert "shoe_size" in error["message"], error
    assert client.get(f"{API}/scoring-models").json() == []


def test_bad_settings_in_a_change_are_refused_and_change_nothing(client: TestClient, database: Database):
    model = create_model(client)
    etag = {"If-Match": f'"{model["row_version"]}"'}
    before = scoring_state(database)
    for body, field in (
        ({"thresholds": {"A": 25, "B": 50, "C": 75}}, "thresholds"),
        ({"history_months": 0}, "history_months"),
        ({"history_months": 1000}, "history_months"),
        ({"fields": ["shoe_size"]}, "fields"),
    ):
        answer = client.patch(f"{API}/scoring-models/{model['id']}", json=body, headers=etag)
        assert answer.status_code == 422, answer.text
        assert field in _fields_named(answer.json()["error"])
    assert scoring_state(database) == before


def test_a_business_unit_scope_needs_an_existing_unit(client: TestClient, database: Database, actor: Actor):
    before = scoring_state(database)
    missing = client.post(f"{API}/scoring-models", json={"name": "South", "scope_kind": "business_unit"})
    assert "scope_business_unit_id" in _fields_named(assert_error(missing, 422, "scope_business_unit_required"))
    unknown = client.post(
        f"{API}/scoring-models",
        json={"name": "South", "scope_kind": "business_unit", "scope_business_unit_id": str(uuid.uuid4())},
    )
    assert "scope_business_unit_id" in _fields_named(assert_error(unknown, 422, "scope_business_unit_id_not_found"))
    no_source = client.post(f"{API}/scoring-models", json={"name": "Fairs", "scope_kind": "lead_source"})
    assert "scope_lead_source" in _fields_named(assert_error(no_source, 422, "scope_lead_source_required"))
    assert scoring_state(database) == before

    with database.unit_of_work() as uow:
        unit = create_business_unit("South", parent_name=None, uow=uow, actor=actor)
        uow.commit()
    made = create_model(client, name="South", scope_kind="business_unit", scope_business_unit_id=str(unit.id))
    assert made["scope_business_unit_id"] == str(unit.id)
    # Changed to a unit that does not exist: refused, the model as it was.
    before = scoring_state(database)
    changed = client.patch(f"{API}/scoring-models/{made['id']}", json={"scope_business_unit_id": str(uuid.uuid4())})
    assert_error(changed, 422, "scope_business_unit_id_not_found")
    assert scoring_state(database) == before
    assert read_model(client, made["id"])["scope_business_unit_id"] == str(unit.id)


def test_a_taken_name_is_refused_whatever_its_case(client: TestClient, database: Database):
    first = create_model(client, name="All leads")
    other = create_model(client, name="Trade shows")
    before = scoring_state(database)
    assert_error(client.post(f"{API}/scoring-models", json={"name": "All leads"}), 409, "name_taken")
    assert_error(client.post(f"{API}/scoring-models", json={"name": "ALL LEADS"}), 409, "name_taken")
    assert_error(client.patch(f"{API}/scoring-models/{other['id']}", json={"name": "all leads"}), 409, "name_taken")
    assert scoring_state(database) == before
    # Its own name is no clash.
    assert client.patch(f"{API}/scoring-models/{first['id']}", json={"name": "All leads"}).status_code == 200


def test_a_stale_etag_is_refused_with_412(client: TestClient, database: Database):
    model = create_model(client)
    stale = {"If-Match": f'"{model["row_version"]}"'}
    assert (
        client.patch(f"{API}/scoring-models/{model['id']}", json={"retrain_days": 7}, headers=stale).status_code == 200
    )
    before = scoring_state(database)
    answer = client.patch(f"{API}/scoring-models/{model['id']}", json={"retrain_days": 14}, headers=stale)
    assert_error(answer, 412, "stale_etag")
    assert scoring_state(database) == before
    assert read_model(client, model["id"])["retrain_days"] == 7


def test_a_version_of_another_model_or_a_failed_one_cannot_be_published(
    client: TestClient, database: Database, actor: Actor
):
    load_planted(database, actor, count=200)
    create_lead(client, **lead_of(GOOD))
    first = trained_and_published(client)
    other = create_model(client)
    train(client, other["id"])
    other_version = read_model(client, other["id"])["versions"][0]["id"]
    # A failed version: the newest fifth of the history is made all disqualified, so its training fails.
    broken = create_model(client)
    _make_newest_fifth_one_outcome(database)
    assert client.post(f"{API}/scoring-models/{broken['id']}/train").json()["state"] == "failed"
    failed = read_model(client, broken["id"])["versions"][0]
    assert failed["state"] == "failed" and failed["error"]
    before = scoring_state(database)

    crossed = client.post(f"{API}/scoring-models/{first['id']}/publish", json={"version_id": other_version})
    assert_error(crossed, 409, "scoring_other_model")
    refused = client.post(f"{API}/scoring-models/{broken['id']}/publish", json={"version_id": failed["id"]})
    assert_error(refused, 409, "scoring_not_trained")
    nothing = client.post(f"{API}/scoring-models/{broken['id']}/publish")
    assert_error(nothing, 409, "scoring_not_trained")
    missing = client.post(f"{API}/scoring-models/{first['id']}/publish", json={"version_id": str(uuid.uuid4())})
    assert missing.status_code == 404, missing.text
    elsewhere = client.get(f"{API}/scoring-models/{first['id']}/versions/{other_version}")
    assert_error(elsewhere, 404, "scoring_version_not_found")
    assert scoring_state(database) == before


def _make_newest_fifth_one_outcome(database: Database) -> None:
    """Close every disqualified lead of the history in the last hours, so that the newest fifth of the
    history holds disqualified leads only."""
    now = utcnow()
    with database.unit_of_work() as uow:
        disqualified = list(uow.session.scalars(select(Lead.id).where(Lead.state == LeadState.DISQUALIFIED)))
        assert len(disqualified) > 50  # more than a fifth of the history
        for number, lead_id in enumerate(disqualified):
            uow.session.execute(
                update(Lead).where(Lead.id == lead_id).values(closed_at=now - timedelta(minutes=number + 1))
            )
        uow.commit()


def test_a_second_training_while_one_runs_is_refused(client: TestClient, database: Database, actor: Actor):
    load_planted(database, actor, count=200)
    model = create_model(client)
    scoring_tasks.start_training(uuid.UUID(model["id"]), database=database, actor=actor)  # queued, not run
    assert read_model(client, model["id"])["versions"][0]["state"] == "training"
    before = scoring_state(database)
    assert_error(client.post(f"{API}/scoring-models/{model['id']}/train"), 409, "scoring_busy")
    assert scoring_state(database) == before


def test_a_model_naming_a_field_that_is_gone_cannot_train_and_its_published_version_stays(
    client: TestClient, database: Database, actor: Actor
):
    load_planted(database, actor, count=200)
    lead = create_lead(client, **lead_of(MIDDLE))
    model = trained_and_published(client)
    scored = lead_score(client, lead["id"])
    with database.unit_of_work() as uow:
        uow.session.execute(
            update(ScoringModel)
            .where(ScoringModel.id == uuid.UUID(model["id"]))
            .values(fields=["lead_source", "fax_number"])
        )
        uow.commit()
    before = scoring_state(database)

    error = assert_error(client.post(f"{API}/scoring-models/{model['id']}/train"), 422, "scoring_unknown_field")
    assert "fax_number" in error["message"] and "no longer exists" in error["message"]
    assert "fax_number" in json.dumps(error["details"])
    assert scoring_state(database) == before
    after = read_model(client, model["id"])
    assert after["published_version_id"] == model["published_version_id"]
    assert lead_score(client, lead["id"]) == scored


def test_a_failed_training_leaves_the_published_version_and_its_scores(
    client: TestClient, database: Database, actor: Actor
):
    load_planted(database, actor, count=200)
    leads = [create_lead(client, **lead_of(fields)) for fields in (GOOD, MIDDLE)]
    model = trained_and_published(client)
    scores = {lead["id"]: lead_score(client, lead["id"]) for lead in leads}
    _make_newest_fifth_one_outcome(database)

    started = client.post(f"{API}/scoring-models/{model['id']}/train")
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["state"] == "failed" and "newest leads of the history are all disqualified" in job["error"]
    after = read_model(client, model["id"])
    assert [(version["number"], version["state"]) for version in after["versions"]] == [
        (2, "failed"),
        (1, "published"),
    ]
    assert after["versions"][0]["error"] == job["error"] and after["versions"][0]["report"] is None
    assert after["published_version_id"] == model["published_version_id"]
    assert after["last_trained_at"] == model["last_trained_at"]
    for lead in leads:
        assert lead_score(client, lead["id"]) == scores[lead["id"]]
        assert get_lead(client, lead["id"])["score"] == scores[lead["id"]]["score"]
    # Publishing without naming a version still finds no trained one to publish.
    assert_error(client.post(f"{API}/scoring-models/{model['id']}/publish"), 409, "scoring_not_trained")


def test_a_lead_source_the_model_never_saw_leaves_the_lead_unscored_saying_why(
    client: TestClient, database: Database, actor: Actor
):
    load_planted(database, actor, count=200)
    with database.unit_of_work() as uow:  # the history never came from an advertisement
        uow.session.execute(
            update(Lead).where(Lead.lead_source == LeadSource.ADVERTISEMENT).values(lead_source=LeadSource.WEB)
        )
        uow.commit()
    trained_and_published(client)
    seen = create_lead(client, **lead_of(MIDDLE, lead_source="web"))
    assert seen["score"] is not None
    unseen = create_lead(client, **lead_of(MIDDLE, lead_source="advertisement"))
    assert (unseen["score"], unseen["grade"]) == (None, None)
    detail = lead_score(client, unseen["id"])
    assert (detail["score"], detail["grade"], detail["reasons"]) == (None, None, [])
    assert detail["message"] == (
        "The model has never seen Lead source: Advertisement; it scores this lead after its next training."
    )
    assert detail["trend"] == "not_enough_information" and detail["model_version"] == 1
    spanish = lead_score(client, unseen["id"], **{"Accept-Language": "es"})
    assert spanish["message"].startswith("El modelo nunca ha visto Origen del cliente potencial: Anuncio;")
    # Moved to a source it knows, the lead is scored at once.
    moved = client.patch(f"{API}/leads/{unseen['id']}", json={"lead_source": "web"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["score"] == seen["score"]


HOSTILE = [
    "x" * 101,
    "x" * 100_000,
    "Leads\x00 de feria",
    "Leads \ud800 de feria",
    "Leads\x07\x1b[31m rojos",
    "'; DROP TABLE scoring_models; --",
    "Robert'); DELETE FROM leads WHERE ('1'='1",
    "🔥📈 Leads calientes 🧊",
    "‮Leads invertidos",
    "   ",
    "\n\t",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_name_never_gives_a_server_error(client: TestClient, database: Database, name: str):
    answer = client.post(
        f"{API}/scoring-models",
        content=json.dumps({"name": name, "fields": PLANTED_FIELDS}),
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code in (201, 422), answer.text
    models = client.get(f"{API}/scoring-models")
    assert models.status_code == 200, models.text
    if answer.status_code == 201:
        made = answer.json()
        assert made["name"] == name and [model["id"] for model in models.json()] == [made["id"]]
        again = client.patch(f"{API}/scoring-models/{made['id']}", json={"name": name})
        assert again.status_code == 200, again.text
    else:
        assert models.json() == []
    with database.unit_of_work(read_only=True) as uow:  # the leads table is still there
        assert uow.session.scalars(select(Lead.id)).all() == []
