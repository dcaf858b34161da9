"""The calendar of fieldwork, in plain Python (no database): calling hours per weekday, closed
days and public holidays, the parts of the day, and each company's time zone and country from
its phone number.

companies/lifecycle.py turns what this module computes into queue predicates. The key fact it
relies on: at a given minute, which time zones are open is a small set computable here, so the
SQL condition is `time_zone IN (...)` rather than time arithmetic in SQL. Hours are given to the
minute and every zone's offset is a whole number of minutes, so what is open stays the same for
a whole minute: `Calendar.snapshot()` is cached per minute.

Everything works on aware datetimes converted with zoneinfo, so a change of daylight saving
time moves a European company's opening in UTC, never its local hours.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import phonenumbers
from django.utils.translation import gettext_lazy as _
from phonenumbers.tzdata import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX

DEFAULT_ZONE = "Africa/Douala"
DAY_MINUTES = 24 * 60
# Monday first, as date.weekday() counts.
WEEKDAYS = [
    _("Lundi"),
    _("Mardi"),
    _("Mercredi"),
    _("Jeudi"),
    _("Vendredi"),
    _("Samedi"),
    _("Dimanche"),
]

# Calling hours: per weekday, (start, end) in minutes after local midnight; end may be 1440.
Hours = tuple[tuple[tuple[int, int], ...], ...]

# New campaigns: Monday to Friday 08:00-12:30 and 14:00-18:00, Saturday 09:00-12:00.
DEFAULT_HOURS_TEXT = [
    [["08:00", "12:30"], ["14:00", "18:00"]],
    [["08:00", "12:30"], ["14:00", "18:00"]],
    [["08:00", "12:30"], ["14:00", "18:00"]],
    [["08:00", "12:30"], ["14:00", "18:00"]],
    [["08:00", "12:30"], ["14:00", "18:00"]],
    [["09:00", "12:00"]],
    [],
]
# Campaigns that existed before calling hours: open all the time, as they were.
ALWAYS_OPEN_TEXT = [[["00:00", "24:00"]] for _day in range(7)]


def default_hours() -> list:
    return [[list(interval) for interval in day] for day in DEFAULT_HOURS_TEXT]


def always_open_hours() -> list:
    return [[list(interval) for interval in day] for day in ALWAYS_OPEN_TEXT]


# Parts of the day, in local time: unanswered attempts are spread over them (queXS does the
# same), so a company nobody answers in the morning is next tried at midday or afternoon.
MORNING, MIDDAY, AFTERNOON = "m", "n", "a"
PARTS = [(MORNING, 0, 11 * 60), (MIDDAY, 11 * 60, 14 * 60), (AFTERNOON, 14 * 60, DAY_MINUTES)]


def part_of_day(minute: int) -> str:
    for part, start, end in PARTS:
        if start <= minute < end:
            return part
    return AFTERNOON


# --- Reading and writing calling hours ---------------------------------------------------------


class HoursError(ValueError):
    """Calling hours that cannot be read; the message is French and says why."""


def minutes_of(text: str) -> int:
    """ "08:30" → 510; "24:00" → 1440."""
    hours, sep, minutes = text.strip().replace("h", ":").partition(":")
    if not hours.isdigit() or (minutes and not minutes.isdigit()) or len(minutes) > 2:
        raise HoursError(_("« %(text)s » n'est pas une heure (ex. 08:30).") % {"text": text})
    value = int(hours) * 60 + int(minutes or 0)
    if int(minutes or 0) >= 60 or value > DAY_MINUTES:
        raise HoursError(_("« %(text)s » n'est pas une heure (ex. 08:30).") % {"text": text})
    return value


def clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_day(text: str) -> list[list[str]]:
    """ "08:00-12:30, 14:00-18:00" → [["08:00", "12:30"], ["14:00", "18:00"]]; "" → closed.
    Intervals must be in order and must not overlap."""
    intervals, last_end = [], -1
    for chunk in text.replace(";", ",").split(","):
        if not chunk.strip():
            continue
        start_text, sep, end_text = chunk.replace("–", "-").partition("-")
        if not sep:
            raise HoursError(
                _("« %(text)s » : écrivez une plage comme 08:00-12:30.") % {"text": chunk.strip()}
            )
        start, end = minutes_of(start_text), minutes_of(end_text)
        if start >= end:
            raise HoursError(
                _("« %(text)s » : la fin doit suivre le début.") % {"text": chunk.strip()}
            )
        if start < last_end:
            raise HoursError(
                _("« %(text)s » : les plages doivent se suivre sans se chevaucher.")
                % {"text": chunk.strip()}
            )
        last_end = end
        intervals.append([clock(start), clock(end)])
    return intervals


def day_text(intervals: list) -> str:
    return ", ".join(f"{start}-{end}" for start, end in intervals)


def hours_from_json(value) -> Hours:
    """The stored JSON (7 lists of ["HH:MM", "HH:MM"]) as minutes."""
    days = []
    for day in list(value or [])[:7]:
        days.append(tuple((minutes_of(start), minutes_of(end)) for start, end in day))
    while len(days) < 7:
        days.append(())
    return tuple(days)


# --- Time zones and countries of phone numbers -------------------------------------------------

# Every zone phonenumbers can give a number: the universe the queue's IN lists are drawn from.
# A company's zone (and a campaign's default zone) is always one of these.
ZONES = sorted({zone for zones in TIMEZONE_DATA.values() for zone in zones} - {"Etc/Unknown"})
ZONE_SET = frozenset(ZONES)


@functools.lru_cache(maxsize=4096)
def _zones_for_digits(digits: str) -> tuple[str, ...]:
    for length in range(min(len(digits), TIMEZONE_LONGEST_PREFIX), 0, -1):
        zones = TIMEZONE_DATA.get(digits[:length])
        if zones:
            return tuple(zone for zone in zones if zone in ZONE_SET)
    return ()


@functools.lru_cache(maxsize=4096)
def _region_for_prefix(prefix: str, e164: str) -> str:
    for length in (1, 2, 3):
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(prefix[1 : 1 + length] or 0))
        if regions:
            if len(regions) == 1:
                return regions[0] if regions[0] != "001" else ""
            break
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(e164))
    except phonenumbers.NumberParseException:
        return ""
    return region or ""


def phone_zone(e164: str, preferred_zone: str = "") -> tuple[str, str]:
    """(time zone, country) of a normalised number, "" for what the number does not tell.

    A number whose prefix spans several zones gets preferred_zone (the campaign's default) when
    it is one of them, else the first. Costs a few dict lookups (an import calls it per row):
    the zone by the longest prefix of phonenumbers' own timezone data, the region by country
    code (numbers of a shared country code, such as +1, are parsed once per 8-character
    prefix)."""
    if not e164 or not e164.startswith("+"):
        return "", ""
    zones = _zones_for_digits(e164[1 : 1 + TIMEZONE_LONGEST_PREFIX])
    zone = preferred_zone if preferred_zone in zones else (zones[0] if zones else "")
    return zone, _region_for_prefix(e164[:8], e164)


# --- Public holidays ---------------------------------------------------------------------------

HOLIDAY_COUNTRIES = sorted(
    set(phonenumbers.SUPPORTED_REGIONS) & set(holidays.list_supported_countries())
)


@functools.lru_cache(maxsize=4)
def _holidays_of_year(year: int) -> dict[date, frozenset[str]]:
    """{day: countries whose public holiday it is}, every country phonenumbers knows (about
    0.4 s once a year per process)."""
    days: dict[date, set[str]] = {}
    for country in HOLIDAY_COUNTRIES:
        for day in holidays.country_holidays(country, years=year):
            days.setdefault(day, set()).add(country)
    return {day: frozenset(countries) for day, countries in days.items()}


def holiday_countries(day: date) -> frozenset[str]:
    return _holidays_of_year(day.year).get(day, frozenset())


@functools.lru_cache(maxsize=512)
def holiday_name(country: str, day: date) -> str:
    if country not in HOLIDAY_COUNTRIES:
        return ""
    return holidays.country_holidays(country, years=day.year, language="fr").get(day) or ""


# --- The calendar of a campaign ----------------------------------------------------------------


@dataclass
class Snapshot:
    """What is open at one minute, for one calendar."""

    # (part of the day, local date) → zones inside the calling hours, on a day the campaign
    # is not closed (public holidays are per country: lifecycle excludes them per date).
    open_groups: dict[tuple[str, date], frozenset[str]]
    # local date → every zone of the universe that is on that date now.
    dates: dict[date, frozenset[str]]
    # zones inside the calling hours now, whatever the day.
    in_hours: frozenset[str]


@dataclass(frozen=True)
class Calendar:
    """A campaign's rules of time, hashable (so the snapshot of a minute is cached)."""

    hours: Hours
    closed_days: frozenset[date] = frozenset()
    public_holidays: bool = True
    default_zone: str = DEFAULT_ZONE
    default_country: str = "CM"
    spread: bool = True

    # --- One instant ---

    def zone(self, zone: str) -> ZoneInfo:
        return ZoneInfo(zone if zone in ZONE_SET else self.default_zone)

    def local(self, when: datetime, zone: str) -> datetime:
        return when.astimezone(self.zone(zone))

    def in_hours_at(self, local: datetime) -> bool:
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.hours[local.weekday()])

    def day_closed(self, day: date, country: str) -> bool:
        return day in self.closed_days or (
            self.public_holidays and (country or self.default_country) in holiday_countries(day)
        )

    def is_open(self, when: datetime, zone: str, country: str) -> bool:
        """Whether a company of that zone and country may be called at `when` (hours, closed
        days, public holidays; not the spreading of attempts)."""
        local = self.local(when, zone)
        return self.in_hours_at(local) and not self.day_closed(local.date(), country)

    def closed_reason(self, when: datetime, zone: str, country: str) -> str:
        """Why `when` is outside the window in the company's local time ("" if it is not)."""
        local = self.local(when, zone)
        if local.date() in self.closed_days:
            return str(_("jour de fermeture de la campagne"))
        country = country or self.default_country
        if self.public_holidays and country in holiday_countries(local.date()):
            name = holiday_name(country, local.date())
            return str(_("jour férié (%(name)s)") % {"name": name} if name else _("jour férié"))
        if not self.in_hours_at(local):
            return str(_("hors des heures d'appel"))
        return ""

    def always_open(self) -> bool:
        """Open at every hour of every day, no closed day, no holiday: no rule of time."""
        whole_day = ((0, DAY_MINUTES),)
        return (
            all(day == whole_day for day in self.hours)
            and not self.closed_days
            and not self.public_holidays
        )

    # --- Parts of the day ---

    @functools.cached_property
    def open_parts(self) -> frozenset[str]:
        """Parts of the day that have calling hours on some weekday."""
        found = set()
        for day in self.hours:
            for start, end in day:
                for part, part_start, part_end in PARTS:
                    if max(start, part_start) < min(end, part_end):
                        found.add(part)
        return frozenset(found)

    def spreads(self) -> bool:
        return self.spread and len(self.open_parts) > 1

    def part_allowed(self, part: str, tried: str) -> bool:
        """A part already tried without an answer waits until every open part has been tried."""
        if not self.spreads() or not tried:
            return True
        return part not in tried or self.open_parts <= set(tried)

    def tried_after(self, tried: str, when: datetime, zone: str) -> str:
        """The parts tried once an unanswered attempt happened at `when`: a new round starts
        (with this part only) once every open part has been tried."""
        if not self.spreads():
            return ""
        local = self.local(when, zone)
        part = part_of_day(local.hour * 60 + local.minute)
        parts = set(tried) | {part}
        if self.open_parts <= parts:
            parts = {part}
        return "".join(sorted(parts))

    # --- What is open this minute (cached) ---

    def snapshot(self, now: datetime) -> Snapshot:
        minute = now.astimezone(UTC).replace(second=0, microsecond=0)
        return _snapshot(self, minute)

    # --- When it opens ---

    def next_opening(
        self, after: datetime, zone: str, country: str, tried: str = "", horizon_days: int = 400
    ) -> datetime | None:
        """The first instant at or after `after` when a company of that zone, country and parts
        tried may be called; None if the calendar never opens (no hours at all)."""
        tz = self.zone(zone)
        start_day = after.astimezone(tz).date()
        for offset in range(horizon_days):
            day = start_day + timedelta(days=offset)
            if self.day_closed(day, country):
                continue
            for start, end in self.hours[day.weekday()]:
                for part, part_start, part_end in PARTS:
                    begin, finish = max(start, part_start), min(end, part_end)
                    if begin >= finish or not self.part_allowed(part, tried):
                        continue
                    if local_instant(day, finish, tz) <= after:
                        continue
                    return max(local_instant(day, begin, tz), after)
        return None


