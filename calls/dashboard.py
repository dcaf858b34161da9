"""The supervisor dashboard's figures: typed objects the template only displays.

Every figure comes from a fixed handful of aggregate queries, whatever the amount of data:

- companies grouped by campaign, archived, status and AAPOR code, each group counted by the
  queue state its own columns give (companies.lifecycle's state_conditions) and lapsed leases,
  plus the list of inactive campaigns;
- the companies the queue may take or that wait for their time, grouped by the fieldwork rule
  that holds them back and what their calendar needs (companies/queue_health.py
  `rule_figures`, after the active campaigns' rules: two queries), and the quota cells
  (companies/quotas.py);
- the period's submitted calls: the kept daily figures (calls/daily.py: one row per operator,
  day and campaign, recounted as calls are submitted) summed per operator, and today's rows
  for the calls per hour; the calls table itself is never read;
- the list of operators.

Python only adds up aggregated rows (one per operator, a few dozen company groups per
campaign), never data rows. Only submitted calls count; drafts never do.
"""

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import Case, Count, Max, Q, Sum, When
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from calls import daily
from calls.daily import CallFigures
from calls.models import CallStatus, DailyFigures, NumberStatus
from companies.aapor import DISPOSITION_CLASS, Disposition
from companies.lifecycle import (
    RULE_STATES,
    WINDOW_STATES,
    QueueState,
    Status,
    campaign_rules,
    lease_lapsed_condition,
    released_status,
    state_conditions,
)
from companies.models import Campaign, Company
from companies.queue_health import rule_figures
from companies.quotas import QuotaRow, quota_rows
from core.dates import local_midnight
from core.roles import OPERATORS
from core.spreadsheet import neutralised


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

    def query(self) -> str:
        """These filters as the dashboard form sends them (a query string)."""
        values = {"campaign": self.campaign.pk if self.campaign else "", "period": self.period}
        if self.date_from and self.date_to:
            values.update(date_from=self.date_from.isoformat(), date_to=self.date_to.isoformat())
        return urlencode(values)


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


# --- What the template shows: breakdowns and key figures ---


@dataclass
class Line:
    """One line of a breakdown: a label, a count and its share of the whole."""

    key: str
    label: str | Promise
    count: int
    percent: float | None = None
    next_opening: datetime | None = None  # outside the hours, holiday: when the first opens

    @property
    def display(self) -> str | Promise:
        if self.next_opening is None:
            return self.label
        return _("%(label)s (prochaine ouverture le %(when)s)") % {
            "label": self.label,
            "when": date_format(timezone.localtime(self.next_opening), "SHORT_DATETIME_FORMAT"),
        }


@dataclass
class Breakdown:
    """A table of lines (a card when it has a title): the template's breakdown partials."""

    id: str  # the id of its title, which labels the table
    head: str | Promise  # the first column's header
    lines: list[Line]
    title: str | Promise = ""
    note: str | Promise = ""
    total: int | None = None  # a footer row when set
    highlight_first: bool = False


def breakdown_lines(counts: Counter, choices, whole: int) -> list[Line]:
    """One line per choice, in the choices' order: its count and its share of whole."""
    return [Line(c.value, c.label, counts[c], percent(counts[c], whole)) for c in choices]


@dataclass
class KeyFigure:
    """One counter card at the top of the page."""

    name: str  # its DOM id is counter-<name>
    label: str | Promise
    value: int
    note: str = ""
    highlight: bool = False


# --- Companies: status, queue health, AAPOR codes (one grouped query) ---


@dataclass
class CompanyFigures:
    total: int = 0  # archived included
    live: int = 0  # not archived
    archived: int = 0
    statuses: Counter = field(default_factory=Counter)  # live companies by current Status
    dispositions: Counter = field(default_factory=Counter)  # every company with a code
    states: Counter = field(default_factory=Counter)  # every company by QueueState
    # When the first company of each waiting or window state becomes callable by itself.
    openings: dict = field(default_factory=dict)
    next_due: datetime | None = None  # the first of them


def _companies(campaign: Campaign | None):
    rows = Company.objects.all()
    return rows if campaign is None else rows.filter(campaign=campaign)


# The grouping columns, in the order of the covering index company_dashboard_idx.
COMPANY_GROUP = ["campaign", "is_archived", "status", "status_before_claim", "disposition"]


