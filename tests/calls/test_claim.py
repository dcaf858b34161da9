"""Claims: one conditional UPDATE decides, one company per operator, leases expire."""

import threading
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from companies.models import Campaign, Company, DoNotCallEntry, QuotaCell, Status
from tests.conftest import make_operators, run_threads
from tests.query_plans import assert_read_in_index_order, main_plan


def test_an_operator_claims_a_pending_company(operator, company):
    assert Company.objects.claim(company, operator)
    company.refresh_from_db()
    assert company.status == Status.IN_PROGRESS
    assert company.locked_by == operator
    assert company.status_before_claim == Status.PENDING
    assert company.lock_expires_at > timezone.now()


def test_it_refuses_a_company_locked_by_someone_else(operator, operator2, company):
    assert Company.objects.claim(company, operator)
    assert not Company.objects.claim(company, operator2)
    company.refresh_from_db()
    assert company.locked_by == operator


def test_an_expired_lease_is_reclaimable_and_keeps_the_status_before_the_claim(
    operator, operator2, make_company
):
    callback = make_company(status=Status.CALLBACK, callback_at=timezone.now())
    assert Company.objects.claim(callback, operator)
    with time_machine.travel(timezone.now() + timedelta(seconds=121)):
        assert Company.objects.claim(callback, operator2)
    callback.refresh_from_db()
    assert callback.locked_by == operator2
    assert callback.status_before_claim == Status.CALLBACK


def test_a_lease_still_running_is_not_reclaimable(operator, operator2, company):
    assert Company.objects.claim(company, operator)
    with time_machine.travel(timezone.now() + timedelta(seconds=100)):
        assert not Company.objects.claim(company, operator2)


def test_renewing_extends_the_lease(operator, company):
    Company.objects.claim(company, operator, token="page")
    company.refresh_from_db()
    first_expiry, locked_at = company.lock_expires_at, company.locked_at
    with time_machine.travel(timezone.now() + timedelta(seconds=60)):
        assert Company.objects.renew(company, operator, "page")
    company.refresh_from_db()
    assert company.lock_expires_at > first_expiry
    assert company.locked_at == locked_at  # "since when" stays the start of the call


def test_an_operator_holds_one_company_at_a_time(operator, make_company):
    first, second = make_company(), make_company()
    assert Company.objects.claim(first, operator)
    assert Company.objects.claim(second, operator)
    first.refresh_from_db()
    assert first.status == Status.PENDING and first.locked_by is None
    assert list(Company.objects.held_by(operator)) == [second]


def test_a_failed_claim_keeps_what_the_operator_held(operator, operator2, make_company):
    mine, theirs = make_company(), make_company()
    Company.objects.claim(theirs, operator2)
    Company.objects.claim(mine, operator)
    assert not Company.objects.claim(theirs, operator)
    assert list(Company.objects.held_by(operator)) == [mine]


def test_done_archived_inactive_and_not_yet_due_companies_cannot_be_claimed(
    operator, make_company, campaign
):
    done = make_company(status=Status.DONE)
    archived = make_company(is_archived=True)
    later = make_company(next_call_at=timezone.now() + timedelta(hours=1))
    assert not Company.objects.claim(done, operator)
    assert not Company.objects.claim(archived, operator)
    assert not Company.objects.claim(later, operator)
    campaign.is_active = False
    campaign.save()
    assert not Company.objects.claim(make_company(), operator)


def test_release_gives_the_company_back_with_its_previous_status(operator, make_company):
    callback = make_company(status=Status.CALLBACK, callback_at=timezone.now())
    Company.objects.claim(callback, operator)
    callback.refresh_from_db()
    assert callback.release(operator)
    assert callback.status == Status.CALLBACK and callback.locked_by is None


def test_release_by_another_operator_does_nothing(operator, operator2, company):
    Company.objects.claim(company, operator)
    company.refresh_from_db()
    assert not company.release(operator2)
    company.refresh_from_db()
    assert company.locked_by == operator


