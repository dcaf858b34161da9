"""The supervisor dashboard: every figure checked against numbers counted by hand."""

import html
import re
from collections import Counter
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from calls.daily import rebuild
from calls.dashboard import Filters, PeriodChoice, figures
from calls.models import CallRecord, CallStatus, DailyFigures
from companies.models import Campaign, Company
from tests.calls.submitted import submitted_call as submit
from tests.factories import CallFactory

DOUALA = ZoneInfo("Africa/Douala")  # UTC+1, the project's TIME_ZONE
NOW = datetime(2026, 3, 12, 15, 30, tzinfo=DOUALA)
URL = "/dashboard/"
HTMX = {"HX-Request": "true"}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A local time in March 2026."""
    return datetime(2026, 3, day, hour, minute, tzinfo=DOUALA)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def world(frozen, campaign, make_company, operator, operator2, supervisor):
    """Companies in every state and with every AAPOR code, calls at known times.

    Campaign A (the `campaign` fixture, active) and campaign B (inactive).
    """
    later = NOW + timedelta(hours=2)
    c = SimpleNamespace(a=campaign, op1=operator, op2=operator2, supervisor=supervisor)
    c.b = Campaign.objects.create(name="Ancienne campagne", is_active=False)

    def company(status, code="", **fields):
        return make_company(status=status, disposition=code, **fields)

    # Campaign A, not archived: 24 companies.
    c.i = [company("done", "1.1", attempts=1) for _ in range(3)]  # I = 3
    c.p = [company("done", "1.2", attempts=1) for _ in range(2)]  # P = 2
    c.r = [company("done", "2.11", attempts=1) for _ in range(4)]  # R = 4 (+1 archived)
    c.nc_due = company("callback", "2.21", next_call_at=NOW - timedelta(minutes=10))
    c.nc_later = company("callback", "2.21", next_call_at=later, callback_at=later)  # NC = 2
    c.na_retry = company("pending", "3.13", attempts=1, next_call_at=NOW + timedelta(hours=1))
    c.na_due = company("pending", "3.13", attempts=2, next_call_at=NOW - timedelta(minutes=5))
    c.na_done = company("done", "3.13", attempts=3)
    c.vm_retry = company("pending", "3.14", attempts=1, next_call_at=NOW + timedelta(minutes=30))
    c.vm_done = company("done", "3.14", attempts=3)  # UH = 3 + 2 = 5
    c.invalid = company("done", "4.30", attempts=1)
    c.bad_number = company("done", "4.30", attempts=1)
    c.not_transformer = company("done", "4.70", attempts=1)  # NE = 3
    c.new = [company("pending") for _ in range(3)]  # never called: no code
    c.locked = company(
        "in_progress", locked_by=operator2, lock_expires_at=NOW + timedelta(seconds=60)
    )
    c.expired = company(
        "in_progress", locked_by=operator, lock_expires_at=NOW - timedelta(seconds=60)
    )
    # Campaign A, archived (kept for its call): 1.
    c.archived = company("done", "2.11", is_archived=True)
    # Campaign B (inactive): 2.
    c.b_done = company("done", "1.1", campaign=c.b)
    c.b_new = company("pending", campaign=c.b)

    op1, op2 = operator, operator2
    # Today (12 March).
    submit(c.i[0], op1, at(12, 9, 10), "answered", "accepted", "complete", recordings=[300])  # 1
    submit(c.r[0], op1, at(12, 9, 40), "answered", "refused", recordings=[60, 30])  # 2
    submit(c.na_retry, op1, at(12, 10, 5), "no_answer")  # 3
    submit(c.nc_later, op2, at(12, 10, 20), "answered", "callback", recordings=[45])  # 4
    submit(c.p[0], op2, at(12, 14, 55), "answered", "accepted", "partial", recordings=[201])  # 5
    submit(c.invalid, op2, at(12, 15, 10), "invalid")  # 6
    submit(
        c.b_done, op1, at(12, 12, 30), "answered", "accepted", "complete", recordings=[100]
    )  # 11
    submit(c.na_due, op2, at(12, 0, 30), "no_answer")  # 12: 23:30 UTC on the 11th, today here
    # Drafts never count, whatever their content.
    CallFactory(company=c.i[1], operator=op1, status_numero="answered")
    CallFactory(company=c.new[0], operator=op2, outcome="draft")
    # Yesterday, 4 days ago, 11 days ago.
    submit(c.vm_retry, op1, at(11, 11), "voicemail", recordings=[20])  # 7
    submit(c.not_transformer, op2, at(11, 23, 59), "answered", "not_transformer")  # 8
    submit(c.i[1], op1, at(8, 10), "answered", "accepted", "complete")  # 9
    submit(c.r[1], op2, at(1, 10), "answered", "refused")  # 10
    return c


def get_figures(campaign=None, period=PeriodChoice.TODAY, date_from=None, date_to=None):
    return figures(Filters(campaign, period, date_from, date_to))


def counts(lines):
    return {line.key: line.count for line in lines}


# --- Companies: counters, status breakdown, queue health ---


def test_company_counters_and_status_breakdown_of_one_campaign(world):
    f = get_figures(world.a)
    assert f.companies.live == 24
    assert f.companies.archived == 1
    # pending: 2 no-answer + 1 voicemail waiting, 3 never called, and the lapsed lease (the queue
    # sees it as pending again); done: 3+2+4+1+1+1+1+1; in progress: the live lease only.
    assert counts(f.statuses.lines) == {"pending": 7, "in_progress": 1, "callback": 2, "done": 14}
    pending = next(line for line in f.statuses.lines if line.key == "pending")
    assert pending.percent == pytest.approx(100 * 7 / 24)


def test_a_lapsed_lease_counts_under_the_status_the_queue_sees(world):
    """« En cours » only while the lease is live: a lapsed one counts as the status the company
    goes back to, as the queue sees it (lifecycle.current_status)."""
    Company.objects.filter(pk=world.nc_due.pk).update(
        status="in_progress",
        status_before_claim="callback",
        locked_by=world.supervisor,
        lock_expires_at=NOW - timedelta(seconds=1),
    )
    Company.objects.filter(pk=world.locked.pk).update(lock_expires_at=NOW)  # live to the end
    statuses = counts(get_figures(world.a).statuses.lines)
    assert statuses == {"pending": 7, "in_progress": 1, "callback": 2, "done": 14}
    with time_machine.travel(NOW + timedelta(seconds=1), tick=False):
        statuses = counts(get_figures(world.a).statuses.lines)
    assert statuses == {"pending": 8, "in_progress": 0, "callback": 2, "done": 14}


@settings(max_examples=25)
@given(
    rows=st.lists(
        st.fixed_dictionaries(
            {
                "status": st.sampled_from(["pending", "in_progress", "callback", "done"]),
                "before": st.sampled_from(["", "pending", "callback"]),
                "disposition": st.sampled_from(["", "1.1", "2.11", "2.21", "3.13", "3.14"]),
                "next_call_at": st.one_of(st.none(), st.integers(-90, 90)),
                "lock_expires_at": st.integers(-90, 90),
                "archived": st.booleans(),
                "inactive": st.booleans(),
            }
        ),
        max_size=12,
    )
)
def test_company_figures_count_each_company_as_the_queue_sees_it(campaign, make_company, rows):
    """Counted by groups, the figures say what each company's own row says: its status as the
    queue sees it (lifecycle.current_status) and its queue state (the life cycle's conditions)."""
    from calls.dashboard import company_figures
    from companies.lifecycle import QueueState, queue_state_conditions

    Company.objects.all().delete()
    inactive = Campaign.objects.get_or_create(name="Inactive", defaults={"is_active": False})[0]
    for row in rows:
        in_progress = row["status"] == "in_progress"
        make_company(
            campaign=inactive if row["inactive"] else campaign,
            status=row["status"],
            status_before_claim=row["before"] if in_progress else "",
            disposition=row["disposition"],
            next_call_at=NOW + timedelta(minutes=row["next_call_at"])
            if row["next_call_at"] is not None
            else None,
            lock_expires_at=NOW + timedelta(minutes=row["lock_expires_at"])
            if in_progress
            else None,
            is_archived=row["archived"],
        )
    figures = company_figures(None, NOW)
    live = Company.objects.filter(is_archived=False).with_current_status(NOW)
    expected = Counter(live.values_list("current_status", flat=True))
    assert {s: n for s, n in figures.statuses.items() if n} == expected
    queue = Company.objects.in_queue()
    states = Counter(
        {state: queue.filter(q).count() for state, q in queue_state_conditions(NOW).items()}
    )
    states[QueueState.ARCHIVED] = Company.objects.filter(is_archived=True).count()
    states[QueueState.INACTIVE] = Company.objects.filter(
        is_archived=False, campaign=inactive
    ).count()
    assert +figures.states == +states
    assert figures.total == len(rows) == sum(figures.states.values())


def test_the_company_figures_read_only_their_covering_index(world):
    from calls.dashboard import company_groups
    from tests.query_plans import main_plan

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # tiny tables: leave the planner no other way
            cursor.execute("SET LOCAL enable_incremental_sort = off")
            cursor.execute("SET LOCAL enable_hashagg = off")
    for campaign in (None, world.a):
        query = company_groups(campaign, NOW).query
        main, plan = main_plan(*query.get_compiler(using="default").as_sql())
        if connection.vendor == "sqlite":
            assert "USING COVERING INDEX company_dashboard_idx" in main, plan
        else:
            assert "Index Only Scan using company_dashboard_idx" in main, plan
        assert "TEMP B-TREE" not in main and "Sort Key" not in main, plan


def test_queue_health_splits_every_company_into_callable_or_one_reason(world):
    queue = get_figures(world.a).queue
    assert counts(queue.lines) == {
        "callable": 1 + 1 + 3 + 1,  # callback due, retry due, never called, expired lease
        "locked": 1,
        "callback_later": 1,
        "retry_later": 2,  # no answer in 1 h, voicemail in 30 min
        "conversion_later": 0,
        # The fieldwork rules' reasons (tests/companies/test_queue_states.py): none here.
        "outside_hours": 0,
        "closed_day": 0,
        "part_tried": 0,
        "do_not_call": 0,
        "quota_full": 0,
        "quota_outside": 0,
        "exhausted": 2,  # last call unanswered, status done
        "finished": 3 + 2 + 4 + 2 + 1,  # I, P, R, 4.30 twice, 4.70
        "archived": 1,
        "inactive": 0,
    }
    assert queue.total == 25 == sum(line.count for line in queue.lines)
    assert queue.callable == 6
    assert queue.explanation == []


def test_queue_health_counts_companies_of_inactive_campaigns(world):
    queue = get_figures().queue
    assert counts(queue.lines)["inactive"] == 2
    assert queue.total == 27 == sum(line.count for line in queue.lines)


def test_an_empty_queue_says_why_and_when_it_refills(world):
    Company.objects.filter(pk__in=[world.nc_due.pk, world.na_due.pk]).update(
        next_call_at=NOW + timedelta(hours=3)
    )
    Company.objects.filter(pk__in=[c.pk for c in world.new]).update(status="done")
    Company.objects.filter(pk=world.expired.pk).update(lock_expires_at=NOW + timedelta(minutes=1))
    queue = get_figures(world.a).queue
    assert queue.callable == 0
    assert queue.explanation[0] == "Aucune entreprise n'est appelable maintenant :"
    assert "Verrouillées : appel en cours : 2" in queue.explanation
    assert "Délai avant nouvel essai en cours : 3" in queue.explanation
    # The voicemail retry at 16:00 is the first one due.
    assert queue.explanation[-1] == "Prochaine entreprise appelable le 12/03/2026 16:00."


def test_a_queue_that_will_not_refill_by_itself_says_so(client, supervisor, campaign, make_company):
    make_company(status="done", disposition="1.1")
    client.force_login(supervisor)
    page = client.get(URL).content.decode()
    assert "Aucune entreprise n&#x27;est appelable maintenant" in page
    assert "Terminées (issue définitive) : 1" in page
    assert "Aucune ne le redeviendra d&#x27;elle-même" in page


def test_an_empty_database_explains_the_empty_queue(client, supervisor):
    client.force_login(supervisor)
    response = client.get(URL)
    assert response.status_code == 200
    assert "La file est vide : aucune entreprise dans cette sélection." in response.content.decode()


# --- Rates ---


def rate_values(f):
    return {rate.code: (rate.numerator, rate.denominator) for rate in f.rates}


def test_rates_of_one_campaign_match_the_hand_count(world):
    f = get_figures(world.a)
    # Campaign A by class: I=3, P=2, R=4+1 (archived refusal)=5, NC=2, O=0, UH=3+2=5, UO=0, NE=3.
    assert f.classes == {"I": 3, "P": 2, "R": 5, "NC": 2, "O": 0, "UH": 5, "UO": 0, "NE": 3}
    denominator = 3 + 2 + 5 + 2 + 0 + 5 + 0  # (I+P)+(R+NC+O)+(UH+UO) = 17
    assert rate_values(f) == {
        "RR1": (3, denominator),
        "RR2": (3 + 2, denominator),
        "COOP1": (3, 3 + 2 + 5 + 0),
        "REF1": (5, denominator),
        "CON1": (3 + 2 + 5 + 0, denominator),
    }
    values = {rate.code: rate.value for rate in f.rates}
    assert values["RR1"] == pytest.approx(100 * 3 / 17)  # 17.6 %
    assert values["RR2"] == pytest.approx(100 * 5 / 17)  # 29.4 %
    assert values["COOP1"] == pytest.approx(100 * 3 / 10)  # 30.0 %
    assert values["REF1"] == pytest.approx(100 * 5 / 17)  # 29.4 %
    assert values["CON1"] == pytest.approx(100 * 10 / 17)  # 58.8 %


def test_rates_of_all_campaigns_match_the_hand_count(world):
    f = get_figures()
    # Campaign B adds one complete interview: I=4, the rest as campaign A.
    denominator = 4 + 2 + 5 + 2 + 5  # 18
    assert rate_values(f) == {
        "RR1": (4, denominator),
        "RR2": (6, denominator),
        "COOP1": (4, 4 + 2 + 5),
        "REF1": (5, denominator),
        "CON1": (11, denominator),
    }


def test_the_page_shows_each_rate_its_fraction_and_its_definition(client, world):
    client.force_login(world.supervisor)
    page = client.get(URL, {"campaign": world.a.pk}).content.decode()
    for shown in ("17,6", "3 / 17", "29,4", "5 / 17", "30,0", "3 / 10", "58,8", "10 / 17"):
        assert shown in page
    for value in ("17,6", "29,4", "30,0", "58,8"):
        assert f"{value}\u00a0%" in page  # the sign stays on the number's line
    assert "Entretiens complets (1.1) ÷ [complets (1.1) + partiels (1.2) + refus (2.11)" in page
    assert "Refus (2.11) ÷ le dénominateur de RR1." in page
    for code in ("RR1", "RR2", "COOP1", "REF1", "CON1"):
        assert f">{code}</abbr>" in page


def test_rates_with_a_zero_denominator_show_a_dash(client, supervisor, make_company):
    make_company(status="done", disposition="4.30")  # ineligible only: every denominator is 0
    f = get_figures()
    assert all(rate.value is None for rate in f.rates)
    client.force_login(supervisor)
    page = client.get(URL).content.decode()
    rates_table = page[page.index('id="rates-title"') : page.index('id="dispositions-title"')]
    assert rates_table.count('<td class="text-end fs-5 text-nowrap">—</td>') == 5


# --- Calls of the period ---


def test_calls_of_today_across_campaigns(world):
    calls = get_figures().calls
    # Calls 1-6, 11 (campaign B) and 12 (00:30 local, still today); drafts excluded.
    assert calls.calls == 8
    assert calls.answered == 5  # 1, 2, 4, 5, 11
    assert calls.accepted == 3  # 1, 5, 11
    assert calls.complete == 2  # 1, 11
    f = get_figures()
    assert counts(f.numbers.lines) == {"invalid": 1, "no_answer": 2, "voicemail": 0, "answered": 5}
    assert counts(f.outcomes.lines) == {
        "bad_number": 0,
        "not_transformer": 0,
        "callback": 1,
        "refused": 1,
        "accepted": 3,
    }
    answered = next(line for line in f.numbers.lines if line.key == "answered")
    assert answered.percent == pytest.approx(100 * 5 / 8)
    accepted = next(line for line in f.outcomes.lines if line.key == "accepted")
    assert accepted.percent == pytest.approx(100 * 3 / 5)
    assert f.calls_today == 8


@pytest.mark.parametrize(
    ("period", "dates", "expected"),
    [
        (PeriodChoice.TODAY, (None, None), 7),  # 1-6, 12
        (PeriodChoice.WEEK, (None, None), 7 + 2 + 1),  # + yesterday 7, 8 + 4 days ago 9
        (PeriodChoice.CAMPAIGN, (None, None), 11),  # every call of campaign A: 1-10, 12
        (PeriodChoice.CUSTOM, (date(2026, 3, 1), date(2026, 3, 11)), 4),  # 7, 8, 9, 10
        (PeriodChoice.CUSTOM, (date(2026, 3, 11), date(2026, 3, 11)), 2),  # 7, 8 (23:59)
    ],
)
def test_period_filter_bounds_the_calls(world, period, dates, expected):
    f = get_figures(world.a, period, *dates)
    assert f.calls.calls == expected
    assert f.operators_total.calls == expected
    assert f.calls_today == 7  # « today » does not depend on the period


def test_calls_per_hour_today_in_local_time(world):
    chart = get_figures().chart
    per_hour = {bar.hour: bar.count for bar in chart.bars if bar.count}
    assert per_hour == {0: 1, 9: 2, 10: 2, 12: 1, 14: 1, 15: 1}
    assert len(chart.bars) == 24
    assert chart.total == 8
    assert chart.peak.hour == 9  # the first of the busiest hours
    tallest = max(chart.bars, key=lambda bar: bar.height)
    assert tallest.height == chart.plot_height


# --- Operators ---


def test_operator_table_of_today(world):
    f = get_figures()
    rows = {row.name: row for row in f.operators}
    assert [row.name for row in f.operators] == ["Awa Ngo", "Paul Eto"]  # 4 calls each
    awa, paul = rows["Awa Ngo"], rows["Paul Eto"]
    # Awa: calls 1, 2, 3, 11.
    assert (awa.calls, awa.answered, awa.accepted, awa.refused, awa.callbacks) == (4, 3, 2, 1, 0)
    assert awa.recorded_seconds == 300 + 60 + 30 + 100  # 490 s over 3 recorded calls
    assert awa.recorded_minutes == pytest.approx(490 / 60)
    assert awa.mean_call_display == "2 min 43 s"  # 490 / 3 = 163.3 s
    assert awa.last_activity == at(12, 12, 30)
    # Paul: calls 4, 5, 6, 12.
    assert (paul.calls, paul.answered, paul.accepted, paul.refused, paul.callbacks) == (
        4,
        2,
        1,
        0,
        1,
    )
    assert paul.recorded_seconds == 45 + 201
    assert paul.mean_call_display == "2 min 03 s"  # 246 / 2 = 123 s
    assert paul.last_activity == at(12, 15, 10)
    total = f.operators_total
    assert (total.calls, total.answered, total.accepted, total.refused, total.callbacks) == (
        8,
        5,
        3,
        1,
        1,
    )
    assert total.mean_call_display == "2 min 27 s"  # 736 / 5 = 147.2 s
    assert total.last_activity == at(12, 15, 10)


def test_operator_table_of_one_campaign_lists_idle_operators_too(world):
    f = get_figures(world.a, PeriodChoice.CUSTOM, date(2026, 3, 2), date(2026, 3, 7))
    rows = {row.name: row for row in f.operators}
    assert set(rows) == {"Awa Ngo", "Paul Eto"}
    assert rows["Awa Ngo"].calls == rows["Paul Eto"].calls == 0
    assert rows["Awa Ngo"].mean_call_display == "—"
    f = get_figures(world.a)
    awa = next(row for row in f.operators if row.name == "Awa Ngo")
    assert awa.calls == 3  # call 11 belongs to campaign B
    assert awa.mean_call_display == "3 min 15 s"  # (300 + 60 + 30) / 2 recorded calls


def test_a_supervisor_who_calls_appears_in_the_table(world):
    submit(world.new[1], world.supervisor, at(12, 11), "no_answer")
    names = [row.name for row in get_figures().operators]
    assert "Marie Fouda" in names


# --- The view ---


def test_full_page_has_the_filters_and_the_polled_figures(client, world):
    client.force_login(world.supervisor)
    response = client.get(URL)
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" in page
    assert 'id="dashboard-filters"' in page
    assert "HX-Request" in response["Vary"]
    figures_div = re.search(r'<div id="figures"[^>]*>', page).group(0)
    assert "every 5s [document.visibilityState === &#x27;visible&#x27;]" not in figures_div
    assert "every 5s [document.visibilityState === 'visible']" in figures_div
    assert 'hx-include="#dashboard-filters"' in figures_div
    assert 'hx-get="/dashboard/"' in figures_div
    assert "mis à jour à <time" in page
    assert "15:30:00" in page


def test_htmx_request_gets_only_the_figures(client, world):
    client.force_login(world.supervisor)
    response = client.get(URL, {"campaign": world.a.pk}, headers=HTMX)
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page
    assert 'id="dashboard-filters"' not in page
    assert page.lstrip().startswith('<div id="figures"')
    assert "mis à jour à" in page


def test_history_restore_gets_the_full_page(client, world):
    client.force_login(world.supervisor)
    response = client.get(URL, headers={**HTMX, "HX-History-Restore-Request": "true"})
    assert "<html" in response.content.decode()


def test_filters_stay_selected_in_the_form(client, world):
    client.force_login(world.supervisor)
    page = client.get(URL, {"campaign": world.a.pk, "period": "7d"}).content.decode()
    assert f'<option value="{world.a.pk}" selected>' in page
    assert '<option value="7d" selected>' in page
    assert "7 derniers jours (du 06/03/2026 au 12/03/2026)" in page
    assert "Ancienne campagne (inactive)" in page


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"campaign": "999999"}, "Cette campagne n&#x27;existe pas."),
        ({"campaign": "abc"}, "Cette campagne n&#x27;existe pas."),
        ({"period": "forever"}, "Cette période n&#x27;existe pas."),
        ({"period": "custom"}, "Choisissez la date de début et la date de fin"),
        (
            {"period": "custom", "date_from": "2026-03-10", "date_to": "2026-03-01"},
            "La date de fin précède la date de début.",
        ),
        (
            {"period": "custom", "date_from": "2026-02-31", "date_to": "2026-03-01"},
            "Date de début invalide.",
        ),
        (
            {"period": "custom", "date_from": "0001-01-01", "date_to": "9999-12-31"},
            "Date hors des limites (2000 à 2099).",
        ),
        ({"campaign": "99999999999999999999999"}, "Cette campagne n&#x27;existe pas."),
        ({"period": "custom", "date_from": "x" * 500, "date_to": "2026-03-01"}, "invalide"),
    ],
)
def test_invalid_filters_show_a_french_message_and_fall_back_to_defaults(
    client, world, params, message
):
    client.force_login(world.supervisor)
    response = client.get(URL, params, headers=HTMX)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Filtre ignoré, valeur par défaut utilisée" in page
    assert message in page
    # Defaults: all campaigns, today.
    assert "Aujourd&#x27;hui (12 mars 2026)" in page
    counter = re.search(r'id="counter-today"[^<]*</h3>\s*<p[^>]*>(\d+)</p>', page)
    assert counter.group(1) == "8"


