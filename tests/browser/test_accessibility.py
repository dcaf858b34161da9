"""axe-core on every page of both roles, in Chromium: no serious or critical violation (contrast,
labels, landmarks, names of buttons and links, table headers...). axe-playwright-python bundles
axe.min.js and injects it into the page: nothing is fetched from the network."""

from datetime import datetime, time, timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from companies import importing
from companies.models import Company, ImportBatch, ImportMode, PhoneLabel, Status
from tests.privacy.conftest import CSV, build_world

pytestmark = pytest.mark.browser

BLOCKING = ("serious", "critical")


def serious_violations(page) -> list[str]:
    """What axe finds serious or critical on the page as it stands, one line per rule with the
    first offending elements."""
    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} — "
        + " | ".join(node["html"][:160] for node in violation["nodes"][:5])
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING
    ]


def sign_in(page, live_server, user) -> None:
    """A session made on the server (the login form is a page of its own in the list)."""
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


def build_pages(supervisor, operator) -> dict:
    """Something on every page: a company with calls, recordings, a review, a correction and an
    import behind it (tests/privacy/conftest.py), a due callback, an import not yet applied, a
    company with two numbers to call and one waiting. Returns the ids the paths need."""
    world = build_world(supervisor, operator)
    campaign = world.campaign
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    Company.objects.create(
        campaign=campaign,
        name="Brasserie du Nyong",
        phone="6 77 10 20 30",
        status=Status.CALLBACK,
        callback_at=timezone.make_aware(datetime.combine(monday, time(8, 30))),
        callback_operator=operator,
    )
    to_call = Company.objects.create(
        campaign=campaign, name="Rizerie de Yagoua", phone="6 77 40 50 60"
    )
    to_call.merge_numbers([("6 99 40 50 60", PhoneLabel.MOBILE)])
    waiting = Company.objects.create(
        campaign=campaign, name="Huilerie de Garoua", phone="6 77 70 80 90"
    )
    pending = ImportBatch(
        uploaded_by=supervisor, campaign_name="Boulangeries 2028", original_name="liste.csv"
    )
    importing.analyse(CSV, mode=ImportMode.NEW).store_on(pending)
    pending.file.save("liste.csv", ContentFile(CSV), save=False)
    pending.save()
    return {
        "company": world.company.pk,
        "campaign": campaign.pk,
        "call": world.calls[1].pk,
        "recording": world.recording.pk,
        "applied_batch": world.batch.pk,
        "pending_batch": pending.pk,
        "to_call": to_call.pk,
        "waiting": waiting.pk,
    }


def call_form(page, live_server, ids, operator):
    assert Company.objects.claim(Company.objects.get(pk=ids["to_call"]), operator)
    page.goto(f"{live_server.url}/appels/{ids['to_call']}/remplir/")
    expect(page.get_by_role("button", name="Lancer le micro")).to_be_enabled()


def call_form_recording(page, live_server, ids, operator):
    """Micro on, every picker shown (numbers, status, call status, the three levels)."""
    call_form(page, live_server, ids, operator)
    page.get_by_role("button", name="Lancer le micro").click()
    expect(page.get_by_role("status").filter(has_text="Enregistrement en cours")).to_be_visible()
    page.get_by_text("Décroche", exact=True).click()
    page.get_by_text("Accepte questionnaire", exact=True).click()
    expect(page.get_by_role("radiogroup", name="Présentation")).to_be_visible()


def call_form_refused(page, live_server, ids, operator):
    call_form(page, live_server, ids, operator)
    page.get_by_label("Continuer sans enregistrement vocal").check()
    expect(page.get_by_label("Décroche")).to_be_enabled()
    page.get_by_role("button", name="Valider", exact=True).click()
    expect(page.get_by_text("L'appel n'a pas été enregistré")).to_be_visible()


def call_form_shortcuts(page, live_server, ids, operator):
    call_form(page, live_server, ids, operator)
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Raccourcis clavier")).to_be_visible()


