"""No page scrolls sideways: on a phone (390 px), a tablet (768 px) and a desktop (1,280 px), in
Spanish and in English.

Which pages: a crawl, not a list. Signed in as the demo administrator (whose pages follow the
browser's language here) and as the salesperson of the language, the test follows breadth first every
same-origin link of every page it reaches (the ``<a href>`` and the GET forms, read as
``tests/web/crawl.py`` reads them for the dead-end test), each kind of page (``/leads/<id>``,
``/admin/users``...) a few times only. To the crawl it adds what no link reaches: the pages a form
answers with (both duplicate warnings, the bulk qualify choices and results, the two-factor set-up,
the sign-in code), the pages of a refusal (not found, forbidden, a missing privilege), the qualify
page (the dialog's fallback), and records with long unbroken e-mail addresses, web addresses and
words. The templates the server renders while the test runs are recorded, and every page template
must be among them: a page the test cannot reach fails it until it is added here.

What is measured: each page is loaded once, then the viewport is set to each width in turn (as a
window resized or a phone turned). At each width ``document.documentElement.scrollWidth`` must not
exceed ``window.innerWidth``, neither ``<html>`` nor ``<body>`` may hide the overflow (that would cut
content off instead of fitting it), and a wide table may scroll only inside its own box
(``.table-scroll``), which itself must lie within the viewport.
"""

from __future__ import annotations

import re
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import jinja2
import pyotp
import pytest
from playwright.sync_api import Browser, BrowserContext, Page
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import select
from starlette.templating import Jinja2Templates

from leadflow.asgi import create_app
from leadflow.bootstrap import ensure_organisation
from leadflow.core.config import Settings
from leadflow.core.db import make_engine, utcnow
from leadflow.core.migrate import upgrade
from leadflow.core.schemas import parse
from leadflow.core.uow import Database
from leadflow.customers.schemas import AccountCreate, ContactCreate
from leadflow.customers.service import create_account, create_contact
from leadflow.demo import load_demo
from leadflow.demo.scoring import load_scoring_demo
from leadflow.duplicates.merge.execute import merge_records
from leadflow.fields import service as fields
from leadflow.fields.models import FieldKind
from leadflow.fields.schemas import FieldCreate
from leadflow.jobs.runner import execute
from leadflow.leads import service as leads
from leadflow.leads.models import Lead, LeadState
from leadflow.leads.schemas import LeadCreate
from leadflow.organisation.models import QualificationExperience, RecordCreation
from leadflow.organisation.service import get_settings
from leadflow.security.actor import actor_for_email
from leadflow.security.models import User
from leadflow.security.service import add_team_member, create_team
from leadflow.tasks import HANDLERS
from leadflow.tasks.admin import start_scan
from leadflow.web.routes import TEMPLATES_DIR
from leadflow.webhooks import service as webhooks
from leadflow.webhooks.schemas import WebhookIn
from tests.factories import lead_data
from tests.live import serving
from tests.web.crawl import demo_user, followable, links_of

WIDTHS = (390, 768, 1280)
HEIGHT = 900
LOCALES = {"es": "es-ES", "en": "en-GB"}


@dataclass(frozen=True)
class Budget:
    """How many pages of one kind the crawl measures: records of a kind (``/leads/<id>``), views or
    filters of a page (``/leads?view=closed``), and other pages (``/leads/<id>/delete``, ``/me``)."""

    records: int
    views: int
    pages: int


# Records of one kind share their template, and the views of a list its columns: one record of each
# kind is measured (the long text that might not fit is in records of its own, measured apart), and a
# few views of each list. The administrator reaches every page; the salesperson's crawl looks for what
# their role shows differently (fewer commands, read-only fields). Ordering and paging only rearrange
# what a list shows: not followed.
BUDGETS = {"administrator": Budget(records=1, views=3, pages=1), "salesperson": Budget(records=1, views=1, pages=1)}
SKIPPED_PARAMETERS = frozenset({"sort", "cursor", "page", "before", "after"})
RECORD_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# Long unbroken text, as real data has it: an e-mail address, a web address, a product code.
LONG_EMAIL = "departamento.de.compras.y.aprovisionamiento.central@grupo-hospitalario-internacional.example.com"
LONG_WEBSITE = "https://www.grupo-hospitalario-internacional.example.com/compras/proveedores/homologacion/2026"
LONG_WORD = "SILLA-ERGONOMICA-PRO-XL-2026-MALLA-NEGRA-REPOSABRAZOS-4D-REGULABLES"


