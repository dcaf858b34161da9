"""What every view module needs to know about htmx requests."""

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def is_fragment_request(request: HtmxHttpRequest) -> bool:
    """An htmx request for a fragment of the page; a history restore wants the whole page."""
    return bool(request.htmx) and not request.htmx.history_restore_request
