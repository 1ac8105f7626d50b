"""One person per e-mail address in a tenant.

``add_person`` refuses an address another person of the tenant has (active or not), and
this unique index on (tenant_id, email) keeps concurrent writers to it. Addresses are
compared as mail systems compare them in practice, case-insensitively: ticketkit stores
them lower-cased, and this migration lower-cases any stored otherwise.

Existing duplicates are not resolved here, since only the host knows which person is the
right one: the migration stops with an error naming the tenants and people that share an
address (compared case-insensitively) and changes nothing. Change or remove all but one of
each, then run it again.

Revision ID: ticketkit_0005
Revises: ticketkit_0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ticketkit_0005"
down_revision: str | Sequence[str] | None = "ticketkit_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_ticketkit_persons_tenant_id_email"
#: People named in the error at most (the rest are counted).
SHOWN = 20


class DuplicateEmails(RuntimeError):
    """People of one tenant share an e-mail address; the index cannot be built."""


def upgrade() -> None:
    """Refuse duplicates, lower-case the addresses, then add the unique index."""
    persons = sa.table(
        "ticketkit_persons",
        sa.column("tenant_id", sa.Uuid()),
        sa.column("id", sa.Uuid()),
        sa.column("email", sa.String()),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(persons.c.tenant_id, persons.c.id, persons.c.email)).all()
    by_address: dict[tuple[object, str], list[object]] = {}
    for tenant_id, ident, email in rows:
        by_address.setdefault((tenant_id, email.lower()), []).append(ident)
    shared = [(key[0], ids) for key, ids in by_address.items() if len(ids) > 1]
    if shared:
        people = [f"tenant {t}: {', '.join(str(i) for i in ids)}" for t, ids in shared]
        more = f" and {len(people) - SHOWN} more" if len(people) > SHOWN else ""
        raise DuplicateEmails(
            f"{len(shared)} e-mail addresses are shared by several people of one tenant "
            "(compared case-insensitively); keep one person per address and run this "
            f"migration again. People sharing one: {'; '.join(people[:SHOWN])}{more}"
        )
    changed = [
        {"t": tenant_id, "i": ident, "e": email.lower()}
        for tenant_id, ident, email in rows
        if email != email.lower()
    ]
    if changed:
        bind.execute(
            persons.update()
            .where(persons.c.tenant_id == sa.bindparam("t"), persons.c.id == sa.bindparam("i"))
            .values(email=sa.bindparam("e")),
            changed,
        )
    op.create_index(INDEX, "ticketkit_persons", ["tenant_id", "email"], unique=True)


def downgrade() -> None:
    """Drop the index (addresses stay lower-cased, as ticketkit always wrote them)."""
    op.drop_index(INDEX, table_name="ticketkit_persons")
