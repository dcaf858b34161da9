"""The company life cycle: its states, the queue's predicates, and every change of a company's
state. docs/ARCHITECTURE.md draws it as a state diagram and names the function of each arrow.

Every change is ONE conditional UPDATE whose WHERE holds the whole condition on the company's
own columns; the row count says whether it happened. PostgreSQL re-checks that WHERE against a
row a concurrent transaction has just written and SQLite serialises writers (IMMEDIATE
transactions): either way two operators never both win a company, and nothing is read and then
written back.

This module imports no model: companies/models.py gives Company a manager made from
CompanyQuerySet, so each transition is `Company.objects.<verb>(...)` (or a Company method that
calls it), and each predicate a QuerySet method that the queue, the call list, the dashboard's
queue health and the tests share. The other models a rule reads (campaigns, the do-not-call
list, quota cells) are looked up by name (`_model`).

The fieldwork rules (calling hours in each company's local time, holidays, spreading of
unanswered attempts, the do-not-call list, quotas) are predicates too, built per active
campaign by `rules_condition()` and part of `claimable_condition()`: every claim's one
conditional UPDATE checks them.
"""

import copy
import enum
import functools
import operator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import reduce
from types import SimpleNamespace

from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Case, Exists, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Greatest, Replace, Upper
from django.db.models.lookups import In
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from companies.aapor import UNANSWERED, Disposition
from companies.fieldwork import Calendar, holiday_countries
from core import audit


class Status(models.TextChoices):
    PENDING = "pending", _("À appeler")
    IN_PROGRESS = "in_progress", _("En cours")
    CALLBACK = "callback", _("Rappel")
    DONE = "done", _("Terminé")


CLAIMABLE_STATUSES = [Status.PENDING, Status.CALLBACK]


def lease_end(now: datetime) -> datetime:
    return now + timedelta(seconds=settings.CALL_LOCK_SECONDS)


# --- Predicates, on the company's own columns (so they fit the WHERE of one UPDATE) ----------


def due_condition(now: datetime) -> Q:
    return Q(next_call_at__isnull=True) | Q(next_call_at__lte=now)


def lease_lapsed_condition(now: datetime) -> Q:
    """In progress, but nobody renewed the lease in time: the queue may take it back."""
    return Q(status=Status.IN_PROGRESS, lock_expires_at__lt=now)


def lease_live_condition(now: datetime) -> Q:
    return Q(status=Status.IN_PROGRESS, lock_expires_at__gte=now)


def state_condition(now: datetime, user=None) -> Q:
    """The company's own state lets the queue give it to user now: pending or callback and
    due, or in progress with a lapsed lease, not archived; a personal callback of another
    operator only once it is overdue by CALLBACK_GRACE."""
    free = (Q(status__in=CLAIMABLE_STATUSES) & due_condition(now)) | lease_lapsed_condition(now)
    if user is None:
        return Q(is_archived=False) & free
    someone_elses_callback = (
        Q(status=Status.CALLBACK, callback_operator__isnull=False)
        & ~Q(callback_operator=user)
        & Q(callback_at__gt=now - settings.CALLBACK_GRACE)
    )
    return Q(is_archived=False) & free & ~someone_elses_callback


def queue_condition(now: datetime, user=None, campaigns=None) -> Q:
    """What the queue may give user now: its state allows it (state_condition), in an active
    campaign whose fieldwork rules allow it now (rules_condition). `campaigns`
    (campaign_rules()) is read when not given."""
    rules = rules_condition(now, campaign_rules() if campaigns is None else campaigns)
    return state_condition(now, user) & rules


def claimable_condition(now: datetime, user=None, campaigns=None) -> Q:
    """The row-level claim condition: what the queue may give user (queue_condition), or the
    company user already holds (taking it again changes nothing: a company being called may
    finish whatever the rules say)."""
    condition = queue_condition(now, user, campaigns)
    if user is None:
        return condition
    return condition | Q(status=Status.IN_PROGRESS, locked_by=user, is_archived=False)


# --- Fieldwork rules ---------------------------------------------------------------------------
#
# Each rule is a condition on the company's own columns or an EXISTS subquery, so that it sits
# in the WHERE of the claim's one conditional UPDATE. What depends on the campaign (its hours,
# holidays, quota settings) is known in Python: campaign_rules() reads the active campaigns
# once per claim, and the conditions are written per group of campaigns that share them.

NEVER = Q(pk__in=[])  # Django compiles it to "no row" (and drops it from an OR)


def _model(name: str):
    return apps.get_model("companies", name)


def any_of(conditions: list[Q]) -> Q:
    return reduce(operator.or_, conditions) if conditions else NEVER


def campaign_in(pks) -> Q:
    """Companies of these campaigns, written `campaign_id + 0 IN (...)` so that no database
    reads it through an index on campaign_id: the queue's steps must walk the index of their
    own order (SQLite took a bare `campaign_id IN` for a lookup, then sorted the campaign)."""
    return Q(In(F("campaign_id") + 0, sorted(pks))) if pks else NEVER


@dataclass(frozen=True)
class CampaignRules:
    """What the queue needs to know of an active campaign."""

    pk: int
    calendar: Calendar
    cell_fields: frozenset[str]  # the company fields its quota cells are on (none: no quota)
    others_callable: bool

    @property
    def key(self) -> tuple:
        return (self.calendar, self.cell_fields, self.others_callable)

    @property
    def has_cells(self) -> bool:
        return bool(self.cell_fields)


