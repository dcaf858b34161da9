"""Which submitted calls go to the review queue, and why.

When selection happens:
1. When a call is submitted, in the same transaction (a post_save receiver connected in
   quality/apps.py; CallRecord.submit() saves inside its atomic block, so a refused submit
   selects nothing): the call's random draw and the three rule flags, measured on the
   operator's calls of that day in that campaign *so far*.
2. `manage.py select_for_review` (once a day, after the working day; README): the same rules on
   each operator's whole day, then the random picks topped up so that every operator who worked
   that day has at least max(1, ceil(rate × calls)) random picks (a rate of 0 picks none).
Both only add: a call once picked stays picked, and each reason keeps what was measured then.

The random draw of a call is a keyed hash (HMAC-SHA256 of the call's id with SECRET_KEY) read as
a number in [0, 1): the call is drawn when its number is below the rate. The same call always
gets the same number (tests on fixed data are exact), and an operator cannot tell which calls
will be drawn. The top-up takes the day's undrawn calls with the smallest numbers.

Rules (thresholds per campaign, quality.models.ReviewPolicy):
- short recording: an accepted interview recorded for less than min_recording_seconds in all
  (its recordings added up), or not recorded at all;
- « sans enregistrement » share: once the operator's day counts no_recording_min_calls calls,
  more than no_recording_percent of them without recording flags each call without recording;
- run of very short calls: short_run_length or more calls in a row (by submission time) each
  shorter than short_call_seconds, from the opening of the form to its submission.
"""

import hashlib
import hmac
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone, translation

from calls.models import CallRecord, CallStatus
from core.dates import local_midnight
from quality.models import Reason, ReviewItem, ReviewPolicy, Selection, describe, policy_for


@dataclass(frozen=True)
class CallFacts:
    """What the rules read of one submitted call."""

    id: int
    operator_id: int
    campaign_id: int
    submitted_at: datetime
    seconds: float  # from the opening of the form to the submission
    recorded_seconds: float | None  # None: no recording with sound
    accepted: bool
    without_recording: bool


