"""The form helper (issue 19): a ticket type's inputs as the acting person may use them,
each with what an accessible template needs, and a submitted form parsed back into
``create_ticket``'s arguments, every error at the input it is about."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from tests.support.world import World, build_world
from ticketkit import FieldKind, FieldSpec, HelpDesk, ManualClock, TicketTypeView, ValidationError
from ticketkit.adapters.memory import MemoryStorage
from ticketkit.web.forms import (
    TicketDraft,
    TicketForm,
    Widget,
    parse_ticket_form,
    ticket_form,
)


@pytest.fixture
def world(clock: ManualClock) -> World:
    return build_world(HelpDesk(MemoryStorage(), clock=clock), clock)


def incident_for(w: World, person: Any) -> TicketTypeView:
    [incident] = [t for t in w.desk.list_ticket_types(person.actor) if t.id == w.incident.id]
    return incident


def submitted(form: TicketForm) -> dict[str, list[str]]:
    """What a browser sends for ``form`` as it is drawn: each one-valued input's value, the
    checked boxes of a checkbox group (nothing when none is checked), a select's option."""
    data: dict[str, list[str]] = {}
    for field in form.inputs:
        if field.widget is Widget.CHECKBOXES:
            if field.values:
                data[field.name] = list(field.values)
        elif field.widget is Widget.SELECT:
            [chosen] = [c.value for c in field.choices if c.selected]
            data[field.name] = [chosen]
        else:
            data[field.name] = [field.value]
    return data


GOOD = {
    "title": "Server down",
    "description": "Since 14:00",
    "fields.sla_level": "Gold",
    "fields.systems": ["db", "web"],
    "fields.servers": "2",
    "fields.since": "2026-05-22",
    "fields.notes": "rack 4",
}


# -- building the form ---------------------------------------------------------------------------


def test_a_guest_gets_an_input_per_public_field_and_the_type_template_as_description(
    world: World,
) -> None:
    form = ticket_form(incident_for(world, world.acme_guest))
    assert [i.name for i in form.inputs] == [
        "title",
        "description",
        "fields.sla_level",
        "fields.systems",
        "fields.servers",
        "fields.since",
        "fields.notes",
    ]
    assert form["description"].value == "What happened?"
    assert form["title"].value == ""
    assert form["title"].required and form["fields.sla_level"].required
    assert not form["fields.notes"].required
    assert not form.has_errors


def test_an_agent_also_gets_the_internal_field(world: World) -> None:
    form = ticket_form(incident_for(world, world.agent))
    assert form["fields.cost_centre"].label == "Cost centre"


@pytest.mark.parametrize(
    ("name", "widget"),
    [
        ("title", Widget.TEXT),
        ("description", Widget.TEXTAREA),
        ("fields.sla_level", Widget.SELECT),
        ("fields.systems", Widget.CHECKBOXES),
        ("fields.servers", Widget.NUMBER),
        ("fields.since", Widget.DATE),
        ("fields.notes", Widget.TEXT),  # at most 100 characters: one line
        ("fields.cost_centre", Widget.TEXTAREA),  # up to 4,000 characters
    ],
)
def test_each_kind_of_field_has_its_widget(world: World, name: str, widget: Widget) -> None:
    assert ticket_form(incident_for(world, world.agent))[name].widget is widget


def test_every_input_and_choice_has_a_stable_id_of_its_own_and_a_label(world: World) -> None:
    incident = incident_for(world, world.agent)
    form = ticket_form(incident)
    ids = [i.id for i in form.inputs] + [c.id for i in form.inputs for c in i.choices]
    assert len(ids) == len(set(ids))
    assert form["fields.sla_level"].id == "ticket-fields-sla_level"
    assert [c.id for c in form["fields.systems"].choices] == [
        "ticket-fields-systems-1",
        "ticket-fields-systems-2",
        "ticket-fields-systems-3",
    ]
    assert all(i.label for i in form.inputs)
    assert ticket_form(incident, GOOD) == ticket_form(incident, GOOD)
    assert ticket_form(incident, id_prefix="new-")["title"].id == "new-title"


