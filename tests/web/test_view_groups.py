"""A grouped saved view shows how many of its records fall in each group above the list, with the
groups' values labelled in the reader's language: a custom choice's option labels, a built-in
pick-list's labels, blanks as "(blank)"; on the lead list and on the other lists alike."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from leadflow.core.uow import Database
from leadflow.fields.models import SavedView
from leadflow.process.flow import move_stage
from leadflow.security.actor import Actor
from tests.factories import make_lead
from tests.integration.test_custom_fields import REGIONS, define
from tests.web.test_record_list_views import add_view, make_record


def groups_of(page: str) -> tuple[str, list[tuple[str, int]]] | None:
    """The heading and the (value, count) pairs of the page's group summary, None without one."""
    section = re.search(r'<section class="view-groups".*?</section>', page, re.DOTALL)
    if section is None:
        return None
    heading = re.search(r"<h2[^>]*>(.*?)</h2>", section.group(0)).group(1)  # type: ignore[union-attr]
    rows = re.findall(
        r'<span class="group-value">(.*?)</span> <span class="group-count">(\d+)</span>', section.group(0)
    )
    return html.unescape(heading), [(html.unescape(text), int(count)) for text, count in rows]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ("By Region", [("(blank)", 1), ("South", 1), ("North", 2)])),
        ("es", ("Por Región", [("(vacío)", 1), ("Sur", 1), ("Norte", 2)])),
    ],
)
def test_a_lead_view_grouped_on_a_custom_choice_counts_each_option(
    web_client_for: Callable[..., TestClient],
    database: Database,
    actor: Actor,
    language: str,
    expected: tuple[str, list[tuple[str, int]]],
) -> None:
    options = [REGIONS[1], REGIONS[0], REGIONS[2]]  # south first: the groups come in the options' order
    define(database, actor, "region", "choice", options=options, label_en="Region", label_es="Región")
    for region in ("north", "north", "south", None):
        make_lead(database, actor, custom={"region": region} if region else {})
    view_id = add_view(database, actor, "leads", name="By region", group_by="custom.region")

    page = web_client_for(accept_language=language).get(f"/leads?view_id={view_id}")

    assert page.status_code == 200
    assert groups_of(page.text) == expected


def test_the_open_opportunities_by_stage_view_counts_each_stage_in_spanish(
    web_client_for: Callable[..., TestClient], database: Database, actor: Actor
) -> None:
    deals = [make_record(database, actor, "opportunities", f"Deal {number}") for number in range(3)]
    with database.unit_of_work() as uow:  # one on to Propose, one to Close: the stages' order, not the alphabet's
        for deal, steps in ((deals[0], 1), (deals[1], 2)):
            for _ in range(steps):
                move_stage(deal, forward=True, uow=uow, actor=actor)
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        view_id: uuid.UUID = uow.session.scalars(
            select(SavedView.id).where(SavedView.table_name == "opportunities", SavedView.group_by.is_not(None))
        ).one()

    page = web_client_for(accept_language="es").get(f"/opportunities?view_id={view_id}")

    assert page.status_code == 200
    assert groups_of(page.text) == ("Por Fase del proceso", [("Desarrollar", 1), ("Proponer", 1), ("Cerrar", 1)])


def test_a_view_that_is_not_grouped_shows_no_groups(web_client: TestClient, database: Database, actor: Actor) -> None:
    make_record(database, actor, "accounts", "Norte S.A.")
    view_id = add_view(database, actor, "accounts", name="Everything")
    page = web_client.get(f"/accounts?view_id={view_id}")
    assert page.status_code == 200 and "Norte S.A." in page.text
    assert groups_of(page.text) is None
