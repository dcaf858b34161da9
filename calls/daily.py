"""Kept figures: each operator's submitted calls of each day, counted per campaign.

The dashboard adds up these rows (calls.models.DailyFigures, a few hundred a day) over its period
instead of counting every call: « since the campaign began » on a million calls reads some
thousands of rows, the first request of the day as every later one.

They are kept exact by recounting: whenever a call is submitted (CallRecord.submit), the
operator's whole day is counted again from the calls table, in the submit's transaction
(`refresh_operator_day`); a later change to a submitted call (a supervisor's correction) calls
`refresh_for_calls` the same way. `rebuild` recounts everything (`manage.py
rebuild_dashboard_figures`, and the migration that created the table). The same `day_figures`
does the counting in all three, from plain rows.

On PostgreSQL two transactions that recount the same operator's day take turns (a transaction-
level advisory lock): the second counts once the first has committed, so neither overwrites
the other's call. SQLite runs one writing transaction at a time anyway (IMMEDIATE mode).

This module imports no model: the functions look them up in `apps`, which a migration passes
as its historical registry.
"""

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import groupby

from django.apps import apps as django_apps
from django.db import connection, transaction
from django.db.models import Count, OuterRef, Subquery, Sum
from django.utils import timezone

from core.dates import local_midnight

# Stored values of calls.models.NumberStatus / CallStatus / Level (no model import here).
NUMBER_STATUSES = ["invalid", "no_answer", "voicemail", "answered"]
CALL_STATUSES = ["bad_number", "not_transformer", "callback", "refused", "accepted"]
ANSWERED, ACCEPTED, COMPLETE_LEVEL = "answered", "accepted", "complete"


@dataclass
class CallFigures:
    """Submitted calls counted (of one operator, or all, over some time): they add up."""

    calls: int = 0
    answered: int = 0
    accepted: int = 0
    complete: int = 0  # accepted, with all three levels complete (AAPOR 1.1)
    numbers: Counter = field(default_factory=Counter)  # by NumberStatus
    outcomes: Counter = field(default_factory=Counter)  # by CallStatus (answered calls)
    recorded_seconds: float = 0.0
    recorded_calls: int = 0  # calls with at least one recording
    last_activity: datetime | None = None  # the latest submission
    per_hour: list[int] = field(default_factory=lambda: [0] * 24)  # by hour of the day

    def __add__(self, other: "CallFigures") -> "CallFigures":
        return CallFigures(
            calls=self.calls + other.calls,
            answered=self.answered + other.answered,
            accepted=self.accepted + other.accepted,
            complete=self.complete + other.complete,
            numbers=self.numbers + other.numbers,
            outcomes=self.outcomes + other.outcomes,
            recorded_seconds=self.recorded_seconds + other.recorded_seconds,
            recorded_calls=self.recorded_calls + other.recorded_calls,
            last_activity=max(
                filter(None, [self.last_activity, other.last_activity]), default=None
            ),
            per_hour=[a + b for a, b in zip(self.per_hour, other.per_hour, strict=True)],
        )


# --- From calls to figures -----------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """What one submitted call brings to its day's figures."""

    campaign_id: int
    submitted_at: datetime
    hour: int  # of its day, 0 to 23: whole hours since local midnight (the rest in the last)
    status_numero: str
    call_status: str
    levels: tuple[str, str, str]
    recordings: int = 0  # how many recordings it has
    recorded_seconds: float = 0.0  # their durations, added up


def count_call(figures: CallFigures, call: Call) -> None:
    figures.calls += 1
    figures.per_hour[call.hour] += 1
    figures.numbers[call.status_numero] += 1
    if call.status_numero == ANSWERED:
        figures.answered += 1
        figures.outcomes[call.call_status] += 1
    if call.call_status == ACCEPTED:
        figures.accepted += 1
        if all(level == COMPLETE_LEVEL for level in call.levels):
            figures.complete += 1
    if call.recordings:
        figures.recorded_calls += 1
        figures.recorded_seconds += call.recorded_seconds
    if figures.last_activity is None or call.submitted_at > figures.last_activity:
        figures.last_activity = call.submitted_at


def day_figures(calls: Iterable[Call]) -> dict[int, CallFigures]:
    """One operator's calls of one day: their figures per campaign."""
    by_campaign: dict[int, CallFigures] = {}
    for call in calls:
        count_call(by_campaign.setdefault(call.campaign_id, CallFigures()), call)
    return by_campaign


# --- Figures as stored (calls.models.DailyFigures) -----------------------------------------

# The columns that add up over days, and the one that is a maximum.
SUMMED = (
    ["calls", "answered", "accepted", "complete"]
    + [f"number_{value}" for value in NUMBER_STATUSES]
    + [f"outcome_{value}" for value in CALL_STATUSES]
    + ["recorded_calls", "recorded_seconds"]
)
LATEST = "last_submitted_at"


def stored_values(figures: CallFigures) -> dict:
    """A DailyFigures row's values."""
    return {
        "calls": figures.calls,
        "answered": figures.answered,
        "accepted": figures.accepted,
        "complete": figures.complete,
        **{f"number_{value}": figures.numbers[value] for value in NUMBER_STATUSES},
        **{f"outcome_{value}": figures.outcomes[value] for value in CALL_STATUSES},
        "recorded_calls": figures.recorded_calls,
        "recorded_seconds": figures.recorded_seconds,
        LATEST: figures.last_activity,
        "calls_per_hour": figures.per_hour,
    }


