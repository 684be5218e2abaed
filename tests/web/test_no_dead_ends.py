"""No dead ends: nobody is shown a link they cannot follow.

Each demo user signs in and the test follows, breadth first from ``/``, every same-origin link of
every page it reaches (``<a href>``, and the choices of the GET forms that pick a list's view or
filter), GET only: no page route changes anything on GET. None may answer 403 or 404. The two
Spanish-speaking demo users (their language setting is Spanish) see the pages in Spanish, the others
in English. Small tests beside the crawl pin down what the crawl cannot reach, a page shown after a
form is sent (the duplicate that blocks qualifying a lead), and what a salesperson and a read-only
team member must not be offered: administration pages and commands they may not use.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from leadflow.core.schemas import parse
from leadflow.core.uow import Database
from leadflow.demo import DEMO_USERS
from leadflow.leads import service as leads
from leadflow.leads.schemas import LeadCreate
from leadflow.security.access import has_admin
from leadflow.security.actor import Actor, actor_for_email
from leadflow.security.privileges import Depth, Privilege
from leadflow.web.pages import ADMIN_NAV
from tests.conftest import BACKENDS
from tests.factories import lead_data
from tests.web import crawl as crawling
from tests.web.crawl import DEAD, MAX_PAGES, ORIGIN, crawl, demo_clients, demo_user, described, followable, links_of
from tests.web.test_leads_pages import form_fields

# ---------------------------------------------------------------------------------------------- the demo, once per backend


@pytest.fixture(scope="module", params=BACKENDS)
def demo_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A database of its own with the demo loaded, shared by this module's tests (loading takes a while).

    The crawl only reads, and what a test adds it removes, so the tests cannot disturb one another.
    Links hardly depend on the database, but the pages are rendered from it: both backends are crawled.
    """
    with crawling.demo_database(request.param, tmp_path_factory) as database:
        yield database


@pytest.fixture
def client_for(demo_database: Database) -> Iterator:
    """Browser-like clients signed in through the sign-in form as a demo user."""
    with demo_clients(demo_database) as make:
        yield make


# ---------------------------------------------------------------------------------------------- the crawl


@pytest.mark.parametrize("user", DEMO_USERS, ids=[f"{user['role']}-{user['language']}" for user in DEMO_USERS])
def test_every_link_a_demo_user_is_shown_can_be_followed(client_for, user: dict[str, str]) -> None:
    result = crawl(client_for(user))

    assert not result.dead, f"{user['email']} ({user['role']}) was shown links that end in 403 or 404:\n" + described(
        result.dead
    )
    assert not result.failed, f"{user['email']} ({user['role']}) was shown links that fail:\n" + described(
        result.failed
    )
    assert not result.truncated, f"more than {MAX_PAGES} pages for {user['email']}: raise MAX_PAGES"
    # The crawl went somewhere: the site map, records, the user's own page.
    assert len(result.visited) > 20
    for page in ("/leads", "/accounts", "/contacts", "/opportunities", "/dashboard", "/me"):
        assert page in result.visited
    # ...and in the user's language (the demo's Spanish speakers have Spanish set on their account).
    assert set(result.languages) == {user["language"]}


def test_the_crawl_runs_in_both_languages() -> None:
    assert {user["language"] for user in DEMO_USERS} == {"en", "es"}


class _FakeSite:
    """Pages by address, answered as the app would (for testing the crawl itself)."""

    def __init__(self, pages: dict[str, str]) -> None:
        self.pages = pages
        self.asked: list[str] = []

    def get(self, url: str, *, follow_redirects: bool) -> httpx.Response:
        self.asked.append(url)
        request = httpx.Request("GET", ORIGIN + url)
        if url not in self.pages:
            return httpx.Response(404, html="<html lang='en'></html>", request=request)
        return httpx.Response(200, html=self.pages[url], request=request)


