"""The storage contract of setting values: every adapter alike."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from tests.support.records import NOW, Seeded, organisation, seed
from ticketkit.domain.settings import SettingValue
from ticketkit.ports import Storage


def value(
    s: Seeded, name: str, raw: object, organisation_id: uuid.UUID | None = None, *, minutes: int = 0
) -> SettingValue:
    return SettingValue(
        tenant_id=s.tenant,
        name=name,
        organisation_id=organisation_id,
        value=raw,
        updated_at=NOW + timedelta(minutes=minutes),
        updated_by=s.person,
    )


def test_tenant_values_and_overrides_round_trip_in_their_json_form(storage: Storage) -> None:
    s = seed(storage)
    child = organisation(s.tenant)
    tenant = value(s, "invitations.expiry", 3600)
    mine = value(s, "invitations.expiry", 60, s.org)
    theirs = value(s, "invitations.expiry", 90.5, child.id)
    logo = value(s, "branding.logo_url", None, child.id)
    with storage.unit_of_work(s.tenant) as uow:
        uow.organisations.add(child)
        for v in (tenant, mine, theirs, logo):
            uow.settings.set(v)
        assert uow.settings.tenant_value("invitations.expiry") == tenant, "reads its own writes"
        uow.commit()
    with storage.unit_of_work(s.tenant, read_only=True) as uow:
        assert uow.settings.tenant_value("invitations.expiry") == tenant
        assert uow.settings.tenant_value("branding.logo_url") is None
        assert uow.settings.overrides("invitations.expiry") == {s.org: mine, child.id: theirs}
        assert uow.settings.overrides("invitations.expiry", [child.id, uuid.uuid4()]) == {
            child.id: theirs
        }
        assert uow.settings.overrides("invitations.expiry", []) == {}
        assert uow.settings.overrides("branding.logo_url") == {child.id: logo}
        assert uow.settings.overrides("sla.guests_see_clocks") == {}


def test_setting_again_replaces_and_clearing_removes_only_its_own_value(storage: Storage) -> None:
    s = seed(storage)
    with storage.unit_of_work(s.tenant) as uow:
        uow.settings.set(value(s, "branding.display_name", "Acme"))
        uow.settings.set(value(s, "branding.display_name", "Acme EU", s.org))
        uow.commit()
    later = value(s, "branding.display_name", "Acme Group", minutes=5)
    with storage.unit_of_work(s.tenant) as uow:
        uow.settings.set(later)
        assert uow.settings.clear("branding.display_name", s.org) is True
        assert uow.settings.clear("branding.display_name", s.org) is False
        assert uow.settings.clear("branding.accent_colour") is False
        assert uow.settings.overrides("branding.display_name") == {}
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.settings.tenant_value("branding.display_name") == later
        assert uow.settings.overrides("branding.display_name") == {}
        assert uow.settings.clear("branding.display_name") is True
        assert uow.settings.tenant_value("branding.display_name") is None
        uow.commit()
    with storage.unit_of_work(s.tenant, read_only=True) as uow:
        assert uow.settings.tenant_value("branding.display_name") is None


def test_setting_values_stay_in_their_tenant_and_uncommitted_ones_are_discarded(
    storage: Storage,
) -> None:
    a, b = seed(storage), seed(storage)
    with storage.unit_of_work(a.tenant) as uow:
        uow.settings.set(value(a, "sla.guests_see_clocks", True))
        uow.settings.set(value(a, "sla.guests_see_clocks", False, a.org))
        uow.commit()
    with storage.unit_of_work(b.tenant) as uow:
        assert uow.settings.tenant_value("sla.guests_see_clocks") is None
        assert uow.settings.overrides("sla.guests_see_clocks") == {}
        assert uow.settings.clear("sla.guests_see_clocks") is False
        with pytest.raises(ValueError, match="tenant_id"):
            uow.settings.set(value(a, "sla.guests_see_clocks", False))
    with storage.unit_of_work(a.tenant) as uow:
        uow.settings.set(value(a, "sla.guests_see_clocks", False))
        uow.settings.clear("sla.guests_see_clocks", a.org)
    with storage.unit_of_work(a.tenant, read_only=True) as uow:
        stored = uow.settings.tenant_value("sla.guests_see_clocks")
        assert stored is not None and stored.value is True
        assert set(uow.settings.overrides("sla.guests_see_clocks")) == {a.org}
        for write in (
            lambda: uow.settings.set(value(a, "sla.guests_see_clocks", False)),
            lambda: uow.settings.clear("sla.guests_see_clocks"),
        ):
            with pytest.raises(RuntimeError, match="read-only"):
                write()
