"""What SLA storage keeps: named calendars, each ticket's clocks with the instants a sweep
looks for, the once-only firings, and escalation actions waiting for business hours."""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

import attrs

from ticketkit.domain.calendars import Calendar
from ticketkit.domain.sla.clocks import ClockState
from ticketkit.domain.sla.policies import EscalationRule
from ticketkit.domain.text import MAX_LABEL, check_text
from ticketkit.errors import ValidationError


@attrs.frozen(kw_only=True)
class SlaCalendar:
    """A tenant's named business-hour calendar. It belongs to the tenant (``is_default``:
    the one used when nothing closer is set), to an organisation (its tickets and its
    children's count on it), or only to the policies that name it."""

    tenant_id: UUID
    id: UUID
    name: str
    calendar: Calendar
    organisation_id: UUID | None = None
    is_default: bool = False

    def __attrs_post_init__(self) -> None:
        problem = (
            check_text(self.name, max_length=MAX_LABEL)
            if isinstance(self.name, str)
            else "must be text"
        )
        if problem:
            raise ValidationError.single("name", problem)
        if not isinstance(self.calendar, Calendar):
            raise ValidationError.single("calendar", "must be a Calendar")
        if self.is_default and self.organisation_id is not None:
            raise ValidationError.single(
                "is_default", "an organisation's calendar cannot be the tenant's default"
            )


@attrs.frozen(kw_only=True)
class TicketClocks:
    """One ticket's SLA clocks as stored, with the policy and calendar they ran on.

    ``fired`` holds the keys of the levels already announced. ``next_firing_at`` is when a
    sweep must look at the ticket again and ``next_due_at`` the earliest breach instant of
    a running clock (lists sort by it); both are None when nothing can fire. ``stale``
    marks clocks whose policy or calendar changed since they were computed: a sweep
    replays them from the history before anything fires."""

    tenant_id: UUID
    ticket_id: UUID
    policy_id: UUID
    calendar_id: UUID | None
    state: ClockState
    fired: frozenset[str] = frozenset()
    next_firing_at: datetime | None = None
    next_due_at: datetime | None = None
    stale: bool = False


class ActionState(enum.StrEnum):
    WAITING = "waiting"
    DONE = "done"
    #: Not carried out: the ticket's SLA was removed or changed before it was due.
    DROPPED = "dropped"


@attrs.frozen(kw_only=True)
class DeferredAction:
    """An escalation rule's action waiting for the calendar's next opening (a breach at
    03:00 on a Sunday reaches the second-level team on Monday at 08:00)."""

    tenant_id: UUID
    id: UUID
    ticket_id: UUID
    #: The firing that triggered it, ``<metric>:<cycle>:<level>[:<percent>]``.
    firing_key: str
    rule: EscalationRule
    run_at: datetime
    state: ActionState = ActionState.WAITING
