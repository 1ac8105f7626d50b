"""The wire format is pinned: golden JSON files round-trip through the project's converter."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ticketkit.adapters.sqlalchemy.engine import json_dumps, json_loads
from ticketkit.domain import (
    Change,
    CommentAdded,
    Event,
    FieldKind,
    FieldSpec,
    Priority,
    StatusCategory,
    StatusChanged,
    TicketAssigned,
    TicketChanged,
    TicketCreated,
    TicketType,
    Visibility,
    default_workflow,
)
from ticketkit.serialization import (
    event_data,
    event_from_dict,
    event_to_dict,
    generate_event_data,
    make_converter,
)

GOLDEN = Path(__file__).parent / "golden"
T, X, P = UUID(int=1), UUID(int=2), UUID(int=3)
AT = datetime(2026, 5, 22, 12, 0, tzinfo=UTC)
BASE: dict[str, Any] = {
    "tenant_id": T,
    "ticket_id": X,
    "at": AT,
    "actor_id": P,
    "organisation_id": T,
}

EVENTS: dict[str, Event] = {
    "ticket_created": TicketCreated(
        **BASE,
        id=UUID(int=10),
        seq=1,
        visibility=Visibility.PUBLIC,
        number=7,
        title="Down",
        description="It broke",
        project_id=UUID(int=4),
        type_id=UUID(int=5),
        requester_id=P,
        status="new",
        priority=Priority.HIGH,
        fields={
            "sla": "Gold",
            "systems": ("db", "api"),
            "n": Decimal("2.5"),
            "since": date(2026, 5, 22),
        },
    ),
    "ticket_changed": TicketChanged(
        **BASE,
        id=UUID(int=11),
        seq=2,
        visibility=Visibility.INTERNAL,
        changes=(
            Change(field="fields.cost", old=None, new=Decimal("10.00")),
            Change(field="title", old="a", new="b"),
        ),
    ),
    "ticket_assigned": TicketAssigned(
        **BASE,
        id=UUID(int=12),
        seq=3,
        visibility=Visibility.INTERNAL,
        old_assignee_id=None,
        new_assignee_id=P,
    ),
    "status_changed": StatusChanged(
        **BASE,
        id=UUID(int=13),
        seq=4,
        visibility=Visibility.PUBLIC,
        old_status="new",
        new_status="open",
        new_category=StatusCategory.OPEN,
    ),
    "comment_added": CommentAdded(
        **BASE,
        id=UUID(int=14),
        seq=5,
        visibility=Visibility.PUBLIC,
        comment_id=UUID(int=15),
        channel="email",
    ),
}


def check_golden(name: str, data: Any) -> None:
    path = GOLDEN / f"{name}.json"
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if os.environ.get("TICKETKIT_REGOLD"):
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text, f"wire format of {name} changed"


@pytest.mark.parametrize("kind", sorted(EVENTS))
def test_events_match_golden_json_and_round_trip(kind: str) -> None:
    conv = make_converter()
    event = EVENTS[kind]
    data = event_to_dict(conv, event)
    check_golden(f"event_{kind}", json.loads(json.dumps(data)))
    assert event_from_dict(conv, json.loads(json.dumps(data))) == event


@pytest.mark.parametrize("generated", [False, True])
@pytest.mark.parametrize("kind", sorted(EVENTS))
def test_event_data_is_the_wire_form_without_the_attributes_every_event_has(
    kind: str, generated: bool
) -> None:
    conv = make_converter()
    if generated:
        generate_event_data(conv)
    event = EVENTS[kind]
    full = event_to_dict(conv, event)
    common = {a.name for a in attrs.fields(Event)} | {"kind"}
    assert event_data(conv, event) == {k: v for k, v in full.items() if k not in common}


def test_event_data_follows_every_hook_of_a_host_converter() -> None:
    """A host's own converter is used in full: hooks for an event class and hooks added
    after the first event was stored both apply (only the storage's own converter gets
    generated functions)."""
    event = EVENTS["comment_added"]
    own = make_converter()
    assert event_data(own, event)["comment_id"] == str(UUID(int=15))
    own.register_unstructure_hook(UUID, lambda u: u.hex)
    assert event_data(own, event)["comment_id"] == UUID(int=15).hex
    own.register_unstructure_hook(CommentAdded, lambda e: {"redacted": True})
    assert event_data(own, event) == {"redacted": True}


@pytest.mark.parametrize(
    "value",
    [{}, [], 0, "", None, False, {"a": [1, None]}, [["public", "x", 2]], {"n": {"decimal": "1"}}],
)
def test_json_columns_are_written_exactly_as_json_dumps_writes_them(value: Any) -> None:
    assert json_dumps(value) == json.dumps(value)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(_JSON)
def test_json_columns_are_read_exactly_as_json_loads_reads_them(value: Any) -> None:
    text = json.dumps(value, ensure_ascii=False)
    expected = json.loads(text)
    for raw in (text, text.encode(), memoryview(text.encode())):
        assert json_loads(raw) == expected


@pytest.mark.parametrize(
    "text", ["{ }", " [ ] ", '{"a": [1,\n 2]}', '"\\ud800"', '"\u00e9\u2028\U0001f600"', "1e400"]
)
def test_json_text_beyond_what_json_dumps_writes_is_read_as_json_loads_reads_it(
    text: str,
) -> None:
    expected = json.loads(text)
    assert json_loads(text) == expected
    assert json_loads(text.encode("utf-8", "surrogatepass")) == expected


@pytest.mark.parametrize("text", ["", " ", "[1] x", "[1,", "nul", '{"a" 1}', "[1]]"])
def test_malformed_json_text_is_refused_as_json_loads_refuses_it(text: str) -> None:
    with pytest.raises(json.JSONDecodeError) as theirs:
        json.loads(text)
    with pytest.raises(json.JSONDecodeError) as ours:
        json_loads(text)
    assert (ours.value.msg, ours.value.pos) == (theirs.value.msg, theirs.value.pos)


@pytest.mark.parametrize("value", [5, 1.5, None, 10**7])
def test_json_values_that_are_not_text_are_refused_as_json_loads_refuses_them(
    value: object,
) -> None:
    with pytest.raises(TypeError):
        json.loads(value)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        json_loads(value)  # type: ignore[arg-type]


def test_empty_json_values_read_back_as_new_objects_each_time() -> None:
    first, second = json_loads(b"{}"), json_loads("{}")
    first["x"] = 1
    assert second == {} and json_loads(b"{}") == {}
    assert json_loads(b"[]") == [] and json_loads("[]") is not json_loads("[]")


def test_ticket_type_matches_golden_json_and_round_trips() -> None:
    conv = make_converter()
    ticket_type = TicketType(
        tenant_id=T,
        id=UUID(int=5),
        name="Server Crash",
        description_template="What?",
        workflow=default_workflow(),
        created_at=AT,
        fields=(
            FieldSpec(
                name="sla",
                label="SLA",
                kind=FieldKind.SINGLE_CHOICE,
                required=True,
                choices=("Gold", "Silver"),
            ),
            FieldSpec(name="cost", label="Cost", kind=FieldKind.NUMBER, internal=True),
        ),
    )
    data = json.loads(json.dumps(conv.unstructure(ticket_type)))
    check_golden("ticket_type", data)
    assert conv.structure(data, TicketType) == ticket_type


def test_a_ticket_type_written_before_owners_existed_reads_as_the_providers() -> None:
    """Ticket types serialised before types had an owning organisation (migration 0009)
    still read, as the provider's types: not shared, not confidential."""
    conv = make_converter()
    data = json.loads((GOLDEN / "ticket_type.json").read_text(encoding="utf-8"))
    for key in ("organisation_id", "shared", "confidential"):
        data.pop(key)
    old = conv.structure(data, TicketType)
    assert (old.organisation_id, old.shared, old.confidential) == (None, False, False)
