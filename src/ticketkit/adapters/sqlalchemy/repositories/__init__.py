"""The SQL repositories: each port of a unit of work, answered through its identity map, its
buffers and its connection. One module per capability, like ``tables/``: ``directory.py``
(organisations, persons, projects, ticket types, memberships, grants), ``ticketing.py``
(tickets, comments, events), ``delivery.py`` (the notification outbox). Groups and
followers are in ``groups.py``, settings in ``settings.py``, invitations in
``invitations.py``, the ``AccessReader`` in ``access.py``, beside this package.
"""

from ticketkit.adapters.sqlalchemy.repositories.delivery import Outbox
from ticketkit.adapters.sqlalchemy.repositories.directory import (
    CommittedTypes,
    Directory,
    Grants,
    Memberships,
    Projects,
    TicketTypes,
)
from ticketkit.adapters.sqlalchemy.repositories.ticketing import Comments, Events, Tickets

__all__ = [
    "Comments",
    "CommittedTypes",
    "Directory",
    "Events",
    "Grants",
    "Memberships",
    "Outbox",
    "Projects",
    "TicketTypes",
    "Tickets",
]
