"""Every page of both roles in English and in French, in real Chromium: the language chosen with
the navbar's menu (by keyboard), no French left on an English page, dates and numbers written
the way each language reads them, and the recorder's messages from the JavaScript catalogue."""

import re
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from companies import donotcall
from companies.models import QuotaCell
from core.models import Profile
from quality.models import Criterion, ReviewItem
from tests.factories import CallFactory, CampaignFactory, CompanyFactory, RecordingFactory

pytestmark = pytest.mark.browser

DOUALA = ZoneInfo("Africa/Douala")

# Words and signs that give French away. The data below is written so that none of them occurs
# in it; a page shows data (names, places) besides its own words.
FRENCH = re.compile(
    r"[éèêàçùôîâûœ«»]|\b(le|la|les|des|du|une|est|et|pour|sur|avec|aucun|aucune|dans|vous|"
    r"votre|vos|mes|entreprises?|appels?|rappels?|numéros?|enregistrements?|statut|oui|au|aux|"
    r"par|pas|cette|ou|en|semaine|tableau|bord|liste|jour|heure|appeler)\b",
    re.IGNORECASE,
)
# French on purpose: the import page lists the column names the import recognises.
IMPORT_COLUMNS = re.compile(r"entreprise / nom / raison sociale.*?statut\.", re.S)

ENGLISH_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December"
)
FRENCH_MONTHS = (
    "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre"
)


@pytest.fixture
def world(operator, supervisor):
    """A campaign with neutral names: a company with a score and a callback, a submitted call
    with its recording, in the review queue against a scorecard; a quota cell and a number on
    the do-not-call list."""
    campaign = CampaignFactory(name="Survey 2026")
    neutral = {"product": "cocoa", "activity": "processing", "legal_form": "Ltd"}
    scored = CompanyFactory(
        campaign=campaign,
        name="Wouri Trading",
        location="Limbe",
        validity_score=Decimal("55.60"),
        callback_at=datetime(2026, 11, 29, 14, 44, tzinfo=DOUALA),
        **neutral,
    )
    CompanyFactory(campaign=campaign, name="Buea Mills", location="Buea", **neutral)
    call = CallFactory(company=scored, operator=operator, outcome="complete", submitted=True)
    recording = RecordingFactory(call=call, seconds=42)
    ReviewItem.objects.get_or_create(
        call=call,
        defaults={"operator": operator, "campaign": campaign, "day": timezone.localdate()},
    )
    Criterion.objects.create(campaign=campaign, label="Greeting", position=1)
    QuotaCell.objects.create(campaign=campaign, field1="activity", value1="processing", target=5)
    donotcall.add(phone="6 99 00 00 01", reason="Complaint", user=supervisor)
    return {"campaign": campaign, "company": scored, "call": call, "recording": recording}


def choose_language(page, name: str, code: str) -> None:
    """The navbar's menu, by keyboard: focus the language's button and press Enter."""
    menu = page.get_by_role("form", name=re.compile("^(Langue|Language)$"))
    menu.get_by_role("button", name=name).focus()
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", code)
    expect(menu.get_by_role("button", name=name)).to_have_attribute("aria-current", "true")


def french_left(page) -> list[str]:
    """What reads as French on the page (the language menu's « Français » aside)."""
    text = page.locator("body").evaluate(
        r"""body => {
            const copy = body.cloneNode(true);
            copy.querySelectorAll('#language-menu, script').forEach(node => node.remove());
            // Time zones are IANA names (« America/La_Paz »), the same in every language.
            copy.querySelectorAll('option').forEach(node => {
                if (/^[A-Za-z]+\/[\w\/+-]+$/.test(node.value)) node.remove();
            });
            const labels = [...body.querySelectorAll('[aria-label], [title], [placeholder]')]
                .map(node => [node.getAttribute('aria-label'), node.getAttribute('title'),
                              node.getAttribute('placeholder')].filter(Boolean).join(' '));
            return copy.innerText + ' ' + labels.join(' ') + ' ' + document.title;
        }"""
    )
    text = IMPORT_COLUMNS.sub(" ", text.replace("Français", ""))
    return [
        " ".join(text[max(0, match.start() - 40) : match.end() + 20].split())
        for match in FRENCH.finditer(text)
    ]


