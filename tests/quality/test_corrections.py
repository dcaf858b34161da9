"""A supervisor corrects a submitted call: the company, its AAPOR code and the dashboard's rates
follow when it is the company's latest call; an older call changes alone; a company an operator
holds is never taken from them; every correction is in the audit trail with its reason."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from auditlog.models import LogEntry
from django.urls import reverse

from calls.dashboard import Filters, PeriodChoice, figures
from calls.models import CallRecord
from companies.lifecycle import Correction, Status
from companies.models import Company
from quality.corrections import CorrectionRefused, correct_call
from tests.conftest import page_text
from tests.factories import OUTCOMES, CampaignFactory, CompanyFactory
from tests.quality.helpers import submit_call

DOUALA = ZoneInfo("Africa/Douala")
T0 = datetime(2026, 3, 10, 10, 0, tzinfo=DOUALA)
LEVELS = ("presentation_level", "questions_libres_level", "questions_orientees_level")


def corrected(call: CallRecord, outcome: str, **answers) -> CallRecord:
    """The stored call with the answers of `outcome` instead of its own (not saved)."""
    call = CallRecord.objects.get(pk=call.pk)
    for name in ("status_numero", "call_status", *LEVELS):
        setattr(call, name, "")
    for name, value in {**OUTCOMES[outcome], **answers}.items():
        setattr(call, name, value)
    return call


def rates(campaign) -> dict:
    return {
        rate.code: (rate.numerator, rate.denominator)
        for rate in figures(Filters(campaign=campaign)).rates
    }


@pytest.fixture
def campaign(db):
    return CampaignFactory(no_answer_max_attempts=3, no_answer_delay=timedelta(hours=2))


def test_correcting_the_latest_call_moves_the_company_its_code_and_the_rates(
    campaign, operator, supervisor
):
    refused = submit_call(CompanyFactory(campaign=campaign), operator, "refused")
    submit_call(CompanyFactory(campaign=campaign), operator, "complete")
    assert rates(campaign)["RR1"] == (1, 2)  # I / (I + P + R + NC + UH + UO)
    assert rates(campaign)["COOP1"] == (1, 2)  # I / (I + P + R + O)

    effect = correct_call(corrected(refused, "complete"), supervisor, "Réécoute : entretien fait")

    assert effect is Correction.APPLIED
    company = Company.objects.get(pk=refused.company_id)
    assert company.disposition == "1.1" and company.status == Status.DONE
    assert CallRecord.objects.get(pk=refused.pk).disposition == "1.1"
    assert rates(campaign)["RR1"] == (2, 2)
    assert rates(campaign)["COOP1"] == (2, 2)


def test_a_corrected_refusal_turned_partial_lowers_coop1(campaign, operator, supervisor):
    complete = submit_call(CompanyFactory(campaign=campaign), operator, "complete")
    submit_call(CompanyFactory(campaign=campaign), operator, "refused")
    assert rates(campaign)["COOP1"] == (1, 2)
    correct_call(corrected(complete, "partial"), supervisor, "Questions orientées non posées")
    assert rates(campaign)["COOP1"] == (0, 2)
    assert rates(campaign)["RR2"] == (1, 2)  # (I + P) / same denominator


def test_a_call_corrected_to_no_answer_is_retried_after_the_delay_from_the_call(
    campaign, operator, supervisor
):
    with time_machine.travel(T0, tick=False):
        call = submit_call(CompanyFactory(campaign=campaign), operator, "refused")
    with time_machine.travel(T0 + timedelta(minutes=30), tick=False):
        correct_call(corrected(call, "no_answer"), supervisor, "Personne n'a décroché")
    company = Company.objects.get(pk=call.company_id)
    assert company.status == Status.PENDING
    assert company.next_call_at == T0 + timedelta(hours=2)
    assert company.attempts == 1  # the call was counted once, when it was submitted
    assert company.disposition == "3.13"


def test_no_answer_on_the_last_attempt_finishes_the_company(operator, supervisor, db):
    campaign = CampaignFactory(no_answer_max_attempts=1)
    call = submit_call(CompanyFactory(campaign=campaign), operator, "refused")
    correct_call(corrected(call, "no_answer"), supervisor, "Pas de réponse")
    company = Company.objects.get(pk=call.company_id)
    assert (company.status, company.disposition, company.attempts) == (Status.DONE, "3.13", 1)


def test_a_call_corrected_to_a_callback_makes_the_company_a_callback(
    campaign, operator, supervisor
):
    call = submit_call(CompanyFactory(campaign=campaign), operator, "refused")
    when = T0 + timedelta(days=2)
    correct_call(corrected(call, "callback", callback_at=when), supervisor, "Rappel demandé")
    company = Company.objects.get(pk=call.company_id)
    assert (company.status, company.callback_at, company.disposition) == (
        Status.CALLBACK,
        when,
        "2.21",
    )


def test_correcting_an_older_call_changes_that_call_only(campaign, operator, supervisor):
    company = CompanyFactory(campaign=campaign)
    with time_machine.travel(T0, tick=False):
        first = submit_call(company, operator, "no_answer")
    with time_machine.travel(T0 + timedelta(hours=3), tick=False):
        submit_call(company, operator, "refused")
    before = Company.objects.get(pk=company.pk)
    rates_before = rates(campaign)

    effect = correct_call(corrected(first, "voicemail"), supervisor, "C'était un répondeur")

    assert effect is Correction.OLDER
    assert CallRecord.objects.get(pk=first.pk).disposition == "3.14"
    after = Company.objects.get(pk=company.pk)
    assert (after.status, after.disposition, after.attempts, after.next_call_at) == (
        before.status,
        before.disposition,
        before.attempts,
        before.next_call_at,
    )
    assert rates(campaign) == rates_before


def test_a_company_an_operator_holds_is_never_taken_from_them(
    campaign, operator, operator2, supervisor
):
    call = submit_call(CompanyFactory(campaign=campaign), operator, "no_answer")
    company = Company.objects.get(pk=call.company_id)
    company.next_call_at = None
    company.save()
    assert Company.objects.claim(company, operator2)
    entries = LogEntry.objects.count()

    with pytest.raises(CorrectionRefused, match="en cours d'appel"):
        correct_call(corrected(call, "refused"), supervisor, "Refus en fait")

    assert CallRecord.objects.get(pk=call.pk).status_numero == "no_answer"
    held = Company.objects.get(pk=company.pk)
    assert held.status == Status.IN_PROGRESS and held.locked_by == operator2
    assert held.disposition == "3.13"
    assert LogEntry.objects.count() == entries


def test_a_lapsed_lease_does_not_stop_a_correction(campaign, operator, operator2, supervisor):
    call = submit_call(CompanyFactory(campaign=campaign), operator, "no_answer")
    Company.objects.filter(pk=call.company_id).update(next_call_at=None)
    with time_machine.travel(T0, tick=False):
        assert Company.objects.claim(call.company_id, operator2)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        assert correct_call(corrected(call, "refused"), supervisor, "x") is Correction.APPLIED
    company = Company.objects.get(pk=call.company_id)
    assert (company.status, company.locked_by, company.disposition) == (Status.DONE, None, "2.11")


def test_a_correction_that_changes_nothing_is_refused(campaign, operator, supervisor):
    call = submit_call(CompanyFactory(campaign=campaign), operator, "refused")
    with pytest.raises(CorrectionRefused, match="Aucune réponse n'a changé"):
        correct_call(corrected(call, "refused"), supervisor, "rien")


def test_the_audit_trail_keeps_who_when_before_after_and_why(campaign, operator, supervisor):
    call = submit_call(CompanyFactory(campaign=campaign), operator, "refused")
    correct_call(corrected(call, "complete"), supervisor, "Réécoute")

    call_entry = LogEntry.objects.get_for_object(call).latest()
    assert call_entry.actor == supervisor
    assert call_entry.additional_data == {"reason": "Réécoute"}
    assert call_entry.changes_dict["call_status"] == ["refused", "accepted"]
    assert call_entry.changes_dict["disposition"] == ["2.11", "1.1"]
    company_entry = LogEntry.objects.get_for_object(Company.objects.get(pk=call.company_id))
    assert company_entry.latest().changes_dict["disposition"] == ["2.11", "1.1"]
    assert company_entry.latest().additional_data == {"reason": "Réécoute"}


# --- Through the page -------------------------------------------------------------------------


def post(client, call, outcome, reason="Réécoute de l'enregistrement", **answers):
    data = {**OUTCOMES[outcome], **answers, "notes": "", "reason": reason}
    return client.post(reverse("quality:correct", kwargs={"call_id": call.pk}), data)


def test_the_page_corrects_and_the_company_page_shows_the_history(
    as_supervisor, campaign, operator, supervisor
):
    call = submit_call(CompanyFactory(campaign=campaign), operator, "refused")
    form = as_supervisor.get(reverse("quality:correct", kwargs={"call_id": call.pk}))
    assert form.status_code == 200 and "Motif de la correction" in page_text(form)

    response = post(as_supervisor, call, "complete")

    assert response.status_code == 302
    assert response["Location"] == reverse("companies:company", kwargs={"pk": call.company_id})
    page = page_text(as_supervisor.get(response["Location"]))
    assert "Historique des modifications" in page
    assert "Réécoute de l'enregistrement" in page
    assert "Refus questionnaire → Accepte questionnaire" in page
    assert "Marie Fouda" in page


def test_a_correction_without_a_reason_changes_nothing(as_supervisor, campaign, operator):
    call = submit_call(CompanyFactory(campaign=campaign), operator, "refused")
    response = post(as_supervisor, call, "complete", reason="   ")
    assert response.status_code == 422
    assert "Indiquez le motif de la correction." in page_text(response)
    assert CallRecord.objects.get(pk=call.pk).call_status == "refused"


def test_inconsistent_answers_are_refused_as_at_submission(as_supervisor, campaign, operator):
    call = submit_call(CompanyFactory(campaign=campaign), operator, "refused")
    response = post(as_supervisor, call, "refused", presentation_level="complete")
    assert response.status_code == 422
    assert "ne s'indiquent que si le questionnaire est accepté" in page_text(response)
    assert CallRecord.objects.get(pk=call.pk).presentation_level == ""


def test_the_page_says_why_a_held_company_cannot_be_corrected(
    as_supervisor, campaign, operator, operator2
):
    call = submit_call(CompanyFactory(campaign=campaign), operator, "no_answer")
    Company.objects.filter(pk=call.company_id).update(next_call_at=None)
    Company.objects.claim(call.company_id, operator2)
    response = post(as_supervisor, call, "refused")
    assert response.status_code == 422
    assert "est en cours d'appel" in page_text(response)


def test_a_draft_cannot_be_corrected(as_supervisor, campaign, operator):
    company = CompanyFactory(campaign=campaign)
    Company.objects.claim(company, operator)
    draft = CallRecord.objects.draft_for(company, operator)
    response = post(as_supervisor, draft, "refused")
    assert response.status_code == 404


def test_the_dashboard_counts_a_corrected_closed_day_again(campaign, operator, supervisor):
    with time_machine.travel(T0, tick=False):
        call = submit_call(CompanyFactory(campaign=campaign), operator, "refused")
    week = Filters(campaign=campaign, period=PeriodChoice.WEEK)
    later = T0 + timedelta(days=2)
    assert figures(week, now=later).calls.accepted == 0  # the closed day, kept per day
    correct_call(corrected(call, "complete"), supervisor, "Réécoute")
    assert figures(week, now=later).calls.accepted == 1