def campaign_rules() -> list[CampaignRules]:
    """The active campaigns' rules: two small queries (the campaigns, their cells' fields)."""
    cells = _model("QuotaCell").objects.filter(campaign__is_active=True).order_by()
    fields: dict[int, set[str]] = {}
    for campaign_id, field1, field2 in cells.values_list("campaign_id", "field1", "field2"):
        fields.setdefault(campaign_id, set()).update(name for name in (field1, field2) if name)
    rows = (
        _model("Campaign")
        .objects.filter(is_active=True)
        .order_by()
        .only(
            "calling_hours",
            "closed_days",
            "public_holidays",
            "time_zone",
            "spread_attempts",
            "quota_others_callable",
        )
    )
    return [
        CampaignRules(
            row.pk, row.calendar, frozenset(fields.get(row.pk, ())), row.quota_others_callable
        )
        for row in rows
    ]


def grouped(campaigns: list[CampaignRules]) -> list[tuple[CampaignRules, list[int]]]:
    """Campaigns that share the same rules, with their ids: one condition per group."""
    groups: dict[tuple, tuple[CampaignRules, list[int]]] = {}
    for rules in campaigns:
        groups.setdefault(rules.key, (rules, []))[1].append(rules.pk)
    return list(groups.values())


# Calling hours, closed days and public holidays, in the company's local time. The zones open
# at this minute come from companies/fieldwork.py; a company's zone "" is its campaign's
# default zone, its country "" the default country (PHONE_REGION).


def one_of(field: str, values, default: str) -> Q:
    """Companies whose `field` is one of `values`, an empty field standing for `default`."""
    if not values:
        return NEVER
    condition = Q(**{f"{field}__in": sorted(values)})
    if default in values:
        condition |= Q(**{field: ""})
    return condition


def zone_in(zones, calendar: Calendar) -> Q:
    return one_of("time_zone", zones, calendar.default_zone)


def country_in(countries, calendar: Calendar) -> Q:
    return one_of("country", countries, calendar.default_country)


def part_condition(calendar: Calendar, part: str) -> Q:
    """Unanswered attempts spread over the day: a part already tried waits until every open
    part of the day has been tried (Calendar.part_allowed)."""
    if not calendar.spreads():
        return Q()
    every_part_tried = reduce(
        operator.and_, (Q(parts_tried__contains=p) for p in sorted(calendar.open_parts))
    )
    return ~Q(parts_tried__contains=part) | every_part_tried


def window_condition(calendar: Calendar, now: datetime) -> Q:
    """Inside the calling window now: an appointment (a callback at a set time, honoured
    whatever the hour), or a company whose local time is within the calling hours, on a day
    that is neither a closed day of the campaign nor a public holiday of its country, in a part
    of the day it may be tried in."""
    if calendar.always_open() and not calendar.spreads():
        return Q()  # open at every hour, no closed day, no holiday: no condition at all
    snapshot = calendar.snapshot(now)
    opens = []
    for (part, day), zones in sorted(snapshot.open_groups.items()):
        condition = zone_in(zones, calendar)
        off = holiday_countries(day) if calendar.public_holidays else frozenset()
        if off:
            condition &= ~country_in(off, calendar)
        opens.append(condition & part_condition(calendar, part))
    return Q(appointment=True) | any_of(opens)


def closed_day_condition(calendar: Calendar, now: datetime) -> Q:
    """The company's local date is a closed day of the campaign or a holiday of its country."""
    closed = []
    for day, zones in sorted(calendar.snapshot(now).dates.items()):
        if day in calendar.closed_days:
            closed.append(zone_in(zones, calendar))
        elif calendar.public_holidays and holiday_countries(day):
            closed.append(zone_in(zones, calendar) & country_in(holiday_countries(day), calendar))
    return any_of(closed)


def outside_hours_condition(calendar: Calendar, now: datetime) -> Q:
    """The company's local time is outside the calling hours."""
    in_hours = calendar.snapshot(now).in_hours
    return ~zone_in(in_hours, calendar) if in_hours else Q()


# The do-not-call list: across campaigns, by normalised number and by NIU (its key: no space,
# upper case, as the import deduplicates NIUs).


def niu_key_expression(niu) -> Upper:
    return Upper(Replace(niu, Value(" "), Value("")))


def listing_by_phone(value_of) -> Q:
    """Do-not-call entries (a DoNotCallEntry condition) with the number of the company whose
    values value_of(name) gives (OuterRef in a query on companies)."""
    return Q(phone_e164=value_of("phone_e164")) & ~Q(phone_e164="")


def listing_by_niu(value_of) -> Q:
    return Q(niu=niu_key_expression(value_of("niu"))) & ~Q(niu="")


def do_not_call_checks(prefix: str = "") -> list[Exists]:
    """One EXISTS per identifier of the company that the do-not-call list may hold: a live
    entry with its main number (Company.phone_e164, which companies written in bulk have
    before their list of numbers), with any of its numbers (CompanyPhone), with its NIU. With a
    prefix, of the company of the row (through that path, e.g. "company__").

    The one place that says which of a company's identifiers are checked (listing_entries
    says the same for one company)."""
    live = _model("DoNotCallEntry").objects.filter(removed_at__isnull=True)

    def value_of(name):
        return OuterRef(prefix + name)

    # Each of its numbers probes the list's index (phone_e164 <> '' names its partial index).
    numbers = _model("CompanyPhone").objects.filter(company=value_of("pk")).exclude(e164="")
    listed = live.filter(phone_e164=OuterRef("e164")).exclude(phone_e164="")
    return [
        Exists(live.filter(listing_by_phone(value_of))),
        Exists(live.filter(listing_by_niu(value_of))),
        Exists(numbers.filter(Exists(listed))),
    ]


