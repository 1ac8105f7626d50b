"""The domain's small value types: enumerations and custom field values, shared by the
entities (``model``) and the history events (``events``)."""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal
from typing import TypeVar

from ticketkit.errors import ValidationError

E = TypeVar("E", bound=enum.Enum)


def member(cls: type[E], value: object, field: str) -> E:
    """``value`` as a member of the enumeration ``cls`` (its string value is accepted), or
    a ``ValidationError`` naming ``field``: what an attrs converter of the domain uses."""
    try:
        return cls(value)
    except (ValueError, TypeError):
        allowed = [m.value for m in cls]
        raise ValidationError.single(
            field, f"unknown value {value!r}; expected one of {allowed}"
        ) from None


#: A custom field value: text or single choice (str), number (Decimal), date,
#: or multiple choice (tuple of str).
FieldValue = str | Decimal | date | tuple[str, ...]


class OrganisationKind(enum.StrEnum):
    """What an organisation is to the tenant's provider."""

    PROVIDER = "provider"
    CUSTOMER = "customer"
    PARTNER = "partner"
    VENDOR = "vendor"


class Role(enum.StrEnum):
    """What a person may do; the policy maps roles to permissions."""

    ADMIN = "admin"
    AGENT = "agent"
    LIGHT_AGENT = "light_agent"
    CUSTOMER_ADMIN = "customer_admin"
    GUEST = "guest"
    #: An agent of a customer's own help desk (seed 002, Taskfire): works the tickets of
    #: its organisation's projects, and its internal notes stay inside that organisation.
    CUSTOMER_AGENT = "customer_agent"

    @property
    def is_staff(self) -> bool:
        """Staff work for the provider and read every ticket of the tenant (a customer's
        own agents are no staff: they read their organisation's tickets only)."""
        return self in (Role.ADMIN, Role.AGENT, Role.LIGHT_AGENT)


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Visibility(enum.StrEnum):
    """Who may read a comment or an event.

    ``INTERNAL`` means internal to the *author's organisation*, not "staff only": a customer's
    own help desk can keep notes from the provider the same way the provider keeps them from
    the customer.
    """

    PUBLIC = "public"
    INTERNAL = "internal"
