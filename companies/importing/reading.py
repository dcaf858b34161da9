"""Reading a file: bytes to text (size, signature, encoding), then text to records (delimiter,
header row, the layout of the columns). Nothing here knows about companies beyond column names.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from companies.importing.columns import (
    ALIAS_TO_FIELD,
    BY_FIELD,
    FIELD_LABELS,
    FIELDS,
    IGNORED_FIELDS,
    MAX_LENGTHS,
    PERSON_FIELDS,
    PHONE_FIELDS,
    REQUIRED_FIELDS,
    field_for_header,
    header_key,
    with_main_phone,
)
from companies.models import PhoneLabel, normalise_phone

Progress = Callable[[int, int], None]  # (bytes read, bytes in the file)

ENCODING_LABELS = {
    "utf-8-sig": gettext_lazy("UTF-8 avec BOM"),
    "utf-8": gettext_lazy("UTF-8"),
    "utf-16": gettext_lazy("UTF-16 (« Texte Unicode » d'Excel)"),
    "utf-16-le": gettext_lazy("UTF-16 LE"),
    "utf-16-be": gettext_lazy("UTF-16 BE"),
    "cp1252": gettext_lazy("Windows-1252 (Excel sous Windows)"),
    "latin-1": gettext_lazy("ISO-8859-1 (Latin-1)"),
    "iso-8859-15": gettext_lazy("ISO-8859-15 (Latin-9)"),
    "mac_roman": gettext_lazy("Mac Roman (« CSV Macintosh » d'Excel)"),
    "cp850": gettext_lazy("DOS CP850 (« CSV MS-DOS » d'Excel)"),
}
DELIMITER_LABELS = {
    ";": gettext_lazy("point-virgule « ; »"),
    ",": gettext_lazy("virgule « , »"),
    "\t": gettext_lazy("tabulation"),
}
DELIMITERS = [";", ",", "\t"]


class ImportFileError(Exception):
    """The file as a whole cannot be imported; the message is French and says why."""


@dataclass
class Layout:
    """How to read a file: its encoding, delimiter, header and the field of each column."""

    encoding: str
    delimiter: str
    has_header: bool
    header: list[str]
    columns: list[str | None]  # field name per column index, None = ignored
    width: int  # fields a row is expected to have
    skip_records: int = 0  # records before the data: an Excel "sep=;" line, the header
    phone_label: str = PhoneLabel.STANDARD  # of the main number (« Portable » when no other)

    def __post_init__(self):
        self.text_columns = [
            (index, name, MAX_LENGTHS[name])
            for index, name in enumerate(self.columns)
            if name in MAX_LENGTHS
        ]
        self.score_index = self.column_of("validity_score")
        self.status_index = self.column_of("status")
        # The company's other numbers (field, label), in the file's order, and its contact.
        self.numbers = [
            (name, BY_FIELD[name].phone_label) for name in self.columns if name in PHONE_FIELDS
        ]
        self.has_person = any(name in PERSON_FIELDS for name in self.columns)

    def column_of(self, name: str) -> int | None:
        return self.columns.index(name) if name in self.columns else None

    def mapping(self) -> list[dict]:
        rows = []
        for index in range(max(self.width, len(self.columns))):
            header = self.header[index] if index < len(self.header) else ""
            field_name = self.columns[index] if index < len(self.columns) else None
            if field_name:
                note = ""
            elif header and (ignored := field_for_header(header)) in IGNORED_FIELDS:
                note = str(FIELD_LABELS[ignored])
            elif header and header_key(header) in ALIAS_TO_FIELD:
                note = _("ignorée (colonne en double)")
            else:
                note = _("ignorée (colonne inconnue)")
            label = str(FIELD_LABELS[field_name]) if field_name else note
            if field_name == "phone" and self.phone_label != PhoneLabel.STANDARD:
                label = f"{label} ({PhoneLabel(self.phone_label).label})"  # « Portable » alone
            rows.append(
                {"index": index + 1, "header": header, "field": field_name or "", "label": label}
            )
        return rows


# --- Bytes to text ----------------------------------------------------------------------------

SIGNATURES = [
    (b"PK\x03\x04", "spreadsheet"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "spreadsheet"),
    (b"%PDF", "pdf"),
    (b"\x89PNG", "image"),
    (b"\xff\xd8\xff", "image"),
    (b"GIF8", "image"),
    (b"RIFF", "image"),
    (b"II*\x00", "image"),
    (b"MM\x00*", "image"),
    (b"\x1f\x8b", "archive"),
    (b"7z\xbc\xaf", "archive"),
    (b"Rar!", "archive"),
]

SAVE_AS_CSV = gettext_lazy(
    "Ouvrez-le dans Excel ou LibreOffice puis « Enregistrer sous » › « CSV UTF-8 » ou "
    "« CSV (séparateur : point-virgule) »."
)

# Characters a French company list plausibly holds beyond ASCII (scoring single-byte encodings).
FRENCH_LOWER = set("àâäçéèêëîïôöùûüÿœæ")
FRENCH_OTHER = set("ÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸŒÆ«»’‘“”–—…°€ºª\xa0")
SINGLE_BYTE_CANDIDATES = ["cp1252", "mac_roman", "cp850", "latin-1"]
_ASCII = bytes(range(128))
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


HEAD_BYTES = 128 * 1024  # what is read first, to tell the encoding, delimiter and header
CHUNK_BYTES = 1024 * 1024  # then the file is read this much at a time


def check_size(size: int) -> None:
    limit = settings.IMPORT_MAX_BYTES
    if size > limit:
        raise ImportFileError(
            _(
                "Le fichier fait %(size)s : c'est plus que la limite de %(limit)s. "
                "Découpez-le en plusieurs fichiers."
            )
            % {"size": filesizeformat(size), "limit": filesizeformat(limit)}
        )


def open_source(source: bytes | BinaryIO) -> tuple[BinaryIO, int]:
    """A seekable binary file (an upload, a stored file, bytes) and its size, checked."""
    fileobj = io.BytesIO(source) if isinstance(source, bytes) else source
    size = fileobj.seek(0, io.SEEK_END)
    fileobj.seek(0)
    check_size(size)
    return fileobj, size


def check_signature(data: bytes) -> None:
    for signature, kind in SIGNATURES:
        if data.startswith(signature):
            if kind == "spreadsheet":
                message = _("Ce fichier est un classeur (Excel ou LibreOffice), pas un CSV.")
            elif kind == "pdf":
                message = _("Ce fichier est un PDF, pas un CSV.")
            elif kind == "image":
                message = _("Ce fichier est une image, pas un CSV.")
            else:
                message = _("Ce fichier est une archive compressée, pas un CSV.")
            raise ImportFileError(f"{message} {SAVE_AS_CSV}")


def detect_encoding(head: bytes, complete: bool) -> str:
    """The encoding the head of a file reads in. UTF-8 is provisional when the file goes on:
    a later byte that is not UTF-8 makes the pipeline guess again on the whole file."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    start = head[:4096]
    if len(start) >= 4 and start.count(0) * 3 >= len(start):
        # UTF-16 without its BOM: ASCII text leaves every other byte NUL.
        even, odd = start[0::2], start[1::2]
        if odd.count(0) >= 0.7 * len(odd) and even.count(0) <= 0.1 * len(even):
            return "utf-16-le"
        if even.count(0) >= 0.7 * len(even) and odd.count(0) <= 0.1 * len(odd):
            return "utf-16-be"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
    except UnicodeDecodeError:
        return guess_single_byte(Counter(head.translate(None, _ASCII)))
    return "utf-8"