def do_not_call_condition(prefix: str = "") -> Q:
    """Companies on the do-not-call list."""
    return any_of([Q(check) for check in do_not_call_checks(prefix)])


def not_on_do_not_call_list() -> Q:
    """Companies not on the list, written as NOT EXISTS side by side (not NOT (A OR B)) so that
    PostgreSQL turns each into an anti-join that probes the list's index for the few rows a
    claim reads; as NOT (A OR B) it hashed the whole list for every claim."""
    return reduce(operator.and_, [~Q(check) for check in do_not_call_checks()])


def listing_entries(company) -> Q:
    """The do-not-call entries (live or not) that name this company: one of its numbers, or
    its NIU (the same identifiers as do_not_call_checks)."""
    numbers = {company.phone_e164, *company.phones.values_list("e164", flat=True)} - {""}

    def value_of(name):
        return Value(getattr(company, name))

    by_phone = Q(phone_e164__in=sorted(numbers)) if numbers else NEVER
    return by_phone | listing_by_niu(value_of)


# Quotas: a cell is one or two company fields with a value each and a target of interviews.

QUOTA_FIELDS = [
    ("activity", _("Activité")),
    ("location", _("Localisation")),
    ("product", _("Produit")),
    ("legal_form", _("Forme juridique")),
]


def cell_matches(value_of, fields=None) -> Q:
    """Quota cells (a QuotaCell condition) that contain the company whose field values
    value_of(name) gives: OuterRef in a query on companies, the values of a row in Python.
    `fields`: the fields the cells may be on (all of QUOTA_FIELDS when not given)."""
    names = [name for name, _label in QUOTA_FIELDS if fields is None or name in fields]
    first = any_of([Q(field1=name, value1=value_of(name)) for name in names])
    second = any_of([Q(field2=name, value2=value_of(name)) for name in names])
    return first & (Q(field2="") | second)


def company_in_cell(cell) -> Q:
    """The companies of a quota cell (a Company condition; its campaign aside)."""
    condition = Q(**{cell.field1: cell.value1})
    if cell.field2:
        condition &= Q(**{cell.field2: cell.value2})
    return condition


def quota_full_condition(fields=None) -> Q:
    """The company is in a cell of its campaign that has reached its target."""
    cells = _model("QuotaCell").objects.filter(campaign=OuterRef("campaign"))
    full = cells.filter(completed__gte=F("target"))
    return Q(Exists(full.filter(cell_matches(OuterRef, fields))))


def quota_cell_condition(fields=None) -> Q:
    """The company is in at least one cell of its campaign."""
    cells = _model("QuotaCell").objects.filter(campaign=OuterRef("campaign"))
    return Q(Exists(cells.filter(cell_matches(OuterRef, fields))))


def quota_condition(rules: CampaignRules) -> Q:
    """Callable as far as quotas go: in no full cell (a full cell's companies leave the queue),
    and in some cell unless the campaign also calls companies outside every cell."""
    if not rules.has_cells:
        return Q()
    condition = ~quota_full_condition(rules.cell_fields)
    if not rules.others_callable:
        condition &= quota_cell_condition(rules.cell_fields)
    return condition


def rules_condition(now: datetime, campaigns: list[CampaignRules]) -> Q:
    """Every fieldwork rule, for the companies of these (active) campaigns. The same for a
    whole minute (see companies/fieldwork.py), so built once a minute per process."""
    minute = now.astimezone(UTC).replace(second=0, microsecond=0)
    return _rules_condition(minute, tuple(campaigns))


@functools.lru_cache(maxsize=64)
def _rules_condition(minute: datetime, campaigns: tuple[CampaignRules, ...]) -> Q:
    branches = [
        campaign_in(pks) & window_condition(rules.calendar, minute) & quota_condition(rules)
        for rules, pks in grouped(list(campaigns))
    ]
    return any_of(branches) & not_on_do_not_call_list()


def ruled_queue(model, now: datetime, campaigns: list[CampaignRules]) -> models.QuerySet:
    """The companies in the queue (in_queue) that every fieldwork rule allows now: the same
    QuerySet for a whole minute, so that a claim does not turn the rules into SQL expressions
    again (it cost a third of a claim's Python time); each claim adds its own state condition
    to a copy of it, and never evaluates it."""
    minute = now.astimezone(UTC).replace(second=0, microsecond=0)
    return _ruled_queue(model, minute, tuple(campaigns))


@functools.lru_cache(maxsize=64)
def _ruled_queue(model, minute: datetime, campaigns: tuple[CampaignRules, ...]):
    return model.objects.in_queue().filter(_rules_condition(minute, campaigns))


# --- Where a company stands for the queue ------------------------------------------------------
#
# Callable now, or exactly one reason why not. The company's own state decides most of them
# (state_conditions: the dashboard counts those from its covering index); a company whose state
# lets the queue take it (state_condition) is then callable, or held back by one fieldwork rule:
# those states are carved out of CALLABLE (rule_conditions), in this order.

EXHAUSTED = [*UNANSWERED, Disposition.RESPONDENT_UNAVAILABLE]


