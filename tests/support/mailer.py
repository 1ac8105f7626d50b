"""A ``ticketkit_invite`` plugin for tests: keeps every invitation it is handed, as a mail
system would, so a test can follow the link's token."""

from __future__ import annotations

from ticketkit import InvitationMessage, hookimpl


class Mailer:
    def __init__(self) -> None:
        self.sent: list[InvitationMessage] = []

    @hookimpl
    def ticketkit_invite(self, message: InvitationMessage) -> None:
        self.sent.append(message)

    @property
    def token(self) -> str:
        """The token of the latest invitation."""
        return self.sent[-1].token
