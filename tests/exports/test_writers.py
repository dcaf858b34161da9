"""The export's rows and both writers, checked cell by cell against hand-written golden rows."""

import csv
import io
import re
import zipfile
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from calls.models import CallRecord
from exports import writers, xlsx
from exports.columns import NUMBER, TEXT, Column, wall_clock
from exports.writers import (
    Export,
    Filters,
    Scope,
    csv_chunks,
    export_filename,
    recording_link_template,
)
from exports.xlsx import ExportWorksheet, write_xlsx
from tests.conftest import ALWAYS_OPEN
from tests.exports.conftest import cell_values, make_call, read_csv, read_xlsx

CAMPAIGN = "Enquête transformateurs 2026"
SITE = "https://naumur.example.org"

HEADERS = [
    "Entreprise",
    "Téléphone",
    "Produit",
    "Activité",
    "Localisation",
    "Forme juridique",
    "NIU",
    "Score",
    "Statut numéros",
    "Statut appel",
    "Présentation",
    "Questions libres",
    "Questions orientées",
    "Enquête",
    "Horodatage",
    "Audio",
    "Campagne",
    "Opérateur",
    "Tentative",
    "Rappel prévu",
    "Durée audio (s)",
    "Code AAPOR",
    "Lien de l'enregistrement",
    "Santé audio",
    "Numéro appelé",
    "Type du numéro appelé",
    "Autres numéros",
    "Personne à contacter",
    "Fonction du contact",
    "Ligne directe du contact",
    "E-mail du contact",
]
# The last of the columns both scopes share: the company is on the do-not-call list
# (tests/companies/test_do_not_call.py).
DO_NOT_CALL = "Ne plus appeler"
HEADERS = HEADERS + [DO_NOT_CALL, "Consentement enregistrement"]
COMPANY_HEADERS = HEADERS + ["Statut de l'entreprise", "Archivée"]

AWA, PAUL = "Awa Ngo", "Paul Eto"
C, P = "Complet", "Partiel"
ANSWERED = "Décroche"
PARTIAL_CODE = "1.2 Entretien partiel"


def company_cells(n, name=None, score="default"):
    """The company part of a row for the n-th company made by the make_company fixture."""
    return [
        name or f"Entreprise {n:02d}",
        f"6 77 00 00 {n:02d}",
        "cacao",
        "transformation",
        "Douala",
        "SARL",
        f"M0000000{n:05d}A",
        n + 0.5 if score == "default" else score,
    ]


def at(hour, minute):
    return datetime(2026, 3, 2, hour, minute)


def link(world, n, index=-1):
    recording = world.recordings[n][index]
    return SITE + reverse("calls:recording", kwargs={"recording_id": recording.pk})


def golden_call_rows(world):
    """Every outcome, as the survey team's client must read it (local time, French labels);
    no company is on the do-not-call list."""
    return call_rows(world)


