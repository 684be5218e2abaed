"""The lead scoring pages: the administrators' models (create, readiness, train, publish, restore,
unpublish, the report), the lead list's score column and grade filter, the lead page's score and the
dashboard's grade tile, in English and Spanish; refusals shown on the page, nothing saved."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadflow.core.uow import Database
from leadflow.demo.history import load_history
from leadflow.jobs.models import Job, JobState
from leadflow.leads.models import Lead
from leadflow.scoring import service
from leadflow.scoring.features import DEFAULT_FIELDS
from leadflow.scoring.models import ScoringModel, ScoringVersion, VersionState
from leadflow.scoring.schemas import ScoringModelIn
from leadflow.security.actor import Actor, actor_for_email
from leadflow.security.service import create_user
from tests.factories import make_lead
from tests.web.conftest import page_csrf

SELLER_EMAIL = "sofia.seller@example.com"
SELLER_PASSWORD = "seller horse battery staple"
# An open lead the demo history's drivers all favour, and one they all hold back.
GOOD = {"lead_source": "trade_show", "budget_status": "will_buy", "rating": "hot"}
BAD = {"lead_source": "advertisement", "budget_status": "no_committed_budget", "rating": "cold"}


# ---------------------------------------------------------------------------------------------- helpers


@pytest.fixture
def history(database: Database, actor: Actor) -> None:
    """A year of closed leads, enough to train on (the demo's planted history)."""
    load_history(database, {"es": actor, "en": actor}, count=200)


@pytest.fixture
def seller(database: Database) -> Actor:
    with database.unit_of_work() as uow:
        create_user(
            email=SELLER_EMAIL,
            full_name="Sofía Seller",
            role_names=["Salesperson"],
            business_unit_name=None,
            password=SELLER_PASSWORD,
            uow=uow,
            actor=None,
        )
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        return actor_for_email(uow.session, SELLER_EMAIL)


def published_model(database: Database, actor: Actor, name: str = "All leads model") -> uuid.UUID:
    """A model trained and published through the services, its open leads scored."""
    with database.unit_of_work() as uow:
        model = service.create_model(ScoringModelIn(name=name), uow=uow, actor=actor)
        version = service.begin_training(model.id, uow=uow, actor=actor)
        uow.commit()
    service.run_training(version.id, database=database, step=lambda _step: None)
    with database.unit_of_work() as uow:
        service.publish(version.id, uow=uow, actor=actor)
        uow.commit()
    service.rescore_all(database=database)
    return model.id


def form_of(**overrides: Any) -> dict[str, Any]:
    """The new model's form as a browser posts it (the default fields checked)."""
    data: dict[str, Any] = {
        "name": "Web leads",
        "scope_kind": "all",
        "scope_business_unit_id": "",
        "scope_lead_source": "",
        "history_months": "12",
        "fields": list(DEFAULT_FIELDS),
        "threshold_A": "75",
        "threshold_B": "50",
        "threshold_C": "25",
        "retrain_days": "30",
    }
    data.update(overrides)
    return data


def post(client: TestClient, path: str, data: dict[str, Any] | None = None, *, page: str | None = None) -> Any:
    """Post a form of the page ``page`` (``path`` by default) with its CSRF token, without following."""
    token = page_csrf(client.get(page or path).text)
    return client.post(path, data={**(data or {}), "csrf_token": token}, follow_redirects=False)


def model_count(database: Database) -> int:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(ScoringModel)) or 0


def versions_of(database: Database, model_id: uuid.UUID) -> dict[int, VersionState]:
    with database.unit_of_work(read_only=True) as uow:
        rows = uow.session.execute(
            select(ScoringVersion.number, ScoringVersion.state).where(ScoringVersion.model_id == model_id)
        )
        return {number: state for number, state in rows}


def create_by_form(client: TestClient, **overrides: Any) -> uuid.UUID:
    response = post(client, "/admin/scoring", form_of(**overrides))
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/admin/scoring/([0-9a-f-]{36})\?notice=created", response.headers["location"])
    assert match is not None, response.headers["location"]
    return uuid.UUID(match.group(1))


