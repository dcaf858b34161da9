"""Productivity on the dashboard: every figure equals the hand computation written next to it."""

import csv
import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from calls.daily import LENGTH_BOUNDS, Call, day_figures, grouped_median, length_class
from calls.dashboard import Filters, PeriodChoice, productivity_only
from companies.models import Campaign
from tests.calls.submitted import submitted_call
from tests.conftest import ALWAYS_OPEN

DOUALA = ZoneInfo("Africa/Douala")
NOW = datetime(2026, 3, 12, 15, 30, tzinfo=DOUALA)
URL = "/dashboard/"
CSV_URL = "/dashboard/productivite.csv"


def at(hour, minute, second=0, day=12):
    return datetime(2026, 3, day, hour, minute, second, tzinfo=DOUALA)


def make_call(company, operator, opened, submitted, numero, outcome="", complete=False, **extra):
    """A submitted call with the instants the server records: opened (the draft is created),
    marked (the last answer picked), recording (its start and recorded seconds)."""
    recording = extra.pop("recording", None)
    return submitted_call(
        company,
        operator,
        submitted,
        numero,
        outcome,
        levels="complete" if complete else "",
        recordings=[recording[1]] if recording else (),
        opened=opened,
        marked=extra.pop("marked", None),
        recording_started=recording[0] if recording else None,
    )


@pytest.fixture
def day(campaign, make_company, operator, operator2):
    """Awa works two sessions on 12 March (a 30 min pause between them), in campaigns A and B;
    Paul makes one call; a call of Awa's on the 11th is not today's.

    Awa (campaign A unless said), instants of the day:
      C1  opened 09:00, recording 09:01 for 180 s (to 09:04), marked 09:04, validated 09:05,
          complete interview
      C2  opened 09:07, no recording, marked 09:09, validated 09:10, refusal
      C3  (campaign B) opened 09:40, recording 09:41 for 120 s, marked 09:43, validated 09:44,
          no answer
      C4  opened 09:50, recording 09:51 for 300 s (to 09:56), marked 09:56, validated 09:57,
          complete interview
    """
    b = Campaign.objects.create(name="Campagne B", **ALWAYS_OPEN)
    with time_machine.travel(NOW, tick=False):
        company = make_company
        make_call(
            company(), operator, at(9, 0), at(9, 5), "answered", "accepted", complete=True,
            recording=(at(9, 1), 180), marked=at(9, 4),
        )  # fmt: skip
        make_call(company(), operator, at(9, 7), at(9, 10), "answered", "refused", marked=at(9, 9))
        make_call(
            company(campaign=b), operator, at(9, 40), at(9, 44), "no_answer",
            recording=(at(9, 41), 120), marked=at(9, 43),
        )  # fmt: skip
        make_call(
            company(), operator, at(9, 50), at(9, 57), "answered", "accepted", complete=True,
            recording=(at(9, 51), 300), marked=at(9, 56),
        )  # fmt: skip
        make_call(company(), operator2, at(14, 0), at(14, 3), "invalid")
        make_call(
            company(), operator, at(16, 0, day=11), at(16, 4, day=11), "answered", "refused",
            recording=(at(16, 1, day=11), 200),
        )  # fmt: skip
    return b


def table(campaign=None, period=PeriodChoice.TODAY):
    with time_machine.travel(NOW, tick=False):
        result = productivity_only(Filters(campaign, period))
    return {row.name: row for row in result.rows}, result.total


# Time logged in, Awa, all campaigns (instants in minutes after 09:00):
#   first session 09:00-09:10: 600 s, of which C1 (09:05) to C2 (09:07) between calls: 120 s;
#   09:10 to 09:40 is a 30 min pause: not counted;
#   second session 09:40-09:57: 1020 s, of which C3 (09:44) to C4 (09:50) between calls: 360 s.
AWA_LOGGED = 600 + 1020  # 1620 s = 27 min = 0.45 h
AWA_IDLE = 120 + 360  # 480 s = 8 min
AWA_TALK = 180 + 120 + 300  # 600 s


