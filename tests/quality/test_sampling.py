"""Which calls enter the review queue: the random draw at the campaign's rate, the daily top-up
to at least one per operator and working day, and each rule flag, on fixed data."""

import math
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import translation

from calls.models import CallRecord
from companies.models import Company
from quality.models import Reason, ReviewItem, ReviewPolicy, Selection, describe
from quality.sampling import CallFacts, draw, random_picks, rule_flags, select_day
from tests.factories import CampaignFactory, CompanyFactory, RecordingFactory
from tests.quality.helpers import submit_call

DOUALA = ZoneInfo("Africa/Douala")
T0 = datetime(2026, 3, 10, 9, 0, tzinfo=DOUALA)


def facts(n=1, *, seconds=120.0, recorded=None, accepted=False, without=False, start=1):
    return [
        CallFacts(
            id=start + i,
            operator_id=1,
            campaign_id=1,
            submitted_at=T0 + timedelta(minutes=i),
            seconds=seconds,
            recorded_seconds=recorded,
            accepted=accepted,
            without_recording=without,
        )
        for i in range(n)
    ]


def policy(**values):
    return ReviewPolicy(**values)


def reasons_of(picks):
    return {call_id: set(reasons) for call_id, reasons in picks.items()}


# --- The random draw --------------------------------------------------------------------------


def test_a_call_always_gets_the_same_draw_and_another_key_another_one():
    assert draw(42, "clé") == draw(42, "clé")
    assert draw(42, "clé") != draw(42, "autre clé")
    assert 0 <= draw(42, "clé") < 1


def test_the_draw_picks_the_campaign_rate_of_the_calls():
    """Ten thousand call ids, a fixed key: 5 % of them are below 0.05, within half a point."""
    drawn = sum(draw(call_id, "clé fixe") < 0.05 for call_id in range(1, 10_001))
    assert 450 <= drawn <= 550
    drawn_20 = sum(draw(call_id, "clé fixe") < 0.20 for call_id in range(1, 10_001))
    assert 1900 <= drawn_20 <= 2100


def test_the_daily_top_up_gives_every_working_day_at_least_its_rate_and_one_call(settings):
    settings.SECRET_KEY = "clé fixe"
    calls = facts(30)
    five = policy(sample_percent=Decimal("5"))
    picks = random_picks(calls, five, already=set())
    drawn = {c.id for c in calls if draw(c.id) < 0.05}
    target = math.ceil(0.05 * 30)  # 2
    assert len(picks) == max(target, len(drawn))
    assert drawn <= set(picks)
    # The top-up takes the smallest draws among the undrawn calls.
    topped = set(picks) - drawn
    undrawn = sorted((c for c in calls if c.id not in drawn), key=lambda c: draw(c.id))
    assert topped == {c.id for c in undrawn[: len(topped)]}
    assert all(set(reasons) == {Reason.RANDOM} for reasons in picks.values())


def test_one_call_a_day_is_picked_even_when_the_rate_gives_less(settings):
    settings.SECRET_KEY = "clé fixe"
    calls = facts(3)
    five = policy(sample_percent=Decimal("5"))
    drawn = {c.id for c in calls if draw(c.id) < 0.05}
    assert len(random_picks(calls, five, already=set())) == max(1, len(drawn))
    # One call already picked at random that day (at its submission): no top-up.
    assert set(random_picks(calls, five, already={calls[0].id})) == drawn


def test_a_rate_of_zero_picks_nothing():
    assert random_picks(facts(40), policy(sample_percent=Decimal("0")), already=set()) == {}


# --- Rule flags -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("recorded", "accepted", "flagged"),
    [
        (59.9, True, True),
        (60.0, True, False),
        (None, True, True),  # accepted, not recorded at all
        (0.0, True, True),
        (10.0, False, False),  # a refusal may be short
    ],
)
def test_an_accepted_interview_recorded_under_the_threshold_is_flagged(recorded, accepted, flagged):
    picks = rule_flags(
        facts(1, recorded=recorded, accepted=accepted), policy(min_recording_seconds=60)
    )
    assert (Reason.SHORT_RECORDING in picks.get(1, {})) is flagged


