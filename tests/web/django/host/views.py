"""The host's views. Each acts as ``request.ticketkit``'s principal and lets ticketkit's
errors through to the middleware, except the form, which re-renders itself with 422."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connections
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from tests.web.django.host.models import Note
from tests.web.django.host.plugins import RECORDER
from ticketkit.application import GrantOfferSent, InvitationSent
from ticketkit.errors import ValidationError
from ticketkit.web.django import render_invalid, sign_in, sign_out
from ticketkit.web.django.conf import load
from ticketkit.web.django.views import magic_link_signin, signed_in


def ticketkit_alias() -> str:
    return load().database


class atomic_on_ticketkit_database:
    """Under ``ATOMIC_REQUESTS`` Django wraps a view in a transaction on every database
    that has it, except those the view's ``_non_atomic_requests`` names: here all but the
    one ticketkit uses in the running test."""

    def __init__(self, view: Callable[..., Any]) -> None:
        functools.update_wrapper(self, view)
        self.view = view

    @property
    def _non_atomic_requests(self) -> set[str]:
        return {alias for alias in connections if alias != ticketkit_alias()}

    def __call__(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return self.view(request, *args, **kwargs)


def _failing(request: Any) -> None:
    if request.POST.get("fail"):
        raise RuntimeError("the view failed after writing")


@atomic_on_ticketkit_database
def write_both(request: Any) -> Any:
    """A note through the ORM and a ticket through ticketkit; then fail if asked to."""
    alias = ticketkit_alias()
    note = Note.objects.using(alias).create(title=request.POST["title"])
    ticket = request.ticketkit.desk.create_ticket(
        request.ticketkit.actor,
        project_id=UUID(request.POST["project_id"]),
        type_id=UUID(request.POST["type_id"]),
        title=request.POST["title"],
        fields=json.loads(request.POST.get("fields", "{}")),
    )
    _failing(request)
    return JsonResponse({"note_id": note.pk, "ticket_id": str(ticket.id)})


@atomic_on_ticketkit_database
def reply(request: Any, ticket_id: UUID) -> Any:
    """A public reply (its requester is notified) and a note; then fail if asked to."""
    request.ticketkit.desk.add_comment(
        request.ticketkit.actor, ticket_id, request.POST["body"], visibility="public"
    )
    delivered_before_commit = len(RECORDER.notifications)
    Note.objects.using(ticketkit_alias()).create(title="replied")
    _failing(request)
    return JsonResponse({"delivered_before_commit": delivered_before_commit})


@atomic_on_ticketkit_database
def invite(request: Any, person_id: UUID) -> Any:
    """Invite a guest by magic link; then fail if asked to."""
    sent = request.ticketkit.desk.invite_guest(request.ticketkit.actor, person_id)
    handed_before_commit = len(RECORDER.invitations)
    _failing(request)
    return JsonResponse(_answer(sent, handed_before_commit))


@atomic_on_ticketkit_database
def send_offer(request: Any, grant_id: UUID) -> Any:
    """Send a grant offer's link to its grantee; then fail if asked to."""
    sent = request.ticketkit.desk.send_grant_offer(request.ticketkit.actor, grant_id)
    handed_before_commit = len(RECORDER.offers)
    _failing(request)
    return JsonResponse(_answer(sent, handed_before_commit))


def _answer(sent: InvitationSent | GrantOfferSent, handed_before_commit: int) -> dict[str, Any]:
    return {
        "deferred": sent.deferred,
        "delivered_to": list(sent.delivered_to),
        "failures": len(sent.failures),
        "handed_before_commit": handed_before_commit,
    }


def _signed_in(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def check(request: Any, *args: Any, **kwargs: Any) -> Any:
        if request.ticketkit.principal is None:
            return HttpResponse("sign in first", status=401)
        return view(request, *args, **kwargs)

    return check


@_signed_in
def ticket(request: Any, ticket_id: UUID) -> Any:
    found = request.ticketkit.desk.get_ticket(request.ticketkit.actor, ticket_id)
    return JsonResponse({"title": found.title, "fields": found.fields})


@_signed_in
def ticket_by_number(request: Any, project_id: UUID, number: int) -> Any:
    found = request.ticketkit.desk.get_ticket_by_number(request.ticketkit.actor, project_id, number)
    return JsonResponse({"title": found.title})


@_signed_in
def change(request: Any, ticket_id: UUID) -> Any:
    """A status change or an assignment, against the version the page showed."""
    desk, actor = request.ticketkit.desk, request.ticketkit.actor
    version = int(request.POST["version"])
    if "assignee_id" in request.POST:
        desk.assign(actor, ticket_id, UUID(request.POST["assignee_id"]), expected_version=version)
    else:
        desk.change_status(actor, ticket_id, request.POST["status"], expected_version=version)
    return HttpResponse("changed")


@_signed_in
def new_ticket(request: Any, project_id: UUID, type_id: UUID) -> Any:
    """The form a ticket is made with: re-rendered with 422 and its errors when invalid."""
    context = {"values": request.POST}
    if request.method != "POST":
        return render(request, "host/form.html", context)
    fields = {k.removeprefix("field_"): v for k, v in request.POST.items() if k != "title"}
    try:
        made = request.ticketkit.desk.create_ticket(
            request.ticketkit.actor,
            project_id=project_id,
            type_id=type_id,
            title=request.POST.get("title", ""),
            fields={k: v for k, v in fields.items() if v},
        )
    except ValidationError as error:
        return render_invalid(request, "host/form.html", context, error)
    return redirect(f"/tickets/{made.id}/")


def me(request: Any) -> Any:
    principal = request.ticketkit.principal
    if principal is None:
        return HttpResponse("nobody", status=401)
    return HttpResponse(principal.person.name)


def magic_link(request: Any) -> Any:
    """POST: redeem the token and sign its guest in."""
    actor = request.ticketkit.desk.redeem_invitation(
        UUID(request.POST["tenant"]), request.POST["token"]
    )
    sign_in(request, actor)
    return redirect("/me/")


def leave(request: Any) -> Any:
    sign_out(request)
    return HttpResponse(status=204)


# -- the portal helpers -----------------------------------------------------------------------


def portal_tenant() -> UUID:
    """The tenant the portal signs guests in to (one per portal; the test's)."""
    return UUID(str(settings.PORTAL_TENANT))


signin = magic_link_signin(
    portal_tenant,
    template="host/signin.html",
    next_url="/me/",
    context=lambda request: {"portal": "Leadtime's portal"},
)

#: The same view with every default: the app's own confirm page, then "/".
signin_default = magic_link_signin(portal_tenant)


@signed_in
def mine(request: Any, actor: Any, ticket_id: UUID) -> Any:
    name = request.ticketkit.desk.get_person(actor, actor.person_id).name
    return HttpResponse(f"{name} {ticket_id}")


@signed_in(login_url="/staff-login/")
def staff_only(request: Any, actor: Any) -> Any:
    return HttpResponse("for staff")


def brand(request: Any) -> Any:
    """The brand as the view reads it and as the template does, through the context
    processor's ``ticketkit``."""
    return render(request, "host/brand.html", {"brand": request.ticketkit.brand})