def draw(call_id: int, key: str | None = None) -> float:
    """The call's random number in [0, 1): the same for the same call and key."""
    key = settings.SECRET_KEY if key is None else key
    digest = hmac.new(key.encode(), f"review:{call_id}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def rate(percent: Decimal) -> float:
    return float(percent) / 100


def day_bounds(day: date) -> tuple[datetime, datetime]:
    return local_midnight(day), local_midnight(day + timedelta(days=1))


def day_calls(day: date, until: datetime | None = None, **filters) -> list[CallFacts]:
    """The submitted calls of a local day (up to `until`), ordered by submission, with what the
    rules read; filters such as operator=..., company__campaign=... One query."""
    start, end = day_bounds(day)
    rows = (
        CallRecord.objects.submitted()
        .filter(submitted_at__gte=start, submitted_at__lt=end, **filters)
        .filter(Q() if until is None else Q(submitted_at__lte=until))
        .annotate(
            recorded=Sum("recordings__duration_seconds", filter=Q(recordings__size_bytes__gt=0))
        )
        .order_by("submitted_at", "id")
        .values(
            "id",
            "operator_id",
            "company__campaign_id",
            "created_at",
            "submitted_at",
            "recorded",
            "call_status",
            "without_recording",
        )
    )
    return [
        CallFacts(
            id=row["id"],
            operator_id=row["operator_id"],
            campaign_id=row["company__campaign_id"],
            submitted_at=row["submitted_at"],
            seconds=(row["submitted_at"] - row["created_at"]).total_seconds(),
            recorded_seconds=row["recorded"],
            accepted=row["call_status"] == CallStatus.ACCEPTED,
            without_recording=row["without_recording"],
        )
        for row in rows
    ]


Picks = dict[int, dict[str, dict]]  # call id -> {reason: what was measured (Selection.measures)}


def _pick(picks: Picks, call_id: int, reason: str, measures: dict) -> None:
    picks.setdefault(call_id, {}).setdefault(reason, measures)


def rule_flags(calls: list[CallFacts], policy: ReviewPolicy) -> Picks:
    """The three rule flags over one operator's calls of one day in one campaign (in order)."""
    picks: Picks = {}
    for call in calls:
        if call.accepted and (call.recorded_seconds or 0) < policy.min_recording_seconds:
            measures = {"kind": "unrecorded_interview"}
            if call.recorded_seconds:
                measures = {
                    "kind": "short_interview",
                    "seconds": int(call.recorded_seconds),
                    "min": policy.min_recording_seconds,
                }
            _pick(picks, call.id, Reason.SHORT_RECORDING, measures)

    without = [call for call in calls if call.without_recording]
    if len(calls) >= policy.no_recording_min_calls and len(without) * 100 > float(
        policy.no_recording_percent
    ) * len(calls):
        measures = {
            "kind": "no_recording_share",
            "without": len(without),
            "total": len(calls),
            "limit": f"{policy.no_recording_percent.normalize():f}",
        }
        for call in without:
            _pick(picks, call.id, Reason.NO_RECORDING_SHARE, measures)

    run: list[CallFacts] = []
    for call in [*calls, None]:
        if call is not None and call.seconds < policy.short_call_seconds:
            run.append(call)
            continue
        if len(run) >= policy.short_run_length:
            measures = {
                "kind": "short_run",
                "count": len(run),
                "seconds": policy.short_call_seconds,
            }
            for short in run:
                _pick(picks, short.id, Reason.SHORT_RUN, measures)
        run = []
    return picks


def random_detail(policy: ReviewPolicy) -> dict:
    return {"kind": "random", "rate": f"{policy.sample_percent.normalize():f}"}


def random_picks(calls: list[CallFacts], policy: ReviewPolicy, already: set[int]) -> Picks:
    """One operator's day: the calls drawn at the campaign's rate, topped up (smallest draws
    first) to at least max(1, ceil(rate × calls)) random picks, counting those `already` picked
    at random."""
    share = rate(policy.sample_percent)
    if share <= 0 or not calls:
        return {}
    picks: Picks = {}
    for call in calls:
        if draw(call.id) < share:
            _pick(picks, call.id, Reason.RANDOM, random_detail(policy))
    target = max(1, math.ceil(share * len(calls)))
    chosen = already | set(picks)
    for call in sorted(calls, key=lambda c: draw(c.id)):
        if len(chosen) >= target:
            break
        if call.id not in chosen:
            chosen.add(call.id)
            _pick(picks, call.id, Reason.RANDOM, {"kind": "random_top_up", "count": target})
    return picks


def apply(picks: Picks, calls: list[CallFacts]) -> int:
    """Store the picks: a review item per call (once) and a selection per new reason. Returns
    how many reasons were added."""
    if not picks:
        return 0
    facts = {call.id: call for call in calls}
    ReviewItem.objects.bulk_create(
        [
            ReviewItem(
                call_id=call_id,
                operator_id=facts[call_id].operator_id,
                campaign_id=facts[call_id].campaign_id,
                day=timezone.localdate(facts[call_id].submitted_at),
            )
            for call_id in picks
        ],
        ignore_conflicts=True,
    )
    items = dict(ReviewItem.objects.filter(call_id__in=picks).values_list("call_id", "pk"))
    known = set(Selection.objects.filter(item_id__in=items.values()).values_list("item", "reason"))
    # The measures are kept and written in the reader's language on display; the detail keeps
    # them as text in the site's language (French) for the admin and older readers.
    with translation.override(settings.LANGUAGE_CODE):
        new = [
            Selection(
                item_id=items[call_id],
                reason=reason,
                measures=measures,
                detail=describe(measures)[:255],
            )
            for call_id, reasons in picks.items()
            for reason, measures in reasons.items()
            if (items[call_id], reason) not in known
        ]
    Selection.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def select_call(call: CallRecord) -> int:
    """At submission: the call's draw and the rules over the operator's day so far."""
    campaign = call.company.campaign
    policy = policy_for(campaign)
    day = timezone.localdate(call.submitted_at)
    calls = day_calls(
        day, until=call.submitted_at, operator_id=call.operator_id, company__campaign=campaign
    )
    picks = rule_flags(calls, policy)
    if draw(call.id) < rate(policy.sample_percent):
        _pick(picks, call.id, Reason.RANDOM, random_detail(policy))
    return apply(picks, calls)


def select_on_save(sender, instance: CallRecord, raw: bool = False, **kwargs) -> None:
    """post_save of a CallRecord: select it if it is submitted (rules are idempotent, so a later
    save of the same call, a correction for one, adds only what newly holds)."""
    if raw or instance.submitted_at is None:
        return
    select_call(instance)


def select_day(day: date) -> int:
    """The daily pass (select_for_review): every rule on each operator's whole day in each
    campaign, and the random picks topped up. Returns how many reasons were added."""
    calls = day_calls(day)
    groups: dict[tuple[int, int], list[CallFacts]] = defaultdict(list)
    for call in calls:
        groups[(call.operator_id, call.campaign_id)].append(call)
    policies = {
        p.campaign_id: p
        for p in ReviewPolicy.objects.filter(campaign_id__in={c for _o, c in groups})
    }
    random_already = set(
        Selection.objects.filter(
            reason=Reason.RANDOM, item__call_id__in=[call.id for call in calls]
        ).values_list("item__call_id", flat=True)
    )
    added = 0
    for (_operator, campaign_id), group in groups.items():
        policy = policies.get(campaign_id) or ReviewPolicy(campaign_id=campaign_id)
        picks = rule_flags(group, policy)
        already = {call.id for call in group} & random_already
        for call_id, reasons in random_picks(group, policy, already).items():
            for reason, measures in reasons.items():
                _pick(picks, call_id, reason, measures)
        added += apply(picks, group)
    return added
