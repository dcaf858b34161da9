"""The two steps of an import, shared by the pages and `manage.py import_companies`:

- `analyse()` reads a file and returns a Report (the preview): nothing is written;
- `apply_batch()` re-reads the file kept on an ImportBatch through the storage API, runs the
  very same pipeline and writes it, all or nothing.

Both read the file as a stream, so memory does not grow with it, and decide each row by the same
rules (dedup.py), so the preview's counts are the counts apply produces (unless the campaign
changed in between, in which case apply's own counts are the ones recorded).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import BinaryIO

from django.db import IntegrityError, transaction
from django.db.models.deletion import ProtectedError
from django.utils import timezone
from django.utils.formats import localize
from django.utils.translation import gettext as _

from companies import quotas
from companies.importing.columns import TEXT_FIELDS
from companies.importing.dedup import (
    CREATE,
    REJECT,
    UNCHANGED,
    UPDATE,
    Dedup,
    Existing,
    RepeatedKeys,
    RowStore,
    niu_key,
    updated_fields,
)
from companies.importing.numbers import CreatedNumbers, MatchedNumbers, has_extras
from companies.importing.reading import (
    ImportFileError,
    Layout,
    Progress,
    guess_single_byte,
    high_bytes,
    open_source,
    read_layout,
    unreadable,
)
from companies.importing.report import Issue, Report, excerpt
from companies.importing.rows import read_rows
from companies.importing.writer import CompanyWriter, archive_companies, delete_uncalled
from companies.models import Campaign, ImportBatch, ImportMode, PhoneLabel, Status

SAMPLE_ROWS = 10  # first rows shown on the preview


def check_file(source: bytes | BinaryIO) -> Layout:
    """What the head of a file tells at once (size, kind, encoding, delimiter, columns): raises
    ImportFileError for a file that is no company list, before any long analysis."""
    fileobj, _size = open_source(source)
    return read_layout(fileobj)


def analyse(
    source: bytes | BinaryIO,
    *,
    mode: str = ImportMode.NEW,
    campaign: Campaign | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    has_header: bool | None = None,
    progress: Progress | None = None,
) -> Report:
    """The preview: what importing this file (bytes or a seekable binary file) would do.
    Writes nothing. Raises ImportFileError when the file as a whole cannot be imported."""
    fileobj, size = open_source(source)
    layout = read_layout(fileobj, encoding, delimiter, has_header)
    existing = Existing.of(campaign if mode != ImportMode.NEW else None, updated_fields(layout))
    try:
        report = preview(fileobj, size, layout, existing, progress)
    except UnicodeDecodeError as exc:
        if encoding or layout.encoding != "utf-8":
            raise unreadable(layout.encoding) from exc
        # UTF-8 was a guess from the head of the file; a later byte says otherwise.
        guessed = guess_single_byte(high_bytes(fileobj))
        layout = read_layout(fileobj, guessed, delimiter, has_header)
        existing.matched.clear()
        report = preview(fileobj, size, layout, existing, progress)
    if mode == ImportMode.REPLACE:
        delete, archive = existing.replaced()
        report.deleted, report.archived = len(delete), len(archive)
    if report.rows_total == 0:
        raise ImportFileError(_("Le fichier ne contient aucune ligne d'entreprise."))
    return report


def preview(
    fileobj: BinaryIO, size: int, layout: Layout, existing: Existing, progress: Progress | None
) -> Report:
    """Read the file once, keeping each accepted row's keys on disk; decide the contested rows
    at the end (dedup.py says why that keeps memory flat)."""
    report = Report(layout=layout)
    dedup = Dedup(existing)
    first_rows = []  # candidates for the sample: some may turn out to be duplicates
    with RowStore() as store:
        for line, values, fields in read_rows(fileobj, layout, size, report, progress):
            niu, phone = niu_key(values["niu"]), values["phone_e164"]
            pk = existing.match(niu, phone)
            info = existing.fingerprint(values) if pk is not None else 0
            extras = None
            if pk is not None and has_extras(values):
                extras = json.dumps([values["phone"], values["numbers"], values["person"]])
            store.add(line, niu, values["niu"], phone, pk, info, excerpt(fields), extras)
            if len(first_rows) < 5 * SAMPLE_ROWS:
                first_rows.append((line, values))
        report.repeated_keys = store.repeated_keys().as_json()
        last_first = first_rows[-1][0] if first_rows else 0
        actions, contested = {}, 0  # actions: of the sample's candidates only

        def decided(line: int, action: str) -> None:
            if line <= last_first:
                actions[line] = action

        # A company found again whose information is unchanged may still gain a number; one
        # that has as many as it may have already gets a warning, as the apply gives it.
        matched = MatchedNumbers(report, layout.phone_label, write=False, decided=decided)
        for line, niu, niu_text, phone, pk, info, content, extras in store.contested():
            contested += 1
            action, reason = dedup.decide(line, niu, niu_text, phone, pk, info)
            if action == REJECT:
                report.rejections.add(Issue(line, reason, content))
                decided(line, action)
                continue
            if extras is not None and action in (UPDATE, UNCHANGED):
                raw, numbers, person = json.loads(extras)
                values = {"phone": raw, "numbers": numbers, "person": person}
                matched.add(line, pk, values, action)
                if action == UNCHANGED:
                    continue  # counted, and decided, once its chunk is looked up
            report.count(action)
            decided(line, action)
        matched.flush()
        report.created += store.count - contested
    report.sample = [
        sample_row(line, actions.get(line, CREATE), values)
        for line, values in first_rows
        if actions.get(line) != REJECT
    ][:SAMPLE_ROWS]
    return report


def sample_row(line: int, action: str, values: dict) -> dict:
    row = {
        "line": line,
        "action": action,
        **{name: values[name] for name in TEXT_FIELDS},
        "phone_e164": values["phone_e164"],
        # Shown as the rest of the site shows numbers (50,00 in French), kept as text for JSON.
        "validity_score": ""
        if values["validity_score"] is None
        else localize(values["validity_score"]),
        "status": str(values["status"]),
        "status_label": str(Status(values["status"]).label),
    }
    if "numbers" in values:  # the file has columns for other numbers or a contact person
        row["numbers"] = [
            {"label": str(PhoneLabel(label).label), "number": raw, "e164": e164}
            for raw, e164, label in values["numbers"]
        ]
        person = values["person"]
        row["person"] = (
            dict(zip(("name", "role", "phone", "phone_e164", "email"), person, strict=True))
            if person
            else None
        )
    return row


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
    try:
        with batch.file.open("rb") as handle, transaction.atomic():
            report = _apply(batch, handle, progress)
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
    except UnicodeDecodeError as exc:
        raise unreadable(batch.encoding) from exc
    # Written once the import is in: a rolled-back import leaves the preview's list in place.
    report.save_rejects(batch)
    batch.save(update_fields=["rejects"])
    return report


def _apply(batch: ImportBatch, handle: BinaryIO, progress: Progress | None) -> Report:
    locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if locked.applied_at is not None:
        raise ImportApplyError(_("Cet import a déjà été appliqué."))
    fileobj, size = open_source(handle)
    layout = read_layout(fileobj, batch.encoding, batch.delimiter or None, batch.has_header)
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

    report = Report(layout=layout, sample=locked.sample, repeated_keys=locked.repeated_keys)
    repeated = RepeatedKeys.from_json(locked.repeated_keys)
    dedup = Dedup(existing)
    # Every company's numbers and contact person, written here too (companies/importing/numbers.py).
    created = CreatedNumbers(campaign, now, layout.phone_label)
    matched = MatchedNumbers(report, layout.phone_label, write=True)
    writer = CompanyWriter(
        campaign,
        now,
        updated_fields(layout),
        expected=locked.rows_created,
        after_batch=created.after_batch if layout.numbers or layout.has_person else None,
    )
    for line, values, fields in read_rows(fileobj, layout, size, report, progress):
        niu, phone = niu_key(values["niu"]), values["phone_e164"]
        pk = existing.match(niu, phone)
        if pk is None and repeated is not None and not repeated.contested(niu, phone):
            action = CREATE  # no other row shares its keys: nothing to remember about it
        else:
            info = existing.fingerprint(values) if pk is not None else 0
            action, reason = dedup.decide(line, niu, values["niu"], phone, pk, info)
        if action == REJECT:
            report.reject(line, reason, fields)
            continue
        if action == CREATE:
            report.count(action)
            writer.create(values)
        elif action == UPDATE:
            report.count(action)
            writer.update(pk, values)
            matched.add(line, pk, values, action)  # its number may have changed
        elif has_extras(values):
            matched.add(line, pk, values, action)  # counted once merged
        else:
            report.count(action)
    writer.finish()
    created.finish()
    matched.flush()

    if report.accepted == 0:
        # Raising rolls the transaction back: a replace never empties a list on a bad file.
        raise ImportApplyError(_("Aucune ligne valide dans ce fichier : rien n'a été enregistré."))

    if batch.mode == ImportMode.REPLACE:
        delete, archive = existing.replaced()
        report.deleted = delete_uncalled(delete)
        # What could not be deleted (a call arrived meanwhile) is archived instead.
        report.archived = archive_companies(archive + delete, now)

    quotas.recount(campaign)  # the companies' fields may have moved interviews between cells
    report.store_on(locked, rejects=False)
    locked.campaign = campaign
    locked.applied_at = timezone.now()
    locked.save()
    batch.refresh_from_db()
    return report