def high_bytes(fileobj: BinaryIO) -> Counter:
    """How often each non-ASCII byte occurs in the whole file (read chunk by chunk)."""
    counts: Counter = Counter()
    fileobj.seek(0)
    while chunk := fileobj.read(CHUNK_BYTES):
        counts.update(chunk.translate(None, _ASCII))
    return counts


def guess_single_byte(high: Counter) -> str:
    """The single-byte encoding whose reading of the non-ASCII bytes looks most like French."""
    best, best_score = "latin-1", None
    for encoding in SINGLE_BYTE_CANDIDATES:
        score = 0
        for byte, count in high.items():
            try:
                char = bytes([byte]).decode(encoding)
            except UnicodeDecodeError:
                score = None
                break
            if char in FRENCH_LOWER:
                score += 3 * count
            elif char in FRENCH_OTHER:
                score += count
            elif _CONTROL.match(char):
                score -= 10 * count
            else:
                score -= 3 * count
        if score is not None and (best_score is None or score > best_score):
            best, best_score = encoding, score
    return best


def unreadable(encoding: str) -> ImportFileError:
    return ImportFileError(
        _("Le fichier ne se lit pas en %(encoding)s : choisissez un autre encodage.")
        % {"encoding": ENCODING_LABELS.get(encoding, encoding)}
    )


