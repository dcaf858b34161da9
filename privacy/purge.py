"""Deleting recordings' audio while keeping what the figures need (retention and erasure).

A purged recording keeps its row: call, date, duration, size, type, chunk count, and
`purged_at`, the mark every page reads to say « purgé » instead of offering a player. So the
dashboard's recorded minutes, the review queue's flag rules and the exports' audio duration stay
what they were. Its audio goes: the assembled file and any chunk left by a recording never
finalised (a closed tab), through the storage API of the models' file fields (local folder or S3).

Files are deleted only once the transaction that marks the rows has committed (PendingFileDeletion,
privacy/models.py): a rollback leaves every file in place, a storage that fails leaves its names
for the next `purge_recordings --apply`.

Retention (`manage.py purge_recordings`): a recording goes when it is older than its campaign's
`recording_retention_days`, or, for a campaign without one, than the command's --older-than;
a campaign with neither keeps its recordings.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, F, Min, QuerySet, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from calls.models import Recording, RecordingChunk
from companies.models import Campaign
from core.audit import record_event
from privacy.models import PendingFileDeletion

logger = logging.getLogger(__name__)

BATCH = 500  # recordings per transaction


def storage():
    """The storage the recordings (and their chunks, and imported files) are kept in."""
    return Recording._meta.get_field("file").storage


# --- Files, after the commit ---------------------------------------------------------------


def delete_after_commit(names: Iterable[str]) -> int:
    """Delete these stored files once the current transaction commits (never before: a rollback
    keeps them). Returns how many are scheduled."""
    names = sorted({name for name in names if name})
    if not names:
        return 0
    rows = PendingFileDeletion.objects.bulk_create(PendingFileDeletion(name=n) for n in names)
    ids = [row.pk for row in rows]
    transaction.on_commit(
        lambda: delete_files(PendingFileDeletion.objects.filter(pk__in=ids)), robust=True
    )
    return len(names)


def delete_files(pending: QuerySet) -> tuple[int, int]:
    """Delete the files of these PendingFileDeletion rows; a deleted file's row goes, a failure
    is counted on its row for the next try. Returns (deleted, failed)."""
    deleted, failed = [], 0
    for row in pending.order_by("pk"):
        try:
            storage().delete(row.name)
        except Exception as error:  # noqa: BLE001 - any storage failure: kept for the next try
            logger.warning("Could not delete stored file %s: %s", row.name, error)
            PendingFileDeletion.objects.filter(pk=row.pk).update(
                attempts=F("attempts") + 1, last_error=str(error)[:255]
            )
            failed += 1
        else:
            deleted.append(row.pk)
    PendingFileDeletion.objects.filter(pk__in=deleted).delete()
    return len(deleted), failed


def retry_pending_deletions() -> tuple[int, int]:
    """Files an earlier purge or erasure could not delete (storage unreachable): try again."""
    return delete_files(PendingFileDeletion.objects.all())


# --- Recordings ----------------------------------------------------------------------------


@dataclass
class Purged:
    recordings: int = 0
    bytes: int = 0
    files: int = 0
    ids: list[int] = field(default_factory=list)

    def add(self, other: "Purged") -> None:
        self.recordings += other.recordings
        self.bytes += other.bytes
        self.files += other.files
        self.ids += other.ids


def purge_recordings(recordings: QuerySet, now: datetime) -> Purged:
    """Mark these recordings purged at `now` and delete their audio once the transaction
    commits; recordings already purged are skipped. Runs inside the caller's transaction."""
    rows = list(
        recordings.filter(purged_at__isnull=True)
        .select_for_update(of=("self",))
        .order_by("pk")
        .values_list("pk", "file", "size_bytes")
    )
    ids = [pk for pk, _name, _size in rows]
    if not ids:
        return Purged()
    chunks = RecordingChunk.objects.filter(recording_id__in=ids)
    names = [name for _pk, name, _size in rows] + list(chunks.values_list("file", flat=True))
    chunks.delete()
    # is_complete: nothing may be appended or assembled any more (calls/recordings.py).
    Recording.objects.filter(pk__in=ids).update(
        purged_at=now, file="", is_complete=True, updated_at=now
    )
    files = delete_after_commit(names)
    return Purged(len(ids), sum(size for _pk, _name, size in rows), files, ids)


# --- Retention -------------------------------------------------------------------------------


@dataclass
class RetentionPlan:
    """What a campaign's retention purges now: recordings made before `cutoff`."""

    campaign: Campaign
    days: int | None  # None: no period for this campaign, nothing goes
    from_campaign: bool
    cutoff: datetime | None = None
    count: int = 0
    bytes: int = 0
    oldest: datetime | None = None

    def recordings(self) -> QuerySet:
        return Recording.objects.filter(
            call__company__campaign=self.campaign,
            created_at__lt=self.cutoff,
            purged_at__isnull=True,
        )

    @property
    def source(self) -> str:
        if self.days is None:
            return _("aucune durée (ni réglage de la campagne ni --older-than) : tout est gardé")
        if self.from_campaign:
            return _("%(days)s jours (réglage de la campagne)") % {"days": self.days}
        return _("%(days)s jours (--older-than)") % {"days": self.days}


def retention_plans(default_days: int | None, now: datetime) -> list[RetentionPlan]:
    """Each campaign's period (its own setting wins over default_days) and what it purges."""
    plans = []
    for campaign in Campaign.objects.order_by("name", "pk"):
        own = campaign.recording_retention_days
        days = own or default_days
        plan = RetentionPlan(campaign, days, from_campaign=bool(own))
        if days is not None:
            plan.cutoff = now - timedelta(days=days)
            figures = plan.recordings().aggregate(
                count=Count("pk"), bytes=Sum("size_bytes"), oldest=Min("created_at")
            )
            plan.count = figures["count"] or 0
            plan.bytes = figures["bytes"] or 0
            plan.oldest = figures["oldest"]
        plans.append(plan)
    return plans


def apply_retention(plan: RetentionPlan, now: datetime) -> Purged:
    """Purge what the plan says, BATCH recordings per transaction, each batch with its audit
    entry on the campaign (who: the command; what: how many, which ids; why: the period)."""
    total = Purged()
    if plan.days is None:
        return total
    reason = _("Conservation des enregistrements : %(source)s ; enregistrés avant le %(cutoff)s.")
    reason %= {
        "source": plan.source,
        "cutoff": date_format(timezone.localtime(plan.cutoff), "SHORT_DATETIME_FORMAT"),
    }
    while True:
        with transaction.atomic():
            ids = list(plan.recordings().order_by("pk").values_list("pk", flat=True)[:BATCH])
            if not ids:
                break
            purged = purge_recordings(Recording.objects.filter(pk__in=ids), now)
            record_event(
                plan.campaign,
                {_("son des enregistrements"): (purged.recordings, _("purgé"))},
                reason=reason,
                purge={
                    "recordings": purged.recordings,
                    "bytes": purged.bytes,
                    "files": purged.files,
                    "recording_ids": purged.ids,
                    "retention_days": plan.days,
                    "recorded_before": plan.cutoff.isoformat(),
                    "purged_at": now.isoformat(),
                    "by": "manage.py purge_recordings",
                },
            )
        total.add(purged)
    return total
