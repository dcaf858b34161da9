"""Large imports run outside the request: the upload returns at once, a thread analyses the kept
file and reports its progress on the ImportBatch, the preview page polls it; « Enregistrer »
works the same way. Every state is in the database, so any server answers the polls, and a job
whose server stopped can be run again.

These tests commit (the job's thread has its own database connection), hence transactional_db.
"""

import html
import threading
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from companies.importing import jobs, reading
from companies.importing.writer import CompanyWriter
from companies.models import Campaign, Company, ImportBatch, ImportJob

pytestmark = pytest.mark.django_db(transaction=True)


def company_list(rows: int, extra: str = "") -> bytes:
    lines = ["name;phone;niu"] + [f"Ets {n};6770{n:05d};M{n:012d}A" for n in range(rows)]
    return ("\n".join(lines) + "\n" + extra).encode()


def wait_for_jobs(timeout: float = 60) -> None:
    for thread in threading.enumerate():
        if thread.name.startswith("import-"):
            thread.join(timeout)
            assert not thread.is_alive(), "the import job did not end"


def preview_url(batch) -> str:
    return reverse("companies:import_preview", kwargs={"pk": batch.pk})


def text(response) -> str:
    """The page as a person reads it (entities decoded)."""
    return html.unescape(response.content.decode())


def page(client, batch, **headers) -> str:
    return text(client.get(preview_url(batch), headers=headers))


class Gate:
    """Holds a job at a chosen step until the test opens it."""

    def __init__(self, monkeypatch, owner, name):
        self.reached, self.opened = threading.Event(), threading.Event()
        original = getattr(owner, name)

        def held(*args, **kwargs):
            self.reached.set()
            assert self.opened.wait(30)
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, held)

    def open(self):
        self.opened.set()


@pytest.fixture
def background(settings):
    settings.IMPORT_BACKGROUND_BYTES = 1  # every file, however small


@pytest.fixture
def as_supervisor(client, supervisor):
    client.force_login(supervisor)
    return client


def upload(client, data: bytes, name="Grande campagne", **fields):
    payload = {
        "file": SimpleUploadedFile("liste.csv", data, content_type="text/csv"),
        "mode": "new",
        "campaign_name": name,
        **fields,
    }
    return client.post(reverse("companies:import"), payload)


def test_an_upload_returns_at_once_and_the_page_polls_the_analysis(
    background, as_supervisor, monkeypatch
):
    gate = Gate(monkeypatch, jobs, "analyse")

    response = upload(as_supervisor, company_list(300))

    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == preview_url(batch)
    assert gate.reached.wait(30)
    batch.refresh_from_db()
    assert batch.job == ImportJob.ANALYSE and batch.rows_total == 0
    full = page(as_supervisor, batch)
    assert "Analyse du fichier en cours" in full and 'hx-trigger="every 1s"' in full
    assert "Abandonner cet import" in full and "Enregistrer</button>" not in full
    fragment = page(as_supervisor, batch, HX_Request="true")
    assert "<html" not in fragment and 'role="progressbar"' in fragment
    assert 'aria-valuenow="0"' in fragment

    gate.open()
    wait_for_jobs()

    done = as_supervisor.get(preview_url(batch), headers={"HX-Request": "true"})
    assert done.status_code == 200 and done["HX-Refresh"] == "true"
    batch.refresh_from_db()
    assert (batch.job, batch.job_progress, batch.rows_total, batch.rows_created) == (
        "",
        100,
        300,
        300,
    )
    assert 'data-count="À créer">300<' in page(as_supervisor, batch)
    assert not Company.objects.exists()


def test_the_analysis_reports_its_progress_and_stops_when_its_batch_goes(supervisor):
    batch = ImportBatch.objects.create(
        uploaded_by=supervisor, job=ImportJob.ANALYSE, job_token="a" * 32
    )
    heartbeat = jobs.Heartbeat(batch.pk, "a" * 32)

    heartbeat(2500, 10_000)
    heartbeat(5000, 10_000)  # within a second of the last report: not written

    batch.refresh_from_db()
    assert batch.job_progress == 25 and batch.job_heartbeat_at is not None
    heartbeat.last = 0
    heartbeat(10_000, 10_000)
    batch.refresh_from_db()
    assert batch.job_progress == 99  # 100 only once the preview is stored
    batch.delete()
    heartbeat.last = 0
    with pytest.raises(jobs.JobCancelled):
        heartbeat(10_000, 10_000)


def test_a_large_analysis_reports_progress_as_it_reads(background, as_supervisor, monkeypatch):
    seen = []
    monkeypatch.setattr(jobs, "HEARTBEAT", 0)
    monkeypatch.setattr(reading, "CHUNK_BYTES", 64 * 1024)
    original = jobs.Heartbeat.__call__

    def recording(self, done, total):
        original(self, done, total)
        seen.append(ImportBatch.objects.get(pk=self.pk).job_progress)

    monkeypatch.setattr(jobs.Heartbeat, "__call__", recording)

    upload(as_supervisor, company_list(16_000))
    wait_for_jobs()

    assert seen == sorted(seen) and 0 < seen[0] < 99 and seen[-1] == 99
    assert ImportBatch.objects.get().job_progress == 100


