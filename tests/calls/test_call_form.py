"""The call form: drafts, server-side validation, the company transition and AAPOR codes."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from calls.models import CallRecord
from companies.models import Company, Status

HTMX = {"HX-Request": "true"}


@pytest.fixture
def calling(client, operator, company):
    """The operator holds the company, with the pickers open (no recording)."""
    client.force_login(operator)
    assert Company.objects.claim(company, operator)
    client.post(reverse("calls:fill", args=[company.pk]), {"without_recording": "on"}, headers=HTMX)
    return company


def fill_url(company):
    return reverse("calls:fill", args=[company.pk])


def submit(client, company, **fields):
    return client.post(
        reverse("calls:submit", args=[company.pk]), {"without_recording": "on", **fields}
    )


def test_the_form_is_shown_to_the_lock_holder_with_a_tel_link(client, calling):
    response = client.get(fill_url(calling))
    assert response.status_code == 200
    assert f'href="tel:{calling.phone_e164}"' in response.text
    assert "Lancer le micro" in response.text


def test_the_recorder_uploads_as_often_as_the_setting_says(client, calling, settings):
    assert 'data-batch-seconds="10"' in client.get(fill_url(calling)).text  # the default
    settings.RECORDING_UPLOAD_SECONDS = 5
    assert 'data-batch-seconds="5"' in client.get(fill_url(calling)).text


def test_someone_else_sees_who_holds_the_company(client, operator2, calling):
    client.force_login(operator2)
    response = client.get(fill_url(calling))
    assert "Appel déjà en cours" in response.text
    assert "Awa Ngo" in response.text
    assert "Lancer le micro" not in response.text


def test_pickers_stay_shut_until_the_mic_runs_or_is_waived(client, operator, company):
    client.force_login(operator)
    Company.objects.claim(company, operator)
    response = client.post(fill_url(company), {"status_numero": "answered"}, headers=HTMX)
    assert "<html" not in response.text
    assert 'id="pickers" disabled' in response.text
    assert CallRecord.objects.get().status_numero == ""


def test_each_picker_change_is_saved_as_a_draft_and_stamped(client, calling):
    response = client.post(
        fill_url(calling), {"without_recording": "on", "status_numero": "answered"}, headers=HTMX
    )
    assert "<html" not in response.text
    assert "Statut appel" in response.text  # « Décroche » reveals the next fieldset
    draft = CallRecord.objects.get()
    assert draft.status_numero == "answered" and draft.status_marked_at is not None
    assert draft.submitted_at is None

    response = client.post(
        fill_url(calling),
        {"without_recording": "on", "status_numero": "answered", "call_status": "accepted"},
        headers=HTMX,
    )
    assert "Présentation" in response.text and "Questions orientées" in response.text
    assert client.get(fill_url(calling)).text.count("checked") >= 2  # a reload shows the draft


def test_changing_an_upstream_answer_drops_what_no_longer_applies(client, calling):
    client.post(
        fill_url(calling),
        {
            "without_recording": "on",
            "status_numero": "answered",
            "call_status": "accepted",
            "presentation_level": "complete",
        },
        headers=HTMX,
    )
    client.post(
        fill_url(calling),
        {
            "without_recording": "on",
            "status_numero": "voicemail",
            "call_status": "accepted",
            "presentation_level": "complete",
        },
        headers=HTMX,
    )
    draft = CallRecord.objects.get()
    assert (draft.status_numero, draft.call_status, draft.presentation_level) == (
        "voicemail",
        "",
        "",
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"status_numero": "refused"}, "Sélectionnez un choix valide"),
        (
            {"status_numero": "no_answer", "call_status": "refused"},
            "que si l&#x27;entreprise décroche",
        ),
        (
            {
                "status_numero": "answered",
                "call_status": "refused",
                "presentation_level": "complete",
            },
            "que si le questionnaire est accepté",
        ),
        ({"status_numero": "answered"}, "Choisissez le statut de l&#x27;appel"),
        (
            {
                "status_numero": "answered",
                "call_status": "accepted",
                "presentation_level": "complete",
            },
            "Indiquez le niveau atteint",
        ),
        ({}, "Choisissez le statut du numéro"),
    ],
)
def test_a_forged_or_incomplete_submission_is_refused_and_changes_nothing(
    client, calling, fields, message
):
    response = submit(client, calling, **fields)
    assert response.status_code == 422
    assert message in response.text
    calling.refresh_from_db()
    assert calling.status == Status.IN_PROGRESS and calling.attempts == 0
    assert not CallRecord.objects.submitted().exists()


def test_submitting_without_mic_nor_waiver_is_refused(client, operator, company):
    client.force_login(operator)
    Company.objects.claim(company, operator)
    response = client.post(reverse("calls:submit", args=[company.pk]), {"status_numero": "invalid"})
    assert response.status_code == 422
    assert "Lancez le micro" in response.text


LEVELS = {
    "presentation_level": "complete",
    "questions_libres_level": "complete",
    "questions_orientees_level": "complete",
}


@pytest.mark.parametrize(
    ("fields", "status", "disposition"),
    [
        ({"status_numero": "invalid"}, Status.DONE, "4.30"),
        ({"status_numero": "answered", "call_status": "bad_number"}, Status.DONE, "4.30"),
        ({"status_numero": "answered", "call_status": "not_transformer"}, Status.DONE, "4.70"),
        ({"status_numero": "answered", "call_status": "refused"}, Status.DONE, "2.11"),
        ({"status_numero": "answered", "call_status": "accepted", **LEVELS}, Status.DONE, "1.1"),
        (
            {
                "status_numero": "answered",
                "call_status": "accepted",
                **LEVELS,
                "questions_orientees_level": "partial",
            },
            Status.DONE,
            "1.2",
        ),
        ({"status_numero": "answered", "call_status": "callback"}, Status.CALLBACK, "2.21"),
        ({"status_numero": "no_answer"}, Status.PENDING, "3.13"),
        ({"status_numero": "voicemail"}, Status.PENDING, "3.14"),
    ],
)
def test_submit_applies_the_company_transition_and_the_aapor_code(
    client, calling, operator, fields, status, disposition
):
    response = submit(client, calling, **fields)
    assert response.status_code == 302
    calling.refresh_from_db()
    call = CallRecord.objects.get()
    assert call.submitted_at is not None and call.operator == operator and call.attempt == 1
    assert call.disposition == disposition
    assert calling.status == status and calling.disposition == disposition
    assert calling.attempts == 1 and calling.locked_by is None and calling.lock_expires_at is None


def test_no_answer_retries_after_the_campaign_delay(client, calling, campaign):
    before = timezone.now()
    submit(client, calling, status_numero="no_answer")
    calling.refresh_from_db()
    assert calling.next_call_at >= before + campaign.no_answer_delay
    assert not Company.objects.claimable().filter(pk=calling.pk).exists()


def test_no_answer_on_the_last_attempt_finishes_the_company(client, operator, make_company):
    company = make_company(attempts=2)  # no_answer_max_attempts is 3
    client.force_login(operator)
    Company.objects.claim(company, operator)
    submit(client, company, status_numero="voicemail")
    company.refresh_from_db()
    assert company.status == Status.DONE and company.attempts == 3
    assert CallRecord.objects.get().attempt == 3


def test_a_callback_is_due_at_the_chosen_time_and_may_be_personal(client, calling, operator):
    submit(
        client,
        calling,
        status_numero="answered",
        call_status="callback",
        callback_at="2030-01-15T10:30",
        callback_personal="on",
    )
    calling.refresh_from_db()
    local = timezone.localtime(calling.callback_at)
    assert (local.year, local.month, local.day, local.hour, local.minute) == (2030, 1, 15, 10, 30)
    assert calling.next_call_at == calling.callback_at
    assert calling.callback_operator == operator


def test_a_callback_without_a_date_is_due_now(client, calling):
    before = timezone.now()
    submit(client, calling, status_numero="answered", call_status="callback")
    calling.refresh_from_db()
    assert calling.status == Status.CALLBACK and calling.callback_at >= before
    assert calling.callback_operator is None


def test_submit_after_losing_the_lock_changes_nothing_but_keeps_the_answers_in_the_draft(
    client, calling, operator2
):
    with time_machine.travel(timezone.now() + timedelta(seconds=200)):
        assert Company.objects.claim(calling, operator2)
        response = submit(client, calling, status_numero="invalid", notes="Numéro coupé")
    assert response.status_code == 302
    calling.refresh_from_db()
    assert calling.locked_by == operator2 and calling.attempts == 0
    (draft,) = CallRecord.objects.drafts()
    assert draft.status_numero == "invalid" and draft.notes == "Numéro coupé"
    page = client.get(response.url)
    assert "Vos réponses sont gardées dans le brouillon" in page.text


def test_losing_the_lock_during_the_submit_keeps_the_answers_in_the_draft(
    client, calling, operator2, monkeypatch
):
    """The lease is lost between the form's check and the company's UPDATE."""
    from calls.models import CallRecord as Call

    real_submit = Call.submit

    def taken_meanwhile(call, operator):
        Company.objects.filter(pk=calling.pk).update(locked_by=operator2, lock_token="")
        return real_submit(call, operator)

    monkeypatch.setattr(Call, "submit", taken_meanwhile)
    submit(client, calling, status_numero="no_answer", notes="Personne")
    (draft,) = CallRecord.objects.drafts()
    assert draft.status_numero == "no_answer" and draft.notes == "Personne"
    calling.refresh_from_db()
    assert calling.attempts == 0


def test_submit_then_next_goes_straight_to_the_next_company(client, calling, make_company):
    following = make_company(validity_score=50)
    response = submit(client, calling, status_numero="invalid", next="1")
    assert response["Location"] == reverse("calls:fill", args=[following.pk])
    following.refresh_from_db()
    assert following.status == Status.IN_PROGRESS


def test_abandon_releases_the_lock_and_keeps_the_draft(client, calling):
    response = client.post(reverse("calls:abandon", args=[calling.pk]))
    assert response.status_code == 302
    calling.refresh_from_db()
    assert calling.status == Status.PENDING and calling.locked_by is None
    assert CallRecord.objects.drafts().count() == 1


def test_the_tab_closing_beacon_releases_with_an_empty_answer(client, calling):
    page = client.get(fill_url(calling)).context["token"]
    response = client.post(
        reverse("calls:abandon", args=[calling.pk]), {"beacon": "1", "token": page}
    )
    assert response.status_code == 204
    calling.refresh_from_db()
    assert calling.locked_by is None


def test_a_beacon_without_a_page_token_releases_nothing(client, calling, operator):
    client.get(fill_url(calling))
    response = client.post(reverse("calls:abandon", args=[calling.pk]), {"beacon": "1"})
    assert response.status_code == 204
    calling.refresh_from_db()
    assert calling.status == Status.IN_PROGRESS and calling.locked_by == operator


def renew(client, company, token):
    return client.post(reverse("calls:renew", args=[company.pk]), {"token": token}, headers=HTMX)


def test_renewal_fragment_says_when_the_lock_was_lost(client, calling, operator2):
    page = client.get(fill_url(calling)).context["token"]
    response = renew(client, calling, page)
    assert response.status_code == 200 and "réservée pour vous" in response.text
    with time_machine.travel(timezone.now() + timedelta(seconds=200)):
        Company.objects.claim(calling, operator2)
        response = renew(client, calling, page)
    assert "Verrou perdu" in response.text and "Paul Eto a repris" in response.text
    assert response.status_code == 286  # htmx stops polling: the page never renews again


def test_a_stale_tab_never_takes_back_a_company_its_operator_left(
    client, calling, operator, operator2, make_company
):
    """The operator left company A (its tab still open) and now holds B: A's renewal must not
    claim A back nor free B for somebody else."""
    stale_page = client.get(fill_url(calling)).context["token"]
    client.post(reverse("calls:abandon", args=[calling.pk]))
    other = make_company()
    assert Company.objects.claim(other, operator)

    response = renew(client, calling, stale_page)

    assert response.status_code == 286
    calling.refresh_from_db()
    other.refresh_from_db()
    assert calling.locked_by is None and calling.status == Status.PENDING
    assert other.locked_by == operator and other.status == Status.IN_PROGRESS
    assert not Company.objects.claim(other, operator2)  # nobody else can take B


def test_a_supervisor_release_is_not_undone_by_the_open_tab(client, calling, supervisor):
    page = client.get(fill_url(calling)).context["token"]
    calling.release()  # « Libérer » on the contacts page
    response = renew(client, calling, page)
    assert response.status_code == 286 and "rendue à la file" in response.text
    calling.refresh_from_db()
    assert calling.locked_by is None and calling.status == Status.PENDING


def test_a_renewal_without_the_page_token_changes_nothing(client, calling):
    page = client.get(fill_url(calling)).context["token"]
    calling.refresh_from_db()
    expiry = calling.lock_expires_at
    with time_machine.travel(timezone.now() + timedelta(seconds=30)):
        assert renew(client, calling, "autre-onglet").status_code == 286
        assert renew(client, calling, "").status_code == 286
    calling.refresh_from_db()
    assert calling.lock_token == page and calling.lock_expires_at == expiry


def test_a_second_tab_takes_the_lease_and_the_first_one_learns_it(client, calling):
    first = client.get(fill_url(calling)).context["token"]
    second = client.get(fill_url(calling)).context["token"]
    response = renew(client, calling, first)
    assert response.status_code == 286 and "ouverte dans une autre page" in response.text
    assert renew(client, calling, second).status_code == 200


def test_a_renewal_costs_the_request_floor_an_update_and_one_read(client, calling):
    """Every open form renews every 30 s: session, user, permissions, then the conditional
    UPDATE and the company it shows (its new expiry, or who took it)."""
    page = client.get(fill_url(calling)).context["token"]
    with CaptureQueriesContext(connection) as queries:
        response = renew(client, calling, page)
    assert response.status_code == 200
    assert [q["sql"].split()[0] for q in queries] == ["SELECT"] * 3 + ["UPDATE", "SELECT"]
    calling.refresh_from_db()
    assert f"jusqu'à {timezone.localtime(calling.lock_expires_at):%H:%M:%S}" in response.text


def test_a_renewal_of_a_company_that_does_not_exist_is_a_404(client, calling):
    assert renew(client, Company(pk=calling.pk + 1000), "x").status_code == 404


def test_next_call_with_an_empty_queue_explains_itself(client, operator):
    client.force_login(operator)
    response = client.post(reverse("calls:next"), follow=True)
    assert "Aucune entreprise à appeler pour le moment" in response.text


def test_opening_the_page_after_the_tab_closed_offers_the_company_without_taking_it(
    client, calling, operator
):
    page = client.get(fill_url(calling)).context["token"]
    client.post(reverse("calls:abandon", args=[calling.pk]), {"beacon": "1", "token": page})
    response = client.get(fill_url(calling))  # a GET never claims
    assert "Reprendre l&#x27;appel" in response.text or "Reprendre l'appel" in response.text
    calling.refresh_from_db()
    assert calling.locked_by is None
    client.post(reverse("calls:start", args=[calling.pk]))
    assert "Lancer le micro" in client.get(fill_url(calling)).text
    calling.refresh_from_db()
    assert calling.locked_by == operator


def test_a_closing_beacon_from_a_page_replaced_by_a_reload_releases_nothing(client, calling):
    old_page = client.get(fill_url(calling)).context["token"]
    new_page = client.get(fill_url(calling)).context["token"]
    assert old_page != new_page
    client.post(reverse("calls:abandon", args=[calling.pk]), {"beacon": "1", "token": old_page})
    calling.refresh_from_db()
    assert calling.status == Status.IN_PROGRESS and calling.lock_token == new_page
    client.post(reverse("calls:abandon", args=[calling.pk]), {"beacon": "1", "token": new_page})
    calling.refresh_from_db()
    assert calling.status == Status.PENDING and calling.locked_by is None
