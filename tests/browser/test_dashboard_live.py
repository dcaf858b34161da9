"""The dashboard stays open on a supervisor's second screen and updates by itself while an
operator works in another browser: the operator's side goes through the real call form."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.call_form import record_a_complete_interview
from tests.conftest import ALWAYS_OPEN

pytestmark = pytest.mark.browser


def operator_submits_a_call(browser, login, operator):
    """An operator, in a browser of their own: « Appeler le suivant », records a few seconds,
    « Décroche » → « Accepte questionnaire » → three levels complete → « Valider »."""
    page = browser.new_context().new_page()
    login(page, operator)
    page.get_by_role("button", name="Appeler le suivant").click()
    record_a_complete_interview(page)
    page.context.close()


def counter(page, name):
    return page.get_by_role("group", name=name)


def test_dashboard_updates_by_itself_after_an_operator_submits_a_call(
    browser, page, live_server, login, supervisor, operator, campaign, make_company
):
    from companies.models import Campaign

    other = Campaign.objects.create(name="Autre campagne", **ALWAYS_OPEN)
    company = make_company(name="Cacaoyère du Mungo", validity_score=90)  # first in the queue
    make_company(name="Savonnerie de Bonabéri", campaign=other)
    login(page, supervisor)
    page.goto(f"{live_server.url}/dashboard/")
    expect(page.get_by_role("heading", name="Tableau de bord")).to_be_visible()

    # The supervisor narrows the dashboard to one campaign (an htmx swap, the URL follows).
    with page.expect_response(re.compile(r"/dashboard/\?campaign=")):
        page.get_by_label("Campagne").select_option(label=campaign.name)
    expect(page).to_have_url(re.compile(rf"campaign={campaign.pk}"))
    expect(counter(page, "Entreprises")).to_have_text(re.compile(r"Entreprises\s*1\s*$"))
    expect(counter(page, "Appels aujourd'hui")).to_have_text(
        re.compile(r"Appels aujourd'hui\s*0\s*$")
    )
    queue = page.get_by_role("table", name="Santé de la file d'appels")
    expect(queue.get_by_role("row", name=re.compile("Appelables maintenant"))).to_contain_text("1")
    stamp = page.locator("#figures time").inner_text()
    page.evaluate("window.notReloaded = true")

    operator_submits_a_call(browser, login, operator)
    company.refresh_from_db()
    assert company.status == "done" and company.disposition == "1.1"

    # No reload, no click: the next poll brings the new figures.
    expect(counter(page, "Appels aujourd'hui")).to_have_text(
        re.compile(r"Appels aujourd'hui\s*1\s*$"), timeout=15_000
    )
    expect(counter(page, "Décroché")).to_have_text(re.compile(r"Décroché\s*1\s*$"))
    expect(counter(page, "Questionnaires acceptés")).to_contain_text("dont 1 complet")
    operators = page.get_by_role("table", name="Opérateurs sur la période")
    awa = operators.get_by_role("row").filter(has_text="Awa Ngo")
    expect(awa.get_by_role("cell").first).to_have_text("1")
    expect(awa).to_contain_text(re.compile(r"\d+ s"))  # the recorded seconds
    expect(queue.get_by_role("row", name=re.compile("Terminées"))).to_contain_text("1")
    rates = page.get_by_role("table", name="Taux AAPOR")
    expect(rates.get_by_role("row", name=re.compile(r"^RR1 "))).to_contain_text("100,0 %")
    expect(page.get_by_role("status")).to_contain_text(
        "Aucune entreprise n'est appelable maintenant"
    )
    # Same page, same filters, a newer stamp.
    assert page.evaluate("window.notReloaded") is True
    expect(page.get_by_label("Campagne")).to_have_value(str(campaign.pk))
    expect(counter(page, "Entreprises")).to_have_text(re.compile(r"Entreprises\s*1\s*$"))
    assert page.locator("#figures time").inner_text() != stamp


def test_polling_pauses_while_the_tab_is_hidden(page, live_server, login, supervisor, campaign):
    login(page, supervisor)
    page.goto(f"{live_server.url}/dashboard/")
    polls = []
    page.on("request", lambda r: polls.append(r.url) if "/dashboard/" in r.url else None)
    page.wait_for_timeout(5_600)
    assert polls, "the figures poll every 5 s while the tab is visible"

    set_visibility(page, "hidden")
    polls.clear()
    page.wait_for_timeout(11_000)
    assert polls == [], "no polling while the tab is hidden"

    with page.expect_request(re.compile(r"/dashboard/"), timeout=2_000):
        set_visibility(page, "visible")
    # Back in view: refreshed at once, not at the next tick only.
    expect(page.locator("#figures")).to_be_visible()


def test_an_expired_session_takes_the_whole_page_to_the_login_form(
    page, live_server, login, supervisor
):
    from django.contrib.sessions.models import Session

    login(page, supervisor)
    page.goto(f"{live_server.url}/dashboard/?period=7d")
    expect(page.get_by_role("heading", name="Tableau de bord")).to_be_visible()

    Session.objects.all().delete()  # what expiry does, without waiting 12 hours

    expect(page).to_have_url(re.compile(r"/appels/acces/\?next=/dashboard/"), timeout=15_000)
    expect(page.get_by_role("heading", name="Connexion")).to_be_visible()
    expect(page.get_by_role("heading", name="Tableau de bord")).to_have_count(0)


def set_visibility(page, state):
    """What the browser does when the tab is hidden or shown again."""
    page.evaluate(
        """(state) => {
            const getter = {configurable: true, get: () => state};
            Object.defineProperty(document, "visibilityState", getter);
            document.dispatchEvent(new Event("visibilitychange"));
        }""",
        state,
    )


def test_the_productivity_table_and_its_csv_download(
    page, live_server, login, supervisor, operator, make_company
):
    from datetime import timedelta

    from django.utils import timezone

    from core.dates import today_start
    from tests.calls.submitted import submitted_call

    now = max(timezone.now(), today_start() + timedelta(minutes=10))  # all of it today
    submitted_call(
        make_company(),
        operator,
        now - timedelta(minutes=1),
        "answered",
        "refused",
        recordings=[90],
        opened=now - timedelta(minutes=4),
        recording_started=now - timedelta(minutes=3),
    )

    login(page, supervisor)
    page.goto(f"{live_server.url}/dashboard/")
    table = page.get_by_role("table", name="Productivité sur la période")
    awa = table.get_by_role("row").filter(has_text="Awa Ngo")
    # Opened 4 min ago, recorded for 90 s from 3 min ago, validated 1 min ago: 3 min logged in.
    expect(awa.get_by_role("cell").first).to_have_text("3 min")
    bar = awa.get_by_role("img", name=re.compile(r"^Temps connecté 3 min : parole \(enr"))
    expect(bar).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger la productivité (CSV)").click()
    download = download_info.value
    assert download.suggested_filename.startswith("productivite-toutes-campagnes-")
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("Opérateur;Temps connecté (min);Appels;")
    assert "\nAwa Ngo;3,0;1;20,0;0;0,0;1,5;50,0;" in text
