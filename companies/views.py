import csv
import io
import logging

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
)
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect
from django_tables2 import RequestConfig

from companies import donotcall, fieldwork, importing, quotas
from companies.filters import CompanyFilter, DoNotCallFilter
from companies.forms import (
    CampaignForm,
    CompanyTimeZoneForm,
    DoNotCallAddForm,
    DoNotCallImportForm,
    ImportSettingsForm,
    ImportUploadForm,
    QuotaCellForm,
    QuotaTargetForm,
    ReasonForm,
)
from companies.lifecycle import QUOTA_FIELDS
from companies.models import (
    Campaign,
    Company,
    DoNotCallEntry,
    DoNotCallSource,
    ImportBatch,
    ImportMode,
    QuotaCell,
)
from companies.queue_health import explain
from companies.tables import CampaignTable, CompanyTable, DoNotCallTable, ImportBatchTable
from core.htmx import HtmxHttpRequest, is_fragment_request, render_page
from core.spreadsheet import neutralised

logger = logging.getLogger(__name__)


# --- Contacts ---------------------------------------------------------------------------------


def render_contacts(request: HtmxHttpRequest, notice: str = "") -> HttpResponse:
    queryset = (
        Company.objects.with_current_status()
        .with_do_not_call()
        .select_related("campaign", "locked_by")
    )
    company_filter = CompanyFilter(request.GET, queryset=queryset)
    table = CompanyTable(company_filter.qs)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    context = {"filter": company_filter, "table": table, "notice": notice}
    return render_page(request, "companies/contacts.html", context, "results")


@require_GET
@permission_required("companies.view_company", raise_exception=True)
@vary_on_headers("HX-Request")
def contacts(request: HtmxHttpRequest) -> HttpResponse:
    return render_contacts(request)


@require_GET
@permission_required("companies.view_company", raise_exception=True)
def company_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    company = get_object_or_404(
        Company.objects.with_current_status().select_related(
            "campaign", "locked_by", "callback_operator"
        ),
        pk=pk,
    )
    calls = (
        company.calls.select_related("operator")
        .prefetch_related("recordings")
        .order_by("-created_at", "-pk")
    )
    context = {
        "company": company,
        "calls": calls,
        "explanation": explain(company),
        "local_time": company.local_now(),
        "zone_form": CompanyTimeZoneForm(
            initial={"time_zone": company.time_zone if company.time_zone_chosen else ""}
        ),
        "do_not_call_form": ReasonForm(),
    }
    return render(request, "companies/company_detail.html", context)


