"""The value of a setting that counts, under random organisation trees and random values,
equals a simple reference model: the nearest override up the parent chain, else the
tenant's value, else the default. Played through the operations on every backend."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ticketkit.application import HelpDesk
from ticketkit.clock import ManualClock
from ticketkit.domain import Role
from ticketkit.ports import Storage

NAME = "invitations.expiry"
DEFAULT = timedelta(days=7)


def reference(
    parents: list[int | None], overrides: dict[int, int], tenant: int | None, org: int
) -> timedelta:
    """The value for organisation ``org``, worked out as plainly as possible."""
    at: int | None = org
    while at is not None:
        if at in overrides:
            return timedelta(minutes=overrides[at])
        at = parents[at]
    return timedelta(minutes=tenant) if tenant is not None else DEFAULT


@st.composite
def forests(draw: st.DrawFn) -> tuple[list[int | None], dict[int, int], int | None]:
    """Organisations 0..n-1, each with no parent or an earlier one (as the API builds
    them: a parent exists first); overrides on some, and perhaps a tenant value."""
    n = draw(st.integers(1, 7))
    parents: list[int | None] = [
        draw(st.none() | st.integers(0, i - 1)) if i else None for i in range(n)
    ]
    minutes = st.integers(1, 90 * 24 * 60)
    overrides = draw(st.dictionaries(st.integers(0, n - 1), minutes, max_size=n))
    tenant = draw(st.none() | minutes)
    return parents, overrides, tenant


@pytest.mark.parametrize("backend", ["memory", "sqlite", "postgres"])
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(case=forests())
def test_the_value_that_counts_is_the_nearest_override_else_the_tenant_s_else_the_default(
    request: pytest.FixtureRequest, backend: str, case: Any
) -> None:
    parents, overrides, tenant = case
    storage = _storage(request, backend)
    clock = ManualClock(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    desk = HelpDesk(storage, clock=clock)
    boot = desk.bootstrap_tenant(
        name="T", provider_name="T", admin_name="Ada", admin_email="ada@t.example"
    )
    admin = boot.admin.actor
    orgs = []
    for i, parent in enumerate(parents):
        org = desk.create_organisation(
            admin, name=f"O{i}", parent_id=None if parent is None else orgs[parent].id
        )
        orgs.append(org)
    people = [
        desk.add_person(
            admin,
            organisation_id=org.id,
            name=f"P{i}",
            email=f"p{i}-{uuid.uuid4().hex[:8]}@t.example",
            role=Role.GUEST,
        )
        for i, org in enumerate(orgs)
    ]
    if tenant is not None:
        desk.set_setting(admin, NAME, timedelta(minutes=tenant))
    for i, minutes in overrides.items():
        desk.set_setting(admin, NAME, minutes * 60, organisation_id=orgs[i].id)
    page = {}
    for i, org in enumerate(orgs):
        want = reference(parents, overrides, tenant, i)
        assert desk.effective_setting(people[i].actor, NAME) == want
        assert desk.effective_setting(admin, NAME, person_id=people[i].id) == want
        (view,) = [v for v in desk.list_settings(admin, organisation_id=org.id) if v.name == NAME]
        page[i] = view.effective
    assert page == {i: reference(parents, overrides, tenant, i) for i in range(len(orgs))}


def _storage(request: pytest.FixtureRequest, backend: str) -> Storage:
    if backend == "memory":
        from ticketkit.adapters.memory import MemoryStorage

        return MemoryStorage()
    from ticketkit.adapters.sqlalchemy import SqlStorage

    return SqlStorage(request.getfixturevalue(f"{backend}_engine"))
