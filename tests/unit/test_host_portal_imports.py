"""The host-portal scenario uses the public API alone (issue 17, acceptance): it imports
``ticketkit`` itself, and from ``ticketkit.adapters`` at most the storage constructors;
never ``ticketkit.policy`` or any other inner module, nor the suite's own helpers."""

from __future__ import annotations

import ast
from pathlib import Path

SCENARIO = Path(__file__).parents[1] / "scenarios" / "test_host_portal.py"
#: What building a storage takes, by module: the only names it may import from adapters.
STORAGE_CONSTRUCTORS = {
    "ticketkit.adapters.memory": {"MemoryStorage"},
    "ticketkit.adapters.sqlalchemy": {
        "SqlStorage",
        "create_sqlite_engine",
        "create_postgres_engine",
        "upgrade",
    },
}


def imports(source: str) -> list[tuple[str, str | None]]:
    """Every (module, name) the source imports, anywhere in it; name None for ``import m``."""
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            found += [(module, alias.name) for alias in node.names]
    return found


def breaches(source: str) -> list[str]:
    """The imports that break the scenario's rule."""
    bad = []
    for module, name in imports(source):
        if module.startswith("."):
            bad.append(f"relative import {module}")
        elif module == "tests" or module.startswith("tests."):
            bad.append(f"{module}: the suite's helpers")
        elif module == "ticketkit":
            if name is None:
                continue
            if name.startswith("_"):
                bad.append(f"ticketkit.{name}: private")
        elif module.startswith("ticketkit."):
            allowed = STORAGE_CONSTRUCTORS.get(module, set())
            if name is None:
                bad.append(module)
            elif name not in allowed:
                bad.append(f"{module}.{name}")
    return bad


def test_the_host_portal_scenario_imports_only_the_public_api() -> None:
    source = SCENARIO.read_text(encoding="utf-8")
    assert ("ticketkit", "HelpDesk") in imports(source)
    assert breaches(source) == []


def test_the_rule_catches_what_the_scenario_must_not_import() -> None:
    source = "\n".join(
        [
            "from ticketkit import HelpDesk",
            "from ticketkit.adapters.sqlalchemy import SqlStorage",
            "from ticketkit.adapters.sqlalchemy import tables",
            "from ticketkit.policy import Eq",
            "import ticketkit.policy.rules",
            "from ticketkit.application.session import Session",
            "from tests.support.world import build_world",
            "def later():",
            "    from ticketkit.domain import Person",
        ]
    )
    assert breaches(source) == [
        "ticketkit.adapters.sqlalchemy.tables",
        "ticketkit.policy.Eq",
        "ticketkit.policy.rules",
        "ticketkit.application.session.Session",
        "tests.support.world: the suite's helpers",
        "ticketkit.domain.Person",
    ]