def call_rows(world):
    # fmt: off
    call_parts = [
        # statut numéros, statut appel, 3 levels, enquête, horodatage, audio
        (1, ["Invalide", "", "", "", "", "non", at(9, 1), "non"],
            [AWA, 1, None, 0, "4.30 Numéro non valide", None]),
        (2, ["Pas de réponse", "", "", "", "", "non", at(9, 2), "non"],
            [PAUL, 1, None, 0, "3.13 Pas de réponse", None]),
        (3, ["Répondeur", "", "", "", "", "non", at(9, 3), "non"],
            [AWA, 1, None, 0, "3.14 Répondeur", None]),
        (4, [ANSWERED, "Mauvais numéro", "", "", "", "non", at(9, 4), "non"],
            [PAUL, 1, None, 0, "4.30 Numéro non valide", None]),
        (5, [ANSWERED, "Pas transformateur", "", "", "", "non", at(9, 5), "non"],
            [AWA, 1, None, 0, "4.70 Non éligible (pas transformateur)", None]),
        (6, [ANSWERED, "Rappel", "", "", "", "non", at(9, 6), "oui"],
            [PAUL, 1, datetime(2026, 3, 5, 14, 0), 42,
             "2.21 Non-contact, répondant indisponible (rappel)", link(world, 6)]),
        (7, [ANSWERED, "Refus questionnaire", "", "", "", "non", at(9, 7), "non"],
            [AWA, 1, None, 0, "2.11 Refus", None]),
        (8, [ANSWERED, "Accepte questionnaire", C, C, C, "oui", at(9, 8), "oui"],
            [PAUL, 1, None, 91, "1.1 Entretien complet", link(world, 8)]),
        (9, [ANSWERED, "Accepte questionnaire", C, C, P, "oui", at(9, 9), "non"],
            [AWA, 1, None, 0, PARTIAL_CODE, None]),
        (10, [ANSWERED, "Accepte questionnaire", C, P, C, "oui", at(9, 10), "non"],
            [PAUL, 1, None, 0, PARTIAL_CODE, None]),
        (11, [ANSWERED, "Accepte questionnaire", C, P, P, "oui", at(9, 11), "non"],
            [AWA, 1, None, 0, PARTIAL_CODE, None]),
        (12, [ANSWERED, "Accepte questionnaire", P, C, C, "oui", at(9, 12), "non"],
            [PAUL, 1, None, 0, PARTIAL_CODE, None]),
        (13, [ANSWERED, "Accepte questionnaire", P, C, P, "oui", at(9, 13), "non"],
            [AWA, 1, None, 0, PARTIAL_CODE, None]),
        (14, [ANSWERED, "Accepte questionnaire", P, P, C, "oui", at(9, 14), "non"],
            [PAUL, 1, None, 0, PARTIAL_CODE, None]),
        (15, [ANSWERED, "Accepte questionnaire", P, P, P, "oui", at(9, 15), "non"],
            [AWA, 1, None, 0, PARTIAL_CODE, None]),
    ]
    # fmt: on
    rows = [
        company_cells(n) + part + [CAMPAIGN] + rest + (PEOPLE_08 if n == 8 else NO_NUMBERS)
        for n, part, rest in call_parts
    ]
    twice = company_cells(16, "Société Deux Appels", None)
    archived = company_cells(17, "Ancienne Coopérative", -5)
    rows += [
        twice
        + ["Pas de réponse", "", "", "", "", "non", at(10, 0), "non", CAMPAIGN]
        + [AWA, 1, None, 0, "3.13 Pas de réponse", None]
        + ["6 77 00 00 16", "Standard", TWICE_OTHERS, "", "", "", ""],
        archived
        + ["Invalide", "", "", "", "", "non", at(11, 0), "non", CAMPAIGN]
        + [AWA, 1, None, 0, "4.30 Numéro non valide", None]
        + NO_NUMBERS,
        twice
        + [ANSWERED, "Refus questionnaire", "", "", "", "non", at(12, 0), "non", CAMPAIGN]
        + [PAUL, 2, None, 0, "2.11 Refus", None]
        + ["699 00 00 16", "Mobile", TWICE_OTHERS, "", "", "", ""],
    ]
    # The health of the linked recording (the latest with audio).
    health = {link(world, 6): "complet", link(world, 8): "incomplet : 2 morceaux manquants"}
    # The consent to record: given where audio was kept, refused on the 7th call.
    consent = {
        "Entreprise 06": "donné",
        "Entreprise 07": "enregistrement refusé",
        "Entreprise 08": "donné",
    }
    at_link = HEADERS.index("Lien de l'enregistrement") + 1
    return [
        row[:at_link]
        + [health.get(row[at_link - 1])]
        + row[at_link:]
        + ["non", consent.get(row[0], "non demandé")]  # not listed; the consent to record
        for row in rows
    ]


# Numéro appelé, its type, the other numbers, then the contact persons' name, role, direct
# line, e-mail: none for a company with only its main number, called on no number in particular.
NO_NUMBERS = ["", "", "", "", "", "", ""]
TWICE_OTHERS = "Mobile : 699 00 00 16 | Autre : 233 00 00 16 (hors service)"
# Two people, in the order of their names, aligned column by column; the direct line of one
# is one of the company's numbers.
PEOPLE_08 = [
    "",
    "",
    "Ligne directe : 655 44 33 22",
    "M. Abena | Mme Ngo Bénoué",
    "Comptable | Directrice",
    " | 655 44 33 22",
    " | ngo.benoue@etoile.cm",
]


