"""The dashboard's kept daily figures (calls/daily.py) always equal a recount of the calls:
after random submissions and corrections, after concurrent ones, and after a rebuild."""

import contextlib
import io
import threading
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from calls.daily import refresh_for_calls
from calls.models import CallRecord, DailyFigures, Recording
from companies.models import Campaign, Company
from quality.models import ReviewItem
from tests.conftest import ALWAYS_OPEN, make_operators, run_threads

DOUALA = ZoneInfo("Africa/Douala")  # the project's TIME_ZONE
START = datetime(2026, 3, 10, 22, 0, tzinfo=DOUALA)

OUTCOMES = [
    ("invalid", "", ""),
    ("no_answer", "", ""),
    ("voicemail", "", ""),
    ("answered", "bad_number", ""),
    ("answered", "not_transformer", ""),
    ("answered", "callback", ""),
    ("answered", "refused", ""),
    ("answered", "accepted", "complete"),
    ("answered", "accepted", "partial"),
]
LEVELS = {
    "complete": ("complete",) * 3,
    "partial": ("complete", "partial", "partial"),
    "": ("",) * 3,
}


def recount() -> dict:
    """The figures counted by hand from the calls, per (day, operator, campaign): written
    without calls/daily.py, so that the two can disagree."""
    expected = defaultdict(lambda: defaultdict(int))
    for call in CallRecord.objects.submitted().select_related("company"):
        key = (
            call.submitted_at.astimezone(DOUALA).date(),
            call.operator_id,
            call.company.campaign_id,
        )
        row = expected[key]
        row["calls"] += 1
        row.setdefault("calls_per_hour", [0] * 24)[call.submitted_at.astimezone(DOUALA).hour] += 1
        row[f"number_{call.status_numero}"] += 1
        if call.status_numero == "answered":
            row["answered"] += 1
            row[f"outcome_{call.call_status}"] += 1
        if call.call_status == "accepted":
            row["accepted"] += 1
            levels = (
                call.presentation_level,
                call.questions_libres_level,
                call.questions_orientees_level,
            )
            row["complete"] += levels == ("complete",) * 3
        durations = [r.duration_seconds for r in call.recordings.all()]
        row["recorded_calls"] += bool(durations)
        row["recorded_seconds"] += sum(durations)
        if durations:
            bounds = [30, 60, 90, 120, 180, 240, 300, 420, 600, 900, 1800]
            name = next((f"lengths_under_{b}" for b in bounds if sum(durations) < b), None)
            row[name or "lengths_over_1800"] += 1
        row["last_submitted_at"] = max(
            row.get("last_submitted_at") or call.submitted_at, call.submitted_at
        )
    return {key: {k: v for k, v in row.items() if v} for key, row in expected.items()}


# Time logged in and between calls: what test_dashboard_productivity.py computes by hand; here,
# only what must hold whatever the calls.
TIMES = ("logged_seconds", "idle_seconds")


def kept() -> dict:
    fields = [
        f.name
        for f in DailyFigures._meta.concrete_fields
        if f.name not in TIMES
        if f.name not in ("id", "day", "operator", "campaign")
    ]
    return {
        (row.day, row.operator_id, row.campaign_id): {
            name: getattr(row, name) for name in fields if getattr(row, name)
        }
        for row in DailyFigures.objects.all()
    }


def assert_kept_equals_recount():
    for row in DailyFigures.objects.all():
        assert 0 <= row.idle_seconds <= row.logged_seconds
    logged_per_day = Counter()
    for row in DailyFigures.objects.all():
        logged_per_day[row.day, row.operator_id] += row.logged_seconds
    for (day, operator), logged in logged_per_day.items():
        calls = CallRecord.objects.submitted().filter(operator_id=operator)
        calls = [c for c in calls if c.submitted_at.astimezone(DOUALA).date() == day]
        first = min(c.created_at for c in calls)
        last = max(c.submitted_at for c in calls)
        assert logged <= (last - first).total_seconds() + 1e-6
    expected, rows = recount(), kept()
    assert rows.keys() == expected.keys()
    for key, row in expected.items():
        assert rows[key].keys() == row.keys(), key
        for name, value in row.items():
            if isinstance(value, float):  # added up in another order
                value = pytest.approx(value)
            assert rows[key][name] == value, (key, name)


def submit_call(operator, campaign, when, outcome, recordings=()):
    """A call through the real life cycle: claim, draft, recordings, CallRecord.submit."""
    numero, status, levels = outcome
    company = Company.objects.create(campaign=campaign, name="Société", phone="6 77 00 00 00")
    with time_machine.travel(when, tick=False) if when else contextlib.nullcontext():
        assert Company.objects.claim(company, operator)
        call = CallRecord.objects.draft_for(company, operator)
        call.status_numero, call.call_status = numero, status
        call.presentation_level, call.questions_libres_level, call.questions_orientees_level = (
            LEVELS[levels]
        )
        call.save()
        for seconds in recordings:
            Recording.objects.create(call=call, duration_seconds=seconds, is_complete=True)
        call.submit(operator)
    return call


