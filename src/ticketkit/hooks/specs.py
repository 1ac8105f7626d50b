"""Every hook a plugin can implement, in one documented module.

Hooks *extend* ticketkit (pluggy); signals only let the host *observe* it (blinker).
Implement a hook by decorating a function or method with ``ticketkit.hooks.hookimpl``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from ticketkit.application.grants import GrantOfferMessage
    from ticketkit.application.invitations import InvitationMessage
    from ticketkit.application.views import NotificationMessage


PROJECT_NAME = "ticketkit"
ENTRY_POINT_GROUP = "ticketkit"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def ticketkit_notify(message: NotificationMessage) -> None:
    """Deliver one notification to one person (e-mail, chat, push …).

    Called after the change is committed, once per recipient, with a payload the policy has
    already cleared for that recipient: a guest never receives an internal comment. It runs
    off the caller's thread (unless the desk delivers inline) and is given up after the
    desk's ``delivery_timeout``. Raise to report failure; the notification is then marked
    failed, logged and retried later by ``HelpDesk.deliver_pending``, and the operation that
    caused it is unaffected; a call given up at the timeout is a failure too.

    Delivery is at least once: a crash, a given-up call or a lost lease can hand the same
    notification to a plugin again. ``message.notification_id`` is its idempotency key —
    the same on every delivery of that notification, in every process, and unique to
    it — so a plugin that must act once remembers the keys it handled and skips repeats.
    """


@hookspec
def ticketkit_invite(message: InvitationMessage) -> None:
    """Send a guest her magic-link invitation (e-mail, usually).

    ``message.token`` is the credential: build the host's login link from it (ticketkit
    knows no URL scheme) and send it to ``message.email``; never log or store it. Called
    once the invitation is committed for good, each plugin on its own and given up after
    the desk's ``delivery_timeout``: in the inviting admin's thread before ``invite_guest``
    returns, or, inside a host's transaction (Django's), at its commit and never on its
    rollback. The token exists nowhere else, so a failed or given-up call is not retried:
    ``HelpDesk.invite_guest`` returns which plugins took it (or ``deferred``; failures are
    logged), and inviting again issues a new token.
    """


@hookspec
def ticketkit_grant_offer(message: GrantOfferMessage) -> None:
    """Send an offer of a project to its grantee: ``message.recipients`` (the grantee
    person, or the grantee organisation's customer admins; e-mail, usually).

    ``message.token`` is the credential: build the host's link from it (the grantee,
    signed in, accepts with ``HelpDesk.accept_grant_by_token``) and never log or store it.
    Called like ``ticketkit_invite``: once the token is committed for good, each plugin
    given up after ``delivery_timeout``, not retried (sending again issues a new token).
    """
