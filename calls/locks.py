"""Claiming companies: many operators, one company each, never two operators on one company.

A claim is ONE conditional UPDATE whose WHERE holds the whole claim condition on the company's
own columns (companies.models.claimable_condition); the row count says who won. PostgreSQL
re-checks that WHERE against the row a concurrent transaction just wrote, SQLite serialises
writers (IMMEDIATE transactions): either way exactly one claimer gets the row.
"""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, Q, Subquery, Value, When
from django.utils import timezone

from companies.models import (
    CALLBACK_ORDER,
    LAPSED_LEASE_ORDER,
    PENDING_ORDER,
    Company,
    Status,
    claimable_condition,
    release_values,
)


def lease_end(now):
    return now + timedelta(seconds=settings.CALL_LOCK_SECONDS)


def claim_values(user, now, token: str = "") -> dict:
    return {
        "lock_token": token,
        "status": Status.IN_PROGRESS,
        # A renewal or the takeover of an expired lease keeps the status it had before.
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


def _release_other_holdings(user, keep_pk=None) -> None:
    """An operator holds at most one company: taking one gives back any other."""
    held = Company.objects.filter(locked_by=user)
    if keep_pk is not None:
        held = held.exclude(pk=keep_pk)
    held.update(**release_values())


def claim(company: Company | int, user, token: str = "") -> bool:
    """Take (or renew) one company for user. Returns whether user now holds it.

    token names the call page that holds the lease (see Company.lock_token)."""
    pk = company.pk if isinstance(company, Company) else company
    now = timezone.now()
    if not Company.objects.filter(pk=pk, campaign__is_active=True).exists():
        return False
    try:
        with transaction.atomic():
            _release_other_holdings(user, keep_pk=pk)
            won = (
                Company.objects.filter(pk=pk)
                .filter(claimable_condition(now, user))
                .update(**claim_values(user, now, token))
            )
            if not won:  # keep what user held when this claim fails
                transaction.set_rollback(True)
    except IntegrityError:  # the same operator claiming twice at once from two tabs
        return False
    return won == 1


def renew(company: Company, user, token: str = "") -> bool:
    """Extend user's lease (the open form calls this every 30 s). Takes the company back if the
    lease lapsed and nobody else took it; returns False when someone else holds it now."""
    return claim(company, user, token)


# The queue, in the order « Appeler le suivant » serves it. Each step is a query an index
# answers directly (no sort of the whole queue): lapsed leases first (those calls were due
# already), then due callbacks, most overdue first, then pending companies by highest score
# (no score last), then fewest attempts.


def queue_steps(user, now):
    claimable = Company.objects.filter(campaign__is_active=True).filter(
        claimable_condition(now, user)
    )
    return [
        claimable.filter(status=Status.IN_PROGRESS, lock_expires_at__lt=now).order_by(
            *LAPSED_LEASE_ORDER
        ),
        claimable.filter(status=Status.CALLBACK).order_by(*CALLBACK_ORDER),
        claimable.filter(status=Status.PENDING).order_by(*PENDING_ORDER),
    ]


def claim_next(user) -> Company | None:
    """Claim the next due company for user, or give back the one user already holds."""
    held = Company.objects.held_by(user).first()
    if held is not None and renew(held, user):
        return Company.objects.get(pk=held.pk)
    _release_other_holdings(user)  # e.g. a lease of user's that lapsed and could not be renewed
    for _ in range(10):
        now = timezone.now()
        for step in queue_steps(user, now):
            candidate = step.values("pk")[:1]
            if connection.features.has_select_for_update_skip_locked:
                # Concurrent claimers skip the row another one is taking instead of queueing.
                candidate = candidate.select_for_update(skip_locked=True, of=("self",))
            try:
                with transaction.atomic():
                    won = (
                        Company.objects.filter(pk=Subquery(candidate))
                        .filter(claimable_condition(now, user))
                        .update(**claim_values(user, now))
                    )
            except IntegrityError:
                return None
            if won:
                return Company.objects.held_by(user).first()
        if not any(step.exists() for step in queue_steps(user, now)):
            return None
    return None
