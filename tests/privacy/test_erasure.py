"""Erasing one company: what identifies it goes from every table, file and storage (local folder
and S3); its calls stay, anonymised, so the dashboard does not move; it leaves the queue for
good; the audit trail says who, when, what and why without the erased values; a company in an
operator's hands is refused with nothing changed; erasing again is harmless."""

import io
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from calls.dashboard import Filters, PeriodChoice, figures
from calls.models import CallRecord, Recording, RecordingChunk
from companies import donotcall, importing
from companies.lifecycle import QueueState, Status
from companies.models import (
    Campaign,
    Company,
    CompanyPhone,
    ContactPerson,
    DoNotCallEntry,
    DoNotCallSource,
    ImportBatch,
    ImportMode,
    PinnedNote,
)
from core.audit import history
from privacy import erasure as erasure_module
from privacy.erasure import ErasureRefused, erase_company
from privacy.models import PendingFileDeletion
from privacy.redaction import ERASED
from quality.corrections import CorrectionRefused, correct_call
from quality.models import ReviewItem
from tests.conftest import ALWAYS_OPEN
from tests.factories import CompanyFactory
from tests.privacy.conftest import (
    CALL_NOTE,
    CSV,
    EMAIL,
    MOBILE,
    NAME,
    NEEDLES,
    NIU,
    PERSON,
    found_in_database,
)

REASON = "Demande écrite du gérant reçue le 3 mars 2027"


def erase(world, supervisor, capture, reason=REASON):
    with capture(execute=True):
        return erase_company(world.company.pk, supervisor, reason)


def stored(name: str) -> bool:
    return default_storage.exists(name)


def dashboard(campaign) -> dict:
    data = figures(Filters(campaign=campaign, period=PeriodChoice.CAMPAIGN))
    keep = ["companies", "calls", "statuses", "queue", "dispositions", "classes", "rates"]
    return {**{key: getattr(data, key) for key in keep}, "operators": data.operators_total}


def check_erased(world, supervisor, django_capture_on_commit_callbacks):
    """The erasure's effects, whatever the storage."""
    other_file = ImportBatch.objects.get(pk=world.batch.pk).file.name
    assert all(stored(name) for name in world.audio_names)
    before = dashboard(world.campaign)

    done = erase(world, supervisor, django_capture_on_commit_callbacks)

    company = Company.objects.get(pk=world.company.pk)
    assert done.first and done.calls == 2 and done.numbers == 3 and done.people == 1
    assert (company.name, company.phone, company.phone_e164, company.niu) == (
        "Entreprise effacée",
        "",
        "",
        "",
    )
    assert company.erased_at is not None and company.status == Status.DONE
    assert not CompanyPhone.objects.filter(company=company).exists()
    assert not ContactPerson.objects.filter(company=company).exists()
    assert not PinnedNote.objects.filter(company=company).exists()
    # The calls stay with their answers, codes and dates; without notes or number.
    calls = list(CallRecord.objects.filter(company=company).order_by("pk"))
    assert [c.disposition for c in calls] == ["3.13", "4.70"]
    assert all(c.notes == "" and c.phone is None and c.submitted_at for c in calls)
    # Recordings: the rows and their figures stay, marked purged; every stored object is gone.
    recordings = Recording.objects.filter(call__company=company).order_by("pk")
    assert [(r.duration_seconds, r.file.name, r.purged_at is not None) for r in recordings] == [
        (42, "", True),
        (12.5, "", True),
    ]
    assert not RecordingChunk.objects.filter(recording__call__company=company).exists()
    assert not any(stored(name) for name in world.audio_names)
    assert not PendingFileDeletion.objects.exists()
    # The kept import file: its rows are empty lines (the others keep their line numbers).
    batch = ImportBatch.objects.get(pk=world.batch.pk)
    assert batch.file.name != other_file and not stored(other_file)
    with batch.file.open("rb") as handle:
        lines = handle.read().decode().split("\r\n")
    assert lines[0].startswith("nom;telephone") and lines[1] == "" and lines[3] == ""
    assert lines[2].startswith("Ets Voisin;6 77 00 00 01")
    assert batch.errors[0]["content"] == ERASED and batch.errors[0]["line"] == 4
    assert NIU not in batch.errors[0]["message"]
    # The review comment judges the operator: kept, without the person's name.
    comment = ReviewItem.objects.get(call=calls[1]).comment
    assert comment == f"Bonne présentation ; {ERASED} a refusé poliment."
    # The neighbour is untouched; the dashboard did not move.
    neighbour = Company.objects.get(pk=world.neighbour.pk)
    assert (neighbour.name, neighbour.phone, neighbour.niu) == (
        "Ets Voisin",
        "6 77 00 00 01",
        "M000000000001A",
    )
    assert neighbour.calls.get().notes == "Tout s'est bien passé"
    assert neighbour.calls.get().recordings.get().purged_at is None
    assert dashboard(world.campaign) == before
    return done


