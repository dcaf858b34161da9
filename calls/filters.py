import django_filters
from django.utils.translation import gettext_lazy as _

from companies.filters import CompanySearch
from companies.models import Campaign, Company


class CallListFilter(CompanySearch):
    """The call list's filters: those of every company table, among active campaigns."""

    campaign = django_filters.ModelChoiceFilter(
        label=_("Campagne"),
        queryset=Campaign.objects.filter(is_active=True),
        empty_label=_("Toutes"),
    )

    class Meta:
        model = Company
        fields = ["q", "campaign", "status", "location", "activity"]
