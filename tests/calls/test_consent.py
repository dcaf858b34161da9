"""Consent to record: the campaign's sentence on the call form, consent noted when the
microphone starts, and « Refus d'enregistrement », which deletes every byte of the call's audio
from the storage (local folder and S3) from the call's own page only."""

import boto3
import pytest
from auditlog.models import LogEntry
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from calls.forms import CallForm
from calls.models import CallRecord, Consent, Listen, Recording, RecordingChunk
from calls.recordings import chunk_name
from companies.models import Company
from tests.calls.test_recordings import (
    WEBM_HEAD,
    chunk_files,
    send,
    send_batch,
    start_recording,
    stop,
)
from tests.conftest import page_text
from tests.factories import CallFactory, RecordingFactory, campaign_form_data

TOKEN = "page-du-formulaire"


def refuse_url(company) -> str:
    return reverse("calls:recording_refused", kwargs={"company_id": company.pk})


def refuse(client, call, token=TOKEN, as_json=True, **data):
    headers = {"Accept": "application/json"} if as_json else {}
    return client.post(
        refuse_url(call.company),
        {"call": str(call.pk), "token": token, **data},
        headers=headers,
    )


@pytest.fixture
def on_the_call(client, operator, company):
    """The operator holds the company on a page whose lease token is TOKEN."""
    client.force_login(operator)
    Company.objects.claim(company, operator)
    Company.objects.open_page(company, operator, TOKEN)
    return CallRecord.objects.draft_for(company, operator)


@pytest.fixture
def recorded(client, on_the_call, company, django_capture_on_commit_callbacks):
    """Two recordings of the call: one finished (an assembled file), one still open (chunks in
    two stored objects). Returns (call, names of every stored object)."""
    first = start_recording(client, company)
    assert send_batch(client, first, 0, [WEBM_HEAD + b"a" * 500, b"b" * 400]).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert stop(client, first).status_code == 200
    second = start_recording(client, company)
    assert send_batch(client, second, 0, [WEBM_HEAD + b"c" * 300]).status_code == 200
    assert send_batch(client, second, 1, [b"d" * 200, b"e" * 100]).status_code == 200
    first.refresh_from_db()
    names = [first.file.name, *sorted(set(RecordingChunk.objects.values_list("file", flat=True)))]
    assert len(names) == 3 and all(default_storage.exists(name) for name in names)
    return on_the_call, names


@pytest.fixture
def someone_elses_audio(operator2, make_company):
    """Another operator's call with a finished recording and an open one with a stored chunk."""
    other = make_company(name="Autre Société")
    call = CallFactory(company=other, operator=operator2, outcome="draft")
    finished = RecordingFactory(call=call)
    open_one = RecordingFactory(call=call, is_complete=False, stored_file=b"")
    chunk = RecordingChunk(recording=open_one, index=0, size_bytes=4)
    chunk.file.save(chunk_name(open_one, 0), ContentFile(WEBM_HEAD))
    return [finished.file.name, chunk.file.name]


# --- The sentence and the consent ---------------------------------------------------------------


def test_the_form_shows_the_campaign_sentence_before_the_microphone(client, on_the_call, company):
    company.campaign.consent_sentence = "Acceptez-vous <b>l'enregistrement</b> de cet appel ?"
    company.campaign.save()
    response = client.get(reverse("calls:fill", args=[company.pk]))
    text = page_text(response)
    assert "Acceptez-vous <b>l'enregistrement</b> de cet appel ?" in text  # escaped, as typed
    assert "<b>l" not in response.content.decode()
    assert text.index("À lire à votre interlocuteur") < text.index("Lancer le micro")
    assert "Refus d'enregistrement" in text


def test_a_new_campaign_gets_a_french_sentence_that_asks_for_consent(campaign):
    assert "Acceptez-vous que cet appel soit enregistré ?" in campaign.consent_sentence


def test_starting_the_microphone_notes_the_consent_once(client, on_the_call, company):
    assert on_the_call.recording_consent == Consent.NOT_ASKED
    start_recording(client, company)
    on_the_call.refresh_from_db()
    assert on_the_call.recording_consent == Consent.GIVEN
    given_at = on_the_call.consent_at
    assert given_at is not None
    start_recording(client, company)  # the microphone started again: still the first consent
    on_the_call.refresh_from_db()
    assert on_the_call.consent_at == given_at


