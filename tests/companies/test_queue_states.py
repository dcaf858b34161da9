"""The queue states of companies/lifecycle.py: for every company in the queue, exactly one holds,
and « callable » is what a claim may take."""

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from companies.lifecycle import QueueState, Status, queue_state_conditions
from companies.models import Company

NOW = datetime(2026, 3, 12, 14, 30, tzinfo=UTC)

minutes = st.one_of(st.none(), st.integers(min_value=-300, max_value=300))
company_columns = st.fixed_dictionaries(
    {
        "status": st.sampled_from(list(Status)),
        "status_before_claim": st.sampled_from(["", Status.PENDING, Status.CALLBACK]),
        "disposition": st.sampled_from(["", "1.1", "1.2", "2.11", "2.21", "3.13", "3.14", "4.30"]),
        "next_call_at": minutes,
        "lock_expires_at": st.integers(min_value=-300, max_value=300),
    }
)


def at(offset: int | None) -> datetime | None:
    return None if offset is None else NOW + timedelta(minutes=offset)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=st.lists(company_columns, min_size=1, max_size=12))
def test_each_company_of_the_queue_is_in_exactly_one_state(make_company, rows):
    Company.objects.all().delete()
    for row in rows:
        in_progress = row["status"] == Status.IN_PROGRESS
        make_company(
            status=row["status"],
            status_before_claim=row["status_before_claim"] if in_progress else "",
            disposition=row["disposition"],
            next_call_at=at(row["next_call_at"]),
            lock_expires_at=at(row["lock_expires_at"]) if in_progress else None,
        )
    conditions = queue_state_conditions(NOW)
    queue = Company.objects.in_queue()
    members = {
        state: set(queue.filter(q).values_list("pk", flat=True)) for state, q in conditions.items()
    }
    for pk in queue.values_list("pk", flat=True):
        states = [state for state, ids in members.items() if pk in ids]
        assert len(states) == 1, (Company.objects.filter(pk=pk).values().get(), states)
    assert members[QueueState.CALLABLE] == set(queue.claimable(NOW).values_list("pk", flat=True))


def test_archived_and_inactive_are_states_without_a_condition():
    assert QueueState.ARCHIVED not in queue_state_conditions(NOW)
    assert QueueState.INACTIVE not in queue_state_conditions(NOW)
    assert list(QueueState)[0] == QueueState.CALLABLE  # the dashboard lists it first
