"""Every public operation, fed a value of the wrong type in each argument, answers with a
``ValidationError`` naming that argument, on every backend, and writes nothing (issue 17,
point 2).

The operations are found by introspecting the façade, so an operation added without a
valid call in ``VALID`` fails ``test_every_public_operation_has_a_valid_call``. The wrong
values of an argument are those of ``POOL`` that do not fit its annotation: a string where
an enum or an id is expected, a naive datetime, None where it is not optional, bytes, a
number where text is expected, a list where a mapping is expected, and so on. Arguments
that are values a host builds itself (``CommentDraft``, custom field values) are opened up
attribute by attribute, and so are ``FieldSpec``, ``Status`` and ``Workflow``.

An id of the wrong type is a ``ValidationError`` naming the argument: it is decided by the
value's type alone, before anything is looked up, so it tells nothing about what exists. A
UUID that names nothing (or nothing the person may see) stays ``NotFound``.

Each operation runs twice: alone (its own unit of work) and inside a ``Batch`` that then
commits, where an operation that staged a write before failing would show.
"""

from __future__ import annotations

import collections.abc
import enum
import inspect
import types
import typing
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

from tests.support.mailer import Mailer
from tests.support.snapshot import snapshot
from tests.support.world import World, build_world
from ticketkit import (
    Actor,
    Calendar,
    CommentDraft,
    FieldKind,
    FieldSpec,
    HelpDesk,
    Hours,
    ManualClock,
    Status,
    StatusCategory,
    TicketkitError,
    ValidationError,
    Workflow,
)
from ticketkit.adapters.memory import MemoryStorage
from ticketkit.application.operations import Operations
from ticketkit.domain.workflow import default_workflow
from ticketkit.hooks import Plugins
from ticketkit.ports import Storage

NAIVE = datetime(2026, 5, 22, 12, 0)

#: Values of many types; an argument gets each of those its annotation does not allow.
POOL: list[tuple[str, object]] = [
    ("None", None),
    ("text", "not-a-valid-value"),
    ("id as text", "0190c1d2-7a10-7c00-8000-000000000001"),
    ("bytes", b"bytes"),
    ("int", 7),
    ("bool", True),
    ("float", 2.5),
    ("naive datetime", NAIVE),
    ("list", [7]),
    ("mapping", {"key": 7}),
    ("uuid", uuid.UUID(int=1)),
]


# -- does a value fit an annotation? --------------------------------------------------------


def fits(value: object, hint: Any) -> bool:
    """Whether ``value`` is of the type ``hint`` names (enums take their string values,
    tuples and frozensets any collection of fitting items)."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is typing.Any or hint is object:
        return True
    if hint is None or hint is type(None):
        return value is None
    if origin in (typing.Union, types.UnionType):
        return any(fits(value, a) for a in args)
    if origin is typing.Literal:
        return any(value is a or (value == a and type(value) is type(a)) for a in args)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return isinstance(value, hint) or (
            isinstance(value, str) and value in {m.value for m in hint}
        )
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is bool:
        return isinstance(value, bool)
    if hint is datetime:
        return isinstance(value, datetime) and value.tzinfo is not None
    if origin in (collections.abc.Mapping, dict):
        key, item = args
        return isinstance(value, collections.abc.Mapping) and all(
            fits(k, key) and fits(v, item) for k, v in value.items()
        )
    if origin in (collections.abc.Iterable, tuple, frozenset, list):
        if isinstance(value, str | bytes | collections.abc.Mapping) or not isinstance(
            value, collections.abc.Iterable
        ):
            return False
        return all(fits(i, args[0]) for i in value)
    if origin is collections.abc.Callable:
        return callable(value)
    if isinstance(hint, type):
        return isinstance(value, hint)
    raise AssertionError(f"no rule for {hint!r}")


# -- the operations and one valid call of each ----------------------------------------------


def public_operations() -> dict[str, inspect.Signature]:
    """The operations a host calls: the façade's public methods (defined in its
    capability mixins, ``Operations.__mro__``), and ``HelpDesk``'s own."""
    found = {}
    for cls in (*Operations.__mro__, HelpDesk):
        for name, member in vars(cls).items():
            if not name.startswith("_") and callable(member):
                found[name] = inspect.signature(member)
    return found


def hints(name: str) -> dict[str, Any]:
    method = getattr(HelpDesk, name)
    return {k: v for k, v in typing.get_type_hints(method).items() if k != "return"}


