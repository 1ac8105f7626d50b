"""A host's guest portal and agent desk, built the way a new user would build them: on the
public API alone (issue 17, acceptance).

The guest lists the ticket types she may use, the portal builds its form from them, she
opens a ticket; the agent desk draws its buttons from what the agent may do and works the
ticket internally; the portal renders the guest's timeline from the library's descriptions,
in English and in German, and ships it as JSON. Only ``ticketkit`` itself is imported (the
storage comes from the suite's fixture: ``MemoryStorage()`` or ``SqlStorage(engine)``);
``tests/unit/test_host_portal_imports.py`` keeps it that way.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from ticketkit import (
    DESCRIPTION_TEMPLATES,
    CommentDraft,
    DeliveryMode,
    FieldKind,
    FieldSpec,
    HelpDesk,
    ManualClock,
    NotificationMessage,
    Plugins,
    Status,
    StatusCategory,
    TimelineEntry,
    Workflow,
    hookimpl,
    to_json_data,
)

TEMPLATE = "Was ist passiert?\n\nSeit wann?\n"
TITLE = "Produktionsserver nicht erreichbar seit 14 Uhr"
INTERNAL_NOTE = "Hey Max, das sieht nach einem Datenbankproblem aus."
COST_CENTRE = "KST-4711"
PUBLIC_ANSWER = "Das Problem ist behoben."

#: The portal's own wording of the library's descriptions, one entry per message key.
GERMAN = {
    "ticket_created": "{actor} hat #{number} „{title}“ eröffnet",
    "ticket_created_for": "{actor} hat #{number} „{title}“ für {requester} eröffnet",
    "status_changed": "{actor} hat den Status von {old_status} auf {new_status} gesetzt",
    "ticket_assigned": "{actor} hat das Ticket {assignee} zugewiesen",
    "ticket_unassigned": "{actor} hat die Zuweisung aufgehoben",
    "comment_public": "{actor} hat öffentlich geantwortet",
    "comment_internal": "{actor} hat eine interne Notiz geschrieben",
    "ticket_changed": "{actor} hat {fields} geändert",
    "ticket_moved": "{actor} hat das Ticket als #{number} an einen anderen Desk übergeben",
    "group_assigned": "{actor} hat das Ticket der Gruppe {group} gegeben",
    "group_unassigned": "{actor} hat das Ticket aus seiner Gruppe genommen",
    "sla_warning": "{actor}: {metric} hat {percent} % des Ziels erreicht",
    "sla_breach": "{actor}: {metric} hat das Ziel verfehlt",
    "sla_escalated": "{actor} hat das Ticket an {whom} eskaliert",
    "event": "{actor}: {kind}",
}


class Mailbox:
    """The host's notifier plugin: keeps what it would send."""

    def __init__(self) -> None:
        self.messages: list[NotificationMessage] = []

    @hookimpl
    def ticketkit_notify(self, message: NotificationMessage) -> None:
        self.messages.append(message)


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox()


@pytest.fixture
def desk(storage: Any, mailbox: Mailbox) -> HelpDesk:
    """A desk on the suite's storage: ``MemoryStorage()``, or ``SqlStorage(engine)`` on a
    migrated SQLite file or PostgreSQL schema."""
    clock = ManualClock(datetime(2026, 5, 22, 12, 0, tzinfo=UTC))
    return HelpDesk(
        storage, clock=clock, plugins=Plugins.create([mailbox]), delivery=DeliveryMode.INLINE
    )


def german(entry: TimelineEntry) -> str:
    d = entry.description
    return GERMAN[d.key].format(**{k: "jemand" if v is None else v for k, v in d.params.items()})


