"""Running a unit of work again when it lost a race to a concurrent writer."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ticketkit.errors import Conflict

T = TypeVar("T")


def retried(work: Callable[[], T], attempts: int) -> T:
    """``work()``, run again while it raises ``Conflict``, ``attempts`` times in all (its
    unit of work rolled back whole, so running it again is safe); the last ``Conflict``
    is raised."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except Conflict:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


__all__ = ["retried"]
