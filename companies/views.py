import io
import logging

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
)
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import (
    HttpResponseClientRedirect,
    HttpResponseClientRefresh,
    trigger_client_event,
)

from companies import donotcall, fieldwork, importing, quotas
from companies.filters import CompanyFilter, DoNotCallFilter
from companies.forms import (
    CampaignForm,
    CompanyTimeZoneForm,
    DoNotCallAddForm,
    DoNotCallImportForm,
    ImportSettingsForm,
    ImportUploadForm,
    NumberForm,
    PersonForm,
    PinnedNoteForm,
    QuotaCellForm,
    QuotaTargetForm,
    ReasonForm,
)
from companies.importing import jobs
from companies.importing.report import labelled_counts, write_rejects
from companies.lifecycle import QUOTA_FIELDS, listing_entries
from companies.models import (
    Campaign,
    Company,
    ContactPerson,
    DoNotCallEntry,
    DoNotCallSource,
    ImportBatch,
    ImportJob,
    ImportMode,
    PinnedNote,
    QuotaCell,
)
from companies.queue_health import explain
from companies.tables import CampaignTable, CompanyTable, DoNotCallTable, ImportBatchTable
from core import audit
from core.htmx import HtmxHttpRequest, is_fragment_request, render_page
from core.redirects import safe_target
from core.tables import paginate

logger = logging.getLogger(__name__)


# --- Contacts ---------------------------------------------------------------------------------


def with_latest_recording(queryset):
    """Each company's latest recording's health and missing chunks (None: no recording), for
    the badge (calls/_recording_badge.html), read through the reverse relations."""
    latest = Company.objects.filter(pk=OuterRef("pk"), calls__recordings__isnull=False).order_by(
        "-calls__recordings__created_at", "-calls__recordings__id"
    )
    return queryset.annotate(
        latest_recording_health=Subquery(latest.values("calls__recordings__health")[:1]),
        latest_recording_missing=Subquery(latest.values("calls__recordings__missing_chunks")[:1]),
    )


def render_contacts(request: HtmxHttpRequest, notice: str = "") -> HttpResponse:
    queryset = with_latest_recording(
        Company.objects.with_current_status()
        .with_do_not_call()
        .select_related("campaign", "locked_by")
    )
    company_filter = CompanyFilter(request.GET, queryset=queryset)
    table = CompanyTable(company_filter.qs)
    paginate(request, table, per_page=50)
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
        company.calls.select_related("operator", "phone")
        .prefetch_related("recordings")
        .order_by("-created_at", "-pk")
    )
    context = {
        **parts_context(
            request,
            company,
            may_edit=may_edit(request.user, company),
            next=request.path,
        ),
        "calls": calls,
        # Every recorded change to the company, its calls and the do-not-call entries of its
        # numbers and NIU (who, when, before, after, why).
        "history": audit.history(
            company,
            company.calls.all(),
            DoNotCallEntry.objects.filter(listing_entries(company)),
        ),
        # Why the queue does not give it now, and when it will (companies/queue_health.py).
        "explanation": explain(company),
        "local_time": company.local_now(),
        "zone_form": CompanyTimeZoneForm(
            initial={"time_zone": company.time_zone if company.time_zone_chosen else ""}
        ),
        "do_not_call_form": ReasonForm(),
    }
    return render(request, "companies/company_detail.html", context)


ERASED_UNCHANGED = gettext_lazy(
    "Les données de cette entreprise ont été effacées : rien n'a changé."
)