def test_erasure_on_the_local_storage(world, supervisor, django_capture_on_commit_callbacks):
    check_erased(world, supervisor, django_capture_on_commit_callbacks)


def test_erasure_on_s3(s3_world, supervisor, django_capture_on_commit_callbacks):
    assert default_storage.__class__.__name__ == "S3Storage"
    check_erased(s3_world, supervisor, django_capture_on_commit_callbacks)


def test_no_erased_value_remains_anywhere_in_the_database(
    world, supervisor, django_capture_on_commit_callbacks
):
    assert len(found_in_database(NEEDLES)) > 20  # the search finds them where they were
    erase(world, supervisor, django_capture_on_commit_callbacks)
    # Kept on purpose, and only there: its numbers and NIU on the do-not-call list, so that the
    # request is honoured (test_the_do_not_call_list_gets_every_number_and_the_niu).
    listed = {
        "companies_donotcallentry.phone_e164: " + needle for needle in ["699123456", "655443322"]
    } | {"companies_donotcallentry.phone_e164: 677889900", f"companies_donotcallentry.niu: {NIU}"}
    assert set(found_in_database(NEEDLES)) == listed


def test_the_audit_trail_says_who_when_what_and_why_without_the_values(
    world, supervisor, django_capture_on_commit_callbacks
):
    erase(world, supervisor, django_capture_on_commit_callbacks, reason=f"Demande de {PERSON}")

    entry = LogEntry.objects.filter(object_id=world.company.pk).latest("pk")
    assert entry.actor == supervisor and entry.timestamp
    assert entry.additional_data["reason"] == f"Demande de {ERASED}"
    assert entry.additional_data["erasure"]["recordings_purged"] == 2
    assert entry.changes["nom"] == [ERASED, "Entreprise effacée"]
    assert entry.changes["numéros"] == ["3", "0"]
    assert entry.changes["appels"] == ["2", "gardés, anonymisés"]
    assert entry.serialized_data is None
    # The company page's history: every entry of the company and its calls, none with a value.
    shown = [
        f"{e.object_repr} {e.changes_display} {e.reason} {e.serialized_data}"
        for e in history(world.company, CallRecord.objects.filter(company=world.company))
    ]
    assert len(shown) >= 4
    for text in shown:
        assert not [needle for needle in [*NEEDLES, CALL_NOTE] if needle in text], text


def test_erasing_again_changes_nothing_and_writes_no_second_entry(
    world, supervisor, django_capture_on_commit_callbacks
):
    first = erase(world, supervisor, django_capture_on_commit_callbacks)
    erased_at = Company.objects.get(pk=world.company.pk).erased_at
    entries = LogEntry.objects.count()

    again = erase(world, supervisor, django_capture_on_commit_callbacks, reason="Relance")

    assert first.changed_anything and not again.first and not again.changed_anything
    assert LogEntry.objects.count() == entries
    assert Company.objects.get(pk=world.company.pk).erased_at == erased_at


def test_erasing_again_takes_what_was_added_since(
    world, supervisor, django_capture_on_commit_callbacks
):
    erase(world, supervisor, django_capture_on_commit_callbacks)
    ContactPerson.objects.create(company=world.company, name=PERSON, email=EMAIL)

    again = erase(world, supervisor, django_capture_on_commit_callbacks, reason="Relance")

    assert again.people == 1 and again.changed_anything
    assert not ContactPerson.objects.filter(company=world.company).exists()


