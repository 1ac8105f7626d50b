"""ticketkit's errors as Django responses, through the one table of ``ticketkit.web.http``.

``problem_response`` answers with the status and a page (the ``ticketkit/problem.html``
template, which a host overrides with its own of that name) or, for a client that asks for
JSON, ``application/problem+json``. Views that re-render their form on a validation error
use ``render_invalid``: the form's own template, status 422, the bad fields in the context.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils.html import format_html

from ticketkit.errors import TicketkitError, ValidationError
from ticketkit.web.http import HttpProblem, problem_for

TEMPLATE = "ticketkit/problem.html"
_JSON = ("application/problem+json", "application/json")


def problem_response(request: Any, problem: HttpProblem | TicketkitError) -> Any:
    """The response for ``problem`` (or the error it stands for): JSON if the client prefers
    it, otherwise the problem page. Hidden and missing things answer alike, byte for byte."""
    if isinstance(problem, TicketkitError):
        problem = problem_for(problem)
    if request.get_preferred_type(["text/html", *_JSON]) in _JSON:
        body = {"status": problem.status, "title": problem.title, "fields": dict(problem.fields)}
        return JsonResponse(body, status=problem.status, content_type=_JSON[0])
    try:
        page = render_to_string(TEMPLATE, {"problem": problem}, request=request)
    except (TemplateDoesNotExist, TicketkitError):
        # No Django template engine with app directories, or the host's page read the
        # database that just failed.
        page = format_html(
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{}</title>'
            "</head><body><main><h1>{}</h1></main></body></html>",
            problem.title,
            problem.title,
        )
    return HttpResponse(page, status=problem.status)


def render_invalid(
    request: Any, template_name: str, context: Mapping[str, Any], error: ValidationError
) -> Any:
    """Re-render a form's ``template_name`` with status 422: ``problem`` in the context has
    the title and, in ``problem.fields``, each bad field's message by its name."""
    problem = problem_for(error)
    return render(request, template_name, {**context, "problem": problem}, status=problem.status)


__all__ = ["TEMPLATE", "problem_response", "render_invalid"]
