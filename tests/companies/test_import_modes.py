"""The three modes: new campaign, add to a campaign (dedup by NIU, then
normalised phone), replace a campaign's list. No mode ever deletes a call or a recording."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from calls.models import CallRecord, Recording
from companies import importing
from companies.importing import pipeline
from companies.models import Campaign, Company, ImportMode, Status
from tests.factories import CallFactory, RecordingFactory


def csv_bytes(*rows: str, header: str = "name;phone;niu;location;status") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def call_with_recording(company, operator) -> CallRecord:
    call = CallFactory(
        company=company,
        operator=operator,
        outcome="no_answer",
        submitted=True,
        notes="Personne ne répond.",
    )
    RecordingFactory(call=call, stored_file=b"\x1aE\xdf\xa3")
    return call


@pytest.fixture
def listed(make_company, operator):
    """A campaign list in the middle of its life: called, finished, held, untouched."""
    called = make_company(name="Appelée", niu="M000000000001A", phone="677000001")
    Company.objects.filter(pk=called.pk).update(status=Status.PENDING, attempts=1)
    call_with_recording(called, operator)
    done = make_company(name="Terminée", niu="M000000000002A", phone="677000002")
    Company.objects.filter(pk=done.pk).update(status=Status.DONE, attempts=2)
    call_with_recording(done, operator)
    untouched = make_company(name="Jamais appelée", niu="", phone="677000003")
    held = make_company(name="En cours d'appel", niu="M000000000004A", phone="677000004")
    Company.objects.filter(pk=held.pk).update(
        status=Status.IN_PROGRESS,
        locked_by=operator,
        lock_expires_at=timezone.now() + timedelta(minutes=2),
    )
    return {"called": called, "done": done, "untouched": untouched, "held": held}


def test_add_updates_companies_matched_by_niu_or_phone_and_keeps_their_state(
    run_import, campaign, listed
):
    data = csv_bytes(
        "Appelée (nouveau nom);699 99 99 01;M000000000001A;Kribi;pending",  # NIU match
        "Terminée;677000002;M000000000002A;Douala;pending",  # unchanged info
        "Jamais appelée SA;+237 6 77 00 00 03;;Limbé;done",  # phone match, status ignored
        "Nouvelle;677000010;M000000000010A;Buea;pending",
    )

    preview, applied, batch = run_import(data, mode=ImportMode.ADD, campaign=campaign)

    assert (preview.created, preview.updated, preview.unchanged) == (1, 2, 1)
    assert (applied.created, applied.updated, applied.unchanged) == (1, 2, 1)
    called = Company.objects.get(pk=listed["called"].pk)
    assert (called.name, called.phone_e164, called.location) == (
        "Appelée (nouveau nom)",
        "+237699999901",
        "Kribi",
    )
    assert (called.status, called.attempts) == (Status.PENDING, 1)
    done = Company.objects.get(pk=listed["done"].pk)
    assert (done.status, done.attempts) == (Status.DONE, 2)
    untouched = Company.objects.get(pk=listed["untouched"].pk)
    assert (untouched.name, untouched.status) == ("Jamais appelée SA", Status.PENDING)
    assert Company.objects.filter(campaign=campaign).count() == 5
    assert CallRecord.objects.count() == 2 and Recording.objects.count() == 2
    assert batch.rows_updated == 2 and batch.rows_created == 1


def test_add_never_merges_two_companies_whose_niu_differ(run_import, campaign, listed):
    data = csv_bytes("Autre société même standard;677000001;P999999999999Z;Douala;")

    preview, applied, _batch = run_import(data, mode=ImportMode.ADD, campaign=campaign)

    assert (applied.created, applied.updated) == (1, 0)
    assert Company.objects.get(pk=listed["called"].pk).name == "Appelée"


def test_add_rejects_a_second_line_for_an_already_matched_company(run_import, campaign, listed):
    data = csv_bytes(
        "Appelée;677000001;M000000000001A;Douala;",
        "Appelée encore;677 00 00 01;;Douala;",
    )

    _preview, applied, _batch = run_import(data, mode=ImportMode.ADD, campaign=campaign)

    assert [issue.line for issue in applied.errors] == [3]
    assert "Doublon de la ligne 2" in applied.errors[0].message


def test_replace_deletes_uncalled_companies_and_archives_the_others(run_import, campaign, listed):
    calls_before = list(CallRecord.objects.values_list("pk", "company_id").order_by("pk"))
    recordings_before = list(Recording.objects.values_list("pk", "file").order_by("pk"))
    data = csv_bytes("Nouvelle liste 1;677000011;M000000000011A;Douala;")

    preview, applied, batch = run_import(data, mode=ImportMode.REPLACE, campaign=campaign)

    assert (preview.created, preview.deleted, preview.archived) == (1, 1, 3)
    assert (applied.created, applied.deleted, applied.archived) == (1, 1, 3)
    assert (batch.rows_deleted, batch.rows_archived) == (1, 3)
    assert not Company.objects.filter(pk=listed["untouched"].pk).exists()
    for key in ("called", "done", "held"):
        assert Company.objects.get(pk=listed[key].pk).is_archived, key
    # The archived ones are out of the queue; the new list is in it.
    assert list(Company.objects.in_queue().values_list("name", flat=True)) == ["Nouvelle liste 1"]
    assert list(CallRecord.objects.values_list("pk", "company_id").order_by("pk")) == (calls_before)
    assert list(Recording.objects.values_list("pk", "file").order_by("pk")) == recordings_before
    for recording in Recording.objects.all():
        assert recording.file.storage.exists(recording.file.name)


def test_replace_keeps_listed_companies_with_their_history_and_unarchives_them(
    run_import, campaign, listed
):
    run_import(csv_bytes("Autre;677000020;;Douala;"), mode=ImportMode.REPLACE, campaign=campaign)
    assert Company.objects.get(pk=listed["done"].pk).is_archived

    data = csv_bytes("Terminée;677000002;M000000000002A;Douala;")
    _preview, applied, _batch = run_import(data, mode=ImportMode.REPLACE, campaign=campaign)

    done = Company.objects.get(pk=listed["done"].pk)
    assert not done.is_archived and done.status == Status.DONE and done.attempts == 2
    assert applied.updated == 1
    assert done.calls.count() == 1


@pytest.mark.parametrize("mode", [ImportMode.NEW, ImportMode.ADD, ImportMode.REPLACE])
def test_no_mode_ever_deletes_a_call_or_a_recording(run_import, campaign, listed, mode):
    calls_before = CallRecord.objects.count()
    recordings_before = Recording.objects.count()
    target = None if mode == ImportMode.NEW else campaign

    run_import(csv_bytes("Seule;677000030;;Douala;"), mode=mode, campaign=target)

    assert CallRecord.objects.count() == calls_before == 2
    assert Recording.objects.count() == recordings_before == 2
    assert set(CallRecord.objects.values_list("company_id", flat=True)) == {
        listed["called"].pk,
        listed["done"].pk,
    }


def test_replace_never_tries_to_delete_a_company_that_got_a_call_after_the_preview(
    supervisor, campaign, make_company, operator
):
    """Between preview and apply an operator calls a company the preview meant to delete:
    apply archives it instead (a DELETE attempt would hit the PROTECT on CallRecord)."""
    late = make_company(name="Appelée entre-temps", niu="", phone="677000040")
    data = csv_bytes("Liste;677000041;;Douala;")
    preview = importing.analyse(data, mode=ImportMode.REPLACE, campaign=campaign)
    assert preview.deleted == 1
    batch = _batch(supervisor, data, ImportMode.REPLACE, campaign, preview)
    call_with_recording(late, operator)

    applied = importing.apply_batch(batch)

    assert (applied.deleted, applied.archived) == (0, 1)
    assert Company.objects.get(pk=late.pk).is_archived


def test_apply_is_all_or_nothing(supervisor, campaign, make_company, monkeypatch):
    kept = make_company(name="Déjà là", niu="", phone="677000050")
    data = csv_bytes("Nouvelle;677000051;;Douala;")
    preview = importing.analyse(data, mode=ImportMode.REPLACE, campaign=campaign)
    batch = _batch(supervisor, data, ImportMode.REPLACE, campaign, preview)

    def fail(pks, now):
        raise importing.ImportApplyError("panne simulée")

    monkeypatch.setattr(pipeline, "archive_companies", fail)
    with pytest.raises(importing.ImportApplyError):
        importing.apply_batch(batch)

    assert list(Company.objects.values_list("pk", flat=True)) == [kept.pk]
    batch.refresh_from_db()
    assert batch.applied_at is None


def test_an_import_is_applied_only_once(run_import, supervisor):
    _preview, _applied, batch = run_import(csv_bytes("Une;677000060;;Douala;"))

    with pytest.raises(importing.ImportApplyError) as error:
        importing.apply_batch(batch)

    assert "déjà été appliqué" in str(error.value)
    assert Company.objects.count() == 1


def test_a_new_campaign_name_taken_in_the_meantime_changes_nothing(supervisor):
    data = csv_bytes("Une;677000070;;Douala;")
    preview = importing.analyse(data)
    batch = _batch(supervisor, data, ImportMode.NEW, None, preview, name="Prise")
    Campaign.objects.create(name="Prise")

    with pytest.raises(importing.ImportApplyError) as error:
        importing.apply_batch(batch)

    assert "existe déjà" in str(error.value)
    assert not Company.objects.exists()


def test_the_new_campaign_belongs_to_the_uploader(run_import, supervisor):
    _preview, _applied, batch = run_import(csv_bytes("Une;677000080;;Douala;"))

    assert batch.campaign.created_by == supervisor


def test_a_re_import_of_the_same_list_changes_nothing(run_import, campaign):
    data = csv_bytes("Une;677000090;M000000000090A;Douala;", "Deux;677000091;;Buea;")
    run_import(data, mode=ImportMode.ADD, campaign=campaign)
    stamps = dict(Company.objects.values_list("pk", "updated_at"))

    _preview, applied, _batch = run_import(data, mode=ImportMode.ADD, campaign=campaign)

    assert (applied.created, applied.updated, applied.unchanged) == (0, 0, 2)
    assert dict(Company.objects.values_list("pk", "updated_at")) == stamps


def _batch(user, data, mode, campaign, preview, name="Nouvelle campagne"):
    from companies.models import ImportBatch

    batch = ImportBatch(uploaded_by=user, mode=mode, campaign=campaign, campaign_name=name)
    preview.store_on(batch)
    batch.file.save("liste.csv", ContentFile(data), save=False)
    batch.save()
    return batch


def test_add_changes_only_the_columns_the_file_has(run_import, campaign, make_company):
    known = make_company(name="Connue", niu="M000000000100A", phone="677000100", product="miel")

    run_import(
        csv_bytes("Connue SARL;677000100;M000000000100A", header="name;phone;niu"),
        mode=ImportMode.ADD,
        campaign=campaign,
    )

    known.refresh_from_db()
    assert (known.name, known.product, known.location) == ("Connue SARL", "miel", "Douala")
