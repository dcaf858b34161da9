"""The whole lock protocol as a state machine (hypothesis), on SQLite and PostgreSQL.

Several operators, each with several tabs (pages, each with its own lease token), do in any
order what people do: claim from the list, « Appeler le suivant », open the form, renew the
lease every 30 s, « Abandonner », close the tab (the beacon), submit; a supervisor releases and
reopens; time passes beyond the lease. Every step goes through the views, as the browser does.
After every step the invariants of the protocol must hold (see `invariants`).
"""

import itertools
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from calls.models import CallRecord
from companies.lifecycle import Status
from companies.models import Campaign, Company
from core.roles import OPERATORS, SUPERVISORS
from tests.conftest import ALWAYS_OPEN, make_user

OPERATOR_COUNT, TAB_COUNT, COMPANY_COUNT = 3, 2, 4
HTMX = {"HX-Request": "true"}
# Submitted outcomes: each moves the company differently (done, retry, callback).
OUTCOMES = [
    {"status_numero": "invalid"},
    {"status_numero": "no_answer"},
    {"status_numero": "answered", "call_status": "callback"},
    {
        "status_numero": "answered",
        "call_status": "accepted",
        "presentation_level": "complete",
        "questions_libres_level": "complete",
        "questions_orientees_level": "partial",
    },
]
run_ids = itertools.count()

operators = st.integers(0, OPERATOR_COUNT - 1)
tabs = st.integers(0, TAB_COUNT - 1)
companies = st.integers(0, COMPANY_COUNT - 1)


