"""The one policy over everything access is made of (issue 18, point 8): hypothesis draws a
tenant of customer organisations with parents, the child-sharing setting on the tenant and
on organisations (off, read, read_write), people of every role with further memberships,
customers running their own desk (a customer agent, an own-desk project), projects, ticket
types of the provider and of organisations (shared down, confidential), tickets with
public and internal comments of both sides, tickets escalated to the provider and
transferred back, and grants of every state, scope and expiry (in the past, at the clock's
very instant, just after it, in other time zones). A second tenant with the same shape
stands beside it.

For every person and every ticket, comment and project it asserts that the in-memory
decision (``Access.reads``, ``Access.may``) and the SQL filter (or the memory adapter's
evaluation of the same predicate) agree with each other and with a reference model
written here without the policy; that nothing crosses tenants; that no one sees another
organisation's internal comment (nor a guest her own organisation's); that an expired,
revoked or unanswered grant gives nothing; and that nothing reaches billing through a
grant or a parent. The reference model:

- a person reads the projects of her organisations (her own and her memberships'), of
  every organisation below one of them whose effective sharing is not off, and of her
  active, unexpired grants (to her or to one of her organisations);
- of a ticket of a confidential type, only members of the type's organisation (and staff);
- on a project she reaches only as a parent, read sharing allows nothing and read_write
  her role's customer actions; a grant its scope within her role; several ways: any;
- comments: the public ones, and those internal to her own organisation for staff and a
  customer's own agents.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ticketkit import HelpDesk, ManualClock, Role
from ticketkit.domain import Grant, GrantScope, GrantState, Person, Visibility
from ticketkit.policy import TRUE
from ticketkit.policy.rules import CHILD_ACTIONS, PERMISSIONS, SCOPE_ACTIONS, Action
from ticketkit.ports import OrderBy, Storage

ZONES: list[tzinfo] = [
    UTC,
    timezone(timedelta(hours=2)),
    timezone(timedelta(hours=-5, minutes=-30)),
    ZoneInfo("Europe/Berlin"),
]
OFFSETS = [
    None,
    timedelta(hours=-2),
    timedelta(microseconds=-1),
    timedelta(0),
    timedelta(microseconds=1),
    timedelta(hours=2),
]
SHARING = [None, "off", "read", "read_write"]
CONTACTS = [Role.GUEST, Role.CUSTOMER_ADMIN]
#: The actions whose per-project answers are compared with the model.
ACTIONS = [Action.CREATE_TICKET, Action.COMMENT_PUBLIC, Action.UPDATE_PUBLIC_FIELDS]


@st.composite
def worlds(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(min_value=2, max_value=5))
    parents = [None] + [draw(st.sampled_from([None, *range(i)])) for i in range(1, n)]
    people = draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.sampled_from(CONTACTS)),
            min_size=2,
            max_size=5,
        )
    )
    memberships = draw(
        st.lists(
            st.tuples(
                st.integers(0, len(people) - 1),
                st.integers(0, n - 1),
                st.sampled_from(CONTACTS),
            ),
            max_size=4,
        )
    )
    return {
        "parents": parents,
        "tenant_sharing": draw(st.sampled_from(SHARING)),
        "sharing": [draw(st.sampled_from(SHARING)) for _ in range(n)],
        "people": people,
        "memberships": memberships,
        # Per organisation: does it run its own desk (a customer agent, an own-desk project
        # whose tickets get her internal notes and some of which move to the provider)?
        "own_desk": [draw(st.booleans()) for _ in range(n)],
        "moves": draw(st.booleans()),
        # Per organisation: does it own a shared type, a confidential type?
        "shared_type": [draw(st.booleans()) for _ in range(n)],
        "confidential_type": [draw(st.booleans()) for _ in range(n)],
        "grants": draw(
            st.lists(
                st.tuples(
                    st.integers(0, n - 1),  # the project's organisation
                    st.one_of(
                        st.tuples(st.just("person"), st.integers(0, len(people) - 1)),
                        st.tuples(st.just("org"), st.integers(0, n - 1)),
                    ),
                    st.sampled_from(list(GrantState)),
                    st.frozensets(st.sampled_from(list(GrantScope)), min_size=1),
                    st.sampled_from(OFFSETS),
                    st.sampled_from(ZONES),
                ),
                max_size=5,
            )
        ),
    }


@dataclass
class Built:
    tenant_id: UUID
    provider_id: UUID
    staff: list[Person]
    people: list[Person]
    orgs: list[UUID]
    parents: dict[UUID, UUID | None]
    projects: dict[UUID, UUID]  # project → organisation
    confidential: dict[UUID, UUID] = field(default_factory=dict)  # type → organisation
    memberships: dict[UUID, dict[UUID, Role]] = field(default_factory=dict)
    sharing: dict[UUID | None, str] = field(default_factory=dict)  # org (None: tenant)
    grants: list[Grant] = field(default_factory=list)


def build(desk: HelpDesk, spec: dict[str, Any], now: datetime) -> Built:
    tag = uuid.uuid4().hex[:6]
    boot = desk.bootstrap_tenant(
        name=f"T{tag}", provider_name="Provider", admin_name="Ada", admin_email=f"ada@{tag}.ex"
    )
    a = boot.admin.actor
    agent = desk.add_person(
        a, organisation_id=boot.provider.id, name="Al", email=f"al@{tag}.ex", role=Role.AGENT
    )
    light = desk.add_person(
        a,
        organisation_id=boot.provider.id,
        name="Li",
        email=f"li@{tag}.ex",
        role=Role.LIGHT_AGENT,
    )
    orgs: list[UUID] = []
    parents: dict[UUID, UUID | None] = {}
    for i, parent in enumerate(spec["parents"]):
        parent_id = orgs[parent] if parent is not None else None
        org = desk.create_organisation(a, name=f"Org {i}", parent_id=parent_id)
        orgs.append(org.id)
        parents[org.id] = parent_id
    built = Built(
        tenant_id=boot.tenant.id,
        provider_id=boot.provider.id,
        staff=[boot.admin, agent, light],
        people=[],
        orgs=orgs,
        parents=parents,
        projects={},
    )
    for i, (org, role) in enumerate(spec["people"]):
        person = desk.add_person(
            a, organisation_id=orgs[org], name=f"P{i}", email=f"p{i}@{tag}.ex", role=role
        )
        built.people.append(person)
        built.memberships[person.id] = {}
    for who, org, role in spec["memberships"]:
        person = built.people[who]
        if orgs[org] == person.organisation_id or orgs[org] in built.memberships[person.id]:
            continue
        desk.add_membership(a, person.id, orgs[org], role)
        built.memberships[person.id][orgs[org]] = role
    if spec["tenant_sharing"] is not None:
        desk.set_setting(a, "sharing.child_organisations", spec["tenant_sharing"])
        built.sharing[None] = spec["tenant_sharing"]
    for org, value in zip(orgs, spec["sharing"], strict=True):
        if value is not None:
            desk.set_setting(a, "sharing.child_organisations", value, organisation_id=org)
            built.sharing[org] = value
    incident = desk.create_ticket_type(a, name="Incident")
    for i, org in enumerate(orgs):
        project = desk.create_project(a, organisation_id=org, name=f"Desk {i}")
        built.projects[project.id] = org
        types = [incident.id]
        if spec["shared_type"][i]:
            types.append(
                desk.create_ticket_type(a, name=f"S{i}", organisation_id=org, shared=True).id
            )
        if spec["confidential_type"][i]:
            secret = desk.create_ticket_type(
                a, name=f"C{i}", organisation_id=org, confidential=True
            )
            built.confidential[secret.id] = org
            types.append(secret.id)
        for type_id in types:
            ticket = desk.create_ticket(a, project_id=project.id, type_id=type_id, title=f"T{i}")
            desk.add_comment(agent.actor, ticket.id, "public", visibility="public")
            desk.add_comment(agent.actor, ticket.id, "internal", visibility="internal")
        if spec["own_desk"][i]:
            it = desk.add_person(
                a,
                organisation_id=org,
                name=f"IT{i}",
                email=f"it{i}@{tag}.ex",
                role="customer_agent",
            )
            built.people.append(it)
            built.memberships[it.id] = {}
            own = desk.create_project(a, organisation_id=org, name=f"IT {i}", own_desk=True)
            built.projects[own.id] = org
            ticket = desk.create_ticket(a, project_id=own.id, type_id=incident.id, title=f"IT{i}")
            desk.add_comment(it.actor, ticket.id, "their note", visibility="internal")
            desk.add_comment(it.actor, ticket.id, "their reply", visibility="public")
            if spec["moves"]:
                desk.move_ticket(it.actor, ticket.id, project.id)
                desk.add_comment(agent.actor, ticket.id, "our note", visibility="internal")
                desk.move_ticket(agent.actor, ticket.id, own.id)
    own = desk.create_project(a, organisation_id=boot.provider.id, name="Ops")
    built.projects[own.id] = boot.provider.id
    desk.create_ticket(a, project_id=own.id, type_id=incident.id, title="Ops")
    project_of = {org: p for p, org in reversed(built.projects.items())}
    with desk.storage.unit_of_work(built.tenant_id) as uow:
        for i, (org, grantee, state, scope, offset, zone) in enumerate(spec["grants"]):
            kind, which = grantee
            grant = Grant(
                tenant_id=built.tenant_id,
                id=uuid.UUID(int=(uuid.uuid4().int & ~0xFF) | i),
                project_id=project_of[orgs[org]],
                organisation_id=orgs[org],
                grantee_person_id=built.people[which].id if kind == "person" else None,
                grantee_organisation_id=orgs[which] if kind == "org" else None,
                scope=scope,
                expires_at=(now + offset).astimezone(zone) if offset is not None else None,
                state=state,
                created_by=boot.admin.id,
                created_at=now - timedelta(days=1),
            )
            uow.grants.add(grant)
            built.grants.append(grant)
        uow.commit()
    return built


def effective_sharing(b: Built, org: UUID) -> str:
    """Nearest override up the parents, else the tenant's, else off."""
    at: UUID | None = org
    while at is not None:
        if at in b.sharing:
            return b.sharing[at]
        at = b.parents[at]
    return b.sharing.get(None, "off")


