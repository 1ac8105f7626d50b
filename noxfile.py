"""Developer tasks. `python3 -m nox` runs lint, type checks and the whole test suite."""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True


@nox.session
def lint(session: nox.Session) -> None:
    """ruff lint and format checks over the library, tests and benchmarks."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", "src", "tests", "bench", "examples", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "bench", "examples", "noxfile.py")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over src/."""
    session.install("-e", ".[dev]")
    session.run("mypy", "--strict", "src")


@nox.session
def tests(session: nox.Session) -> None:
    """Every test: unit, contract (memory, SQLite, PostgreSQL), properties, scenarios.

    PostgreSQL is used when reachable; with CI=true an unreachable server fails the run.
    Runs on every core (pytest-xdist), a test file per worker at a time (so a file's browser
    or database fixtures start once per worker); arguments after ``--`` replace that, e.g.
    ``nox -s tests -- tests/unit``.
    """
    session.install("-e", ".[dev]")
    session.run("pytest", *(session.posargs or ["-n", "auto", "--dist", "loadfile"]))


@nox.session
def demo(session: nox.Session) -> None:
    """The seed-000 story on an embedded SQLite file, both timelines side by side."""
    session.install(".")
    session.run("python", "-m", "ticketkit.demo", *session.posargs)


@nox.session
def flask_portal(session: nox.Session) -> None:
    """The seed-000 guest portal and agent desk on Flask, on a new SQLite file
    (http://127.0.0.1:5000; PORT=... for another port). Ctrl-C stops it."""
    session.install(".[flask]", "flask-wtf>=1.2,<2")
    session.run("python", "examples/flask_portal/app.py")


@nox.session
def django_portal(session: nox.Session) -> None:
    """The same portal on Django, on a new SQLite file (http://127.0.0.1:8000; PORT=...
    for another port). Ctrl-C stops it."""
    session.install(".[django]", "jinja2>=3.1")
    database = Path(session.create_tmp()) / "portal.sqlite"
    for stale in (database, database.with_suffix(".json")):
        stale.unlink(missing_ok=True)
    session.run(
        "python", "examples/django_portal/portal.py", env={"PORTAL_DATABASE": str(database)}
    )


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks (figures, not assertions): `nox -s bench -- --help`."""
    session.install("-e", ".[dev,bench]")
    session.run("python", "bench/tickets.py", *session.posargs)
    session.run("python", "bench/floors.py")
    session.run("python", "bench/calendars.py")
    session.run("python", "bench/sla.py")