class LockProtocol(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        run = next(run_ids)
        self.clock = time_machine.travel(timezone.now(), tick=False)
        self.traveller = self.clock.start()
        campaign = Campaign.objects.create(
            name=f"Protocole {run}",
            no_answer_delay=timedelta(0),
            voicemail_delay=timedelta(0),
            **ALWAYS_OPEN,
        )
        self.companies = [
            Company.objects.create(campaign=campaign, name=f"C{run}-{n}", phone=f"6770000{n:02d}")
            for n in range(COMPANY_COUNT)
        ]
        self.operators, self.clients = [], []
        for n in range(OPERATOR_COUNT):
            user = make_user(f"op{run}-{n}", OPERATORS)
            client = Client()
            client.force_login(user)
            self.operators.append(user)
            self.clients.append(client)
        self.supervisor = Client()
        self.supervisor.force_login(make_user(f"sup{run}", SUPERVISORS))
        # (operator, tab) -> (company index, page token) for each tab showing a call form.
        self.pages: dict[tuple[int, int], tuple[int, str]] = {}

    def teardown(self):
        self.clock.stop()

    # --- helpers -------------------------------------------------------------------------------

    def company(self, index) -> Company:
        return Company.objects.get(pk=self.companies[index].pk)

    def snapshot(self) -> dict:
        return {
            c.pk: (c.status, c.locked_by_id, c.lock_token, c.attempts)
            for c in Company.objects.filter(pk__in=[c.pk for c in self.companies])
        }

    # --- rules ---------------------------------------------------------------------------------

    @rule(op=operators, index=companies)
    def claim_from_the_list(self, op, index):
        self.clients[op].post(reverse("calls:start", args=[self.companies[index].pk]))

    @rule(op=operators)
    def call_the_next_one(self, op):
        self.clients[op].post(reverse("calls:next"))

    @rule(op=operators, tab=tabs, index=companies)
    def open_the_form(self, op, tab, index):
        before = self.snapshot()
        response = self.clients[op].get(reverse("calls:fill", args=[self.companies[index].pk]))
        token = response.context.get("token")
        if token:
            self.pages[(op, tab)] = (index, token)
        else:  # not held: the page offers to take it, a GET changes nothing
            assert self.snapshot() == before

    @precondition(lambda self: self.pages)
    @rule(data=st.data())
    def renew(self, data):
        op, tab = data.draw(st.sampled_from(sorted(self.pages)))
        index, token = self.pages[(op, tab)]
        before = self.snapshot()
        response = self.clients[op].post(
            reverse("calls:renew", args=[self.companies[index].pk]), {"token": token}, headers=HTMX
        )
        # A renewal never claims and never releases: no company changes hands or status.
        assert self.snapshot() == before
        company = self.company(index)
        held = company.locked_by_id == self.operators[op].pk and company.lock_token == token
        assert response.status_code == (200 if held else 286)
        if held:
            assert company.lock_expires_at > timezone.now()
        else:
            del self.pages[(op, tab)]  # htmx stops polling

    @precondition(lambda self: self.pages)
    @rule(data=st.data())
    def abandon(self, data):
        op, tab = data.draw(st.sampled_from(sorted(self.pages)))
        index, _token = self.pages.pop((op, tab))
        self.clients[op].post(reverse("calls:abandon", args=[self.companies[index].pk]))
        company = self.company(index)
        assert company.locked_by_id != self.operators[op].pk

    @precondition(lambda self: self.pages)
    @rule(data=st.data())
    def close_the_tab(self, data):
        op, tab = data.draw(st.sampled_from(sorted(self.pages)))
        index, token = self.pages.pop((op, tab))
        before = self.company(index)
        self.clients[op].post(
            reverse("calls:abandon", args=[self.companies[index].pk]),
            {"beacon": "1", "token": token},
        )
        after = self.company(index)
        if before.lock_token != token or before.locked_by_id != self.operators[op].pk:
            # Only the page that holds the lease releases it.
            assert (after.status, after.locked_by_id) == (before.status, before.locked_by_id)

    @precondition(lambda self: self.pages)
    @rule(data=st.data(), outcome=st.sampled_from(OUTCOMES))
    def submit(self, data, outcome):
        op, tab = data.draw(st.sampled_from(sorted(self.pages)))
        index, _token = self.pages[(op, tab)]
        before = self.company(index)
        submitted_before = CallRecord.objects.submitted().filter(company=before).count()
        self.clients[op].post(
            reverse("calls:submit", args=[before.pk]), {"without_recording": "on", **outcome}
        )
        after = self.company(index)
        submitted = CallRecord.objects.submitted().filter(company=before).count()
        holder = (
            before.status == Status.IN_PROGRESS and before.locked_by_id == self.operators[op].pk
        )
        if submitted > submitted_before:
            # Every submitted call was submitted by the company's holder at that moment.
            assert holder
            assert after.locked_by_id is None and after.attempts == before.attempts + 1
            self.pages.pop((op, tab))
        else:  # refused: only a page whose operator no longer holds the company is refused
            assert not holder
            assert after.attempts == before.attempts

    @rule(index=companies)
    def supervisor_releases(self, index):
        self.supervisor.post(
            reverse("companies:company_release", kwargs={"pk": self.companies[index].pk})
        )
        assert self.company(index).status != Status.IN_PROGRESS

    @rule(index=companies)
    def supervisor_reopens(self, index):
        self.supervisor.post(
            reverse("companies:company_reopen", kwargs={"pk": self.companies[index].pk})
        )

    @rule(seconds=st.sampled_from([10, 30, 90, 130, 300]))
    def time_passes(self, seconds):
        self.traveller.shift(timedelta(seconds=seconds))

    # --- invariants ----------------------------------------------------------------------------

    @invariant()
    def invariants(self):
        now = timezone.now()
        rows = Company.objects.filter(pk__in=[c.pk for c in self.companies])
        for user in self.operators:  # an operator holds at most one company
            assert rows.held_by(user).count() <= 1
        in_queue = set(rows.in_queue().claimable(now).values_list("pk", flat=True))
        for company in rows.with_current_status(now):
            # A company has at most one holder, and holds it only in progress.
            assert (company.locked_by_id is not None) == (company.status == Status.IN_PROGRESS)
            if company.status == Status.IN_PROGRESS and company.lock_expires_at < now:
                # Nothing stays « in progress » without a live lease, as the queue sees it.
                assert company.current_status != Status.IN_PROGRESS
                assert company.pk in in_queue
            # A company's attempts equal its submitted calls.
            assert (
                company.attempts == CallRecord.objects.submitted().filter(company=company).count()
            )


@pytest.mark.django_db
def test_the_lock_protocol_holds_whatever_operators_tabs_and_supervisors_do(roles):
    run_state_machine_as_test(
        LockProtocol,
        settings=settings(
            max_examples=15,
            stateful_step_count=25,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
