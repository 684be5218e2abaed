"""The import wizard and the export links, through the pages as a browser sends them: a Spanish Excel
CSV of leads uploaded, its columns mapped by their Spanish names, the first rows previewed without a
write, the import run as a job whose page counts the rows and links the rows that failed; refusals in
the user's language; a file kept for one user is nobody else's; every form needs its CSRF token; the
lists download as CSV (Spanish: ";" and decimal commas, with the BOM) and as Excel, the leads' with the
list's view."""

from __future__ import annotations

import csv
import html
import io
import re
import uuid
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from leadflow.core.config import Settings
from leadflow.core.uow import Database
from leadflow.customers.models import Account
from leadflow.customers.schemas import AccountCreate
from leadflow.customers.service import create_account
from leadflow.jobs.models import Job, JobState
from leadflow.leads.models import Lead, LeadSource, LeadStatusReason
from leadflow.leads.service import disqualify_lead
from leadflow.security.actor import Actor
from leadflow.tasks import transfer as transfer_tasks
from leadflow.transfer import service
from leadflow.transfer.models import TransferTable
from tests.factories import make_lead
from tests.web.conftest import page_csrf
from tests.web.test_jobs_pages import OTHER_EMAIL, PASSWORD, SELLER_EMAIL, make_seller, queue_of
from tests.web.test_leads_pages import form_fields

SPANISH = "es-ES,es;q=0.9"
# What Excel in Spanish saves as "CSV (delimitado por comas)": Windows-1252, ";" between values,
# a decimal comma and a dot between thousands.
SPANISH_CSV = (
    "Tema;Nombre;Apellidos;Correo electrónico;Origen del cliente potencial;Presupuesto estimado;Color favorito\r\n"
    "Feria de Madrid;José;Peña;jose@example.es;Feria comercial;25.000,50;azul\r\n"
    "Web de Sevilla;Lucía;Müller;lucia@example.es;Web;1.200;verde\r\n"
).encode("cp1252")


# ---------------------------------------------------------------------------------------------- helpers


def upload(client: TestClient, content: bytes, *, name: str = "leads.csv", table: str = "leads", **form: str) -> Any:
    """Send the first step's form with a file, as a browser does."""
    token = page_csrf(client.get("/imports").text)
    return client.post(
        "/imports",
        data={"csrf_token": token, "table": table, **form},
        files={"file": (name, content, "text/csv")},
        follow_redirects=False,
    )


def kept_file_id(answer: Any) -> uuid.UUID:
    assert answer.status_code == 303, answer.text
    found = re.fullmatch(r"/imports/files/([0-9a-f-]{36})/map", answer.headers["location"])
    assert found, answer.headers["location"]
    return uuid.UUID(found.group(1))


def select_of(page_html: str, label_text: str) -> re.Match[str]:
    """The select of the column of the file whose header is ``label_text``."""
    row = re.search(
        rf'<label for="(col-\d+)">{re.escape(html.escape(label_text))}</label>.*?<select id="\1" name="(col_\d+)">(.*?)</select>',
        page_html,
        re.DOTALL,
    )
    assert row is not None, f"no column {label_text!r} on the page"
    return row


def chosen(options_html: str) -> str:
    found = re.search(r'<option value="([^"]*)" selected>', options_html)
    return found.group(1) if found else ""


def visible_text(page_html: str) -> str:
    """The page's text as a reader sees it: tags out, entities decoded, spaces squeezed."""
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page_html, flags=re.DOTALL)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def lead_count(database: Database) -> int:
    with database.unit_of_work(read_only=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(Lead)) or 0


def csv_rows(content: bytes, delimiter: str) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "no BOM: Excel would not read the file as UTF-8"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=delimiter))


# ---------------------------------------------------------------------------------------------- the wizard