def test_the_short_recording_threshold_is_the_campaigns():
    calls = facts(1, recorded=90.0, accepted=True)
    assert Reason.SHORT_RECORDING in rule_flags(calls, policy(min_recording_seconds=120))[1]
    assert rule_flags(calls, policy(min_recording_seconds=60)) == {}


def test_a_high_share_of_calls_without_recording_flags_those_calls():
    calls = facts(3) + facts(2, without=True, start=4)  # 2 of 5: 40 % > 20 %
    picks = rule_flags(calls, policy(no_recording_percent=Decimal("20"), no_recording_min_calls=5))
    assert reasons_of(picks) == {4: {Reason.NO_RECORDING_SHARE}, 5: {Reason.NO_RECORDING_SHARE}}
    measures = picks[4][Reason.NO_RECORDING_SHARE]
    assert (
        describe(measures) == "2 appels sur 5 sans enregistrement dans la journée (plus de 20 %)."
    )


def test_what_was_measured_is_written_in_the_readers_language():
    """A selection keeps its measures, not a sentence: each reader gets their own language,
    with its decimal sign; a selection from before the measures were kept shows its text."""
    calls = facts(3) + facts(2, without=True, start=4)
    rule = policy(no_recording_percent=Decimal("12.5"), no_recording_min_calls=5)
    measures = rule_flags(calls, rule)[4][Reason.NO_RECORDING_SHARE]
    with translation.override("en"):
        assert describe(measures) == (
            "2 calls out of 5 without recording in the day (more than 12.5%)."
        )
    with translation.override("fr"):
        assert describe(measures) == (
            "2 appels sur 5 sans enregistrement dans la journée (plus de 12,5 %)."
        )
    older = Selection(reason=Reason.RANDOM, detail="Tirage au sort à 5 %.")
    assert older.describe() == "Tirage au sort à 5 %."


def test_the_share_is_not_judged_before_the_minimum_number_of_calls():
    calls = facts(2) + facts(2, without=True, start=3)  # 50 % but only 4 calls
    assert rule_flags(calls, policy(no_recording_min_calls=5)) == {}


def test_a_share_at_the_threshold_is_not_above_it():
    calls = facts(8) + facts(2, without=True, start=9)  # exactly 20 %
    assert rule_flags(calls, policy(no_recording_percent=Decimal("20"))) == {}


def test_a_run_of_very_short_calls_flags_the_whole_run():
    calls = facts(2, seconds=300) + facts(5, seconds=8, start=3) + facts(1, seconds=300, start=8)
    picks = rule_flags(calls, policy(short_call_seconds=15, short_run_length=5))
    assert set(picks) == {3, 4, 5, 6, 7}
    assert "5 appels de suite de moins de 15 s" in describe(picks[3][Reason.SHORT_RUN])


@pytest.mark.parametrize(
    ("durations", "flagged"),
    [
        ([8, 8, 8, 8], set()),  # one short of the run
        ([8, 8, 300, 8, 8, 8], set()),  # broken by a real call
        ([8, 8, 8, 8, 14.9, 8], {1, 2, 3, 4, 5, 6}),
        ([8, 8, 8, 8, 15], set()),  # 15 s is not shorter than 15 s
    ],
)
def test_runs_are_consecutive_calls_each_under_the_threshold(durations, flagged):
    calls = [
        CallFacts(i + 1, 1, 1, T0 + timedelta(minutes=i), d, None, False, False)
        for i, d in enumerate(durations)
    ]
    picks = rule_flags(calls, policy(short_call_seconds=15, short_run_length=5))
    assert set(picks) == flagged


# --- In the database: at submission, and the daily command ------------------------------------


@pytest.fixture
def campaign_100(db):
    campaign = CampaignFactory()
    ReviewPolicy.objects.create(campaign=campaign, sample_percent=Decimal("100"))
    return campaign


def test_a_submitted_call_is_drawn_in_the_submission_itself(operator, campaign_100):
    call = submit_call(CompanyFactory(campaign=campaign_100), operator, "refused")
    item = ReviewItem.objects.get(call=call)
    assert item.operator == operator and item.campaign == campaign_100
    assert list(item.reasons.values_list("reason", flat=True)) == [Reason.RANDOM]


