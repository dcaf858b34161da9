"""A claim racing an erasure, in real concurrent transactions: the company leaves the queue in
the transaction that blanks it, so a claim either gets in first (and the erasure is refused,
nothing changed) or finds it gone; never an operator calling an erased company. PostgreSQL
re-checks the claim's WHERE once the erasure's row lock is released; SQLite queues writers."""

import threading
import time

import pytest

from companies.lifecycle import Status
from companies.models import Company
from core.roles import SUPERVISORS, ensure_roles
from privacy import erasure as erasure_module
from privacy.erasure import ErasureRefused, erase_company
from tests.conftest import make_operators, make_user, run_threads
from tests.factories import CampaignFactory, CompanyFactory


def users(count):
    ensure_roles()
    return make_user("chef", SUPERVISORS), make_operators(count)


@pytest.mark.django_db(transaction=True)
def test_a_claim_waiting_on_an_erasure_finds_the_company_gone(monkeypatch):
    supervisor, (operator,) = users(1)
    company = CompanyFactory(campaign=CampaignFactory())
    inside = threading.Event()
    claimed = []
    real = erasure_module.redact_log_entries

    def slow(*args, **kwargs):
        inside.set()  # the company row is blanked and locked; the transaction is still open
        time.sleep(1.5)
        return real(*args, **kwargs)

    monkeypatch.setattr(erasure_module, "redact_log_entries", slow)

    def erase():
        erase_company(company.pk, supervisor, "Demande écrite")

    def claim():
        assert inside.wait(30)
        claimed.append(Company.objects.claim(company, operator))

    run_threads(erase, claim)

    company.refresh_from_db()
    assert claimed == [False]
    assert company.erased_at is not None and company.locked_by is None
    assert company.status == Status.DONE


@pytest.mark.django_db(transaction=True)
def test_claims_and_erasures_racing_never_leave_an_erased_company_in_hand():
    supervisor, operators = users(6)
    campaign = CampaignFactory()
    companies = [CompanyFactory(campaign=campaign) for _ in range(6)]
    barrier = threading.Barrier(len(operators) + 1)
    refused = []

    def erase_all():
        barrier.wait()
        for company in companies:
            try:
                erase_company(company.pk, supervisor, "Demande écrite")
            except ErasureRefused:
                refused.append(company.pk)

    def claim_next(operator):
        def work():
            barrier.wait()
            Company.objects.claim_next(operator)

        return work

    run_threads(erase_all, *[claim_next(operator) for operator in operators])

    for company in Company.objects.filter(pk__in=[c.pk for c in companies]):
        if company.pk in refused:  # an operator got it first: untouched, still theirs
            assert company.erased_at is None and company.status == Status.IN_PROGRESS
            assert company.locked_by in operators and company.name.startswith("Société")
        else:
            assert company.erased_at is not None and company.locked_by is None
            assert company.status == Status.DONE and company.name == "Entreprise effacée"