@pytest.mark.parametrize(
    ("accept_language", "words"),
    [
        (
            "en",
            {
                "map": "Column mapping",
                "would": "Would be created",
                "title": "Import leads from ventas.csv",
                "created": "Rows created",
                "failed": "Rows that failed",
            },
        ),
        (
            SPANISH,
            {
                "map": "Asignación de columnas",
                "would": "Se crearía",
                "title": "Importar clientes potenciales de ventas.csv",
                "created": "Filas creadas",
                "failed": "Filas con errores",
            },
        ),
    ],
)
def test_a_spanish_excel_csv_of_leads_goes_through_the_wizard_and_becomes_leads(
    web_client_for: Callable[..., TestClient], database: Database, accept_language: str, words: dict[str, str]
) -> None:
    client = web_client_for(accept_language=accept_language)
    file_id = kept_file_id(upload(client, SPANISH_CSV, name="ventas.csv"))

    # Step 2: the Spanish headers map themselves; a column leadflow does not know is left out.
    mapping = client.get(f"/imports/files/{file_id}/map")
    assert mapping.status_code == 200
    assert words["map"] in mapping.text
    assert chosen(select_of(mapping.text, "Correo electrónico").group(3)) == "email"
    assert chosen(select_of(mapping.text, "Tema").group(3)) == "topic"
    assert chosen(select_of(mapping.text, "Presupuesto estimado").group(3)) == "budget_amount"
    assert chosen(select_of(mapping.text, "Color favorito").group(3)) == ""
    assert "jose@example.es" in mapping.text  # the first row, as an example of each column
    assert "CSV · Windows-1252 · " in visible_text(mapping.text)

    # Step 3: the first rows as they would be saved; nothing is written.
    fields = form_fields(mapping.text, "map-form")
    assert fields["numbers"] == "" and fields["on_duplicate"] == "skip"
    preview = client.post(f"/imports/files/{file_id}/preview", data=fields)
    assert preview.status_code == 200, preview.text
    assert visible_text(preview.text).count(words["would"]) == 2
    assert len(re.findall(r'data-status="created"', preview.text)) == 2
    assert "25.000,5" in preview.text if accept_language == SPANISH else "25,000.5" in preview.text
    assert lead_count(database) == 0

    # Run: a job, followed on its page, which counts what the rows came to.
    run = client.post(
        f"/imports/files/{file_id}/run", data=form_fields(preview.text, "run-form"), follow_redirects=False
    )
    assert run.status_code == 303, run.text
    job_page = client.get(run.headers["location"])
    assert job_page.status_code == 200
    text = visible_text(job_page.text)
    assert words["title"] in text
    assert re.search(rf"{words['created']} 2\b", text), text
    assert words["failed"] in text
    assert 'id="failed-rows-link"' not in job_page.text  # no row failed: nothing to download
    assert lead_count(database) == 2
    with database.unit_of_work(read_only=True) as uow:
        jose = uow.session.scalars(select(Lead).where(Lead.email == "jose@example.es")).one()
        assert f'<a href="/leads/{jose.id}">José Peña</a>' in job_page.text  # each row's line links its lead
        assert (jose.topic, jose.first_name, jose.last_name) == ("Feria de Madrid", "José", "Peña")
        assert jose.lead_source is LeadSource.TRADE_SHOW
        assert str(jose.budget_amount).startswith("25000.5")

    # The same file is imported once: running it again is refused on the mapping page.
    again = client.post(f"/imports/files/{file_id}/run", data=form_fields(preview.text, "run-form"))
    assert again.status_code == 409
    assert 'id="map-error"' in again.text
    assert lead_count(database) == 2

    # The first step lists the import among the user's recent ones.
    first = client.get("/imports")
    assert words["title"] in visible_text(first.text)


