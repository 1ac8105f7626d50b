"""The operations of settings: the tenant's values and organisations' overrides
(``application/settings.py``)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ticketkit.application import settings
from ticketkit.application.operations.base import READ, UPDATE, Runner
from ticketkit.application.views import SettingView
from ticketkit.domain.model import Actor
from ticketkit.domain.settings import SettingInput


class SettingOperations(Runner):
    """Settings: the tenant's values, organisations' overrides, the value that counts."""

    def set_setting(
        self,
        actor: Actor,
        name: str,
        value: SettingInput,
        *,
        organisation_id: UUID | None = None,
    ) -> SettingView:
        """Set a setting for the tenant, or override it for an organisation and those below
        it (admins only); ``value`` typed or in its JSON form (seconds for a duration)."""
        return self._run(
            actor, UPDATE, settings.set_setting, name, value, organisation_id=organisation_id
        )

    def clear_setting(
        self, actor: Actor, name: str, *, organisation_id: UUID | None = None
    ) -> SettingView:
        """Remove the tenant's value or an organisation's override (admins only)."""
        return self._run(
            actor, UPDATE, settings.clear_setting, name, organisation_id=organisation_id
        )

    def effective_setting(
        self,
        actor: Actor,
        name: str,
        *,
        person_id: UUID | None = None,
        ticket_id: UUID | None = None,
    ) -> Any:
        """The value of a setting that counts for the actor, another person (staff only) or
        a ticket they may read: the nearest override up the organisation's parents, else
        the tenant's value, else the default."""
        return self._run(
            actor, READ, settings.effective_setting, name, person_id=person_id, ticket_id=ticket_id
        )

    def list_settings(
        self, actor: Actor, *, organisation_id: UUID | None = None
    ) -> list[SettingView]:
        """Every setting with its default, the tenant's value, the organisation's override
        and the value that counts there: a settings page (admins only)."""
        return self._run(actor, READ, settings.list_settings, organisation_id=organisation_id)


__all__ = ["SettingOperations"]