# name -> (who, path or None, what is done instead of opening the path)
PAGES = {
    "connexion": (None, "/appels/acces/", None),
    "accueil (opérateur)": ("operator", "/", None),
    "liste d'appels (opérateur)": ("operator", "/appels/", None),
    "lecture": ("operator", "/appels/{company}/lecture/", None),
    "appel à lancer": ("operator", "/appels/{waiting}/remplir/", None),
    "formulaire d'appel, micro arrêté": ("operator", None, call_form),
    "formulaire d'appel, micro lancé": ("operator", None, call_form_recording),
    "formulaire d'appel, validation refusée": ("operator", None, call_form_refused),
    "formulaire d'appel, liste des raccourcis": ("operator", None, call_form_shortcuts),
    "rappels (opérateur)": ("operator", "/rappels/", None),
    "403 (opérateur)": ("operator", "/dashboard/", None),
    "404 (opérateur)": ("operator", "/appels/999999/remplir/", None),
    "accueil (superviseur)": ("supervisor", "/", None),
    "tableau de bord": ("supervisor", "/dashboard/", None),
    "liste d'appels (superviseur)": ("supervisor", "/appels/", None),
    "rappels (superviseur)": ("supervisor", "/rappels/", None),
    "contacts": ("supervisor", "/contacts/", None),
    "fiche entreprise": ("supervisor", "/contacts/{company}/", None),
    "effacement": ("supervisor", "/contacts/{company}/effacer/", None),
    "import": ("supervisor", "/import-entreprises/", None),
    "aperçu d'import": ("supervisor", "/import-entreprises/{pending_batch}/", None),
    "import appliqué": ("supervisor", "/import-entreprises/{applied_batch}/", None),
    "export": ("supervisor", "/export/", None),
    "contrôle qualité": ("supervisor", "/controle/", None),
    "évaluation d'un appel": ("supervisor", "/controle/appels/{call}/", None),
    "correction d'un appel": ("supervisor", "/controle/appels/{call}/corriger/", None),
    "mes évaluations": ("supervisor", "/controle/mes-evaluations/", None),
    "écoutes": ("supervisor", "/controle/enregistrements/{recording}/ecoutes/", None),
    "règles de contrôle": ("supervisor", "/controle/campagnes/{campaign}/", None),
    "campagnes": ("supervisor", "/campagnes/", None),
    "nouvelle campagne": ("supervisor", "/campagnes/nouvelle/", None),
    "modifier une campagne": ("supervisor", "/campagnes/{campaign}/modifier/", None),
    "quotas d'une campagne": ("supervisor", "/campagnes/{campaign}/quotas/", None),
    "ne plus appeler": ("supervisor", "/ne-plus-appeler/", None),
    "404 (superviseur)": ("supervisor", "/contacts/999999/", None),
    "administration": ("admin", "/admin/", None),
}


@pytest.mark.parametrize("name", list(PAGES))
def test_no_serious_accessibility_violation(
    name, page, live_server, supervisor, operator, admin_user
):
    who, path, prepare = PAGES[name]
    ids = build_pages(supervisor, operator)
    user = {"operator": operator, "supervisor": supervisor, "admin": admin_user, None: None}[who]
    if user:
        sign_in(page, live_server, user)
    if prepare:
        prepare(page, live_server, ids, user)
    else:
        response = page.goto(live_server.url + path.format(**ids))
        expected = 403 if name.startswith("403") else 404 if name.startswith("404") else 200
        assert response.status == expected
    assert serious_violations(page) == []


def test_the_check_finds_what_it_looks_for(page):
    """The helper above reports a serious violation when there is one (here a button without
    a name and text too pale to read)."""
    page.set_content(
        '<html lang="fr"><head><title>Essai</title></head><body><main>'
        '<button type="button"></button><p style="color:#bbb">Gris clair</p></main></body></html>'
    )
    found = serious_violations(page)
    assert [line.split(" ")[0] for line in found] == ["button-name", "color-contrast"]
