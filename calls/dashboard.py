"""The supervisor dashboard's figures (docs/ARCHITECTURE.md, « Outcomes and AAPOR codes »).

Every figure comes from a fixed handful of aggregate queries with conditional aggregation
(``Count(filter=Q(...))``), whatever the amount of data:

- companies grouped by campaign, archived, status and AAPOR code (status breakdown, the rates'
  classes), plus the list of inactive campaigns;
- the queue's health and the quota cells (companies/queue_health.py, companies/quotas.py);
- the period's submitted calls grouped by operator (every count in one query, the recorded
  seconds in another); the totals are the sum of the operators' rows. Days before today are
  closed and cached (see ``closed_part``): a poll counts today's calls only,
  per operator and per hour in the same two queries;
- the list of operators.

Python only adds up aggregated rows (one per operator, at most 72 company groups per campaign),
never data rows. Only submitted calls count (``submitted_at`` set); drafts never do.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from calls.models import CallRecord, CallStatus, Level, NumberStatus, Recording
from companies.aapor import DISPOSITION_CLASS, Disposition
from companies.lifecycle import Status
from companies.models import Campaign, Company
from companies.queue_health import queue_health
from companies.quotas import quota_rows
from core.dates import local_midnight
from core.roles import OPERATORS


class PeriodChoice:
    TODAY = "today"
    WEEK = "7d"
    CAMPAIGN = "campaign"
    CUSTOM = "custom"

    choices = [
        (TODAY, gettext_lazy("Aujourd'hui")),
        (WEEK, gettext_lazy("7 derniers jours")),
        (CAMPAIGN, gettext_lazy("Depuis le début de la campagne")),
        (CUSTOM, gettext_lazy("Période personnalisée")),
    ]


@dataclass(frozen=True)
class Filters:
    campaign: Campaign | None = None
    period: str = PeriodChoice.TODAY
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class Period:
    start: datetime | None  # inclusive; None = no lower bound
    end: datetime | None  # exclusive; None = no upper bound
    label: str


def period_for(filters: Filters, now: datetime) -> Period:
    today = timezone.localdate(now)
    if filters.period == PeriodChoice.WEEK:
        first = today - timedelta(days=6)
        return Period(
            local_midnight(first),
            local_midnight(today + timedelta(days=1)),
            _("7 derniers jours (du %(start)s au %(end)s)")
            % {"start": date_format(first, "SHORT_DATE_FORMAT"), "end": _short(today)},
        )
    if filters.period == PeriodChoice.CAMPAIGN:
        # Every call of the campaign's companies: no time bound is needed.
        if filters.campaign is None:
            label = _("Depuis le début (toutes campagnes)")
        else:
            label = _("Depuis le début de la campagne (créée le %(date)s)") % {
                "date": _short(timezone.localdate(filters.campaign.created_at))
            }
        return Period(None, None, label)
    if filters.period == PeriodChoice.CUSTOM and filters.date_from and filters.date_to:
        return Period(
            local_midnight(filters.date_from),
            local_midnight(filters.date_to + timedelta(days=1)),
            _("Du %(start)s au %(end)s")
            % {"start": _short(filters.date_from), "end": _short(filters.date_to)},
        )
    return Period(
        local_midnight(today),
        local_midnight(today + timedelta(days=1)),
        _("Aujourd'hui (%(date)s)") % {"date": date_format(today, "DATE_FORMAT")},
    )


def _short(day: date) -> str:
    return date_format(day, "SHORT_DATE_FORMAT")


def percent(part: int | float, whole: int | float) -> float | None:
    """part / whole in percent, or None when whole is 0 (shown as « — »)."""
    return None if not whole else 100.0 * part / whole


# --- Companies: status, queue health, AAPOR codes (one grouped query) ---


@dataclass
class Line:
    """One line of a breakdown: a label, a count and its share of the whole."""

    key: str
    label: str | Promise
    count: int
    percent: float | None = None


def _companies(campaign: Campaign | None):
    rows = Company.objects.all()
    return rows if campaign is None else rows.filter(campaign=campaign)


COMPANY_GROUP = ["campaign_id", "is_archived", "status", "disposition"]


def company_groups(campaign: Campaign | None):
    """One query: companies counted per (campaign, archived, status, AAPOR code). It reads
    only the covering index company_dashboard_idx, in its order, so it stays fast on hundreds
    of thousands of rows; it returns at most 72 rows per campaign (2 x 4 statuses x 9 codes).
    The queue's health (why each company is or is not callable now) is counted by
    companies.queue_health, with the very conditions of the claim."""
    return (
        _companies(campaign)
        .order_by()
        .values(*COMPANY_GROUP)
        .annotate(n=Count("*"))
        .order_by(*COMPANY_GROUP)
    )


def inactive_campaign_ids() -> set[int]:
    return set(Campaign.objects.filter(is_active=False).values_list("pk", flat=True))


def company_aggregates(campaign: Campaign | None) -> dict:
    """Status counts and the count of each AAPOR code (two queries: the grouped companies and
    the inactive campaigns), summed from the groups."""
    agg = dict.fromkeys(
        ["total", "live", "archived", "inactive"]
        + [f"status_{s.value}" for s in Status]
        + [f"code_{code.value}" for code in Disposition],
        0,
    )
    inactive = inactive_campaign_ids()
    for group in company_groups(campaign):
        n, status = group["n"], group["status"]
        agg["total"] += n
        if f"code_{group['disposition']}" in agg:  # blank (never called) has no code
            agg[f"code_{group['disposition']}"] += n
        if group["is_archived"]:
            agg["archived"] += n
            continue
        agg["live"] += n
        agg[f"status_{status}"] = agg.get(f"status_{status}", 0) + n
        if group["campaign_id"] in inactive:
            agg["inactive"] += n
    return agg


def choice_lines(agg: dict, choices, prefix: str, whole: str) -> list[Line]:
    """One line per choice: its count (agg["<prefix>_<value>"]) and its share of agg[whole]."""
    return [
        Line(
            c.value,
            c.label,
            agg[f"{prefix}_{c.value}"],
            percent(agg[f"{prefix}_{c.value}"], agg[whole]),
        )
        for c in choices
    ]


# --- Rates (AAPOR Standard Definitions, from each company's latest code) ---

RATE_CLASSES = ["I", "P", "R", "NC", "O", "UH", "UO", "NE"]


@dataclass
class Rate:
    code: str
    name: str | Promise
    numerator: int
    denominator: int
    definition: str | Promise

    @property
    def value(self) -> float | None:
        return percent(self.numerator, self.denominator)


def class_counts(agg: dict) -> dict[str, int]:
    """Companies per AAPOR class (O and UO have none of our codes: they stay 0)."""
    counts = dict.fromkeys(RATE_CLASSES, 0)
    for code, klass in DISPOSITION_CLASS.items():
        counts[klass] += agg[f"code_{code.value}"]
    return counts


def rates(counts: dict[str, int]) -> list[Rate]:
    c = counts
    interviews = c["I"] + c["P"]
    contacts = interviews + c["R"] + c["O"]
    eligible_or_unknown = contacts + c["NC"] + c["UH"] + c["UO"]  # RR1's denominator
    return [
        Rate(
            "RR1",
            gettext_lazy("Taux de réponse 1"),
            c["I"],
            eligible_or_unknown,
            gettext_lazy(
                "Entretiens complets (1.1) ÷ [complets (1.1) + partiels (1.2) + refus (2.11) "
                "+ rappels non aboutis (2.21) + pas de réponse (3.13) + répondeur (3.14)]."
            ),
        ),
        Rate(
            "RR2",
            gettext_lazy("Taux de réponse 2"),
            interviews,
            eligible_or_unknown,
            gettext_lazy(
                "[Complets (1.1) + partiels (1.2)] ÷ le même dénominateur que RR1 : entretiens "
                "partiels comptés comme des réponses."
            ),
        ),
        Rate(
            "COOP1",
            gettext_lazy("Taux de coopération 1"),
            c["I"],
            contacts,
            gettext_lazy(
                "Entretiens complets (1.1) ÷ entreprises jointes [complets (1.1) + partiels (1.2) "
                "+ refus (2.11)]."
            ),
        ),
        Rate(
            "REF1",
            gettext_lazy("Taux de refus 1"),
            c["R"],
            eligible_or_unknown,
            gettext_lazy("Refus (2.11) ÷ le dénominateur de RR1."),
        ),
        Rate(
            "CON1",
            gettext_lazy("Taux de contact 1"),
            contacts,
            eligible_or_unknown,
            gettext_lazy(
                "Entreprises jointes [complets (1.1) + partiels (1.2) + refus (2.11)] ÷ le "
                "dénominateur de RR1."
            ),
        ),
    ]


def disposition_lines(agg: dict) -> list[Line]:
    coded = sum(agg[f"code_{code.value}"] for code in Disposition)
    return [
        Line(
            f"{code.value} ({DISPOSITION_CLASS[code]})",
            code.label,
            agg[f"code_{code.value}"],
            percent(agg[f"code_{code.value}"], coded),
        )
        for code in Disposition
    ]


# --- Calls of the period (three queries) and of today by hour (one query) ---


def submitted_condition(campaign: Campaign | None, start=None, end=None, prefix="") -> Q:
    """Submitted calls of a campaign (or all) within [start, end); prefix reaches the call
    from another model ("call__")."""
    condition = Q(**{f"{prefix}submitted_at__isnull": False})
    if campaign is not None:
        condition &= Q(**{f"{prefix}company__campaign": campaign})
    if start is not None:
        condition &= Q(**{f"{prefix}submitted_at__gte": start})
    if end is not None:
        condition &= Q(**{f"{prefix}submitted_at__lt": end})
    return condition


def submitted_calls(campaign: Campaign | None, start=None, end=None):
    return CallRecord.objects.filter(submitted_condition(campaign, start, end))


ANSWERED = Q(status_numero=NumberStatus.ANSWERED)
ACCEPTED = Q(call_status=CallStatus.ACCEPTED)
COMPLETE = Q(
    call_status=CallStatus.ACCEPTED,
    presentation_level=Level.COMPLETE,
    questions_libres_level=Level.COMPLETE,
    questions_orientees_level=Level.COMPLETE,
)


CALL_COUNTS = (
    ["calls", "answered", "accepted", "complete"]
    + [f"number_{s.value}" for s in NumberStatus]
    + [f"outcome_{s.value}" for s in CallStatus]
    + ["recorded_calls"]
)


def call_part(campaign: Campaign | None, start, end, hours: list[datetime] = ()) -> dict:
    """The submitted calls of [start, end) per operator: every count the page shows and the
    last activity (one grouped query), the recorded seconds and recorded calls (one grouped
    query over their recordings; a call with two recordings counts once). {operator id: row}

    With hours (boundaries), the first query also counts the calls of each hour: "h00"..."""
    per_hour = {
        f"h{h:02d}": Count(
            "pk", filter=Q(submitted_at__gte=hours[h], submitted_at__lt=hours[h + 1])
        )
        for h in range(len(hours) - 1)
    }
    numbers = {f"number_{s.value}": Count("pk", filter=Q(status_numero=s)) for s in NumberStatus}
    outcomes = {f"outcome_{s.value}": Count("pk", filter=Q(call_status=s)) for s in CallStatus}
    rows = {
        row.pop("operator"): {**row, "recorded_seconds": 0.0, "recorded_calls": 0}
        for row in submitted_calls(campaign, start, end)
        .order_by()
        .values("operator")
        .annotate(
            calls=Count("pk"),
            answered=Count("pk", filter=ANSWERED),
            accepted=Count("pk", filter=ACCEPTED),
            complete=Count("pk", filter=COMPLETE),
            **numbers,
            **outcomes,
            **per_hour,
            last_activity=Max("submitted_at"),
        )
    }
    recorded = (
        Recording.objects.filter(submitted_condition(campaign, start, end, "call__"))
        .order_by()
        .values("call__operator")
        .annotate(seconds=Sum("duration_seconds"), calls=Count("call", distinct=True))
    )
    for row in recorded:
        if figures := rows.get(row["call__operator"]):  # recordings of a submitted call
            figures["recorded_seconds"] = row["seconds"] or 0.0
            figures["recorded_calls"] = row["calls"]
    return rows


# Days before today are closed: a call's submitted_at never changes once set, so their figures
# are cached and only today's calls are counted on every poll. A closed range is cached by where
# it starts (and where it ends, when the period has a fixed end); when a later request reaches
# further, only the days after the cached end are counted and added: « since the campaign
# began » counts a campaign's history once (6 s on SQLite for a million calls), then one day a
# day. A call submitted at 23:59:59 may commit just after midnight: for SETTLING after
# midnight, the day that just closed is counted live and not cached.
CLOSED_PART_SECONDS = 8 * 24 * 3600
SETTLING = timedelta(minutes=5)


def closed_part(
    campaign: Campaign | None, start, end: datetime, now: datetime, open_ended: bool
) -> dict:
    """The calls of [start, end), whole closed days, as call_part() gives them."""
    settled_end = end
    if now - end < SETTLING:
        settled_end = local_midnight(timezone.localdate(end) - timedelta(days=1))
    parts = []
    if start is None or settled_end > start:
        parts.append(settled_part(campaign, start, settled_end, open_ended))
    if settled_end < end:
        parts.append(call_part(campaign, max(start or settled_end, settled_end), end))
    return parts[0] if len(parts) == 1 else combine(parts)["operators"]


def settled_part(campaign: Campaign | None, start, end: datetime, open_ended: bool) -> dict:
    key = "naumur:dashboard:closed:v2:{}:{}:{}".format(
        campaign.pk if campaign else "all",
        start.isoformat() if start else "-",
        "open" if open_ended else end.isoformat(),
    )
    cached = cache.get(key)  # (where the cached range ends, its part)
    if cached is not None and cached[0] == end:
        return cached[1]
    if cached is not None and cached[0] < end:
        part = combine([cached[1], call_part(campaign, cached[0], end)])["operators"]
    else:
        part = call_part(campaign, start, end)
    cache.set(key, (end, part), CLOSED_PART_SECONDS)
    return part


def period_calls(campaign: Campaign | None, period: Period, today: dict, now: datetime) -> dict:
    """The period's call figures: closed days (cached) + today's part (already counted for the
    chart), combined. Periods start and end at local midnights; no call is submitted after now,
    so the part of a period from today's midnight on holds today's calls only."""
    midnight = local_midnight(timezone.localdate(now))
    tomorrow = local_midnight(timezone.localdate(now) + timedelta(days=1))
    parts = []
    if period.start is None or period.start < midnight:
        open_ended = period.end is None or period.end > midnight  # it grows day by day
        end = midnight if open_ended else period.end
        parts.append(closed_part(campaign, period.start, end, now, open_ended))
    if (period.end is None or period.end > midnight) and (
        period.start is None or period.start < tomorrow
    ):
        parts.append(today)
    return combine(parts)


def combine(parts: list[dict]) -> dict:
    """Add up call parts of disjoint time ranges: {operator id: row} (rows already aggregated,
    one per operator), plus the period's totals over all operators."""
    operators: dict = {}
    for part in parts:
        for operator, row in part.items():
            merged = operators.setdefault(
                operator,
                {**dict.fromkeys(CALL_COUNTS, 0), "recorded_seconds": 0.0, "last_activity": None},
            )
            for key in CALL_COUNTS:
                merged[key] += row[key]
            merged["recorded_seconds"] += row["recorded_seconds"] or 0.0
            merged["last_activity"] = max(
                filter(None, [merged["last_activity"], row["last_activity"]]), default=None
            )
    totals = {key: sum(row[key] for row in operators.values()) for key in CALL_COUNTS}
    return {"totals": totals, "operators": operators}


