"""The storage contract: every adapter passes the same tests of the ports."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

import attrs
import pytest

from tests.support.records import (
    NOW,
    Seeded,
    comment,
    customer,
    notification,
    person,
    project,
    seed,
    ticket,
)
from ticketkit.adapters.memory import MemoryStorage
from ticketkit.domain import (
    CommentAdded,
    Project,
    Role,
    Tenant,
    Visibility,
    default_workflow,
)
from ticketkit.domain.notifications import DeliveryStatus, Notification
from ticketkit.errors import Conflict
from ticketkit.policy import TRUE, Cmp, Eq, In, all_of
from ticketkit.policy.predicates import evaluate
from ticketkit.ports import OrderBy, Storage, UnitOfWork


def test_committed_data_is_visible_to_the_next_unit_of_work_and_round_trips(
    storage: Storage,
) -> None:
    s = seed(storage)
    t = ticket(s, 1, fields={"a": "x"}, assignee_id=s.person)
    with storage.unit_of_work(s.tenant) as uow:
        uow.tickets.add(t)
        assert uow.tickets.get(t.id) == t, "a unit of work reads its own writes"
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.tickets.get(t.id) == t
        assert uow.get_tenant() is not None and uow.get_tenant().name == "T"  # type: ignore[union-attr]
        person = uow.persons.get(s.person)
        assert person is not None and person.role is Role.ADMIN
        ttype = uow.ticket_types.get(s.type)
        assert ttype is not None and ttype.workflow == default_workflow()
        assert uow.access.project_ids_of([s.org]) == {s.project}
        assert uow.access.project_ids_of([uuid.uuid4()]) == frozenset()


def test_uncommitted_work_is_discarded(storage: Storage) -> None:
    s = seed(storage)
    t = ticket(s, 1)
    with storage.unit_of_work(s.tenant) as uow:
        uow.tickets.add(t)
    with storage.unit_of_work(s.tenant) as uow:
        uow.tickets.add(ticket(s, 2))
        uow.rollback()
        uow.tickets.add(ticket(s, 3))
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.tickets.get(t.id) is None
        assert [x.number for x in uow.tickets.query(TRUE, [OrderBy("number")], 10)] == [3]


def test_another_tenant_cannot_read_or_write_by_id(storage: Storage) -> None:
    a, b = seed(storage), seed(storage)
    t = ticket(a, 1)
    with storage.unit_of_work(a.tenant) as uow:
        uow.tickets.add(t)
        uow.comments.add(comment(a, t.id, Visibility.PUBLIC))
        uow.commit()
    with storage.unit_of_work(b.tenant) as uow:
        assert uow.tickets.get(t.id) is None
        assert uow.persons.get(a.person) is None
        assert uow.projects.get(a.project) is None
        assert uow.tickets.query(TRUE, [OrderBy("number")], 10) == []
        assert uow.comments.for_ticket(t.id, TRUE) == []
        assert uow.comments.count_by_ticket([t.id], TRUE) == {}
        assert uow.access.project_ids_of([a.org]) == frozenset()
        with pytest.raises(ValueError, match="tenant_id"):
            uow.tickets.add(t)
        with pytest.raises(Conflict):
            uow.tickets.update(attrs.evolve(t, tenant_id=b.tenant, version=2), expected_version=1)


def test_stale_update_is_a_conflict_not_a_lost_write(storage: Storage) -> None:
    s = seed(storage)
    t = ticket(s, 1)
    with storage.unit_of_work(s.tenant) as uow:
        uow.tickets.add(t)
        uow.commit()
    first, second = storage.unit_of_work(s.tenant), storage.unit_of_work(s.tenant)
    try:
        mine = first.tickets.get(t.id)
        theirs = second.tickets.get(t.id)
        assert mine is not None and theirs is not None
        first.tickets.update(attrs.evolve(mine, title="mine", version=2), expected_version=1)
        first.commit()
        with pytest.raises(Conflict):
            second.tickets.update(
                attrs.evolve(theirs, title="theirs", version=2), expected_version=1
            )
            second.commit()
    finally:
        first.close()
        second.close()
    with storage.unit_of_work(s.tenant) as uow:
        stored = uow.tickets.get(t.id)
        assert stored is not None and stored.title == "mine" and stored.version == 2


def test_ticket_numbers_are_gap_free_across_rollbacks(storage: Storage) -> None:
    s = seed(storage)
    with storage.unit_of_work(s.tenant) as uow:
        assert [uow.tickets.next_number(s.project) for _ in range(3)] == [1, 2, 3]
        uow.rollback()
        assert uow.tickets.next_number(s.project) == 1
        uow.tickets.add(ticket(s, 1))
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.tickets.next_number(s.project) == 2


def test_ticket_numbers_count_per_project(storage: Storage) -> None:
    s = seed(storage)
    other = Project(
        number=101,
        tenant_id=s.tenant,
        id=uuid.uuid4(),
        organisation_id=s.org,
        name="Other",
        created_at=NOW,
    )
    with storage.unit_of_work(s.tenant) as uow:
        uow.projects.add(other)
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert [uow.tickets.next_number(s.project) for _ in range(2)] == [1, 2]
        assert uow.tickets.next_number(other.id) == 1
        for n in (1, 2):
            uow.tickets.add(ticket(s, n))
        uow.tickets.add(attrs.evolve(ticket(s, 1), project_id=other.id))
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.tickets.next_number(s.project) == 3
        assert uow.tickets.next_number(other.id) == 2
    with storage.unit_of_work(s.tenant) as uow, pytest.raises(Conflict):
        uow.tickets.add(ticket(s, 2))  # number 2 is taken in this project
        uow.commit()


def test_a_project_made_in_the_unit_of_work_numbers_from_one(storage: Storage) -> None:
    s = seed(storage)
    new = Project(
        number=102,
        tenant_id=s.tenant,
        id=uuid.uuid4(),
        organisation_id=s.org,
        name="New",
        created_at=NOW,
    )
    with storage.unit_of_work(s.tenant) as uow:
        uow.projects.add(new)
        assert [uow.tickets.next_number(new.id) for _ in range(2)] == [1, 2]
        uow.tickets.add(attrs.evolve(ticket(s, 1), project_id=new.id))
        uow.tickets.add(attrs.evolve(ticket(s, 2), project_id=new.id))
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.tickets.next_number(new.id) == 3


def test_query_filters_orders_limits_and_counts(storage: Storage) -> None:
    s = seed(storage)
    tickets = [
        ticket(
            s, n, updated_at=NOW + timedelta(minutes=n % 3), assignee_id=s.person if n % 2 else None
        )
        for n in range(1, 11)
    ]
    with storage.unit_of_work(s.tenant) as uow:
        for t in tickets:
            uow.tickets.add(t)
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        q = uow.tickets.query
        assert [t.number for t in q(TRUE, [OrderBy("number", True)], 3)] == [10, 9, 8]
        order = [OrderBy("updated_at", True), OrderBy("number", True)]
        assert [t.number for t in q(TRUE, order, 4)] == [8, 5, 2, 10]
        assert [t.number for t in q(Eq("assignee_id", None), [OrderBy("number")], 10)] == [
            2,
            4,
            6,
            8,
            10,
        ]
        assert [t.number for t in q(Cmp("number", "<", 3), [OrderBy("number")], 10)] == [1, 2]
        assert uow.tickets.count(In("number", frozenset({1, 2, 99}))) == 2


def test_a_query_for_one_of_several_values_pages_like_one_sorted_list(storage: Storage) -> None:
    """The SQL adapter reads one index range per value and merges them; the page must be
    the one sorting every match would give."""
    s = seed(storage)
    others = [
        Project(
            number=number,
            tenant_id=s.tenant,
            id=uuid.uuid4(),
            organisation_id=s.org,
            name=n,
            created_at=NOW,
        )
        for number, n in ((103, "B"), (104, "C"))
    ]
    projects = [s.project, *(p.id for p in others)]
    tickets = [
        attrs.evolve(
            ticket(s, n),
            project_id=projects[n % 3],
            updated_at=NOW + timedelta(minutes=(n * 7) % 5),
            status="open" if n % 4 else "closed",
        )
        for n in range(1, 31)
    ]
    with storage.unit_of_work(s.tenant) as uow:
        for p in others:
            uow.projects.add(p)
        for t in tickets:
            uow.tickets.add(t)
        uow.commit()
    order = [OrderBy("updated_at", descending=True), OrderBy("id", descending=True)]
    wanted = {projects[0], projects[2]}
    where = all_of(In("project_id", frozenset(wanted)), Eq("status", "open"))
    expected = sorted(
        (t for t in tickets if t.project_id in wanted and t.status == "open"),
        key=lambda t: (t.updated_at, t.id),
        reverse=True,
    )
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.tickets.query(where, order, 6) == expected[:6]
        assert uow.tickets.query(where, order, 100) == expected
        status_in = In("status", frozenset({"open", "closed"}))
        assert [t.id for t in uow.tickets.query(status_in, order, 7)] == [
            t.id for t in sorted(tickets, key=lambda t: (t.updated_at, t.id), reverse=True)[:7]
        ]


def test_a_query_for_more_projects_than_split_pages_like_one_sorted_list(
    storage: Storage,
) -> None:
    """A supporter's 45 projects are more than a list splits into merged ranges (SQLite
    reads them through the per-project index and sorts): with ties on the sort key, the
    page must still be the one sorting every match would give, on every sort."""
    s = seed(storage)
    others = [project(s.tenant, s.org, f"P{i}") for i in range(47)]
    projects = [s.project, *(p.id for p in others)]
    tickets = [
        attrs.evolve(
            ticket(s, n),
            project_id=projects[n % len(projects)],
            created_at=NOW + timedelta(minutes=n % 4),
            public_updated_at=NOW + timedelta(minutes=(n * 7) % 3),
            status="open" if n % 5 else "closed",
        )
        for n in range(1, 161)
    ]
    with storage.unit_of_work(s.tenant) as uow:
        for p in others:
            uow.projects.add(p)
        for t in tickets:
            uow.tickets.add(t)
        uow.commit()
    wanted = frozenset(projects[1:46])
    for attr in ("created_at", "public_updated_at"):
        for descending in (True, False):
            order = [OrderBy(attr, descending), OrderBy("id", descending)]
            for where in (
                In("project_id", wanted),
                all_of(In("project_id", wanted), Eq("status", "open")),
            ):
                expected = sorted(
                    (t for t in tickets if evaluate(where, t)),
                    key=lambda t, a=attr: (getattr(t, a), t.id),
                    reverse=descending,
                )
                with storage.unit_of_work(s.tenant) as uow:
                    assert uow.tickets.query(where, order, 25) == expected[:25]
                    assert uow.tickets.query(where, order, 500) == expected


def test_comments_and_events_come_back_in_order_and_are_counted(storage: Storage) -> None:
    s = seed(storage)
    t = ticket(s, 1)
    comments = [
        comment(s, t.id, vis, NOW + timedelta(seconds=i))
        for i, vis in enumerate([Visibility.PUBLIC, Visibility.INTERNAL, Visibility.PUBLIC])
    ]
    events = [
        CommentAdded(
            tenant_id=s.tenant,
            id=uuid.uuid4(),
            ticket_id=t.id,
            seq=seq,
            at=NOW,
            actor_id=s.person,
            organisation_id=s.org,
            visibility=c.visibility,
            comment_id=c.id,
            channel="web",
        )
        for seq, c in zip([2, 1, 3], comments, strict=True)
    ]
    with storage.unit_of_work(s.tenant) as uow:
        uow.tickets.add(t)
        for c in comments:
            uow.comments.add(c)
        for e in events:
            uow.record(e)
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert [c.id for c in uow.comments.for_ticket(t.id, TRUE)] == [c.id for c in comments]
        public = Eq("visibility", Visibility.PUBLIC)
        assert uow.comments.count_by_ticket([t.id, uuid.uuid4()], public) == {t.id: 2}
        assert [e.seq for e in uow.events.for_ticket(t.id, TRUE)] == [1, 2, 3]
        assert uow.events.get(events[0].id) == events[0]
        assert uow.comments.get(comments[1].id) == comments[1]


def test_many_rows_in_one_unit_of_work_round_trip_exactly(storage: Storage) -> None:
    """Enough rows per table for the adapters' bulk paths (COPY on PostgreSQL), with the
    values a bulk encoding could get wrong: text that needs escaping, NULLs, JSON, times."""
    s = seed(storage)
    awkward = ["tab\there", "new\nline", "back\\slash \\N", "\\.", "quote ' \" ,", "ÄÖÜ 🎫", ""]
    tickets, comments, events, notes = [], [], [], []
    for i in range(100):
        text = awkward[i % len(awkward)]
        t = ticket(
            s,
            i + 1,
            title=f"T{i} {text}",
            description=text,
            fields={"n": Decimal(i) / 8, "d": date(2026, 1, 1 + i % 28), "m": (text, "b")},
            assignee_id=s.person if i % 2 else None,
            comment_tally={(Visibility.PUBLIC, s.org): i},
            updated_at=NOW + timedelta(microseconds=i),
        )
        c = comment(s, t.id, Visibility.INTERNAL if i % 3 else Visibility.PUBLIC)
        c = attrs.evolve(c, body=text or "x")
        e = CommentAdded(
            tenant_id=s.tenant,
            id=uuid.uuid4(),
            ticket_id=t.id,
            seq=1,
            at=NOW,
            actor_id=s.person,
            organisation_id=s.org,
            visibility=c.visibility,
            comment_id=c.id,
            channel=f"web {text}",
        )
        n = attrs.evolve(notification(s, t.id), delivered_to=(text, "mail"), last_error=text)
        tickets.append(t), comments.append(c), events.append(e), notes.append(n)
    with storage.unit_of_work(s.tenant) as uow:
        for t, c, e, n in zip(tickets, comments, events, notes, strict=True):
            uow.tickets.add(t)
            uow.comments.add(c)
            uow.record(e)
            uow.outbox.add(n)
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert [uow.tickets.get(t.id) for t in tickets] == tickets
        assert [uow.comments.get(c.id) for c in comments] == comments
        assert [uow.events.get(e.id) for e in events] == events
        assert [uow.outbox.get(n.id) for n in notes] == notes
        taken = uow.tickets.next_number(s.project)
        assert taken == 1, "rows inserted in bulk take no ticket numbers"


def test_outbox_rows_are_listed_oldest_first_and_updated(storage: Storage) -> None:
    s = seed(storage)
    t = ticket(s, 1)
    notes = [notification(s, t.id, NOW + timedelta(seconds=i)) for i in range(3)]
    with storage.unit_of_work(s.tenant) as uow:
        uow.tickets.add(t)
        for n in reversed(notes):
            uow.outbox.add(n)
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert [n.id for n in uow.outbox.list(TRUE, 10)] == [n.id for n in notes]
        failed = attrs.evolve(
            notes[0],
            status=DeliveryStatus.FAILED,
            attempts=1,
            last_error="boom",
            delivered_to=("a.B",),
        )
        uow.outbox.save(failed)
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.outbox.get(notes[0].id) == failed
        pending = uow.outbox.list(Eq("status", DeliveryStatus.PENDING), 10)
        assert [n.id for n in pending] == [n.id for n in notes[1:]]


def test_acknowledge_settles_only_pending_notifications_in_one_step(storage: Storage) -> None:
    s = seed(storage)
    t = ticket(s, 1)
    notes = [notification(s, t.id, NOW + timedelta(seconds=i)) for i in range(4)]
    later = NOW + timedelta(minutes=5)
    with storage.unit_of_work(s.tenant) as uow:
        uow.tickets.add(t)
        for n in notes:
            uow.outbox.add(n)
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        # A retry elsewhere already failed the first one: the late acknowledgement leaves it.
        failed = attrs.evolve(notes[0], status=DeliveryStatus.FAILED, attempts=1, last_error="x")
        uow.outbox.save(failed)
        unknown = uuid.uuid4()
        ids = [notes[0].id, notes[1].id, notes[2].id, unknown]
        assert uow.outbox.acknowledge(ids, delivered_to=("p.A", "p.B"), at=later) == 2
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.outbox.get(notes[0].id) == failed
        for note in notes[1:3]:
            assert uow.outbox.get(note.id) == note.delivered(("p.A", "p.B"), later)
        assert uow.outbox.get(notes[3].id) == notes[3]
        assert uow.outbox.get(unknown) is None


def pending_notification(uow: UnitOfWork, s: Seeded) -> Notification:
    """Add a ticket and one pending outbox row about it to ``uow``."""
    t = ticket(s, 1)
    note = notification(s, t.id)
    uow.tickets.add(t)
    uow.outbox.add(note)
    return note


def test_acknowledge_in_the_writing_unit_of_work_settles_buffered_rows(storage: Storage) -> None:
    s = seed(storage)
    with storage.unit_of_work(s.tenant) as uow:
        note = pending_notification(uow, s)
        assert uow.outbox.acknowledge([note.id], delivered_to=(), at=NOW) == 1
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.outbox.get(note.id) == note.delivered((), NOW)


def test_a_row_read_before_its_acknowledgement_is_read_anew_after_it(storage: Storage) -> None:
    s = seed(storage)
    with storage.unit_of_work(s.tenant) as uow:
        note = pending_notification(uow, s)
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.outbox.get(note.id) == note
        assert uow.outbox.acknowledge([note.id], delivered_to=("p.A",), at=NOW) == 1
        assert uow.outbox.get(note.id) == note.delivered(("p.A",), NOW)
        assert uow.outbox.list(TRUE, 10) == [note.delivered(("p.A",), NOW)]
        uow.commit()


def test_memory_acknowledgement_does_not_overwrite_a_retry_committed_meanwhile() -> None:
    storage = MemoryStorage()
    s = seed(storage)
    with storage.unit_of_work(s.tenant) as uow:
        note = pending_notification(uow, s)
        uow.commit()
    late = storage.unit_of_work(s.tenant)
    assert late.outbox.acknowledge([note.id], delivered_to=("p.A",), at=NOW) == 1
    failed = attrs.evolve(note, status=DeliveryStatus.FAILED, attempts=1, last_error="smtp")
    with storage.unit_of_work(s.tenant) as retry:
        retry.outbox.save(failed)
        retry.commit()
    late.commit()  # the row is no longer pending: like SQL's conditional UPDATE, no change
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.outbox.get(note.id) == failed


def test_duplicate_ids_and_second_tenant_record_conflict(storage: Storage) -> None:
    s = seed(storage)
    with storage.unit_of_work(s.tenant) as uow, pytest.raises(Conflict):
        uow.add_tenant(Tenant(id=s.tenant, name="again", created_at=NOW))
        uow.commit()
    t = ticket(s, 1)
    with storage.unit_of_work(s.tenant) as uow:
        uow.tickets.add(t)
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow, pytest.raises(Conflict):
        uow.tickets.add(attrs.evolve(t, number=2))
        uow.commit()


def test_get_many_answers_what_get_answers_for_each_id(storage: Storage) -> None:
    s, other = seed(storage), seed(storage)
    with storage.unit_of_work(s.tenant) as uow:
        customer_org, customer_guest, projects = customer(uow, s, "B", "A")
        lonely, lonely_guest, _ = customer(uow, s)
        uow.commit()
    guests = [customer_guest, lonely_guest]
    wanted = [*guests, s.person, guests[0], other.person, uuid.uuid4(), "not an id"]
    with storage.unit_of_work(s.tenant) as uow:
        expected = {g: uow.persons.get(g) for g in (*guests, s.person)}
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.persons.get_many(wanted) == expected  # type: ignore[arg-type]
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.access.people(wanted) == expected  # type: ignore[arg-type]
        assert uow.access.project_ids_of([customer_org]) == {p.id for p in projects}
        assert uow.access.project_ids_of([lonely]) == frozenset()
        assert uow.access.project_ids_of([s.org]) == {s.project}
        assert [uow.projects.get(p.id) for p in projects] == projects
        assert uow.persons.get(other.person) is None, "another tenant's person stays unknown"
    with storage.unit_of_work(s.tenant) as uow:
        renamed = attrs.evolve(expected[guests[0]], name="Renamed")  # type: ignore[arg-type]
        uow.persons.save(renamed)
        # A number from the shared counter: a fixed one can meet a customer's project's.
        late = project(s.tenant, lonely, "L")
        uow.projects.add(late)
        found = uow.persons.get_many(guests)
        assert found[guests[0]] == renamed, "a unit of work reads its own writes"
        assert uow.access.people(guests)[guests[0]] == renamed
        assert uow.access.project_ids_of([lonely]) == {late.id}


def test_a_project_moved_in_this_unit_of_work_counts_for_its_new_organisation_only(
    storage: Storage,
) -> None:
    """Project ids feed the visibility policy: loading people (alone or together) must not
    answer them from the database while a project's move is still buffered."""
    s = seed(storage)
    with storage.unit_of_work(s.tenant) as uow:
        old_org, old_guest, (project,) = customer(uow, s, "M")
        new_org, new_guest, _ = customer(uow, s)
        uow.commit()
    moved = project.id
    guests = {old_org: old_guest, new_org: new_guest}
    for load in ("get", "get_many", "access.people", "access.people of one"):
        with storage.unit_of_work(s.tenant) as uow:
            uow.projects.save(attrs.evolve(project, organisation_id=new_org))
            if load == "get":
                uow.persons.get(guests[old_org])
            elif load == "get_many":
                uow.persons.get_many(guests.values())
            elif load == "access.people":
                uow.access.people(guests.values())
            else:
                uow.access.people([guests[old_org]])
            assert uow.access.project_ids_of([old_org]) == frozenset(), load
            assert uow.access.project_ids_of([new_org]) == {moved}, load
            assert [p.id for p in uow.projects.list(Eq("organisation_id", old_org))] == [], load


