"""The layering promises: a pure core, nothing done at import time, documented hooks."""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import ticketkit
from tests.support.alone import run_alone
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
    assert run_alone(script).stdout.strip() == "ok"


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
    assert run_alone(script).stdout.strip() == "ok"


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


def test_a_plugin_without_hookimpl_markers_is_refused_at_start_up() -> None:
    from pluggy import PluginValidationError

    from ticketkit.hooks import Plugins, hookimpl

    class Unmarked:
        def ticketkit_notify(self, message: object) -> None: ...

    class Marked:
        @hookimpl
        def ticketkit_notify(self, message: object) -> None: ...

    with pytest.raises(PluginValidationError, match="implements no ticketkit hook"):
        Plugins.create([Unmarked()])
    plugins = Plugins.create([Marked()])
    with pytest.raises(PluginValidationError, match=r"@ticketkit\.hookimpl"):
        plugins.register(Unmarked())
    assert [type(p) for p in plugins.manager.get_plugins()] == [Marked]


def test_every_top_level_export_resolves() -> None:
    for name in ticketkit.__all__:
        assert getattr(ticketkit, name) is not None, name
    with pytest.raises(AttributeError):
        _ = ticketkit.NoSuchThing  # type: ignore[attr-defined]


# -- the import graph -------------------------------------------------------------------------

SRC = Path(ticketkit.__file__).parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Import statements that run when the module is imported (not under TYPE_CHECKING)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (n for n in node.orelse if isinstance(n, ast.Import | ast.ImportFrom))
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield from _runtime_imports(node)


def import_graph() -> dict[str, set[str]]:
    """ticketkit's modules and the modules each imports at import time (a ``from pkg
    import name`` counts as importing ``pkg.name`` when that is a module)."""
    modules = {_module_name(p): p for p in SRC.rglob("*.py") if "migrations" not in p.parts}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
                continue
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                targets.add(full if full in modules else base)
        graph[name] = {t for t in targets if t.split(".")[0] == "ticketkit" or t in BLOCKED_ROOTS}
        graph[name] |= {t.split(".")[0] for t in targets if t.split(".")[0] in BLOCKED_ROOTS}
    return graph


BLOCKED_ROOTS = {*BLOCKED, "psycopg"}


def test_the_application_layer_never_imports_an_adapter() -> None:
    graph = import_graph()
    for module, targets in graph.items():
        if module.startswith("ticketkit.application"):
            bad = sorted(t for t in targets if t.startswith("ticketkit.adapters"))
            assert not bad, f"{module} imports {bad}: the application talks to ports only"


def test_the_domain_and_policy_import_no_infrastructure() -> None:
    graph = import_graph()
    for module, targets in graph.items():
        if module.startswith(("ticketkit.domain", "ticketkit.policy", "ticketkit.ports")):
            bad = sorted(t for t in targets if t in BLOCKED_ROOTS or ".adapters" in t)
            bad += sorted(
                t for t in targets if t.startswith(("ticketkit.application", "ticketkit.hooks"))
            )
            assert not bad, f"{module} imports {bad}"


FRAMEWORKS = {"django": "ticketkit.web.django", "flask": "ticketkit.web.flask"}


def test_only_each_frameworks_own_integration_imports_it() -> None:
    """The core, the adapters and the framework-neutral web layer import no web framework;
    ``ticketkit.web.django`` imports Django only, ``ticketkit.web.flask`` Flask only."""
    graph = import_graph()
    for module, targets in graph.items():
        bad = sorted(
            t
            for t in targets
            if t in FRAMEWORKS and not (module + ".").startswith(FRAMEWORKS[t] + ".")
        )
        assert not bad, f"{module} imports {bad}"


def test_there_is_no_import_cycle() -> None:
    graph = import_graph()
    visiting: list[str] = []
    done: set[str] = set()

    def visit(module: str) -> None:
        if module in done or module not in graph:
            return
        assert module not in visiting, "import cycle: " + " -> ".join(
            [*visiting[visiting.index(module) :], module]
        )
        visiting.append(module)
        for target in sorted(graph[module]):
            visit(target)
        visiting.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)


def test_the_import_graph_sees_real_edges() -> None:
    """Guards the three tests above against a graph that is silently empty."""
    graph = import_graph()
    assert "ticketkit.application.session" in graph["ticketkit.application.tickets"]
    assert "sqlalchemy" in graph["ticketkit.adapters.sqlalchemy.compile"]
    assert "ticketkit.ids" in graph["ticketkit.application.desk"]


# -- the web layer ------------------------------------------------------------------------------

WEB_FRAMEWORKS = ("flask", "django", "werkzeug")


def test_importing_ticketkit_and_its_web_layer_imports_no_web_framework() -> None:
    script = textwrap.dedent(
        """
        import sys, ticketkit
        for name in ticketkit.__all__:
            getattr(ticketkit, name)
        import ticketkit.application, ticketkit.adapters.sqlalchemy
        import ticketkit.web, ticketkit.web.forms, ticketkit.web.http, ticketkit.web.principals
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in {frameworks!r})
        print(loaded)
        """
    ).format(frameworks=WEB_FRAMEWORKS)
    assert run_alone(script).stdout.strip() == "[]"


def test_only_the_framework_integrations_import_a_framework_and_nothing_imports_them() -> None:
    graph = import_graph()
    integrations = ("ticketkit.web.flask", "ticketkit.web.django")
    for module, targets in graph.items():
        if not module.startswith("ticketkit.web"):
            bad = sorted(t for t in targets if t.startswith("ticketkit.web"))
            assert not bad, f"{module} imports the web layer {bad}"
        integration = module.startswith(integrations)
        if not integration:
            bad = sorted(t for t in targets if t in ("flask", "django"))
            bad += sorted(t for t in targets if t.startswith(integrations))
            assert not bad, f"{module} imports {bad}: only the integrations may"
    assert "flask" in graph["ticketkit.web.flask"]  # the graph sees the web layer
    assert "django" in graph["ticketkit.web.django.storage"]