# ---------------------------------------------------------------------------------------------- administrators


def test_an_administrator_creates_trains_publishes_restores_and_unpublishes_a_model(
    web_client: TestClient, database: Database, history: None
) -> None:
    listing = web_client.get("/admin/scoring")
    assert listing.status_code == 200
    assert 'href="/admin/scoring"' in listing.text  # the administration menu links the area
    assert 'id="no-scoring-models"' in listing.text
    # The new model's form: every field a model may use, the defaults checked.
    for key in DEFAULT_FIELDS:
        assert f'id="new-model-field-{key}" name="fields" value="{key}" checked' in listing.text

    model_id = create_by_form(web_client)
    page = web_client.get(f"/admin/scoring/{model_id}?notice=created")
    assert "The scoring model was created." in page.text
    assert "Ready to train:" in page.text
    assert 'id="no-versions"' in page.text

    # Train: a job (run at once by the test queue), followed on its page, which leads back to the model.
    trained = post(web_client, f"/admin/scoring/{model_id}/train", page=f"/admin/scoring/{model_id}")
    assert trained.status_code == 303
    job_page = web_client.get(trained.headers["location"])
    assert job_page.status_code == 200
    assert "Scoring model training" in job_page.text
    assert f'href="/admin/scoring/{model_id}?version=' in job_page.text
    assert versions_of(database, model_id) == {1: VersionState.TRAINED}

    page = web_client.get(f"/admin/scoring/{model_id}")
    assert 'id="publish-button-1"' in page.text
    assert 'id="scoring-report"' in page.text
    for table in ("report-periods", "report-grades", "report-calibration", "report-drivers"):
        assert f'id="{table}"' in page.text
    assert "Report of version 1" in page.text
    for grade in "ABCD":
        assert f'id="report-grade-{grade}"' in page.text

    published = post(
        web_client,
        f"/admin/scoring/{model_id}/versions/{_version_id(database, model_id, 1)}/publish",
        page=f"/admin/scoring/{model_id}",
    )
    assert published.status_code == 303
    assert versions_of(database, model_id) == {1: VersionState.PUBLISHED}
    page = web_client.get(published.headers["location"])
    assert "The version was published" in page.text
    assert 'id="unpublish-button"' in page.text
    listing = web_client.get("/admin/scoring")
    row = re.search(rf'<tr id="scoring-model-{model_id}">.*?</tr>', listing.text, re.S)
    assert row is not None and "v1" in row.group(0) and "Ready" in row.group(0)

    # A second version, published: the first is retired, and can be restored.
    post(web_client, f"/admin/scoring/{model_id}/train", page=f"/admin/scoring/{model_id}")
    post(
        web_client,
        f"/admin/scoring/{model_id}/versions/{_version_id(database, model_id, 2)}/publish",
        page=f"/admin/scoring/{model_id}",
    )
    assert versions_of(database, model_id) == {1: VersionState.RETIRED, 2: VersionState.PUBLISHED}
    page = web_client.get(f"/admin/scoring/{model_id}")
    assert 'id="restore-button-1"' in page.text
    restored = post(
        web_client,
        f"/admin/scoring/{model_id}/versions/{_version_id(database, model_id, 1)}/publish",
        page=f"/admin/scoring/{model_id}",
    )
    assert restored.status_code == 303
    assert versions_of(database, model_id) == {1: VersionState.PUBLISHED, 2: VersionState.RETIRED}
    with database.unit_of_work(read_only=True) as uow:
        jobs = list(uow.session.scalars(select(Job.state).where(Job.kind.like("scoring_%"))))
    assert jobs and all(state is JobState.SUCCEEDED for state in jobs)

    unpublished = post(web_client, f"/admin/scoring/{model_id}/unpublish", page=f"/admin/scoring/{model_id}")
    assert unpublished.status_code == 303
    assert VersionState.PUBLISHED not in versions_of(database, model_id).values()
    assert "The model no longer scores leads" in web_client.get(unpublished.headers["location"]).text


