"""The example portals stay examples: at most 150 lines of host Python each (templates and
tests aside), counted as non-blank lines that are not comments. Docstrings count: they
are code a reader has to read past."""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
LIMIT = 150


def host_lines(text: str) -> int:
    """Lines that are neither blank nor only a comment."""
    return sum(1 for line in text.splitlines() if line.strip() and not line.strip().startswith("#"))


def test_blank_lines_and_comments_do_not_count_and_everything_else_does() -> None:
    text = 'x = 1\n\n   # a comment\n"""doc"""\ny = 2  # trailing\n\n'
    assert host_lines(text) == 3


@pytest.mark.parametrize("example", ["flask_portal", "django_portal"])
def test_each_example_has_at_most_150_lines_of_host_python(example: str) -> None:
    files = sorted((EXAMPLES / example).rglob("*.py"))
    assert files, f"no Python in examples/{example}"
    counted = {f.name: host_lines(f.read_text()) for f in files}
    assert sum(counted.values()) <= LIMIT, counted
