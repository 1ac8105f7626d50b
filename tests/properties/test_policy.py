"""Property tests of the visibility policy.

Random histories of operations by people of every role are played on a help desk; then, for
every person, what the API shows must be exactly what the policy predicates allow, and
customers must never see internal data. The same history played on the in-memory adapter
and on SQL backends must show every person exactly the same things: the predicates
evaluated in memory and compiled to SQL agree.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.world import World, build_world
from ticketkit.adapters.memory import MemoryStorage
from ticketkit.application import CommentDraft, HelpDesk
from ticketkit.clock import ManualClock
from ticketkit.domain import Person, Visibility
from ticketkit.errors import NotFound, PermissionDenied, ValidationError
from ticketkit.policy import TRUE, evaluate
from ticketkit.ports import OrderBy, Storage

PEOPLE = ["admin", "agent", "agent2", "light_agent", "acme_guest", "acme_admin", "globex_guest"]
PROJECTS = ["acme_project", "globex_project", "internal_project"]
STATUSES = ["new", "open", "pending", "solved", "closed"]

op = st.one_of(
    st.tuples(
        st.just("create"),
        st.sampled_from(PEOPLE),
        st.sampled_from(PROJECTS),
        st.sampled_from(["Gold", "Silver"]),
    ),
    st.tuples(
        st.just("comment"),
        st.sampled_from(PEOPLE),
        st.integers(0, 7),
        st.sampled_from(list(Visibility)),
    ),
    st.tuples(
        st.just("assign"),
        st.sampled_from(PEOPLE),
        st.integers(0, 7),
        st.sampled_from(["agent", "agent2", None]),
    ),
    st.tuples(
        st.just("status"), st.sampled_from(PEOPLE), st.integers(0, 7), st.sampled_from(STATUSES)
    ),
    st.tuples(
        st.just("internal_field"),
        st.sampled_from(PEOPLE),
        st.integers(0, 7),
        st.sampled_from(["CC-1", "CC-2"]),
    ),
    st.tuples(
        st.just("public_field"),
        st.sampled_from(PEOPLE),
        st.integers(0, 7),
        st.sampled_from(["rack 1", "rack 2"]),
    ),
)
histories = st.lists(op, min_size=1, max_size=25)


def counter_ids(base: int) -> Callable[[], UUID]:
    state = {"n": 0}

    def new_id() -> UUID:
        state["n"] += 1
        return UUID(int=(base + state["n"]) % (1 << 128))

    return new_id


def play(storage: Storage, history: list[tuple[Any, ...]], base: int) -> World:
    clock = ManualClock(datetime(2026, 3, 28, 23, 0, tzinfo=UTC))
    desk = HelpDesk(storage, clock=clock, new_id=counter_ids(base))
    w = build_world(desk, clock, name=f"T{base}")
    tickets: list[UUID] = []
    for kind, who, target, arg in history:
        actor = getattr(w, who).actor
        clock.advance(timedelta(minutes=7))
        try:
            if kind == "create":
                tickets.append(
                    desk.create_ticket(
                        actor,
                        project_id=getattr(w, target).id,
                        type_id=w.incident.id,
                        title=f"T{len(tickets)}",
                        fields={"sla_level": arg},
                    ).id
                )
                continue
            if not tickets:
                continue
            tid = tickets[target % len(tickets)]
            if kind == "comment":
                desk.add_comment(actor, tid, f"{arg.value} by {who}", visibility=arg)
            elif kind == "assign":
                desk.assign(actor, tid, getattr(w, arg).id if arg else None)
            elif kind == "status":
                desk.change_status(
                    actor,
                    tid,
                    arg,
                    comment=CommentDraft(body=f"moving to {arg}", visibility=Visibility.PUBLIC),
                )
            elif kind == "internal_field":
                desk.update_ticket(actor, tid, fields={"cost_centre": arg})
            else:
                desk.update_ticket(actor, tid, fields={"notes": arg})
        except (NotFound, PermissionDenied, ValidationError):
            pass
    return w


def everything_shown_to(w: World, person: Person) -> dict[str, Any]:
    """All a person can learn through the API: pages of tickets, views, timelines."""
    desk = w.desk
    listed, cursor = [], None
    for sort in ("newest", "recently_updated"):
        cursor = None
        while True:
            page = desk.list_tickets(person.actor, sort=sort, limit=3, cursor=cursor)
            listed.append([t for t in page.items])
            cursor = page.next_cursor
            if cursor is None:
                break
    views = {t.id: t for page in listed for t in page}
    return {
        "pages": listed,
        "timelines": {tid: desk.timeline(person.actor, tid) for tid in sorted(views)},
        "projects": desk.list_projects(person.actor),
        "people": desk.list_people(person.actor),
        "organisations": desk.list_organisations(person.actor),
    }


def check_policy_invariants(storage: Storage, w: World) -> None:
    desk, policy = w.desk, w.desk.policy
    with storage.unit_of_work(w.provider.tenant_id) as uow:
        all_tickets = uow.tickets.query(TRUE, [OrderBy("number")], 10_000)
        all_comments = {t.id: uow.comments.for_ticket(t.id, TRUE) for t in all_tickets}
        all_events = {t.id: uow.events.for_ticket(t.id, TRUE) for t in all_tickets}
        viewers = {p.id: policy.viewer(p, uow.access, w.clock.now()) for p in w.everyone}
        projects = {p.id: p for p in uow.projects.list(TRUE)}
        everyone = uow.persons.list(TRUE)
        organisations = uow.organisations.list(TRUE)
    for person in w.everyone:
        viewer = viewers[person.id]
        allowed = {t.id for t in all_tickets if evaluate(policy.tickets(viewer), t)}
        shown = everything_shown_to(w, person)
        listed = [t.id for page in shown["pages"][:1] for t in page]
        listed = [t.id for page in shown["pages"] for t in page]
        assert set(listed) == allowed
        assert len(listed) == 2 * len(allowed), "each sort lists every ticket exactly once"
        people = {p.id for p in everyone if evaluate(policy.people(viewer), p)}
        assert {p.id for p in shown["people"]} == people
        orgs = {o.id for o in organisations if evaluate(policy.organisations(viewer), o)}
        assert {o.id for o in shown["organisations"]} == orgs
        for o in organisations:
            if o.id in orgs:
                assert desk.get_organisation(person.actor, o.id) == o
            else:
                with pytest.raises(NotFound):
                    desk.get_organisation(person.actor, o.id)
        for t in all_tickets:
            if t.id in allowed:
                assert desk.get_ticket(person.actor, t.id).id == t.id
            else:
                with pytest.raises(NotFound):
                    desk.get_ticket(person.actor, t.id)
                with pytest.raises(NotFound):
                    desk.timeline(person.actor, t.id)
        for tid, timeline in shown["timelines"].items():
            comments = [c for c in all_comments[tid] if evaluate(policy.comments(viewer), c)]
            events = [e for e in all_events[tid] if evaluate(policy.events(viewer), e)]
            assert [e.event.id for e in timeline] == [e.id for e in events]
            view = desk.get_ticket(person.actor, tid)
            assert view.comment_count == len(comments)
            if not person.role.is_staff:
                assert projects[view.project_id].organisation_id == person.organisation_id
                assert view.assignee_id is None and "cost_centre" not in view.fields
                for entry in timeline:
                    assert entry.event.visibility is Visibility.PUBLIC or (
                        entry.event.organisation_id == person.organisation_id
                    )
                    assert entry.event.kind != "ticket_assigned"
                    assert "CC-" not in repr(entry)
                    if entry.comment is not None:
                        assert entry.comment.visibility is Visibility.PUBLIC


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories)
def test_api_shows_each_role_exactly_what_the_policy_allows(history: list[tuple[Any, ...]]) -> None:
    storage = MemoryStorage()
    w = play(storage, history, uuid.uuid4().int)
    check_policy_invariants(storage, w)


def comparable(shown: dict[str, Any]) -> dict[str, Any]:
    return {
        "pages": shown["pages"],
        "timelines": shown["timelines"],
        "projects": shown["projects"],
        "people": shown["people"],
        "organisations": shown["organisations"],
    }


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_memory_and_sql_show_every_role_the_same(
    backend: str, request: pytest.FixtureRequest
) -> None:
    from ticketkit.adapters.sqlalchemy import SqlStorage

    sql = SqlStorage(request.getfixturevalue(f"{backend}_engine"))

    @settings(
        max_examples=25 if backend == "sqlite" else 15,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(history=histories)
    def agree(history: list[tuple[Any, ...]]) -> None:
        base = uuid.uuid4().int
        mem_world = play(MemoryStorage(), history, base)
        sql_world = play(sql, history, base)
        for who in PEOPLE:
            in_memory = everything_shown_to(mem_world, getattr(mem_world, who))
            in_sql = everything_shown_to(sql_world, getattr(sql_world, who))
            assert comparable(in_sql) == comparable(in_memory), who
        check_policy_invariants(sql, sql_world)

    agree()
