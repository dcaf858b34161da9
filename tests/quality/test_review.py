"""The review queue, one call's review page, scorecards and what operators see of reviews."""

from decimal import Decimal

import pytest
from django.urls import reverse

from quality.models import Criterion, Reason, ReviewItem, ReviewPolicy, Selection, Verdict
from tests.conftest import page_text
from tests.factories import CampaignFactory, CompanyFactory, RecordingFactory
from tests.quality.helpers import submit_call

QUEUE = "/controle/"


@pytest.fixture
def campaign(db):
    campaign = CampaignFactory(name="Campagne contrôlée")
    ReviewPolicy.objects.create(campaign=campaign, sample_percent=Decimal("100"))
    return campaign


@pytest.fixture
def criteria(campaign):
    return [
        Criterion.objects.create(campaign=campaign, label="Présentation faite", position=1),
        Criterion.objects.create(
            campaign=campaign, label="Consentement demandé", is_eliminatory=True, position=2
        ),
    ]


@pytest.fixture
def picked(campaign, operator):
    """A refusal by operator, drawn at the campaign's 100 % rate."""
    return submit_call(
        CompanyFactory(campaign=campaign, name="Cacao du Moungo"), operator, "refused"
    )


def review_url(call):
    return reverse("quality:review", kwargs={"call_id": call.pk})


def answers(criteria, *passed, verdict=Verdict.REDO, comment="Bien mené"):
    data = {"verdict": verdict, "comment": comment}
    for criterion, ok in zip(criteria, passed, strict=True):
        data[f"criterion_{criterion.pk}"] = "1" if ok else "0"
    return data


# --- The queue --------------------------------------------------------------------------------


def test_the_queue_lists_what_is_left_to_review_with_its_reasons(as_supervisor, picked):
    page = page_text(as_supervisor.get(QUEUE))
    assert "Cacao du Moungo" in page
    assert "Tirage aléatoire" in page
    assert review_url(picked) in page


def test_the_queue_filters_by_operator_campaign_reason_and_review(
    as_supervisor, campaign, operator, operator2, picked, supervisor
):
    other = submit_call(
        CompanyFactory(campaign=campaign, name="Huilerie Sanaga"), operator2, "refused"
    )
    other_campaign = CampaignFactory(name="Autre campagne")
    ReviewPolicy.objects.create(campaign=other_campaign, sample_percent=Decimal("0"))
    flagged = submit_call(
        CompanyFactory(campaign=other_campaign, name="Savonnerie Wouri"), operator, "complete"
    )

    def names(**params):
        page = page_text(as_supervisor.get(QUEUE, params, headers={"HX-Request": "true"}))
        assert "<html" not in page
        return {n for n in ("Cacao du Moungo", "Huilerie Sanaga", "Savonnerie Wouri") if n in page}

    assert names() == {"Cacao du Moungo", "Huilerie Sanaga", "Savonnerie Wouri"}
    assert names(operator=operator2.pk) == {"Huilerie Sanaga"}
    assert names(campaign=other_campaign.pk) == {"Savonnerie Wouri"}
    assert names(reason=Reason.SHORT_RECORDING) == {"Savonnerie Wouri"}
    assert names(reason=Reason.RANDOM) == {"Cacao du Moungo", "Huilerie Sanaga"}

    ReviewItem.objects.filter(call=other).update(verdict=Verdict.VALID, reviewer=supervisor)
    assert names() == {"Cacao du Moungo", "Savonnerie Wouri"}
    assert names(reviewed="oui") == {"Huilerie Sanaga"}
    assert names(reviewed="tous") == {"Cacao du Moungo", "Huilerie Sanaga", "Savonnerie Wouri"}
    assert flagged


def test_operators_have_no_queue(client, operator, picked):
    client.force_login(operator)
    assert client.get(QUEUE).status_code == 403
    assert client.get(review_url(picked)).status_code == 403


# --- One call ---------------------------------------------------------------------------------


