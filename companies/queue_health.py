"""The queue explains itself: how many companies are callable now, the one reason each of the
others is not (companies/lifecycle.py `queue_reason`, the very conditions the claim checks),
and when they will be. Shown by the dashboard's queue health and the company page.

The « when » comes from the campaign's Calendar (companies/fieldwork.py): a company waiting
for its retry delay is callable at the first opening of its window after the delay; one outside
the calling hours, on a holiday or in a part of the day already tried, at its next opening.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, F, Min
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from companies.lifecycle import (
    QUEUE_REASONS,
    campaign_rules,
    cell_matches,
    do_not_call_condition,
    listing_entries,
)
from companies.models import Company, DoNotCallEntry, QuotaCell

# Reasons that end by themselves, and from when their « when » counts.
WAITING = {"callback_later", "retry_later", "conversion_later"}
WINDOW = {"outside_hours", "closed_day", "part_tried"}
# The order of the dashboard's lines: callable first, then what passes with time, then what
# needs someone to act.
LINE_ORDER = [
    "callable",
    "locked",
    "callback_later",
    "retry_later",
    "conversion_later",
    "outside_hours",
    "closed_day",
    "part_tried",
    "do_not_call",
    "quota_full",
    "quota_outside",
    "exhausted",
    "finished",
    "archived",
    "inactive",
]


def short_datetime(when: datetime) -> str:
    return date_format(timezone.localtime(when), "SHORT_DATETIME_FORMAT")


def when_callable(reason, calendar, *, now, next_call_at, appointment, zone, country, tried):
    """When a company with this reason becomes callable by itself (None: not by itself)."""
    if reason == "callable":
        return now
    if reason in WAITING:
        if appointment:
            return next_call_at
        return calendar.next_opening(max(next_call_at or now, now), zone, country, tried)
    if reason in WINDOW:
        return calendar.next_opening(now, zone, country, tried)
    return None


@dataclass
class QueueLine:
    key: str
    label: str
    count: int
    percent: float | None = None
    next_opening: datetime | None = None  # outside the hours, holiday: when the first opens

    @property
    def display(self) -> str:
        if self.next_opening is None:
            return str(self.label)
        return _("%(label)s (prochaine ouverture le %(when)s)") % {
            "label": self.label,
            "when": short_datetime(self.next_opening),
        }


@dataclass
class Queue:
    lines: list[QueueLine]  # callable first, then each reason the rest is not; they sum to total
    total: int
    callable: int
    next_due: datetime | None
    explanation: list[str] = field(default_factory=list)  # why the queue is empty


def percent(part: int, whole: int) -> float | None:
    return None if not whole else 100.0 * part / whole


def queue_health(companies, now: datetime | None = None) -> Queue:
    """The queue's health over a selection of companies: one grouped query (plus the
    campaigns'), whatever the number of companies."""
    now = now or timezone.now()
    campaigns = campaign_rules()
    # Companies that wait or are outside their window are in active campaigns (an inactive
    # campaign's companies have the reason "inactive").
    calendars = {rules.pk: rules.calendar for rules in campaigns}
    counts = dict.fromkeys(QUEUE_REASONS, 0)
    openings: dict[str, list[datetime]] = {}
    groups = (
        companies.with_queue_reason(now, campaigns)
        .order_by()
        .values("queue_reason", "campaign_id", "time_zone", "country", "parts_tried", "appointment")
        .annotate(n=Count("pk"), first=Min("next_call_at"))
    )
    for group in groups:
        reason = group["queue_reason"]
        counts[reason] += group["n"]
        if reason in WAITING or reason in WINDOW:
            when = when_callable(
                reason,
                calendars[group["campaign_id"]],
                now=now,
                next_call_at=group["first"],
                appointment=group["appointment"],
                zone=group["time_zone"],
                country=group["country"],
                tried=group["parts_tried"],
            )
            if when is not None:
                openings.setdefault(reason, []).append(when)
    total = sum(counts.values())
    keys = LINE_ORDER + (["other"] if counts["other"] else [])
    lines = [
        QueueLine(
            key,
            QUEUE_REASONS[key],
            counts[key],
            percent(counts[key], total),
            min(openings[key]) if key in WINDOW and key in openings else None,
        )
        for key in keys
    ]
    next_due = min((when for whens in openings.values() for when in whens), default=None)
    queue = Queue(lines, total, counts["callable"], next_due)
    explain_empty_queue(queue)
    return queue


