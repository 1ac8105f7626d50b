"""ticketkit in a web app: what every framework integration shares (HTTP answers for
ticketkit's errors, the signed-in principal, forms for ticket types), and the Flask and
Django integrations themselves (``ticketkit.web.flask``, ``ticketkit.web.django``), which
the core never imports."""

from ticketkit.web.forms import TicketDraft, TicketForm, parse_ticket_form, ticket_form
from ticketkit.web.http import HttpProblem, problem_for
from ticketkit.web.principals import Principal, forget, remember, resolve

__all__ = [
    "HttpProblem",
    "Principal",
    "TicketDraft",
    "TicketForm",
    "forget",
    "parse_ticket_form",
    "problem_for",
    "remember",
    "resolve",
    "ticket_form",
]