def test_the_chart_is_an_accessible_server_rendered_svg(client, world):
    client.force_login(world.supervisor)
    page = client.get(URL, headers=HTMX).content.decode()
    chart = page[page.index('id="chart-heading"') :]
    svg = chart[chart.index("<svg") : chart.index("</svg>")]
    assert 'role="img"' in svg
    assert 'aria-labelledby="chart-title chart-desc"' in svg
    assert "8 appels validés aujourd'hui ; heure la plus chargée : 9 h – 10 h : 2 appels." in svg
    assert svg.count("<rect") == 24
    assert "<title>9 h – 10 h : 2 appels</title>" in svg
    assert "," not in re.sub(r"<title>.*?</title>|<desc.*?</desc>", "", svg)  # no French decimals
    assert "<script" not in page


def test_the_operator_table_is_rendered(client, world):
    client.force_login(world.supervisor)
    page = client.get(URL, headers=HTMX).content.decode()
    row = re.search(r"<th scope=\"row\" class=\"fw-normal\">Awa Ngo</th>(.*?)</tr>", page, re.S)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))
    assert cells == ["4", "3", "2", "1", "0", "8,2", "2 min 43 s", "12/03/2026 12:30"]
    operators = page[page.index('id="operators-title"') :]
    footer = re.search(r"<tfoot[^>]*>\s*<tr>\s*<th[^>]*>Total</th>(.*?)</tr>", operators, re.S)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", footer.group(1))
    assert cells == ["8", "5", "3", "1", "1", "12,3", "2 min 27 s", "12/03/2026 15:10"]
    assert "Durée moyenne d'appel : cette durée enregistrée ÷ le nombre" in page