def test_a_select_starts_with_an_empty_choice_named_for_whether_it_is_required(
    clock: ManualClock,
) -> None:
    desk = HelpDesk(MemoryStorage(), clock=clock)
    w = build_world(desk, clock)
    kind = desk.create_ticket_type(
        w.admin.actor,
        name="Choices",
        fields=(
            FieldSpec(
                name="must", label="Must", kind="single_choice", choices=("a",), required=True
            ),
            FieldSpec(name="may", label="May", kind="single_choice", choices=("a",)),
        ),
    )
    [view] = [t for t in desk.list_ticket_types(w.acme_guest.actor) if t.id == kind.id]
    form = ticket_form(view)
    assert [(c.value, c.label, c.selected) for c in form["fields.must"].choices] == [
        ("", "Choose one", True),
        ("a", "a", False),
    ]
    assert form["fields.may"].choices[0].label == "None"


def test_describedby_names_the_hint_and_the_error_shown(world: World) -> None:
    incident = incident_for(world, world.acme_guest)
    empty = ticket_form(incident)
    assert empty["title"].describedby is None
    assert empty["fields.since"].describedby == "ticket-fields-since-hint"
    with pytest.raises(ValidationError) as bad:
        parse_ticket_form(incident, {**GOOD, "fields.since": "22.05.2026", "title": ""})
    form = ticket_form(incident, {**GOOD, "fields.since": "22.05.2026"}, error=bad.value)
    assert form["title"].describedby == "ticket-title-error"
    assert form["fields.since"].describedby == (
        "ticket-fields-since-hint ticket-fields-since-error"
    )
    assert form["fields.since"].error == "must be a date (YYYY-MM-DD)"
    assert [i.name for i in form.errors] == ["title", "fields.since"]


def test_the_form_says_its_own_words_as_the_host_asks(world: World) -> None:
    form = ticket_form(
        incident_for(world, world.acme_guest), texts={"title": "Betreff", "choose": "Bitte wählen"}
    )
    assert form["title"].label == "Betreff"
    assert form["fields.sla_level"].choices[0].label == "Bitte wählen"
    assert form["description"].label == "Description"


# -- parsing a submitted form --------------------------------------------------------------------


def test_each_kind_is_parsed_to_its_typed_value(world: World) -> None:
    draft = parse_ticket_form(incident_for(world, world.acme_guest), GOOD)
    assert draft == TicketDraft(
        title="Server down",
        description="Since 14:00",
        fields={
            "sla_level": "Gold",
            "systems": ("db", "web"),
            "servers": Decimal("2"),
            "since": date(2026, 5, 22),
            "notes": "rack 4",
        },
    )


def test_a_werkzeug_multidict_is_read_like_a_plain_dict_of_lists(world: World) -> None:
    incident = incident_for(world, world.acme_guest)
    items = [(k, v) for k, vs in GOOD.items() for v in ([vs] if isinstance(vs, str) else vs)]
    assert parse_ticket_form(incident, MultiDict(items)) == parse_ticket_form(incident, GOOD)


def test_empty_inputs_are_left_out_and_a_missing_description_leaves_the_template(
    world: World,
) -> None:
    draft = parse_ticket_form(
        incident_for(world, world.acme_guest),
        {"title": "t", "fields.sla_level": "Gold", "fields.servers": " ", "fields.notes": ""},
    )
    assert draft.fields == {"sla_level": "Gold"}
    assert draft.description is None


def test_a_text_areas_crlf_line_breaks_become_lf(world: World) -> None:
    draft = parse_ticket_form(
        incident_for(world, world.acme_guest), {**GOOD, "description": "one\r\ntwo\r\n"}
    )
    assert draft.description == "one\ntwo\n"


def test_every_bad_input_is_named_at_once_by_the_librarys_field_path(world: World) -> None:
    incident = incident_for(world, world.acme_guest)
    bad = {
        "title": " ",
        "fields.systems": ["db", "mainframe"],
        "fields.servers": "two",
        "fields.since": "2026-02-30",
        "fields.notes": "x" * 101,
    }
    with pytest.raises(ValidationError) as raised:
        parse_ticket_form(incident, bad)
    assert raised.value.fields == {
        "title": "must not be empty",
        "fields.sla_level": "is required",
        "fields.systems": "unknown choice 'mainframe'; expected any of ['db', 'api', 'web']",
        "fields.servers": "must be a number",
        "fields.since": "must be a date (YYYY-MM-DD)",
        "fields.notes": "must be at most 100 characters (got 101)",
    }


