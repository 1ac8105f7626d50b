"""New ids: time-ordered UUIDs (version 7, RFC 9562), cheap to make and kind to indexes.

A version-7 UUID leads with the Unix time in milliseconds and carries 74 random bits. Ids
made in later milliseconds sort after earlier ones, and within one thread every id sorts
after the one before (in the same millisecond it counts on from it, RFC 9562's monotonic
method): lists sorted by creation time break ties by id, so tickets opened in one instant
(a batch, a test's manual clock) keep the order they were opened in. New rows land at the
right-hand end of every index keyed by id (primary keys, and ``(tenant_id, ticket_id, ...)``
indexes) instead of on a random page each: a transaction dirties, writes and later
checkpoints a few pages instead of one per row. On SQLite that made one unit of work per
ticket 17 % faster (see ``docs/performance.md``). The time bits only order; ticketkit never
reads time back from an id (domain time comes from the clock). Whoever is shown an id can
read when its thing was made: for tickets, comments and events that time is shown with them
anyway; a person's id (a comment's author, say) tells when the person was added.

The random bits come from ``os.urandom``, drawn for many ids at once, and each UUID is made
by ``UUID(int=...)``; ``uuid.uuid7`` arrives only in Python 3.14. The pool is per thread
and emptied in a child process by ``os.register_at_fork`` (which ``os.fork`` and
``multiprocessing`` run). A process forked around Python's back, through C code that calls
``fork()`` itself, would share its parent's next random bits: pass ``new_id=uuid.uuid4`` to
``HelpDesk`` there (or wherever ids must not reveal their time).
"""

from __future__ import annotations

import os
import threading
import time
from uuid import UUID

_POOL = 256
#: Where the 48-bit millisecond timestamp starts.
_TIME_SHIFT = 80
#: The version (7) and variant (RFC 9562) bits.
_VERSION_BITS = (0x7000 << 64) | (0x8000 << 48)
#: The 74 random bits' places: 12 after the version, 62 after the variant.
_RANDOM_BITS = (0x0FFF << 64) | ((1 << 62) - 1)
#: The 62 random bits after the variant, where a same-millisecond id counts on.
_LOW_BITS = (1 << 62) - 1
#: A same-millisecond id counts on by 1 plus this many random bits' worth.
_STEP_BITS = (1 << 32) - 1

_local = threading.local()


def _refill() -> list[int]:
    """Draw a pool of id tails: 74 random bits each (16 bytes drawn, masked to the random
    bits' places), version and variant bits set."""
    raw = os.urandom(16 * _POOL)
    pool = [
        (int.from_bytes(raw[i : i + 16]) & _RANDOM_BITS) | _VERSION_BITS
        for i in range(0, len(raw), 16)
    ]
    _local.pool = pool
    return pool


def new_id() -> UUID:
    """A version-7 UUID: this millisecond's Unix time, then 74 random bits; larger than
    the last id this thread made (RFC 9562's monotonic random method)."""
    pool: list[int] | None = getattr(_local, "pool", None)
    if not pool:
        pool = _refill()
    tail = pool.pop()
    value = ((time.time_ns() // 1_000_000) << _TIME_SHIFT) | tail
    last: int = getattr(_local, "last", 0)
    step = 1 + (tail & _STEP_BITS)
    if value <= last and (last & _LOW_BITS) + step <= _LOW_BITS:
        # Same millisecond (or the clock stepped back): count on from the last id by a
        # random step, in the low random bits, so this thread's ids keep the order they
        # were made in and the next one is still not guessable from the last.
        value = last + step
    _local.last = value
    return UUID(int=value)


def id_time_ms(ident: UUID) -> int:
    """The Unix time in milliseconds a version-7 id was made at (for diagnostics and tests;
    never domain time)."""
    if ident.version != 7:
        raise ValueError(f"ident: {ident} is a version-{ident.version} UUID, not version 7")
    return ident.int >> _TIME_SHIFT


def _forget_after_fork() -> None:
    # A child process must not hand out the random bits its parent's pool still holds.
    _local.__dict__.pop("pool", None)
    _local.__dict__.pop("last", None)


if hasattr(os, "register_at_fork"):  # pragma: no branch
    os.register_at_fork(after_in_child=_forget_after_fork)

__all__ = ["id_time_ms", "new_id"]
