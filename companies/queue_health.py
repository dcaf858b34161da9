"""The queue explains itself: where each company stands for the queue now
(companies/lifecycle.py `queue_state`, the very conditions the claim checks) and when it will be
callable. The dashboard's queue health (calls/dashboard.py) counts the states of the company's
own columns from its covering index and asks rule_figures() for the rest; the company page and
the call form ask explain() and appointment_warning().

The « when » comes from the campaign's Calendar (companies/fieldwork.py): a company waiting
for its retry delay is callable at the first opening of its window after the delay; one outside
the calling hours, on a holiday or in a part of the day already tried, at its next opening.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, F, Min
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from companies.lifecycle import (
    WAITING_STATES,
    WINDOW_STATES,
    QueueState,
    campaign_rules,
    cell_matches,
    do_not_call_condition,
    listing_entries,
    state_condition,
    waiting_condition,
)
from companies.models import Company, DoNotCallEntry, QuotaCell


def short_datetime(when: datetime) -> str:
    return date_format(timezone.localtime(when), "SHORT_DATETIME_FORMAT")


def when_callable(state, calendar, *, now, next_call_at, appointment, zone, country, tried):
    """When a company in this state becomes callable by itself (None: not by itself)."""
    if state == QueueState.CALLABLE:
        return now
    if state in WAITING_STATES:
        if appointment:
            return next_call_at
        return calendar.next_opening(max(next_call_at or now, now), zone, country, tried)
    if state in WINDOW_STATES:
        return calendar.next_opening(now, zone, country, tried)
    return None


@dataclass
class RuleFigures:
    """Of the companies whose state lets the queue take them or who wait for their time (in
    active campaigns, not archived): how many are in each state, and when the first of each
    waiting or window state becomes callable by itself."""

    counts: Counter = field(default_factory=Counter)
    openings: dict = field(default_factory=dict)  # QueueState → datetime


def rule_figures(companies, now: datetime | None = None, campaigns=None) -> RuleFigures:
    """One grouped query (plus the campaigns' rules when not given) over a selection of
    companies: grouped by state and by what their calendar needs (campaign, zone, country,
    parts tried, appointment), so Python computes an opening per group, never per row."""
    now = now or timezone.now()
    campaigns = campaign_rules() if campaigns is None else campaigns
    calendars = {rules.pk: rules.calendar for rules in campaigns}
    figures = RuleFigures()
    groups = (
        companies.filter(is_archived=False, campaign__is_active=True)
        .filter(state_condition(now) | waiting_condition(now))
        .with_queue_state(now, campaigns)
        .order_by()
        .values("queue_state", "campaign_id", "time_zone", "country", "parts_tried", "appointment")
        .annotate(n=Count("pk"), first=Min("next_call_at"))
    )
    for group in groups:
        state = QueueState(group["queue_state"])
        figures.counts[state] += group["n"]
        calendar = calendars.get(group["campaign_id"])
        if calendar is None or (state not in WAITING_STATES and state not in WINDOW_STATES):
            continue
        when = when_callable(
            state,
            calendar,
            now=now,
            next_call_at=group["first"],
            appointment=group["appointment"],
            zone=group["time_zone"],
            country=group["country"],
            tried=group["parts_tried"],
        )
        if when is not None and (state not in figures.openings or when < figures.openings[state]):
            figures.openings[state] = when
    return figures


# --- One company: why not now, and when ----------------------------------------------------------


@dataclass
class Explanation:
    reason: QueueState
    label: str
    until: datetime | None  # when it becomes callable by itself; None: not by itself
    details: list[str] = field(default_factory=list)

    @property
    def is_callable(self) -> bool:
        return self.reason == QueueState.CALLABLE


REASON_SENTENCES = {
    QueueState.CALLABLE: gettext_lazy("Appelable maintenant."),
    QueueState.LOCKED: gettext_lazy("Un appel est en cours."),
    QueueState.CALLBACK_LATER: gettext_lazy("Rappel prévu plus tard."),
    QueueState.RETRY_LATER: gettext_lazy("Délai avant nouvel essai en cours."),
    QueueState.CONVERSION_LATER: gettext_lazy("Conversion de refus programmée."),
    QueueState.OUTSIDE_HOURS: gettext_lazy(
        "Hors des heures d'appel (heure locale de l'entreprise)."
    ),
    QueueState.CLOSED_DAY: gettext_lazy(
        "Jour férié ou jour de fermeture (heure locale de l'entreprise)."
    ),
    QueueState.PART_TRIED: gettext_lazy(
        "Essais répartis : un essai sans réponse a déjà eu lieu à ce moment de la journée."
    ),
    QueueState.DO_NOT_CALL: gettext_lazy("Sur la liste « Ne plus appeler »."),
    QueueState.QUOTA_FULL: gettext_lazy("Son quota est atteint."),
    QueueState.QUOTA_OUTSIDE: gettext_lazy(
        "Hors de toute cellule de quota, et la campagne n'appelle pas les entreprises hors quotas."
    ),
    QueueState.EXHAUSTED: gettext_lazy("Tentatives épuisées."),
    QueueState.FINISHED: gettext_lazy("Terminée."),
    QueueState.ARCHIVED: gettext_lazy("Archivée (retirée de la liste par un import)."),
    QueueState.INACTIVE: gettext_lazy("Sa campagne est inactive."),
}


def listing_details(company: Company) -> list[str]:
    """The live do-not-call entries that name the company: when, by whom, why."""
    entries = DoNotCallEntry.objects.live().filter(listing_entries(company))
    return [
        _("Ajouté le %(when)s par %(who)s : « %(reason)s ».")
        % {
            "when": short_datetime(entry.created_at),
            "who": entry.created_by.get_full_name() or entry.created_by.get_username(),
            "reason": entry.reason,
        }
        for entry in entries.select_related("created_by")
    ]


def explain(company: Company, now: datetime | None = None) -> Explanation:
    """Why this company is not callable now (the same conditions as the claim) and when it
    will be."""
    now = now or timezone.now()
    row = (
        Company.objects.select_related("campaign", "locked_by")
        .with_queue_state(now)
        .get(pk=company.pk)
    )
    state = QueueState(row.queue_state)
    calendar = row.campaign.calendar
    until = when_callable(
        state,
        calendar,
        now=now,
        next_call_at=row.next_call_at,
        appointment=row.appointment,
        zone=row.time_zone,
        country=row.country,
        tried=row.parts_tried,
    )
    explanation = Explanation(state, str(REASON_SENTENCES[state]), until)
    details = explanation.details
    if state == QueueState.LOCKED:
        explanation.until = row.lock_expires_at
        holder = row.locked_by.get_full_name() or row.locked_by.get_username()
        details.append(_("Tenue par %(who)s.") % {"who": holder})
    elif state == QueueState.CLOSED_DAY:
        details.append(calendar.closed_reason(now, row.time_zone, row.country).capitalize() + ".")
    elif state == QueueState.DO_NOT_CALL:
        details.extend(listing_details(row))
    elif state in WAITING_STATES and is_listed(row):
        # Its time has not come, and when it does the list will hold it back all the same.
        explanation.until = None
        details.append(str(REASON_SENTENCES[QueueState.DO_NOT_CALL]))
        details.extend(listing_details(row))
    elif state == QueueState.QUOTA_FULL:
        cells = QuotaCell.objects.filter(campaign=row.campaign_id, completed__gte=F("target"))
        for cell in cells.filter(cell_matches(lambda name: getattr(row, name))):
            details.append(
                _("Cellule « %(cell)s » : %(done)s réalisés pour un objectif de %(target)s.")
                % {"cell": cell, "done": cell.completed, "target": cell.target}
            )
    return explanation


def appointment_warning(company: Company, when: datetime) -> str:
    """A warning when a callback is set at a time outside the company's calling window (it will
    be honoured all the same); "" when the time is inside it."""
    calendar = company.campaign.calendar
    why = calendar.closed_reason(when, company.time_zone, company.country)
    if not why:
        return ""
    local = calendar.local(when, company.time_zone)
    return _(
        "Ce rendez-vous tombe en dehors des heures d'appel de la campagne pour cette entreprise "
        "(%(why)s ; heure locale de l'entreprise : %(local)s). Il sera tout de même honoré à "
        "l'heure dite."
    ) % {"why": why, "local": date_format(local, "WEEKDAY_DATETIME_FORMAT")}


def is_listed(company: Company) -> bool:
    """Whether the company is on the do-not-call list (the queue's own condition)."""
    return Company.objects.filter(pk=company.pk).filter(do_not_call_condition()).exists()