def golden_company_rows(world):
    """One row per company: its latest call, uncalled and draft-only companies with an empty
    call part, the archived company flagged."""
    by_company = {row[0]: row for row in call_rows(world)}  # the latest call wins
    rows = [by_company[f"Entreprise {n:02d}"] + ["Terminé", "non"] for n in range(1, 16)]
    empty_call = ["", "", "", "", "", None, None, None, CAMPAIGN, None, None, None, None, "", None]
    empty_call += [None] + NO_NUMBERS + ["non", None]  # no recording, health, numbers, consent
    rows += [
        by_company["Société Deux Appels"] + ["Terminé", "non"],
        by_company["Ancienne Coopérative"] + ["Terminé", "oui"],
        company_cells(18, "Entreprise Jamais Appelée", 70) + empty_call + ["À appeler", "non"],
        company_cells(19, "Brouillon SARL", None) + empty_call + ["À appeler", "non"],
    ]
    return rows


EACH_SCOPE = pytest.mark.parametrize(
    ("scope", "headers", "golden"),
    [
        (Scope.CALLS, HEADERS, golden_call_rows),
        (Scope.COMPANIES, COMPANY_HEADERS, golden_company_rows),
    ],
)


def as_csv(value, decimal_comma=False):
    """How a typed golden cell reads in the CSV."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float):
        text = str(value)
        return text.replace(".", ",") if decimal_comma else text
    return str(value)


def csv_bytes(export, delimiter=","):
    return b"".join(csv_chunks(export, delimiter))


def xlsx_bytes(export):
    buffer = io.BytesIO()
    write_xlsx(export, buffer)
    return buffer.getvalue()


def site_links():
    return recording_link_template(lambda path: SITE + path)


@EACH_SCOPE
def test_csv_matches_the_golden_rows_cell_by_cell(outcome_world, scope, headers, golden):
    export = Export(scope, Filters(), site_links())
    expected = [[as_csv(value) for value in row] for row in golden(outcome_world)]

    assert read_csv(csv_bytes(export)) == [headers] + expected


def test_semicolon_csv_uses_the_decimal_comma_of_french_excel(outcome_world):
    export = Export(Scope.CALLS, Filters(), site_links())
    expected = [
        [as_csv(v, decimal_comma=True) for v in row] for row in golden_call_rows(outcome_world)
    ]

    rows = read_csv(csv_bytes(export, ";"), delimiter=";")

    assert rows == [HEADERS] + expected
    assert rows[1][7] == "1,5"


def test_csv_text_is_pinned_byte_for_byte(outcome_world):
    """Dates ISO in local time, labels not codes, one line per call, CRLF line ends."""
    content = csv_bytes(Export(Scope.CALLS, Filters(), site_links()), ";")
    lines = content.decode("utf-8-sig").split("\r\n")

    assert lines[1] == (
        "Entreprise 01;6 77 00 00 01;cacao;transformation;Douala;SARL;M000000000001A;1,5;"
        "Invalide;;;;;non;2026-03-02 09:01:00;non;Enquête transformateurs 2026;Awa Ngo;1;;0;"
        "4.30 Numéro non valide;;;;;;;;;;non;non demandé"
    )
    assert lines[-1] == ""
    assert len(lines) == 1 + 18 + 1


@EACH_SCOPE
def test_xlsx_matches_the_golden_rows_cell_by_cell(outcome_world, scope, headers, golden):
    export = Export(scope, Filters(), site_links())
    workbook, sheets = read_xlsx(xlsx_bytes(export))
    title = "Appels" if scope == Scope.CALLS else "Entreprises"
    expected = [[None if value == "" else value for value in row] for row in golden(outcome_world)]

    assert list(sheets) == [title]
    assert cell_values(sheets[title]) == [headers] + expected


def test_xlsx_cells_are_typed(outcome_world):
    workbook, sheets = read_xlsx(xlsx_bytes(Export(Scope.CALLS, Filters(), site_links())))
    header, first, *_ = sheets["Appels"]
    sixth = sheets["Appels"][6]

    assert first[7].data_type == "n" and first[7].value == 1.5  # score
    assert first[14].is_date and first[14].value == datetime(2026, 3, 2, 9, 1)  # horodatage
    assert first[14].number_format == "dd/mm/yyyy hh:mm:ss"
    assert sixth[19].is_date and sixth[19].value == datetime(2026, 3, 5, 14, 0)  # rappel prévu
    assert first[18].data_type == "n" and first[20].data_type == "n"  # tentative, durée
    assert first[1].data_type == "s" and first[6].data_type == "s"  # phone and NIU stay text
    assert first[21].value == "4.30 Numéro non valide"
    assert all(cell.font.b for cell in header)


def test_xlsx_has_a_frozen_header_an_autofilter_and_column_widths(outcome_world):
    workbook, _ = read_xlsx(xlsx_bytes(Export(Scope.COMPANIES, Filters(), site_links())))
    sheet = workbook["Entreprises"]

    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:AI20"
    widths = {letter: sheet.column_dimensions[letter].width for letter in ("A", "B", "H", "W")}
    assert widths["A"] > widths["B"] > widths["H"]
    assert widths["W"] >= 40


def test_companies_scope_reads_the_latest_call_in_one_query(
    outcome_world, django_assert_num_queries
):
    export = Export(Scope.COMPANIES, Filters(), site_links())
    # The rows with their latest call, then the numbers and the people of the chunk's companies.
    with django_assert_num_queries(3):
        rows = list(export.rows())
    assert len(rows) == 19


def test_calls_scope_reads_every_call_in_one_query(outcome_world, django_assert_num_queries):
    export = Export(Scope.CALLS, Filters(), site_links())
    with django_assert_num_queries(3):
        rows = list(export.rows())
    assert len(rows) == 18
    assert "Brouillon SARL" not in {row[0] for row in rows}  # drafts are not calls yet


@pytest.mark.parametrize("scope", [Scope.CALLS, Scope.COMPANIES])
def test_numbers_and_people_are_read_once_per_block_never_once_per_row(
    campaign, make_company, operator, monkeypatch, django_assert_max_num_queries, scope
):
    from companies.models import ContactPerson, PhoneLabel

    for n in range(25):
        company = make_company(name=f"Société {n:02d}")
        company.merge_numbers([(f"699 10 00 {n:02d}", PhoneLabel.MOBILE)])
        ContactPerson(company=company, name=f"Personne {n:02d}", role="DG").save()
        at = datetime(2026, 3, 2, 8, n, tzinfo=UTC)
        make_call(company, operator, "no_answer", submitted_at=at)

    # One block: the rows, then the numbers and the people of all their companies.
    with django_assert_max_num_queries(3):
        rows = list(Export(scope, Filters(), site_links()).rows())
    # Three blocks of 10 rows, converted 5 at a time: two queries more per block, none per row.
    monkeypatch.setattr(writers, "BLOCK_ROWS", 10)
    monkeypatch.setattr(writers, "CHUNK_ROWS", 5)
    export = Export(scope, Filters(), site_links())
    with django_assert_max_num_queries(1 + 2 * 3):
        assert list(export.rows()) == rows

    assert len(rows) == 25
    for n, row in enumerate(rows):  # each block's own companies, not the block before's
        cells = dict(zip(export.headers, row, strict=True))
        assert cells["Entreprise"] == f"Société {n:02d}"
        assert cells["Autres numéros"] == f"Mobile : 699 10 00 {n:02d}"
        assert cells["Personne à contacter"] == f"Personne {n:02d}"
        assert cells["Fonction du contact"] == "DG"


# --- One record per column -----------------------------------------------------------------


def test_a_new_column_is_one_record_for_the_query_both_formats_and_both_scopes(
    outcome_world, monkeypatch
):
    from calls.models import CallRecord
    from companies.models import Company

    notes = Column("Notes", 30, TEXT, "notes")  # a call's field: empty for an uncalled company
    attempts = Column("Tentatives de l'entreprise", 12, NUMBER, "company__attempts")
    monkeypatch.setattr(writers, "COLUMNS", [*writers.COLUMNS, notes, attempts])
    first_call, first_company = outcome_world.calls[0], outcome_world.companies[0]
    CallRecord.objects.filter(pk=first_call.pk).update(notes="=1+1 rappeler")
    Company.objects.filter(pk=first_company.pk).update(attempts=3)

    calls = read_csv(csv_bytes(Export(Scope.CALLS, Filters(), site_links())))
    companies = read_csv(csv_bytes(Export(Scope.COMPANIES, Filters(), site_links())))
    _, sheets = read_xlsx(xlsx_bytes(Export(Scope.COMPANIES, Filters(), site_links())))
    sheet = sheets["Entreprises"]

    end = len(HEADERS)  # where the new columns are, before the company scope's own
    assert calls[0][-2:] == ["Notes", "Tentatives de l'entreprise"]
    assert calls[1][-2:] == ["'=1+1 rappeler", "3"]  # text neutralised, a number as is
    assert companies[0][end:] == ["Notes", "Tentatives de l'entreprise"] + COMPANY_HEADERS[end:]
    assert companies[1][end : end + 2] == ["'=1+1 rappeler", "3"]
    uncalled = next(row for row in companies if row[0] == "Entreprise Jamais Appelée")
    assert uncalled[end : end + 2] == ["", "0"]
    assert [cell.value for cell in sheet[1][end : end + 2]] == ["=1+1 rappeler", 3]
    assert sheet[1][end].quotePrefix and sheet[1][end + 1].data_type == "n"
    assert sheet[0][end].parent.column_dimensions[sheet[0][end].column_letter].width > 30


# --- Formula injection ----------------------------------------------------------------------

DANGEROUS = [
    '=HYPERLINK("http://evil.example","Cliquez")',
    "+237 6 77 00 01 02",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
HARMLESS = ["Société = Avenir", "SARL", " =1+1", "1-2"]


@pytest.fixture
def injection_world(campaign, make_company, operator):
    companies = []
    for n, text in enumerate(DANGEROUS + HARMLESS):
        company = make_company(
            name=text, phone=text, product=text, niu=text, validity_score=Decimal("-5")
        )
        make_call(company, operator, "invalid", submitted_at=datetime(2026, 3, 2, 8, n, tzinfo=UTC))
        companies.append(company)
    return companies


def ooxml_unescape(text):
    return re.sub(r"_x([0-9A-F]{4})_", lambda match: chr(int(match[1], 16)), text)


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_csv_neutralises_cells_that_would_be_formulas(injection_world, delimiter):
    rows = read_csv(csv_bytes(Export(Scope.CALLS, Filters()), delimiter), delimiter)[1:]

    for row, text in zip(rows, DANGEROUS + HARMLESS, strict=True):
        expected = "'" + text if text in DANGEROUS else text
        assert row[0] == row[1] == row[2] == row[6] == expected
        # A negative score is a number, not text: never prefixed.
        assert row[7] == "-5"


def test_csv_phone_numbers_stay_readable_text_for_excel(injection_world):
    rows = read_csv(csv_bytes(Export(Scope.CALLS, Filters()), ";"), ";")

    assert rows[2][1] == "'+237 6 77 00 01 02"


def test_xlsx_writes_every_text_as_a_string_never_a_formula(injection_world):
    workbook, sheets = read_xlsx(xlsx_bytes(Export(Scope.CALLS, Filters())))
    rows = sheets["Appels"][1:]

    for row, text in zip(rows, DANGEROUS + HARMLESS, strict=True):
        for cell in (row[0], row[1], row[2], row[6]):
            # A control character is stored as the OOXML escape _x000D_, which Excel decodes
            # and openpyxl leaves as is.
            assert ooxml_unescape(cell.value) == text
            assert cell.data_type == "s"
            # Excel's own apostrophe: the cell stays text even when a person edits it.
            assert cell.quotePrefix is (text in DANGEROUS)
        assert row[7].data_type == "n" and row[7].value == -5
        assert row[7].quotePrefix is False
    every_cell = [cell for row in sheets["Appels"] for cell in row]
    assert not [cell for cell in every_cell if cell.data_type == "f"]


# --- Accents, empty results, limits ---------------------------------------------------------

ACCENTED = "Coopérative Ébène & Fils — Garoua, « Ñ œ ç ü » 東京"


@pytest.fixture
def accented_world(campaign, make_company, operator):
    campaign.name = "Campagne d'été à Yaoundé"
    campaign.save()
    company = make_company(name=ACCENTED, location="Bafoussam-Bamendjou", activity="séchage")
    make_call(
        company, operator, "answered", "refused", submitted_at=datetime(2026, 3, 2, tzinfo=UTC)
    )
    return company


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_accents_round_trip_through_csv(accented_world, delimiter):
    rows = read_csv(csv_bytes(Export(Scope.CALLS, Filters()), delimiter), delimiter)

    assert rows[1][0] == ACCENTED
    assert rows[1][3] == "séchage"
    assert rows[1][16] == "Campagne d'été à Yaoundé"
    assert rows[0][3] == "Activité"


def test_accents_round_trip_through_xlsx(accented_world):
    workbook, sheets = read_xlsx(xlsx_bytes(Export(Scope.CALLS, Filters())))
    values = cell_values(sheets["Appels"])

    assert values[1][0] == ACCENTED
    assert values[1][16] == "Campagne d'été à Yaoundé"
    assert values[0][12] == "Questions orientées"


@pytest.mark.parametrize("scope", [Scope.CALLS, Scope.COMPANIES])
def test_a_company_on_the_do_not_call_list_is_flagged_in_both_scopes(outcome_world, scope):
    from companies import donotcall

    user = CallRecord.objects.first().operator
    donotcall.add(niu="M000000000007A", reason="Refus définitif", user=user)
    flags = {row[0]: row[HEADERS.index(DO_NOT_CALL)] for row in Export(scope, Filters()).rows()}
    assert flags["Entreprise 07"] == "oui"
    assert {flag for name, flag in flags.items() if name != "Entreprise 07"} == {"non"}


@pytest.mark.parametrize("scope", [Scope.CALLS, Scope.COMPANIES])
def test_an_empty_result_gives_just_the_header_in_both_formats(db, scope):
    export = Export(scope, Filters())
    headers = HEADERS if scope == Scope.CALLS else COMPANY_HEADERS

    assert read_csv(csv_bytes(export)) == [headers]
    workbook, sheets = read_xlsx(xlsx_bytes(export))
    assert [cell_values(rows) for rows in sheets.values()] == [[headers]]
    assert workbook.worksheets[0].freeze_panes == "A2"


def test_xlsx_continues_on_a_new_sheet_past_excels_row_limit(outcome_world, monkeypatch):
    # Excel stops at 1,048,576 rows a sheet; with a limit of 8 (header + 7 rows) 18 calls
    # need three sheets, each with its header, nothing lost or repeated.
    monkeypatch.setattr(xlsx, "XLSX_MAX_ROWS", 8)
    workbook, sheets = read_xlsx(xlsx_bytes(Export(Scope.CALLS, Filters(), site_links())))

    assert list(sheets) == ["Appels", "Appels (2)", "Appels (3)"]
    assert [len(rows) for rows in sheets.values()] == [8, 8, 5]
    assert all(cell_values(rows)[0] == HEADERS for rows in sheets.values())
    data = [row for rows in sheets.values() for row in cell_values(rows)[1:]]
    expected = [[None if v == "" else v for v in row] for row in golden_call_rows(outcome_world)]
    assert data == expected
    assert workbook["Appels (3)"].auto_filter.ref == "A1:AG5"


# --- Filters ----------------------------------------------------------------------------------


def names(scope, **filters):
    return [row[0] for row in Export(scope, Filters(**filters)).rows()]


def test_filters_by_campaign(outcome_world, make_company, operator):
    from companies.models import Campaign

    other = Campaign.objects.create(name="Autre campagne", **ALWAYS_OPEN)
    company = make_company(campaign=other, name="Autre Société")
    make_call(company, operator, "invalid", submitted_at=datetime(2026, 3, 2, tzinfo=UTC))

    assert names(Scope.CALLS, campaign=other) == ["Autre Société"]
    assert names(Scope.COMPANIES, campaign=other) == ["Autre Société"]
    assert len(names(Scope.CALLS, campaign=outcome_world.campaign)) == 18
    assert len(names(Scope.COMPANIES, campaign=outcome_world.campaign)) == 19
    assert len(names(Scope.CALLS)) == 19


def test_date_range_is_in_local_days_both_ends_included(campaign, make_company, operator):
    # Douala is UTC+1: 23:30 local on the 2nd is 22:30 UTC, 00:30 local on the 3rd is 23:30 UTC
    # on the 2nd. The day boundary is the local one.
    late = make_company(name="Tard le 2")
    early = make_company(name="Tôt le 3")
    make_call(late, operator, "invalid", submitted_at=datetime(2026, 3, 2, 22, 30, tzinfo=UTC))
    make_call(early, operator, "invalid", submitted_at=datetime(2026, 3, 2, 23, 30, tzinfo=UTC))
    day2, day3 = datetime(2026, 3, 2).date(), datetime(2026, 3, 3).date()

    assert names(Scope.CALLS, date_from=day2, date_to=day2) == ["Tard le 2"]
    assert names(Scope.CALLS, date_from=day3) == ["Tôt le 3"]
    assert names(Scope.CALLS, date_to=day3) == ["Tard le 2", "Tôt le 3"]


def test_filters_by_operator_number_status_and_call_status(outcome_world, operator2):
    assert len(names(Scope.CALLS, operator=operator2)) == 8
    assert names(Scope.CALLS, number_status="voicemail") == ["Entreprise 03"]
    assert names(Scope.CALLS, call_status="refused") == [
        "Entreprise 07",
        "Société Deux Appels",
    ]
    assert len(names(Scope.CALLS, number_status="answered", call_status="accepted")) == 8


def test_company_scope_filters_apply_to_the_latest_call(outcome_world, operator, operator2):
    # "Société Deux Appels": no answer by Awa first, refused by Paul last.
    assert "Société Deux Appels" not in names(Scope.COMPANIES, number_status="no_answer")
    assert "Société Deux Appels" in names(Scope.COMPANIES, call_status="refused")
    assert "Société Deux Appels" in names(Scope.COMPANIES, operator=operator2)
    assert "Société Deux Appels" not in names(Scope.COMPANIES, operator=operator)
    # Any call filter leaves out the companies that have no call to match.
    assert "Entreprise Jamais Appelée" not in names(Scope.COMPANIES, operator=operator)
    assert "Brouillon SARL" not in names(Scope.COMPANIES, call_status="accepted")


def test_count_matches_the_rows(outcome_world, operator):
    for scope in (Scope.CALLS, Scope.COMPANIES):
        for filters in (Filters(), Filters(operator=operator), Filters(number_status="invalid")):
            export = Export(scope, filters)
            assert export.count() == len(list(export.rows()))


# --- Links and file names ---------------------------------------------------------------------


def test_links_point_at_the_playback_page_of_the_latest_audible_recording(outcome_world):
    rows = list(Export(Scope.CALLS, Filters(), site_links()).rows())

    assert rows[7][22] == link(outcome_world, 8) == link(outcome_world, 8, index=1)
    assert rows[8][22] == ""  # an empty recording is no audio and gets no link


def test_filenames_carry_the_campaign_scope_and_date(campaign, time_machine):
    time_machine.move_to(datetime(2026, 3, 2, 23, 30, tzinfo=UTC))  # the 3rd in Douala

    assert export_filename(campaign, Scope.CALLS, "csv") == (
        "naumur_enquete-transformateurs-2026_appels_2026-03-03.csv"
    )
    assert export_filename(None, Scope.COMPANIES, "xlsx") == (
        "naumur_toutes-campagnes_entreprises_2026-03-03.xlsx"
    )
    campaign.name = "東京"
    assert export_filename(campaign, Scope.CALLS, "csv") == (
        f"naumur_campagne-{campaign.pk}_appels_2026-03-03.csv"
    )


# --- The XLSX row writer and CSV chunks -------------------------------------------------------

AWKWARD_TEXTS = [
    'Dupont, "Fils"; Cie',
    " espaces autour ",
    "Ligne 1\nLigne 2",
    "Société & Fils <SARL>",
    "Texte _x0041_ littéral",
    "Bell \x07 et tab\tmilieu",
    "=1+1",
]


@pytest.fixture
def awkward_world(outcome_world, make_company, operator):
    for n, text in enumerate(AWKWARD_TEXTS):
        company = make_company(name=text, product=text, validity_score=Decimal("-0.25"))
        make_call(
            company, operator, "voicemail", submitted_at=datetime(2026, 3, 3, 8, n, tzinfo=UTC)
        )
    return outcome_world


def same_workbooks(export, monkeypatch):
    """The workbook of the whole-row writer, and xlsxwriter's own cell by cell: XML equal."""
    ours = zipfile.ZipFile(io.BytesIO(xlsx_bytes(export)))
    with monkeypatch.context() as patch:
        patch.setattr(ExportWorksheet, "write_export_row", ExportWorksheet.write_cells)
        reference = zipfile.ZipFile(io.BytesIO(xlsx_bytes(export)))

    names = sorted(set(ours.namelist()) - {"docProps/core.xml"})  # core.xml holds the time
    assert names == sorted(set(reference.namelist()) - {"docProps/core.xml"})
    for name in names:
        assert ours.read(name) == reference.read(name), name


