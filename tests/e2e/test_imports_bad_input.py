"""Bad files and bad rows get a clear answer, never a 5xx, and nothing half written: wrong encodings,
ragged rows, empty files, unknown headers, dates and numbers in either locale, values too long,
options in neither language, a lookup that matches several records, a zip bomb, an XLSX with an
external entity, a file over the limit, and bytes of any kind."""

from __future__ import annotations

import io
import json
import zipfile

import openpyxl
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from leadflow.core.config import Settings
from leadflow.core.uow import Database
from leadflow.customers.schemas import AccountCreate
from leadflow.customers.service import create_account
from leadflow.jobs.models import Job
from leadflow.leads.models import Lead
from leadflow.security.actor import Actor
from leadflow.transfer.models import TransferFile
from tests.conftest import ADMIN_EMAIL, app_for, bearer_headers

API = "/api/v1"


def counts(database: Database) -> tuple[int, int, int]:
    with database.unit_of_work(read_only=True) as uow:
        return tuple(  # type: ignore[return-value]
            uow.session.scalar(select(func.count()).select_from(model)) or 0 for model in (Lead, Job, TransferFile)
        )


def send(client: TestClient, content: bytes, name: str = "leads.csv", **form: str):  # type: ignore[no-untyped-def]
    return client.post(f"{API}/imports", files={"file": (name, content, "text/csv")}, data={"table": "leads", **form})


def refused(client: TestClient, database: Database, content: bytes, code: str, *, status: int = 422, **form: str):  # type: ignore[no-untyped-def]
    before = counts(database)
    answer = send(client, content, **form)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code
    assert counts(database) == before, "a refused file left something behind"
    return answer.json()["error"]


def rows_of(client: TestClient, content: bytes, **form: str) -> tuple[dict, list[dict]]:
    answer = send(client, content, **form)
    assert answer.status_code == 202, answer.text
    result = client.get(answer.headers["Location"]).json()
    items = client.get(f"{API}/jobs/{result['id']}/items").json()["items"]
    return result, items


def test_files_that_are_not_tables_are_refused_whole(client: TestClient, database: Database):
    refused(client, database, b"", "empty_file")
    refused(client, database, b"\xef\xbb\xbf   \r\n", "empty_file")
    refused(client, database, b"\x89PNG\r\n\x1a\n" + bytes(200), "not_a_table")
    refused(client, database, bytes.fromhex("d0cf11e0a1b11ae1") + bytes(600), "not_a_table", name="old.xls")
    refused(client, database, b"PK\x03\x04 this is no zip at all", "not_a_table", name="broken.xlsx")


def test_headers_the_table_does_not_know_leave_required_columns_unmapped(client: TestClient, database: Database):
    error = refused(client, database, b"Colour;Shape\r\nred;round\r\n", "required_column_unmapped")
    assert "topic" in error["message"]
    mapped = json.dumps({"Colour": "favourite_colour"})
    refused(client, database, b"Colour;Shape\r\nred;round\r\n", "column_not_importable", columns=mapped)
    refused(client, database, b"Colour;Shape\r\nred;round\r\n", "invalid_columns", columns="[1, 2]")
    twice = json.dumps({"Colour": "topic", "Shape": "topic"})
    refused(client, database, b"Colour;Shape\r\nred;round\r\n", "column_mapped_twice", columns=twice)


def test_a_file_over_the_limit_is_refused_before_it_is_read(database: Database):
    small = Settings(database_url=database.url, max_import_bytes=4096)
    with TestClient(app_for(database, small), headers=bearer_headers(database, ADMIN_EMAIL)) as client:
        before = counts(database)
        answer = send(client, b"Topic,Last Name\r\n" + b"Deal,Smith\r\n" * 2000)
        assert answer.status_code == 413
        assert answer.json()["error"]["code"] == "file_too_large"
        assert counts(database) == before


def test_a_zip_bomb_is_refused_unopened(client: TestClient, database: Database):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            zeros = bytes(1024 * 1024)
            for _ in range(300):
                member.write(zeros)
    assert len(buffer.getvalue()) < 2 * 1024 * 1024
    refused(client, database, buffer.getvalue(), "unsafe_file", name="bomb.xlsx")


