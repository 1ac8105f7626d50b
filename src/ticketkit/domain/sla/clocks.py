"""SLA clocks: a pure function of a ticket's history, its policy's targets and a calendar.

The history is read as a few facts (``facts_from_events``): opened, status moved, priority
changed, a public reply from the provider's or the requester's side. ``ClockState`` folds
them one at a time (``apply``); replaying a whole history is the same fold (``replay``), so
the state stored after each event equals the state replayed from scratch. ``docs/sla.md``
states the semantics this module implements.

Time advances only at facts: between two facts every running clock gains the calendar's
business time and the real time of that span, and a warning or breach level is reached at
the exact instant its share of the target is used up. Reading a state ``at(now)`` advances
it to ``now`` the same way, without changing anything stored.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Container, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import attrs

from ticketkit.domain.calendars import Calendar
from ticketkit.domain.events import (
    CommentAdded,
    Event,
    StatusChanged,
    TicketChanged,
    TicketCreated,
)
from ticketkit.domain.sla.policies import Level, Metric, SlaPolicy, Target, Targets
from ticketkit.domain.values import Priority, Visibility
from ticketkit.domain.workflow import StatusCategory
from ticketkit.errors import ValidationError

ZERO = timedelta(0)


class Side(enum.StrEnum):
    """Who wrote a public comment: the provider's staff, or anyone on the requester's side."""

    PROVIDER = "provider"
    REQUESTER = "requester"


class Phase(enum.StrEnum):
    """What a ticket waits for, from its status category and the requester's last move."""

    #: New or open, or pending after the requester replied: the provider works on it.
    WORKING = "working"
    #: On hold: a third party works on it; the requester still waits.
    ON_HOLD = "on_hold"
    #: Pending: the provider waits for the requester.
    WAITING = "waiting"
    #: Solved or closed.
    DONE = "done"


# -- facts: what the clocks read of a history ------------------------------------------------


@attrs.frozen(kw_only=True)
class Fact:
    """One moment of a ticket's history that SLA clocks react to."""

    at: datetime


@attrs.frozen(kw_only=True)
class Opened(Fact):
    priority: Priority
    category: StatusCategory


@attrs.frozen(kw_only=True)
class StatusMoved(Fact):
    category: StatusCategory


@attrs.frozen(kw_only=True)
class PriorityChanged(Fact):
    priority: Priority


@attrs.frozen(kw_only=True)
class Replied(Fact):
    """A public comment (internal notes never count: the requester does not see them)."""

    side: Side


def facts_from_events(
    events: Iterable[Event],
    *,
    provider_organisations: Container[UUID],
    category_of: Callable[[str], StatusCategory],
) -> Iterator[Fact]:
    """The facts in ``events`` (a ticket's history, in order). A public comment is the
    provider's when its author wrote as one of ``provider_organisations``, the requester's
    side otherwise; ``category_of`` gives the category of the ticket's initial status."""
    for event in events:
        if isinstance(event, TicketCreated):
            yield Opened(at=event.at, priority=event.priority, category=category_of(event.status))
        elif isinstance(event, StatusChanged):
            yield StatusMoved(at=event.at, category=event.new_category)
        elif isinstance(event, CommentAdded):
            if event.visibility is Visibility.PUBLIC:
                side = (
                    Side.PROVIDER
                    if event.organisation_id in provider_organisations
                    else Side.REQUESTER
                )
                yield Replied(at=event.at, side=side)
        elif isinstance(event, TicketChanged):
            for change in event.changes:
                if change.field == "priority" and change.new is not None:
                    yield PriorityChanged(at=event.at, priority=Priority(str(change.new)))


# -- durations ------------------------------------------------------------------------------


@attrs.frozen
class Elapsed:
    """A span measured twice: business time on the calendar, and real elapsed time."""

    business: timedelta = ZERO
    absolute: timedelta = ZERO

    def __add__(self, other: Elapsed) -> Elapsed:
        return Elapsed(self.business + other.business, self.absolute + other.absolute)

    def measure(self, target: Target) -> timedelta:
        """The part of this span that counts against ``target``."""
        return self.business if target.business_hours else self.absolute


