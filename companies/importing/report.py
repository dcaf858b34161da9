"""What an import did, or would do, with each line: the counts, the rejected lines and the
warnings, copied onto the ImportBatch for the pages and printed by the command."""

from __future__ import annotations

import csv
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TextIO

from django.core.files import File
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from companies.importing.reading import DELIMITER_LABELS, ENCODING_LABELS, Layout
from companies.models import ImportBatch
from core.spreadsheet import neutralised

CONTENT_EXCERPT = 120  # characters of a rejected line kept in the report
# Rejected lines and warnings kept on the ImportBatch for its page (every rejected line is in
# the downloadable list; warnings beyond this are counted).
MAX_SHOWN = 1000


@dataclass
class Issue:
    line: int | None
    message: str
    content: str = ""

    def as_dict(self) -> dict:
        return {"line": self.line, "message": self.message, "content": self.content}


class Rejections:
    """Every rejected line, in a private temporary SQLite file: a million-row file may reject
    tens of thousands, and the preview finds some of them (the duplicates) only at the end. The
    lines come back in order whatever the order they were found in."""

    def __init__(self):
        self.db = sqlite3.connect("")  # "": a temporary database, on disk once it grows
        self.db.execute("CREATE TABLE issue (line INTEGER, message TEXT, content TEXT)")
        self.count = 0

    def add(self, issue: Issue) -> None:
        self.db.execute(
            "INSERT INTO issue VALUES (?, ?, ?)", (issue.line, issue.message, issue.content)
        )
        self.count += 1

    def __iter__(self) -> Iterator[Issue]:
        for row in self.db.execute("SELECT line, message, content FROM issue ORDER BY line, rowid"):
            yield Issue(*row)

    def first(self, limit: int) -> list[Issue]:
        rows = self.db.execute(
            "SELECT line, message, content FROM issue ORDER BY line, rowid LIMIT ?", (limit,)
        )
        return [Issue(*row) for row in rows]


def write_rejects(issues: Iterable[dict | Issue], out: TextIO) -> None:
    """The rejected lines as the CSV people download: UTF-8 with BOM and ';' for French Excel,
    contents neutralised so that no cell is read as a formula."""
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";")
    writer.writerow([_("ligne"), _("motif"), _("contenu")])
    for issue in issues:
        if isinstance(issue, dict):
            issue = Issue(issue.get("line"), issue.get("message", ""), issue.get("content", ""))
        writer.writerow([issue.line or "", issue.message, neutralised(issue.content)])


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
    rejections: Rejections = field(default_factory=Rejections)
    warnings: list[Issue] = field(default_factory=list)
    warnings_total: int = 0
    sample: list[dict] = field(default_factory=list)  # the first rows, as the preview shows them
    repeated_keys: dict | None = None  # NIU keys and phones held by several rows (dedup.py)

    @property
    def rejected(self) -> int:
        return self.rejections.count

    @property
    def errors(self) -> list[Issue]:
        """The first rejected lines (all of them up to MAX_SHOWN)."""
        return self.rejections.first(MAX_SHOWN)

    @property
    def accepted(self) -> int:
        return self.rows_total - self.rejected

    def reject(self, line: int, message: str, fields: list[str] | None = None) -> None:
        self.rejections.add(Issue(line, message, excerpt(fields)))

    def warn(self, line: int | None, message: Promise, **params) -> None:
        """A warning, its message formatted only when kept (a million-row file may warn on
        tens of thousands of rows)."""
        self.warnings_total += 1
        if len(self.warnings) < MAX_SHOWN:
            self.warnings.append(Issue(line, str(message) % params if params else str(message)))

    def count(self, action: str) -> None:
        """One more row created, updated or unchanged."""
        setattr(self, action, getattr(self, action) + 1)

    def hidden_warnings(self) -> str:
        """The line that stands for the warnings not kept, if any."""
        hidden = self.warnings_total - len(self.warnings)
        return _("… et %(count)s autres avertissements.") % {"count": hidden} if hidden else ""

    def store_on(self, batch: ImportBatch, *, rejects: bool = True) -> None:
        """Copy the report onto an ImportBatch, without saving it; with rejects, its list of
        rejected lines is written (through the storage API) too."""
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
        batch.errors = [issue.as_dict() for issue in self.errors]  # the list has them all
        batch.warnings = [issue.as_dict() for issue in self.warnings]
        if hidden := self.hidden_warnings():
            batch.warnings.append(Issue(None, hidden).as_dict())
        batch.sample = self.sample
        batch.repeated_keys = self.repeated_keys
        if rejects:
            self.save_rejects(batch)

    def save_rejects(self, batch: ImportBatch) -> None:
        """Write every rejected line to the batch's downloadable list, through the storage API,
        in place of the one it had (the batch itself is not saved)."""
        old = batch.rejects.name
        if self.rejected:
            with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as out:
                write_rejects(self.rejections, out)
                stem = (batch.original_name or "import").rsplit(".", 1)[0][:40]
                batch.rejects.save(f"{stem}_rejets.csv", File(out), save=False)
        else:
            batch.rejects = ""
        if old and old != batch.rejects.name:
            batch.rejects.storage.delete(old)


