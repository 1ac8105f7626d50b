"""The directory as the policy reads it, under random changes: memory and SQL agree.

A state machine plays the same random operations on the in-memory adapter and on SQLite:
organisations, people and projects are added, projects move between organisations, people
are deactivated, units of work commit or roll back. After each read step both adapters must
answer alike: people one by one and together (``get_many``, which the SQL adapter answers
with their organisations' projects), projects, and the project ids that decide what a
customer sees, which the SQL adapter caches per unit of work.

It looks for identity maps and caches answering from a stale state. One such defect (people
loaded while a project's move was still buffered) is pinned by a contract test; with the
guard that fixed it removed, this machine finds it in about one run in six, so it is a
wide net, not that defect's test.
"""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

import attrs
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from tests.support.records import NOW, organisation, person, project
from ticketkit.adapters.memory import MemoryStorage
from ticketkit.adapters.sqlalchemy import SqlStorage, create_sqlite_engine
from ticketkit.adapters.sqlalchemy.tables import metadata
from ticketkit.domain import OrganisationKind, Person, Role, Tenant
from ticketkit.policy import Eq
from ticketkit.ports import Storage, UnitOfWork

ROLES = [Role.GUEST, Role.CUSTOMER_ADMIN, Role.AGENT]


@settings(max_examples=100, stateful_step_count=30, deadline=None)
class DirectoryModel(RuleBasedStateMachine):
    """Memory is the model, SQLite the system under test; both see the same calls."""

    def __init__(self) -> None:
        super().__init__()
        self.tenant = uuid.uuid4()
        engine = create_sqlite_engine(None)
        metadata.create_all(engine)
        self.engine = engine
        self.storages: list[Storage] = [MemoryStorage(), SqlStorage(engine)]
        self.units: list[UnitOfWork] | None = None
        self.orgs: list[UUID] = []
        self.people: list[UUID] = []
        self.projects: list[UUID] = []
        #: Ids added in the open unit of work: gone again if it rolls back.
        self.uncommitted: set[UUID] = set()
        provider = organisation(self.tenant, OrganisationKind.PROVIDER)
        for uow in self._open():
            uow.add_tenant(Tenant(id=self.tenant, name="T", created_at=NOW))
            uow.organisations.add(provider)
        self._added(self.orgs, provider.id)
        self._end(commit=True)

    def teardown(self) -> None:
        if self.units is not None:
            for uow in self.units:
                uow.close()
        self.engine.dispose()

    # -- plumbing ---------------------------------------------------------------------------

    def _open(self) -> list[UnitOfWork]:
        if self.units is None:
            self.units = [s.unit_of_work(self.tenant) for s in self.storages]
        return self.units

    def _end(self, *, commit: bool) -> None:
        for uow in self._open():
            if commit:
                uow.commit()
            else:
                uow.rollback()
            uow.close()
        self.units = None
        if not commit:
            for ids in (self.orgs, self.people, self.projects):
                ids[:] = [i for i in ids if i not in self.uncommitted]
        self.uncommitted.clear()

    def _added(self, ids: list[UUID], ident: UUID) -> None:
        ids.append(ident)
        self.uncommitted.add(ident)

    def _both(self, read: Any) -> None:
        """Ask both adapters; their answers must be equal."""
        model, real = (read(uow) for uow in self._open())
        assert real == model

    # -- changes ----------------------------------------------------------------------------

    # Few of each, so that moves, reads and caches meet on the same rows often.
    @precondition(lambda self: len(self.orgs) < 3)
    @rule()
    def add_organisation(self) -> None:
        org = organisation(self.tenant)
        for uow in self._open():
            uow.organisations.add(org)
        self._added(self.orgs, org.id)

    @precondition(lambda self: len(self.people) < 4)
    @rule(data=st.data(), role=st.sampled_from(ROLES))
    def add_person(self, data: st.DataObject, role: Role) -> None:
        org = data.draw(st.sampled_from(self.orgs))
        someone = person(self.tenant, org, role)
        for uow in self._open():
            uow.persons.add(someone)
        self._added(self.people, someone.id)

    @precondition(lambda self: len(self.projects) < 3)
    @rule(data=st.data())
    def add_project(self, data: st.DataObject) -> None:
        org = data.draw(st.sampled_from(self.orgs))
        new = project(self.tenant, org)
        for uow in self._open():
            uow.projects.add(new)
        self._added(self.projects, new.id)

    @precondition(lambda self: bool(self.projects) and len(self.orgs) > 1)
    @rule(data=st.data())
    def move_project(self, data: st.DataObject) -> None:
        ident = data.draw(st.sampled_from(self.projects))
        now = self._open()[0].projects.get(ident)
        assert now is not None
        org = data.draw(st.sampled_from([o for o in self.orgs if o != now.organisation_id]))
        for uow in self._open():
            found = uow.projects.get(ident)
            assert found is not None
            uow.projects.save(attrs.evolve(found, organisation_id=org))

    @precondition(lambda self: bool(self.people))
    @rule(data=st.data())
    def deactivate_person(self, data: st.DataObject) -> None:
        ident = data.draw(st.sampled_from(self.people))
        for uow in self._open():
            person = uow.persons.get(ident)
            assert person is not None
            uow.persons.save(attrs.evolve(person, active=False))

    @rule(commit=st.booleans())
    def end_the_unit_of_work(self, commit: bool) -> None:
        self._end(commit=commit)

    # -- reads, compared --------------------------------------------------------------------

    @precondition(lambda self: bool(self.people))
    @rule(data=st.data())
    def read_people_together(self, data: st.DataObject) -> None:
        wanted = data.draw(st.lists(st.sampled_from([*self.people, uuid.uuid4()]), max_size=4))
        self._both(lambda uow: uow.persons.get_many(wanted))
        self._both(lambda uow: uow.access.people(wanted))

    @precondition(lambda self: bool(self.people))
    @rule(data=st.data())
    def resolve_access(self, data: st.DataObject) -> None:
        """What the policy does for a viewer: read the person, then the project ids of
        their organisation (which loading the person may have cached on the way)."""
        ident = data.draw(st.sampled_from(self.people))

        def access(uow: UnitOfWork) -> tuple[Person | None, frozenset[UUID] | None]:
            person = uow.access.people([ident]).get(ident)
            if person is None:
                return None, None
            return person, uow.access.project_ids_of([person.organisation_id])

        self._both(access)

    @rule(data=st.data())
    def read_project_ids(self, data: st.DataObject) -> None:
        orgs = data.draw(st.lists(st.sampled_from(self.orgs), min_size=1, max_size=3))
        self._both(lambda uow: uow.access.project_ids_of(orgs))

    @rule(data=st.data())
    def read_projects(self, data: st.DataObject) -> None:
        org = data.draw(st.sampled_from(self.orgs))
        self._both(lambda uow: [uow.projects.get(p) for p in self.projects])
        self._both(
            lambda uow: sorted(
                (p.id for p in uow.projects.list(Eq("organisation_id", org))), key=str
            )
        )


test_memory_and_sqlite_answer_the_directory_alike = DirectoryModel.TestCase
