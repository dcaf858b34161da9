"""Cell values that are safe to open in a spreadsheet (CSV/formula injection)."""

# Text that a spreadsheet would read as a formula (or DDE command) starts with one of these:
# = + - @, and tab/CR, which some importers strip before looking at the next character.
FORMULA_CHARS = "=+-@\t\r"


# How a cell that would be read as a formula is neutralised (CSV/formula injection), and why.
#
# The rule applies to text only. Numbers the export produces itself (a negative score, a
# duration) are typed numbers in XLSX and plain digits in CSV: "-5" is the number -5 for any
# spreadsheet, it cannot be a formula, and prefixing it would turn it into text that French
# Excel no longer sums.
#
# Phone numbers are text (they are kept as typed, "+237 6 77 ..."), so they are neutralised too,
# and that is what a French Excel user needs anyway: opened from a CSV, "+237 6 77 00 01 02" is
# read as a formula (the spaces are Excel's intersection operator) and shows #NOM?, and
# "+237677000102" becomes the number 2,37677E+11. With the apostrophe the number stays readable
# text.
#
# - CSV has no types, so the only defence is the text itself: a single quote is prepended
#   ("'=HYPERLINK(...)", "'+237 6 77 ..."). Excel and LibreOffice then show it as text (the quote
#   may show); a script reading the file can strip a leading quote.
# - XLSX cells are typed: the export writes every text as a string cell, never a formula, so
#   nothing is evaluated on opening. The cell additionally carries Excel's own "quote prefix"
#   flag, which is exactly what Excel stores when a person types an apostrophe before a value:
#   the value stays intact ("+237 6 77 ..." without a visible quote, so phone columns look
#   right), and editing the cell (F2, Enter) keeps it text instead of turning it into a formula.
#   The export never writes a formula cell.
CSV_NEUTRALISER = "'"


def neutralised(text: str) -> str:
    """Text as a CSV cell that no spreadsheet reads as a formula (see above)."""
    return CSV_NEUTRALISER + text if text[:1] and text[0] in FORMULA_CHARS else text
