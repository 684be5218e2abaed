"""`leadflow leads qualify --view … --all --job` and `leadflow jobs list|show|wait|cancel|retry`,
answering what the API answers (the queue runs each job at once in the tests: LEADFLOW_QUEUE_URL=immediate)."""

from __future__ import annotations

from leadflow.jobs.service import create_job
from tests.e2e.helpers import API
from tests.factories import make_lead
from tests.integration.test_cli_json import cli_json, leadflow


def test_a_view_qualified_as_a_job_from_the_command_line(database, client, actor):
    leads = [make_lead(database, actor, company_name=f"Firm {name}", last_name=name) for name in ("Okoro", "Lindqvist")]
    done = leadflow(database, "leads", "qualify", "--view", "open", "--all", "--job")
    assert done.exit_code == 0, done.output
    assert "succeeded" in done.stdout and "2 qualified" in done.stdout
    for lead in leads:
        assert client.get(f"{API}/leads/{lead.id}").json()["state"] == "qualified"

    [job] = cli_json(database, "jobs", "list")["items"]
    assert job == client.get(f"{API}/jobs/{job['id']}").json()
    assert (job["kind"], job["state"], job["progress"]) == ("bulk_qualify", "succeeded", {"done": 2, "total": 2})
    assert cli_json(database, "jobs", "show", job["id"]) == job
    assert leadflow(database, "jobs", "wait", job["id"]).exit_code == 0

    finished = leadflow(database, "jobs", "cancel", job["id"])
    assert finished.exit_code == 1 and "nothing to cancel" in finished.output


def test_cancel_and_retry_from_the_command_line(database, client, actor):
    with database.unit_of_work() as uow:
        queued = create_job(uow.session, actor, kind="currency_recalculation", title="Recalculate", parameters={})
        uow.commit()
    canceled = leadflow(database, "jobs", "cancel", str(queued.id))
    assert canceled.exit_code == 0, canceled.output
    assert client.get(f"{API}/jobs/{queued.id}").json()["state"] == "canceled"

    retried = leadflow(database, "jobs", "retry", str(queued.id))
    assert retried.exit_code == 0, retried.output
    assert "succeeded" in retried.stdout
    assert client.get(f"{API}/jobs/{queued.id}").json()["summary"] == {"changed": {"opportunities": 0, "leads": 0}}