def explain_empty_queue(queue: Queue) -> None:
    if queue.callable:
        return
    if not queue.total:
        queue.explanation.append(
            _("La file est vide : aucune entreprise dans cette sélection. Importez une liste.")
        )
        return
    queue.explanation.append(_("Aucune entreprise n'est appelable maintenant :"))
    queue.explanation.extend(
        f"{line.display} : {line.count}" for line in queue.lines[1:] if line.count
    )
    if queue.next_due:
        queue.explanation.append(
            _("Prochaine entreprise appelable le %(when)s.")
            % {"when": short_datetime(queue.next_due)}
        )
    else:
        queue.explanation.append(
            _(
                "Aucune ne le redeviendra d'elle-même : attendez la fin des appels en cours, "
                "rouvrez des entreprises, activez la campagne, retirez des numéros de la liste "
                "« Ne plus appeler », relevez un quota ou importez une liste."
            )
        )


# --- One company: why not now, and when ----------------------------------------------------------


@dataclass
class Explanation:
    reason: str
    label: str
    until: datetime | None  # when it becomes callable by itself; None: not by itself
    details: list[str] = field(default_factory=list)

    @property
    def is_callable(self) -> bool:
        return self.reason == "callable"


REASON_SENTENCES = {
    "callable": _("Appelable maintenant."),
    "locked": _("Un appel est en cours."),
    "callback_later": _("Rappel prévu plus tard."),
    "retry_later": _("Délai avant nouvel essai en cours."),
    "conversion_later": _("Conversion de refus programmée."),
    "outside_hours": _("Hors des heures d'appel (heure locale de l'entreprise)."),
    "closed_day": _("Jour férié ou jour de fermeture (heure locale de l'entreprise)."),
    "part_tried": _(
        "Essais répartis : un essai sans réponse a déjà eu lieu à ce moment de la journée."
    ),
    "do_not_call": _("Sur la liste « Ne plus appeler »."),
    "quota_full": _("Son quota est atteint."),
    "quota_outside": _(
        "Hors de toute cellule de quota, et la campagne n'appelle pas les entreprises hors quotas."
    ),
    "exhausted": _("Tentatives épuisées."),
    "finished": _("Terminée."),
    "archived": _("Archivée (retirée de la liste par un import)."),
    "inactive": _("Sa campagne est inactive."),
    "other": _("Pas appelable maintenant."),
}


def explain(company: Company, now: datetime | None = None) -> Explanation:
    """Why this company is not callable now (the same conditions as the claim) and when it
    will be."""
    now = now or timezone.now()
    row = (
        Company.objects.select_related("campaign", "locked_by")
        .with_queue_reason(now)
        .get(pk=company.pk)
    )
    reason = row.queue_reason
    calendar = row.campaign.calendar
    until = when_callable(
        reason,
        calendar,
        now=now,
        next_call_at=row.next_call_at,
        appointment=row.appointment,
        zone=row.time_zone,
        country=row.country,
        tried=row.parts_tried,
    )
    explanation = Explanation(reason, str(REASON_SENTENCES[reason]), until)
    details = explanation.details
    if reason == "locked":
        explanation.until = row.lock_expires_at
        holder = row.locked_by.get_full_name() or row.locked_by.get_username()
        details.append(_("Tenue par %(who)s.") % {"who": holder})
    elif reason == "closed_day":
        details.append(calendar.closed_reason(now, row.time_zone, row.country).capitalize() + ".")
    elif reason == "do_not_call":
        entries = DoNotCallEntry.objects.live().filter(listing_entries(row))
        for entry in entries.select_related("created_by"):
            details.append(
                _("Ajouté le %(when)s par %(who)s : « %(reason)s ».")
                % {
                    "when": short_datetime(entry.created_at),
                    "who": entry.created_by.get_full_name() or entry.created_by.get_username(),
                    "reason": entry.reason,
                }
            )
    elif reason == "quota_full":
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
    ) % {"why": why, "local": date_format(local, "l d/m/Y H:i")}


def is_listed(company: Company) -> bool:
    """Whether the company is on the do-not-call list (the queue's own condition)."""
    return Company.objects.filter(pk=company.pk).filter(do_not_call_condition()).exists()
