"""The consolidated export: rows from the database, CSV and XLSX writers.

Shared by the /export/ views and `manage.py export_calls`. Nothing here holds the rows in
memory: the rows come from a database iterator (a server-side cursor on PostgreSQL, fetchmany on
SQLite), the CSV is yielded in small chunks and the XLSX is written by xlsxwriter in
constant-memory mode to a file (a temporary one for the web).

A row is first made of typed cells (str, int, float, naive local datetime, "" when empty), so
that the two formats say exactly the same thing; each writer then renders the types its own way.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import IO, Any

from django.db import connections
from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from calls.models import CallRecord, CallStatus, Level, NumberStatus, Recording
from companies.aapor import Disposition
from companies.lifecycle import Status, do_not_call_condition
from companies.models import Campaign, Company
from core.dates import local_midnight
from core.spreadsheet import CSV_NEUTRALISER, FORMULA_CHARS


class ExportFormat:
    CSV = "csv"
    CSV_SEMICOLON = "csv-semicolon"
    XLSX = "xlsx"

    choices = [
        (XLSX, _("Excel (XLSX)")),
        (CSV_SEMICOLON, _("CSV, séparateur point-virgule (Excel en français)")),
        (CSV, _("CSV, séparateur virgule")),
    ]


class Scope:
    CALLS = "calls"
    COMPANIES = "companies"

    choices = [
        (CALLS, _("Une ligne par appel (chaque tentative)")),
        (COMPANIES, _("Une ligne par entreprise (dernier résultat, non appelées comprises)")),
    ]


SCOPE_FILE_WORDS = {Scope.CALLS: "appels", Scope.COMPANIES: "entreprises"}
SHEET_TITLES = {Scope.CALLS: _("Appels"), Scope.COMPANIES: _("Entreprises")}

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"

# Rows read from the database per round trip, and characters of CSV per streamed chunk.
DB_CHUNK_ROWS = 2000
CSV_CHUNK_BYTES = 64 * 1024

# Excel's hard limit of rows per worksheet; beyond it the export continues on a new sheet.
XLSX_MAX_ROWS = 1_048_576


# What a column holds: text people typed (neutralised when it looks like a formula), the
# export's own words (choice labels, « oui »/« non »: never formula-like), numbers, dates.
TEXT, LABEL, NUMBER, DATETIME = "text", "label", "number", "datetime"


@dataclass(frozen=True)
class Column:
    header: Any  # a lazy French string
    width: float  # in Excel character units
    kind: str = TEXT


# The survey's agreed columns, in this order, then the columns the survey team asked for on top.
COLUMNS = [
    Column(_("Entreprise"), 34),
    Column(_("Téléphone"), 18),
    Column(_("Produit"), 16),
    Column(_("Activité"), 18),
    Column(_("Localisation"), 16),
    Column(_("Forme juridique"), 15),
    Column(_("NIU"), 18),
    Column(_("Score"), 8, NUMBER),
    Column(_("Statut numéros"), 16, LABEL),
    Column(_("Statut appel"), 22, LABEL),
    Column(_("Présentation"), 13, LABEL),
    Column(_("Questions libres"), 16, LABEL),
    Column(_("Questions orientées"), 19, LABEL),
    Column(_("Enquête"), 9, LABEL),
    Column(_("Horodatage"), 20, DATETIME),
    Column(_("Audio"), 7, LABEL),
    Column(_("Campagne"), 28),
    Column(_("Opérateur"), 20),
    Column(_("Tentative"), 10, NUMBER),
    Column(_("Rappel prévu"), 20, DATETIME),
    Column(_("Durée audio (s)"), 15, NUMBER),
    Column(_("Code AAPOR"), 40, LABEL),
    Column(_("Lien de l'enregistrement"), 50),
]
COMPANY_EXTRA_COLUMNS = [
    Column(_("Statut de l'entreprise"), 20, LABEL),
    Column(_("Archivée"), 10, LABEL),
]
# Last in both scopes: whether the company's number or NIU is on the do-not-call list now.
DO_NOT_CALL_COLUMN = Column(_("Ne plus appeler"), 15, LABEL)


@dataclass(frozen=True)
class Filters:
    campaign: Campaign | None = None
    date_from: date | None = None
    date_to: date | None = None
    operator: Any = None  # a user
    number_status: str = ""
    call_status: str = ""

    def touch_calls(self) -> bool:
        """Whether a filter concerns the calls (so an uncalled company cannot match)."""
        return bool(
            self.date_from
            or self.date_to
            or self.operator
            or self.number_status
            or self.call_status
        )


def call_conditions(filters: Filters, prefix: str = "") -> Q:
    """The filters on a call's fields, for a CallRecord queryset or through a relation."""
    condition = Q()
    if filters.date_from:
        condition &= Q(**{f"{prefix}submitted_at__gte": local_midnight(filters.date_from)})
    if filters.date_to:
        end = local_midnight(filters.date_to + timedelta(days=1))
        condition &= Q(**{f"{prefix}submitted_at__lt": end})
    if filters.operator:
        condition &= Q(**{f"{prefix}operator": filters.operator})
    if filters.number_status:
        condition &= Q(**{f"{prefix}status_numero": filters.number_status})
    if filters.call_status:
        condition &= Q(**{f"{prefix}call_status": filters.call_status})
    return condition


