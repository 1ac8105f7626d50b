"""Text a host passes in gets the same clear answer on every backend, before any of it
reaches a driver (issue 17, point 2): NUL characters, lone surrogates, lengths."""

from __future__ import annotations

import pytest

from tests.support.snapshot import snapshot
from tests.support.world import World, build_world
from ticketkit import (
    CommentDraft,
    FieldKind,
    FieldSpec,
    HelpDesk,
    Status,
    ValidationError,
    Visibility,
    Workflow,
)
from ticketkit.clock import ManualClock
from ticketkit.domain import StatusCategory
from ticketkit.ports import Storage

SURROGATE = "broken \ud800 text"


@pytest.fixture
def world(storage: Storage, clock: ManualClock) -> World:
    return build_world(HelpDesk(storage, clock=clock), clock)


def tenant(world: World) -> object:
    return world.admin.tenant_id


CASES = [
    ("title with a lone surrogate", "create_ticket", {"title": SURROGATE}, "title"),
    ("description with NUL", "create_ticket", {"description": "a\x00b"}, "description"),
    ("text field with a lone surrogate", "create_ticket", {"notes": SURROGATE}, "fields.notes"),
    ("comment with a lone surrogate", "add_comment", {"body": SURROGATE}, "body"),
    ("e-mail with NUL", "add_person", {"email": "pat\x00@x.example"}, "email"),
    ("e-mail with a lone surrogate", "add_person", {"email": "p\ud800t@x.example"}, "email"),
    ("e-mail with a newline at the end", "add_person", {"email": "pat@x.example\n"}, "email"),
    ("name with a lone surrogate", "create_organisation", {"name": SURROGATE}, "name"),
]


def run(world: World, operation: str, change: dict[str, object]) -> object:
    desk, admin = world.desk, world.admin.actor
    if operation == "create_ticket":
        fields = {"sla_level": "Gold"}
        if "notes" in change:
            fields["notes"] = str(change.pop("notes"))
        args = {
            "project_id": world.acme_project.id,
            "type_id": world.incident.id,
            "title": "Down",
            "fields": fields,
            **change,
        }
        return desk.create_ticket(world.acme_guest.actor, **args)  # type: ignore[arg-type]
    if operation == "add_comment":
        ticket = desk.create_ticket(
            world.acme_guest.actor,
            project_id=world.acme_project.id,
            type_id=world.incident.id,
            title="Down",
            fields={"sla_level": "Gold"},
        )
        return desk.add_comment(
            world.agent.actor, ticket.id, str(change["body"]), visibility="public"
        )
    if operation == "add_person":
        args = {"organisation_id": world.acme.id, "name": "Pat", "role": "guest", **change}
        return desk.add_person(admin, **args)  # type: ignore[arg-type]
    return desk.create_organisation(admin, **change)  # type: ignore[arg-type]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_text_every_backend_cannot_store_alike_is_refused_naming_the_field(
    world: World, storage: Storage, case: tuple[str, str, dict[str, object], str]
) -> None:
    name, operation, change, field = case
    before = snapshot(storage, tenant(world))  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as caught:
        run(world, operation, dict(change))
    assert field in caught.value.fields, name
    if operation != "add_comment":  # that case opens a ticket first, on purpose
        assert snapshot(storage, tenant(world)) == before  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: FieldSpec(name="a", label="A\x00", kind=FieldKind.TEXT), "label"),
        (lambda: FieldSpec(name="a", label=SURROGATE, kind=FieldKind.TEXT), "label"),
        (lambda: FieldSpec(name="a", label="x" * 201, kind=FieldKind.TEXT), "label"),
        (lambda: FieldSpec(name="a", label="", kind=FieldKind.TEXT), "label"),
        (
            lambda: FieldSpec(
                name="a", label="A", kind=FieldKind.SINGLE_CHOICE, choices=("ok", "n\x00")
            ),
            "choices",
        ),
        (
            lambda: FieldSpec(
                name="a", label="A", kind=FieldKind.SINGLE_CHOICE, choices=("ok", "y" * 201)
            ),
            "choices",
        ),
        (lambda: FieldSpec(name=7, label="A", kind=FieldKind.TEXT), "name"),  # type: ignore[arg-type]
        (lambda: FieldSpec(name="a", label="A", kind="bogus"), "kind"),  # type: ignore[arg-type]
        (lambda: Status(key="new", label="New", category="nope"), "category"),  # type: ignore[arg-type]
        (lambda: Status(key="new", label="N\x00", category=StatusCategory.NEW), "label"),
        (lambda: Status(key="new", label=SURROGATE, category=StatusCategory.NEW), "label"),
    ],
)
def test_labels_and_choices_are_checked_like_any_text(build: object, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        build()  # type: ignore[operator]
    assert field in caught.value.fields


def test_a_workflow_with_a_good_label_still_builds() -> None:
    new = Status(key="new", label="Neu, offen \u00e4\u00f6\u00fc", category=StatusCategory.NEW)
    assert Workflow(statuses=(new,), initial="new", transitions=frozenset()).status("new") == new


ANY_ID = "0195f1e2-0000-7000-8000-000000000000"


def forged_cursor(*values: object) -> str:
    import base64
    import json

    raw = json.dumps(list(values), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"status": "open\x00"}, "status"),
        ({"status": ["open", 7]}, "status"),
        ({"status": 7}, "status"),
        ({"status": b"open"}, "status"),
        ({"category": [f"c{i}" for i in range(100_000)]}, "category"),
        ({"cursor": forged_cursor("newest", "2026-01-01T00:00:00+00:00", 10**30)}, "cursor"),
        ({"cursor": forged_cursor("newest", "2026-01-01T00:00:00+00:00", "not-an-id")}, "cursor"),
        ({"cursor": forged_cursor("newest", True)}, "cursor"),
        ({"cursor": forged_cursor("newest", -1, ANY_ID)}, "cursor"),
        (
            {
                "sort": "recently_updated",
                "cursor": forged_cursor("recently_updated", "9999-12-31T23:59:59+00:00", ANY_ID),
            },
            None,
        ),
        (
            {
                "sort": "recently_updated",
                "cursor": forged_cursor("recently_updated", "9999-12-31T23:59:59-23:59", ANY_ID),
            },
            "cursor",
        ),
    ],
)
def test_list_filters_and_cursors_get_the_same_answer_on_every_backend(
    world: World, arguments: dict[str, object], field: str | None
) -> None:
    if field is None:
        assert world.desk.list_tickets(world.agent.actor, **arguments).items == ()  # type: ignore[arg-type]
        return
    with pytest.raises(ValidationError) as caught:
        world.desk.list_tickets(world.agent.actor, **arguments)  # type: ignore[arg-type]
    assert field in caught.value.fields


