"""/export/ (the form and its live row count) and /export/telecharger/ (the file)."""

import re
import tempfile
from datetime import UTC, datetime

import pytest
from django.core.files.base import ContentFile
from django.http import FileResponse, StreamingHttpResponse
from django.urls import reverse

from tests.exports.conftest import read_csv, read_xlsx

PAGE = reverse("exports:export")
DOWNLOAD = reverse("exports:download")


def count_in(html: str) -> int:
    text = re.search(r'data-testid="row-count">\s*([^<]*?)\s*</span>', html)[1]
    return int(re.sub(r"\D", "", text.split("ligne")[0]))


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_the_page_shows_the_form_and_the_number_of_calls(client, supervisor, outcome_world):
    client.force_login(supervisor)
    response = client.get(PAGE)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Excel (XLSX)" in html and "CSV, séparateur point-virgule" in html
    assert "Une ligne par entreprise" in html
    assert count_in(html) == 18
    assert f'action="{DOWNLOAD}"' in html and 'method="get"' in html


def test_the_count_is_a_fragment_that_follows_the_filters(client, supervisor, outcome_world):
    client.force_login(supervisor)
    data = {"format": "xlsx", "scope": "calls", "call_status": "accepted"}
    response = client.get(PAGE, data, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert "<html" not in html and 'id="row-count"' in html
    assert count_in(html) == 8
    assert "HX-Request" in response["Vary"]

    companies = client.get(
        PAGE, {**data, "scope": "companies", "call_status": ""}, headers={"HX-Request": "true"}
    )
    assert count_in(companies.content.decode()) == 19


def test_the_count_says_one_line_in_the_singular(client, supervisor, outcome_world):
    client.force_login(supervisor)
    response = client.get(
        PAGE,
        {"format": "csv", "scope": "calls", "number_status": "voicemail"},
        headers={"HX-Request": "true"},
    )
    assert re.search(r"\b1 ligne à exporter", response.content.decode())


def test_bad_filters_get_french_messages_instead_of_a_count(client, supervisor, outcome_world):
    client.force_login(supervisor)
    response = client.get(
        PAGE,
        {
            "format": "xlsx",
            "scope": "calls",
            "date_from": "2026-03-10",
            "date_to": "2026-03-01",
            "number_status": "voicemail",
            "call_status": "refused",
        },
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert "La date de fin doit être postérieure à la date de début." in html
    assert "Un statut appel n&#x27;existe que pour un numéro qui a décroché" in html
    assert 'data-testid="row-count"' not in html


@pytest.mark.parametrize("params", [{"date_to": "9999-12-31"}, {"date_from": "0001-01-01"}])
def test_days_beyond_the_years_we_handle_are_refused_not_a_crash(client, supervisor, params):
    client.force_login(supervisor)
    query = {"format": "csv", "scope": "calls", **params}
    count = client.get(PAGE, query, headers={"HX-Request": "true"})
    download = client.get(reverse("exports:download"), query)
    assert count.status_code == 200 and download.status_code == 400  # the form again
    for response in (count, download):
        assert "Date hors des limites (2000 à 2099)." in response.content.decode()


def test_csv_download_streams_with_a_bom_and_the_campaign_in_the_filename(
    client, supervisor, outcome_world, time_machine
):
    time_machine.move_to(datetime(2026, 3, 4, 10, 0, tzinfo=UTC))
    client.force_login(supervisor)
    response = client.get(
        DOWNLOAD,
        {"format": "csv-semicolon", "scope": "calls", "campaign": outcome_world.campaign.pk},
    )

    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="naumur_enquete-transformateurs-2026_appels_2026-03-04.csv"'
    )
    assert "no-store" in response["Cache-Control"]
    rows = read_csv(body(response), ";")
    assert len(rows) == 19
    assert rows[1][7] == "1,5"


def test_links_in_a_download_are_absolute_urls_that_play_the_recording(
    client, supervisor, outcome_world
):
    latest = outcome_world.recordings[8][-1]
    audio = b"\x1a\x45\xdf\xa3" + b"opus" * 1024
    latest.file.save("call.webm", ContentFile(audio))
    client.force_login(supervisor)
    response = client.get(DOWNLOAD, {"format": "csv", "scope": "calls"})
    link = read_csv(body(response))[8][22]

    assert link == f"http://testserver{reverse('calls:recording', args=[latest.pk])}"
    playback = client.get(link)
    assert playback.status_code == 200
    assert b"".join(playback.streaming_content) == audio


def test_xlsx_download_is_a_real_workbook_from_a_temporary_file(
    client, supervisor, outcome_world, time_machine, monkeypatch
):
    time_machine.move_to(datetime(2026, 3, 4, 10, 0, tzinfo=UTC))
    made, original = [], tempfile.TemporaryFile

    def temporary_file(**kwargs):
        made.append(original(**kwargs))
        return made[-1]

    monkeypatch.setattr("exports.views.tempfile.TemporaryFile", temporary_file)
    client.force_login(supervisor)
    response = client.get(DOWNLOAD, {"format": "xlsx", "scope": "companies"})

    assert response.status_code == 200
    assert isinstance(response, FileResponse)
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"] == (
        'attachment; filename="naumur_toutes-campagnes_entreprises_2026-03-04.xlsx"'
    )
    [file] = made
    assert not file.closed
    content = body(response)
    workbook, sheets = read_xlsx(content)
    assert list(sheets) == ["Entreprises"]
    assert len(sheets["Entreprises"]) == 20
    assert int(response["Content-Length"]) == len(content)
    # An anonymous temporary file (no name on disk): once the response closes it, it is gone.
    assert file.closed
    assert not isinstance(file.name, str)


def test_an_invalid_download_shows_the_form_again_with_its_errors(client, supervisor, db):
    client.force_login(supervisor)
    response = client.get(
        DOWNLOAD, {"format": "pdf", "scope": "calls", "date_from": "02/13/2026", "campaign": 999}
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "Format inconnu : choisissez XLSX ou CSV." in html
    assert "Date de début invalide" in html
    assert "Cette campagne n&#x27;existe pas." in html


def test_an_empty_selection_downloads_a_file_with_just_the_header(client, supervisor, db):
    client.force_login(supervisor)
    csv_response = client.get(DOWNLOAD, {"format": "csv", "scope": "calls"})
    xlsx_response = client.get(DOWNLOAD, {"format": "xlsx", "scope": "companies"})

    assert len(read_csv(body(csv_response))) == 1
    _, sheets = read_xlsx(body(xlsx_response))
    assert len(sheets["Entreprises"]) == 1


@pytest.mark.parametrize("url", [PAGE, DOWNLOAD])
def test_operators_may_not_export(client, operator, outcome_world, url):
    client.force_login(operator)
    response = client.get(url, {"format": "csv", "scope": "calls"})
    assert response.status_code == 403


@pytest.mark.parametrize("url", [PAGE, DOWNLOAD])
def test_anonymous_visitors_are_sent_to_the_login_page(client, db, url):
    response = client.get(url, {"format": "csv", "scope": "calls"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("url", [PAGE, DOWNLOAD])
def test_the_export_urls_refuse_post(client, supervisor, db, url):
    client.force_login(supervisor)
    assert client.post(url, {"format": "csv", "scope": "calls"}).status_code == 405


def test_supervisors_see_the_export_link_and_operators_do_not(client, supervisor, operator):
    client.force_login(supervisor)
    assert f'href="{PAGE}"' in client.get("/").content.decode()
    client.force_login(operator)
    assert f'href="{PAGE}"' not in client.get("/").content.decode()
