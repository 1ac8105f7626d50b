"""Developer tasks. `python3 -m nox` runs lint, type checks and the whole test suite."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True


@nox.session
def lint(session: nox.Session) -> None:
    """ruff lint and format checks over the library, tests and benchmarks."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", "src", "tests", "bench", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "bench", "noxfile.py")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over src/."""
    session.install("-e", ".[dev]")
    session.run("mypy", "--strict", "src")


@nox.session
def tests(session: nox.Session) -> None:
    """Every test: unit, contract (memory, SQLite, PostgreSQL), properties, scenarios.

    PostgreSQL is used when reachable; with CI=true an unreachable server fails the run.
    """
    session.install("-e", ".[dev]")
    session.run("pytest", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """The seed-000 story on an embedded SQLite file, both timelines side by side."""
    session.install(".")
    session.run("python", "-m", "ticketkit.demo", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks (figures, not assertions): `nox -s bench -- --help`."""
    session.install("-e", ".[dev,bench]")
    session.run("python", "bench/tickets.py", *session.posargs)
    session.run("python", "bench/floors.py")
    session.run("python", "bench/calendars.py")
