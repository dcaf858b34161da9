from auditlog.models import LogEntry
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from companies.models import Company
from core.audit import record_event
from core.htmx import HtmxHttpRequest
from privacy import access
from privacy.erasure import ErasureRefused, erase_company, preview
from privacy.forms import ErasureForm


@require_http_methods(["GET", "POST"])
@permission_required("companies.erase_company", raise_exception=True)
def erase(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """What an erasure takes and keeps (GET); the erasure itself, with its reason (POST)."""
    company = get_object_or_404(Company.objects.select_related("campaign", "locked_by"), pk=pk)
    form = ErasureForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                erasure = erase_company(company.pk, request.user, form.cleaned_data["reason"])
            except ErasureRefused as refused:
                form.add_error(None, str(refused))
                status = 409
            else:
                if erasure.first:
                    messages.success(
                        request,
                        _(
                            "Les données de l'entreprise sont effacées : %(calls)s appels gardés "
                            "sans notes, %(recordings)s enregistrements purgés."
                        )
                        % {"calls": erasure.calls, "recordings": erasure.recordings.recordings},
                    )
                else:
                    messages.info(
                        request,
                        _("Entreprise déjà effacée ; ce qui avait été ajouté depuis est effacé.")
                        if erasure.changed_anything
                        else _("Entreprise déjà effacée : plus rien à effacer."),
                    )
                return redirect("companies:company", pk=company.pk)
        company.refresh_from_db()
    context = {"company": company, "form": form, "preview": preview(company)}
    return render(request, "privacy/erase.html", context, status=status)


@require_GET
@permission_required("companies.view_company", raise_exception=True)
def subject_access(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Everything kept about a company, as a JSON download; the download is in its history."""
    company = get_object_or_404(Company.objects.select_related("campaign"), pk=pk)
    document = access.as_json(access.subject_access(company))
    # An audit side effect, as a listen is: the history says who took a copy, and when.
    record_event(
        company,
        {},
        actor=request.user,
        reason=_("Accès aux données : téléchargement de tout ce qui est gardé sur l'entreprise"),
        action=LogEntry.Action.ACCESS,
    )
    response = HttpResponse(document, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="entreprise_{company.pk}_donnees.json"'
    return response
