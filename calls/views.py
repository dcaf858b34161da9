import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from calls import callbacks as calendar
from calls import recordings
from calls.dashboard import company_figures, productivity_csv, productivity_only, queue_health
from calls.dashboard import figures as dashboard_figures
from calls.filters import CallListFilter
from calls.forms import CallForm, DashboardFilterForm, HandOverForm, WeekForm
from calls.models import (
    CallRecord,
    CallStatus,
    Listen,
    LockLost,
    NumberStatus,
    Recording,
    health_label,
)
from calls.recordings import RecordingRefused, finalise_open_recordings, playback_response
from calls.tables import CallListTable
from companies import donotcall
from companies.forms import NumberForm, ReasonForm
from companies.lifecycle import CALL_LIST_ORDER, QueueState, Status
from companies.models import Company, DoNotCallSource
from companies.queue_health import appointment_warning, explain, is_listed
from core.audit import disable_auditlog
from core.dates import today_start
from core.htmx import HtmxHttpRequest, is_fragment_request, render_page
from core.redirects import safe_target
from core.tables import paginate

# --- Home -------------------------------------------------------------------------------------


@require_GET
def home(request: HtmxHttpRequest) -> HttpResponse:
    my_day = CallRecord.objects.submitted().filter(
        operator=request.user, submitted_at__gte=today_start()
    )
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
    recordings = Recording.objects.filter(size_bytes__gt=0, purged_at=None)
    if not user.has_perm("calls.view_all_recordings"):
        recordings = recordings.filter(call__operator=user)
    return recordings


def call_list_queryset(user):
    return (
        Company.objects.in_queue()
        .with_current_status()
        .with_queue_state()
        .select_related("locked_by", "campaign")
        .annotate(**recordings.latest_recording_annotations(playable_recordings(user)))
    )


@require_GET
@permission_required("calls.make_calls", raise_exception=True)
@vary_on_headers("HX-Request")
def call_list(request: HtmxHttpRequest) -> HttpResponse:
    queryset = call_list_queryset(request.user).order_by(*CALL_LIST_ORDER)
    company_filter = CallListFilter(request.GET, queryset=queryset)
    table = CallListTable(company_filter.qs)
    paginate(request, table, per_page=50, keep_count="call_list")
    context = {"filter": company_filter, "table": table, "user_may_call": True}
    return render_page(request, "calls/call_list.html", context, "results")


@require_GET
@permission_required("calls.make_calls", raise_exception=True)
def lock_states(request: HtmxHttpRequest) -> HttpResponse:
    """The lock and action cells of the rows a page shows, swapped out-of-band by polling."""
    parts = request.GET.get("ids", "").split(",")
    # ASCII digits only ("²".isdigit() too), and short enough for a 64-bit column.
    ids = [int(part) for part in parts if part.isascii() and part.isdigit() and len(part) < 19]
    ids = ids[:100]
    companies = call_list_queryset(request.user).filter(pk__in=ids)
    return render(request, "calls/call_list.html#lock_states", {"companies": companies})


@require_GET
@permission_required("calls.make_calls", raise_exception=True)
@vary_on_headers("HX-Request")
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
    return render_page(request, "calls/player.html", context, "player")


# --- Claiming ---------------------------------------------------------------------------------


@require_POST
@permission_required("calls.make_calls", raise_exception=True)
def next_call(request: HtmxHttpRequest) -> HttpResponse:
    company = Company.objects.claim_next(request.user)
    if company is None:
        messages.info(request, nothing_to_call_message())
        return redirect("calls:list")
    return redirect("calls:fill", company_id=company.pk)


@require_POST
@permission_required("calls.make_calls", raise_exception=True)
def start_call(request: HtmxHttpRequest, company_id: int) -> HttpResponse:
    company = get_object_or_404(Company, pk=company_id)
    if not Company.objects.claim(company, request.user):
        company.refresh_from_db()
        messages.warning(request, unavailable_message(company, request.user))
        back = safe_target(request, request.POST.get("back"), reverse("calls:list"))
        return HttpResponseRedirect(back)
    return redirect("calls:fill", company_id=company.pk)