class TestNextCall:
    def test_due_callbacks_come_first_oldest_first(self, operator, make_company):
        now = timezone.now()
        make_company(validity_score=99)
        recent = make_company(
            status=Status.CALLBACK,
            callback_at=now - timedelta(minutes=5),
            next_call_at=now - timedelta(minutes=5),
        )
        oldest = make_company(
            status=Status.CALLBACK,
            callback_at=now - timedelta(hours=3),
            next_call_at=now - timedelta(hours=3),
        )
        make_company(
            status=Status.CALLBACK,
            callback_at=now + timedelta(hours=1),
            next_call_at=now + timedelta(hours=1),
        )
        assert Company.objects.claim_next(operator) == oldest
        Company.objects.claim_next(operator)  # gives back the one held: the same company
        assert Company.objects.held_by(operator).get() == oldest
        Company.objects.filter(pk=oldest.pk).update(status=Status.DONE, locked_by=None)
        assert Company.objects.claim_next(operator) == recent

    def test_then_highest_score_then_fewest_attempts(self, operator, make_company):
        make_company(validity_score=10)
        make_company(validity_score=None)
        tied_more = make_company(validity_score=90, attempts=2)
        tied_fewer = make_company(validity_score=90, attempts=0)
        assert Company.objects.claim_next(operator) == tied_fewer
        Company.objects.filter(pk=tied_fewer.pk).update(status=Status.DONE, locked_by=None)
        assert Company.objects.claim_next(operator) == tied_more

    def test_a_personal_callback_waits_for_its_operator_until_overdue(
        self, operator, operator2, make_company, settings
    ):
        now = timezone.now()
        personal = make_company(
            status=Status.CALLBACK,
            callback_at=now - timedelta(minutes=1),
            next_call_at=now - timedelta(minutes=1),
            callback_operator=operator,
        )
        assert Company.objects.claim_next(operator2) is None
        assert not Company.objects.claim(personal, operator2)
        with time_machine.travel(now + settings.CALLBACK_GRACE + timedelta(minutes=1)):
            assert Company.objects.claim_next(operator2) == personal

    def test_the_owner_gets_the_personal_callback(self, operator, make_company):
        now = timezone.now()
        make_company(validity_score=100)
        personal = make_company(
            status=Status.CALLBACK, callback_at=now, next_call_at=now, callback_operator=operator
        )
        assert Company.objects.claim_next(operator) == personal

    def test_an_empty_queue_gives_none(self, operator, make_company):
        make_company(status=Status.DONE)
        assert Company.objects.claim_next(operator) is None


@pytest.mark.django_db(transaction=True)
def test_many_threads_claiming_at_once_claim_each_company_exactly_once(campaign):
    operators = make_operators(20)
    Company.objects.bulk_create(
        Company(campaign=campaign, name=f"C{i}", phone=f"6770{i:05d}") for i in range(60)
    )
    claimed: dict[int, list[int]] = {}
    barrier = threading.Barrier(len(operators))

    def work(user):
        barrier.wait()
        for _ in range(3):
            company = Company.objects.claim_next(user)
            if company is not None:
                claimed.setdefault(company.pk, []).append(user.pk)
                # finish it so the operator can take another
                Company.objects.filter(pk=company.pk).update(
                    status=Status.DONE, locked_by=None, locked_at=None, lock_expires_at=None
                )

    run_threads(*[partial(work, user) for user in operators])
    assert len(claimed) == 60
    assert all(len(holders) == 1 for holders in claimed.values())


@pytest.mark.parametrize(
    "step, index_name",
    [(0, "company_lock_idx"), (1, "company_callback_idx"), (2, "company_pending_order_idx")],
)
def test_each_step_of_the_queue_is_read_in_the_order_of_an_index(operator, step, index_name):
    """« Appeler le suivant » never sorts the queue: at a million companies that is a second
    per click, on SQLite as on PostgreSQL; with every fieldwork rule on (calling hours in
    several time zones, holidays, spreading, quotas, the do-not-call list)."""
    ruled = Campaign.objects.create(name="Toutes les règles", quota_others_callable=False)
    Campaign.objects.create(name="Autres heures", calling_hours=[[["10:00", "11:00"]]] * 7)
    QuotaCell.objects.create(campaign=ruled, field1="activity", value1="cacao", target=5)
    DoNotCallEntry.objects.create(
        phone_e164="+237677000001",
        niu="M1",
        reason="Refus",
        source="supervisor",
        created_by=operator,
    )
    wednesday_morning = datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Africa/Douala"))
    candidate = Company.objects.queue_steps(operator, wednesday_morning)[step].values("pk")[:1]
    sql, params = candidate.query.sql_with_params()
    assert "time_zone" in sql and "companies_donotcallentry" in sql and "quotacell" in sql
    assert_read_in_index_order(index_name, sql, params)
    # The do-not-call list is probed through its index for the rows read, never hashed whole
    # for each claim (PostgreSQL did that with NOT (EXISTS OR EXISTS)).
    assert "hashed SubPlan" not in main_plan(sql, params)[1]
