"""Long imports run outside the request: a large file is analysed, and applied, by a thread of
the server that received the request, while the preview page polls its progress.

Nothing about a job lives only in that thread's memory: the job, its reading settings, its
progress and its outcome are columns of the ImportBatch, and the file is read back through the
storage API. So the page shows the progress whichever server or gunicorn worker answers it, and
a job whose server stopped (restart, crash) is seen to have stopped and can be run again:

- an analysis reports its progress at least every HEARTBEAT seconds; one not heard of for
  STALLED is taken to have stopped, and running it again takes it over (a new token: the old
  thread, if it ever wakes, stops at its next report);
- an apply cannot report (its one transaction holds the batch's row, on SQLite the whole
  database), so the page offers to run it again after APPLY_STALLED; running it again first
  waits for the batch's row, and an apply still alive holds it until it ends.

The thread is not a daemon: a gunicorn worker leaving after --max-requests finishes its job
first (within gunicorn's --timeout).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from companies.importing.pipeline import ImportApplyError, analyse, apply_batch
from companies.importing.reading import ImportFileError
from companies.models import ImportBatch, ImportJob

logger = logging.getLogger(__name__)

HEARTBEAT = 1.0  # seconds between two progress reports of an analysis
STALLED = timedelta(seconds=60)
APPLY_STALLED = timedelta(minutes=5)


class JobCancelled(Exception):
    """The batch was discarded, or its job taken over, while the job ran."""


def in_background(size: int) -> bool:
    """Whether a file of this size is analysed and applied outside the request."""
    return size >= settings.IMPORT_BACKGROUND_BYTES


def is_stalled(batch: ImportBatch) -> bool:
    """Whether the batch's job seems to have stopped (its server restarted or crashed)."""
    if not batch.job or batch.job_heartbeat_at is None:
        return False
    limit = APPLY_STALLED if batch.job == ImportJob.APPLY else STALLED
    return batch.job_heartbeat_at < timezone.now() - limit


def start(batch: ImportBatch, job: str, options: dict | None = None) -> bool:
    """Give the batch this job, unless another one is running on it, and start it in a thread
    once the current transaction commits. Returns False when the batch is busy (or applied)."""
    token = secrets.token_hex(16)
    now = timezone.now()
    free = Q(job="") | Q(job=ImportJob.ANALYSE, job_heartbeat_at__lt=now - STALLED)
    if job == ImportJob.APPLY:
        free |= Q(job=ImportJob.APPLY, job_heartbeat_at__lt=now - APPLY_STALLED)
    try:
        with transaction.atomic():
            # An apply still running holds the row (on SQLite, the database) until it ends.
            ImportBatch.objects.select_for_update(nowait=True).filter(pk=batch.pk).first()
            taken = (
                ImportBatch.objects.filter(free, pk=batch.pk, applied_at__isnull=True).update(
                    job=job,
                    job_token=token,
                    job_options=options or {},
                    job_started_at=now,
                    job_heartbeat_at=now,
                    job_progress=0,
                    job_error="",
                )
                == 1
            )
    except DatabaseError:
        return False  # locked: the apply is alive
    if taken:
        thread = threading.Thread(target=run, args=(batch.pk, token), name=f"import-{batch.pk}")
        transaction.on_commit(thread.start)
    return taken


def run(pk: int, token: str) -> None:
    """The job given to batch pk with this token, from start to its outcome on the batch."""
    try:
        batch = ImportBatch.objects.select_related("campaign").get(pk=pk, job_token=token)
        if batch.job == ImportJob.ANALYSE:
            run_analysis(batch, token)
        else:
            apply_batch(batch)
            finish(pk, token)
    except JobCancelled:
        pass
    except ImportBatch.DoesNotExist:
        pass
    except (ImportFileError, ImportApplyError) as exc:
        finish(pk, token, error=str(exc))
    except Exception:
        logger.exception("Import %s: the job failed", pk)
        finish(pk, token, error=_("Erreur inattendue : rien n'a été enregistré. Relancez."))
    finally:
        connection.close()  # this thread's own connection


def run_analysis(batch: ImportBatch, token: str) -> None:
    options = batch.job_options
    with batch.file.open("rb") as handle:
        report = analyse(
            handle,
            mode=batch.mode,
            campaign=batch.campaign,
            encoding=options.get("encoding"),
            delimiter=options.get("delimiter"),
            has_header=options.get("has_header"),
            progress=Heartbeat(batch.pk, token),
        )
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().filter(pk=batch.pk).first()
        if locked is None or locked.job_token != token:
            raise JobCancelled
        report.store_on(locked)
        locked.campaign_name = options.get("campaign_name", locked.campaign_name)
        locked.job, locked.job_token, locked.job_progress = "", "", 100
        locked.save()


def finish(pk: int, token: str, error: str = "") -> None:
    ImportBatch.objects.filter(pk=pk, job_token=token).update(job="", job_token="", job_error=error)


class Heartbeat:
    """An analysis's progress callback: writes how far it is, at most every HEARTBEAT seconds,
    and stops the analysis when its batch was discarded or its job taken over."""

    def __init__(self, pk: int, token: str):
        self.pk, self.token = pk, token
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        if time.monotonic() - self.last < HEARTBEAT:
            return
        self.last = time.monotonic()
        percent = min(99, 100 * done // total) if total else 0
        try:
            updated = ImportBatch.objects.filter(pk=self.pk, job_token=self.token).update(
                job_progress=percent, job_heartbeat_at=timezone.now()
            )
        except DatabaseError:
            # A busy database (SQLite during another import's apply): report next time.
            logger.warning("Import %s: progress not recorded", self.pk, exc_info=True)
            return
        if not updated:
            raise JobCancelled
