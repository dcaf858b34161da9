"""A supervisor downloads what is kept about a company, then erases it, in real Chromium: the page
says what goes and what stays, refuses without a reason, and the company page says it is done."""

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from companies.models import Company
from tests.privacy.conftest import NAME, NIU, build_world

pytestmark = pytest.mark.browser


def test_a_supervisor_downloads_then_erases_a_company(
    page, live_server, login, supervisor, operator
):
    world = build_world(supervisor, operator)
    login(page, supervisor)
    page.goto(f"{live_server.url}/contacts/{world.company.pk}/")
    expect(page.get_by_role("heading", name=NAME)).to_be_visible()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger ses données").click()
    download = download_info.value
    assert download.suggested_filename == f"entreprise_{world.company.pk}_donnees.json"
    data = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert data["entreprise"]["niu"] == NIU and len(data["appels"]) == 2

    page.get_by_role("link", name="Effacer ses données…").click()
    expect(page.get_by_role("heading", name=f"Effacer les données de « {NAME} »")).to_be_visible()
    expect(
        page.get_by_text("le son de 2 enregistrements (55 s), sur tous les stockages")
    ).to_be_visible()
    page.get_by_label("Je confirme").check()
    page.get_by_role("button", name="Effacer définitivement").click()
    expect(page.get_by_text("Indiquez le motif de l'effacement.")).to_be_visible()
    assert Company.objects.get(pk=world.company.pk).erased_at is None

    page.get_by_label("Motif de l'effacement").fill("Demande écrite du gérant, 3 mars 2027")
    page.get_by_label("Je confirme").check()
    page.get_by_role("button", name="Effacer définitivement").click()

    expect(page.get_by_role("alert")).to_contain_text("Les données de l'entreprise sont effacées")
    expect(page.get_by_role("heading", name="Entreprise effacée")).to_be_visible()
    expect(page.get_by_text("données effacées le")).to_be_visible()
    expect(page.get_by_role("link", name="Écouter")).to_have_count(0)
    expect(page.get_by_text(NAME)).to_have_count(0)
    assert Company.objects.get(pk=world.company.pk).erased_at is not None