def count_where(condition: Q) -> Case | Count:
    """Count a group's rows that meet condition: once per group when the condition reads only
    the grouping columns (a group meets it whole or not at all), row by row otherwise."""
    if condition.referenced_base_fields <= set(COMPANY_GROUP):
        return Case(When(condition, then=Count("*")), default=0)
    return Count("campaign", filter=condition)


def company_groups(campaign: Campaign | None, now: datetime):
    """One query: companies counted per (campaign, archived, status, status before the claim,
    AAPOR code), and within each group by the queue state of its own columns (the life cycle's
    state_conditions: CALLABLE there is before the fieldwork rules) and how many hold a lapsed
    lease. It reads only the covering index company_dashboard_idx, in its
    order, so it stays fast on hundreds of thousands of rows; it returns a few dozen rows per
    campaign. Count("campaign") counts rows like COUNT(*) (never null) where Django refuses a
    filtered COUNT(*)."""
    states = {
        f"state_{state.value}": count_where(condition)
        for state, condition in state_conditions(now).items()
    }
    return (
        _companies(campaign)
        .order_by()
        .values(*COMPANY_GROUP)
        .annotate(
            n=Count("*"),
            lapsed=count_where(lease_lapsed_condition(now)),
            **states,
        )
        .order_by(*COMPANY_GROUP)
    )


def inactive_campaign_ids() -> set[int]:
    return set(Campaign.objects.filter(is_active=False).values_list("pk", flat=True))


def company_figures(campaign: Campaign | None, now: datetime, campaigns=None) -> CompanyFigures:
    """Five queries: the grouped companies and the inactive campaigns, summed in Python; then
    the active campaigns' rules (two) and rule_figures(), which carves the fieldwork rules'
    states out of CALLABLE and says when each waiting or window state opens."""
    figures = CompanyFigures()
    inactive = inactive_campaign_ids()
    conditions = state_conditions(now)
    for group in company_groups(campaign, now):
        n = group["n"]
        figures.total += n
        if group["disposition"]:  # blank (never called) has no code
            figures.dispositions[Disposition(group["disposition"])] += n
        if group["is_archived"]:
            figures.archived += n
            figures.states[QueueState.ARCHIVED] += n
            continue
        figures.live += n
        # The status the queue sees (lifecycle.current_status): a lapsed lease is no longer
        # « En cours » but what the company goes back to.
        figures.statuses[Status(group["status"])] += n - group["lapsed"]
        figures.statuses[released_status(group["status_before_claim"])] += group["lapsed"]
        if group["campaign"] in inactive:
            figures.states[QueueState.INACTIVE] += n
            continue
        for state in conditions:
            figures.states[state] += group[f"state_{state.value}"]
    campaigns = campaign_rules() if campaigns is None else campaigns
    rules = rule_figures(_companies(campaign), now, campaigns)
    held_back = sum(rules.counts[state] for state in RULE_STATES)
    for state in RULE_STATES:
        figures.states[state] = rules.counts[state]
    # The two queries may see a call that happened between them: the lines still sum up.
    figures.states[QueueState.CALLABLE] = max(figures.states[QueueState.CALLABLE] - held_back, 0)
    figures.openings = rules.openings
    figures.next_due = min(rules.openings.values(), default=None)
    return figures


@dataclass
class Queue:
    """The queue's health: callable now, or why not, with what to do when nothing is."""

    breakdown: Breakdown  # callable first, then each reason the rest is not; they sum to total
    callable: int
    next_due: datetime | None
    explanation: list[str] = field(default_factory=list)  # why the queue is empty

    @property
    def lines(self) -> list[Line]:
        return self.breakdown.lines

    @property
    def total(self) -> int:
        return self.breakdown.total