def test_discarding_during_the_analysis_stops_it_and_keeps_nothing(
    background, as_supervisor, monkeypatch
):
    monkeypatch.setattr(jobs, "HEARTBEAT", 0)
    gate = Gate(monkeypatch, jobs, "analyse")
    upload(as_supervisor, company_list(12_000))
    batch = ImportBatch.objects.get()
    assert gate.reached.wait(30)

    response = as_supervisor.post(reverse("companies:import_discard", kwargs={"pk": batch.pk}))
    gate.open()
    wait_for_jobs()

    assert response.status_code == 302
    assert not ImportBatch.objects.exists() and not Campaign.objects.exists()


def test_a_page_still_polling_an_import_discarded_elsewhere_goes_back_to_the_list(
    as_supervisor, supervisor
):
    batch = ImportBatch.objects.create(uploaded_by=supervisor, campaign_name="Jetée")
    url = preview_url(batch)
    batch.delete()

    poll = as_supervisor.get(url, headers={"HX-Request": "true"})

    assert poll["HX-Redirect"] == reverse("companies:import")
    assert as_supervisor.get(url).status_code == 404


def test_apply_runs_as_a_job_and_a_second_click_starts_nothing(
    background, as_supervisor, monkeypatch
):
    upload(as_supervisor, company_list(300))
    wait_for_jobs()
    batch = ImportBatch.objects.get()
    gate = Gate(monkeypatch, CompanyWriter, "finish")
    apply_url = reverse("companies:import_apply", kwargs={"pk": batch.pk})

    as_supervisor.post(apply_url)
    assert gate.reached.wait(30)
    again = as_supervisor.post(apply_url, follow=True)
    discard = as_supervisor.post(
        reverse("companies:import_discard", kwargs={"pk": batch.pk}), follow=True
    )
    running = page(as_supervisor, batch)
    gate.open()
    wait_for_jobs()

    assert "L'enregistrement est déjà en cours" in text(again)
    assert "L'enregistrement est en cours : attendez sa fin." in text(discard)
    assert "Enregistrement en cours" in running and "Relancer" not in running
    batch.refresh_from_db()
    assert batch.applied_at is not None and batch.job == "" and batch.job_error == ""
    assert Company.objects.count() == 300
    result = page(as_supervisor, batch)
    assert "Résultat de l'import" in result and 'data-count="Créées">300<' in result


def test_a_job_that_fails_says_why_on_the_page_and_writes_nothing(background, as_supervisor):
    upload(as_supervisor, company_list(50))
    wait_for_jobs()
    batch = ImportBatch.objects.get()
    Campaign.objects.create(name="Grande campagne")  # taken between preview and apply

    as_supervisor.post(reverse("companies:import_apply", kwargs={"pk": batch.pk}))
    wait_for_jobs()

    batch.refresh_from_db()
    assert batch.applied_at is None and batch.job == ""
    assert "existe déjà" in batch.job_error
    assert "existe déjà" in page(as_supervisor, batch)
    assert not Company.objects.exists()


def test_a_reading_that_fails_in_the_job_keeps_the_preview_it_had(background, as_supervisor):
    data = company_list(20, extra="Société Générale;677099999;M999999999999A\n")
    upload(as_supervisor, data.decode().encode("cp1252"))
    wait_for_jobs()
    batch = ImportBatch.objects.get()
    assert batch.encoding == "cp1252" and batch.rows_created == 21

    as_supervisor.post(
        preview_url(batch),
        {"encoding": "utf-8", "delimiter": ";", "has_header": "oui", "campaign_name": ""},
    )
    wait_for_jobs()

    batch.refresh_from_db()
    assert batch.job_error.startswith("Le fichier ne se lit pas en UTF-8")
    assert batch.encoding == "cp1252" and batch.rows_created == 21
    content = page(as_supervisor, batch)
    assert "Le fichier ne se lit pas en UTF-8" in content and "Enregistrer</button>" in content


def test_an_unexpected_error_is_logged_and_shown_plainly(
    background, as_supervisor, monkeypatch, caplog
):
    def broken(*args, **kwargs):
        raise RuntimeError("disque plein")

    monkeypatch.setattr(jobs, "analyse", broken)

    upload(as_supervisor, company_list(10))
    wait_for_jobs()

    batch = ImportBatch.objects.get()
    assert batch.job == "" and batch.job_error.startswith("Erreur inattendue")
    assert "disque plein" in caplog.text
    assert "Échec" in text(as_supervisor.get(reverse("companies:import")))
    content = page(as_supervisor, batch)
    assert "Erreur inattendue" in content and "Abandonner cet import" in content
    assert "Relire le fichier" in content and "Enregistrer</button>" not in content


