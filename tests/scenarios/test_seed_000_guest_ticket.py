"""Seed 000 end to end, on every backend: a guest's server-crash ticket worked internally.

Sandra (guest) ends up seeing exactly her request, the status changes and the public reply;
the agents see everything; Sandra is notified of the status changes and the public reply only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ticketkit.application import HelpDesk
from ticketkit.clock import ManualClock
from ticketkit.demo import (
    ASSIGN_NOTE,
    FIX_NOTE,
    PUBLIC_ANSWER,
    TITLE,
    RecordingNotifier,
    Story,
    play_seed_000,
    render,
)
from ticketkit.domain import CommentAdded, StatusChanged, TicketAssigned, TicketCreated
from ticketkit.errors import NotFound
from ticketkit.hooks import Plugins
from ticketkit.ports import Storage


@pytest.fixture
def story(storage: Storage) -> Story:
    clock = ManualClock(datetime(2026, 5, 22, 12, 5, tzinfo=UTC))
    notifier = RecordingNotifier()
    desk = HelpDesk(storage, clock=clock, plugins=Plugins.create([notifier]))
    story = play_seed_000(desk, clock, notifier)
    desk.flush()  # the story's notifications, delivered off its thread
    return story


def summary(story: Story, who: str) -> list[tuple[str, ...]]:
    person = getattr(story, who)
    out: list[tuple[str, ...]] = []
    for entry in story.desk.timeline(person.actor, story.ticket_id):
        e = entry.event
        if isinstance(e, TicketCreated):
            out.append(("created", e.title))
        elif isinstance(e, StatusChanged):
            out.append(("status", e.old_status, e.new_status))
        elif isinstance(e, TicketAssigned):
            out.append(("assigned", str(e.new_assignee_id == story.max.id)))
        elif isinstance(e, CommentAdded):
            assert entry.comment is not None
            out.append((entry.comment.visibility.value, entry.comment.body))
        else:
            out.append((e.kind,))
    return out


def test_guest_timeline_holds_request_status_changes_and_public_reply_only(story: Story) -> None:
    assert summary(story, "sandra") == [
        ("created", TITLE),
        ("status", "new", "root_cause_analysis"),
        ("status", "root_cause_analysis", "solved"),
        ("public", PUBLIC_ANSWER),
        ("status", "solved", "closed"),
    ]


def test_agent_timeline_holds_everything(story: Story) -> None:
    everything = [
        ("created", TITLE),
        ("assigned", "True"),
        ("internal", ASSIGN_NOTE),
        ("status", "new", "root_cause_analysis"),
        ("internal", FIX_NOTE),
        ("status", "root_cause_analysis", "solved"),
        ("public", PUBLIC_ANSWER),
        ("status", "solved", "closed"),
    ]
    assert summary(story, "agent") == everything
    assert summary(story, "max") == everything


def test_guest_is_notified_of_status_changes_and_public_reply_only(story: Story) -> None:
    to_sandra = [
        (m.event.kind, m.comment.body if m.comment else None)
        for m in story.notifier.messages
        if m.recipient.id == story.sandra.id
    ]
    assert to_sandra == [
        ("status_changed", None),
        ("status_changed", None),
        ("comment_added", PUBLIC_ANSWER),
        ("status_changed", None),
    ]
    to_max = [m.event.kind for m in story.notifier.messages if m.recipient.id == story.max.id]
    assert to_max == ["ticket_assigned", "comment_added"]


def test_guest_sees_ticket_without_assignment_and_with_public_count(story: Story) -> None:
    view = story.desk.get_ticket(story.sandra.actor, story.ticket_id)
    assert view.assignee_id is None
    assert view.comment_count == 1
    assert view.status_label == "Geschlossen"
    assert view.fields == {
        "sla_level": "Gold",
        "affected_systems": ("Hauptdatenbank", "API-Gateway"),
    }
    agent_view = story.desk.get_ticket(story.agent.actor, story.ticket_id)
    assert agent_view.assignee_id == story.max.id and agent_view.comment_count == 3


def test_guest_sees_only_projects_of_her_organisation(story: Story) -> None:
    projects = story.desk.list_projects(story.sandra.actor)
    assert [p.name for p in projects] == ["GlobalTech Support"]
    page = story.desk.list_tickets(story.sandra.actor)
    assert [t.title for t in page.items] == [TITLE]


def test_rendered_demo_shows_both_timelines(story: Story) -> None:
    text = render(story)
    assert "What the agent" in text and "What the guest" in text
    # The guest's column as running text (lines are wrapped).
    guest_column = " ".join(
        " ".join(line.split("│", 1)[1].split()) for line in text.splitlines() if "│" in line
    )
    assert "Post-Mortem" not in guest_column and "Datenbankproblem" not in guest_column
    assert "Max Keller replied publicly: Das Problem ist behoben" in guest_column
    assert "Max Keller changed the status from Ursachenanalyse to Gelöst" in guest_column
    assert "assigned" not in guest_column and "internal note" not in guest_column


def test_another_customer_cannot_reach_the_ticket(story: Story) -> None:
    desk, admin = story.desk, story.admin.actor
    other = desk.create_organisation(admin, name="Initech")
    peter = desk.add_person(
        admin, organisation_id=other.id, name="Peter", email="peter@initech.example", role="guest"
    )
    with pytest.raises(NotFound):
        desk.get_ticket(peter.actor, story.ticket_id)
    assert desk.list_tickets(peter.actor).items == ()


def test_the_demo_never_replaces_an_existing_file_unless_told(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ticketkit.demo import main

    mine = tmp_path / "mine.sqlite"
    mine.write_bytes(b"someone's data")
    assert main([str(mine)]) == 2
    assert mine.read_bytes() == b"someone's data"
    assert "--replace" in capsys.readouterr().err
    assert main([str(mine), "--replace"]) == 0
    assert f"stays in {mine}" in capsys.readouterr().out
    kept = tmp_path / "new.sqlite"
    assert main([str(kept)]) == 0 and kept.stat().st_size > 0
    assert main([]) == 0
    assert "to keep one, name a file" in capsys.readouterr().out


def test_seed_001_part_ends_the_supporters_access_at_the_expiry(story: Story) -> None:
    from ticketkit.demo_grants import SHOP_TICKET, play_seed_001

    clock = story.desk.clock
    assert isinstance(clock, ManualClock)
    part = play_seed_001(story.desk, clock, story.admin, story.sandra)
    assert part.listed_before == (SHOP_TICKET,) and part.read_before == SHOP_TICKET
    assert part.listed_after == () and part.not_found_after
    assert clock.now() == part.expires_at
    # Sandra's own organisation still sees the project's ticket; only the grant ended.
    assert SHOP_TICKET in [
        t.title for t in story.desk.list_tickets(part.customer_admin.actor).items
    ]
    assert any("NotFound" in line for line in part.lines)
