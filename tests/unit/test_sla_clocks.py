"""SLA clock semantics (docs/sla.md), one behaviour per test, on the pure domain."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from ticketkit import Calendar
from ticketkit.domain.sla import (
    ClockRules,
    ClockState,
    Fact,
    Level,
    Metric,
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
    next_due_at,
    next_firing_at,
    read,
    replay,
    start,
)
from ticketkit.domain.values import Priority
from ticketkit.domain.workflow import StatusCategory as C

BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)
OFFICE = Calendar.create("Europe/Berlin", {"mon-fri": ["08:00-17:00"]}, holiday_regions=["DE"])


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def rules(
    calendar: Calendar = OFFICE, warnings: tuple[int, ...] = (75, 90), **targets: Targets
) -> ClockRules:
    by_priority = {Priority(k): v for k, v in targets.items()} or {
        Priority.NORMAL: Targets(first_response=4 * H, next_reply=4 * H, resolution=16 * H),
        Priority.URGENT: Targets(first_response=1 * H, next_reply=1 * H, resolution=4 * H),
    }
    policy = SlaPolicy(
        tenant_id=uuid4(), id=uuid4(), name="Gold", position=1, targets=by_priority,
        warnings=warnings,
    )  # fmt: skip
    return ClockRules.of(policy, calendar)


def run(facts: list[Fact], r: ClockRules) -> ClockState:
    state = replay(facts, r)
    assert state is not None
    return state


def reading(state: ClockState, metric: Metric, now: datetime, r: ClockRules) -> object:
    return next(x for x in read(state, now, r) if x.metric is metric)


MON_9 = berlin(2026, 6, 8, 9, 0)  # a Monday


def opened(at: datetime = MON_9, priority: Priority = Priority.NORMAL) -> Opened:
    return Opened(at=at, priority=priority, category=C.NEW)


def test_first_response_is_met_by_the_providers_first_public_reply_only() -> None:
    r = rules()
    state = run(
        [
            opened(),
            Replied(at=MON_9 + H, side=Side.REQUESTER),
            Replied(at=MON_9 + 2 * H, side=Side.PROVIDER),
        ],
        r,
    )
    first = state.current(Metric.FIRST_RESPONSE)
    assert first is not None and first.met_at == MON_9 + 2 * H
    assert first.elapsed.business == 2 * H and not first.crossed


def test_first_response_due_counts_business_hours_only() -> None:
    r = rules()
    friday_4pm = berlin(2026, 6, 12, 16, 0)
    state = start(opened(friday_4pm), r)
    due = next_due_at(state, r)
    # one hour on Friday, three on Monday morning
    assert due is not None and due.astimezone(BERLIN) == berlin(2026, 6, 15, 11, 0)


def test_next_reply_starts_at_the_oldest_unanswered_requester_comment() -> None:
    r = rules()
    state = run(
        [
            opened(),
            Replied(at=MON_9 + H, side=Side.PROVIDER),
            Replied(at=MON_9 + 2 * H, side=Side.REQUESTER),
            Replied(at=MON_9 + 3 * H, side=Side.REQUESTER),  # "any news?" moves nothing
        ],
        r,
    )
    reply = state.current(Metric.NEXT_REPLY)
    assert reply is not None and reply.cycle == 1 and reply.started_at == MON_9 + 2 * H
    state = apply(state, Replied(at=MON_9 + 4 * H, side=Side.PROVIDER), r)
    met = state.current(Metric.NEXT_REPLY)
    assert met is not None and met.met_at == MON_9 + 4 * H and met.elapsed.business == 2 * H
    state = apply(state, Replied(at=MON_9 + 5 * H, side=Side.REQUESTER), r)
    again = state.current(Metric.NEXT_REPLY)
    assert again is not None and again.cycle == 2 and again.met_at is None


def test_resolution_pauses_in_pending_and_resumes_when_reopened() -> None:
    r = rules()
    state = run(
        [
            opened(),
            StatusMoved(at=MON_9 + 2 * H, category=C.PENDING),
            StatusMoved(at=MON_9 + 5 * H, category=C.OPEN),
        ],
        r,
    )
    now = MON_9 + 6 * H
    resolution = reading(state, Metric.RESOLUTION, now, r)
    assert resolution.elapsed.business == 3 * H  # type: ignore[attr-defined]
    assert state.agent_wait_time.business == 3 * H
    paused = run([opened(), StatusMoved(at=MON_9 + 2 * H, category=C.PENDING)], r)
    assert reading(paused, Metric.RESOLUTION, now, r).state == "paused"  # type: ignore[attr-defined]
    assert reading(paused, Metric.RESOLUTION, now, r).due_at is None  # type: ignore[attr-defined]


def test_a_customer_reply_on_a_pending_ticket_resumes_the_resolution_clock() -> None:
    r = rules()
    state = run(
        [
            opened(),
            Replied(at=MON_9 + H, side=Side.PROVIDER),
            StatusMoved(at=MON_9 + H, category=C.PENDING),
            Replied(at=MON_9 + 2 * H, side=Side.REQUESTER),
        ],
        r,
    )
    now = MON_9 + 4 * H
    resolution = reading(state, Metric.RESOLUTION, now, r)
    assert resolution.state == "running"  # type: ignore[attr-defined]
    assert resolution.elapsed.business == 3 * H  # type: ignore[attr-defined]  # 1 + (4 - 2)
    assert state.at_time(now, r).agent_wait_time.business == H


def test_on_hold_pauses_nothing_of_the_customers_wait() -> None:
    r = rules()
    state = run([opened(), StatusMoved(at=MON_9 + H, category=C.ON_HOLD)], r)
    later = state.at_time(MON_9 + 3 * H, r)
    assert later.requester_wait_time.business == 3 * H
    assert later.on_hold_time.business == 2 * H and later.agent_work_time.business == H
    assert reading(state, Metric.RESOLUTION, MON_9 + 3 * H, r).state == "running"  # type: ignore[attr-defined]


def test_solving_meets_resolution_and_reopening_resumes_it_with_the_time_already_run() -> None:
    r = rules()
    state = run(
        [
            opened(),
            StatusMoved(at=MON_9 + 2 * H, category=C.SOLVED),
            StatusMoved(at=MON_9 + 6 * H, category=C.OPEN),
        ],
        r,
    )
    resolution = state.current(Metric.RESOLUTION)
    assert resolution is not None and resolution.met_at is None and resolution.running
    assert resolution.elapsed.business == 2 * H
    solved = run([opened(), StatusMoved(at=MON_9 + 2 * H, category=C.SOLVED)], r)
    assert reading(solved, Metric.RESOLUTION, MON_9 + 9 * H, r).state == "met"  # type: ignore[attr-defined]
    assert next_firing_at(solved, r, fired=()) is None


def test_raising_the_priority_recomputes_the_due_time_from_the_time_already_run() -> None:
    r = rules()
    state = run([opened(), PriorityChanged(at=MON_9 + 2 * H, priority=Priority.URGENT)], r)
    resolution = state.current(Metric.RESOLUTION)
    assert resolution is not None and resolution.breached_at is None
    due = next(x for x in read(state, MON_9 + 2 * H, r) if x.metric is Metric.RESOLUTION).due_at
    assert due == MON_9 + 4 * H  # urgent: 4 business hours from the start
    first = state.current(Metric.FIRST_RESPONSE)
    # first response had run 2 h; urgent allows 1 h: breached at the change
    assert first is not None and first.breached_at == MON_9 + 2 * H


def test_a_ticket_created_friday_1630_before_whit_monday_is_due_on_tuesday() -> None:
    r = rules(normal=Targets(first_response=4 * H))
    friday = berlin(2026, 5, 22, 16, 30)  # 25 May 2026 is Whit Monday
    state = start(opened(friday), r)
    due = next_due_at(state, r)
    assert due is not None and due.astimezone(BERLIN) == berlin(2026, 5, 26, 11, 30)
    warning = next_firing_at(state, r, fired=())
    assert warning is not None and warning.astimezone(BERLIN) == berlin(2026, 5, 26, 10, 30)


def test_a_calendar_time_target_counts_the_autumn_dst_hour() -> None:
    always = Calendar.always("Europe/Berlin")
    r = rules(always, normal=Targets(resolution=Target(duration=4 * H, business_hours=False)))
    night = berlin(2026, 10, 25, 0, 30)  # 03:00 summer time becomes 02:00 winter time
    state = start(opened(night), r)
    due = next_due_at(state, r)
    assert due is not None and due.astimezone(UTC) - night.astimezone(UTC) == 4 * H
    assert due.astimezone(BERLIN) == berlin(2026, 10, 25, 3, 30)  # wall clock: 3 h later


def test_business_hours_across_the_autumn_change_count_real_time() -> None:
    night_shift = Calendar.create("Europe/Berlin", {"sun": ["00:00-06:00"]})
    r = rules(night_shift, normal=Targets(resolution=6 * H))
    state = start(opened(berlin(2026, 10, 25, 0, 0)), r)
    due = next_due_at(state, r)
    # the night of the change holds 7 real hours; 6 of them are used up at 05:00
    assert due is not None and due.astimezone(BERLIN) == berlin(2026, 10, 25, 5, 0)


def test_warnings_and_the_breach_are_reached_at_their_exact_instants() -> None:
    r = rules(normal=Targets(first_response=4 * H))
    state = start(opened(), r)
    fired = due_firings(state, MON_9 + 5 * H, r, fired=())
    assert [(f.level, f.percent, f.at) for f in fired] == [
        (Level.WARNING, 75, MON_9 + 3 * H),
        (Level.WARNING, 90, MON_9 + timedelta(hours=3, minutes=36)),
        (Level.BREACH, None, MON_9 + 4 * H),
    ]
    assert [f.key for f in fired][-1] == "first_response:1:breach"
    assert due_firings(state, MON_9 + 5 * H, r, fired=[f.key for f in fired]) == []


def test_a_paused_clock_reaches_nothing_however_long_it_waits() -> None:
    r = rules(normal=Targets(resolution=2 * H))
    state = run([opened(), StatusMoved(at=MON_9 + H, category=C.PENDING)], r)
    assert due_firings(state, MON_9 + timedelta(days=30), r, fired=()) == []
    assert next_firing_at(state, r, fired=()) is None and next_due_at(state, r) is None
    resolution = state.current(Metric.RESOLUTION)
    assert resolution is not None and not resolution.running


def test_a_history_dated_backwards_counts_as_the_same_instant() -> None:
    r = rules()
    state = run([opened(), StatusMoved(at=MON_9 - H, category=C.OPEN)], r)
    assert state.at == MON_9 and state.at.tzinfo is UTC


def test_facts_never_start_a_second_opening() -> None:
    r = rules()
    with pytest.raises(ValueError):
        apply(start(opened(), r), opened(), r)


def test_utc_and_berlin_instants_give_the_same_clocks() -> None:
    r = rules()
    a = run([opened(), Replied(at=MON_9 + H, side=Side.PROVIDER)], r)
    b = run(
        [
            opened(MON_9.astimezone(UTC)),
            Replied(at=(MON_9 + H).astimezone(UTC), side=Side.PROVIDER),
        ],
        r,
    )
    assert read(a, MON_9 + 2 * H, r) == read(b, MON_9 + 2 * H, r)
    assert date(2026, 6, 8).weekday() == 0


def test_periodic_update_wants_a_public_reply_every_n_hours_even_while_pending() -> None:
    r = rules(normal=Targets(periodic_update=2 * H, pausable_update=2 * H))
    state = run(
        [
            opened(),
            Replied(at=MON_9 + H, side=Side.PROVIDER),  # cycle 1 starts
            StatusMoved(at=MON_9 + H, category=C.PENDING),
        ],
        r,
    )
    later = MON_9 + 4 * H
    periodic = reading(state, Metric.PERIODIC_UPDATE, later, r)
    pausable = reading(state, Metric.PAUSABLE_UPDATE, later, r)
    assert periodic.breached and periodic.due_at == MON_9 + 3 * H  # type: ignore[attr-defined]
    assert pausable.state == "paused" and not pausable.breached  # type: ignore[attr-defined]
    state = apply(state, Replied(at=later, side=Side.PROVIDER), r)
    again = state.current(Metric.PERIODIC_UPDATE)
    assert again is not None and again.cycle == 2 and again.started_at == later


def test_update_clocks_start_with_the_first_reply_and_pause_while_solved() -> None:
    r = rules(normal=Targets(periodic_update=2 * H))
    fresh = start(opened(), r)
    assert fresh.current(Metric.PERIODIC_UPDATE) is None
    state = run(
        [
            opened(),
            Replied(at=MON_9 + H, side=Side.PROVIDER),
            StatusMoved(at=MON_9 + 2 * H, category=C.SOLVED),
        ],
        r,
    )
    update = reading(state, Metric.PERIODIC_UPDATE, MON_9 + 8 * H, r)
    assert update.state == "paused" and update.elapsed.business == H  # type: ignore[attr-defined]
