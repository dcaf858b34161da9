"""Kept figures: each operator's submitted calls of each day, counted per campaign, with what
the productivity table needs (time logged in, time between calls, calls by class of length).

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

from bisect import bisect_right
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


# Productivity: a gap of more than PAUSE between two things an operator did is a pause, not time
# logged in. Recorded calls are counted by class of length, in seconds: [0, 30), [30, 60)...,
# [900, 1800), [1800, ∞); their median is estimated from these counts (grouped_median). Each
# class is a column that the dashboard sums over its period: few enough to keep that cheap.
PAUSE = timedelta(minutes=15)
LENGTH_BOUNDS = [30, 60, 90, 120, 180, 240, 300, 420, 600, 900, 1800]
LENGTH_COLUMNS = [f"lengths_under_{bound}" for bound in LENGTH_BOUNDS] + ["lengths_over_1800"]


def length_class(seconds: float) -> int:
    return bisect_right(LENGTH_BOUNDS, seconds)


def grouped_median(counts: list[int]) -> float | None:
    """The median of values counted by class (LENGTH_BOUNDS), the classic way for grouped data:
    find the class holding the middle value, then interpolate linearly inside it as if its
    values were spread evenly: lower + (n/2 - before) / in_class x width. In the last, open
    class, its lower bound. None without any value."""
    total = sum(counts)
    if not total:
        return None
    before = 0
    for index, count in enumerate(counts):
        if before + count >= total / 2 and count:
            lower = LENGTH_BOUNDS[index - 1] if index else 0
            if index == len(LENGTH_BOUNDS):
                return float(lower)
            return lower + (total / 2 - before) / count * (LENGTH_BOUNDS[index] - lower)
        before += count
    return None  # unreachable: the counts add up to total


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
    # Productivity (see time_logged_in): time logged in, the part of it between two calls, and
    # the recorded calls counted by class of length (LENGTH_BOUNDS).
    logged_seconds: float = 0.0
    idle_seconds: float = 0.0
    lengths: list[int] = field(default_factory=lambda: [0] * len(LENGTH_COLUMNS))

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
            logged_seconds=self.logged_seconds + other.logged_seconds,
            idle_seconds=self.idle_seconds + other.idle_seconds,
            lengths=[a + b for a, b in zip(self.lengths, other.lengths, strict=True)],
        )

    @property
    def median_length(self) -> float | None:
        """The median length of the recorded calls, estimated from their classes of length."""
        return grouped_median(self.lengths)


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
    opened_at: datetime | None = None  # its form was first opened (the draft's creation)
    marked_at: datetime | None = None  # its last answer was picked
    recording_started_at: datetime | None = None  # its first recording started


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
        figures.lengths[length_class(call.recorded_seconds)] += 1
    if figures.last_activity is None or call.submitted_at > figures.last_activity:
        figures.last_activity = call.submitted_at


def day_figures(calls: Iterable[Call]) -> dict[int, CallFigures]:
    """One operator's calls of one day: their figures per campaign."""
    calls = list(calls)
    by_campaign: dict[int, CallFigures] = {}
    for call in calls:
        count_call(by_campaign.setdefault(call.campaign_id, CallFigures()), call)
    time_logged_in(calls, by_campaign)
    return by_campaign


@dataclass(frozen=True)
class Activity:
    """Something the server saw an operator do for a call: an instant, or the span of its
    recording (from its start, for the recorded seconds)."""

    start: datetime
    end: datetime
    call: int  # the call's position in its day
    campaign_id: int


def activities(calls: list[Call]) -> list[Activity]:
    items = []
    for position, call in enumerate(calls):
        for instant in (call.opened_at, call.marked_at, call.submitted_at):
            if instant is not None:
                items.append(Activity(instant, instant, position, call.campaign_id))
        if call.recording_started_at is not None and call.recorded_seconds > 0:
            end = call.recording_started_at + timedelta(seconds=call.recorded_seconds)
            items.append(Activity(call.recording_started_at, end, position, call.campaign_id))
    return sorted(items, key=lambda item: (item.start, item.end))


def time_logged_in(calls: list[Call], by_campaign: dict[int, CallFigures]) -> None:
    """One operator's day: time logged in is what their activities cover, from the first to the
    last, with each gap between two of them counted unless it is longer than PAUSE. A gap that
    separates two different calls is also idle time (between calls). Each part of the time
    counts for the campaign of the activity that ends it, so that the campaigns' times add up
    to the day's."""
    reach = owner = None  # how far the activities reach so far, and whose call reaches there
    for item in activities(calls):
        figures = by_campaign[item.campaign_id]
        if reach is None or item.start > reach:
            if reach is not None and item.start - reach <= PAUSE:
                gap = (item.start - reach).total_seconds()
                figures.logged_seconds += gap
                if item.call != owner:
                    figures.idle_seconds += gap
            reach, owner = item.start, item.call  # (after a pause, a new session starts here)
        if item.end > reach:
            figures.logged_seconds += (item.end - reach).total_seconds()
            reach, owner = item.end, item.call


# --- Figures as stored (calls.models.DailyFigures) -----------------------------------------

# The columns that add up over days, and the one that is a maximum.
SUMMED = (
    ["calls", "answered", "accepted", "complete"]
    + [f"number_{value}" for value in NUMBER_STATUSES]
    + [f"outcome_{value}" for value in CALL_STATUSES]
    + ["recorded_calls", "recorded_seconds"]
)
PRODUCTIVITY_SUMMED = ["logged_seconds", "idle_seconds", *LENGTH_COLUMNS]
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
        "logged_seconds": figures.logged_seconds,
        "idle_seconds": figures.idle_seconds,
        **dict(zip(LENGTH_COLUMNS, figures.lengths, strict=True)),
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
        # Productivity columns, when they were summed too.
        logged_seconds=values.get("logged_seconds") or 0.0,
        idle_seconds=values.get("idle_seconds") or 0.0,
        lengths=[values.get(column) or 0 for column in LENGTH_COLUMNS],
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
    "created_at",
    "status_marked_at",
    "recording_started_at",
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
    for row in rows.iterator(5000):
        operator, campaign, submitted, numero, status, *levels = row[:8]
        count, seconds, opened, marked, recording_started = row[8:]
        day = timezone.localdate(submitted)
        if day not in midnights:
            midnights[day] = local_midnight(day)
        hour = min(23, int((submitted - midnights[day]).total_seconds() // 3600))
        call = Call(
            campaign,
            submitted,
            hour,
            numero,
            status,
            tuple(levels),
            count or 0,
            seconds or 0.0,
            opened,
            marked,
            recording_started,
        )
        yield operator, day, call


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
