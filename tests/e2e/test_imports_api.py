"""Import over the REST API: a Spanish Excel CSV and a Dynamics export map themselves, rows are saved
by the same services as a form, duplicates are skipped, created or updated as asked, a second import of
the same file adds nothing, bad rows are reported with their reason and an error file. Jobs run at once
here (LEADFLOW_QUEUE_URL=immediate)."""

from __future__ import annotations

import csv
import io
import json

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadflow.core.uow import Database
from leadflow.customers.models import Account, Contact
from leadflow.leads.models import Lead, LeadSource, LeadState

API = "/api/v1"

SPANISH_CSV = (
    "Tema;Nombre;Apellidos;Correo electrónico;Origen del cliente potencial;Importe del presupuesto\r\n"
    "Feria de Madrid;José;Peña;jose@example.es;Feria comercial;25.000,50\r\n"
    "Web de Sevilla;Lucía;Müller;lucia@example.es;Web;1.200\r\n"
).encode("cp1252")


def lead_count(database: Database) -> int:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(Lead)) or 0


def post_import(client: TestClient, content: bytes, name: str = "leads.csv", **form: object) -> dict:
    fields = {
        "table": "leads",
        **{key: str(value).lower() if isinstance(value, bool) else value for key, value in form.items()},
    }
    answer = client.post(f"{API}/imports", files={"file": (name, content, "text/csv")}, data=fields)
    assert answer.status_code == 202, answer.text
    assert answer.headers["Location"] == f"/api/v1/imports/{answer.json()['id']}"
    return client.get(answer.headers["Location"]).json()


def test_a_spanish_excel_csv_in_windows_1252_imports_with_its_spanish_headers(client: TestClient, database: Database):
    result = post_import(client, SPANISH_CSV)
    assert result["state"] == "succeeded", result
    assert result["counts"]["created"] == 2 and result["counts"]["failed"] == 0
    with database.unit_of_work(read_only=True) as uow:
        jose = uow.session.scalar(select(Lead).where(Lead.email == "jose@example.es"))
        assert jose is not None
        assert (jose.first_name, jose.last_name, jose.topic) == ("José", "Peña", "Feria de Madrid")
        assert jose.lead_source is LeadSource.TRADE_SHOW
        assert str(jose.budget_amount) in ("25000.5", "25000.50", "25000.5000")
        lucia = uow.session.scalar(select(Lead).where(Lead.email == "lucia@example.es"))
        assert lucia is not None and lucia.last_name == "Müller" and int(lucia.budget_amount) == 1200


def test_importing_the_same_file_again_with_skip_adds_nothing(client: TestClient, database: Database):
    assert post_import(client, SPANISH_CSV)["counts"]["created"] == 2
    again = post_import(client, SPANISH_CSV)
    assert again["counts"]["created"] == 0 and again["counts"]["skipped"] == 2
    assert lead_count(database) == 2


def test_bad_rows_fail_alone_with_their_reason_and_come_back_in_the_error_file(client: TestClient, database: Database):
    content = (
        b"Topic,Last Name,Email,Budget Amount,Lead Source\r\n"
        b"Good one,Smith,good@example.com,100,Web\r\n"
        b"Bad number,Jones,bad@example.com,lots,Web\r\n"
        b"Bad choice,Brown,brown@example.com,5,Carrier pigeon\r\n"
        b",NoTopic,notopic@example.com,5,Web\r\n"
        b"Ragged,Row\r\n"
    )
    result = post_import(client, content)
    assert result["counts"] == {**result["counts"], "created": 1, "failed": 4}
    assert lead_count(database) == 1
    errors = client.get(f"{API}/imports/{result['id']}/errors")
    assert errors.status_code == 200
    rows = list(csv.reader(io.StringIO(errors.content.decode("utf-8-sig"))))
    assert rows[0] == ["Topic", "Last Name", "Email", "Budget Amount", "Lead Source", "Error"]
    assert [row[0] for row in rows[1:]] == ["Bad number", "Bad choice", "", "Ragged"]
    assert "lots" in rows[1][-1] and "Budget Amount" in rows[1][-1]
    assert "Carrier pigeon" in rows[2][-1]
    assert "Topic" in rows[3][-1]
    assert "header has 5 columns" in rows[4][-1]


def test_the_error_file_speaks_the_users_language(client: TestClient, database: Database):
    content = "Tema;Apellidos;Importe del presupuesto\r\nUno;Pérez;mucho\r\n".encode()
    result = post_import(client, content)
    errors = client.get(f"{API}/imports/{result['id']}/errors", headers={"Accept-Language": "es"})
    text = errors.content.decode("utf-8-sig")
    assert text.splitlines()[0] == "Tema;Apellidos;Importe del presupuesto;Error"
    # Imported by an English-speaking user, read by a Spanish-speaking one: said in Spanish.
    row = list(csv.reader(io.StringIO(text), delimiter=";"))[1]
    assert row == [
        "Uno",
        "Pérez",
        "mucho",
        "Importe del presupuesto «mucho»: No es un número; escríbalo como 25.000,50 o 25000.50.",
    ]
    english = client.get(f"{API}/imports/{result['id']}/errors").content.decode("utf-8-sig")
    assert "'mucho' is not a number" in english.splitlines()[1]


