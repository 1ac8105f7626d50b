"""Pages of people whose access is wider than one organisation (issue 18): a technical
supporter holding 50 grants and a parent-organisation user over 20 children, beside a plain
guest, among 100,000 tickets.

Each figure is the p95 of the person's first ticket page (25, newest first); the bar is the
supporter's p95, and the parent user's, within 2x the plain guest's, in the same run. The
tickets are spread evenly over the plain guest's project, the supporter's 50 and the 20
children's. A second supporter holds 40 grants of small projects (20 old tickets each, on
top of the total) that the others' tickets bury: her page must not read the tenant's
tickets to find her few. The parent user is a guest of "Holding", whose setting
``sharing.child_organisations`` is ``read``: she reads the projects of its 20 children.
Resolving access costs one read of the person's grants (O(grants)), or of the organisation
tree and the children's projects, never a query per ticket: the statement count per page is
printed too.

    python bench/access.py [--tickets 100000] [--grants 50] [--children 20]
                           [--backend sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from tickets import DEFAULT_PG, PG_SCHEMA, Loader, Setup, fresh_schema, latency

from ticketkit import HelpDesk, OrganisationKind, Role
from ticketkit.adapters.sqlalchemy import (
    SqlStorage,
    create_postgres_engine,
    create_sqlite_engine,
    upgrade,
)


class Statements:
    """Counts the statements an engine runs while ``on``."""

    def __init__(self, engine: sa.Engine) -> None:
        self.count, self.on = 0, False
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: Any) -> None:
        if self.on:
            self.count += 1


def supporter(desk: HelpDesk, admin: Any, name: str, grants: int) -> tuple[Any, list[Any]]:
    """A customer admin of a partner firm holding ``grants`` grants, one per new customer's
    project; she and the projects."""
    partner = desk.create_organisation(admin, name=f"{name}'s firm", kind=OrganisationKind.CUSTOMER)
    person = desk.add_person(
        admin,
        organisation_id=partner.id,
        name=name,
        email=f"{name.lower()}@partner.example",
        role=Role.CUSTOMER_ADMIN,
    )
    projects = []
    for i in range(grants):
        org = desk.create_organisation(
            admin, name=f"{name}'s client {i}", kind=OrganisationKind.CUSTOMER
        )
        project = desk.create_project(admin, organisation_id=org.id, name=f"Site {i}")
        grant = desk.offer_grant(
            admin, project.id, grantee_person_id=person.id, scope=["read", "comment"]
        )
        desk.accept_grant(person.actor, grant.id)
        projects.append(project)
    return person, projects


def parent_user(desk: HelpDesk, admin: Any, children: int) -> tuple[Any, list[Any]]:
    """A guest of "Holding", which shares its ``children`` child organisations (one project
    each) to read; she and the children's projects."""
    holding = desk.create_organisation(admin, name="Holding", kind=OrganisationKind.CUSTOMER)
    person = desk.add_person(
        admin,
        organisation_id=holding.id,
        name="Hanna",
        email="hanna@holding.example",
        role=Role.GUEST,
    )
    projects = []
    for i in range(children):
        child = desk.create_organisation(
            admin, name=f"Holding child {i}", kind=OrganisationKind.CUSTOMER, parent_id=holding.id
        )
        projects.append(desk.create_project(admin, organisation_id=child.id, name=f"Branch {i}"))
    desk.set_setting(admin, "sharing.child_organisations", "read", organisation_id=holding.id)
    return person, projects


def run_backend(
    name: str, engine: sa.Engine, *, tickets: int, grants: int, children: int, runs: int
) -> None:
    upgrade(engine)
    storage = SqlStorage(engine)
    desk = HelpDesk(storage)
    setup = Setup(desk)
    admin = setup.admin
    print(f"\n== {name} ==")
    sam, supported = supporter(desk, admin, "Sam", grants)
    kim, small = supporter(desk, admin, "Kim", 40)
    hanna, branches = parent_user(desk, admin, children)
    loader = Loader(setup, storage)
    guest = setup.guests[0]
    for project in small:  # the oldest tickets
        loader.load(project.id, guest.id, 20, status=lambda k: "open")
    # The plain guest's project, the children's and the supported ones share the tickets
    # evenly (the plain guest's takes the remainder), loaded in that order: the supporter's
    # are the newest, as before the children came, and the children's lie under them.
    shared = [setup.projects[0], *branches, *supported]
    per_project = tickets // len(shared)
    rest = tickets - per_project * len(shared)
    for project in shared:
        n = per_project + (rest if project is setup.projects[0] else 0)
        loader.load(project.id, guest.id, n, status=lambda k: "open")
    counter = Statements(engine)

    def page(actor: Any) -> Any:
        return lambda: desk.list_tickets(actor, limit=25)

    people = (
        ("plain guest", guest.actor),
        (f"supporter, {grants} grants", sam.actor),
        ("supporter, 40 small", kim.actor),
        (f"parent, {children} children", hanna.actor),
    )
    for label, actor in people:
        counter.on, counter.count = True, 0
        page(actor)()
        counter.on = False
        p50, p95 = latency(page(actor), runs)
        print(
            f"{label:>22}: p50 {p50:.2f} ms  p95 {p95:.2f} ms  ({counter.count} statements "
            "per page)"
        )
        if label == "plain guest":
            plain95 = p95
        elif actor == sam.actor:
            print(f"supporter p95 ÷ plain guest p95: {p95 / plain95:.2f}x (bar 2x)")
        elif actor == hanna.actor:
            print(f"parent user p95 ÷ plain guest p95: {p95 / plain95:.2f}x (bar 2x)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--grants", type=int, default=50)
    parser.add_argument("--children", type=int, default=20)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--postgres-url", default=DEFAULT_PG)
    args = parser.parse_args(argv)
    sizes = {
        "tickets": args.tickets,
        "grants": args.grants,
        "children": args.children,
        "runs": args.runs,
    }
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            engine = create_sqlite_engine(Path(tmp) / "access.sqlite")
            run_backend("SQLite (file, WAL)", engine, **sizes)
            engine.dispose()
    if args.backend in ("postgres", "both"):
        fresh_schema(args.postgres_url, create=True)
        engine = create_postgres_engine(
            args.postgres_url, connect_args={"options": f"-csearch_path={PG_SCHEMA}"}
        )
        run_backend("PostgreSQL", engine, **sizes)
        engine.dispose()
        fresh_schema(args.postgres_url, create=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
