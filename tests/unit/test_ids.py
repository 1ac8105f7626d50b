"""New ids are random version-4 UUIDs, indistinguishable from ``uuid.uuid4``'s."""

from __future__ import annotations

import os
import pickle
import sys
from uuid import UUID

import pytest

from ticketkit import ids
from ticketkit.ids import new_id


def test_new_ids_are_version_4_rfc_4122_uuids_that_behave_like_any_other() -> None:
    for _ in range(1_000):
        u = new_id()
        assert (u.version, u.variant) == (4, "specified in RFC 4122")
        twin = UUID(str(u))
        assert twin == u and hash(twin) == hash(u) and u.hex == twin.hex
        assert pickle.loads(pickle.dumps(u)) == u


def test_new_ids_do_not_repeat_across_pool_refills() -> None:
    many = [new_id() for _ in range(20_000)]
    assert len(set(many)) == len(many)


@pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "darwin", reason="needs fork")
def test_a_forked_child_does_not_reuse_the_ids_its_parent_will_hand_out() -> None:
    upcoming = {UUID(int=n) for n in ids._refill()}  # a full pool: the parent's next ids
    assert len(upcoming) == ids._POOL
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.write(writer, "\n".join(str(new_id()) for _ in range(10)).encode())
        os._exit(0)
    os.close(writer)
    os.waitpid(pid, 0)
    with os.fdopen(reader) as f:
        child = {UUID(line) for line in f.read().splitlines()}
    assert len(child) == 10
    assert not child & upcoming
