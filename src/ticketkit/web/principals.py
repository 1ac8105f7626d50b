"""Who is signed in, kept in the host's session as ids only and resolved afresh on every
request: a person whose access was taken away is signed out at her next request.

The host's session (Flask's ``session``, Django's ``request.session``, any mutable mapping)
holds the tenant and person ids under ``SESSION_KEY``, nothing else of ticketkit's. Host
users who sign in through the host's own auth (agents) are mapped to people by the
integration's ``person_for_user`` setting, the one place a host writes that mapping.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any
from uuid import UUID

import attrs

from ticketkit.application.desk import HelpDesk
from ticketkit.application.views import PersonView
from ticketkit.domain.model import Actor
from ticketkit.errors import NotFound

SESSION_KEY = "ticketkit.principal"


@attrs.frozen
class Principal:
    """The signed-in person: the ``actor`` every operation takes, and who they are as they
    may see themselves (name, role, organisation) for the page."""

    actor: Actor
    person: PersonView

    @property
    def is_staff(self) -> bool:
        return self.person.role.is_staff


def remember(session: MutableMapping[str, Any], actor: Actor) -> None:
    """Keep ``actor`` as the session's principal (after the host has rotated the session)."""
    session[SESSION_KEY] = {"tenant": str(actor.tenant_id), "person": str(actor.person_id)}


def forget(session: MutableMapping[str, Any]) -> None:
    """Sign the session's principal out."""
    session.pop(SESSION_KEY, None)


def stored_actor(session: Mapping[str, Any]) -> Actor | None:
    """The actor the session names, or None (nothing, or not ids of ours)."""
    stored = session.get(SESSION_KEY)
    if not isinstance(stored, Mapping):
        return None
    try:
        return Actor(tenant_id=UUID(str(stored["tenant"])), person_id=UUID(str(stored["person"])))
    except (KeyError, ValueError):
        return None


def resolve(desk: HelpDesk, actor: Actor | None) -> Principal | None:
    """``actor`` as a principal if they may still act (an active person of the tenant),
    else None: one read, on every request."""
    if actor is None:
        return None
    try:
        person = desk.get_person(actor, actor.person_id)
    except NotFound:
        return None
    return Principal(actor=actor, person=person)