SPEC = FieldSpec(name="product", label="Product", kind=FieldKind.TEXT)
Args = Callable[["Shared"], dict[str, object]]


@attrs.frozen
class Shared:
    """One world per backend, with one ticket, shared by every case: a case writes
    nothing, which each one checks."""

    world: World
    storage: Storage
    ticket_id: uuid.UUID
    group_id: uuid.UUID
    #: A guest to invite, and two open invitations' tokens: to inspect, and to redeem.
    invitee_id: uuid.UUID
    tokens: tuple[str, str]
    #: A grant of Globex's project offered to Acme's guest, and Acme's open request for
    #: another project of Globex's.
    offer_id: uuid.UUID
    request_id: uuid.UUID
    #: Acme's own desk, a project to move the ticket to.
    desk_id: uuid.UUID
    #: The token of the offer to Gina, as its link carries it.
    offer_token: str
    #: A calendar and an SLA policy (Gold) of the tenant.
    calendar_id: uuid.UUID
    policy_id: uuid.UUID


def draft() -> CommentDraft:
    return CommentDraft(body="Looked into it", visibility="internal", channel="web")  # type: ignore[arg-type]


#: One valid call of every public operation (all arguments given), acting as the admin.
VALID: dict[str, Args] = {
    "create_organisation": lambda s: {
        "name": "Initech",
        "kind": "partner",
        "parent_id": s.world.acme.id,
    },
    "add_person": lambda s: {
        "organisation_id": s.world.acme.id,
        "name": "Pat",
        "email": "pat@x.example",
        "role": "guest",
    },
    "deactivate_person": lambda s: {"person_id": s.world.acme_guest.id},
    "change_contact_role": lambda s: {"person_id": s.world.acme_guest.id, "role": "customer_admin"},
    "create_project": lambda s: {
        "organisation_id": s.world.acme.id,
        "name": "Billing",
        "own_desk": True,
    },
    "move_ticket": lambda s: {
        "ticket_id": s.ticket_id,
        "project_id": s.desk_id,
        "expected_version": None,
    },
    "create_ticket_type": lambda s: {
        "name": "Question",
        "fields": (SPEC,),
        "description_template": "Hi",
        "workflow": default_workflow(),
        "organisation_id": s.world.acme.id,
        "shared": True,
        "confidential": False,
    },
    "add_membership": lambda s: {
        "person_id": s.world.globex_guest.id,
        "organisation_id": s.world.acme.id,
        "role": "customer_admin",
    },
    "end_membership": lambda s: {
        "person_id": s.world.acme_guest.id,
        "organisation_id": s.world.globex.id,
    },
    "change_membership_role": lambda s: {
        "person_id": s.world.acme_guest.id,
        "organisation_id": s.world.globex.id,
        "role": "customer_admin",
    },
    "list_memberships": lambda s: {
        "person_id": s.world.acme_guest.id,
        "organisation_id": None,
    },
    "get_person": lambda s: {"person_id": s.world.agent.id},
    "list_people": lambda s: {
        "organisation_id": s.world.acme.id,
        "email": "gina@x.example",
        "assignable": False,
        "limit": 10,
    },
    "list_ticket_types": lambda s: {},
    "seat_report": lambda s: {},
    "create_group": lambda s: {
        "name": "Second line",
        "member_ids": [s.world.agent2.id],
        "project_ids": [s.world.globex_project.id],
        "organisation_id": None,
    },
    "update_group": lambda s: {
        "group_id": s.group_id,
        "name": "First line, renamed",
        "member_ids": [s.world.agent.id],
        "project_ids": [s.world.acme_project.id],
    },
    "get_group": lambda s: {"group_id": s.group_id},
    "list_groups": lambda s: {
        "project_id": s.world.acme_project.id,
        "member_id": s.world.agent.id,
    },
    "list_followers": lambda s: {"ticket_id": s.ticket_id},
    "add_follower": lambda s: {"ticket_id": s.ticket_id, "person_id": s.world.agent2.id},
    "remove_follower": lambda s: {"ticket_id": s.ticket_id, "person_id": s.world.agent2.id},
    "list_projects": lambda s: {},
    "get_project_by_number": lambda s: {"number": s.world.acme_project.number},
    "offer_grant": lambda s: {
        "project_id": s.world.acme_project.id,
        "grantee_person_id": None,
        "grantee_organisation_id": s.world.globex.id,
        "scope": ["read", "comment"],
        "expires_at": datetime(2027, 1, 1, tzinfo=UTC),
    },
    "accept_grant": lambda s: {"actor": s.world.acme_guest.actor, "grant_id": s.offer_id},
    "accept_grant_by_token": lambda s: {
        "actor": s.world.acme_guest.actor,
        "token": s.offer_token,
    },
    "send_grant_offer": lambda s: {"grant_id": s.offer_id},
    "request_grant": lambda s: {
        "actor": s.world.acme_admin.actor,
        "project_number": s.world.globex_project.number,
        "scope": ["read", "administer"],
        "expires_at": datetime(2027, 1, 1, tzinfo=UTC),
    },
    "accept_grant_request": lambda s: {"grant_id": s.request_id},
    "decline_grant_request": lambda s: {"grant_id": s.request_id},
    "revoke_grant": lambda s: {"grant_id": s.offer_id},
    "list_grants": lambda s: {},
    "get_organisation": lambda s: {"organisation_id": s.world.acme.id},
    "list_organisations": lambda s: {},
    "list_invitations": lambda s: {"organisation_id": s.world.acme.id},
    "create_ticket": lambda s: {
        "project_id": s.world.acme_project.id,
        "type_id": s.world.incident.id,
        "title": "Down",
        "description": "All of it",
        "fields": {"sla_level": "Gold"},
        "priority": "high",
        "requester_id": s.world.acme_guest.id,
        "assignee_id": s.world.agent.id,
        "group_id": s.group_id,
        "channel": "web",
    },
    "get_ticket": lambda s: {"ticket_id": s.ticket_id},
    "get_ticket_by_number": lambda s: {"project_id": s.world.acme_project.id, "number": 1},
    "list_tickets": lambda s: {
        "status": "new",
        "category": "new",
        "project_id": s.world.acme_project.id,
        "assignee_id": s.world.agent.id,
        "requester_id": s.world.acme_guest.id,
        "type_id": s.world.incident.id,
        "group_id": s.group_id,
        "sort": "newest",
        "limit": 10,
        "cursor": None,
        "sla_due_before": datetime(2026, 6, 1, tzinfo=UTC),
    },
    "update_ticket": lambda s: {
        "ticket_id": s.ticket_id,
        "title": "Down again",
        "description": "Still",
        "priority": "urgent",
        "fields": {"servers": 3},
        "assignee_id": s.world.agent2.id,
        "group_id": s.group_id,
        "status": "open",
        "comment": draft(),
        "expected_version": None,
    },
    "assign": lambda s: {
        "ticket_id": s.ticket_id,
        "assignee_id": s.world.agent2.id,
        "group_id": s.group_id,
        "comment": draft(),
        "expected_version": None,
    },
    "change_status": lambda s: {
        "ticket_id": s.ticket_id,
        "status": "open",
        "comment": draft(),
        "expected_version": None,
    },
    "add_comment": lambda s: {
        "ticket_id": s.ticket_id,
        "body": "Hello",
        "visibility": "public",
        "channel": "web",
        "expected_version": None,
    },
    "set_setting": lambda s: {
        "name": "invitations.expiry",
        "value": 3600,
        "organisation_id": s.world.acme.id,
    },
    "clear_setting": lambda s: {"name": "invitations.expiry", "organisation_id": s.world.acme.id},
    "effective_setting": lambda s: {
        "name": "invitations.expiry",
        "person_id": s.world.acme_guest.id,
        "ticket_id": None,
    },
    "list_settings": lambda s: {"organisation_id": s.world.acme.id},
    "ticket_actions": lambda s: {"ticket_id": s.ticket_id},
    "create_calendar": lambda s: {
        "name": "Office",
        "calendar": {"zone": "Europe/Berlin", "week": {"mon": ["08:00-17:00"]}},
        "organisation_id": s.world.acme.id,
        "is_default": False,
    },
    "update_calendar": lambda s: {
        "calendar_id": s.calendar_id,
        "name": "Office hours",
        "calendar": Calendar.always("UTC"),
        "is_default": True,
    },
    "list_calendars": lambda s: {},
    "create_sla_policy": lambda s: {
        "name": "Silver",
        "targets": {"normal": {"first_response": timedelta(hours=8)}},
        "conditions": [{"attribute": "fields.sla_level", "values": ["Silver"]}],
        "calendar_id": s.calendar_id,
        "warnings": [80],
        "escalations": [{"on": "breach", "action": "notify", "group_id": s.group_id}],
        "position": 5,
    },
    "update_sla_policy": lambda s: {
        "policy_id": s.policy_id,
        "name": "Gold, renamed",
        "targets": {"urgent": {"resolution": timedelta(hours=4)}},
        "conditions": [],
        "calendar_id": None,
        "warnings": [50],
        "escalations": [],
        "position": 1,
    },
    "delete_sla_policy": lambda s: {"policy_id": s.policy_id},
    "list_sla_policies": lambda s: {},
    "ticket_sla": lambda s: {"ticket_id": s.ticket_id},
    "sla_summaries": lambda s: {"ticket_ids": [s.ticket_id]},
    "sweep_sla": lambda s: {"tenant_id": s.world.admin.tenant_id, "batch": 10, "progress": print},
    "sla_due_count": lambda s: {"tenant_id": s.world.admin.tenant_id},
    "timeline": lambda s: {"ticket_id": s.ticket_id},
    # HelpDesk's own: the one operation without an actor, delivery, and the batch.
    "bootstrap_tenant": lambda s: {
        "name": "New",
        "provider_name": "New Ltd",
        "admin_name": "Nia",
        "admin_email": "nia@new.example",
    },
    "deliver_pending": lambda s: {"tenant_id": s.world.admin.tenant_id, "limit": 10},
    "invite_guest": lambda s: {"person_id": s.invitee_id, "expires_in": timedelta(days=1)},
    "inspect_invitation": lambda s: {"tenant_id": s.world.admin.tenant_id, "token": s.tokens[0]},
    "redeem_invitation": lambda s: {"tenant_id": s.world.admin.tenant_id, "token": s.tokens[1]},
    "batch": lambda s: {},
    "flush": lambda s: {},
    "close": lambda s: {},
}
#: Operations without an acting person.
NO_ACTOR = {
    "bootstrap_tenant",
    "deliver_pending",
    "sweep_sla",
    "sla_due_count",
    "flush",
    "close",
    "inspect_invitation",
    "redeem_invitation",
}
#: Operations of ``HelpDesk`` alone, not run inside a batch.
DESK_ONLY = {
    "bootstrap_tenant",
    "deliver_pending",
    "sweep_sla",
    "sla_due_count",
    "flush",
    "close",
    "batch",
    "invite_guest",
    "inspect_invitation",
    "redeem_invitation",
    "send_grant_offer",
}
#: Of those, the ones whose valid call writes (an invitation issued, or used up).
DESK_WRITES = {"invite_guest", "redeem_invitation", "send_grant_offer"}