def test_duplicates_are_skipped_created_or_updated_as_asked(client: TestClient, database: Database):
    first = b"Topic,Last Name,Email,Job Title\r\nFirst,Smith,smith@example.com,Buyer\r\n"
    assert post_import(client, first)["counts"]["created"] == 1
    # Another file, same e-mail: the published rule "Leads with the same email address" finds it.
    second = b"Topic,Last Name,Email,Job Title\r\nSecond,Smith,smith@example.com,Chief buyer\r\n"
    skipped = post_import(client, second, on_duplicate="skip")
    assert skipped["counts"]["skipped"] == 1 and lead_count(database) == 1
    updated = post_import(client, second, on_duplicate="update")
    assert updated["counts"]["updated"] == 1 and lead_count(database) == 1
    with database.unit_of_work(read_only=True) as uow:
        lead = uow.session.scalar(select(Lead).where(Lead.email == "smith@example.com"))
        assert lead is not None and lead.job_title == "Chief buyer" and lead.topic == "Second"
    created = post_import(client, second, on_duplicate="create")
    assert created["counts"]["created"] == 1 and lead_count(database) == 2


def test_duplicates_inside_the_file_itself_are_caught(client: TestClient, database: Database):
    content = b"Topic,Last Name,Email\r\nOne,Smith,twin@example.com\r\nTwo,Smith,twin@example.com\r\n"
    result = post_import(client, content, on_duplicate="skip")
    assert result["counts"]["created"] == 1 and result["counts"]["skipped"] == 1
    assert lead_count(database) == 1


def test_a_key_column_says_which_record_to_update(client: TestClient, database: Database):
    post_import(client, b"Topic,Last Name,Email\r\nOne,Smith,key@example.com\r\n")
    result = post_import(
        client, b"Topic,Last Name,Email\r\nRenamed,Smith,KEY@example.com\r\n", on_duplicate="update", match_on="email"
    )
    assert result["counts"]["updated"] == 1
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalar(select(Lead.topic)) == "Renamed"


def test_a_mapping_refused_before_any_row_starts_no_job(client: TestClient, database: Database):
    answer = client.post(
        f"{API}/imports",
        files={"file": ("leads.csv", b"Color,Shape\r\nred,round\r\n", "text/csv")},
        data={"table": "leads"},
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "required_column_unmapped"
    explicit = client.post(
        f"{API}/imports",
        files={"file": ("leads.csv", b"Color,Shape\r\nred,round\r\n", "text/csv")},
        data={"table": "leads", "columns": json.dumps({"Color": "topic", "Shape": "last_name"})},
    )
    assert explicit.status_code == 202
    assert client.get(explicit.headers["Location"]).json()["counts"]["created"] == 1


def test_preview_shows_the_first_rows_as_saved_and_writes_nothing(client: TestClient, database: Database):
    answer = client.post(
        f"{API}/imports/preview", files={"file": ("leads.csv", SPANISH_CSV, "text/csv")}, data={"table": "leads"}
    )
    assert answer.status_code == 200, answer.text
    preview = answer.json()
    assert preview["encoding"] == "cp1252" and preview["delimiter"] == ";"
    assert preview["columns"]["Correo electrónico"] == "email"
    assert [row["status"] for row in preview["rows"]] == ["created", "created"]
    assert preview["rows"][0]["values"]["lead_source"] == "trade_show"
    assert lead_count(database) == 0


def test_a_dry_run_validates_the_whole_file_and_saves_nothing(client: TestClient, database: Database):
    result = post_import(client, SPANISH_CSV, dry_run=True)
    assert result["dry_run"] is True and result["counts"]["created"] == 2
    assert lead_count(database) == 0


def test_create_missing_accounts_creates_the_account_a_contact_names(client: TestClient, database: Database):
    content = b"Last Name,Email,Account Name\r\nDoe,doe@example.com,Contoso\r\nRoe,roe@example.com,Contoso\r\n"
    refused = post_import(client, content, table="contacts")
    assert refused["counts"]["failed"] == 2
    created = post_import(client, content, table="contacts", create_missing_accounts=True)
    assert created["counts"]["created"] == 2
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Account)) == 1
        accounts = set(uow.session.scalars(select(Contact.account_id)))
        assert len(accounts) == 1 and None not in accounts


def test_a_qualify_column_qualifies_those_rows(client: TestClient, database: Database):
    content = b"Topic,Last Name,Company Name,Qualify\r\nYes one,Doe,Fabrikam,yes\r\nNo one,Roe,Litware,no\r\n"
    result = post_import(client, content)
    assert result["counts"]["created"] == 2 and result["counts"]["qualified"] == 1
    with database.unit_of_work(read_only=True) as uow:
        states = dict(uow.session.execute(select(Lead.topic, Lead.state)).all())
    assert states == {"Yes one": LeadState.QUALIFIED, "No one": LeadState.OPEN}
