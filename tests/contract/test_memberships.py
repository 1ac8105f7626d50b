"""The memberships' port and the access facts built on them answer alike on every adapter: a
membership round-trips and ends, a person's memberships in force are read (alone, and in
the batched load of people), two units of work making the same membership: the later one
to commit loses, and the organisation tree and child sharing are read the same."""

from __future__ import annotations

import uuid
from datetime import timedelta

import attrs
import pytest

from tests.support.records import NOW, customer, seed
from ticketkit.domain import ChildSharing, Membership, Role, SettingValue, TicketType
from ticketkit.domain.workflow import default_workflow
from ticketkit.errors import Conflict
from ticketkit.ports import Storage


def membership(tenant: uuid.UUID, person: uuid.UUID, org: uuid.UUID, by: uuid.UUID) -> Membership:
    return Membership(
        tenant_id=tenant,
        id=uuid.uuid4(),
        person_id=person,
        organisation_id=org,
        role=Role.CUSTOMER_ADMIN,
        created_by=by,
        created_at=NOW,
    )


def test_a_membership_round_trips_ends_and_is_read_with_its_person(storage: Storage) -> None:
    s = seed(storage)
    with storage.unit_of_work(s.tenant) as uow:
        home, consultant, _ = customer(uow, s, "Home desk")
        other, _, [other_desk] = customer(uow, s, "Other desk")
        uow.commit()
    made = membership(s.tenant, consultant, other, s.person)
    with storage.unit_of_work(s.tenant) as uow:
        uow.memberships.add(made)
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.memberships.get(made.id) == made
        assert uow.memberships.of_person(consultant) == [made]
        assert uow.access.people([consultant, s.person])[consultant].organisation_id == home
        # The batched load answers as the port's own read does.
        assert uow.access.memberships_of(consultant) == [made]
        assert uow.access.project_ids_of([other]) == {other_desk.id}
    ended = made.end(by=s.person, at=NOW + timedelta(hours=1))
    with storage.unit_of_work(s.tenant) as uow:
        uow.memberships.save(ended)
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.memberships.get(made.id) == ended
        assert uow.memberships.of_person(consultant) == []
        uow.access.people([consultant])
        assert uow.access.memberships_of(consultant) == []


def test_two_units_of_work_making_one_membership_the_later_commit_loses(
    storage: Storage,
) -> None:
    s = seed(storage)
    with storage.unit_of_work(s.tenant) as uow:
        _, consultant, _ = customer(uow, s)
        other, _, _ = customer(uow, s)
        uow.commit()
    first = storage.unit_of_work(s.tenant)
    second = storage.unit_of_work(s.tenant)
    first.memberships.add(membership(s.tenant, consultant, other, s.person))
    first.commit()
    first.close()
    with pytest.raises(Conflict), second:
        second.memberships.add(membership(s.tenant, consultant, other, s.person))
        second.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert len(uow.memberships.of_person(consultant)) == 1


def test_the_tree_child_sharing_and_confidential_types_are_read_alike(storage: Storage) -> None:
    s = seed(storage)
    with storage.unit_of_work(s.tenant) as uow:
        top, _, _ = customer(uow, s)
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        parent = uow.organisations.get(top)
        assert parent is not None
        child = attrs.evolve(parent, id=uuid.uuid4(), name="Child", parent_id=top)
        grandchild = attrs.evolve(parent, id=uuid.uuid4(), name="Grandchild", parent_id=child.id)
        uow.organisations.add(child)
        uow.organisations.add(grandchild)
        secret = TicketType(
            tenant_id=s.tenant,
            id=uuid.uuid4(),
            name="HR",
            workflow=default_workflow(),
            created_at=NOW,
            organisation_id=child.id,
            confidential=True,
        )
        uow.ticket_types.add(secret)
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.access.descendants_of(top) == {child.id, grandchild.id}
        assert uow.access.descendants_of(grandchild.id) == set()
        assert uow.access.chain_of(grandchild.id) == [grandchild.id, child.id, top]
        assert uow.access.child_sharing([top, child.id]) == {}
        assert uow.access.confidential_types() == {secret.id: child.id}

    def value(org: uuid.UUID | None, sharing: ChildSharing) -> SettingValue:
        return SettingValue(
            tenant_id=s.tenant,
            name="sharing.child_organisations",
            organisation_id=org,
            value=sharing.value,
            updated_at=NOW,
            updated_by=s.person,
        )

    with storage.unit_of_work(s.tenant) as uow:
        uow.settings.set(value(None, ChildSharing.READ))
        uow.settings.set(value(child.id, ChildSharing.OFF))
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        uow.access.people([s.person])  # the batched load learns that sharing is set
        assert uow.access.child_sharing([top, child.id, grandchild.id]) == {top: ChildSharing.READ}
