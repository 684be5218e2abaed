"""Time zones on the pages: a moment shows on the clock of the reader's zone (their own, else the
organisation's default) and moves when either changes; the user chooses theirs on /me, an
administrator the organisation's on the settings page, each from every IANA zone."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from leadflow.core.formatting import time_zone_names
from leadflow.core.uow import Database
from leadflow.organisation.models import OrganisationSettings
from leadflow.security.authentication import create_personal_token
from leadflow.security.models import AccessToken, User
from tests.conftest import ADMIN_EMAIL
from tests.web.conftest import page_csrf
from tests.web.test_admin_pages import SELLER_EMAIL, SELLER_PASSWORD, as_form, make_seller, post_form, settings_form

MADRID, NEW_YORK = "Europe/Madrid", "America/New_York"
# Summer in Madrid and New York (UTC+2 and UTC-4) and winter (UTC+1 and UTC-5).
CREATED = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
EXPIRES = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)


@pytest.fixture
def token_id(database: Database) -> uuid.UUID:
    """A personal token of the administrator made and due at known instants, listed on /me."""
    with database.unit_of_work() as uow:
        issued = create_personal_token(ADMIN_EMAIL, name="clock", days=1, uow=uow, actor=None)
        uow.commit()
    with database.engine.begin() as connection:
        connection.execute(
            update(AccessToken).where(AccessToken.id == issued.token.id).values(created_at=CREATED, expires_at=EXPIRES)
        )
    return issued.token.id


def token_times(client: TestClient, token_id: uuid.UUID) -> list[str]:
    """The created and expires cells of the token's row on /me."""
    html = client.get("/me").text
    row = re.search(rf'<tr id="token-{token_id}">(.*?)</tr>', html, re.S)
    assert row is not None, html
    cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)]
    return cells[2:4]


def stored(database: Database) -> tuple[str, str | None]:
    with database.unit_of_work(read_only=True) as uow:
        default = uow.session.scalars(select(OrganisationSettings.default_time_zone)).one()
        own = uow.session.scalars(select(User.time_zone).where(User.email == ADMIN_EMAIL)).one()
    return default, own


def selected(html: str, select_id: str) -> str:
    """The value of the selected option of a select (empty for the blank one)."""
    block = re.search(rf'<select id="{select_id}".*?</select>', html, re.S)
    assert block is not None
    chosen = re.findall(r'<option value="([^"]*)" selected>', block.group(0))
    assert len(chosen) == 1, chosen
    return chosen[0]


def test_a_moment_on_a_page_moves_with_the_organisations_zone_and_then_the_users_own(
    web_client: TestClient, database: Database, token_id: uuid.UUID
) -> None:
    assert token_times(web_client, token_id) == ["01/07/2026, 12:00", "01/12/2026, 23:30"]  # UTC: a new organisation

    saved = post_form(web_client, "/admin/settings", "/admin/settings", settings_form(default_time_zone=MADRID))
    assert saved.status_code == 303, saved.text
    # The evening of 1 December in UTC is already 2 December in Madrid.
    assert token_times(web_client, token_id) == ["01/07/2026, 14:00", "02/12/2026, 00:30"]

    chosen = post_form(web_client, "/me", "/me", {"language": "", "time_zone": NEW_YORK})
    assert chosen.status_code == 303, chosen.text
    assert stored(database) == (MADRID, NEW_YORK)
    assert token_times(web_client, token_id) == ["01/07/2026, 08:00", "01/12/2026, 18:30"]
    assert selected(web_client.get("/me").text, "me-time-zone") == NEW_YORK

    back = post_form(web_client, "/me", "/me", {"language": "", "time_zone": ""})
    assert back.status_code == 303
    assert stored(database) == (MADRID, None)
    assert token_times(web_client, token_id) == ["01/07/2026, 14:00", "02/12/2026, 00:30"]


def test_my_page_offers_every_zone_and_names_the_organisations(web_client: TestClient) -> None:
    post_form(web_client, "/admin/settings", "/admin/settings", settings_form(default_time_zone=MADRID))
    html = web_client.get("/me").text
    assert '<label for="me-time-zone">Time zone</label>' in html
    block = re.search(r'<select id="me-time-zone".*?</select>', html, re.S).group(0)  # type: ignore[union-attr]
    values = re.findall(r'<option value="([^"]*)"', block)
    assert values == ["", *time_zone_names()]
    assert values[1:] == sorted(values[1:])
    assert "The organisation's time zone (Europe/Madrid)" in unescape(block)
    assert selected(html, "me-time-zone") == ""


