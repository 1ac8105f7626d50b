"""The host's one mapping of Django users to ticketkit people (``PERSON_FOR_USER``)."""

from __future__ import annotations

from typing import Any

from ticketkit.domain.model import Actor


def person_for_user(user: Any) -> Actor | None:
    from tests.web.django.host.models import Staff

    staff = Staff.objects.filter(user=user).first()
    if staff is None:
        return None
    return Actor(tenant_id=staff.tenant_id, person_id=staff.person_id)