@require_POST
@permission_required("companies.change_company", raise_exception=True)
def company_time_zone(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A supervisor sets the company's time zone, or gives it back to its number."""
    company = get_object_or_404(Company.objects.select_related("campaign"), pk=pk)
    if company.erased_at is not None:
        messages.error(request, ERASED_UNCHANGED)
        return redirect("companies:company", pk=company.pk)
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
        if company.erased_at is not None:  # its erasure listed its numbers and NIU already
            raise donotcall.DoNotCallError(str(ERASED_UNCHANGED))
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
    return HttpResponseRedirect(
        safe_target(request, request.POST.get("next"), reverse("companies:contacts"))
    )


@require_POST
@permission_required("companies.reopen_company", raise_exception=True)
def company_reopen(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    company = get_object_or_404(Company, pk=pk)
    before = Company.objects.get(pk=pk)
    if company.reopen():
        audit.record_change(before, company, actor=request.user, reason=_("Rouvrir"))
        notice = _("« %(name)s » est de nouveau à appeler.") % {"name": company}
        level = messages.SUCCESS
    elif company.erased_at is not None:
        notice = _("Les données de cette entreprise ont été effacées : elle ne se rouvre pas.")
        level = messages.WARNING
    else:
        notice = _("« %(name)s » n'est pas terminée : rien à rouvrir.") % {"name": company}
        level = messages.WARNING
    return back_to_contacts(request, notice, level)


@require_POST
@permission_required("companies.release_company", raise_exception=True)
def company_release(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    company = get_object_or_404(Company, pk=pk)
    before = Company.objects.get(pk=pk)
    if company.release():
        audit.record_change(before, company, actor=request.user, reason=_("Libérer"))
        notice, level = _("« %(name)s » est libérée.") % {"name": company}, messages.SUCCESS
    else:
        notice = _("« %(name)s » n'était tenue par personne.") % {"name": company}
        level = messages.WARNING
    return back_to_contacts(request, notice, level)


# --- A company's numbers, people and pinned notes (the call form and the company page) ------


def may_edit(user, company: Company) -> bool:
    """Numbers and people: the operator holding the company (in its call form), or a
    supervisor; nobody once its data was erased."""
    return company.erased_at is None and (
        user.has_perm("companies.change_company")
        or Company.objects.held_by(user).filter(pk=company.pk).exists()
    )


def not_allowed(request: HtmxHttpRequest) -> HttpResponse:
    """403; to htmx, a message in place of the part that asked (it would not show a 403)."""
    if not is_fragment_request(request):
        raise PermissionDenied
    context = {"target": request.htmx.target}
    return render(request, "companies/company_parts.html#not_allowed", context)


def safe_next(request: HtmxHttpRequest, company: Company) -> str:
    """Where a form without htmx comes back to: the `next` it was given if it is on this site
    (the call form, the company page), else the company's numbers and people."""
    target = request.POST.get("next") or request.GET.get("next", "")
    return safe_target(request, target, reverse("companies:people", kwargs={"pk": company.pk}))


def parts_context(request: HtmxHttpRequest, company: Company, **extra) -> dict:
    may_pin = request.user.has_perm("companies.change_company") and company.erased_at is None
    return {
        "company": company,
        "may_edit": True,
        "may_pin": may_pin,
        "next": safe_next(request, company),
        "number_form": NumberForm(company=company),
        "note_form": PinnedNoteForm(),
        **extra,
    }


@require_GET
def people(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A company's numbers and people; to htmx, the people list (an edit cancelled)."""
    company = get_object_or_404(Company, pk=pk)
    if not may_edit(request.user, company):
        return not_allowed(request)
    context = parts_context(request, company)
    if is_fragment_request(request):
        return render(request, "companies/company_parts.html#people", context)
    return render(request, "companies/people.html", context)


@require_POST
def number_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    company = get_object_or_404(Company, pk=pk)
    if not may_edit(request.user, company):
        return not_allowed(request)
    form = NumberForm(request.POST, company=company)
    added = form.is_valid()
    if added:
        form.save()
    if is_fragment_request(request):
        shown = NumberForm(company=company) if added else form
        context = parts_context(request, company, number_form=shown)
        response = render(request, "companies/company_parts.html#numbers", context)
        # The call form offers the new number at once.
        return trigger_client_event(response, "numbers-changed") if added else response
    if added:
        messages.success(request, _("Numéro ajouté."))
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect(safe_next(request, company))


@require_http_methods(["GET", "POST"])
def person_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    company = get_object_or_404(Company, pk=pk)
    if not may_edit(request.user, company):
        return not_allowed(request)
    return edit_person(request, company, None)


@require_http_methods(["GET", "POST"])
def person_edit(request: HtmxHttpRequest, pk: int, person_id: int) -> HttpResponse:
    company = get_object_or_404(Company, pk=pk)
    if not may_edit(request.user, company):
        return not_allowed(request)
    person = get_object_or_404(ContactPerson, pk=person_id, company=company)
    return edit_person(request, company, person)


def edit_person(request: HtmxHttpRequest, company: Company, person) -> HttpResponse:
    """The form in place of the list (GET), saved (POST): the list again, and the numbers, as
    a direct line is one of them."""
    form = PersonForm(request.POST or None, instance=person, company=company)
    if request.method == "POST" and form.is_valid():
        form.save()
        if is_fragment_request(request):
            context = parts_context(request, company)
            response = render(request, "companies/company_parts.html#people_saved", context)
            return trigger_client_event(response, "numbers-changed")
        messages.success(request, _("« %(name)s » est enregistrée.") % {"name": form.instance})
        return redirect(safe_next(request, company))
    context = parts_context(
        request, company, person_form=form, editing=person.pk if person else "new"
    )
    if is_fragment_request(request):
        return render(request, "companies/company_parts.html#people", context)
    status = 422 if request.method == "POST" else 200
    return render(request, "companies/people.html", context, status=status)


@require_POST
@permission_required("companies.change_company", raise_exception=True)
def note_pin(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A supervisor pins a note (typed, or a call's notes) on the company: every call form of
    the company shows it."""
    company = get_object_or_404(Company, pk=pk)
    if company.erased_at is not None:
        return not_allowed(request)
    form = PinnedNoteForm(request.POST)
    pinned = form.is_valid()
    if pinned:
        form.instance.company, form.instance.pinned_by = company, request.user
        form.save()
    if is_fragment_request(request):
        context = parts_context(request, company, note_form=PinnedNoteForm() if pinned else form)
        return render(request, "companies/company_parts.html#pinned_notes", context)
    if pinned:
        messages.success(request, _("Note épinglée."))
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("companies:company", pk=company.pk)


@require_POST
@permission_required("companies.change_company", raise_exception=True)
def note_unpin(request: HtmxHttpRequest, pk: int, note_id: int) -> HttpResponse:
    company = get_object_or_404(Company, pk=pk)
    note = get_object_or_404(PinnedNote, pk=note_id, company=company)
    PinnedNote.objects.pinned().filter(pk=note.pk).update(
        unpinned_at=timezone.now(), unpinned_by=request.user
    )
    if is_fragment_request(request):
        return render(
            request, "companies/company_parts.html#pinned_notes", parts_context(request, company)
        )
    messages.success(request, _("Note détachée."))
    return redirect("companies:company", pk=company.pk)


# --- Campaigns --------------------------------------------------------------------------------


@require_GET
@permission_required("companies.view_campaign", raise_exception=True)
@vary_on_headers("HX-Request")
def campaigns(request: HtmxHttpRequest) -> HttpResponse:
    queryset = Campaign.objects.annotate(
        total=Count("companies", filter=Q(companies__is_archived=False))
    )
    table = CampaignTable(queryset, order_by=request.GET.get("sort", "name"))
    paginate(request, table, per_page=50)
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
        with transaction.atomic():
            QuotaCell.objects.filter(pk=cell.pk).update(target=form.cleaned_data["target"])
            audit.record_change(cell, QuotaCell.objects.get(pk=cell.pk), actor=request.user)
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
    table = DoNotCallTable(entry_filter.qs)
    paginate(request, table, per_page=50)
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
            data = donotcall.read_upload(form.cleaned_data["file"])
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


def to_preview(request: HtmxHttpRequest, batch: ImportBatch) -> HttpResponse:
    url = reverse("companies:import_preview", kwargs={"pk": batch.pk})
    return HttpResponseClientRedirect(url) if request.htmx else HttpResponseRedirect(url)


@require_http_methods(["GET", "POST"])
@permission_required("companies.add_importbatch", raise_exception=True)
@vary_on_headers("HX-Request")
def import_companies(request: HtmxHttpRequest) -> HttpResponse:
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        batch = ImportBatch(
            original_name=upload.name[:255],
            uploaded_by=request.user,
            mode=form.cleaned_data["mode"],
            campaign=form.cleaned_data["campaign"],
            campaign_name=form.cleaned_data["campaign_name"],
        )
        background = jobs.in_background(upload.size)
        try:
            if background:
                importing.check_file(upload)  # what the head tells, at once; the rest in a job
            else:
                importing.analyse(upload, mode=batch.mode, campaign=batch.campaign).store_on(batch)
        except importing.ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            upload.seek(0)
            upload.name = storage_name(upload.name)
            batch.file = upload
            batch.save()
            if background:
                jobs.start(batch, ImportJob.ANALYSE)
            return to_preview(request, batch)
    if request.method == "POST" and is_fragment_request(request):
        return render(request, "companies/import.html#upload-form", {"form": form})
    history = ImportBatchTable(
        ImportBatch.objects.select_related("campaign", "uploaded_by"), order_by="-created_at"
    )
    paginate(request, history, per_page=20)
    return render_page(
        request, "companies/import.html", {"form": form, "table": history}, "results"
    )


def batch_context(batch: ImportBatch, settings_form=None) -> dict:
    applied = batch.applied_at is not None
    figures = {
        "total": batch.rows_total,
        "created": batch.rows_created,
        "updated": batch.rows_updated,
        "unchanged": batch.rows_total
        - batch.rows_rejected
        - batch.rows_created
        - batch.rows_updated,
        "archived": batch.rows_archived,
        "deleted": batch.rows_deleted,
        "rejected": batch.rows_rejected,
    }
    shown = batch.errors[: importing.MAX_SHOWN]
    return {
        "batch": batch,
        "applied": applied,
        # An upload whose analysis has not ended well yet has no figures to show.
        "analysed": applied or batch.rows_total > 0,
        "counts": labelled_counts(
            figures, applied=applied, replace=batch.mode == ImportMode.REPLACE
        ),
        "encoding_label": importing.ENCODING_LABELS.get(batch.encoding, batch.encoding),
        "delimiter_label": importing.DELIMITER_LABELS.get(batch.delimiter, batch.delimiter),
        "columns": batch.column_mapping.get("columns", []),
        "errors": shown,
        "errors_hidden": max(0, batch.rows_rejected - len(shown)),
        "accepted": batch.rows_total - batch.rows_rejected,
        "first_rows": batch.sample,
        # The file has columns for the company's other numbers or its contact person.
        "rows_have_extras": any("numbers" in row for row in batch.sample),
        "settings_form": settings_form or ImportSettingsForm(batch=batch),
        "is_replace": batch.mode == ImportMode.REPLACE,
        "job_stalled": jobs.is_stalled(batch),
        "job_seconds": int((timezone.now() - batch.job_started_at).total_seconds())
        if batch.job and batch.job_started_at
        else 0,
    }


@require_http_methods(["GET", "POST"])
@permission_required("companies.view_importbatch", raise_exception=True)
@vary_on_headers("HX-Request")
def import_preview(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The preview of an upload (or, once applied, its result). While a job runs on it, the
    page shows its progress, polled as the #job fragment. POST reads the kept file again with
    the encoding, delimiter and header the supervisor chose (or runs a stopped analysis again)."""
    batch = ImportBatch.objects.select_related("campaign", "uploaded_by").filter(pk=pk).first()
    if batch is None:
        if is_fragment_request(request):  # discarded from another tab while this one polled
            return HttpResponseClientRedirect(reverse("companies:import"))
        raise Http404
    if request.method == "GET" and is_fragment_request(request):
        if batch.job:
            return render(request, "companies/import_preview.html#job", batch_context(batch))
        return HttpResponseClientRefresh()  # the job ended: the whole page shows its outcome
    settings_form = None
    if request.method == "POST":
        if not request.user.has_perm("companies.add_importbatch"):
            raise PermissionDenied
        if batch.applied_at is not None:
            messages.error(request, _("Cet import a déjà été appliqué."))
            return redirect("companies:import_preview", pk=batch.pk)
        if batch.job and not jobs.is_stalled(batch):
            messages.error(request, _("Un traitement est en cours : attendez sa fin."))
            return redirect("companies:import_preview", pk=batch.pk)
        if "restart" in request.POST:
            jobs.start(batch, ImportJob.ANALYSE, batch.job_options)
            return redirect("companies:import_preview", pk=batch.pk)
        settings_form = ImportSettingsForm(request.POST, batch=batch)
        if settings_form.is_valid():
            chosen = settings_form.cleaned_data
            if jobs.in_background(batch.file.size):
                jobs.start(batch, ImportJob.ANALYSE, chosen)
                return redirect("companies:import_preview", pk=batch.pk)
            try:
                with batch.file.open("rb") as handle:
                    report = importing.analyse(
                        handle,
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
                batch.campaign_name = chosen.get("campaign_name", batch.campaign_name)
                batch.job_error = ""
                batch.save()
                messages.success(request, _("Fichier relu avec ces réglages."))
                return redirect("companies:import_preview", pk=batch.pk)
    return render(request, "companies/import_preview.html", batch_context(batch, settings_form))


@require_POST
@permission_required("companies.add_importbatch", raise_exception=True)
def import_apply(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """« Enregistrer »: at once for a small file, as a job for a large one (and again for a job
    that stopped)."""
    batch = get_object_or_404(ImportBatch, pk=pk)
    if batch.applied_at is not None:
        messages.error(request, _("Cet import a déjà été appliqué."))
    elif batch.job == ImportJob.ANALYSE and not jobs.is_stalled(batch):
        messages.error(request, _("L'analyse du fichier n'est pas finie : attendez sa fin."))
    elif batch.job == ImportJob.APPLY and not jobs.is_stalled(batch):
        messages.error(request, _("L'enregistrement est déjà en cours : attendez sa fin."))
    elif batch.job or jobs.in_background(batch.file.size):
        if not jobs.start(batch, ImportJob.APPLY):
            messages.error(request, _("L'enregistrement est déjà en cours : attendez sa fin."))
    else:
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
    if batch.job == ImportJob.APPLY and not jobs.is_stalled(batch):
        messages.error(request, _("L'enregistrement est en cours : attendez sa fin."))
        return redirect("companies:import_preview", pk=batch.pk)
    # An analysis running on it stops at its next report, finding the batch gone.
    batch.file.delete(save=False)
    batch.rejects.delete(save=False)
    batch.delete()
    messages.success(request, _("Import abandonné : rien n'a été enregistré."))
    return redirect("companies:import")


@require_GET
@permission_required("companies.view_importbatch", raise_exception=True)
def import_rejects(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Every rejected row of an import as CSV (UTF-8 with BOM, ';' for French Excel)."""
    batch = get_object_or_404(ImportBatch, pk=pk)
    filename = f"import_{batch.pk}_rejets.csv"
    if batch.rejects:
        return FileResponse(batch.rejects.open("rb"), as_attachment=True, filename=filename)
    # Imports made before the list was kept as a file hold every rejected row themselves.
    buffer = io.StringIO()
    write_rejects(batch.errors, buffer)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
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