def correct(call, outcome):
    """What a supervisor's correction will do: change the answers, then keep the figures."""
    numero, status, levels = outcome
    with transaction.atomic():
        call.status_numero, call.call_status = numero, status
        call.presentation_level, call.questions_libres_level, call.questions_orientees_level = (
            LEVELS[levels]
        )
        call.save()
        refresh_for_calls(call)


actions = st.lists(
    st.tuples(
        st.sampled_from(["submit", "submit", "submit", "correct"]),
        st.integers(0, 2),  # operator
        st.integers(0, 1),  # campaign
        st.integers(0, 3 * 24 * 60),  # minutes after START: three local days, midnights included
        st.sampled_from(OUTCOMES),
        st.lists(st.floats(0, 600, allow_nan=False), max_size=2),  # recordings
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=25)
@given(steps=actions)
def test_kept_figures_equal_a_recount_after_random_submissions_and_corrections(
    operator, operator2, supervisor, campaign, steps
):
    ReviewItem.objects.all().delete()  # the calls a submission drew for quality control
    Recording.objects.all().delete()
    CallRecord.objects.all().delete()
    DailyFigures.objects.all().delete()
    Company.objects.all().delete()
    campaigns = [
        campaign,
        Campaign.objects.get_or_create(name="Deuxième campagne", defaults=ALWAYS_OPEN)[0],
    ]
    staff = [operator, operator2, supervisor]
    submitted = []
    for action, who, which, minutes, outcome, recordings in steps:
        if action == "correct" and submitted:
            correct(submitted[minutes % len(submitted)], outcome)
        else:
            when = START + timedelta(minutes=minutes)
            submitted.append(submit_call(staff[who], campaigns[which], when, outcome, recordings))
    assert_kept_equals_recount()
    before = kept()
    call_command("rebuild_dashboard_figures", stdout=io.StringIO())
    assert kept() == before


@pytest.mark.django_db(transaction=True)
def test_a_correction_waits_for_a_submission_of_the_same_operator_day(operator, campaign):
    """Two transactions recount the same operator's day: the second waits for the first to
    commit, then counts its call too (PostgreSQL: an advisory lock; SQLite: one writer)."""
    first = submit_call(operator, campaign, START + timedelta(hours=3), OUTCOMES[1])
    submitted = threading.Event()
    committed_at, corrected_at = [], []

    def submitting():
        try:
            with transaction.atomic():
                submit_call(operator, campaign, START + timedelta(hours=4), OUTCOMES[7], [42.0])
                submitted.set()
                time.sleep(1)
            committed_at.append(time.monotonic())
        finally:
            submitted.set()  # a failed submission must not keep the correction waiting

    def correcting():
        submitted.wait(10)
        correct(CallRecord.objects.get(pk=first.pk), OUTCOMES[6])
        corrected_at.append(time.monotonic())

    run_threads(submitting, correcting)
    assert corrected_at[0] >= committed_at[0]
    assert_kept_equals_recount()
    row = DailyFigures.objects.get()
    assert (row.calls, row.outcome_refused, row.outcome_accepted, row.recorded_seconds) == (
        2,
        1,
        1,
        42.0,
    )


@pytest.mark.django_db(transaction=True)
def test_kept_figures_equal_a_recount_after_concurrent_submissions(campaign):
    operators = make_operators(6)
    other = Campaign.objects.create(name="Autre campagne", **ALWAYS_OPEN)
    barrier = threading.Barrier(len(operators) + 1)

    def work(index, user):
        barrier.wait()
        for n in range(5):  # now: time_machine's travels are process-wide
            outcome = OUTCOMES[(index + n) % len(OUTCOMES)]
            submit_call(user, (campaign, other)[n % 2], None, outcome, [10.0 * n] * (n % 2))

    def corrections():
        barrier.wait()
        for _ in range(10):
            for call in CallRecord.objects.submitted().order_by("?")[:2]:
                correct(call, OUTCOMES[6])

    run_threads(*[partial(work, *item) for item in enumerate(operators)], corrections)
    assert CallRecord.objects.submitted().count() == 30
    assert_kept_equals_recount()


def test_the_counted_values_are_the_models_choices_and_columns():
    """calls/daily.py imports no model: what it counts and writes must match them."""
    from calls import daily
    from calls.models import CallStatus, Level, NumberStatus

    assert NumberStatus.values == daily.NUMBER_STATUSES
    assert CallStatus.values == daily.CALL_STATUSES
    assert (daily.ANSWERED, daily.ACCEPTED) == (NumberStatus.ANSWERED, CallStatus.ACCEPTED)
    assert daily.COMPLETE_LEVEL == Level.COMPLETE
    columns = {f.name for f in DailyFigures._meta.concrete_fields}
    assert set(daily.stored_values(daily.CallFigures())) <= columns
    assert set(daily.SUMMED + daily.PRODUCTIVITY_SUMMED + [daily.LATEST]) <= columns