@pytest.mark.parametrize("scope", [Scope.CALLS, Scope.COMPANIES])
def test_the_whole_row_writer_writes_exactly_what_xlsxwriter_writes(
    awkward_world, scope, monkeypatch
):
    same_workbooks(Export(scope, Filters(), site_links()), monkeypatch)


@pytest.mark.parametrize(
    "text", ["é" * 40_000, "😀" * 20_000, "a" * 32_766 + "😀b", " " + "😀" * 16_383 + "c"]
)
def test_texts_past_excels_limit_are_cut_where_xlsxwriter_cuts_them(text, monkeypatch):
    # Excel counts a text's length in UTF-16 units (an emoji is two), at most 32,767. The
    # schema keeps exported texts far shorter: the row is made up here.
    export = Export(Scope.CALLS, Filters())
    row = [text, text[:40], "", 1.5, datetime(2026, 3, 2, 9, 1)]
    monkeypatch.setattr(export, "rows", lambda: iter([row, row[::-1]]))

    same_workbooks(export, monkeypatch)


def test_a_text_that_looks_like_xlsxwriter_markup_stays_text(campaign, make_company, operator):
    # xlsxwriter's constant-memory mode copies "<r>...</r>" into the XML unescaped.
    name = "<r><t>Société</t></r>"
    company = make_company(name=name)
    make_call(company, operator, "invalid", submitted_at=datetime(2026, 3, 2, tzinfo=UTC))

    workbook, sheets = read_xlsx(xlsx_bytes(Export(Scope.CALLS, Filters())))
    assert sheets["Appels"][1][0].value == name


