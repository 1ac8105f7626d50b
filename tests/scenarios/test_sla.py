"""SLA end to end on every backend: seed 000's Gold ticket drives its clocks; pauses,
reopening, a priority change, holidays and daylight saving through the public API; the
sweep announces each warning and breach once and escalates; bad configuration writes
nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import attrs
import pytest

from ticketkit import CommentDraft, HelpDesk
from ticketkit.application import sla_sweep
from ticketkit.clock import ManualClock
from ticketkit.demo_world import Seed000, seed_000
from ticketkit.domain import SlaLevelReached, Status, StatusCategory, Workflow
from ticketkit.domain.model import Actor, Priority, Role, Visibility
from ticketkit.domain.sla import Metric, Target, Targets
from ticketkit.errors import Conflict, PermissionDenied, ValidationError
from ticketkit.ports import Storage

BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
OFFICE = {
    "zone": "Europe/Berlin",
    "week": {d: ["08:00-17:00"] for d in WEEKDAYS},
    "holiday_regions": [{"country": "DE"}],
}


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


@attrs.define
class World:
    desk: HelpDesk
    clock: ManualClock
    seed: Seed000
    admin: Actor
    max: Actor
    sandra: Actor
    support_type: UUID
    gold_id: UUID


def actor(person: object) -> Actor:
    return person.actor  # type: ignore[attr-defined,no-any-return]


@pytest.fixture
def world(storage: Storage) -> World:
    clock = ManualClock(berlin(2026, 5, 18, 9, 0).astimezone(UTC))  # a Monday
    desk = HelpDesk(storage, clock=clock, delivery="inline")
    seed = seed_000(desk)
    admin = actor(seed.admin)
    desk.create_calendar(admin, name="Berlin office", calendar=OFFICE, is_default=True)
    gold = desk.create_sla_policy(
        admin,
        name="Gold",
        conditions=[{"attribute": "fields.sla_level", "values": ["Gold"]}],
        targets={
            "normal": Targets(first_response=4 * H, next_reply=4 * H, resolution=16 * H),
            "urgent": Targets(first_response=1 * H, next_reply=1 * H, resolution=4 * H),
        },
    )
    desk.create_sla_policy(
        admin,
        name="Silver",
        conditions=[{"attribute": "fields.sla_level", "values": ["Silver"]}],
        targets={"normal": {"first_response": 8 * H, "resolution": 40 * H}},
    )
    support = desk.create_ticket_type(
        admin,
        name="Support",
        workflow=Workflow.linear(
            (
                Status(key="new", label="New", category=StatusCategory.NEW),
                Status(key="open", label="Open", category=StatusCategory.OPEN),
                Status(key="vendor", label="At the vendor", category=StatusCategory.ON_HOLD),
                Status(key="pending", label="Waiting for you", category=StatusCategory.PENDING),
                Status(key="solved", label="Solved", category=StatusCategory.SOLVED),
            ),
            extra=(("pending", "open"), ("solved", "open"), ("vendor", "open")),
        ),
        fields=seed.server_crash.fields,
    )
    return World(
        desk=desk,
        clock=clock,
        seed=seed,
        admin=admin,
        max=actor(seed.max),
        sandra=actor(seed.sandra),
        support_type=support.id,
        gold_id=gold.id,
    )


def open_ticket(w: World, level: str = "Gold", *, type_id: UUID | None = None) -> UUID:
    view = w.desk.create_ticket(
        w.sandra,
        project_id=w.seed.project.id,
        type_id=type_id or w.support_type,
        title="Hauptdatenbank antwortet nicht",
        fields={"sla_level": level, "affected_systems": ["Hauptdatenbank"]},
    )
    return view.id


def clock_of(w: World, ticket_id: UUID, metric: Metric, who: Actor | None = None) -> object:
    sla = w.desk.ticket_sla(who or w.max, ticket_id)
    assert sla is not None
    return next(c for c in sla.clocks if c.metric is metric)


def test_the_gold_field_chooses_the_gold_policy_and_its_first_response_clock_runs(
    world: World,
) -> None:
    gold = open_ticket(world, "Gold")
    silver = open_ticket(world, "Silver")
    bronze = open_ticket(world, "Bronze")
    assert world.desk.ticket_sla(world.max, gold).policy_name == "Gold"  # type: ignore[union-attr]
    assert world.desk.ticket_sla(world.max, silver).policy_name == "Silver"  # type: ignore[union-attr]
    assert world.desk.ticket_sla(world.max, bronze) is None
    first = clock_of(world, gold, Metric.FIRST_RESPONSE)
    assert first.due_at == berlin(2026, 5, 18, 13, 0)  # type: ignore[attr-defined]
    world.clock.advance(2 * H)
    world.desk.add_comment(world.max, gold, "Wir schauen es uns an.", visibility=Visibility.PUBLIC)
    met = clock_of(world, gold, Metric.FIRST_RESPONSE)
    assert met.state == "met" and met.elapsed.business == 2 * H  # type: ignore[attr-defined]


def test_a_ticket_opened_friday_1630_before_whit_monday_is_due_on_tuesday(world: World) -> None:
    world.clock.set(berlin(2026, 5, 22, 16, 30))
    ticket = open_ticket(world)
    first = clock_of(world, ticket, Metric.FIRST_RESPONSE)
    assert first.due_at.astimezone(BERLIN) == berlin(2026, 5, 26, 11, 30)  # type: ignore[attr-defined]


def test_pending_pauses_resolution_until_the_customer_replies(world: World) -> None:
    ticket = open_ticket(world)
    world.clock.advance(H)
    world.desk.change_status(
        world.max,
        ticket,
        "pending",
        comment=CommentDraft(body="Welche Version?", visibility=Visibility.PUBLIC),
    )
    world.clock.advance(3 * H)
    paused = clock_of(world, ticket, Metric.RESOLUTION)
    assert paused.state == "paused" and paused.due_at is None  # type: ignore[attr-defined]
    world.desk.add_comment(world.sandra, ticket, "Version 12.", visibility=Visibility.PUBLIC)
    world.clock.advance(2 * H)
    running = clock_of(world, ticket, Metric.RESOLUTION)
    assert running.state == "running"  # type: ignore[attr-defined]
    assert running.elapsed.business == 3 * H  # type: ignore[attr-defined]  # 1 + 2: pending for 3
    sla = world.desk.ticket_sla(world.max, ticket)
    assert sla is not None and sla.agent_wait_time.business == 3 * H


def test_reopening_a_solved_ticket_resumes_resolution_with_the_time_already_run(
    world: World,
) -> None:
    ticket = open_ticket(world)
    world.clock.advance(2 * H)
    world.desk.change_status(world.max, ticket, "solved")
    assert clock_of(world, ticket, Metric.RESOLUTION).state == "met"  # type: ignore[attr-defined]
    world.clock.advance(24 * H)
    world.desk.change_status(world.max, ticket, "open")
    world.clock.advance(H)
    again = clock_of(world, ticket, Metric.RESOLUTION)
    assert again.state == "running" and again.elapsed.business == 3 * H  # type: ignore[attr-defined]


def latest(w: World, ticket_id: UUID, metric: Metric) -> Any:
    """The newest cycle of ``metric`` on the ticket, as an agent reads it."""
    sla = w.desk.ticket_sla(w.max, ticket_id)
    assert sla is not None
    return [c for c in sla.clocks if c.metric is metric][-1]


def test_next_reply_runs_from_the_oldest_unanswered_reply_and_pauses_while_solved(
    world: World,
) -> None:
    ticket = open_ticket(world)  # Monday 09:00
    world.clock.advance(H / 2)
    world.desk.add_comment(world.max, ticket, "Wir schauen nach.", visibility=Visibility.PUBLIC)
    world.clock.advance(H / 2)
    world.desk.add_comment(world.sandra, ticket, "Es eilt.", visibility=Visibility.PUBLIC)
    world.clock.advance(H)
    world.desk.add_comment(world.sandra, ticket, "Gibt es Neues?", visibility=Visibility.PUBLIC)
    asked = latest(world, ticket, Metric.NEXT_REPLY)
    # The follow-up at 11:00 moves nothing: 4 business hours from 10:00.
    assert (asked.started_at, asked.due_at) == (berlin(2026, 5, 18, 10), berlin(2026, 5, 18, 14))
    world.clock.advance(H)
    world.desk.add_comment(world.max, ticket, "Neu gestartet.", visibility=Visibility.PUBLIC)
    assert latest(world, ticket, Metric.NEXT_REPLY).state == "met"
    world.clock.advance(H)
    world.desk.add_comment(world.sandra, ticket, "Wieder weg.", visibility=Visibility.PUBLIC)
    world.clock.advance(H)
    world.desk.change_status(world.max, ticket, "solved")  # 14:00, an hour into cycle 2
    world.clock.advance(24 * H)
    solved = latest(world, ticket, Metric.NEXT_REPLY)
    assert (solved.cycle, solved.state, solved.due_at) == (2, "paused", None)
    world.desk.change_status(world.max, ticket, "open")  # Tuesday 14:00
    reopened = latest(world, ticket, Metric.NEXT_REPLY)
    assert reopened.state == "running" and reopened.elapsed.business == H
    assert reopened.due_at == berlin(2026, 5, 19, 17)


def test_update_clocks_want_a_provider_reply_every_n_hours_and_only_one_pauses_in_pending(
    world: World,
) -> None:
    world.desk.create_sla_policy(
        world.admin,
        name="Bronze",
        conditions=[{"attribute": "fields.sla_level", "values": ["Bronze"]}],
        targets={"normal": Targets(periodic_update=2 * H, pausable_update=2 * H)},
    )
    ticket = open_ticket(world, "Bronze")  # Monday 09:00
    world.clock.advance(H)
    world.desk.add_comment(world.max, ticket, "Wir sind dran.", visibility=Visibility.PUBLIC)
    world.clock.advance(H)
    world.desk.change_status(  # 11:00: a reply, and now waiting on the customer
        world.max,
        ticket,
        "pending",
        comment=CommentDraft(body="Welche Version?", visibility=Visibility.PUBLIC),
    )
    world.clock.advance(3 * H)  # 14:00
    periodic = latest(world, ticket, Metric.PERIODIC_UPDATE)
    pausable = latest(world, ticket, Metric.PAUSABLE_UPDATE)
    assert (periodic.cycle, periodic.breached) == (2, True)
    assert periodic.due_at == berlin(2026, 5, 18, 13)
    assert (pausable.cycle, pausable.state, pausable.breached) == (2, "paused", False)
    world.desk.add_comment(world.sandra, ticket, "Version 12.", visibility=Visibility.PUBLIC)
    world.clock.advance(H)  # 15:00: the customer's reply made it the provider's turn
    pausable = latest(world, ticket, Metric.PAUSABLE_UPDATE)
    assert pausable.state == "running" and pausable.elapsed.business == H
    assert pausable.due_at == berlin(2026, 5, 18, 16)
    world.desk.add_comment(world.max, ticket, "Behoben.", visibility=Visibility.PUBLIC)
    world.desk.change_status(world.max, ticket, "solved")
    world.clock.advance(5 * H)
    for metric in (Metric.PERIODIC_UPDATE, Metric.PAUSABLE_UPDATE):
        done = latest(world, ticket, metric)
        assert (done.cycle, done.state, done.due_at) == (3, "paused", None), metric


def test_raising_the_priority_recomputes_the_due_times_from_the_history(world: World) -> None:
    ticket = open_ticket(world)
    world.clock.advance(2 * H)
    world.desk.update_ticket(world.max, ticket, priority=Priority.URGENT)
    resolution = clock_of(world, ticket, Metric.RESOLUTION)
    assert resolution.due_at == berlin(2026, 5, 18, 13, 0)  # type: ignore[attr-defined]
    first = clock_of(world, ticket, Metric.FIRST_RESPONSE)
    assert first.breached and first.due_at == berlin(2026, 5, 18, 11, 0)  # type: ignore[attr-defined]


def test_a_real_time_target_spans_the_autumn_change_in_real_hours(world: World) -> None:
    world.desk.update_sla_policy(
        world.admin,
        world.gold_id,
        targets={"normal": Targets(resolution=Target(duration=4 * H, business_hours=False))},
    )
    world.clock.set(berlin(2026, 10, 25, 0, 30))
    ticket = open_ticket(world)
    due = clock_of(world, ticket, Metric.RESOLUTION).due_at  # type: ignore[attr-defined]
    assert due.astimezone(BERLIN) == berlin(2026, 10, 25, 3, 30)


def test_on_hold_pauses_nothing_of_the_customers_wait(world: World) -> None:
    ticket = open_ticket(world)
    world.desk.change_status(world.max, ticket, "open")
    world.clock.advance(H)
    world.desk.change_status(world.max, ticket, "vendor")
    world.clock.advance(2 * H)
    sla = world.desk.ticket_sla(world.max, ticket)
    assert sla is not None
    assert sla.requester_wait_time.business == 3 * H and sla.on_hold_time.business == 2 * H
    assert clock_of(world, ticket, Metric.RESOLUTION).state == "running"  # type: ignore[attr-defined]


def test_an_organisations_policy_and_calendar_reach_the_tickets_of_its_children(
    world: World,
) -> None:
    desk, admin = world.desk, world.admin
    holding = desk.create_organisation(admin, name="GlobalTech Holding")
    branch = desk.create_organisation(admin, name="GlobalTech Wien", parent_id=holding.id)
    project = desk.create_project(admin, organisation_id=branch.id, name="Wien Support")
    desk.create_calendar(
        admin,
        name="Holding hours",
        calendar={"zone": "Europe/Berlin", "week": {d: ["10:00-12:00"] for d in WEEKDAYS}},
        organisation_id=holding.id,
    )
    desk.create_sla_policy(
        admin,
        name="Holding",
        position=1,
        conditions=[{"attribute": "organisation", "values": [str(holding.id)]}],
        targets={"normal": {"first_response": 3 * H}},
    )
    ticket = desk.create_ticket(
        world.max,
        project_id=project.id,
        type_id=world.support_type,
        title="Drucker offline",
        fields={"sla_level": "Gold", "affected_systems": ["Webserver"]},
    ).id
    sla = desk.ticket_sla(world.max, ticket)
    assert sla is not None and (sla.policy_name, sla.calendar_name) == ("Holding", "Holding hours")
    # Opened Monday 09:00: two business hours that day (10-12), the third on Tuesday.
    first = clock_of(world, ticket, Metric.FIRST_RESPONSE)
    assert first.due_at == berlin(2026, 5, 19, 11, 0)  # type: ignore[attr-defined]
    world.clock.advance(2 * H)
    desk.add_comment(world.max, ticket, "Wir sind dran.", visibility=Visibility.PUBLIC)
    met = clock_of(world, ticket, Metric.FIRST_RESPONSE)
    assert met.state == "met" and met.elapsed.business == H  # type: ignore[attr-defined]
    # GlobalTech's own tickets are no child of the holding: Gold, on the default calendar.
    gold = desk.ticket_sla(world.max, open_ticket(world))
    assert gold is not None and (gold.policy_name, gold.calendar_name) == ("Gold", "Berlin office")


def test_guests_see_no_clocks_unless_the_setting_says_so(world: World) -> None:
    ticket = open_ticket(world)
    with pytest.raises(PermissionDenied):
        world.desk.ticket_sla(world.sandra, ticket)
    world.desk.set_setting(
        world.admin, "sla.guests_see_clocks", True, organisation_id=world.seed.globaltech.id
    )
    assert world.desk.ticket_sla(world.sandra, ticket) is not None


def test_the_sweep_announces_each_warning_and_breach_once_internally(world: World) -> None:
    ticket = open_ticket(world)
    world.desk.assign(world.max, ticket, world.max.person_id)
    world.clock.advance(5 * H)
    first = world.desk.sweep_sla(world.admin.tenant_id)
    assert (first.warnings, first.breaches) == (2, 1)  # first response: 75 %, 90 %, breach
    again = world.desk.sweep_sla(world.admin.tenant_id)
    assert (again.warnings, again.breaches) == (0, 0)
    reached = [
        e.event
        for e in world.desk.timeline(world.max, ticket)
        if isinstance(e.event, SlaLevelReached)
    ]
    assert {(e.metric, e.level, e.percent) for e in reached} >= {
        ("first_response", "warning", 75),
        ("first_response", "warning", 90),
        ("first_response", "breach", None),
    }
    assert all(e.visibility is Visibility.INTERNAL for e in reached)
    guest = world.desk.timeline(world.sandra, ticket)
    assert not any(isinstance(e.event, SlaLevelReached) for e in guest)


def test_a_sweep_batch_that_loses_a_race_runs_again_alone_and_the_report_keeps_the_rest(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    tickets = [open_ticket(world) for _ in range(3)]
    world.clock.advance(5 * H)
    real = sla_sweep._sweep_ticket
    calls = 0

    def loses_once(s: Any, clocks: Any) -> sla_sweep.SweepReport:
        nonlocal calls
        calls += 1
        report = real(s, clocks)
        if calls == 2:  # the second batch wrote its levels, then lost to another writer
            raise Conflict("ticket", clocks.ticket_id, 1)
        return report

    monkeypatch.setattr(sla_sweep, "_sweep_ticket", loses_once)
    report = world.desk.sweep_sla(world.admin.tenant_id, batch=1)
    assert (report.tickets, report.breaches) == (3, 3)
    for ticket in tickets:  # the lost batch's writes were rolled back, then made once
        breaches = [
            e.event
            for e in world.desk.timeline(world.max, ticket)
            if isinstance(e.event, SlaLevelReached) and e.event.level == "breach"
        ]
        assert len(breaches) == 1


def test_bad_configuration_is_refused_by_name_and_writes_nothing(world: World) -> None:
    before = (world.desk.list_calendars(world.admin), world.desk.list_sla_policies(world.admin))
    cases = [
        ({"zone": "Mars/Olympus", "week": {"mon": ["08:00-17:00"]}}, "calendar.zone"),
        ({"zone": "UTC", "week": {"mon": ["08:00-12:00", "11:00-13:00"]}}, "calendar.week.mon"),
        ({"zone": "UTC", "week": {"mon": ["12:00-08:00-09:00"]}}, "calendar.week.mon"),
        ({"zone": "UTC", "week": {"mon": ["10:00-10:00"]}}, "calendar.week.mon"),
        ({"zone": "UTC", "week": {}}, "calendar.week"),
    ]
    for calendar, field in cases:
        with pytest.raises(ValidationError) as caught:
            world.desk.create_calendar(world.admin, name="x", calendar=calendar)
        assert any(f.startswith(field) for f in caught.value.fields), caught.value.fields
    policies = [
        ({"normal": {"first_response": timedelta(0)}}, [], "targets.normal.duration"),
        ({"normal": {"first_response": -H}}, [], "targets.normal.duration"),
        (
            {"normal": {"first_response": H}},
            [{"attribute": "fields.no_such_field", "values": ["x"]}],
            "conditions[0].attribute",
        ),
    ]
    for targets, conditions, field in policies:
        with pytest.raises(ValidationError) as caught:
            world.desk.create_sla_policy(
                world.admin, name="Bad", targets=targets, conditions=conditions
            )
        assert field in caught.value.fields, caught.value.fields
    after = (world.desk.list_calendars(world.admin), world.desk.list_sla_policies(world.admin))
    assert after == before


def test_only_those_who_manage_settings_configure_slas(world: World) -> None:
    with pytest.raises(PermissionDenied):
        world.desk.create_sla_policy(world.max, name="Mine", targets={"normal": {"resolution": H}})
    with pytest.raises(PermissionDenied):
        world.desk.list_sla_policies(world.sandra)
    assert world.seed.max.role is Role.AGENT


def test_a_removed_policy_stops_the_clocks_and_nothing_fires_for_them(world: World) -> None:
    ticket = open_ticket(world)
    world.desk.delete_sla_policy(world.admin, world.gold_id)
    world.clock.advance(10 * H)
    report = world.desk.sweep_sla(world.admin.tenant_id)
    assert (report.warnings, report.breaches, report.replayed) == (0, 0, 1)
    assert world.desk.ticket_sla(world.max, ticket) is None
    assert world.desk.get_ticket(world.max, ticket).sla_due_at is None


def test_a_changed_policy_is_replayed_by_the_next_sweep(world: World) -> None:
    ticket = open_ticket(world)
    world.clock.advance(H)
    world.desk.update_sla_policy(
        world.admin, world.gold_id, targets={"normal": {"first_response": 8 * H}}
    )
    stale = world.desk.ticket_sla(world.max, ticket)
    assert stale is not None and not stale.current
    report = world.desk.sweep_sla(world.admin.tenant_id)
    assert report.replayed == 1
    first = clock_of(world, ticket, Metric.FIRST_RESPONSE)
    assert first.due_at == berlin(2026, 5, 18, 17, 0)  # type: ignore[attr-defined]  # 9:00 + 8 h


def test_a_breach_tells_the_group_at_once_and_raises_the_priority_only_in_business_hours(
    world: World,
) -> None:
    group = world.desk.create_group(world.admin, name="Second line", member_ids=[world.seed.tom.id])
    world.desk.update_sla_policy(
        world.admin,
        world.gold_id,
        warnings=[],
        escalations=[
            {"on": "breach", "action": "notify", "group_id": group.id},
            {
                "on": "breach",
                "action": "raise_priority",
                "priority": "urgent",
                "business_hours_only": True,
            },
        ],
    )
    world.clock.set(berlin(2026, 5, 22, 16, 0))  # Friday 16:00; first response due Tue 11:00
    ticket = open_ticket(world)
    world.clock.set(berlin(2026, 5, 23, 3, 0))  # Saturday 03:00: closed
    assert world.desk.sweep_sla(world.admin.tenant_id).breaches == 0
    world.clock.set(berlin(2026, 5, 26, 11, 30))  # Tuesday 11:30: breached at 11:00, open
    report = world.desk.sweep_sla(world.admin.tenant_id)
    assert (report.breaches, report.actions, report.deferred) == (1, 2, 0)
    assert world.desk.get_ticket(world.max, ticket).priority is Priority.URGENT
    described = [e.description.text for e in world.desk.timeline(world.max, ticket)]
    assert "SLA: first response breached its target" in described
    assert "SLA escalated the ticket to Second line" in described


def raise_priority_in_business_hours_on_breach(w: World) -> None:
    """Gold: first response within an hour of real time, no warnings; a breach raises the
    priority, but only in business hours."""
    w.desk.update_sla_policy(
        w.admin,
        w.gold_id,
        warnings=[],
        targets={"normal": {"first_response": Target(duration=H, business_hours=False)}},
        escalations=[
            {
                "on": "breach",
                "action": "raise_priority",
                "priority": "high",
                "business_hours_only": True,
            }
        ],
    )


def test_an_escalation_due_at_night_waits_for_the_next_opening(world: World) -> None:
    raise_priority_in_business_hours_on_breach(world)
    world.clock.set(berlin(2026, 5, 23, 1, 0))  # Saturday 01:00
    ticket = open_ticket(world)
    world.clock.set(berlin(2026, 5, 23, 3, 0))  # breached at 02:00 (real time)
    report = world.desk.sweep_sla(world.admin.tenant_id)
    assert (report.breaches, report.actions, report.deferred) == (1, 0, 1)
    assert world.desk.get_ticket(world.max, ticket).priority is Priority.NORMAL
    world.clock.set(berlin(2026, 5, 26, 7, 59))  # Whit Monday passed; before Tuesday's opening
    assert world.desk.sweep_sla(world.admin.tenant_id).actions == 0
    world.clock.set(berlin(2026, 5, 26, 8, 0))
    assert world.desk.sweep_sla(world.admin.tenant_id).actions == 1
    assert world.desk.get_ticket(world.max, ticket).priority is Priority.HIGH
    assert world.desk.sweep_sla(world.admin.tenant_id).actions == 0  # once


def test_agents_list_tickets_by_sla_due_time_and_guests_may_not(world: World) -> None:
    late = open_ticket(world, "Silver")  # first response due after 8 h
    world.clock.advance(H)
    soon = open_ticket(world, "Gold")  # due after 4 h, from an hour later: earlier
    open_ticket(world, "Bronze")  # no policy: not in the list
    page = world.desk.list_tickets(world.max, sort="sla_due")
    assert [t.id for t in page.items] == [soon, late]
    due = world.desk.list_tickets(world.max, sla_due_before=berlin(2026, 5, 18, 14, 0))
    assert [t.id for t in due.items] == [soon]
    summaries = world.desk.sla_summaries(world.max, [soon, late])
    assert summaries[soon].metric is Metric.FIRST_RESPONSE and not summaries[soon].breached
    with pytest.raises(PermissionDenied):
        world.desk.list_tickets(world.sandra, sort="sla_due")
    assert world.desk.sla_summaries(world.sandra, [soon]) == {}


def test_a_waiting_escalation_is_dropped_when_the_clock_is_met_before_it_runs(
    world: World,
) -> None:
    raise_priority_in_business_hours_on_breach(world)
    world.clock.set(berlin(2026, 5, 23, 1, 0))
    ticket = open_ticket(world)
    world.clock.set(berlin(2026, 5, 23, 3, 0))
    assert world.desk.sweep_sla(world.admin.tenant_id).deferred == 1
    world.desk.add_comment(world.max, ticket, "Wir sind dran.", visibility=Visibility.PUBLIC)
    world.clock.set(berlin(2026, 5, 26, 8, 0))
    assert world.desk.sweep_sla(world.admin.tenant_id).actions == 0
    assert world.desk.get_ticket(world.max, ticket).priority is Priority.NORMAL