def below(b: Built, org: UUID) -> set[UUID]:
    found: set[UUID] = set()
    frontier = {org}
    while frontier:
        frontier = {o for o, p in b.parents.items() if p in frontier} - found
        found |= frontier
    return found


def model(b: Built, person: Person, now: datetime) -> dict[UUID, frozenset[Action]]:
    """Readable projects and what she may do on each, written without the policy."""
    roles = {person.organisation_id: person.role, **b.memberships[person.id]}
    allowed: dict[UUID, set[Action]] = {}
    for project, org in b.projects.items():
        if org in roles:
            allowed[project] = set(PERMISSIONS[roles[org]])
    members = set(allowed)
    for org, role in roles.items():
        value = effective_sharing(b, org)
        if value == "off":
            continue
        for child in below(b, org) - roles.keys():
            for project, owner in b.projects.items():
                if owner == child and project not in members:
                    extra = PERMISSIONS[role] & CHILD_ACTIONS if value == "read_write" else set()
                    allowed.setdefault(project, set()).update(extra)
    for g in b.grants:
        expired = g.expires_at is not None and not now < g.expires_at
        if g.state is not GrantState.ACTIVE or expired or g.project_id in members:
            continue
        if g.grantee_person_id == person.id:
            role = person.role
        elif g.grantee_organisation_id in roles:
            role = roles[g.grantee_organisation_id]
        else:
            continue
        scoped = set().union(*(SCOPE_ACTIONS[s] for s in g.scope))
        allowed.setdefault(g.project_id, set()).update(PERMISSIONS[role] & scoped)
    return {p: frozenset(a) for p, a in allowed.items()}


