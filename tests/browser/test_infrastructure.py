"""The browser-test machinery, proven on a tiny WSGI app: serving, contexts, screenshots,
accessibility and keyboard helpers, and what happens without a browser."""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
import textwrap
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from html import escape
from importlib import metadata
from pathlib import Path
from urllib.parse import parse_qs
from wsgiref.types import StartResponse, WSGIEnvironment

import pytest
from playwright.sync_api import Browser, expect

import ticketkit
from tests.browser import chromium
from tests.browser.actors import Actors
from tests.browser.helpers import (
    assert_accessible,
    assert_focus_visible,
    django_orm_beside_playwright,
    tab_to,
)
from tests.browser.server import serving

ROOT = Path(__file__).parents[2]

NewPage = Actors
Serve = Callable[..., str]


# -- a tiny app --------------------------------------------------------------------------------


def page(title: str, body: str) -> bytes:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"</head><body><main><h1>{title}</h1>{body}</main></body></html>"
    ).encode()


def tiny_app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """A clean page that says who is signed in (a cookie), a sign-in that sets it, and a
    page with an unlabelled input. Under a strict CSP, as a real portal would send."""
    path = environ["PATH_INFO"]
    cookie = environ.get("HTTP_COOKIE", "")
    headers = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Security-Policy", "default-src 'self'"),
    ]
    if path == "/":
        who = cookie.removeprefix("who=") if cookie.startswith("who=") else None
        status = f"Signed in as {escape(who)}" if who else "Nobody is signed in"
        body = (
            f"<p>{status}</p>"
            '<form action="/sign-in"><label for="name">Your name</label>'
            '<input id="name" name="name"><button>Sign in</button></form>'
        )
        start_response("200 OK", headers)
        return [page("Tiny app", body)]
    if path == "/sign-in":
        name = parse_qs(environ.get("QUERY_STRING", "")).get("name", [""])[0]
        start_response("303 See Other", [("Location", "/"), ("Set-Cookie", f"who={name}")])
        return [b""]
    if path == "/unlabelled":
        start_response("200 OK", headers)
        return [page("Unlabelled", '<form><input name="q"><button>Search</button></form>')]
    start_response("404 Not Found", headers)
    return [page("Not found", "<p>No such page.</p>")]


@pytest.fixture
def tiny(serve_wsgi: Serve) -> str:
    return serve_wsgi(tiny_app)


# -- serving and contexts ----------------------------------------------------------------------


def test_a_served_app_loads_in_the_browser(new_actor_page: NewPage, tiny: str) -> None:
    assert tiny.startswith("http://127.0.0.1:")
    visitor = new_actor_page(base_url=tiny)
    visitor.goto("/")
    expect(visitor).to_have_title("Tiny app")
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Tiny app")


def test_each_actor_has_cookies_of_their_own(new_actor_page: NewPage, tiny: str) -> None:
    sandra = new_actor_page("sandra", base_url=tiny)
    max_ = new_actor_page("max", base_url=tiny)
    sandra.goto("/sign-in?name=Sandra")
    expect(sandra.get_by_text("Signed in as Sandra")).to_be_visible()
    max_.goto("/")
    expect(max_.get_by_text("Nobody is signed in")).to_be_visible()
    assert [c["name"] for c in sandra.context.cookies()] == ["who"]
    assert max_.context.cookies() == []


def test_the_server_answers_requests_at_the_same_time_and_stops_afterwards() -> None:
    both_inside = threading.Barrier(2, timeout=5)

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        both_inside.wait()  # a server answering one request at a time never gets past this
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"both"]

    answers: list[bytes] = []
    with serving(app) as url:
        fetches = [
            threading.Thread(target=lambda: answers.append(urllib.request.urlopen(url).read()))
            for _ in range(2)
        ]
        for fetch in fetches:
            fetch.start()
        for fetch in fetches:
            fetch.join(timeout=10)
    assert answers == [b"both", b"both"]
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=2)


# -- accessibility and the keyboard ------------------------------------------------------------


def test_axe_passes_a_clean_page(new_actor_page: NewPage, tiny: str) -> None:
    visitor = new_actor_page(base_url=tiny)
    visitor.goto("/")
    assert_accessible(visitor)


