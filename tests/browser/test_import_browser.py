"""In Chromium: a supervisor uploads a list (progress bar), reads the preview, applies it; a
large list is analysed and applied outside the request while the page shows the progress; the
contacts table filters, paginates and acts without a full page load."""

import re
import threading
import time

import pytest
from playwright.sync_api import expect

from companies.importing import jobs, reading
from companies.importing.writer import CompanyWriter
from companies.models import Campaign, Company, ImportBatch, Status

pytestmark = pytest.mark.browser


def company_list(rows: int) -> bytes:
    lines = ["Raison sociale;Téléphone;Ville;NIU;Score"]
    for n in range(rows):
        lines.append(f"Société Navigateur {n};6770{n:05d};Douala;M{n:013d}A;{n % 100},5")
    lines.append(";677999999;Douala;;")  # a bad row: no name
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


def upload_list(page, live_server, path, campaign_name: str) -> None:
    page.goto(f"{live_server.url}/import-entreprises/")
    page.get_by_label("Fichier CSV").set_input_files(str(path))
    page.get_by_label("Nom de la nouvelle campagne").fill(campaign_name)
    page.get_by_role("button", name="Téléverser et prévisualiser").click()


def test_upload_preview_apply(page, live_server, login, supervisor, tmp_path):
    path = tmp_path / "liste_partenaire.csv"
    path.write_bytes(company_list(8_000))  # about 400 KB: the upload takes a moment
    page.add_init_script(
        """document.addEventListener("htmx:xhr:progress", function () {
             setTimeout(function () {
               var bar = document.querySelector("#upload-progress .progress");
               var value = bar && bar.getAttribute("aria-valuenow");
               if (value) sessionStorage.setItem("upload-progress", value);
             }, 0);
           });"""
    )
    login(page, supervisor)

    upload_list(page, live_server, path, "Partenaires du Littoral")

    expect(page.get_by_role("heading", name="Aperçu de l'import")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('upload-progress')") == "100"
    expect(page.locator("#reading-title + p")).to_contain_text("UTF-8 avec BOM")
    rejected = page.locator("#rejected-rows")
    expect(rejected.get_by_role("cell", name="8002", exact=True)).to_be_visible()
    expect(rejected.get_by_text("Nom de l'entreprise manquant.")).to_be_visible()
    expect(page.get_by_role("cell", name="Société Navigateur 0", exact=True)).to_be_visible()
    assert not Campaign.objects.filter(name="Partenaires du Littoral").exists()

    page.get_by_role("button", name="Enregistrer", exact=True).click()

    expect(page.get_by_role("heading", name="Résultat de l'import")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Import enregistré : 8000 créées"))).to_be_visible()
    campaign = Campaign.objects.get(name="Partenaires du Littoral")
    assert Company.objects.filter(campaign=campaign).count() == 8_000


def test_a_large_list_shows_the_progress_of_its_analysis_and_of_its_apply(
    page, live_server, login, supervisor, tmp_path, settings, monkeypatch
):
    settings.IMPORT_BACKGROUND_BYTES = 100_000  # this list is larger: it runs as a job
    # Slowed down so that a person (and the test) sees the progress move: each progress report
    # waits, reports come every 5,000 rows and the file is read 16 KB at a time.
    monkeypatch.setattr(jobs, "HEARTBEAT", 0)
    monkeypatch.setattr(reading, "CHUNK_BYTES", 16 * 1024)
    report = jobs.Heartbeat.__call__
    monkeypatch.setattr(jobs.Heartbeat, "__call__", lambda *a: (report(*a), time.sleep(0.5)))
    finish = CompanyWriter.finish
    monkeypatch.setattr(CompanyWriter, "finish", lambda self: (time.sleep(2), finish(self)))
    path = tmp_path / "grande_liste.csv"
    path.write_bytes(company_list(30_000))  # about 1.5 MB
    login(page, supervisor)

    upload_list(page, live_server, path, "Grande liste")

    expect(page.get_by_role("heading", name="Analyse du fichier en cours")).to_be_visible()
    progress = page.get_by_role("progressbar", name="Analyse du fichier")
    expect(progress).to_have_attribute("aria-valuenow", re.compile(r"^[1-9][0-9]?$"))
    expect(page.get_by_role("button", name="Abandonner cet import")).to_be_visible()
    # Without reloading by hand, the page becomes the preview once the analysis ends.
    expect(page.get_by_role("heading", name="Aperçu de l'import")).to_be_visible(timeout=60_000)
    expect(page.locator('[data-count="À créer"]')).to_have_text("30000")
    assert not Campaign.objects.filter(name="Grande liste").exists()

    page.get_by_role("button", name="Enregistrer", exact=True).click()

    expect(page.get_by_role("heading", name="Enregistrement en cours")).to_be_visible()
    expect(page.get_by_role("progressbar", name="Enregistrement")).to_be_visible()
    expect(page.get_by_role("heading", name="Résultat de l'import")).to_be_visible(timeout=60_000)
    expect(page.locator('[data-count="Créées"]')).to_have_text("30000")
    campaign = Campaign.objects.get(name="Grande liste")
    assert Company.objects.filter(campaign=campaign).count() == 30_000
    assert ImportBatch.objects.get().job == ""
    for thread in threading.enumerate():
        if thread.name.startswith("import-"):
            thread.join(30)


def test_a_bad_file_is_explained_in_place(page, live_server, login, supervisor, tmp_path):
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    login(page, supervisor)

    page.goto(f"{live_server.url}/import-entreprises/")
    page.get_by_label("Fichier CSV").set_input_files(str(path))
    page.get_by_role("button", name="Téléverser et prévisualiser").click()

    expect(page.get_by_text("Ce fichier est une image, pas un CSV.")).to_be_visible()
    assert page.url == f"{live_server.url}/import-entreprises/"


def test_contacts_filter_paginate_and_reopen_without_reloading(
    page, live_server, login, supervisor, make_company
):
    for n in range(60):
        make_company(name=f"Société {n:02d}", status=Status.DONE if n == 7 else Status.PENDING)
    login(page, supervisor)
    page.goto(f"{live_server.url}/contacts/")
    page.evaluate("window.notReloaded = true")
    table = page.locator("#results table")

    page.get_by_role("link", name="Suivante").click()
    expect(table.get_by_role("link", name="Société 50")).to_be_visible()
    expect(page).to_have_url(re.compile(r"page=2"))

    page.get_by_label("Recherche").fill("Société 0")
    expect(table.locator("tbody tr")).to_have_count(10)
    expect(page).to_have_url(re.compile(r"q=Soci"))

    page.get_by_label("Statut").select_option(label="Terminé")
    expect(table.locator("tbody tr")).to_have_count(1)
    page.get_by_role("button", name="Rouvrir Société 07").click()
    expect(page.get_by_text("« Société 07 » est de nouveau à appeler.")).to_be_visible()
    expect(page.get_by_text("Aucune entreprise ne correspond à ces filtres.")).to_be_visible()
    assert page.evaluate("window.notReloaded") is True
    assert Company.objects.get(name="Société 07").status == Status.PENDING

    page.go_back()
    expect(page).to_have_url(re.compile(r"q=Soci"))
