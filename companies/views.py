import csv
import io
import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection
from django.db.models import Count, Prefetch, Q
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect
from django_tables2 import RequestConfig

from calls.models import CallRecord, Recording
from calls.recordings import latest_recording_annotations
from companies import importing
from companies.filters import CompanyFilter
from companies.forms import CampaignForm, ImportSettingsForm, ImportUploadForm
from companies.models import Campaign, Company, ImportBatch, ImportMode
from companies.tables import CampaignTable, CompanyTable, ImportBatchTable
from config.htmx import HtmxHttpRequest, is_fragment_request
from exports.writers import neutralised

logger = logging.getLogger(__name__)


# --- Contacts ---------------------------------------------------------------------------------


def render_contacts(request: HtmxHttpRequest, notice: str = "") -> HttpResponse:
    queryset = Company.objects.select_related("campaign", "locked_by").annotate(
        **latest_recording_annotations(Recording.objects.all())
    )
    company_filter = CompanyFilter(request.GET, queryset=queryset)
    table = CompanyTable(company_filter.qs)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    template = "companies/contacts.html"
    if is_fragment_request(request):
        template += "#results"
    return render(request, template, {"filter": company_filter, "table": table, "notice": notice})


@require_GET
@permission_required("companies.view_company", raise_exception=True)
@vary_on_headers("HX-Request")
def contacts(request: HtmxHttpRequest) -> HttpResponse:
    return render_contacts(request)


def recording_url(recording: Recording) -> str:
    """Where a recording is played, once the calls app serves recordings."""
    try:
        return reverse("calls:recording", kwargs={"recording_id": recording.pk})
    except NoReverseMatch:
        return ""


@require_GET
@permission_required("companies.view_company", raise_exception=True)
def company_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    company = get_object_or_404(
        Company.objects.select_related("campaign", "locked_by", "callback_operator"), pk=pk
    )
    calls = (
        CallRecord.objects.filter(company=company)
        .select_related("operator")
        .prefetch_related(
            Prefetch("recordings", queryset=Recording.objects.order_by("created_at", "pk"))
        )
        .order_by("-created_at", "-pk")
    )
    history = []
    for call in calls:
        recordings = list(call.recordings.all())
        links = [(recording_url(r), r.duration_seconds, r) for r in recordings]
        history.append((call, recordings, [link for link in links if link[0]]))
    return render(
        request, "companies/company_detail.html", {"company": company, "history": history}
    )


def back_to_contacts(request: HtmxHttpRequest, notice: str, level: int) -> HttpResponse:
    """htmx: the re-rendered results with the filters of the page; otherwise a redirect."""
    if request.htmx:
        return render_contacts(request, notice=notice)
    messages.add_message(request, level, notice)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("companies:contacts")
    return HttpResponseRedirect(target)