class QueueState(models.TextChoices):
    """Where a company stands for the queue: callable now, or the one reason why not. In the
    order of the dashboard's lines: callable, what passes with time, what needs someone."""

    CALLABLE = "callable", _("Appelables maintenant")
    LOCKED = "locked", _("Verrouillées : appel en cours")
    CALLBACK_LATER = "callback_later", _("Rappel pas encore dû")
    RETRY_LATER = "retry_later", _("Délai avant nouvel essai en cours")
    CONVERSION_LATER = "conversion_later", _("Conversion de refus programmée")
    # Carved out of CALLABLE by the fieldwork rules (rule_conditions).
    OUTSIDE_HOURS = "outside_hours", _("Hors des heures d'appel")
    CLOSED_DAY = "closed_day", _("Jour férié ou jour de fermeture")
    PART_TRIED = "part_tried", _("Essais répartis : partie de la journée déjà essayée")
    DO_NOT_CALL = "do_not_call", _("Liste « Ne plus appeler »")
    QUOTA_FULL = "quota_full", _("Quota atteint")
    QUOTA_OUTSIDE = "quota_outside", _("Hors des cellules de quota")
    EXHAUSTED = "exhausted", _("Tentatives épuisées (sans réponse)")
    FINISHED = "finished", _("Terminées (issue définitive)")
    # Out of the queue whatever their columns say (CompanyQuerySet.in_queue()).
    ARCHIVED = "archived", _("Archivées")
    INACTIVE = "inactive", _("Campagne inactive")


# The states the fieldwork rules carve out of CALLABLE, and those that end by themselves.
RULE_STATES = [
    QueueState.DO_NOT_CALL,
    QueueState.QUOTA_FULL,
    QueueState.QUOTA_OUTSIDE,
    QueueState.CLOSED_DAY,
    QueueState.OUTSIDE_HOURS,
    QueueState.PART_TRIED,
]
WAITING_STATES = [QueueState.CALLBACK_LATER, QueueState.RETRY_LATER, QueueState.CONVERSION_LATER]
WINDOW_STATES = [QueueState.OUTSIDE_HOURS, QueueState.CLOSED_DAY, QueueState.PART_TRIED]


def state_conditions(now: datetime) -> dict[QueueState, Q]:
    """For a company in the queue (in_queue(): not archived, active campaign), exactly one of
    these holds now, from its own state alone: CALLABLE here is « its state lets the queue take
    it » (state_condition), before the fieldwork rules (rule_conditions). Each reads only the
    columns of the dashboard's covering index."""
    waiting = waiting_condition(now)
    return {
        QueueState.CALLABLE: state_condition(now),
        QueueState.LOCKED: lease_live_condition(now),
        QueueState.CALLBACK_LATER: waiting & Q(status=Status.CALLBACK),
        QueueState.RETRY_LATER: waiting
        & Q(status=Status.PENDING)
        & ~Q(disposition=Disposition.REFUSAL),
        QueueState.CONVERSION_LATER: waiting
        & Q(status=Status.PENDING, disposition=Disposition.REFUSAL),
        QueueState.EXHAUSTED: exhausted_condition(),
        QueueState.FINISHED: Q(status=Status.DONE) & ~Q(disposition__in=EXHAUSTED),
    }


def rule_conditions(now: datetime, campaigns: list[CampaignRules]) -> list[tuple[QueueState, Q]]:
    """For a company whose state lets the queue take it: callable when every fieldwork rule
    allows it, else the first rule of this list that holds it back. The last one (the
    spreading of unanswered attempts over the day) is what is left: it has no condition."""
    by_rule: dict[QueueState, list[Q]] = {state: [] for state in RULE_STATES}
    for rules, pks in grouped(campaigns):
        inside = campaign_in(pks)
        if rules.has_cells:
            by_rule[QueueState.QUOTA_FULL].append(inside & quota_full_condition(rules.cell_fields))
            if not rules.others_callable:
                by_rule[QueueState.QUOTA_OUTSIDE].append(
                    inside & ~quota_cell_condition(rules.cell_fields)
                )
        by_rule[QueueState.CLOSED_DAY].append(inside & closed_day_condition(rules.calendar, now))
        by_rule[QueueState.OUTSIDE_HOURS].append(
            inside & outside_hours_condition(rules.calendar, now)
        )
    not_appointment = ~Q(appointment=True)
    return [
        (QueueState.CALLABLE, rules_condition(now, campaigns)),
        (QueueState.DO_NOT_CALL, do_not_call_condition()),
        (QueueState.QUOTA_FULL, any_of(by_rule[QueueState.QUOTA_FULL])),
        (QueueState.QUOTA_OUTSIDE, any_of(by_rule[QueueState.QUOTA_OUTSIDE])),
        (QueueState.CLOSED_DAY, any_of(by_rule[QueueState.CLOSED_DAY]) & not_appointment),
        (QueueState.OUTSIDE_HOURS, any_of(by_rule[QueueState.OUTSIDE_HOURS]) & not_appointment),
        (QueueState.PART_TRIED, Q()),
    ]


def queue_state_conditions(now: datetime, campaigns=None) -> dict[QueueState, Q]:
    """For a company in the queue (in_queue(): not archived, active campaign), exactly one of
    these holds now. ARCHIVED and INACTIVE come before them and have no condition here: they
    are read from is_archived and the campaign. A new reason for not calling a company (calling
    hours, do-not-call...) is a new state with its condition, carved out of CALLABLE
    (rule_conditions). `campaigns` (campaign_rules()) is read when not given."""
    campaigns = campaign_rules() if campaigns is None else campaigns
    conditions = state_conditions(now)
    free = conditions.pop(QueueState.CALLABLE)
    held_back = Q()  # the rules listed so far do not hold it
    for state, condition in rule_conditions(now, campaigns):
        conditions[state] = free & held_back & condition
        held_back &= ~condition if condition else NEVER
    return {state: conditions[state] for state in QueueState if state in conditions}