def _version_id(database: Database, model_id: uuid.UUID, number: int) -> uuid.UUID:
    with database.unit_of_work(read_only=True) as uow:
        found = uow.session.scalar(
            select(ScoringVersion.id).where(ScoringVersion.model_id == model_id, ScoringVersion.number == number)
        )
    assert found is not None
    return found


def test_the_settings_save_with_the_row_version_and_a_stale_form_is_refused(
    web_client: TestClient, database: Database
) -> None:
    model_id = create_by_form(web_client)
    path = f"/admin/scoring/{model_id}"
    page = web_client.get(path)
    version = re.search(r'name="row_version" value="(\d+)"', page.text)
    assert version is not None
    saved = post(
        web_client,
        path,
        form_of(name="Renamed", threshold_A="80", row_version=version.group(1), auto_publish="1"),
    )
    assert saved.status_code == 303
    assert "Your changes were saved." in web_client.get(saved.headers["location"]).text
    with database.unit_of_work(read_only=True) as uow:
        model = uow.session.get_one(ScoringModel, model_id)
        assert (model.name, model.thresholds["A"], model.auto_publish) == ("Renamed", 80, True)

    stale = post(web_client, path, form_of(name="Stale", row_version=version.group(1)))
    assert stale.status_code in (409, 412)
    assert 'id="reload-record"' in stale.text
    assert 'value="Stale"' in stale.text  # the input stays
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.get_one(ScoringModel, model_id).name == "Renamed"


