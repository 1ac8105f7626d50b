"""Settings: the tenant's values, organisations' overrides, and the value that counts.

Admins set a setting for the whole tenant, or (where the setting allows it) for one
organisation and, through it, the organisations below it. The value that counts for an
organisation is its nearest override walking up its parents, else the tenant's value, else
the default (``domain.settings.resolve``). Anyone reads the values that count for
themselves; staff for anyone; for a ticket, whoever may read it (its project's
organisation decides).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ticketkit.application import validation as check
from ticketkit.application.session import Session
from ticketkit.application.views import UNSET, SettingView
from ticketkit.domain.model import Organisation
from ticketkit.domain.settings import Setting, SettingInput, SettingValue, resolve
from ticketkit.errors import FieldError, NotFound, PermissionDenied, ValidationError
from ticketkit.policy.rules import Action

#: The most organisations walked up from one to its topmost parent (the tree is built
#: parent first, so it has no cycle; this only bounds a damaged one).
MAX_DEPTH = 100


def set_setting(
    s: Session, name: str, value: SettingInput, *, organisation_id: UUID | None = None
) -> SettingView:
    """Set the tenant's value of a setting, or one organisation's override (admins only).
    ``value`` is the typed value or its JSON form (see ``Setting.parse``)."""
    s.require(Action.MANAGE_SETTINGS)
    errors: list[FieldError] = []
    setting = _setting(s, name, errors)
    check.ident(errors, organisation_id, "organisation_id", optional=True)
    typed: Any = None
    if setting is not None:
        try:
            typed = setting.parse(value)
        except ValidationError as error:
            errors += error.errors
        _overridable(setting, organisation_id, errors)
    check.raise_if(errors)
    assert setting is not None
    chain = _chain(s, organisation_id)
    s.uow.settings.set(
        SettingValue(
            tenant_id=s.tenant_id,
            name=setting.name,
            organisation_id=organisation_id,
            value=setting.dump(typed),
            updated_at=s.now,
            updated_by=s.person.id,
        )
    )
    return _view(s, setting, organisation_id, chain)


def clear_setting(s: Session, name: str, *, organisation_id: UUID | None = None) -> SettingView:
    """Remove the tenant's value of a setting (the default counts again), or one
    organisation's override (its parents' or the tenant's value counts again); admins only.
    Clearing what is not set changes nothing."""
    s.require(Action.MANAGE_SETTINGS)
    errors: list[FieldError] = []
    setting = _setting(s, name, errors)
    check.ident(errors, organisation_id, "organisation_id", optional=True)
    if setting is not None:
        _overridable(setting, organisation_id, errors)
    check.raise_if(errors)
    assert setting is not None
    chain = _chain(s, organisation_id)
    s.uow.settings.clear(setting.name, organisation_id)
    return _view(s, setting, organisation_id, chain)


def effective_setting(
    s: Session, name: str, *, person_id: UUID | None = None, ticket_id: UUID | None = None
) -> Any:
    """The value of a setting that counts for a person (the acting one unless
    ``person_id``: others' for staff only) or for a ticket (its project's organisation;
    ``NotFound`` for one the acting person may not read)."""
    errors: list[FieldError] = []
    setting = _setting(s, name, errors)
    people = check.ident(errors, person_id, "person_id", optional=True)
    tickets = check.ident(errors, ticket_id, "ticket_id", optional=True)
    if people and tickets and person_id is not None and ticket_id is not None:
        errors.append(FieldError("ticket_id", "give a person_id or a ticket_id, not both"))
    check.raise_if(errors)
    assert setting is not None
    if ticket_id is not None:
        ticket = s.visible_ticket(ticket_id)
        project = s.uow.projects.get(ticket.project_id)
        if project is None:  # a ticket's project is never removed
            raise NotFound("Ticket", ticket_id)
        organisation_id = project.organisation_id
    elif person_id is not None and person_id != s.person.id:
        # Decided before the person is looked up, so it tells nothing about who exists.
        if not s.actor.viewer.is_staff:
            raise PermissionDenied("read another person's settings", "person_id")
        person = s.uow.persons.get(person_id)
        if person is None:
            raise NotFound("Person", person_id)
        organisation_id = person.organisation_id
    else:
        organisation_id = s.person.organisation_id
    return _effective(s, setting, _chain(s, organisation_id))


def value_for(s: Session, name: str, organisation_id: UUID) -> Any:
    """The value of the registered setting ``name`` that counts for ``organisation_id``:
    for other capability modules (an invitation's expiry for its guest's organisation),
    which have checked the caller's rights to the thing it is about."""
    setting = s.services.settings.get(name)
    if setting is None:
        raise KeyError(name)
    return _effective(s, setting, _chain(s, organisation_id))