ADMIN = demo_user("System Administrator")
SALESPEOPLE = {language: demo_user("Salesperson", language) for language in LOCALES}
TWO_FACTOR_USER = demo_user("Sales Team Member")
# The topic of a lead of each salesperson whose company is an existing account (the duplicate warning).
DUPLICATE_LEAD = {"es": "Sillas para la nueva oficina de Sevilla", "en": "Sit-stand desks for the Denver office"}


# A spreadsheet to import whose headers and values are long unbroken words (never imported: only previewed).
_LONG_SPREADSHEET = (
    f"Tema;Apellidos;Correo electrónico;Sitio web;{LONG_WORD}\r\n"
    f"{LONG_WORD};{LONG_WORD[:50]};{LONG_EMAIL};{LONG_WEBSITE};{LONG_WORD}\r\n"
)


# ---------------------------------------------------------------------------------------------- the site, once


@dataclass
class Site:
    url: str
    database: Database
    rendered: set[str]  # the templates the server rendered
    long_records: dict[str, list[str]]  # salesperson's language -> pages of records with long text
    blocked_lead: dict[str, uuid.UUID]  # salesperson's language -> a lead a duplicate blocks from qualifying


def _records_with_long_text(database: Database, email: str, language: str) -> list[str]:
    with database.unit_of_work() as uow:
        actor = actor_for_email(uow.session, email)
        lead = leads.create_lead(
            parse(
                LeadCreate,
                lead_data(
                    topic=f"{LONG_WORD} {language}",
                    email=f"{language}.{LONG_EMAIL}",
                    website=LONG_WEBSITE,
                    company_name=f"{LONG_WORD[:90]} {language}",
                    qualification_comments=f"{LONG_WORD} {LONG_WEBSITE}",
                ),
            ),
            uow=uow,
            actor=actor,
            suppress_duplicates=True,
        )
        account = create_account(
            AccountCreate(
                name=f"{LONG_WORD[:60]} {language}",
                email=f"{language}.{LONG_EMAIL}",
                website=LONG_WEBSITE,
                description=f"{LONG_WORD} {LONG_EMAIL}",
            ),
            uow=uow,
            actor=actor,
            suppress_duplicates=True,
        )
        contact = create_contact(
            ContactCreate(
                first_name="Ana",
                last_name=LONG_WORD[:50],
                email=f"{language}.{LONG_EMAIL}",
                website=LONG_WEBSITE,
                account_id=account.id,
            ),
            uow=uow,
            actor=actor,
            suppress_duplicates=True,
        )
        uow.commit()
        return [f"/leads/{lead.id}", f"/accounts/{account.id}", f"/contacts/{contact.id}"]


def _blocked_lead(database: Database, email: str) -> uuid.UUID:
    """A lead of the salesperson whose twin (same e-mail address) blocks qualifying it."""
    twin_email = f"twin-{uuid.uuid4().hex[:8]}@example.com"
    with database.unit_of_work() as uow:
        actor = actor_for_email(uow.session, email)
        created = [
            leads.create_lead(
                parse(LeadCreate, lead_data(email=twin_email)), uow=uow, actor=actor, suppress_duplicates=True
            )
            for _ in range(2)
        ]
        uow.commit()
        return created[0].id