def audible_recordings(call_ref: str) -> QuerySet:
    """Recordings of the call `call_ref` (an OuterRef path) that hold some audio."""
    return Recording.objects.filter(call=OuterRef(call_ref), size_bytes__gt=0).order_by()


def recording_annotations(call_ref: str) -> dict:
    latest = audible_recordings(call_ref).order_by("-created_at", "-id").values("id")[:1]
    total = (
        audible_recordings(call_ref)
        .values("call")
        .annotate(total=Sum("duration_seconds"))
        .values("total")
    )
    return {"export_recording_id": Subquery(latest), "export_audio_seconds": Subquery(total)}


# Row layout read from the database, the same for both scopes (company part, then call part).
COMPANY_FIELDS = [
    "name",
    "phone",
    "product",
    "activity",
    "location",
    "legal_form",
    "niu",
    "validity_score",
    "campaign__name",
]
CALL_FIELDS = [
    "status_numero",
    "call_status",
    "presentation_level",
    "questions_libres_level",
    "questions_orientees_level",
    "submitted_at",
    "operator__username",
    "operator__first_name",
    "operator__last_name",
    "attempt",
    "callback_at",
    "disposition",
]
RECORDING_FIELDS = ["export_recording_id", "export_audio_seconds"]
COMPANY_STATE_FIELDS = ["status", "is_archived"]


def calls_queryset(filters: Filters) -> QuerySet:
    """One row per submitted call (drafts are not calls yet), oldest first."""
    calls = CallRecord.objects.submitted().filter(call_conditions(filters))
    if filters.campaign:
        calls = calls.filter(company__campaign=filters.campaign)
    return calls.annotate(**recording_annotations("pk")).order_by("submitted_at", "pk")


def companies_queryset(filters: Filters) -> QuerySet:
    """One row per company (archived ones too: they have a history) with its latest submitted
    call joined in one query; uncalled companies have an empty call part. The call filters apply
    to that latest call. Companies in the order they were imported, campaign by campaign."""
    latest = (
        CallRecord.objects.submitted()
        .filter(company=OuterRef("pk"))
        .order_by("-submitted_at", "-pk")
        .values("pk")[:1]
    )
    companies = (
        Company.objects.all()
        .annotate(export_latest_id=Subquery(latest))
        .annotate(latest=FilteredRelation("calls", condition=Q(calls__pk=F("export_latest_id"))))
    )
    if filters.campaign:
        companies = companies.filter(campaign=filters.campaign)
    if filters.touch_calls():
        companies = companies.filter(call_conditions(filters, prefix="latest__"))
    return companies.annotate(**recording_annotations("latest__pk")).order_by("campaign_id", "pk")


def do_not_call_flag(prefix: str = "") -> dict:
    flag = ExpressionWrapper(do_not_call_condition(prefix), output_field=BooleanField())
    return {"export_do_not_call": flag}