def test_a_dry_run_checks_the_whole_file_saves_nothing_and_hands_out_the_rows_that_failed(
    web_client_for: Callable[..., TestClient], database: Database
) -> None:
    client = web_client_for(accept_language=SPANISH)
    content = (
        "Tema;Apellidos;Correo electrónico;Presupuesto estimado\r\n"
        "Uno;Pérez;uno@example.es;100\r\n"
        "Dos;Gómez;dos@example.es;mucho\r\n"
    ).encode("cp1252")
    file_id = kept_file_id(upload(client, content))
    fields = form_fields(client.get(f"/imports/files/{file_id}/map").text, "map-form")
    preview = client.post(f"/imports/files/{file_id}/preview", data=fields)
    assert 'data-status="failed"' in preview.text and "Fallaría" in preview.text
    assert "mucho" in preview.text  # the failed row shows the file's text, with its problem

    dry = {**form_fields(preview.text, "run-form"), "dry_run": "1"}
    run = client.post(f"/imports/files/{file_id}/run", data=dry, follow_redirects=False)
    assert run.status_code == 303
    job_page = client.get(run.headers["location"])
    text = visible_text(job_page.text)
    assert "Simulación: clientes potenciales de leads.csv" in text
    assert "Ha sido una simulación" in text
    assert re.search(r"Filas creadas 1\b", text) and re.search(r"Filas con errores 1\b", text)
    assert lead_count(database) == 0

    link = re.search(r'<a href="([^"]+)" class="button secondary" id="failed-rows-link" download>', job_page.text)
    assert link is not None
    errors = client.get(html.unescape(link.group(1)))
    assert errors.status_code == 200
    assert errors.headers["content-disposition"].startswith("attachment;")
    assert errors.headers["x-content-type-options"] == "nosniff"
    rows = csv_rows(errors.content, ";")
    assert rows[0] == ["Tema", "Apellidos", "Correo electrónico", "Presupuesto estimado", "Error"]
    assert rows[1][:4] == ["Dos", "Gómez", "dos@example.es", "mucho"] and rows[1][4]

    # A dry run does not use the file up: the import itself runs afterwards.
    real = client.post(f"/imports/files/{file_id}/run", data=form_fields(preview.text, "run-form"))
    assert real.status_code == 200 and lead_count(database) == 1


def test_a_mapping_is_saved_from_the_preview_and_applied_to_the_next_file(
    web_client_for: Callable[..., TestClient], database: Database
) -> None:
    client = web_client_for()
    content = b"Subject,Surname,Mail\r\nChairs,Smith,smith@example.com\r\n"
    file_id = kept_file_id(upload(client, content, name="odd.csv"))
    page = client.get(f"/imports/files/{file_id}/map").text
    fields = form_fields(page, "map-form")
    fields[select_of(page, "Subject").group(2)] = "topic"
    fields[select_of(page, "Surname").group(2)] = "last_name"
    fields[select_of(page, "Mail").group(2)] = "email"
    fields["save_as"] = "Odd CRM"
    preview = client.post(f"/imports/files/{file_id}/preview", data=fields)
    assert preview.status_code == 200
    assert "The mapping was saved as “Odd CRM”." in html.unescape(preview.text)
    with database.unit_of_work(read_only=True) as uow:
        saved = service.saved_mapping(uow.session, TransferTable.LEADS, "Odd CRM")
        assert saved.columns == {"Subject": "topic", "Surname": "last_name", "Mail": "email"}

    # "Back to mapping" keeps the choices made.
    back = client.post(f"/imports/files/{file_id}/map", data=form_fields(preview.text, "run-form"))
    assert back.status_code == 200
    assert chosen(select_of(back.text, "Mail").group(3)) == "email"

    # The next file: the saved mapping is offered, and applying it chooses its columns.
    next_id = kept_file_id(upload(client, b"Subject,Surname,Mail\r\nDesks,Jones,jones@example.com\r\n"))
    offered = client.get(f"/imports/files/{next_id}/map").text
    assert '<option value="Odd CRM">Odd CRM</option>' in offered
    assert chosen(select_of(offered, "Mail").group(3)) == ""
    applied = client.get(f"/imports/files/{next_id}/map", params={"mapping": "Odd CRM"}).text
    assert chosen(select_of(applied, "Mail").group(3)) == "email"
    assert chosen(select_of(applied, "Subject").group(3)) == "topic"