def test_continuing_without_recording_asks_no_consent(client, on_the_call, company):
    client.post(reverse("calls:fill", args=[company.pk]), {"without_recording": "on"})
    on_the_call.refresh_from_db()
    assert on_the_call.without_recording
    assert on_the_call.recording_consent == Consent.NOT_ASKED


# --- Refusal: every byte goes, from every storage -------------------------------------------------


@pytest.fixture(params=["filesystem", "s3"])
def storage(request):
    if request.param == "s3":
        return request.getfixturevalue("s3_storage")
    return default_storage


def bucket_keys(storage) -> list[str]:
    client = boto3.client(
        "s3",
        endpoint_url=storage.endpoint_url,
        region_name=storage.region_name,
        aws_access_key_id=storage.access_key,
        aws_secret_access_key=storage.secret_key,
    )
    listing = client.list_objects_v2(Bucket=storage.bucket_name)
    return [item["Key"] for item in listing.get("Contents", [])]


def test_a_refusal_deletes_the_calls_audio_and_flags_the_call(
    storage, client, recorded, someone_elses_audio, settings
):
    call, names = recorded
    recordings = list(Recording.objects.filter(call=call).order_by("pk"))

    response = refuse(client, call)

    assert response.status_code == 200
    assert response.json()["recordings"] == [r.pk for r in recordings]
    assert not any(default_storage.exists(name) for name in names)
    assert not Recording.objects.filter(call=call).exists()
    assert not RecordingChunk.objects.filter(recording__call=call).exists()
    assert all(chunk_files(recording) == [] for recording in recordings)
    call.refresh_from_db()
    assert call.recording_consent == Consent.REFUSED and call.consent_at is not None
    assert call.without_recording and call.is_draft
    # Another call's audio is untouched.
    assert all(default_storage.exists(name) for name in someone_elses_audio)
    assert Recording.objects.count() == 2 and RecordingChunk.objects.count() == 1
    if storage is default_storage and not hasattr(storage, "bucket_name"):
        assert sorted(stored_files(settings.MEDIA_ROOT)) == sorted(someone_elses_audio)
    else:
        assert sorted(bucket_keys(storage)) == sorted(someone_elses_audio)
        assert stored_files(settings.MEDIA_ROOT) == []  # nothing ever on the local disk


def stored_files(root) -> list[str]:
    return (
        [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()] if root.exists() else []
    )


def test_a_chunk_arriving_after_the_refusal_is_refused_and_never_stored(client, recorded):
    call, _names = recorded
    open_recording = Recording.objects.filter(call=call, is_complete=False).get()
    assert refuse(client, call).status_code == 200

    late = send_batch(client, open_recording, 3, [b"f" * 100])
    assert late.status_code == 404
    assert "refus d'enregistrement" in late.json()["error"]
    first = send(client, open_recording, 0, WEBM_HEAD)
    assert first.status_code == 404 and first.json()["error"]
    ended = stop(client, open_recording)
    assert ended.status_code == 404 and ended.json()["error"]
    assert not RecordingChunk.objects.exists() and not Recording.objects.exists()
    assert chunk_files(open_recording) == []


def test_a_chunk_racing_the_refusal_is_refused_and_its_object_deleted(client, on_the_call, company):
    """The upload read its recording before the refusal deleted it, and counts its chunks after:
    the recording is gone, the chunk is refused and its stored object removed."""
    from calls import recordings

    recording = start_recording(client, company)
    stale = Recording.objects.get(pk=recording.pk)  # as the racing upload read it
    assert refuse(client, on_the_call).status_code == 200
    with pytest.raises(recordings.RecordingRefused) as refused:
        recordings.add_chunks(stale, [recordings.Chunk(0, WEBM_HEAD)], on_the_call.operator)
    assert refused.value.status == 410
    assert "refusé l'enregistrement" in str(refused.value)
    assert chunk_files(recording) == [] and not RecordingChunk.objects.exists()