def test_the_review_page_shows_the_player_answers_company_earlier_calls_and_why(
    as_supervisor, campaign, operator
):
    company = CompanyFactory(campaign=campaign, name="Cacao du Moungo", phone="6 99 11 22 33")
    earlier = submit_call(company, operator, "no_answer")
    company.refresh_from_db()
    Company = type(company)
    Company.objects.filter(pk=company.pk).update(next_call_at=None)
    call = submit_call(company, operator, "refused", without_recording=False)
    recording = RecordingFactory(call=call, seconds=42)

    page = page_text(as_supervisor.get(review_url(call)))

    assert f'src="{reverse("calls:recording", kwargs={"recording_id": recording.pk})}"' in page
    assert 'preload="none"' in page
    assert "Refus questionnaire" in page  # the answers
    assert "6 99 11 22 33" in page  # the company
    assert review_url(earlier) in page  # its earlier calls
    assert "Tirage au sort à 100 %" in page  # why it was picked


def test_a_review_is_saved_with_each_criterion(as_supervisor, picked, criteria, supervisor):
    response = as_supervisor.post(review_url(picked), answers(criteria, True, False))
    assert response.status_code == 302
    item = ReviewItem.objects.get(call=picked)
    assert (item.verdict, item.comment, item.reviewer) == (Verdict.REDO, "Bien mené", supervisor)
    assert {(r.criterion.label, r.passed) for r in item.results.all()} == {
        ("Présentation faite", True),
        ("Consentement demandé", False),
    }


def test_an_eliminatory_failure_cannot_be_validated(as_supervisor, picked, criteria):
    response = as_supervisor.post(
        review_url(picked), answers(criteria, True, False, verdict=Verdict.VALID)
    )
    assert response.status_code == 422
    assert "ne peut pas être « Validé »" in page_text(response)
    item = ReviewItem.objects.get(call=picked)
    assert item.verdict == "" and not item.results.exists()


def test_a_non_eliminatory_failure_may_be_validated(as_supervisor, picked, criteria):
    response = as_supervisor.post(
        review_url(picked), answers(criteria, False, True, verdict=Verdict.VALID)
    )
    assert response.status_code == 302
    assert ReviewItem.objects.get(call=picked).verdict == Verdict.VALID


@pytest.mark.parametrize(
    "data",
    [
        {"verdict": "valid"},  # criteria unanswered
        {"verdict": "excellent"},  # no such verdict
        {"comment": "sans verdict"},
    ],
)
def test_an_incomplete_or_forged_review_changes_nothing(as_supervisor, picked, criteria, data):
    response = as_supervisor.post(review_url(picked), data)
    assert response.status_code == 422
    assert ReviewItem.objects.get(call=picked).verdict == ""


def test_a_call_outside_the_queue_enters_it_when_reviewed(as_supervisor, operator, db):
    campaign = CampaignFactory()
    ReviewPolicy.objects.create(campaign=campaign, sample_percent=Decimal("0"))
    call = submit_call(CompanyFactory(campaign=campaign), operator, "refused")
    assert "pas dans la file" in page_text(as_supervisor.get(review_url(call)))
    as_supervisor.post(review_url(call), {"verdict": Verdict.VALID})
    item = ReviewItem.objects.get(call=call)
    assert list(item.reasons.values_list("reason", flat=True)) == [Reason.MANUAL]


def test_a_draft_is_not_reviewable(as_supervisor, operator, campaign):
    from calls.models import CallRecord
    from companies.models import Company

    company = CompanyFactory(campaign=campaign)
    Company.objects.claim(company, operator)
    draft = CallRecord.objects.draft_for(company, operator)
    assert as_supervisor.get(review_url(draft)).status_code == 404
    assert as_supervisor.post(review_url(draft), {"verdict": "valid"}).status_code == 404


# --- Operators see the reviews of their own calls ----------------------------------------------


