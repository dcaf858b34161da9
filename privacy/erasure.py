"""Erasure of one company's personal data on request (Cameroon's law n° 2024/017, GDPR art. 17).

One transaction, refused while an operator holds the company (nothing changes then):
1. the company row is locked and read: what identifies it (privacy/redaction.py Identifiers);
2. one conditional UPDATE (`Company.objects.erase`, companies/lifecycle.py) blanks its name,
   main number and NIU, makes it « done » for good and stamps `erased_at` (no claim can take
   it: a claim waiting on the row lock finds it done; it is never reopened); its AAPOR code
   stays and it is not archived, so the dashboard's rates and counts do not move;
3. its numbers, contact persons and pinned notes are deleted; its calls stay, with their answers,
   codes and dates, without their notes and without the number they used;
4. its recordings' audio goes (privacy/purge.py: rows kept with their duration, marked purged);
5. its rows in the kept import files of its campaign become empty lines, its values leave those
   imports' reports, its calls' review comments, the do-not-call entries of its numbers and NIU
   (their company name), and every audit entry of the company, its calls, numbers, people,
   notes, recordings, reviews and those do-not-call entries (auditlog and Django admin's log);
6. every number it had and its NIU go on the do-not-call list (companies/donotcall.py), so that
   no later import brings it back into the queue; these entries are in the audit trail
   without their values (the list alone keeps the numbers and the NIU);
7. one audit entry says who, when, what (counts, never values) and why.
Files (audio, replaced import files) are deleted once the transaction commits. Erasing again is
harmless: what was added since goes, and an entry is written only if something did.

Django-auditlog's own entries are switched off meanwhile: they would keep the values being
erased as « before ».
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from calls.models import CallRecord, Recording
from companies import donotcall
from companies.lifecycle import listing_entries
from companies.models import (
    Company,
    CompanyPhone,
    ContactPerson,
    DoNotCallEntry,
    DoNotCallSource,
    ImportBatch,
    PinnedNote,
)
from core.audit import disable_auditlog, record_event
from privacy.purge import Purged, delete_after_commit, purge_recordings, storage
from privacy.redaction import (
    ERASED,
    Identifiers,
    erase_from_imports,
    redact_log_entries,
    redact_review_comments,
)
from quality.models import ReviewItem


class ErasureRefused(Exception):
    """Nothing was changed; the message says why, for the supervisor."""


# The reason of the do-not-call entries an erasure adds (never the supervisor's own words, which
# might name the company).
ERASURE_REASON = gettext_lazy("Effacement des données personnelles")


@dataclass
class Erasure:
    """What an erasure did (counts only)."""

    company_id: int
    first: bool  # False: the company had been erased already
    numbers: int = 0
    people: int = 0
    notes: int = 0
    call_notes: int = 0
    calls: int = 0
    recordings: Purged = field(default_factory=Purged)
    import_files: int = 0
    reviews: int = 0
    log_entries: int = 0
    listed: int = 0  # do-not-call entries added
    # What identified it: the do-not-call list's keys (never shown, never stored by the erasure).
    identifiers: Identifiers = field(default_factory=Identifiers, repr=False)

    @property
    def changed_anything(self) -> bool:
        return self.first or any(
            [
                self.numbers,
                self.people,
                self.notes,
                self.call_notes,
                self.recordings.recordings,
                self.import_files,
                self.reviews,
                self.log_entries,
                self.listed,
            ]
        )


def held_message(company: Company) -> str:
    who = company.locked_by.get_full_name() or company.locked_by.get_username()
    return _(
        "« %(company)s » est en cours d'appel par %(who)s : rien n'a été effacé. Réessayez "
        "une fois l'appel terminé (ou libérez l'entreprise)."
    ) % {"company": company, "who": who}


def erase_company(company_id: int, user, reason: str) -> Erasure:
    """Erase the company's personal data (see the module's docstring). Raises ErasureRefused,
    with nothing changed, without a reason or while an operator holds the company."""
    reason = (reason or "").strip()
    if not reason:
        raise ErasureRefused(_("Indiquez le motif de l'effacement : rien n'a été effacé."))
    written: list[str] = []  # import files written meanwhile: deleted again on a rollback
    try:
        with transaction.atomic(), disable_auditlog():
            return _erase(company_id, user, reason, written)
    except BaseException:
        for name in written:
            storage().delete(name)
        raise


def _erase(company_id: int, user, reason: str, written: list[str]) -> Erasure:
    now = timezone.now()
    locked = Company.objects.select_related("locked_by").select_for_update(of=("self",))
    company = locked.filter(pk=company_id).first()
    if company is None:  # deleted meanwhile (an import's « replace »)
        raise ErasureRefused(_("Cette entreprise n'existe plus : rien à effacer."))
    if company.is_locked:
        raise ErasureRefused(held_message(company))
    identifiers = Identifiers.of(company)
    erasure = Erasure(company.pk, first=company.erased_at is None, identifiers=identifiers)
    calls = CallRecord.objects.filter(company=company)
    # Every object whose audit entries may hold the company's values.
    objects = {
        model: list(rows.values_list("pk", flat=True))
        for model, rows in [
            (Company, Company.objects.filter(pk=company.pk)),
            (CallRecord, calls),
            (CompanyPhone, company.phones.all()),
            (ContactPerson, company.people.all()),
            (PinnedNote, company.notes.all()),
            (Recording, Recording.objects.filter(call__company=company)),
            (ReviewItem, ReviewItem.objects.filter(call__company=company)),
            # Entries listed from its page or its call form carry its name: the name goes
            # from them and from their audit entries (the number stays: it is the list's key).
            (DoNotCallEntry, DoNotCallEntry.objects.filter(listing_entries(company))),
        ]
    }
    blanked = {"name": _("Entreprise effacée"), "phone": "", "phone_e164": "", "niu": ""}
    if not Company.objects.erase(company, blanked, now):
        raise ErasureRefused(held_message(company))  # a claim got in first: nothing changed

    erasure.calls = len(objects[CallRecord])
    erasure.call_notes = calls.exclude(notes="").update(notes="")
    calls.exclude(phone=None).update(phone=None)  # the numbers go; the calls stay
    erasure.numbers = len(objects[CompanyPhone])
    CompanyPhone.objects.filter(company=company).delete()
    erasure.people = ContactPerson.objects.filter(company=company).delete()[0]
    erasure.notes = PinnedNote.objects.filter(company=company).delete()[0]
    erasure.recordings = purge_recordings(Recording.objects.filter(call__company=company), now)
    erasure.reviews = redact_review_comments(
        ReviewItem.objects.filter(call__company=company), identifiers
    )
    imports = ImportBatch.objects.filter(campaign_id=company.campaign_id)
    replaced = erase_from_imports(imports, identifiers, written)
    erasure.import_files = len(written)
    delete_after_commit(replaced)
    DoNotCallEntry.objects.filter(pk__in=objects[DoNotCallEntry]).exclude(company_name="").update(
        company_name=""
    )
    erasure.log_entries = redact_log_entries(objects, identifiers)

    # DO-NOT-CALL HOOK: inside this transaction, what identified the company goes on the
    # do-not-call list (every number it had, its NIU), so that no import makes it callable again
    # (docs/ARCHITECTURE.md, « The do-not-call hook »). No name: the entry identifies no more
    # than the number does. What is listed already stays as it is (erasing again adds nothing).
    try:
        listed = donotcall.list_identifiers(
            identifiers.e164_numbers,
            identifiers.niu,
            reason=str(ERASURE_REASON),
            user=user,
            source=DoNotCallSource.ERASURE,
        )
    except donotcall.DoNotCallError as exc:
        raise ErasureRefused(
            _(
                "La liste « Ne plus appeler » a changé au même moment : rien n'a été effacé, "
                "recommencez."
            )
        ) from exc

    # Their audit entries (who added them, when, why) keep no number: the list alone does.
    erasure.listed = len(listed)
    redact_log_entries({DoNotCallEntry: [entry.pk for entry in listed]}, identifiers)

    if erasure.changed_anything:
        record_event(
            Company.objects.get(pk=company.pk),
            erasure_changes(erasure, had_niu=bool(identifiers.niu)),
            actor=user,
            reason=identifiers.scrub(reason),  # a reason that names the company would keep it
            erasure={
                "first": erasure.first,
                "numbers": erasure.numbers,
                "people": erasure.people,
                "pinned_notes": erasure.notes,
                "call_notes": erasure.call_notes,
                "calls_kept": erasure.calls,
                "recordings_purged": erasure.recordings.recordings,
                "files_deleted": erasure.recordings.files + len(replaced),
                "import_files_rewritten": erasure.import_files,
                "review_comments": erasure.reviews,
                "log_entries_redacted": erasure.log_entries,
                "do_not_call_entries": erasure.listed,
            },
        )
    return erasure


def erasure_changes(erasure: Erasure, had_niu: bool) -> dict:
    """The entry's « before → after », in words: what was erased, never the values."""
    changes = {}
    if erasure.first:
        changes[_("nom")] = (ERASED, _("Entreprise effacée"))
        changes[_("téléphone")] = (ERASED, "")
        if had_niu:
            changes[_("NIU")] = (ERASED, "")
    counts = [
        (_("numéros"), erasure.numbers, 0),
        (_("personnes à contacter"), erasure.people, 0),
        (_("notes épinglées"), erasure.notes, 0),
        (_("notes des appels"), erasure.call_notes, 0),
        (_("enregistrements (son)"), erasure.recordings.recordings, _("purgés")),
        (_("fichiers d'import"), erasure.import_files, _("lignes effacées")),
        (_("commentaires d'évaluation"), erasure.reviews, _("nettoyés")),
        (_("entrées de l'historique"), erasure.log_entries, _("nettoyées")),
        (_("liste « Ne plus appeler »"), erasure.listed, _("inscrits")),
    ]
    for label, count, after in counts:
        if count:
            changes[label] = (count, after)
    if erasure.calls:
        changes[_("appels")] = (erasure.calls, _("gardés, anonymisés"))
    return changes


