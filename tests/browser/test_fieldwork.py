"""The fieldwork rules in real Chromium: a supervisor sets a campaign's calling hours on its
page and the queue follows them; an operator puts a number on the do-not-call list from the call
form while the call is recorded."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import expect

from calls.models import CallRecord
from companies.models import Campaign, Company, DoNotCallEntry
from tests.factories import CompanyFactory

pytestmark = pytest.mark.browser

# A Wednesday at 10:00 in Douala: the server's clock (the live server runs in this process).
WEDNESDAY_10 = datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Africa/Douala"))


def test_a_supervisor_sets_the_calling_hours_and_the_queue_follows_them(
    browser, browser_context_args, live_server, login, supervisor, operator
):
    campaign = Campaign.objects.create(name="Enquête cacao")  # the fieldwork defaults
    company = CompanyFactory(campaign=campaign, name="Ets Wouri")
    boss = browser.new_context(**browser_context_args).new_page()
    agent = browser.new_context(**browser_context_args).new_page()
    with time_machine.travel(WEDNESDAY_10, tick=True):
        login(boss, supervisor)
        boss.get_by_role("link", name="Campagnes").click()
        boss.get_by_role("row", name="Enquête cacao").get_by_role("link", name="Modifier").click()
        wednesday = boss.get_by_label("Mercredi")
        expect(wednesday).to_have_value("08:00-12:30, 14:00-18:00")
        expect(boss.get_by_label("Dimanche")).to_have_value("")

        # A range that cannot be read is explained and nothing is saved.
        wednesday.fill("18:00-14:00")
        boss.get_by_role("button", name="Enregistrer").click()
        expect(boss.get_by_text("la fin doit suivre le début")).to_be_visible()
        campaign.refresh_from_db()
        assert campaign.calling_hours[2] == [["08:00", "12:30"], ["14:00", "18:00"]]

        # Wednesday afternoon only: at 10:00 the company is outside its window.
        boss.get_by_label("Mercredi").fill("14h-18h")
        boss.get_by_role("button", name="Enregistrer").click()
        expect(boss.get_by_text("Campagne « Enquête cacao » enregistrée.")).to_be_visible()

        login(agent, operator)
        agent.get_by_role("button", name="Appeler le suivant").click()
        expect(
            agent.get_by_text(
                "Hors des heures d'appel (prochaine ouverture le 02/12/2026 14:00) : 1"
            )
        ).to_be_visible()
        row = agent.locator(f"#company-{company.pk}")
        expect(row.get_by_text("Hors des heures d'appel")).to_be_visible()
        expect(row.get_by_role("button", name="Lancer un appel")).to_be_disabled()

        # Back to the morning too: « Appeler le suivant » gives the company.
        boss.get_by_role("row", name="Enquête cacao").get_by_role("link", name="Modifier").click()
        expect(boss.get_by_label("Mercredi")).to_have_value("14:00-18:00")
        boss.get_by_label("Mercredi").fill("08:00-12:30, 14:00-18:00")
        boss.get_by_role("button", name="Enregistrer").click()
        expect(boss.get_by_text("Campagne « Enquête cacao » enregistrée.")).to_be_visible()

        agent.get_by_role("button", name="Appeler le suivant").click()
        expect(agent.get_by_role("heading", name="Ets Wouri")).to_be_visible()
    assert Company.objects.get(pk=company.pk).locked_by == operator


def test_an_operator_lists_a_number_from_the_call_form_while_recording(
    page, live_server, login, operator, company
):
    login(page, operator)
    page.get_by_role("button", name="Appeler le suivant").click()
    expect(page.get_by_role("heading", name=company.name)).to_be_visible()
    page.get_by_role("button", name="Lancer le micro").click()
    expect(page.locator("#mic-status")).to_contain_text("Ko envoyés", timeout=10_000)

    page.get_by_text("Ne plus appeler…").click()
    page.get_by_role("button", name="Ne plus appeler", exact=True).click()
    # The reason is asked (the browser stops an empty one; the server refuses it too).
    assert page.get_by_label("Motif").evaluate("field => field.validity.valueMissing")
    assert not DoNotCallEntry.objects.exists()
    page.get_by_label("Motif").fill("Le gérant demande à ne plus être appelé")
    page.get_by_role("button", name="Ne plus appeler", exact=True).click()
    expect(page.get_by_text("Ce numéro est sur la liste « Ne plus appeler »")).to_be_visible()
    # The page stayed: the microphone still records the call.
    expect(page.get_by_role("button", name="Arrêter l'enregistrement")).to_be_visible()

    page.get_by_text("Décroche", exact=True).click()
    page.get_by_text("Refus questionnaire", exact=True).click()
    expect(page.get_by_label("Refus questionnaire")).to_be_checked()
    page.get_by_role("button", name="Valider", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="Appel enregistré")).to_be_visible()

    entry = DoNotCallEntry.objects.get()
    assert (entry.phone_e164, entry.niu, entry.created_by) == (
        company.phone_e164,
        company.niu,
        operator,
    )
    assert entry.reason == "Le gérant demande à ne plus être appelé"
    assert CallRecord.objects.get(company=company).recordings.get().size_bytes > 1000
    company.reopen()  # even reopened by a supervisor, it is never served again
    page.get_by_role("button", name="Appeler le suivant").click()
    expect(page.get_by_text("Liste « Ne plus appeler » : 1")).to_be_visible()
