"""The two steps of an import, shared by the pages and `manage.py import_companies`:

- `analyse()` reads the bytes and returns a Report (the preview): nothing is written;
- `apply_batch()` re-reads the file kept on an ImportBatch through the storage API, runs the
  very same pipeline and writes it, all or nothing.

Both go through `plan_rows()`, so the preview's counts are the counts apply produces (unless the
campaign changed in between, in which case apply's own counts are the ones recorded).
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models.deletion import ProtectedError
from django.utils import timezone
from django.utils.formats import localize
from django.utils.translation import gettext as _

from companies.importing.columns import TEXT_FIELDS
from companies.importing.dedup import Existing, Planned, plan_rows, replaced, updated_fields
from companies.importing.reading import (
    _CONTROL,
    ImportFileError,
    Progress,
    check_size,
    make_layout,
    read_layout,
    read_limited,
)
from companies.importing.report import Report
from companies.importing.writer import CompanyWriter, archive_companies, delete_uncalled
from companies.models import Campaign, ImportBatch, ImportMode, Status

SAMPLE_ROWS = 10  # first rows shown on the preview
HEAD_BYTES = 256 * 1024  # what the preview page re-reads for its first rows


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

    report.store_on(locked)
    locked.campaign = campaign
    locked.applied_at = timezone.now()
    locked.save()
    batch.refresh_from_db()
    return report


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