def row_queryset(scope: str, filters: Filters) -> QuerySet:
    if scope == Scope.COMPANIES:
        fields = (
            COMPANY_FIELDS
            + [f"latest__{name}" for name in CALL_FIELDS]
            + RECORDING_FIELDS
            + COMPANY_STATE_FIELDS
            + ["export_do_not_call"]
        )
        return companies_queryset(filters).annotate(**do_not_call_flag()).values_list(*fields)
    fields = (
        [f"company__{name}" for name in COMPANY_FIELDS]
        + CALL_FIELDS
        + RECORDING_FIELDS
        + ["export_do_not_call"]
    )
    return calls_queryset(filters).annotate(**do_not_call_flag("company__")).values_list(*fields)


def recording_link_template(build_absolute: Callable[[str], str] | None) -> tuple[str, str] | None:
    """(prefix, suffix) of the recording playback URL around the recording id, or None when
    the URL "calls:recording" does not exist (yet). Reversed once, not once per row."""
    sentinel = 987654321987654321
    try:
        path = reverse("calls:recording", kwargs={"recording_id": sentinel})
    except NoReverseMatch:
        return None
    url = build_absolute(path) if build_absolute else path
    prefix, found, suffix = url.partition(str(sentinel))
    return (prefix, suffix) if found else None


def export_filename(campaign: Campaign | None, scope: str, extension: str) -> str:
    """naumur_<campaign slug or toutes-campagnes>_<appels|entreprises>_<YYYY-MM-DD>.<ext>"""
    if campaign is None:
        slug = "toutes-campagnes"
    else:
        slug = slugify(campaign.name) or f"campagne-{campaign.pk}"  # a name without Latin letters
    today = timezone.localdate()
    return f"naumur_{slug}_{SCOPE_FILE_WORDS[scope]}_{today:%Y-%m-%d}.{extension}"


@dataclass
class Export:
    """One export: its columns and its rows as typed cells. Labels and headers are resolved in
    the active language when the export is made (the CSV is streamed after the view returned)."""

    scope: str
    filters: Filters = field(default_factory=Filters)
    link_template: tuple[str, str] | None = None

    def __post_init__(self):
        columns = COLUMNS + (COMPANY_EXTRA_COLUMNS if self.scope == Scope.COMPANIES else [])
        columns = [*columns, DO_NOT_CALL_COLUMN]
        self.headers = [str(column.header) for column in columns]
        self.widths = [column.width for column in columns]
        self.kinds = [column.kind for column in columns]
        self.yes, self.no = str(_("oui")), str(_("non"))
        self.number_labels = {value: str(label) for value, label in NumberStatus.choices}
        self.call_labels = {value: str(label) for value, label in CallStatus.choices}
        self.level_labels = {value: str(label) for value, label in Level.choices}
        self.disposition_labels = {value: str(label) for value, label in Disposition.choices}
        self.status_labels = {value: str(label) for value, label in Status.choices}
        self.rows_written = 0

    @property
    def sheet_title(self) -> str:
        return str(SHEET_TITLES[self.scope])

    def queryset(self) -> QuerySet:
        return row_queryset(self.scope, self.filters)

    def count(self) -> int:
        return self.queryset().count()

    def rows(self) -> Iterator[list]:
        """Typed cells, one new list per row, streamed from the database: str, int, float,
        naive datetime in TIME_ZONE, or "" for an empty cell."""
        local = wall_clock(timezone.get_default_timezone())
        yes, no = self.yes, self.no
        numbers, calls, levels = self.number_labels, self.call_labels, self.level_labels
        dispositions, statuses = self.disposition_labels, self.status_labels
        link = self.link_template
        companies = self.scope == Scope.COMPANIES
        accepted = CallStatus.ACCEPTED.value

        self.rows_written = 0
        for row in database_rows(self.queryset()):
            (
                name,
                phone,
                product,
                activity,
                location,
                legal_form,
                niu,
                score,
                campaign,
                number_status,
                call_status,
                presentation,
                questions_libres,
                questions_orientees,
                submitted_at,
                username,
                first_name,
                last_name,
                attempt,
                callback_at,
                disposition,
                recording_id,
                audio_seconds,
            ) = row[:23]
            called = submitted_at is not None
            if called and not disposition:
                disposition = outcome_code(
                    number_status, call_status, presentation, questions_libres, questions_orientees
                )
            cells = [
                name,
                phone,
                product,
                activity,
                location,
                legal_form,
                niu,
                float(score) if score is not None else "",
                numbers.get(number_status, number_status) or "",
                calls.get(call_status, call_status) or "",
                levels.get(presentation, presentation) or "",
                levels.get(questions_libres, questions_libres) or "",
                levels.get(questions_orientees, questions_orientees) or "",
                (yes if call_status == accepted else no) if called else "",
                local(submitted_at) if called else "",
                (yes if recording_id is not None else no) if called else "",
                campaign,
                (f"{first_name} {last_name}".strip() or username) if called else "",
                attempt if called else "",
                local(callback_at) if callback_at else "",
                int((audio_seconds or 0) + 0.5) if called else "",
                dispositions.get(disposition, disposition) or "",
                f"{link[0]}{recording_id}{link[1]}" if link and recording_id is not None else "",
            ]
            if companies:
                status, is_archived = row[23:25]
                cells.append(statuses.get(status, status) or "")
                cells.append(yes if is_archived else no)
            cells.append(yes if row[-1] else no)
            self.rows_written += 1
            yield cells


