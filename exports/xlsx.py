"""The export as an XLSX workbook: xlsxwriter in constant-memory mode, with a whole-row writer.

Imported only when an XLSX is written (xlsxwriter takes a quarter of a second to import, which
a CSV export does not need to pay): its callers import it inside the function that writes one.

In constant-memory mode xlsxwriter keeps the current row in a table of cell tuples and writes it
out, cell by cell and through code that handles every kind of cell, when the next row starts.
For the export's rows (text, numbers, dates, nothing else) `write_export_row` writes the very
same XML straight to the row file, one write per row: the XLSX is written about twice as fast
as through xlsxwriter's public API (`write_cells`, which the export benchmark also times).
That reaches into xlsxwriter's private methods (_write_single_row, _write_row,
_check_dimensions, _convert_date_time, _escape_control_characters, Format._get_xf_index), so
pyproject.toml pins xlsxwriter to one version, and tests/exports/test_writers.py checks that
the XML is byte for byte what `write_cells` makes xlsxwriter write: run it after an upgrade.

It also closes a hole of constant-memory mode: xlsxwriter copies a text that starts with "<r>"
and ends with "</r>" into the XML unescaped (it takes it for a rich string it built itself), so
a company named "<r>...</r>" would corrupt the workbook; here every text is escaped.
"""

import re
from collections.abc import Sequence
from datetime import datetime
from typing import IO

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from core.spreadsheet import FORMULA_CHARS
from exports.writers import Export

# Excel's hard limit of rows per worksheet; beyond it the export continues on a new sheet.
XLSX_MAX_ROWS = 1_048_576

# What xlsxwriter's _escape_control_characters rewrites: control characters, the two
# non-characters, and literal "_xHHHH_" sequences (which Excel would decode).
NEEDS_CONTROL_ESCAPE = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
EXCEL_MAX_STRING = 32767


def excel_truncated(text: str) -> str:
    """The text cut to Excel's limit, counted in UTF-16 units (a character beyond U+FFFF, such
    as an emoji, is two) without splitting a character: as xlsxwriter's write_string cuts it."""
    length = 0
    for index, char in enumerate(text):
        length += 2 if ord(char) > 0xFFFF else 1
        if length > EXCEL_MAX_STRING:
            return text[:index]
    return text


class ExportWorksheet(Worksheet):
    def __init__(self):
        super().__init__()
        self.date_format: Format | None = None
        self.quoted_format: Format | None = None
        self.column_names = [xl_col_to_name(col) for col in range(64)]
        # The XML after r="..." of a text cell, by text: labels, « oui », campaign and operator
        # names repeat on every row. Bounded, so memory stays flat with unique texts.
        self.text_cells: dict[str, str] = {}

    def text_cell(self, text: str) -> str:
        """The rest of an inline string cell, escaped as xlsxwriter escapes it."""
        # Style indexes are given on first use, as xlsxwriter does: the same file.
        style = f' s="{self.quoted_format._get_xf_index()}"' if text[0] in FORMULA_CHARS else ""
        if len(text) > EXCEL_MAX_STRING // 2:
            text = excel_truncated(text)
        if NEEDS_CONTROL_ESCAPE.search(text):
            text = self._escape_control_characters(text)
        if "&" in text or "<" in text or ">" in text:
            text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        space = ' xml:space="preserve"' if text[0].isspace() or text[-1].isspace() else ""
        return f'{style} t="inlineStr"><is><t{space}>{text}</t></is></c>'

    def write_export_row(self, row: int, values: Sequence) -> None:
        """Write one row of typed cells, as write_string / write_number / write_datetime would
        cell by cell: str as an inline string (with the quote-prefix format when it starts like
        a formula), int and float as numbers, naive datetimes as dates with the date format,
        None and "" as nothing. Rows must come in increasing order (constant-memory mode)."""
        if not self.constant_memory:
            raise RuntimeError("write_export_row() needs constant_memory mode.")
        if row <= self.previous_row and (row or self.table):
            raise ValueError(f"Row {row} written after row {self.previous_row}.")
        # Flush the pending row (the header, written with write_string) and move to this one.
        self._write_single_row(row)

        number = str(row + 1)
        names, texts = self.column_names, self.text_cells
        parts = []
        first = last = None
        for col, value in enumerate(values):
            kind = value.__class__
            if kind is str:
                if not value:
                    continue
                cell = texts.get(value)
                if cell is None:
                    if len(texts) >= 10_000:
                        texts.clear()
                    cell = texts[value] = self.text_cell(value)
                ref = names[col] if col < 64 else xl_col_to_name(col)
                parts.append(f'<c r="{ref}{number}"{cell}')
            elif kind is datetime:
                serial = self._convert_date_time(value)
                style = self.date_format._get_xf_index()
                ref = names[col] if col < 64 else xl_col_to_name(col)
                parts.append(f'<c r="{ref}{number}" s="{style}"><v>{serial:.16G}</v></c>')
            elif value is None:
                continue
            else:
                ref = names[col] if col < 64 else xl_col_to_name(col)
                parts.append(f'<c r="{ref}{number}"><v>{value:.16G}</v></c>')
            if first is None:
                first = col
            last = col
        if first is None:
            return
        if self._check_dimensions(row, first) or self._check_dimensions(row, last):
            raise ValueError(f"Row {row} is outside the worksheet.")
        self._write_row(row, None)
        parts.append("</row>")
        self.fh.write("".join(parts))

    def write_cells(self, row: int, values: Sequence) -> None:
        """The same row through xlsxwriter's public API, a cell at a time: what
        write_export_row must write byte for byte (tests/exports/test_writers.py), and what the
        export benchmark measures it against (docs/PERFORMANCE.md)."""
        for col, value in enumerate(values):
            if value is None or value == "":
                continue
            if isinstance(value, str):
                quoted = self.quoted_format if value[0] in FORMULA_CHARS else None
                self.write_string(row, col, value, quoted)
            elif isinstance(value, datetime):
                self.write_datetime(row, col, value, self.date_format)
            else:
                self.write_number(row, col, value)


def write_xlsx(export: Export, target: str | IO[bytes]) -> int:
    """Write a real workbook to a path or a binary file; returns the number of data rows.

    xlsxwriter in constant-memory mode writes each row to a temporary file as soon as it is
    complete, so memory stays flat; rows must therefore be written in order, which they are.
    Text is written as string cells (never formulas, see core/spreadsheet.py for the quote
    prefix), numbers as numbers, dates as dates.
    """
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

    def new_sheet(number: int) -> ExportWorksheet:
        title = export.sheet_title if number == 1 else f"{export.sheet_title} ({number})"
        sheet = workbook.add_worksheet(title, worksheet_class=ExportWorksheet)
        for col, width in enumerate(export.widths):
            sheet.set_column(col, col, width)
        for col, header in enumerate(export.headers):
            sheet.write_string(0, col, header, header_format)
        sheet.freeze_panes(1, 0)
        sheet.date_format, sheet.quoted_format = date_format, quoted_format
        return sheet

    def finish(sheet: ExportWorksheet, last_row: int) -> None:
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
