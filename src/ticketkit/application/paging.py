"""Keyset paging: sort keys, opaque cursors, and the "after the cursor" condition.

A cursor holds the sort's name and the last row's sort values, so the next page is a range
condition on an index, never an OFFSET.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Final
from uuid import UUID

from ticketkit.application.views import TicketSort
from ticketkit.domain.model import Ticket
from ticketkit.errors import ValidationError
from ticketkit.policy.predicates import TRUE, Cmp, Eq, Predicate, all_of, any_of
from ticketkit.ports.repositories import OrderBy

MAX_PAGE: Final = 200


def sort_keys(order: TicketSort, updated: str) -> tuple[OrderBy, ...]:
    """The ticket attributes ``order`` sorts by; ``updated`` is the viewer's update time.

    Ties are broken by id, never by number: numbers count per project, so they order
    nothing across projects, and every list index ends in ``id``."""
    if order in (TicketSort.NEWEST, TicketSort.OLDEST):
        attr = "created_at"
        desc = order is TicketSort.NEWEST
    elif order is TicketSort.SLA_DUE:
        attr, desc = "sla_due_at", False
    else:
        attr = updated
        desc = order is TicketSort.RECENTLY_UPDATED
    return (OrderBy(attr, descending=desc), OrderBy("id", descending=desc))


def cursor(order: TicketSort, last: Ticket, keys: tuple[OrderBy, ...]) -> str:
    """The opaque cursor of the page that ends with ``last``: values the person sees on
    that ticket anyway (its id and a time of theirs), nothing more."""
    values = [
        v.isoformat() if isinstance(v, datetime) else str(v) if isinstance(v, UUID) else v
        for v in (getattr(last, k.attr) for k in keys)
    ]
    raw = json.dumps([order.value, *values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def after(text: str, order: TicketSort, keys: tuple[OrderBy, ...]) -> Predicate:
    """The keyset condition "strictly after the cursor's row" for ``keys``."""
    try:
        padded = text + "=" * (-len(text) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(data, list) or data[0] != order.value or len(data) != len(keys) + 1:
            raise ValueError("cursor belongs to another sort")
        values: list[object] = []
        for key, raw in zip(keys, data[1:], strict=True):
            if key.attr == "id":
                if not isinstance(raw, str):
                    raise TypeError("id")
                values.append(UUID(raw))
            else:
                parsed = datetime.fromisoformat(raw)
                if parsed.tzinfo is None:
                    raise ValueError("naive")
                values.append(parsed.astimezone(UTC))  # overflows here, not in a driver
    except (
        ValueError,
        TypeError,
        IndexError,
        OverflowError,
        binascii.Error,
        json.JSONDecodeError,
    ) as exc:
        raise ValidationError.single("cursor", "is not a cursor of this listing") from exc
    result: Predicate = TRUE
    # Lexicographic "after": k1 > v1, or k1 == v1 and k2 > v2, … (reversed for descending).
    for i in reversed(range(len(keys))):
        key = keys[i]
        strictly = Cmp(key.attr, "<" if key.descending else ">", values[i])
        result = (
            strictly
            if i == len(keys) - 1
            else any_of(strictly, all_of(Eq(key.attr, values[i]), result))
        )
    return result