def queue_health(companies: CompanyFigures) -> Queue:
    total = companies.total
    breakdown = Breakdown(
        id="queue-title",
        title=gettext_lazy("Santé de la file d'appels"),
        head=gettext_lazy("Entreprises"),
        lines=breakdown_lines(companies.states, QueueState, total),
        note=gettext_lazy(
            "Appelable : à appeler ou rappel, dont l'heure est venue (ou verrou expiré), non "
            "archivée, campagne active, dans les heures d'appel de la campagne à l'heure locale "
            "de l'entreprise (hors jours fériés et jours de fermeture ; un rendez-vous est "
            "honoré à son heure), absente de la liste « Ne plus appeler », quota non atteint. "
            "Un rappel personnel reste réservé à son opérateur pendant le délai de grâce. "
            "Chaque entreprise non appelable est comptée une fois, pour la première raison de "
            "la liste."
        ),
        total=total,
        highlight_first=True,
    )
    for line in breakdown.lines:
        if line.key in WINDOW_STATES:
            line.next_opening = companies.openings.get(QueueState(line.key))
    queue = Queue(breakdown, companies.states[QueueState.CALLABLE], companies.next_due)
    if queue.callable:
        return queue
    if not total:
        queue.explanation.append(
            _("La file est vide : aucune entreprise dans cette sélection. Importez une liste.")
        )
        return queue
    queue.explanation.append(_("Aucune entreprise n'est appelable maintenant :"))
    queue.explanation.extend(
        _("%(label)s : %(value)s") % {"label": line.display, "value": line.count}
        for line in breakdown.lines[1:]
        if line.count
    )
    if queue.next_due:
        queue.explanation.append(
            _("Prochaine entreprise appelable le %(when)s.")
            % {"when": date_format(timezone.localtime(queue.next_due), "SHORT_DATETIME_FORMAT")}
        )
    else:
        queue.explanation.append(
            _(
                "Aucune ne le redeviendra d'elle-même : attendez la fin des appels en cours, "
                "rouvrez des entreprises, activez la campagne, retirez des numéros de la liste "
                "« Ne plus appeler », relevez un quota ou importez une liste."
            )
        )
    return queue


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


def class_counts(dispositions: Counter) -> dict[str, int]:
    """Companies per AAPOR class (O and UO have none of our codes: they stay 0)."""
    counts = dict.fromkeys(RATE_CLASSES, 0)
    for code, klass in DISPOSITION_CLASS.items():
        counts[klass] += dispositions[code]
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


def disposition_breakdown(dispositions: Counter) -> Breakdown:
    coded = sum(dispositions.values())
    return Breakdown(
        id="dispositions-title",
        head=gettext_lazy("Code (classe)"),
        lines=[
            Line(
                f"{code.value} ({DISPOSITION_CLASS[code]})",
                code.label,
                dispositions[code],
                percent(dispositions[code], coded),
            )
            for code in Disposition
        ],
    )


# --- Calls of the period (one query over the kept daily figures) and of today by hour ---


def period_days(period: Period) -> Q:
    """The DailyFigures rows of the period: periods start and end at local midnights."""
    condition = Q()
    if period.start is not None:
        condition &= Q(day__gte=timezone.localdate(period.start))
    if period.end is not None:
        condition &= Q(day__lt=timezone.localdate(period.end))
    return condition


Part = dict[int, CallFigures]  # {operator id: that operator's figures}


def period_calls(campaign: Campaign | None, period: Period, with_productivity=True) -> Part:
    """The period's submitted calls per operator: the sums of their kept daily figures (one
    grouped query over a few hundred rows a day, whatever the number of calls)."""
    rows = DailyFigures.objects.filter(period_days(period))
    if campaign is not None:
        rows = rows.filter(campaign=campaign)
    columns = daily.SUMMED + (daily.PRODUCTIVITY_SUMMED if with_productivity else [])
    sums = {name: Sum(name) for name in columns}
    grouped = (
        rows.order_by().values("operator").annotate(**sums, **{daily.LATEST: Max(daily.LATEST)})
    )
    return {row["operator"]: daily.from_stored(row) for row in grouped}


def total(part: Part) -> CallFigures:
    return sum(part.values(), CallFigures())


def call_breakdowns(calls: CallFigures) -> tuple[Breakdown, Breakdown]:
    """Calls by number status (of all calls), answered ones by outcome."""
    numbers = Breakdown(
        id="numbers-title",
        title=gettext_lazy("Statut numéros (appels de la période)"),
        head=gettext_lazy("Statut numéros"),
        lines=breakdown_lines(calls.numbers, NumberStatus, calls.calls),
        note=gettext_lazy("Pourcentages des appels validés de la période."),
    )
    outcomes = Breakdown(
        id="outcomes-title",
        title=gettext_lazy("Statut appel (appels décrochés de la période)"),
        head=gettext_lazy("Statut appel"),
        lines=breakdown_lines(calls.outcomes, CallStatus, calls.answered),
        note=gettext_lazy("Pourcentages des appels décrochés de la période."),
    )
    return numbers, outcomes


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


