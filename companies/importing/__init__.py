"""Company import: read whatever CSV a supervisor was given, map its columns, validate and
deduplicate its rows, then apply it to a campaign in one transaction.

The modules, in the order a file goes through them:

- columns.py: the columns an import understands and the names people give them;
- reading.py: bytes to text (size, signature, encoding) and text to records (delimiter, header);
- rows.py and phones.py: one record to one company's values (its other numbers and contact
  person too), or a rejection;
- dedup.py: each accepted row against the rows above it and the campaign's companies;
- writer.py: batched writes, and what a replace does to the companies it leaves out;
- numbers.py: every company's numbers and contact person, written with the companies;
- report.py: what happened to every line, for the pages and the command;
- pipeline.py: `analyse()` (the preview) and `apply_batch()` (the « Enregistrer » button);
- jobs.py: both, for a large file, outside the request, their progress kept on the ImportBatch.

Each step reads the file as a stream and keeps what grows with it on disk: memory stays flat
from a hundred rows to a million (docs/PERFORMANCE.md).

The pages, `manage.py import_companies` and the benchmark use the names below.
"""

from companies.importing.pipeline import (
    ImportApplyError,
    analyse,
    apply_batch,
    check_file,
    default_campaign_name,
)
from companies.importing.reading import (
    DELIMITER_LABELS,
    ENCODING_LABELS,
    ImportFileError,
    check_size,
)
from companies.importing.report import MAX_SHOWN, count_lines, format_report

__all__ = [
    "DELIMITER_LABELS",
    "ENCODING_LABELS",
    "MAX_SHOWN",
    "ImportApplyError",
    "ImportFileError",
    "analyse",
    "apply_batch",
    "check_file",
    "check_size",
    "count_lines",
    "default_campaign_name",
    "format_report",
]