def test_the_microphone_cannot_start_again_after_a_refusal(client, on_the_call, company):
    assert refuse(client, on_the_call).status_code == 200
    response = client.post(reverse("calls:recording_start", args=[company.pk]))
    assert response.status_code == 409
    assert "refusé l'enregistrement" in response.json()["error"]
    assert not Recording.objects.exists()


def test_a_refusal_before_the_microphone_started_flags_the_call(client, on_the_call):
    response = refuse(client, on_the_call)
    assert response.status_code == 200 and response.json()["recordings"] == []
    on_the_call.refresh_from_db()
    assert on_the_call.recording_refused and on_the_call.without_recording


def test_the_refusal_is_in_the_audit_trail_with_what_was_deleted(
    client, recorded, operator, supervisor
):
    call, _names = recorded
    recordings = list(Recording.objects.filter(call=call).order_by("pk"))
    open_recording = Recording.objects.filter(call=call, is_complete=False).get()
    # A supervisor listened to the call while it was recorded: the listen is kept in the trail.
    Listen.objects.create(user=supervisor, recording=open_recording)
    assert refuse(client, call).status_code == 200

    entry = LogEntry.objects.get_for_object(call).get()
    assert entry.actor == operator
    assert entry.changes_dict["recording_consent"] == ["given", "refused"]
    assert entry.additional_data["reason"] == "Refus d'enregistrement"
    assert [r["id"] for r in entry.additional_data["recordings"]] == [r.pk for r in recordings]
    assert entry.additional_data["files"] == 3
    assert entry.additional_data["listens"][0]["user"] == "superviseur"
    assert not Listen.objects.exists()
    client.force_login(supervisor)
    page = page_text(client.get(reverse("companies:company", args=[call.company_id])))
    assert "Refus d'enregistrement" in page


def test_a_plain_form_post_refuses_and_returns_to_the_call_form(client, recorded):
    call, names = recorded
    response = refuse(client, call, as_json=False)
    assert response.status_code == 302
    assert response["Location"] == reverse("calls:fill", args=[call.company_id])
    assert not any(default_storage.exists(name) for name in names)
    page = page_text(client.get(response["Location"]))
    assert "Enregistrement refusé : l'audio de cet appel est effacé." in page
    assert "Enregistrement refusé par l'interlocuteur" in page


# --- Refusal: only from the call's own page ------------------------------------------------------


def assert_nothing_deleted(call, names):
    assert all(default_storage.exists(name) for name in names)
    assert Recording.objects.filter(call=call).count() == 2
    call.refresh_from_db()
    assert call.recording_consent == Consent.GIVEN and not call.without_recording


def test_another_operator_cannot_refuse_someone_elses_call(client, recorded, operator2):
    call, names = recorded
    client.force_login(operator2)
    response = refuse(client, call)
    assert response.status_code == 403
    assert "Seul l'opérateur qui passe cet appel" in response.json()["error"]
    assert_nothing_deleted(call, names)


def test_a_supervisor_cannot_refuse_an_operators_call(client, recorded, supervisor):
    call, names = recorded
    client.force_login(supervisor)
    response = refuse(client, call, as_json=False)
    assert response.status_code == 302
    page = page_text(client.get(response["Location"], follow=True))
    assert "Seul l'opérateur qui passe cet appel peut noter un refus" in page
    assert_nothing_deleted(call, names)


@pytest.mark.parametrize("token", ["", "ancienne-page", TOKEN + "x"])
def test_a_stale_page_cannot_refuse(client, recorded, token):
    call, names = recorded
    response = refuse(client, call, token=token)
    assert response.status_code == 409
    assert "Cette page ne tient plus l'appel" in response.json()["error"]
    assert_nothing_deleted(call, names)


def test_a_page_whose_lease_was_lost_cannot_refuse(client, recorded, company):
    call, names = recorded
    company.release()
    response = refuse(client, call)
    assert response.status_code == 409
    assert_nothing_deleted(call, names)


def test_a_get_refuses_nothing(client, recorded):
    call, names = recorded
    url = refuse_url(call.company) + f"?call={call.pk}&token={TOKEN}"
    assert client.get(url).status_code == 405
    assert_nothing_deleted(call, names)


