"""`manage.py export_calls`: the same export as the page, to a file."""

import io
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from tests.exports.conftest import read_csv, read_xlsx


def run(*args):
    out = io.StringIO()
    call_command("export_calls", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_it_writes_the_same_csv_as_the_page(client, supervisor, outcome_world, tmp_path):
    target = tmp_path / "appels.csv"
    message = run(
        "--format", "csv", "--delimiter", ";", "-o", str(target), "--base-url", "http://testserver/"
    )

    client.force_login(supervisor)
    response = client.get("/export/telecharger/", {"format": "csv-semicolon", "scope": "calls"})
    assert target.read_bytes() == b"".join(response.streaming_content)
    assert "18 ligne(s) exportée(s)" in message
    assert not list(tmp_path.glob(".naumur-export-*"))


def test_it_writes_an_xlsx_of_companies_for_one_campaign(outcome_world, tmp_path):
    target = tmp_path / "entreprises.xlsx"
    run(
        "--format",
        "xlsx",
        "--scope",
        "companies",
        "--campaign",
        "Enquête transformateurs 2026",
        "-o",
        str(target),
    )

    _, sheets = read_xlsx(target.read_bytes())
    assert len(sheets["Entreprises"]) == 1 + 19


def test_filters_from_the_command_line(outcome_world, tmp_path, operator2):
    target = tmp_path / "out.csv"
    run(
        "--operator",
        operator2.username,
        "--number-status",
        "answered",
        "--call-status",
        "accepted",
        "--from",
        "2026-03-02",
        "--to",
        "2026-03-02",
        "--campaign",
        str(outcome_world.campaign.pk),
        "-o",
        str(target),
    )

    rows = read_csv(target.read_bytes())
    assert [row[0] for row in rows[1:]] == [
        "Entreprise 08",
        "Entreprise 10",
        "Entreprise 12",
        "Entreprise 14",
    ]


def test_without_output_it_names_the_file_like_the_page(
    outcome_world, tmp_path, monkeypatch, time_machine
):
    time_machine.move_to(datetime(2026, 3, 4, 10, 0, tzinfo=UTC))
    monkeypatch.chdir(tmp_path)
    run("--format", "xlsx")
    assert (tmp_path / "naumur_toutes-campagnes_appels_2026-03-04.xlsx").exists()


def test_relative_links_without_a_base_url(outcome_world, tmp_path):
    target = tmp_path / "out.csv"
    message = run("-o", str(target))
    rows = read_csv(target.read_bytes())
    latest = outcome_world.recordings[8][-1]

    assert rows[8][22] == reverse("calls:recording", args=[latest.pk])
    assert "--base-url" in message


def test_csv_to_standard_output(outcome_world, capsysbinary):
    call_command("export_calls", "--scope", "companies", "-o", "-", stderr=io.StringIO())
    rows = read_csv(capsysbinary.readouterr().out)
    assert len(rows) == 20


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "pdf"], "Format inconnu"),
        (["--scope", "tout"], "Contenu inconnu"),
        (["--delimiter", "|"], "Séparateur CSV inconnu"),
        (["--campaign", "Pas une campagne"], "Campagne introuvable : « Pas une campagne »"),
        (["--campaign", "99999"], "Cette campagne n'existe pas."),
        (["--operator", "personne"], "Opérateur introuvable : « personne »"),
        (["--from", "13/31/2026"], "Date de début invalide"),
        (["--to", "9999-12-31"], r"Date hors des limites \(2000 à 2099\)"),
        (["--from", "2026-03-05", "--to", "2026-03-01"], "La date de fin doit être postérieure"),
        (["--number-status", "perdu"], "Statut numéros inconnu."),
        (["--format", "xlsx", "-o", "-"], "Le format XLSX s'écrit dans un fichier"),
        (["-o", "/nonexistent-dir/x.csv"], "Dossier introuvable"),
    ],
)
def test_bad_options_are_refused_in_french(db, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_a_failed_export_leaves_no_file_behind(outcome_world, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disque plein")

    monkeypatch.setattr("exports.management.commands.export_calls.write_csv", broken)
    target = tmp_path / "out.csv"
    with pytest.raises(RuntimeError):
        run("-o", str(target))
    assert list(tmp_path.iterdir()) == []