@attrs.frozen(kw_only=True)
class Crossing:
    """A level a metric reached, and when: a warning at ``percent`` of its target, or the
    breach. A level reached stays reached, whatever later changes the target."""

    level: Level
    percent: int | None
    at: datetime


@attrs.frozen(kw_only=True)
class MetricClock:
    """One cycle of a metric (first response and resolution have one; next reply and the
    update metrics start a new cycle each time they are met and asked for again)."""

    metric: Metric
    cycle: int
    started_at: datetime
    #: Running time up to the state's ``at``.
    elapsed: Elapsed = Elapsed()
    running: bool = True
    met_at: datetime | None = None
    crossed: tuple[Crossing, ...] = ()

    @property
    def key(self) -> str:
        """``<metric>:<cycle>``: what names this cycle in firing keys and reports."""
        return f"{self.metric.value}:{self.cycle}"

    def reached(self, level: Level, percent: int | None) -> Crossing | None:
        """The crossing of ``level`` (at ``percent``), if it happened."""
        for c in self.crossed:
            if c.level is level and c.percent == percent:
                return c
        return None

    @property
    def breached_at(self) -> datetime | None:
        """When this cycle breached its target, if it did."""
        breach = self.reached(Level.BREACH, None)
        return breach.at if breach else None


@attrs.frozen(kw_only=True)
class ClockRules:
    """What clocks are measured against: a policy's targets and warnings, on a calendar."""

    targets: Callable[[Priority], Targets]
    warnings: tuple[int, ...]
    calendar: Calendar

    @classmethod
    def of(cls, policy: SlaPolicy, calendar: Calendar) -> ClockRules:
        return cls(
            targets=policy.targets_for, warnings=tuple(sorted(policy.warnings)), calendar=calendar
        )

    def levels(self, target: Target) -> Iterator[tuple[Level, int | None, timedelta]]:
        """Each level of ``target`` with the running time that reaches it, in order."""
        for percent in self.warnings:
            yield Level.WARNING, percent, (target.duration * percent) // 100
        yield Level.BREACH, None, target.duration


#: Metrics that pause while the provider waits on the requester (pending).
_PAUSE_WHEN_WAITING = frozenset({Metric.RESOLUTION, Metric.PAUSABLE_UPDATE})
_UPDATES = (Metric.PERIODIC_UPDATE, Metric.PAUSABLE_UPDATE)


def phase_of(category: StatusCategory, requester_replied: bool) -> Phase:
    """The phase of a ticket in ``category``; a requester's reply on a pending ticket
    makes it the provider's turn again, so pending cannot park a clock."""
    match category:
        case StatusCategory.NEW | StatusCategory.OPEN:
            return Phase.WORKING
        case StatusCategory.ON_HOLD:
            return Phase.ON_HOLD
        case StatusCategory.PENDING:
            return Phase.WORKING if requester_replied else Phase.WAITING
    return Phase.DONE


def _runs(clock: MetricClock, phase: Phase) -> bool:
    if clock.met_at is not None or phase is Phase.DONE:
        return False
    return not (phase is Phase.WAITING and clock.metric in _PAUSE_WHEN_WAITING)


