"""docs/settings.md lists every registered setting, each row as the registry has it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ticketkit.domain.settings import SETTINGS, Setting

PAGE = Path(__file__).parents[2] / "docs" / "settings.md"


def rows() -> dict[str, list[str]]:
    """The rows of the page's "Every setting" table by name: type, default, overridable,
    documentation."""
    text = PAGE.read_text(encoding="utf-8")
    section = text.split("## Every setting", 1)[1].split("\n## ", 1)[0]
    found: dict[str, list[str]] = {}
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        found[cells[0].strip("`")] = [c.replace("\\|", "|") for c in cells[1:]]
    return found


def expected(setting: Setting) -> list[str]:
    return [
        setting.type_name,
        f"`{json.dumps(setting.dump(setting.default))}`",
        "yes" if setting.overridable else "no",
        setting.doc,
    ]


def test_every_registered_setting_has_a_row_that_agrees_with_the_registry() -> None:
    documented = rows()
    assert list(documented) == [s.name for s in SETTINGS], "one row per setting, in order"
    for setting in SETTINGS:
        assert documented[setting.name] == expected(setting), setting.name


def test_the_rows_are_read_from_the_table() -> None:
    """Guards the test above against a table it silently fails to read."""
    row = rows()["invitations.expiry"]
    assert row[:3] == ["duration", "`604800`", "yes"]