@require_POST
@permission_required("companies.reopen_company", raise_exception=True)
def company_reopen(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    company = get_object_or_404(Company, pk=pk)
    if company.reopen():
        notice = _("« %(name)s » est de nouveau à appeler.") % {"name": company}
        level = messages.SUCCESS
    else:
        notice = _("« %(name)s » n'est pas terminée : rien à rouvrir.") % {"name": company}
        level = messages.WARNING
    return back_to_contacts(request, notice, level)


@require_POST
@permission_required("companies.release_company", raise_exception=True)
def company_release(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    company = get_object_or_404(Company, pk=pk)
    if company.release():
        notice, level = _("« %(name)s » est libérée.") % {"name": company}, messages.SUCCESS
    else:
        notice = _("« %(name)s » n'était tenue par personne.") % {"name": company}
        level = messages.WARNING
    return back_to_contacts(request, notice, level)


# --- Campaigns --------------------------------------------------------------------------------


@require_GET
@permission_required("companies.view_campaign", raise_exception=True)
@vary_on_headers("HX-Request")
def campaigns(request: HtmxHttpRequest) -> HttpResponse:
    queryset = Campaign.objects.annotate(
        total=Count("companies", filter=Q(companies__is_archived=False))
    )
    table = CampaignTable(queryset, order_by=request.GET.get("sort", "name"))
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    template = "companies/campaigns.html"
    if is_fragment_request(request):
        template += "#results"
    return render(request, template, {"table": table})


@require_http_methods(["GET", "POST"])
@permission_required("companies.add_campaign", raise_exception=True)
def campaign_create(request: HtmxHttpRequest) -> HttpResponse:
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        campaign = form.save(commit=False)
        campaign.created_by = request.user
        campaign.save()
        messages.success(request, _("Campagne « %(name)s » créée.") % {"name": campaign})
        return redirect("companies:campaigns")
    return render(request, "companies/campaign_form.html", {"form": form, "campaign": None})


@require_http_methods(["GET", "POST"])
@permission_required("companies.change_campaign", raise_exception=True)
def campaign_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=pk)
    form = CampaignForm(request.POST or None, instance=campaign)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Campagne « %(name)s » enregistrée.") % {"name": campaign})
        return redirect("companies:campaigns")
    return render(request, "companies/campaign_form.html", {"form": form, "campaign": campaign})


# --- Import -----------------------------------------------------------------------------------


def storage_name(filename: str) -> str:
    """A short storage name for the kept file (ImportBatch.file holds 100 characters)."""
    stem, dot, ext = filename.rpartition(".")
    if not dot:
        stem, ext = filename, "csv"
    return f"{stem[:50] or 'import'}.{ext[:5]}"


@require_http_methods(["GET", "POST"])
@permission_required("companies.add_importbatch", raise_exception=True)
@vary_on_headers("HX-Request")
def import_companies(request: HtmxHttpRequest) -> HttpResponse:
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        mode = form.cleaned_data["mode"]
        campaign = form.cleaned_data["campaign"]
        try:
            data = importing.read_limited(upload)
            report = importing.analyse(data, mode=mode, campaign=campaign)
        except importing.ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            batch = ImportBatch(
                original_name=upload.name[:255],
                uploaded_by=request.user,
                mode=mode,
                campaign=campaign,
                campaign_name=form.cleaned_data["campaign_name"],
            )
            report.store_on(batch)
            upload.seek(0)
            upload.name = storage_name(upload.name)
            batch.file = upload
            batch.save()
            url = reverse("companies:import_preview", kwargs={"pk": batch.pk})
            if request.htmx:
                return HttpResponseClientRedirect(url)
            return HttpResponseRedirect(url)
    if request.method == "POST" and is_fragment_request(request):
        return render(request, "companies/import.html#upload-form", {"form": form})
    history = ImportBatchTable(
        ImportBatch.objects.select_related("campaign", "uploaded_by"), order_by="-created_at"
    )
    RequestConfig(request, paginate={"per_page": 20}).configure(history)
    template = "companies/import.html"
    if request.method == "GET" and is_fragment_request(request):
        template += "#results"
    return render(request, template, {"form": form, "table": history})


def batch_context(batch: ImportBatch, settings_form=None) -> dict:
    applied = batch.applied_at is not None
    counts = [
        (_("Lignes lues"), batch.rows_total, ""),
        (_("Créées") if applied else _("À créer"), batch.rows_created, "success"),
        (_("Mises à jour") if applied else _("À mettre à jour"), batch.rows_updated, "info"),
        (
            _("Inchangées"),
            batch.rows_total - batch.rows_rejected - batch.rows_created - batch.rows_updated,
            "",
        ),
    ]
    if batch.mode == ImportMode.REPLACE:
        counts += [
            (_("Archivées") if applied else _("À archiver"), batch.rows_archived, "warning"),
            (
                _("Supprimées (sans appel)") if applied else _("À supprimer (sans appel)"),
                batch.rows_deleted,
                "warning",
            ),
        ]
    counts.append((_("Rejetées"), batch.rows_rejected, "danger"))
    return {
        "batch": batch,
        "applied": applied,
        "counts": counts,
        "encoding_label": importing.ENCODING_LABELS.get(batch.encoding, batch.encoding),
        "delimiter_label": importing.DELIMITER_LABELS.get(batch.delimiter, batch.delimiter),
        "columns": batch.column_mapping.get("columns", []),
        "errors": batch.errors[: importing.MAX_WARNINGS],
        "errors_hidden": max(0, len(batch.errors) - importing.MAX_WARNINGS),
        "accepted": batch.rows_total - batch.rows_rejected,
        "first_rows": importing.first_rows(batch),
        "settings_form": settings_form or ImportSettingsForm(batch=batch),
        "is_replace": batch.mode == ImportMode.REPLACE,
    }


@require_http_methods(["GET", "POST"])
@permission_required("companies.view_importbatch", raise_exception=True)
def import_preview(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The preview of an upload (or, once applied, its result). POST reads the kept file
    again with the encoding, delimiter and header the supervisor chose."""
    batch = get_object_or_404(ImportBatch.objects.select_related("campaign", "uploaded_by"), pk=pk)
    settings_form = None
    if request.method == "POST":
        if not request.user.has_perm("companies.add_importbatch"):
            raise PermissionDenied
        if batch.applied_at is not None:
            messages.error(request, _("Cet import a déjà été appliqué."))
            return redirect("companies:import_preview", pk=batch.pk)
        settings_form = ImportSettingsForm(request.POST, batch=batch)
        if settings_form.is_valid():
            chosen = settings_form.cleaned_data
            try:
                with batch.file.open("rb") as handle:
                    data = importing.read_limited(handle)
                report = importing.analyse(
                    data,
                    mode=batch.mode,
                    campaign=batch.campaign,
                    encoding=chosen["encoding"],
                    delimiter=chosen["delimiter"],
                    has_header=chosen["has_header"],
                )
            except importing.ImportFileError as exc:
                settings_form.add_error(None, str(exc))
            else:
                report.store_on(batch)
                if "campaign_name" in chosen:
                    batch.campaign_name = chosen["campaign_name"]
                batch.save()
                messages.success(request, _("Fichier relu avec ces réglages."))
                return redirect("companies:import_preview", pk=batch.pk)
    return render(request, "companies/import_preview.html", batch_context(batch, settings_form))


@require_POST
@permission_required("companies.add_importbatch", raise_exception=True)
def import_apply(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(ImportBatch, pk=pk)
    try:
        report = importing.apply_batch(batch)
    except (importing.ImportFileError, importing.ImportApplyError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _(
                "Import enregistré : %(created)s créées, %(updated)s mises à jour, "
                "%(archived)s archivées, %(deleted)s supprimées, %(rejected)s rejetées."
            )
            % {
                "created": report.created,
                "updated": report.updated,
                "archived": report.archived,
                "deleted": report.deleted,
                "rejected": report.rejected,
            },
        )
    return redirect("companies:import_preview", pk=batch.pk)


@require_POST
@permission_required("companies.add_importbatch", raise_exception=True)
def import_discard(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(ImportBatch, pk=pk)
    if batch.applied_at is not None:
        messages.error(request, _("Un import appliqué reste dans l'historique."))
        return redirect("companies:import_preview", pk=batch.pk)
    batch.file.delete(save=False)
    batch.delete()
    messages.success(request, _("Import abandonné : rien n'a été enregistré."))
    return redirect("companies:import")


@require_GET
@permission_required("companies.view_importbatch", raise_exception=True)
def import_rejects(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Every rejected row of an import as CSV (UTF-8 with BOM, ';' for French Excel)."""
    batch = get_object_or_404(ImportBatch, pk=pk)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow([_("ligne"), _("motif"), _("contenu")])
    for error in batch.errors:
        content = neutralised(error.get("content", ""))  # never a formula in a spreadsheet
        writer.writerow([error.get("line") or "", error.get("message", ""), content])
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import_{batch.pk}_rejets.csv"'
    return response


@require_GET
@permission_required("companies.view_importbatch", raise_exception=True)
def import_file(request: HtmxHttpRequest, pk: int) -> FileResponse:
    """The file as it was uploaded, read back through the storage API."""
    batch = get_object_or_404(ImportBatch, pk=pk)
    return FileResponse(
        batch.file.open("rb"),
        as_attachment=True,
        filename=batch.original_name or batch.file.name.rsplit("/", 1)[-1],
    )


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