def test_post_is_not_allowed(client, supervisor):
    client.force_login(supervisor)
    assert client.post(URL).status_code == 405


def test_operators_may_not_see_the_dashboard_even_as_a_fragment(client, operator):
    client.force_login(operator)
    assert client.get(URL, headers=HTMX).status_code == 403


# --- Cheap: the number of queries does not grow with the data ---


def grow(campaign, make_company, operators, n_companies, calls_each):
    """More companies, calls, recordings and operators, in every state."""
    from core.roles import OPERATORS
    from tests.conftest import make_user

    first = get_user_model().objects.count()
    extra = [make_user(f"op{first + i}", OPERATORS) for i in range(3)]
    staff = operators + extra
    statuses = ["pending", "callback", "done", "in_progress"]
    codes = ["1.1", "1.2", "2.11", "2.21", "3.13", "3.14", "4.30", "4.70", ""]
    for n in range(n_companies):
        status = statuses[n % 4]
        company = make_company(
            status=status,
            disposition=codes[n % len(codes)],
            is_archived=n % 7 == 0,
            next_call_at=NOW + timedelta(minutes=n - n_companies // 2),
            lock_expires_at=NOW + timedelta(seconds=n) if status == "in_progress" else None,
        )
        for k in range(calls_each):
            submit(
                company,
                staff[(n + k) % len(staff)],
                NOW - timedelta(hours=k * 7 + n % 5),
                ["invalid", "no_answer", "voicemail", "answered"][k % 4],
                "refused" if k % 4 == 3 else "",
                recordings=[30 + k] * (k % 3),
            )


def count_queries(client, **params):
    counts = []
    for headers in (HTMX, {}):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL, params, headers=headers).status_code == 200
        counts.append(len(queries))
    return tuple(counts)