def list_settings(s: Session, *, organisation_id: UUID | None = None) -> list[SettingView]:
    """Every setting the help desk knows, in the registry's order, with its default, the
    tenant's value, the organisation's own override and the value that counts for it
    (without ``organisation_id``: for the tenant as a whole); admins only."""
    s.require(Action.MANAGE_SETTINGS)
    errors: list[FieldError] = []
    check.ident(errors, organisation_id, "organisation_id", optional=True)
    check.raise_if(errors)
    chain = _chain(s, organisation_id)
    return [_view(s, setting, organisation_id, chain) for setting in s.services.settings]


# -- shared steps -----------------------------------------------------------------------------


def _setting(s: Session, name: object, errors: list[FieldError]) -> Setting | None:
    """The registered setting ``name``; notes why not under ``name``."""
    if not isinstance(name, str):
        errors.append(FieldError("name", "must be a setting's name"))
        return None
    found = s.services.settings.get(name)
    if found is None:
        errors.append(FieldError("name", "is no setting ticketkit knows"))
    return found


def _overridable(setting: Setting, organisation_id: object, errors: list[FieldError]) -> None:
    if organisation_id is not None and not setting.overridable:
        errors.append(
            FieldError("organisation_id", f"{setting.name} is set for the whole tenant only")
        )


def _chain(s: Session, organisation_id: UUID | None) -> list[UUID]:
    """The organisation and its parents, nearest first (none for None); ``NotFound`` for an
    organisation that is not the tenant's."""
    if organisation_id is None:
        return []
    found: Organisation | None = s.uow.organisations.get(organisation_id)
    if found is None:
        raise NotFound("Organisation", organisation_id)
    chain = [found.id]
    while found.parent_id is not None and found.parent_id not in chain and len(chain) < MAX_DEPTH:
        found = s.uow.organisations.get(found.parent_id)
        if found is None:
            break
        chain.append(found.id)
    return chain


def _stored(s: Session, setting: Setting, chain: list[UUID]) -> tuple[Any, dict[UUID, Any]]:
    """The tenant's value of ``setting`` (``UNSET`` when none is stored) and the overrides
    of the organisations of ``chain``, typed (none read for a setting that allows none)."""
    tenant = s.uow.settings.tenant_value(setting.name)
    overrides = (
        s.uow.settings.overrides(setting.name, chain) if chain and setting.overridable else {}
    )
    return (
        setting.load(tenant.value) if tenant is not None else UNSET,
        {k: setting.load(v.value) for k, v in overrides.items()},
    )


def _effective(s: Session, setting: Setting, chain: list[UUID]) -> Any:
    tenant, overrides = _stored(s, setting, chain)
    return resolve(setting, chain, overrides, tenant, tenant_set=tenant is not UNSET)


def _view(
    s: Session, setting: Setting, organisation_id: UUID | None, chain: list[UUID]
) -> SettingView:
    tenant, overrides = _stored(s, setting, chain)
    return SettingView(
        name=setting.name,
        type=setting.type_name,
        doc=setting.doc,
        overridable=setting.overridable,
        default=setting.default,
        tenant_value=tenant,
        organisation_id=organisation_id,
        override=overrides.get(organisation_id, UNSET) if organisation_id is not None else UNSET,
        effective=resolve(setting, chain, overrides, tenant, tenant_set=tenant is not UNSET),
    )