def nothing_to_call_message() -> str:
    """Why « Appeler le suivant » found nothing: the queue's reasons, and when it refills."""
    queue = queue_health(company_figures(None, timezone.now()))
    out_of_queue = {QueueState.ARCHIVED, QueueState.INACTIVE}
    reasons = " ; ".join(
        f"{line.display} : {line.count}"
        for line in queue.lines[1:]
        if line.count and line.key not in out_of_queue
    )
    message = _("Aucune entreprise à appeler pour le moment.")
    if reasons:
        message += " " + reasons + "."
    if queue.next_due:
        message += " " + _("Prochaine entreprise appelable le %(when)s.") % {
            "when": date_format(timezone.localtime(queue.next_due), "SHORT_DATETIME_FORMAT")
        }
    return message


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
    explanation = explain(company)
    message = _("« %(company)s » n'est pas appelable maintenant : %(why)s") % {
        "company": company,
        "why": explanation.label,
    }
    if explanation.until:
        message += " " + _("Appelable à partir du %(when)s.") % {
            "when": date_format(timezone.localtime(explanation.until), "SHORT_DATETIME_FORMAT")
        }
    return message


# --- The call form ----------------------------------------------------------------------------


def held_company(user, company_id: int) -> Company | None:
    return Company.objects.held_by(user).filter(pk=company_id).select_related("campaign").first()


def form_context(request: HtmxHttpRequest, company: Company, call: CallRecord, form) -> dict:
    warning = ""
    if call.call_status == CallStatus.CALLBACK and call.callback_at:
        warning = appointment_warning(company, call.callback_at)
    return {
        "company": company,
        "call": call,
        "form": form,
        "state": "form",
        "upload_seconds": settings.RECORDING_UPLOAD_SECONDS,
        "recordings": call.recordings.filter(size_bytes__gt=0),
        # The company's numbers and people, which the operator holding it may add to.
        "may_edit": True,
        "next": reverse("calls:fill", kwargs={"company_id": company.pk}),
        "number_form": NumberForm(company=company),
        # What the colleagues before heard, newest first.
        "history": CallRecord.objects.submitted()
        .filter(company=company)
        .select_related("operator", "phone")
        .order_by("-submitted_at", "-id")[:50],
        "callback_warning": warning,
        "listed": is_listed(company),
        "do_not_call_form": ReasonForm(),
    }


@require_http_methods(["GET", "POST"])
@permission_required("calls.make_calls", raise_exception=True)
@vary_on_headers("HX-Request")
def fill(request: HtmxHttpRequest, company_id: int) -> HttpResponse:
    """GET: the call form for the lock holder, or who holds it and a button to take it (a GET
    never claims). POST (htmx): save the draft."""
    held = held_company(request.user, company_id)
    if held is None:
        company = get_object_or_404(
            Company.objects.with_current_status().select_related("campaign", "locked_by"),
            pk=company_id,
        )
        if request.method == "POST":
            return render(request, "calls/call_form.html#lock_lost", {"company": company})
        context = {
            "company": company,
            "state": "held" if company.is_locked_by_other(request.user) else "start",
            "has_draft": CallRecord.objects.drafts()
            .filter(company=company, operator=request.user)
            .exists(),
        }
        return render(request, "calls/call_form.html", context)

    call = CallRecord.objects.draft_for(held, request.user)
    if request.method == "GET":
        # This page now holds the lease: the closing beacon of the page it replaces (a reload)
        # carries another token and releases nothing.
        token = secrets.token_hex(8)
        Company.objects.open_page(held, request.user, token)
        held.refresh_from_db(fields=["lock_token", "lock_expires_at", "updated_at"])
        context = {**form_context(request, held, call, CallForm(instance=call)), "token": token}
        return render(request, "calls/call_form.html", context)

    form = CallForm(request.POST, instance=call)
    if form.is_valid():
        call = form.save_draft()
        form = CallForm(instance=call, numbers=form.numbers)
    context = form_context(request, held, call, form)
    if is_fragment_request(request):
        return render(request, "calls/call_form.html#pickers", context)
    return redirect("calls:fill", company_id=held.pk)


