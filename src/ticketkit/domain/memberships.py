"""People in several organisations: a contact's further memberships (issue 18, point 4).

A person belongs to her own organisation (``Person.organisation_id``, with ``Person.role``)
and, as a consultant may, to further customer organisations, each with a contact role of
its own. The policy resolves each membership on its own: on an organisation's tickets she
has the role of that membership only, so what she sees and does there never depends on
another (see ``policy/rules.py``). A membership ends rather than disappearing, so who
belonged where, and when, stays known.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import attrs

from ticketkit.domain.model import _aware, optional_aware
from ticketkit.domain.values import Role


@attrs.frozen(kw_only=True)
class Membership:
    """A person's membership of an organisation other than her own, with its role there."""

    tenant_id: UUID
    id: UUID
    person_id: UUID
    organisation_id: UUID
    role: Role
    created_by: UUID
    created_at: datetime = attrs.field(validator=_aware)
    #: When it ended (None: in force), and by whom.
    ended_at: datetime | None = attrs.field(default=None, validator=optional_aware)
    ended_by: UUID | None = None

    @property
    def active(self) -> bool:
        return self.ended_at is None

    def end(self, *, by: UUID, at: datetime) -> Membership:
        """The membership ended by ``by`` at ``at``."""
        return attrs.evolve(self, ended_at=at, ended_by=by)


__all__ = ["Membership"]
