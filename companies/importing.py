"""Company import: read whatever CSV a supervisor was given, map its
columns, validate and deduplicate its rows, then apply it to a campaign in one transaction.

Plain functions shared by the import pages and `manage.py import_companies`:

- `analyse(data, ...)` reads the bytes and returns a `Report` (the preview): nothing is written.
- `apply_batch(batch)` re-reads the file kept on an ImportBatch through the storage API, runs
  the very same pipeline and writes it, all or nothing.

Both go through `plan_rows()`, so the preview's counts are the counts apply produces (unless the
campaign changed in between, in which case apply's own counts are the ones recorded).
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

import phonenumbers
from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.db.models import Exists, OuterRef
from django.db.models.deletion import ProtectedError
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.formats import localize
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from companies import quotas
from companies.fieldwork import phone_zone
from companies.models import (
    Campaign,
    Company,
    ImportBatch,
    ImportMode,
    Status,
    normalise_phone,
)

Progress = Callable[[int, int], None]

# The columns of a company list, in the order assumed when a file has no header row.
FIELDS = [
    "name",
    "phone",
    "product",
    "activity",
    "location",
    "legal_form",
    "niu",
    "validity_score",
    "status",
]
TEXT_FIELDS = ["name", "phone", "product", "activity", "location", "legal_form", "niu"]
MAX_LENGTHS = {name: Company._meta.get_field(name).max_length for name in TEXT_FIELDS}
EMPTY_VALUES = {**dict.fromkeys(TEXT_FIELDS, ""), "validity_score": None}
REQUIRED_FIELDS = ["name", "phone"]

FIELD_LABELS = {
    "name": gettext_lazy("entreprise"),
    "phone": gettext_lazy("téléphone"),
    "product": gettext_lazy("produit"),
    "activity": gettext_lazy("activité"),
    "location": gettext_lazy("localisation"),
    "legal_form": gettext_lazy("forme juridique"),
    "niu": gettext_lazy("NIU"),
    "validity_score": gettext_lazy("score"),
    "status": gettext_lazy("statut"),
}

# Header names, compared once accents, case, spaces and punctuation are gone (see header_key).
ALIASES = {
    "name": [
        "name",
        "nom",
        "raison sociale",
        "entreprise",
        "company",
        "company name",
        "societe",
        "nom entreprise",
        "nom de l'entreprise",
        "denomination",
        "denomination sociale",
    ],
    "phone": [
        "phone",
        "telephone",
        "tel",
        "phone number",
        "numero de telephone",
        "numero telephone",
        "num tel",
        "mobile",
        "portable",
        "contact telephonique",
    ],
    "product": ["product", "produit", "produits", "products"],
    "activity": [
        "activity",
        "activite",
        "activites",
        "secteur",
        "secteur d'activite",
        "activite principale",
    ],
    "location": ["location", "localisation", "ville", "city", "localite", "town", "commune"],
    "legal_form": [
        "legal_form",
        "legal form",
        "forme juridique",
        "statut juridique",
        "forme",
    ],
    "niu": [
        "niu",
        "numero d'identifiant unique",
        "identifiant unique",
        "numero contribuable",
    ],
    "validity_score": [
        "validity_score",
        "validity score",
        "score",
        "score de validite",
        "validite",
    ],
    "status": ["status", "statut", "etat", "state"],
}

# Status values as people write them (keys pass through header_key too).
STATUS_VALUES = {
    "pending": Status.PENDING,
    "a appeler": Status.PENDING,
    "afaire": Status.PENDING,
    "nouveau": Status.PENDING,
    "new": Status.PENDING,
    "in_progress": Status.IN_PROGRESS,
    "en cours": Status.IN_PROGRESS,
    "callback": Status.CALLBACK,
    "rappel": Status.CALLBACK,
    "a rappeler": Status.CALLBACK,
    "done": Status.DONE,
    "termine": Status.DONE,
    "fini": Status.DONE,
}

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

SAMPLE_ROWS = 10  # first rows shown on the preview
CONTENT_EXCERPT = 120  # characters of a rejected line kept in the report
MAX_WARNINGS = 1000  # warnings kept on the report (rejected rows are always all kept)
HEAD_BYTES = 256 * 1024  # what the preview page re-reads for its first rows
BATCH_SIZE = 2000  # rows per bulk_create / bulk_update


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

    def __post_init__(self):
        self.text_columns = [
            (index, name, MAX_LENGTHS[name])
            for index, name in enumerate(self.columns)
            if name in TEXT_FIELDS
        ]
        self.score_index = self.column_of("validity_score")
        self.status_index = self.column_of("status")

    def column_of(self, name: str) -> int | None:
        return self.columns.index(name) if name in self.columns else None

    def mapping(self) -> list[dict]:
        rows = []
        for index in range(max(self.width, len(self.columns))):
            header = self.header[index] if index < len(self.header) else ""
            field_name = self.columns[index] if index < len(self.columns) else None
            if field_name:
                note = ""
            elif header and header_key(header) in ALIAS_TO_FIELD:
                note = _("ignorée (colonne en double)")
            else:
                note = _("ignorée (colonne inconnue)")
            rows.append(
                {
                    "index": index + 1,
                    "header": header,
                    "field": field_name or "",
                    "label": str(FIELD_LABELS[field_name]) if field_name else note,
                }
            )
        return rows


@dataclass
class Issue:
    line: int | None
    message: str
    content: str = ""

    def as_dict(self) -> dict:
        return {"line": self.line, "message": self.message, "content": self.content}


@dataclass
class Report:
    """What an import did (or would do) with every line of the file."""

    layout: Layout | None = None
    rows_total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    archived: int = 0
    deleted: int = 0
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    warnings_total: int = 0
    sample: list[dict] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.errors)

    @property
    def accepted(self) -> int:
        return self.rows_total - self.rejected

    def reject(self, line: int | None, message: str, fields: list[str] | None = None) -> None:
        self.errors.append(Issue(line, message, excerpt(fields)))

    def warn(self, line: int | None, message: str) -> None:
        self.warnings_total += 1
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(Issue(line, message))

    def store_on(self, batch: ImportBatch) -> None:
        """Copy the report onto an ImportBatch (without saving it)."""
        layout = self.layout
        if layout is not None:
            batch.encoding = layout.encoding
            batch.delimiter = layout.delimiter
            batch.has_header = layout.has_header
            batch.column_mapping = {"columns": layout.mapping()}
        batch.rows_total = self.rows_total
        batch.rows_created = self.created
        batch.rows_updated = self.updated
        batch.rows_archived = self.archived
        batch.rows_deleted = self.deleted
        batch.rows_rejected = self.rejected
        batch.errors = [issue.as_dict() for issue in self.errors]
        warnings = [issue.as_dict() for issue in self.warnings]
        if self.warnings_total > len(self.warnings):
            hidden = self.warnings_total - len(self.warnings)
            warnings.append(
                {
                    "line": None,
                    "message": _("… et %(count)s autres avertissements.") % {"count": hidden},
                    "content": "",
                }
            )
        batch.warnings = warnings


def excerpt(fields: list[str] | None) -> str:
    if not fields:
        return ""
    text = " | ".join(fields)
    return text if len(text) <= CONTENT_EXCERPT else text[: CONTENT_EXCERPT - 1] + "…"


# --- Names ------------------------------------------------------------------------------------

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def header_key(text: str) -> str:
    """A header cell without accents, case, spaces, underscores or punctuation."""
    text = unicodedata.normalize("NFKD", text.strip().lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _NOT_ALNUM.sub("", text.replace("œ", "oe").replace("æ", "ae"))


ALIAS_TO_FIELD = {header_key(alias): name for name, aliases in ALIASES.items() for alias in aliases}
# Longer aliases also match as a prefix ("Téléphone portable", "Score de validité (%)").
PREFIX_ALIASES = sorted(
    ((key, name) for key, name in ALIAS_TO_FIELD.items() if len(key) >= 5),
    key=lambda item: -len(item[0]),
)
STATUS_KEYS = {header_key(text): status for text, status in STATUS_VALUES.items()}


def field_for_header(cell: str) -> str | None:
    key = header_key(cell)
    if not key:
        return None
    if key in ALIAS_TO_FIELD:
        return ALIAS_TO_FIELD[key]
    for number_sign in ("numero", "num", "no", "n"):  # "N° Tél", "No téléphone"
        if key.startswith(number_sign) and key[len(number_sign) :] in ALIAS_TO_FIELD:
            return ALIAS_TO_FIELD[key[len(number_sign) :]]
    for alias, name in PREFIX_ALIASES:  # "Téléphone portable", "Score de validité (%)"
        if key.startswith(alias):
            return name
    for alias, name in PREFIX_ALIASES:  # "Ville / localité du siège", "Tél. (téléphone)"
        if len(alias) >= 6 and alias in key:
            return name
    return None


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


def read_limited(fileobj) -> bytes:
    """Read a file object, refusing it beyond IMPORT_MAX_BYTES without reading it all."""
    data = fileobj.read(settings.IMPORT_MAX_BYTES + 1)
    if not isinstance(data, bytes):
        data = data.encode("utf-8")
    check_size(len(data))
    return data


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


def detect_encoding(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    head = data[:4096]
    if len(head) >= 4 and head.count(0) * 3 >= len(head):
        # UTF-16 without its BOM: ASCII text leaves every other byte NUL.
        even, odd = head[0::2], head[1::2]
        if odd.count(0) >= 0.7 * len(odd) and even.count(0) <= 0.1 * len(even):
            return "utf-16-le"
        if even.count(0) >= 0.7 * len(even) and odd.count(0) <= 0.1 * len(odd):
            return "utf-16-be"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return guess_single_byte(data)
    return "utf-8"


def guess_single_byte(data: bytes) -> str:
    """The single-byte encoding whose reading of the non-ASCII bytes looks most like French."""
    high = Counter(data.translate(None, _ASCII))
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


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """Bytes to text with the given or detected encoding; refuses what is not text."""
    if not data.strip():
        raise ImportFileError(_("Le fichier est vide."))
    check_signature(data)
    encoding = encoding or detect_encoding(data)
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        label = ENCODING_LABELS.get(encoding, encoding)
        raise ImportFileError(
            _("Le fichier ne se lit pas en %(encoding)s : choisissez un autre encodage.")
            % {"encoding": label}
        ) from exc
    if text.startswith("\ufeff"):
        text = text[1:]
    sample = text[:65536]
    controls = len(_CONTROL.findall(sample))
    if controls > max(2, len(sample) // 100):
        raise ImportFileError(
            _("Ce fichier n'est pas un fichier texte (CSV) : il contient des données binaires.")
            + f" {SAVE_AS_CSV}"
        )
    if _CONTROL.search(text):
        # Stray control characters (a DOS end-of-file mark, NULs): the database refuses NULs.
        text = _CONTROL.sub("", text)
    if not text.strip():
        raise ImportFileError(_("Le fichier est vide."))
    return text, encoding


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


def head_records(text: str, delimiter: str, limit: int = 50) -> list[list[str]]:
    """The first non-blank records of a text (complete records only when it was cut)."""
    sample = text[:65536]
    cut = len(sample) < len(text)
    if cut:
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


def sniff_delimiter(text: str) -> str:
    best, best_score = ";", None
    for delimiter in DELIMITERS:
        records = head_records(text, delimiter)
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
    encoding: str,
    delimiter: str | None = None,
    has_header: bool | None = None,
) -> Layout:
    skip = 0
    sep_line = _SEP_LINE.match(text)
    if sep_line:  # Excel's own "sep=;" first line names the delimiter.
        delimiter = delimiter or sep_line.group(1)
        text = text[sep_line.end() :]
        skip = 1
    delimiter = delimiter or sniff_delimiter(text)
    records = head_records(text, delimiter)
    if not records:
        raise ImportFileError(_("Le fichier est vide."))
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
        width = len(header)
        skip += 1
        if len(records) < 2 and not _has_more_records(text, delimiter):
            raise ImportFileError(
                _("Le fichier ne contient que la ligne d'en-tête : aucune entreprise à importer.")
            )
    else:
        header = []
        width = Counter(len(fields) for fields in records).most_common(1)[0][0]
        columns = [FIELDS[i] if i < len(FIELDS) else None for i in range(width)]
    layout = Layout(encoding, delimiter, bool(has_header), header, columns, width, skip)
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
    data: bytes,
    encoding: str | None = None,
    delimiter: str | None = None,
    has_header: bool | None = None,
) -> tuple[str, Layout]:
    text, encoding = decode(data, encoding)
    return text, make_layout(text, encoding, delimiter, has_header)


def iter_records(
    text: str, layout: Layout, progress: Progress | None = None
) -> Iterator[tuple[int, list[str] | None]]:
    """(line number, fields) for every non-blank record after the header; fields is None when
    the csv module could not read the record."""
    allow_long_fields()
    buffer = io.StringIO(text, newline="")
    reader = csv.reader(buffer, delimiter=layout.delimiter)
    total = len(text)
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
            progress(buffer.tell(), total)
    if progress is not None:
        progress(total, total)


# --- Records to values ------------------------------------------------------------------------

SCORE_FIELD = Company._meta.get_field("validity_score")
SCORE_LIMIT = Decimal(10) ** (SCORE_FIELD.max_digits - SCORE_FIELD.decimal_places)
SCORE_QUANTUM = Decimal(1).scaleb(-SCORE_FIELD.decimal_places)
_SPACES = re.compile(r"[\s\u202f\xa0']+")
_INNER_BREAKS = re.compile(r"\s*[\r\n\t]+\s*")


def parse_score(raw: str) -> Decimal | None:
    """A score as people type it: "12.5", "12,5" (French), "1 234,5", "85 %"."""
    text = _SPACES.sub("", raw).rstrip("%")
    if not text:
        return None
    if "," in text and "." in text:
        # The last separator is the decimal one: "1.234,5" or "1,234.5".
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    else:
        text = text.replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError from None
    if not value.is_finite() or abs(value) >= SCORE_LIMIT:
        raise ValueError
    return value.quantize(SCORE_QUANTUM)


def niu_key(niu: str) -> str:
    return "".join(niu.split()).upper()


def clean_record(line: int, fields: list[str], layout: Layout, report: Report) -> dict | None:
    """The company values of one record, or None when rejected (the reason goes on the report)."""
    width = layout.width
    if len(fields) > width:
        if not is_blank(fields[width:]):
            report.reject(
                line,
                _(
                    "La ligne a %(found)d champs au lieu de %(expected)d : une valeur contient "
                    "sans doute le séparateur %(delimiter)s sans être entre guillemets."
                )
                % {
                    "found": len(fields),
                    "expected": width,
                    "delimiter": DELIMITER_LABELS.get(layout.delimiter, layout.delimiter),
                },
                fields,
            )
            return None
    elif len(fields) < width:
        report.reject(
            line,
            _("La ligne a %(found)d champs au lieu de %(expected)d.")
            % {"found": len(fields), "expected": width},
            fields,
        )
        return None

    values = dict(EMPTY_VALUES)
    for index, name, limit in layout.text_columns:
        cell = fields[index].strip()
        if "\n" in cell or "\r" in cell or "\t" in cell:
            cell = _INNER_BREAKS.sub(" ", cell)
        if len(cell) > limit:
            report.reject(
                line,
                _("Champ « %(field)s » trop long : %(length)d caractères (%(max)d au maximum).")
                % {"field": FIELD_LABELS[name], "length": len(cell), "max": limit},
                fields,
            )
            return None
        values[name] = cell
    if not values["name"]:
        report.reject(line, _("Nom de l'entreprise manquant."), fields)
        return None
    if not values["phone"]:
        report.reject(line, _("Téléphone manquant."), fields)
        return None
    if layout.score_index is not None:
        cell = fields[layout.score_index].strip()
        if cell:
            try:
                values["validity_score"] = parse_score(cell)
            except ValueError:
                report.reject(
                    line,
                    _("Score « %(value)s » : ce n'est pas un nombre (ex. 72,5).")
                    % {"value": cell[:40]},
                    fields,
                )
                return None
    raw_status = ""
    if layout.status_index is not None:
        raw_status = fields[layout.status_index].strip()

    values["phone_e164"] = e164 = fast_normalise_phone(values["phone"])
    # The fieldwork rules' time zone and country (of public holidays), from the number.
    values["time_zone"], values["country"] = phone_zone(e164)
    if not e164:
        report.warn(
            line,
            _("Téléphone « %(phone)s » non reconnu : importé tel quel, sans numéro normalisé.")
            % {"phone": values["phone"][:40]},
        )
    values["status"] = clean_status(line, raw_status, report)
    return values


@functools.lru_cache(maxsize=256)
def status_for(raw: str) -> str | None:
    return STATUS_KEYS.get(header_key(raw))


def clean_status(line: int, raw: str, report: Report) -> str:
    if not raw:
        return Status.PENDING
    status = status_for(raw)
    if status == Status.IN_PROGRESS:
        report.warn(
            line,
            _(
                "Statut « %(value)s » : aucun opérateur ne tient cette entreprise, "
                "importée « À appeler »."
            )
            % {"value": raw[:40]},
        )
        return Status.PENDING
    if status is None:
        report.warn(
            line,
            _("Statut « %(value)s » inconnu : importée « À appeler ».") % {"value": raw[:40]},
        )
        return Status.PENDING
    return status


_PHONE_SEPARATORS = str.maketrans("", "", " .-/()\xa0\u202f")
_DIGITS = re.compile(r"\+?[0-9]{4,17}\Z")


def fast_normalise_phone(raw: str) -> str:
    """normalise_phone() with a shortcut for plain digit strings (most of a 100,000-row list):
    the same answer, checked by a property test, in a third of the time."""
    compact = raw.translate(_PHONE_SEPARATORS)
    if not _DIGITS.match(compact):
        return normalise_phone(raw)
    if compact.startswith("+"):
        return _international(compact[1:]) or normalise_phone(raw)
    if compact.startswith("00"):
        return _international(compact[2:]) or normalise_phone(raw)
    national = _national(compact)
    if national is None:
        return normalise_phone(raw)
    # Like normalise_phone(): the national reading first, then the digits as international.
    return national or _international(compact) or normalise_phone(raw)


@functools.lru_cache(maxsize=512)
def possible_lengths(country_code: int) -> frozenset[int]:
    """Every national number length valid somewhere under this country code."""
    lengths: set[int] = set()
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ()):
        if region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
            metadata = phonenumbers.PhoneMetadata.metadata_for_nongeo_region(country_code)
        else:
            metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        if metadata is None or metadata.general_desc is None:
            return frozenset(range(1, 18))  # unknown: let is_valid_number decide
        lengths.update(metadata.general_desc.possible_length or range(1, 18))
    return frozenset(lengths)


def _international(digits: str) -> str:
    if digits.startswith("0"):
        return ""  # no country code starts with 0
    for length in (1, 2, 3):
        code = int(digits[:length]) if digits[:length].isdigit() else 0
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            national = digits[length:]
            if not national or national.startswith("0"):
                return ""  # leading zeros have their own rules: the slow path decides
            if len(national) not in possible_lengths(code):
                return ""  # is_valid_number would say no, only slower
            return "+" + digits if is_valid_national(code, national) else ""
    return ""


def _national(digits: str) -> str | None:
    """E.164 of a national number in PHONE_REGION, "" when it is not one, None when only the
    slow path can tell (a region with a national prefix, a leading zero)."""
    region = settings.PHONE_REGION
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if (
        metadata is None
        or metadata.national_prefix_for_parsing
        or metadata.national_prefix
        or digits.startswith("0")
    ):
        return None
    if len(digits) not in possible_lengths(metadata.country_code):
        return ""
    if is_valid_national(metadata.country_code, digits):
        return f"+{metadata.country_code}{digits}"
    return ""


def is_valid_national(country_code: int, national: str) -> bool:
    """phonenumbers.is_valid_number() for a national number without leading zero."""
    check = validity_check(country_code)
    if check is not None:
        return check(national)
    number = phonenumbers.PhoneNumber(country_code=country_code, national_number=int(national))
    return phonenumbers.is_valid_number(number)


@functools.lru_cache(maxsize=512)
def validity_check(country_code: int) -> Callable[[str], bool] | None:
    """For a country code that is one region (237: CM, 33: FR), the test is_valid_number() runs
    (the general pattern, then any number type's), with its patterns compiled once and the
    likeliest types first. None where several regions share the code: phonenumbers decides."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
    if len(regions) != 1 or regions[0] == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
        return None
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(regions[0])
    if metadata is None or metadata.general_desc is None:
        return None

    def matcher(desc):
        if desc is None or not desc.national_number_pattern:
            return None
        return (frozenset(desc.possible_length or ()), re.compile(desc.national_number_pattern))

    general = matcher(metadata.general_desc)
    types = [
        metadata.mobile if not metadata.same_mobile_and_fixed_line_pattern else None,
        metadata.fixed_line,
        metadata.premium_rate,
        metadata.toll_free,
        metadata.shared_cost,
        metadata.voip,
        metadata.personal_number,
        metadata.pager,
        metadata.uan,
        metadata.voicemail,
    ]
    matchers = [m for m in map(matcher, types) if m is not None]

    def matches(national: str, lengths_pattern) -> bool:
        lengths, pattern = lengths_pattern
        if lengths and len(national) not in lengths:
            return False
        return pattern.fullmatch(national) is not None

    def check(national: str) -> bool:
        if general is None or not matches(national, general):
            return False
        return any(matches(national, m) for m in matchers)

    return check


# --- Deduplication and planning ---------------------------------------------------------------

INFO_FIELDS = [*TEXT_FIELDS, "validity_score"]


def updated_fields(layout: Layout) -> list[str]:
    """The info an import may change on a company it finds again: the columns the file has
    (a list without a "product" column leaves products alone)."""
    return [name for name in INFO_FIELDS if name in layout.columns]


def fingerprint(values) -> int:
    return hash(tuple(values))


@dataclass
class Existing:
    """The campaign's companies, in memory for dedup (one query, never one per row)."""

    by_niu: dict[str, int] = field(default_factory=dict)
    by_phone: dict[str, int] = field(default_factory=dict)
    # id -> (NIU key, fingerprint of the info fields, archived, removable by a replace)
    info: dict[int, tuple[str, int, bool, bool]] = field(default_factory=dict)
    # id -> line of the file that matched it (filled while planning)
    matched: dict[int, int] = field(default_factory=dict)

    fields: list[str] = field(default_factory=lambda: list(INFO_FIELDS))

    @classmethod
    def of(cls, campaign: Campaign | None, fields: list[str]) -> Existing:
        existing = cls(fields=fields)
        if campaign is None or campaign.pk is None:
            return existing
        # The calls' model through the reverse relation: companies never imports calls.
        calls = Company._meta.get_field("calls").related_model.objects

        rows = (
            Company.objects.filter(campaign=campaign)
            .annotate(has_calls=Exists(calls.filter(company=OuterRef("pk"))))
            .order_by("pk")
            .values_list("pk", "niu", *fields, "phone_e164", "is_archived", "status", "has_calls")
        )
        for pk, niu, *info, e164, archived, status, has_calls in rows.iterator(chunk_size=5000):
            key = niu_key(niu)
            if key:
                existing.by_niu.setdefault(key, pk)
            if e164:
                existing.by_phone.setdefault(e164, pk)
            removable = not has_calls and status != Status.IN_PROGRESS
            existing.info[pk] = (key, fingerprint(info), archived, removable)
        return existing


@dataclass
class Planned:
    action: str  # "create", "update" or "unchanged"
    line: int
    values: dict
    pk: int | None = None


def plan_rows(
    text: str,
    layout: Layout,
    existing: Existing,
    report: Report,
    progress: Progress | None = None,
) -> Iterator[Planned]:
    """Every accepted row with what to do with it; rejections go on the report."""
    seen_niu: dict[str, int] = {}
    seen_phone: dict[str, tuple[int, str]] = {}
    matched = existing.matched
    for line, fields in iter_records(text, layout, progress):
        report.rows_total += 1
        if fields is None:
            report.reject(line, _("Ligne illisible (guillemets mal fermés ?)."))
            continue
        values = clean_record(line, fields, layout, report)
        if values is None:
            continue
        niu = niu_key(values["niu"])
        e164 = values["phone_e164"]
        if niu and niu in seen_niu:
            report.reject(
                line,
                _("Doublon de la ligne %(line)d (même NIU %(niu)s) : ligne ignorée.")
                % {"line": seen_niu[niu], "niu": values["niu"]},
                fields,
            )
            continue
        if e164 and e164 in seen_phone:
            earlier_line, earlier_niu = seen_phone[e164]
            if not niu or not earlier_niu:
                report.reject(
                    line,
                    _("Doublon de la ligne %(line)d (même téléphone %(phone)s) : ligne ignorée.")
                    % {"line": earlier_line, "phone": e164},
                    fields,
                )
                continue
        pk = existing.by_niu.get(niu) if niu else None
        if pk is None and e164:
            candidate = existing.by_phone.get(e164)
            if candidate is not None and (not niu or not existing.info[candidate][0]):
                pk = candidate
        if pk is not None and pk in matched:
            report.reject(
                line,
                _("Même entreprise que la ligne %(line)d : ligne ignorée.") % {"line": matched[pk]},
                fields,
            )
            continue
        if niu:
            seen_niu[niu] = line
        if e164 and e164 not in seen_phone:
            seen_phone[e164] = (line, niu)
        if pk is None:
            report.created += 1
            yield Planned("create", line, values)
            continue
        matched[pk] = line
        _key, old_fingerprint, archived, _removable = existing.info[pk]
        if archived or old_fingerprint != fingerprint(values[name] for name in existing.fields):
            report.updated += 1
            yield Planned("update", line, values, pk)
        else:
            report.unchanged += 1
            yield Planned("unchanged", line, values, pk)


def replaced(existing: Existing) -> tuple[list[int], list[int]]:
    """Companies a replace takes out of the list: (to delete, to archive)."""
    delete, archive = [], []
    for pk, (_key, _fp, archived, removable) in existing.info.items():
        if pk in existing.matched:
            continue
        if removable:
            delete.append(pk)
        elif not archived:
            archive.append(pk)
    return delete, archive


def sample_row(planned: Planned) -> dict:
    values = planned.values
    return {
        "line": planned.line,
        "action": planned.action,
        **{name: values[name] for name in TEXT_FIELDS},
        "phone_e164": values["phone_e164"],
        # Shown as the rest of the site shows numbers (50,00 in French), kept as text for JSON.
        "validity_score": ""
        if values["validity_score"] is None
        else localize(values["validity_score"]),
        "status": str(values["status"]),
        "status_label": str(Status(values["status"]).label),
    }


# --- Preview ----------------------------------------------------------------------------------


def analyse(
    data: bytes,
    *,
    mode: str = ImportMode.NEW,
    campaign: Campaign | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    has_header: bool | None = None,
    progress: Progress | None = None,
) -> Report:
    """The preview: what importing these bytes would do. Writes nothing.

    Raises ImportFileError when the file as a whole cannot be imported."""
    check_size(len(data))
    text, layout = read_layout(data, encoding, delimiter, has_header)
    report = Report(layout=layout)
    existing = Existing.of(campaign if mode != ImportMode.NEW else None, updated_fields(layout))
    for planned in plan_rows(text, layout, existing, report, progress):
        if len(report.sample) < SAMPLE_ROWS:
            report.sample.append(sample_row(planned))
    if mode == ImportMode.REPLACE:
        delete, archive = replaced(existing)
        report.deleted, report.archived = len(delete), len(archive)
    if report.rows_total == 0:
        raise ImportFileError(_("Le fichier ne contient aucune ligne d'entreprise."))
    return report


def first_rows(batch: ImportBatch, limit: int = SAMPLE_ROWS) -> list[dict]:
    """The first rows of a kept file, as the import reads them (only its head is re-read)."""
    with batch.file.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
        complete = not handle.read(1)
    text = head.decode(batch.encoding or "utf-8", errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    if not complete:
        last_newline = max(text.rfind("\n"), text.rfind("\r"))
        text = text[: last_newline + 1] if last_newline > 0 else ""
    text = _CONTROL.sub("", text)
    try:
        layout = make_layout(text, batch.encoding, batch.delimiter or None, batch.has_header)
    except ImportFileError:
        return []
    report = Report(layout=layout)
    rows = []
    for planned in plan_rows(text, layout, Existing(), report):
        rows.append(sample_row(planned))
        if len(rows) >= limit:
            break
    return rows


# --- Apply ------------------------------------------------------------------------------------


class ImportApplyError(Exception):
    """Apply refused: nothing was written; the message is French and says why."""


def default_campaign_name(filename: str, when: datetime | None = None) -> str:
    stem = filename.rsplit("/", 1)[-1].rsplit(".", 1)[0] or _("Import")
    when = timezone.localtime(when or timezone.now())
    return f"{stem[:150]} ({when:%d/%m/%Y %H:%M})"


def apply_batch(batch: ImportBatch, progress: Progress | None = None) -> Report:
    """Write a previewed import: one transaction, all or nothing. Never deletes a call, a
    recording, or a company that has calls (those are archived)."""
    with batch.file.open("rb") as handle:
        data = read_limited(handle)
    try:
        with transaction.atomic():
            return _apply(batch, data, progress)
    except IntegrityError as exc:
        raise ImportApplyError(
            _("La base a refusé l'import (%(error)s) : rien n'a été enregistré.")
            % {"error": str(exc)[:200]}
        ) from exc
    except ProtectedError as exc:
        raise ImportApplyError(
            _(
                "Une entreprise a reçu un appel pendant l'import : rien n'a été enregistré, "
                "relancez l'import."
            )
        ) from exc


def _apply(batch: ImportBatch, data: bytes, progress: Progress | None) -> Report:
    locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if locked.applied_at is not None:
        raise ImportApplyError(_("Cet import a déjà été appliqué."))
    text, layout = read_layout(data, batch.encoding, batch.delimiter or None, batch.has_header)
    now = timezone.now()
    if batch.mode == ImportMode.NEW:
        name = batch.campaign_name.strip()
        if not name or Campaign.objects.filter(name=name).exists():
            raise ImportApplyError(
                _("Une campagne nommée « %(name)s » existe déjà : choisissez un autre nom.")
                % {"name": name}
            )
        campaign = Campaign.objects.create(name=name, created_by_id=batch.uploaded_by_id)
        existing = Existing()
    else:
        if batch.campaign_id is None:
            raise ImportApplyError(_("Choisissez la campagne à compléter ou à remplacer."))
        campaign = Campaign.objects.select_for_update().get(pk=batch.campaign_id)
        existing = Existing.of(campaign, updated_fields(layout))

    report = Report(layout=layout)
    writer = CompanyWriter(campaign, now, updated_fields(layout))
    for planned in plan_rows(text, layout, existing, report, progress):
        if planned.action == "create":
            writer.create(planned.values)
        elif planned.action == "update":
            writer.update(planned.pk, planned.values)
    writer.flush()

    if report.accepted == 0:
        # Raising rolls the transaction back: a replace never empties a list on a bad file.
        raise ImportApplyError(_("Aucune ligne valide dans ce fichier : rien n'a été enregistré."))

    if batch.mode == ImportMode.REPLACE:
        delete, archive = replaced(existing)
        report.deleted = delete_uncalled(delete)
        # What could not be deleted (a call arrived meanwhile) is archived instead.
        report.archived = archive_companies(archive + delete, now)

    quotas.recount(campaign)  # the companies' fields may have moved interviews between cells
    report.store_on(locked)
    locked.campaign = campaign
    locked.applied_at = timezone.now()
    locked.save()
    batch.refresh_from_db()
    return report


class CompanyWriter:
    """Batched INSERTs and UPDATEs of companies, their columns and constant values taken from
    the model's own fields: on SQLite one prepared statement run with executemany per batch, on
    PostgreSQL a COPY per batch for the new rows.

    bulk_create() does the same job, but on SQLite it cuts 100,000 rows into 41-row statements
    (999 parameters at most) and prepares each of the 2.4 million values one by one: an import
    of 100,000 rows took 16 s with it, 4.5 s like this (see docs/PERFORMANCE.md).
    """

    VARIABLE = [
        "campaign_id",
        *INFO_FIELDS,
        "phone_e164",
        "time_zone",
        "country",
        "status",
        "callback_at",
    ]

    def __init__(
        self,
        campaign: Campaign,
        now: datetime,
        updated: list[str] = INFO_FIELDS,
        batch_size: int = BATCH_SIZE,
    ):
        self.updated = [*updated, "phone_e164", "time_zone", "country"]
        self.connection = connection = connections[Company.objects.db]
        self.batch_size = batch_size
        self.creates: list[list] = []
        self.updates: list[list] = []
        self.callback_at = self.prepare("callback_at", now)
        self.score = Company._meta.get_field("validity_score")
        quote = connection.ops.quote_name
        columns, template = [], []
        for model_field in Company._meta.local_concrete_fields:
            if model_field.primary_key:
                continue
            if model_field.attname in self.VARIABLE:
                value = None
            elif getattr(model_field, "auto_now", False) or getattr(
                model_field, "auto_now_add", False
            ):
                value = model_field.get_db_prep_save(now, connection)
            else:
                default = model_field.get_default()
                if hasattr(default, "resolve_expression"):
                    continue  # a database-side default: leave the column out
                value = model_field.get_db_prep_save(default, connection)
            columns.append(model_field.attname)
            template.append(value)
        self.template = template
        self.slot = {name: columns.index(name) for name in self.VARIABLE}
        self.template[self.slot["campaign_id"]] = campaign.pk
        table = quote(Company._meta.db_table)
        placeholders = ", ".join(["%s"] * len(columns))
        self.insert_sql = (
            f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) VALUES ({placeholders})"
        )
        # SQLite runs a prepared statement per row fastest (executemany); PostgreSQL takes rows
        # fastest through COPY (an INSERT per row costs it a round of parsing and planning).
        self.copy_sql = None
        if connection.vendor == "postgresql":
            self.copy_sql = f"COPY {table} ({', '.join(quote(c) for c in columns)}) FROM STDIN"

        def assignment(column: str) -> str:
            if column == "time_zone":  # a zone a supervisor chose stays; else it follows the number
                chosen = quote("time_zone_chosen")
                return f"{quote(column)} = CASE WHEN {chosen} THEN {quote(column)} ELSE %s END"
            return f"{quote(column)} = %s"

        assignments = ", ".join(assignment(c) for c in [*self.updated, "is_archived"])
        self.update_sql = (
            f"UPDATE {table} SET {assignments}, {quote('updated_at')} = %s WHERE {quote('id')} = %s"
        )
        self.update_constants = [
            self.prepare("is_archived", False),
            self.prepare("updated_at", now),
        ]

    def adapt_score(self, value):
        if value is None:
            return None
        # The value is already a quantized Decimal: only the backend's adaptation is left.
        return self.connection.ops.adapt_decimalfield_value(
            value, self.score.max_digits, self.score.decimal_places
        )

    def prepare(self, name: str, value):
        return Company._meta.get_field(name).get_db_prep_save(value, self.connection)

    def create(self, values: dict) -> None:
        row = self.template.copy()
        slot = self.slot
        for name in TEXT_FIELDS:
            row[slot[name]] = values[name]
        row[slot["phone_e164"]] = values["phone_e164"]
        row[slot["time_zone"]] = values["time_zone"]
        row[slot["country"]] = values["country"]
        row[slot["validity_score"]] = self.adapt_score(values["validity_score"])
        status = values["status"]
        row[slot["status"]] = str(status)
        # An imported callback has no date: it is due now.
        row[slot["callback_at"]] = self.callback_at if status == Status.CALLBACK else None
        self.creates.append(row)
        if len(self.creates) >= self.batch_size:
            self.flush()

    def update(self, pk: int, values: dict) -> None:
        """Info only: status, attempts, locks and calls stay as they are."""
        row = [values[name] for name in self.updated]
        if "validity_score" in self.updated:
            row[self.updated.index("validity_score")] = self.adapt_score(values["validity_score"])
        self.updates.append([*row, *self.update_constants, pk])
        if len(self.updates) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        with self.connection.cursor() as cursor:
            if self.creates and self.copy_sql:
                with cursor.cursor.copy(self.copy_sql) as copy:
                    for row in self.creates:
                        copy.write_row(row)
                self.creates.clear()
            elif self.creates:
                cursor.executemany(self.insert_sql, self.creates)
                self.creates.clear()
            if self.updates:
                cursor.executemany(self.update_sql, self.updates)
                self.updates.clear()


def delete_uncalled(pks: list[int]) -> int:
    """Delete the companies among pks that have no call and nobody holds. The condition is part
    of the DELETE's own query, so a company with calls is never even tried."""
    deleted = 0
    for start in range(0, len(pks), 500):
        chunk = pks[start : start + 500]
        _total, per_model = (
            Company.objects.filter(pk__in=chunk)
            .exclude(status=Status.IN_PROGRESS)
            .filter(calls__isnull=True)
            .delete()
        )
        deleted += per_model.get(Company._meta.label, 0)
    return deleted


def archive_companies(pks: list[int], now: datetime) -> int:
    """Archive what is left of pks (companies with calls, or held by an operator)."""
    archived = 0
    for start in range(0, len(pks), 500):
        chunk = pks[start : start + 500]
        archived += Company.objects.filter(pk__in=chunk, is_archived=False).update(
            is_archived=True, updated_at=now
        )
    return archived


# --- Text report (the management command prints what the pages show) ---------------------------


def format_report(report: Report, *, applied: bool, filename: str = "") -> str:
    layout = report.layout
    lines = []
    if filename:
        lines.append(_("Fichier : %(name)s") % {"name": filename})
    if layout is not None:
        lines.append(
            _("Encodage : %(encoding)s · séparateur : %(delimiter)s · ligne d'en-tête : %(header)s")
            % {
                "encoding": ENCODING_LABELS.get(layout.encoding, layout.encoding),
                "delimiter": DELIMITER_LABELS.get(layout.delimiter, layout.delimiter),
                "header": _("oui") if layout.has_header else _("non"),
            }
        )
        lines.append(_("Colonnes :"))
        for column in layout.mapping():
            header = f"« {column['header']} »" if column["header"] else _("(sans en-tête)")
            lines.append(f"  {column['index']:>2}. {header} → {column['label']}")
    for label, value in count_lines(report, applied=applied):
        lines.append(f"{label} : {value}")
    if report.errors:
        lines.append(_("Lignes rejetées :"))
        for issue in report.errors:
            lines.append(
                "  "
                + _("ligne %(line)s : %(message)s") % {"line": issue.line, "message": issue.message}
            )
    if report.warnings:
        lines.append(_("Avertissements :"))
        for issue in report.warnings:
            where = _("ligne %(line)s : ") % {"line": issue.line} if issue.line else ""
            lines.append(f"  {where}{issue.message}")
        if report.warnings_total > len(report.warnings):
            hidden = report.warnings_total - len(report.warnings)
            lines.append("  " + _("… et %(count)s autres avertissements.") % {"count": hidden})
    return "\n".join(lines)


def count_lines(report: Report, *, applied: bool) -> list[tuple[str, int]]:
    if applied:
        labels = [
            _("Lignes lues"),
            _("Créées"),
            _("Mises à jour"),
            _("Inchangées"),
            _("Archivées"),
            _("Supprimées (sans appel)"),
            _("Rejetées"),
        ]
    else:
        labels = [
            _("Lignes lues"),
            _("À créer"),
            _("À mettre à jour"),
            _("Inchangées"),
            _("À archiver"),
            _("À supprimer (sans appel)"),
            _("Rejetées"),
        ]
    values = [
        report.rows_total,
        report.created,
        report.updated,
        report.unchanged,
        report.archived,
        report.deleted,
        report.rejected,
    ]
    return list(zip(labels, values, strict=True))