@dataclass
class Bar:
    hour: int
    count: int
    x: float
    y: float
    height: float
    center: float
    label: str


@dataclass
class HourChart:
    """Geometry of the server-rendered SVG bar chart of today's calls per hour."""

    bars: list[Bar]
    total: int
    peak: Bar | None
    max_count: int
    width: int = 600
    height: int = 200
    top: int = 16  # room for the scale label
    bottom: int = 24  # room for the hour labels
    left: int = 8
    bar_width: float = 20.0

    @property
    def plot_height(self) -> int:
        return self.height - self.top - self.bottom

    @property
    def baseline(self) -> int:
        return self.height - self.bottom

    @property
    def tick_labels(self) -> list[Bar]:
        return [bar for bar in self.bars if bar.hour % 3 == 0]


def hour_starts(day: date) -> list[datetime]:
    """The 25 boundaries of the day's wall-clock hours in TIME_ZONE (aware datetimes)."""
    return [local_midnight(day) + timedelta(hours=h) for h in range(24)] + [
        local_midnight(day + timedelta(days=1))
    ]


def today_part(campaign: Campaign | None, now: datetime) -> tuple[dict, list[int]]:
    """Today's calls per operator, and per local hour (one conditional count per hour: plain
    comparisons, the same SQL and cost on SQLite and PostgreSQL)."""
    bounds = hour_starts(timezone.localdate(now))
    part = call_part(campaign, bounds[0], bounds[-1], hours=bounds)
    per_hour = [sum(row[f"h{h:02d}"] for row in part.values()) for h in range(24)]
    return part, per_hour


