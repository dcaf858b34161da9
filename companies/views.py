from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
@permission_required("companies.view_company", raise_exception=True)
def contacts(request: HttpRequest) -> HttpResponse:
    return render(request, "calls/home.html")


@require_GET
@permission_required("companies.view_campaign", raise_exception=True)
def campaigns(request: HttpRequest) -> HttpResponse:
    return render(request, "calls/home.html")


@require_GET
@permission_required("companies.add_importbatch", raise_exception=True)
def import_companies(request: HttpRequest) -> HttpResponse:
    return render(request, "calls/home.html")
