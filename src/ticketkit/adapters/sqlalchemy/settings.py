"""The SQL repository of setting values: written at once (settings change rarely), a row
per tenant value and per organisation's override, each value in its JSON form."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from uuid import UUID

from sqlalchemy import (
    Row,
    Table,
    bindparam,
    delete,
    insert,
    null,
    select,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError

from ticketkit.adapters.sqlalchemy import tables
from ticketkit.domain.settings import SettingValue
from ticketkit.errors import Conflict
from ticketkit.ports.repositories import SettingRepository

if TYPE_CHECKING:
    from ticketkit.adapters.sqlalchemy.unit_of_work import SqlUnitOfWork

_ts, _os = tables.tenant_settings, tables.organisation_settings

_TENANT_VALUE = select(_ts).where(
    _ts.c.tenant_id == bindparam("tenant"), _ts.c.name == bindparam("name")
)
_OVERRIDES = select(_os).where(
    _os.c.tenant_id == bindparam("tenant"), _os.c.name == bindparam("name")
)
#: The tenant's value (organisation NULL) and every override of one setting, in one read.
_ALL_VALUES = union_all(
    select(
        _ts.c.tenant_id,
        _ts.c.name,
        type_coerce(null(), _os.c.organisation_id.type).label("organisation_id"),
        _ts.c.value,
        _ts.c.updated_at,
        _ts.c.updated_by,
    ).where(_ts.c.tenant_id == bindparam("tenant"), _ts.c.name == bindparam("name")),
    select(
        _os.c.tenant_id,
        _os.c.name,
        _os.c.organisation_id,
        _os.c.value,
        _os.c.updated_at,
        _os.c.updated_by,
    ).where(_os.c.tenant_id == bindparam("tenant"), _os.c.name == bindparam("name")),
)


def _value(r: Row[Any], organisation_id: UUID | None) -> SettingValue:
    return SettingValue(
        tenant_id=r.tenant_id,
        name=r.name,
        organisation_id=organisation_id,
        value=r.value,
        updated_at=r.updated_at,
        updated_by=r.updated_by,
    )


class Settings(SettingRepository):
    """Setting values in ``ticketkit_tenant_settings`` and ``ticketkit_organisation_settings``."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    def tenant_value(self, name: str) -> SettingValue | None:
        uow = self._uow
        params = {"tenant": uow.tenant_id, "name": name}
        row = uow._connector.reader().execute(_TENANT_VALUE, params).first()
        return None if row is None else _value(row, None)

    def overrides(
        self, name: str, organisation_ids: Iterable[UUID] | None = None
    ) -> dict[UUID, SettingValue]:
        uow = self._uow
        stmt = _OVERRIDES
        if organisation_ids is not None:
            wanted = list(dict.fromkeys(organisation_ids))
            if not wanted:
                return {}
            stmt = stmt.where(_os.c.organisation_id.in_(wanted))
        rows = uow._connector.reader().execute(stmt, {"tenant": uow.tenant_id, "name": name})
        return {r.organisation_id: _value(r, r.organisation_id) for r in rows.all()}

    def all_values(self, name: str) -> tuple[SettingValue | None, dict[UUID, SettingValue]]:
        uow = self._uow
        rows = uow._connector.reader().execute(_ALL_VALUES, {"tenant": uow.tenant_id, "name": name})
        tenant: SettingValue | None = None
        overrides: dict[UUID, SettingValue] = {}
        for r in rows.all():
            if r.organisation_id is None:
                tenant = _value(r, None)
            else:
                overrides[r.organisation_id] = _value(r, r.organisation_id)
        return tenant, overrides

    def set(self, value: SettingValue) -> None:
        uow = self._uow
        uow._check_tenant(value)
        table, where = self._key(value.name, value.organisation_id)
        conn = uow._connector.writer()
        uow._access.sharing_set = None
        row = {"value": value.value, "updated_at": value.updated_at, "updated_by": value.updated_by}
        if conn.execute(update(table).where(*where).values(**row)).rowcount == 1:
            return
        key = {"tenant_id": value.tenant_id, "name": value.name}
        if value.organisation_id is not None:
            key["organisation_id"] = value.organisation_id
        try:
            conn.execute(insert(table), {**key, **row})
        except IntegrityError as exc:
            # Another unit of work stored the same key meanwhile: as safe to run again as a
            # stale version (the whole unit of work is gone, as on PostgreSQL it must be).
            uow.rollback()
            raise Conflict("Setting", value.name) from exc

    def clear(self, name: str, organisation_id: UUID | None = None) -> bool:
        uow = self._uow
        uow._check_tenant(uow)
        table, where = self._key(name, organisation_id)
        uow._access.sharing_set = None
        return bool(uow._connector.writer().execute(delete(table).where(*where)).rowcount)

    def _key(self, name: str, organisation_id: UUID | None) -> tuple[Table, list[Any]]:
        """The table of a value and the conditions naming its row."""
        tenant = self._uow.tenant_id
        if organisation_id is None:
            return _ts, [_ts.c.tenant_id == tenant, _ts.c.name == name]
        return _os, [
            _os.c.tenant_id == tenant,
            _os.c.organisation_id == organisation_id,
            _os.c.name == name,
        ]


__all__ = ["Settings"]
