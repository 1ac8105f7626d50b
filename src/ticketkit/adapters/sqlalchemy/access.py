"""``Access``, the SQL ``AccessReader``: the people and the facts the policy reads to resolve
what someone may see, loaded together in one round trip where the database can answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal, cast
from uuid import UUID

from sqlalchemy import (
    Row,
    Select,
    and_,
    any_,
    bindparam,
    exists,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY

from ticketkit.adapters.sqlalchemy import tables
from ticketkit.adapters.sqlalchemy.mapping import (
    GRANTS,
    MEMBERSHIPS,
    ORGANISATIONS,
    PERSONS,
    PROJECTS,
    TableMapping,
)
from ticketkit.adapters.sqlalchemy.types import Id
from ticketkit.domain.grants import GrantState, GrantTerms, decode_scope
from ticketkit.domain.memberships import Membership
from ticketkit.domain.model import Person
from ticketkit.domain.settings import ChildSharing
from ticketkit.ports.repositories import CHILD_SHARING, MAX_TREE_DEPTH, AccessReader

if TYPE_CHECKING:
    from ticketkit.adapters.sqlalchemy.unit_of_work import SqlUnitOfWork, Staged


class _Prefixed:
    """A row's columns under a label prefix, read by their plain names (so a joined row
    goes through the same row mapping as a row of its own table)."""

    __slots__ = ("_prefix", "_row")

    def __init__(self, row: Row[Any], prefix: str) -> None:
        self._row, self._prefix = row, prefix

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, self._prefix + name)


def _sharing_is_set() -> Any:
    """Whether the tenant or any organisation has a value of ``sharing.child_organisations``
    stored: when none has, it is off for everyone and no organisation tree is read."""
    ts, os_ = tables.tenant_settings, tables.organisation_settings
    return or_(
        exists().where(ts.c.tenant_id == bindparam("tenant"), ts.c.name == CHILD_SHARING),
        exists().where(os_.c.tenant_id == bindparam("tenant"), os_.c.name == CHILD_SHARING),
    ).label("sharing_set")


def _has_children(organisation_id: Any, label: str) -> Any:
    """Whether the organisation ``organisation_id`` (a column) has children: one without
    shares nothing, whatever its sharing setting, so its tree and setting are not read."""
    o = tables.organisations.alias(f"{label}_children")
    return (
        exists()
        .where(o.c.tenant_id == bindparam("tenant"), o.c.parent_id == organisation_id)
        .label(label)
    )


def _granted(grantee: Any, column: Any, label: str) -> Any:
    """Whether a grant in force names ``column`` (a column of the row) as its grantee
    ``grantee`` (person or organisation): most people hold none, and then their grants are
    known without reading them."""
    g = tables.grants.alias(f"{label}_grants")
    return (
        exists()
        .where(
            g.c.tenant_id == bindparam("tenant"),
            g.c[grantee] == column,
            g.c.state == GrantState.ACTIVE.value,
        )
        .label(label)
    )


def _persons_with_projects(ids: Literal["one", "list", "array"]) -> Select[Any]:
    """People with their further memberships in force and the projects of their
    organisations (one row per membership and project, or with NULLs), whether child
    sharing is set anywhere, and whether they hold a grant: only the columns the row
    mappings read.

    The people are ``ident`` (``"one"``: every call resolves its actor so) or ``idents``:
    an expanding ``IN`` (``"list"``), which is rendered anew on every execution, or on
    PostgreSQL one ``= ANY(array)`` parameter (``"array"``), the same statement for any
    number of ids."""
    people, projects, members = tables.persons, tables.projects, tables.memberships
    if ids == "one":
        chosen = people.c.id == bindparam("ident")
    elif ids == "array":
        chosen = people.c.id == any_(bindparam("idents", type_=ARRAY(Id())))
    else:
        chosen = people.c.id.in_(bindparam("idents", expanding=True))
    return (
        select(
            *(c for c in people.c if c.key != "ordinal"),
            *(c.label(f"member_{c.key}") for c in members.c if c.key != "ordinal"),
            *(c.label(f"project_{c.key}") for c in projects.c if c.key != "ordinal"),
            _sharing_is_set(),
            _has_children(people.c.organisation_id, "home_has_children"),
            _has_children(members.c.organisation_id, "member_has_children"),
            _granted("grantee_person_id", people.c.id, "person_granted"),
            _granted("grantee_organisation_id", people.c.organisation_id, "home_granted"),
            _granted("grantee_organisation_id", members.c.organisation_id, "member_granted"),
        )
        .select_from(
            people.outerjoin(
                members,
                and_(
                    members.c.tenant_id == people.c.tenant_id,
                    members.c.person_id == people.c.id,
                    members.c.ended_at.is_(None),
                ),
            ).outerjoin(
                projects,
                and_(
                    projects.c.tenant_id == people.c.tenant_id,
                    or_(
                        projects.c.organisation_id == people.c.organisation_id,
                        projects.c.organisation_id == members.c.organisation_id,
                    ),
                ),
            )
        )
        .where(people.c.tenant_id == bindparam("tenant"), chosen)
    )


def _descendants() -> Select[Any]:
    """The organisations below ``root``, level by level in one recursive read (bounded by
    ``MAX_TREE_DEPTH``, which only a damaged tree reaches)."""
    o = tables.organisations
    below = (
        select(o.c.id, literal(1).label("depth"))
        .where(o.c.tenant_id == bindparam("tenant"), o.c.parent_id == bindparam("root"))
        .cte("below", recursive=True)
    )
    child = o.alias("child")
    below = below.union_all(
        select(child.c.id, (below.c.depth + 1).label("depth")).where(
            child.c.tenant_id == bindparam("tenant"),
            child.c.parent_id == below.c.id,
            below.c.depth < MAX_TREE_DEPTH,
        )
    )
    return select(below.c.id)


_DESCENDANTS = _descendants()
_PERSON_WITH_PROJECTS = _persons_with_projects("one")
_PERSONS_WITH_PROJECTS = _persons_with_projects("list")
_PERSONS_WITH_PROJECTS_ANY = _persons_with_projects("array")
_g = tables.grants
#: The terms of the active grants to any of some people or organisations, in the order they
#: were made: only the columns the policy reads (``GrantTerms``).
_GRANT_TERMS = (
    select(
        _g.c.id,
        _g.c.project_id,
        _g.c.scope,
        _g.c.expires_at,
        _g.c.grantee_person_id,
        _g.c.grantee_organisation_id,
        _g.c.organisation_id,
    )
    .where(
        _g.c.tenant_id == bindparam("tenant"),
        _g.c.state == GrantState.ACTIVE.value,
        or_(
            _g.c.grantee_person_id.in_(bindparam("persons", expanding=True)),
            _g.c.grantee_organisation_id.in_(bindparam("orgs", expanding=True)),
        ),
    )
    .order_by(_g.c.ordinal)
)
_PROJECT_IDS = select(tables.projects.c.id).where(
    tables.projects.c.tenant_id == bindparam("tenant"),
    tables.projects.c.organisation_id.in_(bindparam("orgs", expanding=True)),
)


class Access(AccessReader):
    """People loaded with their organisations' projects in one round trip, and the project
    ids of organisations, kept for the unit of work's transaction."""

    def __init__(self, uow: SqlUnitOfWork, *, array_params: bool) -> None:
        self._uow = uow
        #: On PostgreSQL the ids go as one array parameter (see ``_persons_with_projects``).
        self._array_params = array_params
        #: Project ids by organisations; the unit of work clears it whenever projects change.
        self.project_ids: dict[frozenset[UUID], frozenset[UUID]] = {}
        #: Active grants by person, read for every customer of one load at once; the unit
        #: of work clears it whenever grants change.
        self.grants: dict[UUID, list[GrantTerms]] = {}
        #: Memberships in force by person, read with the people; cleared when they change.
        self.memberships: dict[UUID, list[Membership]] = {}
        #: Whether any value of child sharing is stored (None: not known), read with the
        #: people; the settings repository forgets it when it writes.
        self.sharing_set: bool | None = None
        #: Organisations known, from the people's read, to have no children; cleared when
        #: organisations change.
        self.childless: set[UUID] = set()
        self.uow = uow

    def changed(self, mapping: TableMapping[Any]) -> None:
        """Forget the facts that ``mapping``'s change (staged in the unit of work) makes
        stale."""
        if mapping is GRANTS:
            self.grants.clear()
        elif mapping is PROJECTS:
            self.project_ids.clear()
        elif mapping is ORGANISATIONS:
            self.childless.clear()
        elif mapping is MEMBERSHIPS:
            self.memberships.clear()
            self.grants.clear()  # read for the people of the same load

    def forget(self) -> None:
        """Forget every fact (the unit of work's transaction ended)."""
        self.project_ids.clear()
        self.grants.clear()
        self.memberships.clear()
        self.sharing_set = None
        self.childless.clear()

    def descendants_of(self, organisation_id: UUID) -> frozenset[UUID]:
        uow = self._uow
        if not self._settled(ORGANISATIONS):
            return super().descendants_of(organisation_id)
        params = {"tenant": uow.tenant_id, "root": organisation_id}
        found = frozenset(uow._connector.reader().execute(_DESCENDANTS, params).scalars())
        return found - {organisation_id}

    def child_sharing(self, organisation_ids: Iterable[UUID]) -> dict[UUID, ChildSharing]:
        if self.sharing_set is False:
            return {}
        parents = [o for o in organisation_ids if o not in self.childless]
        return super().child_sharing(parents) if parents else {}

    def people(self, idents: Iterable[UUID]) -> dict[UUID, Person]:
        uow = self._uow
        staged: Staged[Person] = uow._staged[PERSONS.kind]
        found: dict[UUID, Person] = {}
        missing: list[UUID] = []
        for ident in idents:
            if not isinstance(ident, UUID):
                continue
            item = staged.find(ident)
            if item is not None:
                found[ident] = item
            elif ident not in missing:
                missing.append(ident)
        if missing and self._settled(PROJECTS) and self._settled(MEMBERSHIPS):
            found.update(self._load_persons(missing))
            return found
        for ident in missing:
            person = uow._get(PERSONS, ident)
            if person is not None:
                found[ident] = person
        return found

    def _settled(self, mapping: TableMapping[Any]) -> bool:
        """Whether the database holds this unit of work's rows of ``mapping`` as it sees
        them: only then may people be loaded with the facts of their access (a project or
        membership added or changed here but not yet written must not be answered from
        the database)."""
        staged = self._uow._staged[mapping.kind]
        return not staged.added and not staged.changed

    def _load_persons(self, idents: list[UUID]) -> dict[UUID, Person]:
        """Load people together with their further memberships and their organisations'
        projects, which the policy asks for next whenever it resolves a customer's access
        and an operation reads next (the project a ticket is opened in): one round trip
        for all of them."""
        uow = self._uow
        params: dict[str, object] = {"tenant": uow.tenant_id}
        if len(idents) == 1:
            stmt, params["ident"] = _PERSON_WITH_PROJECTS, idents[0]
        else:
            stmt = _PERSONS_WITH_PROJECTS_ANY if self._array_params else _PERSONS_WITH_PROJECTS
            params["idents"] = idents
        rows = uow._connector.reader().execute(stmt, params).all()
        people = uow._staged[PERSONS.kind].known
        projects = uow._staged[PROJECTS.kind].known
        by_org: dict[UUID, set[UUID]] = {}
        found: dict[UUID, Person] = {}
        memberships: dict[UUID, dict[UUID, Membership]] = {}
        granted: set[UUID] = set()
        for row in rows:
            person = found.get(row.id)
            if person is None:
                person = found[row.id] = people[row.id] = PERSONS.from_row(uow._conv, row)
                memberships[person.id] = {}
            if row.person_granted or row.home_granted or row.member_granted:
                granted.add(person.id)
            by_org.setdefault(person.organisation_id, set())
            if row.member_id is not None:
                by_org.setdefault(row.member_organisation_id, set())
                if row.member_id not in memberships[person.id]:
                    member = cast(Row[Any], _Prefixed(row, "member_"))
                    memberships[person.id][row.member_id] = MEMBERSHIPS.from_row(uow._conv, member)
            if row.project_id is not None:
                by_org.setdefault(row.project_organisation_id, set()).add(row.project_id)
                if row.project_id not in projects:
                    # _project reads its row by attribute name, which _Prefixed provides.
                    joined = cast(Row[Any], _Prefixed(row, "project_"))
                    projects[row.project_id] = PROJECTS.from_row(uow._conv, joined)
            self.sharing_set = bool(row.sharing_set)
            if self._settled(ORGANISATIONS):
                if not row.home_has_children:
                    self.childless.add(person.organisation_id)
                if row.member_id is not None and not row.member_has_children:
                    self.childless.add(row.member_organisation_id)
        for org, ids in by_org.items():
            self.project_ids.setdefault(frozenset({org}), frozenset(ids))
        for person_id, mine in memberships.items():
            self.memberships[person_id] = sorted(mine.values(), key=lambda m: (m.created_at, m.id))
        customers = [p for p in found.values() if not p.role.is_staff]
        if customers and self._settled(GRANTS):
            holders = [p for p in customers if p.id in granted]
            for person in customers:
                if person.id not in granted:
                    self.grants[person.id] = []
            if holders:
                self._load_grants(holders)
        return found

    def _load_grants(self, customers: list[Person]) -> None:
        """The terms of the active grants of all ``customers`` (to them or to one of their
        organisations) in one query, which resolving their access reads next."""
        persons = {p.id for p in customers}
        orgs = {p.organisation_id for p in customers}
        for person in customers:
            orgs |= {m.organisation_id for m in self.memberships.get(person.id, ())}
        loaded = self._grant_terms(persons, orgs)
        for person in customers:
            mine = self.memberships.get(person.id, [])
            member_of = {person.organisation_id} | {m.organisation_id for m in mine}
            self.grants[person.id] = [
                g
                for g in loaded
                if g.grantee_person_id == person.id or g.grantee_organisation_id in member_of
            ]

    def project_ids_of(self, organisation_ids: Iterable[UUID]) -> frozenset[UUID]:
        orgs = frozenset(organisation_ids)
        if not orgs:
            return frozenset()
        cached = self.project_ids.get(orgs)
        if cached is not None:
            return cached
        uow = self._uow
        uow._flush(PROJECTS)
        params = {"tenant": uow.tenant_id, "orgs": list(orgs)}
        found = frozenset(uow._connector.reader().execute(_PROJECT_IDS, params).scalars())
        self.project_ids[orgs] = found
        return found

    def active_grants(self, person_id: UUID, organisation_ids: Iterable[UUID]) -> list[GrantTerms]:
        cached = self.grants.get(person_id)
        if cached is not None:
            return cached
        # One query, on the grantee indexes (expiry is the policy's to judge, by its clock).
        return self._grant_terms({person_id}, set(organisation_ids))

    def _grant_terms(self, persons: set[UUID], orgs: set[UUID]) -> list[GrantTerms]:
        """The terms of the active grants to any of ``persons`` or ``orgs``, this unit of
        work's own grants written first."""
        uow = self._uow
        uow._flush(GRANTS)
        params = {"tenant": uow.tenant_id, "persons": list(persons), "orgs": list(orgs)}
        rows = uow._connector.reader().execute(_GRANT_TERMS, params).all()
        return [
            GrantTerms(
                id=r[0],
                project_id=r[1],
                organisation_id=r[6],
                scope=decode_scope(r[2]),
                expires_at=r[3],
                grantee_person_id=r[4],
                grantee_organisation_id=r[5],
            )
            for r in rows
        ]

    def memberships_of(self, person_id: UUID) -> list[Membership]:
        cached = self.memberships.get(person_id)
        if cached is not None:
            return cached
        return super().memberships_of(person_id)


__all__ = ["Access"]
