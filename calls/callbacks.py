"""The callback calendar (/rappels/): the appointments of a week by day and hour.

An appointment is a company waiting for its callback (status « Rappel »), or one being called
back right now. Operators see their personal callbacks and the shared ones; supervisors see
every one. The week starts on Monday, in the site's time zone.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from companies.lifecycle import Status
from companies.models import Company
from core.dates import local_midnight

# The grid's hours, widened to show any appointment set outside them.
FIRST_HOUR, LAST_HOUR = 8, 18
OVERDUE_SHOWN = 50


def sees_every_callback(user) -> bool:
    return user.has_perm("companies.view_company")


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def appointments(user):
    """The appointments user may see, whenever they are."""
    rows = (
        Company.objects.in_queue()
        .filter(
            Q(status=Status.CALLBACK)
            | Q(status=Status.IN_PROGRESS, status_before_claim=Status.CALLBACK),
            callback_at__isnull=False,
        )
        .select_related("callback_operator", "locked_by")
        .with_current_status()
        .order_by("callback_at", "id")
    )
    if not sees_every_callback(user):
        rows = rows.filter(Q(callback_operator=user) | Q(callback_operator__isnull=True))
    return rows


@dataclass
class Hour:
    hour: int
    cells: list[list[Company]] = field(default_factory=list)  # one list per day


@dataclass
class Week:
    monday: date
    days: list[date]
    hours: list[Hour]
    count: int
    overdue_before: list[Company]  # overdue appointments of earlier weeks (current week only)
    overdue_before_count: int

    @property
    def previous(self) -> date:
        return self.monday - timedelta(days=7)

    @property
    def next(self) -> date:
        return self.monday + timedelta(days=7)

    @property
    def last_day(self) -> date:
        return self.days[-1]


def week(user, monday: date, now: datetime | None = None) -> Week:
    now = now or timezone.now()
    start, end = local_midnight(monday), local_midnight(monday + timedelta(days=7))
    days = [monday + timedelta(days=n) for n in range(7)]
    rows = list(appointments(user).filter(callback_at__gte=start, callback_at__lt=end))
    by_slot: dict[tuple[int, int], list[Company]] = {}
    hours_used = set()
    for company in rows:
        local = timezone.localtime(company.callback_at)
        company.is_overdue = company.callback_at < now and company.current_status == Status.CALLBACK
        by_slot.setdefault((local.hour, (local.date() - monday).days), []).append(company)
        hours_used.add(local.hour)
    first = min([FIRST_HOUR, *hours_used])
    last = max([LAST_HOUR, *hours_used])
    hours = [
        Hour(hour, [by_slot.get((hour, day), []) for day in range(7)])
        for hour in range(first, last + 1)
    ]
    overdue, overdue_count = [], 0
    if start <= now < end:
        earlier = appointments(user).filter(callback_at__lt=start, status=Status.CALLBACK)
        overdue_count = earlier.count()
        overdue = list(earlier[:OVERDUE_SHOWN])
    return Week(monday, days, hours, len(rows), overdue, overdue_count)


def personal_counts() -> list[dict]:
    """How many personal callbacks each operator keeps (for the supervisor handing them over)."""
    return list(
        Company.objects.filter(callback_operator__isnull=False)
        .values(
            "callback_operator",
            "callback_operator__username",
            "callback_operator__first_name",
            "callback_operator__last_name",
        )
        .annotate(count=Count("id"))
        .order_by("callback_operator__username")
    )