def test_awa_all_campaigns_matches_the_hand_computation(day):
    rows, _total = table()
    awa = rows["Awa Ngo"]
    assert awa.figures.logged_seconds == AWA_LOGGED
    assert awa.figures.idle_seconds == AWA_IDLE
    assert awa.calls_per_hour == pytest.approx(4 / 0.45)  # 8.9 calls an hour
    assert awa.completes_per_hour == pytest.approx(2 / 0.45)  # 4.4
    assert awa.talk_share == pytest.approx(100 * AWA_TALK / AWA_LOGGED)  # 37.0 %
    # Lengths 120 s, 180 s, 300 s: classes [120, 180), [180, 240), [300, 420). The middle
    # (n/2 = 1.5) falls in [180, 240) with 1 value before it: 180 + (1.5 - 1) / 1 x 60 = 210.
    assert awa.median_length == 210
    assert awa.median_display == "3 min 30 s"
    assert awa.validated_share is None  # no review yet


def test_one_campaign_counts_the_time_that_leads_to_its_calls(day, campaign):
    """Each part of the time counts for the campaign of the activity that ends it: the gap from
    C3 (campaign B) to C4 (campaign A) is campaign A's; C3's own four minutes are B's."""
    rows, _total = table(campaign)
    awa = rows["Awa Ngo"]
    assert awa.figures.logged_seconds == 600 + 360 + 60 + 300 + 60  # 1380 s
    assert awa.figures.idle_seconds == 120 + 360
    assert awa.calls_per_hour == pytest.approx(3 / (1380 / 3600))  # 7.8
    assert awa.completes_per_hour == pytest.approx(2 / (1380 / 3600))  # 5.2
    assert awa.talk_share == pytest.approx(100 * (180 + 300) / 1380)  # 34.8 %
    # 180 s and 300 s: the middle (n/2 = 1) is the end of [180, 240): 180 + 1/1 x 60.
    assert awa.median_length == 240
    b_rows, _total = table(Campaign.objects.get(name="Campagne B"))
    assert b_rows["Awa Ngo"].figures.logged_seconds == 60 + 120 + 60  # 09:40-09:44
    assert b_rows["Awa Ngo"].figures.idle_seconds == 0


def test_paul_and_the_total_match_the_hand_computation(day):
    rows, total = table()
    paul = rows["Paul Eto"]
    assert paul.figures.logged_seconds == 180  # opened 14:00, validated 14:03, one call
    assert paul.figures.idle_seconds == 0
    assert paul.calls_per_hour == pytest.approx(20)
    assert paul.completes_per_hour == 0
    assert paul.talk_share == 0
    assert paul.median_length is None and paul.median_display == "—"
    assert total.figures.logged_seconds == AWA_LOGGED + 180  # 30 min
    assert total.calls_per_hour == pytest.approx(5 / 0.5)
    assert total.completes_per_hour == pytest.approx(2 / 0.5)
    assert total.talk_share == pytest.approx(100 * 600 / 1800)
    assert total.median_length == 210
    assert total.figures.idle_seconds == AWA_IDLE


def test_a_period_adds_up_its_days(day):
    rows, _total = table(period=PeriodChoice.WEEK)
    awa = rows["Awa Ngo"]
    # The 11th: opened 16:00, recording 16:01 for 200 s (to 16:04:20), validated 16:04.
    assert awa.figures.logged_seconds == AWA_LOGGED + 260
    assert awa.figures.idle_seconds == AWA_IDLE
    # Lengths 120, 180, 200, 300: n/2 = 2 falls in [180, 240), which holds 2 values and has 1
    # before it.
    assert awa.median_length == 180 + (2 - 1) / 2 * 60


