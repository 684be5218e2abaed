"""The jobs' pages: the list and a job's page in English and Spanish, each user's own jobs (everyone's
for an administrator), Cancel and Retry, the progress a job's page follows while the job runs, the
line of each lead of a bulk qualification; and the administration pages whose work became jobs
follow those jobs, and stop once they have finished."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from leadflow.core.uow import Database
from leadflow.jobs.models import Job, JobState
from leadflow.jobs.queue import JobQueue
from leadflow.jobs.service import create_job
from leadflow.leads.bulk import OnDuplicate
from leadflow.leads.models import Lead, LeadState
from leadflow.leads.schemas import QualifyOptions
from leadflow.leads.service import qualify_lead
from leadflow.security.actor import Actor, actor_for_email
from leadflow.security.service import create_user
from leadflow.tasks import admin as admin_tasks
from leadflow.tasks import qualify as qualify_task
from leadflow.web.areas import jobs as jobs_area
from tests.builtin_rules import make_room_for_a_rule
from tests.factories import make_lead
from tests.web.conftest import page_csrf
from tests.web.test_admin_pages import make_rule

SELLER_EMAIL = "sam.seller@example.com"
OTHER_EMAIL = "olga.other@example.com"
PASSWORD = "a long enough seller password"
SPANISH = "es-ES,es;q=0.9"


# ---------------------------------------------------------------------------------------------- helpers


def make_seller(database: Database, email: str, full_name: str) -> Actor:
    with database.unit_of_work() as uow:
        create_user(
            email=email,
            full_name=full_name,
            role_names=["Salesperson"],
            business_unit_name=None,
            password=PASSWORD,
            uow=uow,
            actor=None,
        )
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        return actor_for_email(uow.session, email)


def queue_of(client: TestClient) -> JobQueue:
    """The app's job queue: in the tests, ``immediate`` (a job handed to it runs at once)."""
    return client.app.state.queue  # type: ignore[attr-defined]


def queued_job(database: Database, actor: Actor, *, kind: str = admin_tasks.RECALCULATE) -> uuid.UUID:
    """A queued job nobody handed to the queue: it stays queued."""
    with database.unit_of_work() as uow:
        job = create_job(uow.session, actor, kind=kind, title="Recalculate open records", parameters={}, total=1)
        uow.commit()
        return job.id


def set_job(database: Database, job_id: uuid.UUID, **values: Any) -> None:
    """Put a job in a state as a worker would have left it."""
    with database.unit_of_work() as uow:
        uow.session.execute(update(Job).where(Job.id == job_id).values(**values))
        uow.commit()


def job_row(database: Database, job_id: uuid.UUID) -> Job:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.get_one(Job, job_id)


def post(client: TestClient, page: str, action: str) -> Any:
    """Send the form of ``action`` from ``page``, with the page's CSRF token, as a browser would."""
    return client.post(action, data={"csrf_token": page_csrf(client.get(page).text)}, follow_redirects=False)


@pytest.fixture
def bulk_job(web_client: TestClient, database: Database, actor: Actor) -> dict[str, Any]:
    """A finished bulk qualification of three leads by the administrator: one qualified, one skipped at
    a duplicate (the account the first one created), one refused (it was qualified already)."""
    first = make_lead(database, actor, company_name="Muebles Ibéricos S.L.", first_name="Lucía", last_name="Prado")
    twin = make_lead(database, actor, company_name="Muebles Ibéricos S.L.", first_name="Marta", last_name="Ruiz")
    closed = make_lead(database, actor, first_name="Pedro", last_name="Sanz")
    with database.unit_of_work() as uow:
        qualify_lead(closed.id, QualifyOptions(), uow=uow, actor=actor)
        uow.commit()
    job = qualify_task.start(
        [first.id, twin.id, closed.id], QualifyOptions(), on_duplicate=OnDuplicate.SKIP, database=database, actor=actor
    )
    queue_of(web_client).enqueue(job.id)
    return {"id": job.id, "qualified": first.id, "skipped": twin.id, "refused": closed.id}