def test_axe_fails_a_page_with_an_unlabelled_input_naming_rule_and_element(
    new_actor_page: NewPage, tiny: str
) -> None:
    visitor = new_actor_page(base_url=tiny)
    visitor.goto("/unlabelled")
    with pytest.raises(AssertionError) as failure:
        assert_accessible(visitor)
    report = str(failure.value)
    assert report.startswith(f"axe found 1 accessibility violation(s) on {tiny}/unlabelled:")
    assert "- label (critical): Form elements must have labels" in report
    assert '<input name="q">' in report


def test_a_form_is_filled_and_sent_by_keyboard_alone(new_actor_page: NewPage, tiny: str) -> None:
    visitor = new_actor_page(base_url=tiny)
    visitor.goto("/")
    tab_to(visitor, visitor.get_by_label("Your name"))
    visitor.keyboard.type("Sandra")
    visitor.keyboard.press("Enter")
    expect(visitor.get_by_text("Signed in as Sandra")).to_be_visible()


def test_tab_to_fails_listing_the_focus_order_when_a_control_is_out_of_reach(
    new_actor_page: NewPage,
) -> None:
    visitor = new_actor_page()
    visitor.set_content(
        '<label>Title <input></label><button tabindex="-1">Send</button><a href="#">Help</a>'
    )
    with pytest.raises(AssertionError) as failure:
        tab_to(visitor, visitor.get_by_role("button", name="Send"), max_presses=2)
    assert '- textbox "Title"' in str(failure.value)
    assert '- link "Help"' in str(failure.value)


@pytest.mark.parametrize(
    ("style", "visible"),
    [("", True), ("button:focus { outline: none }", False)],
    ids=["browser focus ring", "outline removed"],
)
def test_focus_visible_tells_a_drawn_focus_from_a_removed_one(
    new_actor_page: NewPage, style: str, visible: bool
) -> None:
    visitor = new_actor_page()
    visitor.set_content(f"<style>{style}</style><button>Send</button>")
    tab_to(visitor, visitor.get_by_role("button", name="Send"))
    if visible:
        assert_focus_visible(visitor)
    else:
        with pytest.raises(AssertionError, match=r'focus on - button "Send" is invisible'):
            assert_focus_visible(visitor)
    expect(visitor.get_by_role("button", name="Send")).to_be_focused()


def test_django_orm_beside_playwright_is_refused_except_inside_the_helper(
    browser: Browser,
) -> None:
    from django.core.exceptions import SynchronousOnlyOperation
    from django.utils.asyncio import async_unsafe

    @async_unsafe
    def orm_call() -> str:
        return "done"

    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    with pytest.raises(SynchronousOnlyOperation):
        orm_call()
    with django_orm_beside_playwright():
        assert orm_call() == "done"
    assert os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE") == before
    with pytest.raises(SynchronousOnlyOperation):
        orm_call()


# -- whole runs: screenshots, the end of Playwright, no browser --------------------------------

SCRATCH_TESTS = {
    "pytest.ini": """
        [pytest]
        addopts = -p no:cacheprovider --import-mode=importlib -rA
    """,
    "browser/__init__.py": "",
    "browser/conftest.py": """
        from tests.browser.conftest import *  # noqa: F403  the real fixtures
    """,
    "browser/test_pages.py": """
        import asyncio

        def test_fails_after_two_actors_opened_pages(new_actor_page):
            sandra = new_actor_page("sandra")
            sandra.set_content('<body style="margin:0"><div style="height:3000px">Sandra</div>')
            new_actor_page("max").set_content("<h1>Max</h1>")
            asyncio.get_running_loop()  # Playwright's, marked running in this thread
            raise AssertionError("deliberately")
    """,
    "later/test_after.py": """
        import asyncio, pytest

        def test_no_loop_runs_after_the_browser_tests():
            with pytest.raises(RuntimeError):
                asyncio.get_running_loop()
    """,
}
RUNS = {  # name: (TICKETKIT_CHROMIUM, CI)
    "chromium": (None, False),
    "no chromium": ("/nonexistent", False),
    "no chromium, CI": ("/nonexistent", True),
}


