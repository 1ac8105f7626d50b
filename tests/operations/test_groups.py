"""Agent groups and followers (issue 17, point 6): where a new ticket goes, who hears of
it, assignment to a group or a person in it, and followers who hear only what they may
see, checked again when a notification is delivered."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from tests.operations.test_delivery import Recorder, desk_with, statuses
from tests.support.world import World
from ticketkit.application import DeliveryMode, HelpDesk, TicketView
from ticketkit.clock import ManualClock
from ticketkit.domain import Group, Visibility
from ticketkit.domain.notifications import DeliveryStatus
from ticketkit.errors import NotFound, PermissionDenied, ValidationError
from ticketkit.hooks import Plugins, Signals
from ticketkit.ports import Storage


def guest_opens(desk: HelpDesk, w: World, *, project: Any = None) -> TicketView:
    return desk.create_ticket(
        w.acme_guest.actor,
        project_id=(project or w.acme_project).id,
        type_id=w.incident.id,
        title="Down",
        fields={"sla_level": "Gold"},
    )


def first_line(desk: HelpDesk, w: World, clock: ManualClock) -> Group:
    """Alice and Bob, serving Acme's project."""
    group = desk.create_group(
        w.admin.actor,
        name="First line",
        member_ids=[w.agent.id, w.agent2.id],
        project_ids=[w.acme_project.id],
    )
    clock.advance(timedelta(seconds=1))
    return group


def second_line(desk: HelpDesk, w: World, clock: ManualClock) -> Group:
    """Bob and Ada, serving Acme's project too (created later)."""
    group = desk.create_group(
        w.admin.actor,
        name="Second line",
        member_ids=[w.agent2.id, w.admin.id],
        project_ids=[w.acme_project.id],
    )
    clock.advance(timedelta(seconds=1))
    return group


# -- where a new ticket goes ------------------------------------------------------------------


def test_a_guest_s_new_ticket_goes_to_the_group_serving_its_project_and_its_members_hear_of_it(
    storage: Storage, clock: ManualClock
) -> None:
    rec = Recorder()
    desk, w = desk_with(storage, clock, rec, delivery=DeliveryMode.INLINE)
    group = first_line(desk, w, clock)
    t = guest_opens(desk, w)
    assert sorted(rec.log()) == [
        ("Alice", "ticket_created", None),
        ("Bob", "ticket_created", None),
    ]
    assert desk.get_ticket(w.agent.actor, t.id).group_id == group.id
    # The guest sees no group, as she sees no assignee; nor its event in her timeline.
    assert t.group_id is None and desk.get_ticket(w.acme_guest.actor, t.id).group_id is None
    assert [e.event.kind for e in desk.timeline(w.acme_guest.actor, t.id)] == ["ticket_created"]
    assert [e.event.kind for e in desk.timeline(w.agent.actor, t.id)] == [
        "ticket_created",
        "group_assigned",
    ]
    assert desk.get_ticket(w.acme_guest.actor, t.id).version == 1
    routed = desk.timeline(w.agent.actor, t.id)[1].description
    assert (routed.key, routed.params["group"]) == ("group_assigned", group.name)
    assert routed.text == f"{w.acme_guest.name} gave the ticket to the group {group.name}"
    desk.assign(w.agent.actor, t.id, group_id=None)
    taken = desk.timeline(w.agent.actor, t.id)[-1].description
    assert taken.text == f"{w.agent.name} took the ticket from its group"


def test_without_a_serving_group_a_new_ticket_has_none_and_no_agent_hears_of_it(
    storage: Storage, clock: ManualClock
) -> None:
    rec = Recorder()
    desk, w = desk_with(storage, clock, rec, delivery=DeliveryMode.INLINE)
    first_line(desk, w, clock)
    t = desk.create_ticket(
        w.globex_guest.actor,
        project_id=w.globex_project.id,
        type_id=w.incident.id,
        title="Down",
        fields={"sla_level": "Gold"},
    )
    assert desk.get_ticket(w.agent.actor, t.id).group_id is None
    assert rec.log() == []


