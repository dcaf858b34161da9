from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers
from django_htmx.middleware import HtmxDetails

from calls.dashboard import figures as dashboard_figures
from calls.forms import DashboardFilterForm


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "calls/home.html")


@require_GET
@permission_required("calls.make_calls", raise_exception=True)
def call_list(request: HttpRequest) -> HttpResponse:
    return render(request, "calls/home.html")


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@require_GET
@permission_required("calls.view_dashboard", raise_exception=True)
@vary_on_headers("HX-Request")
def dashboard(request: HtmxHttpRequest) -> HttpResponse:
    """The live supervisor dashboard; htmx requests (polling, filter changes) get #figures."""
    form = DashboardFilterForm(request.GET)
    context = {"form": form, **dashboard_figures(form.filters())}
    template = "calls/dashboard.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#figures"
    return render(request, template, context)