def test_my_language_alone_leaves_my_zone_as_it_is(web_client: TestClient, database: Database) -> None:
    post_form(web_client, "/me", "/me", {"language": "", "time_zone": NEW_YORK})
    assert post_form(web_client, "/me", "/me", {"language": "es"}).status_code == 303
    assert stored(database)[1] == NEW_YORK


def test_an_unknown_zone_on_my_page_is_refused_and_nothing_changes(web_client: TestClient, database: Database) -> None:
    post_form(web_client, "/me", "/me", {"language": "", "time_zone": NEW_YORK})
    refused = post_form(web_client, "/me", "/me", {"language": "es", "time_zone": "Mars/Olympus_Mons"})
    assert refused.status_code == 422
    assert 'id="me-error"' in refused.text and "Choose a time zone from the list" in refused.text
    assert stored(database)[1] == NEW_YORK
    with database.unit_of_work(read_only=True) as uow:  # the language sent with it is not saved either
        assert uow.session.scalars(select(User.language).where(User.email == ADMIN_EMAIL)).one() is None


def test_the_settings_page_sets_the_default_from_every_zone(web_client: TestClient, database: Database) -> None:
    html = web_client.get("/admin/settings").text
    assert '<label for="default_time_zone">Default time zone</label>' in html
    block = re.search(r'<select id="default_time_zone".*?</select>', html, re.S).group(0)  # type: ignore[union-attr]
    assert re.findall(r'<option value="([^"]*)"', block) == list(time_zone_names())
    assert selected(html, "default_time_zone") == "UTC"

    post_form(web_client, "/admin/settings", "/admin/settings", settings_form(default_time_zone=NEW_YORK))
    assert stored(database)[0] == NEW_YORK
    assert selected(web_client.get("/admin/settings").text, "default_time_zone") == NEW_YORK


def test_an_unknown_default_on_the_settings_page_is_refused_next_to_the_field(
    web_client: TestClient, database: Database
) -> None:
    refused = post_form(
        web_client,
        "/admin/settings",
        "/admin/settings",
        settings_form(default_time_zone="Mars/Olympus_Mons", default_phone_region="GB"),
    )
    assert refused.status_code == 422
    assert 'id="default_time_zone-error"' in refused.text
    assert 'id="default_time_zone" name="default_time_zone" aria-invalid="true"' in refused.text
    assert stored(database)[0] == "UTC"
    with database.unit_of_work(read_only=True) as uow:  # nothing else of the form is saved either
        assert uow.session.scalars(select(OrganisationSettings.default_phone_region)).one() == "ES"


def test_a_settings_form_without_the_time_zone_leaves_the_default(web_client: TestClient, database: Database) -> None:
    post_form(web_client, "/admin/settings", "/admin/settings", settings_form(default_time_zone=MADRID))
    assert post_form(web_client, "/admin/settings", "/admin/settings", settings_form()).status_code == 303
    assert stored(database)[0] == MADRID


def test_a_salesperson_sets_their_own_zone_but_not_the_default(
    database: Database, web_client_for: Callable[..., TestClient]
) -> None:
    make_seller(database)
    seller = web_client_for(SELLER_EMAIL, SELLER_PASSWORD)
    response = seller.post(
        "/admin/settings",
        data=as_form([("csrf_token", page_csrf(seller.get("/me").text)), *settings_form(default_time_zone=NEW_YORK)]),
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert stored(database)[0] == "UTC"
    assert post_form(seller, "/me", "/me", {"language": "", "time_zone": NEW_YORK}).status_code == 303
    with database.unit_of_work(read_only=True) as uow:
        assert uow.session.scalars(select(User.time_zone).where(User.email == SELLER_EMAIL)).one() == NEW_YORK


def test_the_time_zone_fields_read_in_spanish(web_client_for) -> None:  # type: ignore[no-untyped-def]
    client = web_client_for(accept_language="es-ES")
    me = client.get("/me").text
    assert '<label for="me-time-zone">Zona horaria</label>' in me
    assert "La zona horaria de la organización (UTC)" in me
    settings = client.get("/admin/settings").text
    assert '<label for="default_time_zone">Zona horaria predeterminada</label>' in settings
    refused = post_form(client, "/me", "/me", {"language": "", "time_zone": "Mars/Olympus_Mons"})
    assert "Elija una zona horaria de la lista" in refused.text
