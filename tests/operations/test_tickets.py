"""The help desk's ticket operations behave the same on every storage backend."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.support.snapshot import snapshot
from tests.support.world import World, build_world
from ticketkit.application import CommentDraft, HelpDesk, TicketSort
from ticketkit.clock import ManualClock
from ticketkit.domain import Priority, StatusCategory, Visibility
from ticketkit.errors import Conflict, NotFound, PermissionDenied, ValidationError
from ticketkit.ports import Storage


@pytest.fixture
def world(storage: Storage, clock: ManualClock) -> World:
    return build_world(HelpDesk(storage, clock=clock), clock)


def new_ticket(w: World, **overrides: object):  # type: ignore[no-untyped-def]
    args: dict[str, object] = {
        "project_id": w.acme_project.id,
        "type_id": w.incident.id,
        "title": "Database down",
        "fields": {"sla_level": "Gold"},
    }
    args.update(overrides)
    actor = args.pop("actor", w.acme_guest.actor)
    return w.desk.create_ticket(actor, **args)  # type: ignore[arg-type]


# -- creating -------------------------------------------------------------------------------


def test_guest_creates_ticket_from_type_with_template_and_typed_fields(world: World) -> None:
    t = new_ticket(
        world,
        description=None,
        fields={
            "sla_level": "Gold",
            "systems": ["api", "db", "api"],
            "servers": "3",
            "since": "2026-05-22",
            "notes": "rack 4",
        },
    )
    assert t.number == 1
    assert t.description == "What happened?"
    assert t.status == "new" and t.status_category is StatusCategory.NEW
    assert t.requester_id == world.acme_guest.id
    assert t.fields == {
        "sla_level": "Gold",
        "systems": ("db", "api"),
        "servers": Decimal("3"),
        "since": date(2026, 5, 22),
        "notes": "rack 4",
    }
    assert world.desk.get_ticket(world.agent.actor, t.id).fields == t.fields


def test_ticket_numbers_are_sequential_per_tenant(world: World, storage: Storage) -> None:
    other = build_world(HelpDesk(storage, clock=world.clock), world.clock, name="Other")
    numbers = [new_ticket(world).number for _ in range(3)]
    assert numbers == [1, 2, 3]
    assert new_ticket(other).number == 1


def test_agent_creates_ticket_for_a_customer_and_assigns_it(world: World) -> None:
    t = new_ticket(
        world,
        actor=world.agent.actor,
        requester_id=world.acme_guest.id,
        assignee_id=world.agent2.id,
        fields={"sla_level": "Silver", "cost_centre": "CC-7"},
    )
    assert t.requester_id == world.acme_guest.id and t.assignee_id == world.agent2.id
    guest_view = world.desk.get_ticket(world.acme_guest.actor, t.id)
    assert guest_view.assignee_id is None
    assert "cost_centre" not in guest_view.fields
    kinds = [e.event.kind for e in world.desk.timeline(world.acme_guest.actor, t.id)]
    assert kinds == ["ticket_created"]
    created = world.desk.timeline(world.acme_guest.actor, t.id)[0].event
    assert "cost_centre" not in created.fields  # type: ignore[attr-defined]


# -- bad input: a clear error naming the field, and nothing written -----------------------------


BAD_CREATES = [
    ("empty title", {"title": ""}, "title"),
    ("blank title", {"title": "   "}, "title"),
    ("over-long title", {"title": "x" * 201}, "title"),
    ("NUL in title", {"title": "bad\x00title"}, "title"),
    ("unknown field", {"fields": {"sla_level": "Gold", "colour": "red"}}, "fields.colour"),
    ("wrong type: number", {"fields": {"sla_level": "Gold", "servers": "many"}}, "fields.servers"),
    ("wrong type: list", {"fields": {"sla_level": "Gold", "systems": "db"}}, "fields.systems"),
    ("wrong type: date", {"fields": {"sla_level": "Gold", "since": "yesterday"}}, "fields.since"),
    ("wrong type: text", {"fields": {"sla_level": "Gold", "notes": 12}}, "fields.notes"),
    ("text too long", {"fields": {"sla_level": "Gold", "notes": "n" * 101}}, "fields.notes"),
    ("missing required field", {"fields": {}}, "fields.sla_level"),
    ("required set to None", {"fields": {"sla_level": None}}, "fields.sla_level"),
    ("unknown choice", {"fields": {"sla_level": "Platinum"}}, "fields.sla_level"),
    (
        "unknown multi choice",
        {"fields": {"sla_level": "Gold", "systems": ["db", "x"]}},
        "fields.systems",
    ),
    (
        "guest sets internal field",
        {"fields": {"sla_level": "Gold", "cost_centre": "1"}},
        "fields.cost_centre",
    ),
    ("unknown priority", {"priority": "asap"}, "priority"),
    ("bad channel", {"channel": "E Mail!"}, "channel"),
]


@pytest.mark.parametrize(
    ("case", "overrides", "field"), BAD_CREATES, ids=[c[0] for c in BAD_CREATES]
)
def test_bad_create_names_the_field_and_writes_nothing(
    world: World, storage: Storage, case: str, overrides: dict[str, object], field: str
) -> None:
    before = snapshot(storage, world.provider.tenant_id)
    with pytest.raises(ValidationError) as info:
        new_ticket(world, **overrides)
    assert field in info.value.fields, info.value
    assert snapshot(storage, world.provider.tenant_id) == before


def test_every_bad_field_is_reported_at_once(world: World) -> None:
    with pytest.raises(ValidationError) as info:
        new_ticket(world, title="", fields={"colour": "red", "servers": "x"})
    assert set(info.value.fields) == {
        "title",
        "fields.colour",
        "fields.servers",
        "fields.sla_level",
    }


def test_unknown_and_foreign_ids_are_not_found_and_write_nothing(
    world: World, storage: Storage
) -> None:
    other = build_world(HelpDesk(storage, clock=world.clock), world.clock, name="Other")
    foreign_ticket = new_ticket(other)
    before = snapshot(storage, world.provider.tenant_id)
    cases = [
        lambda: new_ticket(world, project_id=uuid.uuid4()),
        lambda: new_ticket(world, project_id=other.acme_project.id),
        lambda: new_ticket(world, type_id=uuid.uuid4()),
        lambda: new_ticket(world, type_id=other.incident.id),
        lambda: new_ticket(world, actor=world.agent.actor, assignee_id=uuid.uuid4()),
        lambda: new_ticket(world, actor=world.agent.actor, assignee_id=other.agent.id),
        lambda: new_ticket(world, actor=world.agent.actor, requester_id=other.acme_guest.id),
        lambda: world.desk.get_ticket(world.agent.actor, uuid.uuid4()),
        lambda: world.desk.get_ticket(world.agent.actor, foreign_ticket.id),
        lambda: world.desk.timeline(world.admin.actor, foreign_ticket.id),
        lambda: world.desk.add_comment(
            world.agent.actor, foreign_ticket.id, "hi", visibility=Visibility.PUBLIC
        ),
        lambda: world.desk.change_status(world.agent.actor, foreign_ticket.id, "open"),
    ]
    for case in cases:
        with pytest.raises(NotFound):
            case()
    assert snapshot(storage, world.provider.tenant_id) == before
    # …and the other tenant's data was not touched through these ids either.
    assert world.desk.get_ticket(other.agent.actor, foreign_ticket.id).version == 1


def test_an_actor_from_another_tenant_cannot_act_here(world: World, storage: Storage) -> None:
    other = build_world(HelpDesk(storage, clock=world.clock), world.clock, name="Other")
    t = new_ticket(world)
    from ticketkit.domain import Actor

    impostor = Actor(tenant_id=world.provider.tenant_id, person_id=other.admin.id)
    with pytest.raises(NotFound):
        world.desk.get_ticket(impostor, t.id)
    with pytest.raises(NotFound):
        world.desk.get_ticket(other.admin.actor, t.id)


def test_disallowed_status_transition_names_status_and_writes_nothing(
    world: World, storage: Storage
) -> None:
    t = new_ticket(world)
    world.desk.change_status(world.agent.actor, t.id, "closed")
    before = snapshot(storage, world.provider.tenant_id)
    with pytest.raises(ValidationError) as info:
        world.desk.change_status(
            world.agent.actor,
            t.id,
            "new",
            comment=CommentDraft(body="reopening", visibility=Visibility.PUBLIC),
        )
    assert "status" in info.value.fields
    with pytest.raises(ValidationError) as info:
        world.desk.change_status(world.agent.actor, t.id, "frozen")
    assert "unknown status" in info.value.fields["status"]
    assert snapshot(storage, world.provider.tenant_id) == before


def test_bad_comment_and_update_write_nothing(world: World, storage: Storage) -> None:
    t = new_ticket(world)
    before = snapshot(storage, world.provider.tenant_id)
    with pytest.raises(ValidationError) as info:
        world.desk.add_comment(world.agent.actor, t.id, "", visibility=Visibility.PUBLIC)
    assert info.value.fields == {"body": "must not be empty"}, "named as add_comment's argument"
    with pytest.raises(ValidationError):
        world.desk.add_comment(world.agent.actor, t.id, "x" * 70_000, visibility="public")
    with pytest.raises(ValidationError) as info:
        world.desk.add_comment(world.agent.actor, t.id, "hi", visibility="secret")
    assert "visibility" in info.value.fields
    with pytest.raises(ValidationError) as info:
        # A valid status change combined with a bad field: the whole update is refused.
        world.desk.update_ticket(world.agent.actor, t.id, status="open", fields={"servers": "lots"})
    assert "fields.servers" in info.value.fields
    assert snapshot(storage, world.provider.tenant_id) == before


def test_stale_expected_version_is_a_conflict_and_writes_nothing(
    world: World, storage: Storage
) -> None:
    t = new_ticket(world)
    world.desk.update_ticket(world.agent.actor, t.id, priority=Priority.HIGH, expected_version=1)
    before = snapshot(storage, world.provider.tenant_id)
    with pytest.raises(Conflict):
        world.desk.update_ticket(world.agent2.actor, t.id, title="Mine", expected_version=1)
    assert snapshot(storage, world.provider.tenant_id) == before
    assert world.desk.get_ticket(world.agent.actor, t.id).version == 2


# -- permissions and visibility -----------------------------------------------------------------


def test_guest_sees_only_tickets_of_own_organisation_and_missing_equals_forbidden(
    world: World,
) -> None:
    acme = new_ticket(world)
    globex = new_ticket(world, actor=world.globex_guest.actor, project_id=world.globex_project.id)
    ops = new_ticket(world, actor=world.agent.actor, project_id=world.internal_project.id)
    assert world.desk.get_ticket(world.acme_admin.actor, acme.id).id == acme.id
    listed = world.desk.list_tickets(world.acme_guest.actor).items
    assert [t.id for t in listed] == [acme.id]
    for hidden in (globex.id, ops.id):
        with pytest.raises(NotFound) as seen:
            world.desk.get_ticket(world.acme_guest.actor, hidden)
        missing = uuid.uuid4()
        with pytest.raises(NotFound) as absent:
            world.desk.get_ticket(world.acme_guest.actor, missing)
        assert str(seen.value).replace(str(hidden), "?") == str(absent.value).replace(
            str(missing), "?"
        )
    with pytest.raises(NotFound):
        new_ticket(world, project_id=world.globex_project.id)
    assert {p.id for p in world.desk.list_projects(world.acme_guest.actor)} == {
        world.acme_project.id
    }
    assert len(world.desk.list_tickets(world.agent.actor).items) == 3


def test_guest_never_sees_internal_comments_assignment_or_internal_fields(world: World) -> None:
    t = new_ticket(world)
    created_at = world.desk.get_ticket(world.acme_guest.actor, t.id).updated_at
    world.clock.advance(timedelta(minutes=5))
    world.desk.assign(
        world.agent.actor,
        t.id,
        world.agent2.id,
        comment=CommentDraft(body="secret plan", visibility=Visibility.INTERNAL),
    )
    world.desk.update_ticket(world.agent.actor, t.id, fields={"cost_centre": "CC-1"})
    guest = world.desk.get_ticket(world.acme_guest.actor, t.id)
    assert guest.updated_at == created_at, "internal activity must not move 'last updated'"
    assert guest.comment_count == 0 and guest.assignee_id is None
    assert "cost_centre" not in guest.fields
    world.clock.advance(timedelta(minutes=5))
    world.desk.add_comment(world.agent2.actor, t.id, "We are on it", visibility=Visibility.PUBLIC)
    guest = world.desk.get_ticket(world.acme_guest.actor, t.id)
    assert guest.updated_at == world.clock.now() and guest.comment_count == 1
    timeline = world.desk.timeline(world.acme_guest.actor, t.id)
    assert [e.event.kind for e in timeline] == ["ticket_created", "comment_added"]
    assert all("secret" not in repr(e) and "CC-1" not in repr(e) for e in timeline)
    agent = world.desk.get_ticket(world.agent.actor, t.id)
    assert agent.comment_count == 2 and agent.fields["cost_centre"] == "CC-1"
    assert len(world.desk.timeline(world.light_agent.actor, t.id)) == 5


def test_guest_may_not_write_internal_comments_or_filter_by_assignee(world: World) -> None:
    t = new_ticket(world)
    with pytest.raises(PermissionDenied) as info:
        world.desk.add_comment(world.acme_guest.actor, t.id, "psst", visibility="internal")
    assert info.value.field == "comment.visibility"
    with pytest.raises(PermissionDenied):
        world.desk.list_tickets(world.acme_guest.actor, assignee_id=world.agent.id)
    for forbidden in (
        lambda: world.desk.change_status(world.acme_guest.actor, t.id, "open"),
        lambda: world.desk.assign(world.acme_guest.actor, t.id, world.agent.id),
        lambda: new_ticket(world, requester_id=world.acme_admin.id),
        # A customer admin adds contacts to her own organisation (issue 18, point 2); to
        # another organisation she may not.
        lambda: world.desk.add_person(
            world.acme_admin.actor,
            organisation_id=world.globex.id,
            name="X",
            email="x@x.example",
            role="guest",
        ),
    ):
        with pytest.raises(PermissionDenied):
            forbidden()


def test_guest_may_update_public_fields_and_sees_own_change(world: World) -> None:
    t = new_ticket(world)
    world.desk.update_ticket(
        world.acme_guest.actor, t.id, fields={"notes": "rack 4"}, title="DB down"
    )
    timeline = world.desk.timeline(world.acme_guest.actor, t.id)
    assert [e.event.kind for e in timeline] == ["ticket_created", "ticket_changed"]


def test_light_agent_reads_everything_and_writes_only_internal_comments(world: World) -> None:
    t = new_ticket(world)
    world.desk.add_comment(world.light_agent.actor, t.id, "note", visibility=Visibility.INTERNAL)
    assert world.desk.get_ticket(world.light_agent.actor, t.id).comment_count == 1
    for forbidden in (
        lambda: world.desk.add_comment(world.light_agent.actor, t.id, "hi", visibility="public"),
        lambda: world.desk.change_status(world.light_agent.actor, t.id, "open"),
        lambda: world.desk.assign(world.light_agent.actor, t.id, world.agent.id),
        lambda: world.desk.update_ticket(world.light_agent.actor, t.id, title="x"),
        lambda: world.desk.update_ticket(
            world.light_agent.actor, t.id, fields={"cost_centre": "1"}
        ),
        lambda: new_ticket(world, actor=world.light_agent.actor),
    ):
        with pytest.raises(PermissionDenied):
            forbidden()
    with pytest.raises(ValidationError) as info:
        world.desk.assign(world.agent.actor, t.id, world.light_agent.id)
    assert "assignee_id" in info.value.fields


def test_update_and_close_is_one_atomic_step(world: World) -> None:
    t = new_ticket(world)
    view = world.desk.change_status(
        world.agent.actor,
        t.id,
        "closed",
        comment=CommentDraft(body="Fixed.", visibility=Visibility.PUBLIC),
    )
    # One step, recorded as three events the agent may see: creation, comment, status.
    assert view.status == "closed" and view.version == 3 and view.comment_count == 1
    kinds = [e.event.kind for e in world.desk.timeline(world.acme_guest.actor, t.id)]
    assert kinds == ["ticket_created", "comment_added", "status_changed"]


def test_unchanged_values_record_no_event(world: World) -> None:
    t = new_ticket(world)
    view = world.desk.update_ticket(world.agent.actor, t.id, title="Database down")
    assert view.version == 1
    assert len(world.desk.timeline(world.agent.actor, t.id)) == 1


# -- listing --------------------------------------------------------------------------------------


def test_list_pages_newest_first_with_keyset_cursor(world: World) -> None:
    made = [new_ticket(world, title=f"T{i}").number for i in range(30)]
    first = world.desk.list_tickets(world.acme_guest.actor, limit=25)
    assert [t.number for t in first.items] == sorted(made, reverse=True)[:25]
    assert first.next_cursor
    second = world.desk.list_tickets(world.acme_guest.actor, limit=25, cursor=first.next_cursor)
    assert [t.number for t in second.items] == [5, 4, 3, 2, 1]
    assert second.next_cursor is None


def test_list_sorted_by_update_breaks_ties_by_creation_order(world: World) -> None:
    tickets = [new_ticket(world, title=f"T{i}") for i in range(5)]
    world.clock.advance(timedelta(minutes=1))
    world.desk.add_comment(world.agent.actor, tickets[1].id, "bump", visibility="public")
    world.desk.add_comment(world.agent.actor, tickets[3].id, "psst", visibility="internal")
    seen = []
    cursor = None
    while True:
        page = world.desk.list_tickets(
            world.acme_guest.actor, sort=TicketSort.RECENTLY_UPDATED, limit=2, cursor=cursor
        )
        seen += [t.number for t in page.items]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    # Guests sort by public activity: the internal note on #4 does not lift it.
    assert seen == [2, 5, 4, 3, 1]
    agent = world.desk.list_tickets(world.agent.actor, sort="recently_updated", limit=10)
    assert [t.number for t in agent.items][:2] == [4, 2]


def test_list_filters(world: World) -> None:
    a = new_ticket(world)
    b = new_ticket(world, actor=world.agent.actor, requester_id=world.acme_admin.id)
    world.desk.assign(world.agent.actor, a.id, world.agent2.id)
    world.desk.change_status(world.agent.actor, b.id, "open")
    desk, agent = world.desk, world.agent.actor
    assert [t.id for t in desk.list_tickets(agent, assignee_id=world.agent2.id).items] == [a.id]
    assert [t.id for t in desk.list_tickets(agent, assignee_id=None).items] == [b.id]
    assert [t.id for t in desk.list_tickets(agent, status="open").items] == [b.id]
    assert [t.id for t in desk.list_tickets(agent, category=["new"]).items] == [a.id]
    assert [t.id for t in desk.list_tickets(agent, requester_id=world.acme_admin.id).items] == [
        b.id
    ]
    assert len(desk.list_tickets(agent, project_id=world.acme_project.id).items) == 2
    assert desk.list_tickets(agent, type_id=uuid.uuid4()).items == ()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 10_000}, "limit"),
        ({"sort": "random"}, "sort"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"project_id": "abc"}, "project_id"),
    ],
)
def test_bad_list_arguments_name_the_field(
    world: World, kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as info:
        world.desk.list_tickets(world.agent.actor, **kwargs)  # type: ignore[arg-type]
    assert field in info.value.fields


def test_cursor_of_another_sort_is_refused(world: World) -> None:
    for _ in range(3):
        new_ticket(world)
    page = world.desk.list_tickets(world.agent.actor, limit=1)
    with pytest.raises(ValidationError):
        world.desk.list_tickets(world.agent.actor, limit=1, sort="oldest", cursor=page.next_cursor)


# -- batches ---------------------------------------------------------------------------------------


def test_batch_commits_many_operations_together(world: World, storage: Storage) -> None:
    with world.desk.batch(world.agent.actor) as batch:
        ids = [
            batch.create_ticket(
                world.agent.actor,
                project_id=world.acme_project.id,
                type_id=world.incident.id,
                title=f"Bulk {i}",
                fields={"sla_level": "Bronze"},
                requester_id=world.acme_guest.id,
            ).id
            for i in range(20)
        ]
        for tid in ids:
            batch.add_comment(world.agent.actor, tid, "public", visibility="public")
            batch.add_comment(world.agent.actor, tid, "internal", visibility="internal")
        with pytest.raises(ValidationError):
            batch.create_ticket(
                world.agent.actor,
                project_id=world.acme_project.id,
                type_id=world.incident.id,
                title="",
                fields={"sla_level": "Gold"},
            )
    page = world.desk.list_tickets(world.acme_guest.actor, limit=50)
    assert [t.number for t in page.items] == list(range(20, 0, -1))
    assert {t.comment_count for t in page.items} == {1}


def test_batch_rolls_back_when_the_block_raises(world: World, storage: Storage) -> None:
    before = snapshot(storage, world.provider.tenant_id)
    with pytest.raises(RuntimeError), world.desk.batch(world.agent.actor) as batch:
        new_ticket(world, actor=world.agent.actor)  # outside the batch: commits on its own
        batch.create_ticket(
            world.agent.actor,
            project_id=world.acme_project.id,
            type_id=world.incident.id,
            title="inside",
            fields={"sla_level": "Gold"},
        )
        raise RuntimeError("host code failed")
    after = snapshot(storage, world.provider.tenant_id)
    assert [t[3] for t in after["tickets"]] == ["Database down"]
    assert len(before["tickets"]) == 0