def test_an_xlsx_with_an_external_entity_is_refused(client: TestClient, database: Database):
    workbook = openpyxl.Workbook()
    workbook.active.append(["Topic", "Last Name"])
    workbook.active.append(["Deal", "Smith"])
    plain = io.BytesIO()
    workbook.save(plain)
    evil = io.BytesIO()
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(evil, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                start = text.index("?>") + 2 if "?>" in text else 0
                text = text[:start] + '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + text[start:]
                data = text.replace("<v>", "<v>&e;", 1).encode()
            target.writestr(item, data)
    error = refused(client, database, evil.getvalue(), "unsafe_file", name="evil.xlsx")
    assert "root:" not in json.dumps(error)


def test_rows_with_bad_values_fail_alone_with_a_clear_reason(client: TestClient, database: Database, actor: Actor):
    with database.unit_of_work() as uow:
        for _ in range(2):
            create_account(AccountCreate(name="Contoso"), uow=uow, actor=actor, suppress_duplicates=True)
        uow.commit()
    content = (
        "Topic;Last Name;Budget Amount;Purchase Timeframe;Existing Account;Email;Job Title\r\n"
        "Good;Ruiz;25.000,50;Este trimestre;;good@example.com;Buyer\r\n"
        "Bad number;Gil;25,000.50.1;;;;\r\n"
        "Bad option;Gil;;Someday;;;\r\n"
        "Two accounts;Gil;;;Contoso;;\r\n"
        "Too long;Gil;;;;;" + "x" * 101 + "\r\n"
        "Bad email;Gil;;;;not-an-email;\r\n"
        "Ragged;Gil\r\n"
    ).encode()
    result, items = rows_of(client, content)
    assert result["counts"]["created"] == 1 and result["counts"]["failed"] == 6
    by_row = {item["data"]["row"]: item for item in items}
    assert by_row[2]["status"] == "created"
    assert "Budget Amount" in by_row[3]["message"] and "25,000.50.1" in by_row[3]["message"]
    assert "Someday" in by_row[4]["message"]
    assert "several accounts" in by_row[5]["message"]
    assert "Job Title" in by_row[6]["message"] and "too long" in by_row[6]["message"]
    assert "Email" in by_row[7]["message"]
    assert by_row[8]["code"] == "ragged_row"
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Lead)) == 1


def test_dates_and_numbers_read_in_either_locale(client: TestClient, database: Database):
    content = (
        b"Name,Potential Customer,Est. Revenue,Est. Close Date\r\n"
        b'"Big deal",,"25,000.50",12/31/2026\r\n'
        b'"Other deal",,"1,234",2026-03-04\r\n'
        b'"Bad date",,5,31/02/2026\r\n'
    )
    result, items = rows_of(client, content, table="opportunities")
    assert result["counts"]["created"] == 2 and result["counts"]["failed"] == 1
    spanish = b"Tema;Ingresos estimados;Fecha de cierre estimada\r\nTrato;25.000,50;31/12/2026\r\n"
    result, items = rows_of(client, spanish, table="opportunities")
    assert result["counts"]["created"] == 1, items
    listed = client.get(f"{API}/opportunities").json()["items"]
    amounts = {item["name"]: (item["estimated_revenue"], item["estimated_close_date"]) for item in listed}
    assert amounts["Big deal"] == ("25000.5000", "2026-12-31") or amounts["Big deal"][1] == "2026-12-31"
    assert amounts["Trato"][1] == "2026-12-31" and float(amounts["Trato"][0]) == 25000.5
    assert float(amounts["Other deal"][0]) == 1234


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=600), name=st.sampled_from(["leads.csv", "leads.xlsx", "x"]))
def test_no_bytes_whatever_get_a_server_error(client: TestClient, content: bytes, name: str):
    answer = send(client, content, name=name)
    assert answer.status_code < 500, answer.text
    preview = client.post(
        f"{API}/imports/preview", files={"file": (name, content, "text/csv")}, data={"table": "leads"}
    )
    assert preview.status_code < 500, preview.text
