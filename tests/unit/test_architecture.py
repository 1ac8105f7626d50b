"""The layering promises: a pure core, nothing done at import time, documented hooks."""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import ticketkit
from ticketkit.hooks import specs

CORE = [
    "ticketkit.domain",
    "ticketkit.domain.calendars",
    "ticketkit.policy",
    "ticketkit.errors",
    "ticketkit.clock",
    "ticketkit.serialization",
    "ticketkit.ports",
]
BLOCKED = ["sqlalchemy", "pluggy", "blinker", "flask", "django", "alembic"]


def test_core_packages_import_with_infrastructure_libraries_blocked() -> None:
    script = textwrap.dedent(
        f"""
        import importlib.abc, sys
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {BLOCKED!r}:
                    raise ImportError("blocked: " + name)
                return None
        sys.meta_path.insert(0, Block())
        import importlib
        for mod in {CORE!r}:
            importlib.import_module(mod)
        print("ok")
        """
    )
    src = str(Path(ticketkit.__file__).parent.parent)
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": src},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_importing_ticketkit_builds_no_engine_or_plugin_manager() -> None:
    script = (
        "import sys, ticketkit, ticketkit.application, ticketkit.hooks, "
        "ticketkit.adapters.sqlalchemy\n"
        "import gc, pluggy, sqlalchemy\n"
        "objs = gc.get_objects()\n"
        "assert not any(isinstance(o, pluggy.PluginManager) for o in objs)\n"
        "assert not any(isinstance(o, sqlalchemy.engine.Engine) for o in objs)\n"
        "print('ok')\n"
    )
    src = str(Path(ticketkit.__file__).parent.parent)
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": src},
        check=False,
    )
    assert done.returncode == 0, done.stderr


def hookspecs() -> list[tuple[str, object]]:
    return [
        (name, fn)
        for name, fn in inspect.getmembers(specs, inspect.isfunction)
        if name.startswith("ticketkit_")
    ]


@pytest.mark.parametrize(("name", "fn"), hookspecs())
def test_every_hook_is_documented_in_its_spec_and_in_the_docs(name: str, fn: object) -> None:
    assert inspect.getdoc(fn), f"hook {name} has no docstring"
    docs = (Path(__file__).parents[2] / "docs" / "plugins.md").read_text(encoding="utf-8")
    assert f"`{name}`" in docs, f"hook {name} is missing from docs/plugins.md"


def test_unknown_hook_implementations_are_refused_at_start_up() -> None:
    from pluggy import PluginValidationError

    from ticketkit.hooks import Plugins, hookimpl

    class Typo:
        @hookimpl
        def ticketkit_notfiy(self, message: object) -> None: ...

    with pytest.raises(PluginValidationError):
        Plugins.create([Typo()])


def test_every_top_level_export_resolves() -> None:
    for name in ticketkit.__all__:
        assert getattr(ticketkit, name) is not None, name
    with pytest.raises(AttributeError):
        _ = ticketkit.NoSuchThing  # type: ignore[attr-defined]
