"""The audit trail: who changed what, when, before and after, and why (django-auditlog).

Models are registered in config/settings.py (AUDITLOG_INCLUDE_TRACKING_MODELS, one line each):
every save() of them writes a LogEntry with the changed fields, the user of the request
(AuditMiddleware) and the client's trusted address. Entries are never edited: the admin shows
them read-only and no view of the project writes one except through this module.

What saving a model does not catch is written here on purpose:
- a change made by one conditional UPDATE (companies/lifecycle.py, a do-not-call entry taken
  off the list, a quota's target): the caller reads the row before and after and calls
  record_change(), or record_changes() for many rows at once (quota counts);
- rows written by bulk_create (do-not-call entries from the call form, the company page, an
  imported list, an erasure): record_created() writes their entries in one INSERT;
- a change that carries a reason (a correction): the save runs inside `disable_auditlog()` and
  record_change() writes the entry with its reason.

Drafts (objects whose `is_draft` is true, such as a call still being filled) are not audited:
the entry written when the call is submitted keeps the whole call as submitted (a call's
entries carry `serialized_data`, see settings), its changes being those from the draft.
"""

from auditlog.cid import get_cid
from auditlog.context import disable_auditlog
from auditlog.diff import model_instance_diff
from auditlog.middleware import AuditlogMiddleware
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.db.models.signals import pre_save

from core.throttling import client_address

__all__ = [
    "AuditMiddleware",
    "disable_auditlog",
    "history",
    "record_change",
    "record_changes",
    "record_created",
    "record_event",
    "skip_drafts",
]


class AuditMiddleware(AuditlogMiddleware):
    """django-auditlog's middleware with the project's trusted client address (REMOTE_ADDR, or
    the proxy's header named in AXES_IPWARE_META_PRECEDENCE_ORDER), never X-Forwarded-For or a
    port a client may write itself."""

    def get_extra_data(self, request):
        return {
            "remote_addr": client_address(request),
            "remote_port": None,
            "actor": self._get_actor(request),
        }


def skip_drafts(sender, instance, action, **kwargs) -> bool:
    """auditlog's pre_log: False (no entry) for a draft; connected in core/apps.py."""
    return not getattr(instance, "is_draft", False)


def record_change(before, after, actor=None, reason: str = "", **data) -> LogEntry | None:
    """Write one UPDATE entry from two states of the same row, with a reason and other facts
    (`data`, kept in additional_data). Fields excluded by the registration are left out, as
    auditlog's own entries do; None when nothing changed."""
    changes = model_instance_diff(
        before, after, use_json_for_changes=settings.AUDITLOG_STORE_JSON_CHANGES
    )
    if not changes:
        return None
    return LogEntry.objects.log_create(
        after,
        action=LogEntry.Action.UPDATE,
        changes=changes,
        actor=actor,
        additional_data={"reason": reason, **data} if reason or data else None,
    )


def record_changes(pairs, actor=None, reason: str = "") -> list[LogEntry]:
    """record_change() for many (before, after) pairs of one model: one INSERT for them all;
    pairs where nothing changed write nothing."""
    return _write(
        [(after, LogEntry.Action.UPDATE, _diff(before, after)) for before, after in pairs],
        actor,
        reason,
    )


def record_created(instances, actor=None, reason: str = "") -> list[LogEntry]:
    """CREATE entries for rows that bulk_create() wrote (it sends no signal): every field's
    value, as auditlog's own entry for a save() would have it; one INSERT for them all."""
    return _write(
        [(instance, LogEntry.Action.CREATE, _diff(None, instance)) for instance in instances],
        actor,
        reason,
    )


def _diff(before, after) -> dict:
    return model_instance_diff(
        before, after, use_json_for_changes=settings.AUDITLOG_STORE_JSON_CHANGES
    )


def _write(rows, actor, reason: str) -> list[LogEntry]:
    """Entries for (instance, action, changes) rows in one bulk INSERT. bulk_create() sends no
    pre_save signal: it is sent here, so that auditlog's receiver (connected for the time of a
    request by AuditMiddleware) gives each entry the request's user and address, as it does
    for an entry it writes itself."""
    cid = get_cid()
    entries = []
    for instance, action, changes in rows:
        if not changes:
            continue
        entry = LogEntry(
            content_type=ContentType.objects.get_for_model(instance),
            object_pk=str(instance.pk),
            object_id=instance.pk if isinstance(instance.pk, int) else None,
            object_repr=str(instance),
            action=action,
            changes=changes,
            actor=actor,
            actor_email=getattr(actor, "email", None) if actor else None,
            cid=cid,
            additional_data={"reason": reason} if reason else None,
        )
        pre_save.send(sender=LogEntry, instance=entry, raw=False, using=None, update_fields=None)
        entries.append(entry)
    return LogEntry.objects.bulk_create(entries, batch_size=500) if entries else []


def record_event(
    instance, changes: dict, actor=None, reason: str = "", action=LogEntry.Action.UPDATE, **data
) -> LogEntry:
    """Write one entry that no save() describes (an erasure, a purge of recordings): `changes`
    as {what: [before, after]} in words the history shows as they are, the reason, and other
    facts in additional_data. No copy of the object is kept (serialized_data stays empty)."""
    return LogEntry.objects.log_create(
        instance,
        action=action,
        changes={name: [str(before), str(after)] for name, (before, after) in changes.items()},
        actor=actor,
        serialized_data=None,
        additional_data={"reason": reason, **data} if reason or data else None,
    )


def shown(value) -> str:
    """A value as the history shows it: « — » for nothing."""
    return "—" if value in (None, "", "None") else str(value)


def history(instance, *related: QuerySet, limit: int = 200) -> list[LogEntry]:
    """The latest entries of `instance` and of the rows of each `related` QuerySet (e.g. a
    company, its calls and its do-not-call entries), newest first, each with `.reason` and
    `.changes_display` ready to show."""
    condition = Q(content_type=ContentType.objects.get_for_model(instance), object_id=instance.pk)
    for rows in related:
        condition |= Q(
            content_type=ContentType.objects.get_for_model(rows.model),
            object_id__in=rows.values("pk"),
        )
    entries = list(
        LogEntry.objects.filter(condition)
        .select_related("actor", "content_type")
        .order_by("-timestamp", "-pk")[:limit]
    )
    for entry in entries:
        entry.reason = (entry.additional_data or {}).get("reason", "")
        entry.changes_display = [
            (field, [shown(value) for value in values])
            for field, values in entry.changes_display_dict.items()
        ]
    return entries
