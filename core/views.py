"""Views that belong to no app: the health check, the language menu."""

import logging

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from core import language

logger = logging.getLogger(__name__)


@require_safe
@login_not_required
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """Health check for load balancers and monitors: 200 when the database answers.

    Plain text, no login, no session, no template: cheap enough to poll every few seconds.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        # A warning, not a traceback: monitors poll every few seconds while the database is down.
        logger.warning("Health check: database unreachable: %s", error)
        return HttpResponse(
            _("base de données injoignable"),
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")


@require_POST
@login_not_required
def set_language(request: HttpRequest) -> HttpResponse:
    """The navbar's language menu: Django's set_language (the cookie, back to `next`), and the
    choice kept on the user for their next logins on any machine (core/language.py)."""
    response = i18n.set_language(request)
    language.store(request, request.POST.get("language"))
    return response
