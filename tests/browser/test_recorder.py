"""The recorder in real Chromium with the fake microphone: a network cut, a reload, a crash,
« Valider » offline, the level meter, silence, the input device, microphone failures."""

import time
import wave

import pytest
from django.conf import settings
from playwright.sync_api import expect

from calls.models import CallRecord, Health, Recording, RecordingChunk
from tests.browser.call_form import answer_a_complete_interview

pytestmark = pytest.mark.browser

UPLOADS = "**/enregistrements/**"


def eventually(page, check, timeout=30.0, what="condition"):
    """Poll the database (the live server writes it from another thread) until check() holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        page.wait_for_timeout(250)
    raise AssertionError(f"{what} not reached in {timeout} s")


def open_call_and_record(page, login, operator, company):
    login(page, operator)
    page.get_by_role("button", name="Appeler le suivant").click()
    expect(page.get_by_role("heading", name=company.name)).to_be_visible()
    page.get_by_role("button", name="Lancer le micro").click()
    expect(page.locator("#recorder")).to_have_attribute("data-state", "recording")
    return eventually(
        page,
        lambda: Recording.objects.filter(call__company=company, chunk_count__gt=0).first(),
        what="a first upload",
    )


def pending_chunks(page) -> int:
    return int(page.locator("#recorder").get_attribute("data-pending"))


def chunks_in_browser(page) -> int:
    """Chunks kept in the page's IndexedDB, counted by the browser itself."""
    return page.evaluate(
        """() => new Promise((resolve, reject) => {
          const open = indexedDB.open("naumur-recorder");
          open.onsuccess = () => {
            const request = open.result.transaction("chunks").objectStore("chunks").count();
            request.onsuccess = () => resolve(request.result);
            request.onerror = () => reject(request.error);
          };
          open.onerror = () => reject(open.error);
        })"""
    )


def assert_whole(recording: Recording, span_at_least: float):
    """Every chunk index the browser recorded arrived, and the audio covers the span."""
    assert recording.is_complete and recording.health == Health.COMPLETE
    assert recording.missing_chunks == 0 and recording.missing_indexes == ""
    assert recording.expected_chunks >= span_at_least - 2
    assert abs(recording.received_seconds - recording.duration_seconds) <= 2
    assert recording.duration_seconds >= span_at_least
    with recording.file.open("rb") as handle:
        assert handle.read(4) == b"\x1a\x45\xdf\xa3"
    assert not RecordingChunk.objects.filter(recording=recording).exists()


def test_a_20_s_network_cut_loses_nothing_and_never_stops_the_recorder(
    page, context, live_server, login, operator, company
):
    recording = open_call_and_record(page, login, operator, company)
    started = time.monotonic()

    context.set_offline(True)
    cut = time.monotonic()
    network = page.locator("#mic-network")
    expect(network).to_contain_text("Réseau coupé : l'audio est gardé sur ce poste", timeout=15_000)
    expect(network).to_contain_text("s en attente d'envoi")
    page.wait_for_timeout(max(0, 20_000 - 1000 * (time.monotonic() - cut)))
    assert pending_chunks(page) >= 12
    expect(page.locator("#recorder")).to_have_attribute("data-state", "recording")
    expect(page.locator("#mic-error")).to_be_empty()
    context.set_offline(False)

    expect(page.locator("#recorder")).to_have_attribute("data-pending", "0", timeout=30_000)
    expect(network).to_be_empty()
    page.wait_for_timeout(2000)
    page.get_by_role("button", name="Arrêter l'enregistrement").click()
    expect(page.locator("#mic-status")).to_contain_text("Enregistrement terminé", timeout=30_000)
    expect(page.locator("#mic-status")).to_contain_text("complet")
    span = time.monotonic() - started

    recording.refresh_from_db()
    assert_whole(recording, span_at_least=span - 3)
    assert recording.duration_seconds >= 24


