"""The relational schema of ticketkit: its own ``MetaData`` so hosts can migrate it alone,
one module of tables per capability.

Every table leads its primary key and every index with ``tenant_id``; references between
tables are composite ``(tenant_id, ...)`` foreign keys, so no row can point across tenants.
Foreign keys are ``DEFERRABLE INITIALLY DEFERRED``: the storage adapter buffers inserts and
flushes one table at a time, and the database checks every reference at commit.
"""

from ticketkit.adapters.sqlalchemy.tables.access import grants, invitations
from ticketkit.adapters.sqlalchemy.tables.base import NAMING_CONVENTION, metadata
from ticketkit.adapters.sqlalchemy.tables.delivery import notifications
from ticketkit.adapters.sqlalchemy.tables.directory import (
    memberships,
    organisations,
    persons,
    projects,
    tenants,
    ticket_types,
)
from ticketkit.adapters.sqlalchemy.tables.groups import (
    group_members,
    group_projects,
    groups,
    ticket_followers,
)
from ticketkit.adapters.sqlalchemy.tables.settings import (
    organisation_settings,
    tenant_settings,
)
from ticketkit.adapters.sqlalchemy.tables.sla import (
    sla_actions,
    sla_calendars,
    sla_clocks,
    sla_firings,
    sla_policies,
)
from ticketkit.adapters.sqlalchemy.tables.ticketing import (
    comments,
    events,
    ticket_counters,
    tickets,
)

__all__ = [
    "NAMING_CONVENTION",
    "comments",
    "events",
    "grants",
    "group_members",
    "group_projects",
    "groups",
    "invitations",
    "memberships",
    "metadata",
    "notifications",
    "organisation_settings",
    "organisations",
    "persons",
    "projects",
    "sla_actions",
    "sla_calendars",
    "sla_clocks",
    "sla_firings",
    "sla_policies",
    "tenant_settings",
    "tenants",
    "ticket_counters",
    "ticket_followers",
    "ticket_types",
    "tickets",
]
