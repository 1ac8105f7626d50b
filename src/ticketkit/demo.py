"""The seed-000 story, played through the public API and printed side by side.

Run it with ``python -m ticketkit.demo [path/to/demo.sqlite]``: a provider invites guest
Sandra Winkler of GlobalTech Solutions, she reports a crashed server, the team works on it
with internal notes, answers publicly and closes. Then both timelines are printed: what
the agent sees, and what Sandra sees. Then seed 001's short part (``demo_grants.py``): a
customer admin grants a technical supporter one project until a date, and his access ends
on that instant.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import textwrap
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID
from zoneinfo import ZoneInfo

import attrs

from ticketkit.adapters.sqlalchemy import SqlStorage, create_sqlite_engine, upgrade
from ticketkit.application import CommentDraft, HelpDesk, NotificationMessage, TimelineEntry
from ticketkit.application.sla import SlaView, duration_text
from ticketkit.clock import ManualClock
from ticketkit.demo_grants import play_seed_001
from ticketkit.demo_world import SERVER_CRASH_TEMPLATE, seed_000, seed_000_slas
from ticketkit.domain import (
    Person,
    TicketType,
    Visibility,
)
from ticketkit.hooks import Plugins, hookimpl

#: Times are stored in UTC and shown in the provider's zone.
DISPLAY_ZONE = ZoneInfo("Europe/Berlin")

TITLE = "Produktionsserver nicht erreichbar seit 14 Uhr"
ASSIGN_NOTE = (
    "Hey Max, das sieht nach einem Datenbankproblem aus. Der Kunde hat SLA Gold, also bitte "
    "priorisieren. Ich vermute, es hängt mit dem Update von gestern zusammen."
)
FIX_NOTE = (
    "Problem identifiziert. Rollback der DB-Config von gestern. Läuft wieder. "
    "Sollten wir ein Post-Mortem machen?"
)
PUBLIC_ANSWER = (
    "Das Problem ist behoben. Die Ursache war eine Konfigurationsänderung, die wir "
    "zurückgesetzt haben. Alle Systeme laufen wieder normal. Bitte geben Sie uns Bescheid, "
    "falls noch etwas nicht funktioniert."
)


class RecordingNotifier:
    """A notifier plugin that keeps every message it is handed."""

    def __init__(self) -> None:
        self.messages: list[NotificationMessage] = []

    @hookimpl
    def ticketkit_notify(self, message: NotificationMessage) -> None:
        self.messages.append(message)


@attrs.frozen(kw_only=True)
class Story:
    """Everything the story created, for printing and for the end-to-end tests."""

    desk: HelpDesk
    admin: Person
    agent: Person
    max: Person
    sandra: Person
    server_crash: TicketType
    ticket_id: UUID
    notifier: RecordingNotifier
    #: The agent's SLA panel of the ticket just after Sandra opened it, and at the end.
    sla_at_start: SlaView | None = None
    sla_at_end: SlaView | None = None


def play_seed_000(desk: HelpDesk, clock: ManualClock, notifier: RecordingNotifier) -> Story:
    """Play the whole seed-000 story on ``desk``; ``clock`` moves as the story does."""
    seed = seed_000(desk)
    seed_000_slas(desk, seed.admin.actor)
    agent, max_, sandra = seed.tom, seed.max, seed.sandra
    project, server_crash = seed.project, seed.server_crash
    clock.advance(timedelta(minutes=5))
    description = SERVER_CRASH_TEMPLATE.replace(
        "Was ist passiert?\n", "Was ist passiert?\nDer Produktionsserver antwortet nicht.\n"
    ).replace("Seit wann?\n", "Seit wann?\nSeit 14 Uhr.\n")
    ticket = desk.create_ticket(
        sandra.actor,
        project_id=project.id,
        type_id=server_crash.id,
        title=TITLE,
        description=description,
        fields={"sla_level": "Gold", "affected_systems": ["Hauptdatenbank", "API-Gateway"]},
        channel="web",
    )
    sla_at_start = desk.ticket_sla(agent.actor, ticket.id)

    clock.advance(timedelta(minutes=4))
    desk.assign(
        agent.actor,
        ticket.id,
        max_.id,
        comment=CommentDraft(body=ASSIGN_NOTE, visibility=Visibility.INTERNAL, channel="web"),
    )
    clock.advance(timedelta(minutes=3))
    desk.change_status(max_.actor, ticket.id, "root_cause_analysis")
    clock.advance(timedelta(hours=1))
    desk.add_comment(max_.actor, ticket.id, FIX_NOTE, visibility=Visibility.INTERNAL, channel="web")
    clock.advance(timedelta(minutes=1))
    desk.change_status(max_.actor, ticket.id, "solved")
    clock.advance(timedelta(minutes=2))
    # "Aktualisieren und schließen": the public answer and the close in one atomic step.
    desk.change_status(
        max_.actor,
        ticket.id,
        "closed",
        comment=CommentDraft(body=PUBLIC_ANSWER, visibility=Visibility.PUBLIC, channel="web"),
    )
    return Story(
        desk=desk,
        admin=seed.admin,
        agent=agent,
        max=max_,
        sandra=sandra,
        server_crash=server_crash,
        ticket_id=ticket.id,
        notifier=notifier,
        sla_at_start=sla_at_start,
        sla_at_end=desk.ticket_sla(agent.actor, ticket.id),
    )


def entry_line(entry: TimelineEntry) -> str:
    """One timeline entry as a line of text: its time in the provider's zone, the
    library's description, and a comment's text."""
    when = entry.event.at.astimezone(DISPLAY_ZONE).strftime("%H:%M")
    body = f": {entry.comment.body}" if entry.comment is not None else ""
    return f"{when} {entry.description}{body}"


def side_by_side(left: Sequence[str], right: Sequence[str], width: int = 58) -> str:
    """Two columns of wrapped text."""

    def wrap(lines: Sequence[str]) -> list[str]:
        out: list[str] = []
        for line in lines:
            out.extend(textwrap.wrap(line, width, subsequent_indent="      ") or [""])
            out.append("")
        return out

    a, b = wrap(left), wrap(right)
    rows = max(len(a), len(b))
    a += [""] * (rows - len(a))
    b += [""] * (rows - len(b))
    return "\n".join(f"{x:<{width}} │ {y}" for x, y in zip(a, b, strict=True))


def sla_lines(view: SlaView | None, title: str) -> list[str]:
    """The agent's SLA panel as text: each clock with a target, its state and due time."""
    if view is None:
        return []
    lines = [f"{title} (policy {view.policy_name}, calendar {view.calendar_name}):"]
    for c in view.clocks:
        if c.target is None:
            continue
        target = duration_text(c.target.duration)
        ran = duration_text(c.elapsed.business)
        if c.state == "met":
            what = f"met after {ran} of {target}" + (", late" if c.breached else "")
        else:
            due = c.due_at.astimezone(DISPLAY_ZONE).strftime("%a %H:%M") if c.due_at else "—"
            left = duration_text(c.remaining) if c.remaining is not None else "—"
            what = f"{c.state}, due {due}, {left} of {target} left"
        lines.append(f"  {c.metric.value.replace('_', ' ')}: {what}")
    return lines


