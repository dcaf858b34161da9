"""The consolidated export: the rows from the database, and the CSV writer.

Shared by the /export/ views and `manage.py export_calls`; the columns are in
exports/columns.py, the XLSX writer in exports/xlsx.py. Nothing here holds the rows in memory:
the rows come from a database cursor a chunk at a time (server-side on PostgreSQL, fetchmany on
SQLite), the CSV is yielded a chunk of rows at a time and the XLSX is written by xlsxwriter in
constant-memory mode to a file (a temporary one for the web).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import IO, Any

from django.db import connections, models
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    ExpressionWrapper,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Concat
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from calls.models import CallRecord, Recording
from companies.lifecycle import do_not_call_condition
from companies.models import Campaign, Company
from core.dates import local_midnight
from core.spreadsheet import CSV_NEUTRALISER, FORMULA_CHARS
from exports.columns import COLUMNS, COMPANY_COLUMNS, DATETIME, LABEL, NUMBER, TEXT, CellContext


class ExportFormat(models.TextChoices):
    XLSX = "xlsx", _("Excel (XLSX)")
    CSV_SEMICOLON = "csv-semicolon", _("CSV, séparateur point-virgule (Excel en français)")
    CSV = "csv", _("CSV, séparateur virgule")


class Scope(models.TextChoices):
    CALLS = "calls", _("Une ligne par appel (chaque tentative)")
    COMPANIES = (
        "companies",
        _("Une ligne par entreprise (dernier résultat, non appelées comprises)"),
    )


SCOPE_FILE_WORDS = {Scope.CALLS: "appels", Scope.COMPANIES: "entreprises"}
SHEET_TITLES = {Scope.CALLS: _("Appels"), Scope.COMPANIES: _("Entreprises")}

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"

# Rows converted and written together a column at a time: few enough that they stay in the
# processor's cache (a CSV of 2,000 at a time took a tenth longer; docs/PERFORMANCE.md).
CHUNK_ROWS = 200
# Rows read from the database at a time (a server-side cursor's FETCH on PostgreSQL); the
# numbers and contact persons of their companies are read once for all of them (a query per
# 200 rows cost the CSV about a fifth more than one per 2,000).
BLOCK_ROWS = 2000


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
    # The latest recording's id, negative when its audio was purged (retention or erasure,
    # privacy/purge.py): the row says « purgé » without a second subquery per row.
    latest = (
        audible_recordings(call_ref)
        .order_by("-created_at", "-id")
        .annotate(ref=Case(When(purged_at=None, then=F("id")), default=-F("id")))
        .values("ref")[:1]
    )
    total = (
        audible_recordings(call_ref)
        .values("call")
        .annotate(total=Sum("duration_seconds"))
        .values("total")
    )
    # The linked recording's health and missing chunks as one value ("incomplete:2"): one
    # more lookup per row, not two (exports/columns.py, recording_health).
    health = (
        audible_recordings(call_ref)
        .order_by("-created_at", "-id")
        .annotate(
            health_and_missing=Concat(
                "health", Value(":"), "missing_chunks", output_field=CharField()
            )
        )
        .values("health_and_missing")[:1]
    )
    return {
        "export_recording_id": Subquery(latest),
        "export_audio_seconds": Subquery(total),
        "export_recording_health": Subquery(health, output_field=CharField()),
    }


def do_not_call_annotation(company_path: str = "") -> dict:
    """Whether the row's company is on the do-not-call list now: any of its numbers or its NIU
    (the queue's own condition, companies/lifecycle.py); company_path leads to the company."""
    flag = ExpressionWrapper(do_not_call_condition(company_path), output_field=BooleanField())
    return {"export_do_not_call": flag}


def calls_queryset(filters: Filters) -> QuerySet:
    """One row per submitted call (drafts are not calls yet), oldest first."""
    calls = CallRecord.objects.submitted().filter(call_conditions(filters))
    if filters.campaign:
        calls = calls.filter(company__campaign=filters.campaign)
    return calls.annotate(
        **recording_annotations("pk"), **do_not_call_annotation("company__")
    ).order_by("submitted_at", "pk")


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
    return companies.annotate(
        **recording_annotations("latest__pk"), **do_not_call_annotation()
    ).order_by("campaign_id", "pk")


def row_queryset(scope: str, fields: list[str], filters: Filters) -> QuerySet:
    """The source fields (named from a call, see exports/columns.py) of every exported row."""
    if scope == Scope.COMPANIES:
        return companies_queryset(filters).values_list(*map(from_company, fields))
    return calls_queryset(filters).values_list(*fields)


def from_company(field: str) -> str:
    """A source field named from a call, named from a company with its latest call."""
    if field.startswith("company__"):
        return field.removeprefix("company__")
    return field if field.startswith("export_") else f"latest__{field}"


def recording_link_template(build_absolute: Callable[[str], str] | None) -> tuple[str, str]:
    """(prefix, suffix) of the recording's playback URL around its id: reversed once, not once
    per row; absolute with `build_absolute` (e.g. request.build_absolute_uri)."""
    sentinel = 987654321987654321
    path = reverse("calls:recording", kwargs={"recording_id": sentinel})
    url = build_absolute(path) if build_absolute else path
    prefix, _sentinel, suffix = url.partition(str(sentinel))
    return prefix, suffix


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
    """One export: its columns (exports/columns.py) and its rows as typed cells. Labels and
    headers are resolved in the active language when the export is made (the CSV is streamed
    after the view returned). Recording links are relative unless `link_template` says
    otherwise (see recording_link_template)."""

    scope: str
    filters: Filters = field(default_factory=Filters)
    link_template: tuple[str, str] | None = None

    def __post_init__(self):
        self.columns = COLUMNS + (COMPANY_COLUMNS if self.scope == Scope.COMPANIES else [])
        self.headers = [str(column.header) for column in self.columns]
        self.widths = [column.width for column in self.columns]
        self.kinds = [column.kind for column in self.columns]
        self.fields = list(dict.fromkeys(f for column in self.columns for f in column.fields))
        self.context = CellContext(self.link_template or recording_link_template(None))
        self.rows_written = 0

    @property
    def sheet_title(self) -> str:
        return str(SHEET_TITLES[self.scope])

    def queryset(self) -> QuerySet:
        return row_queryset(self.scope, self.fields, self.filters)

    def count(self) -> int:
        return self.queryset().count()

    def chunks(self) -> Iterator[list[Sequence]]:
        """The rows, streamed from the database BLOCK_ROWS at a time and converted CHUNK_ROWS
        at a time, as one sequence of typed cells per column: str, int, float, naive datetime
        in TIME_ZONE, or "" when empty."""
        position = {name: i for i, name in enumerate(self.fields)}
        plan = [
            (column.convert, [position[name] for name in column.fields]) for column in self.columns
        ]
        context = self.context
        company = position.get("company__id")
        self.rows_written = 0
        for block in database_blocks(self.queryset()):
            if company is not None:
                context.start_block([row[company] for row in block])
            for start in range(0, len(block), CHUNK_ROWS):
                rows = block[start : start + CHUNK_ROWS]
                values = list(zip(*rows, strict=True))
                yield [
                    convert(context, *[values[i] for i in sources])
                    if convert
                    else values[sources[0]]
                    for convert, sources in plan
                ]
                self.rows_written += len(rows)

    def rows(self) -> Iterator[tuple]:
        """The typed cells, a row at a time."""
        for columns in self.chunks():
            yield from zip(*columns, strict=True)


def database_blocks(queryset: QuerySet) -> Iterator[list[tuple]]:
    """The rows of a values_list() queryset as the database driver gives them, fetched
    BLOCK_ROWS at a time from a chunked cursor (server-side on PostgreSQL, fetchmany on
    SQLite), exactly as QuerySet.iterator() does, but without Django's per-value converters:
    at a million rows they cost about as much as writing the CSV. The conversions
    (exports/columns.py) therefore take each backend's raw types: datetimes naive in UTC
    (SQLite) or aware (PostgreSQL), decimals as floats or Decimals."""
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    with connections[queryset.db].chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(BLOCK_ROWS):
            yield rows


# --- CSV ---------------------------------------------------------------------------------


def csv_number(value: float, decimal_comma: bool) -> str:
    text = repr(value).removesuffix(".0")
    return text.replace(".", ",") if decimal_comma else text


def csv_chunks(export: Export, delimiter: str = ",") -> Iterator[bytes]:
    """The export as UTF-8 CSV with a BOM (so Excel detects the encoding), a chunk per
    CHUNK_ROWS rows.

    Dates in ISO form, which every spreadsheet reads as dates; decimals with the separator that
    goes with the delimiter (a comma for the ";" flavour French Excel expects); typed text
    neutralised (see CSV_NEUTRALISER). Written for speed (it runs a million times): cells are
    rendered a column at a time, quoted where they need it exactly as the csv module quotes
    (QUOTE_MINIMAL), and the lines are joined without a Python loop per row.
    """
    decimal_comma = delimiter == ";"
    kinds = list(enumerate(export.kinds))
    header = io.StringIO()
    csv.writer(header, delimiter=delimiter, lineterminator="\r\n").writerow(export.headers)
    yield ("\ufeff" + header.getvalue()).encode()
    for columns in export.chunks():
        for i, kind in kinds:
            cells = columns[i]
            if kind == TEXT:
                columns[i] = csv_quoted(neutralised_text(cells), delimiter)
            elif kind == LABEL:
                columns[i] = csv_quoted(cells, delimiter)
            elif kind == DATETIME:
                columns[i] = [moment.isoformat(" ") if moment else "" for moment in cells]
            elif kind == NUMBER:
                columns[i] = [
                    csv_number(number, decimal_comma)
                    if number.__class__ is float
                    else ("" if number is None else str(number))
                    for number in cells
                ]
        lines = "\r\n".join(map(delimiter.join, zip(*columns, strict=True)))
        yield (lines + "\r\n").encode()


def neutralised_text(cells: Sequence[str | None]) -> Sequence[str]:
    """Text people typed, as CSV cells: with CSV_NEUTRALISER in front when it starts like a
    formula, None (a call's field for an uncalled company) as empty. Most batches of a column
    hold no such text, which one search of their joined text tells."""
    try:
        starts = "\n" + "\n".join(cells)  # each cell's first character follows a line end
    except TypeError:  # a None
        cells = [text or "" for text in cells]
        starts = "\n" + "\n".join(cells)
    if not any("\n" + char in starts for char in FORMULA_CHARS):
        return cells
    quote = CSV_NEUTRALISER
    return [quote + text if text and text[0] in FORMULA_CHARS else text for text in cells]


def csv_quoted(cells: Sequence[str], delimiter: str) -> Sequence[str]:
    """The cells as the csv module writes them: in double quotes, its own doubled, when they
    hold the delimiter, a double quote or a line end. Most batches of a column have none, which
    one search of their joined text tells."""
    text = "".join(cells)
    if delimiter not in text and '"' not in text and "\n" not in text and "\r" not in text:
        return cells
    return [
        '"' + cell.replace('"', '""') + '"'
        if delimiter in cell or '"' in cell or "\n" in cell or "\r" in cell
        else cell
        for cell in cells
    ]


def write_csv(export: Export, target: IO[bytes], delimiter: str = ",") -> int:
    """Write the CSV to a binary file; returns the number of data rows."""
    for chunk in csv_chunks(export, delimiter):
        target.write(chunk)
    return export.rows_written