@pytest.mark.parametrize(
    "params",
    [{}, {"period": "campaign"}, {"period": "7d", "campaign": "A"}],
    ids=["today", "campaign-to-date", "one-campaign"],
)
def test_query_count_does_not_grow_with_the_data(
    client, frozen, supervisor, operator, operator2, campaign, make_company, params
):
    if params.get("campaign") == "A":
        params = {**params, "campaign": campaign.pk}
    client.force_login(supervisor)
    grow(campaign, make_company, [operator], n_companies=2, calls_each=1)
    small = count_queries(client, **params)
    grow(campaign, make_company, [operator, operator2], n_companies=60, calls_each=5)
    assert CallRecord.objects.count() > 100
    large = count_queries(client, **params)
    assert large == small
    partial, page = large
    # Session, user, two for permissions, the chosen campaign, then at most ten for the
    # figures (see test_figures_use_a_handful_of_aggregate_queries).
    assert partial <= 4 + 1 + 10, "the figures must stay a handful of aggregate queries"
    assert page <= partial + 1  # the full page only adds the campaign list of the form


def test_the_empty_dashboard_runs_the_same_queries(
    client, frozen, supervisor, campaign, make_company, operator
):
    client.force_login(supervisor)
    empty = count_queries(client)
    grow(campaign, make_company, [operator], n_companies=20, calls_each=3)
    assert count_queries(client) == empty


