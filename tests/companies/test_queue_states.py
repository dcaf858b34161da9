"""The queue states of companies/lifecycle.py: for every company in the queue, exactly one holds,
and « callable » is what a claim may take."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from companies.fieldwork import default_hours
from companies.lifecycle import QueueState, Status, queue_state_conditions
from companies.models import Campaign, Company, DoNotCallEntry

NOW = datetime(2026, 3, 12, 14, 30, tzinfo=UTC)

minutes = st.one_of(st.none(), st.integers(min_value=-300, max_value=300))
company_columns = st.fixed_dictionaries(
    {
        "status": st.sampled_from(list(Status)),
        "status_before_claim": st.sampled_from(["", Status.PENDING, Status.CALLBACK]),
        "disposition": st.sampled_from(["", "1.1", "1.2", "2.11", "2.21", "3.13", "3.14", "4.30"]),
        "next_call_at": minutes,
        "lock_expires_at": st.integers(min_value=-300, max_value=300),
        # The fieldwork rules: 15:30 in Douala, 23:30 in Tokyo (outside the hours), attempts
        # tried in some parts of the day, an appointment, a listed number.
        "time_zone": st.sampled_from(["", "Asia/Tokyo"]),
        "parts_tried": st.sampled_from(["", "a", "m"]),
        "appointment": st.booleans(),
        "listed": st.booleans(),
    }
)


def at(offset: int | None) -> datetime | None:
    return None if offset is None else NOW + timedelta(minutes=offset)


@settings(max_examples=30)
@given(rows=st.lists(company_columns, min_size=1, max_size=12))
def test_each_company_of_the_queue_is_in_exactly_one_state(
    make_company, campaign, supervisor, rows
):
    Company.objects.all().delete()
    DoNotCallEntry.objects.all().delete()
    # The fieldwork defaults: calling hours, holidays, attempts spread over the day.
    Campaign.objects.filter(pk=campaign.pk).update(
        calling_hours=default_hours(), public_holidays=True, spread_attempts=True
    )
    for row in rows:
        in_progress = row["status"] == Status.IN_PROGRESS
        company = make_company(
            status=row["status"],
            status_before_claim=row["status_before_claim"] if in_progress else "",
            disposition=row["disposition"],
            next_call_at=at(row["next_call_at"]),
            lock_expires_at=at(row["lock_expires_at"]) if in_progress else None,
            appointment=row["appointment"],
            parts_tried=row["parts_tried"],
        )
        Company.objects.filter(pk=company.pk).update(time_zone=row["time_zone"])
        if row["listed"]:
            DoNotCallEntry.objects.create(
                phone_e164=company.phone_e164, reason="Test", source="supervisor",
                created_by=supervisor,
            )  # fmt: skip
    conditions = queue_state_conditions(NOW)
    queue = Company.objects.in_queue()
    members = {
        state: set(queue.filter(q).values_list("pk", flat=True)) for state, q in conditions.items()
    }
    for pk in queue.values_list("pk", flat=True):
        states = [state for state, ids in members.items() if pk in ids]
        assert len(states) == 1, (Company.objects.filter(pk=pk).values().get(), states)
    assert members[QueueState.CALLABLE] == set(queue.claimable(NOW).values_list("pk", flat=True))
    # The CASE the call list and the company page read says the same.
    for state, ids in members.items():
        annotated = queue.with_queue_state(NOW).filter(pk__in=ids)
        assert {row.queue_state for row in annotated} <= {state}


def test_archived_and_inactive_are_states_without_a_condition():
    conditions = queue_state_conditions(NOW, campaigns=[])
    assert QueueState.ARCHIVED not in conditions and QueueState.INACTIVE not in conditions
    assert list(QueueState)[0] == QueueState.CALLABLE  # the dashboard lists it first