def start_scratch_run(root: Path, chromium_path: str | None, ci: bool) -> subprocess.Popen[str]:
    """pytest, in a subprocess, on SCRATCH_TESTS written under ``root`` with the real
    fixtures; CI is unset unless ``ci``."""
    for name, text in SCRATCH_TESTS.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    src = str(Path(ticketkit.__file__).parents[1])
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), src, env.get("PYTHONPATH", "")])
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # a quicker start; no plugin is needed
    env["COLUMNS"] = "300"
    if chromium_path:
        env["TICKETKIT_CHROMIUM"] = chromium_path
    if ci:
        env["CI"] = "true"
    return subprocess.Popen(
        [sys.executable, "-m", "pytest"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture(scope="module", autouse=True)
def started_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, tuple[Path, subprocess.Popen[str]]]]:
    """Each of RUNS (the one with Chromium only where there is one), started together with
    the module's first test when a selected test reads them: they run while the tests
    before them do (those wait on the browser more than they compute)."""
    started: dict[str, tuple[Path, subprocess.Popen[str]]] = {}
    if any("scratch_runs" in getattr(item, "fixturenames", ()) for item in request.session.items):
        for name, (chromium_path, ci) in RUNS.items():
            if chromium_path is None and chromium.missing_message(chromium.executable()):
                continue
            root = tmp_path_factory.mktemp("scratch")
            started[name] = (root, start_scratch_run(root, chromium_path, ci))
    yield started
    for _, run in started.values():
        if run.poll() is None:
            run.kill()
            run.communicate()


@pytest.fixture(scope="module")
def scratch_runs(
    started_runs: dict[str, tuple[Path, subprocess.Popen[str]]],
) -> dict[str, tuple[Path, str]]:
    """Each started run's root directory and output, once it has ended."""
    return {
        name: (root, run.communicate(timeout=120)[0]) for name, (root, run) in started_runs.items()
    }


def png_size(path: Path) -> tuple[int, int]:
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    return width, height


def test_every_page_a_test_opened_is_screenshot_full_page_even_when_it_fails(
    chromium_executable: Path, scratch_runs: dict[str, tuple[Path, str]]
) -> None:
    root, output = scratch_runs["chromium"]
    failed = "FAILED browser/test_pages.py::test_fails_after_two_actors_opened_pages"
    assert f"{failed} - AssertionError: deliberately" in output, output
    shots = root / "test-artifacts" / "screenshots"
    test_id = "browser.test_pages.py__test_fails_after_two_actors_opened_pages"
    assert sorted(p.name for p in shots.iterdir()) == [
        f"{test_id}--max.png",
        f"{test_id}--sandra.png",
    ]
    assert png_size(shots / f"{test_id}--sandra.png") == (1280, 3000)


def test_a_test_with_one_page_has_its_screenshot_named_after_the_test_id(
    new_actor_page: NewPage, request: pytest.FixtureRequest
) -> None:
    new_actor_page()
    test_id = "tests.browser.test_infrastructure.py__" + request.node.name
    shots = request.config.rootpath / "test-artifacts" / "screenshots"
    assert new_actor_page.screenshot_paths() == [shots / f"{test_id}.png"]


def test_playwright_stops_after_the_browser_tests_so_later_tests_see_no_running_loop(
    chromium_executable: Path, scratch_runs: dict[str, tuple[Path, str]]
) -> None:
    _, output = scratch_runs["chromium"]
    assert "PASSED later/test_after.py::test_no_loop_runs_after_the_browser_tests" in output


def test_without_chromium_browser_tests_skip_naming_the_install_command(
    scratch_runs: dict[str, tuple[Path, str]],
) -> None:
    _, output = scratch_runs["no chromium"]
    assert re.search(r"= 1 passed, 1 skipped in [\d.]+s =+$", output.strip()), output
    assert chromium.INSTALL_COMMAND in output
    assert "TICKETKIT_CHROMIUM" in output


def test_without_chromium_under_ci_browser_tests_fail_instead_of_skipping(
    scratch_runs: dict[str, tuple[Path, str]],
) -> None:
    _, output = scratch_runs["no chromium, CI"]
    assert re.search(r"= 1 passed, 1 error in [\d.]+s =+$", output.strip()), output
    assert "CI=true: browser tests must run, not skip" in output
    assert chromium.INSTALL_COMMAND in output


def test_the_report_header_names_the_chromium_and_playwright_versions(
    request: pytest.FixtureRequest, browser: Browser, chromium_executable: Path
) -> None:
    config = request.config
    lines = config.hook.pytest_report_header(config=config, start_path=config.rootpath)
    header = next(line for line in lines if str(line).startswith("browser tests:"))
    assert f"Chromium {browser.version} " in header
    assert f"({chromium_executable})" in header
    assert f"Playwright {metadata.version('playwright')}" in header