@pytest.mark.parametrize("ident", ["not-an-id", 42, None, b"\x00" * 16])
def test_an_organisation_id_of_the_wrong_type_is_refused_naming_it_on_every_backend(
    world: World, ident: object
) -> None:
    """Decided by the value's type before anything is looked up, so it tells nothing about
    what exists (tests/operations/test_wrong_types.py does the same for every argument)."""
    admin = world.admin.actor
    for call in (
        lambda: world.desk.create_project(admin, organisation_id=ident, name="P"),  # type: ignore[arg-type]
        lambda: world.desk.add_person(
            admin,
            organisation_id=ident,
            name="P",
            email="p@x.example",
            role="guest",  # type: ignore[arg-type]
        ),
    ):
        with pytest.raises(ValidationError) as caught:
            call()
        assert set(caught.value.fields) == {"organisation_id"}
    if ident is not None:
        with pytest.raises(ValidationError) as caught:
            world.desk.create_organisation(admin, name="O", parent_id=ident)  # type: ignore[arg-type]
        assert set(caught.value.fields) == {"parent_id"}


def test_enum_valued_arguments_take_their_string_values(world: World, storage: Storage) -> None:
    spec = FieldSpec(name="topic", label="Topic", kind="single_choice", choices=("a", "b"))  # type: ignore[arg-type]
    assert spec.kind is FieldKind.SINGLE_CHOICE
    status = Status(key="waiting", label="Waiting", category="pending")  # type: ignore[arg-type]
    assert status.category is StatusCategory.PENDING
    kind = world.desk.create_ticket_type(world.admin.actor, name="Topics", fields=(spec,))
    made = world.desk.create_ticket(
        world.acme_guest.actor,
        project_id=world.acme_project.id,
        type_id=kind.id,
        title="Which?",
        fields={"topic": "a"},
        priority="high",
    )
    view = world.desk.change_status(
        world.agent.actor,
        made.id,
        "open",
        comment=CommentDraft(body="Yes", visibility="public"),  # type: ignore[arg-type]
    )
    assert (view.priority, view.status) == ("high", "open")
    entries = world.desk.timeline(world.acme_guest.actor, made.id)
    assert [e.comment.visibility for e in entries if e.comment] == [Visibility.PUBLIC]
