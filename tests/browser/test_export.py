"""A supervisor picks filters on /export/, sees the row count follow, downloads both formats."""

import csv
import io

import openpyxl
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.exports.conftest import build_outcome_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def outcome_world(campaign, make_company, operator, operator2):
    return build_outcome_world(campaign, make_company, operator, operator2)


def test_a_supervisor_downloads_xlsx_and_csv_from_the_export_page(
    page, live_server, login, supervisor, outcome_world
):
    today = timezone.localdate().isoformat()
    login(page, supervisor)
    page.get_by_role("link", name="Export").click()

    expect(page.get_by_role("heading", name="Export des résultats")).to_be_visible()
    expect(page.get_by_text("18 lignes à exporter")).to_be_visible()

    page.get_by_label("Statut appel").select_option(label="Accepte questionnaire")
    expect(page.get_by_text("8 lignes à exporter")).to_be_visible()
    page.get_by_label("Une ligne par entreprise").check()
    expect(page.get_by_text("8 lignes à exporter")).to_be_visible()
    page.get_by_label("Statut appel").select_option(label="Tous")
    expect(page.get_by_text("19 lignes à exporter")).to_be_visible()

    page.get_by_label("Excel (XLSX)").check()
    with page.expect_download() as xlsx_download:
        page.get_by_role("button", name="Télécharger").click()
    xlsx = xlsx_download.value
    assert xlsx.suggested_filename == f"naumur_toutes-campagnes_entreprises_{today}.xlsx"
    with open(xlsx.path(), "rb") as file:
        sheet = openpyxl.load_workbook(io.BytesIO(file.read()))["Entreprises"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][:3] == ["Entreprise", "Téléphone", "Produit"]
    assert rows[0][-4:] == [
        "Ne plus appeler",
        "Consentement enregistrement",
        "Statut de l'entreprise",
        "Archivée",
    ]
    assert len(rows) == 20
    assert rows[8][9] == "Accepte questionnaire" and rows[8][21] == "1.1 Entretien complet"

    page.get_by_label("Une ligne par appel").check()
    page.get_by_label("Campagne").select_option(label="Enquête transformateurs 2026")
    page.get_by_label("CSV, séparateur point-virgule (Excel en français)").check()
    expect(page.get_by_text("18 lignes à exporter")).to_be_visible()
    with page.expect_download() as csv_download:
        page.get_by_role("button", name="Télécharger").click()
    download = csv_download.value
    assert download.suggested_filename == (
        f"naumur_enquete-transformateurs-2026_appels_{today}.csv"
    )
    with open(download.path(), "rb") as file:
        content = file.read()
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert len(rows) == 19
    assert rows[1][:2] == ["Entreprise 01", "6 77 00 00 01"]
    assert rows[1][7] == "1,5"


def test_bad_dates_are_explained_before_any_download(page, live_server, login, supervisor, db):
    login(page, supervisor)
    page.goto(f"{live_server.url}/export/")
    page.get_by_label("Appels du").fill("2026-03-10")
    page.get_by_label("au", exact=True).fill("2026-03-01")

    expect(
        page.get_by_text("La date de fin doit être postérieure à la date de début.")
    ).to_be_visible()
    page.get_by_role("button", name="Télécharger").click()
    expect(
        page.get_by_text("La date de fin doit être postérieure à la date de début.")
    ).to_be_visible()
    expect(page.get_by_label("Appels du")).to_have_value("2026-03-10")