def today_per_hour(campaign: Campaign | None, now: datetime) -> list[int]:
    """Today's submitted calls per hour since local midnight, from today's kept figures."""
    rows = DailyFigures.objects.filter(day=timezone.localdate(now))
    if campaign is not None:
        rows = rows.filter(campaign=campaign)
    counts = [0] * 24
    for per_hour in rows.values_list("calls_per_hour", flat=True):
        counts = [a + b for a, b in zip(counts, per_hour, strict=True)]
    return counts


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
    figures: CallFigures
    operator_id: int | None = None  # None for the total

    @property
    def calls(self) -> int:
        return self.figures.calls

    @property
    def answered(self) -> int:
        return self.figures.answered

    @property
    def accepted(self) -> int:
        return self.figures.accepted

    @property
    def refused(self) -> int:
        return self.figures.outcomes[CallStatus.REFUSED]

    @property
    def callbacks(self) -> int:
        return self.figures.outcomes[CallStatus.CALLBACK]

    @property
    def recorded_seconds(self) -> float:
        return self.figures.recorded_seconds

    @property
    def last_activity(self) -> datetime | None:
        return self.figures.last_activity

    @property
    def recorded_minutes(self) -> float:
        return self.figures.recorded_seconds / 60

    @property
    def mean_call_seconds(self) -> float | None:
        """Mean recorded length of the calls that have a recording (None without any)."""
        recorded = self.figures.recorded_calls
        return self.figures.recorded_seconds / recorded if recorded else None

    @property
    def mean_call_display(self) -> str:
        return "—" if self.mean_call_seconds is None else minutes_seconds(self.mean_call_seconds)


def minutes_seconds(seconds: float) -> str:
    """3 min 05 s."""
    minutes, rest = divmod(round(seconds), 60)
    return _("%(minutes)d min %(seconds)02d s") % {"minutes": minutes, "seconds": rest}


def operator_rows(calls: Part) -> list[OperatorRow]:
    """Per-operator figures for the period, every active operator listed (zeros included),
    busiest first. One query: the operators."""
    users = (
        get_user_model()
        .objects.filter(Q(groups__name=OPERATORS, is_active=True) | Q(pk__in=list(calls)))
        .distinct()
        .only("pk", "username", "first_name", "last_name")
    )
    rows = [
        OperatorRow(
            user.get_full_name() or user.get_username(), calls.get(user.pk, CallFigures()), user.pk
        )
        for user in users
    ]
    rows.sort(key=lambda r: (-r.calls, r.name.casefold()))
    return rows


# --- Productivity per operator (the same kept figures: time logged in, lengths of calls) ---


def validated_shares(operator_ids: list[int], filters: Filters, period: Period) -> dict[int, float]:
    """Each operator's share, in percent, of their reviewed calls of the period whose verdict is
    « Validé » (quality control). The review queue's items belong to the quality app, which
    depends on this one: its model is looked up by name, never imported. Items carry the
    operator, campaign and local day of their call: one grouped query on that table alone."""
    if not apps.is_installed("quality"):
        return {}
    items = apps.get_model("quality", "ReviewItem").objects.filter(
        period_days(period), operator_id__in=operator_ids
    )
    if filters.campaign is not None:
        items = items.filter(campaign=filters.campaign)
    rows = (
        items.exclude(verdict="")
        .order_by()
        .values("operator")
        .annotate(reviewed=Count("pk"), validated=Count("pk", filter=Q(verdict="valid")))
    )
    return {row["operator"]: 100 * row["validated"] / row["reviewed"] for row in rows}


@dataclass
class Segment:
    """One part of an operator's bar: where it starts, how wide, what it stands for."""

    colour: str
    x: str  # SVG coordinates, in pixels: "59.3" whatever the language
    width: str
    label: str


