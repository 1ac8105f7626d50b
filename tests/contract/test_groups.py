"""The storage contract of agent groups and ticket followers: every adapter alike."""

from __future__ import annotations

import uuid
from datetime import timedelta

import attrs
import pytest

from tests.support.records import NOW, Seeded, person, project, seed, ticket
from ticketkit.domain import Group, Role
from ticketkit.errors import Conflict
from ticketkit.policy import TRUE, Eq
from ticketkit.ports import Storage


def group(s: Seeded, name: str = "First line", *, minutes: int = 0, **kw: object) -> Group:
    return Group(
        tenant_id=s.tenant,
        id=uuid.uuid4(),
        name=name,
        created_at=NOW + timedelta(minutes=minutes),
        **kw,  # type: ignore[arg-type]
    )


def test_a_group_round_trips_with_its_members_and_projects_and_save_replaces_them(
    storage: Storage,
) -> None:
    s = seed(storage)
    other = person(s.tenant, s.org, Role.AGENT)
    extra = project(s.tenant, s.org, "K")
    g = group(s, member_ids=frozenset({s.person, other.id}), project_ids=frozenset({s.project}))
    empty = group(s, "Empty", minutes=1)
    with storage.unit_of_work(s.tenant) as uow:
        uow.persons.add(other)
        uow.projects.add(extra)
        uow.groups.add(g)
        uow.groups.add(empty)
        assert uow.groups.get(g.id) == g, "a unit of work reads its own writes"
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.groups.get(g.id) == g
        assert uow.groups.get(empty.id) == empty
        assert uow.groups.list(TRUE) == [g, empty]
        assert uow.groups.list(Eq("name", "Empty")) == [empty]
        changed = attrs.evolve(
            g, name="Level one", member_ids=frozenset({other.id}), project_ids=frozenset({extra.id})
        )
        uow.groups.save(changed)
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.groups.get(g.id) == changed
        with pytest.raises(Conflict):
            uow.groups.add(changed)
        with pytest.raises(Conflict):
            uow.groups.save(group(s, "Nowhere"))


def test_groups_serving_a_project_come_oldest_first(storage: Storage) -> None:
    s = seed(storage)
    served = frozenset({s.project})
    later = group(s, "B later", minutes=2, project_ids=served)
    earlier = group(s, "A earlier", minutes=1, project_ids=served)
    elsewhere = group(s, "C elsewhere", project_ids=frozenset())
    with storage.unit_of_work(s.tenant) as uow:
        for g in (later, earlier, elsewhere):
            uow.groups.add(g)
        uow.commit()
    with storage.unit_of_work(s.tenant, read_only=True) as uow:
        assert uow.groups.serving(s.project) == [earlier, later]
        assert uow.groups.serving(uuid.uuid4()) == []


def test_groups_and_followers_stay_in_their_tenant_and_uncommitted_work_is_discarded(
    storage: Storage,
) -> None:
    a, b = seed(storage), seed(storage)
    g = group(a, project_ids=frozenset({a.project}))
    t = ticket(a, 1)
    with storage.unit_of_work(a.tenant) as uow:
        uow.groups.add(g)
        uow.tickets.add(t)
        uow.followers.add(t.id, a.person, at=NOW)
        uow.commit()
    with storage.unit_of_work(b.tenant) as uow:
        assert uow.groups.get(g.id) is None
        assert uow.groups.list(TRUE) == []
        assert uow.groups.serving(a.project) == []
        assert uow.followers.of(t.id) == []
        with pytest.raises(ValueError, match="tenant_id"):
            uow.groups.add(g)
    with storage.unit_of_work(a.tenant) as uow:
        uow.groups.add(group(a, "Never"))
        uow.followers.remove(t.id, a.person)
    with storage.unit_of_work(a.tenant) as uow:
        assert [x.name for x in uow.groups.list(TRUE)] == ["First line"]
        assert uow.followers.of(t.id) == [a.person]


def test_followers_are_kept_in_the_order_they_came_and_changed_once(storage: Storage) -> None:
    s = seed(storage)
    others = [person(s.tenant, s.org, Role.AGENT) for _ in range(3)]
    t = ticket(s, 1)
    with storage.unit_of_work(s.tenant) as uow:
        for p in others:
            uow.persons.add(p)
        uow.tickets.add(t)
        for p in [others[2], others[0], others[1]]:
            uow.followers.add(t.id, p.id, at=NOW)
        assert uow.followers.of(t.id) == [others[2].id, others[0].id, others[1].id]
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.followers.of(t.id) == [others[2].id, others[0].id, others[1].id]
        with pytest.raises(Conflict):
            uow.followers.add(t.id, others[0].id, at=NOW)
        uow.followers.remove(t.id, others[0].id)
        with pytest.raises(Conflict):
            uow.followers.remove(t.id, others[0].id)
        uow.commit()
    with storage.unit_of_work(s.tenant, read_only=True) as uow:
        assert uow.followers.of(t.id) == [others[2].id, others[1].id]
        assert uow.followers.of(uuid.uuid4()) == []
        for write in (
            lambda: uow.followers.add(t.id, s.person, at=NOW),
            lambda: uow.followers.remove(t.id, others[1].id),
            lambda: uow.groups.add(group(s)),
        ):
            with pytest.raises(RuntimeError, match="read-only"):
                write()
