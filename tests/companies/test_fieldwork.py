"""companies/fieldwork.py: calling hours, parts of the day, holidays, time zones of numbers and
the next opening, in plain Python (no database)."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from companies import fieldwork
from companies.fieldwork import AFTERNOON, MIDDAY, MORNING, Calendar, HoursError

PARIS, DOUALA = ZoneInfo("Europe/Paris"), ZoneInfo("Africa/Douala")


def calendar(**changes) -> Calendar:
    values = {"hours": fieldwork.hours_from_json(fieldwork.default_hours())}
    values.update(changes)
    return Calendar(**values)


@pytest.mark.parametrize(
    ("text", "intervals"),
    [
        ("08:00-12:30, 14:00-18:00", [["08:00", "12:30"], ["14:00", "18:00"]]),
        ("8h-12h30; 14h - 18h", [["08:00", "12:30"], ["14:00", "18:00"]]),
        ("09:00–12:00", [["09:00", "12:00"]]),
        ("00:00-24:00", [["00:00", "24:00"]]),
        ("", []),
        ("  ", []),
    ],
)
def test_a_day_of_hours_is_read_as_people_write_it(text, intervals):
    assert fieldwork.parse_day(text) == intervals


@pytest.mark.parametrize(
    "text", ["matin", "08:00", "12:00-08:00", "08:00-12:00, 11:00-13:00", "25:00-26:00", "8:60-9"]
)
def test_hours_that_cannot_be_read_are_refused(text):
    with pytest.raises(HoursError):
        fieldwork.parse_day(text)


def test_the_default_hours_are_weekdays_and_saturday_morning():
    hours = fieldwork.hours_from_json(fieldwork.default_hours())
    assert hours[0] == ((8 * 60, 12 * 60 + 30), (14 * 60, 18 * 60))
    assert hours[5] == ((9 * 60, 12 * 60),)
    assert hours[6] == ()


@pytest.mark.parametrize(
    ("e164", "zone", "country"),
    [
        ("+237677001122", "Africa/Douala", "CM"),
        ("+33142424242", "Europe/Paris", "FR"),
        ("+12127365000", "America/New_York", "US"),
        ("+81312345678", "Asia/Tokyo", "JP"),
        ("", "", ""),
        ("677001122", "", ""),
    ],
)
def test_a_number_gives_its_time_zone_and_country(e164, zone, country):
    assert fieldwork.phone_zone(e164) == (zone, country)


def test_a_number_spanning_several_zones_prefers_the_campaign_default():
    from phonenumbers.tzdata import TIMEZONE_DATA

    prefix, zones = next((k, v) for k, v in sorted(TIMEZONE_DATA.items()) if len(v) > 2)
    number = "+" + prefix + "0" * (9 - len(prefix))
    assert fieldwork.phone_zone(number)[0] == zones[0]
    assert fieldwork.phone_zone(number, preferred_zone=zones[-1])[0] == zones[-1]
    assert fieldwork.phone_zone(number, preferred_zone="Africa/Douala")[0] == zones[0]


def test_open_in_the_company_local_time():
    cal = calendar()
    wednesday_0830_utc = datetime(2026, 12, 2, 8, 30, tzinfo=UTC)
    assert cal.is_open(wednesday_0830_utc, "Africa/Douala", "CM")  # 09:30 there
    assert not cal.is_open(wednesday_0830_utc, "America/New_York", "US")  # 03:30 there
    assert cal.is_open(wednesday_0830_utc, "", "")  # the campaign's default zone


def test_lunch_break_evening_and_sunday_are_closed():
    cal = calendar()
    assert not cal.is_open(datetime(2026, 12, 2, 13, 0, tzinfo=DOUALA), "", "")
    assert not cal.is_open(datetime(2026, 12, 2, 18, 0, tzinfo=DOUALA), "", "")  # end excluded
    assert cal.is_open(datetime(2026, 12, 2, 17, 59, tzinfo=DOUALA), "", "")
    assert not cal.is_open(datetime(2026, 12, 6, 10, 0, tzinfo=DOUALA), "", "")  # Sunday


def test_public_holidays_of_the_company_country_close_the_day():
    national_day = datetime(2026, 5, 20, 10, 0, tzinfo=DOUALA)  # Cameroon's, a Wednesday
    cal = calendar()
    assert not cal.is_open(national_day, "Africa/Douala", "CM")
    assert cal.is_open(national_day, "Europe/Paris", "FR")
    assert "National Day" in cal.closed_reason(national_day, "Africa/Douala", "CM") or (
        "Fête nationale" in cal.closed_reason(national_day, "Africa/Douala", "CM")
    )
    assert calendar(public_holidays=False).is_open(national_day, "Africa/Douala", "CM")


def test_a_closed_day_of_the_campaign_closes_it_in_every_zone():
    cal = calendar(closed_days=frozenset({date(2026, 12, 2)}))
    assert not cal.is_open(datetime(2026, 12, 2, 10, 0, tzinfo=DOUALA), "", "")
    assert cal.closed_reason(datetime(2026, 12, 2, 10, 0, tzinfo=DOUALA), "", "") == (
        "jour de fermeture de la campagne"
    )


def test_the_parts_of_the_day():
    assert fieldwork.part_of_day(8 * 60) == MORNING
    assert fieldwork.part_of_day(11 * 60 + 30) == MIDDAY
    assert fieldwork.part_of_day(16 * 60) == AFTERNOON
    assert calendar().open_parts == {MORNING, MIDDAY, AFTERNOON}
    mornings_only = fieldwork.hours_from_json([[["08:00", "10:00"]]] * 7)
    assert calendar(hours=mornings_only).open_parts == {MORNING}
    assert not calendar(hours=mornings_only).spreads()


def test_unanswered_attempts_are_spread_over_the_parts_of_the_day():
    cal = calendar()
    at = datetime(2026, 12, 2, 9, 0, tzinfo=DOUALA)  # morning
    tried = cal.tried_after("", at, "")
    assert tried == MORNING
    assert not cal.part_allowed(MORNING, tried) and cal.part_allowed(MIDDAY, tried)
    tried = cal.tried_after(tried, datetime(2026, 12, 2, 15, 0, tzinfo=DOUALA), "")
    assert sorted(tried) == sorted(MORNING + AFTERNOON)
    # The third part closes the round: a new one starts with this part only.
    assert cal.tried_after(tried, datetime(2026, 12, 2, 11, 30, tzinfo=DOUALA), "") == MIDDAY
    assert calendar(spread=False).tried_after("", at, "") == ""


def test_the_next_opening_skips_lunch_the_night_sundays_and_holidays():
    cal = calendar()
    assert cal.next_opening(datetime(2026, 12, 2, 13, 0, tzinfo=DOUALA), "", "") == datetime(
        2026, 12, 2, 14, 0, tzinfo=DOUALA
    )
    assert cal.next_opening(datetime(2026, 12, 5, 12, 30, tzinfo=DOUALA), "", "") == datetime(
        2026, 12, 7, 8, 0, tzinfo=DOUALA
    )  # Saturday afternoon → Monday morning
    assert cal.next_opening(datetime(2026, 5, 19, 19, 0, tzinfo=DOUALA), "", "CM") == datetime(
        2026, 5, 21, 8, 0, tzinfo=DOUALA
    )  # National Day skipped
    inside = datetime(2026, 12, 2, 10, 0, tzinfo=DOUALA)
    assert cal.next_opening(inside, "", "") == inside


def test_the_next_opening_respects_the_parts_already_tried():
    cal = calendar()
    morning = datetime(2026, 12, 2, 9, 0, tzinfo=DOUALA)
    assert cal.next_opening(morning, "", "", tried=MORNING) == datetime(
        2026, 12, 2, 11, 0, tzinfo=DOUALA
    )


def test_a_calendar_without_hours_never_opens():
    never = calendar(hours=((),) * 7)
    assert never.next_opening(datetime(2026, 12, 2, 9, 0, tzinfo=DOUALA), "", "") is None


def test_the_opening_follows_the_local_clock_across_a_dst_change():
    """Europe/Paris moves from UTC+1 to UTC+2 on Sunday 29 March 2026: Monday's 08:00 opening is
    07:00 UTC the week before and 06:00 UTC the week after."""
    cal = calendar()
    before, after = (
        datetime(2026, 3, 23, 6, 30, tzinfo=UTC),
        datetime(2026, 3, 30, 6, 30, tzinfo=UTC),
    )
    assert not cal.is_open(before, "Europe/Paris", "FR")  # 07:30 CET
    assert cal.is_open(after, "Europe/Paris", "FR")  # 08:30 CEST
    saturday_evening = datetime(2026, 3, 28, 20, 0, tzinfo=UTC)
    assert cal.next_opening(saturday_evening, "Europe/Paris", "FR") == datetime(
        2026, 3, 30, 6, 0, tzinfo=UTC
    )
    # And back on Sunday 25 October 2026 (UTC+2 to UTC+1).
    assert cal.next_opening(datetime(2026, 10, 24, 20, 0, tzinfo=UTC), "Europe/Paris", "FR") == (
        datetime(2026, 10, 26, 7, 0, tzinfo=UTC)
    )


def test_hours_inside_the_hour_a_dst_change_skips_open_when_the_clocks_jump():
    night = fieldwork.hours_from_json([[["02:30", "04:00"]]] * 7)
    cal = calendar(hours=night, public_holidays=False)
    opening = cal.next_opening(datetime(2026, 3, 29, 0, 0, tzinfo=UTC), "Europe/Paris", "FR")
    assert opening == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 03:00 CEST, just after the jump
    assert cal.is_open(opening, "Europe/Paris", "FR")


def test_the_snapshot_of_a_minute_groups_the_open_zones_by_part_and_local_date():
    cal = calendar()
    snapshot = cal.snapshot(datetime(2026, 12, 2, 9, 15, 42, tzinfo=UTC))
    morning_zones = snapshot.open_groups[(MORNING, date(2026, 12, 2))]
    assert "Africa/Douala" in morning_zones and "Europe/Paris" in morning_zones  # 10:15 both
    assert "America/New_York" not in snapshot.in_hours  # 04:15
    assert "Asia/Tokyo" in snapshot.dates[date(2026, 12, 2)]  # 18:15, closed
    assert "Asia/Tokyo" not in snapshot.in_hours
    # The same minute gives the same (cached) snapshot.
    assert cal.snapshot(datetime(2026, 12, 2, 9, 15, 1, tzinfo=UTC)) is snapshot


def test_every_zone_of_the_universe_is_a_real_zone():
    from zoneinfo import available_timezones

    assert set(fieldwork.ZONES) <= available_timezones()
    assert "Africa/Douala" in fieldwork.ZONES and "Etc/Unknown" not in fieldwork.ZONES
