"""Business-time deadlines: ticketkit's calendar against businesstimedelta, in one run.

The due time of an 8-business-hour target for 100,000 random creation instants over 2026
(UTC, whole minutes, fixed seed) on a Mon-Fri 09:00-17:00 Europe/Berlin calendar with German
nationwide holidays, by ``Calendar.add``, by ``Calendar.add_many`` and by businesstimedelta
(``WorkDayRule`` + ``HolidayRule`` over the ``holidays`` object). Every due time must agree.
Prints microseconds per deadline (median of the runs) and the ratios.

Figures, not assertions: ``python bench/calendars.py --help``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time

import businesstimedelta as btd
import holidays
import pytz

from ticketkit.domain.calendars import Calendar

TARGET = timedelta(hours=8)


def instants(count: int, seed: int) -> list[datetime]:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    minutes = 365 * 24 * 60
    return [start + timedelta(minutes=rng.randrange(minutes)) for _ in range(count)]


def per_deadline(fn: Callable[[], list[datetime]], count: int, runs: int) -> tuple[float, list]:
    """Median microseconds per deadline over ``runs`` runs, and the last run's answers."""
    samples, result = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - t0) / count * 1e6)
    return statistics.median(samples), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    parser.add_argument(
        "--reference-count",
        type=int,
        default=None,
        help="instants given to businesstimedelta (default: all; it takes ~1 minute per run)",
    )
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)

    starts = instants(args.count, args.seed)
    calendar = Calendar.create("Europe/Berlin", {"mon-fri": "09:00-17:00"}, holiday_regions=["DE"])
    berlin = pytz.timezone("Europe/Berlin")
    rules = btd.Rules(
        [
            btd.WorkDayRule(
                start_time=clock_time(9),
                end_time=clock_time(17),
                working_days=[0, 1, 2, 3, 4],
                tz=berlin,
            ),
            btd.HolidayRule(holidays.Germany(), tz=berlin),
        ]
    )
    delta = btd.BusinessTimeDelta(rules, hours=8)

    # Warm both (year blocks, the holidays object's years) outside the timings.
    calendar.add_many(starts[:1000], TARGET)
    [s + delta for s in starts[:200]]

    single_us, single = per_deadline(
        lambda: [calendar.add(s, TARGET) for s in starts], len(starts), args.runs
    )
    batch_us, batch = per_deadline(
        lambda: calendar.add_many(starts, TARGET), len(starts), args.runs
    )
    ref_starts = starts[: args.reference_count or len(starts)]
    ref_us, reference = per_deadline(
        lambda: [s + delta for s in ref_starts], len(ref_starts), args.runs
    )

    disagree = [
        (s, ours, theirs)
        for s, ours, theirs in zip(ref_starts, single, reference, strict=False)
        if ours != theirs
    ]
    print(
        f"{len(starts):,} deadlines (8 business hours, Mon-Fri 09:00-17:00 Europe/Berlin, "
        f"German holidays), median of {args.runs} runs:"
    )
    print(f"  ticketkit Calendar.add       {single_us:8.2f} us per deadline")
    print(f"  ticketkit Calendar.add_many  {batch_us:8.2f} us per deadline")
    print(f"  businesstimedelta            {ref_us:8.2f} us per deadline ({len(ref_starts):,})")
    print(f"  ratio single: {ref_us / single_us:6.0f}x   ratio batch: {ref_us / batch_us:6.0f}x")
    print(f"  batch answers equal the single ones: {batch == single}")
    print(f"  due times that differ from businesstimedelta: {len(disagree)} of {len(ref_starts)}")
    for s, ours, theirs in disagree[:5]:
        print(f"    created {s:%Y-%m-%d %H:%M} UTC: ticketkit {ours}, businesstimedelta {theirs}")
    return 1 if disagree or batch != single else 0


if __name__ == "__main__":
    sys.exit(main())
