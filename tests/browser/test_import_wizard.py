"""The import wizard clicked through in Chromium: a salesperson picks a spreadsheet, checks how its columns
map, looks at the preview, runs the import and watches its job's page count the rows, in English and in
Spanish, on a desktop and on a phone (where no page may scroll sideways: the tables scroll in their box).

``LEADFLOW_DOCS_SCREENSHOTS=1`` also saves the screenshots of the documentation: the mapping step in
English on a desktop (``docs/import-map-en.png``) and the preview in Spanish on a phone
(``docs/import-preview-phone-es.png``).
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from leadflow.demo import DEMO_USERS
from leadflow.leads.models import Lead
from tests.browser.conftest import screenshot, sign_in

DOCS = Path(__file__).resolve().parents[2] / "docs"
PHONE = (375, 800)
DESKTOP = (1280, 900)


@dataclass(frozen=True)
class Words:
    """What each page says in a language."""

    nav: str
    map_title: str
    email_column: str
    preview_title: str
    would_create: str
    job_title: str
    rows_created: str
    rows_failed: str


WORDS = {
    "en": Words(
        nav="Import",
        map_title="Column mapping",
        email_column="Email",
        preview_title="Preview",
        would_create="Would be created",
        job_title="Import leads from {name}",
        rows_created="Rows created",
        rows_failed="Rows that failed",
    ),
    "es": Words(
        nav="Importar",
        map_title="Asignación de columnas",
        email_column="Correo electrónico",
        preview_title="Vista previa",
        would_create="Se crearía",
        job_title="Importar clientes potenciales de {name}",
        rows_created="Filas creadas",
        rows_failed="Filas con errores",
    ),
}


def _seller(language: str) -> dict[str, str]:
    return next(user for user in DEMO_USERS if user["role"] == "Salesperson" and user["language"] == language)


def _spreadsheet(marker: str) -> bytes:
    """Two new leads as Spanish Excel saves them: Windows-1252, ";" between values, decimal commas."""
    return (
        "Tema;Nombre;Apellidos;Correo electrónico;Presupuesto estimado\r\n"
        f"Sillas para la sala {marker};José;Peña;jose.{marker}@example.es;25.000,50\r\n"
        f"Mesas para la sala {marker};Lucía;Müller;lucia.{marker}@example.es;1.200\r\n"
    ).encode("cp1252")


def _fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _docs_screenshot(page, name: str) -> None:
    if os.environ.get("LEADFLOW_DOCS_SCREENSHOTS") == "1":
        page.screenshot(path=str(DOCS / name), full_page=True)


@pytest.mark.parametrize(
    ("language", "viewport"),
    [("en", DESKTOP), ("es", DESKTOP), ("es", PHONE)],
    ids=["english-desktop", "spanish-desktop", "spanish-phone"],
)
def test_a_salesperson_imports_a_spreadsheet_of_leads_through_the_wizard(
    new_page, demo_database, language: str, viewport: tuple[int, int]
) -> None:
    words = WORDS[language]
    seller = _seller(language)
    marker = uuid.uuid4().hex[:8]
    name = f"ferias-{marker}.csv"
    where = f"{language}-{viewport[0]}"
    page = new_page(language=language, viewport=viewport)
    sign_in(page, seller["email"], seller["password"])

    # Step 1: the navigation leads to the wizard; the table and the file are chosen.
    page.goto("/")
    page.get_by_role("navigation").get_by_role("link", name=words.nav, exact=True).click()
    page.wait_for_url("**/imports")
    assert _fits_the_width(page), f"the first step scrolls sideways at {viewport[0]} px"
    screenshot(page, language, f"import-upload-{viewport[0]}")
    page.locator("#import-table").select_option("leads")
    page.locator("#import-file").set_input_files({"name": name, "mimeType": "text/csv", "buffer": _spreadsheet(marker)})
    with page.expect_navigation():
        page.locator("#upload-button").click()

    # Step 2: the Spanish headers are recognised; the e-mail column is mapped to the Email field.
    page.wait_for_url("**/imports/files/*/map")
    assert page.locator("h1").inner_text() == words.map_title
    assert page.locator("#file-name").inner_text() == name
    email_select = page.get_by_label("Correo electrónico", exact=True)
    assert email_select.input_value() == "email"
    assert email_select.locator("option:checked").inner_text() == words.email_column
    assert page.get_by_label("Tema", exact=True).input_value() == "topic"
    assert page.locator('.wizard-steps [aria-current="step"]').inner_text() == words.map_title
    assert _fits_the_width(page), f"the mapping page scrolls sideways at {viewport[0]} px"
    if viewport == PHONE:
        # On a phone the selects take the width they have, and the table scrolls in its own box.
        box = email_select.bounding_box()
        assert box is not None and box["x"] + box["width"] <= viewport[0]
    screenshot(page, language, f"import-map-{viewport[0]}")
    if (language, viewport) == ("en", DESKTOP):
        _docs_screenshot(page, "import-map-en.png")
    with page.expect_navigation():
        page.locator("#preview-button").click()

    # Step 3: the two rows would be created; nothing is saved yet.
    assert page.locator("h1").inner_text() == words.preview_title
    statuses = page.locator("#preview-table tbody .badge").all_inner_texts()
    assert statuses == [words.would_create, words.would_create]
    expect(page.locator("#preview-table").get_by_text(f"jose.{marker}@example.es")).to_be_visible()
    with demo_database.unit_of_work(read_only=True) as uow:
        assert not uow.session.scalars(select(Lead).where(Lead.email == f"jose.{marker}@example.es")).all()
    assert _fits_the_width(page), f"the preview scrolls sideways at {viewport[0]} px"
    screenshot(page, language, f"import-preview-{viewport[0]}")
    if (language, viewport) == ("es", PHONE):
        _docs_screenshot(page, "import-preview-phone-es.png")
    with page.expect_navigation():
        page.locator("#run-button").click()

    # The job's page: the import has run; it counts two rows created and none failed.
    page.wait_for_url("**/jobs/*")
    assert page.locator("#job-title").inner_text() == words.job_title.format(name=name)
    summary = page.locator("#job-summary")
    summary.wait_for()
    figures = dict(
        zip(
            summary.locator("dt").all_inner_texts(),
            summary.locator("dd").all_inner_texts(),
            strict=True,
        )
    )
    assert figures[words.rows_created] == "2"
    assert figures[words.rows_failed] == "0"
    assert page.locator("#failed-rows-link").count() == 0
    assert _fits_the_width(page), f"the job's page scrolls sideways at {viewport[0]} px"
    screenshot(page, language, f"import-job-{viewport[0]}")
    with demo_database.unit_of_work(read_only=True) as uow:
        topics = uow.session.scalars(select(Lead.topic).where(Lead.email.like(f"%.{marker}@example.es"))).all()
    assert sorted(topics) == [f"Mesas para la sala {marker}", f"Sillas para la sala {marker}"]

    # The first step now lists the import among the seller's recent ones.
    page.goto("/imports")
    assert re.search(re.escape(words.job_title.format(name=name)), page.locator("#recent-imports").inner_text()), where


def test_a_refused_file_is_explained_on_the_first_step_in_spanish(new_page) -> None:
    seller = _seller("es")
    page = new_page(language="es", viewport=PHONE)
    sign_in(page, seller["email"], seller["password"])
    page.goto("/imports")
    page.locator("#import-file").set_input_files({"name": "vacio.csv", "mimeType": "text/csv", "buffer": b""})
    with page.expect_navigation():
        page.locator("#upload-button").click()
    alert = page.locator("#import-error")
    expect(alert).to_be_visible()
    assert "El archivo está vacío" in alert.inner_text()
    assert _fits_the_width(page)