def test_of_several_serving_groups_the_oldest_takes_the_ticket_or_the_assignee_s_own(
    storage: Storage, clock: ManualClock
) -> None:
    desk, w = desk_with(storage, clock)
    first, second = first_line(desk, w, clock), second_line(desk, w, clock)
    assert desk.get_ticket(w.agent.actor, guest_opens(desk, w).id).group_id == first.id
    by_ada = desk.create_ticket(
        w.agent.actor,
        project_id=w.acme_project.id,
        type_id=w.incident.id,
        title="Down",
        fields={"sla_level": "Gold"},
        requester_id=w.acme_guest.id,
        assignee_id=w.admin.id,
    )
    assert (by_ada.group_id, by_ada.assignee_id) == (second.id, w.admin.id)
    given = desk.create_ticket(
        w.agent.actor,
        project_id=w.acme_project.id,
        type_id=w.incident.id,
        title="Down",
        fields={"sla_level": "Gold"},
        group_id=None,
    )
    assert given.group_id is None


def test_a_group_given_at_creation_must_hold_the_assignee_and_is_for_staff(
    storage: Storage, clock: ManualClock
) -> None:
    desk, w = desk_with(storage, clock)
    first = first_line(desk, w, clock)
    with pytest.raises(ValidationError) as err:
        desk.create_ticket(
            w.agent.actor,
            project_id=w.acme_project.id,
            type_id=w.incident.id,
            title="Down",
            fields={"sla_level": "Gold"},
            assignee_id=w.admin.id,
            group_id=first.id,
        )
    assert list(err.value.fields) == ["assignee_id"]
    with pytest.raises(PermissionDenied):
        desk.create_ticket(
            w.acme_guest.actor,
            project_id=w.acme_project.id,
            type_id=w.incident.id,
            title="Down",
            fields={"sla_level": "Gold"},
            group_id=first.id,
        )
    assert desk.list_tickets(w.agent.actor).items == ()


# -- assignment ---------------------------------------------------------------------------------


def test_assignment_targets_a_group_a_person_or_a_person_of_the_group(
    storage: Storage, clock: ManualClock
) -> None:
    rec = Recorder()
    desk, w = desk_with(storage, clock, rec, delivery=DeliveryMode.INLINE)
    first, second = first_line(desk, w, clock), second_line(desk, w, clock)
    t = guest_opens(desk, w)
    del rec.messages[:]
    agent = w.agent.actor

    # A group alone: its members hear of it while nobody is assigned (not the actor).
    moved = desk.assign(agent, t.id, group_id=second.id)
    assert (moved.group_id, moved.assignee_id) == (second.id, None)
    assert sorted(rec.log()) == [
        ("Ada Admin", "group_assigned", None),
        ("Bob", "group_assigned", None),
    ]

    # A person of the group.
    both = desk.assign(agent, t.id, w.agent2.id, group_id=second.id)
    assert (both.group_id, both.assignee_id) == (second.id, w.agent2.id)

    # Both given, the person no member: refused, nothing written.
    before = desk.get_ticket(agent, t.id)
    with pytest.raises(ValidationError) as err:
        desk.assign(agent, t.id, w.agent.id, group_id=second.id)
    assert list(err.value.fields) == ["assignee_id"]
    assert desk.get_ticket(agent, t.id) == before

    # A person alone, no member of the ticket's group: the serving group they belong to.
    alice = desk.assign(agent, t.id, w.agent.id)
    assert (alice.group_id, alice.assignee_id) == (first.id, w.agent.id)

    # A group alone whose members do not include the assignee: the assignee goes.
    regroup = desk.assign(agent, t.id, group_id=second.id)
    assert (regroup.group_id, regroup.assignee_id) == (second.id, None)

    # No group: the assignee stays.
    desk.assign(agent, t.id, w.agent2.id)
    nogroup = desk.assign(agent, t.id, group_id=None)
    assert (nogroup.group_id, nogroup.assignee_id) == (None, w.agent2.id)
    assert desk.list_tickets(agent, group_id=None).items[0].id == t.id
    assert desk.list_tickets(agent, group_id=second.id).items == ()


def test_customers_may_neither_assign_nor_filter_by_group_and_unknown_groups_are_not_found(
    storage: Storage, clock: ManualClock
) -> None:
    desk, w = desk_with(storage, clock)
    first = first_line(desk, w, clock)
    t = guest_opens(desk, w)
    with pytest.raises(PermissionDenied):
        desk.assign(w.acme_guest.actor, t.id, group_id=first.id)
    with pytest.raises(PermissionDenied):
        desk.list_tickets(w.acme_guest.actor, group_id=first.id)
    with pytest.raises(NotFound):
        desk.assign(w.agent.actor, t.id, group_id=uuid.uuid4())
    with pytest.raises(ValidationError):
        desk.list_tickets(w.agent.actor, group_id="first")  # type: ignore[arg-type]
    assert desk.list_tickets(w.agent.actor, group_id=first.id).items[0].id == t.id


