import secrets

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from calls import locks, recordings
from calls.dashboard import figures as dashboard_figures
from calls.filters import CallListFilter
from calls.forms import CallForm, DashboardFilterForm
from calls.models import (
    CallRecord,
    CallStatus,
    LockLost,
    NumberStatus,
    Recording,
    health_label,
)
from calls.recordings import RecordingRefused, finalise_open_recordings, playback_response
from calls.tables import CallListTable
from companies.models import CALL_LIST_ORDER, Company, Status
from config.htmx import HtmxHttpRequest, is_fragment_request

# --- Home -------------------------------------------------------------------------------------


@require_GET
def home(request: HtmxHttpRequest) -> HttpResponse:
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    my_day = CallRecord.objects.submitted().filter(operator=request.user, submitted_at__gte=today)
    context = {
        "my_day": my_day.aggregate(
            calls=Count("id"),
            answered=Count("id", filter=Q(status_numero=NumberStatus.ANSWERED)),
            accepted=Count("id", filter=Q(call_status=CallStatus.ACCEPTED)),
        ),
        "held": Company.objects.held_by(request.user).first(),
    }
    return render(request, "calls/home.html", context)


# --- Call list --------------------------------------------------------------------------------


def playable_recordings(user):
    recordings = Recording.objects.filter(size_bytes__gt=0)
    if not user.has_perm("calls.view_all_recordings"):
        recordings = recordings.filter(call__operator=user)
    return recordings


def call_list_queryset(user):
    return (
        Company.objects.filter(is_archived=False, campaign__is_active=True)
        .select_related("locked_by")
        .annotate(**recordings.latest_recording_annotations(playable_recordings(user)))
    )


@require_GET
@permission_required("calls.make_calls", raise_exception=True)
@vary_on_headers("HX-Request")
def call_list(request: HtmxHttpRequest) -> HttpResponse:
    queryset = call_list_queryset(request.user).order_by(*CALL_LIST_ORDER)
    company_filter = CallListFilter(request.GET, queryset=queryset)
    table = CallListTable(company_filter.qs, request=request)
    table.paginate(page=request.GET.get("page", 1), per_page=50)
    context = {"filter": company_filter, "table": table, "user_may_call": True}
    if is_fragment_request(request):
        return render(request, "calls/call_list.html#results", context)
    return render(request, "calls/call_list.html", context)


@require_GET
@permission_required("calls.make_calls", raise_exception=True)
def lock_states(request: HtmxHttpRequest) -> HttpResponse:
    """The lock and action cells of the rows a page shows, swapped out-of-band by polling."""
    ids = [int(part) for part in request.GET.get("ids", "").split(",") if part.isdigit()][:100]
    companies = call_list_queryset(request.user).filter(pk__in=ids)
    return render(request, "calls/call_list.html#lock_states", {"companies": companies})


@require_GET
@permission_required("calls.make_calls", raise_exception=True)
def player(request: HtmxHttpRequest, company_id: int) -> HttpResponse:
    """« Lecture »: a player for the latest recording of a company the user may hear."""
    company = get_object_or_404(Company, pk=company_id)
    recording = (
        playable_recordings(request.user)
        .filter(call__company=company)
        .order_by("-created_at")
        .first()
    )
    if recording is None:
        raise Http404(_("Aucun enregistrement à écouter."))
    context = {"company": company, "recording": recording}
    if is_fragment_request(request):
        return render(request, "calls/player.html#player", context)
    return render(request, "calls/player.html", context)


# --- Claiming ---------------------------------------------------------------------------------


@require_POST
@permission_required("calls.make_calls", raise_exception=True)
def next_call(request: HtmxHttpRequest) -> HttpResponse:
    company = locks.claim_next(request.user)
    if company is None:
        messages.info(
            request,
            _(
                "Aucune entreprise à appeler pour le moment : toutes sont terminées, en cours, ou "
                "leur rappel n'est pas encore dû."
            ),
        )
        return redirect("calls:list")
    return redirect("calls:fill", company_id=company.pk)