@pytest.mark.parametrize(
    ("overrides", "message", "field_id"),
    [
        ({"name": ""}, "Name is required.", "new-model-name-error"),
        ({"threshold_A": "20"}, "Grade thresholds must fall from A to C", "new-model-thresholds-error"),
        ({"threshold_B": ""}, "Give the lowest score of grades A, B and C", None),
        (
            {"fields": ["lead_source", "shoe_size"]},
            "The model cannot use this field: shoe_size.",
            "new-model-fields-error",
        ),
        ({"scope_kind": "business_unit"}, "Choose the business unit whose leads the model covers.", None),
        ({"history_months": "0"}, "This value is out of range.", "new-model-history-months-error"),
    ],
    ids=["empty-name", "thresholds-out-of-order", "threshold-missing", "unknown-field", "no-unit", "no-history"],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_is_saved(
    web_client: TestClient, database: Database, overrides: dict[str, Any], message: str, field_id: str | None
) -> None:
    response = post(web_client, "/admin/scoring", form_of(**overrides), page="/admin/scoring")
    assert response.status_code in (400, 409, 422), response.text
    assert 'id="scoring-error"' in response.text
    assert message in response.text or message.lower() in response.text.lower()
    if field_id:
        assert f'id="{field_id}"' in response.text
    assert model_count(database) == 0


def test_a_name_already_taken_is_refused(web_client: TestClient, database: Database) -> None:
    create_by_form(web_client, name="Web leads")
    response = post(web_client, "/admin/scoring", form_of(name="web LEADS"))
    assert response.status_code == 409
    assert "A scoring model already has this name; choose another." in response.text
    assert 'id="new-model-name-error"' in response.text
    assert model_count(database) == 1


def test_too_few_leads_says_how_many_are_missing_and_training_is_refused(
    web_client_for: Callable[..., TestClient], database: Database, actor: Actor
) -> None:
    load_history(database, {"es": actor, "en": actor}, count=30)
    with database.unit_of_work(read_only=True) as uow:
        closed = dict(
            uow.session.execute(
                select(Lead.state, func.count()).where(Lead.closed_at.is_not(None)).group_by(Lead.state)
            ).all()
        )
    qualified = sum(count for state, count in closed.items() if state.value == "qualified")
    disqualified = sum(count for state, count in closed.items() if state.value == "disqualified")
    english = web_client_for()
    model_id = create_by_form(english)
    page = english.get(f"/admin/scoring/{model_id}")
    expected = (
        f"{40 - qualified} qualified and {40 - disqualified} disqualified are missing (at least 40 of each are needed)"
    )
    assert expected in page.text
    refused = post(english, f"/admin/scoring/{model_id}/train", page=f"/admin/scoring/{model_id}")
    assert refused.status_code == 409
    assert (
        f"Training needs at least 40 qualified and 40 disqualified leads in the model's history "
        f"(months of history: 12); it has "
        f"{qualified} and {disqualified}" in html.unescape(refused.text)
    )
    assert versions_of(database, model_id) == {}

    spanish = web_client_for(accept_language="es-ES,es;q=0.9")
    page = spanish.get(f"/admin/scoring/{model_id}")
    assert f"faltan {40 - qualified} calificados y {40 - disqualified} descalificados" in page.text
    refused = post(spanish, f"/admin/scoring/{model_id}/train", page=f"/admin/scoring/{model_id}")
    assert refused.status_code == 409
    assert "El entrenamiento necesita al menos 40 clientes potenciales calificados" in refused.text
    assert versions_of(database, model_id) == {}


def test_the_pages_read_in_spanish(
    web_client_for: Callable[..., TestClient], database: Database, actor: Actor, history: None
) -> None:
    model_id = published_model(database, actor)
    spanish = web_client_for(accept_language="es-ES,es;q=0.9")
    listing = spanish.get("/admin/scoring")
    assert '<h1 id="scoring-title">Puntuación de clientes potenciales</h1>' in listing.text
    assert "Nuevo modelo de puntuación" in listing.text
    assert "Listo" in listing.text
    page = spanish.get(f"/admin/scoring/{model_id}")
    for text in ("Entrenar ahora", "Versiones", "Informe de la versión 1", "Factores más influyentes", "Grado"):
        assert text in page.text
    refused = post(spanish, "/admin/scoring", form_of(threshold_A="10"), page="/admin/scoring")
    assert "Los umbrales de grado deben bajar de A a C" in refused.text
    trained = post(spanish, f"/admin/scoring/{model_id}/train", page=f"/admin/scoring/{model_id}")
    job_page = spanish.get(trained.headers["location"])
    assert "Entrenar el modelo de puntuación All leads model" in job_page.text
    assert "Entrenamiento de modelo de puntuación" in job_page.text
    assert "Entrenada" in spanish.get(f"/admin/scoring/{model_id}").text


def test_a_model_that_does_not_exist_is_a_404_page(web_client: TestClient) -> None:
    assert web_client.get(f"/admin/scoring/{uuid.uuid4()}").status_code == 404
    assert web_client.get("/admin/scoring/not-an-id").status_code == 404


# ---------------------------------------------------------------------------------------------- sellers


def test_a_seller_sees_scores_grades_reasons_and_the_tile_but_not_the_admin_pages(
    web_client_for: Callable[..., TestClient], database: Database, actor: Actor, seller: Actor, history: None
) -> None:
    model_id = published_model(database, actor)
    good = make_lead(database, seller, topic="Good lead", **GOOD)
    bad = make_lead(database, seller, topic="Bad lead", **BAD)
    with database.unit_of_work(read_only=True) as uow:
        good_lead, bad_lead = uow.session.get_one(Lead, good.id), uow.session.get_one(Lead, bad.id)
        assert good_lead.score is not None and bad_lead.score is not None
        assert good_lead.score > bad_lead.score
        good_grade = good_lead.score_grade
    client = web_client_for(SELLER_EMAIL, SELLER_PASSWORD)

    # The list: a score column sortable like the others, each score with its grade badge.
    listing = client.get("/leads?sort=-score")
    assert 'id="sort-score"' in listing.text
    assert 'aria-sort="descending"' in listing.text
    assert listing.text.index(f"lead-row-{good.id}") < listing.text.index(f"lead-row-{bad.id}")
    assert f'class="grade-badge grade-{good_grade.lower()}"' in listing.text
    ascending = client.get("/leads?sort=score")
    assert ascending.text.index(f"lead-row-{bad.id}") < ascending.text.index(f"lead-row-{good.id}")
    # ... and a grade filter.
    filtered = client.get(f"/leads?grade={good_grade}")
    assert f"lead-row-{good.id}" in filtered.text
    assert f'<option value="{good_grade}" selected>' in filtered.text
    other = next(grade for grade in "ABCD" if grade != good_grade)
    assert f"lead-row-{good.id}" not in client.get(f"/leads?grade={other}").text
    unknown = client.get("/leads?grade=Z")
    assert unknown.status_code == 200 and "There is no such grade; showing every grade." in unknown.text

    # The lead page: score, grade, trend and reasons with their effects, the model and when.
    page = client.get(f"/leads/{good.id}")
    assert 'id="lead-score"' in page.text
    assert f'<span class="score-number" id="lead-score-value">{good_lead.score}</span>' in page.text
    assert "Trend: Not enough information" in page.text
    assert 'class="effect up">+' in page.text
    assert "Lead source: Trade Show" in page.text or "Lead source: Trade show" in page.text
    assert "All leads model · v1" in page.text

    # The dashboard: the grades of the open leads the seller may read, linking to the best ones.
    dashboard = client.get("/dashboard")
    assert 'id="lead-grades"' in dashboard.text
    assert 'href="/leads?view=open&amp;grade=A&amp;sort=-score"' in dashboard.text
    assert "Grade A leads untouched for more than 7 days" in dashboard.text or "Every grade A lead" in dashboard.text
    followed = client.get("/leads?view=open&grade=A&sort=-score")
    assert followed.status_code == 200

    # Administration is not the seller's: no link, and the pages refuse.
    assert 'href="/admin/scoring"' not in dashboard.text
    assert client.get("/admin/scoring").status_code == 403
    assert client.get(f"/admin/scoring/{model_id}").status_code == 403
    token = page_csrf(client.get("/leads").text)
    refused = client.post(f"/admin/scoring/{model_id}/train", data={"csrf_token": token}, follow_redirects=False)
    assert refused.status_code == 403
    assert versions_of(database, model_id) == {1: VersionState.PUBLISHED}


def test_a_seller_reads_the_score_in_spanish(
    web_client_for: Callable[..., TestClient], database: Database, actor: Actor, seller: Actor, history: None
) -> None:
    published_model(database, actor)
    good = make_lead(database, seller, topic="Buen lead", **GOOD)
    client = web_client_for(SELLER_EMAIL, SELLER_PASSWORD, accept_language="es-ES,es;q=0.9")
    page = client.get(f"/leads/{good.id}")
    assert "Puntuación del cliente potencial" in page.text
    assert "Tendencia: Información insuficiente" in page.text
    assert "Por qué esta puntuación" in page.text
    listing = client.get("/leads")
    assert "Todos los grados" in listing.text
    assert "Grados de los clientes potenciales" in client.get("/dashboard").text


def test_a_lead_no_model_covers_says_so_and_the_dashboard_shows_no_tile(
    web_client: TestClient, database: Database, actor: Actor
) -> None:
    lead = make_lead(database, actor)
    page = web_client.get(f"/leads/{lead.id}")
    assert 'id="lead-score-message"' in page.text
    assert "No published scoring model covers this lead." in page.text
    assert 'id="lead-grades"' not in web_client.get("/dashboard").text
    listing = web_client.get("/leads")
    assert 'id="sort-score"' in listing.text


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_problem_of_the_form_is_named_next_to_its_field_at_once(
    web_client_for: Callable[..., TestClient], database: Database, language: str
) -> None:
    client = web_client_for(accept_language="es-ES,es;q=0.9" if language == "es" else "en")
    response = post(client, "/admin/scoring", form_of(name="", threshold_A="10"), page="/admin/scoring")
    assert response.status_code == 422
    assert 'id="new-model-name-error"' in response.text
    thresholds = re.search(r'<p class="field-error" id="new-model-thresholds-error">([^<]+)</p>', response.text)
    assert thresholds is not None
    expected = {
        "en": "Grade thresholds must fall from A to C",
        "es": "Los umbrales de grado deben bajar de A a C",
    }[language]
    assert thresholds.group(1).startswith(expected)
    assert 'value="10"' in response.text  # the input stays
    assert model_count(database) == 0
