"""What every group of operations relies on: ``Run``, how an operation runs, and the
abstract ``_run`` that runs it, which ``HelpDesk`` and ``Batch`` (``desk.py``) implement.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar
from uuid import UUID

import attrs

from ticketkit.application.session import Session
from ticketkit.domain.model import Actor

P = ParamSpec("P")
T = TypeVar("T")


@attrs.frozen
class Run:
    """How an operation runs: reading or writing; whether a write that lost a race to a
    concurrent one is run again; and which people to load with the actor in one read
    (``people``, and with ``ticket`` the requester, assignee and followers of the ticket
    its first argument names)."""

    write: bool
    #: A write that lost a race in storage runs again, whole, up to three times: it reads
    #: afresh and checks again, ``expected_version`` included, against the person's own
    #: version, so only a change they can see is a conflict of theirs.
    retry: bool = False
    people: tuple[UUID | None, ...] = ()
    ticket: bool = False


READ = Run(write=False)
WRITE = Run(write=True)
#: Changes that concurrent writers race for.
UPDATE = Run(write=True, retry=True)
#: Changes to the ticket named by the first argument: it is read and locked first, so its
#: people (whom the change may notify) are resolved with the actor in one read.
TICKET_UPDATE = Run(write=True, retry=True, ticket=True)


class Runner(abc.ABC):
    """The base of every group of operations: each of their methods names how it runs and
    hands its capability's function to ``_run``."""

    @abc.abstractmethod
    def _run(
        self,
        actor: Actor,
        how: Run,
        operation: Callable[Concatenate[Session, P], T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run ``operation`` in a session acting as ``actor``."""


__all__ = ["READ", "TICKET_UPDATE", "UPDATE", "WRITE", "Run", "Runner"]