def test_figures_use_a_handful_of_aggregate_queries(django_assert_num_queries, world):
    # Inactive campaigns, companies (grouped); the queue's fieldwork rules: the active
    # campaigns' rules (their cells' fields, the campaigns) and the companies the queue may take
    # or that wait, grouped by state; the quota cells (none here); today's kept figures (per
    # hour), the period's kept figures per operator, the operators, the reviewed calls' verdicts
    # per operator (productivity): whatever the period, the first request as the next.
    for period, dates in [
        (PeriodChoice.CAMPAIGN, (None, None)),
        (PeriodChoice.TODAY, (None, None)),
        (PeriodChoice.CUSTOM, (date(2026, 3, 1), date(2026, 3, 11))),
    ]:
        with django_assert_num_queries(2 + 2 + 1 + 1 + 4):
            get_figures(world.a, period, *dates)
    past = get_figures(world.a, PeriodChoice.CUSTOM, date(2026, 3, 1), date(2026, 3, 11))
    assert (past.calls.calls, past.calls_today) == (4, 7)


def test_the_figures_are_read_from_the_kept_figures_not_the_calls(world):
    """« Since the campaign began » on a million calls: the calls and their recordings are not
    read at all, for the period as for today's chart."""
    with CaptureQueriesContext(connection) as queries:
        f = get_figures(world.a, PeriodChoice.CAMPAIGN)
    assert (f.calls.calls, f.calls_today) == (11, 7)
    sql = " ".join(q["sql"] for q in queries)
    assert '"calls_callrecord"' not in sql and '"calls_recording"' not in sql
    assert sum('FROM "calls_dailyfigures"' in q["sql"] for q in queries) == 2


