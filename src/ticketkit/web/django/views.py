"""Views and view decorators a Django portal needs from ticketkit: views for signed-in
people only (``signed_in``), and the magic-link sign-in (``magic_link_signin``)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeAlias, TypeVar, overload
from uuid import UUID

from django.http import HttpResponse
from django.shortcuts import redirect, render

from ticketkit.domain.model import Actor
from ticketkit.web.django.middleware import sign_in

#: Where a magic link's token waits in the session between the link and the POST.
TOKEN_KEY = "ticketkit.token"


P = ParamSpec("P")
R = TypeVar("R")
#: A view taking the request and then the signed-in person's ``Actor``.
ActorView: TypeAlias = Callable[Concatenate[Any, Actor, P], R]


@overload
def signed_in(
    view: ActorView[P, R], *, login_url: str = ...
) -> Callable[Concatenate[Any, P], Any]: ...
@overload
def signed_in(
    view: None = None, *, login_url: str = ...
) -> Callable[[ActorView[P, R]], Callable[Concatenate[Any, P], Any]]: ...
def signed_in(
    view: ActorView[P, R] | None = None, *, login_url: str = "/login"
) -> (
    Callable[Concatenate[Any, P], Any]
    | Callable[[ActorView[P, R]], Callable[Concatenate[Any, P], Any]]
):
    """Decorate a view that needs someone signed in: it is called with the principal's
    ``Actor`` after the request; anyone else is sent to ``login_url``. The principal is
    resolved afresh on each request, so revoked access ends at the next one."""

    def decorate(view: ActorView[P, R]) -> Callable[Concatenate[Any, P], Any]:
        @functools.wraps(view)
        def checked(request: Any, /, *args: P.args, **kwargs: P.kwargs) -> Any:
            actor = request.ticketkit.actor
            if actor is None:
                return redirect(login_url)
            return view(request, actor, *args, **kwargs)

        return checked

    return decorate(view) if view is not None else decorate


def magic_link_signin(
    tenant_id: UUID | Callable[[], UUID],
    *,
    template: str = "ticketkit/signin.html",
    next_url: str = "/",
    context: Callable[[Any], dict[str, Any]] | None = None,
) -> Callable[[Any], HttpResponse]:
    """The sign-in view for a guest's magic link (route the link's path to it).

    GET with ``?token=`` moves the token from the address into a new session and redirects
    to the same path without it; GET then shows ``template`` (``invitation``: whom it signs
    in, until when) without using the token up, since mail scanners open links; POST
    redeems it, signs her in with a new session key and redirects to ``next_url``. A token
    that cannot be used raises ``InvitationRefused``, which the middleware answers (400 or
    410, with the reason's text). The answer to the link itself, the one address that
    holds the token, carries ``Referrer-Policy: no-referrer``; the confirm page's address
    holds none and keeps the app's own policy (``same-origin``), since a POST from a
    no-referrer page is sent with ``Origin: null``, which Django's CSRF check refuses.
    ``context(request)`` adds to the template's context.
    """

    def view(request: Any) -> HttpResponse:
        tenant = tenant_id() if callable(tenant_id) else tenant_id
        desk = request.ticketkit.desk
        if "token" in request.GET:
            request.session.flush()
            request.session[TOKEN_KEY] = request.GET["token"]
            response: HttpResponse = redirect(request.path)
            response["Referrer-Policy"] = "no-referrer"
        elif request.method == "POST":
            actor = desk.redeem_invitation(tenant, request.session.get(TOKEN_KEY, ""))
            del request.session[TOKEN_KEY]  # used up: the new session keeps nothing of it
            sign_in(request, actor)
            response = redirect(next_url)
        else:
            invitation = desk.inspect_invitation(tenant, request.session.get(TOKEN_KEY, ""))
            extra = context(request) if context is not None else {}
            response = render(request, template, {**extra, "invitation": invitation})
        return response

    return view


def context_processor(request: Any) -> dict[str, Any]:
    """``ticketkit`` in every template (``TEMPLATES[...]["OPTIONS"]["context_processors"]``,
    for Django's and Jinja2's engines): the request's ``TicketkitRequest``, whose
    ``principal`` and ``brand`` a page's header shows."""
    return {"ticketkit": getattr(request, "ticketkit", None)}


__all__ = ["TOKEN_KEY", "context_processor", "magic_link_signin", "signed_in"]