@require_POST
@permission_required("calls.make_calls", raise_exception=True)
def submit(request: HtmxHttpRequest, company_id: int) -> HttpResponse:
    held = held_company(request.user, company_id)
    if held is None:
        company = get_object_or_404(Company, pk=company_id)
        # Keep what was posted in the draft before refusing: nothing typed is lost.
        draft = CallRecord.objects.drafts().filter(company=company, operator=request.user).last()
        form = CallForm(request.POST, instance=draft)
        if draft is not None and form.is_valid():
            form.save_draft()
        messages.error(
            request,
            _(
                "Vous ne tenez plus cette entreprise : l'appel n'a pas été validé. "
                "Vos réponses sont gardées dans le brouillon."
            ),
        )
        return redirect("calls:fill", company_id=company.pk)
    call = CallRecord.objects.draft_for(held, request.user)
    form = CallForm(request.POST, instance=call, submitting=True)
    if not form.is_valid():
        messages.error(request, _("L'appel n'a pas été enregistré : corrigez les points signalés."))
        call.refresh_from_db()
        context = form_context(request, held, call, form)
        return render(request, "calls/call_form.html", context, status=422)
    call = form.save(commit=False)
    finalise_open_recordings(call)
    try:
        call.submit(request.user)
    except LockLost:
        call.save()  # the answers stay in the draft
        messages.error(
            request,
            _(
                "Un autre opérateur a repris cette entreprise : l'appel n'a pas "
                "été enregistré. Votre brouillon est conservé."
            ),
        )
        return redirect("calls:fill", company_id=held.pk)
    messages.success(request, _("Appel enregistré pour « %(company)s ».") % {"company": held})
    if "next" in request.POST:
        following = Company.objects.claim_next(request.user)
        if following is not None:
            return redirect("calls:fill", company_id=following.pk)
        messages.info(request, _("Plus aucune entreprise à appeler pour le moment."))
    return redirect("calls:list")


@require_POST
@permission_required("calls.make_calls", raise_exception=True)
def do_not_call(request: HtmxHttpRequest, company_id: int) -> HttpResponse:
    """« Ne plus appeler » from the call form: the company's number and NIU join the
    do-not-call list (with the reason the operator gives). The operator still records the
    call's outcome; the company is never served again, in any campaign."""
    company = get_object_or_404(Company, pk=company_id)
    held = held_company(request.user, company_id)
    form = ReasonForm(request.POST)
    listed = False
    if held is None:
        form.add_error(None, _("Vous ne tenez plus cette entreprise : rien n'a été ajouté."))
    elif form.is_valid():
        try:
            donotcall.add_company(
                held, form.cleaned_data["reason"], request.user, DoNotCallSource.CALL_FORM
            )
        except donotcall.DoNotCallError as error:
            form.add_error("reason", str(error))
        listed = is_listed(held)
    if is_fragment_request(request):
        context = {"company": company, "listed": listed, "do_not_call_form": form}
        return render(request, "calls/call_form.html#do_not_call", context)
    if listed:
        messages.success(request, _("Ce numéro ne sera plus appelé, dans aucune campagne."))
    else:
        for error in [*form.non_field_errors(), *form.errors.get("reason", [])]:
            messages.error(request, error)
    return redirect("calls:fill", company_id=company.pk)


