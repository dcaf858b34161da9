"""Quota cells: their table (target, completed, in progress, remaining, over target) and their
recount.

The rule (the queue's predicate is lifecycle.quota_condition): a claim is refused for a company
of a cell whose completed count has reached its target; calls already under way when the cell
fills may finish and count. So a cell ends at most `target + (calls of that cell in progress
at the moment it filled)`, and the table says plainly by how much it went over.

`QuotaCell.completed` is counted by the life cycle at every submitted call, in the call's own
transaction (lifecycle.count_in_quotas). recount() counts it again from the companies: after
the cells, the campaign's quota settings or the companies' fields change (an import). Both
write each count that changed in the audit trail (core/audit.py).
"""

import copy
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from companies.lifecycle import company_in_cell, lease_live_condition
from companies.models import Campaign, Company, QuotaCell
from core import audit


@dataclass
class QuotaRow:
    cell: QuotaCell
    target: int
    completed: int
    in_progress: int

    @property
    def remaining(self) -> int:
        """Interviews still needed to reach the target."""
        return max(self.target - self.completed, 0)

    @property
    def over_target(self) -> int:
        return max(self.completed - self.target, 0)

    @property
    def is_full(self) -> bool:
        return self.completed >= self.target


def quota_rows(campaign: Campaign | None = None, now: datetime | None = None) -> list[QuotaRow]:
    """The cells of a campaign (of every active campaign when None), with the calls under way
    in each: two queries (the cells; the companies in progress, few by nature)."""
    now = now or timezone.now()
    cells = QuotaCell.objects.select_related("campaign")
    if campaign is None:
        cells = cells.filter(campaign__is_active=True).order_by("campaign__name", "pk")
    else:
        cells = cells.filter(campaign=campaign).order_by("pk")
    cells = list(cells)
    if not cells:
        return []
    in_cell = {cell.pk: Q(campaign=cell.campaign_id) & company_in_cell(cell) for cell in cells}
    calling = Company.objects.filter(lease_live_condition(now)).aggregate(
        **{f"cell_{pk}": Count("pk", filter=condition) for pk, condition in in_cell.items()}
    )
    return [
        QuotaRow(cell, cell.target, cell.completed, calling[f"cell_{cell.pk}"]) for cell in cells
    ]


def recount(campaign: Campaign) -> None:
    """Count each cell's interviews again from the companies' latest codes (one query) and
    write the counts. The cells are locked first (PostgreSQL), so a call submitted meanwhile is
    either in the count or adds itself after it, never lost or counted twice."""
    with transaction.atomic():
        cells = list(QuotaCell.objects.select_for_update().filter(campaign=campaign))
        if not cells:
            return
        counts = Company.objects.filter(
            campaign=campaign, disposition__in=campaign.counted_dispositions()
        ).aggregate(
            **{f"cell_{cell.pk}": Count("pk", filter=company_in_cell(cell)) for cell in cells}
        )
        changed = []
        for cell in cells:
            count = counts[f"cell_{cell.pk}"]
            if count != cell.completed:
                QuotaCell.objects.filter(pk=cell.pk).update(completed=count)
                after = copy.copy(cell)
                after.completed = count
                changed.append((cell, after))
        audit.record_changes(changed, reason=_("Recompte des quotas"))


def field_values(campaign: Campaign, name: str, limit: int = 200) -> list[str]:
    """The values a field takes among a campaign's companies (to pick a cell's value)."""
    return list(
        Company.objects.filter(campaign=campaign, is_archived=False)
        .exclude(**{name: ""})
        .order_by(name)
        .values_list(name, flat=True)
        .distinct()[:limit]
    )