def test_every_public_operation_has_a_valid_call() -> None:
    """An operation added to the façade without an entry here fails this test, so it
    cannot escape the wrong-type cases below."""
    assert set(public_operations()) == set(VALID)


# -- the wrong values of each argument ------------------------------------------------------


@attrs.frozen
class Case:
    """One call: ``operation`` with the valid arguments, ``argument`` replaced."""

    operation: str
    argument: str  # as errors name it ("comment.body", "fields.since")
    label: str
    replace: Callable[[Shared, dict[str, object]], None]


def _set(name: str, value: object) -> Callable[[Shared, dict[str, object]], None]:
    def replace(shared: Shared, args: dict[str, object]) -> None:
        args[name] = value

    return replace


def _draft_with(attribute: str, value: object) -> Callable[[Shared, dict[str, object]], None]:
    def replace(shared: Shared, args: dict[str, object]) -> None:
        args["comment"] = attrs.evolve(draft(), **{attribute: value})

    return replace


def _field_value(name: str, value: object) -> Callable[[Shared, dict[str, object]], None]:
    def replace(shared: Shared, args: dict[str, object]) -> None:
        args["fields"] = {**args["fields"], name: value}  # type: ignore[dict-item]

    return replace


#: The hints of the incident type's field values, by kind (see tests/support/world.py).
FIELD_VALUE_HINTS: dict[FieldKind, Any] = {
    FieldKind.TEXT: str,
    FieldKind.NUMBER: int | float | Decimal,
    FieldKind.DATE: date,
    FieldKind.SINGLE_CHOICE: str,
    FieldKind.MULTIPLE_CHOICE: tuple[str, ...],
}


