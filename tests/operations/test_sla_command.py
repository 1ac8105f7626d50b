"""The ``ticketkit sla sweep`` command, run as a host's cron would: a separate process on
the database file, its notifications left in the outbox for the host's own delivery."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ticketkit import HelpDesk
from ticketkit.adapters.sqlalchemy import SqlStorage, create_sqlite_engine, upgrade
from ticketkit.clock import ManualClock
from ticketkit.demo_world import seed_000, seed_000_slas
from ticketkit.domain import SlaLevelReached

ROOT = Path(__file__).parents[2]


def ticketkit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ticketkit.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
        check=False,
    )


def test_the_command_sweeps_a_database_and_leaves_notifications_to_the_host(
    tmp_path: Path,
) -> None:
    path = tmp_path / "desk.sqlite"
    engine = create_sqlite_engine(path)
    upgrade(engine)
    # tickets opened a day ago: their first responses breached long since
    clock = ManualClock(datetime.now(UTC) - timedelta(days=3))
    desk = HelpDesk(SqlStorage(engine), clock=clock, delivery="inline")
    seed = seed_000(desk)
    seed_000_slas(desk, seed.admin.actor)
    tickets = [
        desk.create_ticket(
            seed.sandra.actor,
            project_id=seed.project.id,
            type_id=seed.server_crash.id,
            title=f"Server {n} down",
            fields={"sla_level": "Gold", "affected_systems": ["Webserver"]},
        ).id
        for n in range(3)
    ]
    done = ticketkit("sla", "sweep", "--database", f"sqlite:///{path}")
    assert done.returncode == 0, done.stderr
    assert "swept 3 tickets" in done.stdout
    assert "12 warnings, 6 breaches" in done.stdout  # first response and resolution
    for ticket_id in tickets:
        reached = [
            e.event
            for e in desk.timeline(seed.max.actor, ticket_id)
            if isinstance(e.event, SlaLevelReached)
        ]
        assert {(e.metric, e.level) for e in reached} >= {("first_response", "breach")}
    again = ticketkit("sla", "sweep", "--database", f"sqlite:///{path}", "--quiet")
    assert "0 warnings, 0 breaches" in again.stdout
    engine.dispose()


def test_the_command_says_what_it_needs() -> None:
    done = ticketkit("sla", "sweep")
    assert done.returncode != 0
    assert "TICKETKIT_DATABASE_URL" in done.stderr
    wrong = ticketkit("sla", "sweep", "--database", "mysql://nowhere/db")
    assert wrong.returncode != 0 and "SQLite or PostgreSQL" in wrong.stderr
