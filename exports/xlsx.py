"""The export's worksheet: xlsxwriter's, in constant-memory mode, with a whole-row writer.

Imported only when an XLSX is written (xlsxwriter takes a quarter of a second to import, which
a CSV export does not need to pay).

In constant-memory mode xlsxwriter keeps the current row in a table of cell tuples and writes it
out, cell by cell and through code that handles every kind of cell, when the next row starts.
For the export's rows (text, numbers, dates, nothing else) `write_export_row` writes the very
same XML straight to the row file, one write per row: the XLSX is written about twice as fast
(tests/exports/test_writers.py checks the XML is byte for byte what xlsxwriter itself writes).

It also closes a hole of constant-memory mode: xlsxwriter copies a text that starts with "<r>"
and ends with "</r>" into the XML unescaped (it takes it for a rich string it built itself), so
a company named "<r>...</r>" would corrupt the workbook; here every text is escaped.
"""

import re
from datetime import datetime

from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from core.spreadsheet import FORMULA_CHARS

# What xlsxwriter's _escape_control_characters rewrites: control characters, the two
# non-characters, and literal "_xHHHH_" sequences (which Excel would decode).
NEEDS_CONTROL_ESCAPE = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
EXCEL_MAX_STRING = 32767


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
        if len(text) > EXCEL_MAX_STRING:
            text = text[:EXCEL_MAX_STRING]
        if NEEDS_CONTROL_ESCAPE.search(text):
            text = self._escape_control_characters(text)
        if "&" in text or "<" in text or ">" in text:
            text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        space = ' xml:space="preserve"' if text[0].isspace() or text[-1].isspace() else ""
        return f'{style} t="inlineStr"><is><t{space}>{text}</t></is></c>'

    def write_export_row(self, row: int, values: list) -> None:
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
            if value is None or value == "":
                continue
            if first is None:
                first = col
            last = col
            ref = (names[col] if col < 64 else xl_col_to_name(col)) + number
            kind = value.__class__
            if kind is str:
                cell = texts.get(value)
                if cell is None:
                    if len(texts) >= 10_000:
                        texts.clear()
                    cell = texts[value] = self.text_cell(value)
                parts.append(f'<c r="{ref}"{cell}')
            elif kind is datetime:
                serial = self._convert_date_time(value)
                style = self.date_format._get_xf_index()
                parts.append(f'<c r="{ref}" s="{style}"><v>{serial:.16G}</v></c>')
            else:
                parts.append(f'<c r="{ref}"><v>{value:.16G}</v></c>')
        if first is None:
            return
        if self._check_dimensions(row, first) or self._check_dimensions(row, last):
            raise ValueError(f"Row {row} is outside the worksheet.")
        self._write_row(row, None)
        parts.append("</row>")
        self.fh.write("".join(parts))