def test_a_mapping_without_a_required_column_is_refused_on_the_mapping_page_in_spanish(
    web_client_for: Callable[..., TestClient], database: Database
) -> None:
    client = web_client_for(accept_language=SPANISH)
    file_id = kept_file_id(upload(client, b"Color;Forma\r\nrojo;redonda\r\n"))
    fields = form_fields(client.get(f"/imports/files/{file_id}/map").text, "map-form")
    preview = client.post(f"/imports/files/{file_id}/preview", data=fields)
    assert preview.status_code == 422
    assert 'id="map-error"' in preview.text
    assert "Ninguna columna del archivo está asignada a Tema" in visible_text(preview.text)
    assert lead_count(database) == 0


def test_contacts_offer_to_create_the_missing_accounts(web_client_for: Callable[..., TestClient], database: Database):
    client = web_client_for()
    content = b"First Name,Last Name,Email,Account\r\nAna,Ruiz,ana@example.com,Hoteles del Sur S.L.\r\n"
    file_id = kept_file_id(upload(client, content, name="contacts.csv", table="contacts"))
    page = client.get(f"/imports/files/{file_id}/map").text
    assert 'id="create-missing-accounts"' in page
    fields = {**form_fields(page, "map-form"), "create_missing_accounts": "1"}
    preview = client.post(f"/imports/files/{file_id}/preview", data=fields)
    assert 'data-status="created"' in preview.text
    assert form_fields(preview.text, "run-form")["create_missing_accounts"] == "1"
    run = client.post(f"/imports/files/{file_id}/run", data=form_fields(preview.text, "run-form"))
    assert run.status_code == 200
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalar(select(Account.name)) == "Hoteles del Sur S.L."

    # Leads name no account to create: the option is not offered.
    leads_id = kept_file_id(upload(client, b"Topic,Last Name\r\nChairs,Smith\r\n"))
    assert 'id="create-missing-accounts"' not in client.get(f"/imports/files/{leads_id}/map").text


# ---------------------------------------------------------------------------------------------- refusals


def test_an_empty_file_is_refused_on_the_first_step_in_the_users_language(
    web_client_for: Callable[..., TestClient], database: Database
) -> None:
    spanish = web_client_for(accept_language=SPANISH)
    refused = upload(spanish, b"", name="vacio.csv", sheet="Hoja1")
    assert refused.status_code == 422
    text = visible_text(refused.text)
    assert "El archivo está vacío" in text
    assert "Importar datos" in text
    assert 'value="Hoja1"' in refused.text  # what was typed is kept
    assert 'id="upload-form"' in refused.text

    english = web_client_for()
    refused = upload(english, b"%PDF-1.7 not a table", name="brochure.pdf")
    assert refused.status_code == 422
    assert "not a spreadsheet or a CSV file" in visible_text(refused.text)

    none_chosen = english.post(
        "/imports",
        data={"csrf_token": page_csrf(english.get("/imports").text), "table": "leads"},
        files={"file": ("", b"", "application/octet-stream")},
    )
    assert none_chosen.status_code == 422
    assert "Choose a file to import." in none_chosen.text


def test_a_file_over_the_import_limit_is_refused_with_the_limit_in_the_users_units(
    web_client_for: Callable[..., TestClient], database: Database, settings: Settings
) -> None:
    settings.max_import_bytes = 10 * 1024
    client = web_client_for(accept_language=SPANISH)
    first = client.get("/imports")
    assert "de hasta 10 kB" in visible_text(first.text)  # the limit, said before the upload
    rows = "".join(f"Sillas {n};García;ana{n}@example.com\r\n" for n in range(1000))
    refused = upload(client, ("Tema;Apellidos;Correo electrónico\r\n" + rows).encode("cp1252"))
    assert refused.status_code == 413
    assert "El archivo supera el límite de 10 kB" in visible_text(refused.text)
    # Far over it, the body is refused before it is read, with a page all the same.
    refused = upload(client, b"Topic,Last Name\r\n" + b"x,y\r\n" * 100_000)
    assert refused.status_code == 413 and "<html" in refused.text
    assert lead_count(database) == 0


