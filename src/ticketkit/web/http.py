"""What a web host answers for each ticketkit error: one table both integrations use.

Hidden and missing are one answer (404, one text for both: the error's own message names
the id asked for, which a page need not echo); a permission error is 403; a validation
error 422, with the bad fields for the form; a stale version 409. A refused magic link
(400 for one that is no link of ours, 410 for one that was good once) carries its reason's
text, which says what to do next.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from ticketkit.errors import (
    Conflict,
    InvitationRefused,
    NotFound,
    PermissionDenied,
    StorageError,
    TicketkitError,
    ValidationError,
)


@attrs.frozen(kw_only=True)
class HttpProblem:
    """An error as a page or an API answer: the status, a short text safe to show anyone,
    and for a validation error the message of each bad field by its name."""

    status: int
    title: str
    fields: Mapping[str, str] = attrs.field(factory=dict)


def problem_for(error: TicketkitError) -> HttpProblem:
    """The HTTP answer for ``error``: the status and what the page may say."""
    if isinstance(error, NotFound):
        return HttpProblem(status=404, title="Not found")
    if isinstance(error, PermissionDenied):
        return HttpProblem(status=403, title="You may not do this")
    if isinstance(error, ValidationError):
        return HttpProblem(
            status=422, title="Please correct the marked fields", fields=dict(error.fields)
        )
    if isinstance(error, Conflict):
        return HttpProblem(
            status=409, title="Someone else changed this in the meantime; reload and try again"
        )
    if isinstance(error, InvitationRefused):
        status = 400 if error.reason == "invalid" else 410
        return HttpProblem(status=status, title=str(error).capitalize())
    if isinstance(error, StorageError):
        return HttpProblem(status=503, title="The help desk is unavailable; try again")
    return HttpProblem(status=400, title="The request could not be carried out")