@require_POST
@permission_required("calls.make_calls", raise_exception=True)
def renew(request: HtmxHttpRequest, company_id: int) -> HttpResponse:
    """The open form's lease, renewed every 30 s by its own page only. A page that lost it gets
    status 286, which stops htmx's polling: it never takes the company back."""
    kept = Company.objects.renew(company_id, request.user, request.POST.get("token", "")[:32])
    company = get_object_or_404(Company, pk=company_id)  # who took it: read only if it was lost
    context = {"company": company, "lease_kept": kept}
    return render(request, "calls/call_form.html#lease", context, status=200 if kept else 286)


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
        with disable_auditlog():  # a draft gets no audit entry (core/audit.py)
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
    """A recording of the user's own call still in draft, else RecordingRefused (404). Holding
    the company is not required: audio a page kept through a network cut or a crash still
    belongs to that draft."""
    recording = Recording.objects.select_related("call__company").filter(pk=recording_id).first()
    if recording is None or recording.call.operator_id != request.user.pk:
        # Gone: deleted by a refusal of the recording (or someone else's).
        raise RecordingRefused(
            _(
                "Enregistrement introuvable (effacé après un refus d'enregistrement) : "
                "rien n'est gardé."
            ),
            status=404,
        )
    if recording.call.submitted_at is not None:
        raise RecordingRefused(
            _("Cet appel est déjà validé : ce morceau n'est pas gardé."), status=404
        )
    return recording


@require_POST
@permission_required("calls.make_calls", raise_exception=True)
def recording_chunk(request: HtmxHttpRequest, recording_id: int, index: int) -> HttpResponse:
    """Chunks index, index + 1, ... in the body (see calls/recordings.py, split_upload)."""
    try:
        recording = own_recording_in_progress(request, recording_id)
        chunks = recordings.split_upload(index, request.body, request.GET)
        received = recordings.add_chunks(recording, chunks, request.user)
    except RecordingRefused as refused:
        return error_json(str(refused), refused.status)
    return JsonResponse(
        {"received": received, "size_bytes": recording.size_bytes, "chunks": recording.chunk_count}
    )


@require_POST
@permission_required("calls.make_calls", raise_exception=True)
def recording_refused(request: HtmxHttpRequest, company_id: int) -> HttpResponse:
    """« Refus d'enregistrement »: the respondent refused; the call's audio is deleted from
    every storage (calls/recordings.py, refuse_recording), from this page only. The recorder
    asks for JSON (then drops those recordings from the browser's storage); a plain form POST
    is redirected to the call form with a message."""
    text = request.POST.get("call", "")
    # ASCII digits only, and short enough for a 64-bit column.
    call_id = int(text) if text.isascii() and text.isdigit() and len(text) < 19 else 0
    wants_json = "application/json" in request.headers.get("Accept", "")
    try:
        deleted = recordings.refuse_recording(
            call_id, company_id, request.user, request.POST.get("token", "")[:32]
        )
    except RecordingRefused as refused:
        if wants_json:
            return error_json(str(refused), refused.status)
        messages.error(request, str(refused))
        return redirect("calls:fill", company_id=company_id)
    message = _(
        "Enregistrement refusé : l'audio de cet appel est effacé. Continuez sans "
        "enregistrement vocal."
    )
    if wants_json:
        ids = [recording["id"] for recording in deleted["recordings"]]
        return JsonResponse({"refused": True, "recordings": ids, "message": message})
    messages.success(request, message)
    return redirect("calls:fill", company_id=company_id)


def optional_number(text: str, convert):
    try:
        return convert(text)
    except ValueError:
        return None


@require_POST
@permission_required("calls.make_calls", raise_exception=True)
def recording_stop(request: HtmxHttpRequest, recording_id: int) -> HttpResponse:
    """The recorder stopped: `duration_seconds` by its clock, `chunk_count` chunks recorded."""
    try:
        recording = own_recording_in_progress(request, recording_id)
        recording = recordings.finalise(
            recording,
            optional_number(request.POST.get("duration_seconds", ""), float),
            optional_number(request.POST.get("chunk_count", ""), int),
        )
    except RecordingRefused as refused:
        return error_json(str(refused), refused.status)
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
    response = playback_response(request, recording)
    if request.method == "GET" and response.status_code < 400:
        # The playback log: an audit side effect, one INSERT, only for the start of a listen.
        Listen.objects.record(request.user, recording, request.headers.get("Range", ""))
    return response