def test_the_csv_is_streamed_in_chunks(outcome_world, monkeypatch):
    whole = csv_bytes(Export(Scope.CALLS, Filters(), site_links()))
    monkeypatch.setattr(writers, "CHUNK_ROWS", 2)
    monkeypatch.setattr(writers, "BLOCK_ROWS", 5)

    chunks = list(csv_chunks(Export(Scope.CALLS, Filters(), site_links())))
    # The header, then 18 calls read 5 at a time (5, 5, 5, 3), each block two by two.
    assert len(chunks) == 1 + 3 + 3 + 3 + 2
    assert all(len(chunk) < 1000 for chunk in chunks)
    assert b"".join(chunks) == whole


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_the_csv_is_byte_for_byte_what_the_csv_module_writes(awkward_world, delimiter):
    """Lines without quotes, delimiters or line ends are joined directly, for speed."""
    export = Export(Scope.COMPANIES, Filters(), site_links())
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(export.headers)
    for row in read_csv(csv_bytes(export, delimiter), delimiter)[1:]:
        writer.writerow(row)

    assert csv_bytes(export, delimiter) == ("\ufeff" + buffer.getvalue()).encode()
    assert '"Dupont, ""Fils""; Cie"' in buffer.getvalue()


@pytest.mark.parametrize(
    "zone",
    [
        "Africa/Douala",  # the default: UTC+1 all year
        "Europe/Paris",  # summer time, changes at 01:00 UTC
        "America/St_Johns",  # UTC-3:30 / -2:30
        "Australia/Lord_Howe",  # a half-hour summer shift
        "Asia/Kathmandu",  # UTC+5:45
    ],
)
def test_wall_clock_matches_a_plain_conversion_across_offset_changes(zone):
    """The export's cached hourly offsets give exactly what astimezone() gives, minute by
    minute around every offset change of 2026, from naive UTC (SQLite), aware datetimes
    (PostgreSQL) and ISO strings alike."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)
    local = wall_clock(tz)
    moments = []
    hour = datetime(2026, 1, 1, tzinfo=UTC)
    previous = hour.astimezone(tz).utcoffset()
    while hour.year == 2026:
        offset = (hour + timedelta(hours=1)).astimezone(tz).utcoffset()
        if offset != previous:  # an offset change within the next two hours: every minute
            moments += [hour + timedelta(minutes=m, seconds=59.5) for m in range(-60, 180)]
        previous = offset
        hour += timedelta(hours=1)
    moments += [hour - timedelta(minutes=37 * n, seconds=0.25) for n in range(1, 14_000)]
    for moment in moments:
        expected = moment.astimezone(tz).replace(tzinfo=None, microsecond=0)
        naive_utc = moment.replace(tzinfo=None)
        assert local(naive_utc) == expected, (zone, moment)
        assert local(moment) == expected, (zone, moment)
        assert local(moment.astimezone(tz)) == expected, (zone, moment)
        assert local(naive_utc.isoformat(" ")) == expected, (zone, moment)
        assert local(naive_utc).tzinfo is None


def test_the_contact_columns_read_back_through_the_import():
    from companies.importing.columns import field_for_header

    headers = ["Personne à contacter", "Fonction du contact", "Ligne directe du contact"]
    fields = [field_for_header(header) for header in [*headers, "E-mail du contact"]]

    assert fields == ["contact_name", "contact_role", "contact_phone", "contact_email"]
    assert set(headers) <= set(HEADERS)
