"""The operator's call loop in real Chromium, with a fake microphone."""

import re

import pytest
from playwright.sync_api import expect

from calls.models import CallRecord, Recording
from companies.models import Company, Status
from tests.browser.call_form import record_a_complete_interview

pytestmark = pytest.mark.browser

WEBM_OR_MP4 = (b"\x1a\x45\xdf\xa3",)


def recording_bytes(recording: Recording) -> bytes:
    with recording.file.open("rb") as handle:
        return handle.read()


def test_operator_records_a_call_and_plays_it_back(page, live_server, login, operator, company):
    login(page, operator)
    page.get_by_role("button", name="Appeler le suivant").click()
    expect(page.get_by_role("heading", name=company.name)).to_be_visible()
    expect(page.get_by_label("Décroche")).to_be_disabled()

    record_a_complete_interview(page)

    call = CallRecord.objects.get(company=company)
    assert call.submitted_at is not None
    assert call.disposition == "1.1"
    recording = call.recordings.get()
    assert recording.is_complete and recording.size_bytes > 1000
    data = recording_bytes(recording)
    assert data.startswith(WEBM_OR_MP4) or data[4:8] == b"ftyp"
    assert len(data) == recording.size_bytes
    company.refresh_from_db()
    assert company.status == Status.DONE and company.locked_by is None

    page.get_by_role("searchbox", name="Recherche").fill(company.name)
    row = page.locator(f"#company-{company.pk}")
    row.get_by_role("link", name="Lecture").click()
    audio = page.locator("#player audio")
    expect(audio).to_be_visible()
    page.wait_for_function(
        "document.querySelector('#player audio').readyState >= 1", timeout=10_000
    )
    assert page.evaluate("document.querySelector('#player audio').error") is None


def test_a_second_operator_sees_the_lock_and_cannot_start(
    browser, live_server, login, operator, operator2, company
):
    first = browser.new_context().new_page()
    second = browser.new_context().new_page()
    login(first, operator)
    first.get_by_role("button", name="Appeler le suivant").click()
    expect(first.get_by_role("heading", name=company.name)).to_be_visible()

    login(second, operator2)
    second.goto(f"{live_server.url}/appels/")
    row = second.locator(f"#company-{company.pk}")
    expect(row.get_by_text(re.compile("Awa Ngo"))).to_be_visible()
    expect(row.get_by_role("button", name="Lancer un appel")).to_be_disabled()

    second.goto(f"{live_server.url}/appels/{company.pk}/remplir/")
    expect(second.get_by_text("Appel déjà en cours")).to_be_visible()
    expect(second.get_by_role("button", name="Lancer le micro")).to_have_count(0)


def test_closing_the_tab_releases_the_lock(
    browser, live_server, login, operator, operator2, company
):
    context = browser.new_context()
    page = context.new_page()
    login(page, operator)
    page.get_by_role("button", name="Appeler le suivant").click()
    expect(page.get_by_role("heading", name=company.name)).to_be_visible()
    company.refresh_from_db()
    assert company.status == Status.IN_PROGRESS

    watcher = browser.new_context().new_page()
    login(watcher, operator2)
    watcher.goto(f"{live_server.url}/appels/")
    row = watcher.locator(f"#company-{company.pk}")
    expect(row.get_by_role("button", name="Lancer un appel")).to_be_disabled()

    page.close(run_before_unload=True)
    # The list notices by itself (polled lock cells), without reloading the page.
    expect(row.get_by_role("button", name="Lancer un appel")).to_be_enabled(timeout=15_000)
    company.refresh_from_db()
    assert company.status == Status.PENDING and company.locked_by is None


def test_a_reload_during_recording_keeps_chunks_and_draft(
    page, live_server, login, operator, company
):
    login(page, operator)
    page.get_by_role("button", name="Appeler le suivant").click()
    page.get_by_role("button", name="Lancer le micro").click()
    expect(page.locator("#mic-status")).to_contain_text("Ko envoyés", timeout=10_000)
    page.get_by_text("Décroche", exact=True).click()
    page.get_by_text("Rappel", exact=True).click()
    expect(page.get_by_label("Date et heure du rappel")).to_be_visible()
    page.get_by_label("Notes").fill("Demander M. Kamga, le directeur")
    expect(page.locator("#draft-saved")).to_be_visible()
    page.wait_for_timeout(1200)  # the notes are saved after a short pause in typing

    page.reload()
    expect(page.get_by_role("heading", name=company.name)).to_be_visible()
    expect(page.get_by_label("Décroche")).to_be_checked()
    expect(page.get_by_label("Rappel", exact=True)).to_be_checked()
    expect(page.get_by_label("Notes")).to_have_value("Demander M. Kamga, le directeur")
    # The chunks the first page had not sent yet are sent by this one, which then finalises.
    expect(page.locator("#mic-network")).to_contain_text(
        "Audio de la page précédente récupéré", timeout=30_000
    )

    recording = Recording.objects.get(call__company=company)
    assert recording.size_bytes > 0 and recording.is_complete and recording.missing_chunks == 0
    company.refresh_from_db()
    assert company.status == Status.IN_PROGRESS and company.locked_by == operator
    draft = CallRecord.objects.get(company=company)
    assert draft.submitted_at is None and draft.call_status == "callback"
    assert Company.objects.held_by(operator).count() == 1
