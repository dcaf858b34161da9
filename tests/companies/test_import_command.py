"""`manage.py import_companies`: the same pipeline and report as the import page."""

import io

import pytest
from django.core.management import CommandError, call_command

from companies import importing
from companies.management.commands.import_companies import Command
from companies.models import Campaign, Company, ImportBatch
from tests.companies.conftest import SAMPLES, sample


def run(*args, **options):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_companies", *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def test_it_imports_a_new_campaign_and_prints_the_report(admin_user):
    out, _err = run(str(SAMPLES / "mixed_bad.csv"), "--campaign", "Enquête CLI")

    campaign = Campaign.objects.get(name="Enquête CLI")
    assert Company.objects.filter(campaign=campaign).count() == 7
    batch = ImportBatch.objects.get()
    assert batch.applied_at and batch.uploaded_by == admin_user
    assert batch.file.read() == sample("mixed_bad.csv")
    assert "Encodage : UTF-8 · séparateur : point-virgule « ; » · ligne d'en-tête : oui" in out
    assert "ligne 3 : Nom de l'entreprise manquant." in out
    assert "ligne 10 : Téléphone « 12 » non reconnu" in out
    assert "À créer : 7" in out and "Créées : 7" in out and "Rejetées : 5" in out
    assert "Import n° " in out


def test_the_report_is_the_one_of_the_page(admin_user):
    out, _err = run(str(SAMPLES / "duplicates.csv"), "--dry-run")

    expected = importing.format_report(
        importing.analyse(sample("duplicates.csv")), applied=False, filename="duplicates.csv"
    )
    assert expected in out


def test_dry_run_writes_nothing(admin_user):
    out, _err = run(str(SAMPLES / "bom_semicolon.csv"), "--dry-run")

    assert "Simulation (--dry-run) : rien n'a été enregistré." in out
    assert not Campaign.objects.exists() and not ImportBatch.objects.exists()


def test_add_and_replace_work_on_an_existing_campaign(admin_user, campaign, make_company):
    old = make_company(name="Ancienne", phone="699000000", niu="")
    run(str(SAMPLES / "no_header.csv"), "--campaign", campaign.name, "--mode", "add")
    assert Company.objects.filter(campaign=campaign).count() == 3

    out, _err = run(
        str(SAMPLES / "no_header.csv"), "--campaign", campaign.name, "--mode", "replace"
    )

    assert not Company.objects.filter(pk=old.pk).exists()
    assert "Supprimées (sans appel) : 1" in out and "Inchangées : 2" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mode", "add"], "--campaign est obligatoire avec --mode add."),
        (["--mode", "replace", "--campaign", "Inconnue"], "Aucune campagne ne s'appelle"),
        (["--user", "personne"], "Aucun utilisateur « personne »."),
    ],
)
def test_wrong_options_get_a_clear_message(admin_user, args, message):
    with pytest.raises(CommandError) as error:
        run(str(SAMPLES / "no_header.csv"), *args)

    assert message in str(error.value)
    assert not Company.objects.exists()


@pytest.mark.parametrize(
    ("name", "message"),
    [("image.csv", "une image"), ("empty.csv", "vide"), ("header_only.csv", "en-tête")],
)
def test_a_bad_file_is_refused_and_changes_nothing(admin_user, name, message):
    with pytest.raises(CommandError) as error:
        run(str(SAMPLES / name))

    assert message in str(error.value)
    assert not Campaign.objects.exists() and not ImportBatch.objects.exists()


def test_a_missing_file_is_explained(db):
    with pytest.raises(CommandError) as error:
        run("/nulle/part.csv")

    assert "Fichier introuvable" in str(error.value)


def test_without_an_admin_the_author_must_be_given(supervisor):
    with pytest.raises(CommandError) as error:
        run(str(SAMPLES / "no_header.csv"))
    assert "--user" in str(error.value)

    run(str(SAMPLES / "no_header.csv"), "--user", supervisor.username)
    assert ImportBatch.objects.get().uploaded_by == supervisor


def test_reading_options_override_the_detection(admin_user):
    out, _err = run(str(SAMPLES / "bom_semicolon.csv"), "--no-header", "--dry-run")

    assert "ligne d'en-tête : non" in out and "Lignes lues : 4" in out


def test_large_files_show_a_progress_bar(admin_user, monkeypatch):
    monkeypatch.setattr(Command, "progress_min_bytes", 10)

    _out, err = run(str(SAMPLES / "mixed_bad.csv"))

    assert "Analyse" in err and "Enregistrement" in err and "100 %" in err
    assert "[" + "#" * 30 + "]" in err


def test_small_files_do_not(admin_user):
    _out, err = run(str(SAMPLES / "mixed_bad.csv"))

    assert err == ""
