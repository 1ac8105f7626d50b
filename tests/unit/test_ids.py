"""New ids are version-7 UUIDs (RFC 9562): time first, then 74 random bits."""

from __future__ import annotations

import os
import pickle
import sys
import threading
import time
from uuid import RFC_4122, UUID

import pytest

from ticketkit import ids
from ticketkit.ids import id_time_ms, new_id

_TAIL = (1 << 80) - 1  # everything after the timestamp: version, variant, random bits


def test_new_ids_are_version_7_rfc_9562_uuids_that_behave_like_any_other() -> None:
    for _ in range(1_000):
        u = new_id()
        assert (u.version, u.variant) == (7, "specified in RFC 4122")
        twin = UUID(str(u))
        assert twin == u and hash(twin) == hash(u) and u.hex == twin.hex
        assert pickle.loads(pickle.dumps(u)) == u


def test_new_ids_lead_with_the_millisecond_they_were_made_in() -> None:
    before = time.time_ns() // 1_000_000
    u = new_id()
    after = time.time_ns() // 1_000_000
    assert before <= id_time_ms(u) <= after


def test_ids_made_in_later_milliseconds_sort_after_earlier_ones() -> None:
    first = new_id()
    deadline = id_time_ms(first) + 3
    while time.time_ns() // 1_000_000 <= deadline:
        pass
    later = [new_id() for _ in range(100)]
    assert all(first < u and first.bytes < u.bytes and first.hex < u.hex for u in later)


def first_ids_of_milliseconds(count: int) -> list[UUID]:
    """The first id made in each of ``count`` milliseconds: all its random bits freshly
    drawn (later ids of the same millisecond count on from it)."""
    found: list[UUID] = []
    while len(found) < count:
        u = new_id()
        if not found or id_time_ms(u) != id_time_ms(found[-1]):
            found.append(u)
    return found


def test_every_random_bit_of_an_id_varies() -> None:
    tails = [u.int & _TAIL for u in first_ids_of_milliseconds(200)]
    varying = 0
    for t in tails:
        varying |= t ^ tails[0]
    fixed = (0xF000 << 64) | (0xC000 << 48)  # version and variant: the same in every id
    assert varying == _TAIL & ~fixed


def test_each_random_bit_of_an_id_comes_from_its_own_drawn_bit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One set bit per 16-byte draw: each pool entry shows where that source bit ends up
    # (the 54 drawn bits in the places of the time, version and variant are dropped).
    draws = [(1 << k).to_bytes(16, "big") for k in range(128)]
    draws += [bytes(16)] * (ids._POOL - len(draws))
    monkeypatch.setattr(ids.os, "urandom", lambda n: b"".join(draws)[:n])
    try:
        tails = [t & ~ids._VERSION_BITS for t in ids._refill()[:128]]
    finally:
        ids._forget_after_fork()  # this thread's next ids must not come from the stub
    random_bits = _TAIL & ~((0xF000 << 64) | (0xC000 << 48))
    used = [t for t in tails if t]
    assert len(used) == 74 == len(set(used))
    assert all(t & (t - 1) == 0 and t & random_bits == t for t in used)
    assert sum(used) == random_bits


def test_the_time_of_an_id_is_read_only_from_version_7_ids() -> None:
    with pytest.raises(ValueError, match="ident"):
        id_time_ms(UUID("12345678-1234-4678-9234-567812345678"))


def test_new_ids_do_not_repeat_across_pool_refills() -> None:
    many = [new_id() for _ in range(20_000)]
    assert len(set(many)) == len(many)


def test_threads_making_ids_at_once_never_hand_out_the_same_one() -> None:
    made: list[list[UUID]] = [[] for _ in range(8)]
    start = threading.Barrier(len(made))

    def make(out: list[UUID]) -> None:
        start.wait()
        out.extend(new_id() for _ in range(5_000))

    threads = [threading.Thread(target=make, args=(out,)) for out in made]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [u for out in made for u in out]
    assert len(every) == 40_000 == len(set(every))
    assert all(u.version == 7 for u in every)


@pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "darwin", reason="needs fork")
def test_a_forked_child_does_not_reuse_the_random_bits_its_parent_will_hand_out() -> None:
    upcoming = set(ids._refill())  # a full pool: the random tails of the parent's next ids
    assert len(upcoming) == ids._POOL
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.write(writer, "\n".join(str(new_id()) for _ in range(10)).encode())
        os._exit(0)
    os.close(writer)
    os.waitpid(pid, 0)
    with os.fdopen(reader) as f:
        child = {UUID(line).int & _TAIL for line in f.read().splitlines()}
    assert len(child) == 10
    assert not child & upcoming


def test_ids_made_one_after_another_in_a_thread_sort_in_that_order() -> None:
    """Within a millisecond too: lists sorted by creation time break ties by id."""
    made = [new_id() for _ in range(5_000)]
    assert made == sorted(made)
    assert len({id_time_ms(i) for i in made}) < len(made), "some shared a millisecond"
    assert all(i.version == 7 and i.variant == RFC_4122 for i in made)
