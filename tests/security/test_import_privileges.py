"""Import and export enforce the same privileges as the forms and the API, from every entry point: a
read-only user imports nothing (refused before a job exists, from the API and the command line alike);
a salesperson's imported leads are their own; an update by import of a record the user may not change
fails that row alone; an export holds only the records the user may read."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadflow.core.config import Settings
from leadflow.core.uow import Database
from leadflow.jobs.models import Job
from leadflow.leads.models import Lead
from leadflow.security.models import User
from tests.conftest import ADMIN_EMAIL, app_for, bearer_headers
from tests.security.test_cli_api_matrix import READER, SELLER, organisation, run_cli, seller_lead

__all__ = ["organisation"]
API = "/api/v1"
CSV = b"Topic,Last Name,Email\r\nImported deal,Ruiz,ruiz@example.com\r\n"


def client_of(database: Database, email: str) -> TestClient:
    return TestClient(app_for(database, Settings(database_url=database.url)), headers=bearer_headers(database, email))


def jobs_and_leads(database: Database) -> tuple[int, int]:
    with database.unit_of_work(read_only=True) as uow:
        return (
            uow.session.scalar(select(func.count()).select_from(Job)) or 0,
            uow.session.scalar(select(func.count()).select_from(Lead)) or 0,
        )


def test_a_read_only_user_imports_nothing_from_the_api_or_the_command_line(organisation: Database, tmp_path: Path):
    database = organisation
    before = jobs_and_leads(database)
    with client_of(database, READER) as client:
        answer = client.post(f"{API}/imports", files={"file": ("l.csv", CSV, "text/csv")}, data={"table": "leads"})
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "forbidden"
    path = tmp_path / "leads.csv"
    path.write_bytes(CSV)
    refused = run_cli(database, READER, ["import", "leads", str(path)])
    assert refused.exit_code == 1 and "(forbidden)" in " ".join(refused.output.split())
    assert jobs_and_leads(database) == before


def test_a_salespersons_imported_leads_are_their_own(organisation: Database):
    with client_of(organisation, SELLER) as client:
        answer = client.post(f"{API}/imports", files={"file": ("l.csv", CSV, "text/csv")}, data={"table": "leads"})
        assert answer.status_code == 202
        assert client.get(answer.headers["Location"]).json()["counts"]["created"] == 1
    with organisation.unit_of_work(read_only=True) as uow:
        owner = uow.session.scalar(select(User.email).join(Lead, Lead.owner_user_id == User.id))
    assert owner == SELLER


def test_updating_a_record_the_user_may_not_change_fails_that_row_alone(organisation: Database):
    with client_of(organisation, ADMIN_EMAIL) as admin:
        answer = admin.post(
            f"{API}/imports",
            files={"file": ("l.csv", b"Topic,Last Name,Email\r\nAdmin's own,Adm,adm@example.com\r\n", "text/csv")},
            data={"table": "leads"},
        )
        assert admin.get(answer.headers["Location"]).json()["counts"]["created"] == 1
    own = seller_lead(organisation)
    with organisation.unit_of_work(read_only=True) as uow:
        admins = uow.session.scalar(select(Lead.id).where(Lead.email == "adm@example.com"))
    content = f"Id,Topic\r\n{admins},Changed by seller\r\n{own},Changed own\r\n".encode()
    with client_of(organisation, SELLER) as client:
        answer = client.post(
            f"{API}/imports",
            files={"file": ("l.csv", content, "text/csv")},
            data={"table": "leads", "on_duplicate": "update", "match_on": "id"},
        )
        assert answer.status_code == 202, answer.text
        counts = client.get(answer.headers["Location"]).json()["counts"]
    assert counts["updated"] == 1 and counts["failed"] == 1
    with organisation.unit_of_work(read_only=True) as uow:
        topics = dict(uow.session.execute(select(Lead.id, Lead.topic)).all())
    assert topics[own] == "Changed own" and topics[admins] == "Admin's own"


def test_an_export_holds_only_what_the_user_may_read(organisation: Database):
    seller_lead(organisation)
    with client_of(organisation, ADMIN_EMAIL) as admin:
        admin.post(
            f"{API}/imports",
            files={"file": ("l.csv", b"Topic,Last Name,Email\r\nHidden,Adm,hidden@example.com\r\n", "text/csv")},
            data={"table": "leads"},
        )
        everything = admin.get(f"{API}/leads", params={"format": "csv"}).content.decode("utf-8-sig")
    with client_of(organisation, SELLER) as client:
        own = client.get(f"{API}/leads", params={"format": "csv"}).content.decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(everything)))) == 3
    rows = list(csv.reader(io.StringIO(own)))
    assert len(rows) == 2 and "Hidden" not in own