def test_a_new_call_counts_at_once_in_every_period(world):
    week = get_figures(world.a, PeriodChoice.WEEK)
    assert week.calls.calls == 10
    submit(world.new[1], world.op2, NOW - timedelta(minutes=1), "answered", "refused")
    again = get_figures(world.a, PeriodChoice.WEEK)
    assert again.calls.calls == 11
    assert again.calls.outcomes[CallStatus.REFUSED] == week.calls.outcomes[CallStatus.REFUSED] + 1
    paul = next(row for row in again.operators if row.name == "Paul Eto")
    # Paul: calls 4, 5, 6, 12 today, 8 yesterday, and the new one.
    assert (paul.calls, paul.refused, paul.last_activity) == (6, 1, NOW - timedelta(minutes=1))
    assert get_figures(world.a, PeriodChoice.CAMPAIGN).calls.calls == 12
    assert get_figures(world.a).calls_today == 8


def test_the_kept_figures_add_up_to_every_call_of_the_period(world):
    f = get_figures(None, PeriodChoice.CAMPAIGN)
    rows = {row.name: row for row in f.operators}
    # Awa: calls 1, 2, 3, 11 today, 7 (yesterday) and 9; Paul: 4, 5, 6, 12, 8 and 10.
    assert rows["Awa Ngo"].calls == 6
    assert rows["Awa Ngo"].recorded_seconds == 300 + 60 + 30 + 100 + 20
    assert rows["Paul Eto"].calls == 6
    assert f.operators_total.calls == CallRecord.objects.submitted().count() == 12
    # One row per operator, day and campaign: Awa has calls in both campaigns today.
    assert DailyFigures.objects.count() == len(
        {
            (
                call.operator_id,
                call.submitted_at.astimezone(DOUALA).date(),
                call.company.campaign_id,
            )
            for call in CallRecord.objects.submitted().select_related("company")
        }
    )