def test_a_company_gone_meanwhile_is_refused_in_french(supervisor, db):
    with pytest.raises(ErasureRefused, match="n'existe plus"):
        erase_company(987654, supervisor, REASON)


@pytest.mark.parametrize("reason", ["", "   \n "])
def test_it_refuses_without_a_reason_and_changes_nothing(world, supervisor, reason):
    with pytest.raises(ErasureRefused, match="motif"):
        erase_company(world.company.pk, supervisor, reason)
    company = Company.objects.get(pk=world.company.pk)
    assert company.name == NAME and company.erased_at is None and company.phones.count() == 3


def test_it_refuses_while_an_operator_holds_the_company(
    world, supervisor, operator2, django_capture_on_commit_callbacks
):
    Company.objects.filter(pk=world.company.pk).update(status=Status.PENDING, next_call_at=None)
    assert Company.objects.claim(world.company, operator2)
    entries = LogEntry.objects.count()

    with pytest.raises(ErasureRefused) as refused:
        erase(world, supervisor, django_capture_on_commit_callbacks)

    assert "en cours d'appel par Paul Eto : rien n'a été effacé" in str(refused.value)
    company = Company.objects.get(pk=world.company.pk)
    assert company.name == NAME and company.niu == NIU and company.erased_at is None
    assert company.locked_by == operator2 and company.status == Status.IN_PROGRESS
    assert company.phones.count() == 3 and company.people.count() == 1
    assert CallRecord.objects.get(pk=world.calls[1].pk).notes == CALL_NOTE
    assert all(stored(name) for name in world.audio_names)
    assert not Recording.objects.filter(purged_at__isnull=False).exists()
    assert LogEntry.objects.count() == entries


def test_a_lapsed_lease_does_not_stop_it(world, supervisor, operator2, time_machine):
    Company.objects.filter(pk=world.company.pk).update(status=Status.PENDING, next_call_at=None)
    assert Company.objects.claim(world.company, operator2)
    time_machine.move_to(timezone.now() + timedelta(minutes=10))

    erase_company(world.company.pk, supervisor, REASON)

    company = Company.objects.get(pk=world.company.pk)
    assert company.erased_at and company.locked_by is None and company.status == Status.DONE


def test_the_company_leaves_the_queue_for_good(world, supervisor, operator2):
    Company.objects.filter(pk=world.company.pk).update(
        status=Status.CALLBACK, next_call_at=None, callback_at=None
    )
    erase_company(world.company.pk, supervisor, REASON)
    company = Company.objects.get(pk=world.company.pk)

    assert company.status == Status.DONE
    assert not Company.objects.claim(company, operator2)
    assert not Company.objects.reopen(company)
    assert not Company.objects.in_queue().filter(pk=company.pk).exists()
    assert Company.objects.claim_next(operator2) is None  # the neighbour is done too
    latest = CallRecord.objects.get(pk=world.calls[1].pk)
    latest.call_status = "callback"
    with pytest.raises(CorrectionRefused, match="effacées"):
        correct_call(latest, supervisor, "Réécoute")
    assert Company.objects.get(pk=company.pk).status == Status.DONE


def test_a_pending_company_is_done_once_erased(operator, supervisor):
    company = CompanyFactory()
    erase_company(company.pk, supervisor, REASON)
    company.refresh_from_db()
    assert company.status == Status.DONE and company.erased_at
    assert Company.objects.claim_next(operator) is None


def test_the_do_not_call_list_gets_every_number_and_the_niu(world, supervisor):
    done = erase_company(world.company.pk, supervisor, REASON)
    assert done.identifiers.e164_numbers == ["+237655443322", "+237677889900", "+237699123456"]
    assert done.identifiers.niu == NIU
    entries = DoNotCallEntry.objects.live().order_by("phone_e164")
    assert [(entry.phone_e164, entry.niu) for entry in entries] == [
        ("+237655443322", NIU),
        ("+237677889900", ""),
        ("+237699123456", ""),
    ]
    for entry in entries:
        assert (entry.source, entry.created_by, entry.company_name) == (
            DoNotCallSource.ERASURE,
            supervisor,
            "",  # the entry identifies it no more than the number does
        )
        assert entry.reason == "Effacement des données personnelles"  # never the request's words
    assert done.listed == 3
    entry = LogEntry.objects.get_for_object(Company.objects.get(pk=world.company.pk)).latest()
    assert entry.additional_data["erasure"]["do_not_call_entries"] == 3
    # The neighbour is not listed: it is still in the queue.
    neighbour = Company.objects.with_queue_state().get(pk=world.neighbour.pk)
    assert neighbour.queue_state != QueueState.DO_NOT_CALL


