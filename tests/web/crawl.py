"""The crawl of the web app the page-walking tests share: the demo loaded in a database of its own,
clients signed in as its users through the sign-in form, and a breadth-first walk from ``/`` that
follows every same-origin link of every page (``<a href>``, and the choices of the GET forms that
pick a list's view or filter), GET only: no page route changes anything on GET.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient

from leadflow.bootstrap import ensure_organisation
from leadflow.core.config import Settings
from leadflow.core.db import make_engine
from leadflow.core.migrate import upgrade
from leadflow.core.uow import Database
from leadflow.demo import DEMO_USERS, load_demo
from tests.conftest import (
    _create_postgres_database,
    _drop_postgres_database,
    _postgres_available,
    _postgres_problem,
    app_for,
)
from tests.web.conftest import web_sign_in

ORIGIN = "http://testserver"
# Enough for every page of the demo of the widest role (the administrator's crawl reaches about 710,
# some 60 of them the CSV and Excel downloads of the lead list's views, some 90 the product catalogue
# and the quotes, orders and invoices with their printed forms, some 130 the quick-create forms of the
# records' timelines).
MAX_PAGES = 800
# Query parameters that only order or page what a list shows: a few of each list's orders and pages are
# followed (paging does not explode), while each view or filter (``view=``, ``q=``...) counts as a page.
ORDER_AND_PAGING = frozenset({"sort", "cursor", "page", "before", "after"})
ORDERINGS_PER_CONTENT = 3
# Views and filters of one path (the leads list has a dozen views).
CONTENTS_PER_PATH = 20
# Records of one kind (``/leads/<id>``, ``/accounts/<id>``...) show the same links in a few states: the
# demo's forty-odd leads are all visited, and no kind crowds the others out of the page budget. The
# pages of a record's commands and files (``/leads/<id>/delete``, ``.../attachment``) answer alike for
# every record the user may read: a few of each kind are enough, and keep the crawl fast.
RECORDS_PER_SHAPE = 60
COMMANDS_PER_SHAPE = 8
# A record's page narrowed by its timeline's filters (``/leads/<id>?kind=task&state=open``) shows the same
# links on every record: those of a few records of each kind are followed.
FILTERED_RECORDS_PER_SHAPE = 3
# Addresses never followed: signing out ends the crawl's session; the API is no page.
SKIPPED_PATHS = ("/sign-out",)
SKIPPED_PREFIXES = ("/api/", "/static/")
DEAD = (403, 404)
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# What a crawl is given to read each page: its address and its HTML.
PageReader = Callable[[str, str], None]


# ---------------------------------------------------------------------------------------------- the demo and its users


@contextmanager
def demo_database(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A database of its own on ``backend`` with the demo loaded (loading takes a while: share it)."""
    dropped: str | None = None
    if backend == "sqlite":
        path: Path = tmp_path_factory.mktemp("crawl") / "leadflow.db"
        url = f"sqlite:///{path}"
    else:
        if not _postgres_available():
            pytest.skip(f"PostgreSQL not reachable: {_postgres_problem[0]}")
        dropped, url = _create_postgres_database()
    try:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        database = Database(url)
        with database.unit_of_work() as uow:
            ensure_organisation(uow=uow, base_currency="EUR")
            uow.commit()
        load_demo(database)
        yield database
        database.dispose()
    finally:
        if dropped:
            _drop_postgres_database(dropped)


@contextmanager
def demo_clients(database: Database) -> Iterator[Callable[[dict[str, str]], TestClient]]:
    """Make browser-like clients signed in through the sign-in form as a demo user, whose browser asks
    for the user's language; they are closed on leaving."""
    settings = Settings(database_url=database.url)
    clients: list[TestClient] = []

    def make(user: dict[str, str]) -> TestClient:
        client = TestClient(app_for(database, settings), headers={"Accept-Language": user["language"]})
        client.__enter__()
        clients.append(client)
        web_sign_in(client, user["email"], user["password"])
        return client

    try:
        yield make
    finally:
        for client in clients:
            client.__exit__(None, None, None)


def demo_user(role: str, language: str | None = None) -> dict[str, str]:
    """The first demo user of a role (and of a language, when given)."""
    return next(user for user in DEMO_USERS if user["role"] == role and language in (None, user["language"]))


# ---------------------------------------------------------------------------------------------- the crawl