@require_POST
@permission_required("calls.make_calls", raise_exception=True)
def start_call(request: HtmxHttpRequest, company_id: int) -> HttpResponse:
    company = get_object_or_404(Company, pk=company_id)
    if not locks.claim(company, request.user):
        company.refresh_from_db()
        messages.warning(request, unavailable_message(company, request.user))
        return redirect(request.POST.get("back") or reverse("calls:list"))
    return redirect("calls:fill", company_id=company.pk)


def unavailable_message(company: Company, user) -> str:
    if company.is_locked_by_other(user):
        return _("« %(company)s » est déjà en cours d'appel par %(operator)s.") % {
            "company": company,
            "operator": company.locked_by.get_full_name() or company.locked_by,
        }
    if company.status == Status.DONE:
        return _("« %(company)s » est terminée.") % {"company": company}
    if company.is_archived or not company.campaign.is_active:
        return _("« %(company)s » n'est plus dans la file d'appels.") % {"company": company}
    return _("« %(company)s » n'est pas encore à rappeler.") % {"company": company}


# --- The call form ----------------------------------------------------------------------------


def held_company(user, company_id: int) -> Company | None:
    return Company.objects.held_by(user).filter(pk=company_id).select_related("campaign").first()


def form_context(company: Company, call: CallRecord, form: CallForm) -> dict:
    return {
        "company": company,
        "call": call,
        "form": form,
        "state": "form",
        "recordings": call.recordings.filter(size_bytes__gt=0),
    }


@require_http_methods(["GET", "POST"])
@permission_required("calls.make_calls", raise_exception=True)
@vary_on_headers("HX-Request")
def fill(request: HtmxHttpRequest, company_id: int) -> HttpResponse:
    """GET: the call form for the lock holder, or who holds it. POST (htmx): save the draft."""
    company = get_object_or_404(
        Company.objects.select_related("campaign", "locked_by"), pk=company_id
    )
    held = held_company(request.user, company_id)
    if held is None and request.method == "GET":
        has_draft = (
            CallRecord.objects.drafts().filter(company=company, operator=request.user).exists()
        )
        if has_draft and locks.claim(company, request.user):  # a reload: take it back
            held = held_company(request.user, company_id)
    if held is None:
        if request.method == "POST":
            return render(request, "calls/call_form.html#lock_lost", {"company": company})
        state = "held" if company.is_locked_by_other(request.user) else "start"
        return render(request, "calls/call_form.html", {"company": company, "state": state})

    call = CallRecord.objects.draft_for(held, request.user)
    if request.method == "GET":
        # This page now holds the lease: the closing beacon of the page it replaces (a reload)
        # carries another token and releases nothing.
        token = secrets.token_hex(8)
        locks.renew(held, request.user, token)
        held.refresh_from_db()
        context = {**form_context(held, call, CallForm(instance=call)), "token": token}
        return render(request, "calls/call_form.html", context)

    before = {name: getattr(call, name) for name in ("status_numero", "call_status")}
    form = CallForm(request.POST, instance=call)
    if form.is_valid():
        call = form.save(commit=False)
        if not call.pickers_enabled:  # the pickers stay shut until the mic runs or is waived
            call.status_numero = call.call_status = ""
            call.presentation_level = call.questions_libres_level = (
                call.questions_orientees_level
            ) = ""
        if call.status_numero or any(
            getattr(call, name) != value for name, value in before.items()
        ):
            call.status_marked_at = timezone.now()
        call.save()
        form = CallForm(instance=call)
    context = form_context(held, call, form)
    if is_fragment_request(request):
        return render(request, "calls/call_form.html#pickers", context)
    return redirect("calls:fill", company_id=held.pk)


