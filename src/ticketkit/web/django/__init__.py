"""ticketkit as a reusable Django app (``pip install "ticketkit[django]"``).

Add ``"ticketkit.web.django"`` to ``INSTALLED_APPS`` and
``"ticketkit.web.django.middleware.TicketkitMiddleware"`` to ``MIDDLEWARE`` (after the
session and authentication middleware), run ``migrate``, and call ``get_desk()`` or
``request.ticketkit.desk`` in views. ticketkit then runs on Django's database connection
and inside its transactions. See docs/django.md.
"""

from ticketkit.web.django.desk import get_desk
from ticketkit.web.django.middleware import TicketkitRequest, sign_in, sign_out
from ticketkit.web.django.responses import problem_response, render_invalid
from ticketkit.web.django.storage import BrokenTransaction, DjangoStorage, DjangoStorageError

__all__ = [
    "BrokenTransaction",
    "DjangoStorage",
    "DjangoStorageError",
    "TicketkitRequest",
    "get_desk",
    "problem_response",
    "render_invalid",
    "sign_in",
    "sign_out",
]
