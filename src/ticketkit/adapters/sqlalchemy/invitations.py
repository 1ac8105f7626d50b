"""``Invitations``, the SQL ``InvitationRepository``: rows written at once, and closing as
one conditional ``UPDATE``, so that of two redemptions of a token exactly one changes the
row (PostgreSQL's second writer waits for the first and finds it closed; SQLite has one
writer at a time)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from sqlalchemy import Row, bindparam, insert, select, update

from ticketkit.adapters.sqlalchemy import tables
from ticketkit.adapters.sqlalchemy.mapping import PERSONS
from ticketkit.domain.invitations import Closed, Invitation
from ticketkit.ports.repositories import InvitationRepository

if TYPE_CHECKING:
    from ticketkit.adapters.sqlalchemy.unit_of_work import SqlUnitOfWork

_i = tables.invitations
_BY_ID = select(_i).where(_i.c.tenant_id == bindparam("tenant"), _i.c.id == bindparam("ident"))
_OF_PERSON = (
    select(_i)
    .where(_i.c.tenant_id == bindparam("tenant"), _i.c.person_id == bindparam("person"))
    .order_by(_i.c.created_at, _i.c.id)
)

_p = tables.persons
_OF_ORGANISATION = (
    select(_i)
    .join(_p, (_p.c.tenant_id == _i.c.tenant_id) & (_p.c.id == _i.c.person_id))
    .where(_p.c.tenant_id == bindparam("tenant"), _p.c.organisation_id == bindparam("org"))
    .order_by(_i.c.created_at.desc(), _i.c.id.desc())
)


def _close(*where: Any) -> Any:
    return (
        update(_i)
        .where(
            _i.c.tenant_id == bindparam("tenant"),
            _i.c.closed_at.is_(None),
            _i.c.expires_at > bindparam("at"),
            *where,
        )
        .values(closed_at=bindparam("at"), closed=bindparam("reason"))
    )


_CLOSE = _close(_i.c.id == bindparam("ident"))
_CLOSE_OPEN = _close(_i.c.person_id == bindparam("person"))


def _invitation(row: Row[Any]) -> Invitation:
    return Invitation(
        tenant_id=row.tenant_id,
        id=row.id,
        person_id=row.person_id,
        token_hash=row.token_hash,
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        closed_at=row.closed_at,
        closed=Closed(row.closed) if row.closed is not None else None,
    )


class Invitations(InvitationRepository):
    """Invitations of the unit of work's tenant, written at once."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    def get(self, ident: UUID) -> Invitation | None:
        uow = self._uow
        params = {"tenant": uow.tenant_id, "ident": ident}
        row = uow._connector.reader().execute(_BY_ID, params).first()
        return _invitation(row) if row is not None else None

    def of_person(self, person_id: UUID) -> list[Invitation]:
        uow = self._uow
        params = {"tenant": uow.tenant_id, "person": person_id}
        return [_invitation(r) for r in uow._connector.reader().execute(_OF_PERSON, params)]

    def of_organisation(self, organisation_id: UUID) -> list[Invitation]:
        uow = self._uow
        uow._flush(PERSONS)
        params = {"tenant": uow.tenant_id, "org": organisation_id}
        return [_invitation(r) for r in uow._connector.reader().execute(_OF_ORGANISATION, params)]

    def add(self, invitation: Invitation) -> None:
        uow = self._uow
        uow._check_tenant(invitation)
        uow._flush(PERSONS)  # the person may be new in this unit of work
        row = {
            "tenant_id": invitation.tenant_id,
            "id": invitation.id,
            "person_id": invitation.person_id,
            "token_hash": invitation.token_hash,
            "created_by": invitation.created_by,
            "created_at": invitation.created_at,
            "expires_at": invitation.expires_at,
            "closed_at": invitation.closed_at,
            "closed": invitation.closed.value if invitation.closed is not None else None,
        }
        uow._connector.writer().execute(insert(_i), row)

    def close(self, ident: UUID, reason: Closed, *, at: datetime) -> bool:
        uow = self._uow
        uow._check_tenant(uow)
        params = {"tenant": uow.tenant_id, "ident": ident, "at": at, "reason": reason.value}
        return bool(uow._connector.writer().execute(_CLOSE, params).rowcount == 1)

    def close_open(self, person_id: UUID, reason: Closed, *, at: datetime) -> int:
        uow = self._uow
        uow._check_tenant(uow)
        params = {"tenant": uow.tenant_id, "person": person_id, "at": at, "reason": reason.value}
        return int(uow._connector.writer().execute(_CLOSE_OPEN, params).rowcount)


__all__ = ["Invitations"]