def wrong_values(hint: Any) -> list[tuple[str, object]]:
    return [(label, value) for label, value in POOL if not fits(value, hint)]


def actor_values() -> list[tuple[str, object]]:
    tenant, person = uuid.UUID(int=2), uuid.UUID(int=3)
    return [
        *wrong_values(Actor),
        ("actor with text ids", Actor(tenant_id=str(tenant), person_id=str(person))),  # type: ignore[arg-type]
        ("actor with a text person id", Actor(tenant_id=tenant, person_id=str(person))),  # type: ignore[arg-type]
        ("actor with bytes ids", Actor(tenant_id=tenant.bytes, person_id=person.bytes)),  # type: ignore[arg-type]
    ]


def cases() -> Iterator[Case]:
    from tests.support.world import INCIDENT_FIELDS

    for operation, signature in public_operations().items():
        if "actor" in signature.parameters:
            for label, value in actor_values():
                yield Case(operation, "actor", label, _set("actor", value))
        annotations = hints(operation)
        for name in signature.parameters:
            if name in ("self", "actor"):
                continue
            for label, value in wrong_values(annotations[name]):
                yield Case(operation, name, label, _set(name, value))
            if name == "comment":
                for attribute in attrs.fields(attrs.resolve_types(CommentDraft)):
                    for label, value in wrong_values(attribute.type):
                        yield Case(
                            operation,
                            f"comment.{attribute.name}",
                            label,
                            _draft_with(attribute.name, value),
                        )
            if name == "fields" and operation in ("create_ticket", "update_ticket"):
                for spec in INCIDENT_FIELDS:
                    if spec.internal:
                        continue
                    hint = FIELD_VALUE_HINTS[spec.kind]
                    if not spec.required:
                        hint = hint | None  # None clears an optional field
                    for label, value in wrong_values(hint):
                        if spec.kind is FieldKind.NUMBER and label == "id as text":
                            continue  # text of digits and dashes is no number: covered by "text"
                        yield Case(
                            operation, f"fields.{spec.name}", label, _field_value(spec.name, value)
                        )