def queue_state(now: datetime, campaigns: list[CampaignRules]) -> Case:
    """The QueueState of each company, as one CASE (the first that holds, in this order): the
    same conditions as queue_state_conditions, plus ARCHIVED and INACTIVE."""
    whens = [
        (claimable_condition(now, None, campaigns), QueueState.CALLABLE),
        (Q(is_archived=True), QueueState.ARCHIVED),
        (Q(campaign__is_active=False), QueueState.INACTIVE),
        *(
            (condition, state)
            for state, condition in state_conditions(now).items()
            if state != QueueState.CALLABLE
        ),
        *((condition, state) for state, condition in rule_conditions(now, campaigns)[1:-1]),
    ]
    return Case(
        *(When(condition, then=Value(state.value)) for condition, state in whens if condition),
        default=Value(QueueState.PART_TRIED.value),
        output_field=models.CharField(),
    )


def status_after_release() -> Case:
    """The status an in-progress company goes back to: the one it had when it was claimed."""
    return Case(
        When(status_before_claim=Status.CALLBACK, then=Value(Status.CALLBACK)),
        default=Value(Status.PENDING),
    )


def released_status(status_before_claim: str) -> Status:
    """status_after_release() for one value: what a company claimed from this status goes back
    to (the dashboard counts groups of companies, not rows)."""
    return Status.CALLBACK if status_before_claim == Status.CALLBACK else Status.PENDING


def current_status(now: datetime) -> Case:
    """The status as the queue sees it: a lapsed lease is no longer « En cours »."""
    return Case(
        When(lease_lapsed_condition(now), then=status_after_release()),
        default=F("status"),
        output_field=models.CharField(),
    )


def current_status_condition(status: str, now: datetime) -> Q:
    """Companies whose current_status is `status`, as a condition on the columns themselves
    (so that a list filtered by status keeps reading its index)."""
    lapsed = lease_lapsed_condition(now)
    if status == Status.IN_PROGRESS:
        return lease_live_condition(now)
    if status == Status.CALLBACK:
        return Q(status=Status.CALLBACK) | (lapsed & Q(status_before_claim=Status.CALLBACK))
    if status == Status.PENDING:
        return Q(status=Status.PENDING) | (lapsed & ~Q(status_before_claim=Status.CALLBACK))
    return Q(status=status)


def waiting_condition(now: datetime) -> Q:
    """A claimable status, not yet due: a callback set for later, or the retry delay after an
    unanswered call still running."""
    return Q(status__in=CLAIMABLE_STATUSES, next_call_at__gt=now)


def exhausted_condition() -> Q:
    """Done because the attempts ran out (outcome_values): nobody ever answered, or callbacks
    without a time reached their maximum."""
    return Q(status=Status.DONE, disposition__in=EXHAUSTED)


# --- Orders that an index serves as they are ---------------------------------------------------
#
# A million companies: a millisecond instead of a second's sort. Each order is written both in
# the query and in its index (companies/models.py). "NULLS LAST" is spelt as an IS NULL key
# because SQLite cannot index NULLS LAST, and the expressions hold no parameter (no Coalesce
# with a sentinel value) because SQLite only uses an index on an expression written exactly as
# in the index, and a bound parameter is not.


def is_null(field: str) -> models.ExpressionWrapper:
    return models.ExpressionWrapper(Q(**{f"{field}__isnull": True}), models.BooleanField())


# The queue serves lapsed leases by expiry, then callbacks by time (one without a time first:
# due since it was set), then pending companies by highest score, companies without a score
# last, then fewest attempts.
LAPSED_LEASE_ORDER = [F("lock_expires_at").asc(), F("id").asc()]
CALLBACK_ORDER = [is_null("callback_at").desc(), F("callback_at").asc(), F("id").asc()]
PENDING_ORDER = [
    is_null("validity_score").asc(),
    F("validity_score").desc(),
    F("attempts").asc(),
    F("id").asc(),
]
# The call list: callbacks by their time, so due ones come first, then companies by score
# (none last), fewest attempts, name.
CALL_LIST_ORDER = [
    is_null("callback_at").asc(),
    F("callback_at").asc(),
    is_null("validity_score").asc(),
    F("validity_score").desc(),
    F("attempts").asc(),
    F("name").asc(),
    F("id").asc(),
]


# --- UPDATE values -----------------------------------------------------------------------------


def claim_values(user, now: datetime, token: str = "") -> dict:
    return {
        "lock_token": token,
        "status": Status.IN_PROGRESS,
        # Taking back one's own company or a lapsed lease keeps the status it had before.
        "status_before_claim": Case(
            When(status=Status.IN_PROGRESS, then=F("status_before_claim")), default=F("status")
        ),
        "locked_by": user,
        "locked_at": Case(
            When(Q(status=Status.IN_PROGRESS, locked_by=user), then=F("locked_at")),
            default=Value(now),
        ),
        "lock_expires_at": lease_end(now),
        "updated_at": now,
    }


def unlocked_values() -> dict:
    """UPDATE values that clear a company's lock."""
    return {
        "status_before_claim": "",
        "locked_by": None,
        "locked_at": None,
        "lock_expires_at": None,
        "lock_token": "",
        "updated_at": timezone.now(),
    }


def release_values() -> dict:
    """UPDATE values that give an in-progress company back the status it had when claimed."""
    return {**unlocked_values(), "status": status_after_release()}