def hour_chart(counts: list[int]) -> HourChart:
    chart = HourChart(bars=[], total=sum(counts), peak=None, max_count=max(counts, default=0))
    step = (chart.width - chart.left) / 24
    chart.bar_width = round(step * 0.75, 1)
    for hour, count in enumerate(counts):
        height = chart.plot_height * count / chart.max_count if chart.max_count else 0
        chart.bars.append(
            Bar(
                hour=hour,
                count=count,
                x=round(chart.left + hour * step, 1),
                y=round(chart.baseline - height, 1),
                height=round(height, 1),
                center=round(chart.left + hour * step + chart.bar_width / 2, 1),
                label=ngettext(
                    "%(start)s h – %(end)s h : %(count)s appel",
                    "%(start)s h – %(end)s h : %(count)s appels",
                    count,
                )
                % {"start": hour, "end": hour + 1, "count": count},
            )
        )
    if chart.max_count:
        chart.peak = next(bar for bar in chart.bars if bar.count == chart.max_count)
    return chart


# --- Operators (the period's per-operator figures + the list of operators) ---


@dataclass
class OperatorRow:
    name: str
    calls: int = 0
    answered: int = 0
    accepted: int = 0
    refused: int = 0
    callbacks: int = 0
    recorded_seconds: float = 0.0
    recorded_calls: int = 0
    last_activity: datetime | None = None

    @property
    def recorded_minutes(self) -> float:
        return self.recorded_seconds / 60

    @property
    def mean_call_seconds(self) -> float | None:
        """Mean recorded length of the calls that have a recording (None without any)."""
        return self.recorded_seconds / self.recorded_calls if self.recorded_calls else None

    @property
    def mean_call_display(self) -> str:
        return "—" if self.mean_call_seconds is None else minutes_seconds(self.mean_call_seconds)