CASES = list(cases())
BY_OPERATION: dict[str, list[Case]] = {}
for _case in CASES:
    BY_OPERATION.setdefault(_case.operation, []).append(_case)


# -- running them ---------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["memory", "sqlite", "postgres"])
def shared(request: pytest.FixtureRequest) -> Shared:
    if request.param == "memory":
        storage: Storage = MemoryStorage()
    else:
        from ticketkit.adapters.sqlalchemy import SqlStorage

        engine: sa.Engine = request.getfixturevalue(f"{request.param}_engine")
        storage = SqlStorage(engine)
    clock = ManualClock(datetime(2026, 5, 22, 12, 0, tzinfo=UTC))
    mailer = Mailer()
    world = build_world(HelpDesk(storage, clock=clock, plugins=Plugins.create([mailer])), clock)
    ticket = world.desk.create_ticket(
        world.acme_guest.actor,
        project_id=world.acme_project.id,
        type_id=world.incident.id,
        title="Down",
        fields={"sla_level": "Gold"},
    )
    group = world.desk.create_group(
        world.admin.actor,
        name="First line",
        member_ids=[world.agent.id, world.agent2.id],
        project_ids=[world.acme_project.id],
    )
    admin, desk = world.admin.actor, world.desk
    invitee = desk.add_person(
        admin, organisation_id=world.acme.id, name="Ivy", email="ivy@acme.example", role="guest"
    )
    desk.invite_guest(admin, world.acme_guest.id)
    desk.invite_guest(admin, world.globex_guest.id)
    offer = desk.offer_grant(
        admin, world.globex_project.id, grantee_person_id=world.acme_guest.id, scope=["read"]
    )
    web = desk.create_project(admin, organisation_id=world.globex.id, name="Globex Web")
    request = desk.request_grant(world.acme_admin.actor, web.number, ["read"])
    desk.add_membership(admin, world.acme_guest.id, world.globex.id, "guest")
    desk.send_grant_offer(admin, offer.id)
    own = desk.create_project(admin, organisation_id=world.acme.id, name="Acme IT", own_desk=True)
    calendar = desk.create_calendar(admin, name="Always", calendar=Calendar.always("UTC"))
    policy = desk.create_sla_policy(
        admin,
        name="Gold",
        conditions=[{"attribute": "fields.sla_level", "values": ["Gold"]}],
        targets={"normal": {"first_response": timedelta(hours=4)}},
    )
    return Shared(
        world=world,
        storage=storage,
        ticket_id=ticket.id,
        group_id=group.id,
        invitee_id=invitee.id,
        tokens=(mailer.sent[0].token, mailer.sent[1].token),
        offer_token=mailer.offers[-1].token,
        offer_id=offer.id,
        request_id=request.id,
        desk_id=own.id,
        calendar_id=calendar.id,
        policy_id=policy.id,
    )


