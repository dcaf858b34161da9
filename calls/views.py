from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "calls/home.html")


@require_GET
@permission_required("calls.make_calls", raise_exception=True)
def call_list(request: HttpRequest) -> HttpResponse:
    return render(request, "calls/home.html")


@require_GET
@permission_required("calls.view_dashboard", raise_exception=True)
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "calls/home.html")