@require_POST
@permission_required("calls.make_calls", raise_exception=True)
def submit(request: HtmxHttpRequest, company_id: int) -> HttpResponse:
    company = get_object_or_404(Company, pk=company_id)
    held = held_company(request.user, company_id)
    if held is None:
        messages.error(
            request,
            _(
                "Vous ne tenez plus cette entreprise : rien n'a été enregistré. "
                "Votre brouillon est conservé."
            ),
        )
        return redirect("calls:fill", company_id=company.pk)
    call = CallRecord.objects.draft_for(held, request.user)
    form = CallForm(request.POST, instance=call, submitting=True)
    if not form.is_valid():
        messages.error(request, _("L'appel n'a pas été enregistré : corrigez les points signalés."))
        call.refresh_from_db()
        return render(request, "calls/call_form.html", form_context(held, call, form), status=422)
    call = form.save(commit=False)
    finalise_open_recordings(call)
    try:
        call.submit(request.user)
    except LockLost:
        messages.error(
            request,
            _(
                "Un autre opérateur a repris cette entreprise : l'appel n'a pas "
                "été enregistré. Votre brouillon est conservé."
            ),
        )
        return redirect("calls:fill", company_id=company.pk)
    messages.success(request, _("Appel enregistré pour « %(company)s ».") % {"company": held})
    if "next" in request.POST:
        following = locks.claim_next(request.user)
        if following is not None:
            return redirect("calls:fill", company_id=following.pk)
        messages.info(request, _("Plus aucune entreprise à appeler pour le moment."))
    return redirect("calls:list")


@require_POST
@permission_required("calls.make_calls", raise_exception=True)
def renew(request: HtmxHttpRequest, company_id: int) -> HttpResponse:
    company = get_object_or_404(Company.objects.select_related("locked_by"), pk=company_id)
    kept = locks.renew(company, request.user, request.POST.get("token", "")[:32])
    company.refresh_from_db()
    return render(request, "calls/call_form.html#lease", {"company": company, "lease_kept": kept})


@require_POST
@permission_required("calls.make_calls", raise_exception=True)
def abandon(request: HtmxHttpRequest, company_id: int) -> HttpResponse:
    """« Abandonner », and the tab closing (navigator.sendBeacon on pagehide)."""
    company = get_object_or_404(Company, pk=company_id)
    beacon = bool(request.POST.get("beacon"))
    # The beacon releases only the lease of the page that sent it (a reload took a new one);
    # one without a page token releases nothing: the lease lapses on its own.
    token = request.POST.get("token", "")[:32] if beacon else ""
    if beacon and not token:
        return HttpResponse(status=204)
    released = company.release(request.user, token=token)
    # A closing page with audio still waiting in its browser (network cut) says so: the next page
    # for this call uploads it and finalises the recording then.
    audio_pending = beacon and request.POST.get("audio_pending", "0") != "0"
    if released and not audio_pending:
        draft = CallRecord.objects.drafts().filter(company=company, operator=request.user).last()
        if draft is not None:
            finalise_open_recordings(draft)  # keep what was recorded as one whole file
    if beacon:
        return HttpResponse(status=204)
    if released:
        messages.info(
            request, _("« %(company)s » est rendue à la file d'appels.") % {"company": company}
        )
    return redirect("calls:list")


@require_POST
@permission_required("companies.release_company", raise_exception=True)
def release_any(request: HtmxHttpRequest, company_id: int) -> HttpResponse:
    """Supervisors free a lock someone left behind."""
    company = get_object_or_404(Company, pk=company_id)
    if company.release():
        messages.success(request, _("Verrou libéré pour « %(company)s ».") % {"company": company})
    if is_fragment_request(request):
        return HttpResponseClientRedirect(
            request.headers.get("HX-Current-URL") or reverse("calls:list")
        )
    return redirect(request.POST.get("back") or reverse("calls:list"))


# --- Recording --------------------------------------------------------------------------------