class Rollback(Exception):
    """Leaves a batch without committing it."""


def invoke(shared: Shared, operation: str, args: dict[str, object], *, in_batch: bool) -> object:
    """Call ``operation`` with ``args`` (``actor`` among them) on the desk, or in a batch
    that commits afterwards (what a failing operation staged would then be written)."""
    desk = shared.world.desk
    args = dict(args)
    actor = args.pop("actor", None)
    if operation in NO_ACTOR:
        return getattr(desk, operation)(**args)
    if operation == "batch":
        with desk.batch(actor):  # type: ignore[arg-type]
            return None
    if not in_batch:
        return getattr(desk, operation)(actor, **args)
    failed: Exception | None = None
    with desk.batch(shared.world.admin.actor) as batch:
        try:
            result = getattr(batch, operation)(actor, **args)
        except Exception as error:
            failed = error
    if failed is not None:
        raise failed
    return result


def valid_args(shared: Shared, operation: str) -> dict[str, object]:
    args = VALID[operation](shared)
    if operation not in NO_ACTOR:
        args.setdefault("actor", shared.world.admin.actor)
    return args


def state(shared: Shared) -> object:
    return snapshot(shared.storage, shared.world.admin.tenant_id), set(shared.storage.tenant_ids())


def names(error: ValidationError, argument: str) -> bool:
    return any(
        f == argument or f.startswith((f"{argument}.", f"{argument}[")) for f in error.fields
    )


@pytest.mark.parametrize("operation", sorted(VALID))
def test_the_valid_call_of_each_operation_succeeds(shared: Shared, operation: str) -> None:
    """The baseline of the cases: with every argument right, the call goes through (in a
    batch left without committing, so the shared world stays as it is)."""
    before = state(shared)
    args = valid_args(shared, operation)
    wanted = set(public_operations()[operation].parameters) - {"self"}
    assert set(args) == wanted, "the valid call names every argument"
    if operation in DESK_ONLY:
        if operation == "bootstrap_tenant":
            args["name"] = "Baseline"
            boot = invoke(shared, operation, args, in_batch=False)
            assert boot is not None
            return  # a new tenant: the shared one is untouched
        if operation in DESK_WRITES:
            assert invoke(shared, operation, args, in_batch=False) is not None
            return
        invoke(shared, operation, args, in_batch=False)
        assert state(shared) == before
        return
    actor = args.pop("actor")
    with (
        pytest.raises(Rollback),
        shared.world.desk.batch(shared.world.admin.actor) as batch,
    ):
        getattr(batch, operation)(actor, **args)
        raise Rollback
    assert state(shared) == before


#: Operations that write: run in a batch too, where what a failing one staged would be
#: committed by the batch.
WRITES = {
    "create_organisation",
    "add_person",
    "deactivate_person",
    "change_contact_role",
    "create_project",
    "create_ticket_type",
    "create_ticket",
    "update_ticket",
    "assign",
    "change_status",
    "add_comment",
    "set_setting",
    "clear_setting",
    "create_calendar",
    "update_calendar",
    "create_sla_policy",
    "update_sla_policy",
    "delete_sla_policy",
}
RUNS = [
    pytest.param(operation, in_batch, id=f"{operation}-{'in a batch' if in_batch else 'alone'}")
    for operation in sorted(BY_OPERATION)
    for in_batch in (False, True)
    if not in_batch or operation in WRITES
]