def _duplicate_scan_and_merge(database: Database) -> None:
    """A finished duplicate detection job with a set to merge (and its job, for the job's page), and a merge
    done (for its journal page)."""
    with database.unit_of_work() as uow:
        admin = actor_for_email(uow.session, ADMIN["email"])
        create_account(
            AccountCreate(name="Grupo Alcazar Seguros S.A.", address_city="Sevilla"),
            uow=uow,
            actor=admin,
            suppress_duplicates=True,
        )
        twin_email = f"merged-{uuid.uuid4().hex[:8]}@example.com"
        master, subordinate = (
            leads.create_lead(
                parse(LeadCreate, lead_data(email=twin_email)), uow=uow, actor=admin, suppress_duplicates=True
            )
            for _ in range(2)
        )
        uow.commit()
    with database.unit_of_work() as uow:
        merge_records("leads", master.id, subordinate.id, uow=uow, actor=actor_for_email(uow.session, ADMIN["email"]))
        uow.commit()
    with database.unit_of_work(read_only=True) as uow:
        admin = actor_for_email(uow.session, ADMIN["email"])
    # Started and run as a job, as the page does: the duplicate job's page links the job's own page.
    _found, job = start_scan("accounts", database=database, actor=admin)
    execute(database, job.id, HANDLERS)