def local_instant(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """The instant of a local wall-clock time (minute 1440 is the next midnight). A time the
    autumn change repeats is its first occurrence; a time the spring change skips is the
    instant the clocks jump (the first instant whose clock reads later)."""
    if minute >= DAY_MINUTES:
        day, minute = day + timedelta(days=1), minute - DAY_MINUTES
    naive = datetime.combine(day, time(minute // 60, minute % 60))
    instant = naive.replace(tzinfo=tz).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == naive:
        return instant
    low, high = sorted([instant, naive.replace(tzinfo=tz, fold=1).astimezone(UTC)])
    while high - low > timedelta(minutes=1):
        middle = (low + (high - low) / 2).replace(second=0, microsecond=0)
        if middle.astimezone(tz).replace(tzinfo=None) >= naive:
            high = middle
        else:
            low = middle
    return high


@functools.lru_cache(maxsize=256)
def _snapshot(calendar: Calendar, minute: datetime) -> Snapshot:
    open_groups: dict[tuple[str, date], set[str]] = {}
    dates: dict[date, set[str]] = {}
    in_hours = set()
    for zone in ZONES:
        local = minute.astimezone(ZoneInfo(zone))
        day = local.date()
        dates.setdefault(day, set()).add(zone)
        if not calendar.in_hours_at(local):
            continue
        in_hours.add(zone)
        if day in calendar.closed_days:
            continue
        part = part_of_day(local.hour * 60 + local.minute)
        open_groups.setdefault((part, day), set()).add(zone)
    return Snapshot(
        open_groups={key: frozenset(zones) for key, zones in open_groups.items()},
        dates={day: frozenset(zones) for day, zones in dates.items()},
        in_hours=frozenset(in_hours),
    )


def calendar_of(campaign, default_country: str) -> Calendar:
    """The Calendar of a Campaign (its calling hours, closed days, holidays, default zone)."""
    closed = set()
    for text in campaign.closed_days or []:
        try:
            closed.add(date.fromisoformat(text))
        except (TypeError, ValueError):
            continue
    return Calendar(
        hours=hours_from_json(campaign.calling_hours),
        closed_days=frozenset(closed),
        public_holidays=campaign.public_holidays,
        default_zone=campaign.time_zone if campaign.time_zone in ZONE_SET else DEFAULT_ZONE,
        default_country=default_country,
        spread=campaign.spread_attempts,
    )