def test_the_crawl_reports_each_dead_link_with_the_page_that_shows_it() -> None:
    site = _FakeSite(
        {
            "/": '<html lang="en"><a href="/leads?page=2#top">Leads</a> <a href="mailto:a@example.com">mail</a>'
            '<a href="https://example.com/">away</a> <a href="/api/v1/leads">API</a> <a href="/sign-out">out</a>',
            "/leads?page=2": '<html lang="en"><a href="/leads/gone">Gone</a> <a href="#notes">Notes</a> <a href="/">Home</a>',
        }
    )

    result = crawl(site)  # type: ignore[arg-type]

    assert site.asked == ["/", "/leads?page=2", "/leads/gone"]
    assert result.dead == [("/leads?page=2", "/leads/gone", 404)]
    assert followable("/leads?b=2", "?sort=name&a=1#top") == "/leads?a=1&sort=name"
    assert followable("/leads/1", "delete") == "/leads/delete"


# ---------------------------------------------------------------------------------------------- what a salesperson is shown


def dead_links(client: TestClient, page: str, html: str) -> list[tuple[str, str, int]]:
    """Every link of one page followed once: those that answer 403 or 404 (page, link, status)."""
    hrefs, _lang = links_of(html)
    targets = dict.fromkeys(target for href in hrefs if (target := followable(page, href)))
    answers = ((target, client.get(target, follow_redirects=False).status_code) for target in targets)
    return [(page, target, status) for target, status in answers if status in DEAD]


def admin_links(html: str) -> set[str]:
    hrefs, _lang = links_of(html)
    return {urlsplit(href).path for href in hrefs if urlsplit(href).path.startswith("/admin/")}


def actor_of(database: Database, email: str) -> Actor:
    with database.unit_of_work(read_only=True) as uow:
        return actor_for_email(uow.session, email)


@pytest.mark.parametrize("language", ["es", "en"])
def test_a_salesperson_is_shown_only_the_administration_pages_they_can_open(
    client_for, demo_database: Database, language: str
) -> None:
    user = demo_user("Salesperson", language)
    client = client_for(user)
    actor = actor_of(demo_database, user["email"])
    home = client.get("/").text
    shown = admin_links(home) | admin_links(client.get("/admin/users").text) | admin_links(client.get("/leads").text)

    for item, area, privilege in ADMIN_NAV:
        # The service layer's check decides, not a list of role names.
        assert (item.path in admin_links(home)) == has_admin(actor, area, privilege), item.path
    assert not has_admin(actor, "settings", Privilege.WRITE) and not has_admin(actor, "roles", Privilege.READ)
    assert not {
        path for path in shown if path.startswith(("/admin/duplicate-rules", "/admin/duplicates", "/admin/roles"))
    }
    assert not {path for path in shown if path.startswith(("/admin/settings", "/admin/audit"))}
    for path in shown:
        assert client.get(path).status_code == 200, path


def test_the_administrator_is_shown_every_administration_page(client_for) -> None:
    shown = admin_links(client_for(demo_user("System Administrator")).get("/").text)
    assert shown == {item.path for item, _area, _privilege in ADMIN_NAV}


@pytest.fixture
def blocked_lead(demo_database: Database) -> Iterator[dict[str, uuid.UUID]]:
    """A lead of the Spanish salesperson with two duplicates that block qualifying it (the built-in rule
    "Leads with the same email address"): one of the salesperson's own, one of their manager's.
    The three leads are deleted afterwards: the other tests crawl the demo as it was loaded."""
    seller = demo_user("Salesperson", "es")["email"]
    manager = demo_user("Sales Manager")["email"]
    email = f"dup-{uuid.uuid4().hex[:8]}@example.com"
    created: dict[str, uuid.UUID] = {}
    with demo_database.unit_of_work() as uow:
        for key, owner, suppress in (
            ("lead", seller, False),
            ("own_twin", seller, True),
            ("managers_twin", manager, True),
        ):
            lead = leads.create_lead(
                parse(LeadCreate, lead_data(email=email)),
                uow=uow,
                actor=actor_for_email(uow.session, owner),
                suppress_duplicates=suppress,
            )
            created[key] = lead.id
        uow.commit()
    yield created
    with demo_database.unit_of_work() as uow:
        admin = actor_for_email(uow.session, demo_user("System Administrator")["email"])
        for lead_id in created.values():
            leads.delete_lead(lead_id, uow=uow, actor=admin)
        uow.commit()