def test_the_csv_link_carries_the_filters(campaign):
    from datetime import date

    assert Filters().query() == "campaign=&period=today"
    custom = Filters(campaign, PeriodChoice.CUSTOM, date(2026, 3, 1), date(2026, 3, 11))
    assert custom.query() == (
        f"campaign={campaign.pk}&period=custom&date_from=2026-03-01&date_to=2026-03-11"
    )


def test_the_bars_split_time_logged_in_and_compare_operators(day):
    with time_machine.travel(NOW, tick=False):
        result = productivity_only(Filters())
    rows = {row.name: row for row in result.rows}
    awa, paul = rows["Awa Ngo"].bar, rows["Paul Eto"].bar
    # Awa is the longest: her bar is full width (160): talk 600 s, rest of calls 540 s, between
    # calls 480 s, out of 1620 s.
    assert [(s.x, s.width) for s in awa.segments] == [
        ("0.0", f"{160 * 600 / 1620:.1f}"),  # 59.3
        (f"{160 * 600 / 1620:.1f}", f"{160 * 540 / 1620:.1f}"),
        (f"{160 * 1140 / 1620:.1f}", f"{160 * 480 / 1620:.1f}"),
    ]
    assert awa.label == (
        "Temps connecté 27 min : parole (enregistrée) : 10 min, reste des appels : 9 min, "
        "entre deux appels : 8 min"
    )
    assert [s.width for s in paul.segments] == ["0.0", f"{160 * 180 / 1620:.1f}", "0.0"]


# --- Rules, on their own ---


def test_grouped_median_interpolates_inside_the_middle_class():
    counts = [0] * (len(LENGTH_BOUNDS) + 1)
    assert grouped_median(counts) is None
    counts[length_class(130)] = 4  # four calls in [120, 180)
    assert length_class(120) == length_class(179.9) == LENGTH_BOUNDS.index(120) + 1
    assert grouped_median(counts) == 120 + 2 / 4 * 60
    counts[-1] = 10  # ten calls of half an hour or more: the open class gives its lower bound
    assert grouped_median(counts) == 1800


def call(opened, submitted, campaign=1, marked=None, recording=None, seconds=0.0):
    return Call(
        campaign_id=campaign,
        submitted_at=submitted,
        hour=submitted.hour,
        status_numero="no_answer",
        call_status="",
        levels=("", "", ""),
        recordings=1 if recording else 0,
        recorded_seconds=seconds,
        opened_at=opened,
        marked_at=marked,
        recording_started_at=recording,
    )


def test_a_draft_opened_long_before_adds_no_time_of_its_own():
    """A draft left in the morning and validated in the afternoon: its opening stands alone,
    more than 15 minutes from anything else."""
    figures = day_figures(
        [
            call(at(8, 0), at(14, 10), recording=at(14, 5), seconds=240),  # resumed at 14:05
            call(at(14, 12), at(14, 15)),
        ]
    )[1]
    assert figures.logged_seconds == 240 + 60 + 120 + 180  # 14:05 to 14:15
    assert figures.idle_seconds == 120  # 14:10 to 14:12


def test_a_gap_of_exactly_15_minutes_is_still_time_logged_in():
    figures = day_figures([call(at(9, 0), at(9, 1)), call(at(9, 16), at(9, 17))])[1]
    assert figures.logged_seconds == 60 + 15 * 60 + 60
    figures = day_figures([call(at(9, 0), at(9, 1)), call(at(9, 16, 1), at(9, 17))])[1]
    assert figures.logged_seconds == 60 + 59


# --- The page and the CSV ---


