"""The README's quickstart is real code: it runs, and its assertions hold."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).parents[2] / "README.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_quickstart_runs() -> None:
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    assert blocks, "README has no python quickstart"
    for block in blocks:
        exec(compile(block, str(README), "exec"), {"__name__": "readme"})


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = README.read_text(encoding="utf-8")
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    command = "python3 -m pip install nox && python3 -m nox"
    assert f"\n{command}\n" in readme
    assert [line for line in ci.splitlines() if "nox" in line] == [command]


def test_every_nox_session_the_readme_names_exists() -> None:
    import re

    readme = README.read_text(encoding="utf-8")
    noxfile = (README.parent / "noxfile.py").read_text(encoding="utf-8")
    named = set(re.findall(r"python3 -m nox -s (\w+)", readme))
    assert {"demo", "flask_portal", "django_portal"} <= named
    for session in named:
        assert re.search(rf"^def {session}\(session: nox.Session\)", noxfile, re.M), session