def test_an_unknown_choice_is_an_error_at_its_select(world: World) -> None:
    incident = incident_for(world, world.acme_guest)
    data = {**GOOD, "fields.sla_level": "Platinum"}
    with pytest.raises(ValidationError) as raised:
        parse_ticket_form(incident, data)
    form = ticket_form(incident, data, error=raised.value)
    assert form["fields.sla_level"].error == (
        "unknown choice 'Platinum'; expected one of ['Gold', 'Silver', 'Bronze']"
    )
    assert form["fields.sla_level"].choices[0].selected  # nothing of ours is chosen


def test_an_input_sent_twice_or_not_as_text_is_an_error_at_it(world: World) -> None:
    incident = incident_for(world, world.acme_guest)
    with pytest.raises(ValidationError) as raised:
        parse_ticket_form(incident, {**GOOD, "title": ["a", "b"], "fields.servers": 2})
    assert raised.value.fields == {"title": "must be given once", "fields.servers": "must be text"}


def test_a_field_not_on_the_persons_form_is_ignored(world: World) -> None:
    draft = parse_ticket_form(
        incident_for(world, world.acme_guest), {**GOOD, "fields.cost_centre": "CC-1"}
    )
    assert "cost_centre" not in draft.fields


# -- errors and re-rendering --------------------------------------------------------------------


def test_rerendering_after_an_error_keeps_what_was_typed(world: World) -> None:
    incident = incident_for(world, world.acme_guest)
    data = {**GOOD, "fields.servers": "many", "fields.sla_level": ""}
    with pytest.raises(ValidationError) as raised:
        parse_ticket_form(incident, data)
    form = ticket_form(incident, data, error=raised.value)
    assert form["title"].value == "Server down"
    assert form["description"].value == "Since 14:00"
    assert form["fields.servers"].value == "many"
    assert form["fields.systems"].values == ("db", "web")
    assert form["fields.since"].value == "2026-05-22"
    assert form["fields.sla_level"].error == "is required"
    assert form["fields.servers"].error == "must be a number"
    assert form["fields.notes"].error is None


def test_create_tickets_own_validation_errors_land_at_the_same_inputs(world: World) -> None:
    incident = incident_for(world, world.acme_guest)
    with pytest.raises(ValidationError) as raised:
        world.desk.create_ticket(
            world.acme_guest.actor,
            project_id=world.acme_project.id,
            type_id=incident.id,
            title="x" * 201,
            fields={"sla_level": "Platinum", "servers": "a few"},
            priority="sky-high",
        )
    form = ticket_form(incident, GOOD, error=raised.value)
    assert form["title"].error == "must be at most 200 characters (got 201)"
    assert form["fields.sla_level"].error is not None
    assert form["fields.servers"].error == "must be a number"
    # An error of an argument the form has no input for is kept for a summary.
    assert [e.field for e in form.other_errors] == ["priority"]
    assert form.has_errors


def test_a_parsed_form_creates_the_ticket_and_its_view_fills_the_form_the_same(
    world: World,
) -> None:
    incident = incident_for(world, world.acme_guest)
    draft = parse_ticket_form(incident, GOOD)
    view = world.desk.create_ticket(
        world.acme_guest.actor,
        project_id=world.acme_project.id,
        type_id=incident.id,
        title=draft.title,
        description=draft.description,
        fields=draft.fields,
    )
    assert dict(view.fields) == dict(draft.fields)
    again = ticket_form(incident, initial=view)
    assert submitted(again) == {k: [v] if isinstance(v, str) else v for k, v in GOOD.items()}
    assert parse_ticket_form(incident, submitted(again)) == draft


def test_without_a_description_the_ticket_gets_the_types_template(world: World) -> None:
    incident = incident_for(world, world.acme_guest)
    data = {k: v for k, v in GOOD.items() if k != "description"}
    assert ticket_form(incident, data)["description"].value == "What happened?"
    draft = parse_ticket_form(incident, data)
    view = world.desk.create_ticket(
        world.acme_guest.actor,
        project_id=world.acme_project.id,
        type_id=incident.id,
        title=draft.title,
        description=draft.description,
        fields=draft.fields,
    )
    assert view.description == "What happened?"


# -- properties ------------------------------------------------------------------------------------

_NAMES = [
    "title",
    "description",
    "fields.sla_level",
    "fields.systems",
    "fields.servers",
    "fields.since",
    "fields.notes",
    "fields.cost_centre",
    "csrf_token",
]
_value = st.one_of(
    st.text(),
    st.lists(st.text(), max_size=3),
    st.sampled_from(["Gold", "db", "1e999999999999999999", "NaN", "-0", "2026-02-29", "9" * 50]),
    st.none(),
    st.integers(),
)


_VIEWS: dict[str, TicketTypeView] = {}


def _view(role: str) -> TicketTypeView:
    """The incident type as a guest or an agent sees it, built once for the properties."""
    if role not in _VIEWS:
        clock = ManualClock(datetime(2026, 5, 22, 12, tzinfo=UTC))
        w = build_world(HelpDesk(MemoryStorage(), clock=clock), clock)
        _VIEWS["guest"] = incident_for(w, w.acme_guest)
        _VIEWS["agent"] = incident_for(w, w.agent)
    return _VIEWS[role]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    role=st.sampled_from(["guest", "agent"]),
    data=st.dictionaries(st.one_of(st.sampled_from(_NAMES), st.text(max_size=5)), _value),
)
def test_parsing_any_submitted_form_raises_nothing_but_a_validation_error(
    role: str, data: dict[str, Any]
) -> None:
    incident = _view(role)
    try:
        parse_ticket_form(incident, data)
    except ValidationError as error:
        form = ticket_form(incident, data, error=error)
        placed = {i.name for i in form.errors} | {e.field for e in form.other_errors}
        assert placed == set(error.fields)
        assert not form.other_errors  # every error of parsing is at an input
    else:
        ticket_form(incident, data)


_typed = st.fixed_dictionaries(
    {
        "title": st.text(min_size=1, max_size=200).filter(str.strip),
        "fields.sla_level": st.sampled_from(["Gold", "Silver", "Bronze"]),
    },
    optional={
        "description": st.text(max_size=300).map(lambda s: s.replace("\r", "")),
        "fields.systems": st.lists(st.sampled_from(["db", "api", "web"]), min_size=1, unique=True),
        "fields.servers": st.decimals(allow_nan=False, allow_infinity=False, places=3).map(
            lambda d: format(d, "f")
        ),
        "fields.since": st.dates().map(date.isoformat),
        "fields.notes": st.text(min_size=1, max_size=100)
        .filter(str.strip)
        .map(lambda s: s.replace("\r", "").replace("\n", " ")),
    },
).filter(lambda d: all("\x00" not in v for v in d.values() if isinstance(v, str)))


@settings(max_examples=200, deadline=None)
@given(data=_typed)
def test_a_valid_form_parses_and_rerenders_to_what_was_sent(data: dict[str, Any]) -> None:
    incident = _view("guest")
    try:
        draft = parse_ticket_form(incident, data)
    except ValidationError as error:  # only text that no backend stores may be refused
        assert all("Unicode" in m for m in error.fields.values()), error
        return
    sent = {
        k: [v] if isinstance(v, str) else sorted(v, key=["db", "api", "web"].index)
        for k, v in data.items()
    }
    shown = submitted(ticket_form(incident, data))
    assert {k: v for k, v in shown.items() if k in sent} == sent
    assert parse_ticket_form(incident, shown) == attrs_with_template(draft, incident)


def attrs_with_template(draft: TicketDraft, incident: TicketTypeView) -> TicketDraft:
    """``draft`` as a re-rendered form sends it: the template where no description came."""
    if draft.description is not None:
        return draft
    return TicketDraft(
        title=draft.title, description=incident.description_template, fields=draft.fields
    )


def test_the_properties_see_every_kind() -> None:
    """Guards the properties above against a type that lost a kind of field."""
    kinds = {f.kind for f in _view("agent").fields}
    assert kinds == set(FieldKind)


def test_an_id_from_a_select_is_parsed_or_named_in_the_error() -> None:
    from uuid import uuid4

    from ticketkit.web.forms import form_id, form_version

    ident = uuid4()
    assert form_id({"project": str(ident)}, "project") == ident
    assert form_id({"group": ""}, "group", optional=True) is None
    assert form_id({}, "group", optional=True) is None
    for bad in ({"project": "x"}, {"project": ""}, {"project": [str(ident), str(ident)]}):
        with pytest.raises(ValidationError) as caught:
            form_id(bad, "project")
        assert list(caught.value.fields) == ["project"]
    assert form_version({"version": "7"}) == 7
    assert form_version({}) is None
    for bad_version in ("-1", "1e3", "9" * 40, "x"):
        with pytest.raises(ValidationError, match="version"):
            form_version({"version": bad_version})