def test_the_page_shows_the_productivity_table(client, day, supervisor):
    client.force_login(supervisor)
    with time_machine.travel(NOW, tick=False):
        page = client.get(URL, headers={"HX-Request": "true"}).content.decode()
    section = page[page.index('id="productivity-title"') :]
    row = re.search(r'<th scope="row" class="fw-normal">Awa Ngo</th>(.*?)</tr>', section, re.S)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    assert cells[:7] == ["27 min", "8,9", "4,4", "37,0\xa0%", "3 min 30 s", "8 min", "—"]
    assert 'role="img"><title>Temps connecté 27 min : parole' in cells[7]
    assert f'href="{CSV_URL}?campaign=&amp;period=today"' in section
    total = re.search(r"<tfoot[^>]*>\s*<tr>\s*<th[^>]*>Total</th>(.*?)</tr>", section, re.S)
    assert re.findall(r"<td[^>]*>(.*?)</td>", total.group(1), re.S)[:7] == [
        "30 min", "10,0", "4,0", "33,3\xa0%", "3 min 30 s", "8 min", "—",
    ]  # fmt: skip


def test_the_csv_has_the_same_figures(client, day, supervisor, campaign):
    client.force_login(supervisor)
    with time_machine.travel(NOW, tick=False):
        response = client.get(CSV_URL, {"campaign": campaign.pk, "period": "today"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="productivite-enquete-transformateurs-2026-2026-03-12.csv"'
    )
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert rows[0][:4] == ["Opérateur", "Temps connecté (min)", "Appels", "Appels par heure"]
    awa = next(row for row in rows if row[0] == "Awa Ngo")
    # Campaign A: 1380 s logged, 3 calls, 2 complete, 480 s recorded, median 240 s, idle 480 s.
    assert awa == ["Awa Ngo", "23,0", "3", "7,8", "2", "5,2", "8,0", "34,8", "240,0", "8,0", ""]
    assert rows[-1][0] == "Total"


def test_an_operator_name_cannot_become_a_formula(client, day, supervisor, operator):
    operator.first_name, operator.last_name = "=HYPERLINK(1)", ""
    operator.save()
    client.force_login(supervisor)
    with time_machine.travel(NOW, tick=False):
        text = client.get(CSV_URL).content.decode("utf-8")
    assert "\r\n'=HYPERLINK(1);" in text


@pytest.mark.parametrize(
    "params",
    [{"campaign": "abc"}, {"period": "forever"}, {"period": "custom", "date_from": "2026-02-31"}],
)
def test_bad_filters_get_a_clear_message_and_no_file(client, supervisor, params):
    client.force_login(supervisor)
    response = client.get(CSV_URL, params)
    assert response.status_code == 400
    assert response.content.decode().startswith("Filtres invalides : ")
    assert "Content-Disposition" not in response


def test_only_supervisors_download_it_and_only_by_get(client, operator, supervisor):
    client.force_login(operator)
    assert client.get(CSV_URL).status_code == 403
    client.force_login(supervisor)
    assert client.post(CSV_URL).status_code == 405


def test_the_validated_share_counts_the_reviewed_calls_of_the_period(day):
    """Awa's calls of the day: three reviewed (« Validé », « Validé », « Rejeté »), one not yet;
    her call of the 11th is validated but outside today: 2 of 3 = 66.7 %. Paul has none."""
    from calls.models import CallRecord
    from quality.models import ReviewItem, Verdict

    awa_calls = CallRecord.objects.filter(operator__first_name="Awa").order_by("submitted_at")
    yesterday, *today = awa_calls
    for call, verdict in [
        (yesterday, Verdict.VALID),
        (today[0], Verdict.VALID),
        (today[1], Verdict.VALID),
        (today[2], Verdict.REJECTED),
        (today[3], ""),
    ]:
        ReviewItem.objects.update_or_create(  # submission may have drawn it already
            call=call,
            defaults={
                "operator": call.operator,
                "campaign": call.company.campaign,
                "day": call.submitted_at.date(),
                "verdict": verdict,
            },
        )
    rows, _total = table()
    assert rows["Awa Ngo"].validated_share == pytest.approx(100 * 2 / 3)
    assert rows["Paul Eto"].validated_share is None
