"""The do-not-call list, across campaigns: add a number or NIU (from the call form, by a
supervisor, or a whole CSV list), remove an entry (kept, with who, when and why).

The queue checks the list inside every claim's conditional UPDATE (companies/lifecycle.py
`do_not_call_condition`): a company whose number or NIU is listed is never served, whatever
its campaign, its status or what an import did to it.

Every change is in the audit trail (core/audit.py): an entry added one by one by its save(),
entries added in bulk and an entry taken off (an UPDATE) by the calls to core.audit below.
"""

import csv
import io
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from companies.importing import columns, dedup, reading
from companies.models import Company, DoNotCallEntry, DoNotCallSource, normalise_phone
from core import audit

REASON_MAX = DoNotCallEntry._meta.get_field("reason").max_length


class DoNotCallError(Exception):
    """Nothing was changed; the message is French and says why."""


# --- What this module takes from the company import (companies/importing/): the same reading
# of whatever CSV a supervisor was given (size limit, signature, encoding, delimiter, header
# names, the NIU key). A list of numbers is small: it is read whole. --------------------------


def niu_key(niu: str) -> str:
    return dedup.niu_key(niu)


def read_upload(fileobj) -> bytes:
    """An uploaded list's bytes, refused beyond IMPORT_MAX_BYTES without reading it all."""
    data = fileobj.read(settings.IMPORT_MAX_BYTES + 1)
    if not isinstance(data, bytes):
        data = data.encode("utf-8")
    reading.check_size(len(data))
    return data


def read_text(data: bytes) -> tuple[str, str]:
    """(text, delimiter) of an uploaded file, or ImportFileError with a French message."""
    reading.check_size(len(data))
    if not data.strip():
        raise reading.ImportFileError(_("Le fichier est vide."))
    reading.check_signature(data)
    encoding = reading.detect_encoding(data, complete=True)
    text = reading.decode_head(data, True, encoding)
    if not text.strip():
        raise reading.ImportFileError(_("Le fichier est vide."))
    reading.allow_long_fields()
    return text, reading.sniff_delimiter(text, complete=True)


def header_field(cell: str) -> str | None:
    """phone, niu, name or reason for a header cell ("Motif", "Téléphone", "NIU"…)."""
    if columns.header_key(cell) in REASON_HEADERS:
        return "reason"
    found = columns.field_for_header(cell)
    return found if found in ("phone", "niu", "name") else None


REASON_HEADERS = {"motif", "raison", "reason", "cause", "commentaire", "remarque"}


# --- Adding and removing -----------------------------------------------------------------------


def clean_reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise DoNotCallError(_("Indiquez le motif."))
    if len(reason) > REASON_MAX:
        raise DoNotCallError(
            _("Motif trop long : %(max)d caractères au maximum.") % {"max": REASON_MAX}
        )
    return reason


def add(
    *,
    phone: str = "",
    niu: str = "",
    reason: str,
    user,
    source: str = DoNotCallSource.SUPERVISOR,
    company_name: str = "",
) -> DoNotCallEntry:
    """List a number and/or a NIU (what is listed already is left as it is)."""
    reason = clean_reason(reason)
    e164 = normalise_phone(phone) if phone.strip() else ""
    if phone.strip() and not e164:
        raise DoNotCallError(
            _("Numéro « %(phone)s » non reconnu : vérifiez-le.") % {"phone": phone[:40]}
        )
    key = niu_key(niu)[: DoNotCallEntry._meta.get_field("niu").max_length]
    if not e164 and not key:
        raise DoNotCallError(_("Indiquez un numéro de téléphone ou un NIU."))
    live = DoNotCallEntry.objects.live()
    if e164 and live.filter(phone_e164=e164).exists():
        e164 = ""
    if key and live.filter(niu=key).exists():
        key = ""
    if not e164 and not key:
        raise DoNotCallError(_("Ce numéro et ce NIU sont déjà sur la liste « Ne plus appeler »."))
    try:
        with transaction.atomic():
            return DoNotCallEntry.objects.create(
                phone_e164=e164,
                niu=key,
                company_name=company_name[:255],
                reason=reason,
                source=source,
                created_by=user,
            )
    except IntegrityError as exc:  # listed by someone else at the same moment
        raise DoNotCallError(_("Déjà sur la liste « Ne plus appeler ».")) from exc


def company_identifiers(company: Company) -> tuple[list[str], str]:
    """What the queue checks the list against for this company (lifecycle.do_not_call_checks):
    every number it has in E.164 form (its main number, its other numbers, direct lines of its
    contact persons) and its NIU."""
    numbers = {company.phone_e164, *company.phones.values_list("e164", flat=True)} - {""}
    return sorted(numbers), company.niu


