"""Table-driven: every sample file (tests/companies/samples/, made by make_samples.py) is read,
previewed and applied, and ends up as the supervisor expects."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from companies import importing
from companies.importing.columns import field_for_header
from companies.importing.report import CONTENT_EXCERPT
from companies.importing.rows import parse_score
from companies.models import Campaign, Company, ImportBatch, Status
from tests.companies.conftest import sample


@dataclass
class Case:
    file: str
    encoding: str
    delimiter: str
    has_header: bool
    created: int
    rejected: dict[int, str] = field(default_factory=dict)  # line -> part of the reason
    warnings: dict[int, str] = field(default_factory=dict)
    companies: dict[str, dict] = field(default_factory=dict)  # name -> expected values
    mapping: list[str] | None = None  # field per column, "" when ignored


# The columns of a company list, in the order a file without header row is read.
EVERY_COLUMN = [
    "name", "phone", "product", "activity", "location", "legal_form", "niu", "validity_score",
    "status",
]  # fmt: skip

CASES = [
    Case(
        "bom_semicolon.csv",
        "utf-8-sig",
        ";",
        True,
        created=3,
        companies={
            "Société Étoile du Wouri": {
                "phone": "+237 6 77 12 34 56",
                "phone_e164": "+237677123456",
                "location": "Douala",
                "validity_score": Decimal("72.50"),  # French decimal comma
                "status": Status.PENDING,
            },
            "Coopérative Bénoué": {"validity_score": Decimal("8.25"), "niu": "P112233445566B"},
        },
        mapping=EVERY_COLUMN,
    ),
    Case(
        "windows1252_accents.csv",
        "cp1252",
        ";",
        True,
        created=2,
        companies={
            "Société Œuvre Bénoué": {"activity": "torréfaction", "location": "Ngaoundéré"},
            "Maison Façade Côtière": {"phone_e164": "+237699112233", "status": Status.DONE},
        },
    ),
    Case(
        "no_header.csv",
        "utf-8",
        ",",
        False,
        created=2,
        companies={
            "Ets Soleil Sanaga": {"product": "manioc", "validity_score": Decimal("40.50")},
            "Atelier Lobé": {"status": Status.CALLBACK, "phone_e164": "+237699223344"},
        },
        mapping=EVERY_COLUMN,
    ),
    Case(
        "quoted_newlines.csv",
        "utf-8",
        ",",
        True,
        created=2,
        # Line numbers count the physical lines: the records before span two lines each.
        rejected={9: "Nom de l'entreprise manquant"},
        companies={
            'Groupe "Mont Cameroun" siège Buea': {"product": "lait, yaourt"},
            "Entreprise Nyong": {"product": "café moulu", "validity_score": None},
        },
    ),
    Case(
        "tab.tsv",
        "utf-8",
        "\t",
        True,
        created=2,
        companies={"Ets Horizon": {"niu": "M990011223344L", "activity": "export"}},
        mapping=["name", "phone", "product", "activity", "location", "niu"],
    ),
    Case(
        "excel_unicode.txt",
        "utf-16",
        "\t",
        True,
        created=2,
        companies={"Coopérative Émeraude": {"location": "Bafoussam"}},
    ),
    Case(
        "missing_shuffled.csv",
        "utf-8",
        ";",
        True,
        created=2,
        companies={
            "Ets Baobab": {"phone_e164": "+237677001122", "niu": "M101010101010N", "product": ""}
        },
        mapping=["phone", "niu", "name", "", "location"],
    ),
    Case(
        "duplicates.csv",
        "utf-8",
        ",",
        True,
        created=3,
        rejected={3: "Doublon de la ligne 2 (même NIU", 5: "Doublon de la ligne 4 (même téléphone"},
        companies={"Ets Prestige": {"phone_e164": "+237677100200"}},
    ),
    Case(
        "mixed_bad.csv",
        "utf-8",
        ";",
        True,
        created=7,
        rejected={
            3: "Nom de l'entreprise manquant",
            4: "Téléphone manquant",
            5: "Score « n/a » : ce n'est pas un nombre",
            8: "La ligne a 10 champs au lieu de 9",
            9: "La ligne a 3 champs au lieu de 9",
        },
        warnings={
            6: "Statut « peut-être » inconnu",
            7: "aucun opérateur ne tient cette entreprise",
            10: "Téléphone « 12 » non reconnu",
        },
        companies={
            "Statut Inconnu": {"status": Status.PENDING},
            "En Cours": {"status": Status.PENDING, "locked_by": None},
            "Numéro Bizarre": {"phone": "12", "phone_e164": ""},
            "Terminée": {"status": Status.DONE},
            "Vides En Fin": {"status": Status.PENDING},
        },
    ),
    Case(
        "mac_roman.csv",
        "mac_roman",
        ";",
        True,
        created=2,
        companies={"Société Générale Bénoué": {"location": "Garoua"}, "Crème Forêt": {}},
    ),
    Case(
        "dos_cp850.csv",
        "cp850",
        ";",
        True,
        created=2,
        companies={"Boulangerie Française": {"location": "Limbé"}},
    ),
    Case(
        "sep_line.csv",
        "utf-8",
        ";",
        True,
        created=1,
        companies={"Ets Sep Excel": {"validity_score": Decimal("1234.50")}},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.file for case in CASES])
def test_preview_reads_the_sample_as_the_supervisor_expects(db, case):
    report = importing.analyse(sample(case.file))

    assert report.layout.encoding == case.encoding
    assert report.layout.delimiter == case.delimiter
    assert report.layout.has_header is case.has_header
    assert report.created == case.created
    assert {issue.line: issue.message for issue in report.errors}.keys() == case.rejected.keys()
    for issue in report.errors:
        assert case.rejected[issue.line] in issue.message
    assert {issue.line for issue in report.warnings} == set(case.warnings)
    for issue in report.warnings:
        assert case.warnings[issue.line] in issue.message
    if case.mapping is not None:
        assert [column["field"] for column in report.layout.mapping()] == case.mapping
    assert report.rows_total == case.created + len(case.rejected)
    assert not Company.objects.exists()  # a preview writes nothing


@pytest.mark.parametrize("case", CASES, ids=[case.file for case in CASES])
def test_apply_creates_exactly_the_good_rows(run_import, case):
    preview, applied, batch = run_import(sample(case.file))

    campaign = Campaign.objects.get(name="Campagne importée")
    assert batch.campaign == campaign and batch.applied_at is not None
    assert Company.objects.filter(campaign=campaign).count() == case.created
    assert (applied.created, applied.rejected) == (preview.created, preview.rejected)
    assert (batch.rows_created, batch.rows_rejected) == (case.created, len(case.rejected))
    assert [error["line"] for error in batch.errors] == sorted(case.rejected)
    assert batch.encoding == case.encoding and batch.delimiter == case.delimiter
    for name, expected in case.companies.items():
        company = Company.objects.get(campaign=campaign, name=name)
        for attribute, value in expected.items():
            assert getattr(company, attribute) == value, (name, attribute)
        assert company.attempts == 0 and not company.is_archived


def test_an_imported_callback_without_date_is_due_now(run_import):
    run_import(sample("no_header.csv"))

    callback = Company.objects.get(name="Atelier Lobé")
    assert callback.status == Status.CALLBACK
    assert callback.is_due_callback


BAD_FILES = [
    ("empty.csv", "Le fichier est vide."),
    ("blank.csv", "Le fichier est vide."),
    ("header_only.csv", "ne contient que la ligne d'en-tête"),
    ("image.csv", "Ce fichier est une image, pas un CSV."),
    ("classeur.csv", "Ce fichier est un classeur (Excel ou LibreOffice), pas un CSV."),
    ("binary.csv", "n'est pas un fichier texte"),
    ("no_phone_column.csv", "Colonne obligatoire introuvable : « téléphone »"),
]


@pytest.mark.parametrize(("name", "message"), BAD_FILES, ids=[name for name, _ in BAD_FILES])
def test_a_file_that_cannot_be_imported_gets_a_clear_message(db, name, message):
    with pytest.raises(importing.ImportFileError) as error:
        importing.analyse(sample(name))

    assert message in str(error.value)
    assert not Company.objects.exists() and not ImportBatch.objects.exists()


def test_a_file_over_the_limit_is_refused_before_reading_it(db, settings):
    settings.IMPORT_MAX_BYTES = 100

    with pytest.raises(importing.ImportFileError) as error:
        importing.analyse(sample("mixed_bad.csv"))

    assert "plus que la limite de 100" in str(error.value)


def test_an_absurdly_long_field_rejects_its_row_only(run_import):
    data = b"name;phone\nEts Normale;677400500\n" + b"X" * 300_000 + b";677400501\n"

    preview, applied, batch = run_import(data)

    assert [issue.line for issue in applied.errors] == [3]
    assert "trop long : 300000 caractères (255 au maximum)" in applied.errors[0].message
    assert len(applied.errors[0].content) <= CONTENT_EXCERPT
    assert list(Company.objects.values_list("name", flat=True)) == ["Ets Normale"]


def test_a_file_of_only_bad_rows_changes_nothing_when_applied(db, run_import):
    data = "name;phone\n;677000001\nSans Téléphone;\n".encode()

    with pytest.raises(importing.ImportApplyError) as error:
        run_import(data)

    assert "Aucune ligne valide" in str(error.value)
    assert not Campaign.objects.exists() and not Company.objects.exists()
    assert ImportBatch.objects.get().applied_at is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("72,5", Decimal("72.50")),
        ("72.5", Decimal("72.50")),
        ("1 234,5", Decimal("1234.50")),
        ("1.234,5", Decimal("1234.50")),
        ("1,234.5", Decimal("1234.50")),
        ("85 %", Decimal("85.00")),
        ("\u202f12,25", Decimal("12.25")),
        ("", None),
    ],
)
def test_scores_are_read_as_people_write_them(raw, expected):
    assert parse_score(raw) == expected


@pytest.mark.parametrize("raw", ["n/a", "12,5,3", "NaN", "Infinity", "1e9", "douze"])
def test_a_score_that_is_not_a_number_is_refused(raw):
    with pytest.raises(ValueError):
        parse_score(raw)


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Raison Sociale", "name"),
        ("RAISON_SOCIALE", "name"),
        ("Téléphone", "phone"),
        ("TEL", "phone"),
        ("N° Tél", "phone"),
        ("Téléphone portable", "mobile"),
        ("forme_juridique", "legal_form"),
        ("Statut juridique", "legal_form"),
        ("Statut", "status"),
        ("Localisation", "location"),
        ("Ville", "location"),
        ("Score de validité (%)", "validity_score"),
        ("Activité", "activity"),
        ("Commentaire", None),
    ],
)
def test_headers_are_matched_loosely(header, field):
    assert field_for_header(header) == field


def test_imported_rows_carry_the_model_defaults(run_import):
    from django.utils import timezone

    before = timezone.now()
    run_import(sample("bom_semicolon.csv"))

    company = Company.objects.get(name="GIE Kola Frères")
    assert before <= company.created_at <= timezone.now()
    assert company.updated_at == company.created_at
    assert (company.attempts, company.disposition, company.status_before_claim) == (0, "", "")
    assert company.next_call_at is None and company.callback_at is None
    assert company.locked_by is None and company.lock_expires_at is None
    assert company.is_archived is False
    # The number's time zone and country, for the calling hours and public holidays.
    assert (company.time_zone, company.country) == ("Africa/Douala", "CM")
    # A new campaign gets the fieldwork defaults: callable on a weekday morning.
    with time_machine.travel(datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Africa/Douala"))):
        assert Company.objects.in_queue().claimable().filter(pk=company.pk).exists()