@dataclass(frozen=True)
class Outcome:
    """What a submitted call says about the company (calls.models.CallRecord.outcome())."""

    disposition: str  # a Disposition code
    callback_at: datetime | None = None  # for a callback (2.21): when; None = no set time
    callback_operator: object = None  # for a personal callback: the operator it stays with
    # For a non-working number (4.30): the company has another live number to try.
    live_number_left: bool = False


def outcome_values(outcome: Outcome, company, campaign, now: datetime) -> dict:
    """The company's new values once a call with this outcome is submitted, by the campaign's
    retry rules (max attempts count every call of the company, this one included):
    - a callback (2.21) at a set time → `callback`, an appointment due at that time;
      without a time → `callback` after the campaign's callback delay, until its max attempts;
    - no answer (3.13) or voicemail (3.14) → `pending` again after that outcome's delay, until
      its max attempts; the part of the day it happened in is remembered so that the next
      attempt falls in another part (Calendar.tried_after);
    - a refusal (2.11), when the campaign converts refusals and this company's one conversion
      was not yet tried → `pending` after the conversion delay;
    - a non-working number (4.30) while the company has another live number → `pending`, due
      at once on its next number (see below);
    - anything else (or attempts exhausted) → `done`."""
    attempts = company.attempts + 1
    disposition = outcome.disposition
    values = {
        "attempts": F("attempts") + 1,
        "disposition": disposition,
        "last_called_at": now,
        "callback_at": None,
        "callback_operator": None,
        "appointment": False,
        "next_call_at": None,
        "parts_tried": "",
        "status": Status.DONE,
    }
    if disposition == Disposition.RESPONDENT_UNAVAILABLE:
        limit = campaign.callback_max_attempts
        if outcome.callback_at is not None or limit is None or attempts < limit:
            callback_at = outcome.callback_at or now + campaign.callback_delay
            values.update(
                status=Status.CALLBACK,
                callback_at=callback_at,
                next_call_at=callback_at,
                callback_operator=outcome.callback_operator,
                appointment=outcome.callback_at is not None,
            )
    elif disposition in UNANSWERED:
        if disposition == Disposition.NO_ANSWER:
            delay, limit = campaign.no_answer_delay, campaign.no_answer_max_attempts
        else:
            delay, limit = campaign.voicemail_delay, campaign.voicemail_max_attempts
        values["parts_tried"] = campaign.calendar.tried_after(
            company.parts_tried, now, company.time_zone
        )
        if attempts < limit:
            values.update(status=Status.PENDING, next_call_at=now + delay)
    elif (
        disposition == Disposition.REFUSAL
        and campaign.refusal_conversion
        and company.conversion_at is None
    ):
        values.update(
            status=Status.PENDING,
            next_call_at=now + timedelta(days=campaign.refusal_conversion_days),
            conversion_at=now,
        )
    elif disposition == Disposition.NON_WORKING and outcome.live_number_left:
        # Several numbers: a dead one does not close the company, which is non-working only
        # when every number is dead. It keeps the code of its previous call (its eligibility
        # is still unknown) and is due at once on its next number.
        values.update(status=Status.PENDING, disposition=F("disposition"))
    return values


def new_disposition(values: dict, old: str) -> str:
    """The AAPOR code outcome_values() gives the company (its old one when it keeps it)."""
    return old if isinstance(values["disposition"], F) else values["disposition"]


class Correction(enum.Enum):
    """What a corrected call did to its company (CompanyQuerySet.correct_outcome)."""

    APPLIED = "applied"  # the company's latest call: the company follows the corrected outcome
    OLDER = "older"  # a later call decides the company's state: nothing changed
    HELD = "held"  # the company is in an operator's hands right now: nothing changed


def corrected_values(outcome: Outcome, company, campaign, called_at: datetime) -> dict:
    """The company's new values once its latest call, submitted at called_at and already
    counted in its attempts, is corrected to outcome: where that call would have put it had it
    been submitted with these answers (a retry counted from called_at, a callback without a
    time due since called_at, the retry rules of its campaign); attempts and the time of the
    last call stay as they are. The company as it was before that call: one attempt fewer, and
    a refusal conversion that this very call scheduled not yet tried."""
    before = SimpleNamespace(
        attempts=company.attempts - 1,
        parts_tried=company.parts_tried,
        time_zone=company.time_zone,
        conversion_at=None if company.conversion_at == called_at else company.conversion_at,
    )
    values = outcome_values(outcome, before, campaign, called_at)
    del values["attempts"], values["last_called_at"]
    return values


def count_in_quotas(company, old: str, new: str, actor=None) -> None:
    """A company's latest code changed from old to new: the quota cells it is in count one
    interview more or less (one UPDATE; concurrent calls each add their own), each count in the
    audit trail. The cells are locked and read first, in the order of their ids (so two calls
    of the same cells wait for each other instead of deadlocking): what they held before is then
    what the UPDATE changes."""
    counted = company.campaign.counted_dispositions()
    delta = (new in counted) - (old in counted)
    if delta:
        cells = (
            _model("QuotaCell")
            .objects.filter(campaign=company.campaign_id)
            .filter(cell_matches(lambda name: getattr(company, name)))
        )
        before = list(cells.select_for_update().order_by("pk"))
        if not before:
            return
        cells.update(completed=Greatest(F("completed") + delta, Value(0)))
        after = [copy.copy(cell) for cell in before]
        for cell in after:
            cell.completed = max(cell.completed + delta, 0)
        audit.record_changes(zip(before, after, strict=True), actor=actor)


def _pk(company) -> int:
    return company if isinstance(company, int) else company.pk


