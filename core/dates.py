"""Calendar days in the site's time zone (TIME_ZONE): where a day starts."""

from datetime import date, datetime, time

from django.utils import timezone


def local_midnight(day: date) -> datetime:
    """The first instant of a calendar day in the current time zone (TIME_ZONE by default)."""
    return timezone.make_aware(datetime.combine(day, time.min))


def today_start() -> datetime:
    """The first instant of today, local time."""
    return local_midnight(timezone.localdate())