def test_directory_save_replaces_and_tenant_ids_lists_tenants(storage: Storage) -> None:
    s = seed(storage)
    with storage.unit_of_work(s.tenant) as uow:
        person = uow.persons.get(s.person)
        assert person is not None
        uow.persons.save(attrs.evolve(person, active=False))
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        saved = uow.persons.get(s.person)
        assert saved is not None and not saved.active
        assert [p.id for p in uow.persons.list(Eq("active", False))] == [s.person]
    assert s.tenant in storage.tenant_ids()


def test_a_read_only_unit_of_work_reads_but_refuses_writes(storage: Storage) -> None:
    s = seed(storage)
    t = ticket(s, 1)
    with storage.unit_of_work(s.tenant) as uow:
        uow.tickets.add(t)
        uow.commit()
    with storage.unit_of_work(s.tenant, read_only=True) as uow:
        assert uow.tickets.get(t.id) == t
        assert uow.access.project_ids_of([s.org]) == {s.project}
        for write in (
            lambda: uow.tickets.add(ticket(s, 2)),
            lambda: uow.tickets.next_number(s.project),
            lambda: uow.comments.add(comment(s, t.id, Visibility.PUBLIC)),
            lambda: uow.add_tenant(Tenant(id=s.tenant, name="x", created_at=NOW)),
        ):
            with pytest.raises(RuntimeError, match="read-only"):
                write()


