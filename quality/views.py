from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from calls.models import CallRecord, Listen, Recording
from companies.models import Campaign
from core.htmx import HtmxHttpRequest, render_page
from core.tables import paginate
from quality.corrections import CorrectionRefused, correct_call
from quality.filters import QueueFilter
from quality.forms import CorrectionForm, CriterionFormSet, PolicyForm, ReviewForm
from quality.models import (
    SUGGESTED_CRITERIA,
    Criterion,
    Reason,
    ReviewItem,
    Selection,
    policy_for,
)
from quality.tables import QueueTable

# --- The review queue -------------------------------------------------------------------------


@require_GET
@permission_required("quality.review_calls", raise_exception=True)
@vary_on_headers("HX-Request")
def queue(request: HtmxHttpRequest) -> HttpResponse:
    items = ReviewItem.objects.select_related(
        "call__company", "operator", "campaign"
    ).prefetch_related("reasons")
    item_filter = QueueFilter(request.GET, queryset=items)
    table = QueueTable(item_filter.qs)
    paginate(request, table, per_page=50)
    context = {"filter": item_filter, "table": table}
    return render_page(request, "quality/queue.html", context, "results")


# --- One call: listen, read, score ------------------------------------------------------------


def submitted_call(call_id: int) -> CallRecord:
    return get_object_or_404(
        CallRecord.objects.submitted().select_related("company__campaign", "operator"),
        pk=call_id,
    )


def review_context(call: CallRecord, item: ReviewItem | None, form: ReviewForm) -> dict:
    recordings = list(call.recordings.filter(size_bytes__gt=0).order_by("created_at", "pk"))
    return {
        "call": call,
        "company": call.company,
        "item": item,
        "form": form,
        "recordings": recordings,
        "listens": Listen.objects.filter(recording__in=recordings)
        .select_related("user")
        .order_by("-listened_at")[:50],
        "earlier_calls": call.company.calls.submitted()
        .exclude(pk=call.pk)
        .select_related("operator")
        .order_by("-submitted_at"),
        "reasons": item.reasons.all() if item else [],
        "criteria_defined": bool(form.criteria),
    }


def active_criteria(campaign: Campaign) -> list[Criterion]:
    return list(campaign.review_criteria.filter(is_active=True))


@require_http_methods(["GET", "POST"])
@permission_required("quality.review_calls", raise_exception=True)
def review(request: HtmxHttpRequest, call_id: int) -> HttpResponse:
    """A call of the queue: its recordings (player), answers, company, earlier calls, why it
    was picked, and the scorecard. Any submitted call may be reviewed: one that was not in
    the queue enters it, « choisi par un superviseur », when its review is saved."""
    call = submitted_call(call_id)
    item = ReviewItem.objects.filter(call=call).select_related("reviewer").first()
    criteria = active_criteria(call.company.campaign)
    form = ReviewForm(request.POST or None, criteria=criteria, item=item)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            if item is None:
                item, _created = ReviewItem.objects.get_or_create(
                    call=call,
                    defaults={
                        "operator": call.operator,
                        "campaign": call.company.campaign,
                        "day": timezone.localdate(call.submitted_at),
                    },
                )
                Selection.objects.get_or_create(item=item, reason=Reason.MANUAL)
            form.save(item, request.user)
        messages.success(
            request,
            _("Évaluation enregistrée : « %(verdict)s ».")
            % {"verdict": item.get_verdict_display()},
        )
        return redirect("quality:review", call_id=call.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "quality/review.html", review_context(call, item, form), status=status)


@require_http_methods(["GET", "POST"])
@permission_required("quality.correct_calls", raise_exception=True)
def correct(request: HtmxHttpRequest, call_id: int) -> HttpResponse:
    """Correct the answers of a submitted call, with a reason (quality/corrections.py)."""
    call = submitted_call(call_id)
    form = CorrectionForm(request.POST or None, instance=call)
    if request.method == "POST" and form.is_valid():
        try:
            effect = correct_call(
                form.save(commit=False), request.user, form.cleaned_data["reason"]
            )
        except CorrectionRefused as refused:
            form.add_error(None, str(refused))
        else:
            if effect.value == "applied":
                notice = _("Appel corrigé ; l'entreprise et son code AAPOR suivent la correction.")
            else:
                notice = _(
                    "Appel corrigé. Un appel plus récent décide de l'état de l'entreprise : "
                    "il reste inchangé."
                )
            messages.success(request, notice)
            return redirect("companies:company", pk=call.company_id)
        call = submitted_call(call_id)  # the answers as stored, beside the refused form
    status = 422 if request.method == "POST" else 200
    return render(request, "quality/correct.html", {"call": call, "form": form}, status=status)


# --- A campaign's scorecard and thresholds ----------------------------------------------------


@require_http_methods(["GET", "POST"])
@permission_required("quality.change_reviewpolicy", raise_exception=True)
def scorecard(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=pk)
    policy = policy_for(campaign)
    criteria = Criterion.objects.filter(campaign=campaign)
    policy_form = PolicyForm(request.POST or None, instance=policy, prefix="policy")
    formset = CriterionFormSet(request.POST or None, queryset=criteria, prefix="criteria")
    if request.method == "POST" and policy_form.is_valid() and formset.is_valid():
        with transaction.atomic():
            policy_form.save()
            for criterion in formset.save(commit=False):
                criterion.campaign = campaign
                criterion.save()
        messages.success(request, _("Règles de contrôle enregistrées."))
        return redirect("quality:scorecard", pk=campaign.pk)
    context = {"campaign": campaign, "policy_form": policy_form, "formset": formset}
    status = 422 if request.method == "POST" else 200
    return render(request, "quality/scorecard.html", context, status=status)


@require_POST
@permission_required("quality.change_reviewpolicy", raise_exception=True)
def suggested_criteria(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Add the suggested criteria a campaign does not have yet."""
    campaign = get_object_or_404(Campaign, pk=pk)
    last = Criterion.objects.filter(campaign=campaign).count()
    for position, (label, eliminatory) in enumerate(SUGGESTED_CRITERIA, start=last + 1):
        Criterion.objects.get_or_create(
            campaign=campaign,
            label=str(label),
            defaults={"is_eliminatory": eliminatory, "position": position},
        )
    messages.success(request, _("Critères proposés ajoutés."))
    return redirect("quality:scorecard", pk=campaign.pk)


# --- What operators see, who listened ---------------------------------------------------------


@require_GET
@permission_required("calls.make_calls", raise_exception=True)
@vary_on_headers("HX-Request")
def my_reviews(request: HtmxHttpRequest) -> HttpResponse:
    """The reviews of the user's own calls (never anyone else's): on the home page through
    htmx, and as a page of its own."""
    items = (
        ReviewItem.objects.reviewed()
        .filter(operator=request.user)
        .select_related("call__company")
        .prefetch_related("results__criterion")
        .order_by("-reviewed_at", "-pk")[:20]
    )
    return render_page(request, "quality/my_reviews.html", {"items": items}, "my-reviews")


@require_GET
@permission_required("calls.view_listen", raise_exception=True)
def listens(request: HtmxHttpRequest, recording_id: int) -> HttpResponse:
    """Who listened to a recording, and when."""
    recording = get_object_or_404(
        Recording.objects.select_related("call__company", "call__operator"), pk=recording_id
    )
    rows = recording.listens.select_related("user").order_by("-listened_at")[:500]
    return render(request, "quality/listens.html", {"recording": recording, "listens": rows})