def test_an_operator_sees_the_reviews_of_their_own_calls_only(
    client, as_supervisor, campaign, operator, operator2, criteria
):
    mine = submit_call(CompanyFactory(campaign=campaign, name="Ma société"), operator, "refused")
    theirs = submit_call(
        CompanyFactory(campaign=campaign, name="Leur société"), operator2, "refused"
    )
    unreviewed = submit_call(
        CompanyFactory(campaign=campaign, name="Pas encore vue"), operator, "refused"
    )
    for call, comment in ((mine, "Présentation à revoir"), (theirs, "Confidentiel")):
        as_supervisor.post(review_url(call), answers(criteria, False, True, comment=comment))

    client.force_login(operator)
    home = page_text(client.get("/"))
    assert reverse("quality:my_reviews") in home
    fragment = page_text(client.get(reverse("quality:my_reviews"), headers={"HX-Request": "true"}))
    assert "<html" not in fragment
    assert "Ma société" in fragment and "Présentation à revoir" in fragment
    assert "✘ Présentation faite" in fragment
    assert "Leur société" not in fragment and "Confidentiel" not in fragment
    assert "Pas encore vue" not in fragment
    assert unreviewed


# --- A campaign's rules and scorecard ---------------------------------------------------------


def scorecard_url(campaign):
    return reverse("quality:scorecard", kwargs={"pk": campaign.pk})


def scorecard_data(**policy):
    data = {
        "policy-sample_percent": "10",
        "policy-min_recording_seconds": "90",
        "policy-no_recording_percent": "25",
        "policy-no_recording_min_calls": "4",
        "policy-short_call_seconds": "20",
        "policy-short_run_length": "3",
        "criteria-TOTAL_FORMS": "1",
        "criteria-INITIAL_FORMS": "0",
        "criteria-0-label": "Consentement demandé",
        "criteria-0-is_eliminatory": "on",
        "criteria-0-position": "1",
        "criteria-0-is_active": "on",
    }
    data.update(policy)
    return data


def test_a_supervisor_sets_the_rates_thresholds_and_criteria(as_supervisor, db):
    campaign = CampaignFactory()
    assert as_supervisor.get(scorecard_url(campaign)).status_code == 200
    assert not ReviewPolicy.objects.filter(campaign=campaign).exists()  # a GET writes nothing
    response = as_supervisor.post(scorecard_url(campaign), scorecard_data())
    assert response.status_code == 302
    policy = ReviewPolicy.objects.get(campaign=campaign)
    assert (policy.sample_percent, policy.min_recording_seconds, policy.short_run_length) == (
        Decimal("10"),
        90,
        3,
    )
    criterion = Criterion.objects.get(campaign=campaign)
    assert criterion.label == "Consentement demandé" and criterion.is_eliminatory


@pytest.mark.parametrize(
    "bad",
    [
        {"policy-sample_percent": "150"},
        {"policy-sample_percent": "abc"},
        {"policy-short_run_length": "1"},
        {"criteria-TOTAL_FORMS": "x"},
    ],
)
def test_bad_rules_change_nothing(as_supervisor, bad, db):
    campaign = CampaignFactory()
    response = as_supervisor.post(scorecard_url(campaign), scorecard_data(**bad))
    assert response.status_code in (400, 422)
    assert not ReviewPolicy.objects.filter(campaign=campaign).exists()
    assert not Criterion.objects.filter(campaign=campaign).exists()


def test_the_suggested_criteria_are_added_once(as_supervisor, db):
    campaign = CampaignFactory()
    url = reverse("quality:suggested_criteria", kwargs={"pk": campaign.pk})
    as_supervisor.post(url)
    as_supervisor.post(url)
    assert list(
        Criterion.objects.filter(campaign=campaign).values_list("label", "is_eliminatory")
    ) == [
        ("Présentation faite", False),
        ("Consentement demandé", True),
        ("Questions posées dans l'ordre", False),
    ]


def test_reasons_are_stored_once_per_call(picked):
    assert Selection.objects.filter(item__call=picked).count() == 1
    picked.save()  # a later save of the same call adds nothing
    assert Selection.objects.filter(item__call=picked).count() == 1
