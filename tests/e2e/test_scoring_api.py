"""Predictive lead scoring over HTTP, on both backends: a model is created, trained on a history of
closed leads with planted drivers (leadflow.demo.history), published (every open lead gets a score
and a grade the list sorts and filters by), restored to an earlier version, unpublished; new
thresholds regrade at once; an edit or a note scores a lead again in the same request; labels follow
the reader's language; sellers read the scores of the leads they may read and nothing more. Jobs run
at once here (LEADFLOW_QUEUE_URL=immediate)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from leadflow.core.db import utcnow
from leadflow.core.uow import Database
from leadflow.leads.models import Lead, LeadState
from leadflow.scoring.models import grade_of
from leadflow.security.actor import Actor
from tests.e2e.helpers import add_note, create_lead, get_lead, ids, list_view
from tests.scoring_helpers import (
    API,
    BAD,
    GOOD,
    MIDDLE,
    PLANTED_FIELDS,
    create_model,
    lead_of,
    lead_score,
    load_planted,
    note_history,
    publish,
    read_model,
    seller_client,
    train,
    trained_and_published,
)


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_training_makes_a_version_with_its_auc_calibration_and_periods_the_test_after_the_training(
    client: TestClient, database: Database, actor: Actor
):
    closed = load_planted(database, actor, count=200)
    model = create_model(client)
    assert model["readiness"] == {
        "qualified": closed["qualified"],
        "disqualified": closed["disqualified"],
        "missing_qualified": 0,
        "missing_disqualified": 0,
        "ready": True,
    }
    assert model["versions"] == [] and model["last_trained_at"] is None

    started = client.post(f"{API}/scoring-models/{model['id']}/train")
    assert started.status_code == 202, started.text
    job = client.get(started.headers["Location"]).json()
    assert job["kind"] == "scoring_train" and job["state"] == "succeeded", job

    trained = read_model(client, model["id"])
    assert trained["last_trained_at"] is not None and trained["published_version_id"] is None
    [version] = trained["versions"]
    assert version["id"] == job["summary"]["version_id"] and version["job_id"] == job["id"]
    assert (version["number"], version["state"], version["error"]) == (1, "trained", None)
    assert version == client.get(f"{API}/scoring-models/{model['id']}/versions/{version['id']}").json()
    report = version["report"]
    assert 0.75 <= report["auc"] <= 1 and report["auc"] == job["summary"]["auc"]
    train_part, test_part = report["train"], report["test"]
    assert train_part["leads"] + test_part["leads"] == 200 and test_part["leads"] == 40
    assert train_part["qualified"] + test_part["qualified"] == closed["qualified"]
    assert _when(train_part["from"]) <= _when(train_part["to"]) < _when(test_part["from"]) <= _when(test_part["to"])
    with database.unit_of_work(read_only=True) as uow:
        closings = sorted(
            closed_at
            for closed_at in uow.session.scalars(select(Lead.closed_at).where(Lead.state != LeadState.OPEN))
            if closed_at is not None
        )
    assert len(closings) == 200
    # Every held-out lead closed after every training lead: the training ends where the test begins.
    assert closings[159] == _when(train_part["to"]) and closings[160] == _when(test_part["from"])
    assert closings[0] == _when(train_part["from"]) and closings[-1] == _when(test_part["to"])
    calibration = report["calibration"]
    assert calibration and sum(bin_["leads"] for bin_ in calibration) == 40 - test_part["unscored"]
    for bin_ in calibration:
        assert bin_["from"] <= bin_["predicted"] <= bin_["to"] and 0 <= bin_["observed"] <= 1
    assert sum(grade["leads"] for grade in version["grades"].values()) == 40 - test_part["unscored"]
    assert {driver["field"] for driver in report["drivers"]} == set(PLANTED_FIELDS)


def test_publishing_scores_the_open_leads_which_the_list_sorts_and_filters_by_grade(
    client: TestClient, database: Database, actor: Actor
):
    load_planted(database, actor, count=200)
    good, middle, bad = (create_lead(client, **lead_of(fields)) for fields in (GOOD, MIDDLE, BAD))
    assert good["score"] is None and good["grade"] is None  # nothing published yet
    model = create_model(client)
    train(client, model["id"])
    version_id = read_model(client, model["id"])["versions"][0]["id"]

    job = publish(client, model["id"])
    assert job["kind"] == "scoring_rescore" and job["summary"]["scored"] == 3  # the open leads only
    published = read_model(client, model["id"])
    assert published["published_version_id"] == version_id
    assert published["versions"][0]["state"] == "published" and published["versions"][0]["published_at"]

    scores = {lead["id"]: get_lead(client, lead["id"]) for lead in (good, middle, bad)}
    for lead in scores.values():
        assert isinstance(lead["score"], int) and 0 <= lead["score"] <= 100
        assert lead["grade"] == grade_of(lead["score"], published["thresholds"])
    assert scores[good["id"]]["score"] > scores[middle["id"]]["score"] > scores[bad["id"]]["score"]
    assert scores[good["id"]]["grade"] == "A" and scores[bad["id"]]["grade"] == "D"
    detail = lead_score(client, good["id"])
    assert (detail["score"], detail["grade"]) == (scores[good["id"]]["score"], "A")
    assert (detail["model_id"], detail["model_name"], detail["model_version"]) == (model["id"], model["name"], 1)
    assert detail["scored_at"] and detail["message"] is None and detail["trend"] == "not_enough_information"
    assert detail["reasons"][0]["field"] in PLANTED_FIELDS and detail["reasons"][0]["effect"] > 0

    with database.unit_of_work(read_only=True) as uow:
        closed_scores = set(uow.session.scalars(select(Lead.score).where(Lead.state != LeadState.OPEN)))
    assert closed_scores == {None}  # the history keeps no score

    assert ids(list_view(client, sort="-score", state="open")) == [good["id"], middle["id"], bad["id"]]
    assert ids(list_view(client, sort="score", state="open")) == [bad["id"], middle["id"], good["id"]]
    assert ids(list_view(client, grade="A")) == [good["id"]]
    # Page by page, the unscored (closed) leads come after every scored one, each lead once.
    paged = ids(list_view(client, sort="-score", limit=7))
    assert paged[:3] == [good["id"], middle["id"], bad["id"]] and len(paged) == len(set(paged)) == 203
    assert ids(list_view(client, grade="D")) == [bad["id"]]


def test_an_earlier_version_can_be_published_again(client: TestClient, database: Database, actor: Actor):
    load_planted(database, actor, count=200)
    lead = create_lead(client, **lead_of(MIDDLE))
    first = trained_and_published(client)
    first_version = first["versions"][0]["id"]
    under_first = lead_score(client, lead["id"])

    changed = client.patch(
        f"{API}/scoring-models/{first['id']}",
        json={"fields": ["budget_status"]},
        headers={"If-Match": f'"{first["row_version"]}"'},
    )
    assert changed.status_code == 200, changed.text
    train(client, first["id"])
    publish(client, first["id"])  # the newest trained version: 2
    second = read_model(client, first["id"])
    assert [(version["number"], version["state"]) for version in second["versions"]] == [
        (2, "published"),
        (1, "retired"),
    ]
    under_second = lead_score(client, lead["id"])
    assert under_second["model_version"] == 2 and [reason["field"] for reason in under_second["reasons"]] == [
        "budget_status"
    ]
    assert under_second["score"] != under_first["score"]

    publish(client, first["id"], first_version)
    restored = read_model(client, first["id"])
    assert restored["published_version_id"] == first_version
    assert [(version["number"], version["state"]) for version in restored["versions"]] == [
        (2, "retired"),
        (1, "published"),
    ]
    again = lead_score(client, lead["id"])
    assert (again["model_version"], again["score"], again["grade"]) == (1, under_first["score"], under_first["grade"])
    assert again["reasons"] == under_first["reasons"]
    assert get_lead(client, lead["id"])["score"] == under_first["score"]


def test_unpublishing_clears_the_scores_of_the_models_leads(client: TestClient, database: Database, actor: Actor):
    load_planted(database, actor, count=200)
    lead = create_lead(client, **lead_of(GOOD))
    model = trained_and_published(client)
    assert get_lead(client, lead["id"])["score"] is not None

    answer = client.post(f"{API}/scoring-models/{model['id']}/unpublish")
    assert answer.status_code == 202, answer.text
    assert answer.json()["state"] == "succeeded"
    after = read_model(client, model["id"])
    assert after["published_version_id"] is None and after["versions"][0]["state"] == "retired"
    shown = get_lead(client, lead["id"])
    assert (shown["score"], shown["grade"]) == (None, None)
    detail = lead_score(client, lead["id"])
    assert (detail["score"], detail["grade"], detail["model_id"], detail["reasons"]) == (None, None, None, [])
    assert detail["message"] == "No published scoring model covers this lead."
    assert list_view(client, grade="A") == []
    # A new lead is not scored either.
    assert create_lead(client, **lead_of(GOOD))["score"] is None


def test_new_thresholds_regrade_the_leads_at_once(client: TestClient, database: Database, actor: Actor):
    load_planted(database, actor, count=200)
    leads = [create_lead(client, **lead_of(fields)) for fields in (GOOD, MIDDLE, BAD)]
    model = trained_and_published(client)
    before = {lead["id"]: get_lead(client, lead["id"]) for lead in leads}
    low, middle, high = sorted(lead["score"] for lead in before.values())
    assert 1 <= low < middle < high
    assert [before[lead["id"]]["grade"] for lead in leads] == ["A", grade_of(middle, model["thresholds"]), "D"]
    thresholds = {"A": high, "B": middle, "C": low}  # each lead at the lowest score of a grade
    changed = client.patch(
        f"{API}/scoring-models/{model['id']}",
        json={"thresholds": thresholds},
        headers={"If-Match": f'"{model["row_version"]}"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["thresholds"] == thresholds
    regraded = {lead["id"]: get_lead(client, lead["id"]) for lead in leads}
    for lead_id, lead in regraded.items():
        assert lead["score"] == before[lead_id]["score"]
        assert lead["grade"] == grade_of(lead["score"], thresholds)
        assert lead["row_version"] == before[lead_id]["row_version"]  # a grade is not an edit
        assert lead_score(client, lead_id)["grade"] == lead["grade"]
    assert [regraded[lead["id"]]["grade"] for lead in leads] == ["A", "B", "C"]
    grades = changed.json()["versions"][0]["grades"]
    assert grades == read_model(client, model["id"])["versions"][0]["grades"]


def test_an_edit_scores_the_lead_again_in_the_same_request_and_the_trend_follows_the_score(
    client: TestClient, database: Database, actor: Actor
):
    load_planted(database, actor, count=200)
    trained_and_published(client)
    lead = create_lead(client, **lead_of(BAD))
    assert lead["score"] is not None  # scored as it was created
    assert lead_score(client, lead["id"])["trend"] == "not_enough_information"

    def edit(**change: Any) -> int:
        answer = client.patch(f"{API}/leads/{lead['id']}", json=change)
        assert answer.status_code == 200, answer.text
        score = answer.json()["score"]
        assert get_lead(client, lead["id"])["score"] == score == lead_score(client, lead["id"])["score"]
        return score

    start = lead["score"]
    raised = edit(budget_status="will_buy")
    assert raised - start >= 5
    detail = lead_score(client, lead["id"])
    assert (detail["trend"], detail["trend_label"]) == ("improving", "Improving")
    lowered = edit(budget_status="no_committed_budget")
    assert raised - lowered >= 5
    assert lead_score(client, lead["id"])["trend"] == "declining"
    nudged = edit(email="buyer@oakfield.example")  # a company address: a few points
    assert 0 < abs(nudged - lowered) < 5
    assert lead_score(client, lead["id"])["trend"] == "steady"


def test_a_new_note_scores_the_lead_again_at_once(client: TestClient, database: Database, actor: Actor):
    load_planted(database, actor, count=200)
    note_history(database, actor)  # every qualified lead of the history had a note
    trained_and_published(client, fields=[*PLANTED_FIELDS, "notes"])
    lead = create_lead(client, **lead_of(MIDDLE))
    before = lead["score"]
    answer = add_note(client, "leads", lead["id"])
    assert answer.status_code == 201, answer.text
    after = get_lead(client, lead["id"])
    assert after["score"] - before >= 5
    detail = lead_score(client, lead["id"])
    assert detail["trend"] == "improving"
    assert ["notes", "1-2"] in [[reason["field"], reason["value"]] for reason in detail["reasons"]]


def test_a_score_reads_in_the_language_of_the_request(client: TestClient, database: Database, actor: Actor):
    load_planted(database, actor, count=200)
    lead = create_lead(client, **lead_of(BAD))
    trained_and_published(client)
    english = lead_score(client, lead["id"])
    spanish = lead_score(client, lead["id"], **{"Accept-Language": "es-ES,es;q=0.9"})
    assert (spanish["score"], spanish["grade"]) == (english["score"], english["grade"])
    assert [reason["effect"] for reason in spanish["reasons"]] == [reason["effect"] for reason in english["reasons"]]
    labels = {reason["field"]: reason["label"] for reason in spanish["reasons"]}
    assert labels["budget_status"].startswith("Estado del presupuesto: Sin presupuesto comprometido −")
    assert labels["email_kind"].startswith("Dominio del correo: Correo gratuito −")
    assert labels["lead_source"].startswith("Origen del cliente potencial: Anuncio −")
    assert spanish["trend_label"] == "Información insuficiente"
    english_labels = {reason["field"]: reason["label"] for reason in english["reasons"]}
    assert english_labels["email_kind"].startswith("Email domain: Free mail provider −")
    assert english_labels["budget_status"].startswith("Budget status: ")
    assert english["trend_label"] == "Not enough information"


def test_a_seller_reads_only_the_scores_of_leads_they_may_read_and_cannot_manage_models(
    client: TestClient, database: Database, actor: Actor, settings: Any
):
    load_planted(database, actor, count=200)
    theirs_not = create_lead(client, **lead_of(GOOD))
    model = trained_and_published(client)
    version_id = model["versions"][0]["id"]
    with seller_client(database, settings) as seller:
        own = create_lead(seller, **lead_of(MIDDLE))
        assert own["score"] is not None
        assert lead_score(seller, own["id"])["score"] == own["score"]
        assert seller.get(f"{API}/leads/{theirs_not['id']}").status_code == 404
        hidden = seller.get(f"{API}/leads/{theirs_not['id']}/score")
        assert hidden.status_code == 404, hidden.text
        assert lead_score(client, own["id"])["score"] == own["score"]  # the administrator reads every lead

        refusals = [
            seller.post(f"{API}/scoring-models", json={"name": "Mine", "fields": PLANTED_FIELDS}),
            seller.post(f"{API}/scoring-models/{model['id']}/train"),
            seller.post(f"{API}/scoring-models/{model['id']}/publish", json={"version_id": version_id}),
            seller.post(f"{API}/scoring-models/{model['id']}/unpublish"),
            seller.patch(f"{API}/scoring-models/{model['id']}", json={"thresholds": {"A": 90, "B": 50, "C": 10}}),
            seller.post(f"{API}/scoring-models/{model['id']}/publish"),  # the newest trained version
        ]
        for refused in refusals:
            assert refused.status_code == 403, refused.text
            assert refused.json()["error"]["code"] == "forbidden"
    after = read_model(client, model["id"])
    assert after["published_version_id"] == version_id and len(after["versions"]) == 1
    assert after["row_version"] == model["row_version"] and after["thresholds"] == model["thresholds"]
    assert [m["name"] for m in client.get(f"{API}/scoring-models").json()] == [model["name"]]


def test_the_grades_summary_counts_open_leads_by_grade_and_the_untouched_grade_a_ones(
    client: TestClient, database: Database, actor: Actor, settings: Any
):
    load_planted(database, actor, count=200)
    first_good, second_good = create_lead(client, **lead_of(GOOD)), create_lead(client, **lead_of(GOOD))
    create_lead(client, **lead_of(BAD))
    trained_and_published(client)
    with seller_client(database, settings) as seller:
        create_lead(seller, **lead_of(BAD))
        summary = client.get(f"{API}/scoring/grades").json()
        assert summary["grades"] == {"A": 2, "B": 0, "C": 0, "D": 2}
        assert summary["unscored"] == 0
        assert summary["untouched_a"] == 0 and summary["untouched_days"] == 7
        theirs = seller.get(f"{API}/scoring/grades").json()
        assert theirs["grades"] == {"A": 0, "B": 0, "C": 0, "D": 1} and theirs["untouched_a"] == 0
        assert seller.get(f"{API}/scoring/grades", params={"mine": "true"}).json()["grades"]["D"] == 1
        assert client.get(f"{API}/scoring/grades", params={"mine": "true"}).json()["grades"] == {
            "A": 2,
            "B": 0,
            "C": 0,
            "D": 1,
        }

    # Nobody touched the two grade A leads for eight days; then one of them gets a note.
    long_ago = utcnow() - timedelta(days=8)
    with database.unit_of_work() as uow:
        uow.session.execute(
            update(Lead)
            .where(Lead.id.in_([uuid.UUID(first_good["id"]), uuid.UUID(second_good["id"])]))
            .values(created_at=long_ago, modified_at=long_ago)
        )
        uow.commit()
    assert client.get(f"{API}/scoring/grades").json()["untouched_a"] == 2
    assert add_note(client, "leads", first_good["id"]).status_code == 201
    assert client.get(f"{API}/scoring/grades").json()["untouched_a"] == 1
    edited = client.patch(f"{API}/leads/{second_good['id']}", json={"job_title": "Head of purchasing"})
    assert edited.status_code == 200, edited.text
    assert client.get(f"{API}/scoring/grades").json()["untouched_a"] == 0