def visit(page, url: str, title: dict, code: str) -> None:
    page.goto(url)
    expect(page.locator("html")).to_have_attribute("lang", code)
    expect(page).to_have_title(re.compile(re.escape(title[code])))
    if code == "en":
        assert french_left(page) == [], url


def supervisor_pages(base: str, world) -> list[tuple[str, dict]]:
    company, call = world["company"], world["call"]
    campaign, recording = world["campaign"], world["recording"]
    return [
        (f"{base}/", {"en": "Home", "fr": "Accueil"}),
        (f"{base}/dashboard/", {"en": "Dashboard", "fr": "Tableau de bord"}),
        (f"{base}/contacts/", {"en": "Contacts", "fr": "Contacts"}),
        (f"{base}/contacts/{company.pk}/", {"en": company.name, "fr": company.name}),
        (
            f"{base}/contacts/{company.pk}/personnes/",
            {"en": "Numbers and contact persons", "fr": "Numéros et personnes à contacter"},
        ),
        (f"{base}/campagnes/", {"en": "Campaigns", "fr": "Campagnes"}),
        (f"{base}/campagnes/nouvelle/", {"en": "New campaign", "fr": "Nouvelle campagne"}),
        (f"{base}/campagnes/{campaign.pk}/quotas/", {"en": "Quotas", "fr": "Quotas"}),
        (
            f"{base}/campagnes/{campaign.pk}/modifier/",
            {"en": "Edit the campaign", "fr": "Modifier la campagne"},
        ),
        (f"{base}/ne-plus-appeler/", {"en": "Do not call", "fr": "Ne plus appeler"}),
        (f"{base}/import-entreprises/", {"en": "Company import", "fr": "Import d'entreprises"}),
        (f"{base}/export/", {"en": "Export", "fr": "Export"}),
        (f"{base}/controle/", {"en": "Quality control", "fr": "Contrôle qualité"}),
        (f"{base}/controle/appels/{call.pk}/", {"en": "Review a call", "fr": "Évaluer un appel"}),
        (
            f"{base}/controle/appels/{call.pk}/corriger/",
            {"en": "Correct a call", "fr": "Corriger un appel"},
        ),
        (
            f"{base}/controle/campagnes/{campaign.pk}/",
            {"en": "Review rules", "fr": "Règles de contrôle"},
        ),
        (
            f"{base}/controle/enregistrements/{recording.pk}/ecoutes/",
            {"en": "Listens", "fr": "Écoutes"},
        ),
        (
            f"{base}/contacts/{company.pk}/effacer/",
            {"en": "Erase a company's data", "fr": "Effacer les données d'une entreprise"},
        ),
        (f"{base}/rappels/", {"en": "Callbacks", "fr": "Rappels"}),
        (f"{base}/appels/", {"en": "Call list", "fr": "Liste d'appels"}),
    ]


def test_every_supervisor_page_in_english_then_in_french(
    page, live_server, login, supervisor, world
):
    login(page, supervisor)
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    choose_language(page, "English", "en")
    assert Profile.objects.get(user=supervisor).language == "en"

    pages = supervisor_pages(live_server.url, world)
    for url, title in pages:
        visit(page, url, title, "en")

    # Dates and numbers the English way (day first and the 24-hour clock, as in Cameroon).
    page.goto(f"{live_server.url}/contacts/{world['company'].pk}/")
    body = page.locator("main")
    expect(body).to_contain_text("55.60")
    expect(body).to_contain_text("29/11/2026 14:44")
    page.goto(f"{live_server.url}/dashboard/")
    expect(page.locator("main")).to_contain_text(
        re.compile(rf"Today \(\d{{1,2}} ({ENGLISH_MONTHS}) \d{{4}}\)")
    )
    page.goto(f"{live_server.url}/rappels/")
    expect(
        page.get_by_role("columnheader", name=re.compile(r"^Monday \d\d\/\d\d$"))
    ).to_be_visible()

    choose_language(page, "Français", "fr")
    assert Profile.objects.get(user=supervisor).language == "fr"
    for url, title in pages:
        visit(page, url, title, "fr")
    page.goto(f"{live_server.url}/contacts/{world['company'].pk}/")
    expect(page.locator("main")).to_contain_text("55,60")
    expect(page.locator("main")).to_contain_text("29/11/2026 14:44")
    page.goto(f"{live_server.url}/dashboard/")
    expect(page.locator("main")).to_contain_text(
        re.compile(rf"Aujourd'hui \(\d{{1,2}} ({FRENCH_MONTHS}) \d{{4}}\)")
    )
    page.goto(f"{live_server.url}/rappels/")
    expect(page.get_by_role("columnheader", name=re.compile(r"^lundi \d\d\/\d\d$"))).to_be_visible()