def test_a_reload_during_a_cut_resumes_the_upload_after_the_reload(
    page, context, live_server, login, operator, company
):
    recording = open_call_and_record(page, login, operator, company)
    page.get_by_text("Décroche", exact=True).click()
    expect(page.locator("#draft-saved")).to_be_visible()
    context.set_offline(True)
    expect(page.locator("#mic-network")).to_contain_text("Réseau coupé", timeout=15_000)
    page.wait_for_timeout(3000)
    left_behind = chunks_in_browser(page)
    assert left_behind >= 3

    # The network comes back for pages, not yet for uploads; the operator reloads.
    context.route(UPLOADS, lambda route: route.abort())
    context.set_offline(False)
    page.reload()
    expect(page.get_by_role("heading", name=company.name)).to_be_visible()
    expect(page.get_by_label("Décroche")).to_be_checked()  # the draft is kept
    expect(page.locator("#mic-network")).to_contain_text("en attente d'envoi", timeout=20_000)
    recording.refresh_from_db()
    assert not recording.is_complete

    context.unroute(UPLOADS)
    expect(page.locator("#mic-network")).to_contain_text(
        "Audio de la page précédente récupéré", timeout=40_000
    )
    recording.refresh_from_db()
    assert recording.is_complete and recording.health == Health.COMPLETE
    assert recording.missing_chunks == 0 and recording.chunk_count >= left_behind
    assert chunks_in_browser(page) == 0


def test_a_crash_with_chunks_pending_is_recovered_by_a_new_page_for_the_same_call(
    page, context, live_server, login, operator, company
):
    recording = open_call_and_record(page, login, operator, company)
    context.set_offline(True)
    page.wait_for_timeout(4000)
    kept = chunks_in_browser(page)
    assert kept >= 3
    server_had = Recording.objects.get(pk=recording.pk).chunk_count
    page.close()  # no beforeunload, no beacon: a crash
    context.set_offline(False)

    again = context.new_page()
    again.goto(f"{live_server.url}/appels/{company.pk}/remplir/")
    expect(again.get_by_role("heading", name=company.name)).to_be_visible()
    expect(again.locator("#mic-network")).to_contain_text(
        "Audio de la page précédente récupéré", timeout=40_000
    )
    recording.refresh_from_db()
    assert recording.is_complete and recording.health == Health.COMPLETE
    assert recording.missing_chunks == 0
    assert recording.expected_chunks == recording.chunk_count >= server_had + kept - 1
    assert chunks_in_browser(again) == 0


def test_validating_during_a_cut_keeps_the_draft_and_says_why(
    page, context, live_server, login, operator, company
):
    recording = open_call_and_record(page, login, operator, company)
    answer_a_complete_interview(page)
    context.set_offline(True)
    page.get_by_role("button", name="Valider", exact=True).click()

    network = page.locator("#mic-network")
    expect(network).to_contain_text(
        "Réseau coupé : rien n'est validé pour l'instant et votre brouillon est conservé",
        timeout=15_000,
    )
    expect(network).to_contain_text("reste sur ce poste")
    assert page.url.endswith(f"/appels/{company.pk}/remplir/")
    call = CallRecord.objects.get(company=company)
    assert call.submitted_at is None and call.call_status == "accepted"
    assert not Recording.objects.get(pk=recording.pk).is_complete
    expect(page.get_by_role("button", name="Valider", exact=True)).to_be_enabled()

    context.set_offline(False)
    page.get_by_role("button", name="Valider", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="Appel enregistré")).to_be_visible(
        timeout=30_000
    )
    call.refresh_from_db()
    assert call.submitted_at is not None
    recording.refresh_from_db()
    assert recording.is_complete and recording.health == Health.COMPLETE
    assert recording.missing_chunks == 0


def test_stopping_while_an_upload_is_on_its_way_still_finalises_the_recording(
    page, context, live_server, login, operator, company
):
    """The recorder stops while the periodic upload waits for a slow answer: the stop is sent
    after that upload, not forgotten."""
    recording = open_call_and_record(page, login, operator, company)
    slow = context.new_cdp_session(page)
    slow.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 3000, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    sent = recording.chunk_count
    # Uploads leave RECORDING_UPLOAD_SECONDS apart: the next one is about to.
    waiting = settings.RECORDING_UPLOAD_SECONDS - 1
    eventually(page, lambda: chunks_in_browser(page) >= waiting, what="chunks waiting")
    page.wait_for_timeout(1500)  # the next upload leaves, its answer 3 s away
    page.get_by_role("button", name="Arrêter l'enregistrement").click()
    expect(page.locator("#mic-status")).to_contain_text("Enregistrement terminé", timeout=40_000)
    recording.refresh_from_db()
    assert recording.is_complete and recording.health == Health.COMPLETE
    assert recording.chunk_count > sent and recording.missing_chunks == 0