def list_identifiers(
    numbers, niu: str, *, reason: str, user, source: str, company_name: str = ""
) -> list[DoNotCallEntry]:
    """List numbers (E.164, or as typed) and a NIU, each one that is not listed yet: one entry
    per number, the NIU on the first (or alone). A number that is not recognised is skipped
    (the queue only ever compares E.164 forms). Returns the new entries: none when everything
    was listed already. Raises DoNotCallError, having added nothing, when someone listed one of
    them at the same moment."""
    reason = clean_reason(reason)
    phones = sorted({e164 for e164 in map(normalise_phone, numbers) if e164})
    key = niu_key(niu)[: DoNotCallEntry._meta.get_field("niu").max_length]
    live = DoNotCallEntry.objects.live()
    listed = set(live.filter(phone_e164__in=phones).values_list("phone_e164", flat=True))
    phones = [phone for phone in phones if phone not in listed]
    if key and live.filter(niu=key).exists():
        key = ""
    entries = [DoNotCallEntry(phone_e164=phone) for phone in phones]
    if key:
        if entries:
            entries[0].niu = key
        else:
            entries.append(DoNotCallEntry(niu=key))
    for entry in entries:
        entry.company_name = company_name[:255]
        entry.reason, entry.source, entry.created_by = reason, source, user
    try:
        with transaction.atomic():
            created = DoNotCallEntry.objects.bulk_create(entries)
            audit.record_created(created, actor=user, reason=reason)
            return created
    except IntegrityError as exc:  # listed by someone else at the same moment
        raise DoNotCallError(_("La liste a changé au même moment : rien n'a été ajouté.")) from exc


def add_company(company: Company, reason: str, user, source: str) -> list[DoNotCallEntry]:
    """List a company: every number it has and its NIU (the queue skips a company as soon as one
    of them is listed)."""
    numbers, niu = company_identifiers(company)
    if not numbers and not niu_key(niu):
        raise DoNotCallError(_("Cette entreprise n'a ni numéro reconnu ni NIU : rien à inscrire."))
    entries = list_identifiers(
        numbers, niu, reason=reason, user=user, source=source, company_name=company.name
    )
    if not entries:
        raise DoNotCallError(
            _("Ses numéros et son NIU sont déjà sur la liste « Ne plus appeler ».")
        )
    return entries


def remove(entry: DoNotCallEntry, reason: str, user) -> bool:
    """Take an entry off the list; it stays in the history with who removed it and why.
    Returns False if it was already removed."""
    reason = clean_reason(reason)
    with transaction.atomic():
        before = DoNotCallEntry.objects.live().select_for_update().filter(pk=entry.pk).first()
        if before is None:
            return False
        DoNotCallEntry.objects.filter(pk=entry.pk).update(
            removed_at=timezone.now(), removed_by=user, removal_reason=reason
        )
        audit.record_change(before, DoNotCallEntry.objects.get(pk=entry.pk), user, reason)
    return True


# --- Importing a list --------------------------------------------------------------------------


@dataclass
class ImportResult:
    added: int = 0
    already: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def import_list(data: bytes, *, reason: str, user) -> ImportResult:
    """Add every number and NIU of a CSV (columns found by their header: téléphone, NIU,
    entreprise, motif; without a header: téléphone, NIU, motif). A row without its own
    reason gets `reason`. All or nothing: one transaction."""
    default_reason = " ".join((reason or "").split())[:REASON_MAX]
    try:
        text, delimiter = read_text(data)
    except reading.ImportFileError as exc:
        raise DoNotCallError(str(exc)) from exc
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    result = ImportResult()
    columns: dict[str, int] | None = None
    # What is listed already (and what this file lists), so a number is listed once.
    seen_phones = set(DoNotCallEntry.objects.live().values_list("phone_e164", flat=True))
    seen_nius = set(DoNotCallEntry.objects.live().values_list("niu", flat=True))
    entries = []
    try:
        records = list(enumerate(reader, start=1))
    except csv.Error as exc:
        raise DoNotCallError(_("Fichier illisible (guillemets mal fermés ?).")) from exc
    for line, fields in records:
        if not any(cell.strip() for cell in fields):
            continue
        if columns is None:
            found = {header_field(text): index for index, text in reversed(list(enumerate(fields)))}
            found.pop(None, None)
            if "phone" in found or "niu" in found:
                columns = found
                continue
            columns = {"phone": 0, "niu": 1, "reason": 2}

        def cell(name, fields=fields, columns=columns):
            index = columns.get(name)
            return fields[index].strip() if index is not None and index < len(fields) else ""

        phone, niu = cell("phone"), niu_key(cell("niu"))
        row_reason = " ".join(cell("reason").split())[:REASON_MAX] or default_reason
        e164 = normalise_phone(phone) if phone else ""
        if phone and not e164:
            message = _("numéro « %(phone)s » non reconnu") % {"phone": phone[:40]}
            result.rejected.append((line, message))
            continue
        if not e164 and not niu:
            result.rejected.append((line, _("ni numéro ni NIU")))
            continue
        if not row_reason:
            result.rejected.append((line, _("motif manquant (indiquez un motif par défaut)")))
            continue
        if e164 in seen_phones:
            e164 = ""
        if niu in seen_nius:
            niu = ""
        if not e164 and not niu:
            result.already += 1
            continue
        seen_phones.add(e164)
        seen_nius.add(niu)
        entries.append(
            DoNotCallEntry(
                phone_e164=e164,
                niu=niu[:100],
                company_name=cell("name")[:255],
                reason=row_reason,
                source=DoNotCallSource.IMPORT,
                created_by=user,
            )
        )
    if not entries and not result.already and not result.rejected:
        raise DoNotCallError(_("Le fichier ne contient aucun numéro ni NIU."))
    try:
        with transaction.atomic():
            created = DoNotCallEntry.objects.bulk_create(entries, batch_size=1000)
            audit.record_created(created, actor=user)
    except IntegrityError as exc:
        raise DoNotCallError(
            _("La liste a changé pendant l'import : rien n'a été ajouté, relancez-le.")
        ) from exc
    result.added = len(entries)
    return result
