from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
@permission_required("calls.export_calls", raise_exception=True)
def export(request: HttpRequest) -> HttpResponse:
    return render(request, "calls/home.html")
