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
queue health and the tests share.
"""

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Case, F, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from companies.aapor import UNANSWERED, Disposition


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


def claimable_condition(now: datetime, user=None) -> Q:
    """The row-level claim condition.

    Claimable: pending or callback and due, or in progress with a lapsed lease. With a user:
    also the company that user already holds (taking it again changes nothing), and a personal
    callback of another operator only once it is overdue by CALLBACK_GRACE.
    """
    free = (Q(status__in=CLAIMABLE_STATUSES) & due_condition(now)) | lease_lapsed_condition(now)
    if user is None:
        return Q(is_archived=False) & free
    someone_elses_callback = (
        Q(status=Status.CALLBACK, callback_operator__isnull=False)
        & ~Q(callback_operator=user)
        & Q(callback_at__gt=now - settings.CALLBACK_GRACE)
    )
    return Q(is_archived=False) & (
        (free & ~someone_elses_callback) | Q(status=Status.IN_PROGRESS, locked_by=user)
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
    """Done because nobody ever answered before the attempts ran out (outcome_values)."""
    return Q(status=Status.DONE, disposition__in=UNANSWERED)


class QueueState(models.TextChoices):
    """Where a company stands for the queue: callable now, or the one reason why not."""

    CALLABLE = "callable", _("Appelables maintenant")
    LOCKED = "locked", _("Verrouillées : appel en cours")
    CALLBACK_LATER = "callback_later", _("Rappel pas encore dû")
    RETRY_LATER = "retry_later", _("Délai avant nouvel essai en cours")
    EXHAUSTED = "exhausted", _("Tentatives épuisées (sans réponse)")
    FINISHED = "finished", _("Terminées (issue définitive)")
    # Out of the queue whatever their columns say (CompanyQuerySet.in_queue()).
    ARCHIVED = "archived", _("Archivées")
    INACTIVE = "inactive", _("Campagne inactive")


def queue_state_conditions(now: datetime) -> dict[QueueState, Q]:
    """For a company in the queue (in_queue(): not archived, active campaign), exactly one of
    these holds now. ARCHIVED and INACTIVE come before them and have no condition here: they
    are read from is_archived and the campaign. A new reason for not calling a company (calling
    hours, do-not-call...) is a new state with its condition, carved out of CALLABLE."""
    waiting = waiting_condition(now)
    return {
        QueueState.CALLABLE: claimable_condition(now),
        QueueState.LOCKED: lease_live_condition(now),
        QueueState.CALLBACK_LATER: waiting & Q(status=Status.CALLBACK),
        QueueState.RETRY_LATER: waiting & Q(status=Status.PENDING),
        QueueState.EXHAUSTED: exhausted_condition(),
        QueueState.FINISHED: Q(status=Status.DONE) & ~Q(disposition__in=UNANSWERED),
    }


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
    callback_at: datetime | None = None  # for a callback (2.21): when; None = now
    callback_operator: object = None  # for a personal callback: the operator it stays with
    # For a non-working number (4.30): the company has another live number to try.
    live_number_left: bool = False


def outcome_values(outcome: Outcome, attempts: int, campaign, now: datetime) -> dict:
    """The company's new values once a call with this outcome is submitted:
    - a callback (2.21) → `callback`, due at its time (now when none was given);
    - no answer or voicemail → `pending` again after the campaign's retry delay, until the
      attempts reach the campaign's maximum;
    - a non-working number (4.30) while the company has another live number → `pending`, due
      at once on its next number (see below);
    - anything else (or attempts exhausted) → `done`."""
    values = {
        "attempts": F("attempts") + 1,
        "disposition": outcome.disposition,
        "last_called_at": now,
        "callback_at": None,
        "callback_operator": None,
        "next_call_at": None,
        "status": Status.DONE,
    }
    if outcome.disposition == Disposition.RESPONDENT_UNAVAILABLE:
        callback_at = outcome.callback_at or now
        values.update(
            status=Status.CALLBACK,
            callback_at=callback_at,
            next_call_at=callback_at,
            callback_operator=outcome.callback_operator,
        )
    elif outcome.disposition in UNANSWERED and attempts + 1 < campaign.max_attempts:
        values.update(status=Status.PENDING, next_call_at=now + campaign.retry_delay)
    elif outcome.disposition == Disposition.NON_WORKING and outcome.live_number_left:
        # Several numbers: a dead one does not close the company, which is non-working only
        # when every number is dead. It keeps the code of its previous call (its eligibility
        # is still unknown) and is due at once on its next number.
        values.update(status=Status.PENDING, disposition=F("disposition"))
    return values


class Correction(enum.Enum):
    """What a corrected call did to its company (CompanyQuerySet.correct_outcome)."""

    APPLIED = "applied"  # the company's latest call: the company follows the corrected outcome
    OLDER = "older"  # a later call decides the company's state: nothing changed
    HELD = "held"  # the company is in an operator's hands right now: nothing changed


def corrected_values(outcome: Outcome, attempts: int, campaign, called_at: datetime) -> dict:
    """The company's new values once its latest call, submitted at called_at and already
    counted in attempts, is corrected to outcome: where that call would have put it had it
    been submitted with these answers (a retry counted from called_at, a callback without a
    time due since called_at); attempts and the time of the last call stay as they are."""
    values = outcome_values(outcome, attempts - 1, campaign, called_at)
    del values["attempts"], values["last_called_at"]
    return values


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

    def claimable(self, now=None, user=None):
        """Rows a claim may take: due and not locked, or locked with a lapsed lease."""
        return self.filter(claimable_condition(now or timezone.now(), user))

    def held_by(self, user):
        return self.filter(status=Status.IN_PROGRESS, locked_by=user)

    def with_current_status(self, now=None):
        """Annotate `current_status`: the status as the queue sees it (see current_status)."""
        return self.annotate(current_status=current_status(now or timezone.now()))

    def in_current_status(self, status: str, now=None):
        return self.filter(current_status_condition(status, now or timezone.now()))

    def queue_steps(self, user, now) -> list[models.QuerySet]:
        """The queue, in the order « Appeler le suivant » serves it. Each step is a query an
        index answers directly (no sort of the whole queue): lapsed leases first (those calls
        were due already), then due callbacks, most overdue first, then pending companies."""
        claimable = self.in_queue().claimable(now, user)
        return [
            claimable.filter(status=Status.IN_PROGRESS, lock_expires_at__lt=now).order_by(
                *LAPSED_LEASE_ORDER
            ),
            claimable.filter(status=Status.CALLBACK).order_by(*CALLBACK_ORDER),
            claimable.filter(status=Status.PENDING).order_by(*PENDING_ORDER),
        ]

    # --- Transitions ---------------------------------------------------------------------------

    def claim(self, company, user, token: str = "") -> bool:
        """pending/callback (due) → in_progress, for user; returns whether user now holds it.
        An operator holds at most one company: taking one gives back any other, and a claim
        that fails keeps what user held."""
        pk, now = _pk(company), timezone.now()
        if not self.model.objects.filter(pk=pk, campaign__is_active=True).exists():
            return False
        try:
            with transaction.atomic():
                self.model.objects.release_held_by(user, keep=pk)
                won = (
                    self.model.objects.filter(pk=pk)
                    .filter(claimable_condition(now, user))
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
        for _attempt in range(10):
            now = timezone.now()
            for step in self.queue_steps(user, now):
                candidate = step.values("pk")[:1]
                if connection.features.has_select_for_update_skip_locked:
                    # Concurrent claimers skip the row another one is taking.
                    candidate = candidate.select_for_update(skip_locked=True, of=("self",))
                try:
                    with transaction.atomic():
                        won = (
                            self.model.objects.filter(pk=Subquery(candidate))
                            .filter(claimable_condition(now, user))
                            .update(**claim_values(user, now))
                        )
                except IntegrityError:
                    return None
                if won:
                    return self.model.objects.held_by(user).first()
            if not any(step.exists() for step in self.queue_steps(user, now)):
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
        the lock released; only while operator holds the company. Returns whether it moved."""
        now = now or timezone.now()
        with transaction.atomic():
            row = (
                self.model.objects.select_related("campaign")
                .only("attempts", "campaign__max_attempts", "campaign__retry_delay")
                .get(pk=_pk(company))
            )
            values = outcome_values(outcome, row.attempts, row.campaign, now)
            return (
                self.model.objects.held_by(operator)
                .filter(pk=row.pk)
                .update(**values, **unlocked_values())
                == 1
            )

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
        UPDATE then matches no row."""
        now = now or timezone.now()
        with transaction.atomic():
            row = (
                self.model.objects.select_related("campaign")
                .only("attempts", "campaign__max_attempts", "campaign__retry_delay")
                .get(pk=_pk(company))
            )
            values = corrected_values(outcome, row.attempts, row.campaign, called_at)
            latest = self.model.objects.filter(pk=row.pk, last_called_at=called_at)
            if latest.exclude(lease_live_condition(now)).update(**values, **unlocked_values()):
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