# The three parts of time logged in, as the bars and their legend show them.
TALK = (gettext_lazy("parole (enregistrée)"), "var(--bs-primary)")
REST_OF_CALLS = (gettext_lazy("reste des appels"), "var(--bs-info)")
IDLE = (gettext_lazy("entre deux appels"), "var(--bs-warning)")
TIME_PARTS = [TALK, REST_OF_CALLS, IDLE]


@dataclass
class TimeBar:
    """The small SVG bar of one operator: their time logged in, scaled to the longest of the
    table, split into talk (recorded), the rest of their calls, and time between calls."""

    segments: list[Segment]
    label: str  # what the bar says, for screen readers
    width: int = 160
    height: int = 14


@dataclass
class ProductivityRow:
    name: str
    figures: CallFigures
    validated_share: float | None = None  # see validated_shares()
    bar: TimeBar | None = None  # the total row has none

    @property
    def logged_hours(self) -> float:
        return self.figures.logged_seconds / 3600

    def per_hour(self, count: int) -> float | None:
        return count / self.logged_hours if self.figures.logged_seconds else None

    @property
    def calls_per_hour(self) -> float | None:
        return self.per_hour(self.figures.calls)

    @property
    def completes_per_hour(self) -> float | None:
        return self.per_hour(self.figures.complete)

    @property
    def talk_share(self) -> float | None:
        """Recorded minutes over time logged in, in percent."""
        return percent(self.figures.recorded_seconds, self.figures.logged_seconds)

    @property
    def median_length(self) -> float | None:
        return self.figures.median_length

    @property
    def logged_display(self) -> str:
        return duration(self.figures.logged_seconds)

    @property
    def idle_display(self) -> str:
        return duration(self.figures.idle_seconds)

    @property
    def median_display(self) -> str:
        return "—" if self.median_length is None else minutes_seconds(self.median_length)

    def time_bar(self, longest: float) -> TimeBar:
        logged = self.figures.logged_seconds
        talk = min(self.figures.recorded_seconds, logged)
        idle = min(self.figures.idle_seconds, logged - talk)
        parts = [(talk, *TALK), (logged - talk - idle, *REST_OF_CALLS), (idle, *IDLE)]
        bar = TimeBar(segments=[], label="")
        x = 0.0
        for seconds, name, colour in parts:
            width = bar.width * seconds / longest if longest else 0
            label = _("%(label)s : %(value)s") % {"label": name, "value": duration(seconds)}
            bar.segments.append(Segment(colour, f"{x:.1f}", f"{width:.1f}", label))
            x += width
        bar.label = _("Temps connecté %(total)s : %(parts)s") % {
            "total": duration(logged),
            "parts": ", ".join(segment.label for segment in bar.segments),
        }
        return bar


@dataclass
class Productivity:
    rows: list[ProductivityRow]
    total: ProductivityRow
    query: str  # the filters, for the CSV link
    parts: list = field(default_factory=lambda: TIME_PARTS)  # the bars' legend


