"""SLA's tables: the tenant's calendars and policies (each in its JSON storage form), each
ticket's clocks with the instants a sweep and a list look for, the once-only firings, and
escalation actions waiting for business hours.

A ticket's clocks, firings and actions go with the ticket (``ON DELETE CASCADE``). Clocks
name their policy and calendar without a foreign key: a removed policy leaves its clocks
behind, marked stale, for the next sweep to replay onto whatever policy applies then.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    text,
)

from ticketkit.adapters.sqlalchemy.tables.base import fk, ids, metadata, name, tenant_fk
from ticketkit.adapters.sqlalchemy.types import Id, UTCDateTime, json_type, text_type


def ticket_fk() -> ForeignKeyConstraint:
    """A reference to the row's ticket, ``(tenant_id, ticket_id)``; deleting the ticket
    deletes the row."""
    return ForeignKeyConstraint(
        ["tenant_id", "ticket_id"],
        [f"{name('tickets')}.tenant_id", f"{name('tickets')}.id"],
        ondelete="CASCADE",
        deferrable=True,
        initially="DEFERRED",
    )


sla_calendars = Table(
    name("sla_calendars"),
    metadata,
    *ids(),
    Column("name", text_type(), nullable=False),
    #: The organisation whose tickets count on it (NULL: the tenant's, or only policies').
    Column("organisation_id", Id(), nullable=True),
    Column("is_default", Boolean(), nullable=False),
    #: ``calendar_to_dict`` of the calendar.
    Column("definition", json_type(), nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    tenant_fk(),
    fk(name("organisations"), "organisation_id"),
    # At most one default calendar per tenant.
    Index(
        f"ix_{name('sla_calendars')}_default",
        "tenant_id",
        unique=True,
        sqlite_where=text("is_default"),
        postgresql_where=text("is_default"),
    ),
)

sla_policies = Table(
    name("sla_policies"),
    metadata,
    *ids(),
    Column("name", text_type(), nullable=False),
    Column("position", Integer(), nullable=False),
    #: ``policy_to_dict`` of the policy (name and position included).
    Column("definition", json_type(), nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    tenant_fk(),
)

sla_clocks = Table(
    name("sla_clocks"),
    metadata,
    Column("tenant_id", Id(), nullable=False),
    Column("ticket_id", Id(), nullable=False),
    Column("policy_id", Id(), nullable=False),
    Column("calendar_id", Id(), nullable=True),
    #: ``state_to_dict`` of the ``ClockState``.
    Column("state", json_type(), nullable=False),
    #: The keys of the levels already announced, sorted.
    Column("fired", json_type(), nullable=False),
    Column("next_firing_at", UTCDateTime(), nullable=True),
    Column("next_due_at", UTCDateTime(), nullable=True),
    Column("stale", Boolean(), nullable=False),
    PrimaryKeyConstraint("tenant_id", "ticket_id"),
    ticket_fk(),
    # What a sweep reads, earliest first; what lists sort by. ``ticket_id`` breaks ties.
    Index(None, "tenant_id", "next_firing_at", "ticket_id"),
    Index(None, "tenant_id", "next_due_at", "ticket_id"),
    # The clocks a changed policy or calendar marks stale.
    Index(None, "tenant_id", "policy_id"),
    Index(None, "tenant_id", "calendar_id"),
)

sla_firings = Table(
    name("sla_firings"),
    metadata,
    Column("tenant_id", Id(), nullable=False),
    Column("ticket_id", Id(), nullable=False),
    #: ``<metric>:<cycle>:<level>[:<percent>]``: the key makes a firing happen once.
    Column("key", text_type(), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("tenant_id", "ticket_id", "key"),
    ticket_fk(),
)

sla_actions = Table(
    name("sla_actions"),
    metadata,
    *ids(),
    Column("ticket_id", Id(), nullable=False),
    Column("firing_key", text_type(), nullable=False),
    #: The escalation rule, as in the policy's storage form.
    Column("rule", json_type(), nullable=False),
    Column("run_at", UTCDateTime(), nullable=False),
    Column("state", text_type(), nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    ticket_fk(),
    # The waiting actions a sweep runs, earliest first (done ones leave the index).
    Index(
        f"ix_{name('sla_actions')}_waiting",
        "tenant_id",
        "run_at",
        "id",
        sqlite_where=text("state = 'waiting'"),
        postgresql_where=text("state = 'waiting'"),
    ),
    # A ticket's actions, by when they run.
    Index(None, "tenant_id", "ticket_id", "run_at", "id"),
)

__all__ = ["sla_actions", "sla_calendars", "sla_clocks", "sla_firings", "sla_policies"]