def test_an_analysis_whose_server_stopped_can_be_run_again(as_supervisor, supervisor, settings):
    from django.core.files.base import ContentFile

    settings.IMPORT_BACKGROUND_BYTES = 1
    batch = ImportBatch(uploaded_by=supervisor, campaign_name="Reprise", original_name="l.csv")
    batch.file.save("l.csv", ContentFile(company_list(40)), save=False)
    batch.job, batch.job_token = ImportJob.ANALYSE, "dead" * 8
    batch.job_started_at = batch.job_heartbeat_at = timezone.now() - timedelta(minutes=3)
    batch.save()
    assert jobs.is_stalled(batch)
    assert "Relancer l'analyse" in page(as_supervisor, batch)

    as_supervisor.post(preview_url(batch), {"restart": ""})
    wait_for_jobs()

    batch.refresh_from_db()
    assert (batch.job, batch.rows_created) == ("", 40)
    # The old thread, had it survived, stops at its next report.
    with pytest.raises(jobs.JobCancelled):
        jobs.Heartbeat(batch.pk, "dead" * 8)(1, 2)


def test_a_running_job_is_neither_restarted_nor_doubled(supervisor):
    batch = ImportBatch.objects.create(uploaded_by=supervisor, campaign_name="Occupée")

    assert jobs.start(batch, ImportJob.ANALYSE) is True
    assert jobs.start(batch, ImportJob.ANALYSE) is False
    assert jobs.start(batch, ImportJob.APPLY) is False
    wait_for_jobs()  # it fails (no file): the batch is free again
    batch.refresh_from_db()
    assert batch.job == "" and batch.job_error


def test_running_an_apply_again_while_it_still_runs_applies_it_once(
    background, as_supervisor, monkeypatch
):
    upload(as_supervisor, company_list(120))
    wait_for_jobs()
    batch = ImportBatch.objects.get()
    # The page takes any apply for stopped at once, and so offers to run it again.
    monkeypatch.setattr(jobs, "APPLY_STALLED", timedelta(0))
    gate = Gate(monkeypatch, CompanyWriter, "finish")
    as_supervisor.post(reverse("companies:import_apply", kwargs={"pk": batch.pk}))
    assert gate.reached.wait(30)
    batch.refresh_from_db()
    assert jobs.is_stalled(batch)
    threading.Timer(1.0, gate.open).start()  # the running apply ends a second later

    # It waits for the running apply's transaction (PostgreSQL: refuses at once), then finds
    # the import applied.
    assert jobs.start(batch, ImportJob.APPLY) is False
    wait_for_jobs()

    batch.refresh_from_db()
    assert batch.applied_at is not None and batch.job == "" and batch.job_error == ""
    assert Company.objects.count() == 120


def test_apply_without_a_finished_analysis_is_refused(as_supervisor, supervisor):
    batch = ImportBatch.objects.create(
        uploaded_by=supervisor,
        job=ImportJob.ANALYSE,
        job_token="b" * 32,
        job_heartbeat_at=timezone.now(),
    )

    response = as_supervisor.post(
        reverse("companies:import_apply", kwargs={"pk": batch.pk}), follow=True
    )

    assert "L'analyse du fichier n'est pas finie" in text(response)
    batch.refresh_from_db()
    assert batch.job == ImportJob.ANALYSE and batch.job_token == "b" * 32


def test_only_supervisors_restart_a_job(client, operator, supervisor):
    batch = ImportBatch.objects.create(
        uploaded_by=supervisor,
        job=ImportJob.ANALYSE,
        job_token="c" * 32,
        job_heartbeat_at=timezone.now() - timedelta(minutes=3),
    )
    client.force_login(operator)

    assert client.post(preview_url(batch), {"restart": ""}).status_code == 403
    batch.refresh_from_db()
    assert batch.job_token == "c" * 32


def test_jobs_read_and_write_their_files_through_s3(s3_storage, background, as_supervisor):
    """Several servers share the files through object storage: the job reads the upload back
    from S3 and keeps the list of rejected lines there."""
    upload(as_supervisor, company_list(200, extra=";677999999;\n"))
    wait_for_jobs()
    batch = ImportBatch.objects.get()
    assert s3_storage.exists(batch.file.name) and s3_storage.exists(batch.rejects.name)
    assert (batch.rows_created, batch.rows_rejected) == (200, 1)

    as_supervisor.post(reverse("companies:import_apply", kwargs={"pk": batch.pk}))
    wait_for_jobs()

    batch.refresh_from_db()
    assert batch.applied_at is not None and Company.objects.count() == 200
    rejects = as_supervisor.get(reverse("companies:import_rejects", kwargs={"pk": batch.pk}))
    content = b"".join(rejects.streaming_content).decode("utf-8-sig")
    assert content.splitlines()[1] == "202;Nom de l'entreprise manquant.; | 677999999 | "