@dataclass
class Preview:
    """What an erasure would take, for the confirmation page (counts, and the other companies
    that share a number or the NIU: the same firm in another campaign is erased on its own)."""

    numbers: int
    people: int
    notes: int
    calls: int
    call_notes: int
    recordings: int
    recorded_seconds: float
    import_files: int
    same_firm: list


def preview(company: Company) -> Preview:
    calls = CallRecord.objects.filter(company=company)
    recordings = Recording.objects.filter(call__company=company, purged_at=None)
    identifiers = Identifiers.of(company)
    numbers = [e164 for _raw, e164 in identifiers.numbers if e164]
    same = Q(pk__in=[])
    if numbers:
        same |= Q(phone_e164__in=numbers) | Q(phones__e164__in=numbers)
    if identifiers.niu.strip():
        same |= Q(niu=identifiers.niu)
    same_firm = (
        Company.objects.filter(same, erased_at=None)
        .exclude(pk=company.pk)
        .select_related("campaign")
        .distinct()
        .order_by("campaign__name", "name", "pk")[:20]
    )
    return Preview(
        numbers=company.phones.count(),
        people=company.people.count(),
        notes=company.notes.count(),
        calls=calls.count(),
        call_notes=calls.exclude(notes="").count(),
        recordings=recordings.count(),
        recorded_seconds=sum(recordings.values_list("duration_seconds", flat=True)),
        import_files=ImportBatch.objects.filter(campaign_id=company.campaign_id).count(),
        same_firm=list(same_firm),
    )
