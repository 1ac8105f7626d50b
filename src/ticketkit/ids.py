"""New ids: random (version 4) UUIDs, as ``uuid.uuid4`` makes them, at a third of the cost.

``uuid.uuid4`` asks the operating system for 16 random bytes per id and then validates its
arguments; an operation that writes a ticket, its comments, events and notifications needs
several ids. ``new_id`` draws the same kind of randomness (``os.urandom``) for many ids at
once and builds each UUID from its integer directly.

The pool is per thread and emptied in a child process by ``os.register_at_fork`` (which
``os.fork`` and ``multiprocessing`` run). A process forked around Python's back, through
C code that calls ``fork()`` itself, would share its parent's next ids: pass
``new_id=uuid.uuid4`` to ``HelpDesk`` there.
"""

from __future__ import annotations

import os
import threading
from uuid import UUID, SafeUUID

_POOL = 256
#: The version (4) and variant (RFC 4122) bits of a random UUID, and the mask clearing them.
_VERSION_BITS = (0x4000 << 64) | (0x8000 << 48)
_KEEP = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)

_local = threading.local()


def _refill() -> list[int]:
    raw = os.urandom(16 * _POOL)
    pool = [
        (int.from_bytes(raw[i : i + 16], "big") & _KEEP) | _VERSION_BITS
        for i in range(0, len(raw), 16)
    ]
    _local.pool = pool
    return pool


def _from_int_checked(value: int) -> UUID:
    return UUID(int=value)


def _from_int_direct(value: int) -> UUID:
    # UUID is immutable through __setattr__; this is what its own __init__ ends with.
    u = object.__new__(UUID)
    object.__setattr__(u, "int", value)
    object.__setattr__(u, "is_safe", SafeUUID.unknown)
    return u


def _direct_works() -> bool:
    """Whether this Python's UUID can be built from its slots (checked once, at import)."""
    try:
        probe = (0x1234 << 100) | _VERSION_BITS
        built = _from_int_direct(probe)
        expected = UUID(int=probe)
        return (
            built == expected
            and hash(built) == hash(expected)
            and str(built) == str(expected)
            and built.version == 4
        )
    except (AttributeError, TypeError):  # pragma: no cover - a differently built UUID class
        return False


_from_int = _from_int_direct if _direct_works() else _from_int_checked  # pragma: no branch


def new_id() -> UUID:
    """A random version-4 UUID (122 random bits from ``os.urandom``)."""
    pool: list[int] | None = getattr(_local, "pool", None)
    if not pool:
        pool = _refill()
    return _from_int(pool.pop())


def _forget_after_fork() -> None:
    # A child process must not hand out the ids its parent's pool still holds.
    _local.__dict__.pop("pool", None)


if hasattr(os, "register_at_fork"):  # pragma: no branch
    os.register_at_fork(after_in_child=_forget_after_fork)

__all__ = ["new_id"]