def test_a_refused_submission_selects_nothing(operator, operator2, campaign_100):
    from calls.models import LockLost

    company = CompanyFactory(campaign=campaign_100)
    assert Company.objects.claim(company, operator)
    call = CallRecord.objects.draft_for(company, operator)
    call.status_numero, call.without_recording = "invalid", True
    call.save()
    Company.objects.release(company)
    assert Company.objects.claim(company, operator2)
    with pytest.raises(LockLost):
        call.submit(operator)
    assert not ReviewItem.objects.exists()


def test_drafts_are_never_selected(operator, campaign_100):
    company = CompanyFactory(campaign=campaign_100)
    Company.objects.claim(company, operator)
    CallRecord.objects.draft_for(company, operator).save()
    assert not ReviewItem.objects.exists()


def test_an_accepted_interview_without_sound_is_flagged_at_submission(operator, db):
    campaign = CampaignFactory()
    ReviewPolicy.objects.create(campaign=campaign, sample_percent=Decimal("0"))
    call = submit_call(CompanyFactory(campaign=campaign), operator, "complete")
    item = ReviewItem.objects.get(call=call)
    assert set(item.reasons.values_list("reason", flat=True)) == {Reason.SHORT_RECORDING}


def test_a_long_enough_recording_is_not_flagged(operator, db):
    campaign = CampaignFactory()
    ReviewPolicy.objects.create(campaign=campaign, sample_percent=Decimal("0"))
    company = CompanyFactory(campaign=campaign)
    Company.objects.claim(company, operator)
    draft = CallRecord.objects.draft_for(company, operator)
    RecordingFactory(call=draft, seconds=75)
    Company.objects.release(company)
    submit_call(company, operator, "complete", without_recording=False)  # answers that draft
    assert not ReviewItem.objects.exists()


def test_the_daily_command_tops_up_each_operator_day(operator, operator2, settings, db):
    settings.SECRET_KEY = "clé fixe"
    campaign = CampaignFactory()
    ReviewPolicy.objects.create(campaign=campaign, sample_percent=Decimal("5"))
    with time_machine.travel(T0, tick=False):
        mine = [
            submit_call(CompanyFactory(campaign=campaign), operator, "refused") for _ in range(3)
        ]
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        theirs = [
            submit_call(CompanyFactory(campaign=campaign), operator2, "refused") for _ in range(25)
        ]
    call_command("select_for_review", "--day", "2026-03-10", verbosity=0)

    for calls in (mine, theirs):
        drawn = {c.pk for c in calls if draw(c.pk) < 0.05}
        picked = set(
            Selection.objects.filter(reason=Reason.RANDOM, item__call__in=calls).values_list(
                "item__call_id", flat=True
            )
        )
        assert drawn <= picked
        assert len(picked) == max(math.ceil(0.05 * len(calls)), len(drawn))
    # Again: nothing more.
    before = Selection.objects.count()
    call_command("select_for_review", "--day", "2026-03-10", verbosity=0)
    assert Selection.objects.count() == before


def test_the_daily_command_flags_the_whole_day(operator, db):
    campaign = CampaignFactory()
    ReviewPolicy.objects.create(
        campaign=campaign, sample_percent=Decimal("0"), no_recording_min_calls=5
    )
    with time_machine.travel(T0, tick=False):
        recorded = [
            submit_call(CompanyFactory(campaign=campaign), operator, "refused", False)
            for _ in range(3)
        ]
        silent = [
            submit_call(CompanyFactory(campaign=campaign), operator, "refused") for _ in range(2)
        ]
    # Seconds on the form: the calls took long enough not to form a run.
    CallRecord.objects.update(created_at=T0 - timedelta(minutes=5))
    ReviewItem.objects.all().delete()
    call_command("select_for_review", "--day", "2026-03-10", verbosity=0)
    flagged = set(ReviewItem.objects.values_list("call_id", flat=True))
    assert flagged == {c.pk for c in silent}
    assert recorded


def test_the_command_refuses_a_day_that_is_not_a_date():
    with pytest.raises(CommandError, match="Jour invalide"):
        call_command("select_for_review", "--day", "10/03/2026")


def test_select_day_on_a_day_without_calls_adds_nothing(db):
    assert select_day(T0.date()) == 0