def error_json(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@require_POST
@permission_required("calls.make_calls", raise_exception=True)
def recording_start(request: HtmxHttpRequest, company_id: int) -> HttpResponse:
    held = held_company(request.user, company_id)
    if held is None:
        return error_json(
            _("Vous ne tenez plus cette entreprise : enregistrement impossible."), 409
        )
    call = CallRecord.objects.draft_for(held, request.user)
    try:
        recording = recordings.start(call)  # its type comes from the audio, not the browser
    except RecordingRefused as refused:
        return error_json(str(refused), refused.status)
    if call.recording_started_at is None:
        call.recording_started_at = timezone.now()
        call.save(update_fields=["recording_started_at", "updated_at"])
    return JsonResponse(
        {
            "recording_id": recording.pk,
            "chunk_url": reverse(
                "calls:recording_chunk", kwargs={"recording_id": recording.pk, "index": 0}
            ),
            "stop_url": reverse("calls:recording_stop", kwargs={"recording_id": recording.pk}),
        }
    )


def own_recording_in_progress(request, recording_id: int) -> Recording:
    """A recording of the user's own call still in draft. Holding the company is not required:
    audio a page kept through a network cut or a crash still belongs to that draft."""
    recording = get_object_or_404(
        Recording.objects.select_related("call__company"), pk=recording_id
    )
    if recording.call.operator_id != request.user.pk or recording.call.submitted_at is not None:
        raise Http404
    return recording


@require_POST
@permission_required("calls.make_calls", raise_exception=True)
def recording_chunk(request: HtmxHttpRequest, recording_id: int, index: int) -> HttpResponse:
    """Chunks index, index + 1, ... in the body (see calls/recordings.py, split_upload)."""
    recording = own_recording_in_progress(request, recording_id)
    try:
        chunks = recordings.split_upload(index, request.body, request.GET)
        received = recordings.add_chunks(recording, chunks, request.user)
    except RecordingRefused as refused:
        return error_json(str(refused), refused.status)
    return JsonResponse(
        {"received": received, "size_bytes": recording.size_bytes, "chunks": recording.chunk_count}
    )


def optional_number(text: str, convert):
    try:
        return convert(text)
    except ValueError:
        return None


@require_POST
@permission_required("calls.make_calls", raise_exception=True)
def recording_stop(request: HtmxHttpRequest, recording_id: int) -> HttpResponse:
    """The recorder stopped: `duration_seconds` by its clock, `chunk_count` chunks recorded."""
    recording = own_recording_in_progress(request, recording_id)
    recording = recordings.finalise(
        recording,
        optional_number(request.POST.get("duration_seconds", ""), float),
        optional_number(request.POST.get("chunk_count", ""), int),
    )
    return JsonResponse(
        {
            "size_bytes": recording.size_bytes,
            "duration_seconds": recording.duration_seconds,
            "health": recording.health,
            "health_label": health_label(recording.health, recording.missing_chunks),
            "missing_chunks": recording.missing_chunks,
        }
    )


@require_GET
@permission_required("calls.make_calls", raise_exception=True)
def recording(request: HtmxHttpRequest, recording_id: int) -> HttpResponse:
    """Playback, after the permission check: operators hear their own calls, supervisors all.
    Listening changes nothing, not even a recording still being made."""
    recording = get_object_or_404(playable_recordings(request.user), pk=recording_id)
    return playback_response(request, recording)


# --- Dashboard --------------------------------------------------------------------------------


@require_GET
@permission_required("calls.view_dashboard", raise_exception=True)
@vary_on_headers("HX-Request")
def dashboard(request: HtmxHttpRequest) -> HttpResponse:
    """The live supervisor dashboard; htmx requests (polling, filter changes) get #figures."""
    form = DashboardFilterForm(request.GET)
    context = {"form": form, **dashboard_figures(form.filters())}
    template = "calls/dashboard.html"
    if is_fragment_request(request):
        template += "#figures"
    return render(request, template, context)