@require_POST
@permission_required("companies.change_company", raise_exception=True)
def company_time_zone(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A supervisor sets the company's time zone, or gives it back to its number."""
    company = get_object_or_404(Company.objects.select_related("campaign"), pk=pk)
    form = CompanyTimeZoneForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Fuseau horaire inconnu : rien n'a changé."))
        return redirect("companies:company", pk=company.pk)
    zone = form.cleaned_data["time_zone"]
    if zone:
        company.time_zone, company.time_zone_chosen = zone, True
    else:
        company.time_zone_chosen = False
        company.time_zone, company.country = fieldwork.phone_zone(
            company.phone_e164, company.campaign.time_zone
        )
    company.save(update_fields=["time_zone", "time_zone_chosen", "country", "updated_at"])
    messages.success(
        request,
        _("Fuseau horaire de « %(name)s » : %(zone)s.")
        % {"name": company, "zone": company.effective_time_zone},
    )
    return redirect("companies:company", pk=company.pk)


@require_POST
@permission_required("companies.add_donotcallentry", raise_exception=True)
def company_do_not_call(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A supervisor puts the company's number and NIU on the do-not-call list."""
    company = get_object_or_404(Company, pk=pk)
    form = ReasonForm(request.POST)
    try:
        if not form.is_valid():
            raise donotcall.DoNotCallError(_("Indiquez le motif."))
        donotcall.add_company(
            company, form.cleaned_data["reason"], request.user, DoNotCallSource.SUPERVISOR
        )
    except donotcall.DoNotCallError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("« %(name)s » ne sera plus appelée, dans aucune campagne.") % {"name": company},
        )
    return redirect("companies:company", pk=company.pk)


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
    return render_page(request, "companies/campaigns.html", {"table": table}, "results")


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
        with transaction.atomic():
            form.save()
            if "quota_counts_partials" in form.changed_data:
                quotas.recount(campaign)
        messages.success(request, _("Campagne « %(name)s » enregistrée.") % {"name": campaign})
        return redirect("companies:campaigns")
    return render(request, "companies/campaign_form.html", {"form": form, "campaign": campaign})


# --- Quotas -----------------------------------------------------------------------------------


def quotas_page(request, campaign: Campaign, form=None, status: int = 200) -> HttpResponse:
    context = {
        "campaign": campaign,
        "rows": quotas.quota_rows(campaign),
        "form": form or QuotaCellForm(campaign=campaign),
        "values": sorted(
            {
                value
                for name, _label in QUOTA_FIELDS
                for value in quotas.field_values(campaign, name)
            }
        ),
        "may_change": request.user.has_perm("companies.change_campaign"),
    }
    return render(request, "companies/campaign_quotas.html", context, status=status)


@require_http_methods(["GET", "POST"])
@permission_required("companies.view_campaign", raise_exception=True)
def campaign_quotas(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A campaign's quota cells: their state, and (POST) a new cell."""
    campaign = get_object_or_404(Campaign, pk=pk)
    if request.method == "GET":
        return quotas_page(request, campaign)
    if not request.user.has_perm("companies.change_campaign"):
        raise PermissionDenied
    form = QuotaCellForm(request.POST, campaign=campaign)
    if not form.is_valid():
        return quotas_page(request, campaign, form, status=422)
    with transaction.atomic():
        cell = form.save()
        quotas.recount(campaign)
    messages.success(request, _("Cellule « %(cell)s » ajoutée.") % {"cell": cell})
    return redirect("companies:campaign_quotas", pk=campaign.pk)


@require_POST
@permission_required("companies.change_campaign", raise_exception=True)
def quota_target(request: HtmxHttpRequest, pk: int, cell_pk: int) -> HttpResponse:
    cell = get_object_or_404(QuotaCell, pk=cell_pk, campaign_id=pk)
    form = QuotaTargetForm(request.POST)
    if form.is_valid():
        QuotaCell.objects.filter(pk=cell.pk).update(target=form.cleaned_data["target"])
        messages.success(request, _("Objectif de « %(cell)s » modifié.") % {"cell": cell})
    else:
        messages.error(request, _("Objectif invalide : un nombre entier de 1 ou plus."))
    return redirect("companies:campaign_quotas", pk=pk)


@require_POST
@permission_required("companies.change_campaign", raise_exception=True)
def quota_delete(request: HtmxHttpRequest, pk: int, cell_pk: int) -> HttpResponse:
    cell = get_object_or_404(QuotaCell, pk=cell_pk, campaign_id=pk)
    cell.delete()
    messages.success(request, _("Cellule « %(cell)s » supprimée.") % {"cell": cell})
    return redirect("companies:campaign_quotas", pk=pk)


# --- Do-not-call list ---------------------------------------------------------------------------


def do_not_call_page(request, add_form=None, import_form=None, status=200) -> HttpResponse:
    entries = DoNotCallEntry.objects.select_related("created_by", "removed_by")
    entry_filter = DoNotCallFilter(request.GET, queryset=entries)
    table = DoNotCallTable(entry_filter.qs, request=request)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    context = {
        "filter": entry_filter,
        "table": table,
        "add_form": add_form or DoNotCallAddForm(),
        "import_form": import_form or DoNotCallImportForm(),
        "remove_form": ReasonForm(),
    }
    return render_page(request, "companies/do_not_call.html", context, "results", status=status)


@require_http_methods(["GET", "POST"])
@permission_required("companies.view_donotcallentry", raise_exception=True)
@vary_on_headers("HX-Request")
def do_not_call(request: HtmxHttpRequest) -> HttpResponse:
    """The do-not-call list (live entries, and the removed ones in its history); POST adds."""
    if request.method == "GET":
        return do_not_call_page(request)
    if not request.user.has_perm("companies.add_donotcallentry"):
        raise PermissionDenied
    form = DoNotCallAddForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            entry = donotcall.add(
                phone=data["phone"], niu=data["niu"], reason=data["reason"], user=request.user
            )
        except donotcall.DoNotCallError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("%(entry)s ajouté à la liste.") % {"entry": entry})
            return redirect("companies:do_not_call")
    return do_not_call_page(request, add_form=form, status=422)


@require_POST
@permission_required("companies.add_donotcallentry", raise_exception=True)
def do_not_call_import(request: HtmxHttpRequest) -> HttpResponse:
    form = DoNotCallImportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            data = importing.read_limited(form.cleaned_data["file"])
            result = donotcall.import_list(
                data, reason=form.cleaned_data["reason"], user=request.user
            )
        except (donotcall.DoNotCallError, importing.ImportFileError) as error:
            form.add_error("file", str(error))
        else:
            messages.success(
                request,
                _(
                    "Liste importée : %(added)s ajoutés, %(already)s déjà sur la liste, "
                    "%(rejected)s lignes rejetées."
                )
                % {
                    "added": result.added,
                    "already": result.already,
                    "rejected": len(result.rejected),
                },
            )
            for line, message in result.rejected[:20]:
                messages.warning(
                    request, _("Ligne %(line)s : %(message)s.") % {"line": line, "message": message}
                )
            return redirect("companies:do_not_call")
    return do_not_call_page(request, import_form=form, status=422)


@require_POST
@permission_required("companies.change_donotcallentry", raise_exception=True)
def do_not_call_remove(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Take an entry off the list, with a reason kept in its history."""
    entry = get_object_or_404(DoNotCallEntry, pk=pk)
    form = ReasonForm(request.POST)
    try:
        if not form.is_valid():
            raise donotcall.DoNotCallError(_("Indiquez le motif du retrait."))
        removed = donotcall.remove(entry, form.cleaned_data["reason"], request.user)
    except donotcall.DoNotCallError as error:
        messages.error(request, str(error))
    else:
        if removed:
            messages.success(
                request,
                _("%(entry)s retiré de la liste : il peut de nouveau être appelé.")
                % {"entry": entry},
            )
        else:
            messages.warning(request, _("%(entry)s était déjà retiré.") % {"entry": entry})
    return redirect("companies:do_not_call")


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
