"""A test's actors: a page each, in browser contexts of their own, screenshot at the end."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page

SCREENSHOTS = Path("test-artifacts") / "screenshots"  # under the rootdir; gitignored
ACTION_TIMEOUT_MS = 5_000  # an app on localhost answers in milliseconds: fail fast instead
NAVIGATION_TIMEOUT_MS = 10_000


class Actors:
    """Pages for a test's actors, each in a browser context of its own (own cookies,
    storage, cache); at the end a full-page screenshot of each open page, then all closed."""

    def __init__(self, browser: Browser, screenshots: Path, test_id: str) -> None:
        self._browser = browser
        self._screenshots = screenshots
        self._test_id = test_id
        self._opened: list[tuple[str, BrowserContext, Page]] = []

    def __call__(self, name: str | None = None, **context_options: Any) -> Page:
        """A page in a new context; ``context_options`` go to ``Browser.new_context``
        (``base_url``, ``locale``, ``viewport``, ...)."""
        context = self._browser.new_context(**context_options)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        page = context.new_page()
        self._opened.append((name or f"actor{len(self._opened) + 1}", context, page))
        return page

    def screenshot_paths(self) -> list[Path]:
        """Where each page's screenshot goes: ``<test id>.png`` for a test with one page,
        ``<test id>--<actor>.png`` for each page of a test with several."""
        stem = _file_name(self._test_id.replace("::", "__").replace("/", "."))
        if len(self._opened) == 1:
            return [self._screenshots / f"{stem}.png"]
        return [self._screenshots / f"{stem}--{_file_name(n)}.png" for n, _, _ in self._opened]

    def close(self) -> None:
        """Screenshot every page still open (also after a failure), then close contexts.

        A screenshot that cannot be taken (a crashed page) becomes a warning, so it never
        hides the test's own outcome.
        """
        self._screenshots.mkdir(parents=True, exist_ok=True)
        for (name, context, page), path in zip(self._opened, self.screenshot_paths(), strict=True):
            if not page.is_closed():
                try:
                    page.screenshot(path=path, full_page=True, timeout=ACTION_TIMEOUT_MS)
                except Exception as exc:
                    warnings.warn(f"no screenshot of {name}'s page: {exc}", stacklevel=1)
            context.close()


def _file_name(text: str) -> str:
    return re.sub(r"[^\w.-]+", "_", text)
