"""A submitted call as the call form leaves it, built directly (with the instants the server
records), and the dashboard's kept figures updated as CallRecord.submit does. Shared by the
dashboard's tests."""

from calls.daily import refresh_for_calls
from calls.models import CallRecord, Recording

LEVELS = {
    "complete": ("complete", "complete", "complete"),
    "partial": ("complete", "partial", "partial"),
    "": ("", "", ""),
}


def submitted_call(
    company,
    operator,
    when,
    numero,
    outcome="",
    levels="",
    recordings=(),
    opened=None,
    marked=None,
    recording_started=None,
):
    """levels: 'complete' or 'partial' (a partial interview) for an accepted survey; recordings:
    their durations in seconds; opened: when the form was opened (the draft's creation, by
    default now); marked: the last answer picked; recording_started: the first recording."""
    presentation, libres, orientees = LEVELS[levels]
    call = CallRecord.objects.create(
        company=company,
        operator=operator,
        status_numero=numero,
        call_status=outcome,
        presentation_level=presentation,
        questions_libres_level=libres,
        questions_orientees_level=orientees,
        status_marked_at=marked,
        recording_started_at=recording_started,
        submitted_at=when,
    )
    call.disposition = call.outcome_disposition()
    call.save(update_fields=["disposition"])
    if opened is not None:
        CallRecord.objects.filter(pk=call.pk).update(created_at=opened)
    for seconds in recordings:
        Recording.objects.create(call=call, duration_seconds=seconds, is_complete=True)
    refresh_for_calls(call)  # what CallRecord.submit does in its transaction
    return call