def test_a_file_kept_for_one_user_is_not_found_for_another(
    web_client_for: Callable[..., TestClient], database: Database, actor: Actor
) -> None:
    make_seller(database, SELLER_EMAIL, "Sam Seller")
    make_seller(database, OTHER_EMAIL, "Olga Other")
    owner = web_client_for(SELLER_EMAIL, PASSWORD)
    file_id = kept_file_id(upload(owner, b"Topic,Last Name\r\nChairs,Smith\r\n"))
    fields = form_fields(owner.get(f"/imports/files/{file_id}/map").text, "map-form")

    other = web_client_for(OTHER_EMAIL, PASSWORD, accept_language=SPANISH)
    assert other.get(f"/imports/files/{file_id}/map").status_code == 404
    token = page_csrf(other.get("/imports").text)
    for step in ("map", "preview", "run"):
        answer = other.post(f"/imports/files/{file_id}/{step}", data={**fields, "csrf_token": token})
        assert answer.status_code == 404, step
        assert "Este archivo no existe o no lo ha cargado usted" in visible_text(answer.text)
    assert lead_count(database) == 0
    # Even the administrator does not use a seller's kept file.
    assert web_client_for().get(f"/imports/files/{file_id}/map").status_code == 404
    assert other.get("/imports/files/not-an-id/map").status_code == 404


def test_every_form_of_the_wizard_needs_its_csrf_token(
    web_client_for: Callable[..., TestClient], database: Database
) -> None:
    client = web_client_for()
    no_token = client.post(
        "/imports", data={"table": "leads"}, files={"file": ("leads.csv", b"Topic,Last Name\r\nA,B\r\n", "text/csv")}
    )
    assert no_token.status_code == 403
    file_id = kept_file_id(upload(client, b"Topic,Last Name\r\nChairs,Smith\r\n"))
    fields = form_fields(client.get(f"/imports/files/{file_id}/map").text, "map-form")
    for step in ("preview", "run"):
        assert (
            client.post(f"/imports/files/{file_id}/{step}", data={**fields, "csrf_token": "forged"}).status_code == 403
        )
        without = {key: value for key, value in fields.items() if key != "csrf_token"}
        assert client.post(f"/imports/files/{file_id}/{step}", data=without).status_code == 403
    assert lead_count(database) == 0


# ---------------------------------------------------------------------------------------------- the navigation


def test_import_is_in_the_navigation_in_both_languages(web_client_for: Callable[..., TestClient]) -> None:
    assert '<a href="/imports">Import</a>' in web_client_for().get("/jobs").text
    assert (
        '<a href="/imports" aria-current="page">Importar</a>'
        in web_client_for(accept_language=SPANISH).get("/imports").text
    )


# ---------------------------------------------------------------------------------------------- export