@attrs.frozen(kw_only=True)
class ClockState:
    """Every clock of one ticket as of ``at``, the instant of the last fact applied."""

    at: datetime
    priority: Priority
    category: StatusCategory
    requester_replied: bool = False
    clocks: tuple[MetricClock, ...] = ()
    #: Time spent per phase (``DONE`` is not counted).
    working: Elapsed = Elapsed()
    on_hold: Elapsed = Elapsed()
    waiting: Elapsed = Elapsed()

    @property
    def phase(self) -> Phase:
        return phase_of(self.category, self.requester_replied)

    # reports, named as Zendesk names them

    @property
    def agent_work_time(self) -> Elapsed:
        """Time the provider had the ticket: new and open (and pending after a reply)."""
        return self.working

    @property
    def requester_wait_time(self) -> Elapsed:
        """Time the requester waited: new, open and on hold."""
        return self.working + self.on_hold

    @property
    def on_hold_time(self) -> Elapsed:
        return self.on_hold

    @property
    def agent_wait_time(self) -> Elapsed:
        """Time the provider waited on the requester (pending)."""
        return self.waiting

    def current(self, metric: Metric) -> MetricClock | None:
        """The latest cycle of ``metric``, if it has started."""
        for clock in reversed(self.clocks):
            if clock.metric is metric:
                return clock
        return None

    def at_time(self, now: datetime, rules: ClockRules) -> ClockState:
        """This state advanced to ``now`` (no later than ``at``: unchanged): what a reading
        at ``now`` sees, with every level reached by then."""
        now = _utc(now, "now")
        return self if now <= self.at else _advance(self, now, rules)


