"""A ``ticketkit_invite`` and ``ticketkit_grant_offer`` plugin for tests: keeps every
invitation and grant offer it is handed, as a mail system would, so a test can follow the
link's token."""

from __future__ import annotations

from ticketkit import InvitationMessage, hookimpl
from ticketkit.application import GrantOfferMessage


class Mailer:
    def __init__(self) -> None:
        self.sent: list[InvitationMessage] = []
        self.offers: list[GrantOfferMessage] = []

    @hookimpl
    def ticketkit_invite(self, message: InvitationMessage) -> None:
        self.sent.append(message)

    @hookimpl
    def ticketkit_grant_offer(self, message: GrantOfferMessage) -> None:
        self.offers.append(message)

    @property
    def token(self) -> str:
        """The token of the latest invitation."""
        return self.sent[-1].token