def qualify_blocked(client: TestClient, lead_id: uuid.UUID) -> str:
    page = client.get(f"/leads/{lead_id}").text
    blocked = client.post(f"/leads/{lead_id}/qualify", data=form_fields(page, "lead-form"), follow_redirects=False)
    assert blocked.status_code == 409, blocked.text
    section = re.search(r'<section class="alert duplicate-blocked".*?</section>', blocked.text, re.DOTALL)
    assert section is not None
    return section.group(0)


def test_a_salesperson_blocked_by_a_duplicate_is_offered_only_what_they_can_open(
    client_for, blocked_lead: dict[str, uuid.UUID]
) -> None:
    client = client_for(demo_user("Salesperson", "es"))
    lead, own_twin, managers_twin = blocked_lead["lead"], blocked_lead["own_twin"], blocked_lead["managers_twin"]

    section = qualify_blocked(client, lead)

    # Both duplicates are listed (the salesperson reads the unit's leads) ...
    assert f'href="/leads/{own_twin}"' in section and f'href="/leads/{managers_twin}"' in section
    # ... but neither the rules nor the duplicate jobs (settings) are offered, nor a merge the
    # salesperson may not make (no Write on the manager's lead); merging their own two leads is.
    assert "/admin/duplicate-rules" not in section and 'href="/admin/duplicates"' not in section
    assert "Abrir la regla" not in section
    assert f"master={own_twin}&amp;subordinate={lead}" in section
    assert f"master={managers_twin}" not in section
    assert "Cambiar las reglas de detección de duplicados corresponde a los administradores" in section
    assert dead_links(client, f"/leads/{lead}", section) == []


def test_the_administrator_blocked_by_a_duplicate_is_offered_the_rules_and_every_merge(
    client_for, blocked_lead: dict[str, uuid.UUID]
) -> None:
    client = client_for(demo_user("System Administrator"))
    lead = blocked_lead["lead"]

    section = qualify_blocked(client, lead)

    assert 'href="/admin/duplicates"' in section and section.count('class="rule-link"') == 1
    assert section.count('class="merge-link"') == 2
    assert "for administrators" not in section
    assert dead_links(client, f"/leads/{lead}", section) == []


def test_a_read_only_team_member_is_offered_no_command_that_changes_a_lead(client_for, demo_database: Database) -> None:
    user = demo_user("Sales Team Member")
    client = client_for(user)
    actor = actor_of(demo_database, user["email"])
    assert actor.depth("leads", Privilege.CREATE) is Depth.NONE and actor.depth("leads", Privilege.WRITE) is Depth.NONE
    listed = client.get("/leads?view=open").text
    lead_id = re.search(r'<tr id="lead-row-([0-9a-f-]+)"', listed).group(1)  # a lead of the unit, readable
    closed_id = re.search(r'<tr id="lead-row-([0-9a-f-]+)"', client.get("/leads?view=closed").text).group(1)

    page = client.get(f"/leads/{lead_id}").text
    closed = client.get(f"/leads/{closed_id}").text
    new = client.get("/leads/new").text

    assert 'id="new-lead-button"' not in listed
    assert "You can read this lead but not change it." in page
    for command in ("save-button", "qualify-button", "disqualify-button", "delete-button", "reactivate-button"):
        assert f'id="{command}"' not in page, command
    assert 'id="disqualify-dialog"' not in page and f"/leads/{lead_id}/disqualify" not in page
    assert 'id="reactivate-button"' not in closed and 'id="reactivate-form"' not in closed
    # The new lead form, opened by its address, is read-only like the other new record forms.
    assert 'id="save-button"' not in new and re.search(r'id="lead-topic" name="topic" disabled', new)


def test_a_salesperson_is_offered_the_commands_they_may_use(client_for) -> None:
    client = client_for(demo_user("Salesperson", "en"))
    listed = client.get("/leads").text
    lead_id = re.search(r'<tr id="lead-row-([0-9a-f-]+)"', listed).group(1)  # "My open leads"

    page = client.get(f"/leads/{lead_id}").text

    assert 'id="new-lead-button"' in listed
    for command in ("save-button", "qualify-button", "disqualify-button", "delete-button"):
        assert f'id="{command}"' in page, command
    assert 'id="save-button"' in client.get("/leads/new").text