def test_a_guest_portal_and_an_agent_desk_on_the_public_api(
    desk: HelpDesk, mailbox: Mailbox
) -> None:
    # -- the provider's admin console ------------------------------------------------------
    boot = desk.bootstrap_tenant(
        name="Leadtime",
        provider_name="Leadtime Hosting",
        admin_name="Anna Admin",
        admin_email="anna@leadtime.example",
    )
    admin = boot.admin.actor
    staff = {
        name: desk.add_person(
            admin, organisation_id=boot.provider.id, name=name, email=email, role="agent"
        )
        for name, email in (("Tom Berger", "tom@leadtime.example"), ("Max Keller", "max@l.example"))
    }
    globaltech = desk.create_organisation(admin, name="GlobalTech Solutions")
    desk.create_project(admin, organisation_id=globaltech.id, name="GlobalTech Support")
    sandra = desk.add_person(
        admin,
        organisation_id=globaltech.id,
        name="Sandra Winkler",
        email="sandra@globaltech.example",
        role="guest",
    )
    desk.create_ticket_type(
        admin,
        name="Server Crash",
        description_template=TEMPLATE,
        workflow=Workflow.linear(
            (
                Status(key="new", label="Neu", category=StatusCategory.NEW),
                Status(key="analysis", label="Ursachenanalyse", category=StatusCategory.OPEN),
                Status(key="solved", label="Gelöst", category=StatusCategory.SOLVED),
            )
        ),
        fields=(
            FieldSpec(
                name="sla_level",
                label="SLA-Level",
                kind=FieldKind.SINGLE_CHOICE,
                required=True,
                choices=("Gold", "Silber", "Bronze"),
            ),
            FieldSpec(
                name="affected_systems",
                label="Betroffene Systeme",
                kind=FieldKind.MULTIPLE_CHOICE,
                choices=("Hauptdatenbank", "API-Gateway", "Webserver"),
            ),
            FieldSpec(
                name="cost_centre",
                label="Kostenstelle",
                kind=FieldKind.TEXT,
                required=True,
                internal=True,
            ),
        ),
    )

    # -- the guest portal: the new-ticket form -------------------------------------------
    me = sandra.actor
    [project] = desk.list_projects(me)
    types = {t.name: t for t in desk.list_ticket_types(me)}
    crash = types["Server Crash"]
    form = to_json_data(crash)  # what the portal sends its front end to draw the form
    assert [(f["name"], f["label"], f["kind"], f["required"]) for f in form["fields"]] == [
        ("sla_level", "SLA-Level", "single_choice", True),
        ("affected_systems", "Betroffene Systeme", "multiple_choice", False),
    ]
    assert "Kostenstelle" not in json.dumps(form) and form["description_template"] == TEMPLATE
    posted = {"sla_level": "Gold", "affected_systems": ["Hauptdatenbank", "API-Gateway"]}
    ticket = desk.create_ticket(
        me,
        project_id=project.id,
        type_id=crash.id,
        title=TITLE,
        description=TEMPLATE.replace("passiert?\n", "passiert?\nServer antwortet nicht.\n"),
        fields={f["name"]: posted[f["name"]] for f in form["fields"] if f["name"] in posted},
        channel="web",
    )

    # -- the agent desk: the queue, the buttons, the work ----------------------------------
    tom, max_ = staff["Tom Berger"].actor, staff["Max Keller"].actor
    queue = desk.list_tickets(tom, status="new")
    assert [t.number for t in queue.items] == [ticket.number]
    buttons = desk.ticket_actions(tom, ticket.id)
    assert (buttons.comment_public, buttons.comment_internal, buttons.assign) == (True, True, True)
    labels = {s.key: s.label for s in types["Server Crash"].statuses}
    assert [labels[key] for key in buttons.statuses] == ["Ursachenanalyse", "Gelöst"]
    assert "fields.cost_centre" in buttons.fields
    assignable = {p.name: p.id for p in desk.list_people(tom, assignable=True)}
    desk.update_ticket(
        tom,
        ticket.id,
        assignee_id=assignable["Max Keller"],
        fields={"cost_centre": COST_CENTRE},
        comment=CommentDraft(body=INTERNAL_NOTE, visibility="internal", channel="web"),
        expected_version=desk.get_ticket(tom, ticket.id).version,
    )
    desk.change_status(max_, ticket.id, "analysis")
    desk.change_status(
        max_,
        ticket.id,
        "solved",
        comment=CommentDraft(body=PUBLIC_ANSWER, visibility="public", channel="web"),
    )
    agent_lines = [e.description.text for e in desk.timeline(tom, ticket.id)]
    assert agent_lines[1:4] == [
        "Tom Berger changed Kostenstelle",
        "Tom Berger assigned the ticket to Max Keller",
        "Tom Berger wrote an internal note",
    ]

    # -- the guest portal: her ticket, her buttons, her timeline ---------------------------
    mine = desk.get_ticket(me, ticket.id)
    assert (mine.status_label, mine.assignee_id, mine.comment_count) == ("Gelöst", None, 1)
    can = desk.ticket_actions(me, ticket.id)
    assert (can.comment_public, can.comment_internal, can.assign, can.statuses) == (
        True,
        False,
        False,
        (),
    )
    assert "fields.cost_centre" not in can.fields
    timeline = desk.timeline(me, ticket.id)
    assert [e.description.text for e in timeline] == [
        f"Sandra Winkler opened #1 “{TITLE}”",
        "Max Keller changed the status from Neu to Ursachenanalyse",
        "Max Keller replied publicly",
        "Max Keller changed the status from Ursachenanalyse to Gelöst",
    ]
    assert set(GERMAN) == set(DESCRIPTION_TEMPLATES)
    assert [german(e) for e in timeline] == [
        f"Sandra Winkler hat #1 „{TITLE}“ eröffnet",
        "Max Keller hat den Status von Neu auf Ursachenanalyse gesetzt",
        "Max Keller hat öffentlich geantwortet",
        "Max Keller hat den Status von Ursachenanalyse auf Gelöst gesetzt",
    ]
    [reply] = [e.comment.body for e in timeline if e.comment is not None]
    assert reply == PUBLIC_ANSWER
    # She answers against her own version: the internal work since is no conflict of hers.
    desk.add_comment(me, ticket.id, "Danke!", visibility="public", expected_version=mine.version)

    # -- what leaves the portal as JSON holds nothing internal -----------------------------
    to_her = [m for m in mailbox.messages if m.recipient.id == sandra.id]
    assert [m.event.kind for m in to_her] == ["status_changed", "comment_added", "status_changed"]
    shipped = json.dumps(
        [
            to_json_data(desk.get_ticket(me, ticket.id)),
            to_json_data(desk.timeline(me, ticket.id)),
            to_json_data(desk.list_tickets(me)),
            to_json_data(to_her),
        ],
        ensure_ascii=False,
    )
    assert PUBLIC_ANSWER in shipped and "Danke!" in shipped
    for secret in (INTERNAL_NOTE, COST_CENTRE, "cost_centre", "Kostenstelle", "tom@leadtime"):
        assert secret not in shipped, secret
    assert str(assignable["Max Keller"]) not in json.dumps(to_json_data(mine))