def test_a_read_ticket_is_the_callers_copy_and_a_failed_update_changes_nothing(
    storage: Storage,
) -> None:
    s = seed(storage)
    t = ticket(s, 1)
    with storage.unit_of_work(s.tenant) as uow:
        uow.tickets.add(t)
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        mine = uow.tickets.get(t.id)
        assert mine is not None
        mine.title = "changed, not stored"
        mine.fields["note"] = "x"
        assert uow.tickets.get(t.id) == t, "a change reaches storage only through update"
        mine.version = 2
        with pytest.raises(Conflict):
            uow.tickets.update(mine, expected_version=7)
        assert uow.tickets.get(t.id) == t, "a refused update left nothing behind"
        assert uow.tickets.query(TRUE, [OrderBy("number")], 5) == [t]


def test_a_ticket_read_for_update_makes_a_second_writer_wait(storage: Storage) -> None:
    import threading
    import time

    s = seed(storage)
    t = ticket(s, 1)
    with storage.unit_of_work(s.tenant) as uow:
        uow.tickets.add(t)
        uow.commit()
    seen: list[int] = []

    def second() -> None:
        with storage.unit_of_work(s.tenant) as other:
            found = other.tickets.get(t.id, for_update=True)
            assert found is not None
            seen.append(found.version)
            other.commit()

    with storage.unit_of_work(s.tenant) as uow:
        mine = uow.tickets.get(t.id, for_update=True)
        assert mine is not None
        waiting = threading.Thread(target=second)
        waiting.start()
        time.sleep(0.3)
        assert seen == [], "the second writer waits for the first"
        mine.version += 1
        uow.tickets.update(mine, expected_version=t.version)
        uow.commit()
    waiting.join(timeout=30)
    assert seen == [t.version + 1], "and then reads what the first wrote"