def test_no_import_brings_an_erased_company_back_into_the_queue(world, supervisor, operator2):
    erase_company(world.company.pk, supervisor, REASON)
    Campaign.objects.update(**ALWAYS_OPEN)
    Company.objects.filter(pk=world.neighbour.pk).update(status=Status.DONE)
    line = CSV.decode().splitlines()[:2]  # the header and the company's own line
    data = "\r\n".join(line).encode()
    # The same line again, in its campaign and in a new one: new companies, never served.
    add = importing.analyse(data, mode=ImportMode.ADD, campaign=world.campaign)
    again = ImportBatch(uploaded_by=supervisor, mode=ImportMode.ADD, campaign=world.campaign)
    new = ImportBatch(uploaded_by=supervisor, campaign_name="Relance 2028")
    for batch, preview in [(again, add), (new, importing.analyse(data, mode=ImportMode.NEW))]:
        batch.original_name = "liste.csv"
        preview.store_on(batch)
        batch.file.save("liste.csv", ContentFile(data), save=False)
        batch.save()
        importing.apply_batch(batch)
    Campaign.objects.update(**ALWAYS_OPEN)
    back = Company.objects.filter(niu=NIU).with_queue_state()
    assert back.count() == 2
    assert {company.queue_state for company in back} == {QueueState.DO_NOT_CALL}
    assert Company.objects.claim_next(operator2) is None


def test_erasing_again_lists_nothing_new_and_a_listed_number_stays_as_it_was(world, supervisor):
    first = donotcall.add(phone=MOBILE, reason="Plainte", user=supervisor)
    done = erase_company(world.company.pk, supervisor, REASON)
    assert done.listed == 2  # the two numbers not listed yet, the NIU on the first
    first.refresh_from_db()
    assert (first.reason, first.source, first.removed_at) == ("Plainte", "supervisor", None)
    again = erase_company(world.company.pk, supervisor, REASON)
    assert again.listed == 0
    assert DoNotCallEntry.objects.count() == 3


def test_a_failure_midway_changes_nothing_and_deletes_no_file(
    world, supervisor, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(*args, **kwargs):
        raise RuntimeError("panne")

    monkeypatch.setattr(erasure_module, "redact_log_entries", broken)
    files_before = set(default_storage.listdir("imports/")[0])

    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        erase_company(world.company.pk, supervisor, REASON)

    company = Company.objects.get(pk=world.company.pk)
    assert company.name == NAME and company.erased_at is None
    assert company.phones.count() == 3
    assert all(stored(name) for name in world.audio_names)
    assert not Recording.objects.filter(purged_at__isnull=False).exists()
    assert ImportBatch.objects.get(pk=world.batch.pk).file.name == world.batch.file.name
    assert stored(world.batch.file.name)
    assert set(default_storage.listdir("imports/")[0]) == files_before
    assert not PendingFileDeletion.objects.exists()
    assert not DoNotCallEntry.objects.exists()  # listed in the same transaction: rolled back


def test_a_storage_that_fails_keeps_the_names_for_the_next_purge(
    world, supervisor, monkeypatch, django_capture_on_commit_callbacks
):
    def unreachable(name):
        raise OSError("stockage injoignable")

    monkeypatch.setattr(default_storage, "delete", unreachable)
    erase(world, supervisor, django_capture_on_commit_callbacks)
    assert Company.objects.get(pk=world.company.pk).erased_at is not None
    pending = set(PendingFileDeletion.objects.values_list("name", flat=True))
    assert set(world.audio_names) <= pending
    assert all(stored(name) for name in world.audio_names)
    monkeypatch.undo()

    call_command("purge_recordings", "--apply", stdout=io.StringIO())

    assert not PendingFileDeletion.objects.exists()
    assert not any(stored(name) for name in world.audio_names)