def test_every_operator_page_in_english_then_in_french(page, live_server, login, operator, world):
    login(page, operator)
    choose_language(page, "English", "en")
    base = live_server.url
    pages = [
        (f"{base}/", {"en": "Home", "fr": "Accueil"}),
        (f"{base}/appels/", {"en": "Call list", "fr": "Liste d'appels"}),
        (f"{base}/rappels/", {"en": "Callbacks", "fr": "Rappels"}),
        (f"{base}/controle/mes-evaluations/", {"en": "My reviews", "fr": "Mes évaluations"}),
        (f"{base}/appels/{world['company'].pk}/lecture/", {"en": "Play", "fr": "Lecture"}),
        # What an operator may not open, and what does not exist.
        (f"{base}/dashboard/", {"en": "Access denied", "fr": "Accès refusé"}),
        (f"{base}/nulle-part/", {"en": "Page not found", "fr": "Page introuvable"}),
    ]
    for url, title in pages:
        visit(page, url, title, "en")
    # The call list writes the score and a callback the English way.
    page.goto(f"{base}/appels/")
    row = page.get_by_role("row").filter(has_text=world["company"].name)
    expect(row).to_contain_text("55.60")
    expect(row).to_contain_text("29/11 14:44")

    # The call form, and the recorder's messages from the JavaScript catalogue.
    page.goto(f"{base}/")
    page.get_by_role("button", name="Call the next one").click()
    expect(page).to_have_title(re.compile("Call form"))
    assert french_left(page) == []
    # The list of keys, and the consent sentence in the operator's language.
    expect(page.locator("#consent-sentence")).to_contain_text("Do you agree to this call")
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog.get_by_role("row", name="M Start or stop the microphone")).to_be_visible()
    assert french_left(page) == []
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Start the microphone").click()
    expect(page.locator("#mic-status")).to_contain_text(
        re.compile(r"Recording: \d+ s, \d+ KB sent")
    )
    page.get_by_role("button", name="Stop recording").click()
    expect(page.locator("#mic-status")).to_contain_text(re.compile(r"Recording finished: \d+ KB"))
    assert french_left(page) == []

    choose_language(page, "Français", "fr")
    expect(page).to_have_title(re.compile("Formulaire d'appel"))
    page.get_by_role("button", name="Lancer le micro").click()
    expect(page.locator("#mic-status")).to_contain_text(re.compile(r"\d+ Ko envoyés"))
    page.get_by_role("button", name="Arrêter l'enregistrement").click()
    expect(page.locator("#mic-status")).to_contain_text("Enregistrement terminé")
    for url, title in pages:
        visit(page, url, title, "fr")
    page.goto(f"{base}/appels/")
    row = page.get_by_role("row").filter(has_text=world["company"].name)
    expect(row).to_contain_text("55,60")


def test_the_login_page_follows_the_browser_until_someone_chooses(
    browser, live_server, operator, world
):
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.goto(f"{live_server.url}/appels/acces/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert french_left(page) == []
    choose_language(page, "Français", "fr")
    expect(page.get_by_role("button", name="Se connecter")).to_be_visible()
    # An anonymous choice is the browser's cookie, stored on nobody.
    assert not Profile.objects.exists()
    # Someone whose stored language is English logs in here: their pages speak it at once.
    Profile.objects.create(user=operator, language="en")
    page.get_by_label("Identifiant").fill(operator.username)
    page.get_by_label("Mot de passe").fill("mot-de-passe-de-test")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name=re.compile("^Hello"))).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    context.close()