def check(storage: Storage, spec: dict[str, Any]) -> None:
    clock = ManualClock(datetime(2026, 5, 22, 12, 0, tzinfo=UTC))
    desk = HelpDesk(storage, clock=clock)
    now = clock.now()
    b = build(desk, spec, now)
    other = build(desk, spec, now)
    policy = desk.policy
    with storage.unit_of_work(other.tenant_id) as uow:
        foreign = uow.tickets.query(TRUE, [OrderBy("number")], 1000)
    with storage.unit_of_work(b.tenant_id) as uow:
        tickets = uow.tickets.query(TRUE, [OrderBy("number")], 1000)
        comments = {t.id: uow.comments.for_ticket(t.id, TRUE) for t in tickets}
        for person in [*b.staff, *b.people]:
            access = policy.access(person, uow.access, now)
            if person.role.is_staff:
                expected = {t.id for t in tickets}
                actions: dict[UUID, frozenset[Action]] = {}
            else:
                actions = model(b, person, now)
                orgs = {person.organisation_id, *b.memberships[person.id]}
                expected = {
                    t.id
                    for t in tickets
                    if t.project_id in actions
                    and (t.type_id not in b.confidential or b.confidential[t.type_id] in orgs)
                }
            in_memory = {t.id for t in tickets if access.reads("tickets", t)}
            in_sql = {t.id for t in uow.tickets.query(access.tickets, [OrderBy("number")], 1000)}
            assert in_memory == in_sql == expected, person.name
            assert not any(access.reads("tickets", t) for t in foreign), person.name
            for tid in expected:
                mem = {c.id for c in comments[tid] if access.reads("comments", c)}
                sql = {c.id for c in uow.comments.for_ticket(tid, access.comments)}
                # The model: public ones, and internal ones of one's own organisation for
                # those who see internal work (staff, a customer's own agents).
                internal = person.role.is_staff or person.role is Role.CUSTOMER_AGENT
                want = {
                    c.id
                    for c in comments[tid]
                    if c.visibility is Visibility.PUBLIC
                    or (internal and c.organisation_id == person.organisation_id)
                }
                assert mem == sql == want, person.name
            if person.role.is_staff:
                continue
            for project in b.projects:
                for action in ACTIONS:
                    want = project in actions and action in actions[project]
                    assert access.may(action, project) == want, (person.name, action)
            member_of = {person.organisation_id, *b.memberships[person.id]}
            for org in b.orgs:
                if org not in member_of:
                    assert not policy.may_see_billing(access.viewer, org), person.name


@pytest.mark.parametrize(
    ("backend", "examples"), [("memory", 120), ("sqlite", 30), ("postgres", 20)]
)
def test_the_policy_agrees_in_memory_in_sql_and_with_the_model(
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
    @given(spec=worlds())
    def agree(spec: dict[str, Any]) -> None:
        check(storage, spec)

    agree()


def test_the_model_is_not_the_policy_a_child_sees_nothing_of_its_parent() -> None:
    """A check of the reference itself: sharing goes down only."""
    b = Built(
        tenant_id=uuid.uuid4(),
        provider_id=uuid.uuid4(),
        staff=[],
        people=[],
        orgs=[],
        parents={},
        projects={},
    )
    parent, child = uuid.uuid4(), uuid.uuid4()
    b.parents = {parent: None, child: parent}
    b.sharing = {None: "read"}
    assert below(b, parent) == {child} and below(b, child) == set()
    assert effective_sharing(b, child) == "read"
    b.sharing[parent] = "off"
    assert effective_sharing(b, child) == "off"
