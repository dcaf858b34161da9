"""Whatever bytes a supervisor uploads, the import answers with a report or a clear French
message: never a traceback, never a 500."""

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import example, given, settings
from hypothesis import strategies as st

from companies import importing
from companies.importing.phones import fast_normalise_phone
from companies.models import Company, ImportBatch, normalise_phone

FUZZ = settings(max_examples=200)

# Cells that hit the reader's corners: delimiters, quotes, newlines, accents, NULs, BOMs.
cell = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            '"',
            '""',
            ";",
            ",",
            "\t",
            "\n",
            "\r\n",
            "\r",
            "\x00",
            "\ufeff",
            "sep=;",
            "Société Étoile",
            "+237 6 77 12 34 56",
            "00237677123456",
            "12,5",
            "n/a",
            "in_progress",
            "callback",
            "name",
            "Téléphone",
            "NIU",
            "M012345678901A",
        ]
    ),
)
rows = st.lists(st.lists(cell, min_size=0, max_size=12), min_size=0, max_size=15)
encodings = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1", "mac_roman"])


def as_csv(table: list[list[str]], delimiter: str, quote_all: bool) -> str:
    lines = []
    for fields in table:
        if quote_all:
            lines.append(delimiter.join('"' + f.replace('"', '""') + '"' for f in fields))
        else:
            lines.append(delimiter.join(fields))
    return "\r\n".join(lines)


def analyse_or_refuse(data: bytes):
    try:
        report = importing.analyse(data)
    except importing.ImportFileError as exc:
        assert str(exc)  # a message to show
        return None
    assert report.rows_total == report.created + report.rejected + report.unchanged
    assert report.rows_total > 0
    for issue in report.errors:
        assert issue.line is None or issue.line >= 1
    return report


@FUZZ
@given(data=st.binary(max_size=2000))
def test_arbitrary_bytes_give_a_report_or_a_message(data):
    analyse_or_refuse(data)


@FUZZ
@given(
    table=rows,
    delimiter=st.sampled_from([";", ",", "\t", "|"]),
    quote_all=st.booleans(),
    encoding=encodings,
    header=st.booleans(),
)
def test_csv_like_text_gives_a_report_or_a_message(table, delimiter, quote_all, encoding, header):
    if header:
        table = [["name", "phone", "niu", "validity_score", "status"], *table]
    text = as_csv(table, delimiter, quote_all)
    data = text.encode(encoding, errors="replace")
    analyse_or_refuse(data)


@settings(max_examples=40)
@given(table=rows, delimiter=st.sampled_from([";", ","]), encoding=encodings)
def test_what_the_preview_accepts_applies_exactly(run_import, table, delimiter, encoding):
    table = [["name", "phone", "niu", "validity_score", "status", "location"], *table]
    data = as_csv(table, delimiter, quote_all=True).encode(encoding, errors="replace")
    try:
        preview = importing.analyse(data)
    except importing.ImportFileError:
        return
    name = f"Fuzz {uuid.uuid4()}"
    if preview.accepted == 0:
        with pytest.raises(importing.ImportApplyError):
            run_import(data, name=name)
        return
    _preview, applied, batch = run_import(data, name=name)
    assert (applied.created, applied.rejected) == (preview.created, preview.rejected)
    assert Company.objects.filter(campaign=batch.campaign).count() == preview.created


@settings(max_examples=30)
@given(data=st.one_of(st.binary(max_size=600), rows.map(lambda t: as_csv(t, ";", False).encode())))
def test_the_upload_page_never_fails_whatever_the_bytes(client, supervisor, data):
    client.force_login(supervisor)
    before = ImportBatch.objects.count()

    response = client.post(
        reverse("companies:import"),
        {"file": SimpleUploadedFile("liste.csv", data), "mode": "new", "campaign_name": ""},
    )

    assert response.status_code in (200, 302)
    if response.status_code == 200:  # refused: a message, nothing stored
        assert "invalid-feedback" in response.content.decode()
        assert ImportBatch.objects.count() == before


# Numbers shaped like real ones (most are valid somewhere), and noise around them.
plausible_phone = st.from_regex(
    r"(\+237 ?|00237|237-?)?[2-9][0-9]{8}"
    r"|(\+33 ?|0033|0)[1-9]( ?[0-9]{2}){4}"
    r"|(\+1 ?)?[2-9][0-9]{2}[2-9][0-9]{6}"
    r"|(\+225 ?)?(0|2)[157][0-9]{8}"
    r"|\+(44|49|39|234|241|242|33)[ .]?[0-9]{6,11}",
    fullmatch=True,
)
phone_text = st.one_of(
    plausible_phone,
    st.text(alphabet="0123456789 +-.()/", max_size=20),
    st.builds(
        lambda prefix, digits, sep: prefix + sep.join(digits),
        st.sampled_from(["", "+", "00", "+237", "237", "00237", "+33", "0", "+1"]),
        st.lists(st.text(alphabet="0123456789", min_size=1, max_size=4), max_size=5),
        st.sampled_from(["", " ", ".", "-"]),
    ),
)


@settings(max_examples=500)
@given(raw=phone_text)
def test_the_fast_phone_path_agrees_with_normalise_phone(raw):
    assert fast_normalise_phone(raw) == normalise_phone(raw)


@pytest.mark.parametrize("region", ["CM", "FR", "US", "CI", "NG"])
@settings(max_examples=150)
@given(raw=phone_text)
# "00" dials abroad in Cameroon but not everywhere: in the United States (011) nor in Nigeria
# (009, so "009 1..." is a call to +1).
@example(raw="0.0433.331.13.271.1")
@example(raw="009165.6.7.9351.5.7")
def test_the_fast_phone_path_agrees_in_other_regions(settings, region, raw):
    settings.PHONE_REGION = region
    assert fast_normalise_phone(raw) == normalise_phone(raw)
