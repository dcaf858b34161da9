"""What an import did, or would do, with each line: the counts, the rejected lines and the
warnings, copied onto the ImportBatch for the pages and printed by the command."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from companies.importing.reading import DELIMITER_LABELS, ENCODING_LABELS, Layout
from companies.models import ImportBatch

CONTENT_EXCERPT = 120  # characters of a rejected line kept in the report
MAX_WARNINGS = 1000  # warnings kept on the report (rejected rows are always all kept)


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
