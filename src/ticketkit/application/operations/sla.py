"""The operations of service levels (``application/sla.py``): calendars, policies and a
ticket's clocks. The sweep is ``HelpDesk.sweep_sla`` (no acting person)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

from ticketkit.application import sla
from ticketkit.application.operations.base import READ, WRITE, Runner
from ticketkit.application.sla import SlaSummary, SlaView
from ticketkit.application.views import UNSET, Unset
from ticketkit.domain.calendars import Calendar
from ticketkit.domain.model import Actor
from ticketkit.domain.sla import Condition, EscalationRule, SlaPolicy, Targets
from ticketkit.domain.sla.records import SlaCalendar
from ticketkit.domain.values import Priority


class SlaOperations(Runner):
    """Business-hour calendars, SLA policies, and the clocks of a ticket."""

    def create_calendar(
        self,
        actor: Actor,
        *,
        name: str,
        calendar: Calendar | Mapping[str, Any],
        organisation_id: UUID | None = None,
        is_default: bool = False,
    ) -> SlaCalendar:
        """Add a named business-hour calendar (those who manage settings): the tenant's
        default, an organisation's, or one for policies to name."""
        return self._run(
            actor,
            WRITE,
            sla.create_calendar,
            name=name,
            calendar=calendar,
            organisation_id=organisation_id,
            is_default=is_default,
        )

    def update_calendar(
        self,
        actor: Actor,
        calendar_id: UUID,
        *,
        name: str | None = None,
        calendar: Calendar | Mapping[str, Any] | None = None,
        is_default: bool | None = None,
    ) -> SlaCalendar:
        """Rename a calendar, change its hours or make it the default; the clocks counted
        on it are replayed by the next sweep."""
        return self._run(
            actor,
            WRITE,
            sla.update_calendar,
            calendar_id,
            name=name,
            calendar=calendar,
            is_default=is_default,
        )

    def list_calendars(self, actor: Actor) -> list[SlaCalendar]:
        """The tenant's calendars, by name (staff)."""
        return self._run(actor, READ, sla.list_calendars)

    def create_sla_policy(
        self,
        actor: Actor,
        *,
        name: str,
        targets: Mapping[Priority | str, Targets | Mapping[str, Any]],
        conditions: Iterable[Condition | Mapping[str, Any]] = (),
        calendar_id: UUID | None = None,
        warnings: Iterable[int] = (75, 90),
        escalations: Iterable[EscalationRule | Mapping[str, Any]] = (),
        position: int | None = None,
    ) -> SlaPolicy:
        """Add an SLA policy (those who manage settings), tried after the existing ones
        unless ``position`` says otherwise."""
        return self._run(
            actor,
            WRITE,
            sla.create_sla_policy,
            name=name,
            targets=targets,
            conditions=conditions,
            calendar_id=calendar_id,
            warnings=warnings,
            escalations=escalations,
            position=position,
        )

    def update_sla_policy(
        self,
        actor: Actor,
        policy_id: UUID,
        *,
        name: str | None = None,
        targets: Mapping[Priority | str, Targets | Mapping[str, Any]] | None = None,
        conditions: Iterable[Condition | Mapping[str, Any]] | None = None,
        calendar_id: UUID | Unset | None = UNSET,
        warnings: Iterable[int] | None = None,
        escalations: Iterable[EscalationRule | Mapping[str, Any]] | None = None,
        position: int | None = None,
    ) -> SlaPolicy:
        """Change an SLA policy; parts left out stay. Clocks are replayed by the next
        sweep."""
        return self._run(
            actor,
            WRITE,
            sla.update_sla_policy,
            policy_id,
            name=name,
            targets=targets,
            conditions=conditions,
            calendar_id=calendar_id,
            warnings=warnings,
            escalations=escalations,
            position=position,
        )

    def delete_sla_policy(self, actor: Actor, policy_id: UUID) -> None:
        """Remove an SLA policy; its tickets are re-evaluated by the next sweep."""
        return self._run(actor, WRITE, sla.delete_sla_policy, policy_id)

    def list_sla_policies(self, actor: Actor) -> list[SlaPolicy]:
        """The tenant's SLA policies in the order they are tried (staff)."""
        return self._run(actor, READ, sla.list_sla_policies)

    def sla_summaries(self, actor: Actor, ticket_ids: Iterable[UUID]) -> dict[UUID, SlaSummary]:
        """For a list page (at most 200 tickets): each ticket's running metric due first,
        its due time, the time left and whether it breached, in one read."""
        return self._run(actor, READ, sla.sla_summaries, ticket_ids)

    def ticket_sla(self, actor: Actor, ticket_id: UUID) -> SlaView | None:
        """A ticket's SLA clocks as of now (None: no policy covers it): staff who see its
        internal work; customers where ``sla.guests_see_clocks`` is on."""
        return self._run(actor, READ, sla.ticket_sla, ticket_id)
