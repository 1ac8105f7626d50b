"""A notifier and invitation plugin that records what it is handed (``PLUGINS``)."""

from __future__ import annotations

import threading

from ticketkit import InvitationMessage, NotificationMessage, hookimpl


class Recorder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.notifications: list[NotificationMessage] = []
        self.invitations: list[InvitationMessage] = []

    @hookimpl
    def ticketkit_notify(self, message: NotificationMessage) -> None:
        with self._lock:
            self.notifications.append(message)

    @hookimpl
    def ticketkit_invite(self, message: InvitationMessage) -> None:
        with self._lock:
            self.invitations.append(message)

    def clear(self) -> None:
        with self._lock:
            self.notifications.clear()
            self.invitations.clear()


RECORDER = Recorder()