def minutes_seconds(seconds: float) -> str:
    """3 min 05 s."""
    minutes, rest = divmod(round(seconds), 60)
    return _("%(minutes)d min %(seconds)02d s") % {"minutes": minutes, "seconds": rest}


def operator_row(name: str, figures: dict | None) -> OperatorRow:
    if not figures:
        return OperatorRow(name=name)
    return OperatorRow(
        name=name,
        calls=figures["calls"],
        answered=figures["answered"],
        accepted=figures["accepted"],
        refused=figures[f"outcome_{CallStatus.REFUSED.value}"],
        callbacks=figures[f"outcome_{CallStatus.CALLBACK.value}"],
        recorded_seconds=figures.get("recorded_seconds") or 0.0,
        recorded_calls=figures["recorded_calls"],
        last_activity=figures.get("last_activity"),
    )


def operator_rows(calls: dict) -> tuple[list[OperatorRow], OperatorRow]:
    """Per-operator figures for the period, every active operator listed (zeros included),
    busiest first; and the totals row. One query: the operators."""
    by_operator = calls["operators"]
    users = (
        get_user_model()
        .objects.filter(Q(groups__name=OPERATORS, is_active=True) | Q(pk__in=list(by_operator)))
        .distinct()
        .only("pk", "username", "first_name", "last_name")
    )
    rows = [
        operator_row(user.get_full_name() or user.get_username(), by_operator.get(user.pk))
        for user in users
    ]
    rows.sort(key=lambda r: (-r.calls, r.name.casefold()))
    total = operator_row(
        _("Total"),
        {
            **calls["totals"],
            "recorded_seconds": sum(row["recorded_seconds"] for row in by_operator.values()),
            "last_activity": max(
                filter(None, (row["last_activity"] for row in by_operator.values())), default=None
            ),
        },
    )
    return rows, total


# --- Everything the page shows ---


def figures(filters: Filters, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    period = period_for(filters, now)
    companies = company_aggregates(filters.campaign)
    today, per_hour = today_part(filters.campaign, now)
    period_figures = period_calls(filters.campaign, period, today, now)
    calls = period_figures["totals"]
    operators, operators_total = operator_rows(period_figures)
    counts = class_counts(companies)
    return {
        "now": timezone.localtime(now),
        "period": period,
        "companies": companies,
        "calls": calls,
        "calls_today": sum(per_hour),
        # Companies (not archived) by status; calls by number status, answered ones by outcome.
        "statuses": choice_lines(companies, Status, "status", whole="live"),
        "queue": queue_health(_companies(filters.campaign), now),
        "quotas": quota_rows(filters.campaign, now),
        "numbers": choice_lines(calls, NumberStatus, "number", whole="calls"),
        "outcomes": choice_lines(calls, CallStatus, "outcome", whole="answered"),
        "dispositions": disposition_lines(companies),
        "classes": counts,
        "coded": sum(counts.values()),
        "rates": rates(counts),
        "chart": hour_chart(per_hour),
        "operators": operators,
        "operators_total": operators_total,
    }