# -- groups in the directory ------------------------------------------------------------------


def test_admins_manage_groups_and_only_staff_see_them(storage: Storage, clock: ManualClock) -> None:
    desk, w = desk_with(storage, clock)
    first, second = first_line(desk, w, clock), second_line(desk, w, clock)
    with pytest.raises(PermissionDenied):
        desk.create_group(w.agent.actor, name="Mine")
    assert desk.list_groups(w.light_agent.actor) == [first, second]
    assert desk.list_groups(w.agent.actor, member_id=w.admin.id) == [second]
    assert desk.list_groups(w.agent.actor, project_id=w.globex_project.id) == []
    assert desk.get_group(w.agent.actor, first.id) == first
    assert desk.list_groups(w.acme_guest.actor) == []
    with pytest.raises(NotFound):
        desk.get_group(w.acme_guest.actor, first.id)

    renamed = desk.update_group(
        w.admin.actor,
        first.id,
        name=" Level one ",
        member_ids=[w.agent.id],
        project_ids=[w.acme_project.id, w.globex_project.id],
    )
    assert renamed.name == "Level one" and renamed.member_ids == {w.agent.id}
    assert desk.get_group(w.agent.actor, first.id) == renamed
    assert desk.list_groups(w.agent.actor, project_id=w.globex_project.id) == [renamed]
    assert desk.update_group(w.admin.actor, first.id) == renamed


def test_group_members_may_be_assigned_and_projects_exist_or_nothing_is_written(
    storage: Storage, clock: ManualClock
) -> None:
    desk, w = desk_with(storage, clock)
    with pytest.raises(ValidationError) as err:
        desk.create_group(
            w.admin.actor,
            name="",
            member_ids=[w.light_agent.id, w.acme_guest.id, uuid.uuid4()],
            project_ids=[uuid.uuid4()],
        )
    assert list(err.value.fields) == ["name", "member_ids", "project_ids"]
    assert len([e for e in err.value.errors if e.field == "member_ids"]) == 3
    for bad in ("abc", [str(w.agent.id)], None, 5):
        with pytest.raises(ValidationError) as err:
            desk.create_group(w.admin.actor, name="G", member_ids=bad)  # type: ignore[arg-type]
        assert list(err.value.fields) == ["member_ids"]
    assert desk.list_groups(w.admin.actor) == []
    first = first_line(desk, w, clock)
    with pytest.raises(ValidationError):
        desk.update_group(w.admin.actor, first.id, member_ids=[w.light_agent.id])
    assert desk.get_group(w.admin.actor, first.id) == first
    with pytest.raises(NotFound):
        desk.update_group(w.admin.actor, uuid.uuid4(), name="x")


# -- followers ----------------------------------------------------------------------------------


def test_a_requester_adds_a_colleague_who_then_hears_what_she_may_see(
    storage: Storage, clock: ManualClock
) -> None:
    rec = Recorder()
    desk, w = desk_with(storage, clock, rec, delivery=DeliveryMode.INLINE)
    t = guest_opens(desk, w)
    shown = desk.add_follower(w.acme_guest.actor, t.id, w.acme_admin.id)
    assert [p.id for p in shown] == [w.acme_admin.id]
    assert desk.add_follower(w.acme_guest.actor, t.id, w.acme_admin.id) == shown, "no-op"
    desk.add_comment(w.agent.actor, t.id, "between us", visibility=Visibility.INTERNAL)
    desk.add_comment(w.agent.actor, t.id, "fixed", visibility=Visibility.PUBLIC)
    assert [x for x in rec.log() if x[0] == "Carl"] == [
        ("Carl", "follower_added", None),
        ("Carl", "comment_added", "fixed"),
    ]
    # A customer follower is public: his colleague and the agents see it.
    kinds = [e.event.kind for e in desk.timeline(w.acme_guest.actor, t.id)]
    assert kinds == ["ticket_created", "follower_added", "comment_added"]
    assert [p.id for p in desk.list_followers(w.agent.actor, t.id)] == [w.acme_admin.id]


