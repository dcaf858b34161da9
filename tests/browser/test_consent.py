"""Consent to record in real Chromium with the fake microphone: the operator reads the
campaign's sentence, starts the microphone, the respondent refuses; nothing of that call's
audio is left on the server or in the browser, and the call goes on without recording."""

import pytest
from playwright.sync_api import expect

from calls.models import CallRecord, Consent, Recording, RecordingChunk
from tests.browser.test_recorder import chunks_in_browser, eventually

pytestmark = pytest.mark.browser

CHUNK_UPLOADS = "**/enregistrements/*/morceaux/**"


def sessions_in_browser(page) -> list:
    """The recording sessions (one per recording) the recorder keeps in IndexedDB."""
    return page.evaluate(
        """() => new Promise((resolve, reject) => {
          const open = indexedDB.open("naumur-recorder");
          open.onsuccess = () => {
            const request = open.result.transaction("sessions").objectStore("sessions").getAll();
            request.onsuccess = () => resolve(request.result.map((s) => s.id));
            request.onerror = () => reject(request.error);
          };
          open.onerror = () => reject(open.error);
        })"""
    )


def stored_files(settings) -> list:
    root = settings.MEDIA_ROOT
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_a_refusal_leaves_no_audio_anywhere_and_the_call_goes_on_without_recording(
    browser, page, context, live_server, login, operator, supervisor, company, settings
):
    company.campaign.consent_sentence = "Acceptez-vous que cet appel soit enregistré ?"
    company.campaign.save()
    login(page, operator)
    page.get_by_role("button", name="Appeler le suivant").click()
    expect(page.get_by_role("heading", name=company.name)).to_be_visible()
    expect(page.get_by_text("Acceptez-vous que cet appel soit enregistré ?")).to_be_visible()

    page.get_by_role("button", name="Lancer le micro").click()
    recording = eventually(
        page,
        lambda: Recording.objects.filter(call__company=company, chunk_count__gt=0).first(),
        what="a first upload",
    )
    assert stored_files(settings)
    call = CallRecord.objects.get(company=company)
    assert call.recording_consent == Consent.GIVEN
    # Later chunks wait in the browser (uploads held back), as they would on a slow network.
    context.route(CHUNK_UPLOADS, lambda route: route.abort())
    eventually(page, lambda: chunks_in_browser(page) >= 2, what="chunks waiting in the browser")
    assert recording.pk in sessions_in_browser(page)

    page.get_by_role("button", name="Refus d'enregistrement").click()

    expect(page.get_by_role("status").filter(has_text="Enregistrement refusé par")).to_be_visible()
    expect(page.locator("#mic-status")).to_contain_text("l'audio de cet appel est effacé")
    expect(page.get_by_role("button", name="Lancer le micro")).to_be_hidden()
    expect(page.locator("#recorder")).to_have_attribute("data-state", "stopped")
    waiver = page.get_by_label("Continuer sans enregistrement vocal")
    expect(waiver).to_be_checked()
    expect(waiver).to_be_disabled()
    assert chunks_in_browser(page) == 0 and sessions_in_browser(page) == []
    assert not Recording.objects.exists() and not RecordingChunk.objects.exists()
    assert stored_files(settings) == []

    # The network comes back: nothing of that recording is ever sent again.
    context.unroute(CHUNK_UPLOADS)
    page.wait_for_timeout(7000)  # more than one upload period
    assert chunks_in_browser(page) == 0
    assert not Recording.objects.exists() and stored_files(settings) == []
    expect(page.locator("#mic-error")).to_be_empty()

    page.get_by_text("Pas de réponse", exact=True).click()
    expect(page.locator("#draft-saved")).to_be_visible()
    page.get_by_role("button", name="Valider", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="Appel enregistré")).to_be_visible()
    call.refresh_from_db()
    assert call.submitted_at is not None and call.status_numero == "no_answer"
    assert call.recording_consent == Consent.REFUSED and call.without_recording
    assert not Recording.objects.exists() and stored_files(settings) == []

    watcher = browser.new_context().new_page()
    login(watcher, supervisor)
    watcher.goto(f"{live_server.url}/contacts/{company.pk}/")
    history = watcher.locator("table").filter(has_text="Consentement enregistrement")
    expect(history.get_by_text("enregistrement refusé")).to_be_visible()
    expect(history.get_by_text("audio : non")).to_be_visible()
    watcher.context.close()