# ---------------------------------------------------------------------------------------------- the list and a job's page


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "en",
            {
                "title": "Qualify leads: 3",
                "kind": "Bulk qualification",
                "state": "Succeeded",
                "progress": "3 of 3 (100%)",
                "qualified": "Qualified",
                "skipped": "Skipped",
                "refused": "Refused",
            },
        ),
        (
            "es",
            {
                "title": "Calificar clientes potenciales: 3",
                "kind": "Calificación masiva",
                "state": "Completado",
                "progress": "3 de 3 (100\xa0%)",
                "qualified": "Calificado",
                "skipped": "Omitido",
                "refused": "Rechazado",
            },
        ),
    ],
)
def test_a_finished_bulk_qualification_is_listed_and_its_page_shows_each_leads_line(
    web_client_for: Callable[..., TestClient], bulk_job: dict[str, Any], language: str, words: dict[str, str]
) -> None:
    client = web_client_for(accept_language=SPANISH if language == "es" else "en")

    listed = client.get("/jobs")

    assert listed.status_code == 200
    row = re.search(rf'<tr id="job-{bulk_job["id"]}".*?</tr>', listed.text, re.DOTALL)
    assert row is not None
    for text in (words["title"], words["kind"], words["state"], words["progress"], "Ada Admin"):
        assert text in row.group(0)
    assert 'class="badge ok"' in row.group(0)

    page = client.get(f"/jobs/{bulk_job['id']}")

    assert page.status_code == 200
    html = page.text
    assert words["title"] in html and words["kind"] in html and f"data-job-badge>{words['state']}<" in html
    assert words["progress"] in html
    assert "data-job-progress" not in html and "/static/jobs.js" not in html  # finished: nothing to follow
    assert 'id="cancel-job"' not in html and 'id="retry-job"' not in html
    for position, status in enumerate(("qualified", "skipped", "refused"), start=1):
        line = re.search(rf'<tr id="item-{position}" class="item-[a-z]+">.*?</tr>', html, re.DOTALL)
        assert line is not None, status
        assert f'href="/leads/{bulk_job[status]}"' in line.group(0) and words[status] in line.group(0)
    first = re.search(r'<tr id="item-1".*?</tr>', html, re.DOTALL).group(0)  # type: ignore[union-attr]
    assert 'href="/accounts/' in first and 'href="/contacts/' in first and "Muebles Ibéricos S.L." in first
    assert "Lucía Prado" in first
    # What the job came to: a count per result.
    summary = re.search(r'<section id="job-summary".*?</section>', html, re.DOTALL).group(0)  # type: ignore[union-attr]
    assert all(words[status] in summary for status in ("qualified", "skipped", "refused"))


