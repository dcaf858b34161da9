"""Finding a company's values wherever they were copied: a number however it is written, its
rows in a kept import file whatever the file's encoding and quoting, never a neighbour's row."""

import pytest
from django.core.files.base import ContentFile

from companies.models import ImportBatch
from privacy.redaction import ERASED, Identifiers, blank_rows, erase_from_imports

COMPANY = Identifiers(
    name="Épicerie Générale Ndjock",
    niu="P098765432109Z",
    numbers=[("6 99 12 34 56", "+237699123456"), ("ext. 12-34", "")],
    people=["Jean-Pierre Ndjock"],
)


@pytest.mark.parametrize(
    "text",
    [
        "Appeler le 699123456 demain",
        "Appeler le 6 99 12 34 56 demain",
        "Appeler le +237 6 99 12 34 56 demain",
        "Appeler le 00237-699-12-34-56 demain",
        "Appeler le (237) 699.12.34.56 demain",
        "NIU : P 0987 6543 2109 Z",
        "Voir avec jean-pierre NDJOCK",
        "épicerie générale ndjock",
    ],
)
def test_a_value_is_found_however_it_is_written(text):
    scrubbed = COMPANY.scrub(text)
    assert ERASED in scrubbed
    assert not any(digit in scrubbed for digit in "6543")


@pytest.mark.parametrize(
    "text",
    ["Appeler le 6991234567 demain", "Commande 1699123456", "Épicerie du coin", "ext. 12"],
)
def test_a_longer_number_or_another_name_is_left_alone(text):
    assert COMPANY.scrub(text) == text


def test_a_short_value_is_not_searched_inside_other_text():
    tiny = Identifiers(name="AB", niu="1")
    assert tiny.scrub("ABONNEMENT n° 1") == "ABONNEMENT n° 1"
    assert tiny.is_its_row(["AB", "677000001"])  # an exact cell still says it is its row


def test_its_records_become_empty_lines_even_quoted_over_several_lines():
    text = (
        "nom,telephone,adresse\n"
        'Voisin SA,677000001,"rue 1\nDouala"\n'
        '"Épicerie Générale Ndjock",+237 699 12 34 56,"quartier\nBonamoussadi"\n'
        "Autre SARL,677000002,Yaoundé\n"
    )
    blanked, count = blank_rows(text, ",", COMPANY)
    assert count == 1
    assert blanked.split("\n") == [
        "nom,telephone,adresse",
        'Voisin SA,677000001,"rue 1',
        'Douala"',
        "",
        "",
        "Autre SARL,677000002,Yaoundé",
        "",
    ]


def test_a_kept_windows_1252_file_keeps_its_bytes_but_the_company_rows(supervisor):
    head = "nom;téléphone;niu\r\nSociété Voisine;677000001;M1\r\n".encode("cp1252")
    row = "Épicerie Générale Ndjock;699123456;P098765432109Z\r\n".encode("cp1252")
    tail = "Dernière ligne;677000002;M2\r\n".encode("cp1252")
    batch = ImportBatch(uploaded_by=supervisor, encoding="cp1252", delimiter=";")
    batch.file.save("liste.csv", ContentFile(head + row + tail), save=False)
    batch.errors = [{"line": 9, "message": "Doublon (même téléphone +237699123456)", "content": ""}]
    batch.save()
    written = []

    replaced = erase_from_imports(ImportBatch.objects.filter(pk=batch.pk), COMPANY, written)

    batch.refresh_from_db()
    assert replaced and written == [batch.file.name]
    with batch.file.open("rb") as handle:
        assert handle.read() == head + b"\r\n" + tail
    assert batch.errors == [
        {"line": 9, "message": f"Doublon (même téléphone {ERASED})", "content": ""}
    ]


def test_a_file_without_its_rows_is_not_rewritten(supervisor):
    batch = ImportBatch(uploaded_by=supervisor, encoding="utf-8", delimiter=";")
    batch.file.save("liste.csv", ContentFile(b"nom;tel\r\nVoisin;677000001\r\n"), save=False)
    batch.save()
    name = batch.file.name
    written = []
    assert erase_from_imports(ImportBatch.objects.filter(pk=batch.pk), COMPANY, written) == []
    batch.refresh_from_db()
    assert written == [] and batch.file.name == name