def test_two_units_of_work_never_claim_the_same_notification(storage: Storage) -> None:
    import threading
    import time

    s = seed(storage)
    t = ticket(s, 1)
    notes = [attrs.evolve(notification(s, t.id), status=DeliveryStatus.FAILED) for _ in range(3)]
    with storage.unit_of_work(s.tenant) as uow:
        uow.tickets.add(t)
        for n in notes:
            uow.outbox.add(n)
        uow.commit()
    failed = Eq("status", DeliveryStatus.FAILED)
    later = NOW + timedelta(minutes=1)
    theirs: list[uuid.UUID] = []

    def other() -> None:
        with storage.unit_of_work(s.tenant) as uow:
            theirs.extend(n.id for n in uow.outbox.claim(failed, 10, at=later))
            uow.commit()

    with storage.unit_of_work(s.tenant) as uow:
        mine = [n.id for n in uow.outbox.claim(failed, 2, at=later)]
        assert all(
            n.status is DeliveryStatus.PENDING for n in uow.outbox.list(TRUE, 10) if n.id in mine
        )
        thread = threading.Thread(target=other)
        thread.start()
        time.sleep(0.2)
        uow.commit()
    thread.join(timeout=30)
    assert len(mine) == 2 and len(theirs) == 1
    assert set(mine) | set(theirs) == {n.id for n in notes}
    with storage.unit_of_work(s.tenant) as uow:
        claimed = uow.outbox.list(TRUE, 10)
    assert {n.status for n in claimed} == {DeliveryStatus.PENDING}
    assert {n.updated_at for n in claimed} == {later}


def test_a_second_person_with_a_committed_e_mail_address_is_a_conflict(storage: Storage) -> None:
    """One person per address in a tenant, also between two units of work that each
    checked before the other committed (``add_person`` then runs again and says so)."""
    s = seed(storage)
    first = person(s.tenant, s.org, Role.AGENT)
    second = attrs.evolve(person(s.tenant, s.org, Role.AGENT), email=first.email)
    with storage.unit_of_work(s.tenant) as uow:
        uow.persons.add(first)
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow, pytest.raises(Conflict):
        uow.persons.add(second)
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.persons.get(second.id) is None
        uow.persons.save(attrs.evolve(first, active=False))  # the same person again: no clash
        uow.commit()
    other = seed(storage)
    with storage.unit_of_work(other.tenant) as uow:
        uow.persons.add(
            attrs.evolve(person(other.tenant, other.org, Role.AGENT), email=first.email)
        )
        uow.commit()
