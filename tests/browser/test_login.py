"""Logging in through the real page in Chromium."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_an_operator_logs_in_and_sees_the_home_page(page, live_server, login, operator):
    login(page, operator)
    expect(page.get_by_role("heading", name="Bonjour Awa Ngo")).to_be_visible()
    expect(page.get_by_role("button", name="Appeler le suivant")).to_be_visible()
    nav = page.get_by_role("navigation", name="Navigation principale")
    expect(nav.get_by_role("link", name="Liste d'appels")).to_be_visible()
    expect(nav.get_by_role("link", name="Tableau de bord")).to_have_count(0)


def test_a_supervisor_sees_the_supervision_pages_in_the_menu(page, live_server, login, supervisor):
    login(page, supervisor)
    nav = page.get_by_role("navigation", name="Navigation principale")
    for name in ("Tableau de bord", "Contacts", "Import", "Export"):
        expect(nav.get_by_role("link", name=name)).to_be_visible()
    expect(nav.get_by_role("link", name="Administration")).to_have_count(0)


def test_a_wrong_password_shows_the_error(page, live_server, operator):
    page.goto(f"{live_server.url}/appels/acces/")
    page.get_by_label("Identifiant").fill("operateur1")
    page.get_by_label("Mot de passe").fill("faux")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_text("Identifiant ou mot de passe incorrect")).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/appels/acces/")