def wall_clock(tz: tzinfo) -> Callable[[datetime | str], datetime]:
    """A function giving the wall-clock time in `tz`, to the second and without a zone
    (spreadsheets have none), of a moment as the database driver gives it: naive UTC from
    SQLite (USE_TZ = True), aware from PostgreSQL, or an ISO string.

    It runs twice per exported row, so it avoids datetime.replace() and astimezone(), the slow
    part of doing it plainly: the zone's offset is looked up once per UTC hour and cached. An
    hour in which the offset changes (a zone whose transition is not on the hour) is not
    cached and each of its moments is converted exactly.
    """
    offsets: dict[tuple, timedelta | None] = {}

    def hour_offset(moment: datetime) -> timedelta | None:
        start = datetime(moment.year, moment.month, moment.day, moment.hour, tzinfo=UTC)
        first = start.astimezone(tz).utcoffset()
        last = (start + timedelta(hours=1, microseconds=-1)).astimezone(tz).utcoffset()
        return first if first == last else None

    def local(moment: datetime | str) -> datetime:
        if moment.__class__ is str:
            moment = datetime.fromisoformat(moment)
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)  # its fields are now UTC, like SQLite's
        key = (moment.year, moment.month, moment.day, moment.hour)
        try:
            offset = offsets[key]
        except KeyError:
            offset = offsets[key] = hour_offset(moment)
        if offset is None:
            offset = moment.replace(tzinfo=UTC).astimezone(tz).utcoffset()
        moment += offset
        return datetime(
            moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second
        )

    return local


def database_rows(queryset: QuerySet) -> Iterator[tuple]:
    """The rows of a values_list() queryset as the database driver gives them, fetched in
    chunks from a chunked cursor (server-side on PostgreSQL, fetchmany on SQLite), exactly as
    QuerySet.iterator() does, but without Django's per-value converters: at a million rows
    they cost about as much as writing the CSV. Export.rows() therefore takes each backend's
    raw types: datetimes naive in UTC (SQLite) or aware (PostgreSQL), decimals as floats or
    Decimals."""
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    with connections[queryset.db].chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(DB_CHUNK_ROWS):
            yield from rows


def outcome_code(number_status, call_status, *levels) -> str:
    """The AAPOR code of an outcome, for a call submitted before codes were stored."""
    return CallRecord(
        status_numero=number_status,
        call_status=call_status,
        presentation_level=levels[0],
        questions_libres_level=levels[1],
        questions_orientees_level=levels[2],
    ).outcome_disposition()


# --- CSV ---------------------------------------------------------------------------------


def csv_number(value: float, decimal_comma: bool) -> str:
    text = repr(value).removesuffix(".0")
    return text.replace(".", ",") if decimal_comma else text