# --- Dashboard --------------------------------------------------------------------------------


@require_GET
@permission_required("calls.view_dashboard", raise_exception=True)
@vary_on_headers("HX-Request")
def dashboard(request: HtmxHttpRequest) -> HttpResponse:
    """The live supervisor dashboard; htmx requests (polling, filter changes) get #figures."""
    form = DashboardFilterForm(request.GET)
    context = {"form": form, "dashboard": dashboard_figures(form.filters())}
    return render_page(request, "calls/dashboard.html", context, "figures")


# --- Callback calendar ------------------------------------------------------------------------


def calendar_context(request: HtmxHttpRequest, monday, **extra) -> dict:
    may_hand_over = request.user.has_perm("companies.change_company")
    return {
        "week": calendar.week(request.user, monday),
        "sees_all": calendar.sees_every_callback(request.user),
        "may_hand_over": may_hand_over,
        "personal_counts": calendar.personal_counts() if may_hand_over else [],
        "hand_over_form": HandOverForm() if may_hand_over else None,
        "today": timezone.localdate(),
        **extra,
    }


@require_GET
@permission_required("calls.make_calls", raise_exception=True)
@vary_on_headers("HX-Request")
def callbacks(request: HtmxHttpRequest) -> HttpResponse:
    """The week's appointments by day and hour; previous/next week swap #calendar in place."""
    week_form = WeekForm(request.GET)
    context = calendar_context(request, week_form.monday(), week_form=week_form)
    return render_page(request, "calls/callbacks.html", context, "calendar")


@require_POST
@permission_required("companies.change_company", raise_exception=True)
def callbacks_hand_over(request: HtmxHttpRequest) -> HttpResponse:
    """A supervisor hands an absent operator's personal callbacks to another, or to all."""
    week_form = WeekForm(request.POST)
    form = HandOverForm(request.POST)
    notice = ""
    if form.is_valid():
        absent, given_to = form.cleaned_data["from_operator"], form.cleaned_data["to_operator"]
        moved = Company.objects.hand_over_callbacks(absent, given_to)
        names = {
            "count": moved,
            "absent": absent.get_full_name() or absent.get_username(),
            "to": (given_to.get_full_name() or given_to.get_username())
            if given_to
            else _("tous les opérateurs"),
        }
        notice = ngettext(
            "%(count)s rappel personnel de %(absent)s confié à %(to)s.",
            "%(count)s rappels personnels de %(absent)s confiés à %(to)s.",
            moved,
        )
        if not moved:
            notice = _("%(absent)s n'a aucun rappel personnel à confier.")
        notice %= names
    if is_fragment_request(request):
        context = calendar_context(request, week_form.monday(), week_form=week_form)
        context.update(notice=notice, hand_over_form=form if notice == "" else HandOverForm())
        return render(request, "calls/callbacks.html#calendar", context)
    if notice:
        messages.success(request, notice)
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect(f"{reverse('calls:callbacks')}?semaine={week_form.monday():%Y-%m-%d}")


@require_GET
@permission_required("calls.view_dashboard", raise_exception=True)
def dashboard_productivity(request: HtmxHttpRequest) -> HttpResponse:
    """The dashboard's productivity table as a CSV file, for the dashboard's filters."""
    form = DashboardFilterForm(request.GET)
    if not form.is_valid():
        errors = "; ".join(str(error) for errors in form.errors.values() for error in errors)
        return HttpResponse(
            _("Filtres invalides : %(errors)s") % {"errors": errors},
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    filters = form.filters()
    content = "\ufeff" + productivity_csv(productivity_only(filters))  # BOM: Excel reads UTF-8
    name = "productivite-{}-{}.csv".format(
        slugify(filters.campaign.name) if filters.campaign else "toutes-campagnes",
        timezone.localdate().isoformat(),
    )
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response