def duration(seconds: float) -> str:
    """2 h 05 min, 12 min, 40 s."""
    seconds = round(seconds)
    if seconds < 60:
        return _("%(seconds)d s") % {"seconds": seconds}
    hours, minutes = divmod(seconds // 60, 60)
    if not hours:
        return _("%(minutes)d min") % {"minutes": minutes}
    return _("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": minutes}


def productivity(
    filters: Filters, period: Period, operators: list[OperatorRow], total: CallFigures
) -> Productivity:
    shares = validated_shares([row.operator_id for row in operators], filters, period)
    rows = [
        ProductivityRow(row.name, row.figures, shares.get(row.operator_id)) for row in operators
    ]
    longest = max((row.figures.logged_seconds for row in rows), default=0)
    for row in rows:
        row.bar = row.time_bar(longest)
    return Productivity(rows, ProductivityRow(_("Total"), total), filters.query())


def productivity_only(filters: Filters, now: datetime | None = None) -> Productivity:
    """The productivity table alone (its CSV download): two queries."""
    period = period_for(filters, now or timezone.now())
    by_operator = period_calls(filters.campaign, period)
    return productivity(filters, period, operator_rows(by_operator), total(by_operator))


CSV_HEADER = [
    gettext_lazy("Opérateur"),
    gettext_lazy("Temps connecté (min)"),
    gettext_lazy("Appels"),
    gettext_lazy("Appels par heure"),
    gettext_lazy("Complets"),
    gettext_lazy("Complets par heure"),
    gettext_lazy("Minutes enregistrées"),
    gettext_lazy("Part de parole (%)"),
    gettext_lazy("Durée médiane d'appel (s)"),
    gettext_lazy("Entre deux appels (min)"),
    gettext_lazy("Validés au contrôle (%)"),
]


def productivity_csv(table: Productivity) -> str:
    """The table for a spreadsheet: « ; » between cells and decimal commas, as French Excel
    reads them; an undefined figure is an empty cell; names can never be formulas."""

    def number(value: float | None) -> str:
        return "" if value is None else f"{value:.1f}".replace(".", ",")

    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([str(name) for name in CSV_HEADER])
    for row in [*table.rows, table.total]:
        figures = row.figures
        writer.writerow(
            [
                neutralised(str(row.name)),
                number(figures.logged_seconds / 60),
                figures.calls,
                number(row.calls_per_hour),
                figures.complete,
                number(row.completes_per_hour),
                number(figures.recorded_seconds / 60),
                number(row.talk_share),
                number(row.median_length),
                number(figures.idle_seconds / 60),
                number(row.validated_share),
            ]
        )
    return out.getvalue()


# --- Everything the page shows ---


@dataclass
class Dashboard:
    now: datetime
    period: Period
    companies: CompanyFigures
    calls: CallFigures  # the period's, all operators
    calls_today: int
    key_figures: list[KeyFigure]
    queue: Queue
    quotas: list[QuotaRow]  # the cells of the campaign (of every active campaign)
    statuses: Breakdown  # companies (not archived) by the status the queue sees
    numbers: Breakdown
    outcomes: Breakdown
    dispositions: Breakdown
    classes: dict[str, int]
    coded: int  # companies with an AAPOR code
    rates: list[Rate]
    chart: HourChart
    operators: list[OperatorRow]
    operators_total: OperatorRow
    productivity: Productivity | None  # None when not asked for


def key_figures(companies: CompanyFigures, calls: CallFigures, today: int) -> list[KeyFigure]:
    archived = (
        ngettext("+ %(n)s archivée", "+ %(n)s archivées", companies.archived)
        % {"n": companies.archived}
        if companies.archived
        else ""
    )
    complete = ngettext("dont %(n)s complet", "dont %(n)s complets", calls.complete) % {
        "n": calls.complete
    }
    return [
        KeyFigure("companies", _("Entreprises"), companies.live, note=archived),
        KeyFigure("calls", _("Appels de la période"), calls.calls),
        KeyFigure("answered", _("Décroché"), calls.answered),
        KeyFigure("accepted", _("Questionnaires acceptés"), calls.accepted, note=complete),
        KeyFigure("today", _("Appels aujourd'hui"), today, highlight=True),
    ]


def figures(
    filters: Filters, now: datetime | None = None, with_productivity: bool = True
) -> Dashboard:
    now = now or timezone.now()
    period = period_for(filters, now)
    companies = company_figures(filters.campaign, now)
    per_hour = today_per_hour(filters.campaign, now)
    by_operator = period_calls(filters.campaign, period, with_productivity)
    calls = total(by_operator)
    operators = operator_rows(by_operator)
    counts = class_counts(companies.dispositions)
    numbers, outcomes = call_breakdowns(calls)
    return Dashboard(
        now=timezone.localtime(now),
        period=period,
        companies=companies,
        calls=calls,
        calls_today=sum(per_hour),
        key_figures=key_figures(companies, calls, sum(per_hour)),
        queue=queue_health(companies),
        quotas=quota_rows(filters.campaign, now),
        statuses=Breakdown(
            id="statuses-title",
            title=gettext_lazy("Statut des entreprises"),
            head=gettext_lazy("Statut"),
            lines=breakdown_lines(companies.statuses, Status, companies.live),
            note=gettext_lazy("Entreprises non archivées ; pourcentages de leur total."),
        ),
        numbers=numbers,
        outcomes=outcomes,
        dispositions=disposition_breakdown(companies.dispositions),
        classes=counts,
        coded=sum(counts.values()),
        rates=rates(counts),
        chart=hour_chart(per_hour),
        operators=operators,
        operators_total=OperatorRow(_("Total"), calls),
        productivity=productivity(filters, period, operators, calls) if with_productivity else None,
    )
