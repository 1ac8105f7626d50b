"""Field schemas and workflows refuse bad definitions and coerce input to typed values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ticketkit.domain import FieldKind, FieldSpec, Status, StatusCategory, Workflow
from ticketkit.domain.fields import validate_field_values
from ticketkit.domain.workflow import default_workflow


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "Bad Name", "kind": FieldKind.TEXT}, "name"),
        ({"name": "x", "kind": FieldKind.SINGLE_CHOICE}, "choices"),
        ({"name": "x", "kind": FieldKind.TEXT, "choices": ("a",)}, "choices"),
        ({"name": "x", "kind": FieldKind.MULTIPLE_CHOICE, "choices": ("a", "a")}, "choices"),
        ({"name": "x", "kind": FieldKind.TEXT, "max_length": 0}, "max_length"),
    ],
)
def test_bad_field_definitions_name_the_attribute(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FieldSpec(label="X", **kwargs)  # type: ignore[arg-type]


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


def test_workflow_refuses_unknown_or_duplicate_statuses() -> None:
    s = Status(key="a", label="A", category=StatusCategory.NEW)
    with pytest.raises(ValueError, match="initial"):
        Workflow(statuses=(s,), initial="b", transitions=frozenset())
    with pytest.raises(ValueError, match="unique"):
        Workflow(statuses=(s, s), initial="a", transitions=frozenset())
    with pytest.raises(ValueError, match="unknown status"):
        Workflow(statuses=(s,), initial="a", transitions=frozenset({("a", "z")}))
    with pytest.raises(ValueError, match="key"):
        Status(key="Not OK", label="x", category=StatusCategory.OPEN)


def test_default_workflow_allows_forward_moves_and_reopening() -> None:
    wf = default_workflow()
    assert wf.allows("new", "closed") and wf.allows("solved", "open")
    assert not wf.allows("closed", "new")
    assert wf.targets("pending") == ("open", "solved", "closed")


def test_ticket_copy_is_equal_and_independent() -> None:
    import uuid
    from datetime import UTC, datetime

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
