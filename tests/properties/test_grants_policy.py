"""Grants in the one policy: random grants (every state, scopes, expiries in the past, at the
clock's very instant, just after it, in other time zones) meet a world of tickets with
public and internal comments; for every person and every ticket and comment, the in-memory
decision (``Access.reads``) equals the SQL filter's answer (or the memory adapter's, which
evaluates the same predicate), and both equal a reference model written here without the
policy: own organisation's projects plus those of active grants with ``now < expires_at``.
An expired, revoked, declined or unanswered grant gives nothing; no grantee sees another
organisation's internal comment, nor billing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.world import build_world
from ticketkit import HelpDesk, ManualClock, OrganisationKind, Role
from ticketkit.domain import Grant, GrantScope, GrantState, Person, Visibility
from ticketkit.policy import TRUE
from ticketkit.ports import OrderBy, Storage

ZONES: list[tzinfo] = [
    UTC,
    timezone(timedelta(hours=2)),
    timezone(timedelta(hours=-5, minutes=-30)),
    ZoneInfo("Europe/Berlin"),
]
#: Expiry relative to the clock's instant: None (none), in the past, exactly now, after.
OFFSETS = [
    None,
    timedelta(hours=-2),
    timedelta(microseconds=-1),
    timedelta(0),
    timedelta(microseconds=1),
    timedelta(hours=2),
]
GRANTEES = ["theo", "tina", "partner", "globex", "acme", "gina"]
PROJECTS = ["acme_project", "globex_project", "internal_project"]

grant_specs = st.lists(
    st.tuples(
        st.sampled_from(PROJECTS),
        st.sampled_from(GRANTEES),
        st.sampled_from(list(GrantState)),
        st.frozensets(st.sampled_from(list(GrantScope)), min_size=1),
        st.sampled_from(OFFSETS),
        st.sampled_from(ZONES),
    ),
    max_size=8,
)


def play_and_check(storage: Storage, specs: list[tuple[Any, ...]]) -> None:
    clock = ManualClock(datetime(2026, 5, 22, 12, 0, tzinfo=UTC))
    desk = HelpDesk(storage, clock=clock)
    w = build_world(desk, clock, name=f"T{uuid.uuid4().hex[:6]}")
    a = w.admin.actor
    partner = desk.create_organisation(a, name="Webwerk", kind=OrganisationKind.PARTNER)
    theo = desk.add_person(
        a, organisation_id=partner.id, name="Theo", email="theo@w.example", role="customer_admin"
    )
    tina = desk.add_person(
        a, organisation_id=partner.id, name="Tina", email="tina@w.example", role=Role.GUEST
    )
    for project in (w.acme_project, w.globex_project, w.internal_project):
        ticket = desk.create_ticket(
            a,
            project_id=project.id,
            type_id=w.incident.id,
            title=f"In {project.name}",
            fields={"sla_level": "Gold"},
            requester_id=w.acme_guest.id if project is w.acme_project else None,
        )
        desk.add_comment(w.agent.actor, ticket.id, "public", visibility="public")
        desk.add_comment(w.agent.actor, ticket.id, "internal", visibility="internal")
    now = clock.now()
    people: dict[str, Person] = {
        "theo": theo,
        "tina": tina,
        "gina": w.acme_guest,
    }
    orgs = {"partner": partner.id, "globex": w.globex.id, "acme": w.acme.id}
    grants: list[Grant] = []
    with storage.unit_of_work(w.provider.tenant_id) as uow:
        for i, (project_name, grantee, state, scope, offset, zone) in enumerate(specs):
            project = getattr(w, project_name)
            grant = Grant(
                tenant_id=w.provider.tenant_id,
                id=uuid.UUID(int=(uuid.uuid4().int & ~0xFF) | i),
                project_id=project.id,
                organisation_id=project.organisation_id,
                grantee_person_id=people[grantee].id if grantee in people else None,
                grantee_organisation_id=orgs.get(grantee),
                scope=scope,
                expires_at=(now + offset).astimezone(zone) if offset is not None else None,
                state=state,
                created_by=w.admin.id,
                created_at=now - timedelta(days=1),
            )
            uow.grants.add(grant)
            grants.append(grant)
        uow.commit()

    everyone = [*w.everyone, theo, tina]
    projects = {p.id: p for p in (w.acme_project, w.globex_project, w.internal_project)}
    policy = desk.policy
    with storage.unit_of_work(w.provider.tenant_id) as uow:
        tickets = uow.tickets.query(TRUE, [OrderBy("number")], 1000)
        comments = {t.id: uow.comments.for_ticket(t.id, TRUE) for t in tickets}
        # Resolved as an operation resolves them: on SQL, together with whether each holds
        # a grant, and then only the holders' grants are read.
        loaded = uow.access.people([p.id for p in everyone])
        for person in everyone:
            access = policy.access(loaded[person.id], uow.access, now)
            # The reference model, written without the policy.
            if person.role.is_staff:
                model = {t.id for t in tickets}
            else:
                readable = {
                    p for p, pr in projects.items() if pr.organisation_id == person.organisation_id
                }
                for g in grants:
                    expired = g.expires_at is not None and not now < g.expires_at
                    mine = g.grantee_person_id == person.id or (
                        g.grantee_organisation_id == person.organisation_id
                    )
                    if g.state is GrantState.ACTIVE and not expired and mine:
                        readable.add(g.project_id)
                model = {t.id for t in tickets if t.project_id in readable}
            in_memory = {t.id for t in tickets if access.reads("tickets", t)}
            in_sql = {t.id for t in uow.tickets.query(access.tickets, [OrderBy("number")], 1000)}
            assert in_memory == in_sql == model, person.name
            for tid in model:
                mem = {c.id for c in comments[tid] if access.reads("comments", c)}
                sql = {c.id for c in uow.comments.for_ticket(tid, access.comments)}
                assert mem == sql, person.name
                if not person.role.is_staff:
                    assert all(
                        c.visibility is Visibility.PUBLIC
                        or c.organisation_id == person.organisation_id
                        for c in comments[tid]
                        if c.id in mem
                    )
            for project in projects.values():
                if project.organisation_id != person.organisation_id and not person.role.is_staff:
                    assert not policy.may_see_billing(access.viewer, project.organisation_id)
    # Through the operations too: the session resolves the same set at the clock's instant.
    for person in everyone:
        listed = {t.id for t in desk.list_tickets(person.actor, limit=100).items}
        with storage.unit_of_work(w.provider.tenant_id) as uow:
            access = policy.access(person, uow.access, now)
            assert listed == {t.id for t in uow.tickets.query(access.tickets, [], 1000)}


@pytest.mark.parametrize(
    ("backend", "examples"), [("memory", 120), ("sqlite", 40), ("postgres", 25)]
)
def test_grants_agree_in_memory_and_in_sql_and_with_the_model(
    backend: str, examples: int, request: pytest.FixtureRequest
) -> None:
    if backend == "memory":
        from ticketkit.adapters.memory import MemoryStorage

        storage: Storage = MemoryStorage()
    else:
        from ticketkit.adapters.sqlalchemy import SqlStorage

        storage = SqlStorage(request.getfixturevalue(f"{backend}_engine"))

    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(specs=grant_specs)
    def agree(specs: list[tuple[Any, ...]]) -> None:
        play_and_check(storage, specs)

    agree()
