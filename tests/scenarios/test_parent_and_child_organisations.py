"""Parent and child organisations (issue 18, point 5; seed 002), end to end on every backend.

Holding AG has two subsidiaries, and one of them a subsidiary of its own. Whether Holding's
guests and customer admins see the projects below it is the setting
``sharing.child_organisations`` on Holding: off by default, read, or read and write. Types
can be shared down the tree; a confidential type stays inside its organisation, even when
its parent sees the rest of its projects.
"""

from __future__ import annotations

import attrs
import pytest

from tests.support.world import World, build_world
from ticketkit import HelpDesk, ManualClock, NotFound, PermissionDenied, ValidationError
from ticketkit.domain import Organisation, Person, Project, TicketType
from ticketkit.ports import Storage

SHARING = "sharing.child_organisations"


@attrs.frozen
class Tree:
    w: World
    holding: Organisation
    retail: Organisation
    logistics: Organisation
    #: Retail's own subsidiary: a grandchild of Holding.
    outlet: Organisation
    hanna: Person  # Holding's guest
    hugo: Person  # Holding's customer admin
    rita: Person  # Retail's guest
    otto: Person  # Outlet's guest
    projects: dict[str, Project]
    #: Holding's type, shared down; Retail's own; Retail's confidential one.
    service: TicketType
    local: TicketType
    hr: TicketType


def ticket_titles(tree: Tree, who: Person) -> set[str]:
    return {t.title for t in tree.w.desk.list_tickets(who.actor, limit=100).items}


@pytest.fixture
def tree(storage: Storage, clock: ManualClock) -> Tree:
    w = build_world(HelpDesk(storage, clock=clock), clock)
    desk, a = w.desk, w.admin.actor
    holding = desk.create_organisation(a, name="Holding AG")
    retail = desk.create_organisation(a, name="Retail GmbH", parent_id=holding.id)
    logistics = desk.create_organisation(a, name="Logistics GmbH", parent_id=holding.id)
    outlet = desk.create_organisation(a, name="Outlet KG", parent_id=retail.id)

    def person(org: Organisation, name: str, role: str) -> Person:
        return desk.add_person(
            a, organisation_id=org.id, name=name, email=f"{name.lower()}@t.example", role=role
        )

    people = {
        "hanna": person(holding, "Hanna", "guest"),
        "hugo": person(holding, "Hugo", "customer_admin"),
        "rita": person(retail, "Rita", "guest"),
        "otto": person(outlet, "Otto", "guest"),
        "lea": person(logistics, "Lea", "guest"),
    }
    projects = {
        org.name: desk.create_project(a, organisation_id=org.id, name=f"{org.name} desk")
        for org in (holding, retail, logistics, outlet)
    }
    service = desk.create_ticket_type(
        a, name="Service request", organisation_id=holding.id, shared=True
    )
    local = desk.create_ticket_type(a, name="Retail local", organisation_id=retail.id)
    hr = desk.create_ticket_type(
        a, name="HR complaint", organisation_id=retail.id, confidential=True
    )
    openers = {
        "Holding AG": people["hanna"],
        "Retail GmbH": people["rita"],
        "Logistics GmbH": people["lea"],
        "Outlet KG": people["otto"],
    }
    for org_name, project in projects.items():
        desk.create_ticket(
            openers[org_name].actor,
            project_id=project.id,
            type_id=w.incident.id,
            title=f"{org_name}: printer",
            fields={"sla_level": "Gold"},
        )
    desk.create_ticket(
        people["rita"].actor,
        project_id=projects["Retail GmbH"].id,
        type_id=hr.id,
        title="Retail GmbH: complaint",
    )
    return Tree(
        w=w,
        holding=holding,
        retail=retail,
        logistics=logistics,
        outlet=outlet,
        hanna=people["hanna"],
        hugo=people["hugo"],
        rita=people["rita"],
        otto=people["otto"],
        projects=projects,
        service=service,
        local=local,
        hr=hr,
    )


def test_sharing_is_off_by_default_so_a_parent_sees_only_its_own(tree: Tree) -> None:
    assert ticket_titles(tree, tree.hanna) == {"Holding AG: printer"}
    assert ticket_titles(tree, tree.hugo) == {"Holding AG: printer"}
    assert ticket_titles(tree, tree.rita) == {"Retail GmbH: printer", "Retail GmbH: complaint"}


