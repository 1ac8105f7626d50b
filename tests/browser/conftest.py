"""Fixtures for browser tests: one Chromium, a fresh context per actor, served WSGI apps,
and a full-page screenshot of every page a test opened.

Playwright and its browser start with the first browser test and stop after the last one
in this package (scope ``package``, so once per run, as every browser test lives here).
Not ``session``: Playwright's sync API keeps an asyncio loop marked as running in the main
thread while it runs, which would break any later test using asyncio or Django's ORM.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from wsgiref.types import WSGIApplication

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.browser import chromium
from tests.browser.actors import SCREENSHOTS, Actors
from tests.browser.server import serving


@pytest.fixture(scope="package")
def chromium_executable() -> Path:
    """The Chromium to drive; skips the browser tests when there is none, fails under CI."""
    path = chromium.executable()
    problem = chromium.missing_message(path)
    if problem:
        if chromium.in_ci():
            pytest.fail(f"{problem} (CI=true: browser tests must run, not skip)", pytrace=False)
        pytest.skip(problem)
    return path


@pytest.fixture(scope="package")
def browser(
    chromium_executable: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Browser]:
    """One headless Chromium for all browser tests; never one Playwright downloads."""
    home = tmp_path_factory.mktemp("chromium-home")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_executable,
            args=chromium.launch_args(),
            env=chromium.launch_env(home),
        )
        yield launched
        launched.close()


@pytest.fixture
def new_actor_page(
    browser: Browser,
    request: pytest.FixtureRequest,
    serve_wsgi: Callable[[WSGIApplication], str],  # set up first, so apps outlive the pages
) -> Iterator[Actors]:
    """``new_actor_page("sandra", base_url=url)``: a page in a fresh browser context per
    actor, screenshot into test-artifacts/screenshots/ and closed when the test ends."""
    actors = Actors(browser, request.config.rootpath / SCREENSHOTS, request.node.nodeid)
    yield actors
    actors.close()


@pytest.fixture
def serve_wsgi() -> Iterator[Callable[[WSGIApplication], str]]:
    """``base_url = serve_wsgi(app)``: serves the WSGI app on 127.0.0.1 at a free port, in
    threads, until the test ends. For an app served longer, use ``server.serving``."""
    with ExitStack() as stack:
        yield lambda app: stack.enter_context(serving(app))