def test_rebuilding_gives_the_figures_kept_as_calls_were_submitted(world):
    kept = list(DailyFigures.objects.order_by("day", "operator", "campaign").values())
    # Awa: today in A and in B, the 11th, the 8th; Paul: today, the 11th, the 1st.
    assert rebuild() == len(kept) == 7
    rebuilt = list(DailyFigures.objects.order_by("day", "operator", "campaign").values())
    assert [{k: v for k, v in row.items() if k != "id"} for row in rebuilt] == [
        {k: v for k, v in row.items() if k != "id"} for row in kept
    ]


def test_just_after_midnight_the_day_that_closed_is_counted_live(world):
    with time_machine.travel(datetime(2026, 3, 13, 0, 2, tzinfo=DOUALA), tick=False):
        assert get_figures(world.a, PeriodChoice.WEEK).calls.calls == 10
        # A call submitted at 23:59:59 that committed after midnight.
        submit(world.new[1], world.op1, at(12, 23, 59), "no_answer")
    with time_machine.travel(datetime(2026, 3, 13, 0, 4, tzinfo=DOUALA), tick=False):
        assert get_figures(world.a, PeriodChoice.WEEK).calls.calls == 11


def test_numbers_are_formatted_the_french_way():
    from django.utils import translation

    from calls.templatetags.dashboard import count, share, tenths

    with translation.override("fr"):
        assert count(200000) == "200\xa0000"
        assert count(None) == "0"
        assert share(100 * 3 / 17) == "17,6\xa0%"
        assert share(None) == "—"
        assert tenths(12345 / 60) == "205,8"