def test_the_lead_list_exports_its_view_as_a_spanish_csv_and_as_excel(
    web_client_for: Callable[..., TestClient], database: Database, actor: Actor
) -> None:
    make_lead(database, actor, topic="Sillas abiertas", budget_amount="25000.50")
    closed = make_lead(database, actor, topic="Mesas cerradas")
    with database.unit_of_work() as uow:
        disqualify_lead(closed.id, LeadStatusReason.CANCELED, uow=uow, actor=actor)
        uow.commit()
    client = web_client_for(accept_language=SPANISH)

    listed = client.get("/leads", params={"view": "closed", "sort": "topic"})
    links = dict(re.findall(r'<a href="(/leads/export\?[^"]+)" id="(export-\w+)"', listed.text))
    by_id = {link_id: html.unescape(href) for href, link_id in links.items()}
    assert set(by_id) == {"export-csv", "export-xlsx"}
    assert "view=closed" in by_id["export-csv"] and "sort=topic" in by_id["export-csv"]
    assert "Exportar a CSV" in listed.text and "Exportar a Excel" in listed.text

    answer = client.get(by_id["export-csv"])
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"].startswith('attachment; filename="leads.csv"')
    assert answer.headers["x-content-type-options"] == "nosniff"
    rows = csv_rows(answer.content, ";")
    assert "Tema" in rows[0]
    topics = [row[rows[0].index("Tema")] for row in rows[1:]]
    assert topics == ["Mesas cerradas"]  # the closed view only

    opened = csv_rows(client.get("/leads/export", params={"format": "csv", "view": "open"}).content, ";")
    budget = opened[1][opened[0].index("Presupuesto estimado")]
    assert budget.startswith("25000,5")  # a decimal comma, as Spanish Excel reads it

    workbook_answer = client.get(by_id["export-xlsx"])
    assert workbook_answer.status_code == 200
    assert workbook_answer.headers["content-disposition"].startswith('attachment; filename="leads.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(workbook_answer.content), read_only=True).worksheets[0]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert "Tema" in values[0] and [row[values[0].index("Tema")] for row in values[1:]] == ["Mesas cerradas"]


def test_accounts_contacts_and_opportunities_export_every_readable_record(
    web_client_for: Callable[..., TestClient], database: Database, actor: Actor
) -> None:
    client = web_client_for()
    with database.unit_of_work() as uow:
        create_account(AccountCreate(name="Brightline Software Inc."), uow=uow, actor=actor)
        uow.commit()
    for path in ("accounts", "contacts", "opportunities"):
        listed = client.get(f"/{path}")
        assert f'href="/{path}/export?format=csv"' in listed.text and "Export to Excel" in listed.text
        answer = client.get(f"/{path}/export", params={"format": "xlsx"})
        assert answer.status_code == 200, path
        assert answer.headers["content-disposition"].startswith(f'attachment; filename="{path}.xlsx"')
        workbook = openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True)
        header = next(workbook.worksheets[0].iter_rows(values_only=True))
        assert list(header) == service.export_header(TransferTable(path), "en")
    rows = csv_rows(client.get("/accounts/export", params={"format": "csv"}).content, ",")
    assert ["Brightline Software Inc."] == [row[rows[0].index("Account name")] for row in rows[1:]]
    assert client.get("/accounts/export", params={"format": "pdf"}).status_code == 422


def test_an_export_jobs_page_links_its_file_as_a_download(
    web_client_for: Callable[..., TestClient], database: Database, actor: Actor
) -> None:
    client = web_client_for(accept_language=SPANISH)
    make_lead(database, actor, topic="Sillas para Bilbao")
    job = transfer_tasks.start_export(
        service.ExportRequest(table=TransferTable.LEADS),
        file_format="csv",
        language="es",
        database=database,
        actor=actor,
    )
    queue_of(client).enqueue(job.id)
    page = client.get(f"/jobs/{job.id}")
    text = visible_text(page.text)
    assert "Exportar clientes potenciales a CSV" in text and "Exportación" in text
    link = re.search(r'<a href="([^"]+)" class="button secondary" id="export-file-link" download>', page.text)
    assert link is not None and link.group(1) == f"/exports/{job.id}/file"
    answer = client.get(link.group(1))
    assert answer.status_code == 200
    assert answer.headers["content-disposition"].startswith('attachment; filename="leads.csv"')
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "Sillas para Bilbao" in answer.content.decode("utf-8-sig")

    # Someone else's export, and a job that is no export, are not found.
    make_seller(database, SELLER_EMAIL, "Sam Seller")
    assert web_client_for(SELLER_EMAIL, PASSWORD).get(f"/exports/{job.id}/file").status_code == 404
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.get_one(Job, job.id).state is JobState.SUCCEEDED