def render(story: Story) -> str:
    """Both timelines side by side, and who was notified of what."""
    desk = story.desk
    agent_view = desk.timeline(story.agent.actor, story.ticket_id)
    guest_view = desk.timeline(story.sandra.actor, story.ticket_id)
    ticket = desk.get_ticket(story.sandra.actor, story.ticket_id)
    width = 58
    head = side_by_side(
        [f"What the agent ({story.agent.name}) sees — {len(agent_view)} entries"],
        [f"What the guest ({story.sandra.name}) sees — {len(guest_view)} entries"],
        width,
    )
    body = side_by_side(
        [entry_line(e) for e in agent_view],
        [entry_line(e) for e in guest_view],
        width,
    )
    # A message is about an entry of its recipient's timeline, described for them there.
    seen: dict[UUID, dict[UUID, TimelineEntry]] = {}
    for m in story.notifier.messages:
        if m.recipient.id not in seen:
            entries = desk.timeline(m.recipient.actor, m.ticket.id)
            seen[m.recipient.id] = {e.event.id: e for e in entries}
    notes = [
        f"  → {m.recipient.name}: {entry_line(seen[m.recipient.id][m.event.id])}"
        for m in story.notifier.messages
    ]
    return "\n".join(
        [
            f"Ticket #{ticket.number} “{ticket.title}” — status {ticket.status_label}, "
            f"SLA {ticket.fields['sla_level']}, "
            f"affected: {', '.join(ticket.fields['affected_systems'])}",  # type: ignore[arg-type]
            "",
            head,
            "─" * width + "─┼─" + "─" * width,
            body,
            "Notifications sent:",
            *notes,
            "",
            *sla_lines(story.sla_at_start, f"SLA, as {story.agent.name} saw it when it came in"),
            *sla_lines(story.sla_at_end, "SLA at the end"),
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "database",
        nargs="?",
        help="a new SQLite file to play the story in and keep (default: a temporary one)",
    )
    parser.add_argument(
        "--replace", action="store_true", help="replace DATABASE if it exists already"
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.database or Path(tmp) / "ticketkit-demo.sqlite")
        if args.database and path.exists():
            if not args.replace:
                print(
                    f"{path} exists already: name a new file, or pass --replace to overwrite it",
                    file=sys.stderr,
                )
                return 2
            path.unlink()
        engine = create_sqlite_engine(path)
        upgrade(engine)
        clock = ManualClock(datetime(2026, 5, 22, 12, 5, tzinfo=UTC))
        notifier = RecordingNotifier()
        desk = HelpDesk(SqlStorage(engine), clock=clock, plugins=Plugins.create([notifier]))
        story = play_seed_000(desk, clock, notifier)
        grants = play_seed_001(desk, clock, story.admin, story.sandra)
        desk.close()  # deliver what is queued and write it down before the database goes
        print(f"ticketkit demo — seed 000 on SQLite file {path}\n")
        print(render(story))
        print("\nSeed 001 — a technical supporter is given access to one project:\n")
        print("\n".join(grants.lines))
        engine.dispose()
        if args.database:
            print(f"\nThe database stays in {path}.")
        else:
            print(
                "\nThe database was temporary and is gone; to keep one, name a file: "
                "python3 -m ticketkit.demo demo.sqlite (with nox: nox -s demo -- demo.sqlite)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
