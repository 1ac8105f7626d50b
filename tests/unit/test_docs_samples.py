"""Every Python sample in docs/ runs as written (each page's samples in order, sharing
their names, as a reader would type them)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).parents[2] / "docs"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


PAGES = sorted(p for p in DOCS.glob("*.md") if python_blocks(p.read_text(encoding="utf-8")))


def test_some_docs_pages_have_samples() -> None:
    assert {p.name for p in PAGES} >= {"calendars.md", "plugins.md", "storage.md"}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_sample_of_a_page_runs(page: Path) -> None:
    namespace: dict[str, object] = {"__name__": f"docs.{page.stem}"}
    for block in python_blocks(page.read_text(encoding="utf-8")):
        exec(compile(block, str(page), "exec"), namespace)
