"""SLA clocks on random histories (hypothesis): the stored, incremental computation equals
a replay from scratch; business time never exceeds real time; a paused clock reaches no
level; and a sweep woken at each ``next_firing_at`` fires every level exactly once, at its
exact instant."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from uuid import uuid4

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ticketkit import Calendar
from ticketkit.domain.sla import (
    ClockRules,
    ClockState,
    Fact,
    Opened,
    PriorityChanged,
    Replied,
    Side,
    SlaPolicy,
    StatusMoved,
    Target,
    Targets,
    apply,
    due_firings,
    firings,
    next_firing_at,
    replay,
    start,
)
from ticketkit.domain.sla.serialization import state_from_dict, state_to_dict
from ticketkit.domain.values import Priority
from ticketkit.domain.workflow import StatusCategory

CALENDARS = [
    Calendar.create(
        "Europe/Berlin", {"mon-fri": ["08:00-12:00", "13:00-17:00"]}, holiday_regions=["DE"]
    ),
    Calendar.create("America/New_York", {"mon-sat": ["22:00-06:00"]}),
    Calendar.create("Asia/Kathmandu", {"sun": ["09:45-18:15"], "mon-thu": ["09:45-18:15"]}),
    Calendar.always("Europe/Berlin"),
]

# Instants around both 2026 daylight saving changes in Europe and the US, and elsewhere.
STARTS = st.sampled_from(
    [
        datetime(2026, 3, 27, 15, 0, tzinfo=UTC),
        datetime(2026, 10, 23, 14, 30, tzinfo=UTC),
        datetime(2026, 11, 1, 4, 0, tzinfo=UTC),
        datetime(2026, 12, 23, 9, 17, tzinfo=UTC),
        datetime(2026, 6, 8, 7, 0, tzinfo=UTC),
    ]
)
GAPS = st.one_of(
    st.just(timedelta(0)),
    st.integers(1, 3 * 24 * 60).map(lambda m: timedelta(minutes=m)),
    st.integers(1, 10**9).map(lambda us: timedelta(microseconds=us)),
)
EVENTS = st.one_of(
    st.sampled_from(list(StatusCategory)).map(lambda c: ("status", c)),
    st.sampled_from(list(Priority)).map(lambda p: ("priority", p)),
    st.sampled_from(list(Side)).map(lambda s: ("reply", s)),
)
TARGETS = st.one_of(
    st.none(),
    st.builds(
        Target,
        duration=st.integers(1, 40 * 60).map(lambda m: timedelta(minutes=m)),
        business_hours=st.booleans(),
    ),
)


@st.composite
def worlds(draw: st.DrawFn) -> tuple[ClockRules, list[Fact]]:
    targets = {
        p: Targets(
            first_response=draw(TARGETS),
            next_reply=draw(TARGETS),
            resolution=draw(TARGETS),
            periodic_update=draw(TARGETS),
            pausable_update=draw(TARGETS),
        )
        for p in Priority
    }
    targets[Priority.NORMAL] = Targets(resolution=timedelta(hours=8), first_response=draw(TARGETS))
    warnings = tuple(draw(st.sets(st.integers(1, 99), max_size=3)))
    policy = SlaPolicy(
        tenant_id=uuid4(), id=uuid4(), name="p", position=0, targets=targets, warnings=warnings
    )
    rules = ClockRules.of(policy, draw(st.sampled_from(CALENDARS)))
    at = draw(STARTS)
    facts: list[Fact] = [
        Opened(at=at, priority=draw(st.sampled_from(list(Priority))), category=StatusCategory.NEW)
    ]
    for kind, value in draw(st.lists(EVENTS, max_size=25)):
        at += draw(GAPS)
        if kind == "status":
            facts.append(StatusMoved(at=at, category=value))
        elif kind == "priority":
            facts.append(PriorityChanged(at=at, priority=value))
        else:
            facts.append(Replied(at=at, side=value))
    return rules, facts


def stored(state: ClockState) -> ClockState:
    """Through the storage form and JSON, as a unit of work stores it between events."""
    return state_from_dict(json.loads(json.dumps(state_to_dict(state))))


PROPERTIES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTIES
@given(worlds(), st.data())
def test_clocks_kept_event_by_event_equal_clocks_replayed_from_scratch(
    world: tuple[ClockRules, list[Fact]], data: st.DataObject
) -> None:
    rules, facts = world
    first = facts[0]
    assert isinstance(first, Opened)
    state = stored(start(first, rules))
    for fact in facts[1:]:
        # a reading in between (an agent opening the ticket) changes nothing stored
        state.at_time(fact.at + data.draw(GAPS), rules)
        state = stored(apply(state, fact, rules))
    assert state == replay(facts, rules)


@PROPERTIES
@given(worlds(), GAPS)
def test_business_time_never_exceeds_real_time(
    world: tuple[ClockRules, list[Fact]], after: timedelta
) -> None:
    rules, facts = world
    state = replay(facts, rules)
    assert state is not None
    state = state.at_time(state.at + after, rules)
    for clock in state.clocks:
        assert clock.elapsed.business <= clock.elapsed.absolute
    for spent in (state.working, state.on_hold, state.waiting):
        assert spent.business <= spent.absolute


@PROPERTIES
@given(worlds(), GAPS)
def test_a_paused_clock_never_reaches_a_level(
    world: tuple[ClockRules, list[Fact]], after: timedelta
) -> None:
    rules, facts = world
    first = facts[0]
    assert isinstance(first, Opened)
    states = [start(first, rules)]
    for fact in facts[1:]:
        states.append(apply(states[-1], fact, rules))
    end = states[-1].at + after
    states.append(states[-1].at_time(end, rules))
    running: dict[str, list[tuple[datetime, datetime]]] = {}
    for here, following in pairwise(states):
        for clock in here.clocks:
            if clock.running:
                running.setdefault(clock.key, []).append((here.at, following.at))
    for clock in states[-1].clocks:
        for crossing in clock.crossed:
            spans = running.get(clock.key, [])
            assert any(a <= crossing.at <= b for a, b in spans), (clock.key, crossing)


@PROPERTIES
@given(worlds(), GAPS)
def test_a_sweep_woken_at_each_next_firing_fires_every_level_once_at_its_instant(
    world: tuple[ClockRules, list[Fact]], after: timedelta
) -> None:
    rules, facts = world
    first = facts[0]
    assert isinstance(first, Opened)
    fired: dict[str, datetime] = {}

    def sweep_until(state: ClockState, until: datetime) -> None:
        while (wake := next_firing_at(state, rules, fired)) is not None and wake <= until:
            due = due_firings(state, wake, rules, fired)
            assert due, "woken for nothing"
            for firing in due:
                assert firing.key not in fired
                # a level reached before the last change is fired at that change
                assert firing.at == wake or firing.at <= state.at
                fired[firing.key] = firing.at

    state = start(first, rules)
    for fact in facts[1:]:
        sweep_until(state, fact.at)
        state = apply(state, fact, rules)
    end = state.at + after
    sweep_until(state, end)
    final = state.at_time(end, rules)
    assert fired == {f.key: f.at for f in firings(final)}
