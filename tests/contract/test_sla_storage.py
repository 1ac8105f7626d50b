"""The storage contract of SLA: calendars, policies, each ticket's clocks, the once-only
firings and deferred actions answer alike on every adapter, under concurrency too."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from uuid import UUID

import attrs
import pytest

from tests.support.records import NOW, seed, ticket
from tests.support.sla import (
    BERLIN,
    MINUTE,
    STATE,
    H,
    action,
    calendar,
    clock_state,
    clocks,
    policy,
    tickets,
)
from ticketkit import Calendar
from ticketkit.domain.sla.records import ActionState, TicketClocks
from ticketkit.errors import Conflict
from ticketkit.ports import Storage, UnitOfWork

# -- calendars and policies ---------------------------------------------------------------


def test_calendars_round_trip_by_name_and_save_replaces_them(storage: Storage) -> None:
    s = seed(storage)
    support = calendar(s, "Support", organisation_id=s.org)
    always = calendar(s, "Around the clock", is_default=True, definition=Calendar.always("UTC"))
    with storage.unit_of_work(s.tenant) as uow:
        uow.calendars.add(support)
        uow.calendars.add(always)
        assert uow.calendars.get(support.id) == support, "a unit of work reads its own writes"
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        found = uow.calendars.get(support.id)
        assert found == support and found.calendar.special_days == BERLIN.special_days
        assert found.calendar.holiday_regions == BERLIN.holiday_regions
        assert uow.calendars.all() == [always, support]
        assert uow.calendars.get(uuid.uuid4()) is None
        renamed = attrs.evolve(support, name="Office hours", organisation_id=None)
        uow.calendars.save(renamed)
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.calendars.all() == [always, renamed]
        with pytest.raises(Conflict):
            uow.calendars.add(renamed)
    with storage.unit_of_work(s.tenant) as uow, pytest.raises(Conflict):
        uow.calendars.save(calendar(s, "Nowhere"))


def test_a_tenant_has_one_default_calendar_and_a_second_one_is_a_conflict(
    storage: Storage,
) -> None:
    s = seed(storage)
    first = calendar(s, "First", is_default=True)
    other = calendar(s, "Other")
    with storage.unit_of_work(s.tenant) as uow:
        uow.calendars.add(first)
        uow.calendars.add(other)
        with pytest.raises(Conflict, match="DefaultCalendar"):
            uow.calendars.add(calendar(s, "Second", is_default=True))
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.calendars.all() == [], "the refused unit of work wrote nothing"
        uow.calendars.add(first)
        uow.calendars.add(other)
        uow.calendars.save(attrs.evolve(first, name="Still the default"))
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow, pytest.raises(Conflict, match="DefaultCalendar"):
        uow.calendars.save(attrs.evolve(other, is_default=True))
    # Two units of work, the second opened before the first committed its default.
    made = calendar(s, "Made meanwhile", is_default=True)
    moving = storage.unit_of_work(s.tenant)
    adding = storage.unit_of_work(s.tenant)
    moving.calendars.save(attrs.evolve(first, name="Former default", is_default=False))
    moving.commit()
    moving.close()
    with storage.unit_of_work(s.tenant) as uow:
        uow.calendars.add(calendar(s, "Taken first", is_default=True))
        uow.commit()
    with pytest.raises(Conflict), adding:
        adding.calendars.add(made)
        adding.commit()
    with storage.unit_of_work(s.tenant, read_only=True) as uow:
        defaults = [c.name for c in uow.calendars.all() if c.is_default]
    assert defaults == ["Taken first"]


def test_two_units_of_work_adding_a_default_calendar_at_once_one_loses(
    storage: Storage,
) -> None:
    """Neither sees the other's default before it commits: one of them gets ``Conflict``
    (SQL: the later insert, once the first commits; memory: the later commit)."""
    s = seed(storage)
    lost: list[Conflict] = []

    def second() -> None:
        try:
            with storage.unit_of_work(s.tenant) as uow:
                uow.calendars.add(calendar(s, "Second", is_default=True))
                uow.commit()
        except Conflict as exc:
            lost.append(exc)

    with storage.unit_of_work(s.tenant) as uow:
        uow.calendars.add(calendar(s, "First", is_default=True))
        other = threading.Thread(target=second)
        other.start()
        other.join(timeout=0.5)
        try:
            uow.commit()
        except Conflict as exc:
            lost.append(exc)
    other.join(timeout=30)
    assert len(lost) == 1 and lost[0].kind == "DefaultCalendar"
    with storage.unit_of_work(s.tenant, read_only=True) as uow:
        assert len([c for c in uow.calendars.all() if c.is_default]) == 1


def test_policies_round_trip_in_the_order_they_are_tried(storage: Storage) -> None:
    s = seed(storage)
    with storage.unit_of_work(s.tenant) as uow:
        office = calendar(s, "Office")
        uow.calendars.add(office)
        uow.commit()
    gold = policy(s, "Gold", 20, calendar_id=office.id)
    silver, bronze = sorted([policy(s, "Silver", 10), policy(s, "Bronze", 10)], key=lambda p: p.id)
    with storage.unit_of_work(s.tenant) as uow:
        for p in (gold, silver, bronze):
            uow.sla_policies.add(p)
        assert uow.sla_policies.get(gold.id) == gold, "a unit of work reads its own writes"
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.sla_policies.get(gold.id) == gold
        assert uow.sla_policies.all() == [silver, bronze, gold]
        first = attrs.evolve(gold, name="Platinum", position=1, warnings=(75,), escalations=())
        uow.sla_policies.save(first)
        assert uow.sla_policies.remove(bronze.id) is True
        assert uow.sla_policies.remove(bronze.id) is False
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.sla_policies.all() == [first, silver]
        assert uow.sla_policies.get(bronze.id) is None
        with pytest.raises(Conflict):
            uow.sla_policies.add(silver)
    with storage.unit_of_work(s.tenant) as uow, pytest.raises(Conflict):
        uow.sla_policies.save(bronze)


def test_the_sla_configuration_is_the_policies_and_calendars_read_together(
    storage: Storage,
) -> None:
    s = seed(storage)
    office = calendar(s, "Office", is_default=True)
    support = calendar(s, "Support", organisation_id=s.org, definition=Calendar.always("UTC"))
    gold, silver = policy(s, "Gold", 20, calendar_id=office.id), policy(s, "Silver", 10)
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.sla_configuration() == ([], [])
        for c in (support, office):
            uow.calendars.add(c)
        uow.sla_policies.add(gold)
        assert uow.sla_configuration() == ([gold], [office, support]), "its own writes"
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        uow.sla_policies.add(silver)
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.sla_configuration() == ([silver, gold], [office, support])
        assert uow.sla_configuration() == (uow.sla_policies.all(), uow.calendars.all())
        renamed = attrs.evolve(support, name="After hours")
        uow.calendars.save(renamed)
        assert uow.sla_configuration() == ([silver, gold], [renamed, office])
    with storage.unit_of_work(seed(storage).tenant) as uow:
        assert uow.sla_configuration() == ([], []), "another tenant's are not read"


# -- clocks and firings -----------------------------------------------------------------


def test_clocks_round_trip_with_their_state_and_put_replaces_them(storage: Storage) -> None:
    s = seed(storage)
    a, b = tickets(storage, s, 2)
    mine = clocks(
        s,
        a,
        calendar_id=uuid.uuid4(),
        fired=frozenset({"first_response:1:warning:50", "first_response:1:breach"}),
        next_firing_at=NOW + H,
        next_due_at=NOW + 2 * H,
    )
    assert len(STATE.clocks) >= 5 and any(c.crossed for c in STATE.clocks), "a real history"
    with storage.unit_of_work(s.tenant) as uow:
        uow.clocks.put(mine)
        assert uow.clocks.get(a) == mine, "a unit of work reads its own writes"
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.clocks.get(a) == mine
        assert uow.clocks.get(b) is None
        assert uow.clocks.get_many([a, b, uuid.uuid4(), a]) == {a: mine}
        assert uow.clocks.get_many([]) == {}
        later = attrs.evolve(
            mine, state=clock_state(2), fired=frozenset(), next_firing_at=None, stale=True
        )
        uow.clocks.put(later)
        other = clocks(s, b)
        uow.clocks.put(other)
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.clocks.get_many([a, b]) == {a: later, b: other}
        assert uow.clocks.remove(b) is True
        assert uow.clocks.remove(b) is False
        uow.commit()
    with storage.unit_of_work(s.tenant, read_only=True) as uow:
        assert uow.clocks.get(b) is None
        assert uow.clocks.get(a) == later


def test_due_takes_the_earliest_clocks_up_to_the_limit(storage: Storage) -> None:
    s = seed(storage)
    made = [ticket(s, n) for n in range(1, 7)]
    first, *tie = [made[0].id, *sorted([made[1].id, made[2].id])]
    firing = [NOW - 3 * MINUTE, NOW - MINUTE, NOW - MINUTE, NOW, NOW + MINUTE, None]
    rows = {t.id: clocks(s, t.id, next_firing_at=at) for t, at in zip(made, firing, strict=True)}
    due = [rows[first], rows[tie[0]], rows[tie[1]], rows[made[3].id]]
    with storage.unit_of_work(s.tenant) as uow:
        for t in made:
            uow.tickets.add(t)
            uow.clocks.put(rows[t.id])
        assert uow.clocks.due(NOW, 10) == due, "a unit of work's own tickets and clocks too"
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.clocks.due(NOW, 10) == due, "at or before now; none in the future or unset"
        assert uow.clocks.due(NOW, 2) == due[:2]
        assert uow.clocks.due(NOW - 4 * MINUTE, 10) == []
        assert uow.clocks.due(NOW, 0) == []
        with pytest.raises(ValueError, match="limit"):
            uow.clocks.due(NOW, -1)


def test_mark_stale_marks_a_policy_s_a_calendar_s_or_every_clock_due_now(
    storage: Storage,
) -> None:
    s = seed(storage)
    a, b, c = tickets(storage, s, 3)
    gold, silver, office = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with storage.unit_of_work(s.tenant) as uow:
        uow.clocks.put(clocks(s, a, policy_id=gold, calendar_id=office, next_firing_at=NOW + H))
        uow.clocks.put(clocks(s, b, policy_id=silver, calendar_id=office))
        uow.clocks.put(clocks(s, c, policy_id=silver))
        uow.commit()
    later = NOW + MINUTE

    def stale() -> dict[UUID, datetime | None]:
        with storage.unit_of_work(s.tenant, read_only=True) as uow:
            found = uow.clocks.get_many([a, b, c])
        return {t: x.next_firing_at for t, x in found.items() if x.stale}

    with storage.unit_of_work(s.tenant) as uow:
        assert uow.clocks.mark_stale(later, policy_id=gold) == 1
        uow.commit()
    assert stale() == {a: later}
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.clocks.mark_stale(later, calendar_id=office) == 2
        assert uow.clocks.mark_stale(later, policy_id=uuid.uuid4()) == 0
        uow.commit()
    assert stale() == {a: later, b: later}
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.clocks.mark_stale(later) == 3
        with pytest.raises(ValueError, match="not both"):
            uow.clocks.mark_stale(later, policy_id=gold, calendar_id=office)
        uow.commit()
    assert stale() == dict.fromkeys((a, b, c), later)
    with storage.unit_of_work(s.tenant) as uow:
        assert [x.ticket_id for x in uow.clocks.due(later, 5)] == sorted([a, b, c])


def test_a_firing_is_recorded_once_per_ticket_and_key(storage: Storage) -> None:
    s = seed(storage)
    a, b = tickets(storage, s, 2)
    key = "resolution:1:warning:75"
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.clocks.firings(a) == {}
        assert uow.clocks.record_firing(a, key, NOW) is True
        assert uow.clocks.record_firing(a, key, NOW + H) is False
        assert uow.clocks.firings(a) == {key: NOW}
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.clocks.record_firing(a, key, NOW + H) is False
        assert uow.clocks.record_firing(a, "resolution:1:breach", NOW + H) is True
        assert uow.clocks.record_firing(b, key, NOW) is True
        uow.commit()
    with storage.unit_of_work(s.tenant, read_only=True) as uow:
        assert uow.clocks.firings(a) == {key: NOW, "resolution:1:breach": NOW + H}
        assert uow.clocks.firings(b) == {key: NOW}


# -- deferred actions -----------------------------------------------------------------------


def test_deferred_actions_come_due_in_order_and_finish_once(storage: Storage) -> None:
    s = seed(storage)
    a, b = tickets(storage, s, 2)
    early, tie_one, tie_two = action(s, a, NOW - H), action(s, b, NOW), action(s, a, NOW)
    ties = sorted([tie_one, tie_two], key=lambda x: x.id)
    future = action(s, a, NOW + MINUTE)
    done = action(s, a, NOW - 2 * H, ActionState.DONE)
    with storage.unit_of_work(s.tenant) as uow:
        for x in (future, tie_one, done, early, tie_two):
            uow.sla_actions.add(x)
        with pytest.raises(Conflict):
            uow.sla_actions.add(early)
    with storage.unit_of_work(s.tenant) as uow:
        for x in (future, tie_one, done, early, tie_two):
            uow.sla_actions.add(x)
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.sla_actions.due(NOW, 10) == [early, *ties]
        assert uow.sla_actions.due(NOW, 1) == [early]
        assert uow.sla_actions.finish(early.id, ActionState.DONE) is True
        assert uow.sla_actions.finish(early.id, ActionState.DROPPED) is False
        assert uow.sla_actions.finish(done.id, ActionState.DROPPED) is False
        assert uow.sla_actions.finish(uuid.uuid4(), ActionState.DONE) is False
        assert uow.sla_actions.due(NOW, 10) == ties
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.sla_actions.finish(early.id, ActionState.DONE) is False
        assert uow.sla_actions.finish(ties[0].id, ActionState.DROPPED) is True
        uow.commit()
    with storage.unit_of_work(s.tenant, read_only=True) as uow:
        finished = attrs.evolve(early, state=ActionState.DONE)
        dropped = attrs.evolve(ties[0], state=ActionState.DROPPED)
        expected_a = [done, finished, *[x for x in (dropped, ties[1]) if x.ticket_id == a], future]
        assert uow.sla_actions.of_ticket(a) == expected_a
        assert uow.sla_actions.of_ticket(b) == [x for x in (dropped, ties[1]) if x.ticket_id == b]
        assert uow.sla_actions.of_ticket(uuid.uuid4()) == []


# -- transactions and tenants ------------------------------------------------------------


def test_a_unit_of_work_that_does_not_commit_writes_nothing(storage: Storage) -> None:
    s = seed(storage)
    [a] = tickets(storage, s, 1)
    kept = clocks(s, a, next_firing_at=NOW)
    with storage.unit_of_work(s.tenant) as uow:
        uow.clocks.put(kept)
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        uow.calendars.add(calendar(s, "Never", is_default=True))
        uow.sla_policies.add(policy(s))
        uow.clocks.put(attrs.evolve(kept, next_firing_at=None))
        uow.clocks.mark_stale(NOW)
        assert uow.clocks.record_firing(a, "first_response:1:breach", NOW) is True
        uow.sla_actions.add(action(s, a, NOW))
        uow.rollback()
        assert uow.clocks.get(a) == kept, "rolled back: the stored clocks again"
        uow.clocks.remove(a)
    with storage.unit_of_work(s.tenant, read_only=True) as uow:
        assert uow.calendars.all() == []
        assert uow.sla_policies.all() == []
        assert uow.clocks.get(a) == kept
        assert uow.clocks.firings(a) == {}
        assert uow.sla_actions.of_ticket(a) == []


def test_sla_rows_stay_in_their_tenant(storage: Storage) -> None:
    a, b = seed(storage), seed(storage)
    [ta] = tickets(storage, a, 1)
    cal, pol, act = calendar(a, "Mine", is_default=True), policy(a), action(a, ta, NOW)
    mine = clocks(a, ta, policy_id=pol.id, calendar_id=cal.id, next_firing_at=NOW)
    with storage.unit_of_work(a.tenant) as uow:
        uow.calendars.add(cal)
        uow.sla_policies.add(pol)
        uow.clocks.put(mine)
        uow.clocks.record_firing(ta, "first_response:1:breach", NOW)
        uow.sla_actions.add(act)
        uow.commit()
    with storage.unit_of_work(b.tenant) as uow:
        assert uow.calendars.get(cal.id) is None and uow.calendars.all() == []
        assert uow.sla_policies.get(pol.id) is None and uow.sla_policies.all() == []
        assert uow.sla_policies.remove(pol.id) is False
        assert uow.clocks.get(ta) is None and uow.clocks.get_many([ta]) == {}
        assert uow.clocks.due(NOW, 10) == []
        assert uow.clocks.mark_stale(NOW) == 0
        assert uow.clocks.mark_stale(NOW, policy_id=pol.id) == 0
        assert uow.clocks.remove(ta) is False
        assert uow.clocks.firings(ta) == {}
        assert uow.sla_actions.due(NOW, 10) == []
        assert uow.sla_actions.finish(act.id, ActionState.DONE) is False
        assert uow.sla_actions.of_ticket(ta) == []
        # b may have a default calendar of its own.
        uow.calendars.add(calendar(b, "Theirs", is_default=True))
        writes: list[Callable[[], object]] = [
            lambda: uow.calendars.add(calendar(a, "Foreign")),
            lambda: uow.calendars.save(cal),
            lambda: uow.sla_policies.add(policy(a)),
            lambda: uow.sla_policies.save(pol),
            lambda: uow.clocks.put(mine),
            lambda: uow.sla_actions.add(action(a, ta, NOW)),
        ]
        for write in writes:
            with pytest.raises(ValueError, match="tenant_id"):
                write()
        uow.commit()
    with storage.unit_of_work(a.tenant, read_only=True) as uow:
        assert uow.calendars.all() == [cal]
        assert uow.clocks.get(ta) == mine
        assert uow.sla_actions.of_ticket(ta) == [act]
        assert set(uow.clocks.firings(ta)) == {"first_response:1:breach"}


def test_a_read_only_unit_of_work_refuses_every_sla_write(storage: Storage) -> None:
    s = seed(storage)
    [a] = tickets(storage, s, 1)
    with storage.unit_of_work(s.tenant, read_only=True) as uow:
        writes: list[Callable[[], object]] = [
            lambda: uow.calendars.add(calendar(s, "C")),
            lambda: uow.sla_policies.add(policy(s)),
            lambda: uow.sla_policies.remove(uuid.uuid4()),
            lambda: uow.clocks.put(clocks(s, a)),
            lambda: uow.clocks.remove(a),
            lambda: uow.clocks.due(NOW, 1),
            lambda: uow.clocks.mark_stale(NOW),
            lambda: uow.clocks.record_firing(a, "k", NOW),
            lambda: uow.sla_actions.add(action(s, a, NOW)),
            lambda: uow.sla_actions.due(NOW, 1),
            lambda: uow.sla_actions.finish(uuid.uuid4(), ActionState.DONE),
        ]
        for write in writes:
            with pytest.raises(RuntimeError, match="read-only"):
                write()


# -- concurrency ---------------------------------------------------------------------------


def run_together(count: int, work: Callable[[int], object]) -> list[object]:
    """``work(n)`` in ``count`` threads started at once; their results, or the first error."""
    start = threading.Barrier(count)
    results: list[object] = []
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            start.wait()
            results.append(work(n))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return results


def test_eight_units_of_work_recording_one_firing_exactly_one_records_it(
    storage: Storage,
) -> None:
    s = seed(storage)
    [a] = tickets(storage, s, 1)
    key = "first_response:1:breach"

    def record(n: int) -> bool:
        with storage.unit_of_work(s.tenant) as uow:
            won = uow.clocks.record_firing(a, key, NOW + n * MINUTE)
            uow.commit()
        return won

    results = run_together(8, record)
    assert sorted(results, key=bool) == [False] * 7 + [True]
    with storage.unit_of_work(s.tenant, read_only=True) as uow:
        assert list(uow.clocks.firings(a)) == [key]


def move_on(uow: UnitOfWork, taken: Iterable[TicketClocks]) -> None:
    """What a sweep does to the clocks it took: nothing more is due on them."""
    for c in taken:
        uow.clocks.put(attrs.evolve(c, next_firing_at=None))


def test_two_sweeps_never_take_the_same_ticket(storage: Storage, backend: str) -> None:
    """The second sweep skips the tickets the first holds (PostgreSQL: at once, taking what
    is left; SQLite and memory: after waiting for the first, which moved them on)."""
    s = seed(storage)
    ids = tickets(storage, s, 3)
    with storage.unit_of_work(s.tenant) as uow:
        for n, t in enumerate(ids):
            uow.clocks.put(clocks(s, t, next_firing_at=NOW - (3 - n) * MINUTE))
        uow.commit()
    theirs: list[UUID] = []

    def second() -> None:
        with storage.unit_of_work(s.tenant) as uow:
            taken = uow.clocks.due(NOW, 10)
            theirs.extend(c.ticket_id for c in taken)
            move_on(uow, taken)
            uow.commit()

    with storage.unit_of_work(s.tenant) as uow:
        mine = uow.clocks.due(NOW, 2)
        assert [c.ticket_id for c in mine] == ids[:2]
        other = threading.Thread(target=second)
        other.start()
        other.join(timeout=1.0)
        if backend == "postgres":
            assert not other.is_alive(), "PostgreSQL skips the locked tickets at once"
            assert theirs == ids[2:]
        else:
            assert other.is_alive(), "the second sweep waits for the first"
        move_on(uow, mine)
        uow.commit()
    other.join(timeout=30)
    assert not other.is_alive()
    assert theirs == ids[2:]
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.clocks.due(NOW, 10) == []


@pytest.mark.parametrize("hold", ["ticket", "sweep"])
def test_a_sweep_skips_or_waits_for_a_ticket_a_writer_holds(
    storage: Storage, backend: str, hold: str
) -> None:
    """Clocks are written under their ticket's lock, so a sweep never takes a ticket that a
    ticket write (or another sweep) holds: PostgreSQL skips it, the others wait."""
    s = seed(storage)
    held, free = tickets(storage, s, 2)
    with storage.unit_of_work(s.tenant) as uow:
        uow.clocks.put(clocks(s, held, next_firing_at=NOW - MINUTE))
        uow.clocks.put(clocks(s, free, next_firing_at=NOW))
        uow.commit()
    seen: list[UUID] = []

    def sweep() -> None:
        with storage.unit_of_work(s.tenant) as uow:
            seen.extend(c.ticket_id for c in uow.clocks.due(NOW, 10))
            uow.commit()

    with storage.unit_of_work(s.tenant) as uow:
        if hold == "ticket":
            assert uow.tickets.get(held, for_update=True) is not None
        else:
            assert [c.ticket_id for c in uow.clocks.due(NOW, 1)] == [held]
        other = threading.Thread(target=sweep)
        other.start()
        other.join(timeout=1.0)
        if backend == "postgres":
            assert not other.is_alive() and seen == [free]
        else:
            assert other.is_alive() and seen == []
        uow.commit()
    other.join(timeout=30)
    assert seen == ([free] if backend == "postgres" else [held, free])