def test_the_level_meter_moves_with_the_sound(page, live_server, login, operator, company):
    open_call_and_record(page, login, operator, company)
    meter = page.get_by_role("meter", name="Niveau du micro")
    expect(meter).to_be_visible()
    # Chromium's fake microphone beeps twice a second.
    page.wait_for_function(
        "document.getElementById('mic-level').value > 0.2", timeout=15_000, polling=50
    )
    expect(page.locator("#mic-silence")).to_be_hidden()
    page.get_by_role("button", name="Arrêter l'enregistrement").click()
    expect(meter).to_be_hidden()
    assert page.evaluate("document.getElementById('mic-level').value") == 0
    # The last upload lands before the test ends (the live server must not be writing while
    # the test database is torn down).
    expect(page.locator("#mic-status")).to_contain_text("Enregistrement terminé", timeout=30_000)


@pytest.fixture
def silent_page(playwright, browser_type_launch_args, tmp_path):
    """Chromium whose fake microphone plays a silent WAV file."""
    silence = tmp_path / "silence.wav"
    with wave.open(str(silence), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\x00\x00" * 16000 * 30)
    args = {
        **browser_type_launch_args,
        "args": [
            *browser_type_launch_args["args"],
            f"--use-file-for-fake-audio-capture={silence}",
        ],
    }
    browser = playwright.chromium.launch(**args)
    context = browser.new_context(locale="fr-FR", timezone_id="Africa/Douala")
    yield context.new_page()
    browser.close()


def test_a_silent_microphone_is_flagged_then_the_recording_is_silent(
    silent_page, live_server, login, operator, company
):
    page = silent_page
    recording = open_call_and_record(page, login, operator, company)
    expect(page.get_by_role("alert").filter(has_text="Micro muet ?")).to_be_visible(timeout=20_000)
    expect(page.locator("#mic-silence")).to_contain_text("Aucun son depuis 10 s")
    page.get_by_role("button", name="Arrêter l'enregistrement").click()
    expect(page.locator("#mic-status")).to_contain_text("(silencieux)", timeout=30_000)
    recording.refresh_from_db()
    assert recording.health == Health.SILENT and recording.silence_share >= 0.9


def test_the_operator_chooses_the_input_device(page, live_server, login, operator, company):
    page.add_init_script(
        """(() => {
          const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
          window.requested = [];
          navigator.mediaDevices.getUserMedia = (constraints) => {
            window.requested.push(JSON.stringify(constraints));
            return original(constraints);
          };
        })()"""
    )
    open_call_and_record(page, login, operator, company)
    choice = page.get_by_label("Micro", exact=True)
    expect(choice).to_be_visible()
    expect(choice).to_be_disabled()  # not while recording
    expect(choice.locator("option")).to_have_count(3)
    page.get_by_role("button", name="Arrêter l'enregistrement").click()
    expect(page.locator("#mic-status")).to_contain_text("Enregistrement terminé", timeout=30_000)

    choice.select_option(label="Fake Audio Input 2")
    device_id = choice.input_value()
    page.get_by_role("button", name="Lancer le micro").click()
    expect(page.locator("#recorder")).to_have_attribute("data-state", "recording")
    assert device_id in page.evaluate("window.requested[window.requested.length - 1]")

    page.reload()  # the choice is remembered
    expect(page.get_by_label("Micro", exact=True)).to_have_value(device_id)


@pytest.mark.parametrize(
    ("error", "words"),
    [
        ("NotAllowedError", "Accès au micro refusé"),
        ("NotFoundError", "Aucun micro trouvé"),
        ("NotReadableError", "Le micro est occupé par une autre application"),
        ("TypeError", "Micro indisponible (TypeError)"),
    ],
)
def test_each_microphone_failure_says_what_to_do(
    page, live_server, login, operator, company, error, words
):
    page.add_init_script(
        "navigator.mediaDevices.getUserMedia = () => "
        f"Promise.reject(new DOMException('refused by the test', '{error}'));"
    )
    login(page, operator)
    page.get_by_role("button", name="Appeler le suivant").click()
    page.get_by_role("button", name="Lancer le micro").click()
    expect(page.locator("#mic-error")).to_contain_text(words)
    expect(page.get_by_label("Décroche")).to_be_disabled()
    assert not Recording.objects.exists()