def test_each_counter_card_shows_its_figure_and_only_its_own_note(client, world):
    client.force_login(world.supervisor)
    page = client.get(URL, headers=HTMX).content.decode()

    def card(name):
        start = page.index(f'aria-labelledby="counter-{name}"')
        return page[start : page.index('<div class="col">', start)]

    assert "+ 1 archivée" in card("companies")
    assert re.search(r"dont \d+ complets?", card("accepted"))
    for name in ("calls", "answered"):
        assert "text-body-secondary mb-0" not in card(name), name
    assert 'border-primary" role="group" aria-labelledby="counter-today"' in page


@pytest.mark.parametrize(
    ("title_id", "title", "note"),
    [
        ("statuses-title", "Statut des entreprises", "pourcentages de leur total"),
        ("numbers-title", "Statut numéros (appels de la période)", "appels validés de la période"),
        ("outcomes-title", "Statut appel (appels décrochés de la période)", "des appels décrochés"),
    ],
)
def test_each_breakdown_card_has_its_title_its_labelled_table_and_its_note(
    client, world, title_id, title, note
):
    client.force_login(world.supervisor)
    page = html.unescape(client.get(URL, headers=HTMX).content.decode())
    card = page[page.index(f'<section class="card h-100" aria-labelledby="{title_id}">') :]
    card = card[: card.index("</section>")]
    assert f'<h2 id="{title_id}" class="h5">{title}</h2>' in card
    assert f'<table class="table table-sm mb-0 align-middle" aria-labelledby="{title_id}">' in card
    assert note in card.split("</table>")[1]