class _Page(HTMLParser):
    """The links of a page: the ``href`` of every ``<a>``, and what its GET forms ask for (the view and
    filter pickers of the lists): the form as it stands, and each choice of its ``<select>`` and radio
    buttons. Also the page's language."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.lang: str | None = None
        self._form: dict[str, Any] | None = None
        self._select: tuple[str, list[str], list[str]] | None = None  # name, options, selected

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        name = attributes.get("name")
        if tag == "a" and attributes.get("href"):
            self.hrefs.append(attributes["href"])
        elif tag == "html":
            self.lang = attributes.get("lang")
        elif tag == "form" and attributes.get("method", "get").lower() == "get":
            self._form = {"action": attributes.get("action", ""), "fields": [], "choices": []}
        elif tag == "option" and self._select is not None:
            self._select[1].append(attributes.get("value", ""))
            if "selected" in attributes:
                self._select[2].append(attributes.get("value", ""))
        elif self._form is None or not name or "disabled" in attributes:
            return
        elif tag == "input":
            kind = attributes.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                value = attributes.get("value") or "on"
                if kind == "radio":
                    self._form["choices"].append((name, [value]))
                if "checked" in attributes:
                    self._form["fields"].append((name, value))
            elif kind not in ("submit", "button", "image", "reset", "file"):
                self._form["fields"].append((name, attributes.get("value", "")))
        elif tag == "select":
            self._select = (name, [], [])
        elif tag == "textarea":
            self._form["fields"].append((name, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None and self._form is not None:
            name, options, selected = self._select
            if options:
                self._form["fields"].append((name, (selected or options)[0]))
                self._form["choices"].append((name, options))
            self._select = None
        elif tag == "form" and self._form is not None:
            self._submit(self._form)
            self._form = None

    def _submit(self, form: dict[str, Any]) -> None:
        """The addresses the form sends the browser to: as it stands, and with each choice made."""
        fields: list[tuple[str, str]] = form["fields"]
        action = form["action"].split("?")[0]
        self.hrefs.append(f"{action}?{urlencode(fields)}")
        for name, options in form["choices"]:
            for option in options:
                chosen = [(field, value) for field, value in fields if field != name] + [(name, option)]
                self.hrefs.append(f"{action}?{urlencode(chosen)}")


def links_of(html: str) -> tuple[list[str], str | None]:
    parser = _Page()
    parser.feed(html)
    parser.close()
    return parser.hrefs, parser.lang


def followable(page: str, href: str) -> str | None:
    """The link as a path with a normalised query (sorted parameters, no fragment), or None when not followed."""
    href = href.strip()
    if not href or href.startswith("#") or re.match(r"(?i)(mailto|tel|javascript|data):", href):
        return None
    parts = urlsplit(urljoin(ORIGIN + page, href))
    if f"{parts.scheme}://{parts.netloc}" != ORIGIN:
        return None
    path = parts.path or "/"
    if path in SKIPPED_PATHS or path.startswith(SKIPPED_PREFIXES):
        return None
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return f"{path}?{query}" if query else path


def _what_it_shows(link: str) -> str:
    """A link without what only orders or pages the same content (and without blank parameters)."""
    path, _, query = link.partition("?")
    kept = [(name, value) for name, value in parse_qsl(query) if name not in ORDER_AND_PAGING]
    return f"{path}?{urlencode(kept)}" if kept else path


@dataclass
class Crawl:
    visited: list[str] = field(default_factory=list)
    dead: list[tuple[str, str, int]] = field(default_factory=list)  # (page, link, status)
    failed: list[tuple[str, str, int]] = field(default_factory=list)  # other answers above 399
    languages: Counter[str | None] = field(default_factory=Counter)
    truncated: bool = False


def crawl(client: TestClient, *, limit: int = MAX_PAGES, on_page: PageReader | None = None) -> Crawl:
    """Follow every link from ``/`` breadth first; each address is fetched once, redirects are links too.

    Paging and sorting are followed a few times per content (``ORDER_AND_PAGING``), views and filters a
    few times per path, and records a few dozen times per kind, so that the page budget covers every kind.
    ``on_page`` is given the address and the HTML of every page reached.
    """
    result = Crawl()
    queue: deque[tuple[str, str]] = deque([("(sign-in)", "/")])
    seen = {"/"}
    contents: dict[str, set[str]] = {}  # path -> the contents (views, filters) of it followed
    orderings: Counter[str] = Counter()  # content -> how many orders and pages of it were followed
    shapes: dict[str, set[str]] = {}  # kind of record page -> its paths followed
    filtered: dict[str, set[str]] = {}  # kind of record page -> its paths followed with a filter

    def enqueue(page: str, link: str) -> None:
        if link in seen:
            return
        content = _what_it_shows(link)
        path = content.partition("?")[0]
        shape = _ID.sub("<id>", path)
        records = shapes.setdefault(shape, set())
        budget = RECORDS_PER_SHAPE if shape.endswith("<id>") else COMMANDS_PER_SHAPE
        if path not in records and len(records) >= budget:
            return
        views = contents.setdefault(path, set())
        if content not in views and len(views) >= CONTENTS_PER_PATH:
            return
        if content != link and orderings[content] >= ORDERINGS_PER_CONTENT:
            return
        narrowed = filtered.setdefault(shape, set())
        if shape.endswith("<id>") and content != path:
            if path not in narrowed and len(narrowed) >= FILTERED_RECORDS_PER_SHAPE:
                return
            narrowed.add(path)
        records.add(path)
        views.add(content)
        orderings[content] += content != link
        seen.add(link)
        queue.append((page, link))

    while queue:
        if len(result.visited) >= limit:
            result.truncated = True
            break
        page, link = queue.popleft()
        response = client.get(link, follow_redirects=False)
        result.visited.append(link)
        if response.status_code in DEAD:
            result.dead.append((page, link, response.status_code))
            continue
        if response.status_code >= 400:
            result.failed.append((page, link, response.status_code))
            continue
        if response.is_redirect:
            target = followable(link, response.headers["location"])
            assert target is None or not target.startswith("/sign-in"), f"{link} (from {page}) signed the crawl out"
            if target:
                enqueue(link, target)
            continue
        if not response.headers.get("content-type", "").startswith("text/html"):
            continue  # a download: followed, nothing to read in it
        if on_page is not None:
            on_page(link, response.text)
        hrefs, lang = links_of(response.text)
        result.languages[lang] += 1
        for href in hrefs:
            target = followable(link, href)
            if target:
                enqueue(link, target)
    return result


def described(rows: list[tuple[str, str, int]]) -> str:
    return "\n".join(f"  on {page}: link {link} answered {status}" for page, link, status in rows)