def test_a_jobs_lines_are_filtered_by_result_and_paged(
    web_client: TestClient, bulk_job: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    page = f"/jobs/{bulk_job['id']}"

    skipped = web_client.get(f"{page}?status=skipped").text

    assert 'id="item-2"' in skipped and 'id="item-1"' not in skipped and 'id="item-3"' not in skipped
    assert '<option value="skipped" selected>Skipped</option>' in skipped

    monkeypatch.setattr(jobs_area, "ITEMS_PER_PAGE", 2)
    first = web_client.get(page).text
    assert 'id="item-1"' in first and 'id="item-2"' in first and 'id="item-3"' not in first
    following = re.search(r'<a href="([^"]+)" id="items-next">', first)
    assert following is not None and following.group(1) == f"{page}?after=1"
    second = web_client.get(following.group(1)).text
    assert 'id="item-3"' in second and 'id="item-2"' not in second
    assert 'id="items-next"' not in second and f'<a href="{page}" id="items-first">' in second


def test_jobs_are_in_the_navigation_and_a_user_lists_only_their_own(
    web_client_for: Callable[..., TestClient], database: Database, actor: Actor
) -> None:
    seller = make_seller(database, SELLER_EMAIL, "Sam Seller")
    theirs = queued_job(database, seller)
    mine = queued_job(database, actor)
    client = web_client_for(SELLER_EMAIL, PASSWORD)

    assert 'href="/jobs"' in client.get("/").text
    listed = client.get("/jobs").text

    assert f'id="job-{theirs}"' in listed and f'id="job-{mine}"' not in listed
    assert 'id="jobs-mine"' not in listed  # only an administrator chooses whose jobs
    assert f'id="job-{theirs}"' not in client.get("/jobs?state=succeeded").text
    stale = client.get("/jobs?cursor=not-a-cursor")  # an old page link: the first page, with a word
    assert stale.status_code == 422 and 'id="jobs-error"' in stale.text and f'id="job-{theirs}"' in stale.text


def test_another_users_job_is_not_found_and_an_administrator_sees_it(
    web_client_for: Callable[..., TestClient], database: Database, actor: Actor
) -> None:
    seller = make_seller(database, SELLER_EMAIL, "Sam Seller")
    make_seller(database, OTHER_EMAIL, "Olga Other")
    job_id = queued_job(database, seller)
    other = web_client_for(OTHER_EMAIL, PASSWORD, accept_language=SPANISH)

    refused = other.get(f"/jobs/{job_id}")

    assert refused.status_code == 404
    assert "Este trabajo no existe o no es uno de los que puede ver." in refused.text
    assert other.get(f"/jobs/{job_id}/progress").status_code == 404
    assert post(other, "/jobs", f"/jobs/{job_id}/cancel").status_code == 404
    assert f'id="job-{job_id}"' not in other.get("/jobs").text
    assert other.get("/jobs/not-a-job-id").status_code == 404
    assert job_row(database, job_id).state is JobState.QUEUED

    admin = web_client_for()
    listed = admin.get("/jobs").text
    assert f'id="job-{job_id}"' in listed and "Sam Seller" in listed
    assert f'id="job-{job_id}"' not in admin.get("/jobs?mine=true").text
    page = admin.get(f"/jobs/{job_id}")
    assert page.status_code == 200 and 'id="job-started-by">Sam Seller<' in page.text
    assert 'id="cancel-job"' in page.text  # an administrator steers everyone's jobs


# ---------------------------------------------------------------------------------------------- cancel and retry


def test_cancelling_a_queued_job_ends_it_at_once_and_a_second_cancel_is_refused(
    web_client_for: Callable[..., TestClient], database: Database
) -> None:
    seller = make_seller(database, SELLER_EMAIL, "Sam Seller")
    job_id = queued_job(database, seller)
    client = web_client_for(SELLER_EMAIL, PASSWORD, accept_language=SPANISH)
    page = f"/jobs/{job_id}"
    assert 'id="cancel-job"' in client.get(page).text

    canceled = post(client, page, f"{page}/cancel")

    assert canceled.status_code == 303 and canceled.headers["location"] == f"{page}?notice=canceled"
    job = job_row(database, job_id)
    assert job.state is JobState.CANCELED and job.finished_at is not None
    shown = client.get(canceled.headers["location"]).text
    assert "El trabajo se ha cancelado." in shown and "data-job-badge>Cancelado<" in shown
    assert 'id="cancel-job"' not in shown and 'id="retry-job"' in shown
    assert "data-job-progress" not in shown

    again = client.post(f"{page}/cancel", data={"csrf_token": page_csrf(shown)}, follow_redirects=False)

    assert again.status_code == 409
    assert "Este trabajo ya se ha cancelado; no hay nada que cancelar." in again.text


def test_cancelling_a_running_job_asks_it_to_stop_after_its_batch(
    web_client: TestClient, database: Database, actor: Actor
) -> None:
    job_id = queued_job(database, actor)
    set_job(database, job_id, state=JobState.RUNNING, progress_done=0, progress_total=1)

    response = post(web_client, f"/jobs/{job_id}", f"/jobs/{job_id}/cancel")

    assert response.status_code == 303 and response.headers["location"].endswith("?notice=stopping")
    job = job_row(database, job_id)
    assert job.state is JobState.RUNNING and job.cancel_requested
    shown = web_client.get(response.headers["location"]).text
    assert 'id="job-stopping"' in shown and 'id="cancel-job"' not in shown
    assert f'data-job-progress="/jobs/{job_id}/progress"' in shown  # still running: still followed


def test_retrying_a_failed_job_queues_it_again_and_it_runs(
    web_client: TestClient, database: Database, actor: Actor
) -> None:
    job_id = admin_tasks.start_recalculation(database=database, actor=actor).id
    set_job(database, job_id, state=JobState.FAILED, error="The worker ran out of memory.", attempts=1)
    page = f"/jobs/{job_id}"
    failed = web_client.get(page).text
    assert 'id="job-error"' in failed and "The worker ran out of memory." in failed
    assert 'id="retry-job"' in failed and 'id="cancel-job"' not in failed

    retried = post(web_client, page, f"{page}/retry")

    assert retried.status_code == 303 and retried.headers["location"] == f"{page}?notice=retried"
    job = job_row(database, job_id)  # the immediate queue ran it during the request
    assert job.state is JobState.SUCCEEDED and job.error is None
    assert job.summary == {"changed": {"leads": 0, "opportunities": 0}}
    shown = web_client.get(retried.headers["location"]).text
    assert "The job was queued again" in shown and "data-job-badge>Succeeded<" in shown
    assert "0 leads and 0 opportunities changed" in shown

    refused = post(web_client, page, f"{page}/retry")
    assert refused.status_code == 409 and "Only a failed or canceled job can be retried" in refused.text


# ---------------------------------------------------------------------------------------------- following the progress


def test_a_running_job_is_followed_through_its_progress_until_it_has_finished(
    web_client_for: Callable[..., TestClient], database: Database, actor: Actor
) -> None:
    client = web_client_for(accept_language=SPANISH)
    job_id = queued_job(database, actor)
    page = f"/jobs/{job_id}"

    queued = client.get(page).text
    assert f'data-job-progress="/jobs/{job_id}/progress"' in queued and "/static/jobs.js" in queued
    assert f'href="{page}" class="button secondary" id="refresh-job"' in queued  # without JavaScript
    assert client.get(f"{page}/progress").json() == {
        "state": "queued",
        "state_label": "En cola",
        "badge": "",
        "done": 0,
        "total": 1,
        "fraction": 0.0,
        "text": "0 de 1 (0\xa0%)",
        "finished": False,
        "cancel_requested": False,
    }

    set_job(database, job_id, state=JobState.RUNNING, progress_done=250, progress_total=1000)
    running = client.get(f"{page}/progress")
    assert running.headers["content-type"].startswith("application/json")
    assert running.headers["cache-control"] == "no-store"
    assert running.json() == {
        "state": "running",
        "state_label": "En curso",
        "badge": "info",
        "done": 250,
        "total": 1000,
        "fraction": 0.25,
        "text": "250 de 1.000 (25\xa0%)",
        "finished": False,
        "cancel_requested": False,
    }
    assert 'value="250"' in client.get(page).text

    set_job(database, job_id, state=JobState.SUCCEEDED, progress_done=1000)
    finished = client.get(f"{page}/progress").json()
    assert finished["finished"] is True and finished["state_label"] == "Completado"
    assert "data-job-progress" not in client.get(page).text  # the page stops following a finished job


def test_the_progress_script_stops_asking_once_the_job_has_finished(web_client: TestClient) -> None:
    script = web_client.get("/static/jobs.js")

    assert script.status_code == 200
    # Asked again only while unfinished; once finished the page loads once more, and asks nothing more.
    assert re.search(r"if \(job\.finished\) \{\s*window\.location\.reload\(\);\s*\} else \{\s*later\(\);", script.text)
    assert "setInterval" not in script.text


# ---------------------------------------------------------------------------------------------- words


def test_every_kind_and_state_of_job_is_named_in_spanish() -> None:
    kinds = {kind: jobs_area.kind_label("es", kind) for kind in jobs_area.JOB_KIND_LABELS}
    states = {state.value: jobs_area.label("es", jobs_area.JOB_STATE_LABELS, state) for state in JobState}

    assert kinds == {
        "bulk_qualify": "Calificación masiva",
        "duplicate_scan": "Búsqueda de duplicados",
        "rule_publish": "Publicación de regla",
        "currency_recalculation": "Recálculo de divisas",
        "import": "Importación",
        "export": "Exportación",
        "email_send": "Envío de correo electrónico",
        "scoring_train": "Entrenamiento de modelo de puntuación",
        "scoring_rescore": "Puntuación de clientes potenciales",
    }
    assert states == {
        "queued": "En cola",
        "running": "En curso",
        "succeeded": "Completado",
        "failed": "Error",
        "canceled": "Cancelado",
    }
    assert jobs_area.kind_label("en", "duplicate_scan") == "Find duplicates"
    assert jobs_area.job_title("es", "Send the e-mail Oferta 2027") == "Enviar el correo electrónico Oferta 2027"
    assert jobs_area.job_title("es", "Find all duplicates in accounts") == "Buscar todos los duplicados en Cuentas"
    assert jobs_area.job_title("es", "Publish the rule Leads with the same email address") == (
        "Publicar la regla Clientes potenciales con la misma dirección de correo electrónico"
    )
    assert jobs_area.job_title("es", "Recalculate open records") == "Recalcular los registros abiertos"
    assert jobs_area.job_title("es", "Something else") == "Something else"


def test_the_audit_log_names_what_was_done_to_jobs_in_spanish(
    web_client_for: Callable[..., TestClient], bulk_job: dict[str, Any]
) -> None:
    client = web_client_for(accept_language=SPANISH)
    post(client, f"/jobs/{bulk_job['id']}", f"/jobs/{bulk_job['id']}/retry")  # refused: it succeeded

    audit = client.get("/admin/audit?table=jobs").text

    assert "Calificar clientes potenciales: 3" in audit and "<td>Trabajos</td>" in audit
    assert "Qualify" not in audit


# ---------------------------------------------------------------------------------------------- the pages of the work jobs do


def test_a_started_duplicate_scan_is_a_job_whose_page_links_the_duplicate_sets(
    web_client: TestClient, database: Database, actor: Actor
) -> None:
    page = web_client.get("/admin/duplicates").text
    response = web_client.post(
        "/admin/duplicates/jobs", data={"csrf_token": page_csrf(page), "table": "accounts"}, follow_redirects=False
    )
    assert response.status_code == 303
    duplicate_job_page = response.headers["location"]
    shown = web_client.get(duplicate_job_page).text
    assert 'id="job-state">Completed<' in shown
    assert "data-job-progress" not in shown and 'http-equiv="refresh"' not in shown
    job_link = re.search(r'<a href="(/jobs/[0-9a-f-]+)" id="filling-job-link">', shown)
    assert job_link is not None

    job_page = web_client.get(job_link.group(1)).text

    assert "Find duplicates" in job_page and "data-job-badge>Succeeded<" in job_page
    assert f'<a href="{duplicate_job_page}" id="duplicate-job-link">' in job_page


def test_a_duplicate_job_page_follows_its_job_and_stops_once_the_job_ended(
    web_client: TestClient, database: Database, actor: Actor
) -> None:
    found, job = admin_tasks.start_scan("accounts", database=database, actor=actor)  # not handed to the queue
    page = f"/admin/duplicates/jobs/{found.id}"

    waiting = web_client.get(page).text

    assert f'data-job-progress="/jobs/{job.id}/progress"' in waiting and "/static/jobs.js" in waiting
    assert 'id="refresh-job"' in waiting and 'http-equiv="refresh"' not in waiting

    post(web_client, f"/jobs/{job.id}", f"/jobs/{job.id}/cancel")
    ended = web_client.get(page).text

    assert "data-job-progress" not in ended and "/static/jobs.js" not in ended
    assert 'id="job-ended"' in ended and "Canceled" in ended


def test_a_rule_being_published_follows_its_job_and_stops_once_the_job_ended(
    web_client: TestClient, database: Database, actor: Actor
) -> None:
    make_room_for_a_rule(database, actor, "accounts")  # accounts have five published out-of-box rules
    rule_id = make_rule(database, actor, "Accounts by city", column="address_city")
    _rule, job = admin_tasks.start_publish(rule_id, database=database, actor=actor)  # not handed to the queue
    page = f"/admin/duplicate-rules/{rule_id}"

    publishing = web_client.get(page).text

    assert 'id="rule-state">Publishing<' in publishing
    assert f'data-job-progress="/jobs/{job.id}/progress"' in publishing and 'id="publish-progress-bar"' in publishing
    assert 'http-equiv="refresh"' not in publishing and f'href="/jobs/{job.id}" id="publishing-job-link"' in publishing

    post(web_client, f"/jobs/{job.id}", f"/jobs/{job.id}/cancel")
    ended = web_client.get(page).text

    assert "data-job-progress" not in ended and 'http-equiv="refresh"' not in ended
    assert 'id="publishing-ended"' in ended

    job_page = web_client.get(f"/jobs/{job.id}").text
    assert "Rule publishing" in job_page and f'<a href="{page}" id="rule-link">' in job_page


def test_a_lead_that_was_qualified_by_a_job_is_qualified(database: Database, bulk_job: dict[str, Any]) -> None:
    with database.unit_of_work(read_only=True) as uow:
        states = {key: uow.session.get_one(Lead, bulk_job[key]).state for key in ("qualified", "skipped", "refused")}
    assert states == {"qualified": LeadState.QUALIFIED, "skipped": LeadState.OPEN, "refused": LeadState.QUALIFIED}