def test_a_submitted_call_keeps_its_audio(client, operator, company):
    client.force_login(operator)
    call = CallFactory(company=company, operator=operator, outcome="refused", submitted=True)
    recording = RecordingFactory(call=call)
    # The operator holds the company again, on a page with this token, for a new call.
    Company.objects.claim(company, operator)
    Company.objects.open_page(company, operator, TOKEN)
    response = refuse(client, call)
    assert response.status_code == 409
    assert "déjà validé" in response.json()["error"]
    assert default_storage.exists(recording.file.name)
    call.refresh_from_db()
    assert call.recording_consent == Consent.NOT_ASKED


@pytest.mark.parametrize("call_id", ["", "abc", "²", "-1", "99999999999999999999", "1 OR 1=1"])
def test_a_forged_call_id_is_refused_with_a_message(client, recorded, call_id):
    call, names = recorded
    response = client.post(
        refuse_url(call.company),
        {"call": call_id, "token": TOKEN},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 404
    assert response.json()["error"] == "Appel introuvable : rien n'a été supprimé."
    assert_nothing_deleted(call, names)


def test_a_call_named_under_another_company_is_refused(client, recorded, make_company):
    call, names = recorded
    other = make_company(name="Autre")
    response = client.post(
        reverse("calls:recording_refused", kwargs={"company_id": other.pk}),
        {"call": str(call.pk), "token": TOKEN},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 404
    assert_nothing_deleted(call, names)


# --- After the refusal: the call goes on without recording ------------------------------------


def test_the_refused_call_submits_as_without_recording(client, on_the_call, company):
    start_recording(client, company)
    assert refuse(client, on_the_call).status_code == 200
    page = page_text(client.get(reverse("calls:fill", args=[company.pk])))
    assert "Enregistrement refusé par l'interlocuteur" in page
    # The waiver cannot be unticked: a forged POST without it changes nothing.
    response = client.post(
        reverse("calls:submit", args=[company.pk]), {"status_numero": "no_answer"}
    )
    assert response.status_code == 302
    on_the_call.refresh_from_db()
    assert on_the_call.submitted_at is not None
    assert on_the_call.recording_consent == Consent.REFUSED and on_the_call.without_recording


def test_a_draft_save_read_before_the_refusal_does_not_undo_it(client, on_the_call, company):
    start_recording(client, company)
    stale = CallRecord.objects.get(pk=on_the_call.pk)
    form = CallForm({"status_numero": "answered"}, instance=stale)
    assert refuse(client, on_the_call).status_code == 200
    assert form.is_valid(), form.errors
    form.save_draft()
    on_the_call.refresh_from_db()
    assert on_the_call.recording_consent == Consent.REFUSED
    assert on_the_call.status_numero == "answered"


def test_a_submission_read_before_the_refusal_keeps_it(client, on_the_call, company, operator):
    start_recording(client, company)
    stale = CallRecord.objects.get(pk=on_the_call.pk)
    stale.status_numero = "no_answer"
    assert refuse(client, on_the_call).status_code == 200
    stale.submit(operator)
    on_the_call.refresh_from_db()
    assert on_the_call.submitted_at is not None
    assert on_the_call.recording_consent == Consent.REFUSED and on_the_call.without_recording


def test_the_company_page_and_the_review_page_show_the_refusal(
    client, on_the_call, company, operator, supervisor
):
    assert refuse(client, on_the_call).status_code == 200
    client.post(reverse("calls:submit", args=[company.pk]), {"status_numero": "no_answer"})
    client.force_login(supervisor)
    page = page_text(client.get(reverse("companies:company", args=[company.pk])))
    assert "Consentement enregistrement" in page and "enregistrement refusé" in page
    review = page_text(client.get(reverse("quality:review", args=[on_the_call.pk])))
    assert "Enregistrement refusé par l'interlocuteur" in review


# --- The campaign's sentence ------------------------------------------------------------------


def campaign_data(**changes):
    return campaign_form_data(
        **{
            "name": "Enquête transformateurs 2026",
            "consent_sentence": "Cet appel est enregistré. Êtes-vous d'accord ?",
            **changes,
        }
    )


def test_a_supervisor_edits_the_sentence_on_the_campaign_page(as_supervisor, campaign):
    url = reverse("companies:campaign_edit", kwargs={"pk": campaign.pk})
    assert "Phrase de consentement" in page_text(as_supervisor.get(url))
    assert as_supervisor.post(url, campaign_data()).status_code == 302
    campaign.refresh_from_db()
    assert campaign.consent_sentence == "Cet appel est enregistré. Êtes-vous d'accord ?"


def test_an_empty_sentence_gives_back_the_default_one(as_supervisor, campaign):
    url = reverse("companies:campaign_edit", kwargs={"pk": campaign.pk})
    assert as_supervisor.post(url, campaign_data(consent_sentence="   ")).status_code == 302
    campaign.refresh_from_db()
    assert campaign.consent_sentence.startswith("Avant de commencer")


@pytest.mark.parametrize("sentence", ["x" * 1001, "Accord ?\x00"])
def test_a_bad_sentence_is_refused_with_a_message(as_supervisor, campaign, sentence):
    url = reverse("companies:campaign_edit", kwargs={"pk": campaign.pk})
    response = as_supervisor.post(url, campaign_data(consent_sentence=sentence))
    assert response.status_code == 200 and "invalid-feedback" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.consent_sentence.startswith("Avant de commencer")


def test_the_admin_edits_the_sentence(client, admin_user, campaign):
    client.force_login(admin_user)
    url = reverse("admin:companies_campaign_change", args=[campaign.pk])
    assert 'name="consent_sentence"' in client.get(url).content.decode()


# --- Export --------------------------------------------------------------------------------------


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_export_says_the_consent_of_each_call(
    client, on_the_call, company, operator, supervisor, make_company, file_format
):
    from tests.exports.conftest import cell_values, read_csv, read_xlsx

    assert refuse(client, on_the_call).status_code == 200
    client.post(reverse("calls:submit", args=[company.pk]), {"status_numero": "no_answer"})
    given = CallFactory(company=make_company(), operator=operator, submitted=True)
    CallRecord.objects.filter(pk=given.pk).update(recording_consent=Consent.GIVEN)
    CallFactory(company=make_company(), operator=operator, submitted=True)

    client.force_login(supervisor)
    response = client.get(reverse("exports:download"), {"format": file_format, "scope": "calls"})
    content = b"".join(response.streaming_content)
    if file_format == "csv":
        rows = read_csv(content)
    else:
        _workbook, sheets = read_xlsx(content)
        rows = cell_values(sheets["Appels"])
    column = rows[0].index("Consentement enregistrement")
    consents = {row[0]: row[column] for row in rows[1:]}
    assert consents == {
        company.name: "enregistrement refusé",
        given.company.name: "donné",
        "Société Test 3": "non demandé",
    }


def test_the_admin_shows_the_consent_but_neither_changes_it_nor_deletes_audio(
    client, admin_user, operator, company
):
    call = CallFactory(company=company, operator=operator, outcome="no_answer", submitted=True)
    CallRecord.objects.filter(pk=call.pk).update(recording_consent=Consent.GIVEN)
    recording = RecordingFactory(call=call)
    client.force_login(admin_user)
    page = client.get(reverse("admin:calls_callrecord_change", args=[call.pk]))
    assert "donné" in page_text(page)
    assert 'name="recording_consent"' not in page.content.decode()
    delete = reverse("admin:calls_recording_delete", args=[recording.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert default_storage.exists(recording.file.name) and Recording.objects.exists()


@pytest.mark.parametrize("failing", ["listdir", "delete"])
def test_a_storage_failure_rolls_the_refusal_back_with_a_message(
    client, recorded, monkeypatch, failing
):
    call, names = recorded

    def unreachable(*args, **kwargs):
        raise ConnectionError("S3 unreachable")

    monkeypatch.setattr(default_storage, failing, unreachable)
    response = refuse(client, call)
    assert response.status_code == 503
    assert "Le stockage des enregistrements ne répond pas" in response.json()["error"]
    monkeypatch.undo()
    assert_nothing_deleted(call, names)
    assert not LogEntry.objects.get_for_object(call).exists()
    assert refuse(client, call).status_code == 200  # clicked again once the storage is back
    assert not any(default_storage.exists(name) for name in names)
