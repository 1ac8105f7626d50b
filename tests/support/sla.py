"""Raw SLA records for storage-level tests: calendars, policies, a ticket's clocks after a
real history, deferred actions, and committed tickets for them to refer to."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from uuid import UUID

from tests.support.records import NOW, Seeded, ticket
from ticketkit import Calendar
from ticketkit.domain import Priority, StatusCategory
from ticketkit.domain.sla import (
    ClockRules,
    ClockState,
    Condition,
    EscalationRule,
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
    start,
)
from ticketkit.domain.sla.records import ActionState, DeferredAction, SlaCalendar, TicketClocks
from ticketkit.ports import Storage

H = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
BERLIN = Calendar.create(
    "Europe/Berlin",
    {"mon-fri": ["08:00-12:00", "13:00-17:00"], "sat": "22:00-02:00"},
    holiday_regions=["DE-BY"],
    holidays=[date(2026, 12, 31)],
    special_days={date(2026, 12, 24): "09:00-12:00", date(2026, 5, 30): []},
)


def calendar(
    s: Seeded,
    name: str,
    *,
    is_default: bool = False,
    organisation_id: UUID | None = None,
    definition: Calendar = BERLIN,
) -> SlaCalendar:
    return SlaCalendar(
        tenant_id=s.tenant,
        id=uuid.uuid4(),
        name=name,
        calendar=definition,
        organisation_id=organisation_id,
        is_default=is_default,
    )


def policy(s: Seeded, name: str = "Gold", position: int = 10, **kw: object) -> SlaPolicy:
    values: dict[str, object] = {
        "tenant_id": s.tenant,
        "id": uuid.uuid4(),
        "name": name,
        "position": position,
        "conditions": [
            Condition(attribute="fields.sla_level", values=["Gold"]),
            Condition(attribute="organisation", values=[s.org]),
        ],
        "targets": {
            "normal": Targets(first_response=4 * H, resolution=16 * H),
            "urgent": Targets(
                first_response=Target(duration=30 * MINUTE, business_hours=False),
                next_reply=H,
                resolution=4 * H,
                periodic_update=2 * H,
            ),
        },
        "warnings": (50, 90),
        "escalations": [
            EscalationRule(on="warning", percent=90, action="notify", group_id=uuid.uuid4()),
            EscalationRule(
                on="breach",
                metric="resolution",
                action="raise_priority",
                priority="urgent",
                business_hours_only=True,
            ),
        ],
    }
    values.update(kw)
    return SlaPolicy(**values)  # type: ignore[arg-type]


def clock_state(facts: int = 5) -> ClockState:
    """A ticket's clocks after the first ``facts`` of a short history: answered, asked
    again, pending, raised to urgent, reopened (new cycles of the reply metrics, a
    real-time target, warnings reached)."""
    rules = ClockRules.of(policy(Seeded(*(uuid.uuid4() for _ in range(5)))), BERLIN)
    at = datetime(2026, 5, 22, 7, 0, tzinfo=NOW.tzinfo)
    history: list[Fact] = [
        Replied(at=at + 3 * H, side=Side.PROVIDER),
        Replied(at=at + 4 * H, side=Side.REQUESTER),
        StatusMoved(at=at + 5 * H, category=StatusCategory.PENDING),
        PriorityChanged(at=at + 6 * H, priority=Priority.URGENT),
        StatusMoved(at=at + 7 * H, category=StatusCategory.OPEN),
    ]
    state = start(Opened(at=at, priority=Priority.NORMAL, category=StatusCategory.NEW), rules)
    for fact in history[:facts]:
        state = apply(state, fact, rules)
    return state


STATE = clock_state()


def clocks(
    s: Seeded,
    ticket_id: UUID,
    *,
    policy_id: UUID | None = None,
    calendar_id: UUID | None = None,
    next_firing_at: datetime | None = None,
    next_due_at: datetime | None = None,
    **kw: object,
) -> TicketClocks:
    return TicketClocks(
        tenant_id=s.tenant,
        ticket_id=ticket_id,
        policy_id=policy_id or uuid.uuid4(),
        calendar_id=calendar_id,
        state=STATE,
        next_firing_at=next_firing_at,
        next_due_at=next_due_at,
        **kw,  # type: ignore[arg-type]
    )


def tickets(storage: Storage, s: Seeded, count: int) -> list[UUID]:
    """``count`` committed tickets of the seeded tenant (clocks refer to their ticket)."""
    made = [ticket(s, n) for n in range(1, count + 1)]
    with storage.unit_of_work(s.tenant) as uow:
        for t in made:
            uow.tickets.add(t)
        uow.commit()
    return [t.id for t in made]


def action(
    s: Seeded, ticket_id: UUID, run_at: datetime, state: ActionState = ActionState.WAITING
) -> DeferredAction:
    return DeferredAction(
        tenant_id=s.tenant,
        id=uuid.uuid4(),
        ticket_id=ticket_id,
        firing_key="resolution:1:breach",
        rule=EscalationRule(
            on="breach", action="reassign", person_id=s.person, business_hours_only=True
        ),
        run_at=run_at,
        state=state,
    )
