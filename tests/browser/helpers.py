"""Helpers for browser tests: accessibility checks, keyboard-only use, Django beside Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import FloatRect, Locator, Page

_AXE = Axe()  # axe-core ships inside the package: nothing is fetched


def assert_accessible(page: Page) -> None:
    """Run axe-core over the page as it is now; fail listing every violation (rule, impact,
    what it asks for, and each offending element with its HTML)."""
    violations: list[dict[str, Any]] = _AXE.run(page).response["violations"]
    if violations:
        raise AssertionError(describe_violations(page.url, violations))


def describe_violations(url: str, violations: list[dict[str, Any]]) -> str:
    """axe's violations as a short readable list."""
    lines = [f"axe found {len(violations)} accessibility violation(s) on {url}:"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"    at {target}: {node['html']}")
        lines.append(f"    see {violation['helpUrl']}")
    return "\n".join(lines)


def focused(page: Page) -> str:
    """The focused element as its role and accessible name (``- button "Send"``), as the
    tests' role and label locators see it."""
    active = page.locator(":focus")
    if active.count() == 0:
        return "(the page itself)"
    return active.first.aria_snapshot().strip()


def tab_to(page: Page, target: Locator, *, max_presses: int = 40) -> None:
    """Press Tab until ``target`` (say ``page.get_by_label("Title")``) has the focus, as a
    keyboard-only user would; fail with the focus order passed through when it never does."""
    passed: list[str] = []
    for _ in range(max_presses):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
        passed.append(focused(page))
    order = "\n".join(f"  {step}" for step in passed)
    raise AssertionError(
        f"{max_presses} presses of Tab never reached {target}; focus went:\n{order}"
    )


def assert_focus_visible(page: Page, *, margin: int = 6) -> None:
    """Fail unless the focused element looks different focused than unfocused.

    Compares screenshots of the element and ``margin`` pixels around it (where an outline
    is drawn) with and without the focus, which catches ``outline: none`` without a
    replacement whatever the CSS; the focus is given back after. Costs two screenshots.
    """
    box = page.evaluate(
        """() => {
            const e = document.activeElement;
            if (!e || e === document.body) return null;
            const r = e.getBoundingClientRect();
            return {x: r.x, y: r.y, width: r.width, height: r.height};
        }"""
    )
    if box is None:
        raise AssertionError("nothing has the focus")
    clip: FloatRect = {
        "x": max(box["x"] - margin, 0),
        "y": max(box["y"] - margin, 0),
        "width": box["width"] + 2 * margin,
        "height": box["height"] + 2 * margin,
    }
    element = focused(page)
    with_focus = page.screenshot(clip=clip, caret="hide", animations="disabled")
    handle = page.evaluate_handle("() => document.activeElement")
    try:
        handle.evaluate("element => element.blur()")
        without_focus = page.screenshot(clip=clip, caret="hide", animations="disabled")
        handle.evaluate("element => element.focus()")
    finally:
        handle.dispose()
    if with_focus == without_focus:
        raise AssertionError(f"the focus on {element} is invisible: it looks the same unfocused")


@contextmanager
def django_orm_beside_playwright() -> Iterator[None]:
    """Let the test's thread call Django's ORM while Playwright runs, inside this block only.

    Playwright's sync API keeps an asyncio loop marked as running in the main thread, so
    Django's guard for async code raises ``SynchronousOnlyOperation`` on any ORM call there.
    Nothing else runs on that loop while a test calls the ORM, so lifting the guard with
    ``DJANGO_ALLOW_ASYNC_UNSAFE`` is safe here. For the Django browser fixture alone, around
    what truly needs the ORM (auth users); seed and assert through ticketkit's API otherwise.
    The variable's previous state comes back afterwards.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield
