"""Business-hour calendars: the documented semantics, the seed scenarios and every bad input."""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ticketkit.domain.calendars import (
    Calendar,
    HolidayRegion,
    Hours,
    SpecialDay,
    calendar_from_dict,
    calendar_to_dict,
)
from ticketkit.errors import ValidationError
from ticketkit.serialization import make_converter

BERLIN = ZoneInfo("Europe/Berlin")
GOLDEN = Path(__file__).parent / "golden"


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


def office(**kw: object) -> Calendar:
    return Calendar.create("Europe/Berlin", {"mon-fri": "09:00-17:00"}, **kw)  # type: ignore[arg-type]


# -- the scenarios of the issue -----------------------------------------------------------------


def test_friday_afternoon_ticket_before_whit_monday_is_due_tuesday_afternoon() -> None:
    calendar = office(holiday_regions=["DE"])
    created = berlin(2026, 5, 22, 16, 30)  # Friday; Monday 25 May is Whit Monday
    due = calendar.add(created, timedelta(hours=8))
    assert due == berlin(2026, 5, 26, 16, 30)
    assert due.tzinfo is UTC
    assert calendar.elapsed(created, due) == timedelta(hours=8)


def test_a_247_calendar_counts_real_time_across_both_daylight_saving_changes() -> None:
    calendar = Calendar.always("Europe/Berlin")
    start = berlin(2026, 3, 28, 12, 0)  # the night before the spring change
    end = berlin(2026, 10, 26, 12, 0)  # the day after the autumn change
    real = end.astimezone(UTC) - start.astimezone(UTC)
    assert calendar.elapsed(start, end) == real
    assert calendar.add(start, real) == end
    # Over the spring night only 23 real hours pass between the two noons, 25 in autumn.
    assert calendar.elapsed(start, berlin(2026, 3, 29, 12, 0)) == timedelta(hours=23)
    assert calendar.elapsed(berlin(2026, 10, 24, 12, 0), berlin(2026, 10, 25, 12, 0)) == (
        timedelta(hours=25)
    )
    assert calendar.is_open(berlin(2026, 3, 29, 3, 0))


def test_seed_000_gold_ticket_at_two_pm_gets_its_first_response_due_at_three() -> None:
    calendar = office(holiday_regions=["DE"])
    created = berlin(2026, 11, 24, 14, 0)
    assert calendar.add(created, timedelta(hours=1)) == berlin(2026, 11, 24, 15, 0)


# -- semantics ----------------------------------------------------------------------------------


def test_a_target_used_up_exactly_at_closing_is_due_at_closing_not_next_morning() -> None:
    calendar = office()
    assert calendar.add(berlin(2026, 11, 24, 9, 0), timedelta(hours=8)) == berlin(
        2026, 11, 24, 17, 0
    )
    assert calendar.add(berlin(2026, 11, 24, 16, 0), timedelta(hours=1)) == berlin(
        2026, 11, 24, 17, 0
    )


def test_a_start_outside_business_hours_starts_counting_at_the_next_opening() -> None:
    calendar = office()
    saturday = berlin(2026, 11, 28, 11, 0)
    assert not calendar.is_open(saturday)
    assert calendar.next_opening(saturday) == berlin(2026, 11, 30, 9, 0)
    assert calendar.add(saturday, timedelta(minutes=30)) == berlin(2026, 11, 30, 9, 30)
    assert calendar.elapsed(saturday, berlin(2026, 11, 30, 9, 30)) == timedelta(minutes=30)


def test_opening_is_inclusive_and_closing_exclusive() -> None:
    calendar = office()
    assert calendar.is_open(berlin(2026, 11, 24, 9, 0))
    assert not calendar.is_open(berlin(2026, 11, 24, 17, 0))
    assert calendar.next_opening(berlin(2026, 11, 24, 9, 0)) == berlin(2026, 11, 24, 9, 0)
    assert calendar.next_opening(berlin(2026, 11, 24, 17, 0)) == berlin(2026, 11, 25, 9, 0)
    assert calendar.add(berlin(2026, 11, 24, 17, 0), timedelta(0)) == berlin(2026, 11, 24, 17, 0)


def test_business_hours_are_local_wall_clock_hours() -> None:
    calendar = office()
    assert calendar.next_opening(berlin(2026, 1, 10, 12)) == datetime(2026, 1, 12, 8, tzinfo=UTC)
    assert calendar.next_opening(berlin(2026, 7, 11, 12)) == datetime(2026, 7, 13, 7, tzinfo=UTC)


def test_an_interval_over_the_autumn_change_holds_the_repeated_hour_in_full() -> None:
    calendar = Calendar.create("Europe/Berlin", {"sun": "01:00-03:00"})
    day = [berlin(2026, 10, 25, 0), berlin(2026, 10, 25, 6)]
    assert calendar.elapsed(*day) == timedelta(hours=3)
    repeated = datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=BERLIN)  # the second 02:30
    assert calendar.is_open(repeated)


def test_an_interval_closing_where_the_repeated_hour_begins_leaves_that_hour_out() -> None:
    # At 03:00 summer time the clock goes back to 02:00: from then on it never again reads
    # earlier than 02:00, so an interval closing at 02:00 closes at the first 02:00.
    calendar = Calendar.create("Europe/Berlin", {"sun": "00:00-02:00"})
    assert calendar.elapsed(berlin(2026, 10, 25, 0), berlin(2026, 10, 25, 6)) == timedelta(hours=2)
    assert not calendar.is_open(berlin(2026, 10, 25, 2, 30))
    assert not calendar.is_open(datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=BERLIN))


def test_an_interval_over_the_spring_change_holds_only_the_real_hour() -> None:
    calendar = Calendar.create("Europe/Berlin", {"sun": "01:00-03:00"})
    assert calendar.elapsed(berlin(2026, 3, 29, 0), berlin(2026, 3, 29, 6)) == timedelta(hours=1)
    # Opening inside the skipped hour means opening at the jump (03:00 summer time).
    skipped = Calendar.create("Europe/Berlin", {"sun": "02:30-05:00"})
    assert skipped.next_opening(berlin(2026, 3, 29, 0)) == datetime(2026, 3, 29, 1, tzinfo=UTC)


def test_a_night_shift_runs_into_the_next_day_and_belongs_to_the_day_it_starts() -> None:
    calendar = Calendar.create("Europe/Berlin", {"mon": "22:00-06:00"})
    assert calendar.is_open(berlin(2026, 11, 24, 5, 59))  # Tuesday morning
    assert not calendar.is_open(berlin(2026, 11, 24, 22, 0))  # Tuesday night: no shift
    assert calendar.add(berlin(2026, 11, 23, 12, 0), timedelta(hours=8)) == berlin(
        2026, 11, 24, 6, 0
    )
    # A holiday on the Monday cancels the whole shift, Tuesday morning included.
    closed = Calendar.create("Europe/Berlin", {"mon": "22:00-06:00"}, holidays=[date(2026, 11, 23)])
    assert not closed.is_open(berlin(2026, 11, 24, 3, 0))


def test_intervals_ending_at_midnight_join_the_next_day_without_a_gap() -> None:
    calendar = Calendar.create("Europe/Berlin", {"mon": "20:00-24:00", "tue": "00:00-04:00"})
    assert calendar.add(berlin(2026, 11, 23, 20, 0), timedelta(hours=8)) == berlin(
        2026, 11, 24, 4, 0
    )


def test_regional_holidays_come_from_the_holidays_package_by_subdivision() -> None:
    bavaria = office(holiday_regions=[HolidayRegion("DE", "BY")])
    berlin_only = office(holiday_regions=["DE-BE"])
    epiphany = berlin(2026, 1, 6, 10, 0)
    assert not bavaria.is_open(epiphany)
    assert berlin_only.is_open(epiphany)
    assert bavaria.hours_on(date(2026, 1, 6)) == ()


def test_a_special_day_has_its_own_hours_even_on_a_holiday() -> None:
    calendar = office(
        holiday_regions=["DE"],
        special_days={date(2026, 12, 24): "09:00-12:00", date(2026, 12, 25): "10:00-11:00"},
    )
    assert calendar.add(berlin(2026, 12, 24, 11, 0), timedelta(hours=2)) == berlin(
        2026, 12, 25, 11, 0
    )
    assert calendar.hours_on(date(2026, 12, 26)) == ()  # Second Christmas Day: a holiday


def test_several_intervals_a_day_and_the_lunch_break_between_them() -> None:
    calendar = Calendar.create("Europe/Berlin", {"mon-fri": ["08:00-12:00", "13:00-17:00"]})
    assert calendar.add(berlin(2026, 11, 24, 11, 0), timedelta(hours=2)) == berlin(
        2026, 11, 24, 14, 0
    )
    assert calendar.elapsed(berlin(2026, 11, 24, 0), berlin(2026, 11, 25, 0)) == timedelta(hours=8)


def test_long_durations_cross_years_and_elapsed_inverts_add() -> None:
    calendar = office(holiday_regions=["DE"])
    start = berlin(2026, 12, 30, 15, 0)
    due = calendar.add(start, timedelta(hours=3000))
    assert due.year == 2028
    assert calendar.elapsed(start, due) == timedelta(hours=3000)


def test_resolution_is_exact_to_the_microsecond() -> None:
    calendar = office()
    start = berlin(2026, 11, 24, 16, 59, 59, 999_999)
    assert calendar.add(start, timedelta(microseconds=1)) == berlin(2026, 11, 24, 17, 0)
    assert calendar.add(start, timedelta(microseconds=2)) == berlin(2026, 11, 25, 9, 0, 0, 1)


def test_batch_forms_give_the_single_answers() -> None:
    calendar = office(holiday_regions=["DE"])
    starts = [berlin(2026, 5, 22, 16, 30) + timedelta(minutes=97 * i) for i in range(200)]
    durations = [timedelta(minutes=7 * i) for i in range(200)]
    assert calendar.add_many(starts, timedelta(hours=8)) == [
        calendar.add(s, timedelta(hours=8)) for s in starts
    ]
    assert calendar.add_many(starts, durations) == [
        calendar.add(s, d) for s, d in zip(starts, durations, strict=True)
    ]
    now = berlin(2026, 6, 30, 12, 0)
    assert calendar.elapsed_many(starts, now) == [calendar.elapsed(s, now) for s in starts]


def test_equal_calendars_share_one_cache_and_threads_agree() -> None:
    first, second = office(holiday_regions=["DE"]), office(holiday_regions=["DE"])
    assert first == second and hash(first) == hash(second)
    assert first._years is second._years
    calendar = Calendar.create("America/New_York", {"mon-fri": "09:00-16:59"})
    starts = [datetime(2030, 1, 1, tzinfo=UTC) + timedelta(hours=13 * i) for i in range(300)]
    expected = calendar.add_many(starts, timedelta(hours=20))
    calendar._years._blocks.clear()  # every thread now races to build the same years
    results: list[list[datetime]] = []

    def work() -> None:
        results.append(calendar.add_many(starts, timedelta(hours=20)))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 8


# -- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Calendar.create("Mars/Olympus", {"mon": "09:00-17:00"}), "zone"),
        (lambda: Calendar.create("", {"mon": "09:00-17:00"}), "zone"),
        (lambda: Calendar.create("UTC", {"mon": ["09:00-12:00", "11:00-13:00"]}), "week.mon"),
        (lambda: Calendar.create("UTC", {"mon": "22:00-06:00", "tue": "05:00-09:00"}), "week.tue"),
        (lambda: Calendar.create("UTC", {"mon": "17:00-17:00"}), "week.mon[0]"),
        (lambda: Calendar.create("UTC", {"mon": "09:00-25:00"}), "week.mon[0]"),
        (lambda: Calendar.create("UTC", {"mon": "24:00-02:00"}), "week.mon[0]"),
        (lambda: Calendar.create("UTC", {"mon": "9-17"}), "week.mon[0]"),
        (lambda: Calendar.create("UTC", {"mon": "09:60-17:00"}), "week.mon[0]"),
        (lambda: Calendar.create("UTC", {"someday": "09:00-17:00"}), "week.someday"),
        (lambda: Calendar.create("UTC", {"fri-mon": "09:00-17:00"}), "week.fri-mon"),
        (lambda: Calendar.create("UTC", {}), "week"),
        (lambda: Calendar.create("UTC", {"sat": []}), "week"),
        (
            lambda: Calendar.create("UTC", {"mon": "09:00-17:00"}, holiday_regions=["XX"]),
            "holiday_regions[0].country",
        ),
        (
            lambda: Calendar.create("UTC", {"mon": "09:00-17:00"}, holiday_regions=["DE-XX"]),
            "holiday_regions[0].subdivision",
        ),
        (
            lambda: Calendar.create(
                "UTC",
                {"mon": "09:00-17:00"},
                special_days={date(2026, 12, 24): ["09:00-12:00", "10:00-11:00"]},
            ),
            "special_days.2026-12-24",
        ),
        (lambda: Hours(9 * 3600, 9 * 3600), "end"),
        (lambda: Hours(-1, 3600), "start"),
    ],
)
def test_bad_calendar_definitions_raise_an_error_naming_the_field(
    build: object, field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        build()  # type: ignore[operator]
    assert field in caught.value.fields, caught.value.fields


def test_naive_instants_negative_durations_and_reversed_spans_are_refused() -> None:
    calendar = office()
    naive = datetime(2026, 11, 24, 10, 0)
    for call, field in [
        (lambda: calendar.add(naive, timedelta(hours=1)), "instant"),
        (lambda: calendar.is_open(naive), "instant"),
        (lambda: calendar.next_opening(naive), "instant"),
        (lambda: calendar.elapsed(naive, berlin(2026, 11, 25)), "start"),
        (lambda: calendar.elapsed(berlin(2026, 11, 25), naive), "end"),
        (lambda: calendar.elapsed(berlin(2026, 11, 25), berlin(2026, 11, 24)), "end"),
        (lambda: calendar.add(berlin(2026, 11, 24), timedelta(minutes=-1)), "duration"),
        (lambda: calendar.add(berlin(2026, 11, 24), 3600), "duration"),  # type: ignore[arg-type]
        (lambda: calendar.add("2026-11-24", timedelta(1)), "instant"),  # type: ignore[arg-type]
        (lambda: calendar.add_many([berlin(2026, 11, 24), naive], timedelta(1)), "instants[1]"),
        (lambda: calendar.add_many([naive], [timedelta(1)] * 2), "instants[0]"),
        (lambda: calendar.add_many([berlin(2026, 1, 1)], [timedelta(1)] * 2), "durations"),
        (lambda: calendar.elapsed_many([berlin(2026, 11, 24)], naive), "end"),
    ]:
        with pytest.raises(ValidationError) as caught:
            call()
        assert field in caught.value.fields, (field, caught.value.fields)


def test_holidays_that_close_every_open_day_for_years_stop_the_search_with_an_error() -> None:
    mondays = [date(2026, 1, 5) + timedelta(weeks=w) for w in range(52 * 12)]
    calendar = Calendar.create("Europe/Berlin", {"mon": "09:00-17:00"}, holidays=mondays)
    start = berlin(2026, 1, 1)
    with pytest.raises(ValidationError) as caught:
        calendar.add(start, timedelta(hours=1))
    assert "holidays" in caught.value.fields
    with pytest.raises(ValidationError) as caught:
        calendar.next_opening(start)
    assert "holidays" in caught.value.fields
    # Special days alone are a finite supply of business time: also an error, never a loop.
    only = Calendar.create("UTC", {}, special_days={date(2026, 12, 24): "09:00-12:00"})
    assert only.add(datetime(2026, 1, 1, tzinfo=UTC), timedelta(hours=3)) == datetime(
        2026, 12, 24, 12, tzinfo=UTC
    )
    with pytest.raises(ValidationError) as caught:
        only.add(datetime(2026, 1, 1, tzinfo=UTC), timedelta(hours=4))
    assert "special_days" in caught.value.fields


# -- serialisation ------------------------------------------------------------------------------


def sample_calendar() -> Calendar:
    return Calendar.create(
        "Europe/Berlin",
        {"mon-thu": ["08:00-12:00", "13:00-17:00"], "fri": "08:00-14:30", "sun": "22:00-06:00"},
        holidays=[date(2026, 12, 31)],
        holiday_regions=["DE-BY"],
        special_days={date(2026, 12, 24): "09:00-12:00", date(2026, 12, 27): []},
    )


def test_calendars_round_trip_through_the_project_converter_in_a_pinned_format() -> None:
    conv = make_converter()
    calendar = sample_calendar()
    data = conv.unstructure(calendar)
    golden = GOLDEN / "calendar.json"
    assert data == json.loads(golden.read_text(encoding="utf-8"))
    assert conv.structure(json.loads(json.dumps(data)), Calendar) == calendar
    assert calendar_from_dict(calendar_to_dict(calendar)) == calendar
    always = Calendar.always("UTC")
    assert conv.structure(conv.unstructure(always), Calendar) == always


def test_a_stored_calendar_with_bad_hours_is_refused_with_the_field_named() -> None:
    data = calendar_to_dict(sample_calendar())
    data["week"]["tue"] = ["08:00-12:00", "11:00-13:00"]
    with pytest.raises(ValidationError) as caught:
        calendar_from_dict(data)
    assert "week.tue" in caught.value.fields


def test_calendar_values_are_frozen_and_hashable() -> None:
    calendar = sample_calendar()
    with pytest.raises(AttributeError):
        calendar.zone = "UTC"  # type: ignore[misc]
    assert {calendar: 1}[sample_calendar()] == 1
    assert SpecialDay(date(2026, 12, 24)).hours == ()


def test_the_calendar_docs_example_runs() -> None:
    page = Path(__file__).parents[2] / "docs" / "calendars.md"
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, str(page), "exec"), {"__name__": "docs"})


def test_elapsed_stays_right_when_another_thread_rebuilds_the_year_in_between(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calendar = Calendar.create("UTC", {"mon-fri": "09:00-17:00"})
    start, end = datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC)
    expected = calendar.elapsed(start, end)
    years = calendar._years
    original = years.block_at

    def evicting(u: int) -> object:
        block = original(u)
        years._blocks.clear()  # as if another thread evicted the year meanwhile
        years._last = None
        return block

    monkeypatch.setattr(years, "block_at", evicting)
    assert expected == timedelta(hours=40)
    assert calendar.elapsed(start, end) == expected
    assert calendar.elapsed_many([start], end) == [expected]


def test_instants_and_durations_beyond_the_supported_years_name_their_field() -> None:
    calendar = office()
    tokyo, new_york = ZoneInfo("Asia/Tokyo"), ZoneInfo("America/New_York")
    for call, field in [
        (lambda: calendar.is_open(datetime(1, 1, 1, 3, tzinfo=tokyo)), "instant"),
        (lambda: calendar.is_open(datetime(9999, 12, 31, 23, tzinfo=new_york)), "instant"),
        (lambda: calendar.elapsed(berlin(2026, 1, 1), datetime(9999, 6, 1, tzinfo=UTC)), "end"),
        (lambda: calendar.add(datetime(9990, 1, 1, tzinfo=UTC), timedelta(days=5000)), "duration"),
        (lambda: calendar.add_many([berlin(2026, 1, 1)], 3600), "duration"),  # type: ignore[arg-type]
        (lambda: calendar.elapsed_many([berlin(2026, 1, 2)], berlin(2026, 1, 1)), "end"),
    ]:
        with pytest.raises(ValidationError) as caught:
            call()
        assert field in caught.value.fields, (field, caught.value.fields)


def test_special_days_may_not_overlap_the_night_shifts_around_them() -> None:
    monday = date(2026, 11, 23)
    with pytest.raises(ValidationError) as caught:
        Calendar.create("UTC", {"tue": "05:00-09:00"}, special_days={monday: "22:00-06:00"})
    assert f"special_days.{monday}" in caught.value.fields
    with pytest.raises(ValidationError) as caught:
        Calendar.create("UTC", {"sun": "22:00-06:00"}, special_days={monday: "05:00-09:00"})
    assert f"special_days.{monday}" in caught.value.fields
    # A holiday on the Tuesday removes the overlap.
    Calendar.create(
        "UTC",
        {"tue": "05:00-09:00"},
        holidays=[monday + timedelta(days=1)],
        special_days={monday: "22:00-06:00"},
    )


def test_malformed_special_days_regions_and_stored_forms_name_their_field() -> None:
    monday = date(2026, 11, 23)
    assert SpecialDay(monday, [Hours(0, 3600)]).hours == (Hours(0, 3600),)  # type: ignore[arg-type]
    stored = calendar_to_dict(sample_calendar())
    for call, field in [
        (lambda: SpecialDay(datetime(2026, 11, 23), ()), "special_days"),
        (lambda: office(holiday_regions=[HolidayRegion(None)]), "holiday_regions[0].country"),  # type: ignore[arg-type]
        (lambda: office(special_days={monday: None}), f"special_days.{monday}"),
        (lambda: calendar_from_dict({**stored, "holidays": ["2026-13-01"]}), "holidays"),
        (
            lambda: calendar_from_dict({**stored, "holiday_regions": [{"subdivision": "BY"}]}),
            "holiday_regions[0].country",
        ),
        (
            lambda: calendar_from_dict({**stored, "special_days": [{"date": "soon"}]}),
            "special_days[0].date",
        ),
    ]:
        with pytest.raises(ValidationError) as caught:
            call()
        assert field in caught.value.fields, (field, caught.value.fields)
