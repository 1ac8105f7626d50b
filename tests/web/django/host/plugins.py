"""Plugins of the host (``PLUGINS``): a notifier, invitation and grant-offer plugin that
records what it is handed, and one whose mail system refuses every link."""

from __future__ import annotations

import threading

from ticketkit import InvitationMessage, NotificationMessage, hookimpl
from ticketkit.application import GrantOfferMessage


class Recorder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.notifications: list[NotificationMessage] = []
        self.invitations: list[InvitationMessage] = []
        self.offers: list[GrantOfferMessage] = []

    @hookimpl
    def ticketkit_notify(self, message: NotificationMessage) -> None:
        with self._lock:
            self.notifications.append(message)

    @hookimpl
    def ticketkit_invite(self, message: InvitationMessage) -> None:
        with self._lock:
            self.invitations.append(message)

    @hookimpl
    def ticketkit_grant_offer(self, message: GrantOfferMessage) -> None:
        with self._lock:
            self.offers.append(message)

    def clear(self) -> None:
        with self._lock:
            self.notifications.clear()
            self.invitations.clear()
            self.offers.clear()


RECORDER = Recorder()


class Refusing:
    """A mail system that is down: every link handed to it fails."""

    @hookimpl
    def ticketkit_invite(self, message: InvitationMessage) -> None:
        raise ConnectionError("mail server unreachable")
