"""The grants' port and the projects' numbers answer alike on every adapter: a grant
round-trips, a person's active grants are read (to her and to her organisation), and a
decision is a compare-and-set that the second of two racing units of work loses."""

from __future__ import annotations

import uuid
from datetime import timedelta, timezone

import pytest

from tests.support.records import NOW, customer, seed
from ticketkit.domain import Grant, GrantScope, GrantState
from ticketkit.errors import Conflict
from ticketkit.ports import Storage


def test_grants_round_trip_and_a_persons_active_grants_are_read(storage: Storage) -> None:
    s = seed(storage)
    with storage.unit_of_work(s.tenant) as uow:
        owner, _, [project] = customer(uow, s, "Shop")
        partner, supporter, _ = customer(uow, s)
        stranger, _, _ = customer(uow, s)
        uow.commit()
    expiry = (NOW + timedelta(days=1)).astimezone(timezone(timedelta(hours=-3)))

    def grant(state: GrantState, **grantee: uuid.UUID) -> Grant:
        return Grant(
            tenant_id=s.tenant,
            id=uuid.uuid4(),
            project_id=project.id,
            organisation_id=owner,
            scope=frozenset({GrantScope.COMMENT}),
            expires_at=expiry,
            state=state,
            created_by=s.person,
            created_at=NOW,
            **grantee,  # type: ignore[arg-type]
        )

    to_her = grant(GrantState.ACTIVE, grantee_person_id=supporter)
    to_firm = grant(GrantState.ACTIVE, grantee_organisation_id=partner)
    offered = grant(GrantState.OFFERED, grantee_organisation_id=partner)
    elsewhere = grant(GrantState.ACTIVE, grantee_organisation_id=stranger)
    with storage.unit_of_work(s.tenant) as uow:
        for g in (to_her, to_firm, offered, elsewhere):
            uow.grants.add(g)
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.grants.get(to_her.id) == to_her
        assert uow.grants.get(to_her.id).scope == {GrantScope.READ, GrantScope.COMMENT}  # type: ignore[union-attr]
        assert uow.grants.get(to_her.id).expires_at == expiry  # type: ignore[union-attr]
        found = uow.access.active_grants(supporter, [partner])
        assert {g.id for g in found} == {to_her.id, to_firm.id}
        assert uow.access.people([supporter])  # the batched load answers alike
        assert {g.id for g in uow.access.active_grants(supporter, [partner])} == {
            to_her.id,
            to_firm.id,
        }


def test_a_decision_is_a_compare_and_set_on_the_state(storage: Storage) -> None:
    s = seed(storage)
    with storage.unit_of_work(s.tenant) as uow:
        owner, _, [project] = customer(uow, s, "Shop")
        partner, _, _ = customer(uow, s)
        offer = Grant(
            tenant_id=s.tenant,
            id=uuid.uuid4(),
            project_id=project.id,
            organisation_id=owner,
            grantee_organisation_id=partner,
            scope=frozenset({GrantScope.READ}),
            state=GrantState.OFFERED,
            created_by=s.person,
            created_at=NOW,
        )
        uow.grants.add(offer)
        uow.commit()
    accepted = offer.decide(GrantState.ACTIVE, by=s.person, at=NOW)
    revoked = offer.decide(GrantState.REVOKED, by=s.person, at=NOW)
    with storage.unit_of_work(s.tenant) as uow:
        uow.grants.decide(revoked, expected=GrantState.OFFERED)
        uow.commit()
    # Read before the revoke committed, accepted after: the accept loses.
    with storage.unit_of_work(s.tenant) as uow, pytest.raises(Conflict):
        uow.grants.decide(accepted, expected=GrantState.OFFERED)
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.grants.get(offer.id) == revoked


def test_projects_number_on_from_the_highest(storage: Storage) -> None:
    s = seed(storage)
    with storage.unit_of_work(s.tenant) as uow:
        _, _, projects = customer(uow, s, "A", "B")
        uow.commit()
    highest = max(p.number for p in projects)
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.projects.next_number() == highest + 1
        assert uow.projects.by_number(projects[1].number) == projects[1]
        assert uow.projects.by_number(highest + 1) is None
