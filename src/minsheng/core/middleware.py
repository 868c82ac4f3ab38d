"""Middleware of the site as a whole."""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

#: The errors that mean the database could not be reached, and when to try again (seconds).
UNAVAILABLE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER = "5"


def mark_unavailable(request, exception, response: HttpResponse) -> HttpResponse:
    """Log the outage and mark `response` (a 503, in the page's or the API's format) with
    when to try again."""
    logger.error("database unavailable during %s %s: %s", request.method, request.path, exception)
    response["Retry-After"] = RETRY_AFTER
    return response


class DatabaseUnavailableMiddleware:
    """A page request that fails because the database cannot be reached (a restart, a
    failover, a locked SQLite file) answers 503 with a page that says nothing was saved and to
    try again — not the generic error page. The request's transaction was rolled back whole.
    The page is rendered without the request's context processors, which read the database.
    (The JSON API answers the same in its own format: api/rest/api.py.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, UNAVAILABLE_ERRORS):
            return None
        return mark_unavailable(request, exception, HttpResponse(render_to_string("unavailable.html"), status=503))
