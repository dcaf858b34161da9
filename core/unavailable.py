"""A database that does not answer gets a clear French 503 page, not a server error.

Django's 500 handler is the one place that sees every uncaught exception: a middleware's
process_exception only sees those of the view, while the first query of almost every request
(loading the session and user in LoginRequiredMiddleware) runs before the view. The connection
attempt itself is bounded by DATABASE_CONNECT_TIMEOUT (config/settings.py), so the page comes
fast; nothing is retried here, the next request simply connects again.
"""

import sqlite3
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views.defaults import server_error as django_server_error

RETRY_AFTER_SECONDS = 10
# SQLite errors that mean "not now" rather than a bug (a missing table is SQLITE_ERROR).
SQLITE_UNAVAILABLE = {
    sqlite3.SQLITE_BUSY,
    sqlite3.SQLITE_LOCKED,
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_FULL,
}


def database_unavailable(error: BaseException | None) -> bool:
    """True for a database that cannot be reached or refuses work for now: the client library
    lost or never got a connection, PostgreSQL's connection class (08), its shutdown and
    start-up states (57P01-57P03), too many connections (53300), a busy or unreadable SQLite
    file. Programming errors (a missing column, a syntax error) stay 500s."""
    if isinstance(error, InterfaceError):
        return True  # the connection was already closed
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__
    if isinstance(cause, sqlite3.Error):
        return getattr(cause, "sqlite_errorcode", None) in SQLITE_UNAVAILABLE
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate is None:
        return True  # raised by psycopg itself: connection refused, timed out, or cut
    return sqlstate.startswith("08") or sqlstate in {"57P01", "57P02", "57P03", "53300"}


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: a page for a browser's navigation, JSON ({"error": ...}, what the
    recorder's uploads read) for anything else. Renders without the request's context
    processors: they would ask the unavailable database for the user."""
    message = _(
        "La base de données ne répond pas pour le moment. Ce qui a déjà été enregistré est "
        "conservé ; réessayez dans quelques secondes."
    )
    if "text/html" in request.headers.get("Accept", ""):
        html = loader.get_template("503.html").render(
            {"message": message, "retry_url": request.path}
        )
        response = HttpResponse(html, status=503)
    else:
        response = JsonResponse(
            {"error": message}, status=503, json_dumps_params={"ensure_ascii": False}
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request: HttpRequest, template_name: str = "500.html") -> HttpResponse:
    """handler500: the 503 page when the error being handled is an unavailable database,
    Django's own 500 page otherwise."""
    if database_unavailable(sys.exc_info()[1]):
        return unavailable_response(request)
    return django_server_error(request, template_name)