def from_stored(values: dict) -> CallFigures:
    """Figures from a row of DailyFigures, or from the sums of rows (same names)."""
    return CallFigures(
        calls=values["calls"],
        answered=values["answered"],
        accepted=values["accepted"],
        complete=values["complete"],
        numbers=Counter({value: values[f"number_{value}"] for value in NUMBER_STATUSES}),
        outcomes=Counter({value: values[f"outcome_{value}"] for value in CALL_STATUSES}),
        recorded_calls=values["recorded_calls"],
        recorded_seconds=values["recorded_seconds"] or 0.0,
        last_activity=values[LATEST],
    )


# --- Reading calls, writing rows -------------------------------------------------------------

CALL_COLUMNS = [
    "operator_id",
    "company__campaign_id",
    "submitted_at",
    "status_numero",
    "call_status",
    "presentation_level",
    "questions_libres_level",
    "questions_orientees_level",
    "recording_count",
    "recorded_seconds",
]


def read_calls(calls, apps=django_apps) -> Iterator[tuple[int, date, Call]]:
    """(operator id, local day, Call) for the calls of the `calls` queryset, in the order of
    (operator, submitted_at), streamed."""
    Recording = apps.get_model("calls", "Recording")
    recordings = Recording.objects.filter(call=OuterRef("pk")).order_by().values("call")
    rows = (
        calls.annotate(
            recording_count=Subquery(recordings.annotate(n=Count("pk")).values("n")),
            recorded_seconds=Subquery(
                recordings.annotate(seconds=Sum("duration_seconds")).values("seconds")
            ),
        )
        .order_by("operator_id", "submitted_at", "pk")
        .values_list(*CALL_COLUMNS)
    )
    midnights: dict[date, datetime] = {}
    for operator, campaign, submitted, numero, status, *levels, count, seconds in rows.iterator(
        5000
    ):
        day = timezone.localdate(submitted)
        if day not in midnights:
            midnights[day] = local_midnight(day)
        hour = min(23, int((submitted - midnights[day]).total_seconds() // 3600))
        yield (
            operator,
            day,
            Call(
                campaign, submitted, hour, numero, status, tuple(levels), count or 0, seconds or 0.0
            ),
        )


def write_rows(model, operator_id: int, day: date, by_campaign: dict[int, CallFigures]):
    # Only the columns the model has: a migration's historical model may have fewer.
    columns = {f.name for f in model._meta.concrete_fields}
    return [
        model(
            day=day,
            campaign_id=campaign,
            operator_id=operator_id,
            **{name: value for name, value in stored_values(figures).items() if name in columns},
        )
        for campaign, figures in by_campaign.items()
    ]


def lock_operator_day(operator_id: int, day: date) -> None:
    """Take turns with any other transaction recounting this operator's day (PostgreSQL; SQLite
    writers already take turns). Released when the transaction ends."""
    if connection.vendor != "postgresql":
        return
    key = (0x4E4D << 48) | (operator_id << 20) | (day.toordinal() & 0xFFFFF)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def refresh_operator_day(operator_id: int, day: date, apps=django_apps) -> None:
    """Count one operator's day again, from its submitted calls (local calendar day)."""
    CallRecord = apps.get_model("calls", "CallRecord")
    DailyFigures = apps.get_model("calls", "DailyFigures")
    with transaction.atomic():
        lock_operator_day(operator_id, day)
        calls = CallRecord.objects.filter(
            operator_id=operator_id,
            submitted_at__gte=local_midnight(day),
            submitted_at__lt=local_midnight(day + timedelta(days=1)),
        )
        by_campaign = day_figures(call for _op, _day, call in read_calls(calls, apps))
        DailyFigures.objects.filter(operator_id=operator_id, day=day).delete()
        DailyFigures.objects.bulk_create(write_rows(DailyFigures, operator_id, day, by_campaign))


def refresh_for_calls(*calls) -> None:
    """Keep the figures right after submitted calls changed: call it in the same transaction,
    with each call as it is now (and as it was, if its operator or submission time changed)."""
    for operator_id, day in {
        (call.operator_id, timezone.localdate(call.submitted_at))
        for call in calls
        if call.submitted_at is not None
    }:
        refresh_operator_day(operator_id, day)


def rebuild(apps=django_apps, batch: int = 2000) -> int:
    """Count every day of every operator again, from the calls table, in one transaction;
    returns the number of rows written."""
    CallRecord = apps.get_model("calls", "CallRecord")
    DailyFigures = apps.get_model("calls", "DailyFigures")
    written, rows = 0, []
    with transaction.atomic():
        DailyFigures.objects.all().delete()
        calls = CallRecord.objects.filter(submitted_at__isnull=False)
        by_day = groupby(read_calls(calls, apps), key=lambda item: item[:2])
        for (operator_id, day), items in by_day:
            by_campaign = day_figures(call for _op, _day, call in items)
            rows += write_rows(DailyFigures, operator_id, day, by_campaign)
            if len(rows) >= batch:
                DailyFigures.objects.bulk_create(rows)
                written, rows = written + len(rows), []
        DailyFigures.objects.bulk_create(rows)
    return written + len(rows)