def decode_head(head: bytes, complete: bool, encoding: str) -> str:
    """The head of a file as text; refuses what is not text."""
    try:
        text = codecs.getincrementaldecoder(encoding)().decode(head, final=complete)
    except (UnicodeDecodeError, LookupError) as exc:
        raise unreadable(encoding) from exc
    text = text.removeprefix("\ufeff")
    sample = text[:65536]
    controls = len(_CONTROL.findall(sample))
    if controls > max(2, len(sample) // 100):
        raise ImportFileError(
            _("Ce fichier n'est pas un fichier texte (CSV) : il contient des données binaires.")
            + f" {SAVE_AS_CSV}"
        )
    return _CONTROL.sub("", text)


class Lines:
    """The lines of a file, decoded chunk by chunk with their line ends (as the csv module wants
    them): never the whole file in memory. `position` counts the bytes read so far."""

    def __init__(self, fileobj: BinaryIO, encoding: str):
        self.fileobj, self.encoding = fileobj, encoding
        self.position = 0

    def __iter__(self) -> Iterator[str]:
        self.fileobj.seek(0)
        self.position = 0
        decoder = codecs.getincrementaldecoder(self.encoding)()
        carry = ""
        while True:
            chunk = self.fileobj.read(CHUNK_BYTES)
            text = decoder.decode(chunk, final=not chunk)
            if not self.position:
                text = text.removeprefix("\ufeff")
            self.position += len(chunk)
            if _CONTROL.search(text):
                # Stray control characters (a DOS end-of-file mark, NULs): the database refuses
                # NULs. None of them ends a line, so a chunk can be cleaned on its own.
                text = _CONTROL.sub("", text)
            lines = io.StringIO(carry + text, newline="").readlines()
            # The last line may go on in the next chunk (a "\r" too: it may be half of "\r\n").
            carry = lines.pop() if chunk and lines and not lines[-1].endswith("\n") else ""
            yield from lines
            if not chunk:
                return


# --- Text to records --------------------------------------------------------------------------

_SEP_LINE = re.compile(r"\A\s*sep=(.)[ \t]*(\r\n|\r|\n|\Z)", re.IGNORECASE)


def allow_long_fields() -> None:
    """Let one absurdly long field through the csv module so the row gets a clear rejection
    ("field too long") instead of the reader failing."""
    limit = settings.IMPORT_MAX_BYTES + 1
    if csv.field_size_limit() < limit:
        csv.field_size_limit(limit)


def is_blank(fields: list[str]) -> bool:
    return not any(cell.strip() for cell in fields)


def head_records(
    text: str, delimiter: str, complete: bool = True, limit: int = 50
) -> list[list[str]]:
    """The first non-blank records of a text (complete records only when it was cut)."""
    sample = text[:65536]
    if not complete or len(sample) < len(text):
        last_newline = max(sample.rfind("\n"), sample.rfind("\r"))
        if last_newline > 0:
            sample = sample[: last_newline + 1]
    records = []
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
    try:
        for fields in reader:
            if not is_blank(fields):
                records.append(fields)
                if len(records) >= limit:
                    break
    except csv.Error:
        pass
    return records


def sniff_delimiter(text: str, complete: bool) -> str:
    best, best_score = ";", None
    for delimiter in DELIMITERS:
        records = head_records(text, delimiter, complete)
        if not records:
            continue
        counts = Counter(len(fields) for fields in records)
        modal, frequency = counts.most_common(1)[0]
        header_hits = len({field_for_header(cell) for cell in records[0]} - {None})
        score = (header_hits >= 2, modal > 1, round(frequency / len(records), 1), modal)
        if best_score is None or score > best_score:
            best, best_score = delimiter, score
    return best


def looks_like_header(fields: list[str]) -> bool:
    if not any(field_for_header(cell) for cell in fields):
        return False
    # A first row holding a real phone number is data, whatever the names in it.
    return not any(normalise_phone(cell) for cell in fields if len(cell) <= 30)


def make_layout(
    text: str,
    complete: bool,
    encoding: str,
    delimiter: str | None = None,
    has_header: bool | None = None,
) -> Layout:
    """The layout read from the head of a file (`complete` when the head is the whole file)."""
    skip = 0
    sep_line = _SEP_LINE.match(text)
    if sep_line:  # Excel's own "sep=;" first line names the delimiter.
        delimiter = delimiter or sep_line.group(1)
        text = text[sep_line.end() :]
        skip = 1
    delimiter = delimiter or sniff_delimiter(text, complete)
    records = head_records(text, delimiter, complete)
    if not records and complete:
        raise ImportFileError(_("Le fichier est vide."))
    if not records:
        raise ImportFileError(
            _("Le début du fichier (%(size)s) ne contient aucune ligne lisible.")
            % {"size": filesizeformat(HEAD_BYTES)}
        )
    first = records[0]
    if has_header is None:
        has_header = looks_like_header(first)
    if has_header:
        header = [cell.strip() for cell in first]
        while header and not header[-1]:
            header.pop()
        columns: list[str | None] = []
        for cell in header:
            name = field_for_header(cell)
            columns.append(name if name and name not in columns else None)
        columns, phone_label = with_main_phone(columns)
        width = len(header)
        skip += 1
        if len(records) < 2 and complete and not _has_more_records(text, delimiter):
            raise ImportFileError(
                _("Le fichier ne contient que la ligne d'en-tête : aucune entreprise à importer.")
            )
    else:
        header = []
        width = Counter(len(fields) for fields in records).most_common(1)[0][0]
        columns = [FIELDS[i] if i < len(FIELDS) else None for i in range(width)]
        phone_label = PhoneLabel.STANDARD
    layout = Layout(
        encoding, delimiter, bool(has_header), header, columns, width, skip, phone_label
    )
    missing = [name for name in REQUIRED_FIELDS if name not in columns]
    if missing:
        labels = ", ".join(f"« {FIELD_LABELS[name]} »" for name in missing)
        if has_header:
            read = ", ".join(f"« {cell} »" for cell in header) or "—"
            raise ImportFileError(
                _(
                    "Colonne obligatoire introuvable : %(missing)s. En-tête lu avec le séparateur "
                    "%(delimiter)s : %(read)s. Renommez la colonne (par exemple « Téléphone ») "
                    "ou choisissez un autre séparateur."
                )
                % {
                    "missing": labels,
                    "delimiter": DELIMITER_LABELS.get(delimiter, delimiter),
                    "read": read,
                }
            )
        raise ImportFileError(
            _(
                "Une seule colonne trouvée : il faut au moins le nom de l'entreprise et son "
                "téléphone, séparés par « ; », « , » ou une tabulation."
            )
        )
    return layout


def _has_more_records(text: str, delimiter: str) -> bool:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    seen = 0
    try:
        for fields in reader:
            if not is_blank(fields):
                seen += 1
                if seen > 1:
                    return True
    except csv.Error:
        return True
    return False


def read_layout(
    fileobj: BinaryIO,
    encoding: str | None = None,
    delimiter: str | None = None,
    has_header: bool | None = None,
) -> Layout:
    """How to read a file, from its head alone; refuses a file that is not a company list."""
    fileobj.seek(0)
    head = fileobj.read(HEAD_BYTES + 1)
    complete = len(head) <= HEAD_BYTES
    head = head[:HEAD_BYTES]
    if complete and not head.strip():
        raise ImportFileError(_("Le fichier est vide."))
    check_signature(head)
    encoding = encoding or detect_encoding(head, complete)
    text = decode_head(head, complete, encoding)
    if complete and not text.strip():
        raise ImportFileError(_("Le fichier est vide."))
    return make_layout(text, complete, encoding, delimiter, has_header)


def iter_records(
    lines: Lines, layout: Layout, size: int, progress: Progress | None = None
) -> Iterator[tuple[int, list[str] | None]]:
    """(line number, fields) for every non-blank record after the header; fields is None when
    the csv module could not read the record."""
    allow_long_fields()
    reader = csv.reader(lines, delimiter=layout.delimiter)
    to_skip = layout.skip_records
    last_line = 0
    count = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error:
            start, last_line = last_line + 1, reader.line_num
            yield start, None
            continue
        start, last_line = last_line + 1, reader.line_num
        if is_blank(fields):
            continue
        if to_skip:  # the "sep=" line and the header
            to_skip -= 1
            continue
        yield start, fields
        count += 1
        if progress is not None and count % 5000 == 0:
            progress(lines.position, size)
    if progress is not None:
        progress(size, size)