def test_read_sharing_shows_every_organisation_below_but_allows_nothing_there(tree: Tree) -> None:
    desk, a = tree.w.desk, tree.w.admin.actor
    desk.set_setting(a, SHARING, "read", organisation_id=tree.holding.id)
    below = {"Retail GmbH: printer", "Logistics GmbH: printer", "Outlet KG: printer"}
    for parent_user in (tree.hanna, tree.hugo):
        # The confidential ticket stays Retail's.
        assert ticket_titles(tree, parent_user) == {"Holding AG: printer", *below}
    retail_ticket = next(
        t for t in desk.list_tickets(tree.hanna.actor).items if t.title == "Retail GmbH: printer"
    )
    actions = desk.ticket_actions(tree.hanna.actor, retail_ticket.id)
    assert not actions.comment_public and not actions.fields
    with pytest.raises(PermissionDenied):
        desk.add_comment(tree.hanna.actor, retail_ticket.id, "Any news?", visibility="public")
    with pytest.raises(PermissionDenied):
        desk.create_ticket(
            tree.hanna.actor,
            project_id=tree.projects["Retail GmbH"].id,
            type_id=tree.w.incident.id,
            title="For Retail",
            fields={"sla_level": "Gold"},
        )
    # Sharing goes down, never up or sideways; the inherited value shows Retail's people
    # the organisation below Retail.
    assert ticket_titles(tree, tree.rita) == {
        "Retail GmbH: printer",
        "Retail GmbH: complaint",
        "Outlet KG: printer",
    }
    assert ticket_titles(tree, tree.otto) == {"Outlet KG: printer"}


def test_read_write_sharing_lets_a_parent_comment_and_open_tickets_below(tree: Tree) -> None:
    desk, a = tree.w.desk, tree.w.admin.actor
    desk.set_setting(a, SHARING, "read_write", organisation_id=tree.holding.id)
    retail = tree.projects["Retail GmbH"]
    opened = desk.create_ticket(
        tree.hanna.actor, project_id=retail.id, type_id=tree.service.id, title="New till"
    )
    desk.add_comment(tree.hanna.actor, opened.id, "Two of them", visibility="public")
    assert desk.get_ticket(tree.rita.actor, opened.id).title == "New till"
    # A ticket of the confidential type is out of her reach: she may not even choose it.
    with pytest.raises(NotFound):
        desk.create_ticket(
            tree.hanna.actor, project_id=retail.id, type_id=tree.hr.id, title="About Rita"
        )
    # Nothing internal through sharing.
    actions = desk.ticket_actions(tree.hanna.actor, opened.id)
    assert actions.comment_public and not actions.comment_internal


def test_a_child_may_turn_sharing_off_below_itself_without_changing_its_parent(
    tree: Tree,
) -> None:
    desk, a = tree.w.desk, tree.w.admin.actor
    desk.set_setting(a, SHARING, "read", organisation_id=tree.holding.id)
    desk.set_setting(a, SHARING, "off", organisation_id=tree.retail.id)
    assert "Outlet KG: printer" not in ticket_titles(tree, tree.rita)
    assert "Outlet KG: printer" in ticket_titles(tree, tree.hanna)
    desk.clear_setting(a, SHARING, organisation_id=tree.holding.id)
    assert ticket_titles(tree, tree.hanna) == {"Holding AG: printer"}


def test_types_are_shared_down_the_tree_and_confidential_ones_stay_home(tree: Tree) -> None:
    desk, a = tree.w.desk, tree.w.admin.actor
    names = {t.name for t in desk.list_ticket_types(tree.rita.actor)}
    assert names == {"Incident", "Service request", "Retail local", "HR complaint"}
    assert {t.name for t in desk.list_ticket_types(tree.otto.actor)} == {
        "Incident",
        "Service request",
    }
    assert {t.name for t in desk.list_ticket_types(tree.hanna.actor)} == {
        "Incident",
        "Service request",
    }
    desk.set_setting(a, SHARING, "read", organisation_id=tree.holding.id)
    # Seeing Retail's projects, Holding sees its types, except the confidential one.
    assert {t.name for t in desk.list_ticket_types(tree.hanna.actor)} == {
        "Incident",
        "Service request",
        "Retail local",
    }
    # Holding's shared type fits Outlet's project (two levels down); Retail's own type does
    # not fit Holding's project, nor Logistics' (a sibling).
    desk.create_ticket(
        tree.otto.actor,
        project_id=tree.projects["Outlet KG"].id,
        type_id=tree.service.id,
        title="Shelves",
    )
    for project in ("Holding AG", "Logistics GmbH"):
        with pytest.raises(ValidationError) as raised:
            desk.create_ticket(
                a, project_id=tree.projects[project].id, type_id=tree.local.id, title="Odd"
            )
        assert raised.value.errors[0].field == "type_id"
    # Staff see every ticket, the confidential one too (the provider serves them).
    assert "Retail GmbH: complaint" in ticket_titles(tree, tree.w.agent)


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"confidential": True}, "confidential"),
        ({"shared": True}, "shared"),
        ({"shared": True, "confidential": True, "owned": True}, "shared"),
    ],
)
def test_a_type_that_cannot_be_shared_or_kept_is_refused_naming_the_field(
    tree: Tree, options: dict[str, bool], field: str
) -> None:
    options = dict(options)
    owner = tree.retail.id if options.pop("owned", False) else None
    with pytest.raises(ValidationError) as raised:
        tree.w.desk.create_ticket_type(
            tree.w.admin.actor, name="Odd", organisation_id=owner, **options
        )
    assert [e.field for e in raised.value.errors] == [field]