def _team(database: Database) -> None:
    """A team with a member, for the team's own page."""
    with database.unit_of_work() as uow:
        admin = actor_for_email(uow.session, ADMIN["email"])
        team = create_team(
            "Cuentas clave de Andalucía, Extremadura y Canarias",
            business_unit_name="Ventas España",
            uow=uow,
            actor=admin,
        )
        add_team_member(team.name, SALESPEOPLE["es"]["email"], uow=uow, actor=admin)
        uow.commit()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The demo, served once for this module, with the records the crawl alone would not find."""
    url = f"sqlite:///{tmp_path_factory.mktemp('layout') / 'leadflow.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    database = Database(url)
    with database.unit_of_work() as uow:
        ensure_organisation(uow=uow, base_currency="EUR")
        uow.commit()
    load_demo(database)
    load_scoring_demo(database)  # a published scoring model: scores, grades and the model's page
    with database.unit_of_work() as uow:
        users = {user.email: user for user in uow.session.scalars(select(User))}
        # The administrator's pages follow the browser's language, so they are measured in both.
        users[ADMIN["email"]].language = None
        users[TWO_FACTOR_USER["email"]].totp_secret = pyotp.random_base32()
        users[TWO_FACTOR_USER["email"]].totp_enabled_at = utcnow()
        uow.commit()
    long_records = {
        language: _records_with_long_text(database, user["email"], language) for language, user in SALESPEOPLE.items()
    }
    blocked = {language: _blocked_lead(database, user["email"]) for language, user in SALESPEOPLE.items()}
    _duplicate_scan_and_merge(database)
    _team(database)
    _customised(database)

    rendered: set[str] = set()
    original = Jinja2Templates.get_template

    def recording(self: Jinja2Templates, name: str) -> jinja2.Template:
        rendered.add(name)
        return original(self, name)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Jinja2Templates, "get_template", recording)
        with serving(create_app(database, Settings(database_url=url))) as port:
            yield Site(f"http://127.0.0.1:{port}", database, rendered, long_records, blocked)
    database.dispose()


def _customised(database: Database) -> None:
    """A custom field holding a value (its page links to the removal's confirmation) and a webhook (its own page)."""
    with database.unit_of_work() as uow:
        admin = actor_for_email(uow.session, ADMIN["email"])
        field = fields.create_field(
            FieldCreate(table="leads", name="region", label_en="Region", label_es="Región", kind=FieldKind.TEXT),
            uow=uow,
            actor=admin,
        )
        lead = uow.session.scalars(select(Lead).order_by(Lead.topic)).first()
        assert lead is not None
        lead.custom = {field.name: "Norte"}
        webhooks.create_subscription(
            WebhookIn(name="ERP", url="https://erp.example.com/hooks", events=["lead.qualified"]),
            uow=uow,
            actor=admin,
            allow_private=False,
        )
        uow.commit()


def page_templates() -> set[str]:
    """Every template that is a page of its own (partials start with ``_``; ``base.html`` is the frame)."""
    return {
        path.relative_to(TEMPLATES_DIR).as_posix()
        for path in TEMPLATES_DIR.rglob("*.html")
        if not path.name.startswith("_") and path.name != "base.html"
    }


# ---------------------------------------------------------------------------------------------- measuring


# At one width: how wide the page is, the table boxes that stick out of the viewport, the outermost
# elements that stick out (to name the culprit), and whether <html> or <body> hide their overflow.
MEASURE = """() => {
  const width = window.innerWidth;
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  const outside = (rect) => rect.width > 0 && (rect.right > width + 0.5 || rect.left < -0.5);
  const boxes = [...document.querySelectorAll('.table-scroll')]
    .filter((box) => !box.parentElement.closest('.table-scroll') && outside(box.getBoundingClientRect()))
    .map((box) => name(box) + ' ' + Math.round(box.getBoundingClientRect().right) + 'px');
  const culprits = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (!outside(el.getBoundingClientRect()) || el.closest('.table-scroll, .skip-link')) continue;
    if (el.parentElement && culprits.some((c) => c.element.contains(el))) continue;
    culprits.push({element: el, text: name(el) + ' ' + Math.round(el.getBoundingClientRect().right) + 'px'});
  }
  const hidden = [document.documentElement, document.body]
    .filter((el) => ['hidden', 'clip'].includes(getComputedStyle(el).overflowX)).map(name);
  return {
    scrollWidth: document.documentElement.scrollWidth, innerWidth: width, lang: document.documentElement.lang,
    boxes, hidden, culprits: culprits.slice(0, 4).map((c) => c.text),
  };
}"""


# The tables outside a box of their own to scroll in: with longer data any table may outgrow a phone.
UNBOXED_TABLES = """() => [...document.querySelectorAll('table')].filter((table) => !table.closest('.table-scroll'))
  .map((table) => 'table' + (table.id ? '#' + table.id : '') + '.' + table.className)"""


@dataclass
class Findings:
    measured: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def measure(self, page: Page, who: str, language: str) -> None:
        """The page as loaded, at each width in turn (starting with the viewport's own)."""
        where = f"{_address(page)} ({who}, {language})"
        self.measured.append(where)
        # What a click reveals is measured too: the figures' tables under the dashboard's charts.
        page.evaluate("document.querySelectorAll('details').forEach((details) => { details.open = true; })")
        outside = page.evaluate(UNBOXED_TABLES)
        if outside:
            self.problems.append(f"{where}: tables outside a scrolling box: {outside}")
        current = page.viewport_size["width"]
        for width in sorted(WIDTHS, key=lambda width: width != current):
            if width != current:
                page.set_viewport_size({"width": width, "height": HEIGHT})
            found = page.evaluate(MEASURE)
            if found["lang"] != language:
                self.problems.append(f"{where} at {width} px: the page is in {found['lang']!r}")
            if found["scrollWidth"] > found["innerWidth"]:
                self.problems.append(
                    f"{where} at {width} px: the page is {found['scrollWidth']} px wide; sticking out: "
                    + (", ".join(found["culprits"]) or "an element inside a table box")
                )
            if found["boxes"]:
                self.problems.append(f"{where} at {width} px: table boxes wider than the viewport: {found['boxes']}")
            if found["hidden"]:
                self.problems.append(f"{where} at {width} px: {found['hidden']} hide their overflow")


def _address(page: Page) -> str:
    """The page's address without the origin."""
    return "/" + page.url.split("://", 1)[1].partition("/")[2]


def _kind(link: str) -> tuple[str, tuple[str, str | None]]:
    """The kind of page a link leads to, and what it shows there without order and page: (path, view)."""
    path, _, query = link.partition("?")
    kept = "&".join(part for part in query.split("&") if part and part.split("=")[0] not in SKIPPED_PARAMETERS)
    return RECORD_ID.sub("<id>", path), (path, kept or None)


def crawl(context: BrowserContext, findings: Findings, who: str, language: str) -> None:
    """Measure every page reachable from ``/`` by links and GET forms, a few of each kind."""
    budgets = BUDGETS[who]
    page = context.new_page()
    queue: deque[str] = deque(["/"])
    seen = {"/"}
    kinds: dict[str, set[tuple[str, str | None]]] = {}  # kind of page -> the (path, view) measured

    def enqueue(link: str) -> None:
        if link in seen:
            return
        seen.add(link)
        kind, content = _kind(link)
        shown = kinds.setdefault(kind, set())
        if content in shown:
            return  # the same content in another order or page
        budget = budgets.records if kind.endswith("<id>") else (budgets.views if content[1] else budgets.pages)
        if len(shown) >= budget:
            return
        shown.add(content)
        queue.append(link)

    while queue:
        link = queue.popleft()
        try:
            page.goto(link)
        except PlaywrightError:
            # A file to download aborts the navigation: no page to measure. Anything else is a failure.
            answer = context.request.get(link)
            if answer.ok and not answer.headers.get("content-type", "").startswith("text/html"):
                continue
            raise
        address = _address(page)
        assert not address.startswith("/sign-in"), f"{link} signed the crawl out"
        seen.add(address)  # where a redirect led
        findings.measure(page, who, language)
        hrefs, _lang = links_of(page.content())
        for href in hrefs:
            if target := followable(address, href):
                enqueue(target)
    page.close()


# ---------------------------------------------------------------------------------------------- the pages no link reaches


def _new_context(browser: Browser, site: Site, language: str) -> BrowserContext:
    locale = LOCALES[language]
    context = browser.new_context(
        base_url=site.url,
        locale=locale,
        extra_http_headers={"Accept-Language": f"{locale},{language};q=0.9"},
        viewport={"width": WIDTHS[-1], "height": HEIGHT},
    )
    context.set_default_timeout(15_000)
    return context


def _sign_in(page: Page, user: dict[str, str]) -> None:
    page.goto("/sign-in")
    page.locator("#email").fill(user["email"])
    page.locator("#password").fill(user["password"])
    page.locator("#password").press("Enter")
    page.wait_for_url(lambda url: "/sign-in" not in url)


def _open_lead_id(site: Site, email: str) -> uuid.UUID:
    """An open lead of the user's (the salesperson's: every signed-in user of the test may read it)."""
    with site.database.unit_of_work(read_only=True) as uow:
        owner = uow.session.scalars(select(User.id).where(User.email == email)).one()
        return uow.session.scalars(
            select(Lead.id).where(Lead.owner_user_id == owner, Lead.state == LeadState.OPEN).order_by(Lead.topic)
        ).first()


def measure_the_qualify_page_and_refusals(
    context: BrowserContext, site: Site, findings: Findings, who: str, language: str
) -> None:
    """The qualify page (the dialog's fallback) and the pages of a refusal, for every signed-in user."""
    page = context.new_page()
    page.goto(f"/leads/{_open_lead_id(site, SALESPEOPLE[language]['email'])}/qualify")
    page.locator("#qualify-form").wait_for()
    findings.measure(page, who, language)
    nowhere = uuid.uuid4()
    # A lead and an account that are not there, a page that is not there, a page of the administrators.
    for address in (f"/leads/{nowhere}", f"/accounts/{nowhere}", "/no-such-page", "/admin/settings"):
        page.goto(address)
        findings.measure(page, who, language)
    page.close()


@contextmanager
def _sellers_choose_opportunities(site: Site) -> Iterator[None]:
    """The organisation asks the seller whether qualifying creates an opportunity, for the block's time."""
    with site.database.unit_of_work() as uow:
        settings = get_settings(uow.session)
        before = settings.qualification_experience, settings.opportunity_creation
        settings.qualification_experience, settings.opportunity_creation = (
            QualificationExperience.PER_RECORD,
            RecordCreation.SELLER,
        )
        uow.commit()
    try:
        yield
    finally:
        with site.database.unit_of_work() as uow:
            settings = get_settings(uow.session)
            settings.qualification_experience, settings.opportunity_creation = before
            uow.commit()


def measure_what_a_salesperson_submits(context: BrowserContext, site: Site, findings: Findings, language: str) -> None:
    """Records with long text, both duplicate warnings and the bulk results, in the salesperson's language."""
    who = "salesperson"
    page = context.new_page()
    for address in site.long_records[language]:
        page.goto(address)
        findings.measure(page, who, language)

    # Qualifying a lead whose company is an existing account: the duplicate warning (409, no change).
    page.goto("/leads?view=open&q=" + DUPLICATE_LEAD[language].replace(" ", "+"))
    page.locator("#lead-table tbody a").first.click()
    page.wait_for_url("**/leads/*")
    with page.expect_navigation():
        page.locator("#qualify-button").click()
    page.locator("#duplicate-form").wait_for()
    findings.measure(page, who, language)

    # Qualifying a lead another lead duplicates: blocked, with the ways out (409, no change).
    page.goto(f"/leads/{site.blocked_lead[language]}")
    with page.expect_navigation():
        page.locator("#qualify-button").click()
    assert page.locator(".duplicate-blocked").count() == 1
    findings.measure(page, who, language)

    # Two leads qualified from the list, where the organisation asks the seller which records to create:
    # the choices, then the results. The setting is put back afterwards.
    with _sellers_choose_opportunities(site):
        page.goto("/leads?view=my-open")
        for row in (0, 1):
            page.locator("#lead-table tbody input[name=lead_id]").nth(row).check()
        with page.expect_navigation():
            page.locator("#bulk-qualify-button").click()
        page.locator("#bulk-qualify-form").wait_for()
        findings.measure(page, who, language)
        with page.expect_navigation():
            page.locator("#bulk-qualify-submit").click()
        page.locator("#results-table").wait_for()
        findings.measure(page, who, language)

    # The import wizard: a spreadsheet with long headers and values, its columns' mapping, its preview.
    page.goto("/imports")
    page.locator("#import-file").set_input_files(
        {"name": f"{LONG_WORD}.csv", "mimeType": "text/csv", "buffer": _LONG_SPREADSHEET.encode("cp1252")}
    )
    with page.expect_navigation():
        page.locator("#upload-button").click()
    page.locator("#map-form").wait_for()
    findings.measure(page, who, language)
    with page.expect_navigation():
        page.locator("#preview-button").click()
    page.locator("#preview-table").wait_for()
    findings.measure(page, who, language)

    # Setting up two-factor sign-in: the QR code and the secret to type (nothing changes until confirmed).
    page.goto("/me")
    with page.expect_navigation():
        page.locator("#two-factor-start").click()
    page.locator("#two-factor-confirm-form").wait_for()
    findings.measure(page, who, language)
    page.close()


def measure_signed_out_pages(browser: Browser, site: Site, findings: Findings, language: str) -> None:
    """The sign-in page, its second step, a password link, a page that is not there, a refused form."""
    who = "signed out"
    context = _new_context(browser, site, language)
    page = context.new_page()
    for address in ("/sign-in", "/reset-password?token=" + "x" * 43, "/reset-password?token=nothing", "/no-such-page"):
        page.goto(address)
        findings.measure(page, who, language)

    # A form sent without its cookie (another site's form would be): refused as forbidden.
    page.goto("/sign-in")
    context.clear_cookies()
    page.locator("#email").fill(ADMIN["email"])
    page.locator("#password").fill(ADMIN["password"])
    with page.expect_navigation():
        page.locator("#password").press("Enter")
    findings.measure(page, who, language)

    # A user with two-factor sign-in is asked for the code.
    page.goto("/sign-in")
    page.locator("#email").fill(TWO_FACTOR_USER["email"])
    page.locator("#password").fill(TWO_FACTOR_USER["password"])
    page.locator("#password").press("Enter")
    page.locator("#code").wait_for()
    findings.measure(page, who, language)
    context.close()


# ---------------------------------------------------------------------------------------------- the test


@pytest.mark.parametrize("language", list(LOCALES))
def test_no_page_scrolls_sideways_on_a_phone_a_tablet_or_a_desktop(browser: Browser, site: Site, language: str) -> None:
    findings = Findings()
    site.rendered.clear()

    for who, user in (("administrator", ADMIN), ("salesperson", SALESPEOPLE[language])):
        context = _new_context(browser, site, language)
        _sign_in(context.new_page(), user)  # the context keeps the session for its other pages
        crawl(context, findings, who, language)
        measure_the_qualify_page_and_refusals(context, site, findings, who, language)
        if who == "salesperson":
            measure_what_a_salesperson_submits(context, site, findings, language)
        context.close()
    measure_signed_out_pages(browser, site, findings, language)

    assert not findings.problems, f"{len(findings.problems)} problems:\n" + "\n".join(findings.problems)
    unmeasured = page_templates() - site.rendered
    assert not unmeasured, f"page templates no page of this test showed: {sorted(unmeasured)}"
    assert len(findings.measured) > 40
