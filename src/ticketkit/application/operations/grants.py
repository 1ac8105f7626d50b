"""The operations of delegation grants: offer, request, accept, decline, revoke, list
(``application/grants.py``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from ticketkit.application import grants
from ticketkit.application.grants import GrantOverview
from ticketkit.application.operations.base import READ, UPDATE, WRITE, Runner
from ticketkit.domain.grants import Grant, GrantScope
from ticketkit.domain.model import Actor


class GrantOperations(Runner):
    """Delegation grants: a project lent to a technical supporter, within a scope."""

    def offer_grant(
        self,
        actor: Actor,
        project_id: UUID,
        *,
        grantee_person_id: UUID | None = None,
        grantee_organisation_id: UUID | None = None,
        scope: Iterable[GrantScope | str],
        expires_at: datetime | None = None,
    ) -> Grant:
        """Offer a project to a technical supporter (a person or an organisation), within
        ``scope`` and until ``expires_at``: customer admins of its owner, admins."""
        return self._run(
            actor,
            WRITE,
            grants.offer_grant,
            project_id,
            grantee_person_id=grantee_person_id,
            grantee_organisation_id=grantee_organisation_id,
            scope=scope,
            expires_at=expires_at,
        )

    def accept_grant(self, actor: Actor, grant_id: UUID) -> Grant:
        """Accept a grant offered to oneself or (customer admins) one's organisation."""
        return self._run(actor, UPDATE, grants.accept_grant, grant_id)

    def accept_grant_by_token(self, actor: Actor, token: str) -> Grant:
        """Accept an offer by the token of its link (``HelpDesk.send_grant_offer``): the
        grantee herself, or a customer admin of the grantee organisation."""
        return self._run(actor, UPDATE, grants.accept_grant_by_token, token)

    def request_grant(
        self,
        actor: Actor,
        project_number: int,
        scope: Iterable[GrantScope | str],
        *,
        expires_at: datetime | None = None,
    ) -> Grant:
        """Ask for access to another organisation's project by its number, for one's own
        organisation (customer admins)."""
        return self._run(
            actor, WRITE, grants.request_grant, project_number, scope, expires_at=expires_at
        )

    def accept_grant_request(self, actor: Actor, grant_id: UUID) -> Grant:
        """Accept a supporter's request: customer admins of the project's owner, admins."""
        return self._run(actor, UPDATE, grants.accept_grant_request, grant_id)

    def decline_grant_request(self, actor: Actor, grant_id: UUID) -> Grant:
        """Decline a supporter's request: customer admins of the project's owner, admins."""
        return self._run(actor, UPDATE, grants.decline_grant_request, grant_id)

    def revoke_grant(self, actor: Actor, grant_id: UUID) -> Grant:
        """End a grant: the owner side at any time, or the grantee giving it up."""
        return self._run(actor, UPDATE, grants.revoke_grant, grant_id)

    def list_grants(self, actor: Actor) -> GrantOverview:
        """Open requests waiting for the actor, grants of her organisation's projects, and
        the projects she supports now."""
        return self._run(actor, READ, grants.list_grants)


__all__ = ["GrantOperations"]