def excerpt(fields: list[str] | None) -> str:
    if not fields:
        return ""
    text = " | ".join(fields)
    return text if len(text) <= CONTENT_EXCERPT else text[: CONTENT_EXCERPT - 1] + "…"


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
            header = (
                _("« %(header)s »") % {"header": column["header"]}
                if column["header"]
                else _("(sans en-tête)")
            )
            lines.append(f"  {column['index']:>2}. {header} → {column['label']}")
    for label, value in count_lines(report, applied=applied):
        lines.append(_("%(label)s : %(value)s") % {"label": label, "value": value})
    if report.rejected:
        lines.append(_("Lignes rejetées :"))
        for issue in report.rejections:
            lines.append(
                "  "
                + _("ligne %(line)s : %(message)s") % {"line": issue.line, "message": issue.message}
            )
    if report.warnings:
        lines.append(_("Avertissements :"))
        for issue in report.warnings:
            where = _("ligne %(line)s : ") % {"line": issue.line} if issue.line else ""
            lines.append(f"  {where}{issue.message}")
        if hidden := report.hidden_warnings():
            lines.append(f"  {hidden}")
    return "\n".join(lines)


# The counts of an import: (key, label before it is applied, label after, tone on the page).
COUNTS = [
    ("total", gettext_lazy("Lignes lues"), gettext_lazy("Lignes lues"), ""),
    ("created", gettext_lazy("À créer"), gettext_lazy("Créées"), "success"),
    ("updated", gettext_lazy("À mettre à jour"), gettext_lazy("Mises à jour"), "info"),
    ("unchanged", gettext_lazy("Inchangées"), gettext_lazy("Inchangées"), ""),
    ("archived", gettext_lazy("À archiver"), gettext_lazy("Archivées"), "warning"),
    (
        "deleted",
        gettext_lazy("À supprimer (sans appel)"),
        gettext_lazy("Supprimées (sans appel)"),
        "warning",
    ),
    ("rejected", gettext_lazy("Rejetées"), gettext_lazy("Rejetées"), "danger"),
]
REPLACE_ONLY = {"archived", "deleted"}


def labelled_counts(
    figures: dict[str, int], *, applied: bool, replace: bool = True
) -> list[tuple[str, int, str]]:
    """(label, value, tone) of each count; archived and deleted only for a replace."""
    return [
        (str(after if applied else before), figures[key], tone)
        for key, before, after, tone in COUNTS
        if replace or key not in REPLACE_ONLY
    ]


def count_lines(report: Report, *, applied: bool) -> list[tuple[str, int]]:
    figures = {
        "total": report.rows_total,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "archived": report.archived,
        "deleted": report.deleted,
        "rejected": report.rejected,
    }
    return [(label, value) for label, value, _tone in labelled_counts(figures, applied=applied)]
