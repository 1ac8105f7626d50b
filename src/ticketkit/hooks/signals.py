"""blinker signals for in-process listeners of the host app, one set per help desk.

Signals carry the full domain event: they are for the host's own code (metrics, cache
invalidation, audit). Never forward them to end users; notifications are the user-facing,
policy-filtered path. A listener that raises is logged and ignored.
"""

from __future__ import annotations

import logging
from typing import Any

import blinker

log = logging.getLogger("ticketkit.signals")


class Signals:
    """``event_recorded`` fires after commit for each history event (kwarg ``event``);
    ``notification_failed`` when a notifier plugin raised (kwargs ``notification``,
    ``failures``)."""

    def __init__(self) -> None:
        self.event_recorded = blinker.NamedSignal("event_recorded")
        self.notification_failed = blinker.NamedSignal("notification_failed")

    def send(self, signal: blinker.NamedSignal, sender: object, **kwargs: Any) -> None:
        """Send ``signal`` to each receiver separately, isolating failures."""
        if not signal.receivers:
            return
        for receiver in list(signal.receivers_for(sender)):
            try:
                receiver(sender, **kwargs)
            except Exception:
                log.exception("signal %s receiver %r failed", signal.name, receiver)