class CompanyQuerySet(models.QuerySet):
    # --- Predicates ----------------------------------------------------------------------------

    def in_queue(self):
        """Companies an operator may still be given: not archived, not erased, in an active
        campaign."""
        return self.filter(is_archived=False, erased_at=None, campaign__is_active=True)

    def due(self, now=None):
        return self.filter(due_condition(now or timezone.now()))

    def lease_lapsed(self, now=None):
        return self.filter(lease_lapsed_condition(now or timezone.now()))

    def claimable(self, now=None, user=None, campaigns=None):
        """Rows a claim may take: due and not locked, or locked with a lapsed lease, and
        allowed now by the fieldwork rules."""
        return self.filter(claimable_condition(now or timezone.now(), user, campaigns))

    def with_queue_state(self, now=None, campaigns=None):
        """Annotate `queue_state`: the company's QueueState now (callable, or the one reason
        the queue skips it)."""
        campaigns = campaign_rules() if campaigns is None else campaigns
        return self.annotate(queue_state=queue_state(now or timezone.now(), campaigns))

    def with_do_not_call(self):
        """Annotate `do_not_call`: whether the company is on the do-not-call list."""
        return self.annotate(
            do_not_call=models.ExpressionWrapper(do_not_call_condition(), models.BooleanField())
        )

    def held_by(self, user):
        return self.filter(status=Status.IN_PROGRESS, locked_by=user)

    def with_current_status(self, now=None):
        """Annotate `current_status`: the status as the queue sees it (see current_status)."""
        return self.annotate(current_status=current_status(now or timezone.now()))

    def in_current_status(self, status: str, now=None):
        return self.filter(current_status_condition(status, now or timezone.now()))

    def queue_steps(self, user, now, campaigns=None) -> list[models.QuerySet]:
        """The queue, in the order « Appeler le suivant » serves it. Each step is a query an
        index answers directly (no sort of the whole queue): lapsed leases first (those calls
        were due already), then due callbacks, most overdue first, then pending companies."""
        campaigns = campaign_rules() if campaigns is None else campaigns
        claimable = ruled_queue(self.model, now, campaigns).filter(state_condition(now, user))
        return [
            claimable.filter(status=Status.IN_PROGRESS, lock_expires_at__lt=now).order_by(
                *LAPSED_LEASE_ORDER
            ),
            claimable.filter(status=Status.CALLBACK).order_by(*CALLBACK_ORDER),
            claimable.filter(status=Status.PENDING).order_by(*PENDING_ORDER),
        ]

    def step_rows(self, now) -> list:
        """For each queue step, the rows it may take before any rule (None: not worth a look):
        lapsed leases and due callbacks are few, so one look through their index tells that
        the step has nothing, without building its conditional UPDATE."""
        return [
            self.model.objects.filter(lease_lapsed_condition(now)),
            self.model.objects.filter(Q(status=Status.CALLBACK) & due_condition(now)),
            None,
        ]

    # --- Transitions ---------------------------------------------------------------------------

    def claim(self, company, user, token: str = "") -> bool:
        """pending/callback (due) → in_progress, for user; returns whether user now holds it.
        An operator holds at most one company: taking one gives back any other, and a claim
        that fails keeps what user held."""
        pk, now = _pk(company), timezone.now()
        if not self.model.objects.filter(pk=pk, campaign__is_active=True).exists():
            return False
        condition = claimable_condition(now, user)
        try:
            with transaction.atomic():
                self.model.objects.release_held_by(user, keep=pk)
                won = (
                    self.model.objects.filter(pk=pk)
                    .filter(condition)
                    .update(**claim_values(user, now, token))
                )
                if not won:
                    transaction.set_rollback(True)
        except IntegrityError:  # the same operator claiming twice at once from two tabs
            return False
        return won == 1

    def claim_next(self, user):
        """The next due company of the queue, claimed for user (or the one user already holds);
        None when the queue has nothing for user."""
        held = self.model.objects.held_by(user).first()
        if held is not None and self.claim(held, user):
            return self.model.objects.get(pk=held.pk)
        self.model.objects.release_held_by(user)  # e.g. a lapsed lease taken by someone else
        campaigns = campaign_rules()
        for _attempt in range(10):
            now = timezone.now()
            # One conditional UPDATE: the candidate (read in the order of its step's index,
            # with every rule of queue_condition) is a subquery of its WHERE, which checks the
            # company's state once more; the rules are not built and compiled twice.
            claimable = self.model.objects.filter(state_condition(now, user))
            steps = zip(self.queue_steps(user, now, campaigns), self.step_rows(now), strict=True)
            for step, rows in steps:
                if rows is not None and not rows.exists():
                    continue
                candidate = step.values("pk")[:1]
                if connection.features.has_select_for_update_skip_locked:
                    # Concurrent claimers skip the row another one is taking.
                    candidate = candidate.select_for_update(skip_locked=True, of=("self",))
                try:
                    with transaction.atomic():
                        won = claimable.filter(pk=Subquery(candidate)).update(
                            **claim_values(user, now)
                        )
                except IntegrityError:
                    return None
                if won:
                    return self.model.objects.held_by(user).first()
            if not any(step.exists() for step in self.queue_steps(user, now, campaigns)):
                return None
        return None

    def open_page(self, company, user, token: str) -> bool:
        """The call page that opens now holds user's lease: the lease is extended and carries
        this page's token, so the closing beacon of the page it replaces (a reload) releases
        nothing and that page's renewals stop. Never claims: only a company user holds."""
        now = timezone.now()
        return (
            self.model.objects.held_by(user)
            .filter(pk=_pk(company))
            .update(lock_token=token, lock_expires_at=lease_end(now), updated_at=now)
            == 1
        )

    def renew(self, company, user, token: str) -> bool:
        """Extend the lease held by user *and* the page with this token (every 30 s while the
        form is open). Never claims, never releases: a page whose lease was released, taken by
        another operator or by another page learns it has lost it."""
        if not token:
            return False
        now = timezone.now()
        return (
            self.model.objects.held_by(user)
            .filter(pk=_pk(company), lock_token=token)
            .update(lock_expires_at=lease_end(now), updated_at=now)
            == 1
        )

    def release(self, company, user=None, token: str = "") -> bool:
        """in_progress → the status it had before the claim. With a user, only if that user holds
        it; with a token, only if that page holds the lease. Returns whether a lock was freed."""
        rows = self.model.objects.filter(pk=_pk(company), status=Status.IN_PROGRESS)
        if user is not None:
            rows = rows.filter(locked_by=user)
        if token:
            rows = rows.filter(lock_token=token)
        return rows.update(**release_values()) == 1

    def release_held_by(self, user, keep=None) -> int:
        """Give back whatever user holds (but the company keep)."""
        held = self.model.objects.filter(locked_by=user)
        if keep is not None:
            held = held.exclude(pk=keep)
        return held.update(**release_values())

    def record_outcome(self, company, operator, outcome: Outcome, now=None) -> bool:
        """in_progress → done / callback / pending after a submitted call (outcome_values), and
        the lock released; only while operator holds the company. Returns whether it moved.
        The quota cells the company is in count the interview in the same transaction."""
        now = now or timezone.now()
        with transaction.atomic():
            row = (
                self.model.objects.select_related("campaign")
                .select_for_update(of=("self",))
                .get(pk=_pk(company))
            )
            values = outcome_values(outcome, row, row.campaign, now)
            moved = (
                self.model.objects.held_by(operator)
                .filter(pk=row.pk)
                .update(**values, **unlocked_values())
                == 1
            )
            if moved:
                # The company's new state in the audit trail (an UPDATE sends no signal): its
                # values are those just written; the lease's columns are not audited.
                after = copy.copy(row)
                for name, value in values.items():
                    setattr(after, name, value)
                audit.record_change(row, after, actor=operator)
                count_in_quotas(
                    row, row.disposition, new_disposition(values, row.disposition), operator
                )
            return moved

    def correct_outcome(self, company, outcome: Outcome, called_at: datetime, now=None):
        """A supervisor corrected the answers of a call submitted at called_at (its
        submission stamped the company's last_called_at with that same time). Returns a
        Correction:
        - APPLIED: it is the company's latest call and nobody holds the company: the company
          takes the state and AAPOR code of the corrected outcome (corrected_values), and a
          lapsed lease is cleared;
        - HELD: it is the latest call but an operator holds the company right now (live
          lease): nothing changes, the operator is never dispossessed; the caller refuses;
        - OLDER: a later call decides the company's state and code: nothing changes.
        One conditional UPDATE: a call submitted meanwhile changes last_called_at, so the
        UPDATE then matches no row. An applied correction counts the quota cells again in the
        same transaction (the company's code changed)."""
        now = now or timezone.now()
        with transaction.atomic():
            row = self.model.objects.select_related("campaign").get(pk=_pk(company))
            values = corrected_values(outcome, row, row.campaign, called_at)
            latest = self.model.objects.filter(pk=row.pk, last_called_at=called_at)
            if latest.exclude(lease_live_condition(now)).update(**values, **unlocked_values()):
                count_in_quotas(row, row.disposition, new_disposition(values, row.disposition))
                return Correction.APPLIED
        if latest.filter(lease_live_condition(now)).exists():
            return Correction.HELD
        return Correction.OLDER

    def reopen(self, company) -> bool:
        """done → pending: supervisors only, never silently; never an erased company."""
        return (
            self.model.objects.filter(pk=_pk(company), status=Status.DONE, erased_at=None).update(
                status=Status.PENDING,
                next_call_at=None,
                callback_at=None,
                callback_operator=None,
                appointment=False,
                parts_tried="",
                updated_at=timezone.now(),
            )
            == 1
        )

    def archive(self) -> int:
        """Take these companies out of the queue for good, history kept (an import's replace)."""
        return self.filter(is_archived=False).update(is_archived=True, updated_at=timezone.now())

    def erase(self, company, values: dict, now=None) -> bool:
        """→ done for good, its personal fields replaced by `values` in the same UPDATE (a
        company's erasure, privacy/erasure.py). Never while an operator holds it (live lease):
        returns False and nothing changes. A lapsed lease is cleared. Its AAPOR code stays and it
        is not archived, so the dashboard's counts and rates do not move (a company still in the
        queue moves to « Terminé »); `erased_at` keeps it out of the queue: never reopened, never
        in in_queue()."""
        now = now or timezone.now()
        return (
            self.model.objects.filter(pk=_pk(company))
            .exclude(lease_live_condition(now))
            .update(
                **values,
                **unlocked_values(),
                status=Status.DONE,
                next_call_at=None,
                callback_at=None,
                callback_operator=None,
                erased_at=Coalesce("erased_at", Value(now)),  # erased again: the first date stays
            )
            == 1
        )

    def hand_over_callbacks(self, from_user, to_user=None) -> int:
        """The personal callbacks kept for from_user (an absent operator) go to to_user, or to
        everybody (None). One being called right now stays as it is. Returns how many moved."""
        now = timezone.now()
        return (
            self.filter(callback_operator=from_user)
            .exclude(lease_live_condition(now))
            .update(callback_operator=to_user, updated_at=now)
        )
