"""The import reads a file as a stream, a chunk at a time, and keeps memory flat: whatever the
chunk boundaries cut (a multi-byte character, a "\\r\\n", a quoted field over several lines),
the report is the one of the whole file; duplicates found only at the end of the file are
rejected as before; apply decides exactly as the preview did."""

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from companies import importing
from companies.importing import reading
from companies.models import Campaign, Company, ImportBatch
from tests.companies.conftest import SAMPLES, sample


def report_facts(report) -> tuple:
    layout = report.layout
    return (
        layout.encoding,
        layout.delimiter,
        layout.has_header,
        report.rows_total,
        report.created,
        report.updated,
        report.unchanged,
        [(issue.line, issue.message, issue.content) for issue in report.errors],
        [(issue.line, issue.message) for issue in report.warnings],
        report.sample,
        report.repeated_keys,
    )


class ReadSizes(io.BytesIO):
    """A file that remembers the largest read made from it."""

    largest = 0

    def read(self, size=-1):
        data = super().read(size)
        self.largest = max(self.largest, len(data))
        return data


SAMPLE_FILES = sorted(
    path.name
    for path in SAMPLES.iterdir()
    if path.suffix in (".csv", ".tsv", ".txt")
    and path.name not in {"empty.csv", "blank.csv", "image.csv", "classeur.csv", "binary.csv"}
    and path.name not in {"header_only.csv", "no_phone_column.csv"}
)


@pytest.mark.parametrize("name", SAMPLE_FILES)
@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64])
def test_every_chunk_size_reads_the_samples_the_same(db, monkeypatch, name, chunk):
    whole = report_facts(importing.analyse(sample(name)))

    monkeypatch.setattr(reading, "CHUNK_BYTES", chunk)

    assert report_facts(importing.analyse(sample(name))) == whole


cells = st.one_of(
    st.sampled_from(["Société Étoile", "Ets Kola", "", "é", "€", "a\r\nb", 'x"y', "12,5"]),
    st.text(alphabet="abcé€\r\n;,\" '", max_size=12),
)


@settings(max_examples=60)
@given(
    names=st.lists(cells, min_size=1, max_size=12),
    chunk=st.integers(min_value=1, max_value=40),
    line_end=st.sampled_from(["\n", "\r\n", "\r"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
)
def test_chunk_boundaries_never_change_what_is_read(db, names, chunk, line_end, encoding):
    rows = ["name;phone;niu"]
    for n, name in enumerate(names):
        quoted = '"' + name.replace('"', '""') + '"'
        rows.append(f"{quoted};6770000{n % 5:02d};M{n % 3}")
    data = line_end.join(rows).encode(encoding, errors="replace")
    whole = report_facts(importing.analyse(data))

    original = reading.CHUNK_BYTES
    reading.CHUNK_BYTES = chunk
    try:
        chunked = report_facts(importing.analyse(data))
    finally:
        reading.CHUNK_BYTES = original

    assert chunked == whole


def test_the_file_is_read_a_chunk_at_a_time_never_whole(db, monkeypatch):
    monkeypatch.setattr(reading, "HEAD_BYTES", 1024)
    monkeypatch.setattr(reading, "CHUNK_BYTES", 4096)
    lines = ["name;phone"] + [f"Ets {n};6770{n:05d}" for n in range(3000)]
    source = ReadSizes("\n".join(lines).encode())

    report = importing.analyse(source)

    assert report.created == 3000
    assert len(source.getvalue()) > 40_000
    assert source.largest <= 4096


def test_a_file_utf8_at_its_head_and_windows_1252_further_is_read_as_windows_1252(db, monkeypatch):
    monkeypatch.setattr(reading, "HEAD_BYTES", 256)
    head = "name;phone;location\n" + "".join(f"Ets {n};6770{n:05d};Douala\n" for n in range(20))
    tail = "Société Générale;677099999;Ngaoundéré\n"
    data = head.encode("ascii") + tail.encode("cp1252")
    assert data[:256].decode("utf-8")  # the head alone reads as UTF-8

    report = importing.analyse(data)

    assert report.layout.encoding == "cp1252"
    assert report.created == 21 and report.rejected == 0


def test_a_chosen_encoding_that_fails_further_in_the_file_is_explained(db, monkeypatch):
    monkeypatch.setattr(reading, "HEAD_BYTES", 256)
    head = "name;phone\n" + "".join(f"Ets {n};6770{n:05d}\n" for n in range(20))
    data = head.encode() + "Société;677099999\n".encode("cp1252")

    with pytest.raises(importing.ImportFileError) as error:
        importing.analyse(data, encoding="utf-8")

    assert "Le fichier ne se lit pas en UTF-8" in str(error.value)


def test_a_duplicate_far_below_its_first_line_is_still_rejected(run_import):
    lines = ["name;phone;niu"] + [f"Ets {n};6770{n:05d};M{n:012d}A" for n in range(3000)]
    lines.append("Copie du premier;699999999;M000000000000A")  # the NIU of line 2
    lines.append("Même numéro;677000007;")  # the phone of line 9, no NIU
    data = "\n".join(lines).encode()

    preview, applied, batch = run_import(data)

    expected = [
        (3002, "Doublon de la ligne 2 (même NIU M000000000000A) : ligne ignorée."),
        (3003, "Doublon de la ligne 9 (même téléphone +237677000007) : ligne ignorée."),
    ]
    assert [(issue.line, issue.message) for issue in preview.errors] == expected
    assert [(issue.line, issue.message) for issue in applied.errors] == expected
    assert batch.repeated_keys == {"niu": ["M000000000000A"], "phone": ["+237677000007"]}
    assert Company.objects.count() == 3000


@settings(max_examples=40)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["", "M1", "m 1", "M2", "M3"]),
            st.sampled_from(["", "677000001", "+237 677 000 001", "677000002", "12"]),
            st.sampled_from(["Ets A", "Ets B", ""]),
        ),
        max_size=25,
    ),
    known=st.booleans(),
)
def test_apply_decides_as_the_preview_with_or_without_the_repeated_keys(
    supervisor, campaign, make_company, rows, known
):
    """Rows sharing keys in every way, against a campaign holding some of them: the preview's
    repeated keys only spare apply the bookkeeping of the other rows."""
    from django.core.files.base import ContentFile

    Company.objects.all().delete()
    ImportBatch.objects.all().delete()
    make_company(niu="M1", phone="677000001")
    make_company(niu="", phone="677000002")
    lines = ["niu;phone;name"] + [";".join(row) for row in rows]
    data = ("\n".join(lines) + "\n").encode()
    try:
        preview = importing.analyse(data, mode="add", campaign=campaign)
    except importing.ImportFileError:
        return
    batch = ImportBatch(uploaded_by=supervisor, mode="add", campaign=campaign)
    preview.store_on(batch)
    if not known:
        batch.repeated_keys = None
    batch.file.save("liste.csv", ContentFile(data), save=False)
    batch.save()

    if preview.accepted == 0:
        with pytest.raises(importing.ImportApplyError):
            importing.apply_batch(batch)
        return
    applied = importing.apply_batch(batch)

    assert report_facts(applied)[3:8] == report_facts(preview)[3:8]
    assert Campaign.objects.count() == 1
