"""Export over the REST API: a view as CSV (UTF-8 with BOM, ";" for Spanish users) or XLSX, formulas
neutralised, the view's filter and sort kept; an export as a job; and the round trip: a view exported
and imported again with "update the match" changes nothing."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import openpyxl
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadflow.core.uow import Database
from leadflow.customers.models import Account
from leadflow.customers.schemas import AccountCreate
from leadflow.customers.service import create_account
from leadflow.leads.models import Lead, LeadSource, Rating
from leadflow.security.actor import Actor
from tests.factories import make_lead

API = "/api/v1"


def rows_of(answer) -> list[list[str]]:  # type: ignore[no-untyped-def]
    assert answer.status_code == 200, answer.text
    assert answer.content.startswith(b"\xef\xbb\xbf"), "no BOM: Excel would misread the accents"
    text = answer.content.decode("utf-8-sig")
    delimiter = ";" if text.splitlines()[0].count(";") > text.splitlines()[0].count(",") else ","
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def snapshot(database: Database) -> list[tuple]:
    with database.unit_of_work(read_only=True) as uow:
        return [
            (lead.id, lead.row_version, lead.modified_at, lead.topic, lead.email, lead.budget_amount, lead.rating)
            for lead in uow.session.scalars(select(Lead).order_by(Lead.id))
        ]


def test_a_lead_view_exports_to_csv_with_its_filter_and_sort(client: TestClient, database: Database, actor: Actor):
    make_lead(database, actor, topic="Bravo", last_name="Peña", rating="hot")
    make_lead(database, actor, topic="Alpha", last_name="Gil", rating="hot")
    make_lead(database, actor, topic="Cold one", last_name="Ruiz", rating="cold")
    answer = client.get(f"{API}/leads", params={"format": "csv", "rating": "hot", "sort": "topic"})
    assert answer.headers["content-disposition"].startswith("attachment")
    rows = rows_of(answer)
    assert rows[0][:3] == ["Id", "Topic", "First name"]
    topics = [row[1] for row in rows[1:]]
    assert topics == ["Alpha", "Bravo"]


def test_a_spanish_user_gets_semicolons_decimal_commas_and_spanish_labels(
    client: TestClient, database: Database, actor: Actor
):
    make_lead(database, actor, topic="Feria", last_name="Peña", budget_amount="25000.5", lead_source="trade_show")
    answer = client.get(f"{API}/leads", params={"format": "csv"}, headers={"Accept-Language": "es"})
    text = answer.content.decode("utf-8-sig")
    header = text.splitlines()[0].split(";")
    assert "Tema" in header and "Apellidos" in header
    row = next(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert row["Apellidos"] == "Peña"
    assert row["Presupuesto estimado"] == "25000,50"
    assert row["Origen del cliente potencial"] == "Feria comercial"


def test_cells_that_would_run_as_formulas_are_neutralised(client: TestClient, database: Database, actor: Actor):
    make_lead(database, actor, topic='=HYPERLINK("http://evil.example","click")', last_name="@SUM(A1)")
    rows = rows_of(client.get(f"{API}/leads", params={"format": "csv"}))
    assert rows[1][1] == '\'=HYPERLINK("http://evil.example","click")'
    xlsx = client.get(f"{API}/leads", params={"format": "xlsx"})
    assert xlsx.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    topic = sheet.cell(row=2, column=2)
    assert topic.value.startswith("'=") and topic.data_type == "s"


def test_accounts_export_to_xlsx(client: TestClient, database: Database, actor: Actor):
    with database.unit_of_work() as uow:
        create_account(AccountCreate(name="Contoso Ibérica", telephone="+34 600 000 000"), uow=uow, actor=actor)
        uow.commit()
    answer = client.get(f"{API}/accounts", params={"format": "xlsx"})
    assert answer.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][:3] == ["Id", "Account name", "Phone"]
    assert values[1][1] == "Contoso Ibérica" and values[1][2] == "'+34 600 000 000"


def test_a_big_export_runs_as_a_job_and_its_file_downloads(client: TestClient, database: Database, actor: Actor):
    make_lead(database, actor, topic="Uno", last_name="Peña")
    started = client.post(f"{API}/exports", json={"table": "leads", "format": "csv"})
    assert started.status_code == 202, started.text
    job = client.get(started.headers["Location"]).json()
    assert job["state"] == "succeeded" and job["summary"]["rows"] == 1
    rows = rows_of(client.get(f"{API}/exports/{job['id']}/file"))
    assert [row[1] for row in rows[1:]] == ["Uno"]


def test_an_exported_view_imported_again_with_update_changes_nothing(
    client: TestClient, database: Database, actor: Actor
):
    with database.unit_of_work() as uow:
        account = create_account(AccountCreate(name="Fabrikam"), uow=uow, actor=actor)
        uow.commit()
    make_lead(
        database,
        actor,
        topic="Feria de Madrid",
        first_name="José",
        last_name="Peña",
        email="jose@example.es",
        business_phone="+34 600 111 222",
        budget_amount="25000.5",
        lead_source="trade_show",
        rating="warm",
        decision_maker=True,
        parent_account_id=str(account.id),
    )
    make_lead(database, actor, topic="Web lead", last_name="Gil", description="line one\nline two; with, separators")
    before = snapshot(database)
    for language in ("en", "es"):
        exported = client.get(f"{API}/leads", params={"format": "csv"}, headers={"Accept-Language": language})
        answer = client.post(
            f"{API}/imports",
            files={"file": ("leads.csv", exported.content, "text/csv")},
            data={"table": "leads", "on_duplicate": "update", "match_on": "id"},
            headers={"Accept-Language": language},
        )
        assert answer.status_code == 202, answer.text
        result = client.get(answer.headers["Location"]).json()
        assert result["counts"]["unchanged"] == 2, result
        assert result["counts"]["failed"] == 0 and result["counts"]["updated"] == 0
        assert snapshot(database) == before
    with database.unit_of_work(read_only=True) as uow:
        jose = uow.session.scalar(select(Lead).where(Lead.email == "jose@example.es"))
        assert jose is not None and jose.budget_amount == Decimal("25000.5")
        assert jose.lead_source is LeadSource.TRADE_SHOW and jose.rating is Rating.WARM
        assert jose.parent_account_id == account.id
        assert uow.session.scalar(select(Account.name)) == "Fabrikam"
