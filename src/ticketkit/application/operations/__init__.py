"""Every operation a host calls: ``Operations`` names, for each, how it runs (``Run``: read
or write, retried or not, whom to load with the actor) and which capability module's
function does the work. ``HelpDesk`` and ``Batch`` (``desk.py``) differ only in how they
run it: a session and commit per call, or one session for the whole batch.

The operations come in groups, one mixin per capability, each in a module named after
the capability module it calls: ``directory.py`` (with memberships and invitations),
``grants.py``, ``groups.py``, ``settings.py``, ``sla.py``, ``tickets.py`` (with moves
between desks). Each mixin subclasses ``Runner`` (``base.py``: ``Run`` and the abstract
``_run``). A new capability adds its own module here, with its mixin, and one more base
of ``Operations`` below.
"""

from __future__ import annotations

from ticketkit.application.operations.base import READ, UPDATE, WRITE, Run
from ticketkit.application.operations.directory import DirectoryOperations
from ticketkit.application.operations.grants import GrantOperations
from ticketkit.application.operations.groups import GroupOperations
from ticketkit.application.operations.settings import SettingOperations
from ticketkit.application.operations.sla import SlaOperations
from ticketkit.application.operations.tickets import TicketOperations


class Operations(
    DirectoryOperations,
    GrantOperations,
    GroupOperations,
    SettingOperations,
    SlaOperations,
    TicketOperations,
):
    """The operations a host calls, each delegating to its capability module."""


__all__ = ["READ", "UPDATE", "WRITE", "Operations", "Run"]