def _utc(instant: datetime, field: str = "at") -> datetime:
    """``instant`` in UTC: aware arithmetic in a zone with daylight saving adds wall-clock
    time, not real time, so every instant here is UTC."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValidationError.single(field, "must be timezone-aware")
    return instant.astimezone(UTC)


def start(fact: Opened, rules: ClockRules) -> ClockState:
    """The clocks of a ticket just opened: first response and resolution start."""
    at = _utc(fact.at)
    state = ClockState(
        at=at,
        priority=fact.priority,
        category=fact.category,
        clocks=(
            MetricClock(metric=Metric.FIRST_RESPONSE, cycle=1, started_at=at),
            MetricClock(metric=Metric.RESOLUTION, cycle=1, started_at=at),
        ),
    )
    return _settle(_set_running(state), rules)


def apply(state: ClockState, fact: Fact, rules: ClockRules) -> ClockState:
    """``state`` after ``fact``. A fact dated before ``state.at`` counts as happening at
    ``state.at`` (a history's times never run backwards)."""
    if isinstance(fact, Opened):
        raise ValueError("a ticket is opened once: start() begins its clocks")
    at = max(_utc(fact.at), state.at)
    state = _advance(state, at, rules)
    if isinstance(fact, StatusMoved):
        state = _moved(state, fact.category, at)
    elif isinstance(fact, PriorityChanged):
        state = attrs.evolve(state, priority=fact.priority)
    elif isinstance(fact, Replied):
        state = _replied(state, fact.side, at)
    return _settle(_set_running(state), rules)


def replay(facts: Iterable[Fact], rules: ClockRules) -> ClockState | None:
    """The clocks after a whole history (None for a history without its opening)."""
    state: ClockState | None = None
    for fact in facts:
        if state is None:
            if isinstance(fact, Opened):
                state = start(fact, rules)
            continue
        state = apply(state, fact, rules)
    return state


def _moved(state: ClockState, category: StatusCategory, at: datetime) -> ClockState:
    done = phase_of(category, False) is Phase.DONE
    clocks = []
    for clock in state.clocks:
        if clock.metric is Metric.RESOLUTION and done and clock.met_at is None:
            clocks.append(attrs.evolve(clock, met_at=at))
        elif clock.metric is Metric.RESOLUTION and not done and clock.met_at is not None:
            clocks.append(attrs.evolve(clock, met_at=None))  # reopened: it runs on
        else:
            clocks.append(clock)
    return attrs.evolve(state, category=category, requester_replied=False, clocks=tuple(clocks))


def _replied(state: ClockState, side: Side, at: datetime) -> ClockState:
    clocks = list(state.clocks)
    if side is Side.PROVIDER:
        for i, clock in enumerate(clocks):
            if clock.met_at is None and clock.metric is not Metric.RESOLUTION:
                clocks[i] = attrs.evolve(clock, met_at=at)
        for metric in _UPDATES:
            latest = state.current(metric)
            cycle = latest.cycle + 1 if latest else 1
            clocks.append(MetricClock(metric=metric, cycle=cycle, started_at=at))
        return attrs.evolve(state, clocks=tuple(clocks))
    first = state.current(Metric.FIRST_RESPONSE)
    reply = state.current(Metric.NEXT_REPLY)
    if first is not None and first.met_at is not None and (reply is None or reply.met_at):
        cycle = reply.cycle + 1 if reply else 1
        clocks.append(MetricClock(metric=Metric.NEXT_REPLY, cycle=cycle, started_at=at))
    replied = state.requester_replied or state.category is StatusCategory.PENDING
    return attrs.evolve(state, clocks=tuple(clocks), requester_replied=replied)


def _set_running(state: ClockState) -> ClockState:
    phase = state.phase
    clocks = tuple(
        c if c.running == _runs(c, phase) else attrs.evolve(c, running=_runs(c, phase))
        for c in state.clocks
    )
    return attrs.evolve(state, clocks=clocks)


def _advance(state: ClockState, to: datetime, rules: ClockRules) -> ClockState:
    """Let time run from ``state.at`` to ``to``: running clocks and the phase gain the span,
    and levels whose threshold falls inside it are reached at their exact instant."""
    if to <= state.at:
        return state
    span = Elapsed(rules.calendar.elapsed(state.at, to), to - state.at)
    targets = rules.targets(state.priority)
    clocks = []
    for clock in state.clocks:
        if clock.running:
            after = clock.elapsed + span
            target = targets.of(clock.metric)
            crossed = clock.crossed
            if target is not None:
                crossed += tuple(_crossings(clock, target, after, state.at, rules))
            clocks.append(attrs.evolve(clock, elapsed=after, crossed=crossed))
        else:
            clocks.append(clock)
    phase = state.phase
    changes: dict[str, object] = {"at": to, "clocks": tuple(clocks)}
    if phase is Phase.WORKING:
        changes["working"] = state.working + span
    elif phase is Phase.ON_HOLD:
        changes["on_hold"] = state.on_hold + span
    elif phase is Phase.WAITING:
        changes["waiting"] = state.waiting + span
    return attrs.evolve(state, **changes)  # type: ignore[arg-type]


def _crossings(
    clock: MetricClock, target: Target, after: Elapsed, since: datetime, rules: ClockRules
) -> Iterator[Crossing]:
    before = clock.elapsed.measure(target)
    for level, percent, threshold in rules.levels(target):
        if before < threshold <= after.measure(target) and not clock.reached(level, percent):
            rest = threshold - before
            at = rules.calendar.add(since, rest) if target.business_hours else since + rest
            yield Crossing(level=level, percent=percent, at=at)


def _settle(state: ClockState, rules: ClockRules) -> ClockState:
    """Reach, at ``state.at``, every level a running clock already has the time for: a
    priority raised past the time already run breaches at the change."""
    targets = rules.targets(state.priority)
    clocks = []
    for clock in state.clocks:
        # Only a running clock can reach a level: a long history's met cycles are passed by.
        target = targets.of(clock.metric) if clock.running else None
        if target is not None:
            ran = clock.elapsed.measure(target)
            late = tuple(
                Crossing(level=level, percent=percent, at=state.at)
                for level, percent, threshold in rules.levels(target)
                if threshold <= ran and not clock.reached(level, percent)
            )
            if late:
                clocks.append(attrs.evolve(clock, crossed=clock.crossed + late))
                continue
        clocks.append(clock)
    return attrs.evolve(state, clocks=tuple(clocks))


# -- what is due: readings, firings and the next instant worth waking up for ----------------


@attrs.frozen(kw_only=True)
class Firing:
    """A level reached that must be announced once: its key is unique per ticket."""

    metric: Metric
    cycle: int
    level: Level
    percent: int | None
    at: datetime

    @property
    def key(self) -> str:
        """``<metric>:<cycle>:<level>[:<percent>]``, e.g. ``resolution:1:warning:75``."""
        tail = f":{self.percent}" if self.percent is not None else ""
        return f"{self.metric.value}:{self.cycle}:{self.level.value}{tail}"


def firings(state: ClockState) -> Iterator[Firing]:
    """Every level reached in ``state``, in the order of the clocks."""
    for clock in state.clocks:
        for c in clock.crossed:
            yield Firing(
                metric=clock.metric, cycle=clock.cycle, level=c.level, percent=c.percent, at=c.at
            )


def due_firings(
    state: ClockState, now: datetime, rules: ClockRules, fired: Collection[str]
) -> list[Firing]:
    """The levels reached by ``now`` that are not in ``fired`` yet, oldest first."""
    reached = firings(state.at_time(now, rules))
    return sorted((f for f in reached if f.key not in fired), key=lambda f: (f.at, f.key))


def projected(clock: MetricClock, state: ClockState, rules: ClockRules) -> Iterator[Firing]:
    """The levels a running ``clock`` will reach if nothing changes, with their instants."""
    target = rules.targets(state.priority).of(clock.metric)
    if not clock.running or target is None:
        return
    ran = clock.elapsed.measure(target)
    for level, percent, threshold in rules.levels(target):
        if threshold > ran and not clock.reached(level, percent):
            rest = threshold - ran
            at = rules.calendar.add(state.at, rest) if target.business_hours else state.at + rest
            yield Firing(
                metric=clock.metric, cycle=clock.cycle, level=level, percent=percent, at=at
            )


def next_firing_at(state: ClockState, rules: ClockRules, fired: Collection[str]) -> datetime | None:
    """When the next level not yet in ``fired`` is reached: the time a sweep should look at
    this ticket again (None: nothing will fire unless the ticket changes)."""
    instants = [f.at for f in firings(state) if f.key not in fired]
    for clock in state.clocks:
        instants.extend(f.at for f in projected(clock, state, rules) if f.key not in fired)
    return min(instants, default=None)


def next_due_at(state: ClockState, rules: ClockRules) -> datetime | None:
    """The earliest breach instant of a running clock (past for a breached one): what
    lists sort and filter by. None when no running clock has a target."""
    instants: list[datetime] = []
    for clock in state.clocks:
        if not clock.running:
            continue
        if clock.breached_at is not None:
            instants.append(clock.breached_at)
        else:
            instants.extend(f.at for f in projected(clock, state, rules) if f.level is Level.BREACH)
    return min(instants, default=None)


@attrs.frozen(kw_only=True)
class ClockReading:
    """One metric cycle as an agent sees it at ``now``."""

    metric: Metric
    cycle: int
    started_at: datetime
    #: running, paused, or met.
    state: str
    met_at: datetime | None
    elapsed: Elapsed
    target: Target | None
    #: When it breached, or will breach if it keeps running (None: paused or no target).
    due_at: datetime | None
    #: Target time left (business or real, as the target counts), never below zero.
    remaining: timedelta | None
    breached: bool


def read(state: ClockState, now: datetime, rules: ClockRules) -> list[ClockReading]:
    """Every metric cycle of ``state`` as of ``now``, in the order they started."""
    current = state.at_time(now, rules)
    targets = rules.targets(current.priority)
    readings = []
    for clock in current.clocks:
        target = targets.of(clock.metric)
        due = clock.breached_at or next(
            (f.at for f in projected(clock, current, rules) if f.level is Level.BREACH), None
        )
        remaining = max(ZERO, target.duration - clock.elapsed.measure(target)) if target else None
        state_name = "met" if clock.met_at else ("running" if clock.running else "paused")
        readings.append(
            ClockReading(
                metric=clock.metric,
                cycle=clock.cycle,
                started_at=clock.started_at,
                state=state_name,
                met_at=clock.met_at,
                elapsed=clock.elapsed,
                target=target,
                due_at=due,
                remaining=remaining,
                breached=clock.breached_at is not None,
            )
        )
    return readings
