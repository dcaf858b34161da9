"""The fieldwork rules as the queue applies them (companies/lifecycle.py): calling hours in
the company's local time, holidays and closed days, appointments, retry rules per outcome,
spreading of unanswered attempts. Through « Appeler le suivant » (claim_next), « Lancer un
appel » (claim) and the reason the queue gives (with_queue_state, explain); on both databases.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from companies.aapor import Disposition
from companies.lifecycle import Outcome
from companies.models import Campaign, Company, Status
from companies.queue_health import explain
from tests.factories import CompanyFactory

DOUALA = ZoneInfo("Africa/Douala")


def at(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=DOUALA)


WEDNESDAY_10 = at(12, 2, 10)  # a Wednesday morning, no holiday in Cameroon or France


@pytest.fixture
def ruled(db):
    """A campaign with the fieldwork defaults: Mon-Fri 08:00-12:30 and 14:00-18:00, Sat
    09:00-12:00, public holidays, attempts spread over the day."""
    return Campaign.objects.create(name="Règles de terrain")


@pytest.fixture
def make(ruled):
    def make(**fields):
        return CompanyFactory(campaign=ruled, **fields)

    return make


def served(user):
    """What « Appeler le suivant » gives user now (given back at once)."""
    company = Company.objects.claim_next(user)
    if company is not None:
        company.release(user)
    return company


def reason(company) -> str:
    return Company.objects.with_queue_state().get(pk=company.pk).queue_state


def record(company, operator, disposition, **outcome):
    assert Company.objects.claim(company, operator)
    assert Company.objects.record_outcome(company, operator, Outcome(disposition, **outcome))
    company.refresh_from_db()
    return company


# --- Calling hours -----------------------------------------------------------------------------


def test_a_company_is_served_inside_its_window_and_not_outside(operator, make):
    company = make()
    assert company.time_zone == "Africa/Douala" and company.country == "CM"
    with time_machine.travel(WEDNESDAY_10, tick=False):
        assert served(operator) == company
        assert reason(company) == "callable"
    with time_machine.travel(at(12, 2, 13), tick=False):  # lunch break
        assert served(operator) is None
        assert not Company.objects.claim(company, operator)  # « Lancer un appel » too
        assert reason(company) == "outside_hours"
        assert explain(company).until == at(12, 2, 14)
    with time_machine.travel(at(12, 6, 10), tick=False):  # Sunday
        assert served(operator) is None
        assert explain(company).until == at(12, 7, 8)  # Monday 08:00


def test_each_company_is_called_in_its_own_local_time(operator, make):
    douala = make(name="Douala")
    new_york = make(name="New York", phone="+1 212 736 5000")
    assert new_york.time_zone == "America/New_York" and new_york.country == "US"
    with time_machine.travel(WEDNESDAY_10, tick=False):  # 04:00 in New York
        assert served(operator) == douala
        Company.objects.filter(pk=douala.pk).update(status=Status.DONE)
        assert served(operator) is None
        assert reason(new_york) == "outside_hours"
        assert explain(new_york).until == datetime(
            2026, 12, 2, 8, 0, tzinfo=ZoneInfo("America/New_York")
        )
    with time_machine.travel(at(12, 2, 15), tick=False):  # 09:00 in New York
        assert served(operator) == new_york


def test_the_window_follows_a_european_number_across_the_dst_change(operator, make):
    """Paris moves to summer time on Sunday 29 March 2026: Monday's opening at 08:00 is 07:00
    UTC the week before and 06:00 UTC the week after."""
    paris = make(phone="+33 1 42 42 42 42")
    assert paris.time_zone == "Europe/Paris"
    with time_machine.travel(datetime(2026, 3, 23, 6, 30, tzinfo=UTC), tick=False):
        assert served(operator) is None  # 07:30 in Paris
        assert explain(paris).until == datetime(2026, 3, 23, 7, 0, tzinfo=UTC)
    with time_machine.travel(datetime(2026, 3, 28, 20, 0, tzinfo=UTC), tick=False):
        assert explain(paris).until == datetime(2026, 3, 30, 6, 0, tzinfo=UTC)
    with time_machine.travel(datetime(2026, 3, 30, 6, 30, tzinfo=UTC), tick=False):
        assert served(operator) == paris  # 08:30 in Paris, summer time
    with time_machine.travel(datetime(2026, 10, 26, 6, 30, tzinfo=UTC), tick=False):
        assert served(operator) is None  # back to winter time: 07:30 in Paris
    with time_machine.travel(datetime(2026, 10, 26, 7, 30, tzinfo=UTC), tick=False):
        assert served(operator) == paris


def test_public_holidays_of_the_company_country(operator, make, ruled):
    cameroon = make(name="Cameroun")
    france = make(name="France", phone="+33 1 42 42 42 42")
    national_day = at(5, 20, 10)  # Cameroon's National Day, a Wednesday
    with time_machine.travel(national_day, tick=False):
        assert served(operator) == france
        Company.objects.filter(pk=france.pk).update(status=Status.DONE)
        assert served(operator) is None
        assert reason(cameroon) == "closed_day"
        explanation = explain(cameroon)
        assert explanation.until == at(5, 21, 8)
        assert any("férié" in detail for detail in explanation.details)
        ruled.public_holidays = False
        ruled.save()
        assert served(operator) == cameroon


def test_a_closed_day_of_the_campaign(operator, make, ruled):
    company = make()
    ruled.closed_days = ["2026-12-02"]
    ruled.save()
    with time_machine.travel(WEDNESDAY_10, tick=False):
        assert served(operator) is None
        assert reason(company) == "closed_day"
        assert explain(company).until == at(12, 3, 8)
    with time_machine.travel(at(12, 3, 8, 1), tick=False):
        assert served(operator) == company


def test_an_appointment_is_kept_outside_the_window_a_callback_without_time_is_not(
    operator, operator2, make
):
    appointment, later = make(name="Rendez-vous"), make(name="Plus tard")
    with time_machine.travel(at(12, 2, 17), tick=False):
        record(appointment, operator, Disposition.RESPONDENT_UNAVAILABLE, callback_at=at(12, 2, 19))
        record(later, operator2, Disposition.RESPONDENT_UNAVAILABLE)
    assert appointment.appointment and appointment.next_call_at == at(12, 2, 19)
    assert not later.appointment and later.status == Status.CALLBACK
    with time_machine.travel(at(12, 2, 19, 5), tick=False):  # after the 18:00 closing
        assert served(operator) == appointment
        Company.objects.filter(pk=appointment.pk).update(status=Status.DONE)
        assert served(operator) is None
        assert reason(later) == "outside_hours"
        assert explain(later).until == at(12, 3, 8)


def test_a_supervisor_may_set_a_company_time_zone(client, supervisor, operator, make):
    company = make()
    client.force_login(supervisor)
    client.post(
        reverse("companies:company_time_zone", args=[company.pk]), {"time_zone": "Asia/Tokyo"}
    )
    company.refresh_from_db()
    assert (company.time_zone, company.time_zone_chosen) == ("Asia/Tokyo", True)
    with time_machine.travel(WEDNESDAY_10, tick=False):  # 18:00 in Tokyo
        assert served(operator) is None
    # Saving the company again keeps the supervisor's zone.
    company.save()
    assert Company.objects.get(pk=company.pk).time_zone == "Asia/Tokyo"
    client.post(reverse("companies:company_time_zone", args=[company.pk]), {"time_zone": ""})
    company.refresh_from_db()
    assert (company.time_zone, company.time_zone_chosen) == ("Africa/Douala", False)
    with time_machine.travel(WEDNESDAY_10, tick=False):
        assert served(operator) == company


def test_an_unknown_zone_is_refused_and_changes_nothing(client, supervisor, make):
    company = make()
    client.force_login(supervisor)
    response = client.post(
        reverse("companies:company_time_zone", args=[company.pk]), {"time_zone": "Mars/Base"}
    )
    assert response.status_code == 302
    company.refresh_from_db()
    assert (company.time_zone, company.time_zone_chosen) == ("Africa/Douala", False)


def test_a_company_whose_number_says_nothing_takes_the_campaign_zone(operator, make, ruled):
    company = make(phone="12")  # not a number: no zone, no country
    assert (company.phone_e164, company.time_zone, company.country) == ("", "", "")
    ruled.time_zone = "America/New_York"
    ruled.save()
    with time_machine.travel(WEDNESDAY_10, tick=False):
        assert served(operator) is None
    with time_machine.travel(at(12, 2, 15), tick=False):
        assert served(operator) == company


def test_the_call_list_shows_the_local_time_when_it_differs(client, operator, make):
    douala = make(name="Douala")
    tokyo = make(name="Tokyo", phone="+81 3 1234 5678")
    with time_machine.travel(WEDNESDAY_10, tick=False):
        client.force_login(operator)  # sessions last 12 hours
        page = client.get(reverse("calls:list")).text
    assert f'data-testid="local-time-{tokyo.pk}">18:00 heure locale' in page
    assert f"local-time-{douala.pk}" not in page
    assert f'data-testid="reason-{tokyo.pk}">Hors des heures d&#x27;appel' in page


# --- Retry rules per outcome ---------------------------------------------------------------------


@pytest.fixture
def retry_rules(ruled):
    ruled.calling_hours = [[["00:00", "24:00"]]] * 7  # these tests are about delays
    ruled.public_holidays = ruled.spread_attempts = False
    ruled.no_answer_delay, ruled.no_answer_max_attempts = timedelta(hours=1), 2
    ruled.voicemail_delay, ruled.voicemail_max_attempts = timedelta(hours=3), 4
    ruled.callback_delay, ruled.callback_max_attempts = timedelta(minutes=30), 3
    ruled.save()
    return ruled


@time_machine.travel(WEDNESDAY_10, tick=False)
def test_no_answer_and_voicemail_each_have_their_delay_and_maximum(operator, make, retry_rules):
    no_answer, voicemail = make(), make()
    record(no_answer, operator, Disposition.NO_ANSWER)
    assert (no_answer.status, no_answer.next_call_at) == (
        Status.PENDING,
        WEDNESDAY_10 + timedelta(hours=1),
    )
    Company.objects.filter(pk=no_answer.pk).update(next_call_at=None)
    record(no_answer, operator, Disposition.NO_ANSWER)  # the second call: the maximum
    assert no_answer.status == Status.DONE and no_answer.attempts == 2

    Company.objects.filter(pk=voicemail.pk).update(attempts=2)
    record(voicemail, operator, Disposition.ANSWERING_MACHINE)  # the third call: 3 < 4
    assert (voicemail.status, voicemail.next_call_at) == (
        Status.PENDING,
        WEDNESDAY_10 + timedelta(hours=3),
    )
    assert reason(voicemail) == "retry_later"
    Company.objects.filter(pk=voicemail.pk).update(next_call_at=None)
    record(voicemail, operator, Disposition.ANSWERING_MACHINE)
    assert voicemail.status == Status.DONE
    assert reason(voicemail) == "exhausted"


@time_machine.travel(WEDNESDAY_10, tick=False)
def test_a_callback_without_time_waits_its_delay_up_to_its_maximum(operator, make, retry_rules):
    company = make()
    record(company, operator, Disposition.RESPONDENT_UNAVAILABLE)
    assert company.status == Status.CALLBACK and not company.appointment
    assert company.next_call_at == company.callback_at == WEDNESDAY_10 + timedelta(minutes=30)
    assert reason(company) == "callback_later"
    Company.objects.filter(pk=company.pk).update(next_call_at=None, attempts=2)
    record(company, operator, Disposition.RESPONDENT_UNAVAILABLE)  # the third call
    assert company.status == Status.DONE and company.disposition == "2.21"
    assert reason(company) == "exhausted"


@time_machine.travel(WEDNESDAY_10, tick=False)
def test_an_appointment_is_kept_whatever_the_callback_maximum(operator, make, retry_rules):
    company = make(attempts=5)
    record(company, operator, Disposition.RESPONDENT_UNAVAILABLE, callback_at=at(12, 4, 9))
    assert company.status == Status.CALLBACK and company.appointment
    assert company.next_call_at == at(12, 4, 9)


@time_machine.travel(WEDNESDAY_10, tick=False)
def test_refusal_conversion_is_off_by_default_and_happens_once(operator, make, retry_rules):
    company = make()
    record(company, operator, Disposition.REFUSAL)
    assert company.status == Status.DONE
    retry_rules.refusal_conversion, retry_rules.refusal_conversion_days = True, 10
    retry_rules.save()
    company.reopen()
    record(company, operator, Disposition.REFUSAL)
    assert company.status == Status.PENDING
    assert company.next_call_at == WEDNESDAY_10 + timedelta(days=10)
    assert company.conversion_at == WEDNESDAY_10
    assert reason(company) == "conversion_later"
    Company.objects.filter(pk=company.pk).update(next_call_at=None)
    record(company, operator, Disposition.REFUSAL)  # refused again: that was the one try
    assert company.status == Status.DONE


def test_unanswered_attempts_are_spread_over_the_parts_of_the_day(operator, make, ruled):
    ruled.no_answer_delay = timedelta(0)
    ruled.save()
    company = make()
    with time_machine.travel(at(12, 2, 9), tick=False):
        record(company, operator, Disposition.NO_ANSWER)  # morning
    assert company.parts_tried == "m"
    with time_machine.travel(at(12, 2, 10), tick=False):
        assert served(operator) is None
        assert reason(company) == "part_tried"
        assert explain(company).until == at(12, 2, 11)  # midday
    with time_machine.travel(at(12, 3, 9), tick=False):  # the next morning too
        assert served(operator) is None
    with time_machine.travel(at(12, 2, 11, 30), tick=False):
        assert served(operator) == company
        record(company, operator, Disposition.NO_ANSWER)  # midday
    with time_machine.travel(at(12, 2, 12), tick=False):
        assert served(operator) is None
    with time_machine.travel(at(12, 2, 14), tick=False):
        assert served(operator) == company
        record(company, operator, Disposition.NO_ANSWER)  # the third no answer: the maximum
    assert company.status == Status.DONE


def test_a_new_round_of_parts_starts_once_every_part_was_tried(operator, make, ruled):
    ruled.no_answer_delay, ruled.no_answer_max_attempts = timedelta(0), 10
    ruled.save()
    company = make(parts_tried="mn")
    with time_machine.travel(at(12, 2, 15), tick=False):
        record(company, operator, Disposition.NO_ANSWER)  # afternoon: every part tried
    assert company.parts_tried == "a"
    with time_machine.travel(at(12, 3, 9), tick=False):
        assert served(operator) == company


def test_spreading_needs_another_open_part_and_can_be_turned_off(operator, make, ruled):
    ruled.no_answer_delay = timedelta(0)
    ruled.calling_hours = [[["08:00", "10:30"]]] * 7  # mornings only
    ruled.save()
    company = make()
    with time_machine.travel(at(12, 2, 9), tick=False):
        record(company, operator, Disposition.NO_ANSWER)
        assert served(operator) == company
    ruled.calling_hours = [[["08:00", "18:00"]]] * 7
    ruled.spread_attempts = False
    ruled.save()
    with time_machine.travel(at(12, 2, 9, 30), tick=False):
        record(company, operator, Disposition.NO_ANSWER)
        assert company.parts_tried == ""
        assert served(operator) == company


def test_an_answered_call_ends_the_spreading(operator, make, ruled):
    company = make(parts_tried="m")
    with time_machine.travel(at(12, 2, 11, 30), tick=False):
        record(company, operator, Disposition.RESPONDENT_UNAVAILABLE)
    assert company.parts_tried == ""