def csv_chunks(export: Export, delimiter: str = ",") -> Iterator[bytes]:
    """The export as UTF-8 CSV with a BOM (so Excel detects the encoding), in chunks of about
    64 KB.

    Dates in ISO form, which every spreadsheet reads as dates; decimals with the separator that
    goes with the delimiter (a comma for the ";" flavour French Excel expects); typed text
    neutralised (see CSV_NEUTRALISER). The loop is written for speed (it runs a million times):
    cells are converted in place, and a line that needs no quoting is joined directly, which
    gives the very bytes the csv module writes (the csv module writes the others).
    """
    decimal_comma = delimiter == ";"
    kinds = export.kinds
    text_columns = [i for i, kind in enumerate(kinds) if kind == TEXT]
    date_columns = [i for i, kind in enumerate(kinds) if kind == DATETIME]
    number_columns = [i for i, kind in enumerate(kinds) if kind == NUMBER]
    separators = len(kinds) - 1
    quote, formula_chars = CSV_NEUTRALISER, FORMULA_CHARS
    scratch = io.StringIO()
    writer = csv.writer(scratch, delimiter=delimiter, lineterminator="\r\n")

    def written_by_csv(cells: list) -> str:
        scratch.seek(0)
        scratch.truncate()
        writer.writerow(cells)
        return scratch.getvalue()

    lines = ["\ufeff" + written_by_csv(export.headers)]
    size = 0
    for row in export.rows():
        for i in text_columns:
            text = row[i]
            if text and text[0] in formula_chars:
                row[i] = quote + text
        for i in date_columns:
            if moment := row[i]:
                row[i] = moment.isoformat(" ")
        for i in number_columns:
            number = row[i]
            if number.__class__ is float:
                row[i] = csv_number(number, decimal_comma)
            elif number.__class__ is int:
                row[i] = str(number)
        line = delimiter.join(row)
        if line.count(delimiter) != separators or '"' in line or "\n" in line or "\r" in line:
            line = written_by_csv(row)
        else:
            line += "\r\n"
        lines.append(line)
        size += len(line)
        if size >= CSV_CHUNK_BYTES:
            yield "".join(lines).encode()
            lines.clear()
            size = 0
    yield "".join(lines).encode()


def write_csv(export: Export, target: IO[bytes], delimiter: str = ",") -> int:
    """Write the CSV to a binary file; returns the number of data rows."""
    for chunk in csv_chunks(export, delimiter):
        target.write(chunk)
    return export.rows_written


# --- XLSX --------------------------------------------------------------------------------


def write_xlsx(export: Export, target: str | IO[bytes]) -> int:
    """Write a real workbook to a path or a binary file; returns the number of data rows.

    xlsxwriter in constant-memory mode writes each row to a temporary file as soon as it is
    complete, so memory stays flat; rows must therefore be written in order, which they are
    (see exports/xlsx.py). Text is written as string cells (never formulas, see
    CSV_NEUTRALISER for the quote prefix), numbers as numbers, dates as dates.
    """
    import xlsxwriter

    from exports.xlsx import ExportWorksheet

    workbook = xlsxwriter.Workbook(
        target,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    header_format = workbook.add_format(
        {"bold": True, "bg_color": "#DDE4EE", "bottom": 1, "text_wrap": True, "valign": "top"}
    )
    date_format = workbook.add_format({"num_format": "dd/mm/yyyy hh:mm:ss"})
    quoted_format = workbook.add_format({"quote_prefix": True})
    last_column = len(export.headers) - 1

    def new_sheet(number: int):
        title = export.sheet_title if number == 1 else f"{export.sheet_title} ({number})"
        sheet = workbook.add_worksheet(title, worksheet_class=ExportWorksheet)
        for col, width in enumerate(export.widths):
            sheet.set_column(col, col, width)
        for col, header in enumerate(export.headers):
            sheet.write_string(0, col, header, header_format)
        sheet.freeze_panes(1, 0)
        sheet.date_format, sheet.quoted_format = date_format, quoted_format
        return sheet

    def finish(sheet, last_row: int) -> None:
        sheet.autofilter(0, 0, last_row, last_column)

    sheets = 1
    sheet = new_sheet(sheets)
    row_number = 0
    for row in export.rows():
        row_number += 1
        if row_number >= XLSX_MAX_ROWS:
            finish(sheet, row_number - 1)
            sheets += 1
            sheet = new_sheet(sheets)
            row_number = 1
        sheet.write_export_row(row_number, row)
    finish(sheet, row_number)
    workbook.close()
    return export.rows_written