@pytest.mark.parametrize(("operation", "in_batch"), RUNS)
def test_a_wrong_type_in_any_argument_is_a_validation_error_naming_it_and_writes_nothing(
    shared: Shared, operation: str, in_batch: bool
) -> None:
    failures = []
    before = state(shared)
    for case in BY_OPERATION[operation]:
        args = valid_args(shared, operation)
        case.replace(shared, args)
        try:
            invoke(shared, operation, args, in_batch=in_batch)
        except ValidationError as error:
            if not names(error, case.argument):
                failures.append(f"{case.argument} ({case.label}): names {list(error.fields)}")
        except TicketkitError as error:
            failures.append(f"{case.argument} ({case.label}): {error!r}")
        except Exception as error:
            failures.append(f"{case.argument} ({case.label}): {type(error).__name__}: {error}")
        else:
            failures.append(f"{case.argument} ({case.label}): accepted")
    # Compared once for all the cases of the operation (each comparison reads the whole
    # tenant); a case that was accepted is named above anyway.
    if state(shared) != before:
        failures.append("one of the cases wrote something")
    assert not failures, "\n".join(failures)


def test_the_cases_cover_every_argument_of_every_operation() -> None:
    """Each argument of each operation gets at least one wrong value (a hint that every
    pool value fits would leave an argument untested)."""
    covered = {(c.operation, c.argument) for c in CASES}
    for operation, signature in public_operations().items():
        for name in signature.parameters:
            if name != "self":
                assert (operation, name) in covered, (operation, name)


# -- values hosts build themselves ----------------------------------------------------------

VALUE_OBJECTS: dict[type, Callable[[], dict[str, object]]] = {
    FieldSpec: lambda: {
        "name": "topic",
        "label": "Topic",
        "kind": "single_choice",
        "required": True,
        "choices": ("a", "b"),
        "internal": False,
        "max_length": 100,
    },
    Status: lambda: {"key": "waiting", "label": "Waiting", "category": StatusCategory.PENDING},
    Workflow: lambda: {
        "statuses": default_workflow().statuses,
        "initial": "new",
        "transitions": frozenset({("new", "open")}),
    },
}


def value_cases() -> Iterator[tuple[type, str, str, object]]:
    for cls in VALUE_OBJECTS:
        for attribute in attrs.fields(attrs.resolve_types(cls)):
            for label, value in wrong_values(attribute.type):
                yield cls, attribute.name, label, value


VALUE_CASES = list(value_cases())


def test_each_value_object_builds_from_its_valid_attributes() -> None:
    for cls, valid in VALUE_OBJECTS.items():
        assert cls(**valid())


@pytest.mark.parametrize(
    ("cls", "attribute", "value"),
    [pytest.param(c, a, v, id=f"{c.__name__}.{a}-{label}") for c, a, label, v in VALUE_CASES],
)
def test_a_value_object_with_a_wrong_type_is_refused_naming_the_attribute(
    cls: type, attribute: str, value: object
) -> None:
    """``FieldSpec``, ``Status`` and ``Workflow`` refuse a wrong type when they are built;
    a ``CommentDraft`` is plain data until an operation takes it (see the cases above,
    ``comment.body`` and so on)."""
    args = {**VALUE_OBJECTS[cls](), attribute: value}
    with pytest.raises(ValidationError) as caught:
        cls(**args)
    assert attribute in caught.value.fields, caught.value


def calendar_cases() -> Iterator[tuple[str, str, object]]:
    """``Calendar.create``'s arguments and ``Hours``' attributes, each wrong in turn."""
    for name in inspect.signature(Calendar.create).parameters:
        hint = typing.get_type_hints(Calendar.create)[name]
        for label, value in wrong_values(hint):
            if name == "holiday_regions" and label in ("text", "id as text"):
                continue  # a str is iterable: its letters are refused as regions (by index)
            yield f"Calendar.create-{name}-{label}", name, value
    for attribute in attrs.fields(Hours):
        for label, value in wrong_values(int):
            yield f"Hours-{attribute.name}-{label}", attribute.name, value


@pytest.mark.parametrize(
    ("argument", "value"), [pytest.param(a, v, id=i) for i, a, v in calendar_cases()]
)
def test_calendar_parts_of_the_wrong_type_are_refused_naming_them(
    argument: str, value: object
) -> None:
    """Calendars are not an operation's argument yet, but hosts build them from their own
    settings: a wrong type there is a ``ValidationError`` too."""
    with pytest.raises(ValidationError) as caught:
        if argument in ("start", "end"):
            Hours(**{"start": 8 * 3600, "end": 17 * 3600, argument: value})  # type: ignore[arg-type]
        else:
            args: dict[str, Any] = {"zone": "Europe/Berlin", "week": {"mon-fri": "08:00-17:00"}}
            Calendar.create(**{**args, argument: value})
    assert names(caught.value, argument), caught.value
