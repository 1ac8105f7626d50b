"""Everything a tenant has stored, as plain data: compare before and after a failed call."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ticketkit.domain.settings import SETTINGS
from ticketkit.policy import TRUE
from ticketkit.ports import OrderBy, Storage


def snapshot(storage: Storage, tenant_id: UUID) -> dict[str, Any]:
    with storage.unit_of_work(tenant_id) as uow:
        tickets = uow.tickets.query(TRUE, [OrderBy("number")], 100_000)
        return {
            "tickets": [
                (t.id, t.number, t.version, t.title, t.status, dict(t.fields), t.assignee_id)
                for t in tickets
            ],
            "comments": {
                t.id: [c.id for c in uow.comments.for_ticket(t.id, TRUE)] for t in tickets
            },
            "events": {t.id: [e.id for e in uow.events.for_ticket(t.id, TRUE)] for t in tickets},
            "outbox": sorted(str(n.id) for n in uow.outbox.list(TRUE, 100_000)),
            "organisations": sorted(str(o.id) for o in uow.organisations.list(TRUE)),
            "persons": sorted(str(p.id) for p in uow.persons.list(TRUE)),
            "invitations": sorted(
                (str(i.id), str(i.closed))
                for p in uow.persons.list(TRUE)
                for i in uow.invitations.of_person(p.id)
            ),
            "projects": sorted((str(p.id), p.number) for p in uow.projects.list(TRUE)),
            "grants": sorted(
                (str(g.id), g.state.value, str(g.decided_by), str(g.decided_at))
                for g in uow.grants.list(TRUE)
            ),
            "types": sorted(str(t.id) for t in uow.ticket_types.list(TRUE)),
            "settings": {
                s.name: (uow.settings.tenant_value(s.name), uow.settings.overrides(s.name))
                for s in SETTINGS
            },
            "calendars": sorted(repr(c) for c in uow.calendars.all()),
            "sla_policies": [repr(p) for p in uow.sla_policies.all()],
            "clocks": {
                str(t.id): repr(uow.clocks.get(t.id)) + repr(uow.clocks.firings(t.id))
                for t in tickets
            },
            "sla_actions": {str(t.id): repr(uow.sla_actions.of_ticket(t.id)) for t in tickets},
            "next_numbers": {
                str(p.id): _peek_number(storage, tenant_id, p.id) for p in uow.projects.list(TRUE)
            },
        }


def _peek_number(storage: Storage, tenant_id: UUID, project_id: UUID) -> int:
    """The number the project's next ticket would get (taken in a unit of work that is
    rolled back)."""
    with storage.unit_of_work(tenant_id) as uow:
        number = uow.tickets.next_number(project_id)
        uow.rollback()
        return number
