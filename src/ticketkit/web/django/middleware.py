"""The request's help desk and principal, and ticketkit's errors as HTTP answers.

``TicketkitMiddleware`` (after Django's session and authentication middleware) sets
``request.ticketkit``: the desk and the principal, resolved afresh on every request. The
principal is the person signed in with ``sign_in`` (a guest's magic link) or, failing that,
the signed-in Django user's person as ``TICKETKIT["PERSON_FOR_USER"]`` maps them: the one
place a host maps its users. A person whose access was taken away is signed out at her next
request. A ``TicketkitError`` a view lets through becomes its HTTP answer
(``ticketkit.web.http``): 404 alike for hidden and missing, 403, 409, 422, and 503 when the
database fails (then also while the principal is resolved, and the error page is drawn as
for a visitor, reading nothing more from the database).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
from django.utils.module_loading import import_string

from ticketkit.application.desk import HelpDesk
from ticketkit.domain.model import Actor
from ticketkit.errors import StorageError, TicketkitError
from ticketkit.web import pages
from ticketkit.web.django.desk import current_settings, get_desk
from ticketkit.web.django.responses import problem_response
from ticketkit.web.pages import Brand
from ticketkit.web.principals import Principal, forget, remember, resolve, stored_actor


@attrs.define
class TicketkitRequest:
    """``request.ticketkit``: the help desk, and who is signed in (None: nobody)."""

    desk: HelpDesk
    principal: Principal | None
    _brand: Brand | None = attrs.field(default=None, init=False, repr=False)

    @property
    def actor(self) -> Actor | None:
        """The principal's actor, which every operation takes first; None when signed out."""
        return self.principal.actor if self.principal is not None else None

    @property
    def brand(self) -> Brand:
        """How the portal looks for the principal (her organisation's branding settings),
        or the defaults with ``TICKETKIT["BRAND_NAME"]`` for a visitor; read once."""
        if self._brand is None:
            name = current_settings().brand_name
            self._brand = pages.brand(self.desk, self.actor, default_name=name)
        return self._brand

    def without_storage(self) -> None:
        """The database failed this request: nobody is signed in for the rest of it and the
        portal looks as for a visitor, so an error page reads nothing more from it."""
        self.principal = None
        name = current_settings().brand_name
        self._brand = pages.brand(self.desk, None, default_name=name)


def _person_for_user() -> Callable[[Any], Actor | None] | None:
    path = current_settings().person_for_user
    return import_string(path) if path is not None else None


def principal_for(request: Any, desk: HelpDesk) -> Principal | None:
    """Who ``request`` acts as: the session's principal while she may still act (else she
    is signed out here), or the signed-in Django user's mapped person."""
    stored = stored_actor(request.session)
    if stored is not None:
        principal = resolve(desk, stored)
        if principal is not None:
            return principal
        forget(request.session)
    person_for_user = _person_for_user()
    user = getattr(request, "user", None)
    if person_for_user is None or user is None or not user.is_authenticated:
        return None
    return resolve(desk, person_for_user(user))


def _ticketkit(request: Any) -> TicketkitRequest:
    found = getattr(request, "ticketkit", None)
    if not isinstance(found, TicketkitRequest):
        found = request.ticketkit = TicketkitRequest(desk=get_desk(), principal=None)
    return found


def sign_in(request: Any, actor: Actor) -> Principal | None:
    """Sign ``actor`` in (say, the guest ``redeem_invitation`` returned): a new session key
    against session fixation, the ids kept in the session. Returns the principal, or None
    when the person may not act (nothing is kept then)."""
    request.session.cycle_key()
    remember(request.session, actor)
    found = _ticketkit(request)
    found.principal = resolve(found.desk, actor)
    if found.principal is None:
        forget(request.session)
    return found.principal


def sign_out(request: Any) -> None:
    """End the session: its data is deleted and its cookie replaced (as Django's
    ``logout`` does, which a signed-in Django user's sign-out may call instead)."""
    request.session.flush()
    _ticketkit(request).principal = None


class TicketkitMiddleware:
    """Sets ``request.ticketkit`` on every request; answers ``TicketkitError`` by status."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        desk = get_desk()
        request.ticketkit = TicketkitRequest(desk=desk, principal=None)
        try:
            request.ticketkit.principal = principal_for(request, desk)
        except StorageError as error:  # the database is down: 503, before any view
            request.ticketkit.without_storage()
            return problem_response(request, error)
        return self.get_response(request)

    def process_exception(self, request: Any, exception: Exception) -> Any:
        if isinstance(exception, TicketkitError):
            if isinstance(exception, StorageError):
                _ticketkit(request).without_storage()
            return problem_response(request, exception)
        return None


__all__ = ["TicketkitMiddleware", "TicketkitRequest", "principal_for", "sign_in", "sign_out"]
