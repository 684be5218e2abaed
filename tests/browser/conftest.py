"""Browser tests: the web app served by a real server, driven by the machine's headless Chromium.

Chromium comes from Debian's ``chromium`` package (``.ci/run`` installs it when missing); Playwright
drives it through ``executable_path``, so no browser is downloaded. The app runs on SQLite with the
demo data: these tests are about what a seller clicks, the storage tests cover both databases.
Screenshots of the main pages land in ``build/screenshots/<language>/`` on every run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from datetime import date
from functools import cache
from pathlib import Path

import pytest

from leadflow.asgi import create_app
from leadflow.bootstrap import ensure_organisation
from leadflow.core.config import Settings
from leadflow.core.db import make_engine, utcnow
from leadflow.core.migrate import upgrade
from leadflow.core.uow import Database
from leadflow.demo import load_demo
from tests.conftest import DatabaseState, _empty_all_tables
from tests.live import serving

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
_problems: list[str] = []


def chromium_path() -> str | None:
    """The machine's Chromium, or None (then the browser tests are skipped, loudly)."""
    for candidate in (os.environ.get("LEADFLOW_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if candidate and (found := shutil.which(candidate)):
            return found
    return None


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # Checked here too: under pytest-xdist the skips happen in the workers.
    if _problems or chromium_path() is None:
        terminalreporter.write_sep("!", "BROWSER TESTS WERE SKIPPED", red=True, bold=True)
        terminalreporter.write_line((_problems or ["No Chromium executable was found on this machine."])[0], red=True)
        terminalreporter.write_line("Install Debian's chromium package (or set LEADFLOW_CHROMIUM).", red=True)


@pytest.fixture(scope="session")
def browser_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'leadflow.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@cache
def _demo(url: str, day: date) -> DatabaseState:
    """An organisation with the demo data, loaded once per process and day (the demo dates its leads
    from today: a run going past midnight loads it again)."""
    database = Database(url)
    _empty_all_tables(database)
    with database.unit_of_work() as uow:
        ensure_organisation(uow=uow, base_currency="EUR")
        uow.commit()
    load_demo(database)
    state = DatabaseState(database)
    database.dispose()
    return state


@pytest.fixture
def demo_database(browser_database_url: str) -> Iterator[Database]:
    """A fresh organisation with the demo data (users, leads in Spanish and English, accounts...)."""
    database = Database(browser_database_url)
    _demo(browser_database_url, utcnow().date()).restore(database)
    yield database
    database.dispose()


@pytest.fixture
def live_server(demo_database: Database) -> Iterator[str]:
    """The app served by uvicorn on a free local port, for as long as the test runs."""
    settings = Settings(database_url=demo_database.url)
    with serving(create_app(demo_database, settings)) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    executable = chromium_path()
    if executable is None:
        _problems.append("No Chromium executable was found on this machine.")
        pytest.skip("Chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser, live_server: str) -> Iterator[Callable[..., object]]:
    """Open pages in fresh browser contexts: ``new_page(language="es", viewport=(1280, 900))``."""
    contexts = []

    def make(*, language: str = "en", viewport: tuple[int, int] = (1280, 900)):
        locale = {"en": "en-GB", "es": "es-ES"}[language]
        context = browser.new_context(
            base_url=live_server,
            locale=locale,
            extra_http_headers={"Accept-Language": f"{locale},{language};q=0.9"},
            viewport={"width": viewport[0], "height": viewport[1]},
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def screenshot(page, language: str, name: str) -> Path:
    """Save a full-page screenshot under build/screenshots/<language>/<name>.png."""
    path = SCREENSHOTS / language / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, email: str, password: str) -> None:
    """Sign in through the form as a person would, with the keyboard."""
    page.goto("/sign-in")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("#password").press("Enter")
    page.wait_for_url(lambda url: "/sign-in" not in url)
