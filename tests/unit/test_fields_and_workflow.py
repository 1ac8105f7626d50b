"""Field schemas and workflows refuse bad definitions and coerce input to typed values."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from ticketkit.adapters.memory import MemoryStorage
from ticketkit.application import HelpDesk
from ticketkit.clock import ManualClock
from ticketkit.domain import (
    FieldKind,
    FieldSpec,
    Status,
    StatusCategory,
    Tenant,
    TicketType,
    Workflow,
)
from ticketkit.domain.fields import MAX_CHOICES, validate_field_values
from ticketkit.domain.workflow import default_workflow
from ticketkit.errors import ValidationError

_NOW = datetime(2026, 5, 22, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        (
            {"name": "Bad Name", "kind": FieldKind.TEXT},
            "name",
            "'Bad Name' must be lower-case letters, digits and '_'",
        ),
        (
            {"name": "x", "kind": FieldKind.SINGLE_CHOICE},
            "choices",
            "field 'x' of kind single_choice needs choices",
        ),
        (
            {"name": "x", "kind": FieldKind.TEXT, "choices": ("a",)},
            "choices",
            "field 'x' of kind text takes none",
        ),
        (
            {"name": "x", "kind": FieldKind.MULTIPLE_CHOICE, "choices": ("a", "a")},
            "choices",
            "field 'x' has duplicate choices",
        ),
        (
            {
                "name": "x",
                "kind": FieldKind.SINGLE_CHOICE,
                "choices": tuple(f"c{i}" for i in range(MAX_CHOICES + 1)),
            },
            "choices",
            "field 'x' has more than 200",
        ),
        (
            {"name": "x", "kind": FieldKind.TEXT, "max_length": 0},
            "max_length",
            "must be between 1 and 4000",
        ),
    ],
    ids=["name", "no-choices", "choices-for-text", "duplicate-choices", "201-choices", "length"],
)
def test_bad_field_definitions_raise_a_validation_error_naming_the_attribute(
    kwargs: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        FieldSpec(label="X", **kwargs)  # type: ignore[arg-type]
    assert caught.value.fields == {field: message}


def test_a_field_may_have_exactly_the_most_choices() -> None:
    choices = tuple(f"c{i}" for i in range(MAX_CHOICES))
    assert FieldSpec(name="x", label="X", kind=FieldKind.SINGLE_CHOICE, choices=choices)


def test_a_bad_field_definition_names_every_bad_attribute_at_once() -> None:
    with pytest.raises(ValidationError) as caught:
        FieldSpec(name="X", label="X", kind=FieldKind.TEXT, choices=("a",), max_length=0)
    assert caught.value.fields == {
        "name": "'X' must be lower-case letters, digits and '_'",
        "choices": "field 'X' of kind text takes none",
        "max_length": "must be between 1 and 4000",
    }


@pytest.mark.parametrize(
    ("kind", "raw", "typed"),
    [
        (FieldKind.NUMBER, 3, Decimal(3)),
        (FieldKind.NUMBER, "2.50", Decimal("2.50")),
        (FieldKind.NUMBER, 0.1, Decimal("0.1")),
        (FieldKind.DATE, "2026-05-22", date(2026, 5, 22)),
        (FieldKind.DATE, date(2026, 1, 1), date(2026, 1, 1)),
        (FieldKind.TEXT, "hello", "hello"),
    ],
)
def test_values_are_coerced_to_their_kind(kind: FieldKind, raw: object, typed: object) -> None:
    value, problem = FieldSpec(name="f", label="F", kind=kind).coerce(raw)
    assert problem is None and value == typed


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        (FieldKind.NUMBER, True),
        (FieldKind.NUMBER, "NaN"),
        (FieldKind.NUMBER, "1e999999999999"),
        (FieldKind.NUMBER, [1]),
        (FieldKind.DATE, "22.05.2026"),
        (FieldKind.TEXT, "nul\x00"),
        (FieldKind.TEXT, b"bytes"),
    ],
)
def test_values_of_the_wrong_kind_are_refused(kind: FieldKind, raw: object) -> None:
    _, problem = FieldSpec(name="f", label="F", kind=kind).coerce(raw)
    assert problem


def test_multiple_choice_keeps_schema_order_without_duplicates() -> None:
    spec = FieldSpec(name="m", label="M", kind=FieldKind.MULTIPLE_CHOICE, choices=("a", "b", "c"))
    assert spec.coerce(["c", "a", "c"]) == (("a", "c"), None)


def test_internal_fields_are_reported_separately_from_unknown_ones() -> None:
    specs = (
        FieldSpec(name="pub", label="P", kind=FieldKind.TEXT, required=True),
        FieldSpec(name="sec", label="S", kind=FieldKind.TEXT, internal=True),
    )
    values, errors, forbidden = validate_field_values(
        specs, {"sec": "x", "zzz": 1}, may_set_internal=False, check_required=True
    )
    assert values == {}
    assert {e.field for e in errors} == {"fields.zzz", "fields.pub"}
    assert forbidden == ["fields.sec"]


_A = Status(key="a", label="A", category=StatusCategory.NEW)
_B = Status(key="b", label="B", category=StatusCategory.OPEN)


@pytest.mark.parametrize(
    ("statuses", "initial", "transitions", "field", "message"),
    [
        ((_A,), "b", set(), "initial", "'b' is not a status of this workflow"),
        ((_A, _A), "a", set(), "statuses", "status keys must be unique"),
        ((_A,), "a", {("a", "z")}, "transitions", "('a', 'z') names an unknown status"),
        ((_A, _B), "a", {("b", "b")}, "transitions", "('b', 'b') goes nowhere"),
    ],
    ids=["initial", "duplicate-keys", "unknown-target", "loop"],
)
def test_bad_workflows_raise_a_validation_error_naming_the_attribute(
    statuses: tuple[Status, ...],
    initial: str,
    transitions: set[tuple[str, str]],
    field: str,
    message: str,
) -> None:
    with pytest.raises(ValidationError) as caught:
        Workflow(statuses=statuses, initial=initial, transitions=frozenset(transitions))
    assert caught.value.fields == {field: message}


def test_a_workflow_without_statuses_names_the_statuses_and_its_initial_status() -> None:
    with pytest.raises(ValidationError) as caught:
        Workflow(statuses=(), initial="a", transitions=frozenset())
    assert caught.value.fields == {
        "statuses": "a workflow needs at least one status",
        "initial": "'a' is not a status of this workflow",
    }


def test_a_bad_status_key_raises_a_validation_error_naming_the_key() -> None:
    with pytest.raises(ValidationError) as caught:
        Status(key="Not OK", label="x", category=StatusCategory.OPEN)
    assert caught.value.fields == {"key": "'Not OK' must be lower-case letters, digits and '_'"}


def _ticket_type(fields: tuple[FieldSpec, ...] = (), created_at: datetime = _NOW) -> TicketType:
    return TicketType(
        tenant_id=uuid.uuid4(),
        id=uuid.uuid4(),
        name="Incident",
        fields=fields,
        workflow=default_workflow(),
        created_at=created_at,
    )


def test_a_ticket_type_refuses_two_fields_of_one_name_naming_fields() -> None:
    a = FieldSpec(name="a", label="A", kind=FieldKind.TEXT)
    b = FieldSpec(name="b", label="B", kind=FieldKind.NUMBER)
    with pytest.raises(ValidationError) as caught:
        _ticket_type(fields=(a, b, a, b))
    assert caught.value.fields == {"fields": "duplicate field names ['a', 'b']"}


def test_naive_datetimes_raise_a_validation_error_naming_the_attribute() -> None:
    naive = datetime(2026, 5, 22)
    with pytest.raises(ValidationError) as caught:
        _ticket_type(created_at=naive)
    assert caught.value.fields == {"created_at": "datetimes must be timezone-aware"}
    with pytest.raises(ValidationError) as caught:
        Tenant(id=uuid.uuid4(), name="T", created_at=naive)
    assert caught.value.fields == {"created_at": "datetimes must be timezone-aware"}


def test_create_ticket_type_reports_duplicate_field_names_as_before() -> None:
    # What the application reported when it parsed "fields: ..." out of a ValueError.
    desk = HelpDesk(MemoryStorage(), clock=ManualClock(_NOW))
    boot = desk.bootstrap_tenant(
        name="T", provider_name="T", admin_name="Ada", admin_email="ada@x.example"
    )
    spec = FieldSpec(name="a", label="A", kind=FieldKind.TEXT)
    with pytest.raises(ValidationError) as caught:
        desk.create_ticket_type(boot.admin.actor, name="X", fields=(spec, spec))
    assert caught.value.fields == {"fields": "duplicate field names ['a']"}


def test_default_workflow_allows_forward_moves_and_reopening() -> None:
    wf = default_workflow()
    assert wf.allows("new", "closed") and wf.allows("solved", "open")
    assert not wf.allows("closed", "new")
    assert wf.targets("pending") == ("open", "solved", "closed")


def test_ticket_copy_is_equal_and_independent() -> None:
    from ticketkit.domain import Priority, Ticket, Visibility

    now = datetime(2026, 5, 22, tzinfo=UTC)
    org = uuid.uuid4()
    t = Ticket(
        tenant_id=uuid.uuid4(),
        id=uuid.uuid4(),
        number=1,
        project_id=uuid.uuid4(),
        type_id=uuid.uuid4(),
        title="t",
        description="",
        fields={"a": "x"},
        status="new",
        status_category=StatusCategory.NEW,
        priority=Priority.HIGH,
        requester_id=uuid.uuid4(),
        created_at=now,
        updated_at=now,
        public_updated_at=now,
        comment_tally={(Visibility.PUBLIC, org): 1},
    )
    c = t.copy()
    assert c == t and c is not t
    c.fields["a"] = "y"
    c.comment_tally[(Visibility.PUBLIC, org)] = 2
    c.version = 2
    assert t.fields == {"a": "x"} and t.comment_tally[(Visibility.PUBLIC, org)] == 1
    assert t.version == 1