def test_customers_add_only_their_colleagues_and_only_to_their_own_or_followed_tickets(
    storage: Storage, clock: ManualClock
) -> None:
    desk, w = desk_with(storage, clock)
    t = guest_opens(desk, w)
    gina, carl = w.acme_guest.actor, w.acme_admin.actor
    with pytest.raises(NotFound):
        desk.add_follower(gina, t.id, w.globex_guest.id)
    with pytest.raises(ValidationError):
        desk.add_follower(gina, t.id, w.agent.id)
    with pytest.raises(PermissionDenied):
        desk.add_follower(carl, t.id, w.acme_admin.id)
    with pytest.raises(NotFound):
        desk.add_follower(w.globex_guest.actor, t.id, w.globex_guest.id)
    with pytest.raises(ValidationError):
        desk.add_follower(w.agent.actor, t.id, w.acme_admin.id)
    assert desk.list_followers(w.agent.actor, t.id) == []
    assert desk.get_ticket(gina, t.id).version == 1
    # Once a follower, Carl may add (and remove) colleagues himself.
    desk.add_follower(gina, t.id, w.acme_admin.id)
    assert desk.remove_follower(carl, t.id, w.acme_guest.id) == desk.list_followers(carl, t.id)


def test_staff_followers_are_internal_and_hear_internal_notes(
    storage: Storage, clock: ManualClock
) -> None:
    rec = Recorder()
    desk, w = desk_with(storage, clock, rec, delivery=DeliveryMode.INLINE)
    t = guest_opens(desk, w)
    gina_before = (
        desk.get_ticket(w.acme_guest.actor, t.id),
        desk.timeline(w.acme_guest.actor, t.id),
    )
    desk.add_follower(w.agent.actor, t.id, w.agent.id)
    desk.add_follower(w.agent.actor, t.id, w.light_agent.id)
    assert desk.list_followers(w.acme_guest.actor, t.id) == []
    assert [p.id for p in desk.list_followers(w.agent2.actor, t.id)] == [
        w.agent.id,
        w.light_agent.id,
    ]
    assert (
        desk.get_ticket(w.acme_guest.actor, t.id),
        desk.timeline(w.acme_guest.actor, t.id),
    ) == gina_before
    desk.add_comment(w.agent2.actor, t.id, "look", visibility=Visibility.INTERNAL)
    assert ("Lena", "comment_added", "look") in rec.log()
    assert ("Alice", "comment_added", "look") in rec.log()
    # Anyone may stop following; then they hear nothing more.
    desk.remove_follower(w.light_agent.actor, t.id, w.light_agent.id)
    desk.add_comment(w.agent2.actor, t.id, "again", visibility=Visibility.INTERNAL)
    assert ("Lena", "comment_added", "again") not in rec.log()
    assert ("Alice", "comment_added", "again") in rec.log()
    # Whether an agent follows is not hers to learn, by an error either.
    with pytest.raises(ValidationError):
        desk.remove_follower(w.acme_guest.actor, t.id, w.agent.id)
    with pytest.raises(ValidationError):
        desk.remove_follower(w.acme_guest.actor, t.id, w.agent2.id)


def test_a_follower_who_loses_access_before_delivery_gets_nothing(
    storage: Storage, clock: ManualClock
) -> None:
    """Checked when the notification is delivered, not only when it was written: Bob is
    deactivated after the comment commits and before its notifications go out."""
    rec = Recorder()
    signals = Signals()
    desk = HelpDesk(
        storage,
        clock=clock,
        plugins=Plugins.create([rec]),
        signals=signals,
        delivery=DeliveryMode.INLINE,
    )
    from tests.support.world import build_world

    w = build_world(desk, clock)
    t = guest_opens(desk, w)
    desk.add_follower(w.agent.actor, t.id, w.agent2.id)
    desk.add_follower(w.acme_guest.actor, t.id, w.acme_admin.id)

    def revoke(sender: object, **kw: Any) -> None:
        if kw["event"].kind == "comment_added":
            desk.deactivate_person(w.admin.actor, w.agent2.id)
            desk.deactivate_person(w.admin.actor, w.acme_admin.id)

    signals.event_recorded.connect(revoke, weak=False)
    del rec.messages[:]
    desk.add_comment(w.agent.actor, t.id, "done", visibility=Visibility.PUBLIC)
    assert rec.log() == [("Gina", "comment_added", "done")]
    assert sorted(statuses(storage, w)).count(DeliveryStatus.DROPPED) == 2
