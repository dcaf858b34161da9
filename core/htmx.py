"""What every view module needs to know about htmx requests."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def is_fragment_request(request: HtmxHttpRequest) -> bool:
    """An htmx request for a fragment of the page; a history restore wants the whole page."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def render_page(
    request: HtmxHttpRequest, template: str, context: dict, partial: str, status: int = 200
) -> HttpResponse:
    """One view serves a page and its fragment: the named partial `partial` of `template` for
    an htmx request (polling, a filter change), the whole page otherwise (a link, a reload, a
    history restore). Views that use it are marked @vary_on_headers("HX-Request")."""
    if is_fragment_request(request):
        template = f"{template}#{partial}"
    return render(request, template, context, status=status)
